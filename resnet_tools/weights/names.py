"""One set of weights, two sets of names: this repository's and paddle.vision's.

Both networks hold the same tensors in the same order; only the names differ, by
the rules in MAPPING.  `official_layer_name` applies them to one of our layer
names, finding the stage s and index j of block i from the model's `stage_ends`;
so the mapping of every network comes from its structure, not from a table typed
out per depth.  The architecture of a state dict is recognised from its shapes.
The CIFAR-10 networks (resnet.configs.CIFAR_ARCHS) have no paddle.vision counterpart:
their weights come in our layout only.
"""
import functools

from collections.abc import Iterable, Mapping, Sequence
from typing import TypeAlias

import resnet
import numpy as np
import paddle
from paddle import nn

from resnet.configs import ARCHS, CIFAR_ARCHS, CIFAR_NUM_CLASSES, cifar_layers_config
from resnet_tools.errors import WeightsError
from resnet_tools.specs import arch_name


OURS, OFFICIAL = 'ours', 'official'
LAYOUT_NAMES = {OURS: "this repository's layout", OFFICIAL: "paddle.vision's layout"}


MAPPING = (
    ('conv, bn, relu, max_pool', 'conv1, bn1, relu, maxpool'),
    ('residual_block.{i}', 'layer{s}.{j}: block j of stage s (conv{s+1}_x in the paper)'),
    ('residual_block.{i}.conv_bn_block{k}.0, .1', 'layer{s}.{j}.conv{k}, .bn{k}'),
    ('residual_block.{i}.conv_bn_block{k}.2, .relu_out',
     'layer{s}.{j}.relu: one ReLU, which the block calls 2 or 3 times'),
    ('residual_block.{i}.down_sample_block.0, .1', 'layer{s}.{j}.downsample.0, .1'),
    ('avg_pool, flatten, fc', 'avgpool, (the function paddle.flatten), fc'),
)

# Our top-level layers and their official names.  Ours has an nn.Flatten layer where
# the official forward() calls the function paddle.flatten, so it has no counterpart.
TOP_LEVEL = {'conv': 'conv1', 'bn': 'bn1', 'relu': 'relu', 'max_pool': 'maxpool',
             'avg_pool': 'avgpool', 'fc': 'fc', 'flatten': None}
# The three parts of our conv_bn_block{k} (conv, BN, ReLU) in the official block.
CONV_BN_PARTS = ('conv{k}', 'bn{k}', 'relu')
SHOW_KEYS = 3          # how many missing or unexpected keys an error lists
PLAUSIBLE = 0.5        # below this share of matching shapes a file is no ResNet of ours

# A state dict's tensors: Paddle's, or numpy arrays as a .safetensors file gives them.
Array: TypeAlias = paddle.Tensor | np.ndarray
StateDict: TypeAlias = dict[str, Array]
# {key: shape} of a state dict.
Shapes: TypeAlias = dict[str, tuple[int, ...]]


def stage_and_index(block: int, stage_ends: Sequence[int]) -> tuple[int, int]:
    """(s, j) such that residual_block[block] is layer{s}[j] in paddle.vision."""
    start = 0
    for stage, end in enumerate(stage_ends, start=1):
        if block <= end:
            return stage, block - start
        start = end + 1
    raise IndexError(f'residual_block has no block {block}')


def official_layer_name(name: str, stage_ends: Sequence[int]) -> str | None:
    """paddle.vision's name for our layer `name`, or None where it has no such layer.

    Our nn.Sequential containers (residual_block, conv_bn_block{k}) and nn.Flatten have
    no official counterpart; the official ReLU is one layer per block, shared.
    """
    parts = name.split('.')
    if parts[0] != 'residual_block':
        return TOP_LEVEL[parts[0]] if len(parts) == 1 else None
    if len(parts) == 1:
        return None
    stage, index = stage_and_index(int(parts[1]), stage_ends)
    block = f'layer{stage}.{index}'
    if len(parts) == 2:
        return block
    part, rest = parts[2], parts[3:]
    if part == 'relu_out':
        return f'{block}.relu'
    if part == 'down_sample_block':
        return '.'.join([block, 'downsample', *rest])
    if not rest:
        return None
    k = part[len('conv_bn_block'):]
    return f'{block}.{CONV_BN_PARTS[int(rest[0])].format(k=k)}'


def key_map(model: nn.Layer) -> dict[str, str]:
    """{our state-dict key: the official key} for every tensor of `model`, in order."""
    mapping = {}
    for key in model.state_dict():
        layer, _, tensor = key.rpartition('.')
        mapping[key] = f'{official_layer_name(layer, model.stage_ends)}.{tensor}'
    return mapping


def skeleton(arch: str, num_classes: int = 1000, in_channels: int = 3) -> nn.Layer:
    """Our `arch` with shapes but no initialised weights: cheap, for the names and shapes.

    `in_channels` is the CIFAR networks' only (1 for grey images); a ResNet takes colour."""
    options = {'in_channels': in_channels} if arch in CIFAR_ARCHS else {}
    with paddle.LazyGuard():
        return resnet.build(arch, num_classes=num_classes, **options)


def layout_shapes(model: nn.Layer, layout: str | None) -> Shapes:
    """{key: shape} of our `model`'s state dict, under the names of `layout`."""
    mapping = key_map(model)
    return {(key if layout == OURS else mapping[key]): tuple(tensor.shape)
            for key, tensor in model.state_dict().items()}


@functools.lru_cache(maxsize=None)
def expected_shapes(arch: str, layout: str | None, num_classes: int = 1000,
                    in_channels: int = 3) -> Shapes:
    return layout_shapes(skeleton(arch, num_classes, in_channels), layout)


def shapes_of(state: Mapping[str, Array]) -> Shapes:
    return {key: tuple(value.shape) for key, value in state.items()}


def detect_layout(state: Mapping[str, object]) -> str | None:
    """OURS or OFFICIAL from the key names, or None if they are neither."""
    if 'conv1.weight' in state or any(key.startswith('layer1.') for key in state):
        return OFFICIAL
    if 'conv.weight' in state or any(key.startswith('residual_block.') for key in state):
        return OURS
    return None


def block_count(shapes: Iterable[str]) -> int:
    """How many residual blocks the keys of `shapes`, in our layout, name."""
    indices = {key.split('.')[1] for key in shapes if key.startswith('residual_block.')}
    return len(indices)


def candidates(shapes: Mapping[str, tuple[int, ...]], layout: str | None) -> list[str]:
    """The architectures a state dict in `layout` may be of.  A CIFAR network (ours only)
    is a candidate when it has as many blocks: a ResNet-1202 is slow to build for nothing."""
    if layout != OURS:
        return list(ARCHS)
    blocks = block_count(shapes)
    return list(ARCHS) + [arch for arch, options in CIFAR_ARCHS.items()
                          if sum(cifar_layers_config[options['layers']]['num_blocks']) == blocks]


def guess_arch(shapes: Mapping[str, tuple[int, ...]], layout: str | None) -> tuple[str, float]:
    """(the architecture whose state dict looks most like `shapes`, how much alike, 0..1).

    Alike means: keys with the same shape, over all keys of either.  A ResNet-50 file
    shares every key with ResNet-101, so the share, not the count, decides.  A CIFAR
    network with shortcut 'A' has no more tensors than its plain twin: of the two,
    the residual one is named.
    """
    def likeness(arch: str) -> float:
        expected = expected_shapes(arch, layout)
        same = sum(expected.get(key) == shape for key, shape in shapes.items())
        return same / len(expected.keys() | shapes.keys())
    scores = {arch: likeness(arch) for arch in candidates(shapes, layout)}
    best = max(scores, key=scores.__getitem__)
    return best, scores[best]


def num_classes_of(shapes: Mapping[str, tuple[int, ...]]) -> int:
    """The fc layer's outputs in a state dict (fc.weight in both layouts), or 0 if none."""
    weight = shapes.get('fc.weight')
    return weight[1] if weight else 0


def network_options(shapes: Mapping[str, tuple[int, ...]], arch: str) -> dict[str, int]:
    """{'num_classes': ..., 'in_channels': ...} of the `arch` that a state dict fits."""
    if arch not in CIFAR_ARCHS:
        return {'num_classes': num_classes_of(shapes), 'in_channels': 3}
    # Every CIFAR network has an fc layer; a file without one misses its keys.
    stem = shapes.get('conv.weight')
    return {'num_classes': num_classes_of(shapes) or CIFAR_NUM_CLASSES,
            'in_channels': stem[1] if stem and len(stem) == 4 else 3}


def build_hint(arch: str) -> str:
    return f'resnet.{arch}()' if arch in ARCHS else f"resnet.build('{arch}')"


def listed(keys: Iterable[str]) -> str:
    keys = sorted(keys)
    more = f' and {len(keys) - SHOW_KEYS} more' if len(keys) > SHOW_KEYS else ''
    return ', '.join(keys[:SHOW_KEYS]) + more


def check_fits(shapes: Mapping[str, tuple[int, ...]], expected: Mapping[str, tuple[int, ...]],
               arch: str, where: str) -> None:
    """Raise a WeightsError saying how `shapes` (from `where`) differ from `expected`."""
    if shapes == expected:
        return
    missing, unexpected = expected.keys() - shapes.keys(), shapes.keys() - expected.keys()
    wrong = [key for key in expected if key in shapes and shapes[key] != expected[key]]
    layout = detect_layout(shapes)
    guess, likeness = guess_arch(shapes, layout)
    if guess != arch and likeness >= PLAUSIBLE:
        raise WeightsError(f'{where} holds {guess} weights (judging by their shapes), '
                           f'not {arch}: use --arch {guess}, or {build_hint(guess)}')
    if missing:
        raise WeightsError(f'{where} misses {len(missing)} key(s) of {arch}: {listed(missing)}')
    if unexpected:
        raise WeightsError(f'{where} has {len(unexpected)} key(s) that {arch} does not have: '
                           f'{listed(unexpected)}')
    key = wrong[0]
    causes = likely_causes(shapes, expected, wrong)
    raise WeightsError(f'{where}: shape mismatch for {key}: {list(shapes[key])} in the file, '
                       f'{list(expected[key])} in {arch}'
                       + (f'; the weights are of a network built with {" and ".join(causes)}'
                          + (' (a run on the 1-channel digits?)' if 'in_channels=1' in causes else '')
                          + ': build it so, or load a training run with '
                            'resnet_tools.paper.load_run(DIR)' if causes else ''))


def likely_causes(shapes: Mapping[str, tuple[int, ...]], expected: Mapping[str, tuple[int, ...]],
                  wrong: Iterable[str]) -> list[str]:
    """['in_channels=1', 'num_classes=10']: the build options that explain the `wrong`
    shapes, if the stem conv's input or the fc layer's output is what differs."""
    causes = []
    for key in wrong:
        have, want = shapes[key], expected[key]
        differs = [axis for axis in range(len(want)) if have[axis] != want[axis]] \
            if len(have) == len(want) else None
        if key in ('conv.weight', 'conv1.weight') and differs == [1]:
            causes.append(f'in_channels={have[1]}')
        elif key == 'fc.weight' and differs == [1]:
            causes.append(f'num_classes={have[1]}')
    return causes


def known_arch(arch: str) -> str:
    return arch_name(arch=arch)


def identify(state: Mapping[str, Array], layout: str | None, arch: str | None = None,
             where: str = 'the state dict') -> tuple[str, int]:
    """(architecture, num_classes) of `state`, a state dict in `layout`.

    `arch` is recognised from the shapes when not given, and checked when it is.
    """
    shapes = shapes_of(state)
    if arch is None:
        arch, likeness = guess_arch(shapes, layout)
        if likeness < PLAUSIBLE:
            raise WeightsError(f'{where} does not look like any ResNet here: '
                               f'at best {likeness:.0%} of its shapes fit {arch}')
    elif arch not in CIFAR_ARCHS:
        known_arch(arch)
    options = network_options(shapes, arch)
    check_fits(shapes, expected_shapes(arch, layout, **options), arch, where)
    return arch, options['num_classes']


def no_official_layout(arch: str) -> WeightsError:
    return WeightsError(f'{arch} has no paddle.vision counterpart, so its weights come in '
                        f"{LAYOUT_NAMES[OURS]} only")


def in_layout(state: Mapping[str, Array], to: str, arch: str | None = None,
              where: str = 'the state dict') -> tuple[StateDict, str, int]:
    """(`state` under the names of layout `to`, its architecture, its num_classes).

    The tensors are the same objects, in the order of the network's state dict.
    """
    layout = detect_layout(state)
    arch, _ = identify(state, layout, arch, where)
    if to == OFFICIAL and arch in CIFAR_ARCHS:
        raise no_official_layout(arch)
    options = network_options(shapes_of(state), arch)
    # A safetensors file keeps its tensors in an order of its own: take the network's.
    pairs = key_map(skeleton(arch, **options)).items()     # (ours, official)
    source, target = (0 if layout == OURS else 1), (0 if to == OURS else 1)
    state = {pair[target]: state[pair[source]] for pair in pairs}
    return state, arch, options['num_classes']


def convert(state: Mapping[str, Array], to: str, arch: str | None = None,
            where: str = 'the state dict', same_layout: bool = False) -> tuple[StateDict, str]:
    """(`state` renamed from the other layout into layout `to`, its architecture).

    `same_layout` lets a state dict already in layout `to` through, for a change of
    the file format only.
    """
    if detect_layout(state) == to and not same_layout:
        raise WeightsError(f'{where} is in {LAYOUT_NAMES[to]} already (an output file of '
                           f'the other format, .safetensors or .pdparams, would change '
                           f'only the format)')
    state, arch, _ = in_layout(state, to, arch, where)
    return state, arch


def model_arch(model: nn.Layer) -> str:
    """The name of the network `model` is: a paddle.vision name, judging by its shapes,
    or the CIFAR network of its depth and shortcuts."""
    if isinstance(model, resnet.CifarResNet):
        residual = model.residual_block[0].residual
        return next(arch for arch, options in CIFAR_ARCHS.items()
                    if options['layers'] == model.layers
                    and (options['shortcut'] != 'none') == residual)
    return guess_arch(layout_shapes(model, OURS), OURS)[0]
