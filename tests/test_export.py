"""scripts/export.py: paddle.jit.save, reloaded by paddle.inference, and its errors.

A ResNet-18 with a 10-class head on 64x64 images keeps these runs to seconds.
"""
import os

import numpy as np
import paddle
import pytest

import resnet
from helpers import load_script, run_script
from resnet_tools import weights
from resnet_tools.deploy import export, inference
from resnet_tools.errors import UsageError

SMALL = ['--layers', '18', '--input-size', '64', '--num-classes', '10']


def relative_difference(got, expected):
    return np.abs(got - expected).max() / np.abs(expected).max()


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    """One export, shared: (its directory, the first run, the --force rerun)."""
    root = tmp_path_factory.mktemp('export')
    first = run_script('export.py', *SMALL, '--output', root / 'r18')
    again = run_script('export.py', *SMALL, '--output', root / 'r18', '--force')
    return root, first, again


def test_export_writes_the_two_files_and_reports_the_check(exported):
    root, first, _ = exported
    assert first.returncode == 0, first.stderr
    assert first.stderr == ''     # no Paddle Inference pass logs, no warnings
    lines = first.stdout.splitlines()
    assert lines[0] == ('resnet18 (random weights, paddle.seed(0)): input [-1, 3, 64, 64], '
                        'output [-1, 10]')
    assert lines[1].startswith('Paddle Inference on CPU (oneDNN on) vs the dynamic graph, '
                               'batches 1 and 4: max|diff| ')
    assert lines[2].startswith('relative difference ') and lines[2].endswith('(limit 1e-05): OK')
    assert lines[3] == f'saved {root / "r18"}/: model.json, model.pdiparams'
    assert sorted(os.listdir(root)) == ['r18']          # no temporary directory left
    assert sorted(os.listdir(root / 'r18')) == ['model.json', 'model.pdiparams']


def test_force_replaces_an_export_and_prints_the_same_bytes(exported):
    _, first, again = exported
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout


def test_saved_model_takes_any_batch_and_matches_the_dynamic_graph(exported):
    root, _, _ = exported
    predictor = export.Predictor(str(root / 'r18'))
    paddle.seed(export.SEED)
    model = resnet.resnet18(num_classes=10)
    model.eval()
    for batch in (2, 5):
        images = inference.random_images(batch, (-1, 3, 64, 64), seed=batch)
        got, expected = predictor(images), inference.eager(model, images)
        assert got.shape == (batch, 10)
        assert relative_difference(got, expected) <= export.TOLERANCE


def test_official_weights_reach_the_exported_model(tmp_path):
    paddle.seed(7)
    official = paddle.vision.models.resnet18(num_classes=10)
    official.eval()
    weights.save_atomically(official.state_dict(), tmp_path / 'official.safetensors')
    # The directories above --output are made as needed, and without --num-classes
    # the fc layer is the file's.
    output = tmp_path / 'exported' / 'official'
    result = run_script('export.py', '--layers', '18', '--input-size', '64',
                        '--weights', tmp_path / 'official.safetensors', '--output', output)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f'resnet18 ({tmp_path / "official.safetensors"}): '
                                    f'input [-1, 3, 64, 64], output [-1, 10]\n')
    images = inference.random_images(3, (-1, 3, 64, 64), seed=3)
    got = export.Predictor(str(output))(images)
    assert relative_difference(got, inference.eager(official, images)) <= export.TOLERANCE



def test_a_failed_check_exits_1_and_saves_nothing(tmp_path, monkeypatch, capsys):
    # No difference can be below -1: this forces the failure path.
    monkeypatch.setattr(export, 'TOLERANCE', -1.0)
    output = tmp_path / 'new' / 'out'
    code = load_script('export.py').main([*SMALL, '--output', str(output)])
    out, err = capsys.readouterr()
    assert code == 1
    assert out.splitlines()[-1] == f'nothing saved to {output}'
    assert err.startswith('export.py: error: Paddle Inference does not reproduce the dynamic '
                          'graph: relative difference ')
    assert os.listdir(tmp_path) == []     # new/ was made for the export, and removed


def assert_one_line_error(result, message):
    assert result.returncode == 2
    assert 'Traceback' not in result.stderr
    assert result.stderr.count('\n') == 1
    assert result.stderr.startswith(f'export.py: error: {message}')
    assert result.stdout == ''


@pytest.fixture
def earlier_export(tmp_path):
    directory = tmp_path / 'out'
    directory.mkdir()
    (directory / 'model.json').write_text('earlier')
    return directory


def test_refuses_to_overwrite_without_force(earlier_export):
    result = run_script('export.py', *SMALL, '--output', earlier_export)
    assert_one_line_error(result, f'{earlier_export} exists already; give --force to replace it')
    assert (earlier_export / 'model.json').read_text() == 'earlier'


def test_force_replaces_only_an_earlier_export(earlier_export):
    (earlier_export / 'notes.txt').write_text('mine')
    result = run_script('export.py', *SMALL, '--output', earlier_export, '--force')
    assert_one_line_error(result, f'{earlier_export} holds more than an exported model '
                                  f'(e.g. notes.txt)')
    assert sorted(os.listdir(earlier_export)) == ['model.json', 'notes.txt']


def test_force_replaces_no_link_and_sets_nothing_aside_over_what_is_not_ours(earlier_export, tmp_path):
    script = load_script('export.py')
    link = tmp_path / 'link'
    link.symlink_to(earlier_export)
    with pytest.raises(UsageError) as refused:
        script.main([*SMALL, '--output', str(link), '--force'])
    assert str(refused.value) == f'{link} is a symbolic link; --output names a directory to create'
    # Where --force sets the earlier export aside, a folder of the user's: refused, kept.
    aside = tmp_path / '.out.old'
    aside.mkdir()
    (aside / 'notes.txt').write_text('mine')
    with pytest.raises(UsageError) as refused:
        script.main([*SMALL, '--output', str(earlier_export), '--force'])
    assert str(refused.value) == (f'{aside} is in the way: --force sets the earlier export aside '
                                  f'there while the new one is put in place; move it elsewhere')
    assert (aside / 'notes.txt').read_text() == 'mine'
    assert (earlier_export / 'model.json').read_text() == 'earlier'
    assert sorted(os.listdir(tmp_path)) == ['.out.old', 'link', 'out']


@pytest.mark.parametrize('args, message', [
    (['--layers', '42'], '--layers 42 is not a ResNet depth; choose from 18, 34, 50, 101, 152'),
    (['--arch', 'resnet42'], '--arch resnet42 is not known; choose from resnet18, '),
    (['--layers', '18', '--arch', 'resnet18'], 'argument --arch: not allowed with argument --layers'),
    (['--layers', '18', '--input-size', '16'], '--input-size 16 is out of range for resnet18'),
    (['--layers', '18', '--num-classes', 'ten'], '--num-classes ten is not an integer'),
    (['--layers', '18', '--weights', 'missing.pdparams'], 'missing.pdparams: no such file'),
    (['--layers', '18', '--weights', 'missing.safetensors'], 'missing.safetensors: no such file'),
])
def test_bad_arguments_get_one_line(tmp_path, args, message):
    result = run_script('export.py', *args, '--output', tmp_path / 'out')
    assert_one_line_error(result, message)
    assert os.listdir(tmp_path) == []


def test_output_is_required():
    assert_one_line_error(run_script('export.py', '--layers', '18'),
                          'the following arguments are required: --output')


def test_output_must_be_creatable(tmp_path):
    (tmp_path / 'file').write_text('')
    assert_one_line_error(run_script('export.py', *SMALL, '--output', tmp_path / 'file' / 'out'),
                          f'{tmp_path / "file"} is a file, so {tmp_path / "file" / "out"} '
                          f'cannot be written there')
    assert_one_line_error(run_script('export.py', *SMALL, '--output', tmp_path / 'file', '--force'),
                          f'{tmp_path / "file"} is a file; --output names a directory to create')


def test_weights_of_another_network_are_named(tmp_path):
    weights.save_atomically(resnet.resnet34(num_classes=10).state_dict(), tmp_path / 'r34.safetensors')
    result = run_script('export.py', *SMALL, '--weights', tmp_path / 'r34.safetensors',
                        '--output', tmp_path / 'out')
    assert_one_line_error(result, f'{tmp_path / "r34.safetensors"} holds resnet34 weights')
    assert sorted(os.listdir(tmp_path)) == ['r34.safetensors']


def test_a_cifar_network_is_exported_at_32x32_with_10_classes(tmp_path):
    # Option A's shortcut appends zero channels; it runs under Paddle Inference's oneDNN.
    result = run_script('export.py', '--arch', 'cifar_resnet20', '--output', tmp_path / 'c20')
    assert result.returncode == 0 and result.stderr == ''
    assert result.stdout.splitlines()[0] == ('cifar_resnet20 (random weights, paddle.seed(0)): '
                                             'input [-1, 3, 32, 32], output [-1, 10]')
    assert result.stdout.splitlines()[2].endswith(': OK')


def test_a_cifar_network_takes_its_channels_and_classes_from_the_weights(tmp_path):
    # A network for 1-channel 8x8 images such as scikit-learn's digits, with 7 classes.
    paddle.seed(3)
    model = resnet.build('cifar_plain20', in_channels=1, num_classes=7)
    model.eval()
    weights.save_atomically(model.state_dict(), tmp_path / 'grey.safetensors')
    result = run_script('export.py', '--arch', 'cifar_plain20', '--input-size', '8',
                        '--weights', tmp_path / 'grey.safetensors', '--output', tmp_path / 'out')
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f'cifar_plain20 ({tmp_path / "grey.safetensors"}): '
                                    f'input [-1, 1, 8, 8], output [-1, 7]\n')
    images = inference.random_images(2, (-1, 1, 8, 8), seed=2)
    got = export.Predictor(str(tmp_path / 'out'))(images)
    assert relative_difference(got, inference.eager(model, images)) <= export.TOLERANCE


@pytest.mark.parametrize('args, message', [
    (['--arch', 'cifar_resnet20', '--num-classes', '0'],
     '--num-classes 0 drops the fc layer of an ImageNet ResNet; cifar_resnet20 always has one'),
    (['--arch', 'cifar_resnet20', '--input-size', '2'],
     '--input-size 2 is out of range for cifar_resnet20'),
    (['--arch', 'cifar_resnet21'], '--arch cifar_resnet21 is not known; choose from resnet18, '),
])
def test_bad_cifar_arguments_get_one_line(tmp_path, args, message):
    result = run_script('export.py', *args, '--output', tmp_path / 'out')
    assert_one_line_error(result, message)
    assert os.listdir(tmp_path) == []
