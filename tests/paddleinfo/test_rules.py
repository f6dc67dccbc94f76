"""The operator rules of paddleinfo.ops that functional calls meet: dot, baddbmm, bilinear
and multi_dot counted by hand, and the operators that multiply nothing (rotary
embeddings' sin and cos, .detach(), paddle.assign's output=, item assignment, a loss)
counted as nothing, with no note that would make an exact count look incomplete.
Then an LSTM with a projection, outer and Kronecker products, and the product operators
of Paddle's GPU build and fused passes, on stand-in operators (no GPU here) whose layout
is checked against the real operators the CPU build can make."""
import paddle
import paddle.nn.functional as F
import pytest
from paddle import _C_ops, nn

from paddleinfo import backward, ops, summary
from paddleinfo import macs as layer_count


class Functional(nn.Layer):
    """One functional call on two [4, 8] inputs."""

    def __init__(self, call):
        super().__init__()
        self.call = call

    def forward(self, x, y):
        return self.call(x, y)


def counted(call, sizes=((4, 8), (4, 8))):
    result = summary(lambda: Functional(call), list(sizes), verbose=0)
    return result.macs, result.profile.uncounted_ops


@pytest.mark.parametrize('call, macs', [
    # x . y along the last axis: 4 outputs of 8 multiply-adds each
    (lambda x, y: paddle.dot(x, y), 4 * 8),
    # batched: 2 x 4 x 4 outputs, each of the inner size 8
    (lambda x, y: paddle.baddbmm(paddle.zeros([2, 4, 4]), paddle.ones([2, 4, 8]),
                                 paddle.ones([2, 8, 4])), 2 * 4 * 4 * 8),
    # 4 x 3 outputs, each x W[o] (8 x 8) and then a dot product with y (8)
    (lambda x, y: F.bilinear(x, y, paddle.ones([3, 8, 8])), 4 * 3 * (8 * 8 + 8)),
    # [4, 8] @ [8, 4] @ [4, 8]: (AB)C takes 4*8*4 + 4*4*8 = 256, A(BC) 8*4*8 + 4*8*8 = 512;
    # the kernel takes the cheaper order
    (lambda x, y: paddle.linalg.multi_dot([x, y.T, x]), 256),
], ids=['dot', 'baddbmm', 'bilinear', 'multi_dot'])
def test_products_of_functional_calls_by_hand(call, macs):
    assert counted(call) == (macs, {})


@pytest.mark.parametrize('call', [
    lambda x, y: paddle.sin(x) * paddle.cos(y),
    lambda x, y: x.detach() + y,
    lambda x, y: paddle.assign(x, output=y),
    lambda x, y: F.cross_entropy(x, paddle.zeros([4, 1], 'int64')),
], ids=['sin-cos', 'detach', 'assign-output', 'cross-entropy'])
def test_operators_that_multiply_nothing_leave_no_note(call):
    assert counted(call) == (0, {})


def test_a_dot_product_s_gradients_are_counted_too():
    result = summary(lambda: Functional(lambda x, y: paddle.dot(x, y * 2)),
                     [(4, 8), (4, 8)], training=True, verbose=0)
    # The inputs are data: neither operand needs a gradient, so the backward computes none.
    assert result.training.backward_macs == 0
    weighted = summary(lambda: Functional(lambda x, y: F.bilinear(x, y, paddle.create_parameter(
        [3, 8, 8], 'float32'))), [(4, 8), (4, 8)], training=True, verbose=0)
    # Only the weight needs a gradient: the forward's MACs once.
    assert weighted.training.weight_grad_macs == weighted.macs
    assert weighted.training.input_grad_macs == 0


# --- stand-in operators: the rules of a GPU build's operators, tested without a GPU ---

class Value:
    """A Program value as the rules read it: a shape (None: a list of tensors, which has
    none), whether it is computed, and the operator that made it."""

    def __init__(self, shape=None, maker=None, present=True):
        self._shape, self.maker, self.present = shape, maker, present

    @property
    def shape(self):
        if self._shape is None:
            raise ValueError('no shape')
        return self._shape

    def initialized(self):
        return self.present

    def get_defining_op(self):
        return self.maker

    def use_empty(self):
        return False


class Op:
    """An operator as the rules read it: name, operands, results, attributes.  Shapes
    and lists of shapes become Values (a list of lists, a builtin.combine of them)."""

    def __init__(self, name, operands=(), results=(), attrs=None):
        self._name, self._attrs = name, dict(attrs or {})
        self._operands = [self.value(item) for item in operands]
        self._results = [self.value(item) for item in results]

    @staticmethod
    def value(item):
        if isinstance(item, Value):
            return item
        if item is None:                    # an optional operand left out
            return Value(None, present=False)
        if item and isinstance(item[0], list):
            return Value(None, Op('builtin.combine', item))
        return Value(list(item))

    def name(self):
        return self._name

    def attrs(self):
        return self._attrs

    def operands_source(self):
        return self._operands

    def operand_source(self, index):
        return self._operands[index]

    def num_operands(self):
        return len(self._operands)

    def results(self):
        return self._results

    def result(self, index):
        return self._results[index]

    def blocks(self):
        return []


def grad_of(forward, computed):
    """The gradient operator of `forward` whose results are computed where `computed` says."""
    name = forward.name().rstrip('_') + '_grad'
    return Op(name, results=[Value([1], present=flag) for flag in computed])


PROGRAMS = []      # (an operator is valid only while its Program lives)


def program_ops(build, *shapes):
    """The operators `build(*inputs)` appends to a static Program, inputs of `shapes`
    (real Paddle operators, built on the CPU build by shape inference alone)."""
    paddle.enable_static()
    try:
        program = paddle.static.Program()
        with paddle.static.program_guard(program, paddle.static.Program()):
            build(*(paddle.static.data(f'x{i}', list(size)) for i, size in enumerate(shapes)))
        PROGRAMS.append(program)
        return list(program.global_block().ops)
    finally:
        paddle.disable_static()


def test_the_gate_formula_has_one_home():
    assert layer_count.GATES is ops.GATES


def test_an_lstm_with_a_projection_by_hand():
    # proj_size 6 of hidden 12: at every step the 4 gates take input (8) + projection (6)
    # times hidden (12), and the projection takes hidden x proj_size: 744 per step; 5 steps.
    assert model_macs(lambda: nn.LSTM(8, 12, proj_size=6), [(1, 5, 8)]) == 5 * (4 * 12 * (8 + 6) + 12 * 6)
    # two layers, both directions, 2 sequences: layer 2's input is both projections (2 x 6)
    per_step = 2 * (4 * 12 * (8 + 6) + 12 * 6) + 2 * (4 * 12 * (2 * 6 + 6) + 12 * 6)
    assert model_macs(lambda: nn.LSTM(8, 12, proj_size=6, num_layers=2, direction='bidirect'),
                   [(2, 5, 8)]) == 2 * 5 * per_step
    # without one, as before: 4 x (8 + 12) x 12 per step
    assert model_macs(lambda: nn.LSTM(8, 12), [(1, 5, 8)]) == 5 * 4 * (8 + 12) * 12


def model_macs(build, sizes):
    return summary(build, list(sizes), verbose=0).macs


def test_the_layer_count_of_an_lstm_with_a_projection():
    layer = nn.LSTM(8, 12, proj_size=6, num_layers=2, direction='bidirect')
    data = paddle.zeros([2, 5, 8])
    per_step = 2 * (4 * 12 * (8 + 6) + 12 * 6) + 2 * (4 * 12 * (2 * 6 + 6) + 12 * 6)
    assert layer_count.rnn_macs(layer, [data]) == 2 * 5 * per_step
    cell = nn.LSTMCell(8, 12, proj_size=6)
    assert layer_count.cell_macs(cell, [paddle.zeros([3, 8])]) == 3 * (4 * 12 * (8 + 6) + 12 * 6)
    assert layer_count.cell_macs(nn.GRUCell(8, 12), [paddle.zeros([3, 8])]) == 3 * 3 * (8 + 12) * 12


def rnn_op(proj=None, name='pd_op.rnn'):
    # nn.LSTM(8, 12, proj_size=proj) as an rnn operator: weight_list holds w_ih [48, 8]
    # and w_hh [48, proj or 12], then the biases.
    recurrent = proj or 12
    weights = [[48, 8], [48, recurrent], [48], [48]]
    return Op(name, [[5, 2, 8], None, weights, None, None], [[5, 2, recurrent]],
              {'is_bidirec': False, 'mode': 'LSTM', 'input_size': 8, 'hidden_size': 12,
               'num_layers': 1})


def test_the_traced_rnn_rule_reads_the_projection_from_the_weights():
    # 10 steps x sequences, each 4 x 12 x (8 + 6) + 12 x 6
    assert ops.op_macs(rnn_op(6)) == 10 * (4 * 12 * (8 + 6) + 12 * 6)
    assert ops.op_macs(rnn_op()) == 10 * 4 * 12 * (8 + 12)
    # its backward: twice the forward when x and the weights need gradients, less the
    # first layer's input product (4 x 8 x 12 per step) when x needs none
    forward = rnn_op(6)
    both = backward.rnn_grad(forward, [grad_of(forward, [True, False, True])])
    assert (both.inputs, both.weights) == (ops.op_macs(forward), ops.op_macs(forward))
    weights_only = backward.rnn_grad(forward, [grad_of(forward, [False, False, True])])
    assert weights_only.inputs == ops.op_macs(forward) - 10 * 4 * 8 * 12


def test_cudnn_lstm_of_a_gpu_build():
    # x [time, sequences, input]; no input_size attribute: 10 steps x 4 x 12 x (8 + 12)
    op = Op('pd_op.cudnn_lstm', [[5, 2, 8], [1, 2, 12], [1, 2, 12], [1], [[48, 8]], None],
            [[5, 2, 12]], {'is_bidirec': False, 'hidden_size': 12, 'num_layers': 1})
    assert ops.op_macs(op) == 10 * 4 * 12 * (8 + 12)
    grads = backward.rnn_grad(op, [grad_of(op, [False, False, False, True])])
    assert (grads.inputs, grads.weights) == (10 * 4 * 12 * 12, 10 * 4 * 12 * (8 + 12))


# Every GPU build's and fused pass's product operator, as Paddle 3.3's pd_op.h lays out
# its operands and attributes, with its MACs by hand.
GPU_OPERATORS = [
    # linear_v2(input, weight, bias, transpose_weight): [4, 8] @ [8, 16]: 4 x 16 outputs of 8
    ('linear_v2', Op('pd_op.linear_v2', [[4, 8], [8, 16], [16]], [[4, 16]],
                     {'transpose_weight': False}), 4 * 16 * 8),
    ('linear_v2-transposed', Op('pd_op.linear_v2', [[2, 4, 8], [16, 8], [16]], [[2, 4, 16]],
                                {'transpose_weight': True}), 2 * 4 * 16 * 8),
    # fused_gemm_epilogue(x, y, bias; trans_x, trans_y, activation): x^T [8, 4]^T
    ('fused_gemm_epilogue', Op('pd_op.fused_gemm_epilogue', [[8, 4], [8, 16], [16]],
                               [[4, 16], None], {'trans_x': True, 'trans_y': False,
                                                 'activation': 'gelu'}), 4 * 16 * 8),
    # fc(input, w [K, N], bias; in_num_col_dims): [2, 3, 8] with in_num_col_dims 2
    ('fc', Op('pd_op.fc', [[2, 3, 8], [8, 16], [16]], [[2, 3, 16]],
              {'in_num_col_dims': 2, 'activation_type': '', 'padding_weights': False}), 2 * 3 * 16 * 8),
    # matmul_with_flatten (mul): [2, 3, 8] flattened at 2 -> [6, 8], times [8, 16]
    ('matmul_with_flatten', Op('pd_op.matmul_with_flatten', [[2, 3, 8], [8, 16]], [[2, 3, 16]],
                               {'x_num_col_dims': 2, 'y_num_col_dims': 1}), 6 * 8 * 16),
    # dweight [8, 16] += x^T [4, 8]^T @ dout [4, 16]: 8 x 16 entries of 4
    ('fused_linear_param_grad_add', Op('pd_op.fused_linear_param_grad_add',
                                       [[4, 8], [4, 16], [8, 16], [16]], [[8, 16], [16]]), 8 * 16 * 4),
    ('weight_only_linear', Op('pd_op.weight_only_linear', [[4, 8], [16, 8], None, [16]], [[4, 16]],
                              {'weight_dtype': 'int8'}), 4 * 16 * 8),
    # convs: output values x (in_channels / groups) x kernel
    ('depthwise_conv2d', Op('pd_op.depthwise_conv2d', [[1, 4, 8, 8], [4, 1, 3, 3]], [[1, 4, 8, 8]],
                            {'groups': 4}), 4 * 8 * 8 * 1 * 3 * 3),
    ('conv3d', Op('pd_op.conv3d', [[1, 2, 4, 4, 4], [3, 2, 3, 3, 3]], [[1, 3, 4, 4, 4]]),
     3 * 4 * 4 * 4 * 2 * 27),
    ('fused_conv2d_add_act', Op('pd_op.fused_conv2d_add_act',
                                [[1, 4, 8, 8], [6, 4, 3, 3], [6], [1, 6, 8, 8]],
                                [[1, 6, 8, 8], None], {'activation': 'relu'}), 6 * 8 * 8 * 4 * 9),
    # transposed: every input value x (out_channels / groups) x kernel
    ('conv2d_transpose_bias', Op('pd_op.conv2d_transpose_bias', [[1, 4, 8, 8], [4, 6, 3, 3], [6]],
                                 [[1, 6, 10, 10]]), 4 * 8 * 8 * 6 * 9),
    # attention [batch 2, query 10, heads 4, head 16], keys 12: QK^T 2x10x4x12x16, AV the same
    ('flash_attn', Op('pd_op.flash_attn', [[2, 10, 4, 16], [2, 12, 4, 16], [2, 12, 4, 16], None, None],
                      [[2, 10, 4, 16], None, [2, 4, 10], [2]], {'causal': True}),
     2 * 10 * 4 * 12 * (16 + 16)),
    # value head 32: AV is 2 x 10 x 4 x 12 x 32
    ('memory_efficient_attention', Op('pd_op.memory_efficient_attention',
                                      [[2, 10, 4, 16], [2, 12, 4, 16], [2, 12, 4, 32]] + [None] * 5,
                                      [[2, 10, 4, 32], [2, 4, 10], [2]]),
     2 * 10 * 4 * 12 * (16 + 32)),
    ('fused_dot_product_attention', Op('pd_op.fused_dot_product_attention',
                                       [[2, 10, 4, 16], [2, 12, 4, 16], [2, 12, 4, 16], None, None, None],
                                       [[2, 10, 4, 16], None, [2]]), 2 * 10 * 4 * 12 * 32),
    # heads first: [batch, heads, length, head]
    ('variable_length_memory_efficient_attention',
     Op('pd_op.variable_length_memory_efficient_attention',
        [[2, 4, 10, 16], [2, 4, 12, 16], [2, 4, 12, 16], [2, 1], [2, 1], None], [[2, 4, 10, 16]]),
     2 * 4 * 10 * 12 * 32),
    # qkv [batch 2, length 10, 4 / 4 + 2, kv heads 4, head 16]: keys = length
    ('flash_attn_qkvpacked', Op('pd_op.flash_attn_qkvpacked', [[2, 10, 3, 4, 16], None, None],
                                [[2, 10, 4, 16], None, [2, 4, 10], [2]]), 2 * 10 * 4 * 10 * 32),
    # 20 query tokens of 2 sequences, keys at most 12 (max_seqlen_k)
    ('flash_attn_unpadded', Op('pd_op.flash_attn_unpadded',
                               [[20, 4, 16], [24, 4, 16], [24, 4, 16], [3], [3], None, None],
                               [[20, 4, 16], None, [4, 20], [2]],
                               {'max_seqlen_q': 10, 'max_seqlen_k': 12, 'scale': 0.25}),
     20 * 4 * 12 * 32),
    # only the kept scores: columns [batch 2, heads 4, nnz 30]
    ('sparse_attention', Op('pd_op.sparse_attention',
                            [[2, 4, 10, 16], [2, 4, 10, 16], [2, 4, 10, 16], [2, 4, 11], [2, 4, 30],
                             None, None],
                            [[2, 4, 10, 16], [2, 4, 30], [2, 4, 30]]), 2 * 4 * 30 * 32),
    # incubate's fused attention: x [2, 10, 64], qkv_weight [3, 4, 16, 64], out_linear
    # [64, 64], qk_out [2, 4, 10, 10]: QKV 20 x 3 x 64 x 64, out 20 x 64 x 64, QK^T and AV
    # 2 x 4 x 10 x 10 x 16 each
    ('fused_attention', Op('pd_op.fused_attention',
                           [[2, 10, 64], None, None, [3, 4, 16, 64], [3, 4, 16], None, None, [64, 64],
                            [64], None, None],
                           [None] * 6 + [[2, 4, 10, 10]] + [None] * 12 + [[2, 10, 64]],
                           {'num_heads': 4}),
     20 * 3 * 64 * 64 + 20 * 64 * 64 + 2 * (2 * 4 * 10 * 10 * 16)),
    ('fused_feedforward', Op('pd_op.fused_feedforward',
                             [[2, 10, 64], None, None, [64, 256], [256], [256, 64], [64]] + [None] * 4,
                             [[2, 10, 64]]), 20 * (64 * 256 + 256 * 64)),
]


@pytest.mark.parametrize('op, count', [case[1:] for case in GPU_OPERATORS],
                         ids=[case[0] for case in GPU_OPERATORS])
def test_the_products_of_a_gpu_build_by_hand(op, count):
    assert ops.op_macs(op) == count
    assert ops.uncounted_ops(op) == set()


@pytest.mark.parametrize('build, shapes, stand_in', [
    (lambda x, w, b: _C_ops.linear_v2(x, w, b, False), ([4, 8], [8, 16], [16]),
     Op('pd_op.linear_v2', [[4, 8], [8, 16], [16]], [[4, 16]], {'transpose_weight': False})),
    (lambda x, y, b: _C_ops.fused_gemm_epilogue(x, y, b, False, False, 'none'), ([4, 8], [8, 16], [16]),
     Op('pd_op.fused_gemm_epilogue', [[4, 8], [8, 16], [16]], [[4, 16], None], {'trans_x': False})),
    (lambda x, w, b: _C_ops.fc(x, w, b, 2, '', False), ([2, 3, 8], [8, 16], [16]),
     Op('pd_op.fc', [[2, 3, 8], [8, 16], [16]], [[2, 3, 16]], {'in_num_col_dims': 2})),
    (lambda x, y: _C_ops.matmul_with_flatten(x, y, 2, 1), ([2, 3, 8], [8, 16]),
     Op('pd_op.matmul_with_flatten', [[2, 3, 8], [8, 16]], [[2, 3, 16]], {'y_num_col_dims': 1})),
    (lambda x, w: _C_ops.depthwise_conv2d(x, w, [1, 1], [1, 1], 'EXPLICIT', 4, [1, 1], 'NCHW'),
     ([1, 4, 8, 8], [4, 1, 3, 3]),
     Op('pd_op.depthwise_conv2d', [[1, 4, 8, 8], [4, 1, 3, 3]], [[1, 4, 8, 8]])),
    (lambda x, w, b: _C_ops.conv2d_transpose_bias(x, w, b, [1, 1], [0, 0], [], [], 'EXPLICIT', 1,
                                                  [1, 1], 'NCHW'), ([1, 4, 8, 8], [4, 6, 3, 3], [6]),
     Op('pd_op.conv2d_transpose_bias', [[1, 4, 8, 8], [4, 6, 3, 3], [6]], [[1, 6, 10, 10]])),
    (lambda x, y: paddle.kron(x, y), ([2, 3], [4, 5]), Op('pd_op.kron', [[2, 3], [4, 5]], [[8, 15]])),
], ids=['linear_v2', 'fused_gemm_epilogue', 'fc', 'matmul_with_flatten', 'depthwise_conv2d',
        'conv2d_transpose_bias', 'kron'])
def test_the_stand_ins_read_as_the_real_cpu_operators(build, shapes, stand_in):
    # The CPU build can make these operators (shape inference needs no kernel): the real
    # one and its stand-in count the same, so the stand-ins' layout is Paddle's.
    real = program_ops(build, *shapes)[-1]
    assert real.name() == stand_in.name()
    assert ops.op_macs(real) == ops.op_macs(stand_in) > 0


def test_the_gradients_of_a_gpu_build_s_products():
    linear = GPU_OPERATORS[0][1]
    # linear_v2_grad: input, weight, bias gradients; the input is data, the weight not a
    # parameter here (a stand-in): both charged as inputs, the forward's MACs each
    grads = backward.GRAD_RULES['pd_op.linear_v2'](linear, [grad_of(linear, [True, True, True])])
    assert grads.total == 2 * 4 * 16 * 8
    attention = GPU_OPERATORS[11][1]
    qk = av = 2 * 10 * 4 * 12 * 16
    # dQ and dK as QK^T, dV and dP as AV
    grads = backward.GRAD_RULES['pd_op.flash_attn'](attention, [grad_of(attention, [True, True, True])])
    assert grads.inputs == 2 * qk + 2 * av
    # only V needs a gradient: dV alone
    grads = backward.GRAD_RULES['pd_op.flash_attn'](attention, [grad_of(attention, [False, False, True])])
    assert grads.inputs == av
    feedforward = GPU_OPERATORS[-1][1]
    # x, linear1_weight, linear1_bias, linear2_weight gradients: all four products' twins
    grads = backward.GRAD_RULES['pd_op.fused_feedforward'](
        feedforward, [grad_of(feedforward, [True, True, True, True])])
    assert grads.total == 2 * 20 * (64 * 256 + 256 * 64)


def test_outer_and_kronecker_products_by_hand():
    # paddle.outer of 8 and 8 values: a [8, 1] by [1, 8] multiply, 64 products
    assert summary(lambda: Functional(lambda x, y: paddle.outer(x[0], y[0])), [(4, 8), (4, 8)],
                   verbose=0).macs == 8 * 8
    # kron of [4, 8] and [4, 8]: a [16, 64] result, one product each
    assert counted_call(lambda x, y: paddle.kron(x, y)) == (16 * 64, {})
    # an elementwise multiply, or a tensor scaled by a broadcast one, is no product
    assert counted_call(lambda x, y: x * y + x * y[:, :1]) == (0, {})
    assert ops.is_outer([4, 1, 8], [1, 6, 1], [4, 6, 8]) and not ops.is_outer([4, 8], [1, 8], [4, 8])


def counted_call(call):
    result = summary(lambda: Functional(call), [(4, 8), (4, 8)], verbose=0)
    return result.macs, result.profile.uncounted_ops


def test_the_gradients_of_outer_and_kronecker_products():
    kron = summary(lambda: Functional(lambda x, y: paddle.kron(x, paddle.create_parameter(
        [2, 3], 'float32'))), [(4, 8), (4, 8)], training=True, verbose=0)
    # [4, 8] kron [2, 3] is [8, 24]: 192 products; the weight's gradient, one per output
    assert kron.macs == 8 * 24 and kron.training.weight_grad_macs == 8 * 24
    assert kron.training.input_grad_macs == 0
    outer = summary(lambda: Functional(lambda x, y: paddle.outer(x[0], paddle.create_parameter(
        [5], 'float32'))), [(4, 8), (4, 8)], training=True, verbose=0)
    assert outer.macs == 8 * 5 and outer.training.weight_grad_macs == 8 * 5


def test_the_operators_that_multiply_nothing_are_named_so():
    for name in ('share_data_', 'assign_out_', 'cross_entropy_with_softmax', 'sin', 'cos',
                 'swiglu', 'set_value', 'full_like', 'huber_loss', 'bce_loss', 'nll_loss',
                 'mean_all', 'label_smooth', 'lerp', 'logit', 'isclose', 'trace', 'diag'):
        assert ops.no_product(f'pd_op.{name}'), name
    assert ops.no_product('pd_op.relu_') and ops.no_product('pd_op.cross_entropy_with_softmax_')
    # Bilinear is counted (ops.bilinear and the layer count), so no note says it is not
    assert nn.Bilinear not in layer_count.UNCOUNTED
    layer = nn.Bilinear(8, 8, 3)
    data = paddle.zeros([4, 8])
    assert layer_count.eager_macs(layer, [data, data], layer(data, data)) == 4 * 3 * (8 * 8 + 8)
