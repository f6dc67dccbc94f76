"""What a layer takes, checked before the trace trusts it: the static graph infers shapes
without comparing a conv's input channels with its own (the dynamic graph does, when
the kernel runs), so a wrong input would pass.  Each check raises a ShapeError naming
the layer, what it got and what it takes."""
import inspect
from collections.abc import Sequence
from typing import Any

from paddle import nn

from paddleinfo.errors import ShapeError
from paddleinfo.formulas import CHANNELS_LAST, map_axes, size_formula
from paddleinfo.macs import CONVS, RNNS, TRANSPOSED_CONVS
from paddleinfo.memory import dtype_name
from paddleinfo.naming import summary_name
from paddleinfo.result import Input, arranged, shapes_of


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


# The layers check_input has something to check of.
CHECKED = (nn.Embedding, nn.Linear, nn.MultiHeadAttention, *NORMS, *RNNS, *CONVS,
           *TRANSPOSED_CONVS)


def check_input(layer: nn.Layer, inputs: Sequence[Any]) -> None:
    """Raise ShapeError if `layer` cannot take `inputs` (rank, dtype or size), naming
    the layer, what it got and what it takes; the dynamic graph would refuse them too,
    and the static graph does not always."""
    if not inputs or not hasattr(inputs[0], 'shape') or not isinstance(layer, CHECKED):
        return      # (the hook runs on every call of every layer: the common case is fast)
    shape, dtype = list(inputs[0].shape), dtype_name(inputs[0].dtype)
    if isinstance(layer, nn.Embedding):
        if dtype not in INTEGERS:
            raise ShapeError(f'{summary_name(layer)} takes integer token ids (int64 or int32), '
                             f'not {dtype} (its input is {shape}); give the input dtype int64')
        return
    wanted, rank = expected_input(layer), conv_rank(layer)
    if dtype not in ('float16', 'bfloat16', 'float32', 'float64') and (wanted or rank):
        raise ShapeError(f'{summary_name(layer)} takes a floating-point input, not {dtype} '
                         f'(its input is {shape})')
    if rank and len(shape) != rank:
        raise ShapeError(f'{summary_name(layer)} takes a {rank}-D input '
                         f'[batch, channels, {SPATIAL[rank]}], not {len(shape)}-D {shape}')
    if isinstance(layer, RNNS) and len(shape) != 3:
        order = 'time, batch' if layer.time_major else 'batch, time'
        raise ShapeError(f'{summary_name(layer)} takes a 3-D input '
                         f'[{order}, {layer.input_size} features], not {len(shape)}-D {shape}')
    if wanted is None:
        return
    what, axis, size = wanted
    if len(shape) < (1 if isinstance(layer, nn.Linear) else 2) or shape[axis] < 0:
        return      # -1: a size the static graph does not know
    if shape[axis] != size:
        raise ShapeError(f'{summary_name(layer)} takes {size:,} {what}, not {shape[axis]:,} '
                         f'(its input is {shape})')


def check_map(layer: nn.Layer, inputs: Sequence[Any], out_shape: list[Any]) -> None:
    """Raise ShapeError if `layer` made a feature map with a side below 1, naming the
    sizes it had and would make (the static graph writes -1 for such a size).
    `out_shape` is shapes_of() its output."""
    if len(out_shape) not in (3, 4, 5) or all(isinstance(size, int) and size > 0
                                              for size in out_shape):
        return      # (the hook runs on every call of every layer: the common case is fast)
    in_shape = shapes_of(inputs[0]) if inputs else []
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


def check_arguments(model: nn.Layer, inputs: list[Input]) -> None:
    """Raise ShapeError if forward() does not take these inputs: one missing, one too
    many, a keyword it has not."""
    try:
        signature = inspect.signature(model.forward)
    except (TypeError, ValueError):
        return
    positional, keywords = arranged(inputs, inputs)
    try:
        signature.bind(*positional, **keywords)
    except TypeError as error:
        takes = ', '.join(str(parameter) for parameter in signature.parameters.values())
        given = [f'{item.keyword}=' * bool(item.keyword) + str(list(item.shape))
                 for item in inputs]
        raise ShapeError(f'{type(model).__name__}.forward({takes}) cannot take the inputs '
                         f'{", ".join(given) or "(none)"}: {error}') from None
