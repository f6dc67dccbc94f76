"""Two counts of one real eager forward pass, made without paddleinfo, to check it by.

`OperatorCount`: the multiply-adds of every matrix product the pass runs, from the real
shapes of each call.  Every product Paddle runs in the dynamic graph goes through one
of the functions of paddle._C_ops (nn.Conv2D -> F.conv._conv_nd -> _C_ops.conv2d,
nn.Linear -> F.linear -> _C_ops.linear, paddle.matmul -> _C_ops.matmul, ...), except
`x @ y`, whose Tensor.__matmul__ calls the C++ kernel itself; so those functions (and
their copies that other modules imported by name, as paddle.tensor's matmul) and
Tensor.__matmul__ / __rmatmul__ are wrapped while inside, and each call adds:

    conv:            output elements x in_channels / groups x kernel elements
                     (the filter is [out, in / groups, *kernel])
    transposed conv: input elements x out_channels / groups x kernel elements
                     (the filter is [in, out / groups, *kernel])
    matmul, bmm, linear, addmm, baddbmm: output elements x the inner size K
    mv, dot:         the elements of the matrix (of x)
    einsum:          the product of the sizes of every letter of the equation

Any other function of _C_ops that multiplies matrices (flash attention, fused
attention, fc, rnn, ...) is recorded by name as a product this count has no rule for.

`PaddleFlopsCount`: what paddle.flops() would report (paddle/hapi/dynamic_flops.py
of Paddle 3.3.1, whose own call fails with numpy 2 on `int(x.numel())`), with its
rules re-stated: hooks on leaf layers of exactly these types, one count per call --
a conv (transposed too) counts output elements x (in_channels / groups x kernel + 1
if it has a bias); nn.BatchNorm and nn.BatchNorm2D 2 per input element (in eval
mode); nn.Linear in_features per output element (no bias); LeakyReLU 1 per element;
AvgPool 1 per output element; AdaptiveAvgPool (input / output size + 1) per output
element; every other layer, and every functional call, 0.  PaddleClas's model zoo
publishes paddle.flops' figure (docs/zh_CN/models/ImageNet1k/README.md: "FLOPs 与
Params 通过 paddle.flops() 计算得到（PaddlePaddle 版本为 2.2）").
"""
import contextlib
import math
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np
import paddle
from paddle import _C_ops, nn


def numel(value: Any) -> int:
    return int(math.prod(value.shape))


def first(value: Any) -> Any:
    return value[0] if isinstance(value, (list, tuple)) else value


def conv(args: tuple[Any, ...], out: Any) -> int:
    return numel(first(out)) * int(math.prod(args[1].shape[1:]))


def transposed(args: tuple[Any, ...], out: Any) -> int:
    return numel(args[0]) * int(math.prod(args[1].shape[1:]))


def inner(x: Any, transpose_x: bool) -> int:
    shape = list(x.shape)
    return shape[-2] if transpose_x and len(shape) > 1 else shape[-1]


def matmul(args: tuple[Any, ...], out: Any) -> int:
    transpose_x = bool(args[2]) if len(args) > 2 else False
    return max(numel(out), 1) * inner(args[0], transpose_x)


def positional(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """The arguments in the order of the function's signature, however they were given
    (paddle.matmul passes x=..., y=... to _C_ops.matmul)."""
    if not kwargs:
        return args
    if name == 'matmul':
        names = ('x', 'y', 'transpose_x', 'transpose_y')
        given = dict(zip(names, args), **kwargs)
        return (given.get('x', given.get('input')), given.get('y', given.get('other')),
                given.get('transpose_x', False), given.get('transpose_y', False))
    return args + tuple(kwargs.values())


def linear(args: tuple[Any, ...], out: Any) -> int:
    return max(numel(out), 1) * list(args[0].shape)[-1]


def product_with(index: int) -> Any:
    """out = input + x @ y (addmm, baddbmm): output elements x x's last size."""
    def rule(args: tuple[Any, ...], out: Any) -> int:
        return max(numel(out), 1) * list(args[index].shape)[-1]
    return rule


def matrix(args: tuple[Any, ...], out: Any) -> int:
    return numel(args[0])


def einsum(args: tuple[Any, ...], out: Any) -> int:
    operands, equation = args[0], args[1].replace(' ', '')
    terms = equation.split('->')[0].split(',')
    if len(terms) < 2:
        return 0
    sizes: dict[str, int] = {}
    for term, operand in zip(terms, operands):
        shape = list(operand.shape)
        if '...' in term:
            head, tail = term.split('...')
            dots = len(shape) - len(head) - len(tail)
            for axis in range(dots):
                sizes[f'.{axis}'] = max(sizes.get(f'.{axis}', 1), shape[len(head) + axis])
            shape = shape[:len(head)] + shape[len(head) + dots:]
            term = head + tail
        for letter, size in zip(term, shape):
            sizes[letter] = max(sizes.get(letter, 1), size)
    return math.prod(sizes.values())


RULES = {
    'conv2d': conv, 'conv3d': conv, 'depthwise_conv2d': conv, 'depthwise_conv2d_bias': conv,
    'depthwise_conv3d_bias': conv,
    'conv2d_transpose': transposed, 'conv2d_transpose_bias': transposed,
    'conv3d_transpose': transposed, 'depthwise_conv2d_transpose': transposed,
    'matmul': matmul, 'bmm': linear, 'linear': linear, 'linear_v2': linear,
    'addmm': product_with(1), 'addmm_': product_with(1), 'baddbmm': product_with(1),
    'baddbmm_': product_with(1), 'mv': matrix, 'dot': matrix, 'einsum': einsum,
}
# Functions of _C_ops that multiply matrices and have no rule here: their calls are named.
WATCHED = ('attn', 'attention', 'fused', 'fusion', 'gemm', 'rnn', 'lstm', 'gru', 'fc',
           'multi_dot', 'bilinear', 'deformable_conv', 'matmul_with_flatten',
           'weight_only_linear', 'llm_int8_linear', 'sequence_conv', 'batched_gemm')


def watched(name: str) -> bool:
    if name in RULES or name.endswith('_grad') or 'interp' in name:
        return False
    return any(part in name for part in WATCHED)


class OperatorCount:
    """with OperatorCount() as count: model(x) -> count.macs, count.calls, count.no_rule."""

    def __init__(self) -> None:
        self.macs = 0
        self.calls: Counter[str] = Counter()
        self.no_rule: Counter[str] = Counter()
        self.depth = 0
        self.saved: list[tuple[Any, str, Any]] = []
        self.copies: dict[int, Any] = {}

    def wrap(self, owner: Any, name: str, count: Any) -> None:
        original = getattr(owner, name)
        wrapper = self.wrapper(original, name, count)
        self.saved.append((owner, name, original))
        setattr(owner, name, wrapper)
        if owner is _C_ops:
            self.copies[id(original)] = wrapper

    def wrapper(self, original: Any, name: str, count: Any) -> Any:

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if self.depth:
                return original(*args, **kwargs)
            self.depth += 1
            try:
                out = original(*args, **kwargs)
            finally:
                self.depth -= 1
            if count is None:
                self.no_rule[name] += 1
            else:
                self.macs += int(count(args, kwargs, out))
                self.calls[name] += 1
            return out

        return wrapper

    def patch_copies(self) -> None:
        """The functions of _C_ops that other modules imported by name (paddle.tensor's
        `from paddle._C_ops import bmm, dot, matmul`, which nn.MultiHeadAttention's
        `tensor.matmul(weights, v)` calls) are the wrapper there too."""
        for module in list(sys.modules.values()):
            names = getattr(module, '__dict__', None)
            if module is _C_ops or not isinstance(names, dict):
                continue
            for key, value in list(names.items()):
                wrapper = self.copies.get(id(value))
                if wrapper is not None and value is not wrapper:
                    self.saved.append((module, key, value))
                    setattr(module, key, wrapper)

    def __enter__(self) -> 'OperatorCount':
        for name in sorted(dir(_C_ops)):
            if name in RULES:
                rule = RULES[name]
                self.wrap(_C_ops, name, lambda args, kwargs, out, rule=rule, name=name:
                          rule(positional(name, args, kwargs), out))
            elif watched(name) and callable(getattr(_C_ops, name)):
                self.wrap(_C_ops, name, None)
        self.patch_copies()
        self.wrap(paddle.Tensor, '__matmul__',
                  lambda args, kwargs, out: max(numel(out), 1) * list(args[0].shape)[-1])
        self.wrap(paddle.Tensor, '__rmatmul__',
                  lambda args, kwargs, out: max(numel(out), 1) * list(args[1].shape)[-1])
        return self

    def __exit__(self, *exc: Any) -> None:
        for owner, name, original in reversed(self.saved):
            setattr(owner, name, original)
        self.saved.clear()


# --- paddle.flops's rules -----------------------------------------------------------

def flops_conv(layer: nn.Layer, inputs: Any, output: Any) -> int:
    kernel = int(np.prod(layer.weight.shape[2:]))
    bias = 1 if layer.bias is not None else 0
    return abs(int(numel(output) * (inputs[0].shape[1] / layer._groups * kernel + bias)))


def flops_bn(layer: nn.Layer, inputs: Any, output: Any) -> int:
    return 2 * numel(inputs[0])


def flops_linear(layer: nn.Layer, inputs: Any, output: Any) -> int:
    return layer.weight.shape[0] * numel(output)


def flops_elements(layer: nn.Layer, inputs: Any, output: Any) -> int:
    return numel(inputs[0])


def flops_avgpool(layer: nn.Layer, inputs: Any, output: Any) -> int:
    return numel(output)


def flops_adaptive(layer: nn.Layer, inputs: Any, output: Any) -> int:
    kernel = np.array(inputs[0].shape[2:]) // np.array(output.shape[2:])
    return abs(int((int(np.prod(kernel)) + 1) * numel(output)))


FLOPS_RULES = {
    nn.Conv1D: flops_conv, nn.Conv2D: flops_conv, nn.Conv3D: flops_conv,
    nn.Conv1DTranspose: flops_conv, nn.Conv2DTranspose: flops_conv,
    nn.Conv3DTranspose: flops_conv, nn.BatchNorm2D: flops_bn, nn.BatchNorm: flops_bn,
    nn.LeakyReLU: flops_elements, nn.Linear: flops_linear,
    nn.AvgPool1D: flops_avgpool, nn.AvgPool2D: flops_avgpool, nn.AvgPool3D: flops_avgpool,
    nn.AdaptiveAvgPool1D: flops_adaptive, nn.AdaptiveAvgPool2D: flops_adaptive,
    nn.AdaptiveAvgPool3D: flops_adaptive,
}


@contextlib.contextmanager
def paddle_flops(model: nn.Layer) -> Iterator[list[int]]:
    """with paddle_flops(model) as total: model(x) -> total[0], paddle.flops' figure."""
    total = [0]
    handles = []
    for layer in model.sublayers(include_self=True):
        rule = FLOPS_RULES.get(type(layer))
        if rule is None or list(layer.children()):
            continue

        def hook(layer: nn.Layer, inputs: Any, output: Any, rule: Any = rule) -> None:
            total[0] += rule(layer, inputs, first(output))
        handles.append(layer.register_forward_post_hook(hook))
    try:
        yield total
    finally:
        for handle in handles:
            handle.remove()
