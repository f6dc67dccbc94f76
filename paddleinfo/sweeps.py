"""One table of what a model costs as its input grows: the batch, or a sequence's length.

    from paddleinfo import sweep
    table = sweep(model, [(b, 3, 224, 224) for b in (1, 8, 32)])   # prints the table
    table.plot('resnet.png')                                    # and draws it

Each size is traced as summary(training=True) traces it (nothing runs), so every row
has the forward MACs, the training step's MACs and the memory of a step and of
inference; with time=True the model also runs, and each row has its measured forward
pass and training step.  For a model whose first input is token ids (an integer
[batch, length] input, a language model's), each row also gives the MACs per token.
"""
import importlib.util
import io
import math
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from paddle import nn

from paddleinfo.cost import TrainingCost, readable, readable_bytes
from paddleinfo.errors import FileError, UsageError
from paddleinfo.render import Table, fit, render
from paddleinfo.view import DEFAULT_OPTIMIZER

if TYPE_CHECKING:
    from paddleinfo.result import Profile
    from paddleinfo.timing import Timing

__all__ = ['Sweep', 'SweepRow', 'sweep', 'varying_axis']

MAX_POINTS = 32
TOKEN_IDS = ('int64', 'int32')
PLOT_FORMATS = ('png', 'svg', 'pdf')


@dataclass
class SweepRow:
    size: int                       # the value of the axis that varies
    shapes: list[list[int]]
    forward_macs: int
    step_macs: int | None           # forward and backward (None: not traced for training)
    training_peak: int | None       # bytes
    inference_peak: int | None
    tokens: int | None              # batch x length of a token-id input, else None
    forward_s: float | None = None  # measured, with time=True
    step_s: float | None = None


@dataclass
class Sweep:
    network: str
    axis: str                       # 'batch', or 'input 1, axis 2' ...
    optimizer: str
    rows: list[SweepRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {'view': 'sweep', **asdict(self)}

    def render(self, fmt: str = 'plain') -> str:
        return render(self, sweep_view, fmt)

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def plot(self, path: str | os.PathLike[str]) -> None:
        """Draw MACs, memory and (if measured) time against the size into `path` (its
        extension says the format: .png, .svg, .pdf); the file is whole or not written."""
        write_whole(path, figure_bytes(self, os.fspath(path)))


def varying_axis(shapes: Sequence[Sequence[Sequence[int]]]) -> tuple[int, int]:
    """(input, axis) of the one size that differs between the sweep's points; a
    UsageError if none does or more than one does (unless they move together)."""
    if len(shapes) < 2:
        raise UsageError('a sweep takes at least two sizes')
    if len(shapes) > MAX_POINTS:
        raise UsageError(f'a sweep takes at most {MAX_POINTS} sizes, not {len(shapes)}')
    first = shapes[0]
    if any(len(point) != len(first) or any(len(a) != len(b) for a, b in zip(point, first))
           for point in shapes):
        raise UsageError('every size of a sweep has the same inputs, of the same ranks; '
                         'only one size changes')
    moving = sorted({(i, axis) for point in shapes for i, shape in enumerate(point)
                     for axis, size in enumerate(shape) if size != first[i][axis]})
    if not moving:
        raise UsageError('the sizes of the sweep are all the same')
    values = [[point[i][axis] for i, axis in moving] for point in shapes]
    if any(len(set(row)) != 1 for row in values):
        raise UsageError('a sweep changes one size (the same one in every input that has '
                         'it): here several change differently')
    if len({row[0] for row in values}) != len(values):
        raise UsageError('a sweep\'s sizes are different from one another')
    return moving[0]


def axis_name(index: int, axis: int, inputs: Sequence[Any]) -> str:
    """What the size that varies is: 'batch', 'length' (of token ids, [batch, length]),
    or 'axis 2' ('axis 2 of input 1' among several inputs)."""
    if axis == 0:
        return 'batch'
    item = inputs[index]
    if axis == 1 and len(item.shape) == 2 and item.dtype in TOKEN_IDS:
        return 'length'
    return f'axis {axis}' + (f' of input {index + 1}' if len(inputs) > 1 else '')


def against(axis: str) -> str:
    return f'the {axis}' if axis in ('batch', 'length') else axis


def sweep(model: nn.Layer | Callable[[], nn.Layer], input_sizes: Sequence[Any],
          dtypes: Any = None, *, name: str | None = None, optimizer: str | None = None,
          precision: str | None = None, time: bool = False, runs: int | None = None,
          warmup: int | None = None, verbose: int = 1) -> Sweep:
    """summary(training=True) of `model` at each of `input_sizes` (each what summary's
    input_size takes; they differ in one size), as one table: returns a Sweep and,
    with verbose=1, prints it.  time=True measures each size on this machine too; the
    other arguments are summary's."""
    from paddleinfo.api import model_inputs, summary
    if verbose not in (0, 1, False, True):
        raise UsageError(f'verbose is 0 (print nothing) or 1 (print the table), not {verbose!r}')
    if not isinstance(input_sizes, (list, tuple)) or all(
            isinstance(size, int) or size is None for size in input_sizes):
        raise UsageError(f'input_sizes is a list of what summary\'s input_size takes, one per '
                         f'point of the sweep, e.g. [(1, 20), (8, 20)], not {input_sizes!r}')
    points = [model_inputs(size, dtypes, None) for size in input_sizes]
    index, axis = varying_axis([[item.shape for item in point] for point in points])
    table = Sweep(name or '', axis_name(index, axis, points[0]), optimizer or DEFAULT_OPTIMIZER)
    for size in input_sizes:
        result = summary(model, size, dtypes, training=True, optimizer=optimizer,
                         precision=precision, time=time, runs=runs, warmup=warmup,
                         verbose=0, name=name)
        table.network = result.name
        add_row(table, result.profile, result.training, result.timing, (index, axis))
    if verbose:
        print(table.render(), end='')
    return table


def add_row(table: Sweep, profile: 'Profile', cost: 'TrainingCost | None',
            timing: 'Timing | None', moving: tuple[int, int]) -> None:
    """The row of one point of the sweep: `moving` is (input, axis) of the size that varies."""
    index, axis = moving
    first = profile.inputs[0]
    tokens = (math.prod(first.shape) if first.dtype in TOKEN_IDS and len(first.shape) == 2
              else None)
    table.rows.append(SweepRow(
        profile.inputs[index].shape[axis], [list(item.shape) for item in profile.inputs],
        profile.macs, cost.step_macs if cost else None,
        cost.memory.training_peak if cost else None,
        cost.memory.inference_peak if cost else None, tokens,
        timing.forward_s if timing else None, timing.step_s if timing else None))
    if cost is None and not table.notes:
        table.notes.append('The model could not be traced, so its training step is not '
                           'estimated.')


def sweep_view(table: Sweep) -> Table:
    timed = any(row.step_s is not None for row in table.rows)
    per_token = all(row.tokens for row in table.rows)
    header = [table.axis.capitalize(), 'Forward MACs', 'Step MACs']
    if per_token:
        header += ['MACs/token']
    header += ['Step peak', 'Inference peak']
    if timed:
        header += ['Fwd ms', 'Step ms']
    body, csv_rows = [], []
    for row in table.rows:
        line = [str(row.size), readable(row.forward_macs), optional(row.step_macs, readable)]
        if per_token:
            line.append(readable(row.forward_macs / (row.tokens or 1)))
        line += [optional(row.training_peak, readable_bytes),
                 optional(row.inference_peak, readable_bytes)]
        if timed:
            line += [optional(row.forward_s, ms), optional(row.step_s, ms)]
        body.append(line)
        record = {key: ('' if value is None else value) for key, value in asdict(row).items()}
        record['shapes'] = str(row.shapes)
        csv_rows.append(record)
    header, body = fit(header, body, {})
    title = f'{table.network}: cost against {against(table.axis)} ({table.optimizer})'
    notes = ['Step: one training step, forward and backward (the optimizer\'s update is '
             'elementwise, not MACs); peaks estimated from the Program'
             + (', times measured on this machine' if timed else '') + '.']
    return title, header, body, csv_rows, notes + table.notes


def optional(value: Any, show: Callable[[Any], str]) -> str:
    return '-' if value is None else show(value)


def ms(seconds: float) -> str:
    return f'{1000 * seconds:.2f}'


# --- the plot -----------------------------------------------------------------------

def check_plot(path: str | os.PathLike[str]) -> str:
    """The plot's format, from the extension of `path`; a UsageError, before any work,
    for an extension that is none of png, svg and pdf or a folder that is not there."""
    text = os.fspath(path)
    fmt = os.path.splitext(text)[1].lstrip('.').lower()
    if fmt not in PLOT_FORMATS:
        raise UsageError(f'{text}: the plot\'s format is its extension: {", ".join(PLOT_FORMATS)}')
    folder = os.path.dirname(os.path.abspath(text))
    if not os.path.isdir(folder):
        raise FileError(f'{text} cannot be written: its folder {folder} is not a folder here')
    if os.path.isdir(text):
        raise FileError(f'{text} cannot be written: it is a folder')
    if importlib.util.find_spec('matplotlib') is None:
        raise UsageError('--plot needs matplotlib: pip install "paddleinfo[plot]" (or matplotlib)')
    return fmt


def figure_bytes(table: Sweep, path: str) -> bytes:
    """The plot, drawn in memory, in the format of `path`'s extension."""
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError:
        raise UsageError('--plot needs matplotlib: pip install matplotlib') from None
    fmt = check_plot(path)
    sizes = [row.size for row in table.rows]
    timed = any(row.step_s is not None for row in table.rows)
    # The same bytes for the same sweep: no date, no software version in the file.
    metadata = {'png': {'Software': None}, 'svg': {'Date': None, 'Creator': None},
                'pdf': {'CreationDate': None, 'Creator': None, 'Producer': None}}[fmt]
    with matplotlib.rc_context({'svg.hashsalt': 'paddleinfo', 'font.size': 9}):
        figure = Figure(figsize=(4 * (3 if timed else 2), 3.4), layout='constrained')
        axes = figure.subplots(1, 3 if timed else 2)
        def series(field: str, unit: float) -> list[float]:
            return [none(getattr(row, field), unit) for row in table.rows]
        panels = [('multiply-adds (G)', [('forward', series('forward_macs', 1e9)),
                                         ('training step', series('step_macs', 1e9))]),
                  ('memory (MiB)', [('training peak', series('training_peak', 2 ** 20)),
                                    ('inference peak', series('inference_peak', 2 ** 20))])]
        if timed:
            panels.append(('time (ms)', [('forward', series('forward_s', 1e-3)),
                                         ('training step', series('step_s', 1e-3))]))
        for ax, (label, lines) in zip(axes, panels):
            for legend, values in lines:
                ax.plot(sizes, values, marker='o', label=legend)
            if max(sizes) / min(sizes) >= 8:
                ax.set_xscale('log', base=2)
            ax.set_xlabel(table.axis)
            ax.set_ylabel(label)
            ax.grid(True, alpha=0.3)
            ax.legend()
        figure.suptitle(f'{table.network}: cost against {against(table.axis)} ({table.optimizer})')
        buffer = io.BytesIO()
        figure.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()


def none(value: float | None, unit: float) -> float:
    return math.nan if value is None else value / unit


def write_whole(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `path` whole or not at all: a temporary beside it, flushed, then
    renamed.  (paddleinfo installs alone, without the clone's writer of its outputs.)
    A file that cannot be written is a UsageError naming it."""
    folder = os.path.dirname(os.path.abspath(path)) or '.'
    temporary = None
    try:
        handle, temporary = tempfile.mkstemp(prefix=f'.{os.path.basename(path)}.', suffix='.tmp',
                                             dir=folder)
        with os.fdopen(handle, 'wb') as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
        temporary = None
    except OSError as error:
        raise FileError(f"{os.fspath(path)} cannot be written: {error.strerror or error}") from None
    finally:
        if temporary is not None:
            try:
                os.remove(temporary)
            except OSError:
                pass
