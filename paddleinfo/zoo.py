"""Every network paddle.vision.models builds, and a user's own: names, default inputs,
and the side-by-side table of many models.  Knows nothing of ResNet in particular.

`--model NAME` is a builder of paddle.vision.models (plus vgg11_bn .. vgg19_bn, which
paddle.vision builds as vgg11(batch_norm=True) ..., under torchvision's names, and
LeNet); `--model path/to/file.py:function` or `package.module:function` is a user's
factory that returns a paddle.nn.Layer.
"""
import difflib
import importlib
import importlib.util
import inspect
import pathlib
import sys
from dataclasses import dataclass

from paddle.vision import models

from paddleinfo import torchvision_published as torchvision
from paddleinfo.errors import UsageError
from paddleinfo.macs import COUNTED, MACS_CONVENTION
from paddleinfo.profile import FactoryError, NotALayerError, ShapeError, first_line, profile
from paddleinfo.progress import progress
from paddleinfo.render import gmacs

DEFAULT_INPUT = (3, 224, 224)
# The input each model is made for, where it is not 3x224x224.
OWN_INPUT = {'inception_v3': (3, 299, 299), 'LeNet': (1, 28, 28)}
# Models that take no other input size: an fc layer follows a fixed-size feature map.
FIXED_INPUT = {
    'alexnet': 'it has no adaptive pool before its fc layers',
    'googlenet': 'its auxiliary heads have no adaptive pool before their fc layers',
    'LeNet': 'it has no pool before its fc layers that adapts to the input',
}
MAX_SIDE = 1024
MAX_CHANNELS = 64
SIDE_BY_SIDE = ('alexnet', 'vgg16', 'squeezenet1_0', 'googlenet', 'inception_v3', 'resnet50',
                'mobilenet_v2', 'densenet121', 'shufflenet_v2_x1_0')


def vision_models():
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
    build: object            # () -> paddle.nn.Layer
    input_shape: tuple       # (None, channels, height, width)
    vision: bool             # one of paddle.vision.models (else a user's factory)


def model_spec(name, input_size=None, flag='--model'):
    """The ModelSpec of --model NAME with --input-size `input_size` (a list of 1, 2 or 3
    integers: side, height width, or channels height width), once both are checked."""
    if ':' in name:
        build, default = user_factory(name, flag), DEFAULT_INPUT
    elif name in VISION_MODELS:
        build, default = VISION_MODELS[name], OWN_INPUT.get(name, DEFAULT_INPUT)
    else:
        close = difflib.get_close_matches(name, VISION_MODELS, n=3)
        hint = (f'did you mean {" or ".join(close)}?' if close
                else f'choose from {", ".join(VISION_MODELS)}')
        raise UsageError(f'{flag} {name} is not a paddle.vision.models network; {hint} '
                         f'(or give path/to/file.py:function for your own)')
    shape = input_shape(name, input_size, default)
    if name in FIXED_INPUT and shape[1:] != default:
        raise UsageError(f'{flag} {name} takes only its input of {"x".join(map(str, default))}, '
                         f'not {"x".join(map(str, shape[1:]))}: {FIXED_INPUT[name]}')
    return ModelSpec(name, build, (None, *shape[1:]), ':' not in name)


def input_shape(name, values, default):
    """(None, channels, height, width) from --input-size, checked."""
    if values is None:
        return (None, *default)
    if len(values) not in (1, 2, 3):
        raise UsageError(f'--input-size takes one, two or three integers for --model '
                         f'([channels] height [width]), got {len(values)}')
    channels, sides = (values[0], values[1:]) if len(values) == 3 else (default[0], values)
    if not 1 <= channels <= MAX_CHANNELS:
        raise UsageError(f'--input-size: {channels} channels is out of range: from 1 to '
                         f'{MAX_CHANNELS}')
    for side in sides:
        if not 1 <= side <= MAX_SIDE:
            raise UsageError(f'--input-size {side} is out of range for {name}: each side must '
                             f'be from 1 to {MAX_SIDE}')
    return (None, channels, sides[0], sides[-1])


def user_factory(text, flag='--model'):
    """The function named by 'path/to/file.py:function' or 'package.module:function'."""
    where, _, function = text.rpartition(':')
    if not where or not function:
        raise UsageError(f'{flag} {text}: give path/to/file.py:function or '
                         f'package.module:function')
    try:
        if where.endswith('.py') or '/' in where:
            path = pathlib.Path(where)
            if not path.is_file():
                raise UsageError(f'{flag} {text}: there is no file {where}')
            spec = importlib.util.spec_from_file_location(path.stem, path)
            module = importlib.util.module_from_spec(spec)
            sys.path.insert(0, str(path.resolve().parent))
            try:
                spec.loader.exec_module(module)
            finally:
                sys.path.pop(0)
        else:
            module = importlib.import_module(where)
    except UsageError:
        raise
    except Exception as error:  # noqa: BLE001 -- any error of the user's module is theirs
        raise UsageError(f'{flag} {text}: {where} does not import: '
                         f'{type(error).__name__}: {first_line(error)}')
    factory = getattr(module, function, None)
    if factory is None:
        raise UsageError(f'{flag} {text}: {where} has no {function}')
    if not callable(factory):
        raise UsageError(f'{flag} {text}: {function} is not callable (its type is '
                         f'{type(factory).__name__}); give a function that returns a '
                         f'paddle.nn.Layer')
    return factory


def profile_model(spec, flag='--model'):
    """The Profile of a ModelSpec; whatever goes wrong in the model is one UsageError."""
    try:
        return profile(spec.build, spec.input_shape)
    except FactoryError as error:
        raise UsageError(f'{flag} {spec.name}: the factory failed: {error}')
    except NotALayerError as error:
        raise UsageError(f'{flag} {spec.name}: {error}')
    except ShapeError as error:
        raise UsageError(f'{flag} {spec.name} does not take an input of '
                         f'{list(spec.input_shape[1:])}: {error}')
    except Exception as error:  # noqa: BLE001 -- the model's own error, on this input
        raise UsageError(f'{flag} {spec.name} fails on an input of {list(spec.input_shape[1:])} '
                         f'(channels, height, width): {type(error).__name__}: '
                         f'{first_line(error)}')


# --- many models side by side -------------------------------------------------------

def weighted_layers(result):
    """How many conv and fc layers the forward pass runs: the layers the MACs count."""
    return sum(isinstance(layer, COUNTED) for layer in result.order)


# torchvision's num_params counts module.parameters(), not the buffers where it keeps
# BatchNorm's running statistics; Paddle keeps those as non-trainable parameters.
TORCHVISION_PARAMS_NOTE = (
    "Its num_params leaves out BatchNorm's running mean and variance (buffers in "
    "PyTorch, non-trainable parameters in Paddle), so it is to be compared with the "
    "Trainable column, not with Params.")


def models_table(specs):
    """One row per model of `specs` (from model_spec): input, params, trainable, MACs,
    weighted layers, output shape, and torchvision's published parameter count and
    GFLOPS where it has the network."""
    rows, differences = [], {}
    for spec in progress(specs, 'models'):
        result = profile_model(spec, '--models')
        published = torchvision.PUBLISHED.get(spec.name) if spec.vision else None
        row = {'model': spec.name, 'input_shape': list(spec.input_shape[1:]),
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
        notes.append("torchvision's columns are the num_params and _ops (its GFLOPS, "
                     "multiply-adds of the convs and fc layers, at 224x224 or 299x299 for "
                     "inception_v3) of its weights' metadata, in pytorch/vision: "
                     + ', '.join(sources) + '. ' + TORCHVISION_PARAMS_NOTE)
    notes += [f'* {name}: paddle.vision\'s network differs from torchvision\'s: {text}.'
              for name, text in differences.items()]
    return {'view': 'models', 'rows': rows, 'notes': notes}


def models_view(data):
    # Each torchvision column next to the one it compares with: its num_params is a
    # count of trainable parameters.
    header = ['Model', 'Input', 'Params', 'Trainable', 'torchvision params', 'MACs (G)',
              'torchvision GFLOPS', 'Weighted layers', 'Output shape']
    body, csv_rows = [], []
    for row in data['rows']:
        mark = ' *' if row['differs_from_torchvision'] else ''
        published = row['torchvision_params'] is not None
        body.append([row['model'] + mark, 'x'.join(map(str, row['input_shape'])),
                     f'{row["params"]:,}', f'{row["trainable_params"]:,}',
                     f'{row["torchvision_params"]:,}' if published else '-',
                     gmacs(row['macs']),
                     f'{row["torchvision_gflops"]:.3f}' if published else '-',
                     str(row['weighted_layers']), str(row['output_shape'])])
        csv_rows.append({'model': row['model'],
                         'input_shape': 'x'.join(map(str, row['input_shape']))} | {
            key: row[key] for key in ('params', 'trainable_params', 'torchvision_params',
                                      'macs', 'torchvision_gflops', 'weighted_layers')} | {
            'output_shape': str(row['output_shape']),
            'differs_from_torchvision': row['differs_from_torchvision'] or ''})
    return ('paddle.vision.models side by side, batch 1', header, body, csv_rows,
            data['notes'])
