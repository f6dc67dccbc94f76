"""Tables of any paddle.nn.Layer from its Profile: the per-layer table with MACs,
trainable tensors and output-size formulas, and the table grouped by nesting depth.
Knows nothing of ResNet; each table is `data` (for --format json) and a `*_view`
function for paddleinfo.render.
"""
import functools
from typing import Any

from paddleinfo.macs import MACS_CONVENTION, uncounted
from paddleinfo.naming import summary_name
from paddleinfo.result import Profile
from paddleinfo.render import Table, fit, gmacs, paddle_notes, render, summary_text
from paddleinfo.view import View


def totals(result: Profile) -> dict[str, int]:
    return {'params': result.params, 'trainable_params': result.trainable_params,
            'non_trainable_params': result.params - result.trainable_params,
            'macs': result.macs}


def uncounted_note(result: Profile) -> str | None:
    """The sentence naming the layers that do work the MACs convention leaves out, or None."""
    names = uncounted(result.order)
    if not names:
        return None
    return f'Not counted in the MACs (see the convention): {", ".join(names)}.'


def operators_note(result: Profile) -> str | None:
    """The sentence naming the operators the count has no rule for, or None."""
    if not result.uncounted_ops:
        return None
    named = '; '.join(f'{name} (in {", ".join(layers[:3])}{" ..." if len(layers) > 3 else ""})'
                      for name, layers in result.uncounted_ops.items())
    return f'Operators with no MACs rule, not counted: {named}.'


def outside_note(result: Profile) -> str | None:
    """The sentence on products run in a forward() of a layer that has no row (the
    model's own, a container's): in the total, in no row."""
    outside = result.unshown_macs()
    if not outside:
        return None
    where = ', '.join(f'{macs:,} in {type(layer).__name__}.forward'
                      + (f' ({summary_name(layer)})' if layer is not result.model else '')
                      for layer, macs in outside.items())
    return (f'The total includes MACs of products run outside the layers that have rows: '
            f'{where}.')


def eager_note(result: Profile) -> str | None:
    if not result.eager:
        return None
    return ('The model could not be traced without running it (it reads tensor values, '
            'in its forward pass or as it is built), so it ran once in the dynamic graph; '
            'its MACs are those of its convs, Linear, RNN and MultiHeadAttention layers, '
            'and products of functional calls (paddle.matmul ...) are not counted.')


def notes(result: Profile, convention: str = MACS_CONVENTION) -> list[str]:
    return [note for note in (convention, uncounted_note(result), operators_note(result),
                              outside_note(result), eager_note(result)) if note]


def batch_of(result: Profile) -> int:
    return result.input_shape[0] if result.input_shape else 1


# --- the per-layer table ------------------------------------------------------------

def layer_table(result: Profile, network: str, variant: str | None = None,
                convention: str = MACS_CONVENTION) -> dict[str, Any]:
    """The per-layer table of paddle.summary for a Profile, with MACs, trainable tensors
    and formulas.  `network` and `variant` are for the title (variant None: no variant);
    `convention` is the note that says what the MACs count."""
    rows = [{'layer': row.name, 'input_shape': row.input_shape,
             'output_shape': row.output_shape, 'params': row.params,
             'trainable_params': row.trainable_params, 'trainable': row.trainable,
             'non_trainable': row.frozen, 'macs': row.macs, 'formula': row.formula}
            for row in result.rows]
    return {'view': 'layers', 'network': network, 'variant': variant,
            'input_shape': result.input_shape, 'output_shape': result.output_shape,
            **several_inputs(result), 'batch': batch_of(result),
            'rows': rows, 'totals': totals(result), 'notes': notes(result, convention),
            'params_notes': paddle_notes(result)}


def several_inputs(result: Profile) -> dict[str, Any]:
    """The shapes and dtypes of every input, for a model of more than one (or not float32)."""
    inputs = getattr(result, 'inputs', [])
    if len(inputs) < 2 and all(item.dtype == 'float32' and not item.keyword for item in inputs):
        return {}
    return {'input_shapes': [list(item.shape) for item in inputs],
            'input_dtypes': [item.dtype for item in inputs],
            'input_names': [item.keyword for item in inputs]}


def names_text(names: list[str]) -> str:
    # An RNN layer has a weight and two biases per gate set, layer and direction: more
    # than four names are told as a number.
    return ', '.join(names) if len(names) <= 4 else f'{len(names)} tensors'


def trainable_text(row: dict[str, Any]) -> str:
    if not row['trainable'] and not row['non_trainable']:
        return ''
    frozen = f' (not {names_text(row["non_trainable"])})' if row['non_trainable'] else ''
    return (names_text(row['trainable']) or 'none') + frozen


def total_lines(data: dict[str, Any], macs: bool) -> str:
    numbers = data['totals']
    lines = [f'Total params: {numbers["params"]:,}',
             f'Trainable params: {numbers["trainable_params"]:,}',
             f'Non-trainable params: {numbers["non_trainable_params"]:,}']
    if macs:
        lines.append(f'Total MACs at batch {data.get("batch", 1)}: {numbers["macs"]:,} '
                     f'({gmacs(numbers["macs"], 2)} G)')
    return '\n'.join(lines)


def title(data: dict[str, Any]) -> str:
    variant = f' ({data["variant"]})' if data.get('variant') else ''
    if 'input_shapes' not in data:
        return f'{data["network"]}{variant}, input {data["input_shape"]}'
    inputs = ', '.join(f'{name + "=" if name else ""}{shape} {dtype}' for shape, dtype, name in
                       zip(data['input_shapes'], data['input_dtypes'], data['input_names']))
    return f'{data["network"]}{variant}, input{"s" * (len(data["input_shapes"]) > 1)} {inputs}'


def inputs_text(shapes: Any) -> str:
    """A layer's inputs as a table of ours shows them: the shape of a single input as
    it is, several as their list (paddle.summary's own table always shows the list)."""
    if isinstance(shapes, list) and len(shapes) == 1 and isinstance(shapes[0], list):
        return str(shapes[0])
    return str(shapes)


def layer_view(data: dict[str, Any], macs: bool = False, explain: bool = False) -> Table:
    header = ['Layer (type)', 'Input Shape', 'Output Shape', 'Param #']
    if macs:
        header += ['Trainable', 'MACs']
    if explain:
        header += ['Output size']
    body, csv_rows = [], []
    for row in data['rows']:
        line = [row['layer'], inputs_text(row['input_shape']), str(row['output_shape']),
                f'{row["params"]:,}']
        record = {'layer': row['layer'], 'input_shape': str(row['input_shape']),
                  'output_shape': str(row['output_shape']), 'params': row['params']}
        if macs:
            line += [trainable_text(row), '-' if row['macs'] is None else f'{row["macs"]:,}']
            record.update(trainable_params=row['trainable_params'],
                          trainable=trainable_text(row),
                          macs='' if row['macs'] is None else row['macs'])
        if explain:
            line.append(row['formula'] or '')
            record['formula'] = row['formula'] or ''
        body.append(line)
        csv_rows.append(record)
    numbers = data['totals']
    total = {'layer': 'total', 'input_shape': '', 'output_shape': '', 'params': numbers['params']}
    if macs:
        total.update(trainable_params=numbers['trainable_params'], trainable='',
                     macs=numbers['macs'])
    if explain:
        total['formula'] = ''
    csv_rows.append(total)
    # To fit 100 columns, shapes break between shapes, tensor names at spaces, formulas
    # before their result.
    kinds = {1: 'shapes', 2: 'shapes', header.index('Trainable') if macs else None: 'text',
             header.index('Output size') if explain else None: 'formula'}
    header, body = fit(header, body, kinds)
    return (title(data), header, body, csv_rows,
            [total_lines(data, macs)] + data.get('params_notes', []) + (data['notes'] if macs else []))


# --- the table grouped by nesting depth ---------------------------------------------

def depth_table(result: Profile, network: str, depth: int, variant: str | None = None,
                convention: str = MACS_CONVENTION) -> dict[str, Any]:
    """One row per sublayer down to `depth` levels of nesting, in the order the forward
    pass first reaches them, as torchinfo's `depth` does.  The rows follow the tree of
    sublayers, containers included: a LayerList, which is never called itself, has a
    row where its first sublayer runs, with no shapes.  A row's params and MACs are its
    own plus those of every sublayer folded into it (deeper than `depth`); a row whose
    sublayers have rows of their own keeps only its own, so the rows add up to the
    totals."""
    paths = {layer: path for path, layer in result.model.named_sublayers()}
    layers = {path: layer for layer, path in paths.items()}
    # Every prefix of a path is the path of a sublayer: its ancestors, shown first.
    shown: dict[str, None] = {}
    for layer in (layer for layer in result.order if layer in paths):
        parts = paths[layer].split('.')
        for cut in range(1, min(len(parts), depth) + 1):
            shown.setdefault('.'.join(parts[:cut]), None)
    sums: dict[str, dict[str, Any]] = {path: {'params': 0, 'trainable_params': 0, 'macs': None}
                                       for path in shown}
    for row in result.rows:
        if row.layer not in paths:
            continue
        # The deepest shown ancestor (or the layer itself) takes its numbers.
        total = sums['.'.join(paths[row.layer].split('.')[:depth])]
        total['params'] += row.params
        total['trainable_params'] += row.trainable_params
        if row.macs is not None:
            total['macs'] = (total['macs'] or 0) + row.macs
    rows: list[dict[str, Any]] = []
    for path in shown:
        layer = layers[path]
        inputs, output, _, calls = result.calls.get(layer, (None, None, None, 0))
        # A row whose sublayers have rows of their own: its numbers are theirs.
        expanded = any(other.startswith(path + '.') for other in shown)
        rows.append({'layer': f'{type(layer).__name__}', 'path': path,
                     'depth': path.count('.') + 1, 'input_shape': inputs,
                     'output_shape': output, 'calls': calls, 'expanded': expanded,
                     **sums[path]})
    return {'view': 'depth', 'network': network, 'variant': variant, 'depth': depth,
            'input_shape': result.input_shape, 'output_shape': result.output_shape,
            **several_inputs(result), 'batch': batch_of(result),
            'rows': rows, 'totals': totals(result), 'notes': notes(result, convention),
            'params_notes': paddle_notes(result)}


def shape_text(shape: Any) -> str:
    # A container that is never called (a LayerList) has no shapes of its own.
    return '--' if shape is None else str(shape)


def depth_view(data: dict[str, Any]) -> Table:
    # As torchinfo's table: the output shapes, not the inputs (the title has the model's),
    # so that it fits 100 columns; csv and json have the inputs too.
    header = ['Layer (type): path', 'Output Shape', 'Param #', 'MACs']
    body, csv_rows = [], []
    for row in data['rows']:
        indent = '  ' * (row['depth'] - 1)
        # As torchinfo: '--' where the numbers are in the rows below.
        params = '--' if row['expanded'] and not row['params'] else f'{row["params"]:,}'
        macs = ('--' if row['expanded'] else '-') if row['macs'] is None else f'{row["macs"]:,}'
        body.append([f'{indent}{row["layer"]}: {row["path"]}', shape_text(row['output_shape']),
                     params, macs])
        csv_rows.append({'layer': row['layer'], 'path': row['path'], 'depth': row['depth'],
                         'input_shape': shape_text(row['input_shape']),
                         'output_shape': shape_text(row['output_shape']), 'params': row['params'],
                         'trainable_params': row['trainable_params'],
                         'macs': '' if row['macs'] is None else row['macs']})
    numbers = data['totals']
    csv_rows.append({'layer': 'total', 'path': '', 'depth': '', 'input_shape': '',
                     'output_shape': '', 'params': numbers['params'],
                     'trainable_params': numbers['trainable_params'], 'macs': numbers['macs']})
    heading = f'{title(data)}, depth {data["depth"]}'
    header, body = fit(header, body, {1: 'shapes'})
    return (heading, header, body, csv_rows,
            [total_lines(data, True)] + data.get('params_notes', []) + data['notes'])


# --- the table a View asks for ------------------------------------------------------

def view_text(result: Profile, network: str, view: View, variant: str | None = None,
              convention: str = MACS_CONVENTION) -> str:
    """The table of a Profile that `view` asks for, as text: one row per sublayer to
    view.depth, paddle.summary's own, or the per-layer table with MACs or formulas."""
    if view.depth is not None:
        return render(depth_table(result, network, view.depth, variant, convention),
                      depth_view, view.fmt)
    if view.paddle_summary:
        return summary_text(result)[0]
    return render(layer_table(result, network, variant, convention),
                  functools.partial(layer_view, macs=view.macs, explain=view.explain), view.fmt)
