"""Multiply-adds of the operators of a traced Program, one rule per operator name.

As fvcore's flop counter does for PyTorch: each operator the forward pass appended to
the Program (Paddle's PIR, 'pd_op.conv2d', 'pd_op.matmul', ...) is looked up in
HANDLERS, which gives its multiply-adds from the shapes and attributes the trace
inferred; operators that do no matrix product are in NO_PRODUCT; any other operator is
reported as not counted.  So a product is counted wherever it runs, in a layer or in a
functional call of a forward(), and nothing is run to count it.

A convolution is lowered to these operators whatever its rank: Conv1D runs a conv2d on
an unsqueezed map, and Linear runs a matmul.
"""
import math
from collections.abc import Callable
from typing import Any, TypeGuard, cast


def shape(value: Any) -> list[int] | None:
    """The shape of a Program value, or None for a value that has none (a list of
    tensors, an optional input left out)."""
    try:
        return list(value.shape)
    except (ValueError, RuntimeError, AttributeError):
        return None


def present(value: Any) -> bool:
    """Whether an operator's result is computed (autograd prunes a gradient it does not
    need, and an optional result may be left out)."""
    try:
        return bool(value.initialized())
    except (AttributeError, RuntimeError):
        return False


def constant(value: Any, depth: int = 0) -> Any:
    """The value of a shape expression the trace can know though Paddle wrote -1 for its
    result's size: paddle.shape(x) of an x whose shape is known, sliced, listed and
    stacked, and the constants among them ([2, 16, 8, 8] for paddle.shape(x) of such an
    x); an int, a list of ints, or None if it is not such an expression."""
    if depth >= 16:
        return None
    op: Any = value.get_defining_op()
    if op is None:
        return None
    name, attrs = op.name(), op.attrs()
    if name in ('pd_op.shape', 'pd_op.shape64'):
        sizes = shape(op.operand_source(0))
        return sizes if known(sizes) else None
    if name == 'pd_op.full_int_array':
        return [int(size) for size in attrs['value']]
    if name == 'pd_op.full' and list(attrs.get('shape', [])) in ([], [1]):
        number = attrs['value']
        return int(number) if float(number).is_integer() else None
    if name in ('builtin.combine', 'pd_op.stack'):
        parts = [constant(item, depth + 1) for item in
                 (op.operands_source() if name == 'builtin.combine'
                  else op.operand_source(0).get_defining_op().operands_source())]
        return parts if all(isinstance(part, int) for part in parts) else None
    if name == 'pd_op.slice' and list(attrs.get('axes', [])) == [0]:
        whole, starts, ends = (constant(op.operand_source(i), depth + 1) for i in range(3))
        if not (isinstance(whole, list) and isinstance(starts, list) and isinstance(ends, list)):
            return None
        part = whole[starts[0]:ends[0]]
        return part[0] if list(attrs.get('decrease_axis', [])) == [0] and len(part) == 1 else part
    return None


def known(sizes: list[int] | None) -> TypeGuard[list[int]]:
    return sizes is not None and all(isinstance(size, int) and size >= 0 for size in sizes)


def operand_shapes(op: Any) -> list[list[int] | None]:
    return [shape(value) for value in op.operands_source()]


def result_shape(op: Any, index: int = 0) -> list[int] | None:
    return shape(op.results()[index])


def conv(op: Any) -> int | None:
    # filter: [out_channels, in_channels / groups, *kernel]: one output element is the
    # dot product of its window with one filter.
    out, weight = result_shape(op), operand_shapes(op)[1]
    return math.prod(out) * math.prod(weight[1:]) if known(out) and known(weight) else None


def transposed_conv(op: Any) -> int | None:
    # filter: [in_channels, out_channels / groups, *kernel]: every input element is
    # multiplied into a window of every filter of its group.
    data, weight = operand_shapes(op)[:2]
    return math.prod(data) * math.prod(weight[1:]) if known(data) and known(weight) else None


def matmul(op: Any) -> int | None:
    # Every output value is a dot product over the inner size K of x (its last axis,
    # or the one before if x is transposed).
    x, out = operand_shapes(op)[0], result_shape(op)
    if not known(x) or not known(out):
        return None
    inner = x[-2] if op.attrs().get('transpose_x') and len(x) > 1 else x[-1]
    return max(math.prod(out), 1) * inner


def bmm(op: Any) -> int | None:
    x, out = operand_shapes(op)[0], result_shape(op)
    return math.prod(out) * x[-1] if known(x) and known(out) else None


def einsum(op: Any) -> int | None:
    # Two or more operands: one multiply-add for every combination of the equation's
    # letters (their sizes multiplied), as opt_einsum's naive count.
    equation = op.attrs().get('equation', '').replace(' ', '')
    combined = op.operand_source(0).get_defining_op()
    shapes = [shape(value) for value in combined.operands_source()]
    terms = equation.split('->')[0].split(',')
    if len(terms) < 2 or len(terms) != len(shapes) or not all(map(known, shapes)):
        return 0 if len(terms) < 2 else None
    sizes: dict[str, int] = {}
    for term, sizes_of in zip(terms, cast(list[list[int]], shapes)):   # (all of them known)
        letters = term.replace('...', '')
        dots = len(sizes_of) - len(letters)
        if '...' in term:   # the broadcast axes, as one letter each
            sizes.update({f'.{i}': size for i, size in enumerate(sizes_of[term.index('...'):][:dots])})
            sizes_of = sizes_of[:term.index('...')] + sizes_of[term.index('...') + dots:]
        sizes.update(zip(letters, sizes_of))
    return math.prod(sizes.values())


GATES = {'LSTM': 4, 'GRU': 3, 'RNN_TANH': 1, 'RNN_RELU': 1}


def rnn(op: Any) -> int | None:
    # Every gate of every layer and direction, at every time step of every sequence,
    # multiplies the layer's input and the hidden state by its weights:
    # gates x (input + hidden) x hidden.  The input of layer 2 on is the hidden state
    # of all directions of the layer below.
    attrs, data = op.attrs(), operand_shapes(op)[0]
    if not known(data):
        return None
    hidden, directions = attrs['hidden_size'], 2 if attrs['is_bidirec'] else 1
    steps = math.prod(data[:-1])            # time steps x sequences
    per_step = sum((attrs['input_size'] if layer == 0 else hidden * directions) + hidden
                   for layer in range(attrs['num_layers'])) * hidden
    return GATES[attrs['mode']] * steps * directions * per_step


def addmm(op: Any) -> int | None:
    # out = beta * input + alpha * x @ y
    x, out = operand_shapes(op)[1], result_shape(op)
    return math.prod(out) * x[-1] if known(x) and known(out) else None


def dot(op: Any) -> int | None:
    # x . y along the last axis: every output value is K multiply-adds.
    x = operand_shapes(op)[0]
    return math.prod(x) if known(x) else None


def baddbmm(op: Any) -> int | None:
    # out = beta * input + alpha * x @ y, batched: as addmm, every output value is K.
    return addmm(op)


def bilinear(op: Any) -> int | None:
    # out[b, o] = x[b] W[o] y[b]: for every output value, x W[o] (in1 x in2 multiply-adds,
    # the order Paddle's kernel takes), then its dot product with y (in2).
    x, y, weight = operand_shapes(op)[:3]
    if not (known(x) and known(y) and known(weight)):
        return None
    return x[0] * weight[0] * weight[2] * (weight[1] + 1)


def multi_dot(op: Any) -> int | None:
    # A1 @ A2 @ ... @ An in the order that costs the fewest multiply-adds, which Paddle's
    # kernel chooses (the matrix-chain order); a vector at either end is a 1 x n or n x 1
    # matrix.
    shapes = [shape(value) for value in op.operand_source(0).get_defining_op().operands_source()]
    if not shapes or not all(map(known, shapes)):
        return None
    matrices = cast(list[list[int]], shapes)
    if len(matrices[0]) == 1:
        matrices[0] = [1, *matrices[0]]
    if len(matrices[-1]) == 1:
        matrices[-1] = [*matrices[-1], 1]
    sizes = [matrices[0][0]] + [matrix[1] for matrix in matrices]
    count = len(matrices)
    cost = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for first in range(count - length):
            last = first + length
            cost[first][last] = min(cost[first][split] + cost[split + 1][last]
                                    + sizes[first] * sizes[split + 1] * sizes[last + 1]
                                    for split in range(first, last))
    return cost[0][count - 1]


HANDLERS: dict[str, Callable[[Any], int | None]] = {
    'pd_op.conv2d': conv, 'pd_op.conv3d': conv, 'pd_op.depthwise_conv2d': conv,
    'pd_op.conv2d_transpose': transposed_conv, 'pd_op.conv3d_transpose': transposed_conv,
    'pd_op.depthwise_conv2d_transpose': transposed_conv,
    'pd_op.matmul': matmul, 'pd_op.bmm': bmm, 'pd_op.mv': matmul, 'pd_op.einsum': einsum,
    'pd_op.addmm': addmm, 'pd_op.rnn': rnn, 'pd_op.dot': dot, 'pd_op.baddbmm': baddbmm,
    'pd_op.bilinear': bilinear, 'pd_op.multi_dot': multi_dot,
}

# Operators that do no matrix product: data movement, creation, comparison, and the
# arithmetic the convention leaves out (elementwise, normalisation, activations, pooling).
NO_PRODUCT = {f'pd_op.{name}' for name in '''
    data full full_like full_int_array full_with_tensor assign assign_value assign_value_
    arange linspace zeros_like ones_like empty empty_like eye tril triu tril_indices
    triu_indices gaussian uniform randint randperm bernoulli
    cast reshape reshape_ flatten flatten_ squeeze squeeze_ unsqueeze unsqueeze_
    transpose concat split split_with_num slice strided_slice gather gather_nd
    index_select index_put take_along_axis put_along_axis scatter scatter_nd_add stack
    unstack unbind expand expand_as tile roll flip pad pad3d shape shape64 numel
    embedding one_hot where masked_select masked_fill nonzero argmax argmin argsort sort
    topk unique meshgrid broadcast_tensors chunk as_strided view_shape view_dtype
    share_data increment memcpy memcpy_d2h memcpy_h2d coalesce_tensor
    add add_ subtract subtract_ multiply multiply_ divide divide_ scale scale_ pow
    elementwise_pow maximum minimum floor_divide remainder sqrt rsqrt exp log log1p
    log2 log10 abs sign neg square reciprocal floor ceil round clip clip_ sum mean
    max min prod cumsum cumprod logsumexp var std amax amin all any norm p_norm
    frobenius_norm squared_l2_norm
    equal not_equal less_than less_equal greater_than greater_equal logical_and
    logical_or logical_not logical_xor isnan isinf isfinite bitwise_and bitwise_or
    bitwise_not bitwise_xor
    relu relu_ relu6 leaky_relu leaky_relu_ elu elu_ selu celu gelu silu swish mish
    sigmoid tanh tanh_ hardswish hardsigmoid hardtanh hardshrink softshrink tanhshrink
    thresholded_relu prelu rrelu softplus softsign logsigmoid log_softmax softmax
    softmax_ glu maxout erf
    batch_norm batch_norm_ sync_batch_norm_ layer_norm group_norm instance_norm
    rms_norm local_response_norm lrn fused_bias_residual_layernorm
    pool2d pool3d max_pool2d_with_index max_pool3d_with_index lp_pool2d unpool
    unpool3d fractional_max_pool2d fractional_max_pool3d
    sin cos tan sinh cosh asin acos atan swiglu set_value set_value_ set_value_with_tensor
    set_value_with_tensor_ share_data_ assign_out_
    cross_entropy_with_softmax sigmoid_cross_entropy_with_logits nll_loss kldiv_loss
    huber_loss bce_loss log_loss
    dropout nearest_interp bilinear_interp bicubic_interp trilinear_interp linear_interp
    pixel_shuffle pixel_unshuffle channel_shuffle grid_sample affine_grid unfold fold
'''.split()} | {'builtin.combine', 'builtin.split', 'builtin.slice', 'builtin.parameter',  # noqa: SIM905
               'builtin.constant', 'pd_op.yield', 'cf.yield', 'cf.tuple_push',
               'cf.tuple_pop', 'cf.stack_create', 'cf.has_elements'}


def blocks(op: Any) -> list[Any]:
    """The blocks an operator holds (the branches of an if, the body of a while)."""
    try:
        return list(op.blocks())
    except (AttributeError, RuntimeError, TypeError):
        return []


def op_macs(op: Any) -> int | None:
    """The multiply-adds of one operator and of the operators in its blocks, or None if
    none of them is a matrix product the rules count (or could size)."""
    macs = HANDLERS[op.name()](op) if op.name() in HANDLERS else None
    for block in blocks(op):
        for inner in block.ops:
            inner_macs = op_macs(inner)
            if inner_macs is not None:
                macs = (macs or 0) + inner_macs
    return macs


def uncounted_ops(op: Any) -> set[str]:
    """The names of the operators in `op` (and its blocks) that the count leaves out
    without knowing they do no product: no rule, or a size the trace could not infer."""
    name, held = op.name(), blocks(op)
    names: set[str] = set()
    if name in HANDLERS:
        if HANDLERS[name](op) is None:
            names.add(f'{name} (of unknown size)')
    elif name not in NO_PRODUCT and not held:
        names.add(name)
    for block in held:
        for inner in block.ops:
            names |= uncounted_ops(inner)
    return names
