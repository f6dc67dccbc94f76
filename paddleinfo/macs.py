"""Multiply-adds (MACs) of a network, counted with forward hooks.

The convention is torchvision's "GFLOPS" (the ``_ops`` of its weights' metadata): one
multiply-add for every weight a conv or fc layer applies to produce an output value,
so a conv output element costs (in_channels / groups) * kh * kw (depthwise convs
included) and an fc output value costs in_features; a transposed conv spends
(out_channels / groups) * kh * kw on every input element.  Biases, normalisation,
activations, pooling and the operations a forward pass does outside layers
(additions, concatenations, products) are left out.  MACS_CONVENTION says this once
for every table; `uncounted` names the layers of a model that do work the convention
leaves out.

The count comes from the shapes Paddle produces for the model's input, so it follows
the input size, the stride placement and any grouping.  (paddle.flops would do this
too, but it raises a TypeError with numpy 2 on Paddle 3.3.)
"""
import contextlib
import math

import paddle
from paddle import nn

MACS_CONVENTION = (
    'MACs are the multiply-adds of the conv and fc layers, as torchvision reports '
    '"GFLOPS": (in_channels / groups) x kh x kw for every conv output value, '
    '(out_channels / groups) x kh x kw for every input value of a transposed conv, '
    'in_features for every fc output. Biases, normalisation, activations, pooling '
    'and what the forward pass computes outside layers (additions, concatenations, '
    'products) are not counted.'
)

CONVS = (nn.Conv1D, nn.Conv2D, nn.Conv3D)
TRANSPOSED_CONVS = (nn.Conv1DTranspose, nn.Conv2DTranspose, nn.Conv3DTranspose)
# The layers that carry multiply-adds under the convention above.
COUNTED = CONVS + TRANSPOSED_CONVS + (nn.Linear,)
# Layers that multiply or average, and so do arithmetic the convention leaves out.
# (ReLU, max pooling, dropout in eval mode and flatten only compare or copy.)
UNCOUNTED = tuple(getattr(nn, name) for name in (
    'BatchNorm', 'BatchNorm1D', 'BatchNorm2D', 'BatchNorm3D', 'SyncBatchNorm', 'LayerNorm',
    'GroupNorm', 'InstanceNorm1D', 'InstanceNorm2D', 'InstanceNorm3D', 'LocalResponseNorm',
    'AvgPool1D', 'AvgPool2D', 'AvgPool3D', 'AdaptiveAvgPool1D', 'AdaptiveAvgPool2D',
    'AdaptiveAvgPool3D', 'Hardswish', 'Hardsigmoid', 'Swish', 'Silu', 'Sigmoid', 'GELU',
    'Mish', 'Softmax', 'Upsample', 'Bilinear', 'LSTM', 'GRU', 'SimpleRNN',
    'MultiHeadAttention') if hasattr(nn, name))


def layer_macs(layer, output, inputs=None):
    """The multiply-adds `layer` spent producing `output` (from `inputs`), or None if the
    convention does not count the layer."""
    if isinstance(layer, CONVS):
        # weight: [out_channels, in_channels / groups, *kernel]; one output element
        # is the dot product of its input window with one filter.
        return math.prod(output.shape) * math.prod(layer.weight.shape[1:])
    if isinstance(layer, TRANSPOSED_CONVS) and inputs:
        # weight: [in_channels, out_channels / groups, *kernel]; every input element
        # is multiplied into a window of every filter of its group.
        return math.prod(inputs[0].shape) * math.prod(layer.weight.shape[1:])
    if isinstance(layer, nn.Linear):
        # weight: [in_features, out_features]
        return math.prod(output.shape) * layer.weight.shape[0]
    return None


def uncounted(layers):
    """The classes among `layers` that do arithmetic the convention does not count, but
    for BatchNorm and pooling, which MACS_CONVENTION names already."""
    return sorted({type(layer).__name__ for layer in layers if isinstance(layer, UNCOUNTED)
                   and 'BatchNorm' not in type(layer).__name__
                   and 'Pool' not in type(layer).__name__})


@contextlib.contextmanager
def counting(model):
    """Count MACs of every conv and fc layer of `model` during the forward passes run
    inside the block.  Yields {layer: MACs}, summed over calls."""
    counts = {}

    def hook(layer, inputs, output):
        counts[layer] = counts.get(layer, 0) + layer_macs(layer, output, inputs)

    handles = [layer.register_forward_post_hook(hook)
               for layer in model.sublayers(include_self=True) if isinstance(layer, COUNTED)]
    try:
        yield counts
    finally:
        for handle in handles:
            handle.remove()


@contextlib.contextmanager
def evaluating(model):
    """Run `model` in eval mode without gradients, so that a counting pass leaves
    BatchNorm's running statistics as they were."""
    was_training = model.training
    model.eval()
    try:
        # The static graph computes no gradients unless asked to.
        with paddle.no_grad() if paddle.in_dynamic_mode() else contextlib.nullcontext():
            yield
    finally:
        if was_training:
            model.train()


def model_macs(model, input_shape):
    """Total conv + fc multiply-adds of `model` on an input of `input_shape`, batch
    included as given: (1, 3, 224, 224) gives 4,089,184,256 for ResNet-50 (v1.5)."""
    with evaluating(model), counting(model) as counts:
        model(paddle.zeros(list(input_shape), dtype='float32'))
    return int(sum(counts.values()))
