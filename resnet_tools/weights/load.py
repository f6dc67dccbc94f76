"""Weights into a network: a file or a state dict, in either layout, checked against the
network before anything is set; nothing is downloaded."""
import os
import warnings

import resnet
from resnet.configs import CIFAR_ARCHS
from resnet_tools.errors import WeightsError, WeightsWarning
from resnet_tools.weights.formats import check_md5, read_state_dict
from resnet_tools.weights.names import (LAYOUT_NAMES, OFFICIAL, OURS, check_fits, detect_layout,
                                        key_map, layout_shapes, model_arch, no_official_layout,
                                        shapes_of)


def load_weights(model, source, layouts=(OURS, OFFICIAL)):
    """Load a .pdparams or .safetensors file (or a state dict) in either layout into
    our `model`; a CIFAR network takes our layout only.

    Returns the layout the weights were in.  A file named like one of Paddle's
    published files whose md5 differs gives a WeightsWarning.  Anything that does not
    fit the model raises a WeightsError naming what is wrong.
    """
    arch = model_arch(model)
    if arch in CIFAR_ARCHS:
        if OURS not in layouts:
            raise no_official_layout(arch)
        layouts = (OURS,)
    if isinstance(source, dict):
        state, where = source, 'the state dict'
    elif not isinstance(source, (str, os.PathLike)):
        raise WeightsError(f'weights come from a .pdparams or .safetensors path or a state '
                           f'dict, not {source!r}: nothing is downloaded here')
    else:
        state, where = read_state_dict(source), str(source)
        status, message = check_md5(source)
        if status == 'mismatch':
            warnings.warn(message, WeightsWarning, stacklevel=2)
    layout = detect_layout(state)
    if layout not in layouts:
        why = f' ({arch} has no paddle.vision counterpart)' if arch in CIFAR_ARCHS else ''
        raise WeightsError(f'{where} is not in '
                           f'{" or ".join(LAYOUT_NAMES[name] for name in layouts)}{why}')
    check_fits(shapes_of(state), layout_shapes(model, layout), arch, where)
    if layout == OFFICIAL:
        state = {ours: state[official] for ours, official in key_map(model).items()}
    model.set_state_dict(state)
    return layout


def pretrained(arch, source, **kwargs):
    """The network `arch`, built by resnet.build with `kwargs`, holding the weights of
    `source`: a .pdparams or .safetensors path in either layout, or a state dict.
    Nothing is downloaded: paddle.vision's pretrained=True is an error here."""
    model = resnet.build(arch, **kwargs)
    load_weights(model, source)
    return model


def load_official(model, source):
    """Load paddle.vision's weights (a .pdparams or .safetensors path, or a state dict)
    into our `model`, refusing our layout.  Nothing is downloaded."""
    return load_weights(model, source, layouts=(OFFICIAL,))
