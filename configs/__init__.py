"""The configuration tables that every network in this repository is built from."""
from .resnet import (
    ARCHS,
    DEFAULT_VARIANT,
    STEM_CHANNELS,
    STRIDE_PLACEMENT,
    SUPPORTED_LAYERS,
    layers_config,
)

__all__ = ["ARCHS", "DEFAULT_VARIANT", "STEM_CHANNELS", "STRIDE_PLACEMENT",
           "SUPPORTED_LAYERS", "layers_config"]
