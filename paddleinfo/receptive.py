"""The receptive field of every layer on the model's input, as torch-scan gives it: how
many input pixels along each axis one output value sees, and the effective stride (the
jump: how far apart on the input two neighbouring output values are).

It is worked out from the layers in the order the forward pass calls them, from what the
trace recorded (no second pass): a conv or pool of kernel k, stride s and dilation d
turns (rf, jump) into (rf + d (k - 1) jump, jump s); an adaptive pool is a pool whose
kernel and stride cover the input; every other layer passes its input's on.  A layer's
input is matched to what came before by its shape: the largest receptive field among
the outputs of that shape so far (the model's inputs start at 1, jump 1).  So where two
branches meet (a residual block's sum), the largest is taken, as the question asks of a
branch.  By hand, ResNet-50: conv1 (7, s2) 7, jump 2; the max pool (3, s2) 7 + 2 x 2 = 11,
jump 4; each 3x3 conv adds 2 x jump: conv2_x 11 + 3 x 8 = 35; conv3_x 35 + 8 + 3 x 16 =
91; conv4_x 91 + 16 + 5 x 32 = 267; conv5_x 267 + 32 + 2 x 64 = 427, jump 32.
"""
import math
from typing import Any

from paddle import nn

from paddleinfo.macs import CONVS

__all__ = ['Field', 'geometry', 'kernel_text', 'receptive_fields']

# (receptive field, jump), one of each per spatial axis.
Field = tuple[tuple[int, ...], tuple[int, ...]]

POOLS = tuple(getattr(nn, name) for name in ('MaxPool1D', 'MaxPool2D', 'MaxPool3D', 'AvgPool1D',
                                             'AvgPool2D', 'AvgPool3D', 'LPPool1D', 'LPPool2D')
              if hasattr(nn, name))
ADAPTIVE = tuple(getattr(nn, name) for name in (
    'AdaptiveAvgPool1D', 'AdaptiveAvgPool2D', 'AdaptiveAvgPool3D', 'AdaptiveMaxPool1D',
    'AdaptiveMaxPool2D', 'AdaptiveMaxPool3D') if hasattr(nn, name))
RANKS = {'1D': 1, '2D': 2, '3D': 3}


def axes(value: Any, rank: int) -> tuple[int, ...]:
    """An int or a list of ints as one per axis."""
    if isinstance(value, (list, tuple)):
        return tuple(int(item) for item in value)
    return (int(value),) * rank


def rank_of(layer: nn.Layer) -> int:
    return RANKS.get(type(layer).__name__[-2:], 2)


def geometry(layer: nn.Layer, input_shape: Any = None
             ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]] | None:
    """(kernel, stride, dilation) per axis of a conv or pool (an adaptive pool's from its
    input's size), or None for a layer that looks at one position at a time."""
    if isinstance(layer, CONVS):
        return (tuple(layer._kernel_size), tuple(layer._stride), tuple(layer._dilation))
    if isinstance(layer, POOLS):
        rank = rank_of(layer)
        kernel = axes(getattr(layer, 'ksize', None) or getattr(layer, 'kernel_size', 1), rank)
        stride = getattr(layer, 'stride', None)
        return kernel, kernel if stride is None else axes(stride, rank), (1,) * rank
    if isinstance(layer, ADAPTIVE) and input_shape is not None:
        rank = rank_of(layer)
        size = [int(item) for item in list(input_shape)[-rank:]]
        out = getattr(layer, '_output_size', None)
        wanted = [size[i] if item is None else int(item)
                  for i, item in enumerate(axes(out if out is not None else 1, rank))]
        # Paddle's adaptive windows: start floor(i * in / out), end ceil((i + 1) * in / out).
        kernel = tuple(math.ceil(s / o) for s, o in zip(size, wanted))
        stride = tuple(max(s // o, 1) for s, o in zip(size, wanted))
        return kernel, stride, (1,) * rank
    return None


def kernel_text(layer: nn.Layer) -> str:
    """'3x3' for a conv's or pool's kernel, '' for any other layer."""
    found = geometry(layer) if not isinstance(layer, ADAPTIVE) else None
    return 'x'.join(map(str, found[0])) if found else ''


def first_shape(shapes: Any) -> list[int] | None:
    """The first shape in a layer's input or output (a shape, or a list of them)."""
    if isinstance(shapes, list) and shapes and all(isinstance(item, int) for item in shapes):
        return shapes
    if isinstance(shapes, (list, tuple)):
        for item in shapes:
            found = first_shape(item)
            if found is not None:
                return found
    return None


def receptive_fields(result: Any) -> dict[nn.Layer, Field]:
    """{layer: (receptive field, jump) of its output} for every layer the forward pass
    called without sublayers (a Profile's order and shapes), or {} where the model has
    no conv or pool (a receptive field on tokens or features says nothing)."""
    leaves = [layer for layer in result.order
              if layer in result.calls and (not layer.sublayers() or geometry(layer))]
    if not any(geometry(layer, first_shape(result.calls[layer][0])) for layer in leaves):
        return {}
    spatial = max(len(shape) - 2 for shape in result.input_shapes) if result.input_shapes else 2
    spatial = max(spatial, 1)
    start: Field = ((1,) * spatial, (1,) * spatial)
    # {shape: the largest field among the values of that shape so far}
    seen: dict[tuple[int, ...], Field] = {tuple(shape): start for shape in result.input_shapes}
    fields: dict[nn.Layer, Field] = {}
    for layer in leaves:
        inputs, output, _, _ = result.calls[layer]
        shape = first_shape(inputs)
        field = seen.get(tuple(shape)) if shape is not None else None
        if field is None:       # a shape made by a function between layers: the largest so far
            field = max(seen.values(), key=lambda item: (math.prod(item[0]), item[1]))
        found = geometry(layer, shape)
        if found is not None:
            kernel, stride, dilation = found
            rf, jump = field
            count = min(len(kernel), len(rf))
            rf = tuple(rf[i] + dilation[i] * (kernel[i] - 1) * jump[i] for i in range(count))
            jump = tuple(jump[i] * stride[i] for i in range(count))
            field = (rf, jump)
        fields[layer] = field
        out = first_shape(output)
        if out is not None:
            key = tuple(out)
            if key not in seen or math.prod(seen[key][0]) <= math.prod(field[0]):
                seen[key] = field
    return fields


def field_text(values: tuple[int, ...]) -> str:
    """'427' where every axis has the same, '7x3' where they differ."""
    return str(values[0]) if len(set(values)) == 1 else 'x'.join(map(str, values))
