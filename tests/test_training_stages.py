"""summary.py --training: a ResNet's training step by stage (--stages) and per layer, from
paddleinfo's backward pass, on a CIFAR network small enough to trace in a moment."""
import json

import pytest

from helpers import run_script, summarize
from resnet_tools.errors import UsageError

CIFAR = ('--arch', 'cifar_resnet20', '--input-size', '16', '--batch-size', '2')


def stage_table(*more):
    return json.loads(summarize('--stages', '--training', *CIFAR, '--format', 'json', *more))


def test_the_stages_add_up_to_the_step_and_only_the_stem_skips_its_input_gradient():
    data = stage_table()
    rows, cost = data['rows'], data['cost']
    assert [row['stage'] for row in rows][:4] == ['stage 1', 'stage 2', 'stage 3', 'pool, fc']
    for key in ('forward_macs', 'input_grad_macs', 'weight_grad_macs'):
        assert sum(row[key] for row in rows) == cost[key]
    # Every weight has its gradient: the weight gradients are the forward MACs, stage by
    # stage.  The input is data, so the stem conv (counted in stage 1) computes no input
    # gradient: its 2 x 16 x 16 x 16 outputs of 3 x 3 x 3 multiply-adds each (3 channels,
    # a 3x3 kernel).
    stem = 2 * 16 * 16 * 16 * 3 * 3 * 3
    first, *others = rows
    assert all(row['weight_grad_macs'] == row['forward_macs'] for row in rows)
    assert first['input_grad_macs'] == first['forward_macs'] - stem
    assert all(row['input_grad_macs'] == row['forward_macs'] for row in others)
    assert sum(row['kept_bytes'] for row in rows) == cost['memory']['activations']
    assert abs(sum(row['step_share_percent'] for row in rows) - 100) < 0.5


def test_the_step_s_text_fits_100_columns_and_names_the_optimizer():
    text = summarize('--stages', '--training', *CIFAR, '--optimizer', 'momentum')
    assert all(len(line) <= 100 for line in text.splitlines())
    assert 'Optimizer update (momentum: v = mu * v + g; p -= lr * v): 2 elementwise' in text
    assert 'Peak of a training step:' in text


def test_the_per_layer_training_table_of_a_resnet():
    data = json.loads(summarize('--training', *CIFAR, '--format', 'json'))
    assert data['view'] == 'training'
    assert data['rows'][0]['layer'] == 'Conv2D-1' and data['rows'][0]['input_grad_macs'] == 0
    assert data['cost']['forward_macs'] == stage_table()['cost']['forward_macs']


@pytest.mark.parametrize('args, message', [
    (['--stages', '--time'], 'give --training too'),
    (['--overview', '--training'], '--overview is a table of its own'),
    (['--block', 'basic', '--training'], 'not for --block'),
    (['--training', '--input', '3x32x32'], '--input is for --model'),
    (['--stages', '--optimizer', 'sgd'], '--optimizer is for --training')])
def test_mistakes_are_one_line(args, message):
    with pytest.raises(UsageError, match=message):
        summarize(*args)


def test_the_script_prints_the_stage_step_at_the_shell():
    result = run_script('summary.py', '--stages', '--training', *CIFAR)
    assert result.returncode == 0 and result.stderr == '', result.stderr
    assert result.stdout.startswith('cifar_resnet20, input [2, 3, 16, 16]: one training step')
