"""Our network is paddle.vision's: same names (mapped), same shapes, same tensors, same logits."""
import hashlib

import numpy as np
import paddle
import pytest
from paddle.vision import models

import resnet
from resnet.configs import ARCHS, layers_config
from helpers import count_params
from resnet_tools import weights
from resnet_tools.weights import formats, names
from resnet_tools.weights.compare import vary_batch_norm

# Two quick architectures (one per block type, one with groups) always run; the
# other eleven build full-size networks of up to 127M parameters, so they are slow.
FAST = ('resnet18', 'resnext50_32x4d')
ALL = [arch if arch in FAST else pytest.param(arch, marks=pytest.mark.slow) for arch in ARCHS]


def official_skeleton(arch, **kwargs):
    with paddle.LazyGuard():
        return getattr(models, arch)(**kwargs)


def batch(size, seed=0):
    values = np.random.RandomState(seed).standard_normal((2, 3, size, size)).astype('float32')
    return paddle.to_tensor(values)


def logits(model, x):
    model.eval()
    with paddle.no_grad():
        return model(x).numpy()


@pytest.mark.parametrize('arch', ARCHS)
def test_mapping_gives_the_official_keys_in_order_with_the_same_shapes(arch):
    ours, official = weights.skeleton(arch), official_skeleton(arch)
    mapping = weights.key_map(ours)
    official_state = official.state_dict()
    assert list(mapping.values()) == list(official_state)
    ours_state = ours.state_dict()
    for key, official_key in mapping.items():
        assert ours_state[key].shape == official_state[official_key].shape, key


@pytest.mark.parametrize('arch', ARCHS)
def test_every_mapped_layer_is_an_official_layer_of_the_same_type(arch):
    ours = weights.skeleton(arch)
    official = dict(official_skeleton(arch).named_sublayers())
    for name, layer in ours.named_sublayers():
        official_name = weights.official_layer_name(name, ours.stage_ends)
        if official_name is None:
            # Only our containers and nn.Flatten have no official counterpart.
            assert isinstance(layer, (paddle.nn.Sequential, paddle.nn.Flatten)), name
        else:
            assert type(layer).__name__ == type(official[official_name]).__name__, name


@pytest.mark.parametrize('layers', layers_config)
def test_blocks_map_to_stage_and_index_from_layers_config(layers):
    model = weights.skeleton(f'resnet{layers}')
    num_blocks = layers_config[layers]['num_blocks']
    expected = [(stage, index) for stage, count in enumerate(num_blocks, start=1)
                for index in range(count)]
    assert [names.stage_and_index(i, model.stage_ends)
            for i in range(len(model.residual_block))] == expected


def test_the_mapping_of_a_bottleneck_block_by_name():
    # ResNet-50's conv3_x (layer2) starts at block 3: 3 blocks of conv2_x come first.
    stage_ends = weights.skeleton('resnet50').stage_ends
    names = {name: weights.official_layer_name(name, stage_ends) for name in (
        'conv', 'bn', 'max_pool', 'residual_block.3.conv_bn_block2.0',
        'residual_block.3.conv_bn_block3.1', 'residual_block.3.conv_bn_block1.2',
        'residual_block.3.relu_out', 'residual_block.3.down_sample_block.1',
        'residual_block.15.conv_bn_block1.0', 'avg_pool', 'flatten', 'fc')}
    assert names == {
        'conv': 'conv1', 'bn': 'bn1', 'max_pool': 'maxpool',
        'residual_block.3.conv_bn_block2.0': 'layer2.0.conv2',
        'residual_block.3.conv_bn_block3.1': 'layer2.0.bn3',
        'residual_block.3.conv_bn_block1.2': 'layer2.0.relu',
        'residual_block.3.relu_out': 'layer2.0.relu',
        'residual_block.3.down_sample_block.1': 'layer2.0.downsample.1',
        'residual_block.15.conv_bn_block1.0': 'layer4.2.conv1',
        'avg_pool': 'avgpool', 'flatten': None, 'fc': 'fc'}


@pytest.mark.parametrize('arch', ALL)
def test_same_network_as_paddle_vision(arch):
    paddle.seed(0)
    official = getattr(models, arch)()
    # Fresh BatchNorm layers are all alike; random ones catch a swapped bn1/bn2.
    vary_batch_norm(official, seed=1)
    ours = weights.skeleton(arch)   # no weights of its own until it loads the official ones
    original = {key: value.numpy() for key, value in official.state_dict().items()}
    weights.load_official(ours, official.state_dict())
    assert count_params(ours) == count_params(official)
    assert count_params(ours, trainable_only=True) == count_params(official, trainable_only=True)
    back, found = weights.convert(ours.state_dict(), weights.OFFICIAL)
    assert found == arch
    assert list(back) == list(original)
    for key, value in back.items():
        # Bitwise: the same bytes, not merely close values.
        assert value.numpy().tobytes() == original[key].tobytes(), key

    # Same operators on the same tensors in the same order: on CPU in eval mode the
    # logits are bitwise equal, so no tolerance is needed.
    x = batch(64)
    ours_logits, official_logits = logits(ours, x), logits(official, x)
    assert np.isfinite(official_logits).all() and np.abs(official_logits).max() > 0
    assert np.abs(ours_logits - official_logits).max() == 0


def test_resnet50_runs_official_weights_in_one_command(tmp_path):
    # The file paddle.vision downloads is paddle.save(model.state_dict()) of its resnet50;
    # without network access the test makes one the same way.
    paddle.seed(0)
    official = models.resnet50()
    vary_batch_norm(official, seed=2)
    path = tmp_path / 'resnet50.pdparams'
    paddle.save(official.state_dict(), str(path))
    # Named like the published file, but not it: loading warns about the md5.
    with pytest.warns(weights.WeightsWarning, match='md5'):
        ours = weights.pretrained('resnet50', str(path))
    x = batch(64, seed=3)
    assert np.abs(logits(ours, x) - logits(official, x)).max() == 0


def test_pretrained_true_asks_for_a_path_instead_of_downloading():
    # paddle.vision's pretrained=True downloads; here nothing is, and the error says so.
    with pytest.raises(weights.WeightsError, match='not True: nothing is downloaded here'):
        weights.pretrained('resnet18', True)


def test_the_network_takes_no_weights_and_says_where_they_go():
    # resnet.py imports nothing of resnet_tools: paddle.vision's pretrained= points a layer up.
    with pytest.raises(TypeError, match=r"resnet_tools.weights.pretrained\('resnet18', path\)"):
        resnet.resnet18(pretrained='resnet18.pdparams')


def test_load_weights_takes_either_layout(tmp_path):
    paddle.seed(0)
    official = models.resnet18(num_classes=10)
    vary_batch_norm(official)
    official_file, ours_file = tmp_path / 'official.pdparams', tmp_path / 'ours.pdparams'
    paddle.save(official.state_dict(), str(official_file))
    converted, _ = weights.convert(official.state_dict(), weights.OURS)
    paddle.save(converted, str(ours_file))
    x = batch(64)
    for path, layout in ((official_file, weights.OFFICIAL), (ours_file, weights.OURS)):
        model = resnet.resnet18(num_classes=10)
        assert weights.load_weights(model, str(path)) == layout
        assert np.abs(logits(model, x) - logits(official, x)).max() == 0


def test_load_official_refuses_our_layout():
    state = weights.skeleton('resnet18').state_dict()
    with pytest.raises(weights.WeightsError, match="not in paddle.vision's layout"):
        weights.load_official(resnet.resnet18(), state)


def test_loading_into_the_wrong_architecture_names_the_right_one():
    with pytest.raises(weights.WeightsError, match='holds resnet34 weights .* not resnet18'):
        weights.load_weights(resnet.resnet18(), official_skeleton('resnet34').state_dict())
    # Same keys as ResNet-50, other shapes: only the shapes tell them apart.
    with pytest.raises(weights.WeightsError,
                       match='holds resnext50_32x4d weights .* not resnet50'):
        weights.load_weights(weights.skeleton('resnet50'),
                             official_skeleton('resnext50_32x4d').state_dict())


def test_a_different_head_is_a_shape_mismatch_naming_both_shapes():
    state = official_skeleton('resnet18', num_classes=10).state_dict()
    with pytest.raises(weights.WeightsError,
                       match=r'shape mismatch for fc.weight: \[512, 10\] in the file, '
                             r'\[512, 1000\] in resnet18'):
        weights.load_weights(weights.skeleton('resnet18'), state)


def test_missing_and_unexpected_keys_are_listed():
    state = dict(official_skeleton('resnet18').state_dict())
    del state['layer1.0.bn1._mean']
    with pytest.raises(weights.WeightsError,
                       match=r'misses 1 key\(s\) of resnet18: layer1.0.bn1._mean'):
        weights.load_weights(weights.skeleton('resnet18'), state)
    state = dict(official_skeleton('resnet18').state_dict())
    state['layer1.0.extra.weight'] = state['fc.bias']
    with pytest.raises(weights.WeightsError, match='does not have: layer1.0.extra.weight'):
        weights.load_weights(weights.skeleton('resnet18'), state)


@pytest.mark.parametrize('arch', ARCHS)
def test_the_architecture_is_recognised_from_the_shapes(arch):
    shapes = weights.shapes_of(official_skeleton(arch).state_dict())
    assert weights.guess_arch(shapes, weights.OFFICIAL) == (arch, 1.0)


def test_md5_of_a_published_file_and_of_a_look_alike(tmp_path, monkeypatch):
    # The published files cannot be downloaded here; a file made in the test plays one,
    # by putting its md5 into paddle.vision's list for the duration of the test.
    made = tmp_path / 'any_name.pdparams'
    paddle.save({'conv1.weight': paddle.ones([2, 2])}, str(made))
    digest = hashlib.md5(made.read_bytes()).hexdigest()
    url, published = formats.model_urls['resnet34']
    monkeypatch.setitem(formats.model_urls, 'resnet34', (url, digest))
    status, message = weights.check_md5(made)
    assert status == 'published' and message.endswith('published resnet34.pdparams')

    look_alike = tmp_path / 'resnet18.pdparams'
    look_alike.write_bytes(made.read_bytes() + b'\0')
    status, message = weights.check_md5(look_alike)
    assert status == 'mismatch'
    assert formats.model_urls['resnet18'][1] in message
    assert hashlib.md5(look_alike.read_bytes()).hexdigest() in message

    other = tmp_path / 'mine.pdparams'
    other.write_bytes(look_alike.read_bytes())
    assert weights.check_md5(other) == (None, None)


def test_without_pool_the_fc_fits_only_a_1x1_map_as_in_paddle_vision():
    paddle.seed(0)
    official = models.resnet18(num_classes=10, with_pool=False)
    ours = resnet.resnet18(num_classes=10, with_pool=False)
    weights.load_official(ours, official.state_dict())
    # A 32x32 input ends in a 1x1 map (the network halves it five times): both work.
    x = batch(32)
    assert np.abs(logits(ours, x) - logits(official, x)).max() == 0
    # At 64x64 the map is 2x2; paddle.vision fails inside matmul, ours says why.
    with pytest.raises(ValueError):
        logits(official, batch(64))
    with pytest.raises(ValueError, match='with_pool=False hands the fc layer the whole 2x2'):
        logits(ours, batch(64))
