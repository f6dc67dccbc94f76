"""The `paddleinfo` command (also `python -m paddleinfo`): the summary of a paddle.vision
model or of your own, from the shell.

Every mistake in what was asked is one line on stderr and exit code 2.  The argument
parser, the one-line error and the quieting of Paddle here are those of scripts/ too
(resnet_tools.cli takes them from this module).  Nothing here imports Paddle before
`quiet_paddle()` has run.
"""
import argparse
import functools
import os
import sys
import textwrap
import warnings

from paddleinfo.errors import UsageError
from paddleinfo.inputs import DTYPES, add_input_arguments

PROG = 'paddleinfo'
FORMATS = ('plain', 'github', 'markdown', 'csv', 'json')   # paddleinfo.render's, unimported
MAX_DEPTH = 32

# Messages Paddle prints that are about Paddle's own setup, not about the user's input.
PADDLE_NOISE = (
    r'No ccache found',
    r'When training, we now always track global mean and variance',
)


def quiet_paddle():
    """Hide Paddle's notes about itself; for a program, before Paddle is imported."""
    for message in PADDLE_NOISE:
        warnings.filterwarnings('ignore', message=message)
    os.environ.setdefault('GLOG_minloglevel', '2')


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr and exit code 2."""

    def error(self, message):
        fail(self.prog, message)


def fail(prog, message):
    sys.stderr.write(f'{prog}: error: {message} (see --help)\n')
    sys.exit(2)


def run(main, prog):
    """Run main(), turning a UsageError into the one-line error and exit code 2, and a
    Ctrl-C into one line and exit code 130 (the shell's code for SIGINT), not a traceback."""
    try:
        return main()
    except UsageError as error:
        fail(prog, str(error))
    except KeyboardInterrupt:
        sys.stderr.write(f'{prog}: interrupted\n')
        sys.exit(130)


def integer(flag, text, low=None, high=None):
    """int(text), or a UsageError naming `flag`; checked against [low, high] if given."""
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f'{flag} {text} is not an integer')
    if low is not None and not low <= value <= high:
        raise UsageError(f'{flag} {value} is out of range: from {low} to {high}')
    return value


def given_flags(args, flags):
    """Those of `flags` (e.g. '--in-channels') that `args`, a dict of parsed arguments,
    holds a value for."""
    return [flag for flag in flags if args.get(flag.lstrip('-').replace('-', '_')) not in
            (None, False, [])]


DESCRIPTION = """\
The summary of a Paddle model: paddle.summary's per-layer table, or tables with the
MACs, output-size formulas, nesting depth, or several models side by side, in plain
text, github, markdown, csv or json.

MODEL is a network of paddle.vision.models (resnet50, mobilenet_v2, vgg16_bn, LeNet,
...) or your own: path/to/file.py:function or package.module:function, a function
that returns a paddle.nn.Layer.

Inputs: each --input is one positional input of forward(), in order: its shape without
the batch, sizes joined by x, then :dtype if it is not float32. --batch-size puts the
batch in front of every input. --input-size [C] H [W] is the shorthand for an image
model only, one whose input first meets a 2-D convolution; any other model is refused
with it, never given an image. Without either, a paddle.vision model gets its own
image (3x224x224; 3x299x299 for inception_v3, 1x28x28 for LeNet), and your own model
3x224x224, which it must then take as an image model.

  paddleinfo resnet50                              paddle.summary's table
  paddleinfo mobilenet_v2 --macs --input-size 160  with MACs, on 3x160x160
  paddleinfo googlenet --depth 1                   one row per top-level layer
  paddleinfo alexnet vgg16 resnet50                side by side, with torchvision's figures

Your own (the models of docs/examples/nets.py, in the clone):
  paddleinfo docs/examples/nets.py:lstm --input 50x16 --macs        50 steps of 16 features
  paddleinfo docs/examples/nets.py:text --input 128:int64           128 token ids
  paddleinfo docs/examples/nets.py:two_inputs --input 3x32x32 --input 10 --batch-size 8
  paddleinfo docs/examples/nets.py:video --input 3x8x32x32          8 frames of 3x32x32

""" + textwrap.fill(f'dtypes: {", ".join(DTYPES)}.', 84) + '\n'


def parse_args(argv):
    parser = ArgumentParser(prog=PROG, description=DESCRIPTION,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('model', metavar='MODEL', nargs='+',
                        help='a paddle.vision.models name, or path/to/file.py:function or '
                             'package.module:function; several: side by side')
    add_input_arguments(parser)
    parser.add_argument('--macs', action='store_true',
                        help='per-layer table: add the MACs of every layer and which of its '
                             'tensors are trainable')
    parser.add_argument('--explain', action='store_true',
                        help='per-layer table: add the formula of every conv and pool output '
                             'size, checked against the shape Paddle produced')
    parser.add_argument('--depth', metavar='N',
                        help='one row per sublayer down to N levels of nesting, with the '
                             'params and MACs of what is folded in')
    parser.add_argument('--format', metavar='F', default='plain',
                        help=f'{", ".join(FORMATS)} (default: plain, which for the per-layer '
                             f'table is paddle.summary\'s own)')
    return vars(parser.parse_args(argv))


def check(args):
    """The checks of the command line that need no model."""
    if args['format'] not in FORMATS:
        raise UsageError(f'--format {args["format"]} is not known; choose from '
                         f'{", ".join(FORMATS)}')
    if args['depth'] is not None:
        try:
            args['depth'] = int(args['depth'])
        except ValueError:
            raise UsageError(f'--depth {args["depth"]} is not an integer')
        if not 1 <= args['depth'] <= MAX_DEPTH:
            raise UsageError(f'--depth {args["depth"]} is out of range: from 1 to {MAX_DEPTH}')
        if args['explain']:
            raise UsageError('--explain adds a column to the per-layer table; --depth groups '
                             'its rows')
    if len(args['model']) > 1:
        for flag in ('--macs', '--explain', '--depth'):
            if args[flag.lstrip('-')] not in (None, False):
                raise UsageError(f'{flag} is for the table of one model; several models are '
                                 f'shown side by side')


def summary(args):
    """The text the command prints for its parsed, checked arguments."""
    from paddleinfo import tables, zoo
    from paddleinfo.render import render, summary_text

    options = {key: args[key] for key in ('input', 'batch_size', 'input_size')}
    # Every model is checked before any is built.
    specs = [zoo.model_spec(name, options, flag='') for name in args['model']]
    if len(specs) > 1:
        return render(zoo.models_table(specs, flag=''), zoo.models_view, args['format'])
    spec, = specs
    result = zoo.profile_model(spec, flag='')
    if args['depth'] is not None:
        return render(tables.depth_table(result, spec.name, args['depth']), tables.depth_view,
                      args['format'])
    if args['format'] == 'plain' and not (args['macs'] or args['explain']):
        return summary_text(result)[0]
    view = functools.partial(tables.layer_view, macs=args['macs'], explain=args['explain'])
    return render(tables.layer_table(result, spec.name), view, args['format'])


def main(argv=None):
    """The command; returns its exit code (a user's mistake exits 2 from `fail`)."""
    quiet_paddle()

    def command():
        args = parse_args(argv)
        check(args)
        sys.stdout.write(summary(args))
        return 0
    return run(command, PROG)

