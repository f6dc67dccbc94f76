"""The training loop: any paddle.nn.Layer classifier on a `data.Data`, one process or several.

The loop of the paper's Section 4.2 with its optimiser as the default: SGD with
momentum 0.9 and weight decay 1e-4, batch 128, learning rate 0.1 divided by 10
at 50 % and 75 % of the run (the paper's 32k and 48k of 64k iterations).

After every epoch the output directory gets a checkpoint, one unit of
safetensors and JSON files switched to by a manifest written last (the layout and
why it is safe against a kill at any instant: resnet_tools/training/checkpoints.py), and
  log.csv          one row per epoch (a LogRow); errors are fractions
and at the start run.json, the run's RunRecord (network, parameters, data, settings):
the folder's files are run_directory.py's.
One process owns the directory while it trains (resnet_tools/training/locking.py).

Stops: SIGINT (Ctrl-C) and SIGTERM end the run at the next step boundary, or after
the save under way, with a Stop (resnet_tools.errors; exit 130 or 143) naming the last
checkpoint;
a loss that is not finite ends it with exit 1 before anything is saved.

Repeatable: the weights start from `paddle.seed(seed)`, and every epoch's data
order and augmentation come from numpy's generator seeded with (seed, epoch), so
a run resumed after epoch k continues exactly as if it had not stopped.

Data parallel: under `python -m paddle.distributed.launch --nproc_per_node N`,
each process takes batch_size / N images of every global batch (through
paddle.io.DistributedBatchSampler), paddle.DataParallel averages the gradients,
and only rank 0 writes.  The same holds across machines, one launcher a node; a
process that waits for the others longer than Run.collective_timeout ends with one
line (distributed.Watchdog).  BatchNorm normalises each process's own images
(Paddle's SyncBatchNorm runs on GPUs only); its running statistics are averaged
over the processes after every epoch, so that all processes hold the same model.
"""
import contextlib
import hashlib
import json
import math
import os
import random
import signal
import threading
import time
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, cast

import numpy as np
import paddle
import paddle.nn.functional as F
from paddle import nn

from paddleinfo.arguments import paddle_notes_hidden
from resnet_tools import files
from resnet_tools.errors import FileError, Stop, UsageError
from resnet_tools.training import checkpoints
from resnet_tools.training.checkpoints import Checkpoint, short, tensors_and_scalars
from resnet_tools.training.data import Data
from resnet_tools.training.distributed import (COLLECTIVE_TIMEOUT, agree, all_sum,
                                               average_buffers, barrier, init_parallel,
                                               process_batches, processes, set_device, waiting)
from resnet_tools.training.run_directory import (LOG_FILE, Claim, LogRow, RunRecord, claim, log_rows,
                                                 format_log, write_run)
from resnet_tools.training.settings import Settings, learning_rate

EVAL_BATCH = 500    # images per forward pass when testing (eval mode: any size gives the same)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    paddle.seed(seed)


def weights_digest(state_dict: Mapping[str, Any]) -> str:
    """sha256 over every tensor's name, shape and bytes, in the order of the names (a
    safetensors file sorts them): equal digests, equal weights."""
    digest = hashlib.sha256()
    for name, tensor in sorted(state_dict.items()):
        array = np.ascontiguousarray(tensor.numpy() if hasattr(tensor, 'numpy') else tensor)
        digest.update(f'{name} {array.dtype} {array.shape}\n'.encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def count_parameters(model: nn.Layer) -> int:
    """Trainable parameters, as the paper's Table 6 counts them."""
    return sum(int(p.numel()) for p in model.parameters() if not p.stop_gradient)


def flatten(description: Mapping[str, Any]) -> dict[str, Any]:
    """{'settings': {'epochs': 1}} -> {'epochs': 1}: one name for each setting."""
    flat: dict[str, Any] = {}
    for key, value in description.items():
        flat.update(flatten(value) if isinstance(value, dict) else {key: value})
    return flat


def next_generator_state(seed: int, epoch: int) -> dict[str, Any]:
    """The state of numpy's generator that orders and augments epoch `epoch` (from 0):
    all the randomness of the loop after the weights are made (the data order, crops and
    flips).  Paddle's own generator only makes the initial weights, which the checkpoint
    holds, so a resume needs nothing else."""
    state = np.random.default_rng([seed, epoch]).bit_generator.state
    return json.loads(json.dumps(state))     # numpy ints as plain JSON numbers


def check_checkpoint(checkpoint: Checkpoint, run: 'Run', description: dict[str, Any],
                     model: nn.Layer, optimizer: Any) -> list[LogRow]:
    """The log of a checkpoint read back, or a UsageError unless it is of this run and
    this network: its description, its tensors' names, shapes and dtypes, its log and
    its random state.  (checkpoints.load has checked the JSON types of state.json.)"""
    state, output, name = checkpoint.state, run.output, run.name
    if state['model'] != name:
        raise UsageError(f'--resume: the checkpoint in {output} is of {short(state["model"])}, '
                         f'not {name}')
    # As JSON holds it (a tuple comes back a list).
    saved, asked = flatten(state['description']), flatten(json.loads(json.dumps(description)))
    differences = [f'{key} {short(saved.get(key))} (now {value!r})'
                   for key, value in asked.items() if saved.get(key) != value]
    if differences:
        raise UsageError(f'--resume: the run in {output} had other settings: '
                         + ', '.join(differences))
    for what, saved_arrays, keys in (
            ('weights', checkpoint.model, layout(model.state_dict())),
            ('optimiser state', checkpoint.optimizer, optimizer_accumulators(model))):
        got = layout(saved_arrays)
        if got != keys:
            wrong = sorted(set(got) ^ set(keys)) or [key for key in keys if got[key] != keys[key]]
            raise UsageError(f'--resume: the {what} in {checkpoint.directory} are of another '
                             f'network than {name} (e.g. {wrong[0]}: {got.get(wrong[0])}, '
                             f'not {keys.get(wrong[0])})')
    scalars = tensors_and_scalars(optimizer.state_dict())[1]
    if set(state['optimizer_scalars']) != set(scalars):
        raise FileError(f'--resume: the optimiser state in {checkpoint.directory} is not of '
                         f'the optimiser this loop makes')
    try:
        log = log_rows(state['log'], checkpoint.epoch)
    except ValueError as why:
        raise FileError(f'--resume: the log in {checkpoint.directory} {why}; the checkpoint is '
                         f'damaged, nothing was changed (start over with --force)')
    if state['next_generator'] != next_generator_state(run.settings.seed, checkpoint.epoch):
        raise FileError(f'--resume: the random state in {checkpoint.directory} is not the one '
                         f'this training loop makes for epoch {checkpoint.epoch + 1}')
    return log


def layout(tensors: Mapping[str, Any]) -> dict[str, tuple[tuple[int, ...], str]]:
    """{name: (shape, dtype)} of a state dict of tensors or numpy arrays."""
    return {key: (tuple(value.shape), str(value.dtype).removeprefix('paddle.'))
            for key, value in tensors.items()}


def optimizer_accumulators(model: nn.Layer) -> dict[str, tuple[tuple[int, ...], str]]:
    """{name: (shape, dtype)} of what paddle.optimizer.Momentum keeps: one velocity per
    parameter, of its shape and dtype."""
    return {f'{p.name}_velocity_0': (tuple(p.shape), str(p.dtype).removeprefix('paddle.'))
            for p in model.parameters() if not p.stop_gradient}


def save_checkpoint(output: str, model: nn.Layer, optimizer: Any, epoch: int,
                    state: dict[str, Any], log: Sequence[LogRow]) -> None:
    """Switch `output` to the checkpoint of `epoch` (checkpoints.save), with `log` and the
    JSON `state` of the run; then copy the log to log.csv.  A failed write is a
    UsageError: the previous checkpoint stays."""
    try:
        checkpoints.save(output, epoch, model.state_dict(), optimizer.state_dict(),
                         {**state, 'log': [asdict(row) for row in log],
                          'next_generator': next_generator_state(
                              state['description']['settings']['seed'], epoch)})
    except checkpoints.SaveFailed as failed:
        cause = failed.error.strerror or failed.error
        if failed.epoch == epoch:    # the error came after the switch: epoch's checkpoint is the run
            raise UsageError(f'{output}: the checkpoint of epoch {epoch} was written, but flushing '
                             f'it to the disk failed ({cause}); the last checkpoint is epoch {epoch}, '
                             f'which --resume continues')
        raise UsageError(f'{output}: the checkpoint of epoch {epoch} cannot be written ({cause}); '
                         f'the last checkpoint is epoch {failed.epoch or 0}')
    # After the switch: log.csv follows the checkpoint (a kill just here leaves it one
    # epoch behind, which the next start repairs from the checkpoint).
    files.write_bytes(os.path.join(output, LOG_FILE), format_log(log))


class Signals:
    """SIGINT and SIGTERM, remembered rather than acted on, so that the loop can stop at
    a step boundary; the handlers before are put back at the end.  Installed only in the
    main thread (where Python delivers signals)."""
    # 128 + number
    CODES: Mapping[int, int] = types.MappingProxyType({signal.SIGINT: 130, signal.SIGTERM: 143})

    def __init__(self) -> None:
        self.signal: int | None = None

    def __enter__(self) -> 'Signals':
        self.before: dict[int, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for number in self.CODES:
                # One the program was started with ignored (a background job's SIGINT)
                # stays ignored: the user asked for it not to stop the run.
                if signal.getsignal(number) is not signal.SIG_IGN:
                    self.before[number] = signal.signal(number, self.handle)
        return self

    def handle(self, number: int, frame: types.FrameType | None) -> None:
        if self.signal is not None:
            # A second Ctrl-C: the user will not wait for the step to end.  The last
            # checkpoint is whole all the same, and a killed save is cleaned up later.
            raise KeyboardInterrupt
        self.signal = number

    def __exit__(self, *exception: object) -> None:
        for number, handler in self.before.items():
            signal.signal(number, handler)


def evaluate(model: nn.Layer, images: np.ndarray, labels: np.ndarray, world_size: int,
             rank: int) -> tuple[float, float]:
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


class Diverged(Exception):
    """A loss that is not finite, at `step` (from 1) of the epoch."""

    def __init__(self, step: int, loss: float) -> None:
        super().__init__(step, loss)
        self.step, self.loss = step, loss


def train_epoch(network: nn.Layer, optimizer: Any, data: Data, settings: Settings, epoch: int,
                world_size: int, rank: int, progress: Callable[[int, str], Any] | None,
                signals: Signals | None = None) -> tuple[float, float] | None:
    """One pass over the training images: (mean loss, error rate) over all processes.

    Between steps it returns None if `signals` has seen one; a loss that is not
    finite raises Diverged before the step that would spread it to the weights."""
    network.train()
    rng = np.random.default_rng([settings.seed, epoch])
    order = rng.permutation(len(data.train_labels))
    augmentation = data.augmentation(rng)
    sampler = process_batches(len(order), settings.batch_size, world_size, rank)
    bar = progress(len(sampler), f'epoch {epoch + 1}/{settings.epochs}') if progress else None
    totals = np.zeros(3)
    positions: list[int] | np.ndarray   # the sampler's list, as an array
    try:
        for step, positions in enumerate(sampler, 1):
            positions = np.asarray(positions)
            images, labels = data.train_batch(order[positions], positions, augmentation)
            x, y = paddle.to_tensor(images), paddle.to_tensor(labels)
            with paddle_notes_hidden():    # BatchNorm's training-mode note, for any model
                logits = network(x)
            loss = F.cross_entropy(logits, y)
            value = float(loss)
            stop, diverged = agree([signals is not None and signals.signal is not None,
                                    not math.isfinite(value)], world_size)
            if diverged:
                raise Diverged(step, value)
            if stop:
                return None
            with waiting('in the all-reduce of the gradients') if world_size > 1 \
                    else contextlib.nullcontext():
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


def stop_after_signal(signals: Signals, epoch: int, last: int) -> Stop:
    """The Stop of a run stopped by a signal in `epoch` (from 1), `last` saved."""
    assert signals.signal is not None   # it is called once a signal has come
    return Stop(f'stopped in epoch {epoch}; the last checkpoint is epoch {last}'
                f'{" (none yet)" if last == 0 else ""}; continue with --resume',
                Signals.CODES[signals.signal])


@dataclass(frozen=True)
class Run:
    """One training run: what to train, on what, how, and where.

    `name` identifies the network in the checkpoint (--resume refuses another);
    `details` are whatever else defines the run (the data, its sizes, the network), kept
    in run.json and the checkpoint and compared on --resume with the settings.
    `progress(total, text)` gives a tqdm-like bar, or None; `report` gets one line per
    epoch (rank 0 only).  `collective_timeout`: the seconds a process of a data-parallel
    run waits for the others in one collective before it ends with one line and exit
    code 1 (distributed.Watchdog)."""
    name: str
    build_model: Callable[[], nn.Layer]
    data: Data
    settings: Settings
    output: str
    details: Mapping[str, Any] = field(default_factory=dict)
    resume: bool = False
    force: bool = False
    device: str = 'cpu'
    progress: Callable[[int, str], Any] | None = None
    report: Callable[[str], None] = print
    collective_timeout: float = COLLECTIVE_TIMEOUT

    @property
    def description(self) -> dict[str, Any]:
        """What the checkpoint keeps of the run to compare on --resume."""
        return {**self.details, 'settings': asdict(self.settings)}


@dataclass(frozen=True)
class TrainResult:
    """A run's log, its trainable parameters, the sha256 of its weights (weights_digest)
    and the trained network."""
    log: list[LogRow]
    params: int
    digest: str
    model: nn.Layer


def train(run: Run, taken: Claim | None = None) -> TrainResult:
    """Train `run.build_model()` (a classifier for run.data.num_classes) into run.output.

    `taken` is the output directory, already taken by run_directory.claim (and then held
    for the whole run); else train takes it itself.  Rank 0 holds the lock on the
    directory from before its checks to the end.  A signal ends the run with a Stop
    (exit 130 or 143), a loss that is not finite with a Stop of exit code 1; the last
    complete checkpoint stays.
    """
    run.settings.check()
    world_size, _ = processes()
    if run.settings.batch_size % world_size:
        raise UsageError(f'--batch-size {run.settings.batch_size} is the global batch and must '
                         f'divide evenly among the {world_size} processes')
    if taken is not None:      # (its taker set the device before it took the directory)
        if os.path.realpath(taken.output) != os.path.realpath(run.output):
            raise ValueError(f'the run is to go into {run.output}, but {taken.output} was taken')
        return _in_claim(run, taken)
    set_device(run.device)        # a bad --device before the directory is made for the lock
    with claim(run.output, run.resume, run.force) as taken:
        return _in_claim(run, taken)


def _in_claim(run: Run, taken: Claim) -> TrainResult:
    with Signals() as signals:
        return _train(run, taken.checkpoint, signals)


def _train(run: Run, checkpoint: Checkpoint | None, signals: Signals) -> TrainResult:
    world_size, rank = processes()
    settings, output, description = run.settings, run.output, run.description
    init_parallel(world_size, run.collective_timeout)
    if world_size > 1:
        # Every process has checked the output directory before rank 0 writes to it.
        barrier()
    seed_everything(settings.seed)
    # Fresh parameter and accumulator names (conv2d_0.w_0, ..._velocity_0) in every
    # run, so that a checkpoint's optimiser state fits any process that rebuilds it.
    with paddle.utils.unique_name.guard():
        model = run.build_model()
        optimizer = paddle.optimizer.Momentum(settings.lr, settings.momentum,
                                              parameters=model.parameters(),
                                              weight_decay=settings.weight_decay)
        log: list[LogRow] = []
        first = 0
        if checkpoint is not None:
            log = check_checkpoint(checkpoint, run, description, model, optimizer)
            # Paddle's hints ask for Tensors; set_state_dict takes numpy arrays as well.
            model.set_state_dict(cast(dict[str, Any], checkpoint.model))
            optimizer.set_state_dict({**{key: paddle.to_tensor(value)
                                         for key, value in checkpoint.optimizer.items()},
                                      **checkpoint.state['optimizer_scalars']})
            first = checkpoint.epoch
        network: nn.Layer = model
        if world_size > 1:
            with waiting('in the broadcast of the weights'):
                network = paddle.DataParallel(model)
        parameters = count_parameters(model)
        if rank == 0:
            try:
                os.makedirs(output, exist_ok=True)
                # What a killed save left, or with --force the whole earlier run; the
                # user's own files in the directory are not touched.
                checkpoints.remove(checkpoints.everything(output) if run.force
                                   else checkpoints.leftovers(output))
                if run.force or checkpoint is None:
                    with contextlib.suppress(FileNotFoundError):
                        os.remove(os.path.join(output, LOG_FILE))
            except OSError as error:
                raise UsageError(f'--output {output} cannot be prepared: {error.strerror or error}')
            write_run(output, RunRecord(run.name, parameters, world_size, run.device, settings,
                                        run.data.describe(), run.details))
            if checkpoint is not None:   # log.csv may be an epoch behind its checkpoint
                files.write_bytes(os.path.join(output, LOG_FILE), format_log(log))
            elif run.resume:
                run.report(f'{output} has no checkpoint yet (the run stopped in its first epoch): '
                           f'it starts over at epoch 1')
        for epoch in range(first, settings.epochs):
            start = time.perf_counter()
            lr = learning_rate(settings, epoch)
            optimizer.set_lr(lr)
            try:
                losses = train_epoch(network, optimizer, run.data, settings, epoch, world_size,
                                     rank, run.progress if rank == 0 else None, signals)
            except Diverged as diverged:
                raise Stop(f'error: the training loss is {diverged.loss} in epoch {epoch + 1}, '
                           f'step {diverged.step}: the run diverged (try a lower --lr); the last '
                           f'checkpoint is epoch {epoch}, kept', 1)
            if losses is None:
                raise stop_after_signal(signals, epoch + 1, epoch)
            train_loss, train_error = losses
            average_buffers(model, world_size)
            test_loss, test_error = evaluate(model, run.data.test_images, run.data.test_labels,
                                             world_size, rank)
            if not math.isfinite(test_loss):
                raise Stop(f'error: the test loss is {test_loss} after epoch {epoch + 1}: the run '
                           f'diverged (try a lower --lr); the last checkpoint is epoch {epoch}, '
                           f'kept', 1)
            log.append(LogRow(epoch + 1, lr, train_loss, train_error, test_loss, test_error,
                              time.perf_counter() - start))
            if rank == 0:
                save_checkpoint(output, model, optimizer, epoch + 1,
                                {'model': run.name, 'description': description}, log)
                run.report(log[-1].describe(settings.epochs))
            # A signal during the save is honoured once it is complete.
            if epoch + 1 < settings.epochs and agree([signals.signal is not None], world_size)[0]:
                raise stop_after_signal(signals, epoch + 1, epoch + 1)
    return TrainResult(log, parameters, weights_digest(model.state_dict()), model)
