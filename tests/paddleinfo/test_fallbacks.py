"""Every way down the trace takes, each with its hand count.

A factory's model is built and traced in the static graph; where its __init__ needs the
dynamic graph it is built there and traced by dy2static; where the forward pass cannot
be traced it runs once, and its products are counted as they run (paddleinfo.eager).
"""
import math
import subprocess
import sys
import traceback

import paddle
import pytest
from paddle import nn

from paddleinfo.profile import profile_inputs
from paddleinfo.result import Input

X8 = [Input([2, 8])]
LINEAR = 2 * 8 * 8      # Linear(8, 8) on [2, 8]: 2 rows x 8 outputs x 8 inputs


class DropPathRates(nn.Layer):
    def __init__(self):
        super().__init__()
        # ConvNeXt's, Swin's and PVTv2's line: a Value of unknown length in the static graph.
        self.rates = [x.item() for x in paddle.linspace(0, 0.1, 4)]
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        return self.fc(x)


class PositionTable(nn.Layer):
    def __init__(self):
        super().__init__()
        self.register_buffer('table', paddle.zeros([2, 8]))    # refused in the static graph
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        return self.fc(x + self.table)


class Weights(nn.Layer):
    def __init__(self):
        super().__init__()
        self.weights = nn.ParameterList([self.create_parameter([8, 8]) for _ in range(2)])

    def forward(self, x):
        for weight in self.weights:
            x = paddle.matmul(x, weight)
        return x


class SetsItsWeights(nn.Layer):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.fc.weight.set_value(paddle.zeros([8, 8]))   # RoBERTa's and T5's __init__ do so

    def forward(self, x):
        return self.fc(x)


class Masked(nn.Layer):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x, *, mask=None):
        h = self.fc(x)
        return paddle.matmul(h, h, transpose_y=True) + mask


class Image(nn.Layer):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2D(3, 8, 3)

    def forward(self, x):
        return self.conv(x)


class Gate(nn.Layer):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(8, 8), nn.Linear(8, 8)

    def forward(self, x):
        if x.sum() > 0:
            return self.a(x)
        return paddle.matmul(self.b(x), self.b.weight)


class Repeat(nn.Layer):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        for _ in range(int(x.sum().item()) % 3):
            x = self.fc(x)
        return x


class Unknown(nn.Layer):
    """SegFormer's reshape to paddle.shape(x)'s sizes: the trace writes -1 for them."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2D(3, 8, 3, padding=1)

    def forward(self, x):
        shape = paddle.shape(x)
        x = self.conv(x).flatten(2).transpose([0, 2, 1])      # [1, 256, 8]
        x = x @ x.transpose([0, 2, 1]) @ x                    # [1, 256, 256], [1, 256, 8]
        return x.reshape([shape[0], shape[2], shape[3], -1])


class Auxiliary(nn.Layer):
    def __init__(self):
        super().__init__()
        self.fc, self.head = nn.Linear(8, 8), nn.Linear(8, 4)

    def forward(self, x):
        x = self.fc(x)
        return (x, self.head(x)) if self.training else x


@pytest.mark.parametrize('built', [False, True], ids=['factory', 'built'])
@pytest.mark.parametrize('network, inputs, macs', [
    (DropPathRates, X8, LINEAR),
    (PositionTable, X8, LINEAR),
    (Weights, X8, 2 * LINEAR),
    (SetsItsWeights, X8, LINEAR),
    # Linear, then [2, 8] x [8, 2]: 2 x 2 outputs x 8.
    (Masked, [Input([2, 8]), Input([2, 2], keyword='mask')], LINEAR + 2 * 2 * 8),
], ids=['linspace', 'register_buffer', 'ParameterList', 'set_value', 'keyword'])
def test_what_the_static_graph_refuses_is_traced_by_dy2static(network, inputs, macs, built):
    result = profile_inputs(network() if built else network, inputs)
    assert not result.eager and result.macs == macs and result.status.complete
    assert result.params == sum(math.prod(p.shape) for p in result.model.parameters())
    assert paddle.in_dynamic_mode()


@pytest.mark.parametrize('dtype', ['float16', 'bfloat16'])
def test_a_half_precision_model_is_counted_without_a_kernel(dtype):
    # Conv2D(3, 8, 3) on 8x8: 6x6 outputs x 8 filters x 3*3*3 = 7,776 MACs; the CPU build
    # has no float16 conv, in the static graph or out of it: a float32 twin is traced.
    for source in (lambda: Image().to(dtype=dtype), Image().to(dtype=dtype)):
        result = profile_inputs(source, [Input([1, 3, 8, 8], dtype)])
        assert result.macs == 6 * 6 * 8 * 27 and result.params == 8 * 27 + 8
        assert [row.layer for row in result.rows] == [result.model.conv]
        assert {str(p.dtype) for p in result.model.parameters()} == {f'paddle.{dtype}'}


def test_a_branch_on_a_value_is_named_and_its_zeros_count_an_estimate():
    result = profile_inputs(Gate(), X8)
    # Zeros take the else branch: Linear b, then [2, 8] x [8, 8].
    assert result.eager and result.macs == LINEAR + 2 * 8 * 8
    assert 'an `if` in Gate.forward' in result.fallback
    assert 'an `if` in Gate.forward' in result.estimate and not result.status.complete
    # Real tensors: their own path, exactly, and no estimate.
    given = profile_inputs(Gate(), [Input([2, 8], value=paddle.ones([2, 8]))])
    assert given.macs == LINEAR and given.estimate is None and given.status.complete


def test_a_loop_on_a_value_is_named_and_counted_for_the_tensors_given():
    zeros = profile_inputs(Repeat, X8)
    assert zeros.macs == 0 and 'a `while` in Repeat.forward' in zeros.estimate
    # sum = 16 ones: 16 % 3 = 1 pass of the Linear.
    ones = profile_inputs(Repeat(), [Input([2, 8], value=paddle.ones([2, 8]))])
    assert ones.macs == LINEAR and ones.status.complete


def test_the_real_pass_counts_functional_products_and_layers_that_call_c_ops():
    result = profile_inputs(Unknown(), [Input([1, 3, 16, 16])])
    conv = 16 * 16 * 8 * 3 * 3 * 3          # nn.Conv2D calls _C_ops.conv2d directly
    products = 256 * 256 * 8 + 256 * 8 * 256
    assert result.eager and result.fallback.startswith('a size the trace could not infer')
    assert result.macs == conv + products and result.estimate is None
    assert result.by_operator == {'pd_op.matmul': products, 'pd_op.conv2d': conv}
    assert [row.macs for row in result.rows] == [conv]
    # Paddle's own functions are its own again after the pass.
    assert not hasattr(paddle.matmul, '__wrapped__')
    assert not hasattr(paddle._C_ops.conv2d, '__wrapped__')


def test_flops_are_twice_the_macs_traced_or_run():
    for network in (Masked, Unknown):
        inputs = ([Input([2, 8]), Input([2, 2], keyword='mask')] if network is Masked
                  else [Input([1, 3, 16, 16])])
        macs = profile_inputs(network(), inputs)
        flops = profile_inputs(network(), inputs, count='flops')
        assert flops.macs == 2 * macs.macs and flops.status.count == 'flops'


def test_mode_train_takes_the_training_path():
    # The auxiliary head runs in train mode only: Linear(8, 4) on [2, 8] adds 2 x 4 x 8.
    assert profile_inputs(Auxiliary, X8).macs == LINEAR
    assert profile_inputs(Auxiliary, X8, mode='train').macs == LINEAR + 2 * 4 * 8
    model = Auxiliary()
    model.eval()
    assert profile_inputs(model, X8, mode='train').macs == LINEAR + 2 * 4 * 8
    assert not model.training       # its own mode, as it was


def test_a_factory_gets_the_real_stack_and_paddle_its_own_bookkeeping_back():
    depths = []

    def factory():
        depths.append(len(traceback.extract_stack(limit=2)))   # pyparsing asks so
        return Image()

    saved = traceback.extract_stack
    result = profile_inputs(factory, [Input([1, 3, 8, 8])])
    assert depths == [2] and result.macs == 6 * 6 * 8 * 27
    assert traceback.extract_stack is saved


def test_a_value_read_without_a_source_file_is_named_by_its_method():
    # dy2static reads a forward()'s source; code run from stdin has none, and the static
    # call's own error still names the method that read the value.
    code = (
        'import paddle\n'
        'from paddle import nn\n'
        'from paddleinfo.profile import profile_inputs\n'
        'from paddleinfo.result import Input\n'
        'class Gate(nn.Layer):\n'
        '    def __init__(self):\n'
        '        super().__init__()\n'
        '        self.a = nn.Linear(8, 8)\n'
        '    def forward(self, x):\n'
        '        return self.a(x) if x.mean() > 0 else x\n'
        'result = profile_inputs(Gate(), [Input([2, 8])])\n'
        'print(result.macs, result.fallback)\n'
        'print(result.estimate)\n')
    done = subprocess.run([sys.executable, '-'], input=code, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()
    assert first == '0 it reads a tensor value in Gate.forward'
    assert second.startswith('a tensor value read in Gate.forward decides the path')


class Pair(nn.Layer):
    """forward() of one list of tensors, as paddle.summary(net, input=[a, b]) calls it."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, images):
        return self.fc(images[0]) + self.fc(images[1])


def test_a_forward_of_one_list_of_tensors_takes_the_list():
    from paddleinfo import summary
    for model in (Pair(), Pair):
        result = summary(model, input=[paddle.ones([2, 8]), paddle.ones([2, 8])], verbose=0)
        # Linear(8, 8) on two [2, 8] tensors: 2 x LINEAR, traced, not run.
        assert result.macs == 2 * LINEAR and not result.eager
        assert result.input_shapes == [[2, 8], [2, 8]]


def test_strict_refuses_a_count_that_is_one_path_of_several():
    from paddleinfo import summary
    from paddleinfo.errors import IncompleteCountError
    with pytest.raises(IncompleteCountError, match='an `if` in Gate.forward'):
        summary(Gate(), (2, 8), verbose=0, strict=True)
    # Real tensors: their path is the whole count.
    assert summary(Gate(), input=paddle.ones([2, 8]), verbose=0, strict=True).macs == LINEAR


def test_a_half_precision_twin_counts_in_the_convention_asked():
    result = profile_inputs(Image().to(dtype='float16'), [Input([1, 3, 8, 8], 'float16')],
                            count='flops')
    assert result.macs == 2 * 6 * 6 * 8 * 27 and result.status.count == 'flops'


class Chain(nn.Layer):
    """multi_dot, in a forward that must run: the real pass counts it as the trace does."""

    def __init__(self):
        super().__init__()
        self.a = self.create_parameter([100, 2])
        self.b = self.create_parameter([2, 100])

    def forward(self, x):
        if x.sum() > 0:
            return paddle.linalg.multi_dot([self.a, self.b, x])
        return x


def test_the_real_pass_takes_multi_dots_cheapest_order():
    # [100, 2] @ [2, 100] @ [100, 2]: (B x) first, 2 x 100 x 2 = 400, then A (B x),
    # 100 x 2 x 2 = 400: 800 (left to right would be 20,000 + 20,000).
    result = profile_inputs(Chain(), [Input([100, 2], value=paddle.ones([100, 2]))])
    assert result.eager and result.macs == 800 and result.status.complete


def test_the_functions_are_paddles_own_after_a_pass_that_failed_or_imported_one():
    class Fails(nn.Layer):
        def forward(self, x):
            if x.sum() > 0:
                return x
            import json
            # A module that takes paddle.matmul by name inside the pass keeps Paddle's.
            json.borrowed_matmul = paddle.matmul
            raise ValueError('the model fails')

    original = paddle.matmul
    with pytest.raises(ValueError, match='the model fails'):
        profile_inputs(Fails(), X8)
    import json
    assert paddle.matmul is original and paddle.Tensor.__dict__['__matmul__'] is not None
    assert json.borrowed_matmul is original
    del json.borrowed_matmul


def test_a_built_model_is_the_users_own_after_its_static_twins():
    # Its parameters and buffers are back, the very tensors, with their values.
    model = nn.Sequential(nn.Conv2D(3, 8, 3), nn.BatchNorm2D(8))
    before = {name: (id(tensor), tensor.numpy().copy())
              for name, tensor in model.state_dict().items()}
    result = profile_inputs(model, [Input([1, 3, 8, 8])])
    assert result.macs == 6 * 6 * 8 * 27 and not result.eager
    after = model.state_dict()
    assert {name: id(tensor) for name, tensor in after.items()} == {
        name: ident for name, (ident, _) in before.items()}
    assert all((after[name].numpy() == value).all() for name, (_, value) in before.items())


def test_tensors_of_one_shape_share_a_twin_and_each_row_keeps_its_own_parameters():
    # BatchNorm's weight, bias, mean and variance are all [8]: one data twin serves the four
    # (and the conv and the linear each have their own shape), yet each row counts its own.
    model = nn.Sequential(nn.Conv2D(3, 8, 3), nn.BatchNorm2D(8), nn.Flatten(),
                          nn.Linear(8 * 6 * 6, 8, bias_attr=False), nn.Linear(8, 8))
    model.eval()
    from paddleinfo.graph import static_graph
    from paddleinfo.tracer import static_twins
    with static_graph() as (main, _):
        with static_twins(model):
            model(paddle.static.data('x', [1, 3, 8, 8]))
        twins = [op for op in main.global_block().ops
                 if op.name() == 'pd_op.data' and op.attrs()['name'].startswith('paddleinfo_twin')]
    # conv weight [8,3,3,3], conv bias/BN x4/last bias [8], fc1 [288,8], fc2 [8,8]
    assert len(twins) == 4
    result = profile_inputs(model, [Input([1, 3, 8, 8])])
    assert [row.params for row in result.rows] == [3 * 9 * 8 + 8, 4 * 8, 0, 288 * 8, 8 * 8 + 8]
    assert result.macs == 6 * 6 * 8 * 27 + 288 * 8 + 8 * 8 and not result.eager


def test_every_layer_walks_as_paddle_does_shared_layers_once():
    from paddleinfo.macs import every_layer
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.Sequential(shared, nn.ReLU(), nn.LayerList([shared])),
                          nn.Sequential(nn.Tanh()))
    assert every_layer(model) == model.sublayers(include_self=True)
    assert len(every_layer(model)) == 7


def test_a_trace_leaves_the_modes_and_the_garbage_collector_as_they_were():
    import gc
    model = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.5), nn.Linear(8, 8))
    model.train()
    model[1].eval()     # a frozen layer inside a training model stays frozen
    gc.disable()
    try:
        profile_inputs(model, X8)
        assert not gc.isenabled()   # the user's choice is kept: not switched on
    finally:
        gc.enable()
    profile_inputs(model, X8)
    assert gc.isenabled()
    assert [layer.training for layer in model.sublayers(include_self=True)] == [
        True, True, False, True]


class Orthogonal(nn.Layer):
    """An orthogonality penalty over its own weights, listed in forward(); and a branch on
    whether two weights are one tensor."""

    def __init__(self, tied=False):
        super().__init__()
        self.a, self.b = nn.Linear(8, 8), nn.Linear(8, 8)
        if tied:
            self.b.weight = self.a.weight

    def forward(self, x):
        penalty = sum((paddle.matmul(w, w, transpose_y=True) - paddle.eye(8)).square().sum()
                      for w in self.parameters() if w.ndim == 2)
        if self.a.weight is self.b.weight:
            x = x @ self.a.weight
        return self.b(self.a(x)) + penalty


@pytest.mark.parametrize('tied', [False, True])
def test_twins_tell_forward_as_many_parameters_and_the_same_identities_as_the_model(tied):
    # Two weights of one shape share a data operator, yet forward() lists both (once when
    # tied) and `is` tells them apart (or not, when tied): by hand, 2 rows x 8 x 8 for each
    # Linear, 8 x 8 x 8 for each listed weight's W W^T, and 2 x 8 x 8 for the tied branch.
    result = profile_inputs(Orthogonal(tied), [Input([2, 8])])
    weights = 1 if tied else 2
    assert result.macs == 2 * (2 * 8 * 8) + weights * 8 ** 3 + tied * 2 * 8 * 8
    assert not result.eager
