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
import warnings

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


# The table's columns after 'run, batch': (header, key of a row, number format).
# Short headers, so that the table fits a terminal of 100 columns; the notes below it
# say what they are (ours GMAC/s is ours % x ceiling, in the rows' dicts and the notes).
COLUMNS = (('official ms', 'official eager ms', '.1f'), ('ours ms', 'ours ms', '.1f'),
           # Three digits for the speed, so that a ratio just under its target does not
           # print as the target itself.
           ('speed', 'speed ours/official', '.3f'), ('ceiling', 'ceiling GMAC/s', '.1f'),
           ('official %', 'official % of ceiling', '.1f'), ('ours %', 'ours % of ceiling', '.1f'))
# The rows' names in the table.
RUN_NAMES = {'eager forward (eval)': 'eager forward', 'Paddle Inference (exported)': 'Inference',
             'eager training step (SGD)': 'eager train step'}
# What the targets are set for: ResNet-50 at 224x224, the eager rows at batch 8.
TARGET_ARCH, TARGET_INPUT, TARGET_BATCH = 'resnet50', (224, 224), 8


def table(rows):
    return tabulate([[f"{RUN_NAMES.get(r['run'], r['run'])}, {r['batch']}"]
                     + [r[key] for _, key, _ in COLUMNS] for r in rows],
                    headers=['run, batch'] + [header for header, _, _ in COLUMNS],
                    tablefmt='github', floatfmt=[''] + [form for _, _, form in COLUMNS],
                    missingval='-')


def targets_apply(arch, input_size, batch_size):
    return (arch, tuple(input_size) * (2 // len(input_size)), batch_size) == \
        (TARGET_ARCH, TARGET_INPUT, TARGET_BATCH)


def target_lines(rows, arch, input_size, batch_size, threads):
    """The verdicts on the targets, where they apply: else one line saying so."""
    if not targets_apply(arch, input_size, batch_size):
        return [f'targets: set for {TARGET_ARCH} at {TARGET_INPUT[0]}x{TARGET_INPUT[1]}, '
                f'batch {TARGET_BATCH}; not judged for this run']
    lines = [f"target {RUN_NAMES[r['run']]}, batch {r['batch']}: speed {r['target']}"
             for r in rows]
    verdict = ceiling_verdict(rows, threads)
    if verdict:
        lines.append(verdict)
    return lines


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
        'ceiling = the product\'s GMAC/s, timed in the same row; official % and ours % = each '
        'side\'s GMAC/s (conv + fc MACs x batch / its time) as a share of it.',
        'GMAC/s of ours: ' + ', '.join(
            f"{RUN_NAMES.get(r['run'], r['run'])} {r['batch']}: {r['ours GMAC/s']:.1f}"
            for r in result['rows'] if r['ours GMAC/s'] is not None) + '.',
        *target_lines(result['rows'], arch, input_size, batch_size, count),
    ]
    return '\n'.join(wrapped(lines))


WIDTH = 100


def wrapped(lines, width=WIDTH):
    """`lines` with every line of text longer than `width` wrapped, indented by two;
    table lines (starting with '|') are left as they are."""
    import textwrap
    out = []
    for line in lines:
        if len(line) <= width or line.startswith('|'):
            out.append(line)
        else:
            out.extend(textwrap.wrap(line, width, subsequent_indent='  ',
                                     break_on_hyphens=False))
    return out


# ---- training speed of the CIFAR networks (issue: the paper's experiments on 2 cores) --

TRAINING_ARCHS = ('cifar_resnet20', 'cifar_resnet56')
TRAINING_SHAPES = ((1, 8, 8), (3, 32, 32))    # the digits, and CIFAR-10's images
TRAINING_BATCH = 128                           # the paper's batch (Section 4.2)
# A training step costs about three forward passes: the forward, and a backward pass
# that computes the gradients of both the inputs and the weights.
TRAINING_MAC_FACTOR = 3
# The ceiling of a training row: a product small enough to time next to each step.
TRAINING_CEILING_SIZE = 1024


def cifar_step(arch, shape, batch=TRAINING_BATCH, seed=export.SEED, nhwc=False, bf16=False):
    """(one training step of `arch` on random images of `shape`, its forward MACs per
    image).  `nhwc` runs every conv, BN and pool channels-last; `bf16` runs the step
    under Paddle's bfloat16 autocast."""
    paddle.seed(seed)
    with paddle.utils.unique_name.guard():
        model = resnet.build(arch, in_channels=shape[0])
    macs = model_macs(model, (1, *shape))
    images = export.random_images(batch, (batch, *shape))
    if nhwc:
        to_channels_last(model)
        images = np.ascontiguousarray(images.transpose(0, 2, 3, 1))
    step = training_step(model, images, seed)
    if bf16:
        plain_step = step

        def step():
            with paddle.amp.auto_cast(dtype='bfloat16', level='O1'):
                plain_step()
    return step, macs


def to_channels_last(model):
    """Every conv, BN and pool of `model` on NHWC tensors: the layers' own data_format,
    set after building (our blocks build NCHW).  Option A's shortcut slices NCHW
    axes, so only networks without it (the plain twins, or B and C) can run this way."""
    from blocks import ZeroPadShortcut
    for layer in model.sublayers():
        if isinstance(layer, ZeroPadShortcut):
            raise ValueError('option A shortcuts slice NCHW axes; NHWC needs B, C or none')
        if isinstance(layer, (paddle.nn.Conv2D, paddle.nn.BatchNorm2D,
                              paddle.nn.AdaptiveAvgPool2D)):
            layer._data_format = 'NHWC'
    return model


def training_throughput(step, macs, batch, warmup, repeats):
    """{'img/s', 'GMAC/s', 'ceiling'} of `step` timed in turn with the product."""
    medians, ceiling = with_ceiling({'step': step}, warmup, repeats, TRAINING_CEILING_SIZE)
    seconds = medians['step']
    return {'img/s': batch / seconds,
            'GMAC/s': gmacs(TRAINING_MAC_FACTOR * macs * batch, seconds), 'ceiling': ceiling}


def _training_process(arch, shape, batch, warmup, repeats, barrier, results):
    """One of the processes of a '2 processes' row: the same step on one thread."""
    import warnings
    warnings.filterwarnings('ignore')
    with threadpoolctl.threadpool_limits(limits=1, user_api='blas'):
        set_eager_threads(1)
        step, macs = cifar_step(arch, shape, batch)
        for _ in range(warmup):
            step()
        barrier.wait()
        results.put(training_throughput(step, macs, batch, 0, repeats))


def in_processes(count, arch, shape, batch, warmup, repeats):
    """The sums over `count` processes that each run the training row on one thread
    at the same time: their images per second, GMAC/s and ceilings."""
    import multiprocessing
    context = multiprocessing.get_context('spawn')
    barrier, results = context.Barrier(count), context.Queue()
    processes = [context.Process(target=_training_process,
                                 args=(arch, shape, batch, warmup, repeats, barrier, results))
                 for _ in range(count)]
    for process in processes:
        process.start()
    parts = [results.get() for _ in processes]
    for process in processes:
        process.join()
    return {key: sum(part[key] for part in parts) for key in parts[0]}


def training_rows(archs=TRAINING_ARCHS, shapes=TRAINING_SHAPES, batch=TRAINING_BATCH,
                  warmup=1, repeats=5, progress=lambda what: None):
    """One row per network, input and way of using the cores: 1 thread, 2 threads,
    and 2 processes of one thread each (their sum)."""
    cores = all_cores()
    rows = []
    for arch in archs:
        for shape in shapes:
            size = 'x'.join(map(str, shape))
            for threads in sorted({1, cores}):
                progress(f'{arch} {size} training, {threads} thread(s)')
                with threadpoolctl.threadpool_limits(limits=threads, user_api='blas'):
                    set_eager_threads(threads)
                    step, macs = cifar_step(arch, shape, batch)
                    rows.append({'network': arch, 'input': size,
                                 'cores used as': f'{threads} thread' + 's' * (threads > 1),
                                 **training_throughput(step, macs, batch, warmup, repeats)})
            if cores > 1:
                progress(f'{arch} {size} training, {cores} processes')
                rows.append({'network': arch, 'input': size,
                             'cores used as': f'{cores} processes',
                             **in_processes(cores, arch, shape, batch, warmup, repeats)})
    set_eager_threads(DEFAULT_THREADS)
    for row in rows:
        row['% of ceiling'] = 100 * row['GMAC/s'] / row['ceiling']
    return rows


def conv_dtypes(step_builder):
    """The dtypes the convs' outputs had during one step: does an option take effect?"""
    seen = set()
    handles = []
    original = paddle.nn.Conv2D.forward

    def forward(self, x):
        out = original(self, x)
        seen.add(str(out.dtype).replace('paddle.', ''))
        return out
    paddle.nn.Conv2D.forward = forward
    try:
        step_builder()()
    finally:
        paddle.nn.Conv2D.forward = original
        for handle in handles:
            handle.remove()
    return sorted(seen)


def _with_onednn(step):
    def run():
        previous = paddle.get_flags(['FLAGS_use_mkldnn'])
        paddle.set_flags({'FLAGS_use_mkldnn': True})
        try:
            step()
        finally:
            paddle.set_flags(previous)
    return run


def has_amx():
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as info:
            flags = next((line for line in info if line.startswith('flags')), '')
    except OSError:
        return False
    return 'amx_bf16' in flags.split()


def option_rows(shape=(3, 32, 32), batch=TRAINING_BATCH, warmup=1, repeats=5,
                progress=lambda what: None):
    """Each option against the plain step it changes, interleaved, on one thread:
    {'option', 'network', 'ratio' (option img/s over the baseline's), 'note'}."""
    set_eager_threads(1)
    rows = []
    size = 'x'.join(map(str, shape))
    with threadpoolctl.threadpool_limits(limits=1, user_api='blas'), warnings.catch_warnings():
        trials = [('oneDNN (FLAGS_use_mkldnn)', 'cifar_resnet20', {}, True),
                  ('NHWC layout', 'cifar_plain20', {'nhwc': True}, False)]
        if has_amx():
            trials.append(('bf16 autocast (AMX)', 'cifar_resnet20', {'bf16': True}, False))
        for name, arch, options, onednn in trials:
            progress(f'{name}, {arch} {size}')
            base, _ = cifar_step(arch, shape, batch)
            try:
                # Paddle's autocast warns, on a CPU, that it has no effect: the note says so.
                warnings.filterwarnings('ignore', message='amp_guard can only be enabled')
                changed, _ = cifar_step(arch, shape, batch, **options)
                if onednn:
                    changed = _with_onednn(changed)
                medians = interleaved({'base': base, 'option': changed}, warmup, repeats)
                dtypes = conv_dtypes(lambda: cifar_step(arch, shape, batch, **options)[0]) \
                    if options.get('bf16') else None
                note = f'convs in {", ".join(dtypes)}' if dtypes else ''
                if dtypes == ['float32']:
                    note += ': autocast is GPU/XPU only'

                rows.append({'option': name, 'network': f'{arch[len("cifar_"):]} {size}',
                             'ratio': medians['base'] / medians['option'], 'note': note})
            except Exception as error:   # noqa: BLE001 (an option this Paddle lacks is a row)
                rows.append({'option': name, 'network': f'{arch[len("cifar_"):]} {size}',
                             'ratio': None, 'note': f'failed: {type(error).__name__}'})
        if not has_amx():
            rows.append({'option': 'bf16 autocast (AMX)', 'network': '-', 'ratio': None,
                         'note': 'not tried: no amx_bf16 in /proc/cpuinfo'})
    return rows


def training_report(warmup=1, repeats=5, progress=lambda what: None):
    """The text of benchmark.py --training."""
    rows = training_rows(warmup=warmup, repeats=repeats, progress=progress)
    options = option_rows(warmup=warmup, repeats=repeats, progress=progress)
    table_rows = [[r['network'], r['input'], r['cores used as'], r['img/s'], r['GMAC/s'],
                   r['ceiling'], r['% of ceiling']] for r in rows]
    lines = [
        f'one training step (forward, backward, SGD) at batch {TRAINING_BATCH} on random images; '
        f'median of {repeats} after {warmup} warm-up',
        f'machine: {machine()}',
        f'GMAC/s: {TRAINING_MAC_FACTOR} x the forward conv + fc MACs x batch / median time; '
        f'ceiling: numpy float32',
        f'{TRAINING_CEILING_SIZE}x{TRAINING_CEILING_SIZE} product, timed in turn with each step at '
        f'the same threads (summed over the processes); {describe_blas(numpy_blas())}',
        '',
        tabulate(table_rows, headers=['network', 'input', 'cores used as', 'img/s', 'GMAC/s',
                                      'ceiling', '% of ceiling'],
                 tablefmt='github', floatfmt=('', '', '', '.1f', '.2f', '.1f', '.1f')),
        '',
        'Options, each timed in turn with the step it changes (1 thread); ratio = img/s with '
        'it / without:',
        '',
        tabulate([[r['option'], r['network'], r['ratio'], r['note']] for r in options],
                 headers=['option', 'network', 'ratio', 'note'], tablefmt='github',
                 floatfmt=('', '', '.3f', ''), missingval='-'),
    ]
    return '\n'.join(wrapped(lines)), rows, options
