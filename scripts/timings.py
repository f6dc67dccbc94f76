"""Time the summary commands in fresh processes, as multiples of importing Paddle."""
import argparse
import textwrap
from collections.abc import Sequence

from _bootstrap import run
from paddleinfo.arguments import ArgumentParser
from resnet_tools import cli
from resnet_tools.benchmarks import summary_timings as timings

DESCRIPTION = """\
Time `python -c "import paddle"` and the summary commands, each in a fresh Python
process, in turn (so that a busy moment of the machine hits all of them), and print
the median of each as a multiple of the import time, as a Markdown table.

  python scripts/timings.py                 5 rounds of the summary commands
  python scripts/timings.py --with-compare  ... and compare.py (about a minute a round)

It measures, it does not test: the exit code is 0 whether or not a target is met.
"""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = ArgumentParser(prog='timings.py', description=DESCRIPTION,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_repeats(parser, 5, 100, 'rounds; each command runs once per round')
    parser.add_argument('--with-compare', action='store_true',
                        help='time scripts/compare.py too')
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    repeats = args.repeats
    chosen = timings.COMMANDS + (timings.SLOW_COMMANDS if args.with_compare else ())
    times = timings.measure([command for command, _ in chosen], repeats)
    print(f'median of {repeats} runs each, in fresh processes, one after another')
    print(f'machine: {timings.machine()}')
    print()
    print(timings.table(times, [target for _, target in chosen]))
    for line in timings.relative_lines(times):
        print()
        print(textwrap.fill(line, 100, break_on_hyphens=False, break_long_words=False))


if __name__ == '__main__':
    run(main, 'timings.py')
