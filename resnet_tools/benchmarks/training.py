"""How fast one training step of the CIFAR networks runs, on every way of using the
cores: one thread, every core as threads, every core as processes; and the options
that might close the gap to the ceiling (oneDNN, NHWC, bf16 autocast)."""
import multiprocessing
import multiprocessing.queues
import multiprocessing.synchronize
import warnings

from collections.abc import Callable, Iterable, Sequence
from typing import NotRequired, TypedDict, cast

import numpy as np
import paddle
import threadpoolctl
from paddle import nn
from paddle.nn.layer.layers import HookRemoveHelper
from tabulate import tabulate

import resnet
from paddleinfo.macs import model_macs
from resnet.blocks import ZeroPadShortcut
from resnet_tools.benchmarks.machine import (DEFAULT_THREADS, all_cores, describe_blas,
                                             gmac_per_second, interleaved, machine, numpy_blas,
                                             set_eager_threads, with_ceiling, wrapped)
from resnet_tools.deploy.inference import SEED, random_images

TRAINING_ARCHS = ('cifar_resnet20', 'cifar_resnet56')
TRAINING_SHAPES = ((1, 8, 8), (3, 32, 32))    # the digits, and CIFAR-10's images
TRAINING_BATCH = 128                           # the paper's batch (Section 4.2)
# A training step costs about three forward passes: the forward, and a backward pass
# that computes the gradients of both the inputs and the weights.
TRAINING_MAC_FACTOR = 3
# The ceiling of a training row: a product small enough to time next to each step.
TRAINING_CEILING_SIZE = 1024
# The rate of the timed SGD steps.
LEARNING_RATE = 0.01

# What training_throughput gives: images per second, GMAC/s, the ceiling's GMAC/s.
Throughput = TypedDict('Throughput', {'img/s': float, 'GMAC/s': float, 'ceiling': float})
# A row of training_rows: a Throughput, where it ran, and (added last) its share of the ceiling.
TrainingRow = TypedDict('TrainingRow', {'network': str, 'input': str, 'cores used as': str,
                                        'img/s': float, 'GMAC/s': float, 'ceiling': float,
                                        '% of ceiling': NotRequired[float]})
# A row of option_rows; its ratio is None where the option failed or was not tried.
OptionRow = TypedDict('OptionRow', {'option': str, 'network': str, 'ratio': float | None,
                                    'note': str})


def training_step(model: nn.Layer, images: np.ndarray, seed: int = SEED) -> Callable[[], None]:
    """One step of plain SGD on cross-entropy: forward, backward, update."""
    model.train()
    tensor = paddle.to_tensor(images)
    labels = paddle.to_tensor(np.random.RandomState(seed).randint(
        0, model.fc.weight.shape[1], (len(images), 1)).astype('int64'))
    optimizer = paddle.optimizer.SGD(LEARNING_RATE, parameters=model.parameters())

    def run() -> None:
        loss = paddle.nn.functional.cross_entropy(model(tensor), labels)
        loss.backward()
        optimizer.step()
        optimizer.clear_grad()
        float(loss)
    return run


def cifar_step(arch: str, shape: Sequence[int], batch: int = TRAINING_BATCH, seed: int = SEED,
               nhwc: bool = False, bf16: bool = False) -> tuple[Callable[[], None], int]:
    """(one training step of `arch` on random images of `shape`, its forward MACs per
    image).  `nhwc` runs every conv, BN and pool channels-last; `bf16` runs the step
    under Paddle's bfloat16 autocast."""
    paddle.seed(seed)
    with paddle.utils.unique_name.guard():
        model = resnet.build(arch, in_channels=shape[0])
    macs = model_macs(model, (1, *shape))
    images = random_images(batch, (batch, *shape))
    if nhwc:
        to_channels_last(model)
        images = np.ascontiguousarray(images.transpose(0, 2, 3, 1))
    step = training_step(model, images, seed)
    if bf16:
        plain_step = step

        def step() -> None:
            with paddle.amp.auto_cast(dtype='bfloat16', level='O1'):
                plain_step()
    return step, macs


def to_channels_last(model: nn.Layer) -> nn.Layer:
    """Every conv, BN and pool of `model` on NHWC tensors: the layers' own data_format,
    set after building (our blocks build NCHW).  Option A's shortcut slices NCHW
    axes, so only networks without it (the plain twins, or B and C) can run this way."""
    for layer in model.sublayers():
        if isinstance(layer, ZeroPadShortcut):
            raise ValueError('option A shortcuts slice NCHW axes; NHWC needs B, C or none')
        if isinstance(layer, (paddle.nn.Conv2D, paddle.nn.BatchNorm2D,
                              paddle.nn.AdaptiveAvgPool2D)):
            layer._data_format = 'NHWC'
    return model


def training_throughput(step: Callable[[], object], macs: int, batch: int, warmup: int,
                        repeats: int) -> Throughput:
    """{'img/s', 'GMAC/s', 'ceiling'} of `step` timed in turn with the product."""
    medians, ceiling = with_ceiling({'step': step}, warmup, repeats, TRAINING_CEILING_SIZE)
    seconds = medians['step']
    return {'img/s': batch / seconds,
            'GMAC/s': gmac_per_second(TRAINING_MAC_FACTOR * macs * batch, seconds), 'ceiling': ceiling}


def _training_process(arch: str, shape: Sequence[int], batch: int, warmup: int, repeats: int,
                      barrier: multiprocessing.synchronize.Barrier,
                      results: 'multiprocessing.queues.Queue[Throughput]') -> None:
    """One of the processes of a '2 processes' row: the same step on one thread."""
    warnings.filterwarnings('ignore')
    with threadpoolctl.threadpool_limits(limits=1, user_api='blas'):
        set_eager_threads(1)
        step, macs = cifar_step(arch, shape, batch)
        for _ in range(warmup):
            step()
        barrier.wait()
        results.put(training_throughput(step, macs, batch, 0, repeats))


def in_processes(count: int, arch: str, shape: Sequence[int], batch: int, warmup: int,
                 repeats: int) -> Throughput:
    """The sums over `count` processes that each run the training row on one thread
    at the same time: their images per second, GMAC/s and ceilings."""
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
    return cast(Throughput, {key: sum(part[key] for part in parts) for key in parts[0]})


def training_rows(archs: Iterable[str] = TRAINING_ARCHS,
                  shapes: Iterable[Sequence[int]] = TRAINING_SHAPES, batch: int = TRAINING_BATCH,
                  warmup: int = 1, repeats: int = 5,
                  progress: Callable[[str], object] = lambda what: None) -> list[TrainingRow]:
    """One row per network, input and way of using the cores: 1 thread, 2 threads,
    and 2 processes of one thread each (their sum)."""
    cores = all_cores()
    rows: list[TrainingRow] = []
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


def conv_dtypes(step_builder: Callable[[], Callable[[], object]]) -> list[str]:
    """The dtypes the convs' outputs had during one step: does an option take effect?"""
    seen: set[str] = set()
    handles: list[HookRemoveHelper] = []
    original = paddle.nn.Conv2D.forward

    def forward(self: paddle.nn.Conv2D, x: paddle.Tensor) -> paddle.Tensor:
        out = original(self, x)
        seen.add(str(out.dtype).replace('paddle.', ''))
        return out
    # Patched for one step and put back below: mypy refuses any assignment to a method.
    paddle.nn.Conv2D.forward = forward  # type: ignore[method-assign]
    try:
        step_builder()()
    finally:
        paddle.nn.Conv2D.forward = original  # type: ignore[method-assign]
        for handle in handles:
            handle.remove()
    return sorted(seen)


def _with_onednn(step: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        previous = paddle.get_flags(['FLAGS_use_mkldnn'])
        paddle.set_flags({'FLAGS_use_mkldnn': True})
        try:
            step()
        finally:
            paddle.set_flags(previous)
    return run


def has_amx() -> bool:
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as info:
            flags = next((line for line in info if line.startswith('flags')), '')
    except OSError:
        return False
    return 'amx_bf16' in flags.split()


def option_rows(shape: Sequence[int] = (3, 32, 32), batch: int = TRAINING_BATCH, warmup: int = 1,
                repeats: int = 5, progress: Callable[[str], object] = lambda what: None) -> list[OptionRow]:
    """Each option against the plain step it changes, interleaved, on one thread:
    {'option', 'network', 'ratio' (option img/s over the baseline's), 'note'}."""
    set_eager_threads(1)
    rows: list[OptionRow] = []
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


def training_report(warmup: int = 1, repeats: int = 5, progress: Callable[[str], object] = lambda what: None
                    ) -> tuple[str, list[TrainingRow], list[OptionRow]]:
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
