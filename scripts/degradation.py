"""The degradation problem of the paper's Figure 6: plain networks get worse with
depth, residual networks do not."""
import argparse
import os
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from resnet_tools.cli import ArgumentParser, UsageError, quiet_paddle, run  # noqa: E402

quiet_paddle()

from resnet_tools import cifar, data, training  # noqa: E402

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

The default run, on scikit-learn's digits for {cifar.DIGITS_SETTINGS.epochs} epochs (--warmup-epochs
{cifar.DIGITS_SETTINGS.warmup_epochs}: the paper's warm-up at a tenth of the rate), takes a few
minutes on two CPU cores.  The paper's own experiment, CIFAR-10 for 64k
iterations, on a GPU:

  python scripts/degradation.py --data cifar10 --data-file cifar-10-python.tar.gz \\
      --depths 20 32 44 56 --epochs 164 --warmup-epochs 0 --device gpu --output runs/cifar10
"""

EPILOG = """\
--plot-only DIR draws the figure and the table from finished runs' log.csv (and
run.json, for the parameter counts) in DIR/<arch>/, wherever they were trained,
into DIR (or --output).  --resume continues unfinished runs, skips finished ones
and starts the others; the settings must be the same.
Exit codes: 0 done; 2 a bad argument (one line on stderr).
"""


def parse_args(argv):
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
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.plot_only is None:
        if args.output is None:
            raise UsageError('--output DIR is needed (or --plot-only DIR to draw finished runs)')
        settings = training.settings_from(args)
        archs = cifar.degradation_archs(args.depths)
        images = data.from_args(args)
        print(f'{", ".join(map(cifar.display_name, archs))} on {images.describe()}', flush=True)
        progress = training.tqdm_progress if sys.stderr.isatty() else None
        cifar.run_degradation(args.depths, images, settings, args.output, resume=args.resume,
                              force=args.force, device=args.device, progress=progress,
                              report=lambda line: print(line, flush=True))
        source, output = args.output, args.output
    else:
        if not os.path.isdir(args.plot_only):
            raise UsageError(f'--plot-only {args.plot_only} is not a directory')
        source, output = args.plot_only, args.output or args.plot_only
        os.makedirs(output, exist_ok=True)
    runs = cifar.finished_runs(source)
    paths = cifar.draw(runs, os.path.join(output, FIGURE))
    print(cifar.format_table(runs))
    print(f'figure: {", ".join(paths)}')
    return 0


if __name__ == '__main__':
    sys.exit(run(main, PROG))
