import paddle
import pytest

import resnet
from resnet.configs import SUPPORTED_LAYERS, layers_config
from helpers import count_params

# Totals of paddle.vision.models.resnet18 ... resnet152 (BatchNorm running statistics
# included), as the issue states them; test_totals_equal_paddle_vision checks them live.
PADDLE_TOTALS = {18: 11_699_112, 34: 21_814_696, 50: 25_610_152,
                 101: 44_654_504, 152: 60_344_232}
# torchvision's published parameter counts, which leave out BatchNorm's running
# mean and variance: they are our trainable counts.
TORCHVISION_PARAMS = {18: 11_689_512, 34: 21_797_672, 50: 25_557_032,
                      101: 44_549_160, 152: 60_192_808}


@pytest.mark.parametrize('layers', SUPPORTED_LAYERS)
def test_total_and_trainable_counts(layers):
    model = resnet.ResNet(layers)
    assert count_params(model) == PADDLE_TOTALS[layers]
    assert count_params(model, trainable_only=True) == TORCHVISION_PARAMS[layers]


@pytest.mark.parametrize('layers', [18, 50])
def test_totals_equal_paddle_vision(layers):
    official = getattr(paddle.vision.models, f'resnet{layers}')()
    assert count_params(resnet.ResNet(layers)) == count_params(official)


def test_resnet50_total_is_the_articles():
    # 25,610,152: the article's "Total params" for ResNet-50.
    assert count_params(resnet.resnet50()) == 25_610_152


@pytest.mark.parametrize('layers', SUPPORTED_LAYERS)
def test_all_residual_blocks_sit_in_one_sequential(layers):
    model = resnet.ResNet(layers, num_classes=10)
    config = layers_config[layers]
    assert isinstance(model.residual_block, paddle.nn.Sequential)
    assert len(model.residual_block) == sum(config['num_blocks'])
    assert {type(block).__name__ for block in model.residual_block} == {config['block_type']}


@pytest.mark.parametrize('layers', SUPPORTED_LAYERS)
def test_output_shapes_on_a_small_input(layers):
    model = resnet.ResNet(layers, num_classes=7)
    model.eval()
    with paddle.no_grad():
        assert model(paddle.rand([2, 3, 64, 64])).shape == [2, 7]
        features = model.forward_features(paddle.rand([1, 3, 64, 96]))
    channels = layers_config[layers]['out_channels']
    # C2..C5 are 1/4 .. 1/32 of the input, with the stage's output channels.
    assert {stage: f.shape for stage, f in features.items()} == {
        2: [1, channels[0], 16, 24], 3: [1, channels[1], 8, 12],
        4: [1, channels[2], 4, 6], 5: [1, channels[3], 2, 3]}


def test_non_square_input_and_default_head():
    model = resnet.resnet18()
    model.eval()
    with paddle.no_grad():
        assert model(paddle.rand([1, 3, 96, 64])).shape == [1, 1000]


def test_builders_pass_keyword_arguments_on():
    model = resnet.resnet34(num_classes=3)
    assert model.fc.weight.shape == [512, 3]


def test_unsupported_depth_lists_the_supported_ones():
    with pytest.raises(ValueError, match=r'\[18, 34, 50, 101, 152\]'):
        resnet.ResNet(42)
