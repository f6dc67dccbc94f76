"""scripts/convert.py, run as a user runs it: both directions, and every error path."""
import pickle

import numpy as np
import paddle
import pytest
from paddle.vision import models

import resnet
from helpers import run_script
from resnet_tools import weights
from resnet_tools.weights import formats


@pytest.fixture(scope='module')
def official_file(tmp_path_factory):
    """paddle.save of paddle.vision's resnet18 state dict, as Paddle publishes its weights."""
    paddle.seed(0)
    path = tmp_path_factory.mktemp('official') / 'r18.pdparams'
    paddle.save(models.resnet18().state_dict(), str(path))
    return path


def tensors(path):
    return {key: value.numpy() for key, value in paddle.load(str(path)).items()}


def unpickling(path):
    """What convert.py says on stderr before it unpickles a file made here."""
    return (f'convert.py: warning: unpickling {path}, which runs any code the file holds: '
            f'convert only a file from a source you trust')


def assert_one_line_error(result, *fragments, unpickled=None):
    """Exit code 2 and one error line; after the line `unpickling` says if `unpickled`
    names the file that was loaded before the error was found."""
    assert result.returncode == 2, result.stderr
    assert 'Traceback' not in result.stderr
    lines = result.stderr.splitlines()
    if unpickled is not None:
        assert lines[0] == unpickling(unpickled)
        lines = lines[1:]
    assert len(lines) == 1 and lines[0].startswith('convert.py: error: '), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    assert result.stdout == ''


def leftovers(directory):
    return sorted(path.name for path in directory.iterdir() if path.name.endswith('.tmp'))


def test_to_ours_and_back_gives_bitwise_identical_tensors(official_file, tmp_path):
    # Named like Paddle's published resnet18.pdparams, but made here: its md5 differs.
    look_alike = tmp_path / 'resnet18.pdparams'
    look_alike.write_bytes(official_file.read_bytes())
    ours_file, back_file = tmp_path / 'ours.pdparams', tmp_path / 'back.pdparams'
    result = run_script('convert.py', '--to-ours', look_alike, ours_file)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"read  {look_alike}: 102 tensors in paddle.vision's layout (pickle), "
        f"resnet18 (recognised from its shapes)",
        f"wrote {ours_file}: 102 tensors in this repository's layout (pickle)"]
    assert result.stderr.splitlines() == [
        f"convert.py: warning: resnet18.pdparams is named like Paddle's published weights, "
        f"but its md5 is {formats.file_md5(look_alike)}, not "
        f"{formats.model_urls['resnet18'][1]}: it is not that file, or it is damaged",
        unpickling(look_alike)]
    assert list(tensors(ours_file)) == list(resnet.resnet18().state_dict())

    # The file in our layout loads into our model, tensor for tensor.
    model = resnet.resnet18()
    assert weights.load_weights(model, str(ours_file)) == weights.OURS
    original = tensors(official_file)
    assert np.array_equal(model.residual_block[2].conv_bn_block2[0].weight.numpy(),
                          original['layer2.0.conv2.weight'])

    back_file.write_bytes(b'an older conversion')
    result = run_script('convert.py', '--to-official', ours_file, back_file,
                        '--arch', 'resnet18', '--force')
    assert result.returncode == 0, result.stderr
    assert 'resnet18 (as given by --arch)' in result.stdout
    assert result.stderr.splitlines() == [unpickling(ours_file)]
    back = tensors(back_file)
    assert list(back) == list(original)
    for key in original:
        assert back[key].dtype == original[key].dtype
        assert back[key].tobytes() == original[key].tobytes(), key
    assert leftovers(tmp_path) == []


def write_state(path, state):
    paddle.save(state, str(path))
    return path


def official_state():
    with paddle.LazyGuard():
        return dict(models.resnet18().state_dict())


@pytest.mark.parametrize('case', [
    'missing', 'directory', 'not pickle', 'a list', 'not tensors', 'not a resnet',
    'wrong arch', 'missing keys', 'unexpected keys', 'shape', 'same layout',
    'unknown arch', 'no directory', 'output exists'])
def test_errors_are_one_line_and_leave_no_file(case, official_file, tmp_path):
    # The tensors are only renamed, so shapes and keys are all the files below need.
    state = {key: paddle.zeros(value.shape) for key, value in official_state().items()}
    source, output, extra, fragments = official_file, tmp_path / 'out.pdparams', [], []
    if case == 'missing':
        source, fragments = tmp_path / 'nope.pdparams', ['nope.pdparams: no such file']
    elif case == 'directory':
        source, fragments = tmp_path, ['is a directory, not a weights file']
    elif case == 'not pickle':
        source = tmp_path / 'notes.pdparams'
        source.write_text('not weights\n')
        fragments = ['is not a Paddle state dict: paddle.load cannot read it']
    elif case == 'a list':
        source = tmp_path / 'list.pdparams'
        source.write_bytes(pickle.dumps([1, 2, 3]))
        fragments = ['is not a Paddle state dict: it holds a list']
    elif case == 'not tensors':
        source = tmp_path / 'numbers.pdparams'
        source.write_bytes(pickle.dumps({'conv1.weight': 1}))
        fragments = ['is not a Paddle state dict: it holds a dict of other things']
    elif case == 'not a resnet':
        source = write_state(tmp_path / 'mlp.pdparams', {'linear.weight': paddle.zeros([2, 2])})
        fragments = ['is a state dict, but not of a ResNet: its keys start with linear.weight']
    elif case == 'wrong arch':
        extra, fragments = ['--arch', 'resnet34'], ['holds resnet18 weights (judging by their '
                                                    'shapes), not resnet34']
    elif case == 'missing keys':
        for key in ('layer4.1.bn2._mean', 'layer4.1.bn2._variance', 'fc.bias', 'bn1.bias'):
            del state[key]
        source = write_state(tmp_path / 'fewer.pdparams', state)
        fragments = ['misses 4 key(s) of resnet18: '
                     'bn1.bias, fc.bias, layer4.1.bn2._mean and 1 more']
    elif case == 'unexpected keys':
        state['layer1.0.bn1.extra'] = paddle.zeros([1])
        source = write_state(tmp_path / 'more.pdparams', state)
        fragments = ['has 1 key(s) that resnet18 does not have: layer1.0.bn1.extra']
    elif case == 'shape':
        state['layer3.1.conv2.weight'] = paddle.zeros([256, 256, 1, 1])
        source = write_state(tmp_path / 'tampered.pdparams', state)
        fragments = ['shape mismatch for layer3.1.conv2.weight: [256, 256, 1, 1] in the file, '
                     '[256, 256, 3, 3] in resnet18']
    elif case == 'same layout':
        extra, fragments = ['--to-official'], ["is in paddle.vision's layout already"]
    elif case == 'unknown arch':
        extra, fragments = ['--arch', 'resnet42'], ['--arch resnet42 is not known; choose from '
                                                    'resnet18, resnet34']
    elif case == 'no directory':
        output = tmp_path / 'nowhere' / 'out.pdparams'
        fragments = ['nowhere is not a directory, so out.pdparams cannot be written there']
    elif case == 'output exists':
        output = tmp_path / 'existing.pdparams'
        output.write_bytes(b'keep me')
        fragments = [f'{output} exists already; give --force to replace it']
    direction = [] if case == 'same layout' else ['--to-ours']
    result = run_script('convert.py', *direction, source, output, *extra)
    # What is wrong with the arguments, the output or the file's place is found before
    # the file is unpickled; what is wrong inside it, after.
    found_before = case in ('missing', 'directory', 'unknown arch', 'no directory', 'output exists')
    assert_one_line_error(result, *fragments, unpickled=None if found_before else source)
    if case == 'output exists':
        assert output.read_bytes() == b'keep me'
    else:
        assert not output.exists()
    assert leftovers(tmp_path) == []


def test_missing_arguments_are_a_usage_error(official_file):
    assert_one_line_error(run_script('convert.py', official_file, 'out.pdparams'),
                          'one of the arguments --to-ours --to-official is required')


def test_help_explains_both_directions():
    result = run_script('convert.py', '--help')
    assert result.returncode == 0
    assert '--to-ours' in result.stdout and '--to-official' in result.stdout
    assert 'md5' in result.stdout and '--force' in result.stdout


def test_a_failed_save_leaves_neither_output_nor_temporary_file(tmp_path):
    output = tmp_path / 'out.pdparams'
    with pytest.raises(Exception):
        # A lambda cannot be pickled: paddle.save fails half-way.
        weights.save_atomically({'conv1.weight': lambda: None}, output)
    assert list(tmp_path.iterdir()) == []
