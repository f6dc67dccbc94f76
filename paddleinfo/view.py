"""Which table of a model, in which format: the choice the `paddleinfo` command, the
Python API's `render` and summary.py share.  Nothing here imports numpy, tabulate or
Paddle, so that a command's --help and its one-line errors need none of them."""

__all__ = ['FLOAT_DTYPES', 'FORMATS', 'OPTIMIZERS', 'Step', 'View']
from dataclasses import dataclass

from paddleinfo.memory import FLOATS as FLOAT_DTYPES
from paddleinfo.optimizers import NAMES as OPTIMIZERS

FORMATS = ('plain', 'github', 'markdown', 'csv', 'json')


@dataclass(frozen=True)
class View:
    """Which table of a model, in which format: paddle.summary's own (the default), the
    per-layer table with MACs or size formulas, or one row per sublayer to `depth`."""
    fmt: str = 'plain'
    macs: bool = False
    explain: bool = False
    depth: int | None = None

    @property
    def paddle_summary(self) -> bool:
        """Whether the table is paddle.summary's own text."""
        return self.fmt == 'plain' and not (self.macs or self.explain) and self.depth is None


DEFAULT_OPTIMIZER = 'adam'
DEFAULT_RUNS = 10
DEFAULT_WARMUP = 2     # untimed runs before the timed ones


@dataclass(frozen=True)
class Step:
    """What a command asks beyond the forward pass: one training step's cost (--training,
    at --optimizer, floats counted as --precision), measured times (--time, --runs), and
    the plot of a sweep (--plot)."""
    training: bool = False
    optimizer: str = DEFAULT_OPTIMIZER
    precision: str | None = None
    time: bool = False
    runs: int = DEFAULT_RUNS
    plot: str | None = None
    warmup: int = DEFAULT_WARMUP

    @property
    def asked(self) -> bool:
        return self.training or self.time
