"""The backward pass of a traced Program, appended by Paddle's own autograd and counted.

`append(program, loss_of, owner)` appends to a forward Program the operators Paddle's
static autograd (paddle.static.append_backward) would run for one training step: the
gradient of a loss, every floating-point output summed, with respect to
every trainable parameter.  What Paddle prunes is pruned here too: a frozen parameter
(stop_gradient) gets no weight gradient, and the model's input, which is data, gets no
input gradient, so the first layer computes only its weights' gradient.  Nothing runs.

Every gradient operator of a matrix product is counted with the same convention as the
forward pass (paddleinfo.ops): the gradient with respect to each operand that needs one
is itself one matrix product of the same size.  For out = x @ w, dx = dout @ w^T and
dw = x^T @ dout each take the forward MACs; for a conv, the input gradient (a
transposed conv of dout) and the weight gradient (dout correlated with the input) each
take the forward MACs too.  A gradient is a *weight* gradient when its operand is a
parameter, else an *input* gradient (attention's QK^T has two input gradients).

A product kernel of a GPU build (linear_v2, fused_gemm_epilogue, the attention kernels)
counts as the matmuls it replaces: attention's dQ and dK take QK^T's MACs each, dV and
dP AV's.  A parameter seen through a reshape, transpose or cast (w.T) is a parameter.

An RNN's backward at every step, layer and direction: the gates' gradient meets the
input weights (dx, gates x input x hidden) and the recurrent weights (dh, gates x
hidden x hidden), and the weights' gradients take the same again.  So it is twice the
forward, less gates x input x hidden per step for the first layer when its input needs
no gradient.
"""
import contextlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import paddle

from paddleinfo import ops
from paddleinfo.memory import is_float

__all__ = ['Backward', 'GradMACs', 'append']


@dataclass
class GradMACs:
    """The multiply-adds of one layer's gradients."""
    inputs: int = 0     # with respect to its inputs: what flows on to the layer before
    weights: int = 0    # with respect to its parameters

    @property
    def total(self) -> int:
        return self.inputs + self.weights

    def charge(self, operand: Any, macs: int) -> None:
        """The gradient with respect to `operand`: a weight's if it is a parameter."""
        if is_parameter(operand):
            self.weights += macs
        else:
            self.inputs += macs


@dataclass
class Backward:
    """What appending the backward pass gave: {layer key: GradMACs}, the operators the
    count left out ({name: [layer keys]}), and where the backward operators begin."""
    macs: dict[Any, GradMACs]
    uncounted: dict[str, list[Any]]
    first_op: int                  # the index of the first backward operator
    parameter_grads: list[Any]     # the gradient Values of the parameters


# Operators that only view or retype a value: a product of a parameter seen through one
# (w.T, paddle.outer's reshape of a weight vector, a weight cast to half precision) still
# has that parameter's gradient computed.
VIEWS = {f'pd_op.{name}' for name in 'reshape transpose unsqueeze squeeze flatten cast'.split()}


def is_parameter(value: Any, depth: int = 0) -> bool:
    """Whether a Program value is a parameter (not data, not computed), or a view of one."""
    try:
        if value.persistable:
            return True
        maker = value.get_defining_op()
        if maker.name() == 'builtin.parameter':
            return True
        return bool(maker.name() in VIEWS and depth < 8
                    and is_parameter(maker.operand_source(0), depth + 1))
    except (AttributeError, RuntimeError):
        return False


# The operands of each product whose gradients its gradient operator computes: result i
# of the gradient operator is the gradient of operand i (conv2d_grad: input, filter;
# addmm_grad: input, x, y, of which the added input's is not a product), as Paddle 3.3's
# backward definitions lay them out (paddle/phi/ops/yaml/backward.yaml).
PRODUCT_OPERANDS: dict[str, tuple[int, ...]] = {
    **{f'pd_op.{name}': (0, 1) for name in (
        'conv2d', 'conv3d', 'depthwise_conv2d', 'depthwise_conv2d_bias', 'conv2d_transpose',
        'conv3d_transpose', 'depthwise_conv2d_transpose', 'matmul', 'bmm', 'mv', 'dot',
        'legacy_matmul', 'fused_gemm_epilogue', 'linear_v2', 'matmul_with_flatten', 'kron')},
    'pd_op.addmm': (1, 2), 'pd_op.addmm_': (1, 2), 'pd_op.baddbmm': (1, 2),
    'pd_op.baddbmm_': (1, 2), 'pd_op.bilinear': (0, 1, 2),
    # deformable_conv_grad: x, offset, filter, mask; the offsets' and mask's gradients
    # go through the sampling, not the product.
    'pd_op.deformable_conv': (0, 2),
}


def grad_results(forward: Any, grads: list[Any]) -> list[Any]:
    """The results of the gradient operator of `forward` among `grads` (the gradient of
    an in-place operator, addmm_, is addmm_grad)."""
    names = {forward.name() + '_grad', forward.name().rstrip('_') + '_grad'}
    return [result for grad in grads if grad.name() in names for result in grad.results()]


def computed(results: list[Any], index: int) -> bool:
    return index < len(results) and ops.present(results[index])


def product_grad(forward: Any, grads: list[Any]) -> GradMACs | None:
    """A product's gradients: the forward MACs for each operand whose gradient is computed."""
    macs = ops.op_macs(forward)
    if macs is None:
        return None
    counted = GradMACs()
    results = grad_results(forward, grads)
    for operand_index in PRODUCT_OPERANDS[forward.name()]:
        if computed(results, operand_index):
            counted.charge(forward.operand_source(operand_index), macs)
    return counted


def multiply_grad(forward: Any, grads: list[Any]) -> GradMACs | None:
    # An outer product's gradients: dx = dout @ y^T and dy = x^T @ dout, each one
    # multiply per output value, as the forward; an elementwise multiply's are nothing
    # under the convention.
    macs = ops.outer(forward)
    if not macs:
        return None if macs is None else GradMACs()
    counted = GradMACs()
    results = grad_results(forward, grads)
    for operand_index in (0, 1):
        if computed(results, operand_index):
            counted.charge(forward.operand_source(operand_index), macs)
    return counted


def attention_grad(forward: Any, grads: list[Any]) -> GradMACs | None:
    # As the unfused matmuls': dQ = dS K and dK = dS^T Q take QK^T's count each, dV =
    # P^T dO takes AV's, and dP = dO V^T (which dQ and dK need) AV's too.  A flash
    # kernel's recomputation of QK^T is not counted.  Results: q, k, v gradients (one
    # qkv gradient for the packed kernels).
    macs = ops.op_macs(forward)
    if macs is None:
        return None
    values = ops.operand_shapes(forward)
    out = ops.result_shape(forward)
    head = values[0][-1] if values[0] else 0
    if not ops.known(out) or not head:
        return None
    # (macs = rows x keys x (head + value head), so the two products split it so.)
    scores = macs // (head + out[-1])
    qk, av = scores * head, scores * out[-1]
    results = grad_results(forward, grads)
    counted = GradMACs()
    if forward.name() in PACKED_ATTENTION:
        if computed(results, 0):
            counted.charge(forward.operand_source(0), 2 * qk + 2 * av)
        return counted
    for index, work in ((0, qk), (1, qk), (2, av)):
        if computed(results, index):
            counted.charge(forward.operand_source(index), work)
    if computed(results, 0) or computed(results, 1):
        counted.inputs += av            # dP: the gradient of an intermediate
    return counted


PACKED_ATTENTION = {'pd_op.flash_attn_qkvpacked', 'pd_op.flash_attn_varlen_qkvpacked'}
# (variable_length_memory_efficient_attention is an inference kernel: it has no gradient.)
ATTENTION = ops.ATTENTION - {'pd_op.variable_length_memory_efficient_attention'}


def fused_feedforward_grad(forward: Any, grads: list[Any]) -> GradMACs | None:
    # Two Linears: the second's input gradient always (the first needs it), each
    # weight's gradient if computed, the first's input gradient if x needs one.
    # fused_feedforward_grad results: x, linear1_weight, linear1_bias, linear2_weight.
    x, first, second = (ops.operand_shapes(forward)[i] for i in (0, 3, 5))
    if not (ops.known(x) and ops.known(first) and ops.known(second)):
        return None
    rows = math.prod(x[:-1])
    results = grad_results(forward, grads)
    counted = GradMACs(inputs=rows * math.prod(second) if results else 0)
    for index, operand, weight in ((0, 0, first), (1, 3, first), (3, 5, second)):
        if computed(results, index):
            counted.charge(forward.operand_source(operand), rows * math.prod(weight))
    return counted


def fused_attention_grad(forward: Any, grads: list[Any]) -> GradMACs | None:
    # The output projection's input gradient and the attention's four products
    # (attention_grad) always; the QKV projection's input gradient if x needs one; each
    # projection's weight gradient if computed.  fused_attention_grad results 8, 9, 10:
    # x, qkv_weight, out_linear_weight.
    macs = ops.op_macs(forward)
    x, qkv_weight, out_weight = (ops.operand_shapes(forward)[i] for i in (0, 3, 7))
    if macs is None or not (ops.known(x) and ops.known(qkv_weight) and ops.known(out_weight)):
        return None
    rows = math.prod(x[:-1])
    qkv, projection = rows * math.prod(qkv_weight), rows * math.prod(out_weight)
    products = macs - qkv - projection              # QK^T and AV, of equal size here
    results = grad_results(forward, grads)
    counted = GradMACs(inputs=projection + 2 * products if results else 0)
    for index, operand, work in ((8, 0, qkv), (9, 3, qkv), (10, 7, projection)):
        if computed(results, index):
            counted.charge(forward.operand_source(operand), work)
    return counted


def einsum_grad(forward: Any, grads: list[Any]) -> GradMACs | None:
    # Each operand's gradient is an einsum over the same letters: the forward's count.
    macs = ops.op_macs(forward)
    if macs is None:
        return None
    operands = list(forward.operand_source(0).get_defining_op().operands_source())
    counted = GradMACs()
    for grad in grads:
        if grad.name() != 'pd_op.einsum_grad':
            continue
        # Its result is one list of gradients, split by a builtin.split that follows.
        users = [op for op in grad.result(0).all_used_ops() if op.name() == 'builtin.split']
        results = list(users[0].results()) if users else []
        for operand, result in zip(operands, results):
            if ops.present(result) and not result.use_empty():
                counted.charge(operand, macs)
    return counted


# The result of an RNN's gradient operator that is its weights' gradient: rnn_grad's
# results are x, pre_state, weight_list; cudnn_lstm_grad's x, init_h, init_c, weight_list.
RNN_WEIGHT_GRAD = {'pd_op.rnn': 2, 'pd_op.rnn_': 2, 'pd_op.cudnn_lstm': 3}


def rnn_grad(forward: Any, grads: list[Any]) -> GradMACs | None:
    macs = ops.op_macs(forward)
    if macs is None:
        return None
    results = grad_results(forward, grads)
    if not results:
        return GradMACs()
    attrs, data = forward.attrs(), ops.shape(forward.operand_source(0))
    directions = 2 if attrs['is_bidirec'] else 1
    # The first layer's input projection, per step and direction: gates x input x
    # hidden (a projection, proj_size, does not change it).
    steps = math.prod(data[:-1]) if data else 0     # time steps x sequences
    gates = ops.GATES[attrs.get('mode', 'LSTM')]    # (cudnn_lstm has no mode: an LSTM)
    input_size = attrs.get('input_size', data[-1] if data else 0)
    first_input = gates * steps * directions * input_size * attrs['hidden_size']
    counted = GradMACs(inputs=macs - (0 if ops.present(results[0]) else first_input))
    if computed(results, RNN_WEIGHT_GRAD[forward.name()]):
        counted.weights = macs
    return counted


GRAD_RULES: dict[str, Callable[[Any, list[Any]], GradMACs | None]] = {
    **{name: product_grad for name in PRODUCT_OPERANDS},
    **{name: attention_grad for name in ATTENTION},
    **{name: rnn_grad for name in RNN_WEIGHT_GRAD},
    'pd_op.einsum': einsum_grad, 'pd_op.multiply': multiply_grad,
    'pd_op.multiply_': multiply_grad, 'pd_op.fused_feedforward': fused_feedforward_grad,
    'pd_op.fused_attention': fused_attention_grad,
}


def no_product(name: str) -> bool:
    """Whether a backward operator does no matrix product: the gradient of an operator
    that does none (batch_norm_grad for batch_norm_), or autograd's own bookkeeping: the
    sum of a value's gradients (add_n), and fills, which NO_PRODUCT names."""
    base = name[:-len('_grad')] if name.endswith('_grad') else name
    for suffix in ('_double', '_'):
        base = base[:-len(suffix)] if base.endswith(suffix) else base
    return (name in ops.NO_PRODUCT or base in ops.NO_PRODUCT or f'{base}_' in ops.NO_PRODUCT
            or name == 'pd_op.add_n')


@contextlib.contextmanager
def recording_gradient_map() -> Iterator[list[Any]]:
    """Paddle's autograd keeps, while it works, which gradient operators it made for each
    forward operator (State.op_to_opgrad) and then drops it; inside this block the
    States it makes are kept in the list yielded.  Only Paddle's autograd runs inside,
    and the module is as it was after."""
    import paddle.autograd.ir_backward as autograd
    states: list[Any] = []
    original = autograd.State
    module: Any = autograd    # (mypy: a class of the module is replaced, and put back)

    class Recorded(original):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            states.append(self)

    module.State = Recorded
    try:
        yield states
    finally:
        module.State = original


def loss_of(outputs: list[Any]) -> Any:
    """The loss whose gradient a training step takes: every floating-point output summed
    (any loss reduces to one number, and how does not change a count).  paddle.sum,
    not paddle.mean, whose static form has Paddle log a note about itself."""
    floats = [value for value in outputs if is_float(value) and not value.stop_gradient]
    if not floats:
        return None
    loss = paddle.sum(floats[0])
    for value in floats[1:]:
        loss = loss + paddle.sum(value)
    return loss


def append(program: Any, outputs: list[Any], owner: Callable[[Any], Any]) -> Backward | None:
    """Append the backward pass of a loss over `outputs` to `program` (inside its
    program_guard, in the static graph) and count it.  `owner(op)` is the key of the
    layer a forward operator is charged to.  None if nothing needs a gradient."""
    block = program.global_block()
    loss = loss_of(outputs)
    if loss is None:
        return None
    first_op = block.num_ops()      # the loss is the forward pass's last work
    with recording_gradient_map() as states:
        pairs = paddle.static.append_backward(loss)
    # Autograd removes some of the operators it made (fills no one reads): an operator
    # of its map that is not in the block is gone, and must not be touched.
    in_block = set(block.ops)
    grads = {}
    for state in states:
        grads.update({op: [grad for grad in made if grad in in_block]
                      for op, made in state.op_to_opgrad.items() if op in in_block})
    macs: dict[Any, GradMACs] = {}
    uncounted: dict[str, dict[Any, None]] = {}
    covered: set[Any] = set()
    for forward, made in grads.items():
        covered.update(made)
        rule = GRAD_RULES.get(forward.name())
        if rule is None:
            continue
        key = owner(forward)
        counted = rule(forward, made)
        if counted is None:
            uncounted.setdefault(f'{forward.name()}_grad (of unknown size)', {})[key] = None
            continue
        total = macs.setdefault(key, GradMACs())
        total.inputs += counted.inputs
        total.weights += counted.weights
    all_ops = block.ops
    for op in all_ops[first_op:]:
        if op not in covered and not no_product(op.name()) and not op.name().startswith(
                ('builtin.', 'pd_op.full', 'pd_op.data')):
            uncounted.setdefault(op.name(), {})[None] = None
    for forward, made in grads.items():
        for op in made:
            if forward.name() not in GRAD_RULES and not no_product(op.name()):
                uncounted.setdefault(op.name(), {})[owner(forward)] = None
    return Backward(macs, {name: list(keys) for name, keys in sorted(uncounted.items())},
                    first_op, [grad for _, grad in pairs if grad is not None])
