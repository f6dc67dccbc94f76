"""summary.py --model, --models and --depth: the same inputs as the paddleinfo command,
the combinations of flags it refuses, and the depth table of this repository's ResNets,
which counts MACs as the paper does.  (The engine behind them, for paddle.vision's
networks and a user's own, is tested in tests/paddleinfo/test_vision_models.py.)"""
import json

import pytest

import resnet
from helpers import count_params, run_script, summarize
from paddleinfo import tables
from paddleinfo.macs import MACS_CONVENTION
from paddleinfo.profile import profile
from resnet_tools.errors import UsageError
from summaries import command, net


def test_summary_py_takes_the_same_inputs(capsys):
    done = run_script('summary.py', '--model', net('two_inputs'), '--input', '3x32x32',
                      '--input', '10', '--batch-size', '2', '--format', 'json')
    assert done.returncode == 0, done.stderr
    code, out, _ = command(capsys, net('two_inputs'), '--input', '3x32x32', '--input', '10',
                           '--batch-size', '2', '--format', 'json')
    assert code == 0 and json.loads(done.stdout)['totals'] == json.loads(out)['totals']


@pytest.mark.parametrize('args, message', [
    (['--model', 'resnet50', '--stages'], '--stages is for this repository\'s ResNets'),
    (['--model', 'resnet50', '--variant', 'v1'], '--variant is for this repository\'s'),
    (['--models', 'resnet18', 'vgg17'], '--models vgg17 is not a paddle.vision.models network'),
    (['--models', 'resnet18', '--macs'], '--macs adds a column to the per-layer table'),
    (['--depth', '0'], '--depth 0 is out of range: from 1 to 32'),
    (['--depth', '2', '--explain'], '--explain adds a column to the per-layer table'),
])
def test_bad_combinations_are_one_line(args, message):
    with pytest.raises(UsageError, match=message.replace('(', r'\(').replace('[', r'\[')):
        # Checked as parsed, when the request is made, or before any model is built.
        summarize(*args)


# --- --depth ------------------------------------------------------------------------

def test_depth_2_of_our_resnet50_is_one_row_per_residual_block():
    result = profile(lambda: resnet.build('resnet50'), (None, 3, 224, 224))
    data = tables.depth_table(result, 'ResNet-50', 2)
    blocks = [row for row in data['rows'] if row['depth'] == 2]
    assert [row['path'] for row in blocks] == [f'residual_block.{i}' for i in range(16)]
    assert {row['layer'] for row in blocks} == {'BottleneckBlock'}
    # Rows add up to the totals: what is folded in is counted once.
    assert sum(row['params'] for row in data['rows']) == data['totals']['params'] == 25_610_152
    assert sum(row['macs'] or 0 for row in data['rows']) == data['totals']['macs'] == result.macs
    first = blocks[0]
    assert first['params'] == count_params(resnet.build('resnet50').residual_block[0])
    assert first['input_shape'] == [[1, 64, 56, 56]] and first['output_shape'] == [1, 256, 56, 56]


def test_the_depth_table_says_whose_convention_it_counts():
    # Under a paddle.vision table: torchvision's convention; under our ResNet's: the paper's.
    plain = summarize('--model', 'resnet18', '--depth', '3', '--input-size', '64')
    assert ' '.join(MACS_CONVENTION.split()) in ' '.join(plain.split())
    ours = summarize('--layers', '18', '--depth', '1', '--input-size', '64')
    assert 'as the paper counts "FLOPs"' in ' '.join(ours.split())
