"""paddleinfo.zoo and paddleinfo.tables: the models of paddle.vision and a user's own
network by name (the command's MODEL, summary.py's --model), several side by side
(--models), and one row per sublayer (--depth), with MACs and trainable parameters checked
against the figures torchvision publishes for the same architectures."""
import csv
import io
import json

import paddle
import pytest
from paddle import nn
from paddle.vision import models
from summaries import command, count_params, paddle_summary

from paddleinfo import cli, tables, zoo
from paddleinfo.view import View
from paddleinfo.errors import UsageError
from paddleinfo.macs import MACS_CONVENTION, layer_macs, model_macs, uncounted
from paddleinfo.profile import profile
from paddleinfo.torchvision_published import DIFFERENCE, PUBLISHED


def text(capsys, *args):
    """What `paddleinfo args...` prints, which must succeed."""
    code, out, err = command(capsys, *args)
    assert code == 0, err
    return out


# Where paddle.vision's network is torchvision's, its conv + fc multiply-adds must be
# torchvision's published GFLOPS to the printed 3 decimals, and its trainable
# parameters torchvision's num_params.  The figures are the `_ops` and `num_params`
# of each model's weights metadata in pytorch/vision: torchvision/models/alexnet.py
# (AlexNet_Weights), vgg.py (VGG11_Weights, VGG16_BN_Weights), mobilenetv2.py
# (MobileNet_V2_Weights), mobilenetv3.py (MobileNet_V3_Small/Large_Weights),
# shufflenetv2.py (ShuffleNet_V2_X0_5/X1_0_Weights), densenet.py (DenseNet121_Weights),
# resnet.py (ResNeXt50_32X4D_Weights, Wide_ResNet50_2_Weights); copied with their
# sources into paddleinfo/torchvision_published.py.
SAME_AS_TORCHVISION = ['alexnet', 'vgg11', 'vgg16_bn', 'mobilenet_v2', 'mobilenet_v3_small',
                       'mobilenet_v3_large', 'shufflenet_v2_x0_5', 'shufflenet_v2_x1_0',
                       'densenet121', 'resnext50_32x4d', 'wide_resnet50_2']


@pytest.mark.parametrize('name', SAME_AS_TORCHVISION)
def test_macs_and_trainable_params_are_torchvisions(name):
    spec = zoo.model_spec(name)
    result = zoo.profile_model(spec)
    assert round(result.macs / 1e9, 3) == PUBLISHED[name]['gflops']
    assert result.trainable_params == PUBLISHED[name]['params']
    assert name not in DIFFERENCE


def test_inception_v3_macs_are_torchvisions_at_299():
    # torchvision/models/inception.py, Inception_V3_Weights: _ops 5.713 at 299x299; its
    # num_params counts the auxiliary head, which paddle.vision's network does not have.
    spec = zoo.model_spec('inception_v3')
    assert spec.input_shape == (None, 3, 299, 299)
    result = zoo.profile_model(spec)
    assert round(result.macs / 1e9, 3) == PUBLISHED['inception_v3']['gflops']
    assert result.trainable_params < PUBLISHED['inception_v3']['params']
    assert 'inception_v3' in DIFFERENCE


def test_counts_agree_with_a_forward_pass_of_the_model():
    # The static graph's count against the model run eagerly with hooks.
    result = zoo.profile_model(zoo.model_spec('mobilenet_v3_small', [96]))
    assert result.macs == model_macs(models.mobilenet_v3_small(), (1, 3, 96, 96))
    assert result.params == count_params(models.mobilenet_v3_small())


def test_depthwise_and_transposed_convs_by_hand():
    x = paddle.rand([1, 8, 10, 10])
    depthwise = nn.Conv2D(8, 8, 3, padding=1, groups=8)
    # 8 x 10 x 10 outputs, each a 3 x 3 window of its own channel.
    assert layer_macs(depthwise, depthwise(x), [x]) == 8 * 10 * 10 * 3 * 3
    transposed = nn.Conv2DTranspose(8, 4, 2, stride=2)
    # Every input value is multiplied into a 2 x 2 window of each of the 4 filters.
    assert layer_macs(transposed, transposed(x), [x]) == 8 * 10 * 10 * 4 * 2 * 2


def test_default_inputs_and_fixed_sizes():
    assert zoo.model_spec('LeNet').input_shape == (None, 1, 28, 28)
    assert zoo.model_spec('vgg16').input_shape == (None, 3, 224, 224)
    assert zoo.model_spec('mobilenet_v2', [3, 96, 128]).input_shape == (None, 3, 96, 128)
    with pytest.raises(UsageError, match='alexnet takes only its input of 3x224x224, not '
                                         '3x256x256: it has no adaptive pool'):
        zoo.model_spec('alexnet', [256])


def test_the_vgg_bn_forms_are_vgg_with_batch_norm():
    plain, bn = (zoo.profile_model(zoo.model_spec(name, [32])) for name in ('vgg11', 'vgg11_bn'))
    channels = [row.output_shape[1] for row in bn.rows if row.name.startswith('BatchNorm2D')]
    # One BatchNorm after each of VGG-11's eight convs: 64, 128, 256, 256, 512 x 4 channels,
    # with a trainable scale and shift and two running statistics per channel.
    assert channels == [64, 128, 256, 256, 512, 512, 512, 512]
    assert bn.params - plain.params == 4 * sum(channels)
    assert bn.trainable_params - plain.trainable_params == 2 * sum(channels) == \
        PUBLISHED['vgg11_bn']['params'] - PUBLISHED['vgg11']['params']


def test_googlenets_three_outputs(capsys):
    data = json.loads(text(capsys, 'googlenet', '--macs', '--format', 'json'))
    assert data['output_shape'] == [[1, 1000]] * 3
    assert data['totals']['trainable_params'] == count_params(models.googlenet(), True)


def test_plain_model_table_is_paddle_summarys(capsys):
    code, out, err = command(capsys, 'LeNet')
    assert code == 0 and err == ''
    assert out == paddle_summary(models.LeNet, (None, 1, 28, 28))[0]


def test_uncounted_layers_are_named():
    result = zoo.profile_model(zoo.model_spec('mobilenet_v3_small', [64]))
    assert uncounted(result.order) == ['Hardsigmoid', 'Hardswish']
    notes = tables.layer_table(result, 'mobilenet_v3_small')['notes']
    assert notes[-1] == 'Not counted in the MACs (see the convention): Hardsigmoid, Hardswish.'


# --- a user's own network -----------------------------------------------------------

def test_a_users_factory_from_a_file_and_from_a_package(capsys, network_file, monkeypatch):
    expected = 1 * 8 * 9 + 8 + 8 * 10 + 10
    data = json.loads(text(capsys, f'{network_file}:build', '--input-size', '1', '16', '16',
                           '--macs', '--format', 'json'))
    assert data['totals']['params'] == expected
    assert data['totals']['macs'] == 8 * 16 * 16 * 9 + 10 * 8
    assert data['input_shape'] == [1, 1, 16, 16] and data['output_shape'] == [1, 10]
    monkeypatch.syspath_prepend(str(network_file.parent))
    plain = text(capsys, 'my_net:build', '--input-size', '1', '16', '16')
    assert f'Total params: {expected:,}' in plain


@pytest.mark.parametrize('model, sizes, message', [
    ('{dir}/nothing.py:build', None, 'there is no file'),
    ('{dir}/my_net.py:missing', None, 'has no missing'),
    ('{dir}/my_net.py:SIZE', None, 'SIZE is not callable (its type is int)'),
    ('{dir}/my_net.py:not_a_layer', None, 'my_net.py:not_a_layer: it returned a list, not a '
                                          'paddle.nn.Layer'),
    ('{dir}/my_net.py:fixed', ['3', '16', '16'], 'does not take an input of [3, 16, 16]: '
                                                 'Linear-1 takes 144 input features, not 784'),
    ('no_such_package.module:build', None, 'no_such_package.module does not import: '
                                           'ModuleNotFoundError'),
    ('resnet5', None, 'did you mean resnet50'),
    ('inception_v3', ['64'], 'does not take an input of [3, 64, 64]: Conv2D-'),
    ('inception_v3', ['10'], '--model inception_v3 does not take an input of [3, 10, 10]: '
                             'Conv2D-5 would make a map below 1x1 of its 1x1 input'),
    # The static graph would take these; the dynamic graph's conv refuses them.
    ('resnet50', ['5', '64', '64'], '--model resnet50 does not take an input of [5, 64, 64]: '
                                    'Conv2D-1 takes 3 input channels, not 5'),
    ('{dir}/my_net.py:three_channels', ['5', '16', '16'],
     'does not take an input of [5, 16, 16]: Conv2D-1 takes 3 input channels, not 5'),
    ('{dir}/my_net.py:needs_arguments', None,
     'needs_arguments: the factory failed: TypeError: needs_arguments() missing 1 required'),
    ('json:dumps', None, "--model json:dumps: the factory failed: TypeError: dumps() missing"),
])
def test_bad_models_are_one_line_and_exit_code_2(capsys, network_file, model, sizes, message):
    # As summary.py --model NAME shows them: the engine's models_text, errors naming the
    # flag, run by cli.run, which makes a UsageError one line and exit code 2.
    inputs = {'input_size': sizes}
    with pytest.raises(SystemExit) as exit_:
        cli.run(lambda: cli.models_text([model.format(dir=network_file.parent)], inputs, View(),
                                        '--model'), 'summary.py')
    out, err = capsys.readouterr()
    assert exit_.value.code == 2 and out == ''
    assert len(err.splitlines()) == 1, err
    assert message in err and 'Traceback' not in err


@pytest.mark.parametrize('name', zoo.VISION_MODELS)
def test_depth_rows_add_up_to_the_totals(name):
    # inception_v3 keeps its blocks in a LayerList, which is never called itself.
    result = zoo.profile_model(zoo.model_spec(name))
    for depth in (1, 2):
        rows = tables.depth_table(result, name, depth)['rows']
        assert sum(row['params'] for row in rows) == result.params, depth
        assert sum(row['macs'] or 0 for row in rows) == result.macs, depth


class Blocks(nn.Layer):
    """A user's model with its blocks in a LayerList, called one by one."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2D(3, 4, 3, padding=1)
        self.blocks = nn.LayerList([nn.Sequential(nn.Conv2D(4, 4, 3, padding=1), nn.ReLU())
                                    for _ in range(2)])
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return self.fc(x.mean(axis=[2, 3]))


def test_a_layer_list_has_a_row_with_the_sums_of_its_blocks():
    result = profile(Blocks, (None, 3, 8, 8))
    block = 4 * 4 * 9 + 4
    conv_macs = 8 * 8 * 4 * 4 * 9
    one = tables.depth_table(result, 'blocks', 1)['rows']
    assert [(row['path'], row['params'], row['macs']) for row in one] == [
        ('stem', 4 * 3 * 9 + 4, 8 * 8 * 4 * 3 * 9), ('blocks', 2 * block, 2 * conv_macs),
        ('fc', 4 * 2 + 2, 2 * 4)]
    assert one[1]['input_shape'] is None and one[1]['calls'] == 0
    two = tables.depth_table(result, 'blocks', 2)
    assert [(row['path'], row['depth'], row['params']) for row in two['rows']] == [
        ('stem', 1, 4 * 3 * 9 + 4), ('blocks', 1, 0), ('blocks.0', 2, block),
        ('blocks.1', 2, block), ('fc', 1, 10)]
    text = tables.depth_view(two)[2]
    assert text[1] == ['LayerList: blocks', '--', '--', '--']   # output shape, params, MACs
    assert text[2][0] == '  Sequential: blocks.0'


def test_depth_of_a_paddle_vision_model_in_csv(capsys):
    table = text(capsys, 'resnet18', '--depth', '1', '--input-size', '64', '--format', 'csv')
    rows = list(csv.DictReader(io.StringIO(table)))
    # paddle.vision's ResNet: conv1, bn1, relu, maxpool, layer1..layer4, avgpool, fc.
    assert [row['path'] for row in rows[:-1]] == ['conv1', 'bn1', 'relu', 'maxpool', 'layer1',
                                                  'layer2', 'layer3', 'layer4', 'avgpool', 'fc']
    assert rows[-1]['layer'] == 'total'
    assert sum(int(row['params']) for row in rows[:-1]) == int(rows[-1]['params']) == \
        count_params(models.resnet18())
    plain = text(capsys, 'resnet18', '--depth', '3', '--input-size', '64')
    assert '    Conv2D: layer1.0.conv1' in plain
    # Under a paddle.vision table: torchvision's convention (under the ResNets of the
    # reproduction, the paper's: tests/test_zoo.py).
    assert ' '.join(MACS_CONVENTION.split()) in ' '.join(plain.split())


# --- --models -----------------------------------------------------------------------

def test_models_side_by_side():
    data = zoo.models_table([zoo.model_spec(name) for name in
                             ('alexnet', 'squeezenet1_0', 'LeNet', 'shufflenet_v2_x0_25')])
    rows = {row['model']: row for row in data['rows']}
    assert rows['alexnet']['torchvision_params'] == rows['alexnet']['trainable_params']
    assert rows['alexnet']['weighted_layers'] == 8          # 5 convs and 3 fc layers
    assert rows['LeNet']['input_shape'] == [1, 28, 28] and rows['LeNet']['output_shape'] == [1, 10]
    assert rows['LeNet']['torchvision_params'] is None
    assert rows['squeezenet1_0']['differs_from_torchvision'] == DIFFERENCE['squeezenet1_0']
    text = zoo.models_view(data)
    body = {line[0]: line for line in text[2]}
    columns = [header.replace('\n', ' ') for header in text[1]]   # a header may break
    # torchvision's num_params leaves out BatchNorm's running statistics: it stands next
    # to the Trainable column, which it equals (25,557,032 for resnet50), not to Params.
    assert columns[2:5] == ['Params', 'Trainable', 'tv params']
    assert columns[5:7] == ['MACs', 'tv GFLOPS']
    assert any(note.startswith("The tv columns are torchvision's") for note in data['notes'])
    assert body['squeezenet1_0 *'][6] == '0.819'
    assert [body['LeNet'][4], body['LeNet'][6]] == ['-', '-']
    assert any('torchvision/models/alexnet.py' in note and 'compared with the Trainable '
               'column, not with Params' in note for note in data['notes'])
    # The convention under a paddle.vision table is torchvision's, not a ResNet's.
    assert data['notes'][0] == MACS_CONVENTION and 'residual' not in MACS_CONVENTION
    assert any(note.startswith('* squeezenet1_0: ') for note in data['notes'])
    assert rows['shufflenet_v2_x0_25']['params'] == count_params(models.shufflenet_v2_x0_25())
