"""The optimizers a training estimate knows: what each keeps per trainable value, the
elementwise work of its update, and Paddle's own optimizer of that name.

One home for these facts: the memory estimate (paddleinfo.memory), the update's count
under the table, the measured peaks (paddleinfo.measure) and the timed training step
(paddleinfo.timing) all read them here.

The update of each, per trainable value p with gradient g (Paddle's formulas; the
moments are kept in the parameter's dtype, as Paddle keeps them unless
multi_precision=True):

    sgd        p -= lr * g                                         1 operation
    momentum   v = mu * v + g;  p -= lr * v                         2
    adam       m = b1 * m + (1 - b1) * g                            2
               v = b2 * v + (1 - b2) * g * g                        3
               p -= lr * m / (sqrt(v) + eps)                        4  (9 in all)
    adamw      adam's, and p *= 1 - lr * coeff first               10

Each operation above is one multiply, add, multiply-add, divide or square root of one
value.  Adam and AdamW also keep b1^t and b2^t, one float32 each per parameter tensor.
"""
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Optimizer:
    name: str
    state_per_value: int       # values of state kept for each trainable value
    update_operations: int     # elementwise operations of the update, per trainable value
    scalars_per_tensor: int    # float32 scalars kept for each trainable tensor (Adam's beta powers)
    formula: str


OPTIMIZERS: dict[str, Optimizer] = {optimizer.name: optimizer for optimizer in (
    Optimizer('sgd', 0, 1, 0, 'p -= lr * g'),
    Optimizer('momentum', 1, 2, 0, 'v = mu * v + g; p -= lr * v'),
    Optimizer('adam', 2, 9, 2, 'm = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g*g; '
                               'p -= lr * m / (sqrt(v) + eps)'),
    Optimizer('adamw', 2, 10, 2, "adam's, after p *= 1 - lr*coeff"),
)}
NAMES = tuple(OPTIMIZERS)


def paddle_optimizer(name: str, parameters: Sequence[Any]) -> Any:
    """Paddle's optimizer of that name over `parameters` (the learning rate is irrelevant
    to what it costs)."""
    import paddle
    makers = {'sgd': paddle.optimizer.SGD, 'momentum': paddle.optimizer.Momentum,
              'adam': paddle.optimizer.Adam, 'adamw': paddle.optimizer.AdamW}
    return makers[name](learning_rate=1e-3, parameters=list(parameters))
