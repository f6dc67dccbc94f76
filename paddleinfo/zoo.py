"""Every network paddle.vision.models builds, and a user's own: names, default inputs,
and the side-by-side table of many models.  Knows nothing of ResNet in particular.

`--model NAME` is a builder of paddle.vision.models (plus vgg11_bn .. vgg19_bn, which
paddle.vision builds as vgg11(batch_norm=True) ..., under torchvision's names, and
LeNet); `--model path/to/file.py:function` or `package.module:function` is a user's
factory that returns a paddle.nn.Layer.

A user's code runs here (its module, its factory, its forward pass): its sys.exit() is
its failure, told as any other, and `time_bound` stops a model that never finishes.
"""
import contextlib
import difflib
import importlib
import importlib.util
import inspect
import os
import pathlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib.abc import Loader
from importlib.machinery import ModuleSpec
from typing import Any, NoReturn, cast

import paddle
from paddle import nn
from paddle.vision import models

from paddleinfo import torchvision_published as torchvision
from paddleinfo.errors import UsageError
from paddleinfo.inputs import (
    DEFAULT_DTYPE,
    InputSize,
    Inputs,
    Meeting,
    check_image_model,
    first_meeting,
    inputs_from,
)
from paddleinfo.macs import COUNTED, MACS_CONVENTION, RNNS
from paddleinfo.errors import FactoryError, NotALayerError, ShapeError, exited, first_line
from paddleinfo.graph import quiet, static_graph
from paddleinfo.profile import profile_inputs
from paddleinfo.result import Input
from paddleinfo.result import Profile
from paddleinfo.progress import progress
from paddleinfo.render import Table, fit, scaled

DEFAULT_INPUT = InputSize((3, 224, 224))
# The input each model is made for, where it is not 3x224x224.
OWN_INPUT = {'inception_v3': InputSize((3, 299, 299)), 'LeNet': InputSize((1, 28, 28))}
# Models that take no other input size: an fc layer follows a fixed-size feature map.
FIXED_INPUT = {
    'alexnet': 'it has no adaptive pool before its fc layers',
    'googlenet': 'its auxiliary heads have no adaptive pool before their fc layers',
    'LeNet': 'it has no pool before its fc layers that adapts to the input',
}
SIDE_BY_SIDE = ('alexnet', 'vgg16', 'squeezenet1_0', 'googlenet', 'inception_v3', 'resnet50',
                'mobilenet_v2', 'densenet121', 'shufflenet_v2_x1_0')


def vision_models() -> dict[str, Callable[[], nn.Layer]]:
    """{name: builder} of every network paddle.vision.models builds, in its order."""
    builders = {name: getattr(models, name) for name in models.__all__
                if inspect.isfunction(getattr(models, name))}
    for name in [name for name in builders if name.startswith('vgg')]:
        builders[f'{name}_bn'] = lambda name=name: getattr(models, name)(batch_norm=True)
    builders['LeNet'] = models.LeNet
    return builders


VISION_MODELS = vision_models()


@dataclass
class ModelSpec:
    name: str
    build: Callable[[], nn.Layer]
    inputs: Inputs           # what forward() is given, and whether it is an image
    vision: bool             # one of paddle.vision.models (else a user's factory)

    @property
    def input_shape(self) -> tuple[int | None, ...]:
        """The first input, with None for the batch: (None, channels, height, width)."""
        return (None, *self.inputs.inputs[0].shape)


def named(flag: str, name: str) -> str:
    """How an error names the model: '--model NAME', or the NAME the command was given."""
    return f'{flag} {name}' if flag else name


def model_spec(name: str, options: dict[str, Any] | Sequence[int | str] | None = None,
               flag: str = '--model') -> ModelSpec:
    """The ModelSpec of --model NAME, once the name and its inputs are checked.

    `options` are the input options (a dict of paddleinfo.inputs' 'input', 'batch_size'
    and 'input_size'), or only the integers of --input-size, or None for the model's own
    input: a paddle.vision model's image, and for a user's model 3x224x224, which then
    must be an image model."""
    if ':' in name:
        build, default = user_factory(name, flag), DEFAULT_INPUT
    elif name in VISION_MODELS:
        build, default = VISION_MODELS[name], OWN_INPUT.get(name, DEFAULT_INPUT)
    else:
        close = difflib.get_close_matches(name, VISION_MODELS, n=3)
        hint = (f'did you mean {" or ".join(close)}?' if close
                else f'choose from {", ".join(VISION_MODELS)}')
        raise UsageError(f'{named(flag, name)} is not a paddle.vision.models network; {hint} '
                         f'(or give path/to/file.py:function for your own)')
    if options is None or not isinstance(options, dict):
        options = {'input_size': None if options is None else [str(size) for size in options]}
    inputs = inputs_from(options, default, channels=default.shape[0])
    assert inputs is not None   # (there is a default)
    if name in FIXED_INPUT and [item.shape for item in inputs.inputs] != [default.shape]:
        raise UsageError(f'{named(flag, name)} takes only its input of '
                         f'{"x".join(map(str, default.shape))}, not '
                         f'{", ".join(item.text() for item in inputs.inputs)}: '
                         f'{FIXED_INPUT[name]}')
    return ModelSpec(name, build, inputs, ':' not in name)


def described(inputs: Inputs) -> str:
    """The inputs in an error: [3, 10, 10] for one float32 input, as --input has them else."""
    if len(inputs.inputs) == 1 and inputs.dtypes == [DEFAULT_DTYPE]:
        return f'an input of {list(inputs.inputs[0].shape)}'
    return f'the inputs {", ".join(item.text() for item in inputs.inputs)}'


def user_factory(text: str, flag: str = '--model') -> Callable[[], nn.Layer]:
    """The function named by 'path/to/file.py:function' or 'package.module:function'."""
    function = text.rpartition(':')[2]
    factory = imported_name(text, named(flag, text),
                            'give path/to/file.py:function or package.module:function')
    if not callable(factory):
        raise UsageError(f'{named(flag, text)}: {function} is not callable (its type is '
                         f'{type(factory).__name__}); give a function that returns a '
                         f'paddle.nn.Layer')
    return factory


def imported_name(text: str, label: str, usage: str, cwd: bool = False) -> Any:
    """What 'path/to/file.py:NAME' or 'package.module:NAME' names, its module imported
    (a file's folder on the path while it runs; with `cwd`, the current directory for a
    module too, as the installed command does not have it).  Every failure is one
    UsageError line that starts with `label`; `usage` says what to give instead."""
    where, _, name = text.rpartition(':')
    if not where or not name:
        raise UsageError(f'{label}: {usage}')
    try:
        if where.endswith('.py') or '/' in where:
            path = pathlib.Path(where)
            if not path.is_file():
                raise UsageError(f'{label}: there is no file {where}')
            # (None for a file Python does not load, a .txt say: module_from_spec's
            # AttributeError is then told below as the file not importing.)
            spec = cast(ModuleSpec, importlib.util.spec_from_file_location(path.stem, path))
            module = importlib.util.module_from_spec(spec)
            sys.path.insert(0, str(path.resolve().parent))
            try:
                cast(Loader, spec.loader).exec_module(module)
            finally:
                sys.path.pop(0)
        else:
            if cwd and os.getcwd() not in sys.path and '' not in sys.path:
                sys.path.insert(0, os.getcwd())
            module = importlib.import_module(where)
    except UsageError:
        raise
    except SystemExit as error:
        raise UsageError(f'{label}: {where} does not import: {exited(error)}')
    except TimedOut as error:
        raise UsageError(f'{label}: importing {where} {error}') from None
    except Exception as error:  # noqa: BLE001 -- any error of the user's module is theirs
        raise UsageError(f'{label}: {where} does not import: '
                         f'{type(error).__name__}: {first_line(error)}')
    if not hasattr(module, name):
        raise UsageError(f'{label}: {where} has no {name}')
    return getattr(module, name)


class TimedOut(BaseException):
    """Raised by `time_bound` when its time is up: a BaseException, as KeyboardInterrupt,
    so that no `except Exception` of the engine takes it for the model's own error (and
    builds the model again), while every `finally` puts back what it changed."""

    def __str__(self) -> str:
        return (f'did not finish within {self.args[0]:g} s; give --timeout to allow '
                f'longer')


@contextlib.contextmanager
def time_bound(seconds: float | None) -> Iterator[None]:
    """Raise TimedOut in the block once `seconds` have passed (by SIGALRM, so a Python
    loop is stopped; a call into Paddle's C++ code is stopped when it returns).  No
    bound for None, off the main thread (signals reach the main thread only), where
    there is no SIGALRM (Windows), or where a timer of the caller's already runs."""
    if (seconds is None or not hasattr(signal, 'setitimer')
            or threading.current_thread() is not threading.main_thread()
            or signal.getitimer(signal.ITIMER_REAL)[0] > 0):
        yield
        return

    def alarm(signum: int, frame: Any) -> NoReturn:
        raise TimedOut(seconds)

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def profile_model(spec: ModelSpec, flag: str = '--model', training: bool = False,
                  **options: Any) -> Profile:
    """The Profile of a ModelSpec; whatever goes wrong in the model is one UsageError,
    its sys.exit() and running out of time included.  An image shorthand (or a user's
    model given no input) must meet a 2-D convolution.  `options` are profile_inputs'
    mode, count and rules, passed on where given."""
    try:
        return checked_profile(spec, named(flag, spec.name), training, **options)
    except TimedOut as error:
        raise UsageError(f'{named(flag, spec.name)} {error}') from None


def checked_profile(spec: ModelSpec, name: str, training: bool = False,
                    **options: Any) -> Profile:
    given = described(spec.inputs)
    if spec.inputs.image == 'default' and not spec.vision:
        given += ' (its default; give its own with --input SHAPE[:DTYPE])'
    checked = spec.inputs.image is not None and not spec.vision
    flag_used = spec.inputs.image if spec.inputs.image != 'default' else ''
    try:
        result = trace_inputs(spec.build, spec.inputs, training, **options)
    except (FactoryError, NotALayerError) as error:
        raise UsageError(f'{name}: {"the factory failed: " * isinstance(error, FactoryError)}'
                         f'{error}')
    except SystemExit as error:   # in forward(): the factory's own is a FactoryError
        raise UsageError(f'{name} fails on {given}: {exited(error)}')
    except Exception as error:  # noqa: BLE001 -- the model's own error, on this input
        if checked:   # a model that is no image model is told so, whatever else failed
            check_image_model(first_layer(spec.build, spec.inputs), spec.inputs, name,
                              flag_used)
        if isinstance(error, ShapeError):
            raise UsageError(f'{name} does not take {given}: {error}')
        raise UsageError(f'{name} fails on {given}: {type(error).__name__}: '
                         f'{first_line(error)}')
    if checked:
        first = result.rows[0] if result.rows else None
        check_image_model(first_meeting(first and first.layer, first and first.input_shape[0]),
                          spec.inputs, name, flag_used)
    return result


class _Reached(Exception):
    """Raised by the first layer forward() calls, to stop there."""


def first_layer(build: Callable[[], nn.Layer], inputs: Inputs) -> Meeting:
    """first_meeting() of the first layer without sublayers (or RNN layer) that forward()
    calls on `inputs`, or of None if forward() fails before any.  The model is built and
    called in the static graph, where no kernel runs, and stopped at that layer."""
    def stop(layer: nn.Layer, arguments: tuple[Any, ...]) -> NoReturn:
        first: Any = arguments[0] if arguments else None
        raise _Reached(first_meeting(layer, list(first.shape) if hasattr(first, 'shape')
                                     else None))

    with quiet(), static_graph():
        try:
            model = build()
            for layer in model.sublayers(include_self=True):
                if not layer.sublayers() or isinstance(layer, RNNS):   # an RNN calls no cell
                    # (Paddle's hook type takes a Tensor, where a hook is given a tuple.)
                    layer.register_forward_pre_hook(cast(Any, stop))
            model(*(paddle.static.data(f'input_{index}', shape, dtype) for index, (shape, dtype)
                    in enumerate(zip(inputs.shapes, inputs.dtypes))))
        except _Reached as reached:
            return reached.args[0]
        except Exception:  # noqa: BLE001 -- a forward pass that fails before any layer
            pass
    return first_meeting(None, None)


def trace_inputs(build: Callable[[], nn.Layer], inputs: Inputs, training: bool = False,
                 **options: Any) -> Profile:
    """The engine's Profile of `build()` on `inputs` (paddleinfo.inputs.Inputs); with
    `training`, the backward pass appended; `options`: profile_inputs' mode, count, rules."""
    return profile_inputs(build, [Input(shape, dtype)
                                  for shape, dtype in zip(inputs.shapes, inputs.dtypes)],
                          training=training, **options)


# --- many models side by side -------------------------------------------------------

def weighted_layers(result: Profile) -> int:
    """How many conv and fc layers the forward pass runs: the layers the MACs count."""
    return sum(isinstance(layer, COUNTED) for layer in result.order)


# torchvision's num_params counts module.parameters(), not the buffers where it keeps
# BatchNorm's running statistics; Paddle keeps those as non-trainable parameters.
TORCHVISION_PARAMS_NOTE = (
    "Its num_params leaves out BatchNorm's running mean and variance (buffers in "
    "PyTorch, non-trainable parameters in Paddle), so it is to be compared with the "
    "Trainable column, not with Params.")


def models_table(specs: Sequence[ModelSpec], flag: str = '--models',
                 **options: Any) -> dict[str, Any]:
    """One row per model of `specs` (from model_spec, each with its own inputs): input,
    params, trainable, MACs, weighted layers, output shape, and torchvision's published
    parameter count and GFLOPS where it has the network.  `options` are profile_inputs'
    mode and rules, for every model."""
    rows: list[dict[str, Any]] = []
    differences: dict[str, str] = {}
    for spec in progress(specs, 'models'):
        result = profile_model(spec, flag, **options)
        published = torchvision.PUBLISHED.get(spec.name) if spec.vision else None
        shapes = [list(item.shape) for item in spec.inputs.inputs]
        row: dict[str, Any] = {'model': spec.name, 'input_shape': shapes[0] if len(shapes) == 1 else shapes,
               'input': ', '.join(item.text() for item in spec.inputs.inputs),
               'params': result.params, 'trainable_params': result.trainable_params,
               'macs': result.macs, 'weighted_layers': weighted_layers(result),
               'output_shape': result.output_shape,
               'torchvision_params': published['params'] if published else None,
               'torchvision_gflops': published['gflops'] if published else None,
               'torchvision_source': published['source'] if published else None,
               'differs_from_torchvision': torchvision.DIFFERENCE.get(spec.name)}
        if row['differs_from_torchvision']:
            differences[spec.name] = row['differs_from_torchvision']
        rows.append(row)
    sources = sorted({row['torchvision_source'].split(',')[0] for row in rows
                      if row['torchvision_source']})
    notes = [MACS_CONVENTION]
    if sources:
        notes.append("The tv columns are torchvision's: the num_params and _ops (its GFLOPS, "
                     "multiply-adds of the convs and fc layers, at 224x224 or 299x299 for "
                     "inception_v3) of its weights' metadata, in pytorch/vision: "
                     + ', '.join(sources) + '. ' + TORCHVISION_PARAMS_NOTE)
    notes += [f'* {name}: paddle.vision\'s network differs from torchvision\'s: {text}.'
              for name, text in differences.items()]
    notes.append(WEIGHTED_NOTE)
    batches = {spec.inputs.batch for spec in specs}
    return {'view': 'models', 'batch': specs[0].inputs.batch if specs else 1, 'rows': rows,
            'notes': notes, 'title': side_by_side_title(specs),
            'batches': sorted(batches)}


def short_name(name: str) -> str:
    """A user's model as a table names it: 'nets.py:mlp' for 'path/to/nets.py:mlp'."""
    where, colon, function = name.rpartition(':')
    return f'{pathlib.PurePath(where).name}:{function}' if colon and '/' in where else name


def side_by_side_title(specs: Sequence[ModelSpec]) -> str:
    """What is compared: paddle.vision's networks, your own, or both; and the batch."""
    vision = all(spec.vision for spec in specs)
    names = [spec.name for spec in specs]
    what = ('paddle.vision.models' if vision
            else ', '.join(map(short_name, names)) if len(names) <= 3
            else f'{len(names)} models')
    batches = sorted({spec.inputs.batch for spec in specs})
    batch = (f'batch {batches[0]}' if len(batches) == 1
             else 'batches ' + ', '.join(map(str, batches)))
    return f'{what} side by side, {batch}'





# The weighted layers' column is left to csv and json, so that the table fits 100 columns.
WEIGHTED_NOTE = ('--format csv and json add the weighted layers of each model: the conv '
                 'and fc layers the forward pass runs.')


def models_view(data: dict[str, Any]) -> Table:
    # Each torchvision (tv) column next to the one it compares with: its num_params is a
    # count of trainable parameters.
    # MACs in the unit of each figure's size (4 significant figures: '4.089 G' beside
    # torchvision's 4.089, '714.2 M' beside its 0.714), the exact integer in csv and json.
    header = ['Model', 'Input', 'Params', 'Trainable', 'tv params', 'MACs', 'tv GFLOPS',
              'Output shape']
    body: list[list[str]] = []
    csv_rows: list[dict[str, Any]] = []
    for row in data['rows']:
        mark = ' *' if row['differs_from_torchvision'] else ''
        published = row['torchvision_params'] is not None
        body.append([short_name(row['model']) + mark, row['input'],
                     f'{row["params"]:,}', f'{row["trainable_params"]:,}',
                     f'{row["torchvision_params"]:,}' if published else '-',
                     scaled(row['macs'], 4),
                     f'{row["torchvision_gflops"]:.3f}' if published else '-',
                     str(row['output_shape'])])
        csv_rows.append({'model': row['model'], 'input_shape': row['input']} | {
            key: row[key] for key in ('params', 'trainable_params', 'torchvision_params',
                                      'macs', 'torchvision_gflops', 'weighted_layers')} | {
            'output_shape': str(row['output_shape']),
            'differs_from_torchvision': row['differs_from_torchvision'] or ''})
    # To fit 100 columns: the headers break at their spaces, the inputs between them and
    # a list of output shapes between its shapes.
    header, body = fit(header, body, {1: 'text', 7: 'shapes'})
    title = data.get('title') or f'paddle.vision.models side by side, batch {data["batch"]}'
    return title, header, body, csv_rows, data['notes']
