"""Per-layer time, measured on the device: the one part of paddleinfo that runs kernels.

`time_layers(model, inputs, layers)` runs a built dynamic-graph model on its inputs
(the real tensors given, else seeded random floats and zeros for integer ids) and
times each layer of `layers` with forward pre- and post-hooks and time.perf_counter:

* A layer's forward time is its SELF time: from its pre-hook to its post-hook, less the
  inclusive time of the timed layers called inside it (a stack of open calls).  A layer
  called several times in one pass gets the sum of its calls.  What is left of the
  hooked forward pass -- the model's own code between layers, the layers not timed, and
  the hooks' own work between them -- is `outside_forward_s`.  Per run the rows and the
  outside add up to the hooked pass exactly; the medians over runs need not, quite.
* Hooks cost time, so the whole forward is also timed without any hook, in turn with
  the hooked runs (unhooked first in one run, hooked first in the next) so that a slow
  spell of a shared machine, and what one pass leaves the next, fall on both.
  Timing.coverage() is (rows + outside) / the unhooked forward: how far the hooked parts
  account for the real pass.  Python's garbage collector is off while timing, and each
  output is let go after its clock stops.
* Synchronisation: on the CPU Paddle's eager kernels run synchronously on the calling
  thread, so when a hook runs the work before it is done, and no synchronisation is
  needed.  On a GPU kernels are queued; every hook and the end of each timed pass call
  paddle.device.synchronize() first, so that each interval holds its own kernels (which
  also stops the queue from overlapping them, and costs a little time of its own).

With `training=True` the model runs in train mode, and each run is a whole step: the
forward, loss = the sum of the mean of every float output (`loss_of`), loss.backward(),
the optimizer's step and clear_grad -- so the model's parameters (and BatchNorm's
statistics) change, as in training.  The backward pass is timed per layer thus: in the
forward post-hook, a tensor hook (Tensor.register_hook) goes on each float output of the
layer that needs a gradient (one a timed layer inside it already returned keeps that
layer's hook); Paddle runs such a hook as the gradient node that made the tensor starts,
so a firing marks the start of that layer's backward.  Gradient nodes run one at a time
on the CPU, so the backward timeline is cut at each firing: the interval from one firing
to the next (or to the end of backward()) is charged to the layer whose hook fired.  The
time from the end of the forward to the first firing -- the loss and its backward -- is
`outside_backward_s`.  The backward of code between layers (a residual addition) falls
into the interval of the layer whose hook fired just before it.

Without training the model runs in eval mode under paddle.no_grad().  Afterwards the
hooks are removed and every layer's mode, and Paddle's threads, are as they were.
"""
import contextlib
import gc
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

import paddle
from paddle import nn

from paddleinfo.ceiling import (CEILING_SIZE, ceiling_gmacs, eager_threads,
                                gmac_per_second, set_eager_threads)
from paddleinfo.errors import UsageError
from paddleinfo.optimizers import paddle_optimizer
from paddleinfo.graph import quiet
from paddleinfo.naming import summary_name
from paddleinfo.result import Input
from paddleinfo.view import DEFAULT_RUNS, DEFAULT_WARMUP
from paddleinfo.macs import modes_kept
from paddleinfo.memory import is_float
from paddleinfo.running import arguments, loss_of, tensors_in

__all__ = ['LayerTime', 'Timing', 'gmacs', 'time_layers']



@dataclass
class LayerTime:
    layer: nn.Layer
    name: str                  # paddle.summary's name, e.g. 'Conv2D-1'
    forward_s: float           # median self time of its forward calls in one pass
    backward_s: float | None   # median self time of its backward (training only)


@dataclass
class Timing:
    rows: list[LayerTime]      # one per layer given, in the given order
    forward_s: float           # median whole forward, without hooks
    hooked_forward_s: float    # median whole forward, with the hooks on
    outside_forward_s: float   # median forward time outside every timed layer
    step_s: float | None       # median whole training step without hooks
    hooked_backward_s: float | None    # median end of forward to end of backward(), hooked
    outside_backward_s: float | None   # median of it before the first layer's hook fired
    optimizer_s: float | None          # median optimizer step and clear_grad, hooked
    runs: int
    warmup: int
    threads: int
    ceiling_gmacs: float       # numpy's float32 product on the CPU at `threads` threads
    device: str                # Paddle's device, e.g. 'cpu' or 'gpu:0'

    @property
    def training(self) -> bool:
        return self.step_s is not None

    def coverage(self) -> float:
        """(the rows' forward + outside) / the forward without hooks: 1.0 when the hooked
        parts account for the real pass, above it by the hooks' own cost."""
        return (sum(row.forward_s for row in self.rows) + self.outside_forward_s) / self.forward_s

    def step_coverage(self) -> float | None:
        """The same for the training step: every forward and backward row, the two
        outsides and the optimizer, over the step without hooks (None without training)."""
        if self.step_s is None:
            return None
        parts = (sum(row.forward_s + (row.backward_s or 0.0) for row in self.rows)
                 + self.outside_forward_s + (self.outside_backward_s or 0.0)
                 + (self.optimizer_s or 0.0))
        return parts / self.step_s

    def share_of_ceiling(self, macs: int, seconds: float) -> float:
        """The GMAC/s of `macs` in `seconds` as a fraction of the machine's ceiling."""
        return gmacs(macs, seconds) / self.ceiling_gmacs


def gmacs(macs: int, seconds: float) -> float:
    """Multiply-adds per second, in billions."""
    return gmac_per_second(macs, seconds)


def on_gpu() -> bool:
    return paddle.device.is_compiled_with_cuda() and paddle.device.get_device().startswith('gpu')


class Recorder:
    """The hooks of one timed pass: forward self times with a stack of open calls, and
    the backward timeline as the firings of the tensor hooks."""

    def __init__(self, layers: Sequence[nn.Layer], training: bool, clock: Callable[[], float]):
        self.layers = list(dict.fromkeys(layers))   # each layer hooked once
        self.training = training
        self.clock = clock
        self.forward: dict[nn.Layer, float] = {}
        self.stack: list[list[Any]] = []             # [layer, start, inclusive of timed calls inside]
        self.firings: list[tuple[float, nn.Layer]] = []
        self.hooked_tensors: list[paddle.Tensor] = []  # kept alive, so that their ids stay theirs
        self.handles: list[Any] = []

    def __enter__(self) -> 'Recorder':
        for layer in self.layers:
            # (Paddle's types want hooks that return a Tensor; None leaves the call as it is.)
            self.handles.append(layer.register_forward_pre_hook(cast(Any, self.pre_hook)))
            self.handles.append(layer.register_forward_post_hook(cast(Any, self.post_hook)))
        return self

    def __exit__(self, *exc_info: object) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles.clear()

    def start_pass(self) -> None:
        self.forward = dict.fromkeys(self.layers, 0.0)
        self.stack.clear()
        self.firings.clear()
        self.hooked_tensors.clear()

    def pre_hook(self, layer: nn.Layer, inputs: Any) -> None:
        # The clock is read last, so that the hook's own work falls outside the layer.
        self.stack.append([layer, self.clock(), 0.0])

    def post_hook(self, layer: nn.Layer, inputs: Any, output: Any) -> None:
        end = self.clock()
        _, start, inside = self.stack.pop()
        inclusive = end - start
        self.forward[layer] += inclusive - inside
        if self.stack:
            self.stack[-1][2] += inclusive
        if self.training:
            self.hook_outputs(layer, output)

    def hook_outputs(self, layer: nn.Layer, output: Any) -> None:
        hooked = {id(tensor) for tensor in self.hooked_tensors}
        for tensor in tensors_in(output):
            # An output a timed layer inside returned as it is keeps that layer's hook:
            # its backward is the inner layer's, not the outer's.
            if is_float(tensor) and not tensor.stop_gradient and id(tensor) not in hooked:
                self.hooked_tensors.append(tensor)
                tensor.register_hook(self.firing(layer))

    def firing(self, layer: nn.Layer) -> Callable[[paddle.Tensor], None]:
        def fired(grad: paddle.Tensor) -> None:
            self.firings.append((self.clock(), layer))
        return fired

    def backward(self, start: float, end: float) -> tuple[dict[nn.Layer, float], float]:
        """({layer: its share of the backward timeline}, the time before the first firing)."""
        times = dict.fromkeys(self.layers, 0.0)
        marks = [*self.firings, (end, None)]
        for (at, layer), (following, _) in zip(marks, marks[1:]):
            times[cast(nn.Layer, layer)] += following - at
        return times, (self.firings[0][0] if self.firings else end) - start


def time_layers(model: nn.Layer, inputs: list[Input], layers: Sequence[nn.Layer],
                training: bool = False, optimizer: str = 'sgd', runs: int = DEFAULT_RUNS,
                warmup: int = DEFAULT_WARMUP,
                threads: int | None = None, ceiling_size: int = CEILING_SIZE) -> Timing:
    """The median time of each layer of `layers` in `runs` passes of `model` over
    `inputs`, after `warmup` passes, as the module's docstring describes.

    `threads`: Paddle's math threads for the dynamic graph during the timing (None:
    as they are); the ceiling is measured at the same count.  `optimizer`: a name of
    paddleinfo.optimizers, for the training step."""
    if runs < 1 or warmup < 0:
        raise UsageError(f'runs must be at least 1 and warmup at least 0, not {runs} and {warmup}')
    gpu = on_gpu()

    def clock() -> float:
        if gpu:
            paddle.device.synchronize()
        return time.perf_counter()

    threads_before = eager_threads()
    # Timed steps update the weights, the optimizer's gradients and BatchNorm's running
    # statistics: the user's model gets them back as they were.
    state = saved_state(model) if training else {}
    try:
        if threads is not None:
            set_eager_threads(threads)
        with quiet(), modes_kept(model):
            args, kwargs = arguments(inputs)
            if training:
                model.train()
                step = paddle_optimizer(optimizer, model.parameters())
                measured = timed_steps(model, args, kwargs, layers, step, runs, warmup, clock)
            else:
                model.eval()
                with paddle.no_grad():
                    measured = timed_forwards(model, args, kwargs, layers, runs, warmup, clock)
        count = threads if threads is not None else threads_before
        ceiling = ceiling_gmacs(count, ceiling_size)
    finally:
        if threads is not None:
            set_eager_threads(threads_before)
        if training:
            put_back(model, state)
    return Timing(rows=[LayerTime(layer, summary_name(layer), measured.forward[layer],
                                  measured.backward[layer] if training else None)
                        for layer in layers],
                  forward_s=measured.medians['forward'],
                  hooked_forward_s=measured.medians['hooked_forward'],
                  outside_forward_s=measured.medians['outside_forward'],
                  step_s=measured.medians.get('step'),
                  hooked_backward_s=measured.medians.get('hooked_backward'),
                  outside_backward_s=measured.medians.get('outside_backward'),
                  optimizer_s=measured.medians.get('optimizer'),
                  runs=runs, warmup=warmup, threads=count, ceiling_gmacs=ceiling,
                  device=paddle.device.get_device())


def saved_state(model: nn.Layer) -> dict[str, paddle.Tensor]:
    """A copy of every parameter and buffer of `model`, and which had a gradient."""
    with paddle.no_grad():
        return {name: value.clone() for name, value in model.state_dict().items()}


def put_back(model: nn.Layer, state: dict[str, paddle.Tensor]) -> None:
    """`model`'s parameters and buffers as saved_state found them, and no gradient left
    by the timed steps."""
    with paddle.no_grad():
        for name, value in model.state_dict().items():
            value.set_value(state[name])
    for parameter in model.parameters():
        parameter.clear_gradient(False)


@dataclass
class Measured:
    medians: dict[str, float]            # of the whole passes and the outsides
    forward: dict[nn.Layer, float]       # median forward self time per layer
    backward: dict[nn.Layer, float]      # median backward share per layer (training)


class Samples:
    """Per-run values, by name and by layer, and their medians."""

    def __init__(self) -> None:
        self.values: dict[str, list[float]] = {}
        self.forward: dict[nn.Layer, list[float]] = {}
        self.backward: dict[nn.Layer, list[float]] = {}

    def add(self, **values: float) -> None:
        for name, value in values.items():
            self.values.setdefault(name, []).append(value)

    def add_layers(self, forward: dict[nn.Layer, float], backward: dict[nn.Layer, float]) -> None:
        for per_layer, times in ((self.forward, forward), (self.backward, backward)):
            for layer, seconds in times.items():
                per_layer.setdefault(layer, []).append(seconds)

    def measured(self) -> Measured:
        def medians(per_layer: dict[nn.Layer, list[float]]) -> dict[nn.Layer, float]:
            return {layer: statistics.median(times) for layer, times in per_layer.items()}
        return Measured({name: statistics.median(values) for name, values in self.values.items()},
                        medians(self.forward), medians(self.backward))


@contextlib.contextmanager
def no_collection() -> Iterator[None]:
    """Python's garbage collector off inside (as timeit does), so that no collection falls
    into a timed interval.  One collection comes first, before the warm-up: the pass after
    a full collection is measurably slower (twice, for a small conv net on one core),
    which a collection between runs would put into every unhooked pass."""
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def in_turn(run: int, unhooked: Callable[[], None], hooked: Callable[[], None]) -> None:
    """The two passes of run number `run`, unhooked first on even runs and hooked first on
    odd ones, so that whatever the second pass of a pair inherits from the first (freed
    memory, warm caches) falls on both alike."""
    for one_pass in (unhooked, hooked) if run % 2 == 0 else (hooked, unhooked):
        one_pass()


def timed_forwards(model: nn.Layer, args: list[Any], kwargs: dict[str, Any],
                   layers: Sequence[nn.Layer], runs: int, warmup: int,
                   clock: Callable[[], float]) -> Measured:
    """Unhooked and hooked forward passes in turn, `warmup` of each first.  Each output
    is let go after the clock stops, so that freeing it is timed nowhere."""
    samples = Samples()
    recorder = Recorder(layers, training=False, clock=clock)
    times: dict[str, float] = {}

    def unhooked() -> None:
        start = clock()
        output = model(*args, **kwargs)
        times['forward'] = clock() - start
        del output

    def hooked() -> None:
        with recorder:
            recorder.start_pass()
            start = clock()
            output = model(*args, **kwargs)
            times['hooked_forward'] = clock() - start
            del output

    with no_collection():
        for run in range(warmup + runs):
            in_turn(run, unhooked, hooked)
            if run >= warmup:
                samples.add(**times, outside_forward=times['hooked_forward']
                            - sum(recorder.forward.values()))
                samples.add_layers(recorder.forward, {})
    return samples.measured()


def timed_steps(model: nn.Layer, args: list[Any], kwargs: dict[str, Any],
                layers: Sequence[nn.Layer], step: Any, runs: int, warmup: int,
                clock: Callable[[], float]) -> Measured:
    """Unhooked and hooked training steps in turn, `warmup` of each first.  The outputs
    and the loss are let go after the clock stops, as in timed_forwards."""
    samples = Samples()
    recorder = Recorder(layers, training=True, clock=clock)
    times: dict[str, float] = {}
    backward: dict[nn.Layer, float] = {}

    def unhooked() -> None:
        start = clock()
        output = model(*args, **kwargs)
        forward_end = clock()
        loss = loss_of(output)
        loss.backward()
        step.step()
        step.clear_grad()
        times.update(forward=forward_end - start, step=clock() - start)
        del output, loss

    def hooked() -> None:
        with recorder:
            recorder.start_pass()
            start = clock()
            output = model(*args, **kwargs)
            forward_end = clock()
            loss = loss_of(output)
            loss.backward()
            backward_end = clock()
        step.step()
        step.clear_grad()
        end = clock()
        del output, loss
        recorder.hooked_tensors.clear()   # the outputs it kept, let go untimed
        shares, outside_backward = recorder.backward(forward_end, backward_end)
        backward.update(shares)
        hooked_forward = forward_end - start
        times.update(hooked_forward=hooked_forward,
                     outside_forward=hooked_forward - sum(recorder.forward.values()),
                     hooked_backward=backward_end - forward_end,
                     outside_backward=outside_backward, optimizer=end - backward_end)

    with no_collection():
        for run in range(warmup + runs):
            in_turn(run, unhooked, hooked)
            if run >= warmup:
                samples.add(**times)
                samples.add_layers(recorder.forward, backward)
    return samples.measured()
