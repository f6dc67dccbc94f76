"""Multiply-adds (MACs): the convention, and the count of the dynamic graph.

The convention is torchvision's "GFLOPS" (the ``_ops`` of its weights' metadata),
carried to every matrix product: one multiply-add for every weight or matrix entry
that meets an input value on its way to an output value.  A conv output element costs
(in_channels / groups) * kernel size (depthwise convs included), an fc output value
in_features, a transposed conv (out_channels / groups) * kernel size on every input
element, a matmul, bmm or einsum output value its inner size K (attention's QK^T and
AV included), an outer or Kronecker product one per output value, and an RNN, at
every time step, in every direction and layer, gates x (input + hidden) x hidden (4
gates for an LSTM, 3 for a GRU, 1 for a SimpleRNN; an LSTM with proj_size feeds back
its projection and adds hidden x proj_size).  Biases, normalisation, activations,
pooling and elementwise arithmetic are left out.  MACS_CONVENTION says this once for
every table; `uncounted` names the layers of a model that do work the convention leaves
out; paddleinfo.conventions states the other conventions (flops, full).

A traced model is counted from its Program's operators (paddleinfo.ops).  A model run
in the dynamic graph (one that cannot be traced) is counted here, from its layers:
convs, Linear, Bilinear, RNN layers and cells, and MultiHeadAttention -- not the products of
functional calls in a forward(), which a note then names.  For every CNN both give
the same figures, which follow the input size, the stride placement and any grouping.
(paddle.flops would count layers too, but it raises a TypeError with numpy 2 on
Paddle 3.3.)
"""
import contextlib
import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, cast

import paddle
from paddle import nn

from paddleinfo.ops import GATES, rnn_step_macs

MACS_CONVENTION = (
    'MACs are the multiply-adds of every matrix product the forward pass runs, as '
    'torchvision reports "GFLOPS" for convs and fc layers: (in_channels / groups) x '
    'kernel size for every conv output value, (out_channels / groups) x kernel size '
    'for every input value of a transposed conv, in_features for every fc output, the '
    'inner size K for every output value of a matmul, bmm or einsum (attention\'s QK^T '
    'and AV included, fused kernels as the matmuls they replace), one for every output '
    'value of an outer product (a multiply of a column by a row, as paddle.outer) and '
    'of a Kronecker product, and gates x (input + hidden) x hidden for every time step, '
    'direction and layer of an RNN (4 gates for an LSTM, 3 for a GRU, 1 for a '
    'SimpleRNN; an LSTM with proj_size feeds back the projection instead of the hidden '
    'state, and adds hidden x proj_size). Biases, normalisation, activations, pooling '
    'and elementwise arithmetic are not counted.'
)

CONVS = (nn.Conv1D, nn.Conv2D, nn.Conv3D)
TRANSPOSED_CONVS = (nn.Conv1DTranspose, nn.Conv2DTranspose, nn.Conv3DTranspose)
RNNS = (nn.LSTM, nn.GRU, nn.SimpleRNN)
RNN_CELLS = (nn.LSTMCell, nn.GRUCell, nn.SimpleRNNCell)
# The layers with weights that carry multiply-adds under the convention above.
COUNTED = CONVS + TRANSPOSED_CONVS + (nn.Linear,)
# Layers that multiply or average, and so do arithmetic the convention leaves out.
# (ReLU, max pooling, dropout in eval mode and flatten only compare or copy.)
UNCOUNTED = tuple(getattr(nn, name) for name in (
    'BatchNorm', 'BatchNorm1D', 'BatchNorm2D', 'BatchNorm3D', 'SyncBatchNorm', 'LayerNorm',
    'GroupNorm', 'InstanceNorm1D', 'InstanceNorm2D', 'InstanceNorm3D', 'LocalResponseNorm',
    'AvgPool1D', 'AvgPool2D', 'AvgPool3D', 'AdaptiveAvgPool1D', 'AdaptiveAvgPool2D',
    'AdaptiveAvgPool3D', 'Hardswish', 'Hardsigmoid', 'Swish', 'Silu', 'Sigmoid', 'GELU',
    'Mish', 'Softmax', 'Upsample') if hasattr(nn, name))


def layer_macs(layer: nn.Layer, output: Any, inputs: Sequence[Any] | None = None) -> int | None:
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


def rnn_macs(layer: nn.LSTM | nn.GRU | nn.SimpleRNN, inputs: Sequence[Any]) -> int:
    """An RNN layer's gates at every step, direction and layer, and an LSTM's projection
    (proj_size) if it has one (paddleinfo.ops.rnn_step_macs)."""
    data = list(inputs[0].shape)
    return math.prod(data[:-1]) * rnn_step_macs(
        GATES[layer.mode], layer.input_size, layer.hidden_size, layer.num_layers,
        layer.num_directions, getattr(layer, 'proj_size', 0) or None)


def cell_macs(layer: nn.LSTMCell | nn.GRUCell | nn.SimpleRNNCell, inputs: Sequence[Any]) -> int:
    """One step of an RNN cell for every sequence: gates x (input + recurrent) x hidden,
    and for an LSTMCell with proj_size, whose recurrent state is the projection, the
    projection hidden x proj_size too."""
    data = list(inputs[0].shape)
    mode = ('LSTM' if isinstance(layer, nn.LSTMCell)
            else 'GRU' if isinstance(layer, nn.GRUCell) else 'RNN_TANH')
    return math.prod(data[:-1]) * rnn_step_macs(
        GATES[mode], layer.input_size, layer.hidden_size, 1, 1, getattr(layer, 'proj_size', 0) or None)


def eager_macs(layer: nn.Layer, inputs: Sequence[Any], output: Any) -> int | None:
    """The MACs `layer` itself spent in one call, counted from what a layer is (the
    dynamic graph's count; its Linear sublayers count their own), or None."""
    macs = layer_macs(layer, output, inputs)
    if macs is not None:
        return macs
    if isinstance(layer, RNNS) and inputs and getattr(layer, 'could_use_cudnn', False):
        return rnn_macs(layer, inputs)      # else its cells run, and count themselves
    if isinstance(layer, RNN_CELLS) and inputs:
        return cell_macs(layer, inputs)
    if isinstance(layer, nn.Bilinear) and inputs:
        # weight: [out, in1, in2]: for every output value x W[o] (in1 x in2), then its
        # dot product with y (in2), as paddleinfo.ops.bilinear.
        out_features, in1, in2 = layer.weight.shape
        return math.prod(list(inputs[0].shape)[:-1]) * out_features * in2 * (in1 + 1)
    if isinstance(layer, nn.MultiHeadAttention) and inputs:
        # QK^T and AV: batch x query length x key length x embed_dim, twice.
        query = list(inputs[0].shape)
        key = list(inputs[1].shape) if len(inputs) > 1 and inputs[1] is not None else query
        return 2 * math.prod(query[:-1]) * key[-2] * layer.embed_dim
    return None


def uncounted(layers: Iterable[nn.Layer]) -> list[str]:
    """The classes among `layers` that do arithmetic the convention does not count, but
    for BatchNorm and pooling, which MACS_CONVENTION names already."""
    return sorted({type(layer).__name__ for layer in layers if isinstance(layer, UNCOUNTED)
                   and 'BatchNorm' not in type(layer).__name__
                   and 'Pool' not in type(layer).__name__})


@contextlib.contextmanager
def counting(model: nn.Layer) -> Iterator[dict[nn.Layer, int]]:
    """Count MACs of every conv and fc layer of `model` during the forward passes run
    inside the block.  Yields {layer: MACs}, summed over calls."""
    counts: dict[nn.Layer, int] = {}

    def hook(layer: nn.Layer, inputs: tuple[Any, ...], output: Any) -> None:
        # (A layer of COUNTED: its MACs are a number.)
        counts[layer] = counts.get(layer, 0) + cast(int, layer_macs(layer, output, inputs))

    # (Paddle's hook type wants a Tensor back; returning None leaves the output as it is.)
    handles = [layer.register_forward_post_hook(cast(Any, hook))
               for layer in model.sublayers(include_self=True) if isinstance(layer, COUNTED)]
    try:
        yield counts
    finally:
        for handle in handles:
            handle.remove()


def every_layer(model: nn.Layer) -> list[nn.Layer]:
    """model.sublayers(include_self=True): the model and every layer in it, once each, in
    the same order (depth first, each before its own), five times faster than Paddle's
    walk, which builds every layer's dotted path; a trace walks the model several times."""
    layers: dict[nn.Layer, None] = {}

    def walk(layer: nn.Layer) -> None:
        if layer in layers:
            return
        layers[layer] = None
        for sublayer in layer._sub_layers.values():
            if sublayer is not None:
                walk(sublayer)
    walk(model)
    return list(layers)


@contextlib.contextmanager
def evaluating(model: nn.Layer) -> Iterator[None]:
    """Run `model` in eval mode without gradients, so that a counting pass leaves
    BatchNorm's running statistics as they were; every layer's mode is as it was after."""
    layers = every_layer(model)
    with modes_kept(model, layers):
        if any(layer.training for layer in layers):     # (eval() sets every layer's mode)
            model.eval()
        # The static graph computes no gradients unless asked to.
        with paddle.no_grad() if paddle.in_dynamic_mode() else contextlib.nullcontext():
            yield


@contextlib.contextmanager
def modes_kept(model: nn.Layer, layers: Sequence[nn.Layer] | None = None) -> Iterator[None]:
    """Every layer's own train/eval mode put back when the block ends: a model in train
    mode may hold a frozen BatchNorm in eval mode, which model.train() would undo.
    (`layers`: every_layer(model), where the caller has it.)"""
    modes = [(layer, layer.training) for layer in
             (every_layer(model) if layers is None else layers)]
    try:
        yield
    finally:
        for layer, training in modes:
            if layer.training != training:
                layer.training = training


def model_macs(model: nn.Layer, input_shape: Sequence[int]) -> int:
    """Total conv + fc multiply-adds of `model` on an input of `input_shape`, batch
    included as given: (1, 3, 224, 224) gives 4,089,184,256 for ResNet-50 (v1.5)."""
    with evaluating(model), counting(model) as counts:
        model(paddle.zeros(list(input_shape), dtype='float32'))
    return int(sum(counts.values()))
