"""The teaching views of scripts/summary.py: --stages, --overview, --explain, --macs and
--format, checked against the models themselves and against the paper's Table 1."""
import csv
import io
import json

import paddle
import pytest
from paddle import nn

import resnet
from resnet.blocks import BottleneckBlock
from resnet.configs import CIFAR_NUM_CLASSES, SUPPORTED_LAYERS, layers_config
from helpers import REPO, count_params, printed_totals, run_script, summarize
from paddleinfo import tables
from paddleinfo.macs import model_macs
from paddleinfo.formulas import size_formula
from paddleinfo.profile import profile
from paddleinfo.render import render
from resnet_tools.views import teaching
from test_summary import ARTICLE_TABLES

STAGES = ['conv1', 'conv2_x', 'conv3_x', 'conv4_x', 'conv5_x', 'pool, fc']


@pytest.fixture(scope='module')
def resnet50_stages():
    return teaching.stage_table('resnet50', (None, 3, 224, 224))


@pytest.fixture(scope='module')
def resnet50_layers():
    return tables.layer_table(profile(lambda: resnet.ResNet(50), (None, 3, 224, 224)), 'ResNet-50')


def csv_rows(text):
    return list(csv.DictReader(io.StringIO(text)))


# --- the stage table ----------------------------------------------------------------

def test_stage_table_is_the_papers_table_1(resnet50_stages):
    rows = {row.stage: row for row in resnet50_stages.rows}
    assert list(rows) == STAGES
    # Table 1 of the paper: output sizes 112x112, 56x56, 28x28, 14x14, 7x7, 1x1, and the
    # 50-layer column's blocks, e.g. [1x1, 64; 3x3, 64; 1x1, 256] x 3 for conv2_x.
    assert [rows[s].output_size for s in STAGES] == [[112, 112], [56, 56], [28, 28],
                                                     [14, 14], [7, 7], [1, 1]]
    assert rows['conv1'].block == '7x7, 64, stride 2'
    assert rows['conv2_x'].block == ('3x3 max pool, stride 2, then '
                                     '[1x1, 64; 3x3, 64; 1x1, 256] x 3')
    assert rows['conv4_x'].block == '[1x1, 256; 3x3, 256; 1x1, 1024] x 6'
    assert rows['pool, fc'].block == 'average pool, 1000-d fc'
    assert resnet50_stages.totals['layer_count'] == '1 + 3 x (3+4+6+3) + 1 = 50'


def test_stage_params_and_macs_add_up_to_the_model(resnet50_stages):
    model = resnet.ResNet(50)
    rows, totals = resnet50_stages.rows, resnet50_stages.totals
    assert sum(row.params for row in rows) == totals['params'] == count_params(model)
    assert totals['trainable_params'] == count_params(model, trainable_only=True)
    assert sum(row.macs for row in rows) == totals['macs'] == \
        model_macs(model, (1, 3, 224, 224))
    # conv1: the 7x7 conv and its BN (4 x 64 tensors); 7 x 7 x 3 MACs per output value.
    assert rows[0].params == 7 * 7 * 3 * 64 + 4 * 64
    assert rows[0].macs == 7 * 7 * 3 * 64 * 112 * 112
    assert abs(sum(row.share_percent for row in rows) - 100) < 0.5


def test_stage_table_explains_the_papers_3_8_for_resnet50(resnet50_stages):
    v15, v1 = (resnet50_stages.macs_by_variant[v] for v in ('v1.5', 'v1'))
    # Table 1 of the paper gives ResNet-50 3.8 x10^9 FLOPs; torchvision 4.09 GFLOPS.
    assert int(v1 / 1e8) == 38 and round(v15 / 1e9, 2) == 4.09
    sentence = resnet50_stages.notes[0]
    assert f'{v1 / 1e9:.2f} G' in sentence and f'{v15 / 1e9:.2f} G' in sentence
    assert 'costs 4 times as much' in sentence and '(3 convs,' in sentence


def test_the_tables_page_shows_the_stage_table_as_printed(resnet50_stages):
    readme = (REPO / 'docs' / 'tables.md').read_text(encoding='utf-8')
    section = readme.split('## Tables to teach from')[1].split('\n## ')[0]
    excerpt = section.split('```text\n')[1].split('```')[0].splitlines()
    printed = render(resnet50_stages, teaching.stage_view, 'plain').splitlines()
    assert excerpt == printed[2:2 + len(excerpt)]
    assert len(excerpt) == 2 + len(resnet50_stages.rows) + 1 + 1    # conv2_x is two lines
    v15, v1 = (resnet50_stages.macs_by_variant[v] / 1e9 for v in ('v1.5', 'v1'))
    assert f'{v1:.2f} G in all becoming {v15:.2f} G' in ' '.join(section.split())


@pytest.mark.slow
@pytest.mark.parametrize('depth', SUPPORTED_LAYERS)
def test_stage_params_add_up_for_every_depth(depth):
    data = teaching.stage_table(f'resnet{depth}', (None, 3, 64, 64), variant='v1')
    model = resnet.ResNet(depth, variant='v1')
    assert sum(row.params for row in data.rows) == count_params(model)
    assert sum(row.macs for row in data.rows) == model_macs(model, (1, 3, 64, 64))
    blocks = layers_config[depth]['num_blocks']
    assert all(row.block.endswith(f'] x {n}') for row, n in zip(data.rows[1:], blocks))
    assert data.totals['layers'] == depth


def test_resnext_stage_is_written_as_the_resnext_paper_does():
    data = teaching.stage_table('resnext50_32x4d', (None, 3, 64, 64))
    # Table 1 of Xie et al. (2017): conv2 of ResNeXt-50 (32x4d) is
    # [1x1, 128; 3x3, 128, C=32; 1x1, 256] x 3.
    assert data.rows[1].block.endswith('[1x1, 128; 3x3, 128, C=32; 1x1, 256] x 3')


# --- layer counting and --explain ---------------------------------------------------

@pytest.mark.parametrize('depth', SUPPORTED_LAYERS)
def test_explain_formulas_give_the_shapes_paddle_produced(depth):
    data = tables.layer_table(profile(lambda: resnet.ResNet(depth), (None, 3, 64, 96)), 'x')
    explained = [row for row in data['rows'] if row['formula']]
    kinds = {row['layer'].split('-')[0] for row in explained}
    assert kinds == {'Conv2D', 'MaxPool2D', 'AdaptiveAvgPool2D'}
    convs = [row for row in data['rows'] if row['layer'].startswith('Conv2D')]
    assert all(row['formula'] for row in convs)
    for row in explained:
        height, width = row['output_shape'][-2:]
        if row['formula'].startswith('H: '):
            h_text, w_text = row['formula'].split('; W: ')
            assert h_text.endswith(f'= {height}') and w_text.endswith(f'= {width}')
            assert eval(h_text[3:].split(' = ')[0]) == height
            assert eval(w_text.split(' = ')[0]) == width
        elif not row['formula'].startswith('adaptive'):
            assert height == width
            expression, result = row['formula'].split(' = ')
            assert eval(expression) == int(result) == height
    # The stem of every depth on a 64 x 96 input, worked out as the article does for 224.
    assert convs[0]['formula'] == 'H: (64 + 2*3 - 7) // 2 + 1 = 32; W: (96 + 2*3 - 7) // 2 + 1 = 48'
    count, total = teaching.layer_count(resnet.ResNet(depth, num_classes=10))
    assert total == depth and count.endswith(f'= {depth}')


def test_explain_at_224_is_the_articles_arithmetic(resnet50_layers):
    rows = {row['layer']: row for row in resnet50_layers['rows']}
    # The worked examples: (224 - 7 + 2 x 3) / 2 + 1 = 112 and (112 - 3 + 2) / 2 + 1 = 56.
    assert rows['Conv2D-1']['formula'] == '(224 + 2*3 - 7) // 2 + 1 = 112'
    assert rows['MaxPool2D-1']['formula'] == '(112 + 2*1 - 3) // 2 + 1 = 56'
    assert rows['AdaptiveAvgPool2D-1']['formula'] == 'adaptive: 7x7 -> 1x1'
    assert rows['BatchNorm2D-1']['formula'] is None


def test_a_formula_that_disagrees_with_paddle_is_caught():
    conv = nn.Conv2D(3, 8, 3, stride=2, padding=1)
    assert size_formula(conv, [1, 3, 9, 9], [1, 8, 5, 5]) == '(9 + 2*1 - 3) // 2 + 1 = 5'
    with pytest.raises(AssertionError, match='the formula gives'):
        size_formula(conv, [1, 3, 9, 9], [1, 8, 4, 4])


@pytest.mark.parametrize('layer, formula', [
    (nn.Conv2D(3, 4, 3, stride=2, padding=2, dilation=2),
     'H: (17 + 2*2 - 2*(3 - 1) - 1) // 2 + 1 = 9; W: (20 + 2*2 - 2*(3 - 1) - 1) // 2 + 1 = 10'),
    (nn.MaxPool2D(3, 2, 0, ceil_mode=True),
     'H: ceil((17 + 2*0 - 3) / 2) + 1 = 8; W: ceil((20 + 2*0 - 3) / 2) + 1 = 10'),
    (nn.AvgPool2D(2), 'H: (17 + 2*0 - 2) // 2 + 1 = 8; W: (20 + 2*0 - 2) // 2 + 1 = 10'),
])
def test_formulas_beyond_resnet_agree_with_paddle(layer, formula):
    x = paddle.zeros([1, 3, 17, 20])
    assert size_formula(layer, x.shape, layer(x).shape) == formula


def test_layer_rows_are_paddle_summarys_rows(resnet50_layers):
    text = summarize('--layers', '50')
    totals = printed_totals(text)
    printed = [line.split()[0] for line in text.splitlines()[3:-10]]
    assert [row['layer'] for row in resnet50_layers['rows']] == printed
    assert resnet50_layers['totals']['params'] == totals['total_params']
    assert resnet50_layers['totals']['trainable_params'] == totals['trainable_params']


def test_trainable_column_names_batchnorms_tensors(resnet50_layers):
    rows = {row['layer']: row for row in resnet50_layers['rows']}
    assert rows['BatchNorm2D-1']['trainable'] == ['weight', 'bias']
    assert rows['BatchNorm2D-1']['non_trainable'] == ['_mean', '_variance']
    assert tables.trainable_text(rows['BatchNorm2D-1']) == 'weight, bias (not _mean, _variance)'
    # The non-trainable total is exactly the BatchNorm running statistics: 2 per channel.
    bn_channels = sum(row['output_shape'][1] for row in resnet50_layers['rows']
                      if row['layer'].startswith('BatchNorm2D'))
    assert resnet50_layers['totals']['non_trainable_params'] == 2 * bn_channels


# --- the script: formats ------------------------------------------------------------

def test_stages_json_carries_the_tables_numbers():
    result = run_script('summary.py', '--stages', '--layers', '18', '--input-size', '64',
                        '--format', 'json')
    assert result.returncode == 0 and result.stderr == ''
    data = json.loads(result.stdout)
    assert sorted(data) == ['input_shape', 'macs_by_variant', 'network', 'notes',
                            'output_shape', 'rows', 'totals', 'variant', 'view']
    model = resnet.ResNet(18)
    assert data['totals']['params'] == count_params(model)
    assert data['totals']['macs'] == model_macs(model, (1, 3, 64, 64))
    assert [row['stage'] for row in data['rows']] == STAGES
    assert sorted(data['rows'][0]) == ['block', 'macs', 'output_size', 'params',
                                       'share_percent', 'stage']
    plain = run_script('summary.py', '--stages', '--layers', '18', '--input-size', '64')
    lines = plain.stdout.splitlines()
    for row in data['rows'] + [{'stage': 'total', **data['totals'], 'share_percent': 100}]:
        (line,) = [line for line in lines if line.startswith(row['stage'] + '  ')]
        assert f' {row["params"]:,} ' in line
        assert f' {row["macs"] / 1e9:.3f} ' in line
        assert line.endswith(f' {row["share_percent"]:.1f} %')


def test_layer_csv_parses_back_to_the_model():
    result = run_script('summary.py', '--block', 'bottleneck', '--macs', '--explain',
                        '--format', 'csv')
    assert result.returncode == 0 and result.stderr == ''
    rows = csv_rows(result.stdout)
    assert list(rows[0]) == ['layer', 'input_shape', 'output_shape', 'params',
                             'trainable_params', 'trainable', 'macs', 'formula']
    *layers, total = rows
    block = BottleneckBlock(64, 128, 2)
    assert total['layer'] == 'total'
    assert sum(int(row['params']) for row in layers) == int(total['params']) == count_params(block)
    assert sum(int(row['trainable_params']) for row in layers) == \
        count_params(block, trainable_only=True)
    assert sum(int(row['macs'] or 0) for row in layers) == int(total['macs']) == \
        model_macs(block, (1, 64, 224, 224))
    # The article's BottleneckBlock(64, 128, 2): its 3x3 conv halves 224 to 112.
    assert rows[3]['layer'] == 'Conv2D-2'
    assert rows[3]['formula'] == '(224 + 2*1 - 3) // 2 + 1 = 112'


def test_layer_json_has_stable_keys_and_the_models_totals():
    result = run_script('summary.py', '--layers', '18', '--input-size', '32', '--format', 'json')
    data = json.loads(result.stdout)
    model = resnet.ResNet(18)
    assert sorted(data['totals']) == ['macs', 'non_trainable_params', 'params',
                                      'trainable_params']
    assert data['totals']['params'] == sum(row['params'] for row in data['rows']) == \
        count_params(model)
    assert data['totals']['macs'] == model_macs(model, (1, 3, 32, 32))
    assert {tuple(sorted(row)) for row in data['rows']} == {(
        'formula', 'input_shape', 'layer', 'macs', 'non_trainable', 'output_shape', 'params',
        'trainable', 'trainable_params')}
    again = run_script('summary.py', '--layers', '18', '--input-size', '32', '--format', 'json')
    assert again.stdout == result.stdout


def test_overview_json_and_table():
    result = run_script('summary.py', '--overview', '--input-size', '32', '--num-classes', '10',
                        '--format', 'json')
    assert result.returncode == 0 and result.stderr == ''
    data = json.loads(result.stdout)
    assert [row['depth'] for row in data['rows']] == list(SUPPORTED_LAYERS)
    for row in data['rows']:
        blocks = layers_config[row['depth']]['num_blocks']
        # The article: "(3+4+6+3) x 3 = 48 layers, plus the 7x7 conv and the fc: 50".
        per_block = 3 if layers_config[row['depth']]['block_type'] == 'BottleneckBlock' else 2
        assert row['layer_count'] == (f'1 + {per_block} x ({"+".join(map(str, blocks))}) + 1 '
                                      f'= {row["depth"]}')
        assert row['output_shape'] == [1, 10]
        assert row['params'] - row['trainable_params'] == row['non_trainable_params'] > 0
        assert (row['macs']['v1'] == row['macs']['v1.5']) == (per_block == 2)
    resnet18 = resnet.ResNet(18, num_classes=10)
    assert data['rows'][0]['params'] == count_params(resnet18)
    assert data['rows'][0]['macs']['v1.5'] == model_macs(resnet18, (1, 3, 32, 32))
    markdown = summarize('--overview', '--input-size', '32', '--num-classes', '10',
                         '--format', 'markdown')
    (line,) = [line for line in markdown.splitlines() if line.startswith('| ResNet-50 ')]
    assert '| 1 + 3 x (3+4+6+3) + 1 = 50 ' in line
    assert f'| {data["rows"][2]["params"]:,} |' in line
    assert f' {data["rows"][2]["macs"]["v1"] / 1e9:.3f} |' in line


@pytest.mark.parametrize('name, args, ours, articles', ARTICLE_TABLES)
def test_new_flags_leave_the_articles_tables_unchanged(reference, name, args, ours, articles):
    result = run_script('summary.py', *args, '--format', 'plain', '--variant', 'v1.5')
    assert result.returncode == 0 and result.stderr == ''
    printed, expected = result.stdout.splitlines(), reference(name).splitlines()
    differing = [i for i, (a, b) in enumerate(zip(printed, expected)) if a != b]
    assert len(printed) == len(expected)
    assert [printed[i] for i in differing] == list(ours)


def test_teaching_tables_do_not_disturb_paddle_summary_numbering():
    first = summarize('--block', 'bottleneck')
    tables.layer_table(profile(lambda: resnet.ResNet(18), (None, 3, 32, 32)), 'ResNet-18')
    assert summarize('--block', 'bottleneck') == first


@pytest.mark.parametrize('args, message', [
    (['--format', 'xml'], '--format xml is not known; choose from plain, github, markdown, csv, json'),
    (['--variant', 'v2'], '--variant v2 is not known; choose from v1, v1.5'),
    (['--stages', '--block', 'basic'], '--stages is for a whole network, not for --block'),
    (['--stages', '--overview'], 'argument --overview: not allowed with argument --stages'),
    (['--overview', '--layers', '50'], '--overview shows every depth in both variants; it takes no --layers'),
    (['--overview', '--variant', 'v1'], 'it takes no --variant'),
    (['--stages', '--macs'], '--macs adds a column to the per-layer table; --stages is a table of its own'),
    (['--overview', '--explain'], '--explain adds a column to the per-layer table; --overview is a table'),
    (['--overview', '--input-size', '16'], 'each side must be from 32 to 1024'),
])
def test_bad_combinations_are_one_line_and_exit_code_2(args, message):
    result = run_script('summary.py', *args)
    assert result.returncode == 2
    assert result.stdout == ''
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith('summary.py: error: ') and message in result.stderr
    assert 'Traceback' not in result.stderr


def test_help_states_the_macs_convention():
    result = run_script('summary.py', '--help')
    text = ' '.join(result.stdout.split())
    assert 'multiply-adds of the conv and fc layers' in text
    assert 'residual additions and biases are not counted' in text
    for flag in ('--stages', '--overview', '--explain', '--macs', '--format', '--variant',
                 '--depth', '--model', '--models', 'cifar_resnet20', 'inception_v3'):
        assert flag in text


# --- the CIFAR-10 networks of Section 4.2 -------------------------------------------

@pytest.mark.parametrize('arch, n', [('cifar_resnet20', 3), ('cifar_plain56', 9)])
def test_cifar_stages_are_the_papers_cifar_table(arch, n):
    data = teaching.stage_table(arch, (None, 3, 32, 32), CIFAR_NUM_CLASSES)
    *stages, head = data.rows
    # Section 4.2 of the paper: output map size 32x32, 16x16, 8x8; # layers 1+2n, 2n,
    # 2n; # filters 16, 32, 64; then global average pooling and a 10-way fc: 6n+2 layers.
    assert [row.output_size for row in stages] == [[32, 32], [16, 16], [8, 8]]
    assert [row.layers_text for row in stages] == [f'1+2n = {1 + 2 * n}', f'2n = {2 * n}',
                                                   f'2n = {2 * n}']
    assert [row.filters for row in stages] == [16, 32, 64]
    assert head.block == 'average pool, 10-d fc' and head.layers == 1
    assert data.totals['layers'] == sum(row.layers for row in data.rows) == 6 * n + 2
    assert data.totals['layers_text'] == f'6n+2 = {6 * n + 2} (n = {n})'
    assert stages[1].block == f'[3x3, 32; 3x3, 32] x {n}'
    model = resnet.build(arch)
    assert sum(row.params for row in data.rows) == data.totals['params'] == \
        count_params(model)
    assert sum(row.macs for row in data.rows) == data.totals['macs'] == \
        model_macs(model, (1, 3, 32, 32))
    assert data.output_shape == [1, 10]


def test_cifar_residual_and_plain_networks_have_the_same_parameters():
    # Section 4.2: option A shortcuts add no parameters, so each residual network has
    # exactly as many as its plain counterpart.
    residual, plain = (teaching.stage_table(arch, (None, 3, 32, 32), CIFAR_NUM_CLASSES)
                       for arch in ('cifar_resnet32', 'cifar_plain32'))
    assert [row.params for row in residual.rows] == [row.params for row in plain.rows]
    assert 'option A shortcuts' in residual.notes[0] and 'no shortcuts' in plain.notes[0]


def test_cifar_networks_default_to_32x32_and_10_classes():
    text = summarize('--arch', 'cifar_resnet20')
    lines = text.splitlines()
    assert lines[3].split()[:5] == ['Conv2D-1', '[[1,', '3,', '32,', '32]]']
    assert lines[-11].split()[0] == 'Linear-1' and '[1, 10]' in lines[-11]
    assert 'Total params: 271,098' in text
    data = json.loads(summarize('--arch', 'cifar_resnet20', '--explain', '--macs', '--format', 'json'))
    assert data['totals']['params'] == count_params(resnet.build('cifar_resnet20'))
    assert data['rows'][0]['formula'] == '(32 + 2*1 - 3) // 1 + 1 = 32'
    assert data['totals']['macs'] == model_macs(resnet.build('cifar_resnet20'), (1, 3, 32, 32))


@pytest.mark.parametrize('fmt', ['plain', 'github', 'markdown', 'csv', 'json'])
def test_cifar_stages_in_every_format(fmt):
    text = summarize('--arch', 'cifar_resnet20', '--stages', '--format', fmt)
    if fmt == 'json':
        assert json.loads(text)['totals']['layers'] == 20
    elif fmt == 'csv':
        rows = csv_rows(text)
        assert [row['output_size'] for row in rows] == ['32x32', '16x16', '8x8', '1x1', '']
        assert [row['filters'] for row in rows[:3]] == ['16', '32', '64']
    else:
        assert '6n+2 = 20' in text and '(n = 3)' in text and '1+2n = 7' in text
        assert 'as in the CIFAR-10 table of the paper (Section 4.2)' in text


def test_cifar_depth_2_is_one_row_per_block():
    data = json.loads(summarize('--arch', 'cifar_resnet20', '--depth', '2', '--format', 'json'))
    blocks = [row for row in data['rows'] if row['layer'] == 'BasicBlock']
    assert len(blocks) == 9 and all(row['depth'] == 2 for row in blocks)
    assert sum(row['params'] for row in data['rows']) == data['totals']['params']
    assert sum(row['macs'] or 0 for row in data['rows']) == data['totals']['macs']


@pytest.mark.parametrize('args, message', [
    (['--arch', 'cifar_resnet56', '--variant', 'v1'], '--variant places the stride of a bottleneck'),
    (['--arch', 'cifar_resnet20', '--input-size', '2'], 'each side must be from 4 to 1024'),
    (['--arch', 'cifar_resnet21'], '--arch cifar_resnet21 is not known; choose from resnet18,'),
])
def test_cifar_bad_input_is_one_line(args, message):
    result = run_script('summary.py', *args)
    assert result.returncode == 2 and result.stdout == ''
    assert len(result.stderr.splitlines()) == 1 and message in result.stderr
