"""What a training step costs (summary(training=True), paddleinfo --training): the
backward pass's MACs against hand counts, with the formula beside each, and the memory
estimate's parts against hand arithmetic.  Nothing here runs the model but the timed
tests at the end, which run tiny ones."""
import json

import paddle
import pytest
from paddle import nn

from paddleinfo import summary
from paddleinfo.errors import UsageError
from paddleinfo.memory import estimate
from summaries import NETS, command, net, one_line_error


def per_layer(result):
    """{row name: (forward MACs, input-gradient MACs, weight-gradient MACs)}."""
    grads = result.profile.training.grad_macs
    return {row.name: (row.macs or 0, grads[row.layer].inputs if row.layer in grads else 0,
                       grads[row.layer].weights if row.layer in grads else 0)
            for row in result.rows}


# --- backward MACs by hand -----------------------------------------------------------

def conv_net():
    return nn.Sequential(nn.Conv2D(3, 8, 3, padding=1), nn.ReLU(),
                         nn.Conv2D(8, 16, 3, stride=2, padding=1), nn.ReLU(),
                         nn.Flatten(), nn.Linear(16 * 4 * 4, 10))


def test_a_convs_gradients_each_take_its_forward_macs_but_the_first_needs_no_input_gradient():
    result = summary(conv_net, (2, 3, 8, 8), training=True, verbose=0)
    # conv1: 2 x 8 x 8 x 8 outputs, each 3 x 3 x 3 multiply-adds
    conv1 = 2 * 8 * 8 * 8 * 3 * 9
    # conv2: 2 x 16 x 4 x 4 outputs, each 8 x 3 x 3
    conv2 = 2 * 16 * 4 * 4 * 8 * 9
    fc = 2 * 10 * 256
    # dW = x correlated with dout, dx = dout convolved back with W: each the forward MACs.
    # The input is data: Paddle prunes the first conv's input gradient.
    assert per_layer(result) == {'Conv2D-1': (conv1, 0, conv1), 'ReLU-1': (0, 0, 0),
                                 'Conv2D-2': (conv2, conv2, conv2), 'ReLU-2': (0, 0, 0),
                                 'Flatten-1': (0, 0, 0), 'Linear-1': (fc, fc, fc)}
    cost = result.training
    assert (cost.forward_macs, cost.input_grad_macs, cost.weight_grad_macs) == (
        conv1 + conv2 + fc, conv2 + fc, conv1 + conv2 + fc)
    assert cost.step_macs == 3 * (conv1 + conv2 + fc) - conv1


def frozen_mlp():
    model = nn.Sequential(nn.Linear(20, 30), nn.ReLU(), nn.Linear(30, 5))
    for parameter in model[0].parameters():
        parameter.stop_gradient = True
    return model


def test_a_frozen_layer_gets_no_gradient_and_none_flows_past_it():
    result = summary(frozen_mlp, (8, 20), training=True, verbose=0)
    # Linear-2: dW = h^T @ dout, 8 x 30 x 5.  Nothing before it needs a gradient: its
    # own input gradient is pruned, and the frozen Linear-1 computes none.
    assert per_layer(result) == {'Linear-1': (8 * 20 * 30, 0, 0), 'ReLU-1': (0, 0, 0),
                                 'Linear-2': (8 * 30 * 5, 0, 8 * 30 * 5)}
    assert result.training.trainable_values == 30 * 5 + 5


def test_an_mlp_s_second_layer_passes_its_gradient_back():
    result = summary(lambda: nn.Sequential(nn.Linear(20, 30), nn.ReLU(), nn.Linear(30, 5)),
                     (8, 20), training=True, verbose=0)
    first, second = 8 * 20 * 30, 8 * 30 * 5
    assert per_layer(result) == {'Linear-1': (first, 0, first), 'ReLU-1': (0, 0, 0),
                                 'Linear-2': (second, second, second)}


def test_an_lstm_s_backward_is_twice_its_forward_less_the_first_input_projection():
    result = summary(lambda: nn.LSTM(16, 32, num_layers=2), (4, 10, 16), training=True,
                     verbose=0)
    steps = 4 * 10      # sequences x time steps
    # forward, per step: 4 gates x (input + hidden) x hidden, in each layer
    forward = steps * 4 * ((16 + 32) * 32 + (32 + 32) * 32)
    # weight gradients: the gates' gradient meets every input and hidden value again
    weights = forward
    # input gradients: dgates @ W_hh^T (4 x 32 x 32) in both layers, dgates @ W_ih^T for
    # layer 2 (4 x 32 x 32); layer 1's input is data and needs none (4 x 16 x 32)
    inputs = steps * 4 * (32 * 32 + 32 * 32 + 32 * 32)
    assert (result.macs, result.training.input_grad_macs,
            result.training.weight_grad_macs) == (forward, inputs, weights)


def test_a_transformer_block_s_gradients_by_hand():
    d, heads, ff, batch, length = 64, 4, 128, 2, 10
    result = summary(lambda: nn.TransformerEncoderLayer(d, heads, ff, dropout=0.0),
                     (batch, length, d), training=True, verbose=0)
    tokens = batch * length
    projection = tokens * d * d                 # one of q, k, v and the output projection
    attention = batch * length * length * d     # QK^T, and AV: all heads together
    feed_forward = tokens * d * ff              # one of the two linears
    forward = 4 * projection + 2 * attention + 2 * feed_forward
    assert result.macs == forward
    # Every weight gets its gradient: the forward MACs of every Linear.
    assert result.training.weight_grad_macs == 4 * projection + 2 * feed_forward
    # Input gradients everywhere but the q, k and v projections of the data itself;
    # both operands of QK^T and of AV are activations: two input gradients each.
    assert result.training.input_grad_macs == (projection + 2 * 2 * attention
                                               + 2 * feed_forward)


def test_the_step_line_and_the_json_carry_the_same_numbers(capsys, monkeypatch):
    monkeypatch.chdir(NETS.parents[2])     # the title names the model as it was given
    mlp = 'docs/examples/nets.py:mlp'
    code, out, _ = command(capsys, mlp, '--input', '20', '--batch-size', '4',
                           '--training', '--format', 'json')
    assert code == 0
    data = json.loads(out)
    cost = data['cost']
    first, second = 4 * 20 * 64, 4 * 64 * 10
    assert (cost['forward_macs'], cost['input_grad_macs'], cost['weight_grad_macs']) == (
        first + second, second, first + second)
    assert cost['step_macs'] == cost['forward_macs'] + cost['backward_macs']
    # adam: 9 elementwise operations per trainable value (paddleinfo.optimizers)
    assert cost['update_operations'] == 9 * (20 * 64 + 64 + 64 * 10 + 10)
    code, text, _ = command(capsys, mlp, '--input', '20', '--batch-size', '4', '--training')
    assert f'({cost["step_macs"]:,})' in text
    assert all(len(line) <= 100 for line in text.splitlines())


# --- memory by hand -----------------------------------------------------------------

def two_layers():
    return nn.Sequential(nn.Linear(64, 32, bias_attr=False), nn.ReLU(),
                         nn.Linear(32, 8, bias_attr=False))


@pytest.mark.parametrize('optimizer, state', [('sgd', 0), ('momentum', 1), ('adam', 2),
                                              ('adamw', 2)])
def test_the_persistent_memory_is_parameters_gradients_and_the_optimizer_s_state(optimizer, state):
    result = summary(two_layers, (16, 64), training=True, optimizer=optimizer, verbose=0)
    memory = result.memory_estimate
    values = 64 * 32 + 32 * 8
    assert memory.parameters == memory.gradients == 4 * values
    # Adam keeps two moments per value, and beta1^t, beta2^t (float32) per tensor.
    scalars = 2 * 2 * 4 if optimizer.startswith('adam') else 0
    assert memory.optimizer_state == state * 4 * values + scalars
    assert memory.inputs == 16 * 64 * 4


def test_the_activations_kept_are_what_the_backward_pass_reads():
    memory = summary(two_layers, (16, 64), training=True, verbose=0).memory_estimate
    # relu_grad reads ReLU's output and the second matmul_grad reads it as its x: kept
    # once (16 x 32 values).  The first Linear's output is read by no backward operator
    # (ReLU's gradient needs its output, not its input), and the input is counted apart.
    # The loss, one float32, is what the backward pass starts from.
    assert memory.activations == 16 * 32 * 4 + 4


def test_the_peaks_follow_the_program_order():
    memory = summary(two_layers, (16, 64), training=True, optimizer='sgd',
                     verbose=0).memory_estimate
    persistent = memory.parameters + memory.gradients + memory.inputs
    assert memory.training_peak > persistent + memory.activations
    # Inference: the parameters and input, and at most the two largest values alive
    # at once ([16, 32] and [16, 32], ReLU reading the first to make the second).
    assert memory.inference_peak <= memory.parameters + memory.inputs + 2 * 16 * 32 * 4
    assert memory.inference_peak < memory.training_peak


def test_a_precision_counts_every_float_at_its_size():
    result = summary(two_layers, (16, 64), training=True, verbose=0)
    full = estimate(result.profile.training.memory, 'adam')
    half = estimate(result.profile.training.memory, 'adam', 'bfloat16')
    assert half.parameters * 2 == full.parameters and half.gradients * 2 == full.gradients
    assert half.activations * 2 == full.activations
    # Adam's beta powers stay float32 scalars.
    assert (half.optimizer_state - 16) * 2 == full.optimizer_state - 16


def test_an_rnn_keeps_its_kernel_s_reserve_for_the_backward_pass():
    memory = summary(lambda: nn.LSTM(8, 16, num_layers=2), (2, 5, 8), training=True,
                     verbose=0).memory_estimate
    block = 5 * 2 * 16      # time steps x batch x hidden, one direction
    # Paddle's CPU kernel: (layers - 1) + (gates + 2) x layers blocks for an LSTM.
    reserve = ((2 - 1) + (4 + 2) * 2) * block * 4
    assert memory.activations >= reserve


# --- the Python API and the command -------------------------------------------------

def test_without_training_there_is_no_training_cost():
    result = summary(two_layers, (16, 64), verbose=0)
    assert result.training is None and result.memory_estimate is None
    with pytest.raises(UsageError, match='training=True'):
        result.render(view='training')


@pytest.mark.parametrize('keywords, message', [
    ({'optimizer': 'rmsprop'}, 'optimizer'), ({'precision': 'int8'}, 'precision'),
    ({'training': 1}, 'training is True or False'), ({'runs': 0}, 'runs')])
def test_bad_training_arguments_are_usage_errors(keywords, message):
    with pytest.raises(UsageError, match=message):
        summary(two_layers, (16, 64), verbose=0, **keywords)


@pytest.mark.parametrize('args, message', [
    (['--optimizer', 'sgd'], '--optimizer is for --training'),
    (['--runs', '3'], '--runs is for --time'),
    (['--training', '--macs'], '--training has a table of its own'),
    (['--plot', 'out.png'], '--plot draws a sweep'),
    (['--optimizer', 'rmsprop', '--training'], 'rmsprop is not known')])
def test_the_command_refuses_flags_that_would_be_ignored(capsys, args, message):
    err = one_line_error(capsys, net('mlp'), '--input', '20', *args)
    assert message in err


def test_bfloat16_halves_what_it_halves_from_the_command(capsys):
    def parts(*more):
        code, out, _ = command(capsys, net('mlp'), '--input', '20', '--training',
                               '--format', 'json', *more)
        assert code == 0
        return json.loads(out)['cost']['memory']
    full, half = parts(), parts('--precision', 'bfloat16')
    assert half['parameters'] * 2 == full['parameters']
    assert half['float_dtype'] == 'bfloat16' and full['float_dtype'] is None


class PadsChannels(nn.Layer):
    """Option A's shortcut: zeros of a shape worked out from paddle.shape(x), which the
    trace writes as -1."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2D(8, 8, 1)

    def forward(self, x):
        batch, _, height, width = paddle.shape(x)
        zeros = paddle.zeros([batch, 4, height, width], dtype=x.dtype)
        return self.conv(paddle.concat([x, zeros], axis=1))


def test_a_size_worked_out_from_paddle_shape_is_counted():
    memory = summary(PadsChannels, (2, 4, 6, 6), training=True, verbose=0).memory_estimate
    assert memory.unknown == 0
    # The conv's weight gradient reads the concatenation (2 x 8 x 6 x 6); the zeros
    # (2 x 4 x 6 x 6) are read by concat only, in the forward pass.
    assert memory.activations == 2 * 8 * 6 * 6 * 4 + 4
    assert memory.inference_peak >= memory.parameters + memory.inputs + (2 * 4 + 2 * 8) * 36 * 4


def test_a_built_model_is_costed_and_timed_and_left_as_it_was():
    model = conv_net()
    model.eval()
    before = {name: p.numpy().copy() for name, p in model.named_parameters()}
    result = summary(model, (2, 3, 8, 8), time=True, runs=1, warmup=0, verbose=0)
    assert result.training is None and [row.name for row in result.timing.rows] == [
        row.name for row in result.rows]
    assert all(row.backward_s is None for row in result.timing.rows)
    text = result.render(view='training')
    assert 'the forward pass, timed' in text and 'dInput' not in text and 'Fwd ms' in text
    # Timing the forward pass in eval mode changes no weight, and the mode is put back.
    assert not model.training
    assert all((p.numpy() == before[name]).all() for name, p in model.named_parameters())
    traced = summary(model, (2, 3, 8, 8), training=True, verbose=0)
    assert traced.training.step_macs == summary(conv_net, (2, 3, 8, 8), training=True,
                                                verbose=0).training.step_macs
    assert not model.training


class ReadsAValue(nn.Layer):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(x) if float(x.sum()) >= 0 else x


def test_a_model_that_cannot_be_traced_has_no_estimate_and_is_told_so(capsys):
    # Its forward pass runs in the dynamic graph (as summary() without training does),
    # where there is no program to append a backward pass to.
    assert summary(ReadsAValue, (2, 4), verbose=0).eager
    with pytest.raises(UsageError, match='could not be traced without running it'):
        summary(ReadsAValue, (2, 4), training=True, verbose=0)


def test_every_layer_keeps_its_own_mode():
    model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1D(4), nn.Linear(4, 2))
    model.train()
    model[1].eval()       # a frozen BatchNorm in a model that trains
    modes = [layer.training for layer in model.sublayers(include_self=True)]
    summary(model, (8, 4), training=True, verbose=0)
    summary(model, (8, 4), verbose=0)
    assert [layer.training for layer in model.sublayers(include_self=True)] == modes


class TwoHeads(nn.Layer):
    def __init__(self):
        super().__init__()
        self.a, self.b, self.c = nn.Linear(8, 4), nn.Linear(8, 3), nn.Linear(8, 2)

    def forward(self, x):
        return {'a': self.a(x), 'rest': [self.b(x), {'c': self.c(x)}]}


def test_every_output_of_a_nested_structure_takes_its_gradient():
    # Each head's weight gradient is its forward: 2 x 8 x (4 + 3 + 2) multiply-adds,
    # from a built model as from its factory.
    for model in (TwoHeads, TwoHeads()):
        step = summary(model, (2, 8), training=True, verbose=0).training
        assert step.weight_grad_macs == 2 * 8 * (4 + 3 + 2)


def test_a_given_tensor_that_asks_for_its_gradient_gets_it_from_a_factory_too():
    x = paddle.randn([2, 8])
    x.stop_gradient = False
    counts = {summary(model, input=x, training=True, verbose=0).training.input_grad_macs
              for model in (two_layers_of_eight, two_layers_of_eight())}
    # dx of both Linears: 2 x 8 x 8 each.
    assert counts == {2 * 2 * 8 * 8}


def two_layers_of_eight():
    return nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 8))


@pytest.mark.parametrize('keywords, message', [
    ({'optimizer': 'sgd'}, 'optimizer is for training=True'),
    ({'precision': 'bfloat16'}, 'precision is for training=True'),
    ({'runs': 3}, 'runs is for time=True'), ({'warmup': 0}, 'warmup is for time=True'),
    ({'training': True, 'depth': 1}, 'a table of its own')])
def test_arguments_that_would_be_ignored_are_refused(keywords, message):
    with pytest.raises(UsageError, match=message):
        summary(two_layers, (16, 64), verbose=0, **keywords)


def test_a_model_that_fails_when_it_runs_is_one_line(capsys, tmp_path):
    # The trace takes a bfloat16 input into a float32 Linear; the kernel refuses it.
    code, out, err = command(capsys, net('mlp'), '--input', '20:bfloat16', '--time', '--runs',
                             '1')
    assert (code, out) == (2, '') and err.count('\n') == 1
    assert 'the model fails when it runs for --time' in err and 'Traceback' not in err


def test_a_fraction_of_a_mac_is_shown_as_one():
    from paddleinfo.cost import readable
    assert [readable(value) for value in (0.5, 12, 1696, 4.089e9)] == [
        '0.5', '12', '1.70 K', '4.09 G']
