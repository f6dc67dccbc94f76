"""Weights into a network: a file or a state dict, in either layout, checked against the
network before anything is set; nothing is downloaded."""
import os
import warnings

from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias, cast

from paddle import nn

import resnet
from resnet.configs import CIFAR_ARCHS
from resnet_tools.errors import WeightsError, WeightsWarning
from resnet_tools.weights.formats import check_dtypes, check_md5, read_state_dict
from resnet_tools.weights.names import (LAYOUT_NAMES, OFFICIAL, OURS, Array, check_fits,
                                        detect_layout, key_map, layout_shapes, model_arch,
                                        no_official_layout, shapes_of)

# Where weights come from: a .pdparams or .safetensors path, or a state dict.
Source: TypeAlias = str | os.PathLike[str] | Mapping[str, Array]


def load_weights(model: nn.Layer, source: Source, layouts: Sequence[str] = (OURS, OFFICIAL)) -> str:
    """Load a .pdparams or .safetensors file (or a state dict) in either layout into
    our `model`; a CIFAR network takes our layout only.

    A .safetensors file is read without unpickling anything.  A .pdparams file is a
    pickle, unpickled by paddle.load, which runs any code the file holds: load one only
    from a source you trust, or convert it once with scripts/convert.py (the scripts
    themselves take .safetensors only).

    Returns the layout the weights were in.  A file named like one of Paddle's
    published files whose md5 differs gives a WeightsWarning.  Anything that does not
    fit the model (keys, shapes, a dtype other than float32) raises a WeightsError
    naming what is wrong.
    """
    arch = model_arch(model)
    if arch in CIFAR_ARCHS:
        if OURS not in layouts:
            raise no_official_layout(arch)
        layouts = (OURS,)
    state: Mapping[str, Array]
    if isinstance(source, Mapping):
        state, where = source, 'the state dict'
        check_dtypes(state, where)      # read_state_dict checks a file's
    elif not isinstance(source, (str, os.PathLike)):
        raise WeightsError(f'weights come from a .pdparams or .safetensors path or a state '
                           f'dict, not {source!r}: nothing is downloaded here')
    else:
        state, where = read_state_dict(source), str(source)
        status, message = check_md5(source)
        if status == 'mismatch':
            assert message is not None
            warnings.warn(message, WeightsWarning, stacklevel=2)
    layout = detect_layout(state)
    if layout not in layouts:
        why = f' ({arch} has no paddle.vision counterpart)' if arch in CIFAR_ARCHS else ''
        raise WeightsError(f'{where} is not in '
                           f'{" or ".join(LAYOUT_NAMES[name] for name in layouts)}{why}')
    assert layout is not None
    check_fits(shapes_of(state), layout_shapes(model, layout), arch, where)
    if layout == OFFICIAL:
        state = {ours: state[official] for ours, official in key_map(model).items()}
    # Paddle sets numpy arrays as well as Tensors; its hint names Tensors only.
    model.set_state_dict(cast(dict[str, Any], state))
    return layout


def pretrained(arch: str, source: Source, **kwargs: Any) -> nn.Layer:
    """The network `arch`, built by resnet.build with `kwargs`, holding the weights of
    `source`: a .pdparams or .safetensors path in either layout, or a state dict.  A
    .pdparams file is unpickled (see load_weights): only from a source you trust.
    Nothing is downloaded: paddle.vision's pretrained=True is an error here."""
    model = resnet.build(arch, **kwargs)
    load_weights(model, source)
    return model


def load_official(model: nn.Layer, source: Source) -> str:
    """Load paddle.vision's weights (a .pdparams or .safetensors path, or a state dict)
    into our `model`, refusing our layout.  Nothing is downloaded."""
    return load_weights(model, source, layouts=(OFFICIAL,))
