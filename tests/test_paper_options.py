"""train.py's --shortcut and its default warm-up for deep networks; shortcuts.py's checks."""
import pytest

from helpers import run_script
from resnet_tools import training
from resnet_tools.paper import networks

TINY = ('--train-size', '64', '--test-size', '32', '--batch-size', '32', '--epochs', '1',
        '--device', 'cpu')


def test_shortcut_b_trains_projections_and_is_recorded(tmp_path):
    result = run_script('train.py', '--arch', 'cifar_resnet20', '--shortcut', 'B', *TINY,
                        '--output', tmp_path / 'b')
    assert result.returncode == 0, result.stderr
    run = training.read_run(tmp_path / 'b')
    assert run.details['network']['shortcut'] == 'B'
    # Option A's 269,434 (one input channel) and two 1x1 conv + BN projections, 16->32
    # and 32->64 channels: 16*32 + 2*32 + 32*64 + 2*64 = 2,752.
    assert run.params == 269_434 + 2_752
    # Figure 7's statistic is recorded at the end of training: 19 3x3 layers.
    assert len((tmp_path / 'b' / 'responses.csv').read_text().splitlines()) == 1 + 19


@pytest.mark.parametrize('args, message', [
    (['--arch', 'cifar_plain20', '--shortcut', 'B'],
     '--shortcut B is for the ResNets; cifar_plain20 is a plain network, which has no shortcuts'),
    (['--shortcut', 'D'], '--shortcut D is not known; choose from A, B, C'),
])
def test_a_wrong_shortcut_is_one_line(args, message, tmp_path):
    result = run_script('train.py', *args, '--output', tmp_path / 'x')
    assert result.returncode == 2 and result.stderr.count('\n') == 1
    assert message in result.stderr
    assert not (tmp_path / 'x').exists()


def test_deep_networks_warm_up_by_default(tmp_path):
    archs = ('cifar_resnet20', 'cifar_resnet44', 'cifar_resnet56', 'cifar_plain110')
    assert [networks.default_warmup(arch) for arch in archs] == [0, 0, 1, 1]
    result = run_script('train.py', '--arch', 'cifar_plain56', *TINY, '--output', tmp_path / 'p')
    assert result.returncode == 0, result.stderr
    assert training.read_run(tmp_path / 'p').settings.warmup_epochs == 1
    assert 'lr 0.01 ' in result.stdout   # the first epoch at a tenth of 0.1


@pytest.mark.parametrize('args, message', [
    (['--options', 'D'], '--options D is not known; choose from A, B, C'),
    (['--seeds', '1', '1'], '--seeds 1 is given twice; give each once'),
    (['--jobs', '0'], '--jobs 0 is out of range: at least 1'),
])
def test_shortcuts_refuses_bad_runs_in_one_line(args, message, tmp_path):
    result = run_script('shortcuts.py', *args, '--output', tmp_path / 'x')
    assert result.returncode == 2 and result.stderr.count('\n') == 1
    assert message in result.stderr
    assert not (tmp_path / 'x').exists()


def test_shortcuts_whose_runs_all_fail_end_with_exit_code_1_in_one_line(tmp_path):
    result = run_script('shortcuts.py', '--options', 'A', '--seeds', '0', *TINY, '--lr', '1e30',
                        '--output', tmp_path / 'x')
    assert result.returncode == 1
    assert result.stderr == 'shortcuts.py: error: every run failed (the lines above say why)\n'
    assert result.stdout.count(': failed: ') == 1
    assert 'ResNet-20 A seed 0: failed: error: the training loss ' in result.stdout
    assert not (tmp_path / 'x' / 'table.txt').exists()


def test_shortcuts_refuses_a_bad_data_file_before_it_touches_the_output(tmp_path):
    output = tmp_path / 'x'
    output.mkdir()
    result = run_script('shortcuts.py', '--data', 'cifar10', '--data-file', tmp_path / 'none.tar.gz',
                        '--output', output)
    assert result.returncode == 2 and result.stderr.count('\n') == 1
    assert f'--data-file {tmp_path / "none.tar.gz"} does not exist' in result.stderr
    assert list(output.iterdir()) == []      # no .lock
