"""The shortcut options of the paper's Section 3.3 (its Table 3), measured on ResNet-20."""
import argparse
import os
import time

from _bootstrap import run
from paddleinfo.cli import ArgumentParser
from paddleinfo.progress import on_terminal
from resnet_tools import cli, files, training
from resnet_tools.errors import UsageError
from resnet_tools.files import check_writable_directory
from resnet_tools.paper import networks, shortcuts
from resnet_tools.specs import display_name
from resnet_tools.training import data, jobs, locking

PROG = 'shortcuts.py'

DESCRIPTION = f"""\
Train ResNet-20 with each shortcut option of Section 3.3 for several seeds, each
into OUTPUT/<option>-seed<k>/ as scripts/train.py would, in --jobs processes side
by side; then print a table, also written to OUTPUT/{shortcuts.SHORTCUT_TABLE}: option, params,
final training and test error as mean ± sample std over the seeds, with the
paper's Table 3 (ResNet-34 on ImageNet) beside it.

  A  zero-padding shortcuts where a block changes the shape: no parameters;
  B  1x1 conv + BN projections there, identity elsewhere;
  C  projections in every block.

  python scripts/shortcuts.py --data digits --output runs/shortcuts
  python scripts/shortcuts.py --table-only runs/shortcuts

The default: A, B and C, seeds {' '.join(map(str, shortcuts.SHORTCUT_SEEDS))}, on scikit-learn's \
digits for \
{networks.DIGITS_SETTINGS.epochs} epochs with
--warmup-epochs {networks.DIGITS_SETTINGS.warmup_epochs}, as scripts/degradation.py trains.
"""

EPILOG = """\
--jobs, the locks, failures, Ctrl-C and --resume behave as in degradation.py.
--table-only DIR prints the table of the finished runs in DIR/<option>-seed<k>/ and
writes it to DIR/table.txt (or --output), replacing one there only with --force.
Exit codes: 0 done; 1 a run failed; 2 a bad argument or an output that cannot be
written (one line on stderr); 130 stopped by Ctrl-C (143 by SIGTERM).
"""


def make_parser():
    parser = ArgumentParser(prog=PROG, description=DESCRIPTION, epilog=EPILOG,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--options', nargs='+', default=list(networks.SHORTCUT_OPTIONS),
                        metavar='A|B|C', help='the shortcut options (default: A B C)')
    parser.add_argument('--seeds', type=int, nargs='+', default=list(shortcuts.SHORTCUT_SEEDS),
                        metavar='N', help='the seeds of each option (default: '
                                          f'{" ".join(map(str, shortcuts.SHORTCUT_SEEDS))})')
    parser.add_argument('--jobs', type=int, default=jobs.default_workers(), metavar='N',
                        help='runs trained at a time, one process each (default: the number '
                             f'of cores, {jobs.default_workers()})')
    data.add_arguments(parser)
    parser.add_argument('--output', metavar='DIR', help='the directory for the runs and the table')
    parser.add_argument('--table-only', metavar='DIR',
                        help='train nothing: print the table of the runs found in DIR')
    cli.add_training_arguments(parser, networks.DIGITS_SETTINGS)
    return parser


TABLE_ONLY_FLAGS = ('table_only', 'output', 'force')


def flags_given(argv):
    parser = make_parser()
    for action in parser._actions:
        action.default = argparse.SUPPRESS
    return list(vars(parser.parse_args(argv)))


def check_runs(options, seeds):
    for option in options:
        if option not in networks.SHORTCUT_OPTIONS:
            raise UsageError(f'--options {option} is not known; choose from '
                             f'{", ".join(networks.SHORTCUT_OPTIONS)}')
    for flag, values in (('--options', options), ('--seeds', seeds)):
        repeated = sorted({str(value) for value in values if values.count(value) > 1})
        if repeated:
            raise UsageError(f'{flag} {repeated[0]} is given twice; give each once')
    for seed in seeds:
        if not 0 <= seed < 2 ** 32:
            raise UsageError(f'--seeds {seed} is out of range: from 0 to {2 ** 32 - 1}')
    return shortcuts.shortcut_runs(options, seeds)


def train(args, argv):
    if 'seed' in flags_given(argv):
        raise UsageError('--seed does not go with shortcuts.py, which trains every seed of '
                         '--seeds')
    if args.output is None:
        raise UsageError('--output DIR is needed (or --table-only DIR to print finished runs)')
    runs = check_runs(args.options, args.seeds)
    jobs.check_workers(args.jobs)
    settings = cli.settings_from(args)
    training.set_device(args.device)
    check_writable_directory('--output', args.output)
    with locking.owning(args.output):
        started = {}
        for _, _, folder in runs:
            path = os.path.join(args.output, folder)
            started[folder] = args.resume and training.has_checkpoint(path)
            training.prepare_output(path, started[folder], args.force)
        images = data.from_args(args)
        workers = min(args.jobs, len(runs))
        print(f'{display_name(shortcuts.SHORTCUT_ARCH)}, shortcuts {" ".join(args.options)}, '
              f'seeds {" ".join(map(str, args.seeds))} on {images.describe()}; '
              f'{workers} at a time', flush=True)
        start = time.perf_counter()
        outcomes = shortcuts.run_shortcuts(runs, data.source_from_args(args), settings, args.output,
                                       workers, started, force=args.force, device=args.device,
                                       shown=on_terminal(),
                                       report=lambda line: print(line, flush=True))
        print(jobs.wall_time(start, len(runs), 'run', workers), flush=True)
    return jobs.exit_code(outcomes)


def main(argv=None):
    args = make_parser().parse_args(argv)
    if args.table_only is None:
        code = train(args, argv)
        if code > 128:
            return code
        source = output = args.output
    else:
        code = 0
        for name in flags_given(argv):
            if name not in TABLE_ONLY_FLAGS:
                raise UsageError(f'--{name.replace("_", "-")} does not go with --table-only, '
                                 f'which trains nothing')
        if not os.path.isdir(args.table_only):
            raise UsageError(f'--table-only {args.table_only} is not a directory')
        source, output = args.table_only, args.output or args.table_only
        check_writable_directory('--output', output)
        path = os.path.join(output, shortcuts.SHORTCUT_TABLE)
        if os.path.exists(path) and not args.force:
            raise UsageError(f'{path} exists already; give --force to replace it')
        os.makedirs(output, exist_ok=True)
    found = shortcuts.finished_shortcut_runs(source)
    text = shortcuts.format_shortcut_table(found)
    finding = shortcuts.shortcut_spread_finding(found)
    if finding:
        text += f'\n{finding}'
    files.write_bytes(os.path.join(output, shortcuts.SHORTCUT_TABLE), text + '\n')
    print(text)
    print(f'table: {os.path.join(output, shortcuts.SHORTCUT_TABLE)}')
    return code


if __name__ == '__main__':
    run(main, PROG)
