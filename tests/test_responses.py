"""Figure 7's layer responses, and the shortcut table: computed right, drawn from the
committed runs byte for byte."""
import shutil

import numpy as np
import paddle
import pytest
from paddle import nn

import resnet
from helpers import REPO, run_script, write_finished_run
from resnet_tools import training
from resnet_tools.paper import degradation, responses, shortcuts
from resnet_tools.views import plots

DEGRADATION = REPO / 'docs' / 'runs' / 'degradation'
SHORTCUTS = REPO / 'docs' / 'runs' / 'shortcuts'
FIGURES = REPO / 'docs' / 'figures'


def tiny_network():
    """A 3x3 conv + BN (a response), a ReLU, a 1x1 conv + BN (not a response), a 3x3
    conv + BN (a response), with BN statistics that are not the defaults."""
    paddle.seed(3)
    with paddle.utils.unique_name.guard():
        model = nn.Sequential(nn.Conv2D(2, 4, 3, padding=1), nn.BatchNorm2D(4), nn.ReLU(),
                              nn.Conv2D(4, 4, 1), nn.BatchNorm2D(4),
                              nn.Conv2D(4, 3, 3, padding=1), nn.BatchNorm2D(3))
    for bn in (model[1], model[4], model[6]):
        channels = bn.weight.shape[0]
        bn._mean.set_value(paddle.to_tensor(np.linspace(-1, 1, channels).astype('float32')))
        bn._variance.set_value(paddle.to_tensor(np.linspace(0.5, 2, channels).astype('float32')))
    return model


def test_the_response_is_the_std_of_the_bn_output_in_eval_mode():
    model = tiny_network()
    images = np.random.RandomState(0).standard_normal((7, 2, 5, 5)).astype('float32')
    # In batches of 3 (3 + 3 + 1 images): the statistic gathers over all of them.
    rows = responses.layer_responses(model, images, batch=3)
    assert [(index, name) for index, name, _ in rows] == [(1, '1'), (2, '6')]
    model.eval()
    x = paddle.to_tensor(images)
    with paddle.no_grad():
        first = model[1](model[0](x))
        last = model[6](model[5](model[4](model[3](model[2](first))))).numpy()
        first = first.numpy()
    assert rows[0][2] == pytest.approx(float(np.std(first.astype(np.float64))), rel=1e-6)
    assert rows[1][2] == pytest.approx(float(np.std(last.astype(np.float64))), rel=1e-6)
    # Eval mode: the running statistics, not the batch's (which would give std 1 at BN's
    # default scale, up to its epsilon).
    assert abs(rows[0][2] - 1) > 0.05
    # The hooks are gone and the model is back in training mode only if it was.
    assert not model.training and rows == responses.layer_responses(model, images, batch=3)


def test_every_3x3_layer_of_a_cifar_network_in_depth_order():
    with paddle.utils.unique_name.guard():
        model = resnet.build('cifar_resnet20', shortcut='B', in_channels=1)
    names = [name for name, _ in responses.response_layers(model)]
    # 6n + 1 = 19 3x3 convs (the fc is the 20th layer); B's 1x1 projections are not among them.
    assert len(names) == 19 and names[0] == 'bn'
    assert names[1:3] == ['residual_block.0.conv_bn_block1.1', 'residual_block.0.conv_bn_block2.1']
    assert names[-1] == 'residual_block.8.conv_bn_block2.1'
    assert not any('down_sample_block' in name for name in names)


def test_responses_csv_round_trips(tmp_path):
    rows = [(1, 'bn', 0.5), (2, 'residual_block.0.conv_bn_block1.1', 1.25)]
    responses.write_responses(tmp_path, rows)
    assert (tmp_path / 'responses.csv').read_text() == \
        'index,layer,std\n1,bn,0.500000\n2,residual_block.0.conv_bn_block1.1,1.250000\n'
    assert responses.read_responses(tmp_path) == rows


def test_the_findings_say_in_numbers_whether_the_paper_holds():
    found = {'cifar_plain20': [(1, 'a', 2.0), (2, 'b', 1.0)],
             'cifar_resnet20': [(1, 'a', 1.0), (2, 'b', 0.5)],
             'cifar_resnet56': [(1, 'a', 0.5)], 'cifar_resnet110': [(1, 'a', 0.6)]}
    assert degradation.response_findings(found) == [
        'depth 20: mean response std plain 1.500, ResNet 0.750; ResNet smaller: yes, as in '
        'the paper',
        'ResNet-20 0.750 > ResNet-56 0.500 > ResNet-110 0.600: smaller with depth: no, unlike '
        'the paper']


@pytest.mark.skipif(not (DEGRADATION / 'cifar_resnet110' / 'responses.csv').is_file(),
                    reason='no committed run')
def test_figure_7_is_drawn_from_the_committed_responses(tmp_path):
    shutil.copytree(DEGRADATION, tmp_path / 'runs')
    found = degradation.finished_responses(tmp_path / 'runs')
    assert list(found) == list(degradation.RESPONSE_ARCHS)
    degradation.draw_responses(found, str(tmp_path / 'figure'), ['digits'])
    for form in plots.PLOT_FORMATS:
        assert (tmp_path / f'figure.{form}').read_bytes() == \
            (FIGURES / f'responses.{form}').read_bytes(), \
            'redraw it: python scripts/degradation.py --plot-only docs/runs/degradation ' \
            '--output docs/figures --force'


@pytest.mark.skipif(not (SHORTCUTS / shortcuts.SHORTCUT_TABLE).is_file(), reason='no committed run')
def test_the_shortcut_table_is_written_from_the_committed_runs(tmp_path):
    result = run_script('shortcuts.py', '--table-only', SHORTCUTS, '--output', tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / shortcuts.SHORTCUT_TABLE).read_bytes() == \
        (SHORTCUTS / shortcuts.SHORTCUT_TABLE).read_bytes(), \
        'rewrite it: python scripts/shortcuts.py --table-only docs/runs/shortcuts --force'
    found = shortcuts.finished_shortcut_runs(SHORTCUTS)
    # Three options, three seeds each, all of the default settings but the seed.
    assert {option: len(runs) for option, runs in found.items()} == {'A': 3, 'B': 3, 'C': 3}
    for option, runs in found.items():
        assert sorted(run.record.settings.seed for run in runs) == list(shortcuts.SHORTCUT_SEEDS)
        assert {run.record.details['network']['shortcut'] for run in runs} == {option}
    # Option A has no parameters; B adds two projections, C one in every block.
    params = {option: runs[0].params for option, runs in found.items()}
    assert params['A'] < params['B'] < params['C']


def test_the_shortcut_table_holds_mean_and_sample_std_next_to_the_paper(tmp_path):
    for option, errors in (('A', (0.01, 0.03)), ('B', (0.05, 0.05))):
        for seed, error in enumerate(errors):
            write_finished_run(tmp_path / f'{option}-seed{seed}', [error / 2], [error],
                               training.RunRecord('cifar_resnet20', 1000 if option == 'A' else 1200,
                                                  1, 'cpu', training.Settings(), 'digits',
                                                  {'data': 'digits', 'shortcut': option}),
                               seconds=1.0)
    found = shortcuts.finished_shortcut_runs(tmp_path)
    lines = shortcuts.format_shortcut_table(found).splitlines()
    # A: 1 % and 3 %: mean 2.00, sample std 1.41; the paper's Table 3: 25.03 / 7.76.
    assert lines[2].split() == ['A', '1,000', '2', '1.00', '±', '0.71', '2.00', '±', '1.41',
                                '25.03', '7.76']
    assert lines[3].split() == ['B', '1,200', '2', '2.50', '±', '0.00', '5.00', '±', '0.00',
                                '24.52', '7.46']
    assert 'ImageNet' in lines[-1] and 'Table 3' in lines[-1]
    # B - A = 3 points; the standard error of the difference is sqrt(1.41^2 / 2 + 0) = 1.
    assert shortcuts.shortcut_spread_finding(found) == \
        'test error B - A: 3.00 points, 2 x its standard error 2.00: beyond the spread of the seeds'
