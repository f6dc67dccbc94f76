"""Train any paddle.nn.Layer classifier on a `data.Data`, one process or several.

The loop of the paper's Section 4.2 with its optimiser as the default: SGD with
momentum 0.9 and weight decay 1e-4, batch 128, learning rate 0.1 divided by 10
at 50 % and 75 % of the run (the paper's 32k and 48k of 64k iterations).

After every epoch the output directory gets, each written atomically (a
temporary file in the same directory, then os.replace):
  model.pdparams   the network's state_dict, for model.set_state_dict(paddle.load(...))
  model.pdopt      {'optimizer': the optimiser's state_dict, 'epoch', 'model', 'settings',
                   'config', 'log', 'params_sha256'}: what --resume needs
  log.csv          one row per epoch (LOG_COLUMNS); errors are fractions
and at the start run.json, the run's description (network, parameters, data, settings).

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
import csv
import hashlib
import io
import json
import os
import random
import time
from dataclasses import asdict, dataclass

import numpy as np
import paddle
import paddle.distributed as dist
import paddle.nn.functional as F
from paddle.io import DistributedBatchSampler

from resnet_tools import files
from resnet_tools.cli import UsageError, check_writable_directory

PARAMS_FILE, OPTIMIZER_FILE, LOG_FILE, RUN_FILE = 'model.pdparams', 'model.pdopt', 'log.csv', 'run.json'
OUTPUT_FILES = (PARAMS_FILE, OPTIMIZER_FILE, LOG_FILE, RUN_FILE)
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
        checks = (('--epochs', self.epochs, self.epochs >= 1, 'at least 1'),
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


def to_bytes(obj):
    buffer = io.BytesIO()
    paddle.save(obj, buffer)
    return buffer.getvalue()


def weights_digest(state_dict):
    """sha256 over every tensor's name, shape and bytes: equal digests, equal weights."""
    digest = hashlib.sha256()
    for name, tensor in state_dict.items():
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
    return all(os.path.exists(os.path.join(output, name)) for name in (PARAMS_FILE, OPTIMIZER_FILE))


def prepare_output(output, resume, force):
    """Refuse to mix a new run into an old one; with --force, clear the old one."""
    if resume and force:
        raise UsageError('--resume continues the run in the output directory and --force '
                         'starts it over: give one of them')
    check_writable_directory('--output', output)
    existing = [name for name in OUTPUT_FILES if os.path.exists(os.path.join(output, name))]
    if resume:
        if not has_checkpoint(output):
            raise UsageError(f'--resume: {output} has no checkpoint ({PARAMS_FILE} and {OPTIMIZER_FILE})')
    elif existing and not force:
        raise UsageError(f'{output} holds a run already ({", ".join(existing)}); add --resume to '
                         f'continue it or --force to start it over')
    return existing


def flatten(description):
    """{'settings': {'epochs': 1}} -> {'epochs': 1}: one name for each setting."""
    flat = {}
    for key, value in description.items():
        flat.update(flatten(value) if isinstance(value, dict) else {key: value})
    return flat


def read_checkpoint(output, name, description):
    """The checkpoint in `output`, checked against the run asked for."""
    path = os.path.join(output, OPTIMIZER_FILE)
    try:
        checkpoint = paddle.load(path)
        with open(os.path.join(output, PARAMS_FILE), 'rb') as file:
            params = file.read()
    except Exception as error:   # paddle.load raises whatever unpickling met
        raise UsageError(f'--resume: {path} cannot be read ({type(error).__name__})')
    if not isinstance(checkpoint, dict) or not {'model', 'epoch', 'log', 'optimizer'} <= set(checkpoint):
        raise UsageError(f'--resume: {path} is not a checkpoint written by this training loop')
    if checkpoint['model'] != name:
        raise UsageError(f'--resume: the checkpoint in {output} is of {checkpoint["model"]}, '
                         f'not {name}')
    if checkpoint.get('params_sha256') != hashlib.sha256(params).hexdigest():
        raise UsageError(f'--resume: {PARAMS_FILE} and {OPTIMIZER_FILE} in {output} are not from '
                         f'the same epoch (was the run stopped while saving?)')
    saved, asked = flatten(checkpoint.get('description', {})), flatten(description)
    differences = [f'{key} {saved.get(key)!r} (now {value!r})'
                   for key, value in asked.items() if saved.get(key) != value]
    if differences:
        raise UsageError(f'--resume: the run in {output} had other settings: '
                         + ', '.join(differences))
    return checkpoint, params


def save_checkpoint(output, model, optimizer, checkpoint):
    params = to_bytes(model.state_dict())
    checkpoint = {**checkpoint, 'optimizer': optimizer.state_dict(),
                  'params_sha256': hashlib.sha256(params).hexdigest()}
    # Parameters first: a stop between the two renames leaves a pair whose digests
    # disagree, which --resume reports.
    files.write_bytes(os.path.join(output, PARAMS_FILE), params)
    files.write_bytes(os.path.join(output, OPTIMIZER_FILE), to_bytes(checkpoint))
    files.write_bytes(os.path.join(output, LOG_FILE), format_log(checkpoint['log']))


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


def train_epoch(network, optimizer, data, settings, epoch, world_size, rank, progress):
    """One pass over the training images: (mean loss, error rate) over all processes."""
    network.train()
    rng = np.random.default_rng([settings.seed, epoch])
    order = rng.permutation(len(data.train_labels))
    augmentation = data.augmentation(rng)
    sampler = process_batches(len(order), settings.batch_size, world_size, rank)
    bar = progress(len(sampler), f'epoch {epoch + 1}/{settings.epochs}') if progress else None
    totals = np.zeros(3)
    for positions in sampler:
        positions = np.asarray(positions)
        images, labels = data.train_batch(order[positions], positions, augmentation)
        x, y = paddle.to_tensor(images), paddle.to_tensor(labels)
        logits = network(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        optimizer.step()
        optimizer.clear_grad()
        totals += (float(loss) * len(y), int((logits.argmax(axis=1) != y).sum()), len(y))
        if bar is not None:
            bar.set_postfix(loss=f'{totals[0] / totals[2]:.4f}',
                            error=f'{100 * totals[1] / totals[2]:.2f}%', refresh=False)
            bar.update()
    if bar is not None:
        bar.close()
    loss, errors, count = all_sum(totals, world_size)
    return loss / count, errors / count


def train(name, build_model, data, settings, output, resume=False, force=False, device='cpu',
          description=None, progress=None, report=print):
    """Train `build_model()` (a classifier for data.num_classes) into `output`.

    `name` identifies the network in the checkpoint (--resume refuses another);
    `description` is a dict of whatever else defines the run (data, sizes), stored
    and compared on --resume with the settings.  `progress(total, text)` gives a
    tqdm-like bar, or None.  `report` gets one line per epoch (rank 0 only).
    Returns {'log': rows, 'params': trainable parameters, 'digest': weights_digest,
    'model': the trained network}.
    """
    settings.check()
    world_size, rank = processes()
    if settings.batch_size % world_size:
        raise UsageError(f'--batch-size {settings.batch_size} is the global batch and must divide '
                         f'evenly among the {world_size} processes')
    description = {**(description or {}), 'settings': asdict(settings)}
    existing = prepare_output(output, resume, force)
    checkpoint, params = read_checkpoint(output, name, description) if resume else (None, None)
    set_device(device)
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
            model.set_state_dict(paddle.load(io.BytesIO(params)))
            optimizer.set_state_dict(checkpoint['optimizer'])
            log, first = list(checkpoint['log']), checkpoint['epoch']
        network = paddle.DataParallel(model) if world_size > 1 else model
        parameters = count_parameters(model)
        if rank == 0:
            try:
                os.makedirs(output, exist_ok=True)
            except OSError as error:
                raise UsageError(f'--output {output} cannot be made: {error.strerror or error}')
            for stale in existing if force else ():
                os.remove(os.path.join(output, stale))
            run = {'model': name, 'params': parameters, 'processes': world_size,
                   'device': device, **description, 'data_description': data.describe()}
            files.write_bytes(os.path.join(output, RUN_FILE), json.dumps(run, indent=1) + '\n')
        for epoch in range(first, settings.epochs):
            start = time.perf_counter()
            lr = learning_rate(settings, epoch)
            optimizer.set_lr(lr)
            train_loss, train_error = train_epoch(network, optimizer, data, settings, epoch,
                                                  world_size, rank, progress if rank == 0 else None)
            average_buffers(model, world_size)
            test_loss, test_error = evaluate(model, data.test_images, data.test_labels,
                                             world_size, rank)
            log.append({'epoch': epoch + 1, 'lr': lr, 'train_loss': train_loss,
                        'train_error': train_error, 'test_loss': test_loss,
                        'test_error': test_error, 'seconds': time.perf_counter() - start})
            if rank == 0:
                save_checkpoint(output, model, optimizer,
                                {'model': name, 'epoch': epoch + 1, 'log': log,
                                 'description': description})
                report(describe_row(log[-1], settings.epochs))
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
