"""Tables of any paddle.nn.Layer from its Profile: the per-layer table with MACs,
trainable tensors and output-size formulas, and the table grouped by nesting depth.
Knows nothing of ResNet; each table is `data` (for --format json) and a `*_view`
function for paddleinfo.render.
"""
import functools
import math
from typing import Any

from paddleinfo.macs import MACS_CONVENTION, uncounted
from paddleinfo.naming import summary_name
from paddleinfo.receptive import field_text, geometry, kernel_text, receptive_fields
from paddleinfo.conventions import CONVENTIONS
from paddleinfo.result import Profile
from paddleinfo.render import (Table, fit, memory_mb, paddle_notes, percent, readable, render,
                               summary_text)
from paddleinfo.view import COLUMNS, View, count_label


def conventions() -> dict[str, str]:
    """{name: the rules it counts by} of every counting convention."""
    return dict(CONVENTIONS)


def count_of(result: Profile) -> str:
    """The convention a Profile was counted in: 'macs', 'flops', 'full'."""
    return result.count


def convention_text(result: Profile, convention: str = MACS_CONVENTION) -> str:
    """The note that states what the count counts: `convention` for MACs (a caller's own
    wording of it, as the ResNet tables' paper convention), else the convention's rules."""
    count = count_of(result)
    return convention if count == 'macs' else conventions().get(count, convention)


def mode_note(mode: str) -> str | None:
    if mode != 'train':
        return None
    return ('Traced in train mode (mode=\'train\'): dropout and BatchNorm as in training; '
            'the layers\' modes are put back after.')


def status_of(result: Profile) -> dict[str, Any]:
    """The completeness contract (Completeness.to_dict()): whether the count is whole."""
    return result.status.to_dict()


def by_operator(result: Profile) -> dict[str, int]:
    """{operator name: its count} (fvcore's by_operator), largest first."""
    return dict(sorted(result.by_operator.items(), key=lambda item: (-item[1], item[0])))


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
    why = f' ({result.fallback})' if result.fallback else ''
    text = (f'The model could not be traced without running it{why}, so it ran once in the '
            f'dynamic graph, and its MACs are those of the products it ran (paddleinfo.eager)')
    if result.estimate:
        return f'{text}. An estimate: {result.estimate}.'
    return text + '.'


def notes(result: Profile, convention: str = MACS_CONVENTION, mode: str = 'eval') -> list[str]:
    count = count_of(result)
    layers = uncounted_note(result) if count in ('macs', 'flops') else None
    if layers and count != 'macs':
        layers = layers.replace('in the MACs', f'in the {count_label(count)}')
    return [note for note in (convention_text(result, convention), layers,
                              operators_note(result), outside_note(result), eager_note(result),
                              mode_note(mode)) if note]


def incomplete(result: Profile) -> str | None:
    """One line saying why the count is not the whole of its convention (the operators
    with no rule and the layers that ran them, or the branch that makes it one path's),
    or None where it is whole: what strict=True and --strict raise."""
    status = status_of(result)
    if status.get('complete', True):
        return None
    label = count_label(count_of(result))
    parts = []
    left_out = status.get('left_out') or {}
    if left_out:
        named = '; '.join(f'{name} (in {", ".join(layers[:3])}{" ..." if len(layers) > 3 else ""})'
                          for name, layers in left_out.items())
        parts.append(f'operators with no rule were left out: {named}; count them with '
                     f'rules={{name: function}} (--rules MODULE:NAME)')
    if status.get('estimate'):
        parts.append(f'the count is one path\'s: {status["estimate"]}')
    reason = ' '.join(' '.join(parts).split()) or 'it is not whole'
    return f'the {label} are not the whole count (strict): {reason}'


def trace_data(result: Profile) -> dict[str, Any]:
    """What every table of one model adds to its data: the convention, the completeness
    contract and the count by operator."""
    return {'count': count_of(result), 'status': status_of(result),
            'by_operator': by_operator(result)}


def batch_of(result: Profile) -> int:
    return result.input_shape[0] if result.input_shape else 1


# --- the per-layer table ------------------------------------------------------------

def layer_table(result: Profile, network: str, variant: str | None = None,
                convention: str = MACS_CONVENTION, *, columns: tuple[str, ...] | None = None,
                weights: bool = False, mode: str = 'eval') -> dict[str, Any]:
    """The per-layer table of paddle.summary for a Profile, with MACs, trainable tensors
    and formulas.  `network` and `variant` are for the title (variant None: no variant);
    `convention` is the note that says what the MACs count.  `columns` (names of
    paddleinfo.view.COLUMNS) adds what they need to each row (path, kernel_size,
    groups, params_percent, receptive_field, effective_stride); `weights` each layer's
    tensors ('weights': [{name, shape, params, trainable}])."""
    rows = [{'layer': row.name, 'input_shape': row.input_shape,
             'output_shape': row.output_shape, 'params': row.params,
             'trainable_params': row.trainable_params, 'trainable': row.trainable,
             'non_trainable': row.frozen, 'macs': row.macs, 'formula': row.formula}
            for row in result.rows]
    if columns:
        more = column_data(result, columns)
        for row, extra in zip(rows, more):
            row.update(extra)
    if weights:
        for row, layer_row in zip(rows, result.rows):
            row['weights'] = [{'name': name, 'shape': list(tensor.shape),
                               'params': math.prod(tensor.shape),
                               'trainable': name in layer_row.trainable}
                              for name, tensor in layer_row.layer._parameters.items()
                              if tensor is not None]
    return {'view': 'layers', 'network': network, 'variant': variant,
            'input_shape': result.input_shape, 'output_shape': result.output_shape,
            **several_inputs(result), 'batch': batch_of(result),
            'rows': rows, 'totals': totals(result),
            'notes': notes(result, convention, mode), 'params_notes': paddle_notes(result),
            'memory_mb': memory_mb(result, by_dtype=True),
            **({'columns': list(columns)} if columns else {}), **trace_data(result)}


def column_data(result: Profile, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """What the chosen columns need of each row beyond paddle.summary's data."""
    paths = {layer: path for path, layer in result.model.named_sublayers()}
    fields = receptive_fields(result) if {'receptive_field', 'effective_stride'} & set(columns) else {}
    total = result.params
    extra: list[dict[str, Any]] = []
    for row in result.rows:
        item: dict[str, Any] = {}
        if 'path' in columns:
            item['path'] = paths.get(row.layer, '')
        if 'kernel_size' in columns:
            item['kernel_size'] = kernel_text(row.layer)
        if 'groups' in columns:
            groups = getattr(row.layer, '_groups', None)
            item['groups'] = groups if isinstance(groups, int) else None
        if 'params_percent' in columns:
            item['params_percent'] = percent(row.params, total)
        if 'receptive_field' in columns or 'effective_stride' in columns:
            field = fields.get(row.layer)
            item['receptive_field'] = list(field[0]) if field else None
            item['effective_stride'] = list(field[1]) if field else None
        extra.append(item)
    return extra


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
        lines.append(f'Total {count_label(data.get("count", "macs"))} at batch '
                     f'{data.get("batch", 1)}: {numbers["macs"]:,}{short(numbers["macs"])}')
    return '\n'.join(lines)


def short(value: int) -> str:
    """' (1.70 K)' after an exact figure of 1,000 or more, in the unit of its size."""
    return f' ({readable(value)})' if abs(value) >= 1000 else ''


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


def layer_view(data: dict[str, Any], macs: bool = False, explain: bool = False,
               columns: tuple[str, ...] | None = None) -> Table:
    """The per-layer table: paddle.summary's columns, with Trainable and MACs (`macs`)
    and the output size's formula (`explain`), or the `columns` of the user's choice
    (names of paddleinfo.view.COLUMNS; by default those the data was made with).  Rows
    that have 'weights' (verbose=2) are followed by one line per tensor."""
    chosen = columns or tuple(data.get('columns') or ())
    if chosen:
        return chosen_view(data, chosen)
    label = count_label(data.get('count', 'macs'))
    header = ['Layer (type)', 'Input Shape', 'Output Shape', 'Param #']
    if macs:
        header += ['Trainable', label]
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
        body += weight_lines(row, len(header), 3)
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


def weight_lines(row: dict[str, Any], width: int, params_column: int | None) -> list[list[str]]:
    """The lines under a row for its tensors (verbose=2, --weights): '  └─weight [64, 3,
    7, 7]', with the count under Param #."""
    lines = []
    tensors = row.get('weights') or []
    for index, tensor in enumerate(tensors):
        branch = '└─' if index == len(tensors) - 1 else '├─'
        line = [''] * width
        frozen = '' if tensor['trainable'] else ' (frozen)'
        line[0] = f'  {branch}{tensor["name"]} {tensor["shape"]}{frozen}'
        if params_column is not None:
            line[params_column] = f'{tensor["params"]:,}'
        lines.append(line)
    return lines


def column_cell(row: dict[str, Any], name: str) -> tuple[str, Any]:
    """(the cell, the csv value) of a row in the column `name`."""
    value: Any
    if name == 'input_size':
        return inputs_text(row['input_shape']), str(row['input_shape'])
    if name == 'output_size':
        return str(row['output_shape']), str(row['output_shape'])
    if name == 'num_params':
        return f'{row["params"]:,}', row['params']
    if name == 'params_percent':
        return f'{row["params_percent"]:.1f} %', row['params_percent']
    if name == 'kernel_size':
        return row['kernel_size'] or '-', row['kernel_size']
    if name == 'groups':
        value = row['groups']
        return ('-' if value is None else str(value)), ('' if value is None else value)
    if name == 'trainable':
        return trainable_text(row), trainable_text(row)
    if name == 'mult_adds':
        value = row['macs']
        return ('-' if value is None else f'{value:,}'), ('' if value is None else value)
    if name == 'path':
        return row['path'], row['path']
    if name == 'formula':
        return row['formula'] or '', row['formula'] or ''
    value = row[name]     # receptive_field, effective_stride: one per spatial axis
    return ('-' if value is None else field_text(tuple(value))), (
        '' if value is None else field_text(tuple(value)))


COLUMN_KINDS = {'input_size': 'shapes', 'output_size': 'shapes', 'trainable': 'text',
                'formula': 'formula'}


def chosen_view(data: dict[str, Any], columns: tuple[str, ...]) -> Table:
    label = count_label(data.get('count', 'macs'))
    header = ['Layer (type)'] + [label if name == 'mult_adds' else COLUMNS[name]
                                 for name in columns]
    body, csv_rows = [], []
    for row in data['rows']:
        cells = [column_cell(row, name) for name in columns]
        body.append([row['layer']] + [cell for cell, _ in cells])
        body += weight_lines(row, len(header), 1 + columns.index('num_params')
                             if 'num_params' in columns else None)
        csv_rows.append({'layer': row['layer'], **{name: value for name, (_, value)
                                                    in zip(columns, cells)}})
    numbers = data['totals']
    totals_row = {'num_params': numbers['params'], 'mult_adds': numbers['macs'],
                  'params_percent': 100.0 if numbers['params'] else 0.0}
    csv_rows.append({'layer': 'total', **{name: totals_row.get(name, '') for name in columns}})
    kinds: dict[int | None, str] = {1 + index: COLUMN_KINDS[name] for index, name in enumerate(columns)
             if name in COLUMN_KINDS}
    header, body = fit(header, body, kinds)
    counted = 'mult_adds' in columns
    return (title(data), header, body, csv_rows,
            [total_lines(data, counted)] + data.get('params_notes', [])
            + (data['notes'] if counted else []))


# --- the table grouped by nesting depth ---------------------------------------------

def depth_table(result: Profile, network: str, depth: int, variant: str | None = None,
                convention: str = MACS_CONVENTION, mode: str = 'eval') -> dict[str, Any]:
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
            'rows': rows, 'totals': totals(result), 'notes': notes(result, convention, mode),
            'params_notes': paddle_notes(result), **trace_data(result)}


def shape_text(shape: Any) -> str:
    # A container that is never called (a LayerList) has no shapes of its own.
    return '--' if shape is None else str(shape)


def depth_view(data: dict[str, Any]) -> Table:
    # As torchinfo's table: the output shapes, not the inputs (the title has the model's),
    # so that it fits 100 columns; csv and json have the inputs too.
    header = ['Layer (type): path', 'Output Shape', 'Param #',
              count_label(data.get('count', 'macs'))]
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


# --- the count by operator ---------------------------------------------------------

def operators_table(result: Profile, network: str, mode: str = 'eval') -> dict[str, Any]:
    """The count by operator, as fvcore's by_operator: {operator name: count}, with each
    one's share of the total."""
    found = by_operator(result)
    whole = sum(found.values())
    rows = [{'operator': name, 'macs': value, 'share_percent': percent(value, whole)}
            for name, value in found.items()]
    return {'view': 'operators', 'network': network, 'input_shape': result.input_shape,
            **several_inputs(result), 'batch': batch_of(result), 'rows': rows,
            'totals': totals(result), 'notes': notes(result, MACS_CONVENTION, mode),
            **trace_data(result)}


def operators_view(data: dict[str, Any]) -> Table:
    label = count_label(data.get('count', 'macs'))
    body = [[row['operator'], f'{row["macs"]:,}', readable(row['macs']),
             f'{row["share_percent"]:.1f} %'] for row in data['rows']]
    counted = sum(row['macs'] for row in data['rows'])
    body.append(['total', f'{counted:,}', readable(counted), '100.0 %' if counted else '-'])
    csv_rows = [{'operator': row['operator'], 'macs': row['macs'],
                 'share_percent': row['share_percent']} for row in data['rows']]
    csv_rows.append({'operator': 'total', 'macs': counted, 'share_percent': 100.0 if counted else ''})
    lines = []
    if counted != data['totals']['macs']:
        lines.append(f'The operators add up to {counted:,}; the total of the layers is '
                     f'{data["totals"]["macs"]:,}.')
    return (f'{title(data)}: {label} by operator', ['Operator', label, 'Readable', 'Share'],
            body, csv_rows, lines + data['notes'])


# --- the receptive field ------------------------------------------------------------

def receptive_table(result: Profile, network: str, depth: int | None = None) -> dict[str, Any]:
    """Every layer's receptive field and effective stride (jump) on the input, or, to
    `depth`, every sublayer's (a stage's is that of the last layer in it to run): see
    paddleinfo.receptive for how they are worked out."""
    fields = receptive_fields(result)
    paths = {layer: path for path, layer in result.model.named_sublayers()}
    rows: list[dict[str, Any]] = []
    if depth is None:
        for row in result.rows:
            field = fields.get(row.layer)
            rows.append({'layer': row.name, 'path': paths.get(row.layer, ''),
                         'kernel_size': kernel_text(row.layer),
                         'stride': stride_text(row.layer),
                         'output_shape': row.output_shape,
                         'receptive_field': list(field[0]) if field else None,
                         'effective_stride': list(field[1]) if field else None})
    else:
        last: dict[str, Any] = {}
        for layer, field in fields.items():
            if layer in paths:
                last['.'.join(paths[layer].split('.')[:depth])] = (layer, field)
        for path, (layer, field) in last.items():
            group = result.model
            for part in path.split('.'):
                group = getattr(group, part, None) or group._sub_layers[part]
            rows.append({'layer': type(group).__name__, 'path': path,
                         'kernel_size': kernel_text(group), 'stride': stride_text(group),
                         'output_shape': result.calls[layer][1],
                         'receptive_field': list(field[0]), 'effective_stride': list(field[1])})
    note = ('Receptive field: how many input values along each axis one output value sees; '
            'jump: how far apart on the input two neighbouring outputs are. Worked out from '
            'the layers in the order the forward pass calls them: a conv or pool of kernel '
            'k, stride s, dilation d makes (rf, jump) into (rf + d (k - 1) jump, jump s); '
            'where branches meet, the largest is taken.')
    if not fields:
        note = 'The model has no conv or pool: a receptive field says nothing of it.'
    return {'view': 'receptive', 'network': network, 'input_shape': result.input_shape,
            **several_inputs(result), 'depth': depth, 'rows': rows, 'notes': [note]}


def stride_text(layer: Any) -> str:
    found = geometry(layer) if kernel_text(layer) else None
    return 'x'.join(map(str, found[1])) if found else ''


def receptive_view(data: dict[str, Any]) -> Table:
    header = ['Layer (type)', 'Path', 'Kernel', 'Stride', 'Output Shape', 'Receptive field',
              'Jump']
    body, csv_rows = [], []
    for row in data['rows']:
        rf, jump = row['receptive_field'], row['effective_stride']
        cells = [row['layer'], row['path'], row['kernel_size'] or '-', row['stride'] or '-',
                 str(row['output_shape']), '-' if rf is None else field_text(tuple(rf)),
                 '-' if jump is None else field_text(tuple(jump))]
        body.append(cells)
        csv_rows.append(dict(zip(('layer', 'path', 'kernel_size', 'stride', 'output_shape',
                                  'receptive_field', 'effective_stride'),
                                 cells[:4] + [cells[4]] + cells[5:])))
    if not csv_rows:
        csv_rows.append({'layer': ''})
    header, body = fit(header, body, {4: 'shapes'})
    heading = title(data) + (f', depth {data["depth"]}' if data.get('depth') else '')
    return f'{heading}: receptive fields', header, body, csv_rows, data['notes']


# --- the table a View asks for ------------------------------------------------------

def view_text(result: Profile, network: str, view: View, variant: str | None = None,
              convention: str = MACS_CONVENTION, mode: str = 'eval') -> str:
    """The table of a Profile that `view` asks for, as text: one row per sublayer to
    view.depth, paddle.summary's own, the per-layer table with MACs, formulas or the
    columns of the user's choice, or one of view.table's (operators, parameters,
    receptive)."""
    if view.table == 'operators':
        return render(operators_table(result, network, mode), operators_view, view.fmt)
    if view.table == 'receptive':
        return render(receptive_table(result, network, view.depth), receptive_view, view.fmt)
    if view.table == 'parameters':
        from paddleinfo.parameters import parameter_table, parameters_view
        return render(parameter_table(result.model, network, view.depth, view.weights),
                      parameters_view, view.fmt)
    if view.depth is not None:
        return render(depth_table(result, network, view.depth, variant, convention, mode),
                      depth_view, view.fmt)
    if view.paddle_summary:
        return summary_text(result)[0]
    return render(layer_table(result, network, variant, convention, columns=view.columns,
                              weights=view.weights, mode=mode),
                  functools.partial(layer_view, macs=view.macs, explain=view.explain), view.fmt)
