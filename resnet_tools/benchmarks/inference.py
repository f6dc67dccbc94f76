"""How fast our network runs next to paddle.vision's, and exported under Paddle Inference.

Both eager models and Paddle Inference use the same number of math threads: Paddle's
default of one, or `threads`.  The speed column is the official median time over
ours: above 1, ours is faster, eager or exported.  GMAC/s is the conv + fc
multiply-adds of one forward pass (paddleinfo.macs) times the batch, over the median
time, and its share of the machine's ceiling (benchmarks/machine.py).
"""
import tempfile

import paddle
import threadpoolctl
from tabulate import tabulate

import resnet
from paddleinfo.macs import model_macs
from resnet_tools.benchmarks.machine import (CEILING_SIZE, DEFAULT_THREADS, all_cores,
                                             describe_blas, gmac_per_second, interleaved,
                                             machine, numpy_blas, set_eager_threads,
                                             thread_count, with_ceiling, wrapped)
from resnet_tools.benchmarks.training import training_step
from resnet_tools.deploy.export import input_shape, save
from resnet_tools.deploy.inference import SEED, Predictor, random_images
from resnet_tools.weights import load_weights

INFERENCE_BATCHES = (1, 8)
# What the issues ask of each comparison: the same speed as the official model
# within 3 % in eager mode, twice its throughput under Paddle Inference.
EAGER_TARGET, INFERENCE_TARGET = 0.97, 2.0


MAX_BATCH = 256
MAX_REPEATS = 1000


# What the issue asks of the exported ResNet-50 at batch 8 with all cores.
CEILING_TARGET = 0.8


def official_and_ours(arch):
    """paddle.vision's `arch` and ours with the official weights, both seeded."""
    paddle.seed(SEED)
    official = getattr(paddle.vision.models, arch)()
    ours = resnet.build(arch)
    load_weights(ours, official.state_dict())
    return official, ours


def eval_forward(model, images):
    model.eval()
    tensor = paddle.to_tensor(images)

    def run():
        with paddle.no_grad():
            model(tensor).numpy()
    return run


def row(what, batch, official, ours, macs=None, target=None, ceiling=None):
    """One row of the table; `ceiling` (GMAC/s) adds each side's share of it, in %."""
    speed = official / ours
    rate = (lambda seconds: gmac_per_second(macs * batch, seconds)) if macs else (lambda seconds: None)

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
    shape = input_shape(arch, input_size)
    set_eager_threads(threads)
    official, ours = official_and_ours(arch)
    macs = model_macs(ours, (1, *shape[1:]))
    images = random_images(batch_size, shape)
    rows = []
    progress(f'eager forward, batch {batch_size}')
    medians, ceiling = with_ceiling({'official': eval_forward(official, images),
                                     'ours': eval_forward(ours, images)}, warmup, repeats)
    rows.append(row('eager forward (eval)', batch_size, medians['official'],
                    medians['ours'], macs, EAGER_TARGET, ceiling))
    # Exported now, while both models still hold the same (official) weights.
    with tempfile.TemporaryDirectory() as directory:
        progress('export for Paddle Inference')
        save(ours, directory, shape)
        predictor = Predictor(directory, threads)
        for batch in inference_batches:
            progress(f'Paddle Inference, batch {batch}')
            images = random_images(batch, shape)
            medians, ceiling = with_ceiling({'official': eval_forward(official, images),
                                             'inference': lambda: predictor(images)},
                                            warmup, repeats)
            rows.append(row('Paddle Inference (exported)', batch, medians['official'],
                            medians['inference'], macs, INFERENCE_TARGET, ceiling))

    # Last, since the training steps change the weights of both models.
    images = random_images(batch_size, shape)
    progress(f'eager training step, batch {batch_size}')
    medians = interleaved({'official': training_step(official, images),
                           'ours': training_step(ours, images)}, warmup, repeats)
    rows.append(row('eager training step (SGD)', batch_size, medians['official'],
                    medians['ours'], target=EAGER_TARGET))
    return {'rows': rows, 'macs': macs, 'predictor': predictor, 'blas': numpy_blas()}


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
    """Whether the targets are set for this run; `input_size` as --input-size has it."""
    height, width = input_shape(arch, input_size)[2:]
    return (arch, (height, width), batch_size) == \
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
    shape = input_shape(arch, input_size)
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
