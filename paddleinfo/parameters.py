"""The parameters of a model by module path, as fvcore's parameter_count_table and
torchinfo without an input: no input, no trace, nothing run.  Every sublayer that holds
parameters has a row (`layer1.0.conv1`), indented by its depth, with the parameters of
everything under it; each tensor is counted once (a tensor shared by two layers, in the
first), so the model's row is model.parameters()'s total.

    table = parameter_table(model, 'ResNet', depth=2)      # data, for --format json
    render(table, parameters_view, 'plain')
"""
import math
from collections.abc import Callable
from typing import Any

from paddle import nn

from paddleinfo.graph import build, quiet, static_graph
from paddleinfo.render import Table, fit, percent
from paddleinfo.result import trainable

__all__ = ['model_parameters', 'parameter_table', 'parameters_view']


def model_parameters(source: nn.Layer | Callable[[], object], network: str | None = None,
                     depth: int | None = None, weights: bool = False) -> dict[str, Any]:
    """parameter_table of a built model, or of a factory's, built in the static graph
    (no weight is initialised)."""
    if isinstance(source, nn.Layer):
        return parameter_table(source, network or type(source).__name__, depth, weights)
    with quiet(), static_graph():
        model = build(source)
        return parameter_table(model, network or type(model).__name__, depth, weights)


def parameter_table(model: nn.Layer, network: str, depth: int | None = None,
                    weights: bool = False) -> dict[str, Any]:
    """One row per sublayer holding parameters, to `depth` levels (None: all), the model
    first (depth 0), with the count of everything under it and its share of the total;
    with `weights`, each row's own tensors (name, shape, count)."""
    owner: dict[int, str] = {}            # each tensor's first holder, as model.parameters()
    for name, tensor in model.named_parameters():
        owner.setdefault(id(tensor), name)
    everything = {id(tensor): tensor for tensor in model.parameters()}
    total = sum(math.prod(tensor.shape) for tensor in everything.values())
    total_trainable = sum(math.prod(tensor.shape) for tensor in everything.values()
                          if trainable(tensor))
    rows: list[dict[str, Any]] = []
    for path, layer in model.named_sublayers(include_self=True):
        level = path.count('.') + 1 if path else 0
        if depth is not None and level > depth:
            continue
        under = {id(tensor): tensor for tensor in layer.parameters()}
        if not under:
            continue
        params = sum(math.prod(tensor.shape) for tensor in under.values())
        own = [{'name': name, 'shape': list(tensor.shape),
                'params': math.prod(tensor.shape), 'trainable': trainable(tensor)}
               for name, tensor in layer._parameters.items() if tensor is not None]
        if depth is not None and level == depth:
            own = []      # its tensors are those under it; rows stop here
        rows.append({'path': path, 'layer': type(layer).__name__, 'depth': level,
                     'params': params,
                     'trainable_params': sum(math.prod(tensor.shape) for tensor in under.values()
                                             if trainable(tensor)),
                     'share_percent': percent(params, total),
                     **({'weights': own} if weights else {})})
    return {'view': 'parameters', 'network': network, 'depth': depth, 'rows': rows,
            'totals': {'params': total, 'trainable_params': total_trainable,
                       'non_trainable_params': total - total_trainable}}


def parameters_view(data: dict[str, Any]) -> Table:
    header = ['Module path (type)', 'Params', 'Trainable', 'Share']
    body: list[list[str]] = []
    csv_rows: list[dict[str, Any]] = []
    for row in data['rows']:
        indent = '  ' * row['depth']
        name = f'{indent}{row["path"] or "(model)"} ({row["layer"]})'
        body.append([name, f'{row["params"]:,}', f'{row["trainable_params"]:,}',
                     f'{row["share_percent"]:.1f} %'])
        csv_rows.append({'path': row['path'], 'layer': row['layer'], 'depth': row['depth'],
                         'params': row['params'], 'trainable_params': row['trainable_params'],
                         'share_percent': row['share_percent']})
        for tensor in row.get('weights', []):
            frozen = '' if tensor['trainable'] else ' (frozen)'
            body.append([f'{indent}  .{tensor["name"]} {tensor["shape"]}{frozen}',
                         f'{tensor["params"]:,}',
                         f'{tensor["params"] if tensor["trainable"] else 0:,}', ''])
    numbers = data['totals']
    header, body = fit(header, body, {})
    depth = f', depth {data["depth"]}' if data.get('depth') is not None else ''
    notes = [f'Total params: {numbers["params"]:,}\n'
             f'Trainable params: {numbers["trainable_params"]:,}\n'
             f'Non-trainable params: {numbers["non_trainable_params"]:,}',
             'Read from the model\'s parameters: no input, nothing traced or run. Each row '
             'counts everything under it, each tensor once; layers without parameters have '
             'no row.']
    if not csv_rows:
        csv_rows.append({'path': '', 'layer': '', 'depth': '', 'params': 0,
                         'trainable_params': 0, 'share_percent': ''})
    return f'{data["network"]}: parameters by module path{depth}', header, body, csv_rows, notes
