"""The arithmetic of a conv's or pool's output size, shown beside its row and checked
against the size Paddle produced: '(224 + 2*3 - 7) // 2 + 1 = 112'."""
from collections.abc import Sequence
from typing import Any

from paddle import nn

from paddleinfo.errors import ShapeError
from paddleinfo.naming import summary_name

# The input's layout of each data_format: where the channels are.
CHANNELS_LAST = ('NLC', 'NHWC', 'NDHWC')


def map_axes(layer: nn.Layer) -> tuple[int, int]:
    """The axes of a 4-D map's height and width: 1 and 2 for a layer of channels-last data
    (data_format='NHWC'), else 2 and 3."""
    layout = getattr(layer, '_data_format', getattr(layer, 'data_format', 'NCHW'))
    return (1, 2) if layout in CHANNELS_LAST else (2, 3)


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


# The layers whose output size has a formula here.
FORMULA_KINDS = (nn.AdaptiveAvgPool2D, nn.AdaptiveMaxPool2D, nn.Conv2D, nn.MaxPool2D, nn.AvgPool2D)


def size_formula(layer: nn.Layer, in_shape: Sequence[Any], out_shape: Sequence[Any]) -> str | None:
    """The output size of a conv or pooling layer worked out from its own kernel,
    stride and padding, e.g. '(224 + 2*3 - 7) // 2 + 1 = 112'.  Raises AssertionError
    if the result is not the size Paddle produced."""
    if not isinstance(layer, FORMULA_KINDS) or not all(
            len(shape) == 4 and all(isinstance(size, int) for size in shape)
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
