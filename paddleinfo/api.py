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
import dataclasses
import functools
import inspect
import importlib
import numbers
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, overload

import numpy as np
import paddle
from paddle import nn

from paddleinfo import cost, tables
from paddleinfo.arguments import MAX_RUNS, choice, column_names
from paddleinfo.compare import ALIGNMENTS, diff_table, diff_view
from paddleinfo.conventions import check_rules
from paddleinfo.errors import ArgumentError, ArgumentTypeError, IncompleteCountError
from paddleinfo.inputs import DTYPES
from paddleinfo.memory import FLOATS, MemoryEstimate
from paddleinfo.optimizers import NAMES as OPTIMIZERS
from paddleinfo.profile import profile_inputs
from paddleinfo.result import Input, Profile
from paddleinfo.render import memory_mb, render, summary_text
from paddleinfo.view import (DEFAULT_OPTIMIZER, DEFAULT_RUNS, DEFAULT_WARMUP, FORMATS, MODES,
                             TABLES, View)

__all__ = ['ModelDiff', 'ModelStatistics', 'ParameterStatistics', 'diff', 'summary']

VIEWS = ('layers', 'depth', 'paddle', 'training') + TABLES


@overload
def summary(model: nn.Layer | Callable[[], nn.Layer], input_size: None = None,
            dtypes: None = None, input: None = None, *, depth: int | None = None, verbose: int = 1,
            name: str | None = None, training: bool = False, optimizer: str | None = None,
            precision: str | None = None, time: bool = False, runs: int | None = None,
            warmup: int | None = None, mode: str = 'eval', count: str = 'macs',
            rules: Mapping[str, Callable[[Any], int]] | None = None, strict: bool = False,
            columns: Sequence[str] | None = None) -> 'ParameterStatistics': ...


@overload
def summary(model: nn.Layer | Callable[[], nn.Layer], input_size: Any = None, dtypes: Any = None,
            input: Any = None, *, depth: int | None = None, verbose: int = 1,
            name: str | None = None, training: bool = False, optimizer: str | None = None,
            precision: str | None = None, time: bool = False, runs: int | None = None,
            warmup: int | None = None, mode: str = 'eval', count: str = 'macs',
            rules: Mapping[str, Callable[[Any], int]] | None = None, strict: bool = False,
            columns: Sequence[str] | None = None) -> 'ModelStatistics': ...


def summary(model: nn.Layer | Callable[[], nn.Layer], input_size: Any = None, dtypes: Any = None,
            input: Any = None, *, depth: int | None = None, verbose: int = 1,
            name: str | None = None, training: bool = False, optimizer: str | None = None,
            precision: str | None = None, time: bool = False, runs: int | None = None,
            warmup: int | None = None, mode: str = 'eval', count: str = 'macs',
            rules: Mapping[str, Callable[[Any], int]] | None = None, strict: bool = False,
            columns: Sequence[str] | None = None) -> 'ModelStatistics | ParameterStatistics':
    """Summarise `model` on its inputs; returns a ModelStatistics and, with verbose=1
    (the default), prints its table (the per-layer table with MACs, or the table
    grouped to `depth` levels of nesting if `depth` is given).  verbose=0 prints nothing,
    verbose=2 also each layer's weights (name, shape, count) under its row.

    model: a paddle.nn.Layer, or a function of no arguments that returns one.
    input_size: a shape (tuple or list of ints, or a paddle.static.InputSpec), or a list
        of shapes, one per positional input of forward(); the first size, the batch,
        may be None or -1, which stand for 1.  An int n is the shape (n,), as in
        paddle.summary.  Without input_size and input: the parameters by module path
        (a ParameterStatistics), as torchinfo without an input; nothing is traced.
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
    mode: the layers' mode during the trace, 'eval' (the default) or 'train'.
    count: the counting convention, 'macs' (the default), 'flops' or 'full'
        (paddleinfo.conventions.CONVENTIONS states each one's rules; the notes repeat them).
    rules: your own rules, {operator name: function(op) -> count}, e.g.
        {'pd_op.kron': kron_macs}, used before paddleinfo's own.
    strict: raise an IncompleteCountError (a ValueError) naming what is left out where
        the count is not the whole of its convention, instead of a lower bound.
    columns: the per-layer table's columns, as torchinfo's col_names: names of
        paddleinfo.view.COLUMNS (input_size, output_size, num_params, params_percent,
        kernel_size, groups, trainable, mult_adds, path, formula, receptive_field,
        effective_stride).
    """
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise ArgumentError(f'verbose is 0 (print nothing), 1 (print the table) or 2 (and '
                            f'each layer\'s weights), not {verbose!r}')
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int)
                              or depth < 1):
        raise ArgumentError(f'depth is a whole number from 1 on, not {depth!r}')
    if not isinstance(model, nn.Layer) and not callable(model):
        raise ArgumentTypeError(f'model is a {type(model).__name__}: give a paddle.nn.Layer '
                                f'or a function that builds one')
    if input_size is None and input is None and dtypes is None:
        return parameters_only(model, depth, verbose, name, training=training, time=time,
                               mode=mode, count=count, rules=rules, strict=strict,
                               columns=columns, optimizer=optimizer, precision=precision)
    inputs = packed(model, input, model_inputs(input_size, dtypes, input))
    check_training(training, optimizer, precision, time, runs, warmup, depth)
    chosen = None if columns is None else column_names('columns', columns)
    if chosen is not None and (training or time or depth):
        raise ArgumentError('columns are those of the per-layer table; depth, training and '
                            'time have tables of their own')
    options = trace_options(mode, count, rules, strict)
    optimizer = optimizer or DEFAULT_OPTIMIZER
    runs, warmup = runs or DEFAULT_RUNS, DEFAULT_WARMUP if warmup is None else warmup
    profile = traced(model, inputs, bool(training), options)
    result = ModelStatistics(profile, name, depth, optimizer, precision, columns=chosen,
                             weights=verbose == 2, mode=mode)
    if training and result.training is None:
        raise ArgumentError(cost.why_not_costed(result.profile))
    if time:
        result.timing = cost.measure_rows(model, result.profile, bool(training), optimizer,
                                          runs, warmup)
    if verbose:
        view = 'depth' if depth else 'training' if training or time else 'layers'
        print(result.render('plain', view=view), end='')
        result.printed()
    return result


# --- how the model is traced and counted ---------------------------------------------

def trace_options(mode: Any, count: Any, rules: Any, strict: Any) -> dict[str, Any]:
    """profile_inputs' keyword arguments of mode, count and rules, each checked, those
    left at their defaults left out; and 'strict'."""
    choice('mode', mode, MODES)
    choice('count', count, tables.conventions())
    if not isinstance(strict, bool):
        raise ArgumentTypeError(f'strict is True or False, not {strict!r}')
    options: dict[str, Any] = {'strict': strict}
    if mode != 'eval':
        options['mode'] = mode
    if count != 'macs':
        options['count'] = count
    if rules is not None:
        options['rules'] = check_rules(rules)
    return options


def traced(model: nn.Layer | Callable[[], nn.Layer], inputs: list[Input], training: bool,
           options: dict[str, Any]) -> Profile:
    """profile_inputs with the trace options that are not at their defaults; with
    options['strict'], an IncompleteCountError where the count is not whole."""
    options = dict(options)
    strict = options.pop('strict', False)
    profile = profile_inputs(model, inputs, training=training, **options)
    if strict:
        check_complete(profile)
    return profile


def check_complete(profile: Profile) -> None:
    """An IncompleteCountError, on one line, where the count is not the whole of its
    convention: the operators with no rule and where they ran, or why it is one path's."""
    message = tables.incomplete(profile)
    if message:
        raise IncompleteCountError(message)


def parameters_only(model: nn.Layer | Callable[[], nn.Layer], depth: int | None, verbose: int,
                    name: str | None, **asked: Any) -> 'ParameterStatistics':
    """summary(model) with no input: the parameters by module path, nothing traced."""
    for key, value in asked.items():
        if value not in (None, False, 'eval', 'macs'):
            raise ArgumentError(f'{key}={value!r} needs an input: give input_size or input '
                                f'(without them, summary() lists the parameters alone)')
    result = ParameterStatistics(parameter_table_of(model, name, depth, verbose == 2))
    if verbose:
        print(result.render('plain'), end='')
        result.printed()
    return result


def parameter_table_of(model: nn.Layer | Callable[[], nn.Layer], name: str | None,
                       depth: int | None, weights: bool) -> dict[str, Any]:
    from paddleinfo.parameters import model_parameters
    return model_parameters(model, name, depth, weights)


def check_training(training: Any, optimizer: Any, precision: Any, time: Any, runs: Any,
                   warmup: Any, depth: Any = None) -> None:
    """The arguments of a training step and of timing, each checked, and none given that
    would be ignored (as the command refuses them)."""
    for flag, value in (('training', training), ('time', time)):
        if not isinstance(value, bool):
            raise ArgumentTypeError(f'{flag} is True or False, not {value!r}')
    for flag, value, needs, given in (('optimizer', optimizer, 'training', training),
                                      ('precision', precision, 'training', training),
                                      ('runs', runs, 'time', time),
                                      ('warmup', warmup, 'time', time)):
        if value is not None and not given:
            raise ArgumentError(f'{flag} is for {needs}=True, which is not given')
    if optimizer is not None:
        choice('optimizer', optimizer, OPTIMIZERS)
    if precision is not None:
        choice('precision', precision, FLOATS)
    for flag, value, low in (('runs', runs, 1), ('warmup', warmup, 0)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not low <= value <= MAX_RUNS):
            raise ArgumentError(f'{flag} is a whole number from {low} to {MAX_RUNS:,}, not {value!r}')
    if depth is not None and (training or time):
        raise ArgumentError('depth groups the per-layer table; a training step (or a timed '
                         'run) has a table of its own')


# --- the inputs ---------------------------------------------------------------------

def model_inputs(input_size: Any, dtypes: Any, input: Any) -> list[Input]:
    """[Input] from paddle.summary's three ways of giving them, checked."""
    if input is not None:
        if input_size is not None:
            raise ArgumentError('give input_size (shapes) or input (tensors), not both')
        if dtypes is not None:
            raise ArgumentError('dtypes is for input_size; the tensors of input have their own')
        return tensor_inputs(input)
    if input_size is None:
        raise ArgumentError('give input_size (a shape, or a list of shapes, one per input of '
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
        raise ArgumentTypeError(f'input_size is a shape or a list of shapes, not {input_size!r}')
    if all(is_size(size) for size in input_size):
        return [checked_shape(input_size, 'input_size')]
    if any(is_size(size) for size in input_size):
        raise ArgumentError(f'input_size {list(input_size)} mixes sizes and shapes: give one '
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
        raise ArgumentTypeError(f'{what} is a shape (sizes, the first one, the batch, may be None '
                         f'or -1), not {shape!r}')
    sizes: list[int] = []
    for axis, size in enumerate(shape):
        if size is None or size == -1:
            if axis != 0:
                raise ArgumentError(f'{what} {list(shape)}: only the batch, the first size, may '
                                 f'be None or -1')
            size = 1
        if size < 1:
            raise ArgumentError(f'{what} {list(shape)}: every size must be at least 1')
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
            raise ArgumentError(f'dtypes has {len(dtypes)} entries for {len(shapes)} input'
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
            raise ArgumentTypeError(f'{where} is a {type(value).__name__}, not a paddle.Tensor')
        inputs.append(Input(list(value.shape), dtype_text(value.dtype), key, value))
    return inputs


def packed(model: Any, input: Any, inputs: list[Input]) -> list[Input]:
    """`inputs` as one list argument, where `input` is a list or tuple of several tensors
    and forward() takes one positional argument: paddle.summary(net, input=[a, b]) calls
    net([a, b]), a forward(self, images) of one list."""
    if not isinstance(input, (list, tuple)) or len(inputs) < 2:
        return inputs
    if isinstance(model, nn.Layer):
        forward, bound = model.forward, True
    elif isinstance(model, type) and issubclass(model, nn.Layer):
        forward, bound = model.forward, False      # a class as the factory: self first
    else:
        return inputs
    try:
        parameters = list(inspect.signature(forward).parameters.values())[0 if bound else 1:]
    except (TypeError, ValueError):
        return inputs
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) != 1 or any(p.kind == p.VAR_POSITIONAL for p in parameters):
        return inputs
    return [dataclasses.replace(item, packed=True) for item in inputs]


# --- the result ---------------------------------------------------------------------

def ipython() -> Any:
    """The running IPython shell (a notebook's kernel), or None; IPython is not imported
    by this, only asked where it is already."""
    module = sys.modules.get('IPython')
    get = getattr(module, 'get_ipython', None)
    try:
        return get() if get is not None else None
    except Exception:  # noqa: BLE001 -- a shell that cannot say: none
        return None


class Shown:
    """A result a notebook shows once: summary() printed its table in the cell, so the
    same cell's value shows nothing more; in any other cell, or displayed again later,
    the table (text, and HTML where the front end takes it)."""
    _printed_in: int | None = None

    def printed(self) -> None:
        """Called where summary() printed the table: the cell it printed in."""
        shell = ipython()
        count = getattr(shell, 'execution_count', None) if shell is not None else None
        self._printed_in = count if isinstance(count, int) else None

    def shown_already(self) -> bool:
        """Whether this cell printed the table already (once: a second display shows it)."""
        shell = ipython()
        if self._printed_in is None or shell is None:
            return False
        if getattr(shell, 'execution_count', None) != self._printed_in:
            return False
        self._printed_in = None
        return True

    def render(self, fmt: str = 'plain', view: str = 'layers', depth: int | None = None,
               macs: bool = True, explain: bool = False,
               columns: Sequence[str] | None = None) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.render('plain')

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # IPython's text of a cell's last value, where _ipython_display_ is not asked.
        printer.text(str(self))

    def _repr_html_(self) -> str:
        return self.render('html')

    def _ipython_display_(self) -> None:
        # IPython and Jupyter call this for a cell's last value and for display(result).
        if self.shown_already():
            return
        # (IPython runs this, so it is there; paddleinfo does not depend on it.)
        display = importlib.import_module('IPython.display').display
        display({'text/plain': str(self), 'text/html': self._repr_html_()}, raw=True)


class ModelStatistics(Shown):
    """What summary() returns: the rows (paddleinfo.profile.LayerRow, one per layer
    paddle.summary shows), the totals and the memory figures, and every table.

    total_params, trainable_params, non_trainable_params, macs: Python ints (the totals
        are those of model.parameters(); macs at the batch of the input, counted in the
        convention `count`);
    result['total_params'] and result['trainable_params'] as with paddle.summary's dict;
    memory: paddle.summary's figures in MB (input, forward_backward, params, total), each
        value at its dtype's size (paddle.summary takes 4 bytes for every one);
    notes: what the MACs count and leave out, and what paddle.summary would miss;
    status: whether the count is whole (Completeness.to_dict(): complete, left_out,
        fallback, estimate, count, user_rules);
    by_operator: {operator name: count}, as fvcore's by_operator;
    str(result): the per-layer table with MACs; render(fmt, view) any other table.
    """

    def __init__(self, profile: Profile, name: str | None = None, depth: int | None = None,
                 optimizer: str = DEFAULT_OPTIMIZER, precision: str | None = None, *,
                 columns: tuple[str, ...] | None = None, weights: bool = False,
                 mode: str = 'eval') -> None:
        self.profile = profile
        self.name = name or type(profile.model).__name__
        self.depth = depth
        self.rows = profile.rows
        self.total_params = int(profile.params)
        self.trainable_params = int(profile.trainable_params)
        self.non_trainable_params = self.total_params - self.trainable_params
        self.macs = int(profile.macs)
        self.count = tables.count_of(profile)
        self.mode = mode
        self.status = tables.status_of(profile)
        self.by_operator = tables.by_operator(profile)
        self.columns = columns
        self.weights = weights
        self.input_shapes = profile.input_shapes
        self.input_dtypes = [item.dtype for item in profile.inputs]
        self.batch_size = tables.batch_of(profile)
        self.output_shape = profile.output_shape
        self.memory = memory_mb(profile, by_dtype=True)
        self.eager = profile.eager
        # With training=True: one step's MACs and memory (else None); with time=True,
        # the measured times.
        self.training = cost.training_cost(profile, optimizer, precision)
        self.memory_estimate: MemoryEstimate | None = (
            self.training.memory if self.training else None)
        self.timing: Any = None

    @property
    def notes(self) -> list[str]:
        return tables.paddle_notes(self.profile) + tables.notes(self.profile, mode=self.mode)

    def to_dict(self) -> dict[str, Any]:
        """The per-layer table's data: what render('json') prints."""
        return tables.layer_table(self.profile, self.name, columns=self.columns,
                                  weights=self.weights, mode=self.mode)

    def __getitem__(self, key: str) -> int:
        numbers = {'total_params': self.total_params, 'trainable_params': self.trainable_params,
                   'non_trainable_params': self.non_trainable_params, 'macs': self.macs}
        if key not in numbers:
            raise KeyError(key)
        return numbers[key]

    def keys(self) -> list[str]:
        return ['total_params', 'trainable_params', 'non_trainable_params', 'macs']

    def render(self, fmt: str = 'plain', view: str = 'layers', depth: int | None = None,
               macs: bool = True, explain: bool = False,
               columns: Sequence[str] | None = None) -> str:
        """The table as text.  fmt: plain, github, markdown, csv, json or html.  view:
        'layers' (the per-layer table; macs adds the Trainable and MACs columns, explain
        the output-size formulas, columns names its columns, as torchinfo's col_names),
        'depth' (rows grouped to `depth` levels of nesting, default the depth given to
        summary(), else 1), 'paddle' (paddle.summary's own text, plain only),
        'training', 'operators' (the count by operator), 'parameters' (by module path,
        to `depth`) or 'receptive' (each layer's receptive field; with `depth`, each
        sublayer's to that depth)."""
        choice('format', fmt, FORMATS)
        choice('view', view, VIEWS)
        if view == 'paddle':
            if fmt != 'plain':
                raise ArgumentError("view 'paddle' is paddle.summary's text: plain only")
            return summary_text(self.profile)[0]
        if view == 'training':
            if self.training is None and self.timing is None:
                raise ArgumentError(self.no_training())
            return render(cost.training_table(self.profile, self.name, self.training,
                                              self.timing), cost.training_view, fmt)
        if view in TABLES:
            return tables.view_text(self.profile, self.name,
                                    View(fmt, depth=depth, table=view, weights=self.weights),
                                    mode=self.mode)
        if view == 'depth':
            depth = depth or self.depth or 1
            return render(tables.depth_table(self.profile, self.name, depth, mode=self.mode),
                          tables.depth_view, fmt)
        chosen = self.columns if columns is None else column_names('columns', columns)
        data = tables.layer_table(self.profile, self.name, columns=chosen, weights=self.weights,
                                  mode=self.mode)
        return render(data, functools.partial(tables.layer_view, macs=macs, explain=explain), fmt)

    def no_training(self) -> str:
        return "the training view needs summary(..., training=True) or time=True"


class ParameterStatistics(Shown):
    """What summary(model) returns without an input: the parameters by module path, as
    fvcore's parameter_count_table and torchinfo without input_size; nothing traced.

    total_params, trainable_params, non_trainable_params: Python ints (model.parameters());
    rows: one dict per sublayer holding parameters (path, layer, depth, params,
        trainable_params, share_percent); macs and status: None (no input, no count);
    render(fmt): the table in any format."""

    macs = None
    status = None

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.name = data['network']
        self.rows = data['rows']
        self.total_params = int(data['totals']['params'])
        self.trainable_params = int(data['totals']['trainable_params'])
        self.non_trainable_params = self.total_params - self.trainable_params

    def __getitem__(self, key: str) -> int:
        numbers = {'total_params': self.total_params, 'trainable_params': self.trainable_params,
                   'non_trainable_params': self.non_trainable_params}
        if key not in numbers:
            raise KeyError(key)
        return numbers[key]

    def keys(self) -> list[str]:
        return ['total_params', 'trainable_params', 'non_trainable_params']

    def to_dict(self) -> dict[str, Any]:
        return self.data

    def render(self, fmt: str = 'plain', view: str = 'parameters', depth: int | None = None,
               macs: bool = True, explain: bool = False,
               columns: Sequence[str] | None = None) -> str:
        """The parameters by module path in format `fmt` (the one view without an input)."""
        choice('format', fmt, FORMATS)
        if view != 'parameters':
            raise ArgumentError(f'view {view!r} needs an input: summary() was given none, '
                                f'so it has the parameters view alone')
        from paddleinfo.parameters import parameters_view
        data = self.data
        if depth is not None:
            data = {**data, 'rows': [row for row in data['rows'] if row['depth'] <= depth],
                    'depth': depth}
        return render(data, parameters_view, fmt)


# --- two models, row by row ---------------------------------------------------------

def diff(first: Any, second: Any, input_size: Any = None, dtypes: Any = None, input: Any = None,
         *, by: str = 'path', names: Sequence[str] | None = None, verbose: int = 1,
         mode: str = 'eval', count: str = 'macs') -> 'ModelDiff':
    """Two models row by row: their layers aligned by module path (by='path') or by
    their order in the forward pass (by='order'), with each one's params, MACs and
    output shape and what differs.  `first` and `second` are each a ModelStatistics
    (summary(..., verbose=0): each with its own input) or a model, then summarised on
    input_size, dtypes or input.  verbose=1 prints the table."""
    choice('by', by, ALIGNMENTS)
    if isinstance(verbose, bool) or verbose not in (0, 1):
        raise ArgumentError(f'verbose is 0 (print nothing) or 1 (print the table), not {verbose!r}')
    results = []
    for which, item in (('first', first), ('second', second)):
        if isinstance(item, ParameterStatistics):
            raise ArgumentError(f'{which} was summarised without an input: a diff compares '
                                f'the traced rows; give summary() an input')
        if not isinstance(item, ModelStatistics):
            if input_size is None and input is None:
                raise ArgumentError(f'{which} is a model: give input_size or input, or give '
                                    f'summary(model, ..., verbose=0) of each')
            item = summary(item, input_size, dtypes, input, verbose=0, mode=mode, count=count)
        results.append(item)
    if names is None:
        names = [result.name for result in results]
        if names[0] == names[1]:
            names = [f'{names[0]} (A)', f'{names[1]} (B)']
    if isinstance(names, str) or len(names) != 2:
        raise ArgumentError(f'names is two names, one per model, not {names!r}')
    result = ModelDiff(diff_table(results[0].profile, results[1].profile,
                                  (str(names[0]), str(names[1])), by))
    if verbose:
        print(result.render('plain'), end='')
        result.printed()
    return result


class ModelDiff(Shown):
    """What diff() returns: rows (one per aligned pair: path, first, second, differs),
    changed (those that differ), and render(fmt) in any format."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.rows = data['rows']
        self.changed = [row for row in self.rows if row['differs']]

    def to_dict(self) -> dict[str, Any]:
        return self.data

    def render(self, fmt: str = 'plain', view: str = 'diff', depth: int | None = None,
               macs: bool = True, explain: bool = False,
               columns: Sequence[str] | None = None) -> str:
        choice('format', fmt, FORMATS)
        if view != 'diff':
            raise ArgumentError(f'view {view!r}: a diff has one view, diff')
        return render(self.data, diff_view, fmt)
