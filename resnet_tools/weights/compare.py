"""Ours next to paddle.vision.models: parameter counts, state-dict layouts and logits.

For each architecture the official model is built with Paddle's random initialisation
(seeded), its BatchNorm layers are given random statistics too, its state dict is
loaded into ours through resnet_tools.weights, and both run the same random batch in
eval mode.  The logits must be bitwise equal: the two networks run the same operators
on the same tensors in the same order.
"""
import os
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import resnet
import numpy as np
import paddle
from paddle import nn
from paddle.vision import models
from tabulate import tabulate

from paddleinfo.profile import profile
from paddleinfo.render import summary_text
from resnet.configs import ARCHS, CIFAR_ARCHS
from resnet_tools.errors import UsageError
from resnet_tools.specs import every_resnet_size
from resnet_tools.weights import formats, load, names
from resnet_tools.weights.names import Array, StateDict

SEED = 0
BATCH = 2
# 64x64 keeps all 13 networks to about a minute on 2 CPU cores.  Every layer
# and weight is used at any input size, so a small one checks the same arithmetic
# (the last feature map is 2x2, so the average pool still averages).
CHECK_INPUT_SIZE = 64
CHECK_MAX_INPUT_SIZE = 512
# Bitwise equality: same operators, same tensors, same order, same process.
TOLERANCE = 0.0

# Short, to fit 100 columns; method_note says what 'keys, shapes' and 'logit diff' are.
HEADERS = ['architecture', 'total\nours', 'total\nofficial', 'trainable\nours',
           'trainable\nofficial', 'keys,\nshapes', 'logit\ndiff', 'verdict']


def arch_to_compare(arch: str) -> str:
    """`arch` if paddle.vision.models has it; a UsageError that says why otherwise."""
    if arch in CIFAR_ARCHS:
        raise UsageError(f'--arch {arch} is one of the CIFAR-10 networks of the paper\'s '
                         f'Section 4.2, which have no paddle.vision counterpart to compare '
                         f'with; compare.py takes {", ".join(ARCHS)}')
    return names.known_arch(arch)


def parameter_counts(model: nn.Layer) -> tuple[int, int]:
    """(total, trainable) parameters, BatchNorm's running statistics counted in the total."""
    total = sum(int(np.prod(p.shape)) for p in model.parameters())
    trainable = sum(int(np.prod(p.shape)) for p in model.parameters() if not p.stop_gradient)
    return total, trainable


def official_model(arch: str, **kwargs: Any) -> nn.Layer:
    return getattr(models, arch)(**kwargs)


def vary_batch_norm(model: nn.Layer, seed: int = SEED) -> None:
    """Give every BatchNorm layer its own random scale, shift, mean and variance.

    Freshly built, all BatchNorm layers of one width are alike (1, 0, 0, 1), so
    loading bn2's tensors into bn1 would go unnoticed; after this it would not.
    """
    rng = np.random.RandomState(seed)
    for layer in model.sublayers():
        if isinstance(layer, nn.BatchNorm2D):
            assert layer.weight is not None and layer.bias is not None
            size = layer.weight.shape
            for tensor, values in ((layer.weight, rng.uniform(0.5, 1.5, size)),
                                   (layer.bias, rng.normal(0, 0.1, size)),
                                   (layer._mean, rng.normal(0, 0.1, size)),
                                   (layer._variance, rng.uniform(0.5, 1.5, size))):
                tensor.set_value(values.astype('float32'))


def random_batch(input_size: tuple[int, int], seed: int = SEED) -> paddle.Tensor:
    """A seeded batch of BATCH images of `input_size`, (height, width)."""
    values = np.random.RandomState(seed).standard_normal((BATCH, 3, *input_size))
    return paddle.to_tensor(values.astype('float32'))


def image_from(values: Sequence[int]) -> tuple[int, int]:
    """(height, width) of --input-size [3] H [W], checked against what every ResNet takes."""
    return every_resnet_size(values, CHECK_MAX_INPUT_SIZE)


@dataclass(frozen=True)
class Comparison:
    """One architecture, ours against paddle.vision's: (total, trainable) parameters of
    each, the number of state-dict keys of each and whether keys and shapes are the same,
    the largest |difference| of their logits (None where they were not run), and whether
    everything agrees."""
    arch: str
    counts: tuple[int, int]
    official_counts: tuple[int, int]
    keys: int
    official_keys: int
    layout_same: bool
    diff: float | None
    agrees: bool


def compare(arch: str, input_size: tuple[int, int] = (CHECK_INPUT_SIZE, CHECK_INPUT_SIZE),
            seed: int = SEED, state: Mapping[str, Array] | None = None) -> Comparison:
    """One row of the table, a Comparison.

    `state`, if given, is a paddle.vision state dict of `arch` (see weights_file) that
    both models run with, instead of seeded random weights.
    """
    paddle.seed(seed)
    num_classes = 1000 if state is None else names.num_classes_of(names.shapes_of(state))
    official = official_model(arch, num_classes=num_classes)
    if state is None:
        vary_batch_norm(official, seed)
    else:
        # Paddle sets numpy arrays as well as Tensors; its hint names Tensors only.
        official.set_state_dict(cast(dict[str, Any], state))
    ours = names.skeleton(arch, num_classes)   # its weights all come from the official model
    counts, official_counts = parameter_counts(ours), parameter_counts(official)
    official_state = official.state_dict()
    ours_shapes = names.layout_shapes(ours, names.OFFICIAL)
    layout_same = ours_shapes == names.shapes_of(official_state)
    diff = None
    if layout_same:
        load.load_official(ours, official_state)
        ours.eval()
        official.eval()
        batch = random_batch(input_size, seed)
        with paddle.no_grad():
            diff = float(paddle.abs(ours(batch) - official(batch)).max())
    agrees = counts == official_counts and layout_same and diff is not None and diff <= TOLERANCE
    return Comparison(arch, counts, official_counts, len(ours_shapes), len(official_state),
                      layout_same, diff, agrees)


def weights_file(path: str | os.PathLike[str], arch: str | None = None
                 ) -> tuple[StateDict, str, tuple[str | None, str | None]]:
    """(paddle.vision's state dict from the .pdparams or .safetensors file `path`, in
    either layout, its architecture, (md5 status, message) as formats.check_md5 gives
    them)."""
    state = formats.read_state_dict(path)
    state, arch, _ = names.in_layout(state, names.OFFICIAL, arch, where=str(path))
    return state, arch, formats.check_md5(path)


def table_row(row: Comparison) -> list[object]:
    if row.layout_same:
        layout = f'{row.keys}, same'
    else:
        layout = f'{row.keys} vs {row.official_keys}, DIFFERENT'
    diff = 'not run' if row.diff is None else f'{row.diff:g}'
    return [row.arch, row.counts[0], row.official_counts[0], row.counts[1],
            row.official_counts[1], layout, diff, 'same' if row.agrees else 'DIFFERENT']


def comparison_table(rows: Iterable[Comparison]) -> str:
    return tabulate([table_row(row) for row in rows], headers=HEADERS, intfmt=',',
                    colalign=('left', 'right', 'right', 'right', 'right', 'left', 'right', 'left'))


def method_note(input_size: tuple[int, int], weights_path: str | None = None) -> str:
    if weights_path is None:
        how = (f'the official model (paddle.seed({SEED}), BatchNorm statistics randomised) '
               f'and ours after loading its state dict,')
    else:
        how = f'the official model and ours, each loaded from {weights_path},'
    return textwrap.fill(
        f'Logits: {how} both in eval mode, on one random batch of '
        f'{BATCH} x 3 x {input_size[0]} x {input_size[1]} (small to keep the run short; every '
        f'layer and weight takes part at any size). "keys, shapes": the number of '
        f'state-dict keys, and whether both have the same keys and shapes; "logit diff": '
        f'the largest |difference| between their logits. "same" needs equal counts, equal '
        f'state-dict keys and shapes, and a logit diff <= {TOLERANCE:g}.', 79,
        break_on_hyphens=False, break_long_words=False)


# --- the per-layer view -----------------------------------------------------------

def per_layer_rows(arch: str) -> list[list[Any]]:
    """[our name, official name, type, weight shape, params] for every layer that
    paddle.summary lists (all but the nn.Sequential containers), in our order."""
    ours = names.skeleton(arch)
    rows: list[list[Any]] = []
    for name, layer in ours.named_sublayers():
        if isinstance(layer, nn.Sequential):
            continue
        official = names.official_layer_name(name, ours.stage_ends)
        weight = getattr(layer, 'weight', None)
        params = sum(int(np.prod(p.shape)) for p in layer._parameters.values() if p is not None)
        rows.append([name, official, type(layer).__name__,
                     '' if weight is None else str(list(weight.shape)), params])
    calls: dict[str | None, list[list[Any]]] = {}
    for row in rows:
        calls.setdefault(row[1], []).append(row)
    for official, shared in calls.items():
        if official is None:
            for row in shared:
                row[1] = '- (paddle.flatten)'
        elif len(shared) > 1:
            for call, row in enumerate(shared, start=1):
                row[1] = f'{official} (call {call} of {len(shared)})'
    return rows


# The legend's explanations wrap to keep it within 100 columns.
LEGEND_WIDTH = 44


def tree_rows(rows: Iterable[list[Any]]) -> list[list[Any]]:
    """per_layer_rows with the layers of a residual block under its row, named within it
    ('  .conv_bn_block1.0' under 'residual_block.3'), to keep the table 100 columns wide."""
    shown, blocks = [], ('', '')
    for row in rows:
        names = row[:2]
        if row[2].endswith('Block'):
            blocks = tuple(name + '.' for name in names)
        elif all(name.startswith(block) for name, block in zip(names, blocks)) and blocks[0]:
            names = ['  .' + name.removeprefix(block) for name, block in zip(names, blocks)]
        else:
            blocks = ('', '')
        shown.append([*names, *row[2:]])
    return shown


def per_layer_table(arch: str) -> str:
    legend = tabulate(names.MAPPING, headers=['ours', 'paddle.vision'],
                      maxcolwidths=[None, LEGEND_WIDTH])
    table = tabulate(tree_rows(per_layer_rows(arch)), intfmt=',', preserve_whitespace=True,
                     headers=['ours', 'paddle.vision', 'type', 'weight shape', 'params'])
    return (legend + '\n\nEvery layer; the rows under a block are named within it: '
            '.conv_bn_block1.0 under\nresidual_block.3 is residual_block.3.conv_bn_block1.0.'
            '\n\n' + table)


ROW = re.compile(r'^\s*([A-Za-z0-9]+)-(\d+)(\s|$)')


def summary_rows(text: str) -> list[list[str]]:
    """The table rows of paddle.summary's text, as lists of their columns."""
    return [re.split(r'\s{2,}', line.strip()) for line in text.splitlines() if ROW.match(line)]


def summary_line(text: str, label: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(label))


def first_projection_block(rows: list[list[str]]) -> list[list[str]]:
    """The rows of the first residual block with a projection shortcut (the most convs)."""
    ends = [i for i, row in enumerate(rows) if row[0].split('-')[0].endswith('Block')]
    starts = [next(i for i, row in enumerate(rows) if row[0].startswith('MaxPool2D')) + 1]
    starts += [end + 1 for end in ends[:-1]]
    blocks = [rows[start:end + 1] for start, end in zip(starts, ends)]
    convs = [sum(row[0].startswith('Conv2D') for row in block) for block in blocks]
    return blocks[convs.index(max(convs))]


def summary_comparison(arch: str,
                       input_size: tuple[int, int] = (CHECK_INPUT_SIZE, CHECK_INPUT_SIZE)
                       ) -> dict[str, Any]:
    """paddle.summary of ours and of the official model: rows per type, and totals."""
    shape = (None, 3, *input_size)
    texts = {'ours': summary_text(profile(lambda: resnet.build(arch), shape))[0],
             'paddle.vision': summary_text(profile(lambda: official_model(arch), shape))[0]}
    rows = {who: summary_rows(text) for who, text in texts.items()}
    types: dict[str, dict[str, int]] = {}
    for who, table in rows.items():
        for row in table:
            kind = cast(re.Match[str], ROW.match(row[0])).group(1)   # as summary_rows' lines did
            types.setdefault(kind, {}).setdefault(who, 0)
            types[kind][who] += 1
    counts = [[kind, by.get('ours', 0), by.get('paddle.vision', 0),
               '' if by.get('ours', 0) == by.get('paddle.vision', 0) else 'differs']
              for kind, by in types.items()]
    lines = [[label, summary_line(texts['ours'], label).split(': ')[1],
              summary_line(texts['paddle.vision'], label).split(': ')[1]]
             for label in ('Total params', 'Trainable params', 'Forward/backward pass size (MB)')]
    return {'counts': counts, 'lines': lines,
            'first block': {who: first_projection_block(table) for who, table in rows.items()}}


WHY_SUMMARIES_DIFFER = (
    "Why the two paddle.summary tables differ (paddle/hapi/model_summary.py): summary() "
    "puts a forward hook on every sublayer except nn.Sequential and nn.LayerList "
    "containers, and each hook writes its row into a dict under the key '<class>-<n>', "
    "n taken from the layer's unique name. A layer that runs several times writes the "
    "same key again: it keeps ONE row, at the place of its first call, showing the "
    "shapes of its last call.",
    "paddle.vision's blocks own one self.relu and call it after bn1, after bn2 (the "
    "bottleneck only) and after the addition, so its table has one ReLU row per block "
    "(right after bn1, but with the shape of the addition's output: see the tables "
    "above). Ours builds a ReLU for each place (conv_bn_block1.2, conv_bn_block2.2, "
    "relu_out), so it lists every one. The official head calls the function "
    "paddle.flatten, which no hook sees; ours has an nn.Flatten layer and a Flatten row.",
    "The official _make_layer builds the downsample conv and BN before the block, and "
    "the block runs them last, so their numbers come before those of the block's own "
    "convs while their rows come after them; ours builds and runs them last. ReLU and "
    "Flatten have no parameters, so the totals agree; the 'Forward/backward pass size' "
    "adds up the output of every row, so the table with fewer rows estimates less "
    "memory. The network computes the same either way.",
)


def summary_report(arch: str, input_size: tuple[int, int] = (CHECK_INPUT_SIZE, CHECK_INPUT_SIZE)) -> str:
    """The text of --per-layer after the mapping table."""
    comparison = summary_comparison(arch, input_size)
    parts = [
        f'paddle.summary of both on a 1 x 3 x {input_size[0]} x {input_size[1]} input, '
        f'rows per layer type:',
        tabulate(comparison['counts'], headers=['type', 'ours', 'paddle.vision', '']),
        tabulate(comparison['lines'], headers=['', 'ours', 'paddle.vision'],
                 disable_numparse=True, colalign=('left', 'right', 'right')),
    ]
    for who, rows in comparison['first block'].items():
        parts.append(f'The first block with a downsample shortcut, in the table of {who}:\n'
                     + tabulate(rows, headers=['Layer (type)', 'Input Shape', 'Output Shape',
                                               'Param #']))
    parts.extend(textwrap.fill(paragraph, 79) for paragraph in WHY_SUMMARIES_DIFFER)
    return '\n\n'.join(parts)
