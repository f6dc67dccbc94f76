"""The numbers that define every ResNet in this repository, kept in one place.

`layers_config` is the article's table, one row per depth of the paper's Table 1:
which residual block the network stacks, how many blocks each of the four stages
(conv2_x .. conv5_x) holds, and how many channels each stage puts out;
`cifar_layers_config` is the same table for the CIFAR-10 networks of Section 4.2.
Everything else -- the models, the summaries, the tests -- reads these numbers
from here rather than keeping its own copy.
"""
from typing import TypedDict


class StagesConfig(TypedDict):
    """A row of the table: the block, and each stage's number of blocks and output channels."""
    block_type: str
    num_blocks: list[int]
    out_channels: list[int]


class CifarArch(TypedDict):
    """An entry of CIFAR_ARCHS: the depth, and the shortcut option."""
    layers: int
    shortcut: str


layers_config: dict[int, StagesConfig] = {
    18: {'block_type': 'BasicBlock', 'num_blocks': [2, 2, 2, 2], 'out_channels': [64, 128, 256, 512]},
    34: {'block_type': 'BasicBlock', 'num_blocks': [3, 4, 6, 3], 'out_channels': [64, 128, 256, 512]},
    50: {'block_type': 'BottleneckBlock', 'num_blocks': [3, 4, 6, 3], 'out_channels': [256, 512, 1024, 2048]},
    101: {'block_type': 'BottleneckBlock', 'num_blocks': [3, 4, 23, 3], 'out_channels': [256, 512, 1024, 2048]},
    152: {'block_type': 'BottleneckBlock', 'num_blocks': [3, 8, 36, 3], 'out_channels': [256, 512, 1024, 2048]},
}

SUPPORTED_LAYERS = tuple(layers_config)

# conv1 of Table 1: a 7x7 convolution from the 3 colour channels to 64 channels.
STEM_CHANNELS = 64

# Where a down-sampling bottleneck puts its stride of 2.  The paper ("v1") puts it
# on the first 1x1 conv; the article, Paddle and torchvision ("v1.5") put it on the
# 3x3 conv, which costs a little more computation and is slightly more accurate.
# The parameters are the same either way.
STRIDE_PLACEMENT = {'v1': '1x1', 'v1.5': '3x3'}
DEFAULT_VARIANT = 'v1.5'

# Every ResNet that paddle.vision.models builds, under its Paddle name.  Each is a
# depth of layers_config; ResNeXt splits the bottleneck's 3x3 conv into `groups`
# groups of `width_per_group` channels, and Wide ResNet widens that conv.  With the
# defaults (1 group of 64 per 64 bottleneck channels) the bottleneck is the paper's.
ARCHS: dict[str, dict[str, int]] = {
    'resnet18': {'layers': 18},
    'resnet34': {'layers': 34},
    'resnet50': {'layers': 50},
    'resnet101': {'layers': 101},
    'resnet152': {'layers': 152},
    'resnext50_32x4d': {'layers': 50, 'groups': 32, 'width_per_group': 4},
    'resnext50_64x4d': {'layers': 50, 'groups': 64, 'width_per_group': 4},
    'resnext101_32x4d': {'layers': 101, 'groups': 32, 'width_per_group': 4},
    'resnext101_64x4d': {'layers': 101, 'groups': 64, 'width_per_group': 4},
    'resnext152_32x4d': {'layers': 152, 'groups': 32, 'width_per_group': 4},
    'resnext152_64x4d': {'layers': 152, 'groups': 64, 'width_per_group': 4},
    'wide_resnet50_2': {'layers': 50, 'width_per_group': 128},
    'wide_resnet101_2': {'layers': 101, 'width_per_group': 128},
}


# ---- the CIFAR-10 networks of the paper's Section 4.2, written as layers_config is ----
#
# Each network has 6n+2 weighted layers: a 3x3 conv with 16 filters, three stages
# of n BasicBlocks (2n convs each) on maps of 32x32, 16x16 and 8x8 with 16, 32 and
# 64 filters, and a 10-way fc after global average pooling.  The first block of the
# second and third stage halves the map.  The paper trains n = 3, 5, 7, 9, 18 and
# 200: ResNet-20, 32, 44, 56, 110 and 1202.

cifar_layers_config: dict[int, StagesConfig] = {
    6 * n + 2: {'block_type': 'BasicBlock', 'num_blocks': [n, n, n], 'out_channels': [16, 32, 64]}
    for n in (3, 5, 7, 9, 18, 200)
}

CIFAR_LAYERS = tuple(cifar_layers_config)

# The stem of Section 4.2: one 3x3 conv with 16 filters, and no max pool.
CIFAR_STEM_CHANNELS = 16
CIFAR_NUM_CLASSES = 10
# CIFAR-10's images are 32x32.
CIFAR_INPUT_SIZE = 32

# The paper trains the CIFAR networks with option A (zero-padding shortcuts, so that
# a residual network has exactly the parameters of its plain twin).
CIFAR_SHORTCUT = 'A'

# `cifar_resnet20` .. `cifar_resnet1202`, and their plain twins without shortcuts.
CIFAR_ARCHS: dict[str, CifarArch] = {
    **{f'cifar_resnet{depth}': {'layers': depth, 'shortcut': CIFAR_SHORTCUT} for depth in CIFAR_LAYERS},
    **{f'cifar_plain{depth}': {'layers': depth, 'shortcut': 'none'} for depth in CIFAR_LAYERS},
}
