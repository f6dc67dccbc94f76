"""The machine a benchmark runs on, and how it is timed: its cores and CPU, the math
threads, the ceiling (numpy's float32 matrix product, timed in turn with every row),
and interleaved medians.

Every comparison is interleaved (A, B, A, B, ...) after a warm-up, so that a slow
spell of a shared machine falls on both sides alike, and reports medians, which one
stray run does not move.

The machine's ceiling is what numpy's float32 matrix product reaches at the same
number of threads: n^3 multiply-adds for two n x n matrices, a dense kernel that
BLAS libraries tune to the CPU's vector units.  A network of convolutions cannot
beat that by much, so every GMAC/s is also shown as a share of it.  The product is
timed in turn with the two sides of each row, so that a busy spell lowers the
ceiling of that row as much as the row itself.  The product, the cores, the threads
and numpy's BLAS live in paddleinfo.ceiling, which paddleinfo's per-layer timing
reads too; they are imported here under their old names.
"""
import platform
import statistics
import textwrap
import time

from collections.abc import Callable, Iterable, Mapping

import numpy as np
import paddle

# The ceiling and the math threads have one home, paddleinfo.ceiling; the benchmarks
# and their tests read them here too.
from paddleinfo.ceiling import (CEILING_SIZE, DEFAULT_THREADS,  # noqa: F401
                                all_cores, describe_blas, gmac_per_second, numpy_blas,
                                set_eager_threads)
from paddleinfo.ceiling import matmul as seeded_matmul
from resnet_tools.deploy.inference import SEED


def thread_count(threads: int) -> int:
    """The number of threads --threads N means: N, or every core for 0."""
    return all_cores() if threads == 0 else threads


def matmul(size: int = CEILING_SIZE) -> Callable[[], np.ndarray]:
    """paddleinfo.ceiling's product, of matrices seeded as the exports' images are."""
    return seeded_matmul(size, SEED)


def with_ceiling(runs: Mapping[str, Callable[[], object]], warmup: int, repeats: int,
                 size: int = CEILING_SIZE, pause: float = 0.0) -> tuple[dict[str, float], float]:
    """(interleaved() of `runs` and the matrix product, the product's GMAC/s)."""
    medians = interleaved({**runs, 'ceiling': matmul(size)}, warmup, repeats, pause)
    return medians, gmac_per_second(size ** 3, medians.pop('ceiling'))


# How long the thread pools of different libraries in one process keep spinning after a
# call: OpenBLAS's threads, Intel OpenMP's (KMP_BLOCKTIME, 200 ms by default), ONNX
# Runtime's.  While they spin on the 2 cores, the next library's call runs at a
# fraction of its speed (measured: Paddle Inference after numpy's product, 47 ms
# against 4.5 ms), so runs of several libraries wait this long between calls, untimed.
SETTLE = 0.25


def interleaved(runs: Mapping[str, Callable[[], object]], warmup: int, repeats: int,
                pause: float = 0.0) -> dict[str, float]:
    """{name: median seconds per call} for the callables in `runs`, called in turn,
    each after `pause` seconds, untimed (SETTLE where they are different libraries)."""
    for _ in range(warmup):
        for run in runs.values():
            run()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            if pause:
                time.sleep(pause)
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def cpu_model() -> str:
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as info:
            for line in info:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown CPU'


def machine() -> str:
    return (f'{cpu_model()}, {all_cores()} cores (nproc), Paddle {paddle.__version__}, '
            f'Python {platform.python_version()}')


WIDTH = 100


def wrapped(lines: Iterable[str], width: int = WIDTH) -> list[str]:
    """`lines` with every line of text longer than `width` wrapped, indented by two;
    table lines (starting with '|') are left as they are."""
    out = []
    for line in lines:
        if len(line) <= width or line.startswith('|'):
            out.append(line)
        else:
            out.extend(textwrap.wrap(line, width, subsequent_indent='  ',
                                     break_on_hyphens=False))
    return out
