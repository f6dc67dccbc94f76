"""Tables to teach ResNet from: the paper's Table 1 by stage, all five depths side by
side, the per-layer table with multiply-adds, trainable tensors and the arithmetic
behind every output size, in plain text, GitHub/Markdown tables, CSV or JSON.

Every number comes from a model built here and one forward pass through it: the
shapes are the ones Paddle produced, the parameters the ones the layers hold, the
multiply-adds those of resnet_tools.macs.  The layer names are paddle.summary's.
"""
import csv
import io
import json
import math
import re
import textwrap
from dataclasses import dataclass

import paddle
from paddle import nn
from tabulate import tabulate

import resnet
from configs import DEFAULT_VARIANT, STRIDE_PLACEMENT, SUPPORTED_LAYERS
from resnet_tools import macs as counting
from resnet_tools.cli import UsageError

FORMATS = ('plain', 'github', 'markdown', 'csv', 'json')
TABLE_STYLES = {'plain': 'simple', 'github': 'github', 'markdown': 'pipe'}
OTHER_VARIANT = {'v1.5': 'v1', 'v1': 'v1.5'}
HEAD = 'pool, fc'
GIGA = 10 ** 9
NUMBER = re.compile(r'[-\d,.]*( %)?')

MACS_CONVENTION = (
    'MACs are the multiply-adds of the conv and fc layers, as the paper counts '
    '"FLOPs" and torchvision reports "GFLOPS": (in_channels / groups) x kh x kw for '
    'every conv output value, in_features for every fc output. BatchNorm, ReLU, '
    'pooling, the residual additions and biases are not counted, as neither the '
    'paper nor torchvision counts them.'
)


def display_name(name):
    """'ResNet-50' for 'resnet50', as the paper writes it; other names as they are."""
    depth = name.removeprefix('resnet')
    return f'ResNet-{depth}' if depth.isdigit() else name


def check_format(name):
    if name not in FORMATS:
        raise UsageError(f'--format {name} is not known; choose from {", ".join(FORMATS)}')
    return name


def check_view(stages, overview, macs, explain, given):
    """Refuse the combinations of views and flags that make no sense; `given` says
    which of --layers, --arch, --block and --variant the user gave."""
    if overview:
        for flag, present in given.items():
            if present:
                raise UsageError(f'--overview shows every depth in both variants; '
                                 f'it takes no {flag}')
    if stages and given['--block']:
        raise UsageError('--stages is for a whole network, not for --block')
    view = '--stages' if stages else '--overview' if overview else None
    for flag, present in (('--macs', macs), ('--explain', explain)):
        if view and present:
            raise UsageError(f'{flag} adds a column to the per-layer table; '
                             f'{view} is a table of its own')


# --- one forward pass, one row per layer that paddle.summary shows -----------------

@dataclass
class LayerRow:
    name: str                # paddle.summary's name, e.g. 'Conv2D-1'
    layer: nn.Layer
    input_shape: list        # paddle.summary's: one shape per input
    output_shape: list
    params: int
    trainable_params: int
    trainable: list          # names of the layer's own trainable tensors ...
    frozen: list             # ... and of the others (BatchNorm's running statistics)
    macs: int | None         # None: not a conv or fc layer, so not counted
    formula: str | None      # how the output size follows from the input size


@dataclass
class Profile:
    model: nn.Layer
    input_shape: list
    rows: list
    output_shape: list

    @property
    def params(self):
        return sum(row.params for row in self.rows)

    @property
    def trainable_params(self):
        return sum(row.trainable_params for row in self.rows)

    @property
    def macs(self):
        return sum(row.macs or 0 for row in self.rows)


def summary_name(layer):
    """The name paddle.summary gives `layer`: its class and the counter of its unique name."""
    return f'{type(layer).__name__}-{int(layer.full_name().split("_")[-1]) + 1}'


def shown_by_summary(layer, model):
    # paddle.summary leaves out containers and the model itself (unless it has no sublayers).
    return not isinstance(layer, (nn.Sequential, nn.LayerList)) and (
        layer is not model or not model.sublayers())


def profile(build_model, input_shape):
    """Build a model in a fresh name scope (so its names start at 1, as in paddle.summary),
    run one forward pass on an input of `input_shape` (None for the batch means 1) and
    return a row for every layer paddle.summary would show, in its order."""
    with paddle.utils.unique_name.guard():
        model = build_model()
    shape = [1 if size is None else size for size in input_shape]
    rows = []

    def on_call(layer, inputs, output, macs):
        if not shown_by_summary(layer, model):
            return
        own = layer._parameters.items()
        trainable = [name for name, p in own if p.trainable and not p.stop_gradient]
        rows.append(LayerRow(
            name=summary_name(layer), layer=layer,
            input_shape=[list(x.shape) for x in inputs], output_shape=list(output.shape),
            params=sum(math.prod(p.shape) for _, p in own),
            trainable_params=sum(math.prod(p.shape) for name, p in own if name in trainable),
            trainable=trainable, frozen=[name for name, _ in own if name not in trainable],
            macs=macs, formula=size_formula(layer, inputs[0].shape, output.shape)))

    with counting.evaluating(model), counting.counting(model, on_call):
        output = model(paddle.zeros(shape, dtype='float32'))
    return Profile(model, shape, rows, list(output.shape))


# --- the arithmetic of output sizes -------------------------------------------------

def pair(value):
    return list(value) if isinstance(value, (list, tuple)) else [value, value]


def window_formula(size, kernel, stride, padding, dilation=1, ceil_mode=False):
    """(text, value) of the output size of a sliding window along one side."""
    # A dilated kernel reaches over dilation*(kernel - 1) + 1 positions.
    reach = f'{kernel}' if dilation == 1 else f'{dilation}*({kernel} - 1) - 1'
    span = size + 2 * padding - (dilation * (kernel - 1) + 1)
    if ceil_mode:
        return f'ceil(({size} + 2*{padding} - {reach}) / {stride}) + 1', -(-span // stride) + 1
    return f'({size} + 2*{padding} - {reach}) // {stride} + 1', span // stride + 1


def size_formula(layer, in_shape, out_shape):
    """The output size of a conv or pooling layer worked out from its own kernel,
    stride and padding, e.g. '(224 + 2*3 - 7) // 2 + 1 = 112'.  Raises AssertionError
    if the result is not the size Paddle produced."""
    sides = list(in_shape[-2:]), list(out_shape[-2:])
    if isinstance(layer, (nn.AdaptiveAvgPool2D, nn.AdaptiveMaxPool2D)):
        wanted = pair(layer._output_size)
        check(layer, wanted, sides[1])
        return f'adaptive: {sides[0][0]}x{sides[0][1]} -> {wanted[0]}x{wanted[1]}'
    if isinstance(layer, nn.Conv2D):
        window = dict(kernel=layer._kernel_size, stride=layer._stride,
                      padding=layer._padding, dilation=layer._dilation, ceil_mode=[False] * 2)
    elif isinstance(layer, (nn.MaxPool2D, nn.AvgPool2D)):
        stride = layer.ksize if layer.stride is None else layer.stride
        window = dict(kernel=layer.ksize, stride=stride, padding=layer.padding,
                      dilation=1, ceil_mode=[layer.ceil_mode] * 2)
    else:
        return None
    if isinstance(window['padding'], str) or len(pair(window['padding'])) != 2:
        return None     # 'SAME' / 'VALID' or uneven padding: not the textbook formula
    window = {key: pair(value) for key, value in window.items()}
    texts, values = zip(*(window_formula(sides[0][i], **{k: v[i] for k, v in window.items()})
                          for i in range(2)))
    check(layer, list(values), sides[1])
    if texts[0] == texts[1]:
        return f'{texts[0]} = {values[0]}'
    return f'H: {texts[0]} = {values[0]}; W: {texts[1]} = {values[1]}'


def check(layer, computed, produced):
    if list(computed) != list(produced):
        raise AssertionError(f'{summary_name(layer)}: the formula gives {computed}, '
                             f'Paddle produced {produced}')


# --- the model read the paper's way -------------------------------------------------

def stage_of(model):
    """{layer: 'conv1' | 'conv2_x' .. 'conv5_x' | HEAD} for every layer of a ResNet.
    As in the paper's Table 1, the max pool opens conv2_x."""
    stages = {}

    def mark(layer, stage):
        for sublayer in layer.sublayers(include_self=True):
            stages[sublayer] = stage

    for layer in (model.conv, model.bn, model.relu):
        mark(layer, 'conv1')
    mark(model.max_pool, 'conv2_x')
    for stage, blocks in stage_blocks(model):
        for block in blocks:
            mark(block, stage)
    for name in ('avg_pool', 'flatten', 'fc'):
        if hasattr(model, name):
            mark(getattr(model, name), HEAD)
    return stages


def residual_convs(block):
    """The convs of F(x), the block's residual path, without the projection shortcut."""
    return [layer for name, layer in block.named_sublayers()
            if isinstance(layer, nn.Conv2D) and not name.startswith('down_sample_block')]


def conv_text(conv):
    kernel = 'x'.join(map(str, conv._kernel_size))
    groups = f', C={conv._groups}' if conv._groups > 1 else ''
    return f'{kernel}, {conv._out_channels}{groups}'


def stage_blocks(model):
    """[(stage, [blocks])] of conv2_x .. conv5_x."""
    blocks = list(model.residual_block)
    starts = [0] + [end + 1 for end in model.stage_ends[:-1]]
    return [(f'conv{stage}_x', blocks[start:end + 1])
            for stage, (start, end) in enumerate(zip(starts, model.stage_ends), start=2)]


def block_text(blocks):
    """A stage written as the paper's Table 1 does, e.g. '[1x1, 64; 3x3, 64; 1x1, 256] x 3'."""
    return f'[{"; ".join(conv_text(conv) for conv in residual_convs(blocks[-1]))}] x {len(blocks)}'


def layer_count(model):
    """The depth in the name, counted as the article does: the stem conv, the convs of
    every block's residual path, and the fc layer.  Projection shortcuts and pooling
    do not count.  Returns (text, total), e.g. ('1 + 3 x (3+4+6+3) + 1 = 50', 50)."""
    stages = stage_blocks(model)
    in_blocks = {id(layer) for layer in model.residual_block.sublayers()}
    stem = sum(isinstance(layer, nn.Conv2D) and id(layer) not in in_blocks
               for layer in model.sublayers())
    per_block = {len(residual_convs(block)) for _, blocks in stages for block in blocks}
    if len(per_block) != 1:
        raise AssertionError(f'blocks with different numbers of convs: {sorted(per_block)}')
    (per_block,) = per_block
    counts = [len(blocks) for _, blocks in stages]
    fc = sum(isinstance(layer, nn.Linear) for layer in model.sublayers())
    total = stem + per_block * sum(counts) + fc
    return f'{stem} + {per_block} x ({"+".join(map(str, counts))}) + {fc} = {total}', total


def stem_text(model):
    conv = model.conv
    return f'{conv_text(conv)}, stride {conv._stride[0]}'


def pool_text(pool):
    stride = pool.ksize if pool.stride is None else pool.stride
    return f'{pool.ksize}x{pool.ksize} max pool, stride {stride}'


def head_text(model):
    parts = []
    if getattr(model, 'with_pool', False):
        parts.append('global average pool')
    if hasattr(model, 'fc'):
        parts.append(f'{model.fc.weight.shape[1]}-d fc')
    return ', '.join(parts) or '(none)'


def gmacs(value, digits=3):
    return f'{value / GIGA:.{digits}f}'


def percent(part, whole):
    return round(100 * part / whole, 1) if whole else 0.0


# --- the stage table: the paper's Table 1 for one depth -----------------------------

def stage_table(arch, input_shape, num_classes=1000, variant=DEFAULT_VARIANT):
    """The rows of Table 1 for the network paddle.vision calls `arch`: [{stage,
    output_size, block, params, macs, share_percent}], the totals, and the sentences
    printed under it.  The other variant is built too, for the sentence on v1 vs v1.5."""
    result, other = (profile(lambda v=v: resnet.build(arch, num_classes=num_classes, variant=v),
                             input_shape) for v in (variant, OTHER_VARIANT[variant]))
    name = display_name(arch)
    stages = stage_of(result.model)
    order = ['conv1'] + [stage for stage, _ in stage_blocks(result.model)] + [HEAD]
    texts = {'conv1': stem_text(result.model), HEAD: head_text(result.model)}
    for stage, blocks in stage_blocks(result.model):
        texts[stage] = block_text(blocks)
    texts['conv2_x'] = f'{pool_text(result.model.max_pool)}, then {texts["conv2_x"]}'
    rows = []
    for stage in order:
        members = [row for row in result.rows if stages[row.layer] == stage]
        maps = [row.output_shape for row in members if len(row.output_shape) == 4]
        macs = sum(row.macs or 0 for row in members)
        rows.append({'stage': stage, 'output_size': maps[-1][-2:] if maps else None,
                     'block': texts[stage], 'params': sum(row.params for row in members),
                     'macs': macs, 'share_percent': percent(macs, result.macs)})
    count, depth = layer_count(result.model)
    macs_by_variant = {variant: result.macs, OTHER_VARIANT[variant]: other.macs}
    totals = {'params': result.params, 'trainable_params': result.trainable_params,
              'macs': result.macs, 'layers': depth, 'layer_count': count}
    return {'view': 'stages', 'network': name, 'variant': variant,
            'input_shape': result.input_shape, 'output_shape': result.output_shape,
            'rows': rows, 'totals': totals, 'macs_by_variant': macs_by_variant,
            'notes': [variant_sentence(name, result, other, variant), MACS_CONVENTION]}


def variant_sentence(name, result, other, variant):
    """One sentence on why v1 (the paper) and v1.5 (the article, Paddle) differ in MACs."""
    v15, v1 = (result, other) if variant == 'v1.5' else (other, result)
    changed = [(a.macs, b.macs) for a, b in zip(v1.rows, v15.rows) if a.macs != b.macs]
    if not changed:
        return (f'{name} has no bottleneck block, so v1 and v1.5 are the same network: '
                f'{gmacs(v15.macs, 2)} G multiply-adds either way.')
    ratio = ' or '.join(sorted({f'{b / a:.1f}'.removesuffix('.0') for a, b in changed}))
    return (f'{name} is {gmacs(v1.macs, 2)} G multiply-adds in the paper\'s layout (v1) and '
            f'{gmacs(v15.macs, 2)} G in the article\'s and Paddle\'s (v1.5), because v1.5 moves '
            f'the stride 2 of each down-sampling bottleneck from its first 1x1 conv to its 3x3 '
            f'conv, so that 1x1 conv runs on the full-size map and costs {ratio} times as much '
            f'({len(changed)} convs, +{gmacs(v15.macs - v1.macs, 2)} G).')


def stage_view(data):
    header = ['Stage', 'Output size', 'Block', 'Params', 'MACs (G)', 'Share']
    body = [[row['stage'], 'x'.join(map(str, row['output_size'] or [])), row['block'],
             f'{row["params"]:,}', gmacs(row['macs']), f'{row["share_percent"]:.1f} %']
            for row in data['rows']]
    totals = data['totals']
    body.append(['total', '', f'{totals["layer_count"]} layers', f'{totals["params"]:,}',
                 gmacs(totals['macs']), f'{percent(totals["macs"], totals["macs"]):.1f} %'])
    csv_rows = [{'stage': row['stage'],
                 'output_size': 'x'.join(map(str, row['output_size'] or [])),
                 'block': row['block'], 'params': row['params'], 'macs': row['macs'],
                 'share_percent': row['share_percent']} for row in data['rows']]
    csv_rows.append({'stage': 'total', 'output_size': '', 'block': totals['layer_count'],
                     'params': totals['params'], 'macs': totals['macs'], 'share_percent': 100.0})
    title = (f'{data["network"]} ({data["variant"]}), input {data["input_shape"]}, '
             f'as in Table 1 of the paper')
    return title, header, body, csv_rows, data['notes']


# --- the overview: all five depths --------------------------------------------------

def overview(input_shape=(None, 3, 224, 224), num_classes=1000):
    """One row per depth of layers_config: the layer count, params, MACs of both
    variants, and the output shape."""
    rows, sentence = [], None
    for depth in SUPPORTED_LAYERS:
        results = {variant: profile(lambda v=variant: resnet.ResNet(
            depth, num_classes=num_classes, variant=v), input_shape)
            for variant in STRIDE_PLACEMENT}
        main = results[DEFAULT_VARIANT]
        count, total = layer_count(main.model)
        rows.append({
            'network': display_name(f'resnet{depth}'), 'depth': depth,
            'block': type(main.model.residual_block[0]).__name__,
            'layer_count': count, 'layers': total,
            'params': main.params, 'trainable_params': main.trainable_params,
            'non_trainable_params': main.params - main.trainable_params,
            'macs': {variant: result.macs for variant, result in sorted(results.items())},
            'output_shape': main.output_shape})
        if depth == 50:
            sentence = variant_sentence('ResNet-50', results['v1.5'], results['v1'], 'v1.5')
    return {'view': 'overview', 'input_shape': [1 if s is None else s for s in input_shape],
            'rows': rows, 'notes': [note for note in (sentence, MACS_CONVENTION) if note]}


def overview_view(data):
    variants = [DEFAULT_VARIANT] + [v for v in STRIDE_PLACEMENT if v != DEFAULT_VARIANT]
    header = (['Network', 'Block', 'Layers (conv + fc)', 'Params', 'Trainable']
              + [f'MACs {variant} (G)' for variant in variants] + ['Output shape'])
    body, csv_rows = [], []
    for row in data['rows']:
        body.append([row['network'], row['block'], row['layer_count'], f'{row["params"]:,}',
                     f'{row["trainable_params"]:,}']
                    + [gmacs(row['macs'][variant]) for variant in variants]
                    + [str(row['output_shape'])])
        csv_rows.append({'network': row['network'], 'block': row['block'],
                         'layer_count': row['layer_count'], 'layers': row['layers'],
                         'params': row['params'], 'trainable_params': row['trainable_params'],
                         **{f'macs_{variant}': row['macs'][variant] for variant in variants},
                         'output_shape': 'x'.join(map(str, row['output_shape']))})
    title = f'ResNet-18 .. ResNet-152, input {data["input_shape"]}'
    return title, header, body, csv_rows, data['notes']


# --- the per-layer table ------------------------------------------------------------

def layer_table(build_model, input_shape, name, variant=None):
    """The per-layer table of paddle.summary, with MACs, trainable tensors and formulas.
    `variant` is only for the title: None where the stride placement does not apply."""
    result = profile(build_model, input_shape)
    rows = [{'layer': row.name, 'input_shape': row.input_shape,
             'output_shape': row.output_shape, 'params': row.params,
             'trainable_params': row.trainable_params, 'trainable': row.trainable,
             'non_trainable': row.frozen, 'macs': row.macs, 'formula': row.formula}
            for row in result.rows]
    totals = {'params': result.params, 'trainable_params': result.trainable_params,
              'non_trainable_params': result.params - result.trainable_params,
              'macs': result.macs}
    return {'view': 'layers', 'network': display_name(name), 'variant': variant,
            'input_shape': result.input_shape,
            'output_shape': result.output_shape, 'rows': rows, 'totals': totals,
            'notes': [MACS_CONVENTION]}


def trainable_text(row):
    if not row['trainable'] and not row['non_trainable']:
        return ''
    frozen = f' (not {", ".join(row["non_trainable"])})' if row['non_trainable'] else ''
    return (', '.join(row['trainable']) or 'none') + frozen


def layer_view(data, macs=False, explain=False):
    header = ['Layer (type)', 'Input Shape', 'Output Shape', 'Param #']
    if macs:
        header += ['Trainable', 'MACs']
    if explain:
        header += ['Output size']
    body, csv_rows = [], []
    for row in data['rows']:
        line = [row['layer'], str(row['input_shape']), str(row['output_shape']),
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
    totals = data['totals']
    lines = [f'Total params: {totals["params"]:,}',
             f'Trainable params: {totals["trainable_params"]:,}',
             f'Non-trainable params: {totals["non_trainable_params"]:,}']
    if macs:
        lines.append(f'Total MACs: {totals["macs"]:,} ({gmacs(totals["macs"], 2)} G)')
    notes = ['\n'.join(lines)] + ([MACS_CONVENTION] if macs else [])
    total = {'layer': 'total', 'input_shape': '', 'output_shape': '', 'params': totals['params']}
    if macs:
        total.update(trainable_params=totals['trainable_params'], trainable='',
                     macs=totals['macs'])
    if explain:
        total['formula'] = ''
    csv_rows.append(total)
    variant = f' ({data["variant"]})' if data['variant'] else ''
    title = f'{data["network"]}{variant}, input {data["input_shape"]}'
    return title, header, body, csv_rows, notes


# --- output formats -----------------------------------------------------------------

def render(data, view, fmt):
    """`data` (from stage_table, overview or layer_table) in format `fmt`; `view` is the
    matching *_view function, which gives (title, header, body, csv_rows, notes)."""
    if fmt == 'json':
        return json.dumps(data, indent=2, sort_keys=True) + '\n'
    title, header, body, csv_rows, notes = view(data)
    if fmt == 'csv':
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(csv_rows[0]), lineterminator='\n')
        writer.writeheader()
        writer.writerows(csv_rows)
        return out.getvalue()
    numbers = ['right' if all(NUMBER.fullmatch(line[i]) for line in body) else 'left'
               for i in range(len(header))]
    table = tabulate(body, header, tablefmt=TABLE_STYLES[fmt], colalign=numbers,
                     disable_numparse=True)
    # A note is a paragraph; a line break inside one is kept.
    lines = [note.split('\n') for note in notes]
    if fmt == 'plain':
        # Empty cells at the end of a row would leave trailing blanks.
        table = '\n'.join(line.rstrip() for line in table.split('\n'))
        wrapped = ['\n'.join(textwrap.fill(line, 79, break_on_hyphens=False) for line in note)
                   for note in lines]
        return f'{title}\n\n{table}\n\n' + '\n\n'.join(wrapped) + '\n'
    return f'**{title}**\n\n{table}\n\n' + ''.join(f'- {line}\n' for note in lines
                                                     for line in note)
