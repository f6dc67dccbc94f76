"""Train any paddle.nn.Layer classifier on a `data.Data`, one process or several.

The loop of the paper's Section 4.2 with its optimiser as the default: SGD with
momentum 0.9 and weight decay 1e-4, batch 128, learning rate 0.1 divided by 10
at 50 % and 75 % of the run (the paper's 32k and 48k of 64k iterations).

After every epoch the output directory gets a checkpoint, one unit of
safetensors and JSON files switched to by a manifest written last (the layout and
why it is safe against a kill at any instant: resnet_tools/checkpoints.py), and
  log.csv          one row per epoch (LOG_COLUMNS); errors are fractions
and at the start run.json, the run's description (network, parameters, data, settings).
One process owns the directory while it trains (resnet_tools/locking.py).

Stops: SIGINT (Ctrl-C) and SIGTERM end the run at the next step boundary, or after
the save under way, with a `cli.Stop` (exit 130 or 143) naming the last checkpoint;
a loss that is not finite ends it with exit 1 before anything is saved.

Repeatable: the weights start from `paddle.seed(seed)`, and every epoch's data
order and augmentation come from numpy's generator seeded with (seed, epoch), so
a run resumed after epoch k continues exactly as if it had not stopped.

Data parallel: under `python -m paddle.distributed.launch --nproc_per_node N`,
each process takes batch_size / N images of every global batch (through
paddle.io.DistributedBatchSampler), paddle.DataParallel averages the gradients,
and only rank 0 writes.  BatchNorm normalises each process's own images
(Paddle's SyncBatchNorm runs on GPUs only); its running statistics are averaged
over the processes after every epoch, so that all processes hold the same model.
"""
import contextlib
import csv
import hashlib
import io
import json
import math
import os
import random
import signal
import threading
import time
import types
from dataclasses import asdict, dataclass

import numpy as np
import paddle
import paddle.distributed as dist
import paddle.nn.functional as F
from paddle.io import DistributedBatchSampler

from blocks import quiet_batch_norm
from resnet_tools import checkpoints, files, locking
from resnet_tools.cli import Stop, UsageError, check_writable_directory

LOG_FILE, RUN_FILE = 'log.csv', 'run.json'
SEED_RANGE = (0, 2 ** 32 - 1)   # what numpy's and Paddle's generators take
LOG_COLUMNS = ('epoch', 'lr', 'train_loss', 'train_error', 'test_loss', 'test_error', 'seconds')
EVAL_BATCH = 500    # images per forward pass when testing (eval mode: any size gives the same)
DEVICES = ('cpu', 'gpu')


@dataclass(frozen=True)
class Settings:
    """The optimiser and the schedule; the defaults are the paper's (Section 4.2)."""
    epochs: int = 10
    batch_size: int = 128
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-4
    milestones: tuple = (0.5, 0.75)   # fractions of the run where the rate drops
    lr_decay: float = 0.1
    seed: int = 0
    warmup_epochs: int = 0            # first epochs at lr * WARMUP_FACTOR (off in the paper's default)

    def check(self):
        for flag, value in (('--lr', self.lr), ('--momentum', self.momentum),
                            ('--weight-decay', self.weight_decay), ('--lr-decay', self.lr_decay),
                            *(('--milestones', fraction) for fraction in self.milestones)):
            if not math.isfinite(value):
                raise UsageError(f'{flag} {value} is not a finite number')
        checks = (('--seed', self.seed, SEED_RANGE[0] <= self.seed <= SEED_RANGE[1],
                   f'from {SEED_RANGE[0]} to {SEED_RANGE[1]:,} (2^32 - 1)'),
                  ('--epochs', self.epochs, self.epochs >= 1, 'at least 1'),
                  ('--batch-size', self.batch_size, self.batch_size >= 1, 'at least 1'),
                  ('--lr', self.lr, self.lr > 0, 'above 0'),
                  ('--momentum', self.momentum, 0 <= self.momentum < 1, 'from 0 to below 1'),
                  ('--weight-decay', self.weight_decay, self.weight_decay >= 0, 'at least 0'),
                  ('--lr-decay', self.lr_decay, 0 < self.lr_decay <= 1, 'above 0 and at most 1'),
                  # Up to the whole run, so that a script's default warm-up allows --epochs 1.
                  ('--warmup-epochs', self.warmup_epochs, 0 <= self.warmup_epochs <= self.epochs,
                   f'from 0 to --epochs ({self.epochs})'))
        for flag, value, good, allowed in checks:
            if not good:
                raise UsageError(f'{flag} {value} is out of range: it must be {allowed}')
        for fraction in self.milestones:
            if not 0 < fraction <= 1:
                raise UsageError(f'--milestones {fraction} is out of range: each is a fraction '
                                 f'of the run, above 0 and at most 1')
        return self


def milestone_epochs(settings):
    """The epochs (counted from 0) that start at a lower rate: 5 and 8 of 10."""
    return [int(fraction * settings.epochs + 0.5) for fraction in settings.milestones]


# The paper's warm-up for ResNet-110 (Section 4.2): 0.01 instead of 0.1 until the
# training error is below 80 %, then back to 0.1.  Here it lasts a fixed number of
# epochs, so that the rate stays a function of the epoch and a resumed run repeats.
WARMUP_FACTOR = 0.1


def learning_rate(settings, epoch):
    if epoch < settings.warmup_epochs:
        return settings.lr * WARMUP_FACTOR
    drops = sum(epoch >= milestone for milestone in milestone_epochs(settings))
    return settings.lr * settings.lr_decay ** drops


def processes():
    """(number of processes, this one's rank), as paddle.distributed.launch sets them."""
    return (int(os.environ.get('PADDLE_TRAINERS_NUM', '1')),
            int(os.environ.get('PADDLE_TRAINER_ID', '0')))


def default_device():
    return 'gpu' if paddle.is_compiled_with_cuda() else 'cpu'


def set_device(device):
    if device not in DEVICES:
        raise UsageError(f'--device {device} is not known; choose from {", ".join(DEVICES)}')
    if device == 'gpu':
        if not paddle.is_compiled_with_cuda():
            raise UsageError('--device gpu: the installed Paddle has no CUDA (it is the CPU build); '
                             'use --device cpu, or install paddlepaddle-gpu')
        paddle.set_device(f'gpu:{dist.ParallelEnv().device_id}')
    else:
        paddle.set_device('cpu')


_parallel_env_ready = False


def init_parallel(world_size):
    global _parallel_env_ready
    if world_size > 1 and not _parallel_env_ready:
        dist.init_parallel_env()
        _parallel_env_ready = True


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    paddle.seed(seed)


def weights_digest(state_dict):
    """sha256 over every tensor's name, shape and bytes, in the order of the names (a
    safetensors file sorts them): equal digests, equal weights."""
    digest = hashlib.sha256()
    for name, tensor in sorted(state_dict.items()):
        array = np.ascontiguousarray(tensor.numpy() if hasattr(tensor, 'numpy') else tensor)
        digest.update(f'{name} {array.dtype} {array.shape}\n'.encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def count_parameters(model):
    """Trainable parameters, as the paper's Table 6 counts them."""
    return sum(int(p.numel()) for p in model.parameters() if not p.stop_gradient)


def format_log(rows):
    lines = io.StringIO()
    writer = csv.writer(lines, lineterminator='\n')
    writer.writerow(LOG_COLUMNS)
    for row in rows:
        writer.writerow([row['epoch'], f"{row['lr']:.6g}",
                         *(f'{row[key]:.6f}' for key in LOG_COLUMNS[2:-1]), f"{row['seconds']:.2f}"])
    return lines.getvalue()


def read_log(path):
    """The rows of a log.csv, as dicts of numbers (epoch an int)."""
    with open(path, newline='', encoding='utf-8') as file:
        rows = list(csv.DictReader(file))
    return [{key: int(value) if key == 'epoch' else float(value) for key, value in row.items()}
            for row in rows]


def read_run(directory):
    """The run.json of a run directory, or {} for a log that came without one."""
    path = os.path.join(directory, RUN_FILE)
    if not os.path.isfile(path):
        return {}
    with open(path, encoding='utf-8') as file:
        return json.load(file)


def describe_row(row, epochs):
    return (f"epoch {row['epoch']}/{epochs}  lr {row['lr']:.6g}  "
            f"train loss {row['train_loss']:.4f} error {100 * row['train_error']:.2f} %  "
            f"test loss {row['test_loss']:.4f} error {100 * row['test_error']:.2f} %  "
            f"{row['seconds']:.1f} s")


def has_checkpoint(output):
    return checkpoints.has_checkpoint(output)


def prepare_output(output, resume, force, rank=0):
    """Refuse to mix a new run into an old one, or to touch a live run's directory;
    changes nothing.  Returns the checkpoint that --resume continues, or None."""
    if resume and force:
        raise UsageError('--resume continues the run in the output directory and --force '
                         'starts it over: give one of them')
    check_writable_directory('--output', output)
    if rank == 0:
        locking.check_free(output)       # before the checks below: a live run changes
    if force:
        return None
    if resume:
        if checkpoints.has_old_checkpoint(output) and not checkpoints.has_checkpoint(output):
            raise UsageError(f'--resume: {output} holds a checkpoint of the earlier format '
                             f'({" + ".join(checkpoints.OLD_FILES)}), which is a pickle and is not '
                             f'loaded (it could run code); start the run over with --force')
        checkpoint = checkpoints.load(output)
        if checkpoint is None and not os.path.exists(os.path.join(output, RUN_FILE)):
            raise UsageError(f'--resume: {output} has no checkpoint and no {RUN_FILE}: there is '
                             f'no run to continue')
        return checkpoint
    existing = [name for name in (checkpoints.MANIFEST, *checkpoints.OLD_FILES)
                if os.path.exists(os.path.join(output, name))]
    if existing:
        raise UsageError(f'{output} holds a run already ({", ".join(existing)}); add --resume to '
                         f'continue it or --force to start it over')
    return None


def flatten(description):
    """{'settings': {'epochs': 1}} -> {'epochs': 1}: one name for each setting."""
    flat = {}
    for key, value in description.items():
        flat.update(flatten(value) if isinstance(value, dict) else {key: value})
    return flat


def next_generator_state(seed, epoch):
    """The state of numpy's generator that orders and augments epoch `epoch` (from 0):
    all the randomness of the loop after the weights are made (the data order, crops and
    flips).  Paddle's own generator only makes the initial weights, which the checkpoint
    holds, so a resume needs nothing else."""
    state = np.random.default_rng([seed, epoch]).bit_generator.state
    return json.loads(json.dumps(state))     # numpy ints as plain JSON numbers


def check_checkpoint(checkpoint, output, name, description, model, optimizer_keys):
    """A UsageError unless the checkpoint read back is of this run and this network."""
    state = checkpoint.state
    if state.get('model') != name:
        raise UsageError(f'--resume: the checkpoint in {output} is of {state.get("model")}, '
                         f'not {name}')
    # As JSON holds it (a tuple comes back a list).
    saved, asked = flatten(state.get('description', {})), flatten(json.loads(json.dumps(description)))
    differences = [f'{key} {saved.get(key)!r} (now {value!r})'
                   for key, value in asked.items() if saved.get(key) != value]
    if differences:
        raise UsageError(f'--resume: the run in {output} had other settings: '
                         + ', '.join(differences))
    expected = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    for what, saved_arrays, keys in (('weights', checkpoint.model, expected),
                                     ('optimiser state', checkpoint.optimizer, optimizer_keys)):
        got = {key: tuple(value.shape) for key, value in saved_arrays.items()}
        if got != keys:
            wrong = sorted(set(got) ^ set(keys)) or [key for key in keys if got[key] != keys[key]]
            raise UsageError(f'--resume: the {what} in {checkpoint.directory} are of another '
                             f'network than {name} (e.g. {wrong[0]})')
    if state.get('next_generator') != next_generator_state(state['description']['settings']['seed'],
                                                           checkpoint.epoch):
        raise UsageError(f'--resume: the random state in {checkpoint.directory} is not the one '
                         f'this training loop makes for epoch {checkpoint.epoch + 1}')


def optimizer_accumulators(model):
    """{name: shape} of what paddle.optimizer.Momentum keeps: one velocity per parameter."""
    return {f'{p.name}_velocity_0': tuple(p.shape) for p in model.parameters() if not p.stop_gradient}


def save_checkpoint(output, model, optimizer, epoch, state):
    """Switch `output` to the checkpoint of `epoch` (checkpoints.save), then copy its
    log to log.csv.  A failed write is a UsageError: the previous checkpoint stays."""
    try:
        checkpoints.save(output, epoch, model.state_dict(), optimizer.state_dict(),
                         {**state, 'next_generator': next_generator_state(
                             state['description']['settings']['seed'], epoch)})
    except OSError as error:
        last = state['log'][-2]['epoch'] if len(state['log']) > 1 else 0
        raise UsageError(f'{output}: the checkpoint of epoch {epoch} cannot be written '
                         f'({error.strerror or error}); the last checkpoint is epoch {last}')
    # After the switch: log.csv follows the checkpoint (a kill just here leaves it one
    # epoch behind, which the next start repairs from the checkpoint).
    files.write_bytes(os.path.join(output, LOG_FILE), format_log(state['log']))


class Stops:
    """SIGINT and SIGTERM, remembered rather than acted on, so that the loop can stop at
    a step boundary; the handlers before are put back at the end.  Installed only in the
    main thread (where Python delivers signals)."""
    CODES = types.MappingProxyType({signal.SIGINT: 130, signal.SIGTERM: 143})   # 128 + number

    def __init__(self):
        self.signal = None

    def __enter__(self):
        self.before = {}
        if threading.current_thread() is threading.main_thread():
            for number in self.CODES:
                self.before[number] = signal.signal(number, self.handle)
        return self

    def handle(self, number, frame):
        if self.signal is not None:
            # A second Ctrl-C: the user will not wait for the step to end.  The last
            # checkpoint is whole all the same, and a killed save is cleaned up later.
            raise KeyboardInterrupt
        self.signal = number

    def __exit__(self, *exception):
        for number, handler in self.before.items():
            signal.signal(number, handler)


def all_sum(values, world_size):
    """The element-wise sum of `values` over all processes."""
    if world_size == 1:
        return np.asarray(values, dtype=np.float64)
    tensor = paddle.to_tensor(np.asarray(values, dtype=np.float64))
    dist.all_reduce(tensor)
    return tensor.numpy()


def average_buffers(model, world_size):
    """Average the BatchNorm running statistics, which each process gathered alone."""
    if world_size == 1:
        return
    # Paddle keeps them as parameters that take no gradient (BatchNorm's _mean, _variance).
    for statistic in [p for p in model.parameters() if p.stop_gradient] + model.buffers():
        dist.all_reduce(statistic)
        statistic.set_value(statistic / world_size)


def evaluate(model, images, labels, world_size, rank):
    """(mean loss, error rate) on the images; each process tests every world_size-th."""
    model.eval()
    images, labels = images[rank::world_size], labels[rank::world_size]
    totals = np.zeros(3)
    with paddle.no_grad():
        for start in range(0, len(labels), EVAL_BATCH):
            x = paddle.to_tensor(images[start:start + EVAL_BATCH])
            y = paddle.to_tensor(labels[start:start + EVAL_BATCH])
            logits = model(x)
            totals += (float(F.cross_entropy(logits, y, reduction='sum')),
                       int((logits.argmax(axis=1) != y).sum()), len(y))
    loss, errors, count = all_sum(totals, world_size)
    return loss / count, errors / count


def process_batches(count, batch_size, world_size, rank):
    """This process's share of every global batch of `batch_size` over positions
    0..count-1: batch_size / world_size positions a step, none shared with another rank."""
    return DistributedBatchSampler(range(count), batch_size // world_size,
                                   num_replicas=world_size, rank=rank)


class Diverged(Exception):
    """A loss that is not finite, at `step` (from 1) of the epoch."""

    def __init__(self, step, loss):
        super().__init__(step, loss)
        self.step, self.loss = step, loss


def agree(flags, world_size):
    """Element-wise max of `flags` over all processes: every process stops at the same
    step, or none does (one that stopped alone would leave the others waiting in the
    next all-reduce)."""
    if world_size == 1:
        return flags
    return [bool(value) for value in all_sum([float(flag) for flag in flags], world_size)]


def train_epoch(network, optimizer, data, settings, epoch, world_size, rank, progress,
                stops=None):
    """One pass over the training images: (mean loss, error rate) over all processes.

    Between steps it returns None if `stops` has seen a signal; a loss that is not
    finite raises Diverged before the step that would spread it to the weights."""
    network.train()
    rng = np.random.default_rng([settings.seed, epoch])
    order = rng.permutation(len(data.train_labels))
    augmentation = data.augmentation(rng)
    sampler = process_batches(len(order), settings.batch_size, world_size, rank)
    bar = progress(len(sampler), f'epoch {epoch + 1}/{settings.epochs}') if progress else None
    totals = np.zeros(3)
    try:
        for step, positions in enumerate(sampler, 1):
            positions = np.asarray(positions)
            images, labels = data.train_batch(order[positions], positions, augmentation)
            x, y = paddle.to_tensor(images), paddle.to_tensor(labels)
            with quiet_batch_norm():    # Paddle's training-mode note, for any model (blocks.py)
                logits = network(x)
            loss = F.cross_entropy(logits, y)
            value = float(loss)
            stop, diverged = agree([stops is not None and stops.signal is not None,
                                    not math.isfinite(value)], world_size)
            if diverged:
                raise Diverged(step, value)
            if stop:
                return None
            loss.backward()
            optimizer.step()
            optimizer.clear_grad()
            totals += (value * len(y), int((logits.argmax(axis=1) != y).sum()), len(y))
            if bar is not None:
                bar.set_postfix(loss=f'{totals[0] / totals[2]:.4f}',
                                error=f'{100 * totals[1] / totals[2]:.2f}%', refresh=False)
                bar.update()
    finally:
        if bar is not None:
            bar.close()
    loss, errors, count = all_sum(totals, world_size)
    return loss / count, errors / count


def stopped(stops, epoch, last):
    """The cli.Stop of a run stopped by a signal in `epoch` (from 1), `last` saved."""
    return Stop(f'stopped in epoch {epoch}; the last checkpoint is epoch {last}'
                f'{" (none yet)" if last == 0 else ""}; continue with --resume',
                Stops.CODES[stops.signal])


def train(name, build_model, data, settings, output, resume=False, force=False, device='cpu',
          description=None, progress=None, report=print):
    """Train `build_model()` (a classifier for data.num_classes) into `output`.

    `name` identifies the network in the checkpoint (--resume refuses another);
    `description` is a dict of whatever else defines the run (data, sizes), stored
    and compared on --resume with the settings.  `progress(total, text)` gives a
    tqdm-like bar, or None.  `report` gets one line per epoch (rank 0 only).
    Returns {'log': rows, 'params': trainable parameters, 'digest': weights_digest,
    'model': the trained network}.

    Rank 0 holds the lock on `output` (locking.owning) from before its checks to the
    end.  A signal ends the run with a cli.Stop (exit 130 or 143), a loss that is not
    finite with a cli.Stop of exit code 1; the last complete checkpoint stays.
    """
    settings.check()
    world_size, rank = processes()
    if settings.batch_size % world_size:
        raise UsageError(f'--batch-size {settings.batch_size} is the global batch and must divide '
                         f'evenly among the {world_size} processes')
    description = {**(description or {}), 'settings': asdict(settings)}
    check_writable_directory('--output', output)
    set_device(device)        # a bad --device before the directory is made for the lock
    with (locking.owning(output) if rank == 0 else contextlib.nullcontext()), Stops() as stops:
        checkpoint = prepare_output(output, resume, force, rank)
        return _train(name, build_model, data, settings, output, checkpoint, resume, force,
                      device, description, progress, report, world_size, rank, stops)


def _train(name, build_model, data, settings, output, checkpoint, resume, force, device,
           description, progress, report, world_size, rank, stops):
    init_parallel(world_size)
    if world_size > 1:
        # Every process has checked the output directory before rank 0 writes to it.
        dist.barrier()
    seed_everything(settings.seed)
    # Fresh parameter and accumulator names (conv2d_0.w_0, ..._velocity_0) in every
    # run, so that a checkpoint's optimiser state fits any process that rebuilds it.
    with paddle.utils.unique_name.guard():
        model = build_model()
        optimizer = paddle.optimizer.Momentum(settings.lr, settings.momentum,
                                              parameters=model.parameters(),
                                              weight_decay=settings.weight_decay)
        log, first = [], 0
        if checkpoint is not None:
            check_checkpoint(checkpoint, output, name, description, model,
                             optimizer_accumulators(model))
            model.set_state_dict(checkpoint.model)
            optimizer.set_state_dict({**{key: paddle.to_tensor(value)
                                         for key, value in checkpoint.optimizer.items()},
                                      **checkpoint.state.get('optimizer_scalars', {})})
            log, first = list(checkpoint.state['log']), checkpoint.epoch
        network = paddle.DataParallel(model) if world_size > 1 else model
        parameters = count_parameters(model)
        if rank == 0:
            try:
                os.makedirs(output, exist_ok=True)
                # What a killed save left, or with --force the whole earlier run; the
                # user's own files in the directory are not touched.
                checkpoints.remove(checkpoints.everything(output) if force
                                   else checkpoints.leftovers(output))
                if force or checkpoint is None:
                    with contextlib.suppress(FileNotFoundError):
                        os.remove(os.path.join(output, LOG_FILE))
            except OSError as error:
                raise UsageError(f'--output {output} cannot be prepared: {error.strerror or error}')
            run = {'model': name, 'params': parameters, 'processes': world_size,
                   'device': device, **description, 'data_description': data.describe()}
            files.write_bytes(os.path.join(output, RUN_FILE), json.dumps(run, indent=1) + '\n')
            if checkpoint is not None:   # log.csv may be an epoch behind its checkpoint
                files.write_bytes(os.path.join(output, LOG_FILE), format_log(log))
            elif resume:
                report(f'{output} has no checkpoint yet (the run stopped in its first epoch): '
                       f'it starts over at epoch 1')
        for epoch in range(first, settings.epochs):
            start = time.perf_counter()
            lr = learning_rate(settings, epoch)
            optimizer.set_lr(lr)
            try:
                losses = train_epoch(network, optimizer, data, settings, epoch, world_size, rank,
                                     progress if rank == 0 else None, stops)
            except Diverged as diverged:
                raise Stop(f'error: the training loss is {diverged.loss} in epoch {epoch + 1}, '
                           f'step {diverged.step}: the run diverged (try a lower --lr); the last '
                           f'checkpoint is epoch {epoch}, kept', 1)
            if losses is None:
                raise stopped(stops, epoch + 1, epoch)
            train_loss, train_error = losses
            average_buffers(model, world_size)
            test_loss, test_error = evaluate(model, data.test_images, data.test_labels,
                                             world_size, rank)
            if not math.isfinite(test_loss):
                raise Stop(f'error: the test loss is {test_loss} after epoch {epoch + 1}: the run '
                           f'diverged (try a lower --lr); the last checkpoint is epoch {epoch}, '
                           f'kept', 1)
            log.append({'epoch': epoch + 1, 'lr': lr, 'train_loss': train_loss,
                        'train_error': train_error, 'test_loss': test_loss,
                        'test_error': test_error, 'seconds': time.perf_counter() - start})
            if rank == 0:
                save_checkpoint(output, model, optimizer, epoch + 1,
                                {'model': name, 'log': log, 'description': description})
                report(describe_row(log[-1], settings.epochs))
            # A signal during the save is honoured once it is complete.
            if epoch + 1 < settings.epochs and agree([stops.signal is not None], world_size)[0]:
                raise stopped(stops, epoch + 1, epoch + 1)
    return {'log': log, 'params': parameters, 'digest': weights_digest(model.state_dict()),
            'model': model}


def add_arguments(parser, defaults=Settings()):
    """The flags of Settings, the device, and the output directory."""
    parser.add_argument('--epochs', type=int, default=defaults.epochs, metavar='N',
                        help=f'passes over the training images (default: {defaults.epochs}); '
                             f'the paper\'s 64k iterations of 128 CIFAR-10 images are 164 epochs')
    parser.add_argument('--batch-size', type=int, default=defaults.batch_size, metavar='N',
                        help=f'images per step, over all processes together (default: {defaults.batch_size})')
    parser.add_argument('--lr', type=float, default=defaults.lr, metavar='RATE',
                        help=f'the starting learning rate (default: {defaults.lr:g})')
    parser.add_argument('--milestones', type=float, nargs='+', default=list(defaults.milestones),
                        metavar='FRACTION',
                        help='where in the run the rate is multiplied by --lr-decay, as fractions '
                             f'of --epochs (default: {" ".join(map(str, defaults.milestones))})')
    parser.add_argument('--lr-decay', type=float, default=defaults.lr_decay, metavar='FACTOR',
                        help=f'the factor at each milestone (default: {defaults.lr_decay:g})')
    parser.add_argument('--warmup-epochs', type=int, default=defaults.warmup_epochs, metavar='N',
                        help=f'train the first N epochs at {WARMUP_FACTOR:g} x --lr, the paper\'s '
                             f'warm-up for ResNet-110 (default: {defaults.warmup_epochs})')
    parser.add_argument('--momentum', type=float, default=defaults.momentum, metavar='M',
                        help=f'SGD momentum (default: {defaults.momentum:g})')
    parser.add_argument('--weight-decay', type=float, default=defaults.weight_decay, metavar='W',
                        help=f'L2 weight decay on every parameter (default: {defaults.weight_decay:g})')
    parser.add_argument('--seed', type=int, default=defaults.seed, metavar='N',
                        help=f'seeds the weights, the data order and the augmentation '
                             f'(default: {defaults.seed}); a CPU run repeats exactly')
    parser.add_argument('--device', default=default_device(), metavar='cpu|gpu',
                        help='where to train (default: gpu if the installed Paddle has CUDA, '
                             'else cpu)')
    parser.add_argument('--resume', action='store_true',
                        help='continue the run in --output from its last checkpoint, with the '
                             'same settings')
    parser.add_argument('--force', action='store_true',
                        help='start over in an --output that holds a run')


def settings_from(args):
    return Settings(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                    momentum=args.momentum, weight_decay=args.weight_decay,
                    milestones=tuple(args.milestones), lr_decay=args.lr_decay,
                    seed=args.seed, warmup_epochs=args.warmup_epochs).check()
