"""Weights as .safetensors: the same bytes both ways, the same logits, and never a pickle."""
import numpy as np
import paddle
import pytest
import safetensors.numpy
from paddle.vision import models

import resnet
from helpers import run_script
from resnet_tools import weights
from resnet_tools.weights import compare, formats
from resnet_tools.weights.compare import vary_batch_norm

NUM_CLASSES = 10   # a small head keeps the ResNet-18 files small


@pytest.fixture(scope='module')
def official():
    """paddle.vision's resnet18, BatchNorm statistics varied so that no two layers agree."""
    paddle.seed(0)
    model = models.resnet18(num_classes=NUM_CLASSES)
    vary_batch_norm(model, seed=4)
    model.eval()
    return model


@pytest.fixture(scope='module')
def files(official, tmp_path_factory):
    """The official weights as .pdparams, and as .safetensors in both layouts."""
    directory = tmp_path_factory.mktemp('weights')
    paths = {name: directory / name for name in
             ('official.pdparams', 'official.safetensors', 'ours.safetensors')}
    state = official.state_dict()
    paddle.save(state, str(paths['official.pdparams']))
    weights.save_atomically(state, paths['official.safetensors'])
    ours, _ = weights.convert(state, weights.OURS)
    weights.save_atomically(ours, paths['ours.safetensors'])
    return paths


def arrays(state):
    return {key: formats.as_array(value) for key, value in state.items()}


def assert_bitwise_equal(got, expected):
    """Same keys, and every tensor of the same dtype, shape and bytes."""
    assert sorted(got) == sorted(expected)
    for key, value in expected.items():
        assert got[key].dtype == value.dtype and got[key].shape == value.shape, key
        assert got[key].tobytes() == value.tobytes(), key


def logits(model, seed=0):
    images = np.random.RandomState(seed).standard_normal((2, 3, 64, 64)).astype('float32')
    model.eval()
    with paddle.no_grad():
        return model(paddle.to_tensor(images)).numpy()


def test_the_guard_catches_paddle_load(files, no_unpickling):
    # Without this the test below could pass with a guard that guards nothing.
    with pytest.raises(Exception):
        paddle.load(str(files['official.pdparams']))
    assert no_unpickling


def test_the_files_hold_the_exact_tensors_in_both_layouts(official, files):
    original = arrays(official.state_dict())
    # BatchNorm's running statistics are float32 like the weights; nothing is widened.
    assert {str(value.dtype) for value in original.values()} == {'float32'}
    assert_bitwise_equal(safetensors.numpy.load_file(files['official.safetensors']), original)
    renamed = {ours: original[theirs]
               for ours, theirs in weights.key_map(weights.skeleton('resnet18', NUM_CLASSES)).items()}
    assert_bitwise_equal(safetensors.numpy.load_file(files['ours.safetensors']), renamed)


@pytest.mark.parametrize('name', ['official.safetensors', 'ours.safetensors'])
def test_loading_unpickles_nothing_and_gives_identical_logits(official, files, name,
                                                              no_unpickling):
    expected = arrays(official.state_dict())
    model = weights.pretrained('resnet18', str(files[name]), num_classes=NUM_CLASSES)
    assert np.abs(logits(model) - logits(official)).max() == 0
    loaded = arrays(model.state_dict())
    assert_bitwise_equal({theirs: loaded[ours] for ours, theirs in weights.key_map(model).items()},
                         expected)
    other = resnet.build('resnet18', num_classes=NUM_CLASSES)
    layout = weights.OFFICIAL if name.startswith('official') else weights.OURS
    assert weights.load_weights(other, files[name]) == layout
    state, arch, md5 = compare.weights_file(files[name])
    assert arch == 'resnet18' and md5 == (None, None) and list(state) == list(expected)
    assert no_unpickling == []


def test_convert_py_round_trip_is_bitwise_and_keeps_the_order(official, files, tmp_path):
    original = arrays(official.state_dict())
    same_names = tmp_path / 'resnet18.safetensors'
    ours, back = tmp_path / 'ours.safetensors', tmp_path / 'back.pdparams'
    # paddle.vision's names kept: only the format changes, pickle to safetensors.
    result = run_script('convert.py', '--to-official', files['official.pdparams'], same_names)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == (f"wrote {same_names}: 102 tensors in "
                                             f"paddle.vision's layout (safetensors)")
    assert_bitwise_equal(safetensors.numpy.load_file(same_names), original)

    ours.write_bytes(b'an older conversion')
    result = run_script('convert.py', '--to-ours', same_names, ours, '--force')
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        f"read  {same_names}: 102 tensors in paddle.vision's layout (safetensors), "
        f"resnet18 (recognised from its shapes)")
    assert ours.read_bytes() == files['ours.safetensors'].read_bytes()

    result = run_script('convert.py', '--to-official', ours, back)
    assert result.returncode == 0, result.stderr
    restored = {key: value.numpy() for key, value in paddle.load(str(back)).items()}
    # safetensors sorts its keys; the .pdparams file has the state dict's order again.
    assert list(restored) == list(original)
    assert_bitwise_equal(restored, original)
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        'back.pdparams', 'ours.safetensors', 'resnet18.safetensors']


def test_the_same_layout_and_format_is_still_refused(files):
    with pytest.raises(weights.WeightsError, match="in this repository's layout already"):
        weights.convert(weights.read_state_dict(files['ours.safetensors']), weights.OURS)


def write_cifar(path, layers=20, in_channels=1, seed=5):
    paddle.seed(seed)
    model = resnet.build(f'cifar_resnet{layers}', in_channels=in_channels)
    vary_batch_norm(model, seed)
    weights.save_atomically(model.state_dict(), path)
    return model


def test_a_cifar_network_loads_its_own_checkpoint(tmp_path, no_unpickling):
    path = tmp_path / 'digits.safetensors'
    saved = write_cifar(path)
    model = weights.pretrained('cifar_resnet20', str(path), in_channels=1)
    images = paddle.to_tensor(np.random.RandomState(0).standard_normal((2, 1, 8, 8))
                              .astype('float32'))
    saved.eval()
    model.eval()
    with paddle.no_grad():
        assert np.abs((model(images) - saved(images)).numpy()).max() == 0
    assert_bitwise_equal(arrays(model.state_dict()), arrays(saved.state_dict()))
    # The shapes of shortcut 'A' and of the plain twin are the same: both load it.
    weights.load_weights(resnet.build('cifar_plain20', in_channels=1), path)
    assert no_unpickling == []
    with pytest.raises(weights.WeightsError,
                       match=r"holds cifar_resnet20 weights .* not cifar_resnet32: use --arch "
                             r"cifar_resnet20, or resnet.build\('cifar_resnet20'\)"):
        weights.pretrained('cifar_resnet32', str(path), in_channels=1)


def test_a_cifar_network_has_no_official_layout(tmp_path):
    path = tmp_path / 'cifar.pdparams'
    model = write_cifar(path, in_channels=3)
    state = weights.read_state_dict(path)
    # From pickle to safetensors, in our layout: depth, classes and input channels found.
    converted, arch = weights.convert(state, weights.OURS, same_layout=True)
    assert arch == 'cifar_resnet20' and list(converted) == list(model.state_dict())
    with pytest.raises(weights.WeightsError,
                       match="cifar_resnet20 has no paddle.vision counterpart, so its weights "
                             "come in this repository's layout only"):
        weights.convert(state, weights.OFFICIAL)
    with pytest.raises(weights.WeightsError, match='no paddle.vision counterpart'):
        weights.load_official(resnet.build('cifar_resnet20'), path)
    official_state = models.resnet18().state_dict()
    with pytest.raises(weights.WeightsError,
                       match=r"not in this repository's layout \(cifar_resnet20 has no"):
        weights.load_weights(resnet.build('cifar_resnet20'), official_state)


def test_force_and_the_atomic_write(files, tmp_path):
    state = weights.read_state_dict(files['ours.safetensors'])
    output = tmp_path / 'kept.safetensors'
    output.write_bytes(b'keep me')
    with pytest.raises(weights.WeightsError, match='exists already; give --force'):
        weights.save_atomically(state, output)
    assert output.read_bytes() == b'keep me'
    weights.save_atomically(state, output, force=True)
    assert output.read_bytes() == files['ours.safetensors'].read_bytes()
    # An object array cannot be written as safetensors: the library fails half-way.
    failed = tmp_path / 'failed.safetensors'
    with pytest.raises(Exception):
        weights.save_atomically({'conv.weight': np.array([None])}, failed)
    assert sorted(path.name for path in tmp_path.iterdir()) == ['kept.safetensors']


def damaged(case, files, directory):
    """A .safetensors file that is not what a ResNet needs, and what the error must say."""
    path = directory / f'{case.replace(" ", "_")}.safetensors'
    good = files['official.safetensors'].read_bytes()
    if case == 'truncated':
        path.write_bytes(good[:len(good) // 2])
        return path, 'is not a complete safetensors file, or it is damaged: Error while ' \
                     'deserializing: incomplete metadata, file not fully covered'
    if case == 'truncated header':
        path.write_bytes(good[:100])
        return path, 'is not a complete safetensors file, or it is damaged'
    if case == 'corrupt':
        path.write_bytes(b'\x80\x04' + good[2:])   # a pickle's first bytes, then the rest
        return path, 'is not a complete safetensors file, or it is damaged'
    if case == 'empty':
        path.write_bytes(b'')
        return path, 'is not a complete safetensors file, or it is damaged'
    if case == 'no tensors':
        safetensors.numpy.save_file({}, path)
        return path, 'is a safetensors file without tensors'
    if case == 'another network':
        safetensors.numpy.save_file({'linear.weight': np.zeros((2, 2), 'float32')}, path)
        return path, 'is a state dict, but not of a ResNet: its keys start with linear.weight'
    if case == 'float16':
        state = safetensors.numpy.load(good)
        safetensors.numpy.save_file({key: value.astype('float16') for key, value in state.items()},
                                    path)
        return path, 'holds'   # ... '<key> as float16': test_a_float16_file_names_the_dtype
    raise ValueError(case)


def assert_one_line_error(result, prog, fragment):
    assert result.returncode == 2, result.stderr
    assert 'Traceback' not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f'{prog}: error: '), result.stderr
    assert fragment in lines[0]


@pytest.mark.parametrize('case', ['truncated', 'truncated header', 'corrupt', 'empty',
                                  'no tensors', 'another network', 'float16'])
def test_damaged_files_are_a_weights_error(case, files, tmp_path, no_unpickling):
    path, message = damaged(case, files, tmp_path)
    with pytest.raises(weights.WeightsError) as error:
        weights.load_weights(resnet.resnet18(num_classes=NUM_CLASSES), path)
    assert f'{path} {message}' in str(error.value) and '\n' not in str(error.value)
    assert no_unpickling == []


@pytest.mark.parametrize('script, case, args', [
    ('convert.py', 'truncated', ['--to-ours', '{path}', '{output}']),
    ('convert.py', 'another network', ['--to-ours', '{path}', '{output}']),
    ('compare.py', 'corrupt', ['--weights', '{path}']),
    ('compare.py', 'float16', ['--weights', '{path}']),
    ('export.py', 'truncated header', ['--layers', '18', '--input-size', '64',
                                       '--weights', '{path}', '--output', '{output}']),
])
def test_scripts_give_one_line_and_exit_2(script, case, args, files, tmp_path):
    path, message = damaged(case, files, tmp_path)
    output = tmp_path / 'out.safetensors'
    result = run_script(script, *[arg.format(path=path, output=output) for arg in args])
    assert_one_line_error(result, script, f'{path} {message}')
    assert not output.exists()


def test_weights_of_another_resnet_are_named(files, tmp_path):
    output = tmp_path / 'out'
    result = run_script('export.py', '--layers', '34', '--input-size', '64',
                        '--weights', files['ours.safetensors'], '--output', output)
    assert_one_line_error(result, 'export.py', f'{files["ours.safetensors"]} holds resnet18 '
                                               f'weights (judging by their shapes), not resnet34')
    assert not output.exists()


def test_a_float16_file_names_the_dtype(files, tmp_path, no_unpickling):
    path, _ = damaged('float16', files, tmp_path)
    with pytest.raises(weights.WeightsError, match=r'holds \S+ as float16; the networks here '
                                                    r'are float32 throughout'):
        weights.pretrained('resnet18', str(path), num_classes=NUM_CLASSES)
