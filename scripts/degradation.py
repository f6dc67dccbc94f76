"""The degradation problem of the paper's Figure 6: plain networks get worse with
depth, residual networks do not."""
import argparse
import functools
import os
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from resnet_tools.cli import (ArgumentParser, UsageError, check_writable_directory,  # noqa: E402
                              quiet_paddle, run_training)

quiet_paddle()

from resnet_tools import cifar, data, plots, training  # noqa: E402
from paddleinfo.progress import bar as progress_bar, on_terminal  # noqa: E402

PROG = 'degradation.py'
FIGURE = 'degradation'

DESCRIPTION = f"""\
Train plain-20, plain-56, ResNet-20 and ResNet-56 (--depths) with the same seed,
data and settings, each into OUTPUT/<arch>/ as scripts/train.py would, then draw
the paper's Figure 6 into OUTPUT/{FIGURE}.png and OUTPUT/{FIGURE}.svg (plain
networks left, ResNets right; training error dashed, test error solid) and print
a table: network, params, final training and test error, seconds.

  python scripts/degradation.py --data digits --output runs/degradation
  python scripts/degradation.py --plot-only runs/degradation

The default run trains on scikit-learn's digits for {cifar.DIGITS_SETTINGS.epochs} epochs with
--warmup-epochs {cifar.DIGITS_SETTINGS.warmup_epochs} (the paper's warm-up, at a tenth of the rate);
it takes about 6 minutes on an idle 2-core CPU.  The paper's own experiment, CIFAR-10
for 64k iterations, on a GPU:

  python scripts/degradation.py --data cifar10 --data-file cifar-10-python.tar.gz \\
      --depths 20 32 44 56 --epochs 164 --warmup-epochs 0 --device gpu --output runs/cifar10
"""

EPILOG = """\
--plot-only DIR draws the figure and the table from finished runs' log.csv (and
run.json, for the parameter counts) in DIR/<arch>/, wherever they were trained,
into DIR (or --output); it takes no training flag, and replaces a figure there
only with --force.  --resume continues unfinished runs, skips finished ones and
starts the others; the settings must be the same.
Exit codes: 0 done; 2 a bad argument or an output that cannot be written (one line
on stderr).
"""


def make_parser():
    parser = ArgumentParser(prog=PROG, description=DESCRIPTION, epilog=EPILOG,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--depths', type=int, nargs='+', default=list(cifar.DEFAULT_DEPTHS),
                        metavar='N', help='the depths, 6n+2: each gives a plain network and a '
                                          'ResNet (default: 20 56; the paper draws 20 32 44 56)')
    data.add_arguments(parser)
    parser.add_argument('--output', metavar='DIR',
                        help='the directory for the runs, the figure and the table')
    parser.add_argument('--plot-only', metavar='DIR',
                        help='train nothing: draw the runs found in DIR')
    training.add_arguments(parser, cifar.DIGITS_SETTINGS)
    return parser


# What --plot-only, which trains nothing, takes; any other flag is refused with it.
PLOT_ONLY_FLAGS = ('plot_only', 'output', 'force')


def flags_given(argv, args):
    """The flags on the command line, in the parser's order (a default is not given)."""
    parser = make_parser()
    # set_defaults(SUPPRESS) would run the string through each flag's type; the
    # actions' own defaults are what argparse leaves out when a flag is absent.
    for action in parser._actions:
        action.default = argparse.SUPPRESS
    given = vars(parser.parse_args(argv))
    return [name for name in vars(args) if name in given]


def main(argv=None):
    args = make_parser().parse_args(argv)
    if args.plot_only is None:
        if args.output is None:
            raise UsageError('--output DIR is needed (or --plot-only DIR to draw finished runs)')
        settings = training.settings_from(args)
        started = cifar.prepare_degradation(args.depths, args.output, args.resume, args.force)
        images = data.from_args(args)
        print(f'{", ".join(map(cifar.display_name, started))} on {images.describe()}', flush=True)
        progress = functools.partial(progress_bar, unit='batch') if on_terminal() else None
        cifar.run_degradation(started, images, settings, args.output, force=args.force,
                              device=args.device, progress=progress,
                              report=lambda line: print(line, flush=True))
        source, output = args.output, args.output
    else:
        for name in flags_given(argv, args):
            if name not in PLOT_ONLY_FLAGS:
                raise UsageError(f'--{name.replace("_", "-")} does not go with --plot-only, '
                                 f'which trains nothing')
        if not os.path.isdir(args.plot_only):
            raise UsageError(f'--plot-only {args.plot_only} is not a directory')
        source, output = args.plot_only, args.output or args.plot_only
        check_writable_directory('--output', output)
        for path in plots.output_paths(os.path.join(output, FIGURE)):
            if os.path.exists(path) and not args.force:
                raise UsageError(f'{path} exists already; give --force to replace it')
        os.makedirs(output, exist_ok=True)
    runs = cifar.finished_runs(source)
    paths = cifar.draw(runs, os.path.join(output, FIGURE))
    print(cifar.format_table(runs))
    print(f'figure: {", ".join(paths)}')
    return 0


if __name__ == '__main__':
    sys.exit(run_training(main, PROG))
