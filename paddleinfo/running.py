"""What running a model on the device needs, for the two modes that do (paddleinfo.timing
and paddleinfo.measure): its inputs made from Inputs, every tensor of what it returns,
and the loss of a training step.

The traced estimate (paddleinfo.backward) takes a loss of the same outputs in the
static graph; how the outputs reduce to one number changes no count.
"""
from collections.abc import Iterator, Sequence
from typing import Any, cast

import numpy as np
import paddle

from paddleinfo.errors import UsageError
from paddleinfo.memory import FLOATS, is_float
from paddleinfo.result import Input, arranged

__all__ = ['SEED', 'arguments', 'loss_of', 'random_value', 'tensors_in']

# Of the random inputs made for Inputs without a value: the same numbers on every call.
SEED = 0


def tensors_in(value: Any) -> Iterator[paddle.Tensor]:
    """Every tensor of a forward()'s output: a tensor, or lists, tuples and dicts of them."""
    if isinstance(value, paddle.Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from tensors_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from tensors_in(item)


def loss_of(output: Any) -> paddle.Tensor:
    """The loss a training step minimises: the sum of the means of every float tensor the
    model returned (in lists, tuples and dicts too), in float32.  Its value is irrelevant
    to what the step costs; every output that needs a gradient is reached by it."""
    terms = [tensor.mean() for tensor in tensors_in(output)
             if is_float(tensor) and not tensor.stop_gradient]
    terms = [term if term.dtype == paddle.float32 else term.astype('float32') for term in terms]
    if not terms:
        raise UsageError('the model returns no float tensor that needs a gradient: '
                         'there is nothing for a training step to minimise')
    return paddle.add_n(terms) if len(terms) > 1 else terms[0]


def random_value(item: Input, seed: int = SEED) -> paddle.Tensor:
    """A tensor of `item`'s shape and dtype: seeded standard-normal values for a floating
    dtype, zeros (an index that is always valid) for an integer or boolean one.  numpy's
    own generator makes them, so that Paddle's global seed is left alone."""
    dtype = cast(Any, item.dtype)    # Paddle's types take a dtype's name as a Literal
    if item.dtype in FLOATS:
        values = np.random.RandomState(seed).standard_normal(list(item.shape)).astype('float32')
        tensor = paddle.to_tensor(values)
        return tensor if item.dtype == 'float32' else tensor.astype(dtype)
    return paddle.zeros(list(item.shape), dtype=dtype)


def arguments(inputs: Sequence[Input], seed: int = SEED,
              copy_given: bool = False) -> tuple[list[Any], dict[str, Any]]:
    """forward()'s positional and keyword arguments: each Input's value (a copy of it with
    `copy_given`, so that it is allocated like the made ones), else random_value with a
    seed of its own."""
    values = [random_value(item, seed + number) if item.value is None
              else item.value.detach().clone() if copy_given else item.value
              for number, item in enumerate(inputs)]
    return arranged(inputs, values)
