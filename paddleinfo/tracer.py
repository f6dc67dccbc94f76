"""The trace: forward hooks on every layer while the model is called once, in the static
graph (a factory's model, or a built one turned into a Program by dy2static) or, where
that cannot be, in the dynamic graph.  Each layer's calls, shapes and the operators it
appended are kept; the operators' MACs are charged to the innermost layer that appended
them (paddleinfo.ops), and with training the backward pass is appended too."""
import contextlib
import inspect
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, cast

import paddle
from paddle import nn

from paddleinfo import backward, memory, ops
from paddleinfo.checks import check_arguments, check_input, check_map
from paddleinfo.errors import ShapeError, first_line, paddle_reason, text_of
from paddleinfo.graph import build, cheap_tracing, static_mode
from paddleinfo.conventions import Rule, nothing_to_count, of_products, op_count, uncounted_ops
from paddleinfo.eager import counting_products
from paddleinfo.macs import RNNS, evaluating, every_layer, modes_kept, rnn_macs
from paddleinfo.memory import dtype_name
from paddleinfo.naming import summary_name
from paddleinfo.result import Call, Input, Training, arranged, input_shapes, model_output_shapes, shapes_of


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
    by_operator: dict[str, int]         # {operator name: MACs}
    charged: dict[nn.Layer, int]        # eager: the products of each call running, so far

    def __init__(self, model: nn.Layer, static: bool, count: str = 'macs',
                 rules: Mapping[str, Rule] | None = None) -> None:
        self.model, self.static = model, static
        # The convention counted in, and the user's own rules (paddleinfo.conventions).
        self.count, self.rules = count, dict(rules or {})
        self.used_rules: set[str] = set()   # the user's rules that met an operator
        self.order, self.calls, self.stack, self.starts, self.spans = {}, {}, [], [], []
        self.program, self.uncounted, self.failure = None, {}, None
        self.block: Any = None              # the Program's global block, and whether it
        self.empty = True                   # had no operator at the last mark()
        self.op_owner, self.training, self.training_failure = {}, None, None
        self.by_operator, self.charged = {}, {}
        self.eager_uncounted: dict[str, dict[nn.Layer, None]] = {}   # {operator: {layer}}
        self.sites: list[str] = []          # the `if`s and `while`s on values (dy2static)

    def charge(self, operator: str, macs: int | None) -> None:
        """A product of the eager pass (paddleinfo.eager): to the innermost layer running;
        one whose operands could not be read is named as not counted."""
        layer = self.stack[-1] if self.stack else self.model
        if macs is None:
            self.eager_uncounted.setdefault(operator, {})[layer] = None
            return
        macs = of_products(macs, self.count)
        self.charged[layer] = self.charged.get(layer, 0) + macs
        self.by_operator[operator] = self.by_operator.get(operator, 0) + macs

    def mark(self) -> Any:
        """The last operator of the Program so far (None: none yet).  Operators are
        appended at its end; parameters and data are put at its front, so an index
        would move and the operator itself does not."""
        if self.program is None:
            self.program = paddle.static.default_main_program()
            self.block = self.program.global_block()
        # (Asking how many operators there are costs as much as the rest of a hook.)
        if self.empty:
            self.empty = not self.block.num_ops()
        return None if self.empty else self.block.back()

    def before(self, layer: nn.Layer, inputs: tuple[Any, ...]) -> None:
        self.stack.append(layer)
        self.checked(check_input, layer, inputs)
        self.order.setdefault(layer, None)
        self.starts.append(self.mark() if self.static else None)

    def after(self, layer: nn.Layer, inputs: tuple[Any, ...], output: Any) -> None:
        start = self.starts.pop()
        shapes = shapes_of(output)
        self.checked(check_map, layer, inputs, shapes)
        self.stack.pop()
        if self.static:
            self.spans.append((layer, start, self.mark()))
            macs = None
        else:
            macs = self.charged.pop(layer, None)
            if isinstance(layer, RNNS) and inputs and getattr(layer, 'could_use_cudnn', False):
                # One fused kernel (_C_ops.rnn), which no public function shows.
                fused = of_products(rnn_macs(layer, inputs), self.count)
                self.by_operator['pd_op.rnn'] = self.by_operator.get('pd_op.rnn', 0) + fused
                macs = (macs or 0) + fused
        self.record(layer, [input_shapes(x) for x in inputs], shapes, macs)

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
        for layer in every_layer(self.model):
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
            raise ControlFlow('the forward pass branches or loops on a tensor value', self.sites)

        def after(op: Any) -> int:
            if op is None:
                return 0
            index = index_of.get(op)
            if index is None:       # a mark inside a block of control flow
                raise ControlFlow('a layer ran inside control flow', self.sites)
            return index + 1

        owner: dict[int, nn.Layer] = {}
        for layer, start, end in self.spans:
            for index in range(after(start), after(end)):
                owner.setdefault(index, layer)
        first = after(first)
        macs: dict[nn.Layer, int] = {}
        uncounted: dict[str, dict[nn.Layer, None]] = {}
        free: dict[str, bool] = {}      # {operator name: nothing_to_count}
        for index in range(first, len(all_ops)):
            layer = owner.get(index, self.model)
            op = all_ops[index]
            self.op_owner[op] = layer
            name = op.name()
            if name not in free:
                free[name] = nothing_to_count(name, self.count, self.rules)
            if free[name] and not op.num_regions():
                continue
            count = op_count(op, self.count, self.rules)
            if name in self.rules:
                self.used_rules.add(name)
            if count is not None:
                macs[layer] = macs.get(layer, 0) + count
                if count:
                    self.by_operator[name] = self.by_operator.get(name, 0) + count
            for left_out in uncounted_ops(op, self.count, self.rules):
                uncounted.setdefault(left_out, {})[layer] = None
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
    which layers run.  `sites` names each `if` and `while` ('an `if` in Gate.forward')."""

    def __init__(self, message: str, sites: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.sites = list(sites)


@contextlib.contextmanager
def control_flow_sites() -> Iterator[list[str]]:
    """The `if`s and `while`s on a tensor value that dy2static turns into operators while
    inside, each named by the method it is in: dy2static's own converters are wrapped for
    the length of the block (they are called by the code it generates, `_jst.IfElse`)."""
    import paddle.jit.dy2static as jst     # (the module the generated code calls)
    sites: list[str] = []

    def where(frame: Any) -> str:
        owner = frame.f_locals.get('self') if frame is not None else None
        method = frame.f_code.co_name if frame is not None else '?'
        return f'{type(owner).__name__}.{method}' if owner is not None else f'{method}()'

    def whiles() -> int:
        block = paddle.static.default_main_program().global_block()
        return sum(1 for op in block.ops if op.name() == 'pd_op.while')

    def if_else(pred: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(pred, paddle.pir.Value):
            sites.append(f'an `if` in {where(sys._getframe(1))}')
        return original_if(pred, *args, **kwargs)

    def while_loop(*args: Any, **kwargs: Any) -> Any:
        before = whiles()
        result = original_while(*args, **kwargs)
        if whiles() > before:
            sites.append(f'a `while` in {where(sys._getframe(1))}')
        return result

    original_if, original_while = jst.IfElse, jst.While
    jst.IfElse, jst.While = if_else, while_loop
    try:
        yield sites
    finally:
        jst.IfElse, jst.While = original_if, original_while


# What a trace gives: (the model, the shape of its output, the Tracer of its calls).
Traced = tuple[nn.Layer, list[Any] | dict[Any, Any], Tracer]


def static_inputs(inputs: list[Input]) -> tuple[list[Any], dict[str, Any]]:
    """paddle.static.data for every input, named input, input_1, ... or by its keyword."""
    values = []
    for index, item in enumerate(inputs):
        data = paddle.static.data(item.name(index), list(item.shape), item.dtype)
        data.stop_gradient = item.stop_gradient
        values.append(data)
    return arranged(inputs, values)


def eager_inputs(inputs: list[Input]) -> tuple[list[Any], dict[str, Any]]:
    """The real tensors given, or zeros of each shape and dtype (zeros are valid token ids)."""
    # (Paddle's types take a dtype's name only as one of a Literal of names.)
    return arranged(inputs, [item.value if item.value is not None
                             else paddle.zeros(list(item.shape), dtype=cast(Any, item.dtype))
                             for item in inputs])


def trace_factory(build_model: Callable[[], object], inputs: list[Input],
                  training: bool = False, train: bool = False, count: str = 'macs',
                  rules: Mapping[str, Rule] | None = None) -> Traced:
    """Build the model in the static graph and call it there: (model, output, tracer);
    with `training`, in train mode, and the backward pass appended."""
    return trace_static(build(build_model), inputs, training, train, count, rules)


def trace_static(model: nn.Layer, inputs: list[Input], training: bool = False,
                 train: bool = False, count: str = 'macs',
                 rules: Mapping[str, Rule] | None = None) -> Traced:
    """Call a model whose parameters are the static graph's, inside static_graph()."""
    check_arguments(model, inputs)
    tracer = Tracer(model, static=True, count=count, rules=rules)
    with in_mode(model, training or train), tracer.hooked():
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


class Twins:
    """What static_twins() saw: whether forward() listed a layer's parameters or buffers
    (parameters(), buffers(), named_...), where twins that share a data operator would
    show fewer than the model has (in the static graph they drop repeats by Value)."""

    listed = False


@contextlib.contextmanager
def static_twins(model: nn.Layer, training: bool = False,
                 distinct: bool = False) -> Iterator[Twins]:
    """A built model's parameters and buffers replaced, inside (and inside static_graph()),
    by static-graph ones of the same names, shapes, dtypes and trainability, so that the
    model can be called there as a factory's is: as fast, and without dy2static's
    rewriting of every forward().  A tensor shared by two layers (tied weights) gets one
    twin, two tensors two twins (`a.weight is b.weight` tells what it tells of the model).
    For a forward pass, which reads only shapes and dtypes, the twins of one shape and
    dtype are objects of one data operator (each operator costs as much to make as
    tracing a conv), unless `distinct`; the Twins yielded says whether forward() listed
    parameters or buffers, which then must be traced again with distinct ones.  The
    model's own tensors are back in place after, whatever happened."""
    twins: dict[int, Any] = {}
    operators: dict[tuple[tuple[int, ...], Any], Any] = {}     # (shape, dtype): its data
    swapped: list[tuple[dict[str, Any], str, Any]] = []
    seen = Twins()
    try:
        for layer in every_layer(model):
            for table, persistable in ((layer._parameters, True), (layer._buffers, False)):
                for name, tensor in list(table.items()):
                    if tensor is None:
                        continue
                    if id(tensor) not in twins:
                        if training or distinct:
                            twins[id(tensor)] = (twin_of(tensor, persistable) if training
                                                 else data_twin(tensor, len(twins)))
                        else:
                            kind = (tuple(tensor.shape), tensor.dtype)
                            if kind not in operators:
                                operators[kind] = data_twin(tensor, len(operators))
                            # (A Value's object, asked of its operator again, is another.)
                            twins[id(tensor)] = operators[kind].get_defining_op().result(0)
                    swapped.append((table, name, tensor))
                    table[name] = twins[id(tensor)]
        with listing_watched(seen) if operators else contextlib.nullcontext():
            yield seen
    finally:
        for table, name, tensor in reversed(swapped):
            table[name] = tensor


@contextlib.contextmanager
def listing_watched(seen: Twins) -> Iterator[None]:
    """seen.listed set if this thread lists a layer's parameters or buffers inside; Paddle's
    own methods, called through, for the length of the block."""
    thread = threading.get_ident()
    originals = nn.Layer.named_parameters, nn.Layer.named_buffers

    def watching(original: Callable[..., Any]) -> Callable[..., Any]:
        def listing(self: nn.Layer, *args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() == thread:
                seen.listed = True
            return original(self, *args, **kwargs)
        return listing
    nn.Layer.named_parameters = watching(originals[0])    # type: ignore[method-assign]
    nn.Layer.named_buffers = watching(originals[1])       # type: ignore[method-assign]
    try:
        yield
    finally:
        nn.Layer.named_parameters, nn.Layer.named_buffers = originals  # type: ignore[method-assign]


def data_twin(tensor: paddle.Tensor, index: int) -> Any:
    """A twin for a forward pass only: a data Value of the same shape and dtype, ten times
    cheaper to make than a parameter (which adds its initializer to the startup program);
    a training step's backward pass needs the parameters (twin_of)."""
    # (paddle.static.data walks every operator so far to put a data operator first: a
    # twin, made before the model's first operator, is appended where it belongs.)
    twin = cast(Any, paddle)._pir_ops.data(f'paddleinfo_twin_{index}', list(tensor.shape),
                                paddle.pir.core.convert_np_dtype_to_dtype_(dtype_name(tensor.dtype)),
                                paddle.base.core.Place())
    twin.stop_gradient = True
    return twin


def twin_of(tensor: paddle.Tensor, parameter: bool) -> Any:
    """A static-graph parameter like `tensor` (a buffer's twin is a parameter that does
    not train: the program reads it and nothing updates it)."""
    twin = paddle.static.create_parameter(
        list(tensor.shape), cast(Any, dtype_name(tensor.dtype)),
        default_initializer=paddle.nn.initializer.Constant(0.0))
    twin.stop_gradient = bool(tensor.stop_gradient) if parameter else True
    if hasattr(tensor, 'trainable'):
        twin.trainable = bool(getattr(tensor, 'trainable'))
    elif not parameter:
        twin.trainable = False
    return twin


def trace_built(model: nn.Layer, inputs: list[Input], training: bool = False,
                train: bool = False, count: str = 'macs',
                rules: Mapping[str, Rule] | None = None) -> Traced:
    """A model built in the dynamic graph, turned into a Program by dy2static with an
    InputSpec per input, without running it: (model, output, tracer)."""
    check_arguments(model, inputs)
    signature = inspect.signature(model.forward)
    keywords = [item.keyword for item in inputs if item.keyword]
    ordered = [item for item in inputs if item.keyword is None] + [
        item for item in inputs if item.keyword]
    positional = not keywords and not any(item.packed for item in inputs) and all(
        parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
        for parameter in list(signature.parameters.values())[:len(ordered)])
    specs = [paddle.static.InputSpec(list(item.shape), cast(Any, item.dtype),
                                     name=item.name(index), stop_gradient=item.stop_gradient)
             for index, item in enumerate(ordered)]
    check_input(model, specs)
    tracer = Tracer(model, static=True, count=count, rules=rules)
    forward = model.__dict__.get('forward')
    originals = dict(getattr(model, '_original_funcs', {}))
    try:
        with in_mode(model, training or train), tracer.hooked(), cheap_tracing(), \
                control_flow_sites() as tracer.sites:
            if positional:
                static = paddle.jit.to_static(model, input_spec=specs, full_graph=True)
                # forward is now a StaticFunction, whose Program is traced when asked for.
                program = cast(Any, static.forward).concrete_program
            else:   # keyword inputs: dy2static takes positional ones, here one list of them
                program = paddle.jit.to_static(called_with(model, ordered), input_spec=[specs],
                                               full_graph=True).concrete_program
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


def called_with(model: nn.Layer, inputs: list[Input]) -> Callable[[list[Any]], Any]:
    """A function of one list of values, one per Input, that calls the model with them
    as its arguments: what dy2static traces for keyword inputs and a packed list."""
    def call(values: list[Any]) -> Any:
        args, kwargs = arranged(inputs, values)
        return model(*args, **kwargs)
    return call


def trace_eager(model: nn.Layer, inputs: list[Input], train: bool = False,
                count: str = 'macs') -> Traced:
    """One ordinary forward pass in the dynamic graph: (model, output, tracer)."""
    check_arguments(model, inputs)
    tracer = Tracer(model, static=False, count=count)
    with in_mode(model, train), paddle.no_grad(), tracer.hooked():
        args, kwargs = eager_inputs(inputs)
        with counting_products(tracer.charge):
            output = model(*args, **kwargs)
    tracer.uncounted = {name: [summary_name(layer) for layer in layers]
                        for name, layers in sorted(tracer.eager_uncounted.items())}
    return model, model_output_shapes(output), tracer
