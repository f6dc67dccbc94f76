"""What a count counts: the conventions a user may choose, and the user's own rules.

paddleinfo.ops gives every operator of a traced Program its multiply-adds (MACs), the
convention torchvision's "GFLOPS" follows.  A paper may report another figure, so a
count names one of CONVENTIONS:

* ``macs``: the multiply-adds of every matrix product (paddleinfo.macs.MACS_CONVENTION);
* ``flops``: 2 x macs, a multiply and an add each (as fvcore's and most papers' FLOPs);
* ``full``: macs plus the work of normalisation, activations, pooling and elementwise
  arithmetic, at a stated cost per operator modelled on paddle.flops (its per-layer
  costs carried to the operators of the trace); FULL_DIFFERENCES says where it differs.

``op_count(op, count, rules)`` counts one operator (and the operators in its blocks);
``uncounted_ops(op, count, rules)`` names those it leaves out without knowing they cost
nothing.  ``rules`` are the user's own: {'pd_op.kron': fn} with fn(op) -> MACs, which
replace or extend the built-in rules; ``check_rules`` validates them, ``rules_note``
names them for the table's notes, and ``describe_op`` shows what a rule can read.
"""
import math
import numbers
import re
import textwrap
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from paddleinfo import ops
from paddleinfo.errors import RuleError
from paddleinfo.macs import MACS_CONVENTION

__all__ = ['CONVENTIONS', 'FULL_DIFFERENCES', 'Rule', 'RuleError', 'check_rules', 'describe_op',
           'op_count', 'rule_name', 'rules_note', 'uncounted_ops']

Rule = Callable[[Any], int | None]


# --- the conventions --------------------------------------------------------------

# Operators that cost nothing under `full` either: they move, copy, make, select or
# compare values (ReLU and max pooling compare, as paddle.flops counts them: zero).
FREE = ops.MOVES | {f'pd_op.{name}' for name in '''
    set_value set_value_ set_value_with_tensor set_value_with_tensor_ assign_out_
    maximum minimum max min amax amin abs sign floor ceil round clip clip_
    equal not_equal less_than less_equal greater_than greater_equal logical_and
    logical_or logical_not logical_xor isnan isinf isfinite bitwise_and bitwise_or
    bitwise_not bitwise_xor all any yield isclose diag
    relu relu_ relu6 hardtanh hardshrink thresholded_relu maxout
    max_pool2d_with_index max_pool3d_with_index fractional_max_pool2d
    fractional_max_pool3d unpool unpool3d
    dropout nearest_interp pixel_shuffle pixel_unshuffle channel_shuffle unfold fold
'''.split()} | {name for name in ops.NO_PRODUCT if not name.startswith('pd_op.')}

# Under `full`: the cost of one output element of an elementwise operator.
PER_OUTPUT: dict[str, int] = {
    **{f'pd_op.{name}': 1 for name in '''
        add add_ subtract subtract_ multiply multiply_ divide divide_ scale scale_ pow
        elementwise_pow floor_divide remainder sqrt rsqrt exp log log1p log2 log10 neg
        square reciprocal sin cos tan sinh cosh asin acos atan erf
        leaky_relu leaky_relu_ elu elu_ selu celu gelu silu swish mish sigmoid tanh tanh_
        hardswish hardsigmoid softshrink tanhshrink prelu rrelu softplus softsign
        logsigmoid swiglu glu label_smooth lerp logit trace add_n
    '''.split()},
    # A weighted sum of the neighbours the sampling reads: 2, 4, 8, 16 of them.
    'pd_op.linear_interp': 2, 'pd_op.bilinear_interp': 4, 'pd_op.trilinear_interp': 8,
    'pd_op.bicubic_interp': 16, 'pd_op.grid_sample': 4,
    'pd_op.affine_grid': 3,            # each output coordinate is a 3-term dot product
}
# Under `full`: the cost of one element of the first operand (reductions and losses
# read every element once; softmax takes an exp, a sum and a divide; batch_norm a scale
# and a shift, as paddle.flops; other norms mean, subtract, square, normalise and
# scale-and-shift, as fvcore).
PER_INPUT: dict[str, int] = {
    **{f'pd_op.{name}': 1 for name in '''
        sum mean prod cumsum cumprod logsumexp var std norm p_norm frobenius_norm
        squared_l2_norm sigmoid_cross_entropy_with_logits nll_loss kldiv_loss huber_loss
        bce_loss log_loss mean_all
    '''.split()},
    **{f'pd_op.{name}': 3 for name in
       'softmax softmax_ log_softmax cross_entropy_with_softmax'.split()},
    **{f'pd_op.{name}': 2 for name in 'batch_norm batch_norm_ sync_batch_norm_'.split()},
    **{f'pd_op.{name}': 5 for name in '''
        layer_norm group_norm instance_norm rms_norm local_response_norm lrn
        fused_bias_residual_layernorm fused_rms_norm_quant
    '''.split()},
}
POOLS = {'pd_op.pool2d', 'pd_op.pool3d', 'pd_op.lp_pool2d'}

# Under `full`, the work a fused product does beyond its matrix product, by the operand
# that asks for it: a bias adds one per output value, a residual one more; an
# activation other than ReLU (or none) one more.
EPILOGUES: dict[str, tuple[tuple[int, ...], str | None]] = {
    'pd_op.linear_v2': ((2,), None), 'pd_op.fused_gemm_epilogue': ((2,), 'activation'),
    'pd_op.fc': ((2,), 'activation_type'), 'pd_op.gemm_epilogue': ((2,), 'activation_type'),
    'pd_op.fp8_fp8_half_gemm_fused': ((2,), 'activation_type'),
    'pd_op.weight_only_linear': ((2,), None), 'pd_op.llm_int8_linear': ((2,), None),
    'pd_op.fused_conv2d_add_act': ((2, 3), 'activation'),
    'pd_op.depthwise_conv2d_bias': ((2,), None), 'pd_op.depthwise_conv3d_bias': ((2,), None),
    'pd_op.conv2d_transpose_bias': ((2,), None),
    'pd_op.addmm': ((0,), None), 'pd_op.addmm_': ((0,), None),
    'pd_op.baddbmm': ((0,), None), 'pd_op.baddbmm_': ((0,), None),
}
FREE_ACTIVATIONS = {'', 'none', 'identity', 'relu', 'relu6'}
# Under `full`, an attention kernel also scales and softmaxes every score: 1 + 3.
SCORE_COST = 4


def table(title: str, rows: list[tuple[str, str]]) -> str:
    """A rule table: a title, then each cost and what pays it, wrapped to 100 columns."""
    width = max(len(cost) for cost, _ in rows) + 2
    lines = textwrap.wrap(title, 100)
    for cost, what in rows:
        lines += textwrap.wrap(what, 100, initial_indent=cost.ljust(width),
                               subsequent_indent=' ' * width)
    return '\n'.join(lines)


def names(costs: Iterable[str]) -> str:
    return ' '.join(sorted(name.removeprefix('pd_op.') for name in costs))


FULL_DIFFERENCES = (
    'Where full differs from paddle.flops (which counts layers, not operators): every add '
    'counts, so a residual connection adds one per element and a Linear its bias (paddle.'
    'flops counts a conv\'s bias but not a Linear\'s, nor any functional call); AvgPool '
    'costs kernel + 1 per output value (paddle.flops: 1); a transposed conv costs its '
    'multiply-adds (paddle.flops: in_channels / groups x kernel per output value); '
    'BatchNorm1D and 3D cost as BatchNorm2D, activations other than ReLU one per element, '
    'and layer norms, softmax and losses their stated cost (paddle.flops: 0). On '
    'paddle.vision\'s resnet50 at 224 the two differ by exactly the residual adds and the '
    'fc bias.'
)

CONVENTIONS: dict[str, str] = {
    'macs': '\n'.join(textwrap.wrap(MACS_CONVENTION, 100)),
    'flops': '\n'.join(textwrap.wrap(
        'FLOPs are 2 x MACs: every multiply-add of the MACs convention counted as a '
        'multiply and an add, as fvcore and most papers report FLOPs. ' + MACS_CONVENTION, 100)),
    'full': table('Full counts MACs plus the rest of the arithmetic, at a stated cost per '
                  'operator, modelled on paddle.flops:', [
        ('MACs', 'every matrix product, as the MACs convention (an outer product is then an '
                 'elementwise multiply: one per output value, once)'),
        ('+1/out', 'a fused product\'s bias, residual and activation other than ReLU'),
        ('+4/score', 'an attention kernel\'s scale and softmax of every score'),
        ('1/out', names(name for name, cost in PER_OUTPUT.items() if cost == 1)),
        ('2,4,8,16/out', 'linear, bilinear (and grid_sample), trilinear, bicubic interpolation'),
        ('3/out', 'affine_grid'),
        ('1/in', names(name for name, cost in PER_INPUT.items() if cost == 1)),
        ('2/in', names(name for name, cost in PER_INPUT.items() if cost == 2)),
        ('3/in', names(name for name, cost in PER_INPUT.items() if cost == 3)),
        ('5/in', names(name for name, cost in PER_INPUT.items() if cost == 5)),
        ('k+1/out', 'average pooling (k the window, adaptive: input // output size); '
                    'max pooling 0'),
        ('0', 'moves, copies, creation, comparison, selection, ReLU, max pooling, dropout '
              'in eval mode'),
    ]) + '\n' + '\n'.join(textwrap.wrap(FULL_DIFFERENCES, 100)),
}


# --- the user's rules ----------------------------------------------------------------

NAME = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')


def rule_name(key: object) -> str:
    """The operator a rule's key names: 'kron' is 'pd_op.kron' (Paddle's operators are
    in the pd_op dialect); a name with a dialect ('pd_op.kron', 'builtin.combine',
    'custom_op.my_op') is kept.  RuleError if it is no operator name."""
    if not isinstance(key, str):
        raise RuleError(f'a rule is keyed by an operator name such as \'pd_op.kron\', '
                        f'not {type(key).__name__} {key!r}')
    parts = key.strip().split('.')
    if len(parts) > 2 or not all(NAME.fullmatch(part) for part in parts):
        raise RuleError(f'{key!r} is not an operator name: give \'pd_op.kron\' or \'kron\'')
    return '.'.join(parts) if len(parts) == 2 else f'pd_op.{parts[0]}'


def check_rules(rules: Mapping[str, Rule] | None) -> dict[str, Rule]:
    """The user's rules keyed by full operator names, checked: {} for None.  A rule is
    fn(op) -> the operator's MACs (an int, or None for 'cannot size it'); it replaces the
    built-in rule of that operator or adds one.  RuleError for a key that names no
    operator, two keys that name the same one, or a value that is not callable."""
    if rules is None:
        return {}
    if not isinstance(rules, Mapping):
        raise RuleError(f'rules must be a dict of operator name -> function, not '
                        f'{type(rules).__name__}')
    checked: dict[str, Rule] = {}
    for key, rule in rules.items():
        name = rule_name(key)
        if not callable(rule):
            raise RuleError(f'the rule for {name} must be a function of the operator '
                            f'returning its MACs, not {type(rule).__name__} {rule!r}'[:200])
        if name in checked:
            raise RuleError(f'two rules name {name}: {key!r} and another key')
        checked[name] = rule
    return checked


def rules_note(rules: Mapping[str, Rule] | None, used: Iterable[str] | None = None) -> str | None:
    """The note that says a count took the user's rules, naming each and whether it
    replaced a built-in rule; with `used` (the operator names the model ran), the rules
    that met no operator too.  None if there are no rules."""
    checked = check_rules(rules)
    if not checked:
        return None
    parts = [f'{name} ({getattr(rule, "__name__", type(rule).__name__)}'
             f'{", in place of the built-in rule" if name in ops.HANDLERS else ""})'
             for name, rule in sorted(checked.items())]
    note = f'Counted with your own rules: {", ".join(parts)}.'
    if used is not None:
        idle = sorted(set(checked) - set(used))
        if idle:
            note += f' No operator of the model is {" or ".join(idle)}.'
    return note


def describe_op(op: Any) -> str:
    """What a rule can read of a Program operator: its name, the shape of each operand
    (None for a list of tensors or one left out; -1 for a size the trace does not know),
    its attributes and its results' shapes.  A rule reads the same with
    ``op.name()``, ``paddleinfo.ops.operand_shapes(op)``, ``op.attrs()`` and
    ``paddleinfo.ops.result_shape(op)``.

    Example: a rule for paddle.kron, and what it is given::

        >>> import paddle
        >>> from paddleinfo import conventions, ops
        >>> paddle.enable_static()
        >>> program = paddle.static.Program()
        >>> with paddle.static.program_guard(program):
        ...     out = paddle.kron(paddle.static.data('x', [2, 3]), paddle.static.data('y', [4, 5]))
        >>> print(conventions.describe_op(program.global_block().ops[-1]))
        pd_op.kron(x: [2, 3], y: [4, 5]) -> [8, 15]
        >>> def kron(op):      # one multiply per output value
        ...     return math.prod(ops.result_shape(op))
        >>> # summary(model, ..., rules={'pd_op.kron': kron})
    """
    attrs = {key: value for key, value in op.attrs().items()
             if key not in ('op_callstack', 'struct_name', 'stop_gradient', 'persistable')}
    try:
        labels = list(op.get_input_names())
    except (AttributeError, RuntimeError):
        labels = []
    operands = ', '.join(f'{labels[i] if i < len(labels) else i}: {sizes}'
                         for i, sizes in enumerate(ops.operand_shapes(op)))
    results = [ops.shape(value) for value in op.results()]
    text = f'{op.name()}({operands}) -> {results[0] if len(results) == 1 else results}'
    return text + (f' {attrs}' if attrs else '')


# --- counting --------------------------------------------------------------------------

COUNTS = tuple(CONVENTIONS)


def convention(count: str) -> str:
    if count not in CONVENTIONS:
        raise RuleError(f'count must be one of {", ".join(COUNTS)}, not {count!r}')
    return count


def user_count(name: str, rule: Rule, op: Any) -> int | None:
    """What the user's rule says of `op`, checked: a whole number >= 0, or None."""
    try:
        value = rule(op)
    except Exception as error:  # noqa: BLE001 -- the user's code: told on one line
        raise RuleError(f'your rule for {name} raised {type(error).__name__}: '
                        f'{str(error).strip().splitlines()[0] if str(error).strip() else ""}'
                        ) from error
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise RuleError(f'your rule for {name} returned {value!r}, not a whole number of '
                        f'MACs (or None)')
    return int(value)


def elements(sizes: list[int] | None) -> int | None:
    return math.prod(sizes) if ops.known(sizes) else None


def pool_cost(op: Any) -> int | None:
    # Average pooling: kernel + 1 per output value (the adds of the window, as
    # paddle.flops' AdaptiveAvgPool counts, and the divide); max pooling compares.
    attrs = op.attrs()
    if attrs.get('pooling_type', 'avg') == 'max':
        return 0
    data, out = ops.operand_shapes(op)[0], ops.result_shape(op)
    if not ops.known(data) or not ops.known(out):
        return None
    spatial = slice(1, -1) if str(attrs.get('data_format', 'NCHW')).endswith('C') else slice(2, None)
    if attrs.get('adaptive') or attrs.get('global_pooling'):
        window = math.prod(whole // max(part, 1) for whole, part in zip(data[spatial], out[spatial]))
    else:
        # (kernel_size is an operand in PIR, a full_int_array; an attribute in older forms)
        kernel: Any = ops.constant(op.operand_source(1)) if op.num_operands() > 1 else None
        kernel = kernel if kernel is not None else attrs.get('kernel_size')
        if not isinstance(kernel, list) or not all(isinstance(size, int) for size in kernel):
            return None
        window = math.prod(kernel)
    return math.prod(out) * (window + 1)


def extra_work(op: Any) -> int | None:
    """Under `full`, the work of `op` beyond its matrix products: 0 if it does none it
    has a cost for, None if it does but the trace does not know its size."""
    name = op.name()
    if name in EPILOGUES:
        operands, activation = EPILOGUES[name]
        out = elements(ops.result_shape(op))
        if out is None:
            return None
        paid = sum(1 for index in operands
                   if index < op.num_operands() and ops.present(op.operand_source(index)))
        if activation and str(op.attrs().get(activation, '')).lower() not in FREE_ACTIVATIONS:
            paid += 1
        return out * paid
    if name in ops.ATTENTION:
        macs = ops.own_macs(op)
        query, result = ops.operand_shapes(op)[0], ops.result_shape(op)
        if macs is None or not query or not ops.known(result):
            return None
        # (macs = scores x (head size + value head size))
        return SCORE_COST * (macs // (query[-1] + result[-1]))
    if name in PER_OUTPUT:
        out = elements(ops.result_shape(op))
        return None if out is None else PER_OUTPUT[name] * out
    if name in PER_INPUT:
        data = elements(ops.operand_shapes(op)[0])
        return None if data is None else PER_INPUT[name] * data
    if name in POOLS:
        return pool_cost(op)
    return 0


# Multiply's outer-product MACs are its elementwise work under `full`: counted once.
FULL_REPLACES_MACS = {'pd_op.multiply', 'pd_op.multiply_'}


def of_products(macs: int, count: str) -> int:
    """Products' multiply-adds as `count` counts them: twice under 'flops' (a multiply and
    an add each), as they are under 'macs' and 'full'."""
    return 2 * macs if count == 'flops' else macs


def own_count(op: Any, count: str, rules: Mapping[str, Rule]) -> int | None:
    """`op`'s own count (not its blocks') under `count`, or None if it has none."""
    name = op.name()
    if name in rules:
        value = user_count(name, rules[name], op)
        return None if value is None else of_products(value, count)
    if count != 'full':
        macs = ops.own_macs(op)
        return None if macs is None else of_products(macs, count)
    macs = None if name in FULL_REPLACES_MACS else ops.own_macs(op)
    extra = extra_work(op)
    if macs is None and not extra:
        return None
    return (macs or 0) + (extra or 0)


def op_count(op: Any, count: str = 'macs', rules: Mapping[str, Rule] | None = None) -> int | None:
    """The count of one operator and of the operators in its blocks under the convention
    `count` ('macs', 'flops' or 'full'; CONVENTIONS states each), the user's `rules`
    ({'pd_op.kron': fn}, fn(op) -> MACs) replacing or extending the built-in ones (under
    'flops' a rule's MACs are doubled; under 'full' a rule's figure is the operator's
    whole count).  None if nothing in it is counted.  op_count(op) is ops.op_macs(op)."""
    convention(count)
    checked = check_rules(rules)
    return counted(op, count, checked)


def nothing_to_count(name: str, count: str, rules: Mapping[str, Rule]) -> bool:
    """Whether an operator of this name, holding no blocks, has no count and no note under
    `count` and `rules` (a relu, a reshape under 'macs'): a trace asks of every operator,
    and most are such."""
    return count != 'full' and name not in rules and name not in ops.HANDLERS and ops.no_product(name)


def counted(op: Any, count: str, rules: Mapping[str, Rule]) -> int | None:
    total = own_count(op, count, rules)
    for block in ops.blocks(op):
        for inner in block.ops:
            inner_count = counted(inner, count, rules)
            if inner_count is not None:
                total = (total or 0) + inner_count
    return total


def uncounted_ops(op: Any, count: str = 'macs', rules: Mapping[str, Rule] | None = None) -> set[str]:
    """The names of the operators in `op` (and its blocks) that the count under `count`
    leaves out without knowing they cost nothing: no rule, or a size the trace could not
    infer ('pd_op.flash_attn (of unknown size)')."""
    convention(count)
    return missing(op, count, check_rules(rules))


def missing(op: Any, count: str, rules: Mapping[str, Rule]) -> set[str]:
    name, held = op.name(), ops.blocks(op)
    names: set[str] = set()
    if name in rules:
        if user_count(name, rules[name], op) is None:
            names.add(f'{name} (of unknown size)')
    elif count != 'full':
        names = ops.uncounted_ops(op) if not held else set()
    elif name in ops.HANDLERS and name not in FULL_REPLACES_MACS and ops.HANDLERS[name](op) is None:
        names.add(f'{name} (of unknown size)')
    elif name in ops.HANDLERS or name in PER_OUTPUT or name in PER_INPUT or name in POOLS:
        if extra_work(op) is None:
            names.add(f'{name} (of unknown size)')
    elif name not in FREE and not held:
        names.add(name)
    for block in held:
        for inner in block.ops:
            names |= missing(inner, count, rules)
    return names
