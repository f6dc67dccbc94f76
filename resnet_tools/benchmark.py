"""How fast our network runs next to paddle.vision's, and exported under Paddle Inference.

Every comparison is interleaved (A, B, A, B, ...) after a warm-up, so that a slow
spell of a shared machine falls on both sides alike, and reports medians, which
one stray run does not move.  Both eager models and Paddle Inference use the same
number of math threads: Paddle's default of one, or `threads`.

The speed column is the official median time over ours: above 1, ours is faster,
eager or exported.  GMAC/s is the conv + fc multiply-adds of one forward pass
(paddleinfo.macs) times the batch, over the median time.

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
import tempfile
import time

import numpy as np
import paddle
import threadpoolctl
from tabulate import tabulate

import resnet
from paddleinfo.macs import model_macs
from resnet_tools import export
from resnet_tools.weights import load_weights

INFERENCE_BATCHES = (1, 8)
# What the issues ask of each comparison: the same speed as the official model
# within 3 % in eager mode, twice its throughput under Paddle Inference.
EAGER_TARGET, INFERENCE_TARGET = 0.97, 2.0
LEARNING_RATE = 0.01
MAX_BATCH = 256
MAX_REPEATS = 1000
# Paddle's default for the dynamic graph and for Paddle Inference alike.
DEFAULT_THREADS = 1
# 2048 x 2048 float32: three 16 MiB matrices, far beyond the caches, and 8.6 G
# multiply-adds, long enough to time (about 0.2 s on one AVX2 core).
CEILING_SIZE = 2048
# What the issue asks of the exported ResNet-50 at batch 8 with all cores.
CEILING_TARGET = 0.8
# Set on some CPUs for older OpenBLAS builds; they choose the kernel numpy runs.
OPENBLAS_VARIABLES = ('OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE')


def all_cores():
    """The cores this process may run on (what `nproc` prints)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def thread_count(threads):
    """The number of threads --threads N means: N, or every core for 0."""
    return all_cores() if threads == 0 else threads


def set_eager_threads(threads):
    """The math threads of Paddle's dynamic graph (its MKL and OpenMP), for this process."""
    paddle.base.core.set_num_threads(threads)


def gmacs(macs, seconds):
    return macs / seconds / 1e9


def numpy_blas():
    """threadpoolctl's record of the BLAS numpy calls: library, version, kernel.

    Paddle may load a BLAS of its own; numpy's is the one under numpy's folder.
    """
    blas = [info for info in threadpoolctl.threadpool_info() if info['user_api'] == 'blas']
    # numpy's wheels keep their OpenBLAS in site-packages/numpy.libs.
    own = [info for info in blas
           if os.path.basename(os.path.dirname(info['filepath'])).startswith('numpy')]
    return (own or blas or [{}])[0]


def describe_blas(info, environ=os.environ):
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


def matmul(size=CEILING_SIZE):
    """A call of numpy's float32 product of two seeded size x size matrices: size^3
    multiply-adds, on as many threads as numpy's BLAS is given."""
    rng = np.random.RandomState(export.SEED)
    a, b = (rng.standard_normal((size, size)).astype('float32') for _ in range(2))
    out = np.empty_like(a)
    return lambda: np.matmul(a, b, out=out)


def with_ceiling(runs, warmup, repeats, size=CEILING_SIZE):
    """(interleaved() of `runs` and the matrix product, the product's GMAC/s)."""
    medians = interleaved({**runs, 'ceiling': matmul(size)}, warmup, repeats)
    return medians, gmacs(size ** 3, medians.pop('ceiling'))


def official_and_ours(arch):
    """paddle.vision's `arch` and ours with the official weights, both seeded."""
    paddle.seed(export.SEED)
    official = getattr(paddle.vision.models, arch)()
    ours = resnet.build(arch)
    load_weights(ours, official.state_dict())
    return official, ours


def interleaved(runs, warmup, repeats):
    """{name: median seconds per call} for the callables in `runs`, called in turn."""
    for _ in range(warmup):
        for run in runs.values():
            run()
    times = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def eval_forward(model, images):
    model.eval()
    tensor = paddle.to_tensor(images)

    def run():
        with paddle.no_grad():
            model(tensor).numpy()
    return run


def training_step(model, images, seed=export.SEED):
    """One step of plain SGD on cross-entropy: forward, backward, update."""
    model.train()
    tensor = paddle.to_tensor(images)
    labels = paddle.to_tensor(np.random.RandomState(seed).randint(
        0, model.fc.weight.shape[1], (len(images), 1)).astype('int64'))
    optimizer = paddle.optimizer.SGD(LEARNING_RATE, parameters=model.parameters())

    def run():
        loss = paddle.nn.functional.cross_entropy(model(tensor), labels)
        loss.backward()
        optimizer.step()
        optimizer.clear_grad()
        float(loss)
    return run


def row(what, batch, official, ours, macs=None, target=None, ceiling=None):
    """One row of the table; `ceiling` (GMAC/s) adds each side's share of it, in %."""
    speed = official / ours
    rate = (lambda seconds: gmacs(macs * batch, seconds)) if macs else (lambda seconds: None)

    def share(seconds):
        return 100 * rate(seconds) / ceiling if macs and ceiling else None

    return {'run': what, 'batch': batch, 'official eager ms': official * 1e3,
            'ours ms': ours * 1e3, 'speed ours/official': speed,
            'official GMAC/s': rate(official), 'ours GMAC/s': rate(ours),
            'ceiling GMAC/s': ceiling,
            'official % of ceiling': share(official), 'ours % of ceiling': share(ours),
            'target': f'>= {target:g}: {"met" if speed >= target else "NOT met"}'}


def ceiling_verdict(rows, threads):
    """The line on the issue's target: Paddle Inference at its largest batch, with all
    cores, at CEILING_TARGET of the ceiling or more."""
    exported = [r for r in rows if r['run'].startswith('Paddle Inference')
                and r['ours % of ceiling'] is not None]
    if not exported:
        return None
    largest = max(exported, key=lambda r: r['batch'])
    share = largest['ours % of ceiling']
    verdict = 'met' if share >= 100 * CEILING_TARGET else 'NOT met'
    if threads != all_cores():
        verdict = f'{verdict} at {threads} of {all_cores()} cores; the target is for all cores'
    return (f"Paddle Inference at batch {largest['batch']}: {share:.1f} % of the ceiling "
            f"(target >= {100 * CEILING_TARGET:g} % with all cores, --threads 0: {verdict})")


def benchmark(arch='resnet50', batch_size=8, input_size=(224,), warmup=2, repeats=10,
              inference_batches=INFERENCE_BATCHES, threads=DEFAULT_THREADS,
              progress=lambda what: None):
    """{'rows': the table's rows as dicts, 'macs': per image, 'predictor', 'blas':
    numpy's BLAS}; see the module docstring for the columns.

    `threads` math threads for both eager models, Paddle Inference and numpy's BLAS.
    `progress(what)` is called before each row is timed.
    """
    with threadpoolctl.threadpool_limits(limits=threads, user_api='blas'):
        return timed_rows(arch, batch_size, input_size, warmup, repeats, inference_batches,
                          threads, progress)


def timed_rows(arch, batch_size, input_size, warmup, repeats, inference_batches, threads,
               progress):
    shape = export.input_shape(arch, input_size)
    set_eager_threads(threads)
    official, ours = official_and_ours(arch)
    macs = model_macs(ours, (1, *shape[1:]))
    images = export.random_images(batch_size, shape)
    rows = []
    progress(f'eager forward, batch {batch_size}')
    medians, ceiling = with_ceiling({'official': eval_forward(official, images),
                                     'ours': eval_forward(ours, images)}, warmup, repeats)
    rows.append(row('eager forward (eval)', batch_size, medians['official'],
                    medians['ours'], macs, EAGER_TARGET, ceiling))
    # Exported now, while both models still hold the same (official) weights.
    with tempfile.TemporaryDirectory() as directory:
        progress('export for Paddle Inference')
        export.save(ours, directory, shape)
        predictor = export.Predictor(directory, threads)
        for batch in inference_batches:
            progress(f'Paddle Inference, batch {batch}')
            images = export.random_images(batch, shape)
            medians, ceiling = with_ceiling({'official': eval_forward(official, images),
                                             'inference': lambda: predictor(images)},
                                            warmup, repeats)
            rows.append(row('Paddle Inference (exported)', batch, medians['official'],
                            medians['inference'], macs, INFERENCE_TARGET, ceiling))

    # Last, since the training steps change the weights of both models.
    images = export.random_images(batch_size, shape)
    progress(f'eager training step, batch {batch_size}')
    medians = interleaved({'official': training_step(official, images),
                           'ours': training_step(ours, images)}, warmup, repeats)
    rows.append(row('eager training step (SGD)', batch_size, medians['official'],
                    medians['ours'], target=EAGER_TARGET))
    return {'rows': rows, 'macs': macs, 'predictor': predictor, 'blas': numpy_blas()}


def cpu_model():
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as info:
            for line in info:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown CPU'


def machine():
    return (f'{cpu_model()}, {all_cores()} cores (nproc), Paddle {paddle.__version__}, '
            f'Python {platform.python_version()}')


def table(rows):
    headers = list(rows[0])
    # Three digits for the speed, so that a ratio just under its target does not
    # print as the target itself.
    formats = ['.3f' if key.startswith('speed') else '.1f' if key.endswith('ceiling')
               else '.2f' for key in headers]
    return tabulate([[r[key] for key in headers] for r in rows], headers=headers,
                    tablefmt='github', floatfmt=formats, missingval='-')


def threads_line(threads, asked, predictor):
    onednn = 'on' if predictor.onednn_enabled() else 'off'
    which = ("Paddle's default" if asked == DEFAULT_THREADS else
             'all cores, --threads 0' if asked == 0 else f'--threads {asked}')
    return (f'threads: {threads} math thread(s) for each model ({which}), eager and Paddle '
            f'Inference (on CPU, oneDNN {onednn}, '
            f'{predictor.config.cpu_math_library_num_threads()} thread(s)) alike')


def report(arch, batch_size, input_size, warmup, repeats, threads=DEFAULT_THREADS,
           progress=lambda what: None):
    """The text benchmark.py prints: what was run, on what, and the table.

    `threads` is --threads: 0 for every core."""
    count = thread_count(threads)
    result = benchmark(arch, batch_size, input_size, warmup, repeats, threads=count,
                       progress=progress)
    shape = export.input_shape(arch, input_size)
    lines = [
        f'{arch}, input {shape[2]}x{shape[3]}, {result["macs"] / 1e9:.2f} GMAC per image '
        f'(conv + fc); median of {repeats} interleaved runs after {warmup} warm-up runs',
        f'machine: {machine()}',
        threads_line(count, threads, result['predictor']),
        f'ceiling: numpy float32 matrix product {CEILING_SIZE}x{CEILING_SIZE} on {count} '
        f'thread(s), timed in turn with each row; {describe_blas(result["blas"])}',
        '',
        table(result['rows']),
        '',
        'speed ours/official = official median time / ours: above 1, ours is faster.',
        '% of ceiling = GMAC/s / the ceiling\'s GMAC/s in the same row, at the same '
        'number of threads.',
    ]
    verdict = ceiling_verdict(result['rows'], count)
    if verdict:
        lines.append(verdict)
    return '\n'.join(lines)
