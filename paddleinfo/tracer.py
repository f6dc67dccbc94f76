"""The trace: forward hooks on every layer while the model is called once, in the static
graph (a factory's model, or a built one turned into a Program by dy2static) or, where
that cannot be, in the dynamic graph.  Each layer's calls, shapes and the operators it
appended are kept; the operators' MACs are charged to the innermost layer that appended
them (paddleinfo.ops), and with training the backward pass is appended too."""
import contextlib
import inspect
from collections.abc import Callable, Iterator
from typing import Any, cast

import paddle
from paddle import nn

from paddleinfo import backward, memory, ops
from paddleinfo.checks import check_arguments, check_input, check_map
from paddleinfo.errors import ShapeError, first_line, paddle_reason, text_of
from paddleinfo.graph import build, cheap_tracing, static_mode
from paddleinfo.macs import eager_macs, evaluating, modes_kept
from paddleinfo.naming import summary_name
from paddleinfo.result import Call, Input, Training, input_shapes, model_output_shapes, shapes_of


class Tracer:
    """Forward hooks on every layer of a model: the order of first calls, each layer's
    last (input shapes, output shape), and the operators each call appended to the
    Program (static) or the MACs each call spent (eager)."""

    order: dict[nn.Layer, None]         # the layers called, in order of first call
    calls: dict[nn.Layer, Call]
    stack: list[nn.Layer]               # the layers being called, innermost last
    starts: list[Any]                   # the mark() where each of them began
    spans: list[tuple[nn.Layer, Any, Any]]   # (layer, mark before, mark after) of each call
    program: Any                        # the Program traced in (static)
    uncounted: dict[str, list[str]]
    failure: ShapeError | None
    op_owner: dict[Any, nn.Layer]       # each forward operator: the layer it is charged to
    training: 'Training | None'
    training_failure: str | None

    def __init__(self, model: nn.Layer, static: bool) -> None:
        self.model, self.static = model, static
        self.order, self.calls, self.stack, self.starts, self.spans = {}, {}, [], [], []
        self.program, self.uncounted, self.failure = None, {}, None
        self.op_owner, self.training, self.training_failure = {}, None, None

    def mark(self) -> Any:
        """The last operator of the Program so far (None: none yet).  Operators are
        appended at its end; parameters and data are put at its front, so an index
        would move and the operator itself does not."""
        if self.program is None:
            self.program = paddle.static.default_main_program()
        block = self.program.global_block()
        return block.back() if block.num_ops() else None

    def before(self, layer: nn.Layer, inputs: tuple[Any, ...]) -> None:
        self.stack.append(layer)
        self.checked(check_input, layer, inputs)
        self.order.setdefault(layer, None)
        self.starts.append(self.mark() if self.static else None)

    def after(self, layer: nn.Layer, inputs: tuple[Any, ...], output: Any) -> None:
        start = self.starts.pop()
        self.checked(check_map, layer, inputs, output)
        self.stack.pop()
        if self.static:
            self.spans.append((layer, start, self.mark()))
            macs = None
        else:
            macs = eager_macs(layer, inputs, output)
        self.record(layer, [input_shapes(x) for x in inputs], shapes_of(output), macs)

    def checked(self, check: Callable[..., None], *args: Any) -> None:
        # dy2static re-raises an error of the forward pass with its traceback in the
        # message: keep ours, to raise it as it was.
        try:
            check(*args)
        except ShapeError as error:
            self.failure = error
            raise

    def record(self, layer: nn.Layer, inputs: list[Any], output: list[Any], macs: int | None) -> None:
        count = 1
        if layer in self.calls:
            _, _, previous, count = self.calls[layer]
            macs = None if macs is None and previous is None else (macs or 0) + (previous or 0)
            count += 1
        self.calls[layer] = (inputs, output, macs, count)

    @contextlib.contextmanager
    def hooked(self) -> Iterator['Tracer']:
        handles = []
        for layer in self.model.sublayers(include_self=True):
            # Paddle's hook types take a Tensor and give one back; a hook is given the
            # tuple of inputs, and returning None leaves the call as it is.
            handles += [layer.register_forward_pre_hook(cast(Any, self.before)),
                        layer.register_forward_post_hook(cast(Any, self.after))]
        try:
            yield self
        except Exception as error:
            if self.failure is not None:
                raise self.failure from None
            if isinstance(error, ShapeError):
                raise
            # Paddle's shape inference refused an operator's inputs: name the layer.
            if '(InvalidArgument)' in text_of(error):
                where = (summary_name(self.stack[-1]) if self.stack
                         else f'{type(self.model).__name__}.forward')
                raise ShapeError(f'{where} cannot take its input: '
                                 f'{paddle_reason(error)}') from error
            raise
        finally:
            for handle in handles:
                handle.remove()

    def charge_operators(self, program: Any, first: Any = None) -> dict[str, list[str]]:
        """The MACs of the Program's operators, each charged to the innermost layer whose
        call appended it (calls finish innermost first); the rest, after the operator
        `first`, to the model itself."""
        all_ops = (self.program or program).global_block().ops
        index_of = {op: index for index, op in enumerate(all_ops)}
        if any(ops.blocks(op) for op in all_ops):
            # An `if` or a loop on a tensor's value: which branch runs, and how often,
            # is the value's to say.
            raise ControlFlow('the forward pass branches or loops on a tensor value')

        def after(op: Any) -> int:
            if op is None:
                return 0
            index = index_of.get(op)
            if index is None:       # a mark inside a block of control flow
                raise ControlFlow('a layer ran inside control flow')
            return index + 1

        owner: dict[int, nn.Layer] = {}
        for layer, start, end in self.spans:
            for index in range(after(start), after(end)):
                owner.setdefault(index, layer)
        first = after(first)
        macs: dict[nn.Layer, int] = {}
        uncounted: dict[str, dict[nn.Layer, None]] = {}
        for index in range(first, len(all_ops)):
            layer = owner.get(index, self.model)
            op = all_ops[index]
            self.op_owner[op] = layer
            count = ops.op_macs(op)
            if count is not None:
                macs[layer] = macs.get(layer, 0) + count
            for name in ops.uncounted_ops(op):
                uncounted.setdefault(name, {})[layer] = None
        for layer, (inputs, output, _, calls) in self.calls.items():
            self.calls[layer] = (inputs, output, macs.get(layer), calls)
        return {name: [summary_name(layer) for layer in layers]
                for name, layers in sorted(uncounted.items())}


def append_training(tracer: Tracer, program: Any, outputs: list[Any], parameters: list[Any],
                    first: int = 0) -> None:
    """Append the backward pass to the traced `program` (in the static graph, inside its
    program_guard) and keep what a training step costs: the gradients' MACs of every
    layer and the buffers of the memory estimate.  `parameters` are the model's.  If
    Paddle's autograd cannot append it (an operator without a gradient, say), the
    forward pass stands, and `tracer.training_failure` says why."""
    try:
        costed(tracer, program, outputs, parameters, first)
    except Exception as error:  # noqa: BLE001 -- told to the user, who asked for the cost
        tracer.training, tracer.training_failure = None, (
            f'the backward pass could not be appended to the traced program: '
            f'{type(error).__name__}: {first_line(error)}')


def costed(tracer: Tracer, program: Any, outputs: list[Any], parameters: list[Any],
           first: int) -> None:
    model = tracer.model

    def owner(op: Any) -> nn.Layer:
        return tracer.op_owner.get(op, model)
    appended = backward.append(program, outputs, owner)
    if appended is None:    # nothing needs a gradient: the step is the forward pass
        tracer.training = Training({}, {}, memory.program_memory(
            program, program.global_block().num_ops(), parameters, (), first, owner))
        return
    names = {key: summary_name(key) if key is not None else type(model).__name__
             for keys in appended.uncounted.values() for key in keys}
    tracer.training = Training(
        appended.macs, {name: [names[key] for key in keys]
                        for name, keys in appended.uncounted.items()},
        memory.program_memory(program, appended.first_op, parameters,
                              appended.parameter_grads, first, owner))


@contextlib.contextmanager
def in_mode(model: nn.Layer, training: bool) -> Iterator[None]:
    """The model in train mode (BatchNorm on the batch's statistics, dropout on) for a
    training step, else evaluating() it.  Its mode is as it was after."""
    if not training:
        with evaluating(model):
            yield
        return
    with modes_kept(model):
        model.train()
        yield


def outputs_list(output: Any) -> list[Any]:
    """Every tensor of a forward pass's output (a tensor, or lists, tuples, dicts of them)."""
    if isinstance(output, dict):
        return [item for value in output.values() for item in outputs_list(value)]
    if isinstance(output, (list, tuple)):
        return [item for value in output for item in outputs_list(value)]
    return [output] if hasattr(output, 'shape') else []


class ControlFlow(Exception):
    """The traced program branches or loops on a tensor's value: only a real pass tells
    which layers run."""


# What a trace gives: (the model, the shape of its output, the Tracer of its calls).
Traced = tuple[nn.Layer, list[Any] | dict[Any, Any], Tracer]


def static_inputs(inputs: list[Input]) -> tuple[list[Any], dict[str, Any]]:
    """paddle.static.data for every input, named input, input_1, ... or by its keyword."""
    args, kwargs = [], {}
    for index, item in enumerate(inputs):
        name = item.keyword or ('input' if index == 0 else f'input_{index}')
        data = paddle.static.data(name, list(item.shape), item.dtype)
        # Data needs no gradient, unless a tensor given asks for one (as dy2static's
        # InputSpec of it does).
        data.stop_gradient = bool(item.value is None or item.value.stop_gradient)
        if item.keyword:
            kwargs[item.keyword] = data
        else:
            args.append(data)
    return args, kwargs


def eager_inputs(inputs: list[Input]) -> tuple[list[Any], dict[str, Any]]:
    """The real tensors given, or zeros of each shape and dtype (zeros are valid token ids)."""
    args, kwargs = [], {}
    for item in inputs:
        # (Paddle's types take a dtype's name only as one of a Literal of names.)
        value = item.value if item.value is not None else paddle.zeros(list(item.shape),
                                                                        dtype=cast(Any, item.dtype))
        if item.keyword:
            kwargs[item.keyword] = value
        else:
            args.append(value)
    return args, kwargs


def trace_factory(build_model: Callable[[], object], inputs: list[Input],
                  training: bool = False) -> Traced:
    """Build the model in the static graph and call it there: (model, output, tracer);
    with `training`, in train mode, and the backward pass appended."""
    model = build(build_model)
    check_arguments(model, inputs)
    tracer = Tracer(model, static=True)
    with in_mode(model, training), tracer.hooked():
        args, kwargs = static_inputs(inputs)
        # The operators so far built the model (an RNN's flat weights, say).
        first = tracer.mark()
        output = model(*args, **kwargs)
    program = paddle.static.default_main_program()
    tracer.uncounted = tracer.charge_operators(program, first)
    if training:
        ops_before = program.global_block().ops
        start = ops_before.index(first) + 1 if first is not None else 0
        append_training(tracer, program, outputs_list(output), model.parameters(), start)
    return model, model_output_shapes(output), tracer


def trace_built(model: nn.Layer, inputs: list[Input], training: bool = False) -> Traced:
    """A model built in the dynamic graph, turned into a Program by dy2static with an
    InputSpec per input, without running it: (model, output, tracer)."""
    check_arguments(model, inputs)
    signature = inspect.signature(model.forward)
    bound = signature.bind(*[item for item in inputs if item.keyword is None],
                           **{item.keyword: item for item in inputs if item.keyword})
    ordered = list(bound.arguments.values())
    if len(ordered) != len(inputs) or any(
            parameter.kind not in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
            for parameter in list(signature.parameters.values())[:len(ordered)]):
        raise NotImplementedError('dy2static takes positional inputs only')
    # An input is data, which needs no gradient, as the factory's paddle.static.data and
    # a tensor made by paddle.to_tensor; a tensor given that asks for one has one.
    specs = [paddle.static.InputSpec(list(item.shape), item.dtype,
                                     name='input' if index == 0 else f'input_{index}',
                                     stop_gradient=bool(item.value is None
                                                        or item.value.stop_gradient))
             for index, item in enumerate(ordered)]
    check_input(model, specs)
    tracer = Tracer(model, static=True)
    forward = model.__dict__.get('forward')
    originals = dict(getattr(model, '_original_funcs', {}))
    try:
        with in_mode(model, training), tracer.hooked(), cheap_tracing():
            static = paddle.jit.to_static(model, input_spec=specs, full_graph=True)
            # forward is now a StaticFunction, whose Program is traced when asked for.
            program = cast(Any, static.forward).concrete_program
    finally:
        # to_static replaced forward on the instance: the model is the user's, as it was.
        if forward is None:
            model.__dict__.pop('forward', None)
        else:   # an attribute of the instance, where the class has the method
            cast(Any, model).forward = forward
        if hasattr(model, '_original_funcs'):
            model._original_funcs.clear()
            model._original_funcs.update(originals)
    outputs = program.outputs
    output = outputs[0] if len(outputs) == 1 else list(outputs)
    tracer.order = {model: None, **tracer.order}
    tracer.record(model, [list(item.shape) for item in ordered], shapes_of(output), None)
    tracer.uncounted = tracer.charge_operators(program.main_program)
    if training:
        parameters = model.parameters()     # (asked in the dynamic graph, where they live)
        with static_mode(), paddle.static.program_guard(program.main_program):
            append_training(tracer, program.main_program, outputs_list(outputs), parameters)
    # The Values live as long as their Program: shapes, not Values, leave here.
    return model, model_output_shapes(output), tracer


def trace_eager(source: nn.Layer | Callable[[], object], inputs: list[Input]) -> Traced:
    """One ordinary forward pass in the dynamic graph: (model, output, tracer)."""
    model = build(source) if not isinstance(source, nn.Layer) else source
    check_arguments(model, inputs)
    tracer = Tracer(model, static=False)
    with evaluating(model), tracer.hooked():
        args, kwargs = eager_inputs(inputs)
        output = model(*args, **kwargs)
    return model, model_output_shapes(output), tracer
