"""hubconf.py through paddle.hub itself, as a user outside the repository calls it."""
import importlib
import json
import subprocess
import sys
import textwrap

import numpy as np
import paddle
import pytest

import resnet
from resnet.configs import ARCHS, CIFAR_ARCHS, cifar_layers_config, layers_config
from helpers import REPO

# A fresh Python in another directory, so that nothing of the repository is on
# sys.path except what paddle.hub puts there.
USER_SCRIPT = textwrap.dedent("""
    import json, sys, warnings
    warnings.simplefilter('ignore')
    import paddle
    repo = sys.argv[1]
    names = paddle.hub.list(repo, source='local')
    doc = paddle.hub.help(repo, 'resnet50', source='local')
    model = paddle.hub.load(repo, 'resnet50', source='local', num_classes=10)
    model.eval()
    with paddle.no_grad():
        out = model(paddle.rand([2, 3, 64, 64]))
    # Weights load through a module of the repository that hubconf imports only then.
    official = paddle.vision.models.resnet18()
    official.eval()
    paddle.save(official.state_dict(), 'official.pdparams')
    loaded = paddle.hub.load(repo, 'resnet18', source='local', pretrained='official.pdparams')
    loaded.eval()
    images = paddle.rand([1, 3, 64, 64])
    with paddle.no_grad():
        same = bool((loaded(images) == official(images)).all())
    print(json.dumps({'names': names, 'doc': doc, 'type': type(model).__name__,
                      'shapes': {k: v.shape for k, v in model.state_dict().items()},
                      'out': out.shape, 'pretrained': same}))
""")


@pytest.fixture(scope='module')
def from_outside(tmp_path_factory):
    result = subprocess.run([sys.executable, '-c', USER_SCRIPT, str(REPO)], capture_output=True,
                            text=True, timeout=300, cwd=tmp_path_factory.mktemp('user'))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_list_gives_one_entry_point_per_architecture(from_outside):
    assert from_outside['names'] == sorted([*ARCHS, *CIFAR_ARCHS])


def test_help_describes_resnet50_from_the_configs(from_outside):
    doc = from_outside['doc']
    assert doc.startswith('ResNet-50 (He et al., 2015)')
    # Table 1 of the paper: conv2_x..conv5_x of ResNet-50 hold 3, 4, 6, 3 bottlenecks.
    assert 'blocks per stage (conv2_x..conv5_x) 3, 4, 6, 3' in doc
    assert 'num_classes' in doc and 'pretrained' in doc


def test_load_builds_our_resnet50_with_the_keyword_arguments(from_outside):
    assert from_outside['type'] == 'ResNet'
    assert from_outside['out'] == [2, 10]
    expected = {k: v.shape for k, v in resnet.resnet50(num_classes=10).state_dict().items()}
    assert from_outside['shapes'] == expected


@pytest.fixture(scope='module')
def hubconf():
    return importlib.import_module('hubconf')


@pytest.mark.parametrize('arch', sorted(ARCHS))
def test_every_entry_point_has_its_own_docstring(hubconf, arch):
    doc = paddle.hub.help(str(REPO), arch, source='local')
    assert doc == getattr(hubconf, arch).__doc__
    blocks = ', '.join(map(str, layers_config[ARCHS[arch]['layers']]['num_blocks']))
    assert f'blocks per stage (conv2_x..conv5_x) {blocks}' in ' '.join(doc.split())
    if 'groups' in ARCHS[arch]:
        assert f"groups={ARCHS[arch]['groups']}," in doc


def test_dependencies_are_importable(hubconf):
    # The third-party packages the model and the weights loader import.
    assert sorted(hubconf.dependencies) == ['numpy', 'paddle', 'safetensors']
    for name in hubconf.dependencies:
        importlib.import_module(name)


def test_entry_points_pass_keyword_arguments_on():
    model = paddle.hub.load(str(REPO), 'resnet18', source='local', num_classes=0, with_pool=False)
    model.eval()
    with paddle.no_grad():
        assert model(paddle.rand([1, 3, 64, 64])).shape == [1, 512, 2, 2]
    with pytest.raises(ValueError, match='variant must be one of'):
        paddle.hub.load(str(REPO), 'resnet50', source='local', variant='v2')


def test_pretrained_works_from_outside_the_repository(from_outside):
    assert from_outside['pretrained'] is True


@pytest.mark.parametrize('name, layout', [('official.pdparams', 'official'),
                                          ('ours.safetensors', 'ours')])
def test_pretrained_loads_paddle_visions_weights(tmp_path, name, layout):
    from resnet_tools import weights
    paddle.seed(3)
    official = paddle.vision.models.resnet18(num_classes=10)
    official.eval()
    state = official.state_dict()
    if layout == 'ours':
        state, _ = weights.convert(state, weights.OURS)
    weights.save_atomically(state, tmp_path / name)
    model = paddle.hub.load(str(REPO), 'resnet18', source='local', num_classes=10,
                            pretrained=str(tmp_path / name))
    model.eval()
    images = paddle.randn([2, 3, 64, 64])
    with paddle.no_grad():
        assert np.array_equal(model(images).numpy(), official(images).numpy())


@pytest.mark.parametrize('arch', sorted(CIFAR_ARCHS))
def test_every_cifar_entry_point_is_described_from_the_configs(hubconf, arch):
    doc = paddle.hub.help(str(REPO), arch, source='local')
    assert doc == getattr(hubconf, arch).__doc__
    layers = CIFAR_ARCHS[arch]['layers']
    blocks = cifar_layers_config[layers]['num_blocks']
    assert f'6n+2 = {layers} layers, n = {blocks[0]}:' in doc
    assert f"({', '.join(map(str, blocks))} per stage)" in ' '.join(doc.split())
    kind = 'Plain' if CIFAR_ARCHS[arch]['shortcut'] == 'none' else 'ResNet'
    assert doc.startswith(f'{kind}-{layers}')
    assert 'in_channels' in doc and 'num_classes' in doc


@pytest.mark.parametrize('arch', ['cifar_resnet20', 'cifar_plain20'])
def test_cifar_entry_points_build_the_cifar_networks(arch):
    model = paddle.hub.load(str(REPO), arch, source='local', in_channels=1, num_classes=7)
    expected = resnet.build(arch, in_channels=1, num_classes=7)
    assert type(model).__name__ == 'CifarResNet'
    assert ({k: v.shape for k, v in model.state_dict().items()}
            == {k: v.shape for k, v in expected.state_dict().items()})
    assert [block.residual for block in model.residual_block] == \
        [CIFAR_ARCHS[arch]['shortcut'] != 'none'] * 9
    model.eval()
    with paddle.no_grad():
        assert model(paddle.rand([2, 1, 8, 8])).shape == [2, 7]


@pytest.mark.parametrize('name', ['model.pdparams', 'model.safetensors'])
def test_cifar_entry_points_load_a_checkpoint_of_ours(tmp_path, name):
    from resnet_tools import weights
    paddle.seed(5)
    trained = resnet.build('cifar_resnet20', in_channels=1)
    trained.eval()
    weights.save_atomically(trained.state_dict(), tmp_path / name)
    model = paddle.hub.load(str(REPO), 'cifar_resnet20', source='local', in_channels=1,
                            pretrained=str(tmp_path / name))
    model.eval()
    images = paddle.randn([2, 1, 8, 8])
    with paddle.no_grad():
        assert np.array_equal(model(images).numpy(), trained(images).numpy())
