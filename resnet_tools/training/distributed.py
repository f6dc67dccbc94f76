"""Several processes, one run: under `python -m paddle.distributed.launch`, the rank and
number of processes, the device, and the sums and averages the processes agree on.

Each process takes batch_size / N images of every global batch (through
paddle.io.DistributedBatchSampler), paddle.DataParallel averages the gradients, and
BatchNorm's running statistics, which each process gathers alone, are averaged after
every epoch.
"""
import os
from collections.abc import Sequence

import numpy as np
import paddle
import paddle.distributed as dist
from paddle import nn
from paddle.io import DistributedBatchSampler

from paddleinfo.arguments import choice
from resnet_tools.errors import UsageError


DEVICES = ('cpu', 'gpu')


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


_parallel_env_ready = False


def init_parallel(world_size: int) -> None:
    global _parallel_env_ready
    if world_size > 1 and not _parallel_env_ready:
        dist.init_parallel_env()
        _parallel_env_ready = True


def barrier() -> None:
    """Wait until every process has come this far."""
    dist.barrier()


def all_sum(values: Sequence[float] | np.ndarray, world_size: int) -> np.ndarray:
    """The element-wise sum of `values` over all processes."""
    if world_size == 1:
        return np.asarray(values, dtype=np.float64)
    tensor = paddle.to_tensor(np.asarray(values, dtype=np.float64))
    dist.all_reduce(tensor)
    return tensor.numpy()


def average_buffers(model: nn.Layer, world_size: int) -> None:
    """Average the BatchNorm running statistics, which each process gathered alone."""
    if world_size == 1:
        return
    # Paddle keeps them as parameters that take no gradient (BatchNorm's _mean, _variance).
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
