"""scripts/compare.py and resnet_tools/weights/compare.py: the table, the per-layer view,
the exit code."""

import paddle
import pytest

from resnet.configs import ARCHS, layers_config
from helpers import count_params, load_script, run_script
from resnet_tools import weights
from resnet_tools.weights import compare, formats



def test_a_row_holds_the_official_counts_and_zero_difference():
    row = compare.compare('resnet18')
    official = paddle.vision.models.resnet18()
    # 11,699,112 is also the total test_resnet.py holds for paddle.vision's resnet18.
    assert row.counts[0] == row.official_counts[0] == count_params(official) == 11_699_112
    assert row.counts[1] == row.official_counts[1] == count_params(official, True)
    assert row.keys == row.official_keys == len(official.state_dict())
    assert row.layout_same and row.diff == 0.0 and row.agrees


def test_a_different_network_is_reported_and_fails_the_run(monkeypatch, capsys):
    # Stand in a network with another head for the official one: compare must notice.
    official_model = compare.official_model
    monkeypatch.setattr(compare, 'official_model',
                        lambda arch, **kwargs: official_model(arch, num_classes=10))
    row = compare.compare('resnet18')
    assert not row.agrees and not row.layout_same and row.diff is None
    assert compare.table_row(row)[-3:] == ['102 vs 102, DIFFERENT', 'not run', 'DIFFERENT']
    assert load_script('compare.py').main(['--arch', 'resnet18']) == 1
    assert 'DIFFERENT' in capsys.readouterr().out


def test_two_architectures_and_the_input_size_in_the_output():
    result = run_script('compare.py', '--arch', 'resnet18', '--arch', 'resnext50_32x4d',
                        '--input-size', '32')
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()
            if line.startswith(('resnet18 ', 'resnext50_32x4d '))]
    assert [row[0] for row in rows] == ['resnet18', 'resnext50_32x4d']
    assert all(row[-2:] == ['0', 'same'] for row in rows)
    assert '2 x 3 x 32 x 32' in ' '.join(result.stdout.split())
    assert result.stderr == ''


@pytest.mark.slow
def test_all_13_architectures_agree():
    result = run_script('compare.py')
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if line.split()[:1]
            and line.split()[0] in ARCHS]
    assert [row[0] for row in rows] == list(ARCHS)
    for row in rows:
        total, official_total, trainable, official_trainable = row[1:5]
        assert total == official_total and trainable == official_trainable
        assert row[-2:] == ['0', 'same'], row
    assert '2 x 3 x 64 x 64' in ' '.join(result.stdout.split())


def test_a_weights_file_runs_both_models_with_it(tmp_path):
    paddle.seed(0)
    state = paddle.vision.models.resnet18().state_dict()
    path = tmp_path / 'resnet18.safetensors'
    weights.save_atomically(state, path)
    result = run_script('compare.py', '--weights', path)
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if line.startswith('resnet')]
    assert len(rows) == 1 and rows[0][0] == 'resnet18' and rows[0][-2:] == ['0', 'same']
    assert f'each loaded from {path}' in ' '.join(result.stdout.split())
    assert result.stderr == ''

    # From Python a .pdparams file is read too (unpickled), and its md5 checked: one put
    # into paddle.vision's list passes as the published file.
    pdparams = tmp_path / 'resnet18.pdparams'
    paddle.save(state, str(pdparams))
    with pytest.MonkeyPatch.context() as patch:
        url, _ = formats.model_urls['resnet18']
        patch.setitem(formats.model_urls, 'resnet18', (url, formats.file_md5(pdparams)))
        state, arch, (status, message) = compare.weights_file(pdparams)
    assert arch == 'resnet18' and status == 'published'
    assert list(state) == list(paddle.vision.models.resnet18().state_dict())

    result = run_script('compare.py', '--weights', path, '--arch', 'resnet34')
    assert result.returncode == 2 and 'Traceback' not in result.stderr
    assert result.stderr.splitlines() == [
        f'compare.py: error: {path} holds resnet18 weights (judging by their shapes), not '
        f'resnet34: use --arch resnet18, or resnet.resnet18() (see --help)']


def test_per_layer_rows_map_every_layer_and_add_up_to_the_total():
    rows = compare.per_layer_rows('resnet50')
    by_ours = {row[0]: row for row in rows}
    # ResNet-50's conv3_x (layer2) starts at block 3, after the 3 blocks of conv2_x.
    assert by_ours['residual_block.3.conv_bn_block2.0'][1:4] == [
        'layer2.0.conv2', 'Conv2D', '[128, 128, 3, 3]']
    assert by_ours['residual_block.3.conv_bn_block1.2'][1] == 'layer2.0.relu (call 1 of 3)'
    assert by_ours['residual_block.3.relu_out'][1] == 'layer2.0.relu (call 3 of 3)'
    assert by_ours['flatten'][1] == '- (paddle.flatten)'
    # 25,610,152: the article's total for ResNet-50, which is paddle.vision's too.
    assert sum(row[4] for row in rows) == 25_610_152


def test_the_summaries_differ_only_in_relu_and_flatten_rows():
    comparison = compare.summary_comparison('resnet50')
    counts = {row[0]: row[1:3] for row in comparison['counts']}
    blocks = sum(layers_config[50]['num_blocks'])
    # Ours: the stem's ReLU and three per bottleneck; the official: the stem's and one per block.
    assert counts.pop('ReLU') == [1 + 3 * blocks, 1 + blocks]
    assert counts.pop('Flatten') == [1, 0]
    assert all(ours == official for ours, official in counts.values())
    lines = {row[0]: row[1:] for row in comparison['lines']}
    assert lines['Total params'] == ['25,610,152', '25,610,152']
    ours_mb, official_mb = map(float, lines['Forward/backward pass size (MB)'])
    assert ours_mb > official_mb
    # In the official table the shared ReLU sits after bn1 but shows the addition's shape.
    official_block = comparison['first block']['paddle.vision']
    relu = next(row for row in official_block if row[0].startswith('ReLU'))
    assert official_block.index(relu) == 2 and relu[2] == official_block[-1][2]


def test_per_layer_output_explains_both_codebases():
    result = run_script('compare.py', '--arch', 'resnet50', '--per-layer')
    assert result.returncode == 0, result.stderr
    text = ' '.join(result.stdout.split())
    # The layers of a block are named within it, under the block's row.
    block = text.split('residual_block.3 layer2.0 BottleneckBlock 0 ')[1].split(' residual_block.4 ')[0]
    assert '.conv_bn_block2.0 .conv2 Conv2D [128, 128, 3, 3] 147,456' in block
    assert 'ReLU 49 17 differs' in text and 'Flatten 1 0 differs' in text
    assert 'paddle/hapi/model_summary.py' in text and 'self.relu' in text


@pytest.mark.parametrize('args, message', [
    (['--arch', 'resnet42'], '--arch resnet42 is not known; choose from resnet18, resnet34'),
    (['--arch', 'cifar_resnet20'], '--arch cifar_resnet20 is one of the CIFAR-10 networks of the '
                                   "paper's Section 4.2, which have no paddle.vision counterpart"),
    (['--per-layer'], '--per-layer needs exactly one --arch'),
    (['--per-layer', '--arch', 'resnet18', '--arch', 'resnet34'], '--per-layer needs exactly one'),
    (['--input-size', '16'], '--input-size 16 is out of range for every ResNet (each halves the map 5'),
    (['--input-size', 'big'], '--input-size big is not an integer'),
    (['--layers', '50'], 'unrecognized arguments: --layers 50'),
    (['--weights', 'nope.pdparams'], 'nope.pdparams: no such file'),
    (['--weights', 'nope.safetensors'], 'nope.safetensors: no such file'),
    (['--weights', 'nope.pdparams', '--arch', 'resnet18', '--arch', 'resnet34'],
     '--weights goes with one --arch at most'),
])
def test_bad_arguments_are_one_line_errors(args, message):
    result = run_script('compare.py', *args)
    assert result.returncode == 2
    assert 'Traceback' not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith('compare.py: error: ') and message in lines[0]
    assert result.stdout == ''
