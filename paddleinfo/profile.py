"""One row per layer of any paddle.nn.Layer, from one pass over its inputs' shapes.

This module knows nothing of ResNet.  `profile_inputs(model, inputs)` takes a built
model, or a factory that builds one, and the inputs of its forward() (shapes and
dtypes, or real tensors), and returns the rows paddle.summary would print -- same
names, same order, same shapes and parameter counts -- with the multiply-adds of every
matrix product the forward pass runs (paddleinfo.ops), which of each layer's tensors
are trainable, and the arithmetic of every conv and pool output size.
`profile(build_model, input_shape)` is the same for one float32 input.

Shapes, parameter counts and MACs do not depend on the parameter values, so nothing
runs: a factory's model is built and called in Paddle's static graph, where calling a
layer appends its operators to a Program and infers the output shapes, and the
Program's startup part, which would initialise the parameters, never runs; a model
already built is turned into the same kind of Program by paddle.jit's dy2static with an
InputSpec per input.  A model that cannot be traced that way (one that reads tensor
values in its forward pass or its __init__, say) is built and run once in the ordinary
dynamic graph instead, with the same rows, and its MACs counted from its layers (a note
says so).
"""
import contextlib
import inspect
import math
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import paddle
import paddle.nn.layer.layers as paddle_layers
from paddle import nn

from paddleinfo import backward, memory, ops
from paddleinfo.memory import dtype_name
from paddleinfo.arguments import paddle_logs_hidden
from paddleinfo.errors import FactoryError, NotALayerError, ShapeError
from paddleinfo.macs import CONVS, RNNS, TRANSPOSED_CONVS, eager_macs, evaluating, modes_kept

__all__ = ['FactoryError', 'Input', 'LayerRow', 'NotALayerError', 'Profile', 'ShapeError',
           'profile', 'profile_inputs']


@dataclass
class Input:
    """One input of forward(): its shape (batch included) and dtype, and the real tensor
    if one was given.  `keyword` names the argument it is passed as (None: positional)."""
    shape: list[int]
    dtype: str = 'float32'
    keyword: str | None = None
    value: paddle.Tensor | None = None


@dataclass
class LayerRow:
    name: str                # paddle.summary's name, e.g. 'Conv2D-1'
    layer: nn.Layer
    input_shape: list[Any]   # paddle.summary's: one shape per input
    output_shape: list[Any]  # one shape, or a list of shapes for several outputs
    params: int
    trainable_params: int
    trainable: list[str]     # names of the layer's own trainable tensors ...
    frozen: list[str]        # ... and of the others (BatchNorm's running statistics)
    macs: int | None         # None: a layer that runs no matrix product
    formula: str | None      # how the output size follows from the input size
    calls: int = 1


# What a layer's calls gave: (its input shapes, its output shape, MACs, calls).
Call = tuple[list[Any], list[Any], int | None, int]


@dataclass
class Profile:
    model: nn.Layer
    input_shape: list[int]   # the first input's shape (batch included)
    rows: list[LayerRow]     # one per layer paddle.summary shows, in its order
    output_shape: list[Any] | dict[Any, Any]
    order: list[nn.Layer] = field(default_factory=list)   # every layer called, in order of first call
    # {layer: (input shapes, output shape, MACs, calls)}
    calls: dict[nn.Layer, Call] = field(default_factory=dict)
    # The static graph the model was traced in: its parameters live there.
    programs: tuple[Any, ...] = ()
    inputs: list[Input] = field(default_factory=list)  # the Inputs it was given
    eager: bool = False      # run once in the dynamic graph: it could not be traced
    uncounted_ops: dict[str, list[str]] = field(default_factory=dict)   # {operator name: [layer names]}
    training: 'Training | None' = None   # the backward pass and the memory: profile_inputs(training=True)
    training_failure: str | None = None  # why, with training=True, there is none

    @property
    def input_shapes(self) -> list[list[int]]:
        return [list(item.shape) for item in self.inputs] or [self.input_shape]

    @property
    def params(self) -> int:
        """The sum of numel over model.parameters(): every tensor once."""
        return sum(math.prod(p.shape) for p in self.model.parameters())

    @property
    def trainable_params(self) -> int:
        return sum(math.prod(p.shape) for p in self.model.parameters() if trainable(p))

    @property
    def macs(self) -> int:
        """Every product of the forward pass: the rows' and those of layers without a row
        (the model's own forward(), a container's)."""
        return sum(macs or 0 for _, _, macs, _ in self.calls.values())

    @property
    def rows_params(self) -> int:
        """What paddle.summary prints as the total: the sum of its rows."""
        return sum(row.params for row in self.rows)

    @property
    def rows_trainable_params(self) -> int:
        return sum(row.trainable_params for row in self.rows)

    def unshown_macs(self) -> dict[nn.Layer, int]:
        """{layer: MACs} of the layers that multiply in their own forward() but have no row."""
        shown = {row.layer for row in self.rows}
        return {layer: macs for layer, (_, _, macs, _) in self.calls.items()
                if macs and layer not in shown}

    def unshown_parameters(self) -> list[tuple[str, list[int]]]:
        """[(name, shape)] of the model's parameters that no row counts (a model's own
        class token, say): paddle.summary leaves them out of its total."""
        counted = {id(p) for row in self.rows for p in row.layer._parameters.values()
                   if p is not None}
        return [(name, list(p.shape)) for name, p in self.model.named_parameters()
                if id(p) not in counted]


def trainable(parameter: paddle.Tensor) -> bool:
    return parameter.trainable and not parameter.stop_gradient


def summary_name(layer: nn.Layer) -> str:
    """The name paddle.summary gives `layer`: its class and the counter of its unique name."""
    class_name = str(layer.__class__).split('.')[-1].split("'")[0]
    return f'{class_name}-{int(layer.full_name().split("_")[-1]) + 1}'


def shown_by_summary(layer: nn.Layer, model: nn.Layer) -> bool:
    # paddle.summary leaves out containers and the model itself (unless it has no
    # sublayers), but for an RNN layer (LSTM, GRU, SimpleRNN subclass LayerList), which
    # it shows when it runs as one operator (could_use_cudnn, on the CPU too).
    return (not isinstance(layer, (nn.Sequential, nn.LayerList)) and (
        layer is not model or not model.sublayers())) or bool(
        getattr(layer, 'could_use_cudnn', False))


def shapes_of(value: Any) -> list[Any]:
    """paddle.summary's shape of an output: a list, or a list of lists for several (and
    [] for what has no shape, a dict included)."""
    if isinstance(value, (list, tuple)):
        return [shapes_of(item) for item in value]
    return list(value.shape) if hasattr(value, 'shape') else []


def input_shapes(value: Any) -> list[Any] | None:
    """paddle.summary's shape of an input: a list, a list of them, or None for an
    argument that is not a tensor."""
    if isinstance(value, (list, tuple)):
        return [input_shapes(item) for item in value]
    return list(value.shape) if hasattr(value, 'shape') else None


def model_output_shapes(value: Any) -> list[Any] | dict[Any, Any]:
    """The shape of what the model returns: as shapes_of, and a dict's values too."""
    if isinstance(value, dict):
        return {key: model_output_shapes(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [model_output_shapes(item) for item in value]
    return list(value.shape) if hasattr(value, 'shape') else []


def own_parameters(layer: nn.Layer) -> tuple[int, int, list[str], list[str]]:
    """(params, trainable params, trainable names, other names) of the layer's own tensors,
    as paddle.summary counts them: trainable means trainable and not stop_gradient."""
    own = [(name, p) for name, p in layer._parameters.items() if p is not None]
    names = [name for name, p in own if trainable(p)]
    return (sum(math.prod(p.shape) for _, p in own),
            sum(math.prod(p.shape) for name, p in own if name in names),
            names, [name for name, _ in own if name not in names])


def _no_stack(*args: Any, **kwargs: Any) -> traceback.StackSummary:
    return traceback.StackSummary()


@contextlib.contextmanager
def _no_struct(prefix: str | None = None) -> Iterator[None]:
    yield


@contextlib.contextmanager
def cheap_tracing() -> Iterator[None]:
    """Two pieces of bookkeeping that only matter for a Program that is compiled and
    run are switched off while inside, because they cost more than the shape
    inference itself: every operator records the Python stack it was created from
    (for error messages at run time), and every layer call walks all operators of
    the Program so far to label the new ones (for auto-parallel), which makes a
    deep network quadratic."""
    saved = traceback.extract_stack, paddle_layers.name_struct
    traceback.extract_stack, paddle_layers.name_struct = _no_stack, _no_struct
    try:
        yield
    finally:
        traceback.extract_stack, paddle_layers.name_struct = saved


def _iterate(value: Any) -> Iterator[Any]:
    """`for item in value` in the static graph, which refuses a length it cannot know
    as bool(value) and float(value) refuse a value it cannot know."""
    shape = list(value.shape)
    if not shape or shape[0] < 0:
        raise TypeError('iterating over a Tensor of unknown length is not supported in '
                        'static graph mode')
    for index in range(shape[0]):
        yield value[index]


@contextlib.contextmanager
def static_graph() -> Iterator[tuple[paddle.static.Program, paddle.static.Program]]:
    """Paddle's static graph on a fresh Program, and back to the dynamic graph after.

    A Value has no __iter__, so Python iterates it by indexing 0, 1, 2, ... until an
    IndexError that a Value of unknown length (paddle.linspace's, say) never raises:
    `[x.item() for x in paddle.linspace(0, rate, depth)]`, as ConvNeXt's and Swin's
    __init__ compute their drop-path rates, would loop forever.  Inside, iterating one
    raises the TypeError of a value the static graph cannot know, and the model is
    built and run in the dynamic graph instead."""
    was_dynamic = paddle.in_dynamic_mode()
    paddle.enable_static()
    programs = paddle.static.Program(), paddle.static.Program()
    value_type = paddle.pir.Value
    saved = value_type.__dict__.get('__iter__')
    value_type.__iter__ = _iterate
    try:
        with cheap_tracing(), paddle.static.program_guard(*programs):
            yield programs
    finally:
        if saved is None:
            del value_type.__iter__
        else:
            value_type.__iter__ = saved
        if was_dynamic:
            paddle.disable_static()


@contextlib.contextmanager
def static_mode() -> Iterator[None]:
    """The static graph inside the block, and the mode as it was after."""
    was_dynamic = paddle.in_dynamic_mode()
    paddle.enable_static()
    try:
        yield
    finally:
        if was_dynamic:
            paddle.disable_static()


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Paddle's warnings about its own workings, raised by the calls made here, are not
    the user's business (dy2static's notes, BatchNorm's on running statistics); a
    warning of the user's own code still shows, and so does what it writes to stderr; the
    notes Paddle's C++ logs there about itself do not.  Only inside the block."""
    with warnings.catch_warnings(), paddle_logs_hidden():
        warnings.filterwarnings('ignore', module=r'paddle(\.|$)')
        yield


def text_of(error: BaseException) -> str:
    """str(error), or '' for an error that cannot say what it is (a C++ one, at times)."""
    try:
        return str(error)
    except Exception:  # noqa: BLE001
        return ''


def first_line(error: BaseException) -> str:
    """The first non-blank line of an error's message (or its class name)."""
    lines = [line.strip() for line in text_of(error).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def exited(error: SystemExit) -> str:
    """What a user's sys.exit(code) (or raise SystemExit) is told as: 'it called sys.exit(0)'."""
    return f'it called sys.exit({"" if error.code is None else repr(error.code)})'


def build(build_model: Callable[[], object]) -> nn.Layer:
    """build_model() in a fresh name scope, checked to be a paddle.nn.Layer.  Its
    sys.exit() is its failure too: it must not end the caller's program."""
    with paddle.utils.unique_name.guard():
        try:
            model = build_model()
        except SystemExit as error:
            raise FactoryError(exited(error)) from error
        except Exception as error:  # noqa: BLE001 -- any error of the factory is its own
            if not paddle.in_dynamic_mode() and names_the_graph(error):
                raise   # the static graph's, not the factory's: it is built again eagerly
            raise FactoryError(f'{type(error).__name__}: {first_line(error)}') from error
    if not isinstance(model, nn.Layer):
        raise NotALayerError(f'it returned a {type(model).__name__}, not a paddle.nn.Layer')
    return model


# --- what a layer takes -------------------------------------------------------------

# The input's layout of each data_format: where the channels are.
CHANNELS_LAST = ('NLC', 'NHWC', 'NDHWC')
NORMS = (nn.BatchNorm, nn.BatchNorm1D, nn.BatchNorm2D, nn.BatchNorm3D, nn.SyncBatchNorm)
INTEGERS = ('int32', 'int64', 'int16', 'int8', 'uint8')


def conv_rank(layer: nn.Layer) -> int | None:
    """The rank of the input a conv takes: batch, channels and its spatial axes."""
    for rank, kinds in ((3, (nn.Conv1D, nn.Conv1DTranspose)), (4, (nn.Conv2D, nn.Conv2DTranspose)),
                        (5, (nn.Conv3D, nn.Conv3DTranspose))):
        if isinstance(layer, kinds):
            return rank
    return None


SPATIAL = {3: 'length', 4: 'height, width', 5: 'depth, height, width'}
# The layers that slide a window over the input.
WINDOWS = CONVS + TRANSPOSED_CONVS + tuple(getattr(nn, name) for name in (
    'MaxPool1D', 'MaxPool2D', 'MaxPool3D', 'AvgPool1D', 'AvgPool2D', 'AvgPool3D'))


def expected_input(layer: nn.Layer) -> tuple[str, int, int] | None:
    """(what, axis, size) the input of `layer` must have along `axis`, or None if the
    layer is not one whose input size is checked here.  The static graph infers a conv's
    or BatchNorm's output shape without comparing the input's channels with the layer's
    (the dynamic graph does, when the kernel runs), so a wrong input would pass."""
    if isinstance(layer, CONVS + TRANSPOSED_CONVS):
        axis = -1 if layer._data_format in CHANNELS_LAST else 1
        return 'input channels', axis, layer._in_channels
    if isinstance(layer, nn.Linear):
        return 'input features', -1, layer.weight.shape[0]
    if isinstance(layer, NORMS) and layer.weight is not None:
        layout = getattr(layer, '_data_format', getattr(layer, '_data_layout', 'NCHW'))
        axis = -1 if layout in CHANNELS_LAST else 1
        return 'channels', axis, layer.weight.shape[0]
    if isinstance(layer, RNNS):
        return 'input features', -1, layer.input_size
    if isinstance(layer, nn.MultiHeadAttention):
        return 'query features', -1, layer.embed_dim
    return None


def check_input(layer: nn.Layer, inputs: Sequence[Any]) -> None:
    """Raise ShapeError if `layer` cannot take `inputs` (rank, dtype or size), naming
    the layer, what it got and what it takes; the dynamic graph would refuse them too,
    and the static graph does not always."""
    if not inputs or not hasattr(inputs[0], 'shape'):
        return
    shape, dtype = list(inputs[0].shape), dtype_name(inputs[0].dtype)
    name = summary_name(layer)
    if isinstance(layer, nn.Embedding):
        if dtype not in INTEGERS:
            raise ShapeError(f'{name} takes integer token ids (int64 or int32), not {dtype} '
                             f'(its input is {shape}); give the input dtype int64')
        return
    if dtype not in ('float16', 'bfloat16', 'float32', 'float64') and (
            expected_input(layer) or conv_rank(layer)):
        raise ShapeError(f'{name} takes a floating-point input, not {dtype} '
                         f'(its input is {shape})')
    rank = conv_rank(layer)
    if rank and len(shape) != rank:
        raise ShapeError(f'{name} takes a {rank}-D input [batch, channels, {SPATIAL[rank]}], '
                         f'not {len(shape)}-D {shape}')
    if isinstance(layer, RNNS) and len(shape) != 3:
        order = 'time, batch' if layer.time_major else 'batch, time'
        raise ShapeError(f'{name} takes a 3-D input [{order}, {layer.input_size} features], '
                         f'not {len(shape)}-D {shape}')
    wanted = expected_input(layer)
    if wanted is None:
        return
    what, axis, size = wanted
    if len(shape) < (1 if isinstance(layer, nn.Linear) else 2) or shape[axis] < 0:
        return      # -1: a size the static graph does not know
    if shape[axis] != size:
        raise ShapeError(f'{name} takes {size:,} {what}, not {shape[axis]:,} '
                         f'(its input is {shape})')


def check_map(layer: nn.Layer, inputs: Sequence[Any], output: Any) -> None:
    """Raise ShapeError if `layer` made a feature map with a side below 1, naming the
    sizes it had and would make (the static graph writes -1 for such a size)."""
    out_shape, in_shape = shapes_of(output), shapes_of(inputs[0]) if inputs else []
    if isinstance(layer, WINDOWS) and len(out_shape) in (3, 5) and len(in_shape) == len(
            out_shape) and all(isinstance(size, int) for size in out_shape + in_shape):
        # Conv1D/3D and their pools: no formula, the sizes Paddle gave.
        channels_last = getattr(layer, '_data_format', 'NCL') in CHANNELS_LAST
        axes = slice(1, -1) if channels_last else slice(2, None)
        if min(out_shape[axes]) < 1:
            name = summary_name(layer)
            if min(in_shape[axes]) < 1:
                raise ShapeError(f'the input has shrunk to nothing by the time it reaches {name}')
            raise ShapeError(f'{name} would make an empty output of its input {in_shape} '
                             f'(output {out_shape}): its window is larger than the input')
        return
    sides_at = map_axes(layer)
    if not (len(out_shape) == 4 and all(isinstance(side, int) for side in out_shape)
            and min(out_shape[axis] for axis in sides_at) < 1):
        return
    name = summary_name(layer)
    if len(in_shape) == 4 and min(in_shape[axis] for axis in sides_at) < 0:
        # A side the trace could not infer (-1), not one known to be below 1: a layer
        # that shrank it would have said so; a real pass tells the sizes.
        return
    if len(in_shape) != 4 or min(in_shape[axis] for axis in sides_at) < 1:
        raise ShapeError(f'the map has shrunk below 1x1 by the time it reaches {name}')
    if not isinstance(layer, WINDOWS):
        return      # only a window's arithmetic says a side is below 1; else it is unknown
    # A conv or pool: the sizes from its own kernel, stride and padding, which raises the
    # ShapeError of a side below 1, with its formula.
    ones = list(out_shape)
    for axis in sides_at:
        ones[axis] = 1
    try:
        size_formula(layer, in_shape, ones)
    except AssertionError:
        return      # the formula gives sides of 1 or more: the -1 is a size left unknown


def map_axes(layer: nn.Layer) -> tuple[int, int]:
    """The axes of a 4-D map's height and width: 1 and 2 for a layer of channels-last data
    (data_format='NHWC'), else 2 and 3."""
    layout = getattr(layer, '_data_format', getattr(layer, 'data_format', 'NCHW'))
    return (1, 2) if layout in CHANNELS_LAST else (2, 3)


def check_arguments(model: nn.Layer, inputs: list[Input]) -> None:
    """Raise ShapeError if forward() does not take these inputs: one missing, one too
    many, a keyword it has not."""
    try:
        signature = inspect.signature(model.forward)
    except (TypeError, ValueError):
        return
    positional = [item for item in inputs if item.keyword is None]
    keywords = {item.keyword: item for item in inputs if item.keyword is not None}
    try:
        signature.bind(*positional, **keywords)
    except TypeError as error:
        takes = ', '.join(str(parameter) for parameter in signature.parameters.values())
        given = [f'{item.keyword}=' * bool(item.keyword) + str(list(item.shape))
                 for item in inputs]
        raise ShapeError(f'{type(model).__name__}.forward({takes}) cannot take the inputs '
                         f'{", ".join(given) or "(none)"}: {error}') from None


def untraceable(error: BaseException) -> bool:
    """Whether `error`, raised while tracing in the static graph, says that the model
    reads a tensor's value (float(x), `if x > 0`, x.numpy()), which has no answer there:
    Paddle raises a TypeError or an AssertionError that names the static or dynamic
    graph for it.  Any other error (Paddle's shape inference refusing an operator's
    inputs, the model's own) the dynamic graph would raise as well, so the model is
    not run a second time for it."""
    if '(InvalidArgument)' in text_of(error):
        return False
    return (isinstance(error, (TypeError, AssertionError, NotImplementedError))
            or names_the_graph(error))


def names_the_graph(error: BaseException) -> bool:
    """Whether `error` says it is the static graph's refusal (float(x), bool(x), x.numpy(),
    iterating a Value of unknown length all name the static or the dynamic graph), or
    cannot say what it is (a C++ error, at times)."""
    text = text_of(error)
    return not text or 'static' in text or 'dynamic graph' in text


# --- the trace ----------------------------------------------------------------------

class Tracer:
    """Forward hooks on every layer of a model: the order of first calls, each layer's
    last (input shapes, output shape), and the operators each call appended to the
    Program (static) or the MACs each call spent (eager)."""

    order: dict[nn.Layer, None]         # the layers called, in order of first call
    calls: dict[nn.Layer, Call]
    stack: list[nn.Layer]               # the layers being called, innermost last
    starts: list[Any]                   # the mark() where each of them began
    spans: list[tuple[nn.Layer, Any, Any]]   # (layer, mark before, mark after) of each call
    program: Any                        # the Program traced in (static)
    uncounted: dict[str, list[str]]
    failure: ShapeError | None
    op_owner: dict[Any, nn.Layer]       # each forward operator: the layer it is charged to
    training: 'Training | None'
    training_failure: str | None

    def __init__(self, model: nn.Layer, static: bool) -> None:
        self.model, self.static = model, static
        self.order, self.calls, self.stack, self.starts, self.spans = {}, {}, [], [], []
        self.program, self.uncounted, self.failure = None, {}, None
        self.op_owner, self.training, self.training_failure = {}, None, None

    def mark(self) -> Any:
        """The last operator of the Program so far (None: none yet).  Operators are
        appended at its end; parameters and data are put at its front, so an index
        would move and the operator itself does not."""
        if self.program is None:
            self.program = paddle.static.default_main_program()
        block = self.program.global_block()
        return block.back() if block.num_ops() else None

    def before(self, layer: nn.Layer, inputs: tuple[Any, ...]) -> None:
        self.stack.append(layer)
        self.checked(check_input, layer, inputs)
        self.order.setdefault(layer, None)
        self.starts.append(self.mark() if self.static else None)

    def after(self, layer: nn.Layer, inputs: tuple[Any, ...], output: Any) -> None:
        start = self.starts.pop()
        self.checked(check_map, layer, inputs, output)
        self.stack.pop()
        if self.static:
            self.spans.append((layer, start, self.mark()))
            macs = None
        else:
            macs = eager_macs(layer, inputs, output)
        self.record(layer, [input_shapes(x) for x in inputs], shapes_of(output), macs)

    def checked(self, check: Callable[..., None], *args: Any) -> None:
        # dy2static re-raises an error of the forward pass with its traceback in the
        # message: keep ours, to raise it as it was.
        try:
            check(*args)
        except ShapeError as error:
            self.failure = error
            raise

    def record(self, layer: nn.Layer, inputs: list[Any], output: list[Any], macs: int | None) -> None:
        count = 1
        if layer in self.calls:
            _, _, previous, count = self.calls[layer]
            macs = None if macs is None and previous is None else (macs or 0) + (previous or 0)
            count += 1
        self.calls[layer] = (inputs, output, macs, count)

    @contextlib.contextmanager
    def hooked(self) -> Iterator['Tracer']:
        handles = []
        for layer in self.model.sublayers(include_self=True):
            # Paddle's hook types take a Tensor and give one back; a hook is given the
            # tuple of inputs, and returning None leaves the call as it is.
            handles += [layer.register_forward_pre_hook(cast(Any, self.before)),
                        layer.register_forward_post_hook(cast(Any, self.after))]
        try:
            yield self
        except Exception as error:
            if self.failure is not None:
                raise self.failure from None
            if isinstance(error, ShapeError):
                raise
            # Paddle's shape inference refused an operator's inputs: name the layer.
            if '(InvalidArgument)' in text_of(error):
                where = (summary_name(self.stack[-1]) if self.stack
                         else f'{type(self.model).__name__}.forward')
                raise ShapeError(f'{where} cannot take its input: '
                                 f'{paddle_reason(error)}') from error
            raise
        finally:
            for handle in handles:
                handle.remove()

    def charge_operators(self, program: Any, first: Any = None) -> dict[str, list[str]]:
        """The MACs of the Program's operators, each charged to the innermost layer whose
        call appended it (calls finish innermost first); the rest, after the operator
        `first`, to the model itself."""
        all_ops = (self.program or program).global_block().ops
        index_of = {op: index for index, op in enumerate(all_ops)}
        if any(ops.blocks(op) for op in all_ops):
            # An `if` or a loop on a tensor's value: which branch runs, and how often,
            # is the value's to say.
            raise ControlFlow('the forward pass branches or loops on a tensor value')

        def after(op: Any) -> int:
            if op is None:
                return 0
            index = index_of.get(op)
            if index is None:       # a mark inside a block of control flow
                raise ControlFlow('a layer ran inside control flow')
            return index + 1

        owner: dict[int, nn.Layer] = {}
        for layer, start, end in self.spans:
            for index in range(after(start), after(end)):
                owner.setdefault(index, layer)
        first = after(first)
        macs: dict[nn.Layer, int] = {}
        uncounted: dict[str, dict[nn.Layer, None]] = {}
        for index in range(first, len(all_ops)):
            layer = owner.get(index, self.model)
            op = all_ops[index]
            self.op_owner[op] = layer
            count = ops.op_macs(op)
            if count is not None:
                macs[layer] = macs.get(layer, 0) + count
            for name in ops.uncounted_ops(op):
                uncounted.setdefault(name, {})[layer] = None
        for layer, (inputs, output, _, calls) in self.calls.items():
            self.calls[layer] = (inputs, output, macs.get(layer), calls)
        return {name: [summary_name(layer) for layer in layers]
                for name, layers in sorted(uncounted.items())}


def append_training(tracer: Tracer, program: Any, outputs: list[Any], parameters: list[Any],
                    first: int = 0) -> None:
    """Append the backward pass to the traced `program` (in the static graph, inside its
    program_guard) and keep what a training step costs: the gradients' MACs of every
    layer and the buffers of the memory estimate.  `parameters` are the model's.  If
    Paddle's autograd cannot append it (an operator without a gradient, say), the
    forward pass stands, and `tracer.training_failure` says why."""
    try:
        costed(tracer, program, outputs, parameters, first)
    except Exception as error:  # noqa: BLE001 -- told to the user, who asked for the cost
        tracer.training, tracer.training_failure = None, (
            f'the backward pass could not be appended to the traced program: '
            f'{type(error).__name__}: {first_line(error)}')


def costed(tracer: Tracer, program: Any, outputs: list[Any], parameters: list[Any],
           first: int) -> None:
    model = tracer.model

    def owner(op: Any) -> nn.Layer:
        return tracer.op_owner.get(op, model)
    appended = backward.append(program, outputs, owner)
    if appended is None:    # nothing needs a gradient: the step is the forward pass
        tracer.training = Training({}, {}, memory.program_memory(
            program, program.global_block().num_ops(), parameters, (), first, owner))
        return
    names = {key: summary_name(key) if key is not None else type(model).__name__
             for keys in appended.uncounted.values() for key in keys}
    tracer.training = Training(
        appended.macs, {name: [names[key] for key in keys]
                        for name, keys in appended.uncounted.items()},
        memory.program_memory(program, appended.first_op, parameters,
                              appended.parameter_grads, first, owner))


@dataclass
class Training:
    """What a training step adds to the forward pass: {layer: its gradients' MACs}, the
    backward operators left out ({name: [layer names]}), and the step's buffers."""
    grad_macs: dict[nn.Layer, backward.GradMACs]
    uncounted: dict[str, list[str]]
    memory: memory.ProgramMemory


@contextlib.contextmanager
def in_mode(model: nn.Layer, training: bool) -> Iterator[None]:
    """The model in train mode (BatchNorm on the batch's statistics, dropout on) for a
    training step, else evaluating() it.  Its mode is as it was after."""
    if not training:
        with evaluating(model):
            yield
        return
    with modes_kept(model):
        model.train()
        yield


def outputs_list(output: Any) -> list[Any]:
    """Every tensor of a forward pass's output (a tensor, or lists, tuples, dicts of them)."""
    if isinstance(output, dict):
        return [item for value in output.values() for item in outputs_list(value)]
    if isinstance(output, (list, tuple)):
        return [item for value in output for item in outputs_list(value)]
    return [output] if hasattr(output, 'shape') else []


class ControlFlow(Exception):
    """The traced program branches or loops on a tensor's value: only a real pass tells
    which layers run."""


# What a trace gives: (the model, the shape of its output, the Tracer of its calls).
Traced = tuple[nn.Layer, list[Any] | dict[Any, Any], Tracer]


def paddle_reason(error: BaseException) -> str:
    """Paddle's reason for refusing an operator's inputs, on one line (dy2static puts
    the traceback of the forward pass first)."""
    text = text_of(error)
    lines = [line for line in text.splitlines() if '(InvalidArgument)' in line] or [first_line(error)]
    return lines[0].split('(InvalidArgument)')[-1].strip().split('  [')[0]


def static_inputs(inputs: list[Input]) -> tuple[list[Any], dict[str, Any]]:
    """paddle.static.data for every input, named input, input_1, ... or by its keyword."""
    args, kwargs = [], {}
    for index, item in enumerate(inputs):
        name = item.keyword or ('input' if index == 0 else f'input_{index}')
        data = paddle.static.data(name, list(item.shape), item.dtype)
        # Data needs no gradient, unless a tensor given asks for one (as dy2static's
        # InputSpec of it does).
        data.stop_gradient = bool(item.value is None or item.value.stop_gradient)
        if item.keyword:
            kwargs[item.keyword] = data
        else:
            args.append(data)
    return args, kwargs


def eager_inputs(inputs: list[Input]) -> tuple[list[Any], dict[str, Any]]:
    """The real tensors given, or zeros of each shape and dtype (zeros are valid token ids)."""
    args, kwargs = [], {}
    for item in inputs:
        # (Paddle's types take a dtype's name only as one of a Literal of names.)
        value = item.value if item.value is not None else paddle.zeros(list(item.shape),
                                                                        dtype=cast(Any, item.dtype))
        if item.keyword:
            kwargs[item.keyword] = value
        else:
            args.append(value)
    return args, kwargs


def trace_factory(build_model: Callable[[], object], inputs: list[Input],
                  training: bool = False) -> Traced:
    """Build the model in the static graph and call it there: (model, output, tracer);
    with `training`, in train mode, and the backward pass appended."""
    model = build(build_model)
    check_arguments(model, inputs)
    tracer = Tracer(model, static=True)
    with in_mode(model, training), tracer.hooked():
        args, kwargs = static_inputs(inputs)
        # The operators so far built the model (an RNN's flat weights, say).
        first = tracer.mark()
        output = model(*args, **kwargs)
    program = paddle.static.default_main_program()
    tracer.uncounted = tracer.charge_operators(program, first)
    if training:
        ops_before = program.global_block().ops
        start = ops_before.index(first) + 1 if first is not None else 0
        append_training(tracer, program, outputs_list(output), model.parameters(), start)
    return model, model_output_shapes(output), tracer


def trace_built(model: nn.Layer, inputs: list[Input], training: bool = False) -> Traced:
    """A model built in the dynamic graph, turned into a Program by dy2static with an
    InputSpec per input, without running it: (model, output, tracer)."""
    check_arguments(model, inputs)
    signature = inspect.signature(model.forward)
    bound = signature.bind(*[item for item in inputs if item.keyword is None],
                           **{item.keyword: item for item in inputs if item.keyword})
    ordered = list(bound.arguments.values())
    if len(ordered) != len(inputs) or any(
            parameter.kind not in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
            for parameter in list(signature.parameters.values())[:len(ordered)]):
        raise NotImplementedError('dy2static takes positional inputs only')
    # An input is data, which needs no gradient, as the factory's paddle.static.data and
    # a tensor made by paddle.to_tensor; a tensor given that asks for one has one.
    specs = [paddle.static.InputSpec(list(item.shape), item.dtype,
                                     name='input' if index == 0 else f'input_{index}',
                                     stop_gradient=bool(item.value is None
                                                        or item.value.stop_gradient))
             for index, item in enumerate(ordered)]
    check_input(model, specs)
    tracer = Tracer(model, static=True)
    forward = model.__dict__.get('forward')
    originals = dict(getattr(model, '_original_funcs', {}))
    try:
        with in_mode(model, training), tracer.hooked(), cheap_tracing():
            static = paddle.jit.to_static(model, input_spec=specs, full_graph=True)
            # forward is now a StaticFunction, whose Program is traced when asked for.
            program = cast(Any, static.forward).concrete_program
    finally:
        # to_static replaced forward on the instance: the model is the user's, as it was.
        if forward is None:
            model.__dict__.pop('forward', None)
        else:   # an attribute of the instance, where the class has the method
            cast(Any, model).forward = forward
        if hasattr(model, '_original_funcs'):
            model._original_funcs.clear()
            model._original_funcs.update(originals)
    outputs = program.outputs
    output = outputs[0] if len(outputs) == 1 else list(outputs)
    tracer.order = {model: None, **tracer.order}
    tracer.record(model, [list(item.shape) for item in ordered], shapes_of(output), None)
    tracer.uncounted = tracer.charge_operators(program.main_program)
    if training:
        parameters = model.parameters()     # (asked in the dynamic graph, where they live)
        with static_mode(), paddle.static.program_guard(program.main_program):
            append_training(tracer, program.main_program, outputs_list(outputs), parameters)
    # The Values live as long as their Program: shapes, not Values, leave here.
    return model, model_output_shapes(output), tracer


def trace_eager(source: nn.Layer | Callable[[], object], inputs: list[Input]) -> Traced:
    """One ordinary forward pass in the dynamic graph: (model, output, tracer)."""
    model = build(source) if not isinstance(source, nn.Layer) else source
    check_arguments(model, inputs)
    tracer = Tracer(model, static=False)
    with evaluating(model), tracer.hooked():
        args, kwargs = eager_inputs(inputs)
        output = model(*args, **kwargs)
    return model, model_output_shapes(output), tracer


def profile_inputs(source: nn.Layer | Callable[[], object], inputs: list[Input],
                   training: bool = False) -> Profile:
    """The Profile of a model on `inputs` (a list of Input).  `source` is a built
    paddle.nn.Layer or a factory that returns one.  Any error of the model on these
    inputs is raised: FactoryError if the factory fails, NotALayerError if it returns
    something else, ShapeError if the model does not take the inputs."""
    if not isinstance(source, nn.Layer) and not callable(source):
        raise NotALayerError(f'a {type(source).__name__} is not a paddle.nn.Layer, nor a '
                             f'function that builds one')
    try:
        with quiet():
            if isinstance(source, nn.Layer):
                if not paddle.in_dynamic_mode():
                    raise NotALayerError('the model was built in the static graph; build it '
                                         'in the dynamic graph (the default)')
                traced = profile_of(inputs, *trace_built(source, inputs, training))
            else:
                with static_graph() as programs:
                    traced = profile_of(inputs, *trace_factory(source, inputs, training),
                                        programs)
        # A size the trace could not know (-1): the model read a value (dy2static
        # traces x.item() as a tensor); its real sizes are those of a real pass.
        if not unknown_sizes(traced):
            return traced
    except (FactoryError, NotALayerError, ShapeError):
        raise
    except ControlFlow:
        pass
    except Exception as error:  # noqa: BLE001 -- a model the static graph cannot trace
        if not (untraceable(error) or isinstance(source, nn.Layer)
                and '(InvalidArgument)' not in text_of(error)):
            raise
    with quiet():
        return profile_of(inputs, *trace_eager(source, inputs), eager=True)


def unknown_sizes(result: Profile) -> bool:
    """Whether a shape of the trace has a size it could not infer (-1)."""
    def unknown(shape: Any) -> bool:
        if isinstance(shape, (list, tuple)):
            return any(unknown(item) for item in shape)
        if isinstance(shape, dict):
            return any(unknown(item) for item in shape.values())
        return isinstance(shape, int) and shape < 0
    return unknown(result.output_shape) or any(
        unknown(row.input_shape) or unknown(row.output_shape) for row in result.rows)


# (Callable[..., object]: mypy cannot infer a `lambda v=v: ...` factory against Callable[[], ...].)
def profile(build_model: Callable[..., object], input_shape: Sequence[int | None]) -> Profile:
    """Build a model with `build_model()` and pass it one float32 input of `input_shape`
    (None for the batch means 1).  Returns a Profile whose rows are the layers
    paddle.summary would show, in its order; errors as profile_inputs."""
    shape = [1 if size is None else size for size in input_shape]
    return profile_inputs(build_model, [Input(shape)])


def profile_of(inputs: list[Input], model: nn.Layer, output_shape: list[Any] | dict[Any, Any],
               tracer: Tracer, programs: tuple[Any, ...] = (), eager: bool = False) -> Profile:
    """The Profile of a traced model: one row per name paddle.summary would print."""
    rows: dict[str, LayerRow] = {}
    calls = tracer.calls
    # paddle.summary keeps one row per name, where the layer first finished, with the
    # shapes of its last call.
    for layer in (layer for layer in calls if shown_by_summary(layer, model)):
        layer_inputs, out, macs, count = calls[layer]
        params, trainable_params, names, frozen = own_parameters(layer)
        name = summary_name(layer)
        first = layer_inputs[0] if layer_inputs else None
        rows[name] = LayerRow(
            name=name, layer=layer, input_shape=layer_inputs,
            output_shape=out, params=params, trainable_params=trainable_params,
            trainable=names, frozen=frozen, macs=macs,
            formula=size_formula(layer, first, out) if first is not None else None,
            calls=count)
    # A layer whose call raised an error the model caught has no shapes to show.
    order = [layer for layer in tracer.order if layer in calls]
    return Profile(model, list(inputs[0].shape) if inputs else [], list(rows.values()),
                   output_shape, order, {layer: calls[layer] for layer in order},
                   programs, list(inputs), eager, tracer.uncounted, tracer.training,
                   tracer.training_failure)


# --- the arithmetic of output sizes -------------------------------------------------

def pair(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value, value]


def window_formula(size: int, kernel: int, stride: int, padding: int, dilation: int = 1,
                   ceil_mode: bool = False) -> tuple[str, int]:
    """(text, value) of the output size of a sliding window along one side."""
    # A dilated kernel reaches over dilation*(kernel - 1) + 1 positions.
    reach = f'{kernel}' if dilation == 1 else f'{dilation}*({kernel} - 1) - 1'
    span = size + 2 * padding - (dilation * (kernel - 1) + 1)
    if ceil_mode:
        return f'ceil(({size} + 2*{padding} - {reach}) / {stride}) + 1', -(-span // stride) + 1
    return f'({size} + 2*{padding} - {reach}) // {stride} + 1', span // stride + 1


def size_formula(layer: nn.Layer, in_shape: Sequence[Any], out_shape: Sequence[Any]) -> str | None:
    """The output size of a conv or pooling layer worked out from its own kernel,
    stride and padding, e.g. '(224 + 2*3 - 7) // 2 + 1 = 112'.  Raises AssertionError
    if the result is not the size Paddle produced."""
    if not all(len(shape) == 4 and all(isinstance(size, int) for size in shape)
               for shape in (in_shape, out_shape)):
        return None     # not one feature map in and one out
    axes = map_axes(layer)
    sides = [in_shape[axis] for axis in axes], [out_shape[axis] for axis in axes]
    if min(sides[0] + sides[1]) < 0:
        return None     # a side the trace could not infer (-1): no arithmetic to show
    if isinstance(layer, (nn.AdaptiveAvgPool2D, nn.AdaptiveMaxPool2D)):
        wanted = [sides[0][i] if size is None else size
                  for i, size in enumerate(pair(layer._output_size))]
        check(layer, wanted, sides[1])
        return f'adaptive: {sides[0][0]}x{sides[0][1]} -> {wanted[0]}x{wanted[1]}'
    if isinstance(layer, nn.Conv2D):
        window = dict(kernel=layer._kernel_size, stride=layer._stride,
                      padding=layer._padding, dilation=layer._dilation, ceil_mode=[False] * 2)
    elif isinstance(layer, (nn.MaxPool2D, nn.AvgPool2D)):
        stride = layer.ksize if layer.stride is None else layer.stride
        window = dict(kernel=layer.ksize, stride=stride, padding=layer.padding,
                      dilation=1, ceil_mode=[layer.ceil_mode] * 2)
    else:
        return None
    if isinstance(window['padding'], str) or len(pair(window['padding'])) != 2:
        return None     # 'SAME' / 'VALID' or uneven padding: not the textbook formula
    window = {key: pair(value) for key, value in window.items()}
    texts, values = zip(*(window_formula(sides[0][i], **{k: v[i] for k, v in window.items()})
                          for i in range(2)))
    if min(values) < 1:
        side = 0 if values[0] < 1 else 1
        raise ShapeError(f'{summary_name(layer)} would make a map below 1x1 of its '
                         f'{sides[0][0]}x{sides[0][1]} input: '
                         f'{texts[side]} = {values[side]}')
    check(layer, list(values), sides[1])
    if texts[0] == texts[1]:
        return f'{texts[0]} = {values[0]}'
    return f'H: {texts[0]} = {values[0]}; W: {texts[1]} = {values[1]}'


def check(layer: nn.Layer, computed: Sequence[int], produced: Sequence[int]) -> None:
    if list(computed) != list(produced):
        raise AssertionError(f'{summary_name(layer)}: the formula gives {computed}, '
                             f'Paddle produced {produced}')
