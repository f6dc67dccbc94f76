"""Several processes, one run: under `python -m paddle.distributed.launch`, the rank and
number of processes, the device, and the sums and averages the processes agree on.

Each process takes batch_size / N images of every global batch (through
paddle.io.DistributedBatchSampler), paddle.DataParallel averages the gradients, and
BatchNorm's running statistics, which each process gathers alone, are averaged after
every epoch.

Across machines (`--nnodes 2 --master IP:PORT --rank R`, one launcher a node) nothing
else changes: the ranks follow the nodes (node 0 holds ranks 0..n-1).  A process that
waits in a collective (an all-reduce, a barrier, the start of gloo itself) for longer
than the collective timeout ends with one line on stderr and exit code 1, so a node
that died or froze (no answer, no closed connection) never leaves the others waiting
for ever: a watchdog thread, because a blocked gloo call cannot be interrupted.  No
collective waits while rank 0 saves, so the line never comes in the middle of a save.
"""
import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator, Sequence

import numpy as np
import paddle
import paddle.distributed as dist
from paddle import nn
from paddle.io import DistributedBatchSampler

from paddleinfo.arguments import choice
from resnet_tools.errors import Stop, UsageError


DEVICES = ('cpu', 'gpu')
# Seconds a process waits in one collective for the others before it gives up: longer
# than any wait of a healthy run (rank 0's save of a checkpoint, a slower node's start).
COLLECTIVE_TIMEOUT = 300.0


def processes() -> tuple[int, int]:
    """(number of processes, this one's rank), as paddle.distributed.launch sets them."""
    return (int(os.environ.get('PADDLE_TRAINERS_NUM', '1')),
            int(os.environ.get('PADDLE_TRAINER_ID', '0')))


def default_device() -> str:
    return 'gpu' if paddle.is_compiled_with_cuda() else 'cpu'


def set_device(device: str) -> None:
    if choice('--device', device, DEVICES) == 'gpu':
        if not paddle.is_compiled_with_cuda():
            raise UsageError('--device gpu: the installed Paddle has no CUDA (it is the CPU build); '
                             'use --device cpu, or install paddlepaddle-gpu')
        paddle.set_device(f'gpu:{dist.ParallelEnv().device_id}')
    else:
        paddle.set_device('cpu')


class Watchdog:
    """Ends the process with one line and exit code 1 if a collective started under
    `waiting(what)` has not returned after `timeout` seconds.  One daemon thread, made
    at the first wait; the collectives are all made from one thread (the loop's)."""

    def __init__(self, timeout: float = COLLECTIVE_TIMEOUT) -> None:
        self.timeout = timeout
        self._deadline: float | None = None
        self._what = ''
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def waiting(self, what: str) -> Iterator[None]:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name='collective watchdog',
                                                daemon=True)
                self._thread.start()
            self._deadline, self._what = time.monotonic() + self.timeout, what
        try:
            yield
        except RuntimeError as error:
            # gloo's error when another process's connection closes (it died, and its
            # kernel said so): one line, as after a timeout.
            if 'gloo' not in str(error).lower() and 'nccl' not in str(error).lower():
                raise
            cause = str(error).strip().splitlines()[-1].split('] ', 1)[-1]
            raise Stop(self.line(f'lost the connection {what} ({cause})'), 1) from None
        finally:
            with self._lock:
                self._deadline = None

    def _watch(self) -> None:
        while True:
            time.sleep(min(1.0, self.timeout / 10))
            with self._lock:
                late = self._deadline is not None and time.monotonic() > self._deadline
                what = self._what
            if late:
                self.give_up(what)

    @staticmethod
    def line(happened: str) -> str:
        world_size, rank = processes()
        return (f'error: process {rank + 1} of {world_size} {happened} and stopped (a node '
                f'died, froze or lost the network?); the last checkpoint is kept: start every '
                f'node again with --resume')

    def give_up(self, what: str) -> None:
        """The one line, then the end of the process: the loop's thread is blocked in
        Paddle, so nothing can be raised to it.  The kernel drops the run lock, and the
        last checkpoint stays as it was."""
        program = os.path.basename(sys.argv[0]) or 'python'
        line = (f'{program}: ' + self.line(f'waited {self.timeout:g} s for the others {what}')
                + '\n')
        with contextlib.suppress(OSError):
            sys.stdout.flush()
        with contextlib.suppress(OSError):
            os.write(2, line.encode('utf-8', 'replace'))
        os._exit(1)


watchdog = Watchdog()
_parallel_env_ready = False


def init_parallel(world_size: int, timeout: float = COLLECTIVE_TIMEOUT) -> None:
    """Join the other processes (gloo on a CPU, NCCL on GPUs), each collective after it
    bounded by `timeout` seconds."""
    global _parallel_env_ready
    watchdog.timeout = timeout
    if world_size > 1 and not _parallel_env_ready:
        with watchdog.waiting('to join them'):
            dist.init_parallel_env()
        _parallel_env_ready = True


def waiting(what: str) -> contextlib.AbstractContextManager[None]:
    """The block of a collective the loop makes itself (paddle.DataParallel's broadcast of
    the weights, the gradients' all-reduce in backward), bounded as the ones here are."""
    return watchdog.waiting(what)


def barrier() -> None:
    """Wait until every process has come this far."""
    with watchdog.waiting('at a barrier'):
        dist.barrier()


def all_sum(values: Sequence[float] | np.ndarray, world_size: int) -> np.ndarray:
    """The element-wise sum of `values` over all processes."""
    if world_size == 1:
        return np.asarray(values, dtype=np.float64)
    tensor = paddle.to_tensor(np.asarray(values, dtype=np.float64))
    with watchdog.waiting('in a sum'):
        dist.all_reduce(tensor)
        return tensor.numpy()     # (on a GPU the sum is waited for here)


def average_buffers(model: nn.Layer, world_size: int) -> None:
    """Average the BatchNorm running statistics, which each process gathered alone."""
    if world_size == 1:
        return
    # Paddle keeps them as parameters that take no gradient (BatchNorm's _mean, _variance).
    with watchdog.waiting("in averaging BatchNorm's statistics"):
        for statistic in [p for p in model.parameters() if p.stop_gradient] + model.buffers():
            dist.all_reduce(statistic)
            statistic.set_value(statistic / world_size)


def process_batches(count: int, batch_size: int, world_size: int,
                    rank: int) -> DistributedBatchSampler:
    """This process's share of every global batch of `batch_size` over positions
    0..count-1: batch_size / world_size positions a step, none shared with another rank."""
    return DistributedBatchSampler(range(count), batch_size // world_size,
                                   num_replicas=world_size, rank=rank)


def agree(flags: Sequence[bool], world_size: int) -> Sequence[bool]:
    """Element-wise max of `flags` over all processes: every process stops at the same
    step, or none does (one that stopped alone would leave the others waiting in the
    next all-reduce)."""
    if world_size == 1:
        return flags
    return [bool(value) for value in all_sum([float(flag) for flag in flags], world_size)]
