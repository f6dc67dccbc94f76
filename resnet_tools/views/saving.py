"""Figures as files: the same bytes for the same figure, each file whole or absent.

The one place where a figure of this repository becomes a file.  Nothing that would make
two saves of one figure differ goes in: no date, no software version, and no random ids
(a style's 'svg.hashsalt' fixes those).  Figures are matplotlib Figure objects made
without pyplot, so no window, backend or global list of figures is involved.
"""
import io
import logging
import os
import pathlib
from collections.abc import Mapping
from typing import Any

import matplotlib
from matplotlib.figure import Figure

from resnet_tools import files

# Paddle sets the root logger to INFO, which would let matplotlib's font cache and the
# PDF backend's font subsetting (fontTools) talk on stderr.
for talker in ('matplotlib', 'fontTools'):
    logging.getLogger(talker).setLevel(logging.WARNING)

FIGURE_SUFFIXES = ('.svg', '.png', '.pdf')
NO_METADATA = {
    '.svg': {'Date': None, 'Creator': None},
    '.pdf': {'CreationDate': None, 'Creator': None, 'Producer': None},
    '.png': {'Software': None},
}


def figure_bytes(figure: Figure, suffix: str, style: Mapping[str, Any],
                 dpi: float | str = 'figure') -> bytes:
    """The figure as an SVG, PNG or PDF file (`suffix`), saved under `style` (matplotlib
    rc settings), at `dpi` ('figure': the figure's own)."""
    buffer = io.BytesIO()
    rc: dict[Any, Any] = dict(style)     # matplotlib types the keys: a Literal of every rc name
    with matplotlib.rc_context(rc):
        figure.savefig(buffer, format=suffix.lstrip('.'), metadata=NO_METADATA[suffix], dpi=dpi)
    return buffer.getvalue()


def save(figure: Figure, output: str | os.PathLike[str], style: Mapping[str, Any],
         dpi: float | str = 'figure') -> pathlib.Path:
    """Write the figure to `output` (its suffix says the format), complete or not at all."""
    output = pathlib.Path(output)
    files.write_bytes(output, figure_bytes(figure, output.suffix.lower(), style, dpi))
    return output


def figure_path(output: str | os.PathLike[str], force: bool = False) -> pathlib.Path:
    """The path of a figure to write, or a UsageError: a known format, a folder that
    exists and can be written, and no file there already unless `force`."""
    return files.check_new_file(output, force, FIGURE_SUFFIXES, f'end it in {", ".join(FIGURE_SUFFIXES)}')
