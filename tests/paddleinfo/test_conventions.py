"""The conventions a count may follow (macs, flops, full) and the user's own rules:
paddleinfo.conventions on real traced operators, its `full` convention against
paddle.flops' own per-layer hooks on resnet50, and the rule hook's checks."""
import math

import paddle
import pytest
from paddle import nn
from paddle.hapi.dynamic_flops import register_hooks
from paddle.vision.models import resnet18, resnet50
from test_rules import Op, program_ops

from paddleinfo import conventions, ops, summary
from paddleinfo.errors import UsageError


def model_ops(build, size):
    """The operators of `build()`'s forward pass on `size`, traced in eval mode."""
    def run(data):
        model = build()
        model.eval()
        model(data)
    return program_ops(run, size)


def total(operators, count='macs', rules=None):
    return sum(conventions.op_count(op, count, rules) or 0 for op in operators)


def paddle_flops(model, size):
    """paddle.flops' total, from its own per-layer hooks (paddle.flops itself raises a
    TypeError printing its table with numpy 2 on Paddle 3.3, after the count)."""
    counts = {}

    def hook(layer, inputs, output):
        layer.total_ops = 0
        register_hooks[type(layer)](layer, inputs, output)
        counts[id(layer)] = counts.get(id(layer), 0) + int(layer.total_ops)

    handles = [layer.register_forward_post_hook(hook) for layer in model.sublayers()
               if not list(layer.children()) and type(layer) in register_hooks]
    model.eval()
    with paddle.no_grad():
        model(paddle.zeros(size))
    for handle in handles:
        handle.remove()
    return sum(counts.values())


def test_every_convention_is_stated_within_100_columns():
    assert set(conventions.CONVENTIONS) == {'macs', 'flops', 'full'}
    for text in conventions.CONVENTIONS.values():
        assert max(len(line) for line in text.splitlines()) <= 100
    assert 'outer product' in conventions.CONVENTIONS['macs']


def test_macs_is_op_macs_and_flops_twice_it():
    operators = model_ops(resnet18, [1, 3, 64, 64])
    for op in operators:
        assert conventions.op_count(op) == ops.op_macs(op)
        assert conventions.uncounted_ops(op) == ops.uncounted_ops(op)
    # resnet18 at 224 is 1,814,073,344 MACs (torchvision's 1.81 GMACs); at 64 every conv's
    # map is (64 / 224)^2 = 4 / 49 of it (112 -> 32, ..., 7 -> 2), the fc (512 x 1000) is not
    assert total(operators) == (1_814_073_344 - 512 * 1000) * 4 // 49 + 512 * 1000
    assert total(operators, 'flops') == 2 * total(operators)


def test_full_is_paddle_flops_plus_every_add_on_resnet50():
    # paddle.flops counts conv MACs (+ a conv bias), BatchNorm 2 per element, adaptive
    # average pooling (49 + 1) per output, the fc's MACs: 4,111,514,624 at 224.  full
    # counts the same and every add too: the 16 residual adds and the fc's bias.
    size = [1, 3, 224, 224]
    reference = paddle_flops(resnet50(), size)
    assert reference == 4_111_514_624
    operators = model_ops(resnet50, size)
    adds = [op for op in operators if op.name() == 'pd_op.add']
    assert len(adds) == 16 + 1
    added = sum(math.prod(ops.result_shape(op)) for op in adds)
    assert total(operators, 'full') == reference + added == 4_117_034_984
    assert total(operators) == 4_089_184_256       # torchvision's 4.09 GMACs
    assert set().union(*(conventions.uncounted_ops(op, 'full') for op in operators)) == set()


def test_every_operator_that_multiplies_nothing_has_a_full_cost_or_costs_nothing():
    costed = set(conventions.PER_OUTPUT) | set(conventions.PER_INPUT) | conventions.POOLS
    assert ops.NO_PRODUCT <= conventions.FREE | costed
    assert not conventions.FREE & costed


@pytest.mark.parametrize('build, shapes, full', [
    # 2 per element: scale and shift, as paddle.flops
    (lambda x: paddle.nn.functional.batch_norm(x, paddle.zeros([4]), paddle.ones([4])),
     [[2, 4, 8, 8]], 2 * 2 * 4 * 8 * 8),
    # average pooling 2 x 2: (4 + 1) per output value; max pooling compares
    (lambda x: paddle.nn.functional.avg_pool2d(x, 2), [[2, 4, 8, 8]], 2 * 4 * 4 * 4 * 5),
    (lambda x: paddle.nn.functional.max_pool2d(x, 2), [[2, 4, 8, 8]], 0),
    # softmax 3 per element, layer norm 5, gelu 1, relu 0
    (lambda x: paddle.nn.functional.softmax(x), [[4, 8]], 3 * 32),
    (lambda x: paddle.nn.functional.layer_norm(x, 8), [[4, 8]], 5 * 32),
    (lambda x: paddle.nn.functional.gelu(x), [[4, 8]], 32),
    (lambda x: paddle.nn.functional.relu(x), [[4, 8]], 0),
    # a Linear: 4 x 16 outputs of 8, then its bias add, one per output
    (lambda x: paddle.nn.functional.linear(x, paddle.ones([8, 16]), paddle.ones([16])),
     [[4, 8]], 4 * 16 * 8 + 4 * 16),
    # an outer product is one multiply per output, counted once
    (lambda x: paddle.outer(x, x), [[8]], 64),
], ids=['batch_norm', 'avg_pool', 'max_pool', 'softmax', 'layer_norm', 'gelu', 'relu', 'linear',
        'outer'])
def test_full_costs_by_hand(build, shapes, full):
    assert total(program_ops(build, *shapes), 'full') == full


def test_full_on_a_gpu_build_s_fused_operators():
    # linear_v2 with a bias: 4 x 16 outputs of 8, and the bias; fused_gemm_epilogue with
    # a gelu epilogue one more per output
    linear = Op('pd_op.linear_v2', [[4, 8], [8, 16], [16]], [[4, 16]], {'transpose_weight': False})
    assert conventions.op_count(linear, 'full') == 4 * 16 * 8 + 4 * 16
    gemm = Op('pd_op.fused_gemm_epilogue', [[4, 8], [8, 16], [16]], [[4, 16], None],
              {'trans_x': False, 'activation': 'gelu'})
    assert conventions.op_count(gemm, 'full') == 4 * 16 * 8 + 2 * 4 * 16
    # attention: its products, and a scale and softmax (4) for each of 2 x 10 x 4 x 12 scores
    attention = Op('pd_op.flash_attn', [[2, 10, 4, 16], [2, 12, 4, 16], [2, 12, 4, 16], None, None],
                   [[2, 10, 4, 16], None, [2, 4, 10], [2]])
    scores = 2 * 10 * 4 * 12
    assert conventions.op_count(attention, 'full') == scores * 32 + 4 * scores


def kron_macs(op):
    return 7


def test_the_user_s_rules_replace_and_extend_the_built_in_ones():
    kron = program_ops(lambda x, y: paddle.kron(x, y), [2, 3], [4, 5])[-1]
    assert conventions.op_count(kron) == 8 * 15
    # 'kron' names pd_op.kron; flops doubles the rule's MACs
    assert conventions.op_count(kron, rules={'kron': kron_macs}) == 7
    assert conventions.op_count(kron, 'flops', {'pd_op.kron': kron_macs}) == 14
    cross = program_ops(lambda x, y: paddle.cross(x, y, axis=1), [4, 3], [4, 3])[-1]
    assert conventions.uncounted_ops(cross) == {'pd_op.cross'}
    # cross products: 2 multiplies per output value
    rules = {'cross': lambda op: 2 * math.prod(ops.result_shape(op))}
    assert conventions.op_count(cross, rules=rules) == 2 * 12
    assert conventions.uncounted_ops(cross, rules=rules) == set()
    assert conventions.rules_note({'pd_op.kron': kron_macs}, used=['pd_op.kron']) == (
        'Counted with your own rules: pd_op.kron (kron_macs, in place of the built-in rule).')
    assert conventions.rules_note({'cross': kron_macs}, used=['pd_op.kron']) == (
        'Counted with your own rules: pd_op.cross (kron_macs). No operator of the model is '
        'pd_op.cross.')
    assert conventions.rules_note(None) is None
    assert conventions.describe_op(kron) == 'pd_op.kron(x: [2, 3], y: [4, 5]) -> [8, 15]'


@pytest.mark.parametrize('rules, message', [
    ({'pd_op.kron': 3}, 'the rule for pd_op.kron must be a function'),
    ({'not an op': kron_macs}, "'not an op' is not an operator name"),
    ({1: kron_macs}, 'a rule is keyed by an operator name'),
    ({'a.b.c': kron_macs}, "'a.b.c' is not an operator name"),
    ({'kron': kron_macs, 'pd_op.kron': kron_macs}, 'two rules name pd_op.kron'),
    ([kron_macs], 'rules must be a dict'),
], ids=['not-callable', 'spaces', 'not-a-string', 'two-dots', 'twice', 'not-a-dict'])
def test_a_bad_rule_is_one_clear_line(rules, message):
    with pytest.raises(conventions.RuleError) as caught:
        conventions.check_rules(rules)
    assert message in str(caught.value) and '\n' not in str(caught.value)
    assert isinstance(caught.value, ValueError | TypeError | UsageError)


def test_a_rule_that_returns_no_number_or_raises_is_one_line():
    kron = program_ops(lambda x, y: paddle.kron(x, y), [2, 3], [4, 5])[-1]
    with pytest.raises(ValueError, match=r'pd_op.kron returned 2.5, not a whole number'):
        conventions.op_count(kron, rules={'kron': lambda op: 2.5})
    with pytest.raises(TypeError, match=r'pd_op.kron raised ZeroDivisionError: integer division'):
        conventions.op_count(kron, rules={'kron': lambda op: 1 // 0})
    with pytest.raises(ValueError, match=r'count must be one of macs, flops, full'):
        conventions.op_count(kron, 'gflops')


@pytest.mark.skipif(not paddle.is_compiled_with_cuda(),
                    reason="needs Paddle's GPU build; on the CPU build, the test below "
                           "takes the GPU build's path through paddle.nn.functional.linear")
def test_a_gpu_build_counts_every_linear_of_an_mlp():
    # On Paddle's GPU build a Linear with a bias is traced as pd_op.linear_v2 (on the CPU
    # build, matmul and add): by hand, 4 rows x (64 x 512 + 512 x 256) multiply-adds.
    model = nn.Sequential(nn.Linear(64, 512), nn.ReLU(), nn.Linear(512, 256))
    result = summary(model, (4, 64), verbose=0)
    assert result.macs == 4 * (64 * 512 + 512 * 256)
    assert result.status['complete'] and not result.eager
    assert sum(result.profile.by_operator.values()) == result.macs


@pytest.mark.parametrize('compatible', [False, True])
def test_a_linear_lowered_as_the_gpu_build_lowers_it_counts_in_full(monkeypatch, compatible):
    # paddle.nn.functional.linear asks paddle.is_compiled_with_cuda() and, on the GPU build,
    # appends pd_op.linear_v2 (with FLAGS_use_accuracy_compatible_kernel, of the transposed
    # weight): the CPU build's own code takes that path here, and shape inference needs no
    # kernel.  The MLP dropped to 0 MACs that way; by hand, 4 x (64 x 512 + 512 x 256).
    monkeypatch.setattr(paddle, 'is_compiled_with_cuda', lambda: True)
    flag = 'FLAGS_use_accuracy_compatible_kernel'
    saved = paddle.get_flags([flag])[flag]
    paddle.set_flags({flag: compatible})
    try:
        def mlp():
            return nn.Sequential(nn.Linear(64, 512), nn.ReLU(), nn.Linear(512, 256))
        for source in (mlp(), mlp):
            result = summary(source, (4, 64), verbose=0)
            assert result.macs == 4 * (64 * 512 + 512 * 256)
            assert result.profile.by_operator == {'pd_op.linear_v2': result.macs}
            assert result.status['complete'] and not result.eager
    finally:
        paddle.set_flags({flag: saved})
