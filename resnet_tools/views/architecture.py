"""The paper's pictures of ResNet, drawn from a built model: Figure 3's column of
layers with its shortcuts, and Figure 5's residual block.

Every label and every arc is read off the model: its convs' kernel sizes, channels,
groups and strides, its pools, its fc layer, and each block's shortcut (none in a
plain block; `down_sample_block` None for the identity, a ZeroPadShortcut for
option A, a 1x1 conv + BN for a projection).  Output sizes come from one forward
pass at the input size asked for.  resnet_tools.views.drawing draws the result.
"""
import functools
import os
import pathlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

import paddle
from matplotlib.figure import Figure
from paddle import nn

from resnet.blocks import ZeroPadShortcut
from resnet.configs import CIFAR_ARCHS, CIFAR_SHORTCUT
from resnet_tools import specs
from resnet_tools.errors import UsageError
from resnet_tools.specs import display_name
from resnet_tools.views import drawing
from resnet_tools.views.teaching import (HEAD, is_cifar, layer_count, residual_convs,
                                         stage_blocks)

# A stage of more blocks than this is drawn as its first block, a gap and its last.
MAX_BLOCKS = 6
SHORTCUT_KINDS = ('identity', 'projection', 'zeropad')
SHORTCUT_LEGEND = {
    'identity': 'solid arc: identity shortcut, x',
    'projection': 'dashed arc: projection shortcut, a 1x1 conv + BN (Ws x), labelled with its conv',
    'zeropad': 'dashed arc: option A shortcut, x subsampled and padded with zero channels',
}
SUM_LABEL = {None: 'F(x)', 'identity': 'F(x) + x', 'projection': 'F(x) + Ws x',
             'zeropad': 'F(x) + pad(x)'}


# --- labels, the paper's way --------------------------------------------------------

def stride_text(stride: int | list[int] | tuple[int, ...]) -> str:
    stride = stride[0] if isinstance(stride, (list, tuple)) else stride
    return f', /{stride}' if stride > 1 else ''


def conv_label(conv: nn.Conv2D) -> str:
    """'7x7 conv, 64, /2', '3x3 conv, 128, C=32': kernel, filters, groups, stride."""
    kernel = 'x'.join(map(str, conv._kernel_size))
    groups = f', C={conv._groups}' if conv._groups > 1 else ''
    return f'{kernel} conv, {conv._out_channels}{groups}{stride_text(conv._stride)}'


def pool_label(pool: nn.Layer) -> str:
    if isinstance(pool, (nn.AdaptiveAvgPool2D, nn.AdaptiveMaxPool2D)):
        return 'avg pool'
    return f'pool{stride_text(pool.ksize if pool.stride is None else pool.stride)}'


def shortcut_kind(block: nn.Layer) -> str | None:
    """None for a plain block, else 'identity', 'zeropad' or 'projection'."""
    if not block.residual:
        return None
    if block.down_sample_block is None:
        return 'identity'
    if isinstance(block.down_sample_block, ZeroPadShortcut):
        return 'zeropad'
    return 'projection'


def shortcut_label(block: nn.Layer, kind: str | None) -> str:
    shortcut = block.down_sample_block
    if kind == 'projection':
        return conv_label(shortcut[0])
    if kind == 'zeropad':
        channels = residual_convs(block)[-1]._out_channels
        return f'zero-pad to {channels}{stride_text(shortcut.stride)}'
    return ''


def size_text(shape: Sequence[int | None]) -> str:
    return 'x'.join(map(str, shape[-2:]))


def output_shapes(model: nn.Layer, layers: Iterable[nn.Layer],
                  input_shape: Sequence[int | None]) -> dict[int, list[int]]:
    """{id(layer): its output shape} for `layers`, from one forward pass on zeros."""
    shapes: dict[int, list[int]] = {}
    hooks = []
    for layer in layers:
        # The hook returns None, which keeps the output; Paddle's hint asks for a Tensor.
        hooks.append(layer.register_forward_post_hook(cast(
            Any, lambda layer, inputs, output: shapes.__setitem__(id(layer), list(output.shape)))))
    model.eval()
    try:
        with paddle.no_grad():
            model(paddle.zeros([1 if size is None else size for size in input_shape]))
    finally:
        for hook in hooks:
            hook.remove()
    return shapes


# --- Figure 3: a whole network ------------------------------------------------------

class ColumnBuilder:
    """Items, arcs, bands and breaks of a drawing.Column, added row by row."""

    def __init__(self, title: str, box_prefix: str = '') -> None:
        self.column = drawing.Column(title, [])
        self.box_prefix, self.boxes = box_prefix, 0

    @property
    def row(self) -> int:
        return len(self.column.items)

    def add(self, label: str, kind: str = 'box', note: str = '') -> int:
        gid = None
        if kind == 'box':
            self.boxes += 1
            gid = f'{self.box_prefix}box-{self.boxes}'
        self.column.items.append(drawing.Item(label, kind, note, gid))
        return self.row - 1


def network_column(model: nn.Layer, input_shape: Sequence[int | None], title: str,
                   max_blocks: int = MAX_BLOCKS, box_prefix: str = '') -> drawing.Column:
    """Figure 3's column for a ResNet (or CifarResNet) `model`: a box for the stem conv,
    the pools, every conv of every drawn block's residual path and the fc; an arc for
    every shortcut; a band for every stage with its name and output size."""
    stages = stage_blocks(model)
    blocks = [block for _, stage in stages for block in stage]
    heads = [getattr(model, name) for name in ('max_pool', 'avg_pool', 'fc') if hasattr(model, name)]
    shapes = output_shapes(model, [model.conv] + blocks + heads, input_shape)
    numbers = shortcut_numbers(blocks)
    column = ColumnBuilder(title, box_prefix)
    column.add(f'image {size_text(input_shape)}', kind='text')

    first = column.add(conv_label(model.conv))
    column.column.bands.append(drawing.Band(first, first, 'conv1', size_text(shapes[id(model.conv)])))
    bands = column.column.bands
    for stage, (name, stage_members) in enumerate(stages):
        first = column.row
        if stage == 0 and hasattr(model, 'max_pool'):
            # As in the paper's Table 1, the max pool opens conv2_x.
            column.add(pool_label(model.max_pool))
        shown: Sequence[nn.Layer | None] = stage_members
        if 0 < max_blocks < len(stage_members):
            shown = [stage_members[0], None, stage_members[-1]]
        for block in shown:
            column.column.breaks.append(column.row)
            if block is None:
                left_out = len(stage_members) - 2
                convs = left_out * len(residual_convs(stage_members[0]))
                column.add(f'{left_out} blocks ({convs} convs) left out', kind='gap')
                continue
            add_block_rows(column, block, numbers[id(block)])
        bands.append(drawing.Band(first, column.row - 1, name,
                                  size_text(shapes[id(stage_members[-1])]), len(bands)))
    first = column.row
    column.column.breaks.append(first)
    if hasattr(model, 'avg_pool'):
        column.add(pool_label(model.avg_pool))
    if hasattr(model, 'fc'):
        column.add(f'fc {model.fc.weight.shape[1]}')
    if column.row > first:
        last = shapes[id(heads[-1])]
        note = size_text(last) if len(last) == 4 else f'{last[-1]}-d'
        bands.append(drawing.Band(first, column.row - 1, HEAD, note, len(bands)))
    return column.column


def shortcut_numbers(blocks: Iterable[nn.Layer]) -> dict[int, tuple[str | None, int | None]]:
    """{id(block): (kind, K)}: the K-th shortcut of its kind, in order of depth, over
    every block of the model (so a block keeps its number when others are left out)."""
    counts: dict[str | None, int] = dict.fromkeys(SHORTCUT_KINDS, 0)
    numbers: dict[int, tuple[str | None, int | None]] = {}
    for block in blocks:
        kind = shortcut_kind(block)
        if kind:
            counts[kind] += 1
        numbers[id(block)] = (kind, counts.get(kind))
    return numbers


def add_block_rows(column: ColumnBuilder, block: nn.Layer, number: tuple[str | None, int | None]) -> None:
    kind, count = number
    first = column.row
    for conv in residual_convs(block):
        column.add(conv_label(conv))
    if kind:
        column.column.arcs.append(drawing.Arc(first, column.row - 1, kind != 'identity',
                                              f'shortcut-{kind}-{count}',
                                              shortcut_label(block, kind)))


def kinds_in(columns: Iterable[drawing.Column]) -> list[str]:
    drawn = {arc.gid.split('-')[1] for column in columns for arc in column.arcs}
    return [kind for kind in SHORTCUT_KINDS if kind in drawn]


def describe(arch: str, model: nn.Layer, input_shape: Sequence[int | None], variant: str | None) -> str:
    bottleneck = any(len(residual_convs(block)) == 3 for block in model.residual_block)
    classes = f', {model.fc.weight.shape[1]} classes' if hasattr(model, 'fc') else ', no fc'
    return (f'{arch}{f" ({variant})" if bottleneck and variant else ""}, '
            f'input {input_shape[1]}x{size_text(input_shape)}{classes}')


# What the bands left of the column say: Table 1 names the ImageNet stages; Section 4.2
# only describes the CIFAR networks' three stages (maps of 32, 16 and 8), so they are numbered.
STAGE_LEGEND = {False: "left of each stage: its name in the paper's Table 1 and the size of its output",
                True: "left of each stage: its number (the paper's Section 4.2 stacks three) and "
                      "the size of its output"}


def figure_title(arch: str) -> str:
    """'ResNet-152', or 'ResNet-20 (CIFAR-10)' and 'plain-20 (CIFAR-10)' as Section 4.2 names them."""
    return f'{display_name(arch)} (CIFAR-10)' if arch in CIFAR_ARCHS else display_name(arch)


def network_figure(arch: str, build_model: Callable[[], nn.Layer], input_shape: Sequence[int | None],
                   variant: str | None = None, max_blocks: int = MAX_BLOCKS, columns: int = 1,
                   build_plain: Callable[[], nn.Layer] | None = None
                   ) -> tuple[Figure, list[drawing.Column]]:
    """Figure 3 for one network, or, given `build_plain`, its plain twin beside it."""
    with paddle.utils.unique_name.guard():
        model = build_model()
    depth = layer_count(model)[1]
    if build_plain is None:
        drawn = [network_column(model, input_shape, figure_title(arch), max_blocks)]
    else:
        with paddle.utils.unique_name.guard():
            plain = build_plain()
        drawn = [network_column(plain, input_shape, f'{depth}-layer plain', max_blocks, 'plain-'),
                 network_column(model, input_shape, f'{depth}-layer residual', max_blocks)]
    legend = [describe(arch, model, input_shape, variant), STAGE_LEGEND[is_cifar(model)]]
    legend += [SHORTCUT_LEGEND[kind] for kind in kinds_in(drawn)]
    pieces = [piece for column in drawn for piece in drawing.wrap(column, columns)]
    return drawing.draw(pieces, legend), drawn


# --- Figure 5: one block ------------------------------------------------------------

def block_column(block: nn.Layer, input_shape: Sequence[int | None], title: str) -> drawing.Column:
    """Figure 5 for one block: x, the convs of F(x) with BN and ReLU between them and
    the shape each puts out, the shortcut, the addition and the final ReLU."""
    convs = residual_convs(block)
    shapes = output_shapes(block, convs + [block], input_shape)
    kind = shortcut_kind(block)
    column = ColumnBuilder(title)
    column.add('x', kind='text', note='x'.join(map(str, input_shape[1:])))
    first = column.row
    for index, conv in enumerate(convs):
        column.add(conv_label(conv), note='x'.join(map(str, shapes[id(conv)][1:])))
        column.add('BN, ReLU' if index + 1 < len(convs) else 'BN', kind='text')
    column.column.bands.append(drawing.Band(first, column.row - 1, 'F(x)'))
    add = column.add(SUM_LABEL[kind], kind='add')
    if kind:
        column.column.arcs.append(drawing.Arc(first, add - 1, kind != 'identity',
                                              f'shortcut-{kind}-1',
                                              shortcut_label(block, kind) or 'identity x',
                                              into=add))
    column.add('ReLU', kind='text', note='x'.join(map(str, shapes[id(block)][1:])))
    return column.column


def block_figure(name: str, build_block: Callable[[], nn.Layer],
                 input_shape: Sequence[int | None]) -> tuple[Figure, drawing.Column]:
    with paddle.utils.unique_name.guard():
        block = build_block()
    column = block_column(block, input_shape, name)
    legend = [f'input {"x".join(map(str, input_shape[1:]))}; F(x): the residual path',
              'left: the shape each layer puts out, channels x height x width']
    legend += [SHORTCUT_LEGEND[kind] for kind in kinds_in([column])]
    return drawing.draw([column], legend), column


# --- the choice of network, checked as summary.py checks it -----------------------

def network_drawing(layers: int | str | None = None, arch: str | None = None,
                    input_size: Sequence[int] | None = None, num_classes: int | None = None,
                    variant: str | None = None, shortcut: str | None = None, compare: bool = False,
                    max_blocks: int = MAX_BLOCKS, columns: int = 1
                    ) -> tuple[Figure, list[drawing.Column]]:
    """(figure, drawn columns) of Figure 3 for the network the scripts' arguments name:
    `--layers` or `--arch` (a paddle.vision or a CIFAR name), `--shortcut` to build it
    with another option, `compare` to put its plain twin beside it.  None means the
    network's default (224 and 1000 classes, 32 and 10 for CIFAR).  The arguments are
    checked by specs.network_spec, so the errors read as summary.py's."""
    spec = functools.partial(specs.network_spec, layers, arch, input_size, num_classes, variant)
    chosen = spec(shortcut)
    plain = None
    if compare:
        if shortcut == 'none':
            raise UsageError('--compare puts the plain network beside the residual one; '
                             'leave out --shortcut none')
        if (shortcut is None and chosen.name in CIFAR_ARCHS
                and CIFAR_ARCHS[chosen.name]['shortcut'] == 'none'):
            # A plain CIFAR network's residual twin is the paper's, with option A.
            chosen = spec(CIFAR_SHORTCUT)
        plain = spec('none').build
    return network_figure(chosen.name, chosen.build, chosen.input_shape, chosen.variant,
                          max_blocks, columns, plain)


def block_drawing(block: str = 'basic', in_channels: int = 64, out_channels: int = 128, stride: int = 2,
                  input_size: Sequence[int] | None = None, variant: str | None = None
                  ) -> tuple[Figure, drawing.Column]:
    """(figure, drawn column) of Figure 5 for the block summary.py's --block arguments name."""
    spec = specs.block_spec(block, in_channels, out_channels, stride, input_size, variant)
    return block_figure(spec.name, spec.build, spec.input_shape)


def contents(columns: Iterable[drawing.Column]) -> str:
    """'ResNet-34: 36 boxes, 13 identity + 3 projection shortcuts', a part per column."""
    parts = []
    for column in columns:
        boxes = sum(item.kind == 'box' for item in column.items)
        kinds = [arc.gid.split('-')[1] for arc in column.arcs]
        arcs = ' + '.join(f'{kinds.count(kind)} {kind}' for kind in SHORTCUT_KINDS if kind in kinds)
        plural = 's' if len(kinds) != 1 else ''
        parts.append(f'{column.title}: {boxes} boxes, {arcs or "no"} shortcut{plural}')
    return '; '.join(parts)


# The figures both READMEs show: ResNet-34 beside its plain twin as in the paper's
# Figure 3, ResNet-50, and the two blocks of Figure 5 as the paper draws them
# (identity shortcuts, on the 56x56 maps of conv2_x).
README_FIGURES: dict[str, tuple[Callable[..., tuple[Figure, object]], dict[str, Any]]] = {
    'resnet34.svg': (network_drawing, {'arch': 'resnet34', 'compare': True}),
    'resnet50.svg': (network_drawing, {'arch': 'resnet50'}),
    'basic_block.svg': (block_drawing, {'block': 'basic', 'in_channels': 64, 'out_channels': 64,
                                        'stride': 1, 'input_size': [56]}),
    'bottleneck_block.svg': (block_drawing, {'block': 'bottleneck', 'in_channels': 256,
                                             'out_channels': 256, 'stride': 1,
                                             'input_size': [56]}),
}


def readme_figures(directory: str | os.PathLike[str]) -> list[pathlib.Path]:
    """Draw every figure of README_FIGURES into `directory`, replacing what is there."""
    directory = pathlib.Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f'cannot create {directory}: {error.strerror}')
    written = []
    for name, (make, arguments) in README_FIGURES.items():
        figure, _ = make(**arguments)
        written.append(drawing.save(figure, directory / name, force=True))
    return written
