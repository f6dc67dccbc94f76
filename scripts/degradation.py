"""The degradation problem of the paper's Figure 6: plain networks get worse with
depth, residual networks do not."""
import argparse
import os
import time

from _bootstrap import run
from paddleinfo.cli import ArgumentParser
from paddleinfo.progress import on_terminal
from resnet_tools import cli, training
from resnet_tools.errors import UsageError
from resnet_tools.files import check_writable_directory
from resnet_tools.paper import degradation, networks
from resnet_tools.specs import display_name
from resnet_tools.training import data, jobs, locking
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
Each process holds the lock of its run's folder, this one that of OUTPUT.  A network
that fails is one line and the others finish (exit code 1).  Ctrl-C stops every
network at a step boundary, one line each, keeping the last epoch's checkpoint;
--resume goes on from there.

--plot-only DIR draws the figures and the table from finished runs' log.csv,
run.json and responses.csv in DIR/<arch>/, wherever they were trained, into DIR
(or --output); it takes no training flag, and replaces a figure there only with
--force.  --resume continues unfinished runs, skips finished ones and starts the
others; the settings must be the same.
Exit codes: 0 done; 1 a network failed; 2 a bad argument or an output that cannot
be written (one line on stderr); 130 stopped by Ctrl-C (143 by SIGTERM).
"""


def make_parser():
    parser = ArgumentParser(prog=PROG, description=DESCRIPTION, epilog=EPILOG,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--plain', type=int, nargs='*', default=list(degradation.PLAIN_DEPTHS),
                        metavar='N', help='the depths (6n+2) of the plain networks (default: '
                                          f'{" ".join(map(str, degradation.PLAIN_DEPTHS))})')
    parser.add_argument('--resnet', type=int, nargs='*', default=list(degradation.DEFAULT_DEPTHS),
                        metavar='N', help='the depths of the ResNets (default: '
                                          f'{" ".join(map(str, degradation.DEFAULT_DEPTHS))})')
    parser.add_argument('--depths', type=int, nargs='+', metavar='N',
                        help='the same depths for both kinds, instead of --plain and --resnet')
    parser.add_argument('--jobs', type=int, default=jobs.default_workers(), metavar='N',
                        help='networks trained at a time, one process each (default: the '
                             f'number of cores, {jobs.default_workers()})')
    parser.add_argument('--lr-110', type=float, default=networks.DIGITS_DEEPEST_LR, metavar='RATE',
                        help='the learning rate of ResNet-110 (default: '
                             f'{networks.DIGITS_DEEPEST_LR:g}: on the digits it does not train at '
                             "the paper's 0.1, even after the warm-up; give --lr-110 0.1 for "
                             'CIFAR-10)')
    data.add_arguments(parser)
    parser.add_argument('--output', metavar='DIR',
                        help='the directory for the runs, the figures and the table')
    parser.add_argument('--plot-only', metavar='DIR',
                        help='train nothing: draw the runs found in DIR')
    cli.add_training_arguments(parser, networks.DIGITS_SETTINGS)
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


def chosen_archs(argv, args):
    given = flags_given(argv, args)
    if args.depths is not None:
        for name in ('plain', 'resnet'):
            if name in given:
                raise UsageError(f'--depths sets both kinds; give it or --{name}, not both')
        return degradation.degradation_archs(args.depths, args.depths, ('--depths', '--depths'))
    return degradation.degradation_archs(args.plain, args.resnet)


def train(argv, args):
    """Train the chosen networks into args.output; the exit code of the runs."""
    if args.output is None:
        raise UsageError('--output DIR is needed (or --plot-only DIR to draw finished runs)')
    archs = chosen_archs(argv, args)
    jobs.check_workers(args.jobs)
    settings = cli.settings_from(args)
    degradation.settings_of(networks.DEEPEST, settings, args.lr_110).check()
    training.set_device(args.device)
    check_writable_directory('--output', args.output)
    with locking.owning(args.output):
        started = degradation.prepare_degradation(archs, args.output, args.resume, args.force)
        images = data.from_args(args)
        source = data.source_from_args(args)
        workers = min(args.jobs, len(started))
        print(f'{", ".join(map(display_name, started))} on {images.describe()}; '
              f'{workers} at a time', flush=True)
        start = time.perf_counter()
        outcomes = degradation.run_degradation(started, source, settings, args.output, workers,
                                         force=args.force, device=args.device,
                                         shown=on_terminal(),
                                         report=lambda line: print(line, flush=True),
                                         deepest_lr=args.lr_110)
        print(jobs.wall_time(start, len(started), 'network', workers), flush=True)
    return jobs.exit_code(outcomes)


def main(argv=None):
    args = make_parser().parse_args(argv)
    if args.plot_only is None:
        code = train(argv, args)
        if code > 128:
            return code
        source, output = args.output, args.output
    else:
        code = 0
        for name in flags_given(argv, args):
            if name not in PLOT_ONLY_FLAGS:
                raise UsageError(f'--{name.replace("_", "-")} does not go with --plot-only, '
                                 f'which trains nothing')
        if not os.path.isdir(args.plot_only):
            raise UsageError(f'--plot-only {args.plot_only} is not a directory')
        source, output = args.plot_only, args.output or args.plot_only
        check_writable_directory('--output', output)
        for figure in (FIGURE, RESPONSES_FIGURE):
            for path in plots.output_paths(os.path.join(output, figure)):
                if os.path.exists(path) and not args.force:
                    raise UsageError(f'{path} exists already; give --force to replace it')
        os.makedirs(output, exist_ok=True)
    runs = degradation.finished_runs(source)
    paths = degradation.draw(runs, os.path.join(output, FIGURE))
    print(degradation.format_table(runs))
    found = degradation.finished_responses(source)
    if found:
        names = sorted({runs[arch][0].get('data', '?') for arch in found if arch in runs})
        paths += degradation.draw_responses(found, os.path.join(output, RESPONSES_FIGURE), names)
        print('\n'.join(['', 'Figure 7, the layer responses:', *degradation.response_findings(found)]))
    print(f'figures: {", ".join(paths)}')
    return code


if __name__ == '__main__':
    run(main, PROG)
