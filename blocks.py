"""The two residual blocks of ResNet (He et al., 2015, Figure 5).

A block computes relu(F(x) + shortcut(x)).  F is a short stack of conv + BN
layers; the shortcut is the identity, unless the block changes the size of the
feature map or its number of channels.  Then the input has to be reshaped to
match F(x), and a 1x1 conv + BN does that (option B of the paper).
"""
from paddle import nn


def conv_bn(in_channels, out_channels, kernel_size, stride=1, groups=1, relu=True):
    """Conv, then BN, then (optionally) ReLU: one step of the residual path F."""
    layers = [
        # No conv bias: the BN that follows subtracts the mean, which would cancel it.
        nn.Conv2D(in_channels, out_channels, kernel_size, stride=stride,
                  padding=kernel_size // 2, groups=groups, bias_attr=False),
        nn.BatchNorm2D(out_channels),
    ]
    if relu:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def projection_shortcut(input_channels, output_channels, stride):
    """The 1x1 conv + BN shortcut, or None where the identity fits already."""
    if stride == 1 and input_channels == output_channels:
        return None
    return conv_bn(input_channels, output_channels, 1, stride, relu=False)


class BasicBlock(nn.Layer):
    """Figure 5, left: two 3x3 convs.  ResNet-18 and ResNet-34 stack this block.

    The first conv carries the stride, so a stride of 2 halves the feature map.
    """

    def __init__(self, input_channels, output_channels, stride=1):
        super().__init__()
        self.conv_bn_block1 = conv_bn(input_channels, output_channels, 3, stride)
        self.conv_bn_block2 = conv_bn(output_channels, output_channels, 3, relu=False)
        self.down_sample_block = projection_shortcut(input_channels, output_channels, stride)
        # The ReLU comes after the addition, so it is not part of F.
        self.relu_out = nn.ReLU()

    def forward(self, inputs):
        x = self.conv_bn_block1(inputs)
        x = self.conv_bn_block2(x)
        shortcut = inputs if self.down_sample_block is None else self.down_sample_block(inputs)
        return self.relu_out(shortcut + x)


class BottleneckBlock(nn.Layer):
    """Figure 5, right: 1x1 down to a narrow width, 3x3 at that width, 1x1 back up.

    ResNet-50, -101 and -152 stack this block.  The narrow width is a quarter of
    output_channels, which keeps the 3x3 conv cheap on wide feature maps.
    ResNeXt splits the 3x3 conv into `groups` groups of `width_per_group` channels
    for every 64 narrow channels; Wide ResNet raises `width_per_group`.

    `stride_on` says which conv halves the feature map: '3x3' as in the article and
    Paddle (ResNet v1.5), or '1x1', the first conv, as in the paper (v1).
    """

    def __init__(self, input_channels, output_channels, stride=1,
                 groups=1, width_per_group=64, stride_on='3x3'):
        super().__init__()
        width = output_channels // 4 * width_per_group // 64 * groups
        stride_1x1, stride_3x3 = (stride, 1) if stride_on == '1x1' else (1, stride)
        self.conv_bn_block1 = conv_bn(input_channels, width, 1, stride_1x1)
        self.conv_bn_block2 = conv_bn(width, width, 3, stride_3x3, groups=groups)
        self.conv_bn_block3 = conv_bn(width, output_channels, 1, relu=False)
        self.down_sample_block = projection_shortcut(input_channels, output_channels, stride)
        self.relu_out = nn.ReLU()

    def forward(self, inputs):
        x = self.conv_bn_block1(inputs)
        x = self.conv_bn_block2(x)
        x = self.conv_bn_block3(x)
        shortcut = inputs if self.down_sample_block is None else self.down_sample_block(inputs)
        return self.relu_out(shortcut + x)
