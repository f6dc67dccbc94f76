"""Diagrams drawn with matplotlib: columns of labelled boxes, read from top to bottom,
with arcs beside them that skip some boxes, and shaded bands that group boxes.
Saved so that the same figure gives the same bytes, with text kept as text in SVG.

Nothing here knows what the boxes stand for: a caller describes each column as
`Item`s, `Arc`s and `Band`s, and `draw` lays them out.
"""
import os
import pathlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle
from matplotlib.path import Path

from resnet_tools.views import saving

# Everything that would make two saves of one figure differ, or turn text into paths.
STYLE: dict[str, Any] = {
    'svg.hashsalt': 'figures',     # ids of clip paths and the like, random by default
    'svg.fonttype': 'none',        # <text> elements, not glyph outlines
    'pdf.fonttype': 42,
    # DejaVu Sans ships with matplotlib, so a PNG looks the same anywhere; a browser
    # without it shows an SVG's text in the next of these it has.
    'font.family': 'sans-serif',
    'font.sans-serif': ['DejaVu Sans', 'Arial', 'Helvetica'],
    'font.size': 8,
}
PNG_DPI = 150

# Sizes in inches: the axes are laid out so that one data unit is one inch.
PITCH = 0.42          # from one row to the next
BOX_HEIGHT = 0.27
LABEL_WIDTH = 1.15    # left of the boxes: band titles and notes
BOX_WIDTH = 1.9
ARC_WIDTH = 1.6       # right of the boxes: arcs and their labels
TITLE_HEIGHT = 0.45
MARGIN = 0.12
SHADES = ('#e8eef8', '#fbf3e4')       # alternate bands
BOX_FILLS = ('#c9d8f0', '#f6dcae')
LINE = '#333333'


@dataclass
class Item:
    """One row of a column.  kind: 'box' (a labelled box), 'text' (a label alone),
    'gap' (rows left out, drawn dotted) or 'add' (a circled plus)."""
    label: str
    kind: str = 'box'
    note: str = ''         # small text left of the row
    gid: str | None = None


@dataclass
class Arc:
    """A line beside the column from just above row `first` to just below row `last`."""
    first: int
    last: int
    dashed: bool
    gid: str
    label: str = ''
    into: int | None = None   # the row it ends on, if it ends on one rather than below `last`


@dataclass
class Band:
    """A shaded background behind rows first..last, titled at the left."""
    first: int
    last: int
    title: str
    note: str = ''
    shade: int = 0        # which of SHADES, so a band keeps its colour when a column wraps


@dataclass
class Column:
    title: str
    items: list[Item]
    arcs: list[Arc] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)
    breaks: list[int] = field(default_factory=list)   # rows a column may wrap before


def wrap(column: Column, parts: int) -> list[Column]:
    """`column` cut into at most `parts` columns of about equal length, at its breaks."""
    if parts <= 1 or not column.breaks:
        return [column]
    size = len(column.items)
    cuts = sorted({min(column.breaks, key=lambda b: (abs(b - size * k / parts), b))
                   for k in range(1, parts)})
    pieces, start = [], 0
    for stop in cuts + [size]:
        if stop <= start:
            continue
        pieces.append(Column(
            title=column.title if start == 0 else f'{column.title} (continued)',
            items=column.items[start:stop],
            arcs=[shifted(arc, start) for arc in column.arcs if start <= arc.first < stop],
            bands=[Band(max(band.first, start) - start, min(band.last, stop - 1) - start,
                        band.title, band.note, band.shade)
                   for band in column.bands if band.first < stop and band.last >= start]))
        start = stop
    return pieces


def shifted(arc: Arc, start: int) -> Arc:
    return Arc(arc.first - start, arc.last - start, arc.dashed, arc.gid, arc.label,
               None if arc.into is None else arc.into - start)


def column_size(column: Column) -> tuple[float, float]:
    return LABEL_WIDTH + BOX_WIDTH + ARC_WIDTH, TITLE_HEIGHT + PITCH * len(column.items)


def draw(columns: Sequence[Column], legend: Sequence[str] = ()) -> Figure:
    """A figure with `columns` side by side, and `legend` lines under them."""
    sizes = [column_size(column) for column in columns]
    width = sum(w for w, _ in sizes) + 2 * MARGIN
    legend_height = PITCH * 0.6 * len(legend)
    height = max(h for _, h in sizes) + legend_height + 2 * MARGIN
    with matplotlib.rc_context(cast(dict[Any, Any], STYLE)):
        figure = Figure(figsize=(width, height))
        axes = figure.add_axes((0, 0, 1, 1))
        axes.set_xlim(0, width)
        axes.set_ylim(0, height)
        axes.set_axis_off()
        left = MARGIN
        for column, (column_width, _) in zip(columns, sizes):
            draw_column(axes, column, left, height - MARGIN)
            left += column_width
        for index, line in enumerate(legend):
            axes.text(MARGIN, MARGIN + legend_height - PITCH * 0.6 * (index + 0.5), line,
                      ha='left', va='center', fontsize=7, color=LINE)
    return figure


def draw_column(axes: Axes, column: Column, left: float, top: float) -> None:
    centre = left + LABEL_WIDTH + BOX_WIDTH / 2
    axes.text(centre, top - TITLE_HEIGHT / 2, column.title, ha='center', va='center',
              fontsize=10, fontweight='bold')
    top -= TITLE_HEIGHT

    def middle(row: int) -> float:
        return top - PITCH * (row + 0.5)

    shade_of = {}
    for band in column.bands:
        shade = band.shade % len(SHADES)
        for row in range(band.first, band.last + 1):
            shade_of[row] = shade
        upper, lower = top - PITCH * band.first, top - PITCH * (band.last + 1)
        axes.add_patch(Rectangle((left, lower), LABEL_WIDTH + BOX_WIDTH + ARC_WIDTH,
                                 upper - lower, facecolor=SHADES[shade], edgecolor='none',
                                 zorder=0))
        axes.text(left + 0.08, (upper + lower) / 2, f'{band.title}\n{band.note}'.strip(),
                  ha='left', va='center', fontsize=8, linespacing=1.4, zorder=4)

    for row, item in enumerate(column.items):
        y = middle(row)
        if row + 1 < len(column.items):
            dotted = 'gap' in (item.kind, column.items[row + 1].kind)
            connect(axes, centre, y - row_half(item), middle(row + 1) + row_half(column.items[row + 1]),
                    dotted)
        draw_item(axes, item, centre, y, BOX_FILLS[shade_of.get(row, 0)])

    for arc in column.arcs:
        start = top - PITCH * arc.first - (PITCH - BOX_HEIGHT) / 2
        if arc.into is not None:
            end = middle(arc.into)
            reach = BOX_HEIGHT / 2
        else:
            end = top - PITCH * (arc.last + 1) + (PITCH - BOX_HEIGHT) / 2
            reach = 0
        draw_arc(axes, centre, start, end, reach, arc)


def row_half(item: Item) -> float:
    """Half the height a row's drawing takes, where the arrows to it stop."""
    return {'box': BOX_HEIGHT / 2, 'add': BOX_HEIGHT / 2, 'text': BOX_HEIGHT / 3}.get(item.kind, 0.06)


def draw_item(axes: Axes, item: Item, x: float, y: float, fill: str) -> None:
    if item.kind == 'box':
        box = FancyBboxPatch((x - BOX_WIDTH / 2, y - BOX_HEIGHT / 2), BOX_WIDTH, BOX_HEIGHT,
                             boxstyle='round,pad=0,rounding_size=0.05', facecolor=fill,
                             edgecolor=LINE, linewidth=0.8, zorder=2)
        box.set_gid(item.gid)
        axes.add_patch(box)
        axes.text(x, y, item.label, ha='center', va='center', fontsize=8, zorder=3)
    elif item.kind == 'add':
        circle = Circle((x, y), BOX_HEIGHT / 2, facecolor='white', edgecolor=LINE,
                        linewidth=0.8, zorder=2)
        circle.set_gid(item.gid)
        axes.add_patch(circle)
        axes.text(x, y, '+', ha='center', va='center', fontsize=11, zorder=3)
        if item.label:
            axes.text(x - BOX_HEIGHT, y, item.label, ha='right', va='center', fontsize=8,
                      zorder=3)
    elif item.kind == 'gap':
        axes.text(x, y, item.label, ha='center', va='center', fontsize=7, style='italic',
                  zorder=3, bbox={'facecolor': 'white', 'edgecolor': 'none', 'pad': 1.5})
    else:
        axes.text(x, y, item.label, ha='center', va='center', fontsize=8, zorder=3)
    if item.note:
        axes.text(x - BOX_WIDTH / 2 - 0.06, y, item.note, ha='right', va='center', fontsize=7,
                  color='#555555', zorder=3)


def connect(axes: Axes, x: float, upper: float, lower: float, dotted: bool = False) -> None:
    axes.add_patch(FancyArrowPatch((x, upper), (x, lower), arrowstyle='-|>', mutation_scale=7,
                                   shrinkA=0, shrinkB=0, color=LINE, linewidth=0.8,
                                   linestyle=':' if dotted else '-', zorder=1))


def draw_arc(axes: Axes, centre: float, start: float, end: float, reach: float, arc: Arc) -> None:
    """A curve out to the right of the boxes and back to the centre line (or to the
    right edge of the row it ends on, `reach` being that row's half height)."""
    out = centre + BOX_WIDTH / 2 + ARC_WIDTH * 0.5
    finish = (centre + BOX_HEIGHT / 2, end) if reach else (centre, end)
    path = Path([(centre, start), (out, start), (out, end), finish],
                [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4])
    patch = FancyArrowPatch(path=path, arrowstyle='-|>', mutation_scale=8, color=LINE,
                            linewidth=1.0, linestyle=(0, (4, 2.5)) if arc.dashed else '-',
                            zorder=1)
    patch.set_gid(arc.gid)
    axes.add_patch(patch)
    if arc.label:
        axes.text(centre + 0.75 * (out - centre) + 0.06, (start + end) / 2, arc.label, ha='left', va='center',
                  fontsize=6.5, zorder=3,
                  bbox={'facecolor': 'white', 'edgecolor': 'none', 'pad': 1, 'alpha': 0.85})


# --- saving ------------------------------------------------------------------------

def figure_bytes(figure: Figure, suffix: str) -> bytes:
    """The figure as an SVG, PNG or PDF file, the same bytes for the same figure."""
    return saving.figure_bytes(figure, suffix, STYLE, PNG_DPI)


def save(figure: Figure, output: str | os.PathLike[str], force: bool = False) -> pathlib.Path:
    """Write `figure` to `output` (its suffix says the format), complete or not at all."""
    return saving.save(figure, saving.figure_path(output, force), STYLE, PNG_DPI)
