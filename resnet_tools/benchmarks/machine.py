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
ceiling of that row as much as the row itself.
"""
import os
import platform
import statistics
import textwrap
import time

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import paddle
import threadpoolctl

from resnet_tools.deploy.inference import SEED



# Paddle's default for the dynamic graph and for Paddle Inference alike.
DEFAULT_THREADS = 1
# 2048 x 2048 float32: three 16 MiB matrices, far beyond the caches, and 8.6 G
# multiply-adds, long enough to time (about 0.2 s on one AVX2 core).
CEILING_SIZE = 2048


# Set on some CPUs for older OpenBLAS builds; they choose the kernel numpy runs.
OPENBLAS_VARIABLES = ('OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE')


def all_cores() -> int:
    """The cores this process may run on (what `nproc` prints)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def thread_count(threads: int) -> int:
    """The number of threads --threads N means: N, or every core for 0."""
    return all_cores() if threads == 0 else threads


def set_eager_threads(threads: int) -> None:
    """The math threads of Paddle's dynamic graph (its MKL and OpenMP), for this process."""
    paddle.base.core.set_num_threads(threads)


def gmac_per_second(macs: float, seconds: float) -> float:
    return macs / seconds / 1e9


def numpy_blas() -> dict[str, Any]:
    """threadpoolctl's record of the BLAS numpy calls: library, version, kernel.

    Paddle may load a BLAS of its own; numpy's is the one under numpy's folder.
    """
    blas = [info for info in threadpoolctl.threadpool_info() if info['user_api'] == 'blas']
    # numpy's wheels keep their OpenBLAS in site-packages/numpy.libs.
    own = [info for info in blas
           if os.path.basename(os.path.dirname(info['filepath'])).startswith('numpy')]
    return (own or blas or [{}])[0]


def describe_blas(info: Mapping[str, Any], environ: Mapping[str, str] = os.environ) -> str:
    """One line on the BLAS kernel that ran, and the variables that chose it."""
    if not info:
        return 'numpy BLAS unknown (threadpoolctl found none)'
    parts = [f"{info.get('prefix', '?')} {info.get('version') or ''}".strip(),
             f"kernel {info.get('architecture') or 'not reported'}"]
    if info.get('threading_layer'):
        parts.append(f"{info['threading_layer']} threading")
    settings = [f'{name}={environ[name]}' for name in OPENBLAS_VARIABLES if name in environ]
    parts.append(', '.join(settings) + ' set' if settings else 'no OPENBLAS_CORETYPE set')
    return ', '.join(parts)


def matmul(size: int = CEILING_SIZE) -> Callable[[], np.ndarray]:
    """A call of numpy's float32 product of two seeded size x size matrices: size^3
    multiply-adds, on as many threads as numpy's BLAS is given."""
    rng = np.random.RandomState(SEED)
    a, b = (rng.standard_normal((size, size)).astype('float32') for _ in range(2))
    out = np.empty_like(a)
    return lambda: np.matmul(a, b, out=out)


def with_ceiling(runs: Mapping[str, Callable[[], object]], warmup: int, repeats: int,
                 size: int = CEILING_SIZE) -> tuple[dict[str, float], float]:
    """(interleaved() of `runs` and the matrix product, the product's GMAC/s)."""
    medians = interleaved({**runs, 'ceiling': matmul(size)}, warmup, repeats)
    return medians, gmac_per_second(size ** 3, medians.pop('ceiling'))


def interleaved(runs: Mapping[str, Callable[[], object]], warmup: int, repeats: int) -> dict[str, float]:
    """{name: median seconds per call} for the callables in `runs`, called in turn."""
    for _ in range(warmup):
        for run in runs.values():
            run()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
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
