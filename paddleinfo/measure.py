"""The memory a model really takes: Paddle's own allocator statistics read around real
training steps and a real forward pass, to check an estimate (paddleinfo.memory) against.

    from paddleinfo.measure import measured_peak
    from paddleinfo.result import Input
    peak = measured_peak(lambda: MyNet(), [Input([8, 3, 32, 32])], optimizer='adam')
    peak.training_peak, peak.inference_peak, peak.at_rest      # bytes

What is counted.  Paddle keeps, per place, a statistic 'Allocated': the bytes of every
allocation it has handed out and not yet taken back, and its peak since the last
reset.  On a CPU these are core.host_memory_stat_*_value('Allocated', 0), on a GPU
core.device_memory_stat_*_value('Allocated', N) (what paddle.device.cuda.
max_memory_allocated reads).  So a figure here is the bytes of live tensors -- the
parameters, their gradients, the optimizer's moments, the inputs, the activations kept
for backward and the temporaries of the kernels -- and nothing else:

  - not the memory the allocator has reserved but not handed out (its cache, the
    'Reserved' statistic; what nvidia-smi or the process's RSS would show is larger);
  - not its fragmentation, nor the rounding of its chunks: on a CPU an allocation of
    n bytes counts n (a float32 tensor of 5 values counts 20 bytes, measured; see
    tests/paddleinfo/test_measure.py); on a GPU, paddle.device.cuda.memory_allocated's
    documentation says each allocation counts aligned to 256 bytes (not checked here);
  - not Python's objects, numpy's arrays, nor the buffers of libraries that allocate
    for themselves (oneDNN's caches and scratch memory, MKL's).  A kernel's workspace
    that Paddle allocates for it (cuDNN's, on a GPU) is counted.

An estimate of the live tensors is what should match it, then: the ratio estimate /
measured says how well the estimate knows what the step keeps and when it frees it, not
how much memory the process as a whole takes.

Every figure is relative to a baseline read just before the model is built (`build`
is a factory so that nothing of the model is in the baseline); allocations made before
it and freed during the measurement would make the figures low, so the measurement
should run in a fresh process (the benchmark does) or one that allocates nothing else
meanwhile.  The statistic is summed over threads, and its peak is updated whenever a
thread reaches a peak of its own: exact for the dynamic graph, which allocates in the
calling thread.

The training step is the plain one: model.train(); loss = the sum of the means of the
model's float outputs; loss.backward(); optimizer.step(); optimizer.clear_grad().
Paddle's clear_grad() defaults to set_to_zero=True: it zeroes the gradients but keeps
their buffers, so after the first step the gradients are live at rest, and the next
backward computes each gradient into a new buffer and adds it to the kept one (for a
moment both are live).  The first step is a warm-up (it creates the gradients and the
optimizer's state); the training peak is the largest of the steps after it.
"""
import gc

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import paddle
from paddle import nn

from paddleinfo.arguments import paddle_notes_hidden
from paddleinfo.optimizers import paddle_optimizer
from paddleinfo.result import Input
from paddleinfo.running import SEED, arguments, loss_of



@dataclass
class MeasuredPeak:
    """Bytes, each relative to what was allocated before the model was built."""
    # The allocator's peak during a steady-state training step (after the warm-up);
    # None where no optimizer was given and no step was taken.
    training_peak: int | None
    # The peak of a forward pass in eval mode under paddle.no_grad(), before any
    # training: parameters, buffers, inputs and the activations of the pass.
    inference_peak: int
    # Live after the last step (or after the forward pass, without an optimizer):
    # parameters and buffers, gradients, the optimizer's state and scalars, the inputs.
    at_rest: int
    device: str          # 'cpu' or 'gpu:0'


@dataclass(frozen=True)
class Statistic:
    """The allocator's 'Allocated' statistic of one place: current, peak, reset."""
    current: Callable[[], int]
    peak: Callable[[], int]
    reset_peak: Callable[[], None]


def allocator_statistic(device: str) -> Statistic:
    core = paddle.base.core
    if device == 'cpu':
        return Statistic(lambda: int(core.host_memory_stat_current_value('Allocated', 0)),
                     lambda: int(core.host_memory_stat_peak_value('Allocated', 0)),
                     lambda: core.host_memory_stat_reset_peak_value('Allocated', 0))
    kind, _, number = device.partition(':')
    if kind != 'gpu' or not number.isdigit():
        raise ValueError(f'measured_peak reads the allocator of a CPU or a GPU, not of {device!r}')
    index = int(number)
    return Statistic(lambda: int(core.device_memory_stat_current_value('Allocated', index)),
                     lambda: int(core.device_memory_stat_peak_value('Allocated', index)),
                     lambda: core.device_memory_stat_reset_peak_value('Allocated', index))


def measured_peak(build: Callable[[], nn.Layer], inputs: Sequence[Input],
                  optimizer: str | None = 'sgd', steps: int = 3) -> MeasuredPeak:
    """The allocator's figures for the model `build()` returns, on random `inputs` (or
    their values), on Paddle's current device: the peak of a forward pass in eval mode
    under paddle.no_grad(), then, with an `optimizer` (a name of paddleinfo.optimizers),
    the peak of `steps` - 1 training steps after one warm-up, and what is live after them.
    See the module's text for what is counted."""
    if steps < 2:
        raise ValueError(f'steps is at least 2 (one warm-up, then the measured ones), not {steps}')
    with paddle_notes_hidden():     # BatchNorm's note on training mode, for any model
        return _measured(build, inputs, optimizer, steps)


def _measured(build: Callable[[], nn.Layer], inputs: Sequence[Input], optimizer: str | None,
              steps: int) -> MeasuredPeak:
    device = paddle.get_device()
    statistic = allocator_statistic(device)
    gc.collect()
    baseline = statistic.current()
    paddle.seed(SEED)
    model = build()
    if not isinstance(model, nn.Layer):
        raise TypeError(f'build() returned a {type(model).__name__}, not a paddle.nn.Layer')
    positional, keywords = arguments(inputs, copy_given=True)

    # Inference: one pass to warm up, then the measured one.
    model.eval()
    with paddle.no_grad():
        for _ in range(2):
            statistic.reset_peak()
            output = model(*positional, **keywords)
            inference_peak = statistic.peak() - baseline
            del output
    if optimizer is None:
        gc.collect()
        return MeasuredPeak(None, inference_peak, statistic.current() - baseline, device)

    model.train()
    trainable = [parameter for parameter in model.parameters() if not parameter.stop_gradient]
    update = paddle_optimizer(optimizer, trainable)
    peaks = []
    for _ in range(steps):
        statistic.reset_peak()
        loss = loss_of(model(*positional, **keywords))
        loss.backward()
        update.step()
        update.clear_grad()        # set_to_zero=True: the gradients' buffers are kept
        del loss
        peaks.append(statistic.peak() - baseline)
    gc.collect()
    return MeasuredPeak(max(peaks[1:]), inference_peak, statistic.current() - baseline, device)
