"""ResNet (He et al., 2015), built from the article's `layers_config` table.

The network of the paper's Table 1, in four parts:
  conv1      7x7 conv, stride 2, BN, ReLU, then a 3x3 max pool, stride 2;
  conv2_x .. conv5_x   all residual blocks, in ONE nn.Sequential (`residual_block`);
             every stage after the first halves the map in its first block;
  head       global average pool, flatten, and a fully connected layer.
The CIFAR-10 networks of Section 4.2 (CifarResNet) are the same three parts on a
small image: a 3x3 stem without max pool, three stages, and a 10-way fc.
"""
from collections.abc import Collection
from itertools import accumulate
from typing import Any

from resnet.blocks import BasicBlock, BottleneckBlock, QuietBatchNorm, check_shortcut, quiet_batch_norm
from resnet.configs import (ARCHS, CIFAR_ARCHS, CIFAR_NUM_CLASSES, CIFAR_SHORTCUT,
                            CIFAR_STEM_CHANNELS, DEFAULT_VARIANT, STEM_CHANNELS, STRIDE_PLACEMENT,
                            StagesConfig, cifar_layers_config, layers_config)
from paddle import Tensor, nn       # after blocks, which imports paddle without its ccache notice

BLOCK_TYPES = {'BasicBlock': BasicBlock, 'BottleneckBlock': BottleneckBlock}


def stack_stages(config: StagesConfig, input_channels: int,
                 **block_options: Any) -> tuple[nn.Sequential, list[int]]:
    """Every residual block of a network in ONE nn.Sequential, and the index in it
    after which each stage ends.  Every stage after the first halves the map in its
    first block."""
    block_type = BLOCK_TYPES[config['block_type']]
    blocks: list[nn.Layer] = []
    for stage, (num_blocks, output_channels) in enumerate(
            zip(config['num_blocks'], config['out_channels'])):
        for index in range(num_blocks):
            stride = 2 if index == 0 and stage > 0 else 1
            blocks.append(block_type(input_channels, output_channels, stride, **block_options))
            input_channels = output_channels
    return nn.Sequential(*blocks), [end - 1 for end in accumulate(config['num_blocks'])]


class ResNet(QuietBatchNorm, nn.Layer):
    """ResNet-18/34/50/101/152 and, through `groups` and `width_per_group`, ResNeXt
    and Wide ResNet.  `num_classes <= 0` drops the fc layer (and the flatten), and
    `with_pool=False` drops the average pool, as in paddle.vision.models.ResNet (with
    an fc layer, only inputs whose last feature map is 1x1 then fit, e.g. 32x32).
    `variant` is 'v1.5' (stride on the bottleneck's 3x3 conv, the default) or 'v1'.
    `shortcut` is 'B' (the default), 'A', 'C' or 'none' for the plain network.
    """

    def __init__(self, layers: int = 50, num_classes: int = 1000, with_pool: bool = True,
                 groups: int = 1, width_per_group: int = 64, variant: str = DEFAULT_VARIANT,
                 shortcut: str = 'B') -> None:
        super().__init__()
        if layers not in layers_config:
            raise ValueError(f'ResNet has no {layers}-layer version here; '
                             f'supported layers are {list(layers_config)}')
        if variant not in STRIDE_PLACEMENT:
            raise ValueError(f'variant must be one of {list(STRIDE_PLACEMENT)}, not {variant!r}')
        check_shortcut(shortcut)
        config = layers_config[layers]
        block_options: dict[str, Any] = {'shortcut': shortcut}
        if BLOCK_TYPES[config['block_type']] is BottleneckBlock:
            block_options.update(groups=groups, width_per_group=width_per_group,
                                 stride_on=STRIDE_PLACEMENT[variant])
        elif (groups, width_per_group) != (1, 64):
            raise ValueError(f'groups and width_per_group change the bottleneck block only; '
                             f'ResNet-{layers} is built from BasicBlock')
        self.layers, self.num_classes, self.with_pool = layers, num_classes, with_pool

        self.conv = nn.Conv2D(3, STEM_CHANNELS, kernel_size=7, stride=2, padding=3, bias_attr=False)
        self.bn = nn.BatchNorm2D(STEM_CHANNELS)
        self.relu = nn.ReLU()
        self.max_pool = nn.MaxPool2D(kernel_size=3, stride=2, padding=1)

        # conv2_x keeps its stride at 1: the max pool before it has halved the map.
        self.residual_block, self.stage_ends = stack_stages(config, STEM_CHANNELS, **block_options)
        input_channels = config['out_channels'][-1]

        if with_pool:
            self.avg_pool = nn.AdaptiveAvgPool2D(output_size=1)
        if num_classes > 0:
            self.flatten = nn.Flatten()
            self.fc = nn.Linear(input_channels, num_classes)

    def stem(self, x: Tensor) -> Tensor:
        return self.max_pool(self.relu(self.bn(self.conv(x))))

    def forward(self, x: Tensor) -> Tensor:
        x = self.residual_block(self.stem(x))
        if self.with_pool:
            x = self.avg_pool(x)
        elif self.num_classes > 0 and x.shape[2:] != [1, 1]:
            # paddle.vision builds this combination too, and fails here with a matmul error.
            raise ValueError(f'with_pool=False hands the fc layer the whole {x.shape[2]}x'
                             f'{x.shape[3]} feature map, but it takes one vector per image: '
                             f'use inputs small enough for a 1x1 map, or num_classes=0')
        if self.num_classes > 0:
            x = self.fc(self.flatten(x))
        return x

    def forward_features(self, x: Tensor, stages: Collection[int] = (2, 3, 4, 5)) -> dict[int, Tensor]:
        """The feature maps C2..C5, the outputs of conv2_x..conv5_x, as {stage: tensor}.

        It runs the same blocks as forward(), one at a time, and stops after the
        last stage asked for.
        """
        named = range(2, 2 + len(self.stage_ends))
        if not stages or not set(stages) <= set(named):
            raise ValueError(f'stages must be some of {list(named)} (conv2_x .. conv5_x), '
                             f'not {stages!r}')
        wanted = {self.stage_ends[stage - 2]: stage for stage in stages}
        features: dict[int, Tensor] = {}
        with quiet_batch_norm():    # the blocks are layers, called quietly; the stem is not
            x = self.stem(x)
        for index, block in enumerate(self.residual_block):
            x = block(x)
            if index in wanted:
                features[wanted[index]] = x
                if len(features) == len(wanted):
                    break
        return features


class CifarResNet(QuietBatchNorm, nn.Layer):
    """The CIFAR-10 networks of Section 4.2: 6n+2 layers, on 32x32 images.

    A 3x3 conv with 16 filters, BN and ReLU (no max pool: the image is small
    already), three stages of n BasicBlocks on 16, 32 and 64 channels, global
    average pool and fc.  `shortcut` is 'A' by default, as the paper trains them,
    or 'none' for the plain network of Figure 6.  `in_channels` is 3 for colour
    images, 1 for grey ones such as scikit-learn's digits.
    """

    def __init__(self, layers: int = 20, num_classes: int = CIFAR_NUM_CLASSES,
                 shortcut: str = CIFAR_SHORTCUT, in_channels: int = 3) -> None:
        super().__init__()
        if layers not in cifar_layers_config:
            raise ValueError(f'the CIFAR ResNet has no {layers}-layer version here; '
                             f'supported layers are {list(cifar_layers_config)}')
        check_shortcut(shortcut)
        config = cifar_layers_config[layers]
        self.layers, self.num_classes, self.with_pool = layers, num_classes, True
        self.conv = nn.Conv2D(in_channels, CIFAR_STEM_CHANNELS, kernel_size=3, padding=1,
                              bias_attr=False)
        self.bn = nn.BatchNorm2D(CIFAR_STEM_CHANNELS)
        self.relu = nn.ReLU()
        self.residual_block, self.stage_ends = stack_stages(config, CIFAR_STEM_CHANNELS,
                                                            shortcut=shortcut)
        self.avg_pool = nn.AdaptiveAvgPool2D(output_size=1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(config['out_channels'][-1], num_classes)

    def stem(self, x: Tensor) -> Tensor:
        return self.relu(self.bn(self.conv(x)))

    def forward(self, x: Tensor) -> Tensor:
        x = self.avg_pool(self.residual_block(self.stem(x)))
        return self.fc(self.flatten(x))


def build(arch: str, **kwargs: Any) -> nn.Layer:
    """The network called `arch`: a paddle.vision.models name such as 'resnet50', or
    one of the CIFAR-10 networks, 'cifar_resnet20' .. 'cifar_plain1202', with random
    weights.  resnet_tools.weights.pretrained(arch, path) builds it with a file's."""
    if 'pretrained' in kwargs:   # paddle.vision's argument: the weights live a layer up
        raise TypeError(f"resnet.build takes no weights; resnet_tools.weights.pretrained("
                        f"{arch!r}, path) builds the network with those of a file")
    if arch in CIFAR_ARCHS:
        return CifarResNet(**{**CIFAR_ARCHS[arch], **kwargs})
    if arch in ARCHS:
        return ResNet(**{**ARCHS[arch], **kwargs})
    raise ValueError(f'unknown architecture {arch!r}; supported are '
                     f'{list(ARCHS) + list(CIFAR_ARCHS)}')


def resnet18(**kwargs: Any) -> nn.Layer:
    return build('resnet18', **kwargs)


def resnet34(**kwargs: Any) -> nn.Layer:
    return build('resnet34', **kwargs)


def resnet50(**kwargs: Any) -> nn.Layer:
    return build('resnet50', **kwargs)


def resnet101(**kwargs: Any) -> nn.Layer:
    return build('resnet101', **kwargs)


def resnet152(**kwargs: Any) -> nn.Layer:
    return build('resnet152', **kwargs)


def resnext50_32x4d(**kwargs: Any) -> nn.Layer:
    return build('resnext50_32x4d', **kwargs)


def resnext50_64x4d(**kwargs: Any) -> nn.Layer:
    return build('resnext50_64x4d', **kwargs)


def resnext101_32x4d(**kwargs: Any) -> nn.Layer:
    return build('resnext101_32x4d', **kwargs)


def resnext101_64x4d(**kwargs: Any) -> nn.Layer:
    return build('resnext101_64x4d', **kwargs)


def resnext152_32x4d(**kwargs: Any) -> nn.Layer:
    return build('resnext152_32x4d', **kwargs)


def resnext152_64x4d(**kwargs: Any) -> nn.Layer:
    return build('resnext152_64x4d', **kwargs)


def wide_resnet50_2(**kwargs: Any) -> nn.Layer:
    return build('wide_resnet50_2', **kwargs)


def wide_resnet101_2(**kwargs: Any) -> nn.Layer:
    return build('wide_resnet101_2', **kwargs)
