"""`summary(model, input_size, dtypes, input)`: paddleinfo's one call, as paddle.summary's.

    from paddleinfo import summary
    result = summary(model, (None, 3, 224, 224))       # prints the table with MACs
    result.total_params, result.macs, result['trainable_params']
    print(result.render('markdown'))                  # or github, csv, json, plain

The arguments mean what they mean for paddle.summary: `input_size` is a shape, or a
list of shapes, one per positional input of forward() (a batch of None or -1 stands
for 1); `dtypes` is one dtype or one per input; `input` is real data -- a tensor, a
list or tuple of tensors passed as positional arguments, or a dict passed as keyword
arguments.  `model` is a built paddle.nn.Layer, or a function that builds one (then
it is built in the static graph, and no weight is ever initialised).

Nothing is silently reinterpreted: a shape the model does not take is a ShapeError
(a UsageError) whose one-line message names the layer, what it got and what it takes.
"""
import functools
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
import paddle
from paddle import nn

from paddleinfo import cost, tables
from paddleinfo.arguments import MAX_RUNS, choice
from paddleinfo.errors import UsageError
from paddleinfo.inputs import DTYPES
from paddleinfo.memory import FLOATS, MemoryEstimate
from paddleinfo.optimizers import NAMES as OPTIMIZERS
from paddleinfo.profile import profile_inputs
from paddleinfo.result import Input, Profile
from paddleinfo.render import memory_mb, render, summary_text
from paddleinfo.view import DEFAULT_OPTIMIZER, DEFAULT_RUNS, DEFAULT_WARMUP, FORMATS

__all__ = ['ModelStatistics', 'summary']

VIEWS = ('layers', 'depth', 'paddle', 'training')


def summary(model: nn.Layer | Callable[[], nn.Layer], input_size: Any = None, dtypes: Any = None,
            input: Any = None, *, depth: int | None = None, verbose: int = 1,
            name: str | None = None, training: bool = False, optimizer: str | None = None,
            precision: str | None = None, time: bool = False, runs: int | None = None,
            warmup: int | None = None) -> 'ModelStatistics':
    """Summarise `model` on its inputs; returns a ModelStatistics and, with verbose=1
    (the default), prints its table (the per-layer table with MACs, or the table
    grouped to `depth` levels of nesting if `depth` is given).  verbose=0 prints nothing.

    model: a paddle.nn.Layer, or a function of no arguments that returns one.
    input_size: a shape (tuple or list of ints, or a paddle.static.InputSpec), or a list
        of shapes, one per positional input of forward(); the first size, the batch,
        may be None or -1, which stand for 1.  An int n is the shape (n,), as in
        paddle.summary.
    dtypes: None (float32, or the InputSpec's), one dtype for every input, or a list of
        one per input: 'float32', 'int64', ...
    input: real data instead of input_size: a tensor, a list or tuple of tensors (the
        positional inputs), or a dict of tensors (the keyword inputs).
    depth: group the rows by nesting depth, as torchinfo's depth (see ModelStatistics.render).
    name: the network's name in the title (default: the model's class name).
    training: also what one training step costs, from the traced Program with Paddle's
        own backward pass appended (nothing runs): each layer's gradients' MACs, the
        optimizer's update, and the memory of a step and of inference
        (result.training, result.memory_estimate); the table printed is the step's.
    optimizer: the training step's: 'sgd', 'momentum', 'adam' (the default) or 'adamw'
        (with training only, as precision).
    precision: count every floating-point tensor as this dtype ('bfloat16', ...) in the
        memory estimate (default: the dtypes the Program has).
    time: measure each layer's time on this machine (result.timing): `warmup` passes,
        then the median of `runs` (defaults 2 and 10); forward passes, and with `training`
        whole steps.  The one mode that allocates the weights and runs the kernels; a built
        model's parameters, buffers and modes are as they were after it.
    """
    if verbose not in (0, 1, False, True):
        raise UsageError(f'verbose is 0 (print nothing) or 1 (print the table), not {verbose!r}')
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int)
                              or depth < 1):
        raise UsageError(f'depth is a whole number from 1 on, not {depth!r}')
    inputs = model_inputs(input_size, dtypes, input)
    if not isinstance(model, nn.Layer) and not callable(model):
        raise UsageError(f'model is a {type(model).__name__}: give a paddle.nn.Layer or a '
                         f'function that builds one')
    check_training(training, optimizer, precision, time, runs, warmup, depth)
    optimizer = optimizer or DEFAULT_OPTIMIZER
    runs, warmup = runs or DEFAULT_RUNS, DEFAULT_WARMUP if warmup is None else warmup
    result = ModelStatistics(profile_inputs(model, inputs, training=bool(training)), name,
                             depth, optimizer, precision)
    if training and result.training is None:
        raise UsageError(cost.why_not_costed(result.profile))
    if time:
        result.timing = cost.measure_rows(model, result.profile, bool(training), optimizer,
                                          runs, warmup)
    if verbose:
        view = 'depth' if depth else 'training' if training or time else 'layers'
        print(result.render('plain', view=view), end='')
    return result


def check_training(training: Any, optimizer: Any, precision: Any, time: Any, runs: Any,
                   warmup: Any, depth: Any = None) -> None:
    """The arguments of a training step and of timing, each checked, and none given that
    would be ignored (as the command refuses them)."""
    for flag, value in (('training', training), ('time', time)):
        if not isinstance(value, bool):
            raise UsageError(f'{flag} is True or False, not {value!r}')
    for flag, value, needs, given in (('optimizer', optimizer, 'training', training),
                                      ('precision', precision, 'training', training),
                                      ('runs', runs, 'time', time),
                                      ('warmup', warmup, 'time', time)):
        if value is not None and not given:
            raise UsageError(f'{flag} is for {needs}=True, which is not given')
    if optimizer is not None:
        choice('optimizer', optimizer, OPTIMIZERS)
    if precision is not None:
        choice('precision', precision, FLOATS)
    for flag, value, low in (('runs', runs, 1), ('warmup', warmup, 0)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not low <= value <= MAX_RUNS):
            raise UsageError(f'{flag} is a whole number from {low} to {MAX_RUNS:,}, not {value!r}')
    if depth is not None and (training or time):
        raise UsageError('depth groups the per-layer table; a training step (or a timed '
                         'run) has a table of its own')


# --- the inputs ---------------------------------------------------------------------

def model_inputs(input_size: Any, dtypes: Any, input: Any) -> list[Input]:
    """[Input] from paddle.summary's three ways of giving them, checked."""
    if input is not None:
        if input_size is not None:
            raise UsageError('give input_size (shapes) or input (tensors), not both')
        if dtypes is not None:
            raise UsageError('dtypes is for input_size; the tensors of input have their own')
        return tensor_inputs(input)
    if input_size is None:
        raise UsageError('give input_size (a shape, or a list of shapes, one per input of '
                         'forward()) or input (tensors)')
    shapes = shape_list(input_size)
    kinds = dtype_list(dtypes, shapes)
    return [Input(shape, dtype) for shape, dtype in zip((s for s, _ in shapes), kinds)]


def is_size(value: object) -> bool:
    return value is None or (isinstance(value, numbers.Integral) and not isinstance(value, bool))


def shape_list(input_size: Any) -> list[tuple[list[int], str | None]]:
    """[(shape, InputSpec dtype or None)] of input_size: one shape or a list of shapes."""
    if isinstance(input_size, paddle.static.InputSpec) or is_size(input_size):
        return [checked_shape(input_size, 'input_size')]
    if not isinstance(input_size, (list, tuple)) or not input_size:
        raise UsageError(f'input_size is a shape or a list of shapes, not {input_size!r}')
    if all(is_size(size) for size in input_size):
        return [checked_shape(input_size, 'input_size')]
    if any(is_size(size) for size in input_size):
        raise UsageError(f'input_size {list(input_size)} mixes sizes and shapes: give one '
                         f'shape, e.g. (None, 3, 224, 224), or a list of shapes, one per '
                         f'input')
    return [checked_shape(shape, f'input_size[{index}]') for index, shape in enumerate(input_size)]


def checked_shape(shape: Any, what: str) -> tuple[list[int], str | None]:
    """(shape with the batch None/-1 made 1, the InputSpec's dtype or None)."""
    dtype: str | None = None
    if isinstance(shape, paddle.static.InputSpec):
        shape, dtype = tuple(shape.shape), dtype_text(shape.dtype)
    if is_size(shape):
        shape = (shape,)        # as paddle.summary: an int n is the shape (n,)
    if not isinstance(shape, (list, tuple)) or not all(is_size(size) for size in shape):
        raise UsageError(f'{what} is a shape (sizes, the first one, the batch, may be None '
                         f'or -1), not {shape!r}')
    sizes: list[int] = []
    for axis, size in enumerate(shape):
        if size is None or size == -1:
            if axis != 0:
                raise UsageError(f'{what} {list(shape)}: only the batch, the first size, may '
                                 f'be None or -1')
            size = 1
        if size < 1:
            raise UsageError(f'{what} {list(shape)}: every size must be at least 1')
        sizes.append(int(size))
    return sizes, dtype


def dtype_text(dtype: Any) -> str:
    """'int64' for 'int64', paddle.int64, numpy.int64 or numpy.dtype('int64')."""
    if isinstance(dtype, type) and issubclass(dtype, np.generic) or isinstance(dtype, np.dtype):
        return np.dtype(dtype).name
    return str(dtype).replace('paddle.', '').replace('VarType.', '').lower()


def dtype_list(dtypes: Any, shapes: list[tuple[list[int], str | None]]) -> list[str]:
    """One dtype per input: None (float32, or the InputSpec's), one for all, or one each."""
    if isinstance(dtypes, (list, tuple)):
        if len(dtypes) != len(shapes):
            raise UsageError(f'dtypes has {len(dtypes)} entries for {len(shapes)} input'
                             f'{"s" * (len(shapes) != 1)}: give one dtype, or one per input')
        kinds = [dtype_text(dtype) if dtype is not None else spec or 'float32'
                 for dtype, (_, spec) in zip(dtypes, shapes)]
    elif dtypes is None:
        kinds = [spec or 'float32' for _, spec in shapes]
    else:
        kinds = [dtype_text(dtypes)] * len(shapes)
    return [choice('dtype', kind, DTYPES) for kind in kinds]


def tensor_inputs(input: Any) -> list[Input]:
    """[Input] of real data: a tensor, a list or tuple of them, or a dict of them."""
    if isinstance(input, dict):
        items = [(key, value) for key, value in input.items()]
    elif isinstance(input, (list, tuple)):
        items = [(None, value) for value in input]
    else:
        items = [(None, input)]
    inputs: list[Input] = []
    for index, (key, value) in enumerate(items):
        where = f'input[{key!r}]' if key is not None else (
            f'input[{index}]' if isinstance(input, (list, tuple)) else 'input')
        if isinstance(value, np.ndarray):
            value = paddle.to_tensor(value)
        if not isinstance(value, paddle.Tensor):
            raise UsageError(f'{where} is a {type(value).__name__}, not a paddle.Tensor')
        inputs.append(Input(list(value.shape), dtype_text(value.dtype), key, value))
    return inputs


# --- the result ---------------------------------------------------------------------

class ModelStatistics:
    """What summary() returns: the rows (paddleinfo.profile.LayerRow, one per layer
    paddle.summary shows), the totals and the memory figures, and every table.

    total_params, trainable_params, non_trainable_params, macs: Python ints (the totals
        are those of model.parameters(); macs at the batch of the input);
    result['total_params'] and result['trainable_params'] as with paddle.summary's dict;
    memory: paddle.summary's figures in MB (input, forward_backward, params, total);
    notes: what the MACs count and leave out, and what paddle.summary would miss;
    str(result): the per-layer table with MACs; render(fmt, view) any other table.
    """

    def __init__(self, profile: Profile, name: str | None = None, depth: int | None = None,
                 optimizer: str = DEFAULT_OPTIMIZER, precision: str | None = None) -> None:
        self.profile = profile
        self.name = name or type(profile.model).__name__
        self.depth = depth
        self.rows = profile.rows
        self.total_params = int(profile.params)
        self.trainable_params = int(profile.trainable_params)
        self.non_trainable_params = self.total_params - self.trainable_params
        self.macs = int(profile.macs)
        self.input_shapes = profile.input_shapes
        self.input_dtypes = [item.dtype for item in profile.inputs]
        self.batch_size = tables.batch_of(profile)
        self.output_shape = profile.output_shape
        self.memory = memory_mb(profile)
        self.eager = profile.eager
        # With training=True: one step's MACs and memory (else None); with time=True,
        # the measured times.
        self.training = cost.training_cost(profile, optimizer, precision)
        self.memory_estimate: MemoryEstimate | None = (
            self.training.memory if self.training else None)
        self.timing: Any = None

    @property
    def notes(self) -> list[str]:
        return tables.paddle_notes(self.profile) + tables.notes(self.profile)

    def to_dict(self) -> dict[str, Any]:
        """The per-layer table's data: what render('json') prints."""
        return tables.layer_table(self.profile, self.name)

    def __getitem__(self, key: str) -> int:
        numbers = {'total_params': self.total_params, 'trainable_params': self.trainable_params,
                   'non_trainable_params': self.non_trainable_params, 'macs': self.macs}
        if key not in numbers:
            raise KeyError(key)
        return numbers[key]

    def keys(self) -> list[str]:
        return ['total_params', 'trainable_params', 'non_trainable_params', 'macs']

    def render(self, fmt: str = 'plain', view: str = 'layers', depth: int | None = None,
               macs: bool = True, explain: bool = False) -> str:
        """The table as text.  fmt: plain, github, markdown, csv or json.  view: 'layers'
        (the per-layer table; macs adds the Trainable and MACs columns, explain the
        output-size formulas), 'depth' (rows grouped to `depth` levels of nesting,
        default the depth given to summary(), else 1), or 'paddle' (paddle.summary's own
        text, plain only)."""
        choice('format', fmt, FORMATS)
        if view == 'paddle':
            if fmt != 'plain':
                raise UsageError("view 'paddle' is paddle.summary's text: plain only")
            return summary_text(self.profile)[0]
        if view == 'training':
            if self.training is None and self.timing is None:
                raise UsageError(self.no_training())
            return render(cost.training_table(self.profile, self.name, self.training,
                                              self.timing), cost.training_view, fmt)
        if view == 'depth':
            depth = depth or self.depth or 1
            return render(tables.depth_table(self.profile, self.name, depth),
                          tables.depth_view, fmt)
        choice('view', view, VIEWS)
        return render(self.to_dict(), functools.partial(tables.layer_view, macs=macs,
                                                        explain=explain), fmt)

    def no_training(self) -> str:
        return "the training view needs summary(..., training=True) or time=True"

    def __str__(self) -> str:
        return self.render('plain')

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # IPython and Jupyter show this for a cell's last value.
        printer.text(str(self))
