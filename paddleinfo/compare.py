"""Two models side by side, row by row: the layers of each aligned by module path
(`layer1.0.conv1` with `layer1.0.conv1`) or by their order in the forward pass, with
their parameters, MACs and output shapes, and what differs.

    from paddleinfo import diff, summary
    table = diff(summary(resnet18, (1, 3, 224, 224), verbose=0),
                 summary(resnet34, (1, 3, 224, 224), verbose=0))
    table.changed          # the rows that differ
    print(table)           # or table.render('markdown')
"""
import itertools
from typing import Any

from paddleinfo.render import Table, fit, readable, render
from paddleinfo.result import Profile
from paddleinfo.tables import count_of
from paddleinfo.view import count_label

__all__ = ['ALIGNMENTS', 'diff_table', 'diff_view']

ALIGNMENTS = ('path', 'order')


def layer_rows(result: Profile) -> list[dict[str, Any]]:
    """One dict per row of the per-layer table, with the row's module path."""
    paths = {layer: path for path, layer in result.model.named_sublayers()}
    return [{'path': paths.get(row.layer, row.name), 'layer': type(row.layer).__name__,
             'name': row.name, 'params': row.params, 'macs': row.macs,
             'output_shape': row.output_shape} for row in result.rows]


def diff_table(first: Profile, second: Profile, names: tuple[str, str],
               by: str = 'path') -> dict[str, Any]:
    """The rows of two models aligned `by` 'path' (the same module path; a path only one
    model has is a row of its own, where it comes in that model's order) or 'order' (the
    first row with the first, and so on), and what differs in each: the layer's type, its
    params, its MACs, its output shape."""
    rows_a, rows_b = layer_rows(first), layer_rows(second)
    pairs: list[tuple[dict[str, Any] | None, dict[str, Any] | None]]
    if by == 'order':
        pairs = list(itertools.zip_longest(rows_a, rows_b))
    else:
        in_b = {row['path']: row for row in rows_b}
        in_a = {row['path'] for row in rows_a}
        pairs, taken = [], 0
        for row in rows_a:
            match = in_b.get(row['path'])
            if match is not None:
                # The second model's rows before the match that the first has not: theirs.
                position = rows_b.index(match)
                pairs += [(None, other) for other in rows_b[taken:position]
                          if other['path'] not in in_a]
                taken = max(taken, position + 1)
            pairs.append((row, match))
        pairs += [(None, other) for other in rows_b[taken:] if other['path'] not in in_a]
    rows = []
    for a, b in pairs:
        what = []
        if a is None or b is None:
            what.append(f'only in {names[0] if b is None else names[1]}')
        else:
            for key, word in (('layer', 'type'), ('params', 'params'), ('macs', 'MACs'),
                              ('output_shape', 'shape')):
                if a[key] != b[key]:
                    what.append(word)
        rows.append({'path': (a or b or {}).get('path', ''), 'first': a, 'second': b,
                     'differs': what})
    count = count_of(first)
    return {'view': 'diff', 'names': list(names), 'by': by, 'count': count, 'rows': rows,
            'totals': {'first': {'params': first.params, 'macs': first.macs,
                                 'input_shapes': first.input_shapes},
                       'second': {'params': second.params, 'macs': second.macs,
                                  'input_shapes': second.input_shapes}}}


def signed(value: int) -> str:
    return '0' if not value else f'{"+" if value > 0 else "-"}{abs(value):,}'


def diff_view(data: dict[str, Any]) -> Table:
    label = count_label(data.get('count', 'macs'))
    first, second = data['names']
    header = ['Path (type)', 'Params A', 'Params B', f'{label} A', f'{label} B',
              'Output shape A / B', 'Differs']
    body, csv_rows = [], []
    for row in data['rows']:
        a, b = row['first'], row['second']
        kinds = [item['layer'] for item in (a, b) if item]
        kind = kinds[0] if len(set(kinds)) == 1 else ' / '.join(kinds)
        shapes = [str(item['output_shape']) if item else '-' for item in (a, b)]
        body.append([f'{row["path"]} ({kind})',
                     f'{a["params"]:,}' if a else '-', f'{b["params"]:,}' if b else '-',
                     readable(a['macs']) if a and a['macs'] else '-',
                     readable(b['macs']) if b and b['macs'] else '-',
                     shapes[0] if shapes[0] == shapes[1] else f'{shapes[0]} / {shapes[1]}',
                     ', '.join(row['differs'])])
        csv_rows.append({'path': row['path'], 'type_a': a['layer'] if a else '',
                         'type_b': b['layer'] if b else '',
                         'params_a': a['params'] if a else '', 'params_b': b['params'] if b else '',
                         'macs_a': (a['macs'] or 0) if a else '', 'macs_b': (b['macs'] or 0) if b else '',
                         'output_shape_a': shapes[0] if a else '',
                         'output_shape_b': shapes[1] if b else '',
                         'differs': '; '.join(row['differs'])})
    totals = data['totals']
    if not csv_rows:
        csv_rows.append({'path': ''})
    header, body = fit(header, body, {0: 'text', 5: 'text', 6: 'text'})
    changed = sum(bool(row['differs']) for row in data['rows'])
    notes = [f'A: {first}, input {", ".join(map(str, totals["first"]["input_shapes"]))}; '
             f'B: {second}, input {", ".join(map(str, totals["second"]["input_shapes"]))}.',
             f'Params: {totals["first"]["params"]:,} against {totals["second"]["params"]:,} '
             f'({signed(totals["second"]["params"] - totals["first"]["params"])}). '
             f'{label}: {totals["first"]["macs"]:,} against {totals["second"]["macs"]:,} '
             f'({signed(totals["second"]["macs"] - totals["first"]["macs"])}).',
             f'{changed} of {len(data["rows"])} rows differ; rows aligned by '
             f'{"module path" if data["by"] == "path" else "their order in the forward pass"}.']
    return f'{first} against {second}, row by row', header, body, csv_rows, notes


def diff_text(data: dict[str, Any], fmt: str) -> str:
    return render(data, diff_view, fmt)
