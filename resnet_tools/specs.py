"""Which network or block, at which size, checked: what the scripts build, by name.

`network_spec` and `block_spec` turn what a command line asks for (--layers or --arch,
--block and its channels, --input-size, --num-classes, --variant, --shortcut) into a
NetworkSpec: the network's name, a function that builds it, and its input shape, once
every argument is checked against what the network can take.  Nothing is built here.
"""
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from paddle import nn

import resnet
from paddleinfo.arguments import choice
from paddleinfo.inputs import image_shape
from resnet.blocks import SHORTCUTS, BasicBlock, BottleneckBlock
from resnet.configs import (ARCHS, CIFAR_ARCHS, CIFAR_INPUT_SIZE, CIFAR_NUM_CLASSES,
                            DEFAULT_VARIANT, STRIDE_PLACEMENT, SUPPORTED_LAYERS,
                            cifar_layers_config, layers_config)
from resnet_tools.errors import UsageError

# What --arch takes: paddle.vision's ResNets and the CIFAR-10 networks of Section 4.2.
ALL_ARCHS = {**ARCHS, **CIFAR_ARCHS}
BLOCKS = {'basic': BasicBlock, 'bottleneck': BottleneckBlock}

# The article's block tables: BasicBlock(64, 128, 2) and BottleneckBlock(64, 128, 2)
# on a (None, 64, 224, 224) input, and ResNet-50 on (None, 3, 224, 224).
DEFAULT_INPUT_SIZE = 224
IMAGENET_CLASSES = 1000
COLOUR = 3                # the channels of an ImageNet ResNet's input
DEFAULT_BLOCK = {'in_channels': 64, 'out_channels': 128, 'stride': 2}
BLOCK_STRIDES = (1, 2)
MAX_INPUT_SIZE = 1024   # export.py runs the model at this size: ResNet-50 needs about 5 GB
MAX_CHANNELS = 4096
MAX_CLASSES = 100_000

Shape = tuple[int | None, ...]


@dataclass(frozen=True)
class NetworkSpec:
    """A network or a block, checked and ready to build: `name` as the tables title it
    ('resnet50', 'cifar_resnet20', 'BasicBlock(64, 128, 2)'), `build()` makes it with
    fresh weights, and `input_shape` is (None, channels, height, width).  `variant` is
    where its bottlenecks put the stride (None: it has none), and `num_classes` the
    outputs of its fc layer (None for a block)."""
    name: str
    build: Callable[[], nn.Layer]
    input_shape: Shape
    variant: str | None = None
    num_classes: int | None = None


def total_stride(layers: int) -> int:
    """How many times smaller than the input the last feature map is: 32.

    The stem halves the map twice (7x7 conv, max pool); every stage after the first
    halves it once more.
    """
    return 2 ** (2 + len(layers_config[layers]['num_blocks']) - 1)


def arch_stride(arch: str) -> int:
    """The total stride of network `arch`: 32 for the ImageNet ResNets, 4 for the CIFAR
    networks (no stride in the stem; the second and third stages halve the map)."""
    if arch in CIFAR_ARCHS:
        return 2 ** (len(cifar_layers_config[CIFAR_ARCHS[arch]['layers']]['num_blocks']) - 1)
    return total_stride(ARCHS[arch]['layers'])


def default_input(arch: str) -> tuple[int, int]:
    """(input side, number of classes) a network is made for."""
    if arch in CIFAR_ARCHS:
        return CIFAR_INPUT_SIZE, CIFAR_NUM_CLASSES
    return DEFAULT_INPUT_SIZE, IMAGENET_CLASSES


def image_size(values: Sequence[int], minimum: int, what: str,
               maximum: int = MAX_INPUT_SIZE) -> tuple[int | None, int, int]:
    """(channels or None, height, width) of --input-size [C] H [W], each side checked
    against [minimum, maximum]."""
    channels, height, width = image_shape(values)
    for side in (height, width):
        if not minimum <= side <= maximum:
            raise UsageError(f'--input-size {side} is out of range for {what}: '
                             f'each side must be from {minimum} to {maximum}')
    return channels, height, width


def network_image_size(arch: str, input_size: Sequence[int]) -> tuple[int | None, int, int]:
    """(channels or None, height, width) of --input-size, checked against what network
    `arch` can take."""
    minimum = arch_stride(arch)
    return image_size(input_size, minimum,
                      f'{arch} (it halves the map {minimum.bit_length() - 1} times)')


def every_resnet_size(input_size: Sequence[int], maximum: int = MAX_INPUT_SIZE) -> tuple[int, int]:
    """(height, width) of --input-size [3] H [W], checked against what every ResNet of
    paddle.vision can take (up to `maximum` a side)."""
    minimum = max(total_stride(spec['layers']) for spec in ARCHS.values())
    channels, height, width = image_size(
        input_size, minimum, f'every ResNet (each halves the map {minimum.bit_length() - 1} times)',
        maximum)
    check_channels(channels, COLOUR, 'every ResNet')
    return height, width


def check_channels(channels: int | None, expected: int, what: str) -> None:
    """A UsageError unless --input-size gave no channels, or the `expected` ones."""
    if channels is not None and channels != expected:
        raise UsageError(f'--input-size gives {channels} channel{"s" * (channels != 1)}; '
                         f'{what} takes {expected}')


def check_variant(variant: str) -> str:
    return choice('--variant', variant, STRIDE_PLACEMENT)


def check_num_classes(num_classes: int) -> int:
    if not 0 <= num_classes <= MAX_CLASSES:
        raise UsageError(f'--num-classes {num_classes} is out of range: from 1 to {MAX_CLASSES}, '
                         f'or 0 to drop the fc layer')
    return num_classes


def shortcut_option(shortcut: str, options: Sequence[str] = SHORTCUTS) -> str:
    """`shortcut` if it is one of the paper's `options` (A, B, C, none), else a UsageError."""
    return choice('--shortcut', shortcut, options)


def network_spec(layers: int | str | None = 50, arch: str | None = None,
                 input_size: Sequence[int] | None = None, num_classes: int | None = None,
                 variant: str | None = None, shortcut: str | None = None) -> NetworkSpec:
    """The NetworkSpec of ResNet-`layers`, or of `arch` if given, once every argument is
    checked.  None stands for the network's own default: a 3x224x224 input, 1000 classes
    and v1.5 for the ImageNet ResNets, 3x32x32 and 10 classes for the CIFAR networks,
    which have no bottleneck and so no variant, and which take the channels of
    --input-size (1 for grey images).  `shortcut` builds the network with another of the
    paper's shortcut options (A, B, C, none)."""
    arch = arch_name(layers, arch, ALL_ARCHS)
    side, classes = default_input(arch)
    channels, height, width = network_image_size(arch, input_size or (side,))
    num_classes = check_num_classes(classes if num_classes is None else num_classes)
    options: dict[str, Any] = {'num_classes': num_classes}
    if shortcut is not None:
        options['shortcut'] = shortcut_option(shortcut)
    if arch in CIFAR_ARCHS:
        if num_classes == 0:
            raise UsageError(f'--num-classes 0 drops the fc layer of an ImageNet ResNet; '
                             f'{arch} always has one: give 1 to {MAX_CLASSES}')
        if variant is not None:
            raise UsageError(f'--variant places the stride of a bottleneck block; {arch} '
                             f'is built from basic blocks only')
        if channels is not None:
            options['in_channels'] = channels
    else:
        check_channels(channels, COLOUR, arch)
        options['variant'] = check_variant(variant or DEFAULT_VARIANT)
    return NetworkSpec(arch, lambda: resnet.build(arch, **options),
                       (None, channels or COLOUR, height, width), options.get('variant'),
                       num_classes)


def block_spec(block: str = 'basic', in_channels: int = 64, out_channels: int = 128,
               stride: int = 2, input_size: Sequence[int] | None = None,
               variant: str | None = None) -> NetworkSpec:
    """The NetworkSpec of one residual block, once every argument is checked.  None
    stands for the default: a 224x224 input with --in-channels channels, and v1.5."""
    if block not in BLOCKS:
        raise UsageError(f'--block {block} is not a block type; choose from {", ".join(BLOCKS)}')
    if stride not in BLOCK_STRIDES:
        raise UsageError(f'--stride {stride} is not a ResNet block stride; '
                         f'choose from {", ".join(map(str, BLOCK_STRIDES))}')
    channels: int | None   # the flags' channels first, then --input-size's (or None)
    for flag, channels in (('--in-channels', in_channels), ('--out-channels', out_channels)):
        if not 1 <= channels <= MAX_CHANNELS:
            raise UsageError(f'{flag} {channels} is out of range: from 1 to {MAX_CHANNELS}')
    if block == 'bottleneck' and out_channels % 4:
        raise UsageError(f'--out-channels {out_channels} does not suit a bottleneck block, '
                         f'whose inner width is a quarter of it: give a multiple of 4')
    channels, height, width = image_size(input_size or (DEFAULT_INPUT_SIZE,), stride,
                                         f'a block of stride {stride}')
    check_channels(channels, in_channels, f'the block (--in-channels {in_channels})')
    variant = check_variant(variant or DEFAULT_VARIANT)
    block_type = BLOCKS[block]
    # Only the bottleneck has a choice of where its stride goes.
    bottleneck = block_type is BottleneckBlock
    options = {'stride_on': STRIDE_PLACEMENT[variant]} if bottleneck else {}
    return NetworkSpec(f'{block_type.__name__}({in_channels}, {out_channels}, {stride})',
                       lambda: block_type(in_channels, out_channels, stride, **options),
                       (None, in_channels, height, width), variant if bottleneck else None)


def block_options(args: Mapping[str, Any]) -> dict[str, int]:
    """--in-channels, --out-channels and --stride of parsed arguments (a dict, None where a
    flag is absent): the article's BasicBlock(64, 128, 2) unless given."""
    return {name: DEFAULT_BLOCK[name] if args.get(name) is None else args[name]
            for name in DEFAULT_BLOCK}


def arch_name(layers: int | str | None = None, arch: str | None = None,
              archs: Mapping[str, Any] = ARCHS) -> str:
    """The paddle.vision name for `--layers N` or `--arch NAME` (default: resnet50);
    `archs` are the names --arch accepts."""
    if arch is not None:
        return choice('--arch', arch, archs)
    if layers is None:
        return 'resnet50'
    if str(layers) not in map(str, SUPPORTED_LAYERS):
        raise UsageError(f'--layers {layers} is not a ResNet depth; '
                         f'choose from {", ".join(map(str, SUPPORTED_LAYERS))}')
    return f'resnet{int(layers)}'


# The paper's names of the CIFAR networks (Figure 6): (arch prefix, name).
KINDS = (('plain', 'plain'), ('resnet', 'ResNet'))


def display_name(arch: str) -> str:
    """The paper's name of a network: 'ResNet-50' for 'resnet50', 'ResNet-20' for
    'cifar_resnet20', 'plain-56' for 'cifar_plain56'; other names as they are."""
    if arch in CIFAR_ARCHS:
        layers = CIFAR_ARCHS[arch]['layers']
        return f'{dict(KINDS)[arch[len("cifar_"):-len(str(layers))]]}-{layers}'
    depth = arch.removeprefix('resnet')
    return f'ResNet-{depth}' if depth.isdigit() else arch
