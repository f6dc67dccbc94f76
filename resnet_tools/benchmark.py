"""How fast our network runs next to paddle.vision's, and exported under Paddle Inference.

Every comparison is interleaved (A, B, A, B, ...) after a warm-up, so that a slow
spell of a shared machine falls on both sides alike, and reports medians, which
one stray run does not move.  Both eager models and Paddle Inference use Paddle's
default of one math thread.

The speed column is the official median time over ours: above 1, ours is faster,
eager or exported.  GMAC/s is the conv + fc multiply-adds of one forward pass
(resnet_tools.macs) times the batch, over the median time.
"""
import os
import platform
import statistics
import tempfile
import time

import numpy as np
import paddle
from tabulate import tabulate

import resnet
from resnet_tools import export
from resnet_tools.macs import model_macs
from resnet_tools.weights import load_weights

INFERENCE_BATCHES = (1, 8)
# What the issues ask of each comparison: the same speed as the official model
# within 3 % in eager mode, twice its throughput under Paddle Inference.
EAGER_TARGET, INFERENCE_TARGET = 0.97, 2.0
LEARNING_RATE = 0.01
MAX_BATCH = 256
MAX_REPEATS = 1000


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


def row(what, batch, official, ours, macs=None, target=None):
    speed = official / ours
    gmacs = (lambda seconds: macs * batch / seconds / 1e9) if macs else (lambda seconds: None)
    return {'run': what, 'batch': batch, 'official eager ms': official * 1e3,
            'ours ms': ours * 1e3, 'speed ours/official': speed,
            'official GMAC/s': gmacs(official), 'ours GMAC/s': gmacs(ours),
            'target': f'>= {target:g}: {"met" if speed >= target else "NOT met"}'}


def benchmark(arch='resnet50', batch_size=8, input_size=(224,), warmup=2, repeats=10,
              inference_batches=INFERENCE_BATCHES, progress=lambda what: None):
    """The benchmark's rows, as dicts; see the module docstring for the columns.

    `progress(what)` is called before each row is timed.
    """
    shape = export.input_shape(arch, input_size)
    official, ours = official_and_ours(arch)
    macs = model_macs(ours, (1, *shape[1:]))
    images = export.random_images(batch_size, shape)
    rows = []
    progress(f'eager forward, batch {batch_size}')
    medians = interleaved({'official': eval_forward(official, images),
                           'ours': eval_forward(ours, images)}, warmup, repeats)
    rows.append(row('eager forward (eval)', batch_size, medians['official'],
                    medians['ours'], macs, EAGER_TARGET))
    # Exported now, while both models still hold the same (official) weights.
    with tempfile.TemporaryDirectory() as directory:
        progress('export for Paddle Inference')
        export.save(ours, directory, shape)
        predictor = export.Predictor(directory)
        for batch in inference_batches:
            progress(f'Paddle Inference, batch {batch}')
            images = export.random_images(batch, shape)
            medians = interleaved({'official': eval_forward(official, images),
                                   'inference': lambda: predictor(images)}, warmup, repeats)
            rows.append(row('Paddle Inference (exported)', batch, medians['official'],
                            medians['inference'], macs, INFERENCE_TARGET))

    # Last, since the training steps change the weights of both models.
    images = export.random_images(batch_size, shape)
    progress(f'eager training step, batch {batch_size}')
    medians = interleaved({'official': training_step(official, images),
                           'ours': training_step(ours, images)}, warmup, repeats)
    rows.append(row('eager training step (SGD)', batch_size, medians['official'],
                    medians['ours'], target=EAGER_TARGET))
    return rows, macs, predictor


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
    return (f'{cpu_model()}, {os.cpu_count()} cores (nproc), Paddle {paddle.__version__}, '
            f'Python {platform.python_version()}')


def table(rows):
    headers = list(rows[0])
    # Three digits for the speed, so that a ratio just under its target does not
    # print as the target itself.
    formats = ['.3f' if key.startswith('speed') else '.2f' for key in headers]
    return tabulate([[r[key] for key in headers] for r in rows], headers=headers,
                    tablefmt='github', floatfmt=formats, missingval='-')


def report(arch, batch_size, input_size, warmup, repeats, progress=lambda what: None):
    """The text benchmark.py prints: what was run, on what, and the table."""
    rows, macs, predictor = benchmark(arch, batch_size, input_size, warmup, repeats,
                                      progress=progress)
    shape = export.input_shape(arch, input_size)
    onednn = 'on' if predictor.onednn_enabled() else 'off'
    return '\n'.join([
        f'{arch}, input {shape[2]}x{shape[3]}, {macs / 1e9:.2f} GMAC per image (conv + fc); '
        f'median of {repeats} interleaved runs after {warmup} warm-up runs',
        f'machine: {machine()}',
        f'threads: one math thread each (Paddle\'s default); Paddle Inference on CPU, '
        f'oneDNN {onednn}, {predictor.config.cpu_math_library_num_threads()} thread',
        '',
        table(rows),
        '',
        'speed ours/official = official median time / ours: above 1, ours is faster.',
    ])
