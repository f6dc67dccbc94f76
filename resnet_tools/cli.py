"""What every script in scripts/ shares: a quiet Paddle, and one-line errors.

Call `quiet_paddle()` before paddle is imported.  Paddle's import and its layers
emit warnings that have nothing to do with the question a script answers (the
missing-ccache notice, BatchNorm's note on running statistics); the user should
see the table, not those.
"""
import argparse
import os
import sys
import warnings

from configs import ARCHS, SUPPORTED_LAYERS

# Messages Paddle prints that are about Paddle's own setup, not about the user's input.
PADDLE_NOISE = (
    r'No ccache found',
    r'When training, we now always track global mean and variance',
)


def quiet_paddle():
    for message in PADDLE_NOISE:
        warnings.filterwarnings('ignore', message=message)
    os.environ.setdefault('GLOG_minloglevel', '2')


class UsageError(Exception):
    """A mistake in what the user asked for; its message is shown as one line."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr and exit code 2."""

    def error(self, message):
        fail(self.prog, message)


def fail(prog, message):
    sys.stderr.write(f'{prog}: error: {message} (see --help)\n')
    sys.exit(2)


def run(main, prog):
    """Run main(), turning a UsageError into the one-line error and exit code 2."""
    try:
        return main()
    except UsageError as error:
        fail(prog, str(error))


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


def add_network_choices(group, archs=ARCHS, more=''):
    """--layers and --arch; `archs` are the names --arch offers, `more` adds to its help."""
    group.add_argument('--layers', metavar='N',
                       help=f'the ResNet depth: {", ".join(map(str, SUPPORTED_LAYERS))} (default: 50)')
    group.add_argument('--arch', metavar='NAME',
                       help='a paddle.vision.models name: ' + ', '.join(ARCHS) + more)


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
