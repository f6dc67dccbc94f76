"""Tables to teach ResNet from: the paper's Table 1 by stage (and its CIFAR-10 table
for the networks of Section 4.2), and all five depths side by side.

These are the ResNet views of scripts/summary.py; they build on the general parts,
which know nothing of ResNet: paddleinfo.profile (one row per layer from one pass
over the input shape), paddleinfo.macs (the multiply-adds), paddleinfo.tables
(the per-layer and depth tables) and paddleinfo.render (every output format).
"""
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, NotRequired, TypedDict, cast

from paddle import nn

import resnet
from paddleinfo.profile import profile
from paddleinfo.result import Profile
from paddleinfo.progress import progress
from paddleinfo.render import Table, gmacs, percent
from resnet.configs import CIFAR_ARCHS, DEFAULT_VARIANT, STRIDE_PLACEMENT, SUPPORTED_LAYERS
from resnet_tools.specs import display_name

# paddleinfo.macs's convention, told for a ResNet: the paper's "FLOPs" count the same.
PAPER_MACS_CONVENTION = (
    'MACs are the multiply-adds of the conv and fc layers, as the paper counts '
    '"FLOPs" and torchvision reports "GFLOPS": (in_channels / groups) x kh x kw for '
    'every conv output value, in_features for every fc output. BatchNorm, ReLU, '
    'pooling, the residual additions and biases are not counted, as neither the '
    'paper nor torchvision counts them.'
)

OTHER_VARIANT = {'v1.5': 'v1', 'v1': 'v1.5'}
HEAD = 'pool, fc'
# A stage that opens with the stem or the max pool is two lines in the table, as in the
# paper's Table 1, so that the table fits 100 columns; csv, json and markdown keep one.
THEN = ', then '
# A model's output shape as paddleinfo.profile gives it: [1, 1000] for a ResNet.
OutputShape = list[Any] | dict[Any, Any]


def two_lines(text: str) -> str:
    """'3x3 max pool, stride 2, then [...] x 3' on two lines, split after 'then'."""
    return text.replace(THEN, THEN.rstrip() + '\n', 1)


# --- the model read the paper's way -------------------------------------------------

def is_cifar(model: nn.Layer) -> bool:
    """The CIFAR-10 networks of Section 4.2 have no max pool: their image is small already."""
    return not hasattr(model, 'max_pool')


def stage_of(model: nn.Layer) -> dict[nn.Layer, str]:
    """{layer: stage} for every layer of a ResNet.  ImageNet: 'conv1', 'conv2_x' ..
    'conv5_x', HEAD; as in the paper's Table 1, the max pool opens conv2_x.  CIFAR:
    'stage 1' .. 'stage 3', HEAD; as in the paper's table of Section 4.2 (1+2n, 2n,
    2n layers), the stem conv is counted with the first stage."""
    stages: dict[nn.Layer, str] = {}

    def mark(layer: nn.Layer, stage: str) -> None:
        for sublayer in layer.sublayers(include_self=True):
            stages[sublayer] = stage

    first = stage_blocks(model)[0][0]
    for layer in (model.conv, model.bn, model.relu):
        mark(layer, first if is_cifar(model) else 'conv1')
    if not is_cifar(model):
        mark(model.max_pool, first)
    for stage, blocks in stage_blocks(model):
        for block in blocks:
            mark(block, stage)
    for name in ('avg_pool', 'flatten', 'fc'):
        if hasattr(model, name):
            mark(getattr(model, name), HEAD)
    return stages


def residual_convs(block: nn.Layer) -> list[nn.Conv2D]:
    """The convs of F(x), the block's residual path, without the projection shortcut."""
    return [layer for name, layer in block.named_sublayers()
            if isinstance(layer, nn.Conv2D) and not name.startswith('down_sample_block')]


def conv_text(conv: nn.Conv2D) -> str:
    kernel = 'x'.join(map(str, conv._kernel_size))
    groups = f', C={conv._groups}' if conv._groups > 1 else ''
    return f'{kernel}, {conv._out_channels}{groups}'


def stage_blocks(model: nn.Layer) -> list[tuple[str, list[nn.Layer]]]:
    """[(stage, [blocks])]: conv2_x .. conv5_x, or stage 1 .. stage 3 of a CIFAR network."""
    blocks = list(model.residual_block)
    starts = [0] + [end + 1 for end in model.stage_ends[:-1]]
    names = ([f'stage {i}' for i in range(1, len(starts) + 1)] if is_cifar(model)
             else [f'conv{i}_x' for i in range(2, len(starts) + 2)])
    return [(name, blocks[start:end + 1])
            for name, start, end in zip(names, starts, model.stage_ends)]


def block_text(blocks: Sequence[nn.Layer]) -> str:
    """A stage written as the paper's Table 1 does, e.g. '[1x1, 64; 3x3, 64; 1x1, 256] x 3'."""
    return f'[{"; ".join(conv_text(conv) for conv in residual_convs(blocks[-1]))}] x {len(blocks)}'


def layer_count(model: nn.Layer) -> tuple[str, int]:
    """The depth in the name, counted as the article does: the stem conv, the convs of
    every block's residual path, and the fc layer.  Projection shortcuts and pooling
    do not count.  Returns (text, total), e.g. ('1 + 3 x (3+4+6+3) + 1 = 50', 50)."""
    stages = stage_blocks(model)
    in_blocks = {id(layer) for layer in model.residual_block.sublayers()}
    stem = sum(isinstance(layer, nn.Conv2D) and id(layer) not in in_blocks
               for layer in model.sublayers())
    sizes = {len(residual_convs(block)) for _, blocks in stages for block in blocks}
    if len(sizes) != 1:
        raise AssertionError(f'blocks with different numbers of convs: {sorted(sizes)}')
    (per_block,) = sizes
    counts = [len(blocks) for _, blocks in stages]
    fc = sum(isinstance(layer, nn.Linear) for layer in model.sublayers())
    total = stem + per_block * sum(counts) + fc
    return f'{stem} + {per_block} x ({"+".join(map(str, counts))}) + {fc} = {total}', total


def stem_text(model: nn.Layer) -> str:
    conv = model.conv
    stride = f', stride {conv._stride[0]}' if conv._stride[0] > 1 else ''
    return f'{conv_text(conv)}{stride}'


def is_plain(model: nn.Layer) -> bool:
    return not model.residual_block[0].residual


def pool_text(pool: nn.MaxPool2D) -> str:
    stride = pool.ksize if pool.stride is None else pool.stride
    return f'{pool.ksize}x{pool.ksize} max pool, stride {stride}'


def head_text(model: nn.Layer) -> str:
    # As the paper's Table 1 writes it: 'average pool, 1000-d fc' (the pool is global).
    parts = []
    if getattr(model, 'with_pool', False):
        parts.append('average pool')
    if hasattr(model, 'fc'):
        parts.append(f'{model.fc.weight.shape[1]}-d fc')
    return ', '.join(parts) or '(none)'


# --- the stage table: the paper's Table 1 for one depth -----------------------------

@dataclass(frozen=True)
class StageRow:
    """One stage of the table: its output size, its blocks as Table 1 writes them, its
    params, MACs and share of the MACs.  A row of the CIFAR table (Section 4.2) also has
    the stage's layers, as a number and as the paper's formula ('1+2n = 7'), and filters."""
    stage: str
    output_size: list[int] | None
    block: str
    params: int
    macs: int
    share_percent: float
    layers: int | None = None         # the CIFAR table's columns; None in Table 1
    layers_text: str | None = None
    filters: int | None = None        # None in the CIFAR table's 'pool, fc' row too

    def as_dict(self) -> dict[str, Any]:
        """The row as --format json prints it: the CIFAR columns in the CIFAR table only."""
        row = asdict(self)
        if self.layers is None:
            for key in ('layers', 'layers_text', 'filters'):
                del row[key]
        return row


class StageTotals(TypedDict):
    """The table's last row: the whole network's params, MACs and layers."""
    params: int
    trainable_params: int
    macs: int
    layers: int
    layer_count: str
    layers_text: NotRequired[str]     # the CIFAR table's: '6n+2 = 20 (n = 3)'


@dataclass(frozen=True)
class StageTable:
    """The stage table of one network: the paper's Table 1 (`variant` 'v1.5' or 'v1'), or
    its CIFAR-10 table (`variant` None, and no `macs_by_variant`)."""
    network: str
    variant: str | None
    input_shape: list[int]
    output_shape: OutputShape
    rows: list[StageRow]
    totals: StageTotals
    notes: list[str]
    macs_by_variant: dict[str, int] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The table as --format json prints it."""
        data = {'view': 'stages', 'network': self.network, 'variant': self.variant,
                'input_shape': self.input_shape, 'output_shape': self.output_shape,
                'rows': [row.as_dict() for row in self.rows], 'totals': dict(self.totals),
                'notes': self.notes}
        if self.macs_by_variant is not None:
            data['macs_by_variant'] = self.macs_by_variant
        return data


def stage_rows(result: Profile, order: Sequence[str], texts: Mapping[str, str]) -> list[StageRow]:
    """The StageRows of a profiled ResNet, one per stage of `order`."""
    stages = stage_of(result.model)
    rows = []
    for stage in order:
        members = [row for row in result.rows if stages[row.layer] == stage]
        maps = [row.output_shape for row in members if len(row.output_shape) == 4]
        macs = sum(row.macs or 0 for row in members)
        rows.append(StageRow(stage=stage, output_size=maps[-1][-2:] if maps else None,
                             block=texts[stage], params=sum(row.params for row in members),
                             macs=macs, share_percent=percent(macs, result.macs)))
    return rows


def stage_table(arch: str, input_shape: Sequence[int | None], num_classes: int = 1000,
                variant: str = DEFAULT_VARIANT) -> StageTable:
    """The rows of Table 1 for the network paddle.vision calls `arch` (StageRows: stage,
    output_size, block, params, macs, share_percent), the totals, and the sentences
    printed under it.  The other variant is built too, for the sentence on v1 vs v1.5.
    A CIFAR network (`cifar_resnet20` ...) gets the table of the paper's Section 4.2."""
    if arch in CIFAR_ARCHS:
        return cifar_stage_table(arch, input_shape, num_classes)
    result, other = (profile(lambda v=v: resnet.build(arch, num_classes=num_classes, variant=v),
                             input_shape) for v in (variant, OTHER_VARIANT[variant]))
    name = display_name(arch)
    order = ['conv1'] + [stage for stage, _ in stage_blocks(result.model)] + [HEAD]
    texts = {'conv1': stem_text(result.model), HEAD: head_text(result.model)}
    for stage, blocks in stage_blocks(result.model):
        texts[stage] = block_text(blocks)
    texts['conv2_x'] = f'{pool_text(result.model.max_pool)}, then {texts["conv2_x"]}'
    rows = stage_rows(result, order, texts)
    count, depth = layer_count(result.model)
    macs_by_variant = {variant: result.macs, OTHER_VARIANT[variant]: other.macs}
    totals: StageTotals = {'params': result.params, 'trainable_params': result.trainable_params,
                           'macs': result.macs, 'layers': depth, 'layer_count': count}
    return StageTable(network=name, variant=variant, input_shape=result.input_shape,
                      output_shape=result.output_shape, rows=rows, totals=totals,
                      macs_by_variant=macs_by_variant,
                      notes=[variant_sentence(name, result, other, variant), PAPER_MACS_CONVENTION])


def cifar_stage_table(arch: str, input_shape: Sequence[int | None], num_classes: int) -> StageTable:
    """The table of the paper's Section 4.2 for a CIFAR-10 network: one row per stage
    with its output map size (32x32, 16x16, 8x8 on a 32x32 image), its number of layers
    (1+2n, 2n, 2n) and of filters (16, 32, 64), then params and MACs, as stage_table."""
    # Built for the channels of its input: 1 for the digits, 3 for CIFAR-10's images.
    result = profile(lambda: resnet.build(arch, num_classes=num_classes, in_channels=input_shape[1]),
                     input_shape)
    model = result.model
    stages = stage_blocks(model)
    order = [stage for stage, _ in stages] + [HEAD]
    texts = {stage: block_text(blocks) for stage, blocks in stages}
    texts[order[0]] = f'{stem_text(model)}, then {texts[order[0]]}'
    texts[HEAD] = head_text(model)
    rows = stage_rows(result, order, texts)
    n = len(stages[0][1])
    per_block = len(residual_convs(stages[0][1][0]))
    for index, (stage, blocks) in enumerate(stages):
        convs = per_block * len(blocks) + (index == 0)
        formula = f'{"1+" if index == 0 else ""}{per_block}n'
        rows[index] = replace(rows[index], layers=convs, layers_text=f'{formula} = {convs}',
                              filters=blocks[-1].conv_bn_block1[0]._out_channels)
    rows[-1] = replace(rows[-1], layers=1, layers_text='1', filters=None)
    count, depth = layer_count(model)
    totals: StageTotals = {'params': result.params, 'trainable_params': result.trainable_params,
                           'macs': result.macs, 'layers': depth, 'layer_count': count,
                           'layers_text': f'6n+2 = {depth} (n = {n})'}
    kind = ('the plain network: no shortcuts' if is_plain(model) else
            'option A shortcuts: identity, zero-padded where the width doubles, '
            'no parameters')
    sentence = (f'{arch}: {depth} layers, {kind}. Section 4.2 of the paper trains it on '
                f'32x32 CIFAR-10 images; every stage after the first halves the map and '
                f'doubles the filters.')
    return StageTable(network=arch, variant=None, input_shape=result.input_shape,
                      output_shape=result.output_shape, rows=rows, totals=totals,
                      notes=[sentence, PAPER_MACS_CONVENTION])


def variant_sentence(name: str, result: Profile, other: Profile, variant: str) -> str:
    """One sentence on why v1 (the paper) and v1.5 (the article, Paddle) differ in MACs."""
    v15, v1 = (result, other) if variant == 'v1.5' else (other, result)
    # The rows whose MACs differ are convs, which have MACs in both variants.
    changed = cast(list[tuple[int, int]],
                   [(a.macs, b.macs) for a, b in zip(v1.rows, v15.rows) if a.macs != b.macs])
    if not changed:
        return (f'{name} has no bottleneck block, so v1 and v1.5 are the same network: '
                f'{gmacs(v15.macs, 2)} G multiply-adds either way.')
    ratio = ' or '.join(sorted({f'{b / a:.1f}'.removesuffix('.0') for a, b in changed}))
    return (f'{name} is {gmacs(v1.macs, 2)} G multiply-adds in the paper\'s layout (v1) and '
            f'{gmacs(v15.macs, 2)} G in the article\'s and Paddle\'s (v1.5), because v1.5 moves '
            f'the stride 2 of each down-sampling bottleneck from its first 1x1 conv to its 3x3 '
            f'conv, so that 1x1 conv runs on the full-size map and costs {ratio} times as much '
            f'({len(changed)} convs, +{gmacs(v15.macs - v1.macs, 2)} G).')


def stage_view(data: StageTable) -> Table:
    if data.variant is None:
        return cifar_stage_view(data)
    header = ['Stage', 'Output size', 'Block', 'Params', 'GMACs', 'Share']
    body = [[row.stage, 'x'.join(map(str, row.output_size or [])), two_lines(row.block),
             f'{row.params:,}', gmacs(row.macs), f'{row.share_percent:.1f} %']
            for row in data.rows]
    totals = data.totals
    body.append(['total', '', f'{totals["layer_count"]} layers', f'{totals["params"]:,}',
                 gmacs(totals['macs']), f'{percent(totals["macs"], totals["macs"]):.1f} %'])
    csv_rows: list[dict[str, Any]] = [
        {'stage': row.stage, 'output_size': 'x'.join(map(str, row.output_size or [])),
         'block': row.block, 'params': row.params, 'macs': row.macs,
         'share_percent': row.share_percent} for row in data.rows]
    csv_rows.append({'stage': 'total', 'output_size': '', 'block': totals['layer_count'],
                     'params': totals['params'], 'macs': totals['macs'], 'share_percent': 100.0})
    title = (f'{data.network} ({data.variant}), input {data.input_shape}, '
             f'as in Table 1 of the paper')
    return title, header, body, csv_rows, data.notes


def megamacs(value: float) -> str:
    return f'{value / 10 ** 6:.2f}'


def cifar_stage_view(data: StageTable) -> Table:
    # The paper's "output map size", shorter; the total's "6n+2 = 20 (n = 3)" on two lines.
    header = ['Stage', 'Map size', 'Layers', 'Filters', 'Block', 'Params', 'MMACs', 'Share']
    body: list[list[str]] = []
    csv_rows: list[dict[str, Any]] = []
    for row in data.rows:
        size = 'x'.join(map(str, row.output_size or []))
        filters = '' if row.filters is None else str(row.filters)
        body.append([row.stage, size, str(row.layers_text), filters, two_lines(row.block),
                     f'{row.params:,}', megamacs(row.macs),
                     f'{row.share_percent:.1f} %'])
        csv_rows.append({'stage': row.stage, 'output_size': size, 'layers': row.layers,
                         'filters': filters, 'block': row.block, 'params': row.params,
                         'macs': row.macs, 'share_percent': row.share_percent})
    totals = data.totals
    body.append(['total', '', totals['layers_text'].replace(' (', '\n('), '', '', f'{totals["params"]:,}',
                 megamacs(totals['macs']), '100.0 %'])
    csv_rows.append({'stage': 'total', 'output_size': '', 'layers': totals['layers'],
                     'filters': '', 'block': '', 'params': totals['params'],
                     'macs': totals['macs'], 'share_percent': 100.0})
    title = (f'{data.network}, input {data.input_shape}, as in the CIFAR-10 table of '
             f'the paper (Section 4.2)')
    return title, header, body, csv_rows, data.notes


# --- the overview: all five depths --------------------------------------------------

@dataclass(frozen=True)
class OverviewRow:
    """One depth of the overview; `macs` is {variant: MACs}."""
    network: str
    depth: int
    block: str
    layer_count: str
    layers: int
    params: int
    trainable_params: int
    non_trainable_params: int
    macs: dict[str, int]
    output_shape: OutputShape


@dataclass(frozen=True)
class Overview:
    """All five depths side by side, on one input shape."""
    input_shape: list[int]
    rows: list[OverviewRow]
    notes: list[str]

    def as_dict(self) -> dict[str, Any]:
        """The overview as --format json prints it."""
        return {'view': 'overview', 'input_shape': self.input_shape,
                'rows': [asdict(row) for row in self.rows], 'notes': self.notes}


def overview(input_shape: Sequence[int | None] = (None, 3, 224, 224),
             num_classes: int = 1000) -> Overview:
    """One row per depth of layers_config: the layer count, params, MACs of both
    variants, and the output shape."""
    rows: list[OverviewRow] = []
    sentence: str | None = None
    for depth in progress(SUPPORTED_LAYERS, 'ResNet depths'):
        results = {variant: profile(lambda v=variant: resnet.ResNet(
            depth, num_classes=num_classes, variant=v), input_shape)
            for variant in STRIDE_PLACEMENT}
        main = results[DEFAULT_VARIANT]
        count, total = layer_count(main.model)
        rows.append(OverviewRow(
            network=display_name(f'resnet{depth}'), depth=depth,
            block=type(main.model.residual_block[0]).__name__,
            layer_count=count, layers=total,
            params=main.params, trainable_params=main.trainable_params,
            non_trainable_params=main.params - main.trainable_params,
            macs={variant: result.macs for variant, result in sorted(results.items())},
            output_shape=main.output_shape))
        if depth == 50:
            sentence = variant_sentence('ResNet-50', results['v1.5'], results['v1'], 'v1.5')
    return Overview(input_shape=[1 if s is None else s for s in input_shape], rows=rows,
                    notes=[note for note in (sentence, PAPER_MACS_CONVENTION) if note])


def overview_view(data: Overview) -> Table:
    """The overview; to fit 100 columns the MACs headers are two lines, and the output
    shape, the same for every depth unless --num-classes 0 drops the fc, is told once."""
    variants = [DEFAULT_VARIANT] + [v for v in STRIDE_PLACEMENT if v != DEFAULT_VARIANT]
    header = (['Network', 'Block', 'Layers (conv + fc)', 'Params', 'Trainable']
              + [f'GMACs\n{variant}' for variant in variants])
    body: list[list[str]] = []
    csv_rows: list[dict[str, Any]] = []
    for row in data.rows:
        body.append([row.network, row.block, row.layer_count, f'{row.params:,}',
                     f'{row.trainable_params:,}']
                    + [gmacs(row.macs[variant]) for variant in variants])
        csv_rows.append({'network': row.network, 'block': row.block,
                         'layer_count': row.layer_count, 'layers': row.layers,
                         'params': row.params, 'trainable_params': row.trainable_params,
                         **{f'macs_{variant}': row.macs[variant] for variant in variants},
                         'output_shape': 'x'.join(map(str, row.output_shape))})
    shapes: dict[str, list[str]] = {}
    for row in data.rows:
        shapes.setdefault(str(row.output_shape), []).append(row.network)
    title = f'ResNet-18 .. ResNet-152, input {data.input_shape}'
    notes = list(data.notes)
    if len(shapes) == 1:
        title += f', output {next(iter(shapes))}'
    else:
        notes.insert(0, 'Output shape: ' + '; '.join(f'{shape} for {", ".join(networks)}'
                                                      for shape, networks in shapes.items()) + '.')
    return title, header, body, csv_rows, notes
