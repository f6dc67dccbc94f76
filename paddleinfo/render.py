"""Tables in every output format, and paddle.summary's own text.  Knows nothing of ResNet.

A table is given as `data` (plain numbers under fixed keys, what --format json prints)
and a `view` function that turns it into (title, header, body, csv_rows, notes).
"""
import csv
import io
import json
import re
import textwrap

import numpy as np
from tabulate import tabulate

FORMATS = ('plain', 'github', 'markdown', 'csv', 'json')
TABLE_STYLES = {'plain': 'simple', 'github': 'github', 'markdown': 'pipe'}
GIGA = 10 ** 9
NUMBER = re.compile(r'[-\d,.]*( %)?')
WIDTH = 79


def gmacs(value, digits=3):
    return f'{value / GIGA:.{digits}f}'


def percent(part, whole):
    return round(100 * part / whole, 1) if whole else 0.0


def render(data, view, fmt):
    """`data` in format `fmt`; `view` is the matching *_view function, which gives
    (title, header, body, csv_rows, notes)."""
    if fmt == 'json':
        return json.dumps(data, indent=2, sort_keys=True) + '\n'
    title, header, body, csv_rows, notes = view(data)
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


# --- paddle.summary's table ---------------------------------------------------------
# The text paddle.summary prints (paddle/hapi/model_summary.py, summary_string), from
# the rows of paddleinfo.profile, with paddle.summary's widths and arithmetic.

def summary_text(profile):
    """(paddle.summary's text for the profiled model, without its last blank line, and
    its return value {'total_params', 'trainable_params'})."""
    rows = profile.rows
    width = {'layer': 15, 'input': 20, 'output': 20, 'params': 15}
    for row in rows:
        width['output'] = max(width['output'], len(str(row.output_shape)))
        width['input'] = max(width['input'], len(str(row.input_shape)))
        width['layer'] = max(width['layer'], len(row.name))
        width['params'] = max(width['params'], len(str(row.params)))
    table_width = max(75, sum(width.values()) + 5)

    def line(*cells):
        return ' '.join(f'{cell:^{size}}' for cell, size in zip(cells, width.values()))

    text = ['-' * table_width, line('Layer (type)', 'Input Shape', 'Output Shape', 'Param #'),
            '=' * table_width]
    total_output = 0
    for row in rows:
        text.append(line(row.name, str(row.input_shape), str(row.output_shape),
                         f'{row.params:,}'))
        try:
            total_output += np.sum(np.prod(row.output_shape, axis=-1))
        except ValueError:      # several outputs of different ranks
            for shape in row.output_shape:
                total_output += np.sum(np.prod(shape, axis=-1))
    total_params, trainable_params = profile.params, profile.trainable_params
    input_size = abs(np.prod(profile.input_shape) * 4.0 / (1024 ** 2.0))
    output_size = abs(2.0 * total_output * 4.0 / (1024 ** 2.0))     # x2 for gradients
    params_size = abs(total_params * 4.0 / (1024 ** 2.0))
    text += ['=' * table_width,
             f'Total params: {total_params:,}',
             f'Trainable params: {trainable_params:,}',
             f'Non-trainable params: {total_params - trainable_params:,}',
             '-' * table_width,
             f'Input size (MB): {input_size:0.2f}',
             f'Forward/backward pass size (MB): {output_size:0.2f}',
             f'Params size (MB): {params_size:0.2f}',
             f'Estimated Total Size (MB): {params_size + output_size + input_size:0.2f}',
             '-' * table_width]
    return '\n'.join(text) + '\n', {'total_params': total_params,
                                    'trainable_params': trainable_params}
