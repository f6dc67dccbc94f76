"""paddleinfo.measure: the allocator's figures around real steps, checked to the byte.

On a CPU Paddle's 'Allocated' statistic counts each allocation at the size asked for
(no rounding, measured below), and the dynamic graph frees a tensor as soon as nothing
holds it, so what is live after a step is a sum of tensor sizes that can be written
down exactly: the figures at rest below are equalities, not approximations.  The peaks
depend on the order in which the kernels allocate and free their temporaries, so only
their order is asserted.
"""
import paddle
import pytest
from paddle import nn

from paddleinfo.measure import allocator_statistic, measured_peak
from paddleinfo.running import random_value
from paddleinfo.result import Input

FLOAT = 4                       # bytes of a float32
BATCH, IN, HIDDEN, OUT = 4, 64, 32, 8
PARAMS = IN * HIDDEN + HIDDEN * OUT         # 2,304 weights, no bias
INPUT_BYTES = BATCH * IN * FLOAT            # 1,024: the input stays live, it is the caller's
LEARNING_RATE = FLOAT   # the optimizer's learning rate: a float32 scalar tensor, made at its first step

pytestmark = pytest.mark.skipif(paddle.get_device() != 'cpu', reason='the exact figures are those of the CPU')


def mlp() -> nn.Layer:
    return nn.Sequential(nn.Linear(IN, HIDDEN, bias_attr=False), nn.ReLU(),
                         nn.Linear(HIDDEN, OUT, bias_attr=False))


def conv_net() -> nn.Layer:
    return nn.Sequential(nn.Conv2D(3, 8, 3, padding=1), nn.BatchNorm2D(8), nn.ReLU(),
                         nn.AdaptiveAvgPool2D(1), nn.Flatten(), nn.Linear(8, 10))


@pytest.mark.parametrize('values', [1, 5, 63, 65, 1000, 4097])
def test_the_cpu_allocator_counts_the_bytes_asked_for(values):
    # The granularity of the statistic on a CPU: one byte.  A float32 tensor of 5 values
    # counts 20 bytes, not a rounded 32 or 64.
    allocated = allocator_statistic('cpu')
    before = allocated.current()
    tensor = paddle.zeros([values], dtype='float32')
    assert allocated.current() - before == values * FLOAT
    del tensor
    assert allocated.current() == before


def test_sgd_at_rest_is_parameters_gradients_and_the_input_exactly():
    peak = measured_peak(mlp, [Input([BATCH, IN])], 'sgd')
    assert peak.device == 'cpu'
    # Parameters, their gradients (clear_grad's set_to_zero keeps the buffers), the input
    # and SGD's learning rate: nothing else is live between steps.
    assert peak.at_rest == PARAMS * FLOAT + PARAMS * FLOAT + INPUT_BYTES + LEARNING_RATE == 19_460
    assert peak.training_peak is not None and peak.training_peak >= peak.at_rest
    assert peak.inference_peak < peak.training_peak


def test_adam_keeps_two_moments_per_value_and_two_beta_powers_per_tensor():
    sgd = measured_peak(mlp, [Input([BATCH, IN])], 'sgd')
    adam = measured_peak(mlp, [Input([BATCH, IN])], 'adam')
    # moment1 and moment2 of every weight, and beta1^t, beta2^t: one float32 each per
    # parameter tensor (2 tensors here).
    assert adam.at_rest - sgd.at_rest == 2 * PARAMS * FLOAT + 2 * 2 * FLOAT == 18_448
    assert adam.training_peak is not None and sgd.training_peak is not None
    assert adam.training_peak - sgd.training_peak == adam.at_rest - sgd.at_rest
    assert adam.inference_peak == sgd.inference_peak   # measured before any step


def test_without_an_optimizer_only_the_forward_pass_is_measured():
    peak = measured_peak(mlp, [Input([BATCH, IN])], None)
    assert peak.training_peak is None
    assert peak.at_rest == PARAMS * FLOAT + INPUT_BYTES
    # The forward pass adds at least its output (4 x 8 values) to what is at rest.
    assert peak.inference_peak >= peak.at_rest + BATCH * OUT * FLOAT


def test_a_conv_net_counts_batch_norm_statistics_with_the_parameters():
    peak = measured_peak(conv_net, [Input([2, 3, 16, 16])], 'sgd')
    trainable = (3 * 8 * 9 + 8) + (8 + 8) + (8 * 10 + 10)    # conv, BN's scale and shift, fc
    statistics = 8 + 8                                        # BN's running mean and variance
    image = 2 * 3 * 16 * 16 * FLOAT
    assert peak.at_rest == (trainable + statistics + trainable) * FLOAT + image + LEARNING_RATE
    assert peak.training_peak is not None
    assert peak.training_peak > peak.at_rest
    # The conv's output alone, 2 x 8 x 16 x 16 floats, is live during the forward pass.
    assert peak.inference_peak >= (trainable + statistics) * FLOAT + image + 2 * 8 * 16 * 16 * FLOAT
    assert peak.inference_peak < peak.training_peak


def test_given_values_are_copied_and_integer_inputs_are_zeros():
    ids = random_value(Input([2, 5], 'int64'))
    assert ids.dtype == paddle.int64 and ids.shape == [2, 5] and int(ids.abs().sum()) == 0
    floats = random_value(Input([3, 4], 'float16'))
    assert floats.dtype == paddle.float16 and float(floats.astype('float32').std()) > 0

    def embedding() -> nn.Layer:
        return nn.Sequential(nn.Embedding(100, 16, sparse=False), nn.Linear(16, 4))
    given = paddle.to_tensor([[1, 2, 3]], dtype='int64')
    peak = measured_peak(embedding, [Input([1, 3], 'int64', value=given)], 'sgd')
    params = 100 * 16 + 16 * 4 + 4
    # The copy of the given ids (3 int64) is counted, like a random input.
    assert peak.at_rest == 2 * params * FLOAT + 3 * 8 + LEARNING_RATE


def test_one_step_is_too_few():
    with pytest.raises(ValueError, match='steps is at least 2'):
        measured_peak(mlp, [Input([BATCH, IN])], 'sgd', steps=1)
