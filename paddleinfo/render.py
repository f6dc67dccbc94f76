"""Tables in every output format, and paddle.summary's own text.  Knows nothing of ResNet.

A table is given as `data` (plain numbers under fixed keys, what --format json prints:
a dict, or an object whose `as_dict()` gives it) and a `view` function that turns it
into (title, header, body, csv_rows, notes).
"""
import csv
import html
import io
import json
import math
import re
import textwrap
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from tabulate import tabulate


if TYPE_CHECKING:   # (it imports Paddle, which this module does not)
    from paddleinfo.result import Profile

TABLE_STYLES = {'plain': 'simple', 'github': 'github', 'markdown': 'pipe'}
GIGA = 10 ** 9
NUMBER = re.compile(r'[-\d,.]*( %)?')
WIDTH = 79

# What a view gives: (title, header, body, csv_rows, notes).
Table = tuple[str, list[str], list[list[str]], list[dict[str, Any]], list[str]]
TableData = TypeVar('TableData')   # what a view reads: a dict, or a typed table


def gmacs(value: float, digits: int = 3) -> str:
    return f'{value / GIGA:.{digits}f}'


def readable(value: float, unit: str = '') -> str:
    """A figure with the prefix of its own size and three significant figures: 1,696 ->
    '1.70 K', 117,965,312 -> '118 M', 4,089,184,256 -> '4.09 G'; below 1,000 as it is."""
    return scaled(value, 3, unit)


def scaled(value: float, figures: int = 3, unit: str = '') -> str:
    """`value` in K, M, G or T, whichever leaves 1 to 999 before the point, with
    `figures` significant figures (4 for the side-by-side table: '4.089 G')."""
    prefixes = ((12, 'T'), (9, 'G'), (6, 'M'), (3, 'K'), (0, ''))
    for index, (power, prefix) in enumerate(prefixes):
        mantissa = value / 10 ** power
        if abs(mantissa) < 1 and power:
            continue
        if not power and float(value).is_integer():
            return f'{value:,.0f} {unit}'.rstrip()
        digits = max(figures - len(str(int(abs(mantissa)))), 0)
        text = f'{mantissa:.{digits}f}'
        whole = len(text.lstrip('-').split('.')[0])
        if whole + digits > figures and digits:     # 99.95 K rounds to 100.0 K: 100 K
            text = f'{mantissa:.{max(figures - whole, 0)}f}'
        # 999.96 K is 1.00 M once rounded.
        if len(text.lstrip('-').split('.')[0]) > 3 and index:
            return scaled(float(text) * 10 ** power, figures, unit)
        return f'{text} {prefix}{unit}'.rstrip()
    raise AssertionError   # (the last prefix takes every value)


def percent(part: float, whole: float) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def render(data: TableData, view: Callable[[TableData], Table], fmt: str) -> str:
    """`data` in format `fmt`; `view` is the matching *_view function, which gives
    (title, header, body, csv_rows, notes)."""
    if fmt == 'json':
        plain = data.as_dict() if hasattr(data, 'as_dict') else data
        return json.dumps(plain, indent=2, sort_keys=True) + '\n'
    title, header, body, csv_rows, notes = view(data)
    if fmt == 'html':
        return html_table(title, header, body, notes)
    if fmt == 'csv':
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(csv_rows[0]), lineterminator='\n')
        writer.writeheader()
        writer.writerows(csv_rows)
        return out.getvalue()
    if fmt != 'plain':
        # A view breaks a long cell or header into lines to fit a terminal; a markdown
        # row is one line.
        header = [cell.replace('\n', ' ') for cell in header]
        body = [[cell.replace('\n', ' ') for cell in line] for line in body]
    numbers = ['right' if all(NUMBER.fullmatch(line[i]) for line in body) else 'left'
               for i in range(len(header))]
    # Leading blanks indent the rows of the --depth table; tabulate strips them unless told.
    table = tabulate(body, header, tablefmt=TABLE_STYLES[fmt], colalign=numbers,
                     disable_numparse=True, preserve_whitespace=True)
    # A note is a paragraph; a line break inside one is kept.
    lines = [note.split('\n') for note in notes]
    if fmt == 'plain':
        # Empty cells at the end of a row would leave trailing blanks.
        table = '\n'.join(line.rstrip() for line in table.split('\n'))
        wrapped = ['\n'.join(textwrap.fill(line, WIDTH, break_on_hyphens=False) for line in note)
                   for note in lines]
        return f'{title}\n\n{table}\n\n' + '\n\n'.join(wrapped) + '\n'
    return f'**{title}**\n\n{table}\n\n' + ''.join(f'- {line}\n' for note in lines
                                                     for line in note)


def html_table(title: str, header: list[str], body: list[list[str]], notes: list[str]) -> str:
    """The table as an HTML fragment (a notebook's rich output, --format html): every
    cell escaped, a line break of a cell kept, numbers right-aligned."""
    def cell(tag: str, text: str, right: bool) -> str:
        style = ' style="text-align: right"' if right else ''
        lines = '<br>'.join(html.escape(line) for line in text.split('\n'))
        return f'<{tag}{style}>{lines}</{tag}>'

    numbers = [bool(body) and all(NUMBER.fullmatch(line[i].replace('\n', '')) for line in body)
               for i in range(len(header))]
    head = ''.join(cell('th', text, right) for text, right in zip(header, numbers))
    rows = ''.join('<tr>' + ''.join(cell('td', text, right) for text, right in zip(line, numbers))
                   + '</tr>\n' for line in body)
    paragraphs = ''.join(f'<p>{"<br>".join(html.escape(line) for line in note.split(chr(10)))}</p>\n'
                         for note in notes)
    return (f'<div class="paddleinfo">\n<p><strong>{html.escape(title)}</strong></p>\n'
            f'<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n'
            f'{paragraphs}</div>\n')


# --- tables that fit a terminal ----------------------------------------------------

TERMINAL = 100     # columns: every table of ours fits a terminal (or a projector) this wide
# Where a cell of each kind may break onto a new line: text at a space, a list of shapes
# after a shape's '],', a formula before its ' = '.  A break is at a space, so a
# markdown row, which joins the lines with a space, reads as the unbroken cell.
BREAKS = {'text': re.compile(r' '), 'shapes': re.compile(r'(?<=\],) '),
          'formula': re.compile(r' (?== )')}
# Where a cell may break when a table cannot fit with BREAKS alone (--explain and --macs
# together, say): a shape after any ', ', a formula before its ' // ' too.
FINER_BREAKS = {**BREAKS, 'shapes': re.compile(r'(?<=,) '),
                'formula': re.compile(r' (?== )| (?=// )')}


def pieces(cell: str, kind: str, breaks: Mapping[str, re.Pattern[str]] = BREAKS) -> list[str]:
    return breaks[kind].split(cell) if cell else ['']


def width_of(cell: str) -> int:
    return max(map(len, cell.split('\n')))


def broken(cell: str, kind: str, limit: int, breaks: Mapping[str, re.Pattern[str]] = BREAKS) -> str:
    """`cell` on as few lines of at most `limit` characters as its pieces allow."""
    lines: list[str] = []
    for piece in pieces(cell, kind, breaks):
        if lines and len(lines[-1]) + 1 + len(piece) <= limit:
            lines[-1] += ' ' + piece
        else:
            lines.append(piece)
    return '\n'.join(lines)


def fit(header: list[str], body: list[list[str]], kinds: Mapping[int | None, str],
        width: int = TERMINAL,
        breaks: Mapping[str, re.Pattern[str]] = BREAKS) -> tuple[list[str], list[list[str]]]:
    """(header, body) with cells broken onto more lines so that the plain table (two
    blanks between columns) is at most `width` columns wide, if it can be: headers at
    their spaces, and the cells of the columns in `kinds` ({column: 'text', 'shapes' or
    'formula'}) where BREAKS allows, the widest column first.  A table that cannot fit
    so is tried again with FINER_BREAKS (a table that fits with BREAKS keeps its lines).
    Other cells are never broken; a table that fits, or that cannot be made to even
    then, is left whole."""
    columns = range(len(header))
    # tabulate gives a header two more columns than its text (MIN_PADDING).
    natural = [max([width_of(header[i]) + 2] + [width_of(row[i]) for row in body])
               for i in columns]
    floor = []
    for i in columns:
        shortest = [max(map(len, header[i].split(' '))) + 2]
        for row in body:
            shortest += (list(map(len, pieces(row[i], kinds[i], breaks))) if i in kinds
                         else [width_of(row[i])])
        floor.append(max(shortest))
    limits = list(natural)
    excess = sum(limits) + 2 * (len(limits) - 1) - width
    while excess > 0:
        widest = max(columns, key=lambda i: (limits[i] - floor[i] > 0, limits[i]))
        if limits[widest] <= floor[widest]:
            break
        limits[widest] -= 1
        excess -= 1
    if excess > 0 and breaks is BREAKS:
        return fit(header, body, kinds, width, FINER_BREAKS)
    if limits == natural or excess > 0:   # it fits, or cannot: then it is left whole
        return header, body
    header = [broken(cell, 'text', limit - 2) if len(cell) + 2 > limit else cell
              for cell, limit in zip(header, limits)]
    body = [[broken(cell, kinds[i], limits[i], breaks) if i in kinds and len(cell) > limits[i]
             else cell for i, cell in enumerate(row)] for row in body]
    return header, body


# --- paddle.summary's table ---------------------------------------------------------
# The text paddle.summary prints (paddle/hapi/model_summary.py, summary_string), from
# the rows of paddleinfo.profile, with paddle.summary's widths and arithmetic.

def summary_text(profile: 'Profile') -> tuple[str, dict[str, int]]:
    """(paddle.summary's text for the profiled model, without its last blank line, and
    its return value {'total_params', 'trainable_params'}).  The totals are those of
    model.parameters(); where paddle.summary's own sum of its rows differs (a model's own
    parameters, a layer never called, a tensor shared by two layers), lines after the
    table say so."""
    rows = profile.rows
    width = {'layer': 15, 'input': 20, 'output': 20, 'params': 15}
    for row in rows:
        width['output'] = max(width['output'], len(str(row.output_shape)))
        width['input'] = max(width['input'], len(str(row.input_shape)))
        width['layer'] = max(width['layer'], len(row.name))
        width['params'] = max(width['params'], len(str(row.params)))
    table_width = max(75, sum(width.values()) + 5)

    def line(*cells: str) -> str:
        return ' '.join(f'{cell:^{size}}' for cell, size in zip(cells, width.values()))

    text = ['-' * table_width, line('Layer (type)', 'Input Shape', 'Output Shape', 'Param #'),
            '=' * table_width]
    for row in rows:
        text.append(line(row.name, str(row.input_shape), str(row.output_shape),
                         f'{row.params:,}'))
    memory = memory_mb(profile)
    total_params, trainable_params = profile.params, profile.trainable_params
    text += ['=' * table_width,
             f'Total params: {total_params:,}',
             f'Trainable params: {trainable_params:,}',
             f'Non-trainable params: {total_params - trainable_params:,}',
             '-' * table_width,
             f'Input size (MB): {memory["input"]:0.2f}',
             f'Forward/backward pass size (MB): {memory["forward_backward"]:0.2f}',
             f'Params size (MB): {memory["params"]:0.2f}',
             f'Estimated Total Size (MB): {memory["total"]:0.2f}',
             '-' * table_width]
    text += [textwrap.fill(note, WIDTH, break_on_hyphens=False) for note in paddle_notes(profile)]
    return '\n'.join(text) + '\n', {'total_params': total_params,
                                    'trainable_params': trainable_params}


def memory_mb(profile: 'Profile', by_dtype: bool = False) -> dict[str, float]:
    """paddle.summary's memory figures, in MB: every value taken as 4 bytes, the outputs
    of every row twice (for their gradients), all at the batch of the input.  With
    `by_dtype`, each value at its dtype's size instead (what result.memory and the JSON
    give): an input at its own, a parameter at its own, an output at the model's
    floating-point dtype (its first floating-point parameter's; float32 without one)."""
    total_output = 0
    for row in profile.rows:
        try:
            total_output += np.sum(np.prod(row.output_shape, axis=-1))
        except ValueError:      # several outputs of different ranks
            for shape in row.output_shape:
                total_output += np.sum(np.prod(shape, axis=-1))
    mb = 1024 ** 2.0
    if not by_dtype:
        input_size = sum(abs(np.prod(shape) * 4.0 / mb) for shape in profile.input_shapes)
        output_size = abs(2.0 * total_output * 4.0 / mb)     # x2 for gradients
        params_size = abs(profile.params * 4.0 / mb)
    else:
        from paddleinfo.memory import DTYPE_BYTES as ITEMSIZE, FLOATS, dtype_name
        floats = [dtype_name(p.dtype) for p in profile.model.parameters()
                  if dtype_name(p.dtype) in FLOATS]
        activation = ITEMSIZE[floats[0]] if floats else 4
        input_size = sum(math.prod(item.shape) * ITEMSIZE.get(item.dtype, 4)
                         for item in profile.inputs) / mb
        output_size = 2.0 * float(total_output) * activation / mb
        params_size = sum(math.prod(p.shape) * ITEMSIZE.get(dtype_name(p.dtype), 4)
                          for p in profile.model.parameters()) / mb
    return {'input': float(input_size), 'forward_backward': float(output_size),
            'params': float(params_size),
            'total': float(params_size + output_size + input_size)}


def paddle_notes(profile: 'Profile') -> list[str]:
    """What paddle.summary would print differently, and why ours is right."""
    notes = []
    unshown = profile.unshown_parameters()
    left_out = sum(int(np.prod(shape)) for _, shape in unshown)
    if unshown:
        names = ', '.join(f'{name} {shape}' for name, shape in unshown[:6])
        more = f' and {len(unshown) - 6} more' if len(unshown) > 6 else ''
        notes.append(f'The totals are those of model.parameters(). paddle.summary leaves out '
                     f'{left_out:,} parameters that no row holds (the model\'s own, or of a '
                     f'layer the forward pass never calls): {names}{more}.')
    twice = profile.rows_params - (profile.params - left_out)
    if twice > 0:
        notes.append(f'paddle.summary counts {twice:,} parameters twice (tensors shared by '
                     f'two layers); the totals count each tensor once.')
    return notes
