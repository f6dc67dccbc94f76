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


def is_parameter(value: Any) -> bool:
    """Whether a Program value is a parameter (not data, not computed)."""
    try:
        return bool(value.persistable or value.get_defining_op().name() == 'builtin.parameter')
    except (AttributeError, RuntimeError):
        return False


# The operand of each product whose gradient each result of its gradient operator is:
# result i of conv2d_grad is the gradient of operand i (input, filter); addmm's first
# operand is the added term, whose gradient is not a product.
PRODUCT_OPERANDS: dict[str, tuple[int, ...]] = {
    'pd_op.conv2d': (0, 1), 'pd_op.conv3d': (0, 1), 'pd_op.depthwise_conv2d': (0, 1),
    'pd_op.conv2d_transpose': (0, 1), 'pd_op.conv3d_transpose': (0, 1),
    'pd_op.depthwise_conv2d_transpose': (0, 1),
    'pd_op.matmul': (0, 1), 'pd_op.bmm': (0, 1), 'pd_op.mv': (0, 1), 'pd_op.addmm': (1, 2),
    'pd_op.baddbmm': (1, 2), 'pd_op.dot': (0, 1), 'pd_op.bilinear': (0, 1, 2),
}


def product_grad(forward: Any, grads: list[Any]) -> GradMACs | None:
    """A product's gradients: the forward MACs for each operand whose gradient is computed."""
    macs = ops.op_macs(forward)
    if macs is None:
        return None
    counted = GradMACs()
    results = [result for grad in grads if grad.name() == forward.name() + '_grad'
               for result in grad.results()]
    for result_index, operand_index in enumerate(PRODUCT_OPERANDS[forward.name()]):
        offset = result_index + (1 if forward.name() in ('pd_op.addmm', 'pd_op.baddbmm') else 0)
        if offset < len(results) and ops.present(results[offset]):
            counted.charge(forward.operand_source(operand_index), macs)
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


def rnn_grad(forward: Any, grads: list[Any]) -> GradMACs | None:
    macs = ops.op_macs(forward)
    if macs is None:
        return None
    results = [result for grad in grads if grad.name() == 'pd_op.rnn_grad'
               for result in grad.results()]
    if not results:
        return GradMACs()
    attrs, data = forward.attrs(), ops.shape(forward.operand_source(0))
    directions = 2 if attrs['is_bidirec'] else 1
    # The first layer's input projection, per step and direction: gates x input x hidden.
    steps = math.prod(data[:-1]) if data else 0     # time steps x sequences
    first_input = (ops.GATES[attrs['mode']] * steps * directions * attrs['input_size']
                   * attrs['hidden_size'])
    counted = GradMACs(inputs=macs - (0 if ops.present(results[0]) else first_input))
    if len(results) > 2 and ops.present(results[2]):
        counted.weights = macs
    return counted


GRAD_RULES: dict[str, Callable[[Any, list[Any]], GradMACs | None]] = {
    **{name: product_grad for name in PRODUCT_OPERANDS},
    'pd_op.einsum': einsum_grad, 'pd_op.rnn': rnn_grad,
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
