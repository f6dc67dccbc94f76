"""What a trace of a model gives: one row per layer paddle.summary shows, and the Profile.

The data that crosses paddleinfo's modules: an Input of forward() (batch included), a
LayerRow, the Profile of the whole model with its totals, and what a training step adds
(Training).  It holds no logic of tracing: paddleinfo.tracer fills them in.
"""
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import paddle
from paddle import nn

from paddleinfo import backward, memory

__all__ = ['Call', 'Completeness', 'Input', 'LayerRow', 'Profile', 'Training', 'arranged']


@dataclass
class Input:
    """One input of forward(): its shape (batch included) and dtype, and the real tensor
    if one was given.  `keyword` names the argument it is passed as (None: positional)."""
    shape: list[int]
    dtype: str = 'float32'
    keyword: str | None = None
    value: paddle.Tensor | None = None
    # One of the tensors of a list that forward() takes as one argument
    # (forward(self, images)), as paddle.summary(net, input=[a, b]) calls net([a, b]).
    packed: bool = False

    def name(self, index: int) -> str:
        """Its name in a traced program, as the `index`-th input: its keyword, or input,
        input_1, input_2 ..."""
        return self.keyword or ('input' if index == 0 else f'input_{index}')

    @property
    def stop_gradient(self) -> bool:
        """An input is data, which needs no gradient (as paddle.to_tensor makes it), unless
        a tensor given asks for one."""
        return bool(self.value is None or self.value.stop_gradient)


@dataclass
class LayerRow:
    name: str                # paddle.summary's name, e.g. 'Conv2D-1'
    layer: nn.Layer
    input_shape: list[Any]   # paddle.summary's: one shape per input
    output_shape: list[Any]  # one shape, or a list of shapes for several outputs
    params: int
    trainable_params: int
    trainable: list[str]     # names of the layer's own trainable tensors ...
    frozen: list[str]        # ... and of the others (BatchNorm's running statistics)
    macs: int | None         # None: a layer that runs no matrix product
    formula: str | None      # how the output size follows from the input size
    calls: int = 1


# What a layer's calls gave: (its input shapes, its output shape, MACs, calls).
Call = tuple[list[Any], list[Any], int | None, int]


@dataclass
class Training:
    """What a training step adds to the forward pass: {layer: its gradients' MACs}, the
    backward operators left out ({name: [layer names]}), and the step's buffers."""
    grad_macs: dict[nn.Layer, backward.GradMACs]
    uncounted: dict[str, list[str]]
    memory: memory.ProgramMemory


@dataclass(frozen=True)
class Completeness:
    """The completeness contract of a count, as torch-scan's status: `complete` when every
    operator of the pass had a rule and the pass is the one the inputs take; otherwise the
    MACs are a lower bound (or one path's), and the rest says why."""
    complete: bool
    left_out: dict[str, list[str]]   # {operator with no rule: [layers that ran it]}
    fallback: str | None             # why the model ran in the dynamic graph, if it did
    estimate: str | None             # the branch or loop on a value that makes it one path's
    count: str = 'macs'              # the convention
    rules: tuple[str, ...] = ()      # operators the user's own rules counted

    def to_dict(self) -> dict[str, Any]:
        return {'complete': self.complete, 'count': self.count,
                'left_out': {name: list(layers) for name, layers in self.left_out.items()},
                'fallback': self.fallback, 'estimate': self.estimate,
                'user_rules': list(self.rules)}


@dataclass
class Profile:
    model: nn.Layer
    input_shape: list[int]   # the first input's shape (batch included)
    rows: list[LayerRow]     # one per layer paddle.summary shows, in its order
    output_shape: list[Any] | dict[Any, Any]
    order: list[nn.Layer] = field(default_factory=list)   # every layer called, in order of first call
    # {layer: (input shapes, output shape, MACs, calls)}
    calls: dict[nn.Layer, Call] = field(default_factory=dict)
    # The static graph the model was traced in: its parameters live there.
    programs: tuple[Any, ...] = ()
    inputs: list[Input] = field(default_factory=list)  # the Inputs it was given
    eager: bool = False      # run once in the dynamic graph: it could not be traced
    uncounted_ops: dict[str, list[str]] = field(default_factory=dict)   # {operator name: [layer names]}
    training: 'Training | None' = None   # the backward pass and the memory: profile_inputs(training=True)
    training_failure: str | None = None  # why, with training=True, there is none
    # Why the model ran in the dynamic graph instead of being traced (None: traced).
    fallback: str | None = None
    # Not None where the count is one path of several: the forward pass branches or loops
    # on a tensor value, and the inputs were zeros of the shapes given (says which `if`).
    estimate: str | None = None
    by_operator: dict[str, int] = field(default_factory=dict)   # {operator name: MACs}
    count: str = 'macs'      # the convention counted in (paddleinfo.conventions.CONVENTIONS)
    rules: tuple[str, ...] = ()        # the operators the user gave rules for ...
    rules_used: tuple[str, ...] = ()   # ... and those of them the pass ran

    @property
    def status(self) -> 'Completeness':
        """Whether the MACs are the whole count of the convention, or a lower bound."""
        return Completeness(not self.uncounted_ops and self.estimate is None,
                            dict(self.uncounted_ops), self.fallback, self.estimate, self.count,
                            self.rules_used)

    @property
    def input_shapes(self) -> list[list[int]]:
        return [list(item.shape) for item in self.inputs] or [self.input_shape]

    @property
    def params(self) -> int:
        """The sum of numel over model.parameters(): every tensor once."""
        return sum(math.prod(p.shape) for p in self.model.parameters())

    @property
    def trainable_params(self) -> int:
        return sum(math.prod(p.shape) for p in self.model.parameters() if trainable(p))

    @property
    def macs(self) -> int:
        """Every product of the forward pass: the rows' and those of layers without a row
        (the model's own forward(), a container's)."""
        return sum(macs or 0 for _, _, macs, _ in self.calls.values())

    @property
    def rows_params(self) -> int:
        """What paddle.summary prints as the total: the sum of its rows."""
        return sum(row.params for row in self.rows)

    @property
    def rows_trainable_params(self) -> int:
        return sum(row.trainable_params for row in self.rows)

    def unshown_macs(self) -> dict[nn.Layer, int]:
        """{layer: MACs} of the layers that multiply in their own forward() but have no row."""
        shown = {row.layer for row in self.rows}
        return {layer: macs for layer, (_, _, macs, _) in self.calls.items()
                if macs and layer not in shown}

    def unshown_parameters(self) -> list[tuple[str, list[int]]]:
        """[(name, shape)] of the model's parameters that no row counts (a model's own
        class token, say): paddle.summary leaves them out of its total."""
        counted = {id(p) for row in self.rows for p in row.layer._parameters.values()
                   if p is not None}
        return [(name, list(p.shape)) for name, p in self.model.named_parameters()
                if id(p) not in counted]


def arranged(inputs: Sequence[Input], values: Sequence[Any]) -> tuple[list[Any], dict[str, Any]]:
    """forward()'s arguments, one value per Input: the positional ones in order (those
    `packed` as one list, where the first of them stands), the keyword ones by name."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    packed: list[Any] | None = None
    for item, value in zip(inputs, values):
        if item.keyword:
            kwargs[item.keyword] = value
        elif item.packed:
            if packed is None:
                packed = []
                args.append(packed)
            packed.append(value)
        else:
            args.append(value)
    return args, kwargs


def trainable(parameter: paddle.Tensor) -> bool:
    return parameter.trainable and not parameter.stop_gradient


def own_parameters(layer: nn.Layer) -> tuple[int, int, list[str], list[str]]:
    """(params, trainable params, trainable names, other names) of the layer's own tensors,
    as paddle.summary counts them: trainable means trainable and not stop_gradient."""
    own = [(name, p) for name, p in layer._parameters.items() if p is not None]
    names = [name for name, p in own if trainable(p)]
    return (sum(math.prod(p.shape) for _, p in own),
            sum(math.prod(p.shape) for name, p in own if name in names),
            names, [name for name, _ in own if name not in names])


def shapes_of(value: Any) -> list[Any]:
    """paddle.summary's shape of an output: a list, or a list of lists for several (and
    [] for what has no shape, a dict included)."""
    if isinstance(value, (list, tuple)):
        return [shapes_of(item) for item in value]
    return list(value.shape) if hasattr(value, 'shape') else []


def input_shapes(value: Any) -> list[Any] | None:
    """paddle.summary's shape of an input: a list, a list of them, or None for an
    argument that is not a tensor."""
    if isinstance(value, (list, tuple)):
        return [input_shapes(item) for item in value]
    return list(value.shape) if hasattr(value, 'shape') else None


def model_output_shapes(value: Any) -> list[Any] | dict[Any, Any]:
    """The shape of what the model returns: as shapes_of, and a dict's values too."""
    if isinstance(value, dict):
        return {key: model_output_shapes(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [model_output_shapes(item) for item in value]
    return list(value.shape) if hasattr(value, 'shape') else []


def unknown_sizes(result: Profile) -> bool:
    """Whether a shape of the trace has a size it could not infer (-1)."""
    def unknown(shape: Any) -> bool:
        if isinstance(shape, dict):
            shape = list(shape.values())
        if not isinstance(shape, (list, tuple)):
            return isinstance(shape, int) and shape < 0
        for item in shape:      # (a loop, not any(): every row of every trace comes here)
            if (item < 0) if isinstance(item, int) else unknown(item):
                return True
        return False
    return unknown(result.output_shape) or any(
        unknown(row.input_shape) or unknown(row.output_shape) for row in result.rows)
