"""What every script in scripts/ shares: a quiet Paddle, and one-line errors.

Call `quiet_paddle()` before paddle is imported.  Paddle's import and its layers
emit warnings that have nothing to do with the question a script answers (the
missing-ccache notice, BatchNorm's note on running statistics); the user should
see the table, not those.
"""
import importlib.util
import os
import sys
import tempfile

SCRIPTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'scripts')


def paddle_installed():
    """Whether `import paddle` would find Paddle, without importing it."""
    try:
        return importlib.util.find_spec('paddle') is not None
    except (ImportError, ValueError):   # a finder that refuses it, or a broken install
        return False


if not paddle_installed() and os.path.dirname(os.path.abspath(sys.argv[0])) == SCRIPTS:
    # A script started with a Python that lacks the requirements: one line, not the
    # traceback of the first import that needs Paddle.
    sys.stderr.write(f'{os.path.basename(sys.argv[0])}: error: PaddlePaddle is not installed '
                     f'for {sys.executable}; install the requirements first: '
                     f'pip install -r requirements.txt\n')
    sys.exit(2)

from configs import ARCHS, CIFAR_ARCHS, SUPPORTED_LAYERS  # noqa: E402
from paddleinfo.cli import ArgumentParser, fail, quiet_paddle, run  # noqa: E402,F401 -- one definition
from paddleinfo.errors import UsageError  # noqa: E402,F401 -- one type for every one-line error


def integer(flag, text, low=None, high=None):
    """int(text), or a UsageError naming `flag`; checked against [low, high] if given."""
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f'{flag} {text} is not an integer')
    if low is not None and not low <= value <= high:
        raise UsageError(f'{flag} {value} is out of range: from {low} to {high}')
    return value


def add_network_arguments(parser):
    """--layers N or --arch NAME: the choice of network the scripts offer."""
    which = parser.add_mutually_exclusive_group()
    add_network_choices(which)
    return which


# The help of --arch where the CIFAR-10 networks are offered too.
AND_CIFAR = ', and the CIFAR-10 networks ' + ', '.join(CIFAR_ARCHS)


def add_network_choices(group, archs=ARCHS, more=''):
    """--layers and --arch; `archs` are the names --arch offers, `more` adds to its help."""
    group.add_argument('--layers', metavar='N',
                       help=f'the ResNet depth: {", ".join(map(str, SUPPORTED_LAYERS))} (default: 50)')
    group.add_argument('--arch', metavar='NAME',
                       help='a paddle.vision.models name: ' + ', '.join(ARCHS) + more)


def given_flags(args, flags):
    """Those of `flags` (e.g. '--in-channels') that `args`, a dict of parsed arguments,
    holds a value for."""
    return [flag for flag in flags if args.get(flag.lstrip('-').replace('-', '_')) not in
            (None, False, [])]


def refuse(args, flags, why):
    """A UsageError '<flag> <why>' for the first of `flags` given in `args`."""
    for flag in given_flags(args, flags):
        raise UsageError(f'{flag} {why}')


def add_block_arguments(parser):
    """--in-channels, --out-channels and --stride: the block that --block builds."""
    parser.add_argument('--in-channels', metavar='C', type=str,
                        help='with --block: input channels (default: 64)')
    parser.add_argument('--out-channels', metavar='C', type=str,
                        help='with --block: output channels (default: 128)')
    parser.add_argument('--stride', metavar='S', type=str,
                        help='with --block: stride, 1 or 2 (default: 2)')


def add_shape_arguments(parser, input_help=''):
    """--input-size, --num-classes and --variant: how the chosen network is built."""
    parser.add_argument('--input-size', metavar='N', type=str, nargs='+',
                        help='height [width] of the input (default: 224; 32 for a CIFAR '
                             'network)' + input_help)
    parser.add_argument('--num-classes', metavar='K', type=str,
                        help='outputs of the fc layer, 0 to drop it (default: 1000; 10 for '
                             'a CIFAR network, which always has its fc)')
    parser.add_argument('--variant', metavar='V', type=str,
                        help="where a down-sampling bottleneck puts its stride: v1.5 (on the "
                             "3x3 conv, as the article and Paddle; default) or v1 (on the "
                             "first 1x1 conv, as the paper)")


def arch_name(layers=None, arch=None, archs=ARCHS):
    """The paddle.vision name for `--layers N` or `--arch NAME` (default: resnet50);
    `archs` are the names --arch accepts."""
    if arch is not None:
        if arch not in archs:
            raise UsageError(f'--arch {arch} is not known; choose from {", ".join(archs)}')
        return arch
    if layers is None:
        return 'resnet50'
    if str(layers) not in map(str, SUPPORTED_LAYERS):
        raise UsageError(f'--layers {layers} is not a ResNet depth; '
                         f'choose from {", ".join(map(str, SUPPORTED_LAYERS))}')
    return f'resnet{int(layers)}'


def check_writable_directory(flag, directory):
    """A UsageError unless `directory` exists and takes files, or can be made.

    Tried, not judged by os.access: root passes os.access for /proc and /sys, where
    nothing can be made.  A probe file in the nearest folder that exists, removed at
    once; nothing else is created."""
    existing = os.path.abspath(directory)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        what = 'is a file' if existing == os.path.abspath(directory) else f'is in {existing}, a file'
        raise UsageError(f'{flag} {directory} {what}, not a directory')
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise UsageError(f'{flag} {directory} cannot be written: a file cannot be made in '
                         f'{existing} ({error.strerror or error})')


class Stop(Exception):
    """The end of a run that is not a mistake of the user's: a stop asked for by a
    signal, a training that diverged.  Shown as one line, '<prog>: <message>', with
    exit code `code`."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


def run_training(main, prog):
    """run() for a script that trains: a Stop (the training loop's own end at a step,
    after a signal or a divergence) is its one line and exit code."""
    try:
        return run(main, prog)
    except Stop as stop:
        sys.stderr.write(f'{prog}: {stop}\n')
        sys.exit(stop.code)
