"""The shortcut options of the paper's Section 3.3 (its Table 3), measured on ResNet-20."""
import argparse
import os
from collections.abc import Sequence

from _bootstrap import run
from paddleinfo.arguments import ArgumentParser, add_choice, add_integer, given_flags, refuse
from resnet_tools import cli, files
from resnet_tools.errors import UsageError
from resnet_tools.paper import networks, shortcuts
from resnet_tools.training.settings import SEED_RANGE

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


def make_parser() -> ArgumentParser:
    parser = ArgumentParser(prog=PROG, description=DESCRIPTION, epilog=EPILOG,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    add_choice(parser, '--options', networks.SHORTCUT_OPTIONS, nargs='+',
               default=list(networks.SHORTCUT_OPTIONS), metavar='A|B|C',
               help='the shortcut options (default: A B C)')
    add_integer(parser, '--seeds', nargs='+', low=SEED_RANGE[0], high=SEED_RANGE[1],
                default=list(shortcuts.SHORTCUT_SEEDS),
                help=f'the seeds of each option (default: '
                     f'{" ".join(map(str, shortcuts.SHORTCUT_SEEDS))})')
    cli.add_jobs(parser, 'runs')
    cli.add_data_arguments(parser)
    cli.add_output(parser, 'directory for the runs and the table')
    parser.add_argument('--table-only', metavar='DIR',
                        help='train nothing: print the table of the runs found in DIR')
    cli.add_settings_arguments(parser, networks.DIGITS_SETTINGS)
    cli.add_run_arguments(parser)
    return parser


def train(given: Sequence[str], args: argparse.Namespace) -> int:
    """Train every option and seed into args.output; the exit code of the runs."""
    refuse(given, ['seed'], 'does not go with shortcuts.py, which trains every seed of '
                                '--seeds')
    if args.output is None:
        raise UsageError('--output DIR is needed (or --table-only DIR to print finished runs)')
    for flag, values in (('--options', args.options), ('--seeds', args.seeds)):
        repeated = sorted({str(value) for value in values if values.count(value) > 1})
        if repeated:
            raise UsageError(f'{flag} {repeated[0]} is given twice; give each once')
    experiment = shortcuts.shortcut_experiment(args.options, args.seeds, cli.settings_from(args))
    return cli.train_experiment(experiment, args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    given = given_flags(parser, argv, args)
    if args.table_only is None:
        code = train(given, args)     # a stopped run, or one whose runs all failed, raised its Stop
        source = output = args.output
    else:
        code = 0
        source = args.table_only
        output = cli.finished_runs_folder(
            given, '--table-only', source, args.output, args.force,
            lambda folder: [os.path.join(folder, shortcuts.SHORTCUT_TABLE)])
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
