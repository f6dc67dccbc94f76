"""paddleinfo.profile and paddleinfo.render.summary_text: the rows of any model from
shape inference in Paddle's static graph, printed as paddle.summary prints them -- checked
byte for byte against paddle.summary itself, which runs the model, for paddle.vision's
networks and small ones defined here; the rows and their calls, shape errors, failing
factories, models that read values, and the dynamic graph restored after each.
(The reproduction's networks get the same check in tests/test_profile.py.)"""
import paddle
import pytest
from paddle import nn
from paddle.vision import models
from summaries import paddle_summary

from paddleinfo.errors import FactoryError, NotALayerError, ShapeError
from paddleinfo.profile import profile
from paddleinfo.render import summary_text


class CallsOneLayerTwice(nn.Layer):
    """paddle.vision's ResNet calls one ReLU several times; paddle.summary keeps one row."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2D(3, 4, 3, padding=1)
        self.relu = nn.ReLU()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        x = self.relu(self.conv(x))
        x = self.relu(paddle.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))
        return self.fc(x)


class ReadsValues(nn.Layer):
    """A forward pass that looks at a tensor's value cannot run in the static graph."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2D(1, 2, 3)

    def forward(self, x):
        scale = 2.0 if float(x.sum()) >= 0 else 1.0
        return self.conv(x * scale)


class TwoOutputs(nn.Layer):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2D(3, 4, 3, stride=2)
        self.fc = nn.Linear(4 * 7 * 7, 5)

    def forward(self, x):
        x = self.conv(x)
        return x, self.fc(paddle.flatten(x, 1))


CASES = [
    ('LeNet', models.LeNet, (None, 1, 28, 28)),
    ('mobilenet_v3_small', models.mobilenet_v3_small, (None, 3, 64, 64)),
    ('shufflenet_v2_x0_25', models.shufflenet_v2_x0_25, (None, 3, 64, 64)),
    ('paddle.vision resnet18 (one ReLU, many calls)', models.resnet18, (None, 3, 64, 64)),
    ('googlenet (three outputs)', models.googlenet, (None, 3, 224, 224)),
    ('a layer called twice', CallsOneLayerTwice, (None, 3, 8, 8)),
    ('two outputs of different ranks', TwoOutputs, (None, 3, 16, 16)),
    ('reads tensor values', ReadsValues, (None, 1, 5, 5)),
]


@pytest.mark.parametrize('name, build_model, input_shape', CASES, ids=[c[0] for c in CASES])
def test_the_table_is_paddle_summarys_byte_for_byte(name, build_model, input_shape):
    ours = summary_text(profile(build_model, input_shape))
    assert ours == paddle_summary(build_model, input_shape)
    assert paddle.in_dynamic_mode()


def test_rows_keep_one_name_per_layer_and_sum_its_macs():
    result = profile(CallsOneLayerTwice, (None, 3, 8, 8))
    rows = {row.name: row for row in result.rows}
    assert list(rows) == ['Conv2D-1', 'ReLU-1', 'Linear-1']
    # The second call's shapes, as paddle.summary shows them.
    assert rows['ReLU-1'].calls == 2 and rows['ReLU-1'].output_shape == [1, 4]
    assert rows['Conv2D-1'].macs == 4 * 8 * 8 * 3 * 3 * 3 and rows['Linear-1'].macs == 2 * 4


def test_parameter_values_play_no_part():
    # The static graph never initialises the parameters: the counts are the model's own.
    result = profile(models.resnet50, (None, 3, 224, 224))
    model = models.resnet50()
    assert result.params == sum(int(p.numel()) for p in model.parameters())
    assert result.trainable_params == sum(int(p.numel()) for p in model.parameters()
                                          if not p.stop_gradient)
    assert result.output_shape == [1, 1000]


def test_the_dynamic_graph_is_back_after_an_error():
    with pytest.raises(NotALayerError, match='not a paddle.nn.Layer'):
        profile(lambda: 'a string', (None, 3, 8, 8))
    assert paddle.in_dynamic_mode()
    with pytest.raises(ShapeError, match=r'of its 4x4 input: \(4 \+ 2\*0 - 5\) // 1 \+ 1 = 0'):
        profile(lambda: nn.Sequential(nn.Conv2D(3, 4, 5), nn.ReLU()), (None, 3, 4, 4))
    assert paddle.in_dynamic_mode()
    # and the process goes on computing eagerly
    assert float(paddle.ones([2]).sum()) == 2.0


# --- inputs the model rejects, factories that fail, errors inside the trace ----------

def conv_net(in_channels=3, data_format='NCHW'):
    return lambda: nn.Sequential(nn.Conv2D(in_channels, 8, 3, data_format=data_format),
                                 nn.ReLU())


@pytest.mark.parametrize('build_model, shape, message', [
    # The static graph's conv infers its output without looking at the input's channels.
    (conv_net(), (None, 5, 16, 16), 'Conv2D-1 takes 3 input channels, not 5'),
    (conv_net(data_format='NHWC'), (None, 16, 16, 5), 'Conv2D-1 takes 3 input channels, not 5'),
    (lambda: nn.Conv1D(4, 2, 3), (None, 3, 16), 'Conv1D-1 takes 4 input channels, not 3'),
    (lambda: nn.Conv2DTranspose(4, 2, 3), (None, 6, 8, 8),
     'Conv2DTranspose-1 takes 4 input channels, not 6'),
    (lambda: nn.Sequential(nn.Flatten(), nn.Linear(12, 2)), (None, 3, 2, 3),
     'Linear-1 takes 12 input features, not 18'),
    (lambda: nn.BatchNorm2D(4), (None, 3, 8, 8), 'BatchNorm2D-1 takes 4 channels, not 3'),
    (lambda: models.resnet50(), (None, 5, 64, 64), 'Conv2D-1 takes 3 input channels, not 5'),
])
def test_an_input_the_model_rejects_is_a_shape_error(build_model, shape, message):
    with pytest.raises(ShapeError, match=message):
        profile(build_model, shape)
    assert paddle.in_dynamic_mode()


def test_a_map_below_1x1_is_named_with_real_sizes():
    # The static graph writes -1 for a side that would be below 1; the message must not.
    with pytest.raises(ShapeError) as raised:
        profile(models.inception_v3, (None, 3, 10, 10))
    # (35 - 3) // 2 + 1 = 16 after the first conv, 14, 14, 6 after the max pool, 6, 4,
    # 1 after the second max pool, and no room for a 3x3 kernel.
    assert str(raised.value) == ('Conv2D-5 would make a map below 1x1 of its 1x1 input: '
                                 '(1 + 2*0 - 3) // 1 + 1 = -1')


class Counted(nn.Layer):
    """Counts its builds and forward passes, and raises `error` in its forward pass."""
    builds = forwards = 0

    def __init__(self, error):
        super().__init__()
        Counted.builds += 1
        self.conv, self.error = nn.Conv2D(3, 4, 3), error

    def forward(self, x):
        Counted.forwards += 1
        raise self.error


@pytest.fixture
def originals():
    import traceback

    import paddle.nn.layer.layers as paddle_layers
    saved = traceback.extract_stack, paddle_layers.name_struct
    Counted.builds = Counted.forwards = 0
    yield lambda: (traceback.extract_stack, paddle_layers.name_struct) == saved


@pytest.mark.parametrize('error', [ValueError('forward exploded'), KeyboardInterrupt()])
def test_an_error_in_the_forward_pass_restores_everything(originals, error):
    with pytest.raises(type(error)):
        profile(lambda: Counted(error), (None, 3, 8, 8))
    # Back in the dynamic graph, with the bookkeeping static_graph() switches off back on.
    assert paddle.in_dynamic_mode() and originals()
    # An error the dynamic graph would raise as well: the model ran once, not twice.
    assert (Counted.builds, Counted.forwards) == (1, 1)


@pytest.mark.parametrize('error', [RuntimeError, TypeError, AssertionError])
def test_a_failing_factory_runs_once(originals, error):
    # Its own error, whatever its type: only the static graph's refusals (which name it)
    # build the model a second time, in the dynamic graph.
    calls = []

    def factory():
        calls.append(1)
        raise error('no weights here\nsecond line')

    with pytest.raises(FactoryError, match=rf'^{error.__name__}: no weights here$'):
        profile(factory, (None, 3, 8, 8))
    assert calls == [1] and paddle.in_dynamic_mode() and originals()


class ReadsItsOutput(nn.Layer):
    """A forward pass that reads a tensor's value: the static graph cannot trace it."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2D(3, 4, 3)

    def forward(self, x):
        y = self.conv(x)
        return y if float(y.mean()) > -1e9 else y * 2


def test_a_model_that_reads_values_runs_in_the_dynamic_graph():
    result = profile(ReadsItsOutput, (None, 3, 8, 8))
    assert [row.name for row in result.rows] == ['Conv2D-1']
    assert result.rows[0].output_shape == [1, 4, 6, 6] and result.params == 4 * 3 * 9 + 4
