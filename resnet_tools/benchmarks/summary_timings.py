"""How long the scripts take, as multiples of `python -c "import paddle"`.

Paddle's import alone takes over a second, and the machine's speed varies from one
run to the next, so every command is timed in a fresh Python process, a few times
in turn with the import (interleaved, so that a busy spell hits all of them), and
the median of each is divided by the median import time.
"""
import os
import pathlib
import statistics
import subprocess
import sys
import textwrap
import time

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeAlias

from paddleinfo.progress import progress
from paddleinfo.zoo import SIDE_BY_SIDE
from resnet_tools.benchmarks.machine import machine  # noqa: F401 -- timings.py prints it

# A command's arguments after `python`, and the most it may take, as a multiple of the import.
Command: TypeAlias = tuple[tuple[str, ...], float | None]

REPO = pathlib.Path(__file__).resolve().parents[2]
IMPORT = ('-c', 'import paddle')
NETS = 'docs/examples/nets.py'
# A command cell longer than this is cut in the table (which then fits 100 columns),
# and the command is written out in full under it.
COMMAND_WIDTH = 56
# The commands of issue 8, with their targets (at most this multiple of the import).
COMMANDS: tuple[Command, ...] = (
    (('scripts/summary.py', '--layers', '50'), None),
    (('scripts/summary.py', '--layers', '152'), 1.8),
    (('scripts/summary.py', '--overview'), 4.0),
    (('scripts/summary.py', '--models', *SIDE_BY_SIDE), None),
    # issue 14: a transformer or an LSTM summarises as fast as a CNN of its size (the
    # encoder has 18.9 million parameters, ResNet-18 11.7 and ResNet-34 21.8).
    (('-m', 'paddleinfo', 'resnet34'), None),
    (('-m', 'paddleinfo', f'{NETS}:transformer', '--input', '64x512'), None),
    (('-m', 'paddleinfo', f'{NETS}:lstm', '--input', '50x16'), None),
    # issue 23: the training step's estimate against the forward pass's summary
    (('-m', 'paddleinfo', 'resnet50', '--macs'), None),
    (('-m', 'paddleinfo', 'resnet50', '--training'), None),
)
# (command, the command it is measured against, the most it may take as a multiple of
# it): issue 23's target, the training step's MACs and memory of ResNet-50, estimated
# without running a kernel, in at most twice the forward-only summary's time.
RELATIVE: tuple[tuple[tuple[str, ...], tuple[str, ...], float], ...] = (
    (('-m', 'paddleinfo', 'resnet50', '--training'), ('-m', 'paddleinfo', 'resnet50', '--macs'),
     2.0),
)
SLOW_COMMANDS: tuple[Command, ...] = ((('scripts/compare.py',), None),)


def run_once(arguments: Sequence[str]) -> float:
    """Seconds one fresh `python arguments...` takes, from the repository's directory;
    its output is discarded, and a failure is an error."""
    start = time.perf_counter()
    subprocess.run([sys.executable, *arguments], cwd=REPO, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, 'PYTHONPATH': str(REPO)})
    return time.perf_counter() - start


def measure(commands: Iterable[tuple[str, ...]], repeats: int,
            clock: Callable[[tuple[str, ...]], float] = run_once) -> dict[tuple[str, ...], list[float]]:
    """{arguments: [seconds, ...]} for the import and every command, run in turn
    `repeats` times."""
    times: dict[tuple[str, ...], list[float]] = {IMPORT: [], **{command: [] for command in commands}}
    for _ in progress(range(repeats), 'rounds'):
        for arguments in times:
            times[arguments].append(clock(arguments))
    return times


def ratios(times: Mapping[tuple[str, ...], Sequence[float]]) -> list[tuple[str, float, float]]:
    """[(command text, median seconds, multiple of the import)], the import first."""
    base = statistics.median(times[IMPORT])
    return [(command_text(arguments), statistics.median(seconds),
             statistics.median(seconds) / base) for arguments, seconds in times.items()]


def relative_lines(times: Mapping[tuple[str, ...], Sequence[float]]) -> list[str]:
    """A line for each pair of RELATIVE whose commands were timed: the one as a multiple of
    the other, whole and past the import (which both pay), with its target."""
    base = statistics.median(times[IMPORT])
    lines = []
    for command, reference, target in RELATIVE:
        if command not in times or reference not in times:
            continue
        mine, theirs = statistics.median(times[command]), statistics.median(times[reference])
        whole = mine / theirs
        past = (mine - base) / (theirs - base) if theirs > base else float('inf')
        lines.append(f'`{command_text(command)}` takes {whole:.2f} x `{command_text(reference)}` '
                     f'(target <= {target:g}: {"met" if whole <= target else "missed"}); past the '
                     f'import, {past:.2f} x.')
    return lines


def command_text(arguments: Iterable[str]) -> str:
    return 'python ' + ' '.join(f'"{word}"' if ' ' in word else word for word in arguments)


def cut(text: str, width: int = COMMAND_WIDTH) -> str:
    """`text` with each path/FILE.py:function shown by its file name, then as many of its
    words as fit in `width`, with ' ...'."""
    text = ' '.join(pathlib.PurePosixPath(word).name if '/' in word and ':' in word else word
                    for word in text.split(' '))
    if len(text) <= width:
        return text
    words = text[:width - 4].rsplit(' ', 1)[0]
    return f'{words} ...'


def table(times: Mapping[tuple[str, ...], Sequence[float]], targets: Iterable[float | None]) -> str:
    """The Markdown table docs/paddleinfo.md shows, and under it every command that the
    table cuts, in full."""
    lines = ['| command | median s | x import | target |', '|---|---:|---:|---|']
    cut_commands = []
    for (text, seconds, ratio), target in zip(ratios(times), [None, *targets]):
        verdict = '' if target is None else (
            f'<= {target:g}: {"met" if ratio <= target else "missed"}')
        lines.append(f'| `{cut(text)}` | {seconds:.2f} | {ratio:.2f} | {verdict} |')
        if cut(text) != text:
            cut_commands.append(text)
    if cut_commands:
        lines += ['', 'In full:'] + [textwrap.fill(text, 100, initial_indent='  ',
                                                   subsequent_indent='    ',
                                                   break_on_hyphens=False, break_long_words=False)
                                     for text in cut_commands]
    return '\n'.join(lines)
