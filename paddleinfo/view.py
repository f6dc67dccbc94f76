"""Which table of a model, in which format: the choice the `paddleinfo` command, the
Python API's `render` and summary.py share.  Nothing here imports numpy, tabulate or
Paddle, so that a command's --help and its one-line errors need none of them."""

__all__ = ['COLUMNS', 'COUNT_LABELS', 'FLOAT_DTYPES', 'FORMATS', 'MODES', 'OPTIMIZERS', 'TABLES',
           'Step', 'Trace', 'View', 'count_label']
from dataclasses import dataclass

from paddleinfo.memory import FLOATS as FLOAT_DTYPES
from paddleinfo.optimizers import NAMES as OPTIMIZERS

FORMATS = ('plain', 'github', 'markdown', 'csv', 'json', 'html')


# The columns of the per-layer table a user may choose, as torchinfo's col_names: {name:
# header}.  The first column, the layer's name and type, is always there; 'mult_adds' is
# headed by the convention counted (MACs, FLOPs ...).
COLUMNS = {
    'input_size': 'Input Shape',
    'output_size': 'Output Shape',
    'num_params': 'Param #',
    'params_percent': 'Param %',
    'kernel_size': 'Kernel',
    'groups': 'Groups',
    'trainable': 'Trainable',
    'mult_adds': 'MACs',
    'path': 'Path',
    'formula': 'Output size',
    'receptive_field': 'Receptive field',
    'effective_stride': 'Jump',
}
# Tables other than the per-layer one: MACs by operator (fvcore's by_operator), the
# parameters by module path (fvcore's parameter_count_table; no input needed), and each
# layer's receptive field (torch-scan's).
TABLES = ('operators', 'parameters', 'receptive')
MODES = ('eval', 'train')
# How a column header and a total name each counting convention (paddleinfo.conventions.CONVENTIONS).
COUNT_LABELS = {'macs': 'MACs', 'flops': 'FLOPs', 'full': 'FLOPs (full)'}


def count_label(count: str) -> str:
    """'MACs' for the convention 'macs', 'FLOPs' for 'flops' ..."""
    return COUNT_LABELS.get(count, count)


@dataclass(frozen=True)
class View:
    """Which table of a model, in which format: paddle.summary's own (the default), the
    per-layer table with MACs or size formulas, or one row per sublayer to `depth`;
    `columns` the per-layer table's columns of the user's choice (names of COLUMNS),
    `weights` each layer's tensors under it (torchinfo's verbose=2), `table` one of
    TABLES instead."""
    fmt: str = 'plain'
    macs: bool = False
    explain: bool = False
    depth: int | None = None
    columns: tuple[str, ...] | None = None
    weights: bool = False
    table: str | None = None

    @property
    def paddle_summary(self) -> bool:
        """Whether the table is paddle.summary's own text."""
        return (self.fmt == 'plain' and not (self.macs or self.explain or self.weights)
                and self.depth is None and self.columns is None and self.table is None)


@dataclass(frozen=True)
class Trace:
    """How the model is traced and counted: its layers' mode (eval or train), the
    counting convention (macs, flops, full), the user's own rules (MODULE:NAME, a dict
    {operator name: function}), and whether an incomplete count is an error."""
    mode: str = 'eval'
    count: str = 'macs'
    rules: str | None = None
    strict: bool = False


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
