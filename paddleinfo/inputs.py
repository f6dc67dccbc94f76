"""The inputs of a model, as a command line gives them: one definition of the options,
shared by the `paddleinfo` command and scripts/summary.py --model.

    --input SHAPE[:DTYPE]   one positional input of forward(), repeated for several:
                            its shape without the batch, sizes joined by x (16x40,
                            3x8x32x32, 100), and its dtype (default float32)
    --batch-size N          the batch, put in front of every input (default 1)
    --input-size [C] H [W]  shorthand for an image: --input CxHxW, for models whose
                            input first meets a 2-D convolution only

`--input-size 20` on an MLP is refused, never turned into a 3x20x20 image: once the
model is traced, `check_image_model` looks at the first layer the input reached.
This module imports no Paddle.
"""
import argparse
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from paddleinfo.arguments import add_integer, converter, integer
from paddleinfo.errors import UsageError

DTYPES = ('float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8',
          'uint8', 'bool', 'complex64', 'complex128')
DEFAULT_DTYPE = 'float32'
# What a summary may cost is the memory of its inputs (and of the eager pass, where a
# model cannot be traced): a bound on the elements of all inputs together, 1 GiB of
# float32.  A 100-d latent, 1,600 audio samples or a 5-D video clip are far below it.
MAX_ELEMENTS = 2 ** 28
MAX_BATCH = 2 ** 16
# The layers an image's shorthand may first meet (paddle.nn's class names).
IMAGE_LAYERS = ('Conv2D', 'Conv2DTranspose')

INPUT_HELP = ('one positional input of forward(): its shape without the batch, sizes '
              'joined by x, and its dtype, e.g. 16x40, 20:int64, 3x8x32x32; give it once per '
              f'input, in order (dtypes: {", ".join(DTYPES)}; default {DEFAULT_DTYPE})')
BATCH_HELP = 'the batch size, put in front of every input (default: 1)'
# --input-size has one meaning wherever a command takes it (the ResNet scripts too).
INPUT_SIZE_HELP = '[channels] height [width] of the input image; one size is a square'
SHORTHAND_HELP = (': the shorthand for an image model (one whose input first meets a 2-D '
                  'convolution), the same as --input CxHxW')


@dataclass(frozen=True)
class InputSize:
    """One input of forward(): its shape without the batch, and its dtype."""
    shape: tuple[int, ...]
    dtype: str = DEFAULT_DTYPE

    def text(self) -> str:
        """As --input takes it, e.g. '16x40:int64' ('16x40' for float32)."""
        dims = 'x'.join(map(str, self.shape))
        return dims if self.dtype == DEFAULT_DTYPE else f'{dims}:{self.dtype}'


SWEEP_HELP = ('; several, joined by commas (1,8,32), sweep the batch: one table of the cost '
              'at each (with --training)')
SWEEP_INPUT_HELP = ('; a size that is several, joined by commas (128,256,512:int64), sweeps '
                    'that size, as --batch-size 1,8,32 sweeps the batch')
MAX_POINTS = 32     # the sizes of one sweep


def add_input_arguments(parser: Any, input_size: bool = True, sweep: bool = False) -> None:
    """--input, --batch-size and (unless the parser has its own) --input-size; with
    `sweep`, --batch-size and a size of --input may be several, joined by commas."""
    parser.add_argument('--input', metavar='SHAPE[:DTYPE]', action='append',
                        help=INPUT_HELP + (SWEEP_INPUT_HELP if sweep else ''))
    if sweep:
        parser.add_argument('--batch-size', metavar='N[,N...]', type=converter(
            'batch sizes', batch_sizes), help=BATCH_HELP + SWEEP_HELP)
    else:
        add_batch_size(parser)
    if input_size:
        add_input_size(parser, SHORTHAND_HELP)


def batch_sizes(text: str) -> tuple[int, ...]:
    """'8' -> (8,); '1,8,32' -> (1, 8, 32): a batch, or the batches of a sweep."""
    sizes = tuple(integer('--batch-size', part.strip(), 1, MAX_BATCH) for part in text.split(','))
    check_points('--batch-size', text, sizes)
    return sizes


def check_points(flag: str, text: str, sizes: Sequence[int]) -> None:
    if len(sizes) > MAX_POINTS:
        raise UsageError(f'{flag} {text}: a sweep takes at most {MAX_POINTS} sizes')
    if len(set(sizes)) != len(sizes):
        raise UsageError(f'{flag} {text}: a size is given twice')


def sweep_points(options: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The input options (a dict of 'input', 'batch_size', 'input_size') of every point
    of a sweep, or None if they ask for none: --batch-size 1,8,32, or sizes of --input
    joined by commas (all the sizes so given move together, one point each)."""
    batches = options.get('batch_size')
    batches = batches if isinstance(batches, tuple) else None
    texts = options.get('input') or []
    lists = {len(size.split(',')) for text in texts for size in text.partition(':')[0].split('x')
             if ',' in size}
    if len(lists) > 1:
        raise UsageError('every --input size given as a list (joined by commas) moves with the '
                         'others: give them the same number of sizes')
    if lists and batches and len(batches) > 1:
        raise UsageError('a sweep changes one size: give several batch sizes or several '
                         '--input sizes, not both')
    if lists:
        count, = lists
        for text in texts:
            for size in text.partition(':')[0].split('x'):
                if ',' in size:
                    check_points('--input', text, [positive(f'--input {text}', part, 'size')
                                                   for part in size.split(',')])

        def point(text: str, index: int) -> str:
            dims, colon, dtype = text.partition(':')
            return 'x'.join(size.split(',')[index] if ',' in size else size
                            for size in dims.split('x')) + colon + dtype
        return [{**options, 'batch_size': batches[0] if batches else None,
                 'input': [point(text, index) for text in texts]} for index in range(count)]
    if batches and len(batches) > 1:
        return [{**options, 'batch_size': batch} for batch in batches]
    return None


def add_batch_size(parser: Any, high: int = MAX_BATCH, default: int | None = None,
                   help: str = BATCH_HELP) -> argparse.Action:
    """--batch-size N: the images (or sequences) in a batch, the one definition of it."""
    return add_integer(parser, '--batch-size', low=1, high=high, default=default, help=help)


def add_input_size(parser: Any, more_help: str = '') -> argparse.Action:
    """--input-size [C] H [W], the one definition of an image's size on a command line."""
    return add_integer(parser, '--input-size', low=1, nargs='+', help=INPUT_SIZE_HELP + more_help)


def positive(flag: str, text: str | int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < 1:
        raise UsageError(f'{flag}: {what} {text!r} is not a positive integer')
    return value


def parse_input(text: str, flag: str = '--input') -> InputSize:
    """The InputSize of '16x40' or '16x40:int64'."""
    dims, _, dtype = text.partition(':')
    dtype = dtype or DEFAULT_DTYPE
    if dtype not in DTYPES:
        raise UsageError(f'{flag} {text}: {dtype!r} is not a dtype; choose from '
                         f'{", ".join(DTYPES)}')
    if not dims:
        raise UsageError(f'{flag} {text}: give the shape without the batch, sizes joined by '
                         f'x, e.g. 16x40 or 20:int64')
    return InputSize(tuple(positive(f'{flag} {text}', size, 'size') for size in dims.split('x')),
                 dtype)


def image_shape(values: Sequence[str | int], flag: str = '--input-size') -> tuple[int | None, int, int]:
    """(channels or None, height, width) of --input-size [C] H [W]: one integer is a
    square, two are height and width, three put the channels first."""
    if len(values) not in (1, 2, 3):
        raise UsageError(f'{flag} takes one, two or three integers ([channels] height '
                         f'[width]), got {len(values)}')
    sizes = [positive(flag, value, 'size') for value in values]
    channels = sizes.pop(0) if len(sizes) == 3 else None
    return channels, sizes[0], sizes[-1]


def image_input(values: Sequence[str | int], channels: int = 3, flag: str = '--input-size') -> InputSize:
    """The InputSize of --input-size [C] H [W]; `channels` when C is not given: the model's
    own, 3 for colour."""
    given, height, width = image_shape(values, flag)
    return InputSize((channels if given is None else given, height, width))


def batch_size(value: str | int | None, flag: str = '--batch-size') -> int:
    """The batch: `value` checked, 1 if none is given."""
    return 1 if value is None else integer(flag, value, 1, MAX_BATCH)


@dataclass(frozen=True)
class Inputs:
    """What a command line asks a model to be given: inputs, batch, and where an image
    came from, which the model must then suit: '--input-size', or 'default' (the model's
    own input); None for inputs given in full with --input."""
    inputs: tuple[InputSize, ...]
    batch: int = 1
    image: str | None = None

    @property
    def shapes(self) -> list[list[int]]:
        """Every input's shape with the batch in front, as paddleinfo.summary takes them."""
        return [[self.batch, *item.shape] for item in self.inputs]

    @property
    def dtypes(self) -> list[str]:
        return [item.dtype for item in self.inputs]

    def text(self) -> str:
        """The inputs as the title names them, e.g. '8x16x40, 8x20:int64'."""
        return ', '.join(InputSize((self.batch, *item.shape), item.dtype).text()
                         for item in self.inputs)


def inputs_from(args: Mapping[str, Any], default: InputSize | None = None,
                channels: int = 3) -> Inputs | None:
    """The Inputs of parsed arguments (a dict with 'input', 'batch_size', 'input_size'),
    or of `default` (an InputSize, the model's own image) when neither shape option is given.
    None when nothing is given and there is no default."""
    given, size = args.get('input'), args.get('input_size')
    if given and size:
        raise UsageError('--input-size is the shorthand of one image input; with --input, '
                         'give every input with --input')
    given_batch = args.get('batch_size')
    if isinstance(given_batch, tuple):
        if len(given_batch) > 1:
            raise UsageError('several --batch-size values are a sweep, which this table '
                             'does not take')
        given_batch = given_batch[0]
    batch = batch_size(given_batch)
    if given:
        inputs = Inputs(tuple(parse_input(text) for text in given), batch)
    elif size:
        inputs = Inputs((image_input(size, channels),), batch, image='--input-size')
    elif default is not None:
        inputs = Inputs((default,), batch, image='default')
    else:
        return None
    elements = sum(math.prod(shape) for shape in inputs.shapes)
    if elements > MAX_ELEMENTS:
        raise UsageError(f'the inputs {inputs.text()} hold {elements:,} values; a summary '
                         f'takes at most {MAX_ELEMENTS:,} (1 GiB of float32)')
    return inputs


# What check_image_model needs of the first layer reached: (its class name or None, the
# shape of its input, an --input it would take).
Meeting = tuple[str | None, list[Any] | None, str]


def first_meeting(layer: Any, shape: Any) -> Meeting:
    """What check_image_model needs of the first layer reached, read while it is at hand:
    (its class name or None, the shape of its input, an --input it would take)."""
    return (type(layer).__name__ if layer is not None else None, shape, example(layer))


def check_image_model(first: Meeting, inputs: Inputs, name: str,
                      flag: str | None = '--input-size') -> None:
    """A UsageError unless the image of `inputs` went straight into a 2-D convolution:
    `first` is first_meeting() of the first layer the trace reached.  Any other model
    must be given its real input with --input."""
    kind, shape, hint = first
    if kind in IMAGE_LAYERS and shape is not None and list(shape[1:]) == list(
            inputs.inputs[0].shape):
        return
    reached = (f'its input first meets {kind}' if kind is not None
               else 'its input meets no layer')
    how = (f'{flag} is the shorthand for image models' if flag
           else 'with no input given, a model is taken for an image model')
    raise UsageError(f'{name}: {how}, whose input first meets a 2-D convolution, and '
                     f'{reached}: give its input with --input SHAPE[:DTYPE], e.g. --input '
                     f'{hint}')


def example(layer: Any) -> str:
    """An --input the layer would take, where its kind says so; else a placeholder."""
    kind = type(layer).__name__ if layer is not None else ''
    if kind == 'Linear':
        try:   # a layer of a finished static-graph trace may no longer tell its shapes
            return str(layer.weight.shape[0])
        except ValueError:
            return 'FEATURES'
    if kind == 'Embedding':
        return 'LENGTH:int64'
    if kind in ('LSTM', 'GRU', 'SimpleRNN'):
        return f'LENGTHx{layer.input_size}'
    if kind == 'Conv1D':
        return f'{layer._in_channels}xLENGTH'
    if kind == 'Conv3D':
        return f'{layer._in_channels}xDEPTHxHEIGHTxWIDTH'
    return 'SIZExSIZE'
