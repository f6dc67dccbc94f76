"""The tables of issue 31, from Python and from the shell: readable units, the columns
of the user's choice and verbose=2, the parameters without an input, the mode, the
counting convention, the user's own rules, the count by operator, the completeness
contract and strict, two models row by row, receptive fields, the notebook's one table
and HTML; every figure against a hand count, with the formula beside it."""
import json
import sys
import types

import paddle
import pytest
from paddle import nn
from paddle.vision import models

from paddleinfo import ParameterStatistics, UsageError, api, diff, summary
from paddleinfo.render import readable, scaled
from paddleinfo.errors import ArgumentError, ArgumentTypeError, IncompleteCountError

from summaries import NETS, command, net, one_line_error

WIDTH = 100


def built(factory):
    with paddle.utils.unique_name.guard():
        return factory()


def mlp():
    # Linear(20, 64): 20 x 64 + 64 = 1,344 params, 64 x 20 = 1,280 MACs;
    # Linear(64, 10): 64 x 10 + 10 = 650 params, 10 x 64 = 640 MACs.
    return nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 10))


class Small(nn.Layer):
    """conv 3x3 stride 2 (rf 3, jump 2), max pool 2 (rf 3 + 1 x 2 = 5, jump 4), conv 3x3
    dilation 2 groups 2 (rf 5 + 2 x 2 x 4 = 21, jump 4), global pool on 3x3 (rf 21 + 2 x 4
    = 29, jump 12), then a Linear."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2D(3, 8, 3, stride=2), nn.ReLU(), nn.MaxPool2D(2),
                                      nn.Conv2D(8, 8, 3, dilation=2, groups=2),
                                      nn.AdaptiveAvgPool2D(1))
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        return self.fc(paddle.flatten(self.features(x), 1))


def fits(text):
    return max(map(len, text.splitlines())) <= WIDTH


# --- 1. readable units --------------------------------------------------------------

@pytest.mark.parametrize('value, three, four', [
    (512, '512', '512'), (1_696, '1.70 K', '1.696 K'), (99_950, '100 K', '99.95 K'),
    (999_999, '1.00 M', '1.000 M'), (117_965_312, '118 M', '118.0 M'),
    (4_089_184_256, '4.09 G', '4.089 G'), (714_188_480, '714 M', '714.2 M')])
def test_each_figure_in_the_unit_of_its_size(value, three, four):
    assert (readable(value), scaled(value, 4)) == (three, four)


def test_totals_keep_the_exact_figure_beside_the_readable_one():
    result = summary(built(mlp), (1, 20), verbose=0)
    assert result.macs == 20 * 64 + 64 * 10
    assert 'Total MACs at batch 1: 1,920 (1.92 K)' in str(result)
    assert json.loads(result.render('json'))['totals']['macs'] == 1920


def test_the_side_by_side_table_names_what_it_compares_each_in_its_unit(capsys):
    code, out, err = command(capsys, 'LeNet', f'{net("mlp")}@20')
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == 'LeNet, nets.py:mlp side by side, batch 1'
    rows = {line.split()[0]: line for line in lines if line.startswith(('LeNet ', 'nets.py'))}
    # LeNet: conv 6x1x3x3 on 28x28 (6 x 784 x 9 = 42,336), conv 16x6x5x5 on 10x10
    # (16 x 100 x 150 = 240,000), fc 400x120, 120x84, 84x10 (48,000 + 10,080 + 840).
    assert ' 341.3 K ' in rows['LeNet'] and fits(out)
    assert '20 ' in rows['nets.py:mlp']


# --- 2. the columns of the user's choice, verbose=2 ---------------------------------

def test_columns_as_torchinfos_col_names():
    result = summary(built(Small), (1, 3, 32, 32), verbose=0,
                     columns=['kernel_size', 'groups', 'params_percent', 'path', 'mult_adds'])
    title, header, body, csv_rows, _ = __import__('paddleinfo').tables.layer_view(result.to_dict())
    assert header[:6] == ['Layer (type)', 'Kernel', 'Groups', 'Param %', 'Path', 'MACs']
    cells = {line[0]: line for line in body}
    # Conv2D-1: 8 x 3 x 3 x 3 + 8 = 224 of 224 + 296 + 36 = 556 params: 40.3 %.
    assert cells['Conv2D-1'][1:5] == ['3x3', '1', '40.3 %', 'features.0']
    # Conv2D-2, groups 2: (8 / 2) x 3 x 3 x 8 + 8 = 296 params; output 3x3: 9 x 8 x 36 = 2,592.
    assert cells['Conv2D-2'][1:6] == ['3x3', '2', '53.2 %', 'features.3', '2,592']
    assert csv_rows[-1]['mult_adds'] == result.macs == 15 * 15 * 8 * 27 + 2592 + 32


def test_verbose_2_shows_each_layers_weights(capsys):
    summary(built(mlp), (1, 20), verbose=2)
    out = capsys.readouterr().out
    assert '  ├─weight [20, 64]' in out and '  └─bias [64]' in out
    assert [line.split()[-1] for line in out.splitlines() if 'weight [64, 10]' in line] == ['640']


def test_columns_from_the_shell(capsys):
    code, out, err = command(capsys, net('mlp'), '--input', '20', '--columns',
                             'output_size,num_params,trainable,mult_adds', '--weights')
    assert code == 0, err
    assert out.splitlines()[2].split() == ['Layer', '(type)', 'Output', 'Shape', 'Param', '#',
                                           'Trainable', 'MACs']
    assert fits(out) and '└─bias [10]' in out


@pytest.mark.parametrize('args, message', [
    (['--columns', 'params'], '--columns column params is not known; choose from input_size'),
    (['--columns', 'num_params,num_params'], '--columns names num_params twice'),
    (['--columns', 'num_params', '--macs'], '--macs adds columns; with --columns'),
    (['--columns', 'num_params', '--depth', '1'], '--columns is for the per-layer table'),
])
def test_columns_mistakes_are_one_line(capsys, args, message):
    assert message in one_line_error(capsys, net('mlp'), '--input', '20', *args)


def test_columns_mistakes_in_python_are_value_errors():
    with pytest.raises(ValueError, match='column flops is not known'):
        summary(built(mlp), (1, 20), verbose=0, columns=['flops'])


# --- 3. the parameters without an input --------------------------------------------

def test_a_model_without_an_input_lists_its_parameters(capsys):
    result = summary(built(Small))
    assert isinstance(result, ParameterStatistics)
    # 224 + 296 (conv) + 8 x 4 + 4 = 36 (fc).
    assert (result.total_params, result['trainable_params'], result.macs) == (556, 556, None)
    rows = {row['path']: row for row in result.rows}
    assert rows['features']['params'] == 520 and rows['fc']['params'] == 36
    assert capsys.readouterr().out.startswith('Small: parameters by module path\n')


def test_a_factory_without_an_input_is_built_in_the_static_graph():
    result = summary(lambda: models.resnet18(), verbose=0)
    assert result.total_params == sum(int(p.numel()) for p in built(models.resnet18).parameters())
    assert paddle.in_dynamic_mode()
    with pytest.raises(ValueError, match='needs an input'):
        summary(built(mlp), verbose=0, count='flops')


def test_the_parameters_from_the_shell(capsys):
    code, out, err = command(capsys, 'resnet18', '--parameters', '--depth', '1', '--format', 'json')
    assert code == 0, err
    data = json.loads(out)
    assert [row['path'] for row in data['rows']] == ['', 'conv1', 'bn1', 'layer1', 'layer2',
                                                     'layer3', 'layer4', 'fc']
    # fc: 512 x 1000 + 1000.
    assert data['rows'][-1]['params'] == 513_000
    assert data['totals']['params'] == sum(int(p.numel()) for p in built(models.resnet18).parameters())


# --- 4, 7, 8. the mode, the convention, the user's rules ----------------------------

def test_the_mode_goes_to_the_trace():
    result = summary(built(mlp), (1, 20), verbose=0, mode='train')
    assert result.macs == 1920 and 'Traced in train mode' in ' '.join(result.notes)


@pytest.mark.parametrize('arguments, kind, message', [
    ({'mode': 'training'}, ValueError, 'mode training is not known; choose from eval, train'),
    ({'count': 'gflops'}, ValueError, 'count gflops is not known'),
    ({'rules': ['pd_op.kron']}, TypeError, 'rules must be a dict'),
    ({'rules': {'pd_op.kron': 3}}, TypeError, 'the rule for pd_op.kron must be a function'),
    ({'strict': 'yes'}, TypeError, 'strict is True or False'),
    ({'verbose': 3}, ValueError, 'verbose is 0'),
])
def test_trace_arguments_are_checked(arguments, kind, message):
    with pytest.raises(kind, match=message.replace('[', r'\[')) as raised:
        summary(built(mlp), (1, 20), **{'verbose': 0, **arguments})
    assert isinstance(raised.value, UsageError)


@pytest.mark.parametrize('args, message', [
    (['--mode', 'training'], '--mode training is not known; choose from eval, train'),
    (['--count', 'gflops'], '--count gflops is not known'),
    (['--rules', 'nowhere_at_all:RULES'], '--rules nowhere_at_all:RULES: nowhere_at_all does '
                                          'not import'),
    (['--rules', 'json:dumps'], '--rules json:dumps: rules must be a dict'),
    (['--rules', 'json'], '--rules json: give MODULE:NAME'),
])
def test_trace_flags_mistakes_are_one_line(capsys, args, message):
    assert message in one_line_error(capsys, net('mlp'), '--input', '20', *args)


def test_the_users_rules_go_to_the_trace(capsys, tmp_path, monkeypatch):
    module = tmp_path / 'my_rules.py'
    module.write_text('RULES = {"pd_op.matmul": lambda op: 1}\nNOT_A_DICT = 3\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert 'must be a dict' in one_line_error(capsys, net('mlp'), '--input', '20', '--rules',
                                         'my_rules:NOT_A_DICT')
    code, out, err = command(capsys, net('mlp'), '--input', '20', '--rules', 'my_rules:RULES',
                             '--format', 'json')
    # The rule replaces the built-in one: each of the MLP's two matmuls counts 1.
    data = json.loads(out)
    assert code == 0 and data['totals']['macs'] == 2
    assert data['status']['user_rules'] == ['pd_op.matmul']


# --- 5, 6. by operator, the completeness contract, strict ---------------------------

def test_the_count_by_operator():
    result = summary(built(mlp), (1, 20), verbose=0)
    data = json.loads(result.render('json'))
    assert data['by_operator'] == result.by_operator and data['status'] == result.status
    assert result.status['complete'] is True and result.status['left_out'] == {}
    # Both Linear layers are matmuls: 20 x 64 + 64 x 10 = 1,920.
    assert result.by_operator == {'pd_op.matmul': 1920}
    lines = result.render(view='operators').splitlines()
    assert lines[4].split() == ['pd_op.matmul', '1,920', '1.92', 'K', '100.0', '%']


def test_by_operator_from_the_shell(capsys):
    code, out, err = command(capsys, 'resnet18', '--by-operator', '--format', 'csv')
    assert code == 0, err
    assert out.splitlines()[0] == 'operator,macs,share_percent'
    assert out.splitlines()[-1] == 'total,1814073344,100.0'


class Kron(nn.Layer):
    def forward(self, x):
        return paddle.kron(x, x)


class Inverse(nn.Layer):
    def forward(self, x):
        return paddle.linalg.inv(x)     # pd_op.inverse: no MACs rule


def test_strict_names_what_is_left_out():
    with pytest.raises(IncompleteCountError, match=r'the MACs are not the whole count \(strict\): '
                       r'operators with no rule were left out: pd_op.inverse \(in Inverse-1\)'):
        summary(built(Inverse), (1, 3, 3), verbose=0, strict=True)
    result = summary(built(Inverse), (1, 3, 3), verbose=0)      # without: a lower bound, said so
    assert result.status['complete'] is False
    assert result.status['left_out'] == {'pd_op.inverse': ['Inverse-1']}


def test_strict_from_the_shell_is_one_line(capsys, tmp_path):
    model = tmp_path / 'gate.py'
    model.write_text('from paddle import nn\n'
                     'class Gate(nn.Layer):\n'
                     '    def __init__(self):\n'
                     '        super().__init__()\n'
                     '        self.fc = nn.Linear(4, 4)\n'
                     '    def forward(self, x):\n'
                     '        if x.sum() > 0:\n'
                     '            return self.fc(x)\n'
                     '        return x\n')
    message = one_line_error(capsys, f'{model}:Gate', '--input', '4', '--strict')
    assert "the count is one path's: an `if` in Gate.forward decides the path" in message, message


# --- 9. two models row by row -------------------------------------------------------

def test_two_models_row_by_row_by_path():
    wide = lambda: nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 10))  # noqa: E731
    narrow = lambda: nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 10),  # noqa: E731
                                   nn.Softmax())
    table = diff(summary(built(wide), (1, 20), verbose=0),
                 summary(built(narrow), (4, 20), verbose=0), verbose=0)
    rows = {row['path']: row for row in table.rows}
    assert list(rows) == ['0', '1', '2', '3']
    # 0: 20 x 64 + 64 = 1,344 against 20 x 32 + 32 = 672 params; 4 x 20 x 32 = 2,560 MACs.
    assert (rows['0']['first']['params'], rows['0']['second']['params']) == (1344, 672)
    assert rows['0']['second']['macs'] == 2560 and rows['0']['differs'] == ['params', 'MACs', 'shape']
    assert rows['3']['first'] is None and rows['3']['differs'] == ['only in Sequential (B)']
    assert len(table.changed) == 4 and fits(str(table))


def test_diff_from_the_shell_each_model_its_own_input(capsys):
    code, out, err = command(capsys, 'resnet18@3x224x224', 'resnet18@3x112x112', '--diff')
    assert code == 0, err
    assert out.startswith('resnet18 (A) against resnet18 (B), row by row\n') and fits(out)
    # conv1: 112 x 112 x 64 x 147 = 118,013,952 (118 M); at 112: 56 x 56 x 64 x 147 (29.5 M).
    assert 'conv1 (Conv2D)' in out and '118 M' in out and '29.5 M' in out
    assert '0 of 68 rows differ' not in out
    assert 'compares two models' in one_line_error(capsys, 'resnet18', '--diff')


# --- 10. receptive fields -----------------------------------------------------------

def test_receptive_field_by_hand():
    result = summary(built(Small), (1, 3, 32, 32), verbose=0,
                     columns=['receptive_field', 'effective_stride'])
    rows = {row['layer']: (row['receptive_field'], row['effective_stride'])
            for row in result.to_dict()['rows']}
    assert rows['Conv2D-1'] == ([3, 3], [2, 2]) and rows['MaxPool2D-1'] == ([5, 5], [4, 4])
    assert rows['Conv2D-2'] == ([21, 21], [4, 4])
    assert rows['AdaptiveAvgPool2D-1'] == ([29, 29], [12, 12])


def test_resnet50s_conv5_x_sees_427_pixels(capsys):
    # conv1 7 (jump 2), max pool 11 (4), conv2_x 11 + 3 x 2 x 4 = 35, conv3_x 35 + 2 x 4 +
    # 3 x 2 x 8 = 91, conv4_x 91 + 2 x 8 + 5 x 2 x 16 = 267, conv5_x 267 + 2 x 16 + 2 x 2 x
    # 32 = 427 (jump 32).
    code, out, err = command(capsys, 'resnet50', '--receptive-field', '--depth', '1',
                             '--format', 'json')
    assert code == 0, err
    fields = {row['path']: (row['receptive_field'][0], row['effective_stride'][0])
              for row in json.loads(out)['rows']}
    assert [fields[stage] for stage in ('layer1', 'layer2', 'layer3', 'layer4')] == [
        (35, 4), (91, 8), (267, 16), (427, 32)]


# --- 11. a notebook shows the table once, and HTML ----------------------------------

class Shell:
    execution_count = 7


def test_a_notebook_cell_shows_the_table_once(monkeypatch, capsys):
    shell = Shell()
    monkeypatch.setattr(api, 'ipython', lambda: shell)
    shown = []
    display = types.ModuleType('IPython.display')
    display.display = lambda bundle, raw=False: shown.append(bundle)
    monkeypatch.setitem(sys.modules, 'IPython.display', display)
    result = summary(built(mlp), (1, 20))           # printed in cell 7 ...
    assert capsys.readouterr().out.startswith('Sequential, input [1, 20]')
    result._ipython_display_()                       # ... so its value shows nothing there
    assert shown == []
    shell.execution_count = 8                        # a later cell: the table, text and HTML
    result._ipython_display_()
    assert shown[0]['text/plain'] == str(result)
    assert shown[0]['text/html'].startswith('<div class="paddleinfo">')
    quiet = summary(built(mlp), (1, 20), verbose=0)  # nothing printed: the value shows
    quiet._ipython_display_()
    assert len(shown) == 2


def test_html_from_python_and_the_shell(capsys):
    result = summary(built(mlp), (1, 20), verbose=0)
    html = result.render('html')
    assert '<td>Linear-1</td>' in html and '<td style="text-align: right">1,280</td>' in html
    assert result._repr_html_() == html
    code, out, err = command(capsys, net('mlp'), '--input', '20', '--macs', '--format', 'html')
    assert code == 0 and out.startswith('<div class="paddleinfo">'), err


def test_a_notebook_run_shows_the_table_once(tmp_path):
    nbformat = pytest.importorskip('nbformat')
    nbclient = pytest.importorskip('nbclient')
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(
        'import sys\n'
        f'sys.path.insert(0, {str(NETS.parents[2])!r})\n'
        'from paddleinfo import summary\nfrom paddle import nn\n'
        'summary(nn.Linear(3, 2), (1, 3))'),
        nbformat.v4.new_code_cell('result = summary(nn.Linear(3, 2), (1, 3), verbose=0)\nresult')]
    nbclient.NotebookClient(notebook, timeout=120, kernel_name='python3',
                            resources={'metadata': {'path': str(tmp_path)}}).execute()
    first, second = notebook.cells[0].outputs, notebook.cells[1].outputs
    # The first cell: the printed table alone; the second: its value, once, with HTML.
    # (and no warning of Paddle's on stderr)
    assert [(output['output_type'], output['name']) for output in first] == [('stream', 'stdout')]
    assert first[0]['text'].count('Linear-1') == 1
    assert [output['output_type'] for output in second] == ['display_data']
    assert 'text/html' in second[0]['data']


# --- 12. standard errors, no warning ------------------------------------------------

def test_mistakes_are_standard_errors():
    with pytest.raises(TypeError):
        summary(3, (1, 20))
    with pytest.raises(ValueError):
        summary(built(mlp), (1, 20), verbose=0).render('xml')
    assert issubclass(ArgumentTypeError, TypeError) and issubclass(ArgumentError, ValueError)


def test_no_paddle_warning_the_user_did_not_ask_for(recwarn):
    summary(built(Small), (1, 3, 32, 32), verbose=0, columns=['receptive_field'])
    summary(lambda: models.resnet18(), verbose=0)
    assert [str(warning.message) for warning in recwarn] == []
