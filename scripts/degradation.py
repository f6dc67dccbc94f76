"""The degradation problem of the paper's Figure 6: plain networks get worse with
depth, residual networks do not."""
import argparse
import os
from collections.abc import Sequence

from _bootstrap import run
from paddleinfo.arguments import ArgumentParser, add_integer, add_number, given_flags
from resnet_tools import cli
from resnet_tools.errors import UsageError
from resnet_tools.paper import degradation, networks
from resnet_tools.views import plots

PROG = 'degradation.py'
FIGURE = 'degradation'
RESPONSES_FIGURE = 'responses'

DESCRIPTION = f"""\
Train the plain networks and the ResNets of the paper's Figure 6 with the same
seed, data and settings, each into OUTPUT/<arch>/ as scripts/train.py would, in
--jobs processes side by side; then draw Figure 6 into OUTPUT/{FIGURE}.png and .svg
(plain networks left, ResNets right; training error dashed, test error solid),
Figure 7 into OUTPUT/{RESPONSES_FIGURE}.png and .svg (the std of every 3x3 layer's
response, recorded in OUTPUT/<arch>/responses.csv at the end of training), and
print a table: network, params, final training and test error, seconds.

  python scripts/degradation.py --data digits --output runs/degradation
  python scripts/degradation.py --plot-only runs/degradation

The default run is the paper's: plain-20/32/44/56 and ResNet-20/32/44/56/110, on
scikit-learn's digits for {networks.DIGITS_SETTINGS.epochs} epochs with \
--warmup-epochs {networks.DIGITS_SETTINGS.warmup_epochs} (the paper's warm-up, at
a tenth of the rate), ResNet-110 at --lr-110 {networks.DIGITS_DEEPEST_LR:g}.  It took 3 to 5 minutes
with --jobs 2 on a 2-core Intel Xeon shared with other work, and about 6 minutes of
CPU time.  The paper's own experiment, CIFAR-10 for 64k iterations, on a GPU:

  python scripts/degradation.py --data cifar10 --data-file cifar-10-python.tar.gz \\
      --epochs 164 --warmup-epochs 0 --lr-110 0.1 --device gpu --output runs/cifar10
"""

EPILOG = """\
--jobs N trains N networks at a time, each in its own process with one math thread
(Paddle's CPU training gains nothing from a second thread; a second process does).
Each network's log (the seconds aside) and weights are bitwise those of --jobs 1.
Each process holds the lock of its run's folder, this one that of OUTPUT, once every
argument is checked: a refused run leaves OUTPUT as it was.  A network that fails is
one line and the others finish (exit code 1; if every one fails, one line on stderr
says so).  Ctrl-C or SIGTERM, even while the workers start, stops every network at a
step boundary, one line each, keeping the last epoch's checkpoint, then one line on
stderr; --resume goes on from there.  Started with SIGINT ignored (in the background),
it ignores Ctrl-C.

--plot-only DIR draws the figures and the table from finished runs' log.csv,
run.json and responses.csv in DIR/<arch>/, wherever they were trained, into DIR
(or --output); it takes no training flag, and replaces a figure there only with
--force.  --resume continues unfinished runs, skips finished ones and starts the
others; the settings must be the same.
Exit codes: 0 done; 1 a network failed; 2 a bad argument or an output that cannot
be written (one line on stderr); 130 stopped by Ctrl-C (143 by SIGTERM).
"""


def make_parser() -> ArgumentParser:
    parser = ArgumentParser(prog=PROG, description=DESCRIPTION, epilog=EPILOG,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    add_integer(parser, '--plain', nargs='*', default=list(degradation.PLAIN_DEPTHS),
                help='the depths (6n+2) of the plain networks (default: '
                     f'{" ".join(map(str, degradation.PLAIN_DEPTHS))})')
    add_integer(parser, '--resnet', nargs='*', default=list(degradation.DEFAULT_DEPTHS),
                help='the depths of the ResNets (default: '
                     f'{" ".join(map(str, degradation.DEFAULT_DEPTHS))})')
    add_integer(parser, '--depths', nargs='+',
                help='the same depths for both kinds, instead of --plain and --resnet')
    cli.add_jobs(parser, 'networks')
    add_number(parser, '--lr-110', low=0, above=True, default=networks.DIGITS_DEEPEST_LR,
               metavar='RATE', help='the learning rate of ResNet-110 (default: '
                                    f'{networks.DIGITS_DEEPEST_LR:g}: on the digits it does not '
                                    "train at the paper's 0.1, even after the warm-up; give "
                                    '--lr-110 0.1 for CIFAR-10)')
    cli.add_data_arguments(parser)
    cli.add_output(parser, 'directory for the runs, the figures and the table')
    parser.add_argument('--plot-only', metavar='DIR',
                        help='train nothing: draw the runs found in DIR')
    cli.add_settings_arguments(parser, networks.DIGITS_SETTINGS)
    cli.add_run_arguments(parser)
    return parser


def chosen_archs(given: Sequence[str], args: argparse.Namespace) -> list[str]:
    if args.depths is not None:
        for name in ('plain', 'resnet'):
            if name in given:
                raise UsageError(f'--depths sets both kinds; give it or --{name}, not both')
        return degradation.degradation_archs(args.depths, args.depths, ('--depths', '--depths'))
    return degradation.degradation_archs(args.plain, args.resnet)


def train(given: Sequence[str], args: argparse.Namespace) -> int:
    """Train the chosen networks into args.output; the exit code of the runs."""
    if args.output is None:
        raise UsageError('--output DIR is needed (or --plot-only DIR to draw finished runs)')
    archs = chosen_archs(given, args)
    experiment = degradation.degradation_experiment(archs, cli.settings_from(args), args.lr_110)
    return cli.train_experiment(experiment, args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    given = given_flags(parser, argv, args)
    if args.plot_only is None:
        code = train(given, args)     # a stopped run, or one whose runs all failed, raised its Stop
        source, output = args.output, args.output
    else:
        code = 0
        source = args.plot_only
        output = cli.finished_runs_folder(
            given, '--plot-only', source, args.output, args.force,
            lambda folder: [path for figure in (FIGURE, RESPONSES_FIGURE)
                            for path in plots.output_paths(os.path.join(folder, figure))])
    runs = degradation.finished_runs(source)
    paths = degradation.draw(runs, os.path.join(output, FIGURE))
    print(degradation.format_table(runs))
    found = degradation.finished_responses(source)
    if found:
        names = sorted({runs[arch].data for arch in found if arch in runs})
        paths += degradation.draw_responses(found, os.path.join(output, RESPONSES_FIGURE), names)
        print('\n'.join(['', 'Figure 7, the layer responses:', *degradation.response_findings(found)]))
    print(f'figures: {", ".join(paths)}')
    return code


if __name__ == '__main__':
    run(main, PROG)
