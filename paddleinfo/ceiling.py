"""The machine's ceiling, and the math threads it is measured at: one home for both, read
by paddleinfo.timing and by the reproduction's benchmarks.

The ceiling is what numpy's float32 matrix product reaches at a given number of threads:
n^3 multiply-adds for two n x n matrices, a dense kernel that BLAS libraries tune to the
CPU's vector units, over the median time of a few products, as GMAC/s.  A network of
convolutions cannot beat that by much, so a layer's GMAC/s reads best as a share of it.
numpy's BLAS threads are limited with threadpoolctl for the measurement only; Paddle's
dynamic graph has math threads of its own (its MKL and OpenMP), set with
set_eager_threads.
"""
import os
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import threadpoolctl

# 2048 x 2048 float32: three 16 MiB matrices, far beyond the caches, and 8.6 G
# multiply-adds, long enough to time (about 0.2 s on one AVX2 core).
CEILING_SIZE = 2048
# Paddle's default number of math threads, for the dynamic graph and Paddle Inference.
DEFAULT_THREADS = 1
# Of the matrices the product multiplies: the same numbers on every run.
SEED = 0
# Set on some CPUs for older OpenBLAS builds; they choose the kernel numpy runs.
OPENBLAS_VARIABLES = ('OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE')


def all_cores() -> int:
    """The cores this process may run on (what `nproc` prints)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def set_eager_threads(threads: int) -> None:
    """The math threads of Paddle's dynamic graph (its MKL and OpenMP), for this process."""
    import paddle
    paddle.base.core.set_num_threads(threads)


def eager_threads() -> int:
    """The math threads Paddle's dynamic graph runs on now.

    Paddle has no getter; set_num_threads sets the threads of the OpenMP runtime it
    ships (libiomp5, in Paddle's folder), which threadpoolctl reads.  A build without
    it (no MKL) is taken at Paddle's default, DEFAULT_THREADS.
    """
    import paddle
    folder = os.path.dirname(paddle.__file__)
    for info in threadpoolctl.threadpool_info():
        if info['user_api'] == 'openmp' and info['filepath'].startswith(folder):
            return int(info['num_threads'])
    return DEFAULT_THREADS


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


def matmul(size: int = CEILING_SIZE, seed: int = SEED) -> Callable[[], np.ndarray]:
    """A call of numpy's float32 product of two seeded size x size matrices: size^3
    multiply-adds, on as many threads as numpy's BLAS is given."""
    rng = np.random.RandomState(seed)
    a, b = (rng.standard_normal((size, size)).astype('float32') for _ in range(2))
    out = np.empty_like(a)
    return lambda: np.matmul(a, b, out=out)


def ceiling_gmacs(threads: int, size: int = CEILING_SIZE, runs: int = 5,
                  warmup: int = 1) -> float:
    """The machine's ceiling in GMAC/s: size^3 over the median time of numpy's float32
    product of two size x size matrices, with numpy's BLAS on `threads` threads."""
    product = matmul(size)
    times = []
    with threadpoolctl.threadpool_limits(limits=threads, user_api='blas'):
        for _ in range(warmup):
            product()
        for _ in range(runs):
            start = time.perf_counter()
            product()
            times.append(time.perf_counter() - start)
    return gmac_per_second(size ** 3, statistics.median(times))
