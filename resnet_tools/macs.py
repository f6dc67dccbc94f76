"""Multiply-adds (MACs) of a network, counted with forward hooks.

The convention is the paper's "FLOPs" and torchvision's "GFLOPS": one multiply-add
for every weight a conv or fc layer applies to produce an output value, so a conv
output element costs (in_channels / groups) * kh * kw and an fc output value costs
in_features.  Biases, BatchNorm, ReLU, pooling and the residual additions are left
out: together they are well under 1 % of a ResNet's count, and neither the paper
nor torchvision counts them.

The count comes from the shapes Paddle actually produces in a forward pass, so it
follows the input size, the stride placement and any grouping.  (paddle.flops would
do this too, but it raises a TypeError with numpy 2 on Paddle 3.3.)
"""
import contextlib
import math

import paddle
from paddle import nn

# The layers that carry multiply-adds under the convention above.  Transposed convs
# are not among them: ResNet has none, and their count runs over inputs, not outputs.
COUNTED = (nn.Conv1D, nn.Conv2D, nn.Conv3D, nn.Linear)


def layer_macs(layer, output):
    """The multiply-adds `layer` spent producing `output`, or None if it has none."""
    if isinstance(layer, (nn.Conv1D, nn.Conv2D, nn.Conv3D)):
        # weight: [out_channels, in_channels / groups, *kernel]; one output element
        # is the dot product of its input window with one filter.
        return math.prod(output.shape) * math.prod(layer.weight.shape[1:])
    if isinstance(layer, nn.Linear):
        # weight: [in_features, out_features]
        return math.prod(output.shape) * layer.weight.shape[0]
    return None


@contextlib.contextmanager
def counting(model, on_call=None):
    """Count MACs of every conv and fc layer of `model` during the forward passes run
    inside the block.  Yields {layer: MACs}, summed over calls; `on_call(layer, inputs,
    output, macs)` is also called for every layer of the model that runs, so that a
    table can collect more about each row from the same pass."""
    counts = {}

    def hook(layer, inputs, output):
        macs = layer_macs(layer, output)
        if macs is not None:
            counts[layer] = counts.get(layer, 0) + macs
        if on_call is not None:
            on_call(layer, inputs, output, macs)

    handles = [layer.register_forward_post_hook(hook)
               for layer in model.sublayers(include_self=True)
               if on_call is not None or isinstance(layer, COUNTED)]
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
        with paddle.no_grad():
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
