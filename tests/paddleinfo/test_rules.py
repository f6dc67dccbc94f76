"""The operator rules of paddleinfo.ops that functional calls meet: dot, baddbmm, bilinear
and multi_dot counted by hand, and the operators that multiply nothing (rotary
embeddings' sin and cos, .detach(), paddle.assign's output=, item assignment, a loss)
counted as nothing, with no note that would make an exact count look incomplete."""
import paddle
import paddle.nn.functional as F
import pytest
from paddle import nn

from paddleinfo import summary


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
