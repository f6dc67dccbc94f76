"""What training costs in memory: paddleinfo's estimate, read from the traced program
(paddleinfo.memory, through summary(..., training=True)), against the peaks Paddle's
allocator measures during real steps (paddleinfo.measure), for three kinds of network
at two batch sizes each.

Each case is measured in a fresh process (spawned), so that nothing one case
allocated, cached or freed is in the baseline of the next; the estimate is made in the
same process after the measurement.  The measured figures are the allocator's live
bytes (paddleinfo.measure says what that counts and what it does not); the target is
an estimate within 10 % of them, estimate / measured from 0.9 to 1.1.
"""
import concurrent.futures
import multiprocessing
import warnings

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from paddle import nn
from tabulate import tabulate

import resnet
from paddleinfo import summary
from paddleinfo.measure import measured_peak
from paddleinfo.result import Input
from resnet_tools.benchmarks.machine import all_cores, machine, set_eager_threads, wrapped

# The estimate is good where estimate / measured lies within this much of 1.
TOLERANCE = 0.10
MIB = 2 ** 20    # the tables' unit


def resnet50() -> nn.Layer:
    return resnet.build('resnet50')


TRANSFORMER = dict(d_model=256, nhead=4, dim_feedforward=1024, layers=4, vocabulary=1000, seq=128)
LSTM = dict(input_size=64, hidden_size=256, num_layers=2, seq=100)


def transformer() -> nn.Layer:
    """Token ids -> an embedding -> paddle.nn.TransformerEncoder (its default dropout 0.1)."""
    t = TRANSFORMER
    layer = nn.TransformerEncoderLayer(t['d_model'], t['nhead'], t['dim_feedforward'])
    return nn.Sequential(nn.Embedding(t['vocabulary'], t['d_model']),
                         nn.TransformerEncoder(layer, t['layers']))


def lstm() -> nn.Layer:
    return nn.LSTM(LSTM['input_size'], LSTM['hidden_size'], LSTM['num_layers'])


def tiny_mlp() -> nn.Layer:
    """A network of a few kilobytes: the whole path in a second, for the tests."""
    return nn.Sequential(nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 4))


@dataclass(frozen=True)
class Network:
    name: str
    build: Callable[[], nn.Layer]     # a module-level function, so that a spawned process finds it
    example: tuple[int, ...]          # one example's shape, without the batch
    dtype: str
    description: str


NETWORKS = {network.name: network for network in (
    Network('ResNet-50', resnet50, (3, 224, 224), 'float32', 'ResNet-50 (resnet.build) on 3x224x224 images'),
    Network('Transformer', transformer, (TRANSFORMER['seq'],), 'int64',
            f"paddle.nn.TransformerEncoder, {TRANSFORMER['layers']} layers of d_model "
            f"{TRANSFORMER['d_model']}, {TRANSFORMER['nhead']} heads, feed-forward "
            f"{TRANSFORMER['dim_feedforward']}, dropout 0.1, after an Embedding of "
            f"{TRANSFORMER['vocabulary']} tokens; int64 ids, {TRANSFORMER['seq']} per sequence"),
    Network('LSTM', lstm, (LSTM['seq'], LSTM['input_size']), 'float32',
            f"paddle.nn.LSTM, {LSTM['num_layers']} layers, input {LSTM['input_size']}, hidden "
            f"{LSTM['hidden_size']}; float32 sequences of {LSTM['seq']} steps"),
    Network('tiny MLP', tiny_mlp, (16,), 'float32', 'Linear(16, 8), ReLU, Linear(8, 4)'),
)}


@dataclass(frozen=True)
class Case:
    network: str      # a key of NETWORKS
    batch: int
    optimizer: str    # a name of paddleinfo.optimizers

    def inputs(self) -> list[Input]:
        network = NETWORKS[self.network]
        return [Input([self.batch, *network.example], network.dtype)]


CASES = (Case('ResNet-50', 2, 'adam'), Case('ResNet-50', 8, 'adam'), Case('ResNet-50', 8, 'sgd'),
         Case('Transformer', 8, 'adam'), Case('Transformer', 32, 'adam'),
         Case('LSTM', 16, 'adam'), Case('LSTM', 64, 'adam'))


def cases_lines(cases: Iterable[Case] = CASES) -> list[str]:
    """['ResNet-50 (3x224x224 float32) at batch 2 and 8', ...]: the networks and batches
    of `cases`, one line per network."""
    batches: dict[str, list[int]] = {}
    for case in cases:
        sizes = batches.setdefault(case.network, [])
        if case.batch not in sizes:
            sizes.append(case.batch)
    return [f"{name} ({'x'.join(map(str, NETWORKS[name].example))} {NETWORKS[name].dtype}) "
            f"at batch {' and '.join(map(str, sizes))}" for name, sizes in batches.items()]


@dataclass(frozen=True)
class Estimate:
    """The parts of paddleinfo.memory's MemoryEstimate the tables show, in bytes."""
    parameters: int
    gradients: int
    optimizer_state: int
    inputs: int
    activations: int
    training_peak: int
    inference_peak: int

    @property
    def at_rest(self) -> int:
        """What stays live between steps: parameters, gradients, optimizer state, inputs."""
        return self.parameters + self.gradients + self.optimizer_state + self.inputs


@dataclass(frozen=True)
class MemoryRow:
    case: Case
    training_peak: int        # measured, bytes
    inference_peak: int
    at_rest: int
    device: str
    estimate: Estimate


def estimate(case: Case) -> Estimate:
    """paddleinfo's estimate for `case`, from summary(..., training=True)."""
    network = NETWORKS[case.network]
    result = summary(network.build, input_size=[[case.batch, *network.example]],
                     dtypes=[network.dtype], training=True, optimizer=case.optimizer, verbose=0)
    est = result.memory_estimate
    assert est is not None    # training=True estimates the memory of a step
    return Estimate(est.parameters, est.gradients, est.optimizer_state, est.inputs,
                    est.activations, est.training_peak, est.inference_peak)


def measure_case(case: Case) -> MemoryRow:
    """In this process: the allocator's peaks for `case`, then the estimate's."""
    warnings.filterwarnings('ignore')    # Paddle's notes about itself, in this process only
    set_eager_threads(all_cores())   # the time depends on it, the figures not (the same at 1 and 2)
    network = NETWORKS[case.network]
    measured = measured_peak(network.build, case.inputs(), case.optimizer)
    assert measured.training_peak is not None    # an optimizer was given
    return MemoryRow(case, measured.training_peak, measured.inference_peak, measured.at_rest,
                     measured.device, estimate(case))


def in_fresh_process(case: Case) -> MemoryRow:
    """measure_case(case) in a spawned process of its own."""
    context = multiprocessing.get_context('spawn')
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(measure_case, case).result()


def memory_rows(cases: Iterable[Case] = CASES,
                progress: Callable[[str], object] = lambda what: None) -> list[MemoryRow]:
    rows = []
    for case in cases:
        progress(f'{case.network} at batch {case.batch} with {case.optimizer}')
        rows.append(in_fresh_process(case))
    return rows


def ratio(estimated: int, measured: int) -> float:
    return estimated / measured


def verdict(value: float, tolerance: float = TOLERANCE) -> str:
    """'yes' where estimate / measured is within `tolerance` of 1, else 'NO'."""
    return 'yes' if abs(value - 1) <= tolerance + 1e-12 else 'NO'


def peak_table(rows: Iterable[MemoryRow], peak: str = 'training_peak') -> str:
    """One peak ('training_peak' or 'inference_peak'), estimated and measured, in MiB."""
    lines = []
    for row in rows:
        estimated, measured = getattr(row.estimate, peak), getattr(row, peak)
        share = ratio(estimated, measured)
        lines.append([row.case.network, row.case.batch, row.case.optimizer,
                      estimated / MIB, measured / MIB, share, verdict(share)])
    what = 'step' if peak == 'training_peak' else 'inference'
    return tabulate(lines, headers=['network', 'batch', 'optim.', f'{what}: estimated',
                                    'measured', 'ratio', '10 %'],
                    tablefmt='github', floatfmt=('', '', '', '.1f', '.1f', '.3f', ''))


def parts_table(rows: Iterable[MemoryRow]) -> str:
    """The estimate's parts, in MiB."""
    lines = [[row.case.network, row.case.batch, row.case.optimizer,
              *(part / MIB for part in (row.estimate.parameters, row.estimate.gradients,
                                        row.estimate.optimizer_state, row.estimate.inputs,
                                        row.estimate.activations))] for row in rows]
    return tabulate(lines, headers=['network', 'batch', 'optim.', 'params', 'grads', 'state',
                                    'inputs', 'kept'],
                    tablefmt='github', floatfmt=('', '', '', '.1f', '.1f', '.1f', '.2f', '.1f'))


def rest_table(rows: Iterable[MemoryRow]) -> str:
    """What stays live between steps, estimated and measured, in MiB."""
    lines = [[row.case.network, row.case.batch, row.case.optimizer, row.estimate.at_rest / MIB,
              row.at_rest / MIB, ratio(row.estimate.at_rest, row.at_rest)] for row in rows]
    return tabulate(lines, headers=['network', 'batch', 'optim.', 'at rest: estimated',
                                    'measured', 'ratio'],
                    tablefmt='github', floatfmt=('', '', '', '.1f', '.1f', '.3f'))


def memory_report(cases: Iterable[Case] = CASES, progress: Callable[[str], object] = lambda what: None
                  ) -> tuple[str, list[MemoryRow]]:
    """The text of benchmark.py --memory, and its rows."""
    cases = list(cases)
    rows = memory_rows(cases, progress)
    networks = dict.fromkeys(case.network for case in cases)
    met = {peak: sum(verdict(ratio(getattr(row.estimate, peak), getattr(row, peak))) == 'yes'
                     for row in rows) for peak in ('training_peak', 'inference_peak')}
    lines = [
        f'memory of one training step (forward, backward, optimizer step, clear_grad) and of one '
        f'forward pass (eval, no_grad), in MiB: estimated by paddleinfo from the traced program, '
        f'measured by Paddle\'s allocator (its live bytes: no cache, no fragmentation) on '
        f'{rows[0].device if rows else "-"}, each case in a fresh process',
        f'machine: {machine()}',
        *(f'{name}: {NETWORKS[name].description}' for name in networks),
        '',
        peak_table(rows, 'training_peak'),
        '',
        peak_table(rows, 'inference_peak'),
        '',
        'The estimate\'s parts: params, grads, the optimizer\'s state, the inputs and the '
        'activations kept for the backward pass:',
        '',
        parts_table(rows),
        '',
        'At rest, what stays live between steps (params, grads, optimizer state, inputs: '
        'Paddle\'s clear_grad keeps the gradients\' buffers):',
        '',
        rest_table(rows),
        '',
        f'target: estimate / measured from {1 - TOLERANCE:g} to {1 + TOLERANCE:g}: training peak '
        f"{met['training_peak']} of {len(rows)} rows met, inference peak {met['inference_peak']} of "
        f'{len(rows)}',
    ]
    return '\n'.join(wrapped(lines)), rows
