"""The products of a real forward pass, counted as they run: the fallback's count.

A model that cannot be traced (it branches on a tensor's value, or reads one, say) runs
once in the dynamic graph.  There is no Program to read then, so every public product
function of Paddle is wrapped for the length of that one call: paddle.matmul (and `@`),
mm, bmm, einsum, dot, outer, kron, addmm, baddbmm, multi_dot, F.linear, F.bilinear,
F.conv1d/2d/3d and their transposes, F.scaled_dot_product_attention.  Each call's
multiply-adds, from the shapes of its real operands and the same formulas as
paddleinfo.ops, are charged to the innermost layer running, under the name of the
operator the static graph would have traced.  The C++ entry points under them
(_C_ops.conv2d, _C_ops.matmul ...) are wrapped too, for the layers and functions that
call them directly; a product computed inside another one (F.linear calling
_C_ops.linear) counts once, as the outermost.  The RNN layers run one fused
kernel (_C_ops.rnn), which no public function shows: paddleinfo.macs counts them.

Only this module's own call is patched: the functions are put back when it returns, and
a copy of a function another module imported by name (`from paddle import matmul`) is
patched and put back too.
"""
import contextlib
import math
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import paddle
import paddle.nn.functional as F
from paddle import _C_ops

from paddleinfo.ops import attention_products, chain_macs

__all__ = ['PRODUCTS', 'counting_products']

# A formula of a real call: (positional arguments, keyword arguments, result) -> MACs, or
# None where it cannot read them (the operator is then named as not counted).
Formula = Callable[[tuple[Any, ...], dict[str, Any], Any], int | None]


def shape(value: Any) -> list[int]:
    return list(value.shape) if hasattr(value, 'shape') else []


def argument(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str,
             default: Any = None) -> Any:
    """forward's argument `name`, given by position `index` or by keyword."""
    if len(args) > index:
        return args[index]
    return kwargs.get(name, default)


def matmul(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> int:
    # Every output element is a dot product over the shared axis: x's last (its
    # second-to-last when transposed); a 1-D x is a row vector.
    x = shape(argument(args, kwargs, 0, 'x'))
    transpose_x = bool(argument(args, kwargs, 2, 'transpose_x', False))
    inner = x[-2] if transpose_x and len(x) > 1 else x[-1] if x else 1
    return math.prod(shape(result)) * inner


def rmatmul(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> int:
    # y.__rmatmul__(x) is x @ y: the shared axis is y's second-to-last.
    y = shape(args[0]) if args else []
    return math.prod(shape(result)) * (y[-2] if len(y) > 1 else y[-1] if y else 1)


def mm(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> int:
    x = shape(argument(args, kwargs, 0, 'input', kwargs.get('x')))
    return math.prod(shape(result)) * (x[-1] if x else 1)


def linear(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> int:
    # Every output value is a dot product over x's last axis (the weight may come
    # transposed, as _C_ops.linear_v2 takes it).
    return math.prod(shape(result)) * shape(argument(args, kwargs, 0, 'x'))[-1]


def conv(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> int:
    # weight: [out_channels, in_channels / groups, *kernel]: one output element is the dot
    # product of its window with one filter.
    return math.prod(shape(result)) * math.prod(shape(argument(args, kwargs, 1, 'weight'))[1:])


def transposed_conv(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> int:
    # weight: [in_channels, out_channels / groups, *kernel]: every input element is
    # multiplied into a window of every filter of its group.
    return (math.prod(shape(argument(args, kwargs, 0, 'x')))
            * math.prod(shape(argument(args, kwargs, 1, 'weight'))[1:]))


def einsum(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> int | None:
    # The product of the sizes of every index of the equation: each combination of
    # them is one multiply-add (two operands; more are counted as one contraction).
    equation = str(argument(args, kwargs, 0, 'equation')).replace(' ', '')
    operands = list(args[1:]) or list(kwargs.get('operands', []))
    inputs = equation.split('->')[0].split(',')
    if len(operands) < 2 or '.' in equation or len(inputs) != len(operands):
        return None     # an ellipsis or one operand: named in the notes, not guessed
    sizes: dict[str, int] = {}
    for letters, operand in zip(inputs, operands):
        sizes.update(zip(letters, shape(operand)))
    return math.prod(sizes.values())


def einsum_c(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> int | None:
    # _C_ops.einsum(operands, equation): the public function's arguments, the other way.
    return einsum((args[1], *args[0]) if len(args) > 1 else (), {}, result)


def dot(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> int:
    return math.prod(shape(argument(args, kwargs, 0, 'x')))


def outer(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> int:
    return math.prod(shape(result))      # a product with an inner size of 1


def addmm(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> int:
    x = shape(argument(args, kwargs, 1, 'x'))
    return math.prod(shape(result)) * (x[-1] if x else 1)


def multi_dot(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> int | None:
    # In the cheapest order, which Paddle's kernel takes, as the traced rule counts it.
    shapes = [shape(item) for item in argument(args, kwargs, 0, 'x') or []]
    return chain_macs(shapes) if len(shapes) > 1 else None


def bilinear(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> int:
    # weight [out, in1, in2]: x1 W[o] (in1 x in2), then its dot product with x2.
    out_features, in1, in2 = shape(argument(args, kwargs, 2, 'weight'))
    return math.prod(shape(argument(args, kwargs, 0, 'x1'))[:-1]) * out_features * in2 * (in1 + 1)


def attention(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> int | None:
    # query [batch, length, heads, dim], key and value [batch, key length, heads, dim]:
    # QK^T and the weights times V for every query row (ops.attention_products).
    query = shape(argument(args, kwargs, 0, 'query', kwargs.get('q')))
    key = shape(argument(args, kwargs, 1, 'key', kwargs.get('k')))
    value = shape(argument(args, kwargs, 2, 'value', kwargs.get('v')))
    if len(query) != 4 or len(key) != 4 or len(value) != 4:
        return None
    return attention_products([*query[:-1], value[-1]], key[1], query[-1])


# (where the function lives, its name, its rule, the static graph's operator name)
PRODUCTS: list[tuple[Any, str, Formula, str]] = [
    (paddle, 'matmul', matmul, 'pd_op.matmul'),
    (paddle, 'mm', mm, 'pd_op.matmul'),
    (paddle, 'bmm', mm, 'pd_op.bmm'),
    (paddle, 'einsum', einsum, 'pd_op.einsum'),
    (paddle, 'dot', dot, 'pd_op.dot'),
    (paddle, 'outer', outer, 'pd_op.outer'),
    (paddle, 'kron', outer, 'pd_op.kron'),
    (paddle, 'addmm', addmm, 'pd_op.addmm'),
    (paddle, 'baddbmm', addmm, 'pd_op.baddbmm'),
    (paddle.linalg, 'multi_dot', multi_dot, 'pd_op.multi_dot'),
    (F, 'linear', linear, 'pd_op.matmul'),
    (F, 'bilinear', bilinear, 'pd_op.bilinear'),
    (F, 'conv1d', conv, 'pd_op.conv1d'),
    (F, 'conv2d', conv, 'pd_op.conv2d'),
    (F, 'conv3d', conv, 'pd_op.conv3d'),
    (F, 'conv1d_transpose', transposed_conv, 'pd_op.conv1d_transpose'),
    (F, 'conv2d_transpose', transposed_conv, 'pd_op.conv2d_transpose'),
    (F, 'conv3d_transpose', transposed_conv, 'pd_op.conv3d_transpose'),
    (F, 'scaled_dot_product_attention', attention, 'pd_op.flash_attn'),
    # The C++ entry points every path reaches (nn.Conv2D calls F.conv._conv_nd, which calls
    # _C_ops.conv2d, and paddle.tensor imports _C_ops.matmul by name): each counts where no
    # public function above is counting it already.
    *[(_C_ops, name, rule, f'pd_op.{name}') for name, rule in (
        ('matmul', matmul), ('linear', linear), ('linear_v2', linear), ('bmm', mm),
        ('mv', mm), ('conv2d', conv), ('depthwise_conv2d', conv), ('conv3d', conv),
        ('conv2d_transpose', transposed_conv), ('depthwise_conv2d_transpose', transposed_conv),
        ('conv3d_transpose', transposed_conv), ('dot', dot), ('addmm', addmm),
        ('baddbmm', addmm), ('multi_dot', multi_dot), ('bilinear', bilinear), ('kron', outer),
        ('flash_attn', attention), ('einsum', einsum_c))],
]
# Tensor's methods that are products: x @ y, x.matmul(y), x.mm(y), x.bmm(y), x.dot(y).
METHODS = {'__matmul__': (matmul, 'pd_op.matmul'), '__rmatmul__': (rmatmul, 'pd_op.matmul'),
           'matmul': (matmul, 'pd_op.matmul'), 'mm': (mm, 'pd_op.matmul'),
           'bmm': (mm, 'pd_op.bmm'), 'dot': (dot, 'pd_op.dot')}


def copies(functions: set[int]) -> list[tuple[Any, str, Any]]:
    """(namespace, name, function) of every module attribute that is one of `functions`
    (by id): where they are defined, and where another module imported them by name."""
    found = []
    for module in list(sys.modules.values()):
        names = getattr(module, '__dict__', None)
        if not isinstance(names, dict):
            continue
        for name, value in list(names.items()):
            if id(value) in functions and callable(value):
                found.append((module, name, value))
    return found


@contextlib.contextmanager
def counting_products(charge: Callable[[str, int | None], None]) -> Iterator[None]:
    """Inside, each product a Paddle function or Tensor method computes on this thread
    calls charge(operator name, MACs) once (MACs None: its operands could not be read);
    another thread's calls pass through uncounted.  Outside, every function is Paddle's
    own again, also where a module imported inside took a wrapper by name."""
    depth = [0]
    thread = threading.get_ident()

    def counted(function: Any, rule: Formula, operator: str) -> Any:
        def product(*args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() != thread:
                return function(*args, **kwargs)
            depth[0] += 1
            try:
                result = function(*args, **kwargs)
            finally:
                depth[0] -= 1
            if depth[0] == 0:
                try:
                    macs = rule(args, kwargs, result)
                except Exception:  # noqa: BLE001 -- a call the formula cannot read: named
                    macs = None
                charge(operator, macs)
            return result
        product.__wrapped__ = function     # type: ignore[attr-defined]
        return product

    rules = {}
    for namespace, name, rule, operator in PRODUCTS:
        function = getattr(namespace, name, None)
        if function is not None:
            rules[id(function)] = (rule, operator)
    patched = [(namespace, name, value, counted(value, *rules[id(value)]))
               for namespace, name, value in copies(set(rules))]
    tensor = paddle.Tensor
    for name, (rule, operator) in METHODS.items():
        method = tensor.__dict__.get(name)
        if method is not None:
            patched.append((tensor, name, method, counted(method, rule, operator)))
    try:
        for namespace, name, _, wrapper in patched:
            setattr(namespace, name, wrapper)
        yield
    finally:
        for namespace, name, original, _ in patched:
            setattr(namespace, name, original)
        # A module imported inside (`from paddle import matmul`) bound a wrapper: its own.
        originals = {id(wrapper): original for _, _, original, wrapper in patched}
        for namespace, name, wrapper in copies(set(originals)):
            setattr(namespace, name, originals[id(wrapper)])
