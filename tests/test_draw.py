"""draw.py: the paper's Figure 3 and Figure 5 drawn from the model.

The boxes, labels and shortcut arcs are checked against the model they were drawn
from (its convs, pools, fc and each block's `down_sample_block`), and against the
labels the paper's Figure 3 prints for ResNet-34 (He et al., 2015, Figure 3, right).
"""
import os
import re

import matplotlib.image
import paddle
import pytest
from paddle import nn

import resnet
from resnet.blocks import BottleneckBlock
from helpers import REPO, load_script, run_script
from resnet_tools import files
from resnet_tools.views import architecture as drawing
from resnet_tools.views import drawing as figures

IMAGENET = (None, 3, 224, 224)



draw_script, summary_script = load_script('draw.py'), load_script('summary.py')


def build(arch, **options):
    with paddle.utils.unique_name.guard():
        return resnet.build(arch, **options)


def boxes(column):
    return [item.label for item in column.items if item.kind == 'box']


def residual_path_convs(model):
    """Every conv of the model that is not a projection shortcut: the stem's and F(x)'s."""
    return [layer for name, layer in model.named_sublayers()
            if isinstance(layer, nn.Conv2D) and 'down_sample_block' not in name]


@pytest.mark.parametrize('arch', ['resnet18', 'resnet34', 'resnet50'])
def test_one_box_per_conv_pool_and_fc_and_one_arc_per_shortcut(arch):
    model = build(arch)
    column = drawing.network_column(model, (None, 3, 64, 64), arch)
    pools = [layer for layer in model.sublayers() if isinstance(layer, (nn.MaxPool2D, nn.AdaptiveAvgPool2D))]
    fcs = [layer for layer in model.sublayers() if isinstance(layer, nn.Linear)]
    assert len(boxes(column)) == len(residual_path_convs(model)) + len(pools) + len(fcs)
    # Projection convs are dashed arcs, not boxes: ResNet-34 has 33 convs drawn, 3 not.
    assert sum(label.endswith(' conv') or ' conv, ' in label for label in boxes(column)) \
        == len(residual_path_convs(model))

    blocks = list(model.residual_block)
    identities = sum(block.down_sample_block is None for block in blocks)
    projections = len(blocks) - identities
    assert [arc.gid for arc in column.arcs if not arc.dashed] == \
        [f'shortcut-identity-{k}' for k in range(1, identities + 1)]
    assert [arc.gid for arc in column.arcs if arc.dashed] == \
        [f'shortcut-projection-{k}' for k in range(1, projections + 1)]
    # Each arc spans exactly its block's convs, in order of depth.
    convs_per_block = len(residual_path_convs(blocks[0]))
    spans = sorted((arc.first, arc.last) for arc in column.arcs)
    assert all(last - first + 1 == convs_per_block for first, last in spans)
    assert all(a[1] < b[0] for a, b in zip(spans, spans[1:]))
    dashed_at = [block.down_sample_block is not None for block in blocks]
    assert [arc.dashed for arc in sorted(column.arcs, key=lambda arc: arc.first)] == dashed_at


def test_resnet34_reads_as_the_papers_figure_3():
    # The labels of the paper's Figure 3 (34-layer residual), top to bottom.
    paper = (['7x7 conv, 64, /2', 'pool, /2'] + ['3x3 conv, 64'] * 6
             + ['3x3 conv, 128, /2'] + ['3x3 conv, 128'] * 7
             + ['3x3 conv, 256, /2'] + ['3x3 conv, 256'] * 11
             + ['3x3 conv, 512, /2'] + ['3x3 conv, 512'] * 5 + ['avg pool', 'fc 1000'])
    column = drawing.network_column(build('resnet34'), IMAGENET, 'ResNet-34')
    assert boxes(column) == paper
    # The output sizes of the paper's Table 1, beside the stages.
    assert [(band.title, band.note) for band in column.bands] == [
        ('conv1', '112x112'), ('conv2_x', '56x56'), ('conv3_x', '28x28'), ('conv4_x', '14x14'),
        ('conv5_x', '7x7'), ('pool, fc', '1000-d')]
    assert [arc.label for arc in column.arcs if arc.dashed] == \
        ['1x1 conv, 128, /2', '1x1 conv, 256, /2', '1x1 conv, 512, /2']


@pytest.mark.parametrize('variant, first_block', [
    ('v1.5', ['1x1 conv, 128', '3x3 conv, 128, /2', '1x1 conv, 512']),
    ('v1', ['1x1 conv, 128, /2', '3x3 conv, 128', '1x1 conv, 512'])])
def test_resnet50_bottlenecks_put_the_stride_where_the_variant_says(variant, first_block):
    column = drawing.network_column(build('resnet50', variant=variant, num_classes=7),
                                    (None, 3, 64, 64), 'ResNet-50')
    labels = boxes(column)
    assert labels[2:5] == ['1x1 conv, 64', '3x3 conv, 64', '1x1 conv, 256']
    assert labels[11:14] == first_block
    assert labels[-1] == 'fc 7'


def test_resnext_shows_its_groups():
    labels = boxes(drawing.network_column(build('resnext50_32x4d'), (None, 3, 64, 64), 'x'))
    assert labels[2:5] == ['1x1 conv, 128', '3x3 conv, 128, C=32', '1x1 conv, 256']


def test_cifar_resnet20_has_a_3x3_stem_no_pool_and_zero_padding_shortcuts():
    model = build('cifar_resnet20')
    column = drawing.network_column(model, (None, 3, 32, 32), 'cifar_resnet20')
    labels = boxes(column)
    # Section 4.2: a 3x3 conv with 16 filters, 6n = 18 convs, global average pool, 10-way fc.
    assert labels[0] == '3x3 conv, 16' and labels[-2:] == ['avg pool', 'fc 10']
    assert len(labels) == 1 + 18 + 2 and not any(label.startswith('pool') for label in labels)
    assert [arc.gid for arc in column.arcs if arc.dashed] == ['shortcut-zeropad-1', 'shortcut-zeropad-2']
    assert sum(not arc.dashed for arc in column.arcs) == 7
    assert [band.note for band in column.bands] == ['32x32', '32x32', '16x16', '8x8', '10-d']
    plain = drawing.network_column(build('cifar_plain20'), (None, 3, 32, 32), 'plain')
    assert boxes(plain) == labels and plain.arcs == []


def test_a_deep_stage_is_drawn_as_first_block_gap_last_block():
    model = build('resnet101')
    column = drawing.network_column(model, (None, 3, 64, 64), 'ResNet-101', max_blocks=6)
    gaps = [item.label for item in column.items if item.kind == 'gap']
    assert gaps == ['21 blocks (63 convs) left out']
    # Arcs keep the model's numbering: the last identity is the model's last of 29.
    identities = sum(block.down_sample_block is None for block in model.residual_block)
    assert identities == 29
    assert [arc.gid for arc in column.arcs][-1] == f'shortcut-identity-{identities}'
    full = drawing.network_column(model, (None, 3, 64, 64), 'ResNet-101', max_blocks=0)
    assert len(boxes(full)) == len(residual_path_convs(model)) + 3 and len(full.arcs) == 33


def test_the_bottleneck_block_figure_shows_three_convs_and_the_projection():
    with paddle.utils.unique_name.guard():
        block = BottleneckBlock(64, 128, 2)
    column = drawing.block_column(block, (None, 64, 56, 56), 'BottleneckBlock(64, 128, 2)')
    assert boxes(column) == ['1x1 conv, 32', '3x3 conv, 32, /2', '1x1 conv, 128']
    assert [item.note for item in column.items if item.kind == 'box'] == \
        ['32x56x56', '32x28x28', '128x28x28']
    (arc,) = column.arcs
    assert (arc.gid, arc.dashed, arc.label) == ('shortcut-projection-1', True, '1x1 conv, 128, /2')
    assert column.items[arc.into].kind == 'add' and column.items[arc.into].label == 'F(x) + Ws x'
    assert column.items[-1].label == 'ReLU' and column.items[-1].note == '128x28x28'


def test_wrapping_keeps_every_row_and_arc_and_cuts_between_blocks():
    column = drawing.network_column(build('resnet34'), (None, 3, 64, 64), 'ResNet-34')
    pieces = figures.wrap(column, 3)
    assert len(pieces) == 3
    assert [item for piece in pieces for item in piece.items] == column.items
    assert sorted(arc.gid for piece in pieces for arc in piece.arcs) == \
        sorted(arc.gid for arc in column.arcs)
    for piece in pieces:
        assert all(0 <= arc.first <= arc.last < len(piece.items) for arc in piece.arcs)
        assert all(piece.items[arc.first].kind == 'box' for arc in piece.arcs)


def svg_ids(path):
    return re.findall(r'id="(shortcut-[a-z]+-\d+|(?:plain-)?box-\d+)"', path.read_text(encoding='utf-8'))


def test_the_svg_keeps_text_and_ids_and_is_the_same_every_run(tmp_path):
    outputs = [tmp_path / 'one.svg', tmp_path / 'two.svg']
    for output in outputs:
        result = run_script('draw.py', '--arch', 'resnet18', '--output', output)
        assert result.returncode == 0, result.stderr
        assert result.stderr == ''
    assert result.stdout == f'wrote {outputs[1]}: ResNet-18: 20 boxes, 5 identity + 3 projection shortcuts\n'
    assert outputs[0].read_bytes() == outputs[1].read_bytes()
    text = outputs[0].read_text(encoding='utf-8')
    assert '>3x3 conv, 128, /2</text>' in text and '>fc 1000</text>' in text
    ids = svg_ids(outputs[0])
    assert [i for i in ids if i.startswith('box-')] == [f'box-{k}' for k in range(1, 21)]
    assert [i for i in ids if 'identity' in i] == [f'shortcut-identity-{k}' for k in range(1, 6)]
    assert [i for i in ids if 'projection' in i] == [f'shortcut-projection-{k}' for k in range(1, 4)]


def test_a_cifar_figure_has_a_paper_name_and_a_legend_true_to_its_stages(tmp_path):
    output = tmp_path / 'cifar.svg'
    draw_script.main(['--arch', 'cifar_plain20', '--output', str(output)])
    text = output.read_text(encoding='utf-8')
    # Section 4.2 numbers the CIFAR stages; Table 1 names only the ImageNet ones.
    assert '>plain-20 (CIFAR-10)</text>' in text and '>stage 1</text>' in text
    assert "Table 1" not in text and 'its number' in text
    imagenet = tmp_path / 'imagenet.svg'
    draw_script.main(['--arch', 'resnet18', '--output', str(imagenet)])
    text = imagenet.read_text(encoding='utf-8')
    assert '>ResNet-18</text>' in text and '>conv2_x</text>' in text and "Table 1" in text
    assert drawing.network_drawing(arch='cifar_resnet56')[1][0].title == 'ResNet-56 (CIFAR-10)'


def test_one_shortcut_is_singular(tmp_path, capsys):
    draw_script.main(['--block', 'basic', '--output', str(tmp_path / 'x.svg')])
    assert capsys.readouterr().out.endswith(': BasicBlock(64, 128, 2): 2 boxes, 1 projection shortcut\n')


def test_compare_puts_the_plain_twin_beside_and_png_opens(tmp_path):
    output = tmp_path / 'compare.png'
    draw_script.main(['--arch', 'cifar_resnet20', '--compare', '--output', str(output)])
    image = matplotlib.image.imread(output)
    height, width = image.shape[:2]
    # Two columns side by side, each taller than wide; 150 dpi.
    assert 1000 < width < 2000 and height > 1500
    figure, drawn = drawing.network_drawing(arch='cifar_resnet20', compare=True)
    assert [column.title for column in drawn] == ['20-layer plain', '20-layer residual']
    assert drawn[0].arcs == [] and len(drawn[1].arcs) == 9
    assert boxes(drawn[0]) == boxes(drawn[1])


@pytest.mark.parametrize('suffix, magic', [('.pdf', b'%PDF'), ('.png', b'\x89PNG')])
def test_pdf_and_png_are_the_same_every_time(suffix, magic):
    data = [figures.figure_bytes(drawing.block_drawing('basic')[0], suffix) for _ in range(2)]
    assert data[0].startswith(magic) and data[0] == data[1]


def test_the_readme_figures_are_up_to_date(tmp_path):
    written = drawing.readme_figures(tmp_path)
    committed = REPO / 'docs' / 'figures'
    # docs/figures also holds degradation.py's figure, which test_degradation checks.
    assert sorted(path.name for path in written) == [
        'basic_block.svg', 'bottleneck_block.svg', 'resnet34.svg', 'resnet50.svg']
    for path in written:
        assert path.read_bytes() == (committed / path.name).read_bytes(), \
            f'docs/figures/{path.name} is out of date: run python scripts/draw.py --readme-figures'


def errors(script, argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        script.run(lambda: script.main(argv), f'{script.__name__[:-7]}.py')
    assert exit_.value.code == 2
    message = capsys.readouterr().err
    assert message.count('\n') == 1
    return message.split(': error: ', 1)[1]


@pytest.mark.parametrize('argv', [
    ['--arch', 'resnet35'], ['--layers', '35'], ['--layers', '50', '--input-size', '16'],
    ['--num-classes', '-1'], ['--variant', 'v2'], ['--block', 'triple'],
    ['--block', 'bottleneck', '--out-channels', '30'], ['--block', 'basic', '--stride', '3'],
])
def test_bad_input_gets_summary_pys_errors(argv, tmp_path, capsys):
    drawn = errors(draw_script, argv + ['--output', str(tmp_path / 'x.svg')], capsys)
    assert drawn == errors(summary_script, argv, capsys)
    assert not (tmp_path / 'x.svg').exists()


@pytest.mark.parametrize('argv, message', [
    (['--arch', 'cifar_resnet20', '--variant', 'v1'], '--variant places the stride of a bottleneck block'),
    (['--arch', 'cifar_resnet20', '--input-size', '2'], '--input-size 2 is out of range for cifar_resnet20'),
    (['--arch', 'cifar_resnet20', '--num-classes', '0'],
     '--num-classes 0 drops the fc layer of an ImageNet ResNet; cifar_resnet20 always has one'),
    (['--shortcut', 'D'], '--shortcut D is not known; choose from A, B, C, none'),
    (['--compare', '--shortcut', 'none'], '--compare puts the plain network beside'),
    (['--block', 'basic', '--compare'], '--compare is for a whole network'),
    (['--layers', '18', '--stride', '1'], '--stride goes with --block only'),
    (['--columns', '0'], '--columns 0 is out of range: from 1 to 8'),
])
def test_bad_input_of_its_own(argv, message, tmp_path, capsys):
    assert errors(draw_script, argv + ['--output', str(tmp_path / 'x.svg')], capsys).startswith(message)


def test_outputs_it_refuses(tmp_path, capsys):
    existing = tmp_path / 'old.svg'
    existing.write_text('keep me')
    assert errors(draw_script, ['--output', str(existing)], capsys) == \
        f'{existing} exists already; give --force to replace it (see --help)\n'
    assert existing.read_text() == 'keep me'
    assert errors(draw_script, ['--output', str(tmp_path / 'no' / 'x.svg')], capsys).startswith(
        f'{tmp_path / "no"} is not a directory')
    assert errors(draw_script, ['--output', str(tmp_path / 'x.jpg')], capsys).startswith(
        f'{tmp_path / "x.jpg"}: .jpg is not a format written here; end it in .svg, .png, .pdf')
    assert errors(draw_script, [], capsys).startswith('--output FILE is needed')
    locked = tmp_path / 'locked'
    locked.mkdir(mode=0o500)
    if not os.access(locked, os.W_OK):   # root may write anyway
        assert 'is not writable' in errors(draw_script, ['--output', str(locked / 'x.svg')], capsys)
    draw_script.main(['--block', 'basic', '--output', str(existing), '--force'])
    assert existing.read_bytes().startswith(b'<?xml')
    assert [path.name for path in tmp_path.iterdir() if path.name.endswith('.tmp')] == []


@pytest.mark.skipif(not os.path.isdir('/proc/self'), reason='no /proc')
def test_a_folder_that_refuses_the_write_is_one_line_even_for_root(capsys):
    # /proc passes os.access for root, yet no file can be made there: the folder is tried.
    assert errors(draw_script, ['--block', 'basic', '--output', '/proc/x.svg'], capsys) == \
        '/proc is not writable, so x.svg cannot be written there\n'


def test_a_failed_write_is_one_line_and_leaves_no_temporary_file(tmp_path, capsys, monkeypatch):
    def full_disk(source, target):
        raise OSError(28, 'No space left on device')
    monkeypatch.setattr(files.os, 'replace', full_disk)
    output = tmp_path / 'x.svg'
    assert errors(draw_script, ['--block', 'basic', '--output', str(output)], capsys) == \
        f'{output} cannot be written: No space left on device\n'
    assert list(tmp_path.iterdir()) == []
