"""Multiply-adds of the operators of a traced Program, one rule per operator name.

As fvcore's flop counter does for PyTorch: each operator the forward pass appended to
the Program (Paddle's PIR, 'pd_op.conv2d', 'pd_op.matmul', ...) is looked up in
HANDLERS, which gives its multiply-adds from the shapes and attributes the trace
inferred; operators that do no matrix product are in NO_PRODUCT; any other operator is
reported as not counted.  So a product is counted wherever it runs, in a layer or in a
functional call of a forward(), and nothing is run to count it.

A convolution is lowered to these operators whatever its rank: Conv1D runs a conv2d on
an unsqueezed map, and Linear runs a matmul (linear_v2 on a GPU build, with a bias).
The operators a GPU build or Paddle's fused passes give products to (linear_v2,
fused_gemm_epilogue, fc, the flash and memory-efficient attention kernels, cudnn_lstm,
fused_conv2d_add_act, ...) have rules too, with their operands laid out as Paddle 3.3
declares them, and count as the unfused operators they replace.  A multiply is a product
only when it is an outer product (both operands broadcast, as paddle.outer).
paddleinfo.conventions counts under the other conventions (flops, full) and with a
user's own rules.
"""
import math
from collections.abc import Callable, Mapping
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


def conv(op: Any, filter_index: int = 1) -> int | None:
    # filter: [out_channels, in_channels / groups, *kernel]: one output element is the
    # dot product of its window with one filter.
    out, weight = result_shape(op), operand_shapes(op)[filter_index]
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
    attrs = op.attrs()
    transposed = attrs.get('transpose_x', attrs.get('trans_x'))   # (fused_gemm_epilogue's name)
    inner = x[-2] if transposed and len(x) > 1 else x[-1]
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


# The gates of each RNN mode, for the traced rule here and the layer count of
# paddleinfo.macs: one home, so that the two cannot disagree.
GATES = {'LSTM': 4, 'GRU': 3, 'RNN_TANH': 1, 'RNN_RELU': 1}


def rnn_step_macs(gates: int, input_size: int, hidden: int, num_layers: int, directions: int,
                  recurrent: int | None = None) -> int:
    """The multiply-adds of one time step of one sequence through every layer and
    direction of an RNN: each gate multiplies the layer's input and the recurrent state
    by its weights, gates x (input + recurrent) x hidden, and an LSTM with a projection
    (proj_size) then multiplies its hidden state by the projection, hidden x proj_size.
    The recurrent state is the projection (proj_size) when there is one, else the
    hidden state; the input of layer 2 on is the recurrent state of all directions of
    the layer below."""
    recurrent = recurrent or hidden
    projection = hidden * recurrent if recurrent != hidden else 0
    return directions * sum(
        gates * hidden * ((input_size if layer == 0 else recurrent * directions) + recurrent)
        + projection for layer in range(num_layers))


def rnn(op: Any) -> int | None:
    # Every gate of every layer and direction, at every time step of every sequence
    # (rnn_step_macs).  Paddle 3.3 runs an LSTM with proj_size as cells in a loop, but
    # the recurrent size is read from the weights (weight_hh: [gates x hidden,
    # recurrent]), so that a Program whose rnn op carries a projection is counted too.
    attrs, data = op.attrs(), operand_shapes(op)[0]
    if not known(data):
        return None
    directions = 2 if attrs['is_bidirec'] else 1
    steps = math.prod(data[:-1])            # time steps x sequences
    weights = list_shapes(op, 2)
    recurrent = weights[1][1] if len(weights) > 1 and known(weights[1]) and len(weights[1]) == 2 else None
    return steps * rnn_step_macs(GATES[attrs['mode']], attrs['input_size'], attrs['hidden_size'],
                                 attrs['num_layers'], directions, recurrent)


def cudnn_lstm(op: Any) -> int | None:
    # cuDNN's LSTM (GPU builds): x [time steps, sequences, input], no input_size
    # attribute, no projection; else as rnn.
    attrs, data = op.attrs(), operand_shapes(op)[0]
    if not known(data):
        return None
    directions = 2 if attrs['is_bidirec'] else 1
    return math.prod(data[:-1]) * rnn_step_macs(GATES['LSTM'], data[-1], attrs['hidden_size'],
                                                attrs['num_layers'], directions)


def list_shapes(op: Any, index: int) -> list[list[int] | None]:
    """The shapes of the values an operand that is a list of tensors (a builtin.combine,
    as rnn's weight_list) gathers; [] if the operand is not such a list."""
    try:
        maker = op.operand_source(index).get_defining_op()
    except (IndexError, RuntimeError, ValueError, AttributeError):
        return []
    if maker is None or maker.name() != 'builtin.combine':
        return []
    return [shape(value) for value in maker.operands_source()]


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
    shapes = [shape(value) for value in op.operand_source(0).get_defining_op().operands_source()]
    if not shapes or not all(map(known, shapes)):
        return None
    return chain_macs(cast(list[list[int]], shapes))


def chain_macs(shapes: list[list[int]]) -> int:
    """A1 @ A2 @ ... @ An in the order that costs the fewest multiply-adds, which Paddle's
    kernel chooses (the matrix-chain order); a vector at either end is a 1 x n or n x 1
    matrix.  (paddleinfo.eager counts a real pass's multi_dot with it too.)"""
    matrices = [list(item) for item in shapes]
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


def linear(op: Any) -> int | None:
    # out = x @ W (+ bias): every output value is the inner size K, x's last axis,
    # whatever the weight's layout (linear_v2 may hold it transposed, [N, K]; the
    # quantised linears hold it packed).
    x, out = operand_shapes(op)[0], result_shape(op)
    return math.prod(out) * x[-1] if known(x) and known(out) else None


def fc(op: Any) -> int | None:
    # w: [K, N] (the inference passes' fc and its fusions); with padding_weights Paddle
    # pads it by 4 rows and columns, which multiply nothing.
    w, out = operand_shapes(op)[1], result_shape(op)
    if not known(w) or not known(out):
        return None
    return math.prod(out) * (w[0] - (4 if op.attrs().get('padding_weights') else 0))


def matmul_with_flatten(op: Any) -> int | None:
    # Paddle's old `mul`: x flattened to [prod(x[:x_num_col_dims]), K] times y flattened
    # to [K, prod(y[y_num_col_dims:])].
    x, y = operand_shapes(op)[:2]
    if not known(x) or not known(y):
        return None
    return math.prod(x) * math.prod(y[op.attrs().get('y_num_col_dims', 1):])


def deformable_conv(op: Any) -> int | None:
    # x, offset, filter, mask: as a conv, with the filter the third operand (the
    # bilinear sampling of the offsets is not a product of the convention).
    return conv(op, 2)


def fused_linear_param_grad_add(op: Any) -> int | None:
    # A GPU pass's weight gradient of a Linear, dweight += x^T @ dout: every entry of
    # the [K, N] gradient is a dot product over the rows of x.
    x, dout = operand_shapes(op)[:2]
    return math.prod(x) * dout[-1] if known(x) and known(dout) else None


# Attention kernels, by where their operands keep the key length.  The count is that of
# the matrix products the unfused form runs (QK^T: query x key length x head size, then
# the attention weights times V: query x key length x value head size), so a model counts
# the same on a GPU build as on the CPU one: a causal mask is counted whole (as the
# masked matmul is), and the recomputation of a flash kernel's backward is not counted.
def attention_products(out: list[int], keys: int, head: int) -> int:
    """QK^T and AV for every query row: out is [..., query rows..., value head size]."""
    return math.prod(out[:-1]) * keys * (head + out[-1])


def attention(op: Any, key_axis: int = -3) -> int | None:
    # q, k, v: [batch, length, heads, head size] (flash_attn, flashmask_attention,
    # memory_efficient_attention, fused_dot_product_attention, flash_attn_v3), or with
    # the heads before the length (key_axis -2: variable_length_memory_efficient_attention).
    q, k = operand_shapes(op)[:2]
    out = result_shape(op)
    if not (known(q) and known(k) and known(out)):
        return None
    return attention_products(out, k[key_axis], q[-1])


def attention_heads_first(op: Any) -> int | None:
    return attention(op, -2)


def packed_attention(op: Any) -> int | None:
    # qkv: [batch, length, heads / kv heads + 2, kv heads, head size], one tensor.
    qkv, out = operand_shapes(op)[0], result_shape(op)
    if not known(qkv) or not known(out):
        return None
    return attention_products(out, qkv[1], qkv[-1])


def scalar_attribute(op: Any, name: str, index: int) -> int | None:
    """An int attribute that Paddle may give as an operand instead (a mutable one, as
    max_seqlen_k): the attribute, else the constant the operand holds, else None."""
    value = op.attrs().get(name)
    if value is None and index < op.num_operands():
        value = constant(op.operand_source(index))
    return int(value) if isinstance(value, int | float) and value >= 0 else None


def unpadded_attention(op: Any) -> int | None:
    # Variable-length batches packed into one axis: q [total query tokens, heads, head
    # size].  Every query token is charged the longest key sequence (max_seqlen_k), which
    # is exact when the keys are all that long and an upper bound otherwise: the lengths
    # are data, which a trace does not know.
    index = {'pd_op.flash_attn_unpadded': 8, 'pd_op.flash_attn_varlen_qkvpacked': 6,
             'pd_op.flash_attn_v3_varlen': 12}.get(op.name(), 1 << 30)
    keys = scalar_attribute(op, 'max_seqlen_k', index)
    q, out = operand_shapes(op)[0], result_shape(op)
    if keys is None or not known(q) or not known(out):
        return None
    return attention_products(out, keys, q[-1])


def sparse_attention(op: Any) -> int | None:
    # Only the scores the CSR layout keeps are computed: columns [batch, heads, nnz].
    q, v = operand_shapes(op)[0], operand_shapes(op)[2]
    columns = operand_shapes(op)[4]
    if not (known(q) and known(v) and known(columns)):
        return None
    return math.prod(columns) * (q[-1] + v[-1])


def fused_attention(op: Any) -> int | None:
    # paddle.incubate's FusedMultiHeadAttention: the QKV projection (qkv_weight holds
    # 3 x heads x head size x embed in either layout), the attention products (qk_out:
    # [batch, heads, query length, key length]), and the output projection.
    x, qkv_weight, out_weight = (operand_shapes(op)[i] for i in (0, 3, 7))
    scores = result_shape(op, 6)
    if not (known(x) and known(qkv_weight) and known(out_weight) and known(scores)):
        return None
    head = out_weight[0] // op.attrs()['num_heads']
    rows = math.prod(x[:-1])
    return rows * (math.prod(qkv_weight) + math.prod(out_weight)) + 2 * math.prod(scores) * head


def fused_feedforward(op: Any) -> int | None:
    # Linear, activation, Linear: linear1_weight [d_model, dim_ff], linear2_weight
    # [dim_ff, d_model], each meeting every row of x.
    x, first, second = (operand_shapes(op)[i] for i in (0, 3, 5))
    if not (known(x) and known(first) and known(second)):
        return None
    return math.prod(x[:-1]) * (math.prod(first) + math.prod(second))


def fused_recurrence(op: Any) -> int | None:
    # The CPU inference passes' fusion_gru and fusion_lstm: x [time steps, input],
    # weight_x [input, gates x hidden], weight_h [hidden, gates x hidden], every step.
    names = {'pd_op.fusion_gru': (0, 2, 3), 'pd_op.fusion_lstm': (0, 1, 2)}[op.name()]
    x, weight_x, weight_h = (operand_shapes(op)[i] for i in names)
    if not (known(x) and known(weight_x) and known(weight_h)):
        return None
    return x[0] * (math.prod(weight_x) + math.prod(weight_h))


def kron(op: Any) -> int | None:
    # Every output element is one product of an element of x and one of y.
    out = result_shape(op)
    return math.prod(out) if known(out) else None


def outer(op: Any) -> int | None:
    # A multiply both of whose operands are broadcast (each is smaller than the result,
    # as a column [n, 1] times a row [1, m], which is what paddle.outer lowers to) is an
    # outer product: a matrix product of inner size 1, one multiply per output value.
    # Any other multiply scales a tensor elementwise (a mask, a gate, SE's channel
    # weights): 0 under the convention.  None only for an outer product whose size the
    # trace does not know.
    x, y = operand_shapes(op)[:2]
    out = result_shape(op)
    if x is None or y is None or out is None or not is_outer(x, y, out):
        return 0
    return math.prod(out) if known(out) else None


def is_outer(x: list[int], y: list[int], out: list[int]) -> bool:
    """Whether both x and y are broadcast to `out`: each has an axis of size 1 (or a
    missing leading one) where the result's axis is larger."""
    def broadcast(sizes: list[int]) -> bool:
        padded = [1] * (len(out) - len(sizes)) + sizes
        return any(size == 1 and whole != 1 for size, whole in zip(padded, out))
    return len(x) <= len(out) and len(y) <= len(out) and broadcast(x) and broadcast(y)


# The operator names and operand layouts are those of Paddle 3.3's operator definitions
# (paddle/phi/ops/yaml, as the generated pd_op.h declares them): a GPU build gives a
# Linear with a bias to linear_v2, its fused passes give products to fused_gemm_epilogue,
# fc, fused_conv2d_add_act and the attention kernels.
HANDLERS: dict[str, Callable[[Any], int | None]] = {
    'pd_op.conv2d': conv, 'pd_op.conv3d': conv, 'pd_op.depthwise_conv2d': conv,
    'pd_op.fused_conv2d_add_act': conv, 'pd_op.depthwise_conv2d_bias': conv,
    'pd_op.depthwise_conv3d_bias': conv, 'pd_op.deformable_conv': deformable_conv,
    'pd_op.conv2d_transpose': transposed_conv, 'pd_op.conv3d_transpose': transposed_conv,
    'pd_op.depthwise_conv2d_transpose': transposed_conv,
    'pd_op.conv2d_transpose_bias': transposed_conv,
    'pd_op.matmul': matmul, 'pd_op.bmm': bmm, 'pd_op.mv': matmul, 'pd_op.einsum': einsum,
    'pd_op.legacy_matmul': matmul, 'pd_op.fused_gemm_epilogue': matmul,
    'pd_op.fp8_fp8_half_gemm_fused': matmul,
    'pd_op.linear_v2': linear, 'pd_op.weight_only_linear': linear,
    'pd_op.llm_int8_linear': linear, 'pd_op.fc': fc, 'pd_op.gemm_epilogue': fc,
    'pd_op.fused_fc_elementwise_layernorm': fc, 'pd_op.matmul_with_flatten': matmul_with_flatten,
    'pd_op.fused_linear_param_grad_add': fused_linear_param_grad_add,
    'pd_op.addmm': addmm, 'pd_op.addmm_': addmm, 'pd_op.rnn': rnn, 'pd_op.rnn_': rnn,
    'pd_op.cudnn_lstm': cudnn_lstm, 'pd_op.fusion_gru': fused_recurrence,
    'pd_op.fusion_lstm': fused_recurrence, 'pd_op.dot': dot,
    'pd_op.baddbmm': baddbmm, 'pd_op.baddbmm_': baddbmm,
    'pd_op.bilinear': bilinear, 'pd_op.multi_dot': multi_dot, 'pd_op.kron': kron,
    'pd_op.multiply': outer, 'pd_op.multiply_': outer,
    'pd_op.flash_attn': attention, 'pd_op.flash_attn_v3': attention,
    'pd_op.flashmask_attention': attention, 'pd_op.flashmask_attention_v2': attention,
    'pd_op.memory_efficient_attention': attention,
    'pd_op.fused_dot_product_attention': attention,
    'pd_op.variable_length_memory_efficient_attention': attention_heads_first,
    'pd_op.flash_attn_qkvpacked': packed_attention,
    'pd_op.flash_attn_unpadded': unpadded_attention,
    'pd_op.flash_attn_varlen_qkvpacked': unpadded_attention,
    'pd_op.flash_attn_v3_varlen': unpadded_attention,
    'pd_op.sparse_attention': sparse_attention, 'pd_op.fused_attention': fused_attention,
    'pd_op.fused_feedforward': fused_feedforward,
}

# The attention kernels: scores QK^T and their product with V, each by one of the rules
# above (paddleinfo.conventions and paddleinfo.backward read this set).
ATTENTION = frozenset(name for name, rule in HANDLERS.items() if rule in (
    attention, attention_heads_first, packed_attention, unpadded_attention, sparse_attention))

# Operators that do no matrix product: data movement, creation, comparison, and the
# arithmetic the convention leaves out (elementwise, normalisation, activations, pooling).
# Operators that move, copy, make or select values: no arithmetic at all, in any
# convention (paddleinfo.conventions counts them as nothing under `full` too).
MOVES = {f'pd_op.{name}' for name in '''
    data full full_like full_int_array full_with_tensor assign assign_value assign_value_
    arange linspace zeros_like ones_like empty empty_like eye tril triu tril_indices
    triu_indices gaussian uniform randint randperm bernoulli
    cast reshape reshape_ flatten flatten_ squeeze squeeze_ unsqueeze unsqueeze_
    transpose concat split split_with_num slice strided_slice gather gather_nd
    index_select index_put take_along_axis put_along_axis scatter scatter_nd_add stack
    unstack unbind expand expand_as tile roll flip pad pad3d shape shape64 numel
    embedding one_hot where masked_select masked_fill nonzero argmax argmin argsort sort
    topk unique meshgrid broadcast_tensors chunk as_strided view_shape view_dtype
    share_data share_data_ increment memcpy memcpy_d2h memcpy_h2d coalesce_tensor
'''.split()}
NO_PRODUCT = MOVES | {f'pd_op.{name}' for name in '''
    add_n
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
    huber_loss bce_loss log_loss mean_all label_smooth fused_rms_norm_quant isclose lerp
    logit diag trace
    dropout nearest_interp bilinear_interp bicubic_interp trilinear_interp linear_interp
    pixel_shuffle pixel_unshuffle channel_shuffle grid_sample affine_grid unfold fold
'''.split()} | {'builtin.combine', 'builtin.split', 'builtin.slice', 'builtin.parameter',  # noqa: SIM905
               'builtin.constant', 'pd_op.yield', 'cf.yield', 'cf.tuple_push',
               'cf.tuple_pop', 'cf.stack_create', 'cf.has_elements'}


def blocks(op: Any) -> list[Any]:
    """The blocks an operator holds (the branches of an if, the body of a while)."""
    try:
        # (num_regions() answers at once; blocks() costs microseconds on every operator.)
        return list(op.blocks()) if op.num_regions() else []
    except (AttributeError, RuntimeError, TypeError):
        return []


def no_product(name: str) -> bool:
    """Whether an operator multiplies nothing: NO_PRODUCT names it, or its in-place form
    (relu_ for relu)."""
    return name in NO_PRODUCT or (name.endswith('_') and name[:-1] in NO_PRODUCT)


def own_macs(op: Any, handlers: Mapping[str, Callable[[Any], int | None]] = HANDLERS) -> int | None:
    """The multiply-adds of `op` itself under `handlers`, or None if it has no rule or
    the rule could not size it.  An operator that is a product only at times (a multiply
    is one when it is an outer product) and is not one here counts None, as an
    operator that multiplies nothing."""
    rule = handlers.get(op.name())
    if rule is None:
        return None
    macs = rule(op)
    return None if macs == 0 and no_product(op.name()) else macs


def op_macs(op: Any) -> int | None:
    """The multiply-adds of one operator and of the operators in its blocks, or None if
    none of them is a matrix product the rules count (or could size)."""
    macs = own_macs(op)
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
    elif not no_product(name) and not held:
        names.add(name)
    for block in held:
        for inner in block.ops:
            names |= uncounted_ops(inner)
    return names
