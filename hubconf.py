"""paddle.hub entry points: every ResNet of this repository, under its paddle.vision name.

    import paddle
    paddle.hub.list('path/to/this/repo', source='local')
    paddle.hub.help('path/to/this/repo', 'resnet50', source='local')
    model = paddle.hub.load('path/to/this/repo', 'resnet50', source='local', num_classes=10)

Each entry point below is its name and a one-line docstring: `_entry_point` turns
it into a builder of the network of that name, and adds to the docstring the
network's shape, read from resnet.configs, and the arguments.  The CIFAR-10 networks of
the paper's Section 4.2, cifar_resnet20 .. cifar_plain1202, are made at the end
from resnet.configs.CIFAR_ARCHS by `_cifar_entry_point`, docstring and all.  paddle.hub lists every
public callable of this module as an entry point, so everything else starts with
an underscore.
"""
import textwrap as _textwrap
from collections.abc import Callable as _Callable
from typing import Any as _Any

import resnet as _resnet
# paddle.hub takes this repository off sys.path once this file is loaded: import all now.
import resnet_tools.weights as _weights
from resnet.configs import (ARCHS as _ARCHS, CIFAR_ARCHS as _CIFAR_ARCHS,
                            CIFAR_NUM_CLASSES as _CIFAR_NUM_CLASSES,
                            cifar_layers_config as _cifar_layers_config,
                            layers_config as _layers_config)
from paddle import nn as _nn   # after resnet, which imports paddle without its ccache notice

dependencies = ['paddle', 'numpy', 'safetensors']

_ARGS = """
    Args:
        pretrained: None for random weights, or the path of a weights file for this
            network, in paddle.vision's key names or this repository's: a .safetensors
            file (read without unpickling), or a .pdparams file such as paddle.vision's
            resnet50.pdparams (a pickle: only from a source you trust). Nothing is
            downloaded.
        num_classes: outputs of the fc layer (default 1000); 0 or less drops it.
        with_pool: keep the global average pool (default True).
        variant: 'v1.5' (stride on the 3x3 conv, as paddle.vision) or 'v1' (the paper).

    The returned model also has forward_features(x, stages=(2, 3, 4, 5)), which
    gives the feature maps C2..C5 as {stage: tensor}.
"""


def _entry_point(builder: _Callable[[], None]) -> _Callable[..., _nn.Layer]:
    """Build the architecture the entry point is named after; describe it from configs."""
    arch = builder.__name__
    config = _ARCHS[arch]
    stages = _layers_config[config['layers']]
    shape = (f"{stages['block_type']}, blocks per stage (conv2_x..conv5_x) "
             f"{', '.join(map(str, stages['num_blocks']))}, "
             f"stage outputs {', '.join(map(str, stages['out_channels']))} channels")
    if 'groups' in config or 'width_per_group' in config:
        shape += (f"; the bottleneck's 3x3 conv has groups={config.get('groups', 1)}, "
                  f"width_per_group={config.get('width_per_group', 64)} (paddle.vision's terms)")
    assert builder.__doc__ is not None
    return _builder(arch, builder.__doc__.strip(), shape + '.', _ARGS)


def _builder(arch: str, title: str, shape: str, args: str) -> _Callable[..., _nn.Layer]:
    """The entry point of `arch`: resnet.build under that name, or with weights
    resnet_tools.weights.pretrained; its docstring the title, the shape wrapped, and the
    arguments."""
    def build(pretrained: _weights.load.Source | None = None, **kwargs: _Any) -> _nn.Layer:
        if pretrained is None or pretrained is False:   # paddle.vision's default
            return _resnet.build(arch, **kwargs)
        return _weights.pretrained(arch, pretrained, **kwargs)

    build.__name__ = build.__qualname__ = arch
    shape = _textwrap.fill(shape, 84, initial_indent='    ', subsequent_indent='    ')
    build.__doc__ = f'{title}\n\n{shape}\n{args}'
    return build


@_entry_point
def resnet18() -> None:
    """ResNet-18 (He et al., 2015), as paddle.vision.models.resnet18."""


@_entry_point
def resnet34() -> None:
    """ResNet-34 (He et al., 2015), as paddle.vision.models.resnet34."""


@_entry_point
def resnet50() -> None:
    """ResNet-50 (He et al., 2015), the article's network, as paddle.vision.models.resnet50."""


@_entry_point
def resnet101() -> None:
    """ResNet-101 (He et al., 2015), as paddle.vision.models.resnet101."""


@_entry_point
def resnet152() -> None:
    """ResNet-152 (He et al., 2015), as paddle.vision.models.resnet152."""


@_entry_point
def resnext50_32x4d() -> None:
    """ResNeXt-50 32x4d (Xie et al., 2017), as paddle.vision.models.resnext50_32x4d."""


@_entry_point
def resnext50_64x4d() -> None:
    """ResNeXt-50 64x4d (Xie et al., 2017), as paddle.vision.models.resnext50_64x4d."""


@_entry_point
def resnext101_32x4d() -> None:
    """ResNeXt-101 32x4d (Xie et al., 2017), as paddle.vision.models.resnext101_32x4d."""


@_entry_point
def resnext101_64x4d() -> None:
    """ResNeXt-101 64x4d (Xie et al., 2017), as paddle.vision.models.resnext101_64x4d."""


@_entry_point
def resnext152_32x4d() -> None:
    """ResNeXt-152 32x4d (Xie et al., 2017), as paddle.vision.models.resnext152_32x4d."""


@_entry_point
def resnext152_64x4d() -> None:
    """ResNeXt-152 64x4d (Xie et al., 2017), as paddle.vision.models.resnext152_64x4d."""


@_entry_point
def wide_resnet50_2() -> None:
    """Wide ResNet-50-2 (Zagoruyko and Komodakis, 2016), as paddle.vision.models.wide_resnet50_2."""


@_entry_point
def wide_resnet101_2() -> None:
    """Wide ResNet-101-2 (Zagoruyko and Komodakis, 2016), as paddle.vision.models.wide_resnet101_2."""


_CIFAR_ARGS = f"""
    Args:
        pretrained: None for random weights, or the path of a checkpoint of this network
            in this repository's layout, .safetensors or .pdparams (a scripts/train.py
            run writes OUTPUT/checkpoint-000K/model.safetensors; resnet_tools.paper.load_run
            builds a run's network with its options); nothing is downloaded.
        num_classes: outputs of the fc layer (default {_CIFAR_NUM_CLASSES}).
        in_channels: channels of the input image (default 3; 1 for grey images such as
            scikit-learn's digits, as scripts/train.py --data digits trains it).
        shortcut: 'A' (zero-padding shortcuts, the paper's choice for CIFAR-10), 'B', 'C',
            or 'none' (the plain network).
"""


def _cifar_entry_point(arch: str) -> _Callable[..., _nn.Layer]:
    """The builder of the CIFAR network `arch`, its docstring made from configs."""
    config = _CIFAR_ARCHS[arch]
    layers = config['layers']
    stages = _cifar_layers_config[layers]
    blocks = stages['num_blocks'][0]
    if config['shortcut'] == 'none':
        title = f'Plain-{layers}, the plain twin of ResNet-{layers} without shortcuts (Figure 6)'
    else:
        title = f'ResNet-{layers} with shortcut option {config["shortcut"]}'
    shape = (f"6n+2 = {layers} layers, n = {blocks}: a 3x3 conv, then {stages['block_type']}s "
             f"({', '.join(map(str, stages['num_blocks']))} per stage) on "
             f"{', '.join(map(str, stages['out_channels']))} channels, global average pool, fc.")
    return _builder(arch, f'{title}, for CIFAR-10 (He et al., 2015, Section 4.2).', shape,
                    _CIFAR_ARGS)


globals().update({_arch: _cifar_entry_point(_arch) for _arch in _CIFAR_ARCHS})
