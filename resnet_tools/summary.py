"""paddle.summary tables of the network and of single blocks, as the article prints them.

paddle.summary names each row after the layer's unique name, which Paddle takes
from a counter that runs for the whole process: a second ResNet built in the same
process would start at Conv2D-54, not Conv2D-1.  So every model here is built
inside a fresh `unique_name.guard()`, and its table starts from 1, as the article's.
"""
import contextlib
import io

import paddle

import resnet
from blocks import BasicBlock, BottleneckBlock
from configs import ARCHS, DEFAULT_VARIANT, STRIDE_PLACEMENT, layers_config
from resnet_tools.cli import UsageError, arch_name

BLOCKS = {'basic': BasicBlock, 'bottleneck': BottleneckBlock}

# The article's block tables: BasicBlock(64, 128, 2) and BottleneckBlock(64, 128, 2)
# on a (None, 64, 224, 224) input, and ResNet-50 on (None, 3, 224, 224).
DEFAULT_INPUT_SIZE = 224
DEFAULT_BLOCK = {'in_channels': 64, 'out_channels': 128, 'stride': 2}
BLOCK_STRIDES = (1, 2)
MAX_INPUT_SIZE = 1024   # ResNet-50 needs about 5 GB for the summary's forward pass here
MAX_CHANNELS = 4096
MAX_CLASSES = 100_000

# The current Paddle counts BatchNorm's weight and bias (gamma, beta) as trainable, and
# only its running mean and variance as not; Paddle 2.1, which printed the article's
# tables, put all four under non-trainable.  Total params agree; the split does not.
TRAINABLE_NOTE = (
    "The 'Trainable params' and 'Non-trainable params' lines differ from the "
    "article's (for BasicBlock(64, 128, 2): 230,144 / 768 here, 229,376 / 1,536 "
    "there). The article was printed with Paddle 2.1, which counted all four "
    "BatchNorm tensors as non-trainable; current Paddle counts BatchNorm's weight "
    "and bias as trainable and only the running mean and variance as "
    "non-trainable. The total and every row are the same."
)


def total_stride(layers):
    """How many times smaller than the input the last feature map is: 32.

    The stem halves the map twice (7x7 conv, max pool); every stage after the first
    halves it once more.
    """
    return 2 ** (2 + len(layers_config[layers]['num_blocks']) - 1)


def image_size(values, minimum, what):
    """(height, width) from one or two integers, checked against [minimum, MAX_INPUT_SIZE]."""
    if len(values) not in (1, 2):
        raise UsageError(f'--input-size takes one or two integers (height [width]), got {len(values)}')
    for value in values:
        if not minimum <= value <= MAX_INPUT_SIZE:
            raise UsageError(f'--input-size {value} is out of range for {what}: '
                             f'each side must be from {minimum} to {MAX_INPUT_SIZE}')
    return (values[0], values[-1])


def check_variant(variant):
    if variant not in STRIDE_PLACEMENT:
        raise UsageError(f'--variant {variant} is not known; '
                         f'choose from {", ".join(STRIDE_PLACEMENT)}')


def capture_summary(build_model, input_shape):
    """Build a model in a fresh name scope and return (paddle.summary's text, its totals)."""
    with paddle.utils.unique_name.guard():
        model = build_model()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        totals = paddle.summary(model, input_size=input_shape)
    # paddle.summary ends its table with a blank line; the article's tables do not.
    return printed.getvalue().rstrip('\n') + '\n', totals


def network_image_size(arch, input_size):
    """(height, width) from --input-size, checked against what network `arch` can take."""
    minimum = total_stride(ARCHS[arch]['layers'])
    return image_size(input_size, minimum,
                      f'{arch} (it halves the map {minimum.bit_length() - 1} times)')


def check_num_classes(num_classes):
    if not 0 <= num_classes <= MAX_CLASSES:
        raise UsageError(f'--num-classes {num_classes} is out of range: from 1 to {MAX_CLASSES}, '
                         f'or 0 to drop the fc layer')


def network_spec(layers=50, arch=None, input_size=(DEFAULT_INPUT_SIZE,), num_classes=1000,
                 variant=DEFAULT_VARIANT):
    """(name, build_model, input_shape) of ResNet-`layers`, or of `arch` if given, once
    every argument is checked."""
    arch = arch_name(layers, arch)
    height, width = network_image_size(arch, input_size)
    check_num_classes(num_classes)
    check_variant(variant)
    return (arch, lambda: resnet.build(arch, num_classes=num_classes, variant=variant),
            (None, 3, height, width))


def network_summary(layers=50, arch=None, input_size=(DEFAULT_INPUT_SIZE,), num_classes=1000,
                    variant=DEFAULT_VARIANT):
    """The summary of ResNet-`layers`, or of `arch` (a paddle.vision name) if given."""
    _, build_model, input_shape = network_spec(layers, arch, input_size, num_classes, variant)
    return capture_summary(build_model, input_shape)


def block_spec(block='basic', in_channels=64, out_channels=128, stride=2,
               input_size=(DEFAULT_INPUT_SIZE,), variant=DEFAULT_VARIANT):
    """(name, build_model, input_shape) of one residual block, once every argument is checked."""
    if block not in BLOCKS:
        raise UsageError(f'--block {block} is not a block type; choose from {", ".join(BLOCKS)}')
    if stride not in BLOCK_STRIDES:
        raise UsageError(f'--stride {stride} is not a ResNet block stride; '
                         f'choose from {", ".join(map(str, BLOCK_STRIDES))}')
    for flag, channels in (('--in-channels', in_channels), ('--out-channels', out_channels)):
        if not 1 <= channels <= MAX_CHANNELS:
            raise UsageError(f'{flag} {channels} is out of range: from 1 to {MAX_CHANNELS}')
    if block == 'bottleneck' and out_channels % 4:
        raise UsageError(f'--out-channels {out_channels} does not suit a bottleneck block, '
                         f'whose inner width is a quarter of it: give a multiple of 4')
    height, width = image_size(input_size, stride, f'a block of stride {stride}')
    check_variant(variant)
    block_type = BLOCKS[block]
    # Only the bottleneck has a choice of where its stride goes.
    options = {'stride_on': STRIDE_PLACEMENT[variant]} if block_type is BottleneckBlock else {}
    return (f'{block_type.__name__}({in_channels}, {out_channels}, {stride})',
            lambda: block_type(in_channels, out_channels, stride, **options),
            (None, in_channels, height, width))


def block_summary(block='basic', in_channels=64, out_channels=128, stride=2,
                  input_size=(DEFAULT_INPUT_SIZE,), variant=DEFAULT_VARIANT):
    """The summary of one residual block, by default the article's (64, 128, 2)."""
    _, build_model, input_shape = block_spec(block, in_channels, out_channels, stride,
                                             input_size, variant)
    return capture_summary(build_model, input_shape)
