"""paddleinfo on a built model against paddle.summary, on the same model, in one process.

paddle.summary runs the model once in the dynamic graph; paddleinfo runs no kernel, it
calls the model in the static graph with static twins of its parameters (or, where it
must, lets dy2static rewrite its forward()).  On a small CNN the kernels are cheap and
the Python around them is the cost, so which is faster is a measurement: each model is
summarised by both, in turn (so a busy spell of the machine hits both), `repeats` times
after one untimed round, and the medians' ratio is printed.  paddleinfo's own factory
path (the `paddleinfo` command's) is timed beside them.
"""
import contextlib
import io
import statistics
import textwrap
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import paddle
from tabulate import tabulate

from paddleinfo.profile import profile_inputs
from paddleinfo.result import Input
from resnet_tools.benchmarks.machine import machine

# Small and deep CNNs of paddle.vision: where Python's cost per layer shows most.
MODELS = ('mobilenet_v3_small', 'mobilenet_v3_large', 'shufflenet_v2_x1_0', 'mobilenet_v2',
          'resnet18', 'resnet50', 'densenet121')
SHAPE = [1, 3, 224, 224]


@dataclass(frozen=True)
class SpeedRow:
    model: str
    paddle_summary: float     # seconds, median
    built: float              # paddleinfo on the same built model
    factory: float            # paddleinfo building it itself in the static graph

    @property
    def ratio(self) -> float:
        """paddleinfo's time on the built model as a multiple of paddle.summary's."""
        return self.built / self.paddle_summary


def seconds(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        action()
    return time.perf_counter() - start


def measure(name: str, repeats: int) -> SpeedRow:
    build = getattr(paddle.vision.models, name)
    model = build()
    model.eval()
    actions = {
        'paddle': lambda: paddle.summary(model, tuple(SHAPE)),
        'built': lambda: profile_inputs(model, [Input(list(SHAPE))]),
        'factory': lambda: profile_inputs(build, [Input(list(SHAPE))]),
    }
    times: dict[str, list[float]] = {key: [] for key in actions}
    for round_ in range(repeats + 1):
        for key, action in actions.items():
            elapsed = seconds(action)
            if round_:      # the first round warms caches up: not counted
                times[key].append(elapsed)
    return SpeedRow(name, *(statistics.median(times[key]) for key in actions))


def report(models: Sequence[str] = MODELS, repeats: int = 5,
           progress: Callable[[str], None] = lambda what: None) -> tuple[str, list[SpeedRow]]:
    rows = []
    for name in models:
        progress(name)
        rows.append(measure(name, repeats))
    table = tabulate([[row.model, f'{row.paddle_summary:.3f}', f'{row.built:.3f}',
                       f'{row.ratio:.2f}x', f'{row.factory:.3f}'] for row in rows],
                     headers=['Model', 'paddle.summary s', 'paddleinfo built s', 'built / paddle',
                              'paddleinfo factory s'],
                     disable_numparse=True)
    slower = [row.model for row in rows if row.ratio > 1]
    verdict = (f'paddleinfo slower than paddle.summary on: {", ".join(slower)}' if slower
               else 'paddleinfo at most as slow as paddle.summary on every model')
    text = (f'median of {repeats} rounds after one untimed, input {SHAPE}, in turn in one '
            f'process\nmachine: {machine()}\n\n{table}\n\n{textwrap.fill(verdict, 100)}')
    return text, rows
