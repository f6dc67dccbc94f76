"""Memory of a training step and of inference, estimated from the traced Program.

The Program of the forward pass, with the backward pass appended (paddleinfo.backward),
says every tensor a step makes, its dtype and size, which operator makes it and which
read it.  `program_memory` walks it once and keeps, for each buffer, when it is made and
when it is last read; `estimate` then adds up, at the user's optimizer:

- parameters, and for the trainable ones their gradients (Paddle keeps the gradient
  buffers from one step to the next: clear_grad sets them to zero) and the optimizer's
  state (paddleinfo.optimizers);
- the inputs;
- the activations kept for the backward pass: the values of the forward pass that a
  backward operator reads (not those whose shape alone it needs);
- the peak of a step: the persistent memory above, and the most that the temporaries
  alive at any one operator take, in the Program's order, each freed after its last
  reader -- as Paddle's executor and its dynamic graph free a tensor no one holds;
- inference the same over the forward pass alone: no gradients, no optimizer state,
  and every value freed as soon as it is dead.

Every figure follows the dtypes of the Program (a bfloat16 model's tensors take 2 bytes
a value), or `float_dtype` for every floating-point tensor if it is given.  An operator
that writes in place (Paddle says which: batch_norm_'s running statistics, relu_) and a
reshape, which Paddle makes a view of its input, make no new buffer.  What it does not
see: the allocator's rounding and caching, a kernel's own workspace (oneDNN's
reorders, say), and Python's objects.
"""
import contextlib
import math
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from paddleinfo import ops
from paddleinfo.optimizers import OPTIMIZERS

__all__ = ['DTYPE_BYTES', 'FLOATS', 'Buffer', 'MemoryEstimate', 'ProgramMemory', 'dtype_name',
           'dtype_of', 'estimate', 'is_float', 'program_memory']

DTYPE_BYTES = {'float16': 2, 'bfloat16': 2, 'float32': 4, 'float64': 8, 'int8': 1, 'uint8': 1,
               'int16': 2, 'int32': 4, 'int64': 8, 'bool': 1, 'complex64': 8, 'complex128': 16}
FLOATS = ('float16', 'bfloat16', 'float32', 'float64')
# Operators whose result is a view of their first operand's buffer.
VIEWS = {f'pd_op.{name}' for name in (
    'reshape', 'reshape_', 'flatten', 'flatten_', 'squeeze', 'squeeze_', 'unsqueeze',
    'unsqueeze_', 'view_shape', 'view_dtype', 'share_data', 'share_data_')}

# (operator, result) of BatchNorm's reserve space, a size only cuDNN knows (-1 in the
# Program), which the CPU's kernels leave empty.
RESERVE_SPACE = {(f'pd_op.{name}', 5) for name in ('batch_norm', 'batch_norm_', 'sync_batch_norm_')}


def rnn_blocks(op: Any) -> tuple[int, int, int]:
    """(layers, gates, one block: directions x time steps x batch x hidden) of an rnn
    operator (or its gradient, whose first operand is the same input)."""
    attrs = op.attrs()
    steps_and_batch = math.prod(list(op.operand_source(0).shape)[:-1])
    directions = 2 if attrs['is_bidirec'] else 1
    gates = {'LSTM': 4, 'GRU': 3}.get(attrs['mode'], 1)
    return attrs['num_layers'], gates, directions * steps_and_batch * attrs['hidden_size']


def rnn_reserve(op: Any) -> int:
    # Paddle's CPU kernel (phi's rnn_functor.h, AllocateReserveData) keeps, for the
    # backward pass, [(layers - 1) + (gates + 2) x layers] blocks for an LSTM (its
    # gates, cell and cell activation), (gates + 1) x layers for a GRU, gates x layers
    # for a simple RNN, where the Program has a size of -1.
    layers, gates, block = rnn_blocks(op)
    extra = {4: 2, 3: 1}.get(gates, 0)
    return ((layers - 1) + (gates + extra) * layers) * block


def rnn_grad_workspace(op: Any) -> int:
    # Its CPU kernel (phi's rnn_grad_kernel.h, RnnGradFunc) allocates the input's
    # gradient even where the Program prunes it, and, with more than one layer, a
    # layer's input and two gradients of a layer's output (a block each); then, one
    # layer at a time, that layer's gates' gradient (gates blocks).
    layers, gates, block = rnn_blocks(op)
    pruned_input = 0 if ops.present(op.results()[0]) else math.prod(list(op.operand_source(0).shape))
    return pruned_input + (3 * block if layers > 1 else 0) + gates * block


def rnn_inference_workspace(op: Any) -> int:
    # In eval mode (is_test) the same kernel keeps no reserve: a layer works in scratch
    # for its gates at every step (gates blocks; its cell state is one step's), and
    # with more than one layer the layers' outputs take turns in one more block.
    layers, gates, block = rnn_blocks(op)
    return (gates + (1 if layers > 1 else 0)) * block


# Sizes the Program leaves at -1, as Paddle's CPU kernels make them: {(operator,
# result): size}; and the scratch memory a kernel allocates while it runs, in a
# training step and in inference (eval mode).
SIZES = {('pd_op.rnn', 3): rnn_reserve}
WORKSPACES = {'pd_op.rnn_grad': rnn_grad_workspace}
INFERENCE_WORKSPACES = {'pd_op.rnn': rnn_inference_workspace}


@dataclass
class Buffer:
    """One tensor's memory: what it is, and the operators between which it is alive."""
    numel: int
    dtype: str
    kind: str           # 'parameter', 'input' or 'value'
    first: int          # the index of the operator that makes it
    last: int           # of the last operator that reads it (first, if none does)
    forward_last: int   # of the last forward operator that reads it
    trainable: bool = False    # a parameter that gets a gradient
    kept: bool = False         # a forward value that a backward operator reads
    for_backward: bool = False  # made only for the backward pass (an RNN's reserve)
    for_inference: bool = False  # made only in eval mode (an RNN's scratch)
    owner: Any = None          # the layer whose forward call made it (None: the backward pass)

    def bytes(self, float_dtype: str | None = None) -> int:
        dtype = float_dtype if float_dtype and self.dtype in FLOATS else self.dtype
        return self.numel * DTYPE_BYTES.get(dtype, 4)


@dataclass
class ProgramMemory:
    buffers: list[Buffer]
    forward_ops: int        # operators [0, forward_ops) are the forward pass
    total_ops: int
    unknown: int = 0        # tensors of a size the trace could not infer: left out
    trainable_tensors: int = 0


@dataclass
class MemoryEstimate:
    """Bytes.  training_peak and inference_peak include everything above them."""
    optimizer: str
    parameters: int
    gradients: int
    optimizer_state: int
    inputs: int
    activations: int          # kept by the forward pass for the backward pass
    training_peak: int
    inference_peak: int
    float_dtype: str | None = None
    unknown: int = 0
    parts: dict[str, int] = field(default_factory=dict)


def dtype_name(dtype: Any) -> str:
    """'float32' for paddle.float32, a Program's or an old VarType's float32 alike."""
    key = (type(dtype), dtype)      # (VarType.FP32 == DataType.FLOAT32, named apart)
    try:
        return _NAMES[key]
    except (KeyError, TypeError):       # (TypeError: a dtype that cannot be hashed)
        name = str(dtype).replace('paddle.', '').replace('VarType.', '').lower()
    with contextlib.suppress(TypeError):
        _NAMES[key] = name      # (a trace asks this of every layer's input: str() is slow)
    return name


_NAMES: dict[tuple[type, Any], str] = {}


def dtype_of(value: Any) -> str:
    """The dtype's name of a tensor or a Program value."""
    return dtype_name(value.dtype)


def is_float(value: Any) -> bool:
    """Whether a tensor or a Program value holds floating-point numbers (False for what
    has no dtype, an optional value left out)."""
    try:
        return dtype_of(value) in FLOATS
    except (AttributeError, RuntimeError):
        return False


def numel_of(value: Any) -> int | None:
    """The values a tensor holds; for a size the trace left at -1, the shape given to
    paddle.full by an expression it can work out (paddle.zeros([paddle.shape(x)[0], ...])
    as a shortcut pads channels), or None."""
    try:
        shape = list(value.shape)
    except (ValueError, RuntimeError, AttributeError):
        return None
    if any(not isinstance(size, int) or size < 0 for size in shape):
        maker = value.get_defining_op()
        if maker.name() != 'pd_op.full_with_tensor':
            return None
        given = [ops.constant(operand) for operand in maker.operands_source()]
        sizes = [size for size in given if isinstance(size, list)]
        if len(sizes) != 1 or len(sizes[0]) != len(shape) or min(sizes[0], default=0) < 0:
            return None
        shape = sizes[0]
    return math.prod(shape)


def value_id(value: Any) -> Any:
    """A Program value's id, or None for an optional operand left out."""
    try:
        return value.id
    except (ValueError, RuntimeError, AttributeError):
        return None


def is_tensor(value: Any) -> bool:
    try:
        return bool(value.initialized() and value.is_dense_tensor_type())
    except (AttributeError, RuntimeError):
        return False


def program_memory(program: Any, forward_ops: int, parameters: Collection[Any],
                   parameter_grads: Collection[Any] = (), first_op: int = 0,
                   owner: Callable[[Any], Any] | None = None) -> ProgramMemory:
    """The buffers of `program`'s global block: operators before `forward_ops` are the
    forward pass, the rest its backward pass.  `parameters` are the model's
    (model.parameters(): each tensor once, as the model holds them; the Program may
    also hold a flat copy an RNN packs them into, which in the dynamic graph they are
    views of); `parameter_grads` are the Values of their gradients, counted apart.
    Operators before `first_op` built the model: what they made is the model's own.
    `owner(op)` is the layer a forward operator is charged to: each buffer's `owner`."""
    from paddle.base.libpaddle.pir import get_op_inplace_info  # type: ignore[import-not-found]

    ops = list(program.global_block().ops)
    grads = {value_id(value) for value in parameter_grads}
    root: dict[int, Buffer | None] = {}     # value id -> its buffer (None: not counted)
    buffers = [Buffer(math.prod(p.shape), dtype_of(p), 'parameter', 0, len(ops), 0,
                      trainable=bool(p.trainable and not p.stop_gradient)) for p in parameters]
    trainable_tensors = sum(buffer.trainable for buffer in buffers)
    unknown = 0
    for index, op in enumerate(ops):
        backward = index >= forward_ops
        name = op.name()
        operands = list(op.operands_source())
        if name in WORKSPACES:     # a kernel's own scratch memory, for its run only
            buffers.append(Buffer(WORKSPACES[name](op), dtype_of(operands[0]), 'value', index,
                                  index, -1 if backward else index))
        if name in INFERENCE_WORKSPACES and not backward:
            buffers.append(Buffer(INFERENCE_WORKSPACES[name](op), dtype_of(operands[0]), 'value',
                                  index, index, index, for_inference=True))
        for value in operands:
            buffer = root.get(value_id(value))
            if buffer is None or op.is_no_need_buffer(value):
                continue
            buffer.last = max(buffer.last, index)
            if backward and buffer.first < forward_ops and buffer.kind == 'value':
                buffer.kept = True
            if not backward:
                buffer.forward_last = max(buffer.forward_last, index)
        inplace = get_op_inplace_info(op)
        for position, value in enumerate(op.results()):
            if not is_tensor(value):
                continue
            source = (operands[inplace[position]] if position in inplace
                      else operands[0] if name in VIEWS and position == 0 and operands else None)
            if source is not None and value_id(source) in root:
                root[value_id(value)] = root[value_id(source)]
                continue
            if value_id(value) in grads:
                root[value_id(value)] = None       # a parameter's gradient: counted apart
                continue
            if (index < first_op and name != 'pd_op.data') or name == 'builtin.parameter':
                root[value_id(value)] = None   # the model's own: counted as `parameters`
                continue
            numel = numel_of(value)
            for_backward = (name, position) in SIZES
            if for_backward:
                numel = SIZES[name, position](op)
            if numel is None and (name, position) in RESERVE_SPACE:
                root[value_id(value)] = None   # cuDNN's workspace: empty on the CPU
                continue
            if numel is None:
                unknown += 1
                root[value_id(value)] = None
                continue
            kind = 'input' if name == 'pd_op.data' else 'value'
            buffer = Buffer(numel, dtype_of(value), kind, index, index,
                            index if not backward else -1, for_backward=for_backward,
                            owner=owner(op) if owner and not backward else None)
            buffers.append(buffer)
            root[value_id(value)] = buffer
    return ProgramMemory(buffers, forward_ops, len(ops), unknown, trainable_tensors)


def peak(buffers: list[Buffer], ops: int, last: str, float_dtype: str | None) -> int:
    """The most bytes the buffers alive at any one operator take, each alive from the
    operator that makes it to its `last` reader ('last' or 'forward_last')."""
    change = [0] * (ops + 1)
    for buffer in buffers:
        end = max(getattr(buffer, last), buffer.first)
        if buffer.first >= ops:
            continue
        size = buffer.bytes(float_dtype)
        change[buffer.first] += size
        change[min(end, ops - 1) + 1] -= size
    most = alive = 0
    for step in change[:ops]:
        alive += step
        most = max(most, alive)
    return most


def estimate(memory: ProgramMemory, optimizer: str = 'sgd',
             float_dtype: str | None = None) -> MemoryEstimate:
    """What a training step (at `optimizer`) and an inference pass take, in bytes."""
    rule = OPTIMIZERS[optimizer]
    parameters = [b for b in memory.buffers if b.kind == 'parameter']
    values = [b for b in memory.buffers if b.kind == 'value']
    parameter_bytes = sum(b.bytes(float_dtype) for b in parameters)
    gradients = sum(b.bytes(float_dtype) for b in parameters if b.trainable)
    state = rule.state_per_value * gradients + 4 * rule.scalars_per_tensor * memory.trainable_tensors
    inputs = sum(b.bytes(float_dtype) for b in memory.buffers if b.kind == 'input')
    activations = sum(b.bytes(float_dtype) for b in values if b.kept)
    training = peak([b for b in values if not b.for_inference], memory.total_ops, 'last',
                    float_dtype)
    # A train-mode Program's forward pass: what it makes only for the backward pass
    # (an RNN's reserve) inference does not make.
    inference = peak([b for b in values if not b.for_backward], memory.forward_ops,
                     'forward_last', float_dtype)
    persistent = parameter_bytes + gradients + state + inputs
    return MemoryEstimate(
        optimizer=optimizer, parameters=parameter_bytes, gradients=gradients,
        optimizer_state=state, inputs=inputs, activations=activations,
        training_peak=persistent + training, inference_peak=parameter_bytes + inputs + inference,
        float_dtype=float_dtype, unknown=memory.unknown,
        parts={'temporaries at the training peak': training,
               'temporaries at the inference peak': inference})
