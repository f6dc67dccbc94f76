"""Error curves of training runs, drawn from their logs, in the style of the
paper's Figure 6: one panel per group of runs, training error dashed and test
error solid against epochs, one colour per key shared by all panels; and the
layer responses of its Figure 7.

Same logs, same bytes: the SVG's ids come from a fixed salt, and neither file
carries a date or the matplotlib version.
"""
from collections.abc import Sequence
from typing import Any, Protocol, cast

import matplotlib
from matplotlib.figure import Figure

from resnet_tools.views import saving

PLOT_FORMATS = ('png', 'svg')
DPI = 100
STYLE: dict[str, Any] = {'svg.hashsalt': 'resnet-paddle', 'svg.fonttype': 'path', 'figure.dpi': DPI}


class CurvePoint(Protocol):
    """What a curve reads of a row of a run's log.csv (errors are fractions)."""
    @property
    def epoch(self) -> int: ...
    @property
    def train_error(self) -> float: ...
    @property
    def test_error(self) -> float: ...


def draw_error_curves(panels: Sequence[tuple[str, Sequence[tuple[str, str, Sequence[CurvePoint]]]]],
                      output: str, subtitle: str | None = None) -> list[str]:
    """Draw `panels`, [(title, [(label, colour key, log rows)])], to output.png and output.svg.

    Log rows have an `epoch`, a `train_error` and a `test_error` (fractions): the rows of
    a run's log.csv.
    Returns the paths written.
    """
    keys = sorted({key for _, curves in panels for _, key, _ in curves}, key=sort_key)
    colours = {key: f'C{index % 10}' for index, key in enumerate(keys)}
    with matplotlib.rc_context(cast(dict[Any, Any], STYLE)):
        figure = Figure(figsize=(5 * len(panels), 4))
        axes = figure.subplots(1, len(panels), sharey=True, squeeze=False)
        highest: float = 0
        for ax, (title, curves) in zip(axes[0], panels):
            for label, key, rows in curves:
                epochs = [row.epoch for row in rows]
                for column, style, width, what in (('train_error', '--', 1.0, 'train'),
                                                   ('test_error', '-', 2.0, 'test')):
                    errors = [100 * getattr(row, column) for row in rows]
                    highest = max(highest, *errors)
                    # One legend entry per run; the caption says which line is which.
                    ax.plot(epochs, errors, style, color=colours[key], linewidth=width,
                            label=label if what == 'test' else '_nolegend_')
            ax.set_title(title)
            ax.set_xlabel('epoch')
            ax.grid(True, linewidth=0.3)
            if curves:
                ax.legend(fontsize='small')
        axes[0][0].set_ylabel('error (%)')
        axes[0][0].set_ylim(0, min(100, highest * 1.05) or 1)
        caption = 'dashed: training error, solid: test error'
        figure.suptitle(f'{caption}; {subtitle}' if subtitle else caption, fontsize='small')
        figure.tight_layout()
        return _save(figure, output)


def draw_responses(curves: Sequence[tuple[str, str, bool, Sequence[float]]], output: str,
                   subtitle: str | None = None) -> list[str]:
    """The paper's Figure 7: `curves`, [(label, colour key, dashed, stds in layer order)],
    drawn against the layer index (top) and sorted in descending order (bottom), to
    output.png and output.svg.  Returns the paths written."""
    keys = sorted({key for _, key, _, _ in curves}, key=sort_key)
    colours = {key: f'C{index % 10}' for index, key in enumerate(keys)}
    with matplotlib.rc_context(cast(dict[Any, Any], STYLE)):
        figure = Figure(figsize=(7, 6.5))
        top, bottom = figure.subplots(2, 1)
        for label, key, dashed, stds in curves:
            style: dict[str, Any] = dict(color=colours[key], linewidth=1.2, linestyle='--' if dashed else '-',
                         label=label)
            top.plot(range(1, len(stds) + 1), stds, **style)
            bottom.plot(range(1, len(stds) + 1), sorted(stds, reverse=True), **style)
        top.set_xlabel('layer index (original)')
        bottom.set_xlabel('layer index (sorted by magnitude)')
        for ax in (top, bottom):
            ax.set_ylabel('std')
            ax.grid(True, linewidth=0.3)
            if curves:
                ax.legend(fontsize='small')
        caption = 'std of each 3x3 layer\'s response (after BN, before ReLU and addition)'
        figure.suptitle(f'{caption}; {subtitle}' if subtitle else caption, fontsize='small')
        figure.tight_layout()
        return _save(figure, output)


def _save(figure: Figure, output: str) -> list[str]:
    return [str(saving.save(figure, path, STYLE)) for path in output_paths(output)]


def output_paths(output: str) -> list[str]:
    """The files draw_error_curves writes for `output`."""
    return [f'{output}.{form}' for form in PLOT_FORMATS]


def sort_key(key: str) -> tuple[int, int, str]:
    """Numbers in numeric order ('20' before '110'), then anything else."""
    return (0, int(key), '') if key.isdigit() else (1, 0, key)
