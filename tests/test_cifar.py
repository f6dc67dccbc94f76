"""The CIFAR-10 networks of the paper's Section 4.2 and the shortcut options of Section 3.3."""
import numpy as np
import paddle
import pytest

import resnet
from resnet.blocks import BasicBlock, BottleneckBlock, ZeroPadShortcut
from resnet.configs import CIFAR_ARCHS, CIFAR_LAYERS, cifar_layers_config
from helpers import count_params

# The paper's Table 6 (He et al., 2015, Section 4.2): "# params" of ResNet-20 .. ResNet-1202,
# printed as 0.27M, 0.46M, 0.66M, 0.85M, 1.7M and 19.4M, i.e. to 2 or 3 significant digits.
TABLE_6_PARAMS = {20: (0.27, 2), 32: (0.46, 2), 44: (0.66, 2), 56: (0.85, 2),
                  110: (1.7, 1), 1202: (19.4, 1)}


def expected_params(layers, in_channels=3, num_classes=10):
    """Every tensor of the network counted by hand from Section 4.2, for option A
    (which adds none): the 3x3 stem conv, 6n 3x3 convs, one BN (4 tensors of C values,
    running statistics included) after each conv, and the fc layer with its bias."""
    n = (layers - 2) // 6
    total = 9 * in_channels * 16 + 4 * 16
    previous = 16
    for channels in (16, 32, 64):
        for index in range(n):
            total += 9 * previous * channels + 9 * channels * channels + 2 * 4 * channels
            previous = channels
    return total + 64 * num_classes + num_classes


def trainable_params(model):
    return count_params(model, trainable_only=True)


@pytest.mark.parametrize('layers', CIFAR_LAYERS)
def test_config_is_six_n_plus_two(layers):
    config = cifar_layers_config[layers]
    n = config['num_blocks'][0]
    assert config['num_blocks'] == [n, n, n] and layers == 6 * n + 2
    assert config['out_channels'] == [16, 32, 64]


@pytest.mark.parametrize('layers', [20, 32, 44, 56, 110])
def test_param_counts_are_table_6s(layers):
    model = resnet.build(f'cifar_resnet{layers}')
    value, digits = TABLE_6_PARAMS[layers]
    # The paper counts the learned weights: our trainable parameters.
    assert round(trainable_params(model) / 1e6, digits) == value
    assert count_params(model) == expected_params(layers)


def test_resnet1202_is_19_4_million():
    model = resnet.build('cifar_resnet1202')
    assert round(trainable_params(model) / 1e6, 1) == TABLE_6_PARAMS[1202][0]
    assert count_params(model) == expected_params(1202) == 19_510_906


def test_exact_counts_as_computed():
    # Regression values for the record (all tensors, BN statistics included);
    # expected_params derives the same numbers from the paper's description.
    assert {layers: count_params(resnet.CifarResNet(layers)) for layers in (20, 56)} == {
        20: 271_098, 56: 857_082}
    assert trainable_params(resnet.CifarResNet(20)) == 269_722


@pytest.mark.parametrize('layers', [20, 56])
def test_plain_net_has_the_parameters_of_its_option_a_twin(layers):
    plain, residual = resnet.build(f'cifar_plain{layers}'), resnet.build(f'cifar_resnet{layers}')
    assert count_params(plain) == count_params(residual) == expected_params(layers)
    assert not any(block.residual for block in plain.residual_block)
    assert all(block.residual for block in residual.residual_block)


def test_options_b_and_c_add_projections():
    a, b, c = (count_params(resnet.CifarResNet(20, shortcut=s)) for s in 'ABC')
    # B projects only in the two blocks that change shape: 1x1 conv + BN each.
    assert b - a == (16 * 32 + 4 * 32) + (32 * 64 + 4 * 64)
    # C projects in all nine blocks.
    assert c - a == 3 * (16 * 16 + 4 * 16) + (16 * 32 + 4 * 32) + 2 * (32 * 32 + 4 * 32) \
        + (32 * 64 + 4 * 64) + 2 * (64 * 64 + 4 * 64)


def test_names_cover_every_depth_twice():
    assert sorted(CIFAR_ARCHS) == sorted(
        [f'cifar_resnet{d}' for d in CIFAR_LAYERS] + [f'cifar_plain{d}' for d in CIFAR_LAYERS])
    assert CIFAR_ARCHS['cifar_resnet56'] == {'layers': 56, 'shortcut': 'A'}


def test_option_a_subsamples_and_pads_zeros():
    x = paddle.to_tensor(np.arange(2 * 3 * 5 * 5, dtype='float32').reshape(2, 3, 5, 5))
    y = ZeroPadShortcut(3, 7, 2)(x).numpy()
    assert y.shape == (2, 7, 3, 3)
    np.testing.assert_array_equal(y[:, :3], x.numpy()[:, :, ::2, ::2])
    np.testing.assert_array_equal(y[:, 3:], np.zeros((2, 4, 3, 3), dtype='float32'))
    assert count_params(ZeroPadShortcut(3, 7, 2)) == 0


def test_option_a_shortcut_meets_the_strided_conv():
    # Odd sizes: the strided 3x3 conv and the subsampling must agree on ceil(size / 2).
    block = BasicBlock(16, 32, 2, shortcut='A')
    block.eval()
    assert isinstance(block.down_sample_block, ZeroPadShortcut)
    assert block(paddle.randn([1, 16, 7, 9])).shape == [1, 32, 4, 5]


def test_block_forward_with_and_without_shortcut():
    paddle.seed(3)
    x = paddle.randn([2, 16, 6, 6])
    residual, plain = BasicBlock(16, 16, 1, shortcut='A'), BasicBlock(16, 16, 1, shortcut='none')
    plain.set_state_dict(residual.state_dict())
    for block in (residual, plain):
        block.eval()
    path = residual.residual_path(x)
    np.testing.assert_allclose(residual(x).numpy(), paddle.nn.functional.relu(path + x).numpy())
    np.testing.assert_allclose(plain(x).numpy(), paddle.nn.functional.relu(path).numpy())


def test_imagenet_networks_keep_option_b():
    model = resnet.ResNet(18)
    assert [block.down_sample_block is not None for block in model.residual_block] == [
        False, False, True, False, True, False, True, False]
    plain = resnet.ResNet(34, shortcut='none')
    assert all(block.down_sample_block is None and not block.residual
               for block in plain.residual_block)
    assert isinstance(BottleneckBlock(64, 64, 1, shortcut='C').down_sample_block,
                      paddle.nn.Sequential)


@pytest.mark.parametrize('in_channels, size, maps', [(3, 32, [32, 16, 8]), (1, 8, [8, 4, 2])])
def test_forward_shapes(in_channels, size, maps):
    model = resnet.CifarResNet(20, in_channels=in_channels)
    model.eval()
    x = paddle.randn([2, in_channels, size, size])
    assert model(x).shape == [2, 10]
    x = model.stem(x)
    seen = []
    for index, block in enumerate(model.residual_block):
        x = block(x)
        if index in model.stage_ends:
            seen.append(x.shape[2])
    assert seen == maps


def test_bad_shortcut_and_depth_are_value_errors():
    with pytest.raises(ValueError, match="shortcut must be one of"):
        resnet.CifarResNet(20, shortcut='D')
    with pytest.raises(ValueError, match='no 21-layer version'):
        resnet.CifarResNet(21)
    with pytest.raises(ValueError, match="unknown architecture 'cifar_resnet21'"):
        resnet.build('cifar_resnet21')
