"""The configuration tables that every network in this repository is built from."""
from .cifar import (
    CIFAR_ARCHS,
    CIFAR_INPUT_SIZE,
    CIFAR_LAYERS,
    CIFAR_NUM_CLASSES,
    CIFAR_SHORTCUT,
    CIFAR_STEM_CHANNELS,
    cifar_layers_config,
)
from .resnet import (
    ARCHS,
    DEFAULT_VARIANT,
    STEM_CHANNELS,
    STRIDE_PLACEMENT,
    SUPPORTED_LAYERS,
    layers_config,
)

__all__ = ["ARCHS", "CIFAR_ARCHS", "CIFAR_INPUT_SIZE", "CIFAR_LAYERS", "CIFAR_NUM_CLASSES", "CIFAR_SHORTCUT",
           "CIFAR_STEM_CHANNELS", "DEFAULT_VARIANT", "STEM_CHANNELS", "STRIDE_PLACEMENT",
           "SUPPORTED_LAYERS", "cifar_layers_config", "layers_config"]
