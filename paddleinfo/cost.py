"""What a training step costs, from the traced Program: multiply-adds forward and
backward per layer, the optimizer's update, and the memory of a step and of inference.

`training_cost(profile, optimizer)` reads a Profile traced with training=True
(paddleinfo.profile); `training_table` and `training_view` are its table, as every
table of paddleinfo is data (for json) and a view (for the other formats).  With a
Timing (paddleinfo.timing), measured on this machine, the table gains each layer's
time and speed.
"""
import math
from dataclasses import asdict, dataclass, field
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from paddleinfo.backward import GradMACs
from paddleinfo.errors import UsageError
from paddleinfo.memory import MemoryEstimate, estimate
from paddleinfo.optimizers import OPTIMIZERS
from paddleinfo.render import Table, fit, render

if TYPE_CHECKING:   # (they import Paddle, which this module does not need to)
    from paddle import nn

    from paddleinfo.result import Profile
    from paddleinfo.timing import Timing
    from paddleinfo.view import Step

__all__ = ['TrainingCost', 'readable', 'readable_bytes', 'training_cost', 'training_table',
           'training_view']

UNTRACED = ('the model could not be traced without running it, so there is no Program to '
            'append the backward pass to: its training step is not estimated')


def why_not_costed(profile: 'Profile') -> str:
    """Why a Profile traced with training=True has no training step."""
    return profile.training_failure or UNTRACED


@dataclass
class TrainingCost:
    """A training step's arithmetic and memory.  MACs at the batch of the input."""
    optimizer: str
    forward_macs: int
    input_grad_macs: int          # gradients with respect to the layers' inputs
    weight_grad_macs: int         # with respect to their parameters
    trainable_values: int
    update_operations: int        # the optimizer's elementwise work: not multiply-adds
    memory: MemoryEstimate
    notes: list[str] = field(default_factory=list)

    @property
    def backward_macs(self) -> int:
        return self.input_grad_macs + self.weight_grad_macs

    @property
    def step_macs(self) -> int:
        """Forward and backward: the optimizer's update is stated apart."""
        return self.forward_macs + self.backward_macs

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), 'backward_macs': self.backward_macs,
                'step_macs': self.step_macs}


def trainable_values(profile: 'Profile') -> int:
    return sum(math.prod(p.shape) for p in profile.model.parameters()
               if p.trainable and not p.stop_gradient)


def training_cost(profile: 'Profile', optimizer: str = 'adam',
                  float_dtype: str | None = None) -> TrainingCost | None:
    """The cost of one training step of a Profile traced with training=True, or None if
    it was not (or could not be traced)."""
    if profile.training is None:
        return None
    grads = profile.training.grad_macs.values()
    values = trainable_values(profile)
    notes = []
    if profile.training.uncounted:
        named = '; '.join(f'{name} (in {", ".join(layers[:3])}'
                          f'{" ..." if len(layers) > 3 else ""})'
                          for name, layers in profile.training.uncounted.items())
        notes.append(f'Backward operators with no MACs rule, not counted: {named}.')
    memory = estimate(profile.training.memory, optimizer, float_dtype)
    if memory.unknown:
        notes.append(f'{memory.unknown} tensor{"s" * (memory.unknown != 1)} of a size the '
                     f'trace could not infer (-1) are left out of the memory estimate.')
    return TrainingCost(optimizer, profile.macs, sum(g.inputs for g in grads),
                        sum(g.weights for g in grads), values,
                        OPTIMIZERS[optimizer].update_operations * values, memory, notes)


def measure_rows(source: 'nn.Layer | Callable[[], nn.Layer]', profile: 'Profile',
                 training: bool, optimizer: str, runs: int, warmup: int) -> 'Timing':
    """The Timing of a Profile's rows on this machine (paddleinfo.timing): a factory's
    model is built here, in the dynamic graph, with its weights, and its layers are
    matched to the traced model's, which come in the same order."""
    from paddle import nn

    from paddleinfo.errors import paddle_reason
    from paddleinfo.graph import build
    from paddleinfo.timing import time_layers
    built = source if isinstance(source, nn.Layer) else build(source)
    layers = [row.layer for row in profile.rows]
    if built is not profile.model:
        twins = dict(zip(profile.model.sublayers(include_self=True),
                         built.sublayers(include_self=True)))
        layers = [twins[layer] for layer in layers]
    try:
        timing = time_layers(built, profile.inputs, layers, training=training,
                             optimizer=optimizer, runs=runs, warmup=warmup)
    except UsageError:
        raise
    except Exception as error:  # noqa: BLE001 -- the model's own failure on the device
        # (a dtype the trace took and no kernel has, say): the user's to put right.
        raise UsageError(f'the model fails when it runs for --time: {type(error).__name__}: '
                         f'{paddle_reason(error)}') from error
    # The table's rows are the traced model's layers.
    for row, layer_time in zip(profile.rows, timing.rows):
        layer_time.layer = row.layer
    return timing


def asked(source: 'nn.Layer | Callable[[], nn.Layer]', profile: 'Profile', step: 'Step',
          who: str) -> tuple[TrainingCost | None, 'Timing | None']:
    """What a command's Step asks of a Profile: the training step's cost (step.training)
    and the measured times (step.time).  A UsageError naming `who` (the model, as the
    command line gave it) if a training step was asked for and there is none."""
    training = training_cost(profile, step.optimizer, step.precision)
    if step.training and training is None:
        raise UsageError(f'{who}: {why_not_costed(profile)}')
    timing = (measure_rows(source, profile, step.training, step.optimizer, step.runs,
                           step.warmup) if step.time else None)
    return training, timing


def step_text(source: 'nn.Layer | Callable[[], nn.Layer]', profile: 'Profile', network: str,
              step: 'Step', fmt: str, who: str) -> str:
    """The table of what `step` asks (asked()) in format `fmt`, titled `network`."""
    return render(training_table(profile, network, *asked(source, profile, step, who)),
                  training_view, fmt)


# --- readable numbers ---------------------------------------------------------------

def readable(value: float, unit: str = '') -> str:
    """1,696 -> '1.70 K', 4.09e9 -> '4.09 G': three significant figures and the prefix
    of the figure's own size (a number below 1,000 as it is: 0.5 for half a MAC a token)."""
    for power, prefix in ((12, 'T'), (9, 'G'), (6, 'M'), (3, 'K')):
        if abs(value) >= 10 ** power:
            scaled = value / 10 ** power
            digits = 2 if abs(scaled) < 10 else 1 if abs(scaled) < 100 else 0
            return f'{scaled:.{digits}f} {prefix}{unit}'
    text = f'{value:,.0f}' if float(value).is_integer() else f'{value:.3g}'
    return f'{text} {unit}'.rstrip()


def readable_bytes(value: int) -> str:
    """Bytes in binary units: 1,048,576 -> '1.00 MiB'."""
    for power, prefix in ((40, 'Ti'), (30, 'Gi'), (20, 'Mi'), (10, 'Ki')):
        if value >= 2 ** power:
            scaled = value / 2 ** power
            digits = 2 if scaled < 10 else 1 if scaled < 100 else 0
            return f'{scaled:.{digits}f} {prefix}B'
    return f'{value} B'


# --- the table ----------------------------------------------------------------------

def training_table(profile: 'Profile', network: str, cost: TrainingCost | None,
                   timing: 'Timing | None' = None) -> dict[str, Any]:
    """The per-layer table of a training step: each row's forward MACs and its gradients'
    (inputs, weights), and with `timing` its measured times; without `cost`, of the
    forward pass alone, timed.  Rows are paddle.summary's; a product run outside every
    row is in the totals, as in the MACs table."""
    grads = profile.training.grad_macs if profile.training and cost else {}
    times = {row.layer: row for row in timing.rows} if timing else {}
    rows = []
    for row in profile.rows:
        record: dict[str, Any] = {'layer': row.name, 'output_shape': row.output_shape,
                                  'macs': row.macs}
        if cost:
            grad = grads.get(row.layer, GradMACs())
            record.update(input_grad_macs=grad.inputs, weight_grad_macs=grad.weights)
        if timing:
            measured = times.get(row.layer)
            record.update(forward_s=measured.forward_s if measured else None,
                          backward_s=measured.backward_s if measured else None)
        rows.append(record)
    data: dict[str, Any] = {
        'view': 'training', 'network': network, 'input_shape': profile.input_shape,
        'batch': profile.input_shape[0] if profile.input_shape else 1,
        'forward_macs': profile.macs, 'rows': rows,
        'cost': cost.as_dict() if cost else None, 'notes': list(cost.notes) if cost else []}
    if timing:
        data['timing'] = timing_summary(timing)
    return data


def timing_summary(timing: 'Timing') -> dict[str, Any]:
    return {'runs': timing.runs, 'warmup': timing.warmup, 'threads': timing.threads,
            'device': timing.device, 'ceiling_gmacs': timing.ceiling_gmacs,
            'forward_s': timing.forward_s, 'hooked_forward_s': timing.hooked_forward_s,
            'outside_forward_s': timing.outside_forward_s, 'step_s': timing.step_s,
            'outside_backward_s': timing.outside_backward_s,
            'optimizer_s': timing.optimizer_s,
            # what the rows add up to, as a share of the pass (or step) timed without hooks
            'coverage': timing.step_coverage() if timing.step_s is not None else timing.coverage()}


def cell(value: int | None) -> str:
    # Readable units in the table (the exact counts are in csv and json, and the total
    # under it): 118 M, not 118,013,952, so that a row with times fits 100 columns.
    return '-' if not value else readable(value)


def milliseconds(seconds: float | None) -> str:
    return '-' if seconds is None else f'{1000 * seconds:.2f}'


def training_view(data: dict[str, Any]) -> Table:
    timed, cost = 'timing' in data, data['cost']
    header = ['Layer (type)', 'Output Shape', 'Forward MACs']
    if cost:
        header += ['dInput MACs', 'dWeight MACs']
    if timed:
        header += (['Fwd ms', 'Bwd ms'] if cost else ['Fwd ms']) + ['GMAC/s', '% ceil']
    ceiling = data['timing']['ceiling_gmacs'] if timed else 0.0
    body, csv_rows = [], []
    for row in data['rows']:
        line = [row['layer'], str(row['output_shape']), cell(row['macs'])]
        if cost:
            line += [cell(row['input_grad_macs']), cell(row['weight_grad_macs'])]
        record = {key: ('' if value is None else value) for key, value in row.items()}
        record['output_shape'] = str(row['output_shape'])
        if timed:
            seconds = (row['forward_s'] or 0) + (row['backward_s'] or 0)
            work = (row['macs'] or 0) + row.get('input_grad_macs', 0) + row.get('weight_grad_macs', 0)
            speed = work / seconds / 1e9 if seconds and work else None
            record['gmacs'] = '' if speed is None else round(speed, 3)
            line.append(milliseconds(row['forward_s']))
            if cost:
                line.append(milliseconds(row['backward_s']))
            line.append('-' if speed is None else f'{speed:.1f}')
            line.append('-' if speed is None or not ceiling else f'{100 * speed / ceiling:.0f}')
        body.append(line)
        csv_rows.append(record)
    header, body = fit(header, body, {1: 'shapes'})
    notes = [step_lines(cost, data['batch']), memory_lines(cost)] if cost else [
        f'Forward pass at batch {data["batch"]}: {readable(data["forward_macs"])} MACs '
        f'({data["forward_macs"]:,}).']
    if timed:
        notes.append(timing_lines(data['timing'], cost, data['forward_macs']))
    what = 'one training step' if cost else 'the forward pass, timed'
    title = f'{data["network"]}, input {data["input_shape"]}: {what}'
    return title, header, body, csv_rows, notes + data['notes']


def step_lines(cost: dict[str, Any], batch: int) -> str:
    rule = OPTIMIZERS[cost['optimizer']]
    return '\n'.join([
        f'Training step at batch {batch} = forward {readable(cost["forward_macs"])} + backward '
        f'{readable(cost["backward_macs"])} (input gradients '
        f'{readable(cost["input_grad_macs"])}, weight gradients '
        f'{readable(cost["weight_grad_macs"])}) = {readable(cost["step_macs"])} MACs '
        f'({cost["step_macs"]:,}).',
        f'Optimizer update ({cost["optimizer"]}: {rule.formula}): {rule.update_operations} '
        f'elementwise operation{"s" * (rule.update_operations != 1)} x '
        f'{readable(cost["trainable_values"])} trainable values = '
        f'{readable(cost["update_operations"])}, not matrix products, so not in the MACs.'])


def memory_lines(cost: dict[str, Any]) -> str:
    memory = cost['memory']
    dtype = f', every floating-point tensor as {memory["float_dtype"]}' if memory['float_dtype'] else ''
    return '\n'.join([
        f'Memory, estimated from the Program ({cost["optimizer"]}{dtype}): parameters '
        f'{readable_bytes(memory["parameters"])}, gradients {readable_bytes(memory["gradients"])}, '
        f'optimizer state {readable_bytes(memory["optimizer_state"])}, inputs '
        f'{readable_bytes(memory["inputs"])}; activations kept for the backward pass '
        f'{readable_bytes(memory["activations"])}.',
        f'Peak of a training step: {readable_bytes(memory["training_peak"])}. Peak of '
        f'inference (no gradients, every value freed when dead): '
        f'{readable_bytes(memory["inference_peak"])}.'])


def timing_lines(timing: dict[str, Any], cost: dict[str, Any] | None, forward_macs: int,
                 per_row: bool = True) -> str:
    """What was measured, how, and against which ceiling; `per_row`: the table has a
    '% ceil' column to explain."""
    seconds = timing['step_s'] if cost else timing['forward_s']
    work = cost['step_macs'] if cost else forward_macs
    speed = work / seconds / 1e9 if seconds else 0.0
    ceiling = timing['ceiling_gmacs']
    share = f' ({100 * speed / ceiling:.0f} % of it)' if ceiling else ''
    what = 'training step (forward, backward, update)' if cost else 'forward pass'
    ceiling_text = (f'the machine\'s ceiling, a float32 matrix product on the same threads: '
                    f'{ceiling:.1f} GMAC/s, measured in this run.')
    explained = (f'% ceil: a row\'s GMAC/s as a share of {ceiling_text}' if per_row
                 else ceiling_text[0].upper() + ceiling_text[1:])
    return '\n'.join([
        f'Measured on {timing["device"]} with {timing["threads"]} thread'
        f'{"s" * (timing["threads"] != 1)}, the median of {timing["runs"]} runs after '
        f'{timing["warmup"]} warm-up: the one mode that allocates the weights and runs the '
        f'kernels. {explained}',
        f'Whole {what}, without hooks: {milliseconds(seconds)} ms, {speed:.1f} GMAC/s{share}. '
        f'The rows and the code between them add up to {100 * timing["coverage"]:.0f} % of '
        f'it.'])
