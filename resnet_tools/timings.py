"""How long the scripts take, as multiples of `python -c "import paddle"`.

Paddle's import alone takes over a second, and the machine's speed varies from one
run to the next, so every command is timed in a fresh Python process, a few times
in turn with the import (interleaved, so that a busy spell hits all of them), and
the median of each is divided by the median import time.
"""
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time

from paddleinfo.progress import progress
from paddleinfo.zoo import SIDE_BY_SIDE

REPO = pathlib.Path(__file__).resolve().parents[1]
IMPORT = ('-c', 'import paddle')
# The commands of issue 8, with their targets (at most this multiple of the import).
COMMANDS = (
    (('scripts/summary.py', '--layers', '50'), None),
    (('scripts/summary.py', '--layers', '152'), 1.8),
    (('scripts/summary.py', '--overview'), 4.0),
    (('scripts/summary.py', '--models', *SIDE_BY_SIDE), None),
)
SLOW_COMMANDS = ((('scripts/compare.py',), None),)


def run_once(arguments):
    """Seconds one fresh `python arguments...` takes, from the repository's directory;
    its output is discarded, and a failure is an error."""
    start = time.perf_counter()
    subprocess.run([sys.executable, *arguments], cwd=REPO, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, 'PYTHONPATH': str(REPO)})
    return time.perf_counter() - start


def measure(commands, repeats, clock=run_once):
    """{arguments: [seconds, ...]} for the import and every command, run in turn
    `repeats` times."""
    times = {IMPORT: [], **{command: [] for command in commands}}
    for _ in progress(range(repeats), 'rounds'):
        for arguments in times:
            times[arguments].append(clock(arguments))
    return times


def ratios(times):
    """[(command text, median seconds, multiple of the import)], the import first."""
    base = statistics.median(times[IMPORT])
    return [(command_text(arguments), statistics.median(seconds),
             statistics.median(seconds) / base) for arguments, seconds in times.items()]


def command_text(arguments):
    return 'python ' + ' '.join(f'"{word}"' if ' ' in word else word for word in arguments)


def table(times, targets):
    """The Markdown table the README shows."""
    lines = ['| command | median s | x import | target |', '|---|---:|---:|---|']
    for (text, seconds, ratio), target in zip(ratios(times), [None, *targets]):
        verdict = '' if target is None else (
            f'<= {target:g}: {"met" if ratio <= target else "missed"}')
        lines.append(f'| `{text}` | {seconds:.2f} | {ratio:.2f} | {verdict} |')
    return '\n'.join(lines)


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        for line in pathlib.Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    except OSError:
        pass
    import paddle
    return (f'{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, '
            f'Paddle {paddle.__version__}')
