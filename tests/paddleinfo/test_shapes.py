"""Maps of channels-last data (data_format='NHWC') and sizes the trace cannot infer (-1):
the output-size arithmetic reads the right axes, and a -1 is a size to find out, not a
map below 1x1."""
import paddle
import paddle.nn.functional as F
import pytest
from paddle import nn

from paddleinfo import ShapeError, summary


def channels_last():
    return nn.Sequential(nn.Conv2D(3, 8, 3, stride=2, data_format='NHWC'),
                         nn.MaxPool2D(2, data_format='NHWC'))


def test_channels_last_maps_have_their_arithmetic_on_height_and_width():
    result = summary(channels_last, (1, 16, 20, 3), verbose=0)
    conv, pool = result.rows
    # height 16, width 20: (16 - 3) // 2 + 1 = 7 and (20 - 3) // 2 + 1 = 9
    assert conv.output_shape == [1, 7, 9, 8]
    assert conv.formula == 'H: (16 + 2*0 - 3) // 2 + 1 = 7; W: (20 + 2*0 - 3) // 2 + 1 = 9'
    assert pool.formula == 'H: (7 + 2*0 - 2) // 2 + 1 = 3; W: (9 + 2*0 - 2) // 2 + 1 = 4'
    assert result.macs == 7 * 9 * 8 * 3 * 3 * 3


def test_a_channels_last_map_that_shrinks_below_1x1_is_named():
    with pytest.raises(ShapeError, match=r'Conv2D-1 would make a map below 1x1 of its 2x2 '
                                         r'input: \(2 \+ 2\*0 - 3\) // 2 \+ 1 = 0'):
        summary(channels_last, (1, 2, 2, 3), verbose=0)


class ResizedByATensor(nn.Layer):
    """Its map's size is a tensor's value: the trace writes -1 for it."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2D(3, 4, 3)

    def forward(self, x):
        return self.conv(F.interpolate(x, size=paddle.shape(x)[2:] * 2))


def test_a_size_the_trace_cannot_infer_is_found_out_not_refused():
    result = summary(ResizedByATensor, (1, 3, 16, 16), verbose=0)
    conv, = result.rows
    # The real pass: 32 x 32 in, 30 x 30 out, 3 x 3 x 3 multiply-adds for each of the
    # 4 x 30 x 30 outputs.
    assert (conv.input_shape, conv.output_shape) == ([[1, 3, 32, 32]], [1, 4, 30, 30])
    assert result.macs == 4 * 30 * 30 * 27
