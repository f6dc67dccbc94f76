"""The two residual blocks of ResNet (He et al., 2015, Figure 5).

A block computes relu(F(x) + shortcut(x)).  F is a short stack of conv + BN
layers.  The shortcut is the identity where x already has the shape of F(x);
where the block changes the size of the feature map or its number of channels,
the paper's Section 3.3 offers three ways to make x fit (Table 3 compares them):
  'A'  subsample x and pad the new channels with zeros: no parameters;
  'B'  a 1x1 conv + BN projection, only where the shape changes (the default,
       as in the article and Paddle);
  'C'  a projection in every block.
'none' drops the shortcut: the block is then a layer of the paper's plain
network, relu(F(x)), the baseline of Figures 1, 4 and 6.
"""
import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

with warnings.catch_warnings():
    # Paddle warns at import when ccache, a compiler cache for C++ extensions, is missing.
    warnings.filterwarnings('ignore', message='No ccache found')
    import paddle
from paddle import Tensor, nn

SHORTCUTS = ('A', 'B', 'C', 'none')


@contextlib.contextmanager
def quiet_batch_norm() -> Iterator[None]:
    """No warning from Paddle's BatchNorm at its first training-mode call, that it "now
    always tracks global mean and variance": news from Paddle 2.0, not about this network."""
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', message='When training, we now always track')
        yield


class QuietBatchNorm(nn.Layer):
    """A layer whose calls run under quiet_batch_norm.  (__call__, not forward: paddle.jit
    turns forward into a program, where the warnings module has no place.)"""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with quiet_batch_norm():
            return super().__call__(*args, **kwargs)


def conv_bn(in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, groups: int = 1,
            relu: bool = True) -> nn.Sequential:
    """Conv, then BN, then (optionally) ReLU: one step of the residual path F."""
    layers: list[nn.Layer] = [
        # No conv bias: the BN that follows subtracts the mean, which would cancel it.
        nn.Conv2D(in_channels, out_channels, kernel_size, stride=stride,
                  padding=kernel_size // 2, groups=groups, bias_attr=False),
        nn.BatchNorm2D(out_channels),
    ]
    if relu:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class ZeroPadShortcut(nn.Layer):
    """Option A: the identity, made to fit.  Keeping every stride-th pixel halves
    the map as the strided conv of F does, and the channels F adds start at zero."""

    def __init__(self, input_channels: int, output_channels: int, stride: int) -> None:
        super().__init__()
        if output_channels < input_channels:
            raise ValueError(f'option A pads channels, it cannot drop them: '
                             f'{input_channels} -> {output_channels}')
        self.added_channels, self.stride = output_channels - input_channels, stride

    def forward(self, x: Tensor) -> Tensor:
        x = x[:, :, ::self.stride, ::self.stride]
        # Zeros appended, not F.pad: Paddle Inference's oneDNN pad kernel crashes on a
        # channel pad (Paddle 3.3), and export.py deploys these networks.
        batch, _, height, width = paddle.shape(x)
        zeros = paddle.zeros([batch, self.added_channels, height, width], dtype=x.dtype)
        return paddle.concat([x, zeros], axis=1)


def check_shortcut(kind: str) -> None:
    if kind not in SHORTCUTS:
        raise ValueError(f'shortcut must be one of {list(SHORTCUTS)}, not {kind!r}')


def make_shortcut(kind: str, input_channels: int, output_channels: int, stride: int) -> nn.Layer | None:
    """The layer that turns x into the shape of F(x), or None for the identity."""
    check_shortcut(kind)
    fits = stride == 1 and input_channels == output_channels
    if kind == 'none' or (fits and kind != 'C'):
        return None
    if kind == 'A':
        return ZeroPadShortcut(input_channels, output_channels, stride)
    return conv_bn(input_channels, output_channels, 1, stride, relu=False)


class ResidualBlock(QuietBatchNorm, nn.Layer):
    """What both blocks share: relu(F(x) + shortcut(x)), or relu(F(x)) in a plain net."""

    def add_shortcut(self, shortcut: str, input_channels: int, output_channels: int, stride: int) -> None:
        # Called once F is built: Paddle numbers layers in the order they are made,
        # and the article's tables number F's convs before the projection.
        self.residual = shortcut != 'none'
        self.down_sample_block = make_shortcut(shortcut, input_channels, output_channels, stride)
        # The ReLU comes after the addition, so it is not part of F.
        self.relu_out = nn.ReLU()

    def forward(self, inputs: Tensor) -> Tensor:
        x = self.residual_path(inputs)
        if self.residual:
            x = x + (inputs if self.down_sample_block is None else self.down_sample_block(inputs))
        return self.relu_out(x)


class BasicBlock(ResidualBlock):
    """Figure 5, left: two 3x3 convs.  ResNet-18 and ResNet-34 stack this block,
    and so do the CIFAR-10 networks of Section 4.2.

    The first conv carries the stride, so a stride of 2 halves the feature map.
    """

    def __init__(self, input_channels: int, output_channels: int, stride: int = 1,
                 shortcut: str = 'B') -> None:
        super().__init__()
        self.conv_bn_block1 = conv_bn(input_channels, output_channels, 3, stride)
        self.conv_bn_block2 = conv_bn(output_channels, output_channels, 3, relu=False)
        self.add_shortcut(shortcut, input_channels, output_channels, stride)

    def residual_path(self, x: Tensor) -> Tensor:
        return self.conv_bn_block2(self.conv_bn_block1(x))


class BottleneckBlock(ResidualBlock):
    """Figure 5, right: 1x1 down to a narrow width, 3x3 at that width, 1x1 back up.

    ResNet-50, -101 and -152 stack this block.  The narrow width is a quarter of
    output_channels, which keeps the 3x3 conv cheap on wide feature maps.
    ResNeXt splits the 3x3 conv into `groups` groups of `width_per_group` channels
    for every 64 narrow channels; Wide ResNet raises `width_per_group`.

    `stride_on` says which conv halves the feature map: '3x3' as in the article and
    Paddle (ResNet v1.5), or '1x1', the first conv, as in the paper (v1).
    """

    def __init__(self, input_channels: int, output_channels: int, stride: int = 1,
                 groups: int = 1, width_per_group: int = 64, stride_on: str = '3x3',
                 shortcut: str = 'B') -> None:
        super().__init__()
        width = output_channels // 4 * width_per_group // 64 * groups
        stride_1x1, stride_3x3 = (stride, 1) if stride_on == '1x1' else (1, stride)
        self.conv_bn_block1 = conv_bn(input_channels, width, 1, stride_1x1)
        self.conv_bn_block2 = conv_bn(width, width, 3, stride_3x3, groups=groups)
        self.conv_bn_block3 = conv_bn(width, output_channels, 1, relu=False)
        self.add_shortcut(shortcut, input_channels, output_channels, stride)

    def residual_path(self, x: Tensor) -> Tensor:
        return self.conv_bn_block3(self.conv_bn_block2(self.conv_bn_block1(x)))
