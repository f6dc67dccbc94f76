"""One row per layer of any paddle.nn.Layer, from one pass over an input shape.

This module knows nothing of ResNet.  `profile(build_model, input_shape)` builds a
model in a fresh name scope (so that its layer names start at 1, as paddle.summary's
do) and returns the rows paddle.summary would print -- same names, same order, same
shapes and parameter counts -- with the multiply-adds of paddleinfo.macs, which of
each layer's tensors are trainable, and the arithmetic of every conv and pool
output size.

Shapes, parameter counts and MACs do not depend on the parameter values, so the pass
runs under Paddle's static graph: calling a layer there appends its operator to a
Program and infers the output shape, and no kernel runs.  The Program's startup part,
which would initialise the parameters, never runs either.  A model that cannot be
traced that way (one that reads tensor values in its forward pass, say) is run once
in the ordinary dynamic graph instead, with the same rows as the result.
"""
import contextlib
import math
import traceback
from dataclasses import dataclass, field

import paddle
import paddle.nn.layer.layers as paddle_layers
from paddle import nn

from paddleinfo.macs import CONVS, TRANSPOSED_CONVS, evaluating, layer_macs


@dataclass
class LayerRow:
    name: str                # paddle.summary's name, e.g. 'Conv2D-1'
    layer: nn.Layer
    input_shape: list        # paddle.summary's: one shape per input
    output_shape: list       # one shape, or a list of shapes for several outputs
    params: int
    trainable_params: int
    trainable: list          # names of the layer's own trainable tensors ...
    frozen: list             # ... and of the others (BatchNorm's running statistics)
    macs: int | None         # None: a layer the MACs convention does not count
    formula: str | None      # how the output size follows from the input size
    calls: int = 1


@dataclass
class Profile:
    model: nn.Layer
    input_shape: list
    rows: list               # one per layer paddle.summary shows, in its order
    output_shape: list
    order: list = field(default_factory=list)   # every layer called, in order of first call
    calls: dict = field(default_factory=dict)   # {layer: (input shapes, output shape, MACs)}
    # The static graph the model was traced in: its parameters live there.
    programs: tuple = ()

    @property
    def params(self):
        return sum(row.params for row in self.rows)

    @property
    def trainable_params(self):
        return sum(row.trainable_params for row in self.rows)

    @property
    def macs(self):
        return sum(row.macs or 0 for row in self.rows)


def summary_name(layer):
    """The name paddle.summary gives `layer`: its class and the counter of its unique name."""
    class_name = str(layer.__class__).split('.')[-1].split("'")[0]
    return f'{class_name}-{int(layer.full_name().split("_")[-1]) + 1}'


def shown_by_summary(layer, model):
    # paddle.summary leaves out containers and the model itself (unless it has no sublayers).
    return not isinstance(layer, (nn.Sequential, nn.LayerList)) and (
        layer is not model or not model.sublayers())


def shapes_of(value):
    """paddle.summary's shape of an output: a list, or a list of lists for several."""
    if isinstance(value, (list, tuple)):
        return [shapes_of(item) for item in value]
    return list(value.shape) if hasattr(value, 'shape') else []


def own_parameters(layer):
    """(params, trainable params, trainable names, other names) of the layer's own tensors,
    as paddle.summary counts them: trainable means trainable and not stop_gradient."""
    own = [(name, p) for name, p in layer._parameters.items() if p is not None]
    trainable = [name for name, p in own if p.trainable and not p.stop_gradient]
    return (sum(math.prod(p.shape) for _, p in own),
            sum(math.prod(p.shape) for name, p in own if name in trainable),
            trainable, [name for name, _ in own if name not in trainable])


def _no_stack(*args, **kwargs):
    return traceback.StackSummary()


@contextlib.contextmanager
def _no_struct(prefix=None):
    yield


@contextlib.contextmanager
def static_graph():
    """Paddle's static graph on a fresh Program, and back to the dynamic graph after.

    Two pieces of bookkeeping that only matter for a Program that is compiled and
    run are switched off while inside, because they cost more than the shape
    inference itself: every operator records the Python stack it was created from
    (for error messages at run time), and every layer call walks all operators of
    the Program so far to label the new ones (for auto-parallel), which makes a
    deep network quadratic.
    """
    was_dynamic = paddle.in_dynamic_mode()
    saved = traceback.extract_stack, paddle_layers.name_struct
    paddle.enable_static()
    traceback.extract_stack, paddle_layers.name_struct = _no_stack, _no_struct
    programs = paddle.static.Program(), paddle.static.Program()
    try:
        with paddle.static.program_guard(*programs):
            yield programs
    finally:
        traceback.extract_stack, paddle_layers.name_struct = saved
        if was_dynamic:
            paddle.disable_static()


class NotALayerError(TypeError):
    """What build_model() returned is not a paddle.nn.Layer."""


class ShapeError(ValueError):
    """The model does not take the input: a layer gets the wrong number of channels or
    features, or would make a map of no pixels."""


class FactoryError(RuntimeError):
    """build_model() itself raised, before any input was given."""


def first_line(error):
    """The first non-blank line of an error's message (or its class name)."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def build(build_model):
    """build_model() in a fresh name scope, checked to be a paddle.nn.Layer."""
    with paddle.utils.unique_name.guard():
        try:
            model = build_model()
        except Exception as error:  # noqa: BLE001 -- any error of the factory is its own
            raise FactoryError(f'{type(error).__name__}: {first_line(error)}') from error
    if not isinstance(model, nn.Layer):
        raise NotALayerError(f'it returned a {type(model).__name__}, not a paddle.nn.Layer')
    return model


# The input's layout of each data_format: where the channels are.
CHANNELS_LAST = ('NLC', 'NHWC', 'NDHWC')
NORMS = (nn.BatchNorm, nn.BatchNorm1D, nn.BatchNorm2D, nn.BatchNorm3D, nn.SyncBatchNorm)


def expected_input(layer):
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
    return None


def check_input(layer, inputs):
    """Raise ShapeError if `layer` cannot take `inputs`, as the dynamic graph would."""
    wanted = expected_input(layer)
    if wanted is None or not inputs or not hasattr(inputs[0], 'shape'):
        return
    what, axis, size = wanted
    shape = list(inputs[0].shape)
    if len(shape) < 2 or shape[axis] < 0:   # -1: a size the static graph does not know
        return
    if shape[axis] != size:
        raise ShapeError(f'{summary_name(layer)} takes {size:,} {what}, not {shape[axis]:,} '
                         f'(its input is {shape})')


def check_map(layer, inputs, output):
    """Raise ShapeError if `layer` made a feature map with a side below 1, naming the
    sizes it had and would make (the static graph writes -1 for such a size)."""
    out_shape, in_shape = shapes_of(output), shapes_of(inputs[0]) if inputs else []
    if not (len(out_shape) == 4 and all(isinstance(side, int) for side in out_shape)
            and min(out_shape[-2:]) < 1):
        return
    name = summary_name(layer)
    if len(in_shape) != 4 or min(in_shape[-2:]) < 1:
        raise ShapeError(f'the map has shrunk below 1x1 by the time it reaches {name}')
    # A conv or pool: the sizes from its own kernel, stride and padding.
    size_formula(layer, in_shape, [*out_shape[:2], 1, 1])
    raise ShapeError(f'{name} would make a map below 1x1 of its '
                     f'{in_shape[-2]}x{in_shape[-1]} input')


def untraceable(error):
    """Whether `error`, raised while tracing in the static graph, says that the model
    reads a tensor's value (float(x), `if x > 0`, x.numpy()), which has no answer there:
    Paddle raises a TypeError or an AssertionError that names the static or dynamic
    graph for it.  Any other error (Paddle's shape inference refusing an operator's
    inputs, the model's own) the dynamic graph would raise as well, so the model is
    not run a second time for it."""
    if '(InvalidArgument)' in str(error):
        return False
    return (isinstance(error, (TypeError, AssertionError, NotImplementedError))
            or 'static' in str(error) or 'dynamic graph' in str(error))


def trace(build_model, shape, static=True):
    """Build the model and pass it an input of `shape`; returns (model, output, order,
    calls): `order` lists the layers called, in the order their first calls began;
    `calls` holds, in the order their first calls finished, each layer's last (input
    shapes, output shape), its MACs summed over its calls and the number of calls."""
    model = build(build_model)
    order, calls = {}, {}

    def before(layer, inputs):
        check_input(layer, inputs)
        order.setdefault(layer, None)

    def after(layer, inputs, output):
        check_map(layer, inputs, output)
        macs = layer_macs(layer, output, inputs)
        count = 1
        if layer in calls:
            _, _, previous, count = calls[layer]
            macs = None if macs is None and previous is None else (macs or 0) + (previous or 0)
            count += 1
        calls[layer] = ([shapes_of(x) for x in inputs], shapes_of(output), macs, count)

    handles = []
    for layer in model.sublayers(include_self=True):
        handles += [layer.register_forward_pre_hook(before),
                    layer.register_forward_post_hook(after)]
    try:
        with evaluating(model):
            if static:
                output = model(paddle.static.data('input', shape, 'float32'))
            else:
                output = model(paddle.zeros(shape, dtype='float32'))
    finally:
        for handle in handles:
            handle.remove()
    return model, output, list(order), calls


def profile(build_model, input_shape):
    """Build a model with `build_model()` and pass it an input of `input_shape` (None
    for the batch means 1).  Returns a Profile whose rows are the layers paddle.summary
    would show, in its order.  Any error of the model on that input is raised: FactoryError
    if build_model() fails, NotALayerError if it returns something else, ShapeError if
    the model does not take the input."""
    shape = [1 if size is None else size for size in input_shape]
    try:
        with static_graph() as programs:
            return tabulate(shape, *trace(build_model, shape), programs)
    except (FactoryError, NotALayerError, ShapeError):
        raise
    except Exception as error:  # noqa: BLE001 -- a model the static graph cannot trace
        if not untraceable(error):
            raise
        return tabulate(shape, *trace(build_model, shape, static=False))


def tabulate(shape, model, output, order, calls, programs=()):
    """The Profile of a traced model: one row per name paddle.summary would print."""
    rows = {}
    # paddle.summary keeps one row per name, where the layer first finished, with the
    # shapes of its last call.
    for layer in (layer for layer in calls if shown_by_summary(layer, model)):
        inputs, out, macs, count = calls[layer]
        params, trainable_params, trainable, frozen = own_parameters(layer)
        name = summary_name(layer)
        rows[name] = LayerRow(
            name=name, layer=layer, input_shape=inputs,
            output_shape=out, params=params, trainable_params=trainable_params,
            trainable=trainable, frozen=frozen, macs=macs,
            formula=size_formula(layer, inputs[0], out) if inputs else None, calls=count)
    # A layer whose call raised an error the model caught has no shapes to show.
    order = [layer for layer in order if layer in calls]
    return Profile(model, shape, list(rows.values()), shapes_of(output), order,
                   {layer: calls[layer] for layer in order}, programs)


# --- the arithmetic of output sizes -------------------------------------------------

def pair(value):
    return list(value) if isinstance(value, (list, tuple)) else [value, value]


def window_formula(size, kernel, stride, padding, dilation=1, ceil_mode=False):
    """(text, value) of the output size of a sliding window along one side."""
    # A dilated kernel reaches over dilation*(kernel - 1) + 1 positions.
    reach = f'{kernel}' if dilation == 1 else f'{dilation}*({kernel} - 1) - 1'
    span = size + 2 * padding - (dilation * (kernel - 1) + 1)
    if ceil_mode:
        return f'ceil(({size} + 2*{padding} - {reach}) / {stride}) + 1', -(-span // stride) + 1
    return f'({size} + 2*{padding} - {reach}) // {stride} + 1', span // stride + 1


def size_formula(layer, in_shape, out_shape):
    """The output size of a conv or pooling layer worked out from its own kernel,
    stride and padding, e.g. '(224 + 2*3 - 7) // 2 + 1 = 112'.  Raises AssertionError
    if the result is not the size Paddle produced."""
    if not all(len(shape) == 4 and all(isinstance(size, int) for size in shape)
               for shape in (in_shape, out_shape)):
        return None     # not one feature map in and one out
    sides = list(in_shape[-2:]), list(out_shape[-2:])
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


def check(layer, computed, produced):
    if list(computed) != list(produced):
        raise AssertionError(f'{summary_name(layer)}: the formula gives {computed}, '
                             f'Paddle produced {produced}')
