"""The ResNet views fit a terminal of 100 columns, as the guide asks, while --format csv
and json keep every column.  paddle.summary's own per-layer table is as wide as
paddle.summary makes it (see test_summary.py) and is not checked here."""
import csv
import io
import json

import pytest

from resnet.configs import ARCHS, CIFAR_ARCHS
from helpers import run_script
from paddleinfo import render
from resnet_tools.views import teaching
from resnet_tools.weights import compare

COLUMNS = 100


def too_wide(text):
    return [line for line in text.splitlines() if len(line) > COLUMNS]


@pytest.mark.parametrize('args', [
    ('--stages',),
    ('--stages', '--variant', 'v1'),
    ('--stages', '--layers', '152'),
    ('--stages', '--arch', 'cifar_resnet20'),
    ('--stages', '--arch', 'cifar_plain110'),
    ('--overview', '--input-size', '64'),
    ('--overview', '--input-size', '64', '--num-classes', '0'),
    # Both per-layer additions at once: cells break more finely (render.FINER_BREAKS).
    ('--explain', '--macs'),
    ('--block', 'bottleneck', '--explain', '--macs'),
], ids=' '.join)
def test_summary_views_fit_100_columns(args):
    result = run_script('summary.py', *args)
    assert result.returncode == 0 and result.stderr == ''
    assert too_wide(result.stdout) == []


def test_compare_views_fit_100_columns():
    # wide_resnet101_2 has the longest name and the largest counts of the 13.
    result = run_script('compare.py', '--arch', 'wide_resnet101_2', '--per-layer',
                        '--input-size', '32')
    assert result.returncode == 0, result.stderr
    assert too_wide(result.stdout) == []
    (row,) = [line for line in result.stdout.splitlines() if line.startswith('wide_resnet101_2 ')]
    assert row.split() == ['wide_resnet101_2', '127,024,552', '127,024,552', '126,886,696',
                           '126,886,696', '522,', 'same', '0', 'same']


def test_a_broken_cell_is_one_line_in_markdown_csv_and_json():
    data = teaching.stage_table('resnet50', (None, 3, 64, 64))
    plain = render.render(data, teaching.stage_view, 'plain').splitlines()
    # As the paper's Table 1 prints conv2_x: the max pool, then the blocks below it.
    (first,) = [i for i, line in enumerate(plain) if line.startswith('conv2_x')]
    assert '  3x3 max pool, stride 2, then  ' in plain[first] and plain[first].endswith(' %')
    assert plain[first + 1].strip() == '[1x1, 64; 3x3, 64; 1x1, 256] x 3'
    whole = '3x3 max pool, stride 2, then [1x1, 64; 3x3, 64; 1x1, 256] x 3'
    assert f'| {whole} ' in render.render(data, teaching.stage_view, 'markdown')
    rows = list(csv.DictReader(io.StringIO(render.render(data, teaching.stage_view, 'csv'))))
    assert rows[1]['block'] == whole
    assert json.loads(render.render(data, teaching.stage_view, 'json'))['rows'][1]['block'] == whole


def test_the_overview_tells_the_output_shape_once_and_csv_keeps_it():
    data = teaching.overview((None, 3, 32, 32), 10)
    plain = render.render(data, teaching.overview_view, 'plain')
    assert plain.splitlines()[0] == 'ResNet-18 .. ResNet-152, input [1, 3, 32, 32], output [1, 10]'
    rows = list(csv.DictReader(io.StringIO(render.render(data, teaching.overview_view, 'csv'))))
    assert {row['output_shape'] for row in rows} == {'1x10'}
    assert list(rows[0]) == ['network', 'block', 'layer_count', 'layers', 'params',
                             'trainable_params', 'macs_v1.5', 'macs_v1', 'output_shape']
    # Without the fc layer the depths differ, and a note says how.
    pooled = render.render(teaching.overview((None, 3, 32, 32), 0), teaching.overview_view, 'plain')
    assert ('Output shape: [1, 512, 1, 1] for ResNet-18, ResNet-34; [1, 2048, 1, 1] for '
            'ResNet-50, ResNet-101, ResNet-152.') in ' '.join(pooled.split())


def test_the_per_layer_mapping_names_a_blocks_layers_within_it():
    rows = compare.tree_rows(compare.per_layer_rows('resnet18'))
    names = {row[0]: row[1] for row in rows}
    assert names['residual_block.2'] == 'layer2.0'
    start = [row[0] for row in rows].index('residual_block.2')
    assert rows[start + 1][:2] == ['  .conv_bn_block1.0', '  .conv1']
    assert names['fc'] == 'fc' and names['flatten'] == '- (paddle.flatten)'


@pytest.mark.slow
# cifar_plain1202's table is cifar_resnet1202's but for the note; building it takes long.
@pytest.mark.parametrize('arch', [*ARCHS, *(arch for arch in CIFAR_ARCHS if arch != 'cifar_plain1202')])
def test_every_networks_stage_table_fits_100_columns(arch):
    # The widest cells are the ResNeXt blocks and cifar_resnet1202's counts; the input
    # size changes only the MACs, whose column is wider than they are.
    data = teaching.stage_table(arch, (None, 3, 32, 32), 10)
    assert too_wide(render.render(data, teaching.stage_view, 'plain')) == []
