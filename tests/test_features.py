"""forward_features: the C2..C5 maps, for every network, without changing the network."""
import numpy as np
import paddle
import pytest

import resnet
from resnet.configs import ARCHS, SUPPORTED_LAYERS, layers_config
from helpers import count_params

# A 64x96 input: every stage halves it once more, from 1/4 (C2) to 1/32 (C5) of the
# input, as in Table 1 of the paper (56x56 .. 7x7 for a 224x224 image).
HEIGHT, WIDTH = 64, 96
STRIDES = {2: 4, 3: 8, 4: 16, 5: 32}


def expected_shape(layers, stage, batch=1):
    channels = layers_config[layers]['out_channels'][stage - 2]
    return [batch, channels, HEIGHT // STRIDES[stage], WIDTH // STRIDES[stage]]


def pool_input(model, images):
    """The tensor forward() hands to the average pool, and forward()'s output."""
    seen = []
    handle = model.avg_pool.register_forward_pre_hook(lambda layer, inputs: seen.append(inputs[0]))
    try:
        logits = model(images)
    finally:
        handle.remove()
    return seen[0], logits


@pytest.mark.parametrize('layers', SUPPORTED_LAYERS)
def test_stage_shapes_subsets_and_c5_for_every_depth(layers):
    paddle.seed(layers)
    model = resnet.ResNet(layers, num_classes=10)
    model.eval()
    images = paddle.randn([2, 3, HEIGHT, WIDTH])
    with paddle.no_grad():
        everything = model.forward_features(images)
        some = model.forward_features(images, stages=(3, 5))
        first = model.forward_features(images, stages=(2,))
        c5, _ = pool_input(model, images)
    assert {s: f.shape for s, f in everything.items()} == {
        s: expected_shape(layers, s, batch=2) for s in (2, 3, 4, 5)}
    assert sorted(some) == [3, 5] and list(first) == [2]
    for stage, feature in [*some.items(), *first.items()]:
        assert np.array_equal(feature.numpy(), everything[stage].numpy())
    # The same blocks on the same input: C5 is bit for bit what the pool receives.
    assert np.array_equal(everything[5].numpy(), c5.numpy())


@pytest.mark.parametrize('arch', ['resnext50_32x4d', 'wide_resnet50_2'])
def test_grouped_and_wide_networks_keep_the_stage_channels(arch):
    model = resnet.build(arch, num_classes=0, with_pool=False)
    model.eval()
    with paddle.no_grad():
        features = model.forward_features(paddle.randn([1, 3, HEIGHT, WIDTH]))
        out = model(paddle.randn([1, 3, HEIGHT, WIDTH]))
    layers = ARCHS[arch]['layers']
    assert {s: f.shape for s, f in features.items()} == {s: expected_shape(layers, s) for s in STRIDES}
    # Without pool and fc, forward() ends at C5 itself.
    assert out.shape == expected_shape(layers, 5)


def test_features_in_training_mode_carry_gradients_to_the_stem():
    model = resnet.resnet18(num_classes=10)
    features = model.forward_features(paddle.randn([2, 3, HEIGHT, WIDTH]), stages=(3,))
    features[3].mean().backward()
    assert model.conv.weight.grad is not None
    # conv4_x and conv5_x were not run, so their weights got no gradient.
    last = model.residual_block[model.stage_ends[-1]]
    assert last.conv_bn_block1[0].weight.grad is None


def test_forward_features_leaves_the_network_as_it_was():
    model = resnet.resnet50()
    before = {k: v.shape for k, v in model.state_dict().items()}
    with paddle.no_grad():
        model.eval()
        model.forward_features(paddle.randn([1, 3, HEIGHT, WIDTH]))
    assert {k: v.shape for k, v in model.state_dict().items()} == before
    # The article's ResNet-50 total; no layer was added for the features.
    assert count_params(model) == 25_610_152
    assert len(model.residual_block) == sum(layers_config[50]['num_blocks'])


@pytest.mark.parametrize('stages', [(1,), (6,), (), (2, 7)])
def test_stages_outside_conv2_to_conv5_are_refused(stages):
    model = resnet.resnet18()
    with pytest.raises(ValueError, match=r'stages must be some of \[2, 3, 4, 5\]'):
        model.forward_features(paddle.randn([1, 3, 32, 32]), stages=stages)
