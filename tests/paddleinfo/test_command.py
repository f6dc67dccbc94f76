"""The `paddleinfo` command (cli.main in this process, and python -m paddleinfo as a user
runs it): inputs of any rank, several of them, each with its dtype, and the batch size;
`--input-size` for image models only; every mistake one line and exit 2; the tables fit
100 columns.

The models are those of docs/examples/nets.py, which docs/paddleinfo.md shows.  Most
tests call the command's main() in this process; a few run it as a user does.
"""
import json
import pathlib
import signal
import subprocess
import sys
import time
import traceback

import paddle
import paddle.nn.layer.layers as paddle_layers
import pytest
from summaries import NETS, built, command, count_params, net, one_line_error

import paddleinfo
from paddleinfo import cli, inputs
from paddleinfo.errors import UsageError

# Where the package paddleinfo is, the clone or the folder pip installed it into:
# `python -m paddleinfo` runs from there.
HOME = pathlib.Path(paddleinfo.__file__).resolve().parents[1]


def totals(capsys, *args):
    code, out, err = command(capsys, *args, '--format', 'json')
    assert code == 0, err
    return json.loads(out)


# Every MAC count by hand, the formula in the comment; batch 1 unless given.
@pytest.mark.parametrize('name, given, macs', [
    # int64 token ids: the Embedding is a lookup (no MACs); fc 32 -> 2.
    ('text', ['--input', '128:int64'], 32 * 2),
    # rank 2: 20 -> 64 -> 10.
    ('mlp', ['--input', '20'], 20 * 64 + 64 * 10),
    # rank 3: an LSTM spends 4 (input + hidden) hidden per step, 50 steps; fc 32 -> 4.
    ('lstm', ['--input', '50x16'], 4 * (16 + 32) * 32 * 50 + 32 * 4),
    # 1,600 samples: Conv1D(1, 8, 9, stride 4) has (1600 - 9) // 4 + 1 = 398 outputs of
    # 8 channels, each 1 x 9 multiply-adds; fc 8 -> 4.
    ('audio', ['--input', '1x1600'], 398 * 8 * 9 + 8 * 4),
    # rank 5: Conv3D(3, 4, 3) on 8x32x32 gives 4 x 6x30x30 outputs of 3 x 27; fc 4 -> 2.
    ('video', ['--input', '3x8x32x32'], 4 * 6 * 30 * 30 * 3 * 27 + 4 * 2),
    # a 100-d latent: a transposed conv spends out_channels x kh x kw per input value:
    # 100 x (16 x 4 x 4), then 16x4x4 = 256 values x (3 x 4 x 4).
    ('generator', ['--input', '100x1x1'], 100 * 16 * 16 + 256 * 3 * 16),
    # two inputs: Conv2D(3, 8, 3) on 32x32 gives 8 x 30x30 outputs of 3 x 9; fc 18 -> 2.
    ('two_inputs', ['--input', '3x32x32', '--input', '10'], 8 * 30 * 30 * 27 + 18 * 2),
])
def test_every_kind_of_input_from_the_shell(capsys, name, given, macs):
    data = totals(capsys, net(name), *given)
    assert data['totals']['params'] == count_params(built(name))
    assert data['totals']['macs'] == macs


def test_the_batch_goes_in_front_of_every_input_and_scales_the_macs(capsys):
    one = totals(capsys, net('two_inputs'), '--input', '3x32x32', '--input', '10')
    eight = totals(capsys, net('two_inputs'), '--input', '3x32x32', '--input', '10',
                   '--batch-size', '8')
    assert eight['totals']['macs'] == 8 * one['totals']['macs']
    assert eight['totals']['params'] == one['totals']['params']
    first = eight['rows'][0]
    assert first['layer'] == 'Conv2D-1' and first['input_shape'] == [[8, 3, 32, 32]]


def test_a_transposed_conv_takes_the_shorthand_and_a_wrong_one_is_never_a_batch(capsys):
    # The case: --input-size 100 on the generator once became a batch of 300.
    latent = totals(capsys, net('generator'), '--input-size', '100', '1', '1')
    assert latent['totals'] == totals(capsys, net('generator'), '--input', '100x1x1')['totals']
    assert 'Conv2DTranspose-1 takes 100' in one_line_error(capsys, net('generator'),
                                                          '--input-size', '100')


def test_input_size_is_an_image_for_an_image_model(capsys):
    # [C] H [W] is --input CxHxW for a model whose input first meets a 2-D convolution.
    shorthand = totals(capsys, net('cnn'), '--input-size', '1', '28', '28')
    full = totals(capsys, net('cnn'), '--input', '1x28x28')
    assert shorthand == full
    # Conv2D(1, 4, 3) on 28x28: 4 x 26x26 outputs of 1 x 9; fc 4 -> 2.
    assert full['totals']['macs'] == 4 * 26 * 26 * 9 + 4 * 2
    # Without channels, a user's model gets 3: this one takes 1, and says so.
    assert 'Conv2D-1' in one_line_error(capsys, net('cnn'), '--input-size', '28')


def test_input_size_on_an_mlp_is_refused_never_an_image(capsys):
    # The case: --input-size 20 once made a 3x20x20 image of it (MACs 60x too high).
    err = one_line_error(capsys, net('mlp'), '--input-size', '20')
    assert 'input-size is the shorthand for image models' in err
    assert 'its input first meets Linear' in err and '--input 20' in err


@pytest.mark.parametrize('name, args, message', [
    # no input given: a model of one's own is taken for an image model, and refused.
    ('mlp', [], 'with no input given, a model is taken for an image model, whose input first '
                'meets a 2-D convolution'),
    ('text', ['--input-size', '128'], 'its input first meets Embedding: give its input with '
                                      '--input SHAPE[:DTYPE], e.g. --input LENGTH:int64'),
    ('lstm', ['--input-size', '50', '16'], 'e.g. --input LENGTHx16'),
    ('audio', ['--input-size', '1600'], 'its input first meets Conv1D: give its input with '
                                        '--input SHAPE[:DTYPE], e.g. --input 1xLENGTH'),
    ('video', ['--input-size', '32'], 'e.g. --input 3xDEPTHxHEIGHTxWIDTH'),
])
def test_input_size_names_what_the_model_takes_instead(capsys, name, args, message):
    assert message in one_line_error(capsys, net(name), *args)


@pytest.mark.parametrize('name, args, message', [
    # a wrong rank
    ('lstm', ['--input', '50'], 'lstm does not take an input of [50]: LSTM-1 takes a 3-D input'),
    # a wrong dtype for an Embedding
    ('text', ['--input', '128'], 'Embedding-1 takes integer token ids'),
    # a missing input
    ('two_inputs', ['--input', '3x32x32'], "missing a required argument: 'features'"),
    # what the command line itself gets wrong
    ('mlp', ['--input', '20:int65'], "--input 20:int65: 'int65' is not a dtype; choose from"),
    ('mlp', ['--input', '20x'], "--input 20x: size '' is not a positive integer"),
    ('mlp', ['--input', '0'], "--input 0: size '0' is not a positive integer"),
    ('mlp', ['--input', ':int64'], '--input :int64: give the shape without the batch'),
    ('mlp', ['--input', '20', '--batch-size', '0'], '--batch-size 0 is out of range: from 1 to'),
    ('mlp', ['--input', '20', '--input-size', '3'], '--input-size is the shorthand of one image'),
    ('mlp', ['--input', f'{2 ** 29}'], 'a summary takes at most 268,435,456'),
    ('mlp', ['--input', '20', '--depth', '0'], '--depth 0 is out of range: from 1 to 32'),
    ('mlp', ['--input', '20', '--format', 'xml'], '--format xml is not known'),
    ('mlp', ['--input', '20', '--timeout', '0'], '--timeout 0 is out of range: above 0'),
    ('mlp', ['--input', '20', '--timeout', 'soon'], '--timeout soon is not a number'),
    ('mlp', ['--input', '20', '--timeout', '1e10'], 'at most 1,000,000'),
    # a value holding a newline stays on the one line, escaped
    ('mlp', ['--input', '20', '--format', 'plain\n'], '--format plain\\n is not known'),
])
def test_every_mistake_is_one_line_and_exit_2(capsys, name, args, message):
    assert message in one_line_error(capsys, net(name), *args)


def test_models_are_named_and_checked_before_any_is_built(capsys):
    assert 'resnet5 is not a paddle.vision.models network; did you mean resnet50' in (
        one_line_error(capsys, 'resnet5'))
    assert f'{NETS}:nothing: {NETS} has no nothing' in one_line_error(capsys, net('nothing'))
    assert '--macs is for the table of one model' in one_line_error(
        capsys, 'alexnet', 'vgg11', '--macs')
    # Side by side, each model gets the same inputs, and an error names the one that fails.
    err = one_line_error(capsys, net('lstm'), net('transformer'), '--input', '50x16')
    assert err.startswith(f'paddleinfo: error: {NETS}:transformer does not take an input of '
                          f'[50, 16]: MultiHeadAttention-1 takes 512 query features')


def test_a_vision_model_gets_its_own_image_and_the_views_work(capsys):
    code, out, _ = command(capsys, 'LeNet')
    assert code == 0 and '[[1, 1, 28, 28]]' in out   # paddle.summary's own table
    data = totals(capsys, 'resnet18', '--input-size', '64', '--depth', '1')
    assert data['view'] == 'depth' and data['input_shape'] == [1, 3, 64, 64]
    code, out, _ = command(capsys, 'resnet18', '--input-size', '64', '--macs', '--explain',
                           '--format', 'csv')
    assert code == 0 and out.splitlines()[0] == (
        'layer,input_shape,output_shape,params,trainable_params,trainable,macs,formula')


def test_the_command_runs_as_a_user_runs_it():
    done = subprocess.run([sys.executable, '-m', 'paddleinfo', net('lstm'), '--input', '50x16',
                           '--macs'], capture_output=True, text=True, timeout=300, cwd=HOME)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ''   # Paddle's notes about itself are not shown
    assert 'LSTM-1' in done.stdout and 'Total MACs at batch 1: 307,328' in done.stdout
    done = subprocess.run([sys.executable, '-m', 'paddleinfo', net('mlp'), '--input-size', '20'],
                          capture_output=True, text=True, timeout=300, cwd=HOME)
    assert (done.returncode, done.stdout) == (2, '') and done.stderr.count('\n') == 1


def test_the_command_line_is_read_before_numpy_tabulate_or_paddle_is_imported():
    # --help and a one-line mistake need none of them: they are imported for a summary.
    done = subprocess.run([sys.executable, '-c', 'import sys, paddleinfo.cli; print(sorted('
                           'name for name in ("numpy", "tabulate", "paddle") if name in '
                           'sys.modules))'], capture_output=True, text=True, timeout=120, cwd=HOME)
    assert (done.returncode, done.stdout) == (0, '[]\n'), done.stderr


def test_help_fits_100_columns(capsys):
    code, out, _ = command(capsys, '--help')
    assert code == 0 and max(map(len, out.splitlines())) <= 100
    for dtype in inputs.DTYPES:
        assert dtype in out
    assert '--timeout SECONDS' in out and f'(default: {cli.TIMEOUT:g})' in ' '.join(out.split())


def test_the_input_options_parse_to_shapes_and_dtypes():
    given = inputs.inputs_from({'input': ['16x40', '20:int64'], 'batch_size': '8'})
    assert given.shapes == [[8, 16, 40], [8, 20]] and given.dtypes == ['float32', 'int64']
    assert given.image is None
    image = inputs.inputs_from({'input_size': ['1', '28', '28']})
    assert image.shapes == [[1, 1, 28, 28]] and image.image == '--input-size'
    assert inputs.inputs_from({'input_size': ['64', '32']}, channels=3).shapes == [[1, 3, 64, 32]]
    assert inputs.inputs_from({}) is None
    with pytest.raises(UsageError, match='takes one, two or three integers'):
        inputs.inputs_from({'input_size': ['1', '2', '3', '4']})


# --- issue 17's rule: the default views of paddleinfo fit 100 columns ------------------

@pytest.mark.parametrize('args', [
    ['resnet50', '--macs'], ['resnet50', '--explain'], ['resnet50', '--explain', '--macs'],
    ['inception_v3', '--depth', '2'],
    ['alexnet', 'vgg16', 'squeezenet1_0', 'googlenet', 'inception_v3', 'resnet50',
     'mobilenet_v2', 'densenet121', 'shufflenet_v2_x1_0'],
    # As docs/paddleinfo.md gives them, from the folder above docs/: the title line is the
    # model as given, and an absolute path would make its width the clone's path's.
    ['docs/examples/nets.py:lstm', '--input', '50x16', '--macs'],
    ['docs/examples/nets.py:transformer', '--input', '64x512', '--macs'],
], ids=['macs', 'explain', 'explain-macs', 'depth', 'models', 'lstm', 'transformer'])
def test_the_tables_fit_100_columns_and_csv_keeps_every_cell_whole(capsys, monkeypatch, args):
    monkeypatch.chdir(NETS.parents[2])
    code, out, err = command(capsys, *args)
    assert code == 0, err
    assert max(map(len, out.splitlines())) <= 100
    code, csv_text, _ = command(capsys, *args, '--format', 'csv')
    markdown = command(capsys, *args, '--format', 'markdown')[1]
    # csv and markdown keep each row on one line: the plain table's breaks are its own.
    rows = len(csv_text.splitlines()) - 1 - (len(args) < 9)   # less the header (and total)
    assert len([line for line in markdown.splitlines() if line.startswith('|')]) == rows + 2


def test_a_cell_breaks_only_where_its_kind_allows():
    from paddleinfo.render import fit
    header = ['Layer', 'Output Shape', 'Trainable']
    body = [['LSTM-1', '[[1, 50, 32], [[1, 1, 32], [1, 1, 32]]]', 'weight_ih_l0, weight_hh_l0']]
    # 6 + 39 + 26 + 4 = 75 columns: narrower than 100, left whole.
    assert fit(header, body, {1: 'shapes', 2: 'text'}) == (header, body)
    new_header, (row,) = fit(header, body, {1: 'shapes', 2: 'text'}, width=50)
    assert row[1].split('\n') == ['[[1, 50, 32],', '[[1, 1, 32],', '[1, 1, 32]]]']
    assert row[2].split('\n') == ['weight_ih_l0,', 'weight_hh_l0']
    assert [cell.replace('\n', ' ') for cell in row] == body[0] and new_header == header
    # A table that cannot fit is left whole, not broken for nothing.
    assert fit(header, body, {}, width=50) == (header, body)


def test_ctrl_c_is_one_line_and_130(capsys):
    # The command, and any script built on paddleinfo.arguments, runs its main() through
    # run: a Ctrl-C there (a long --models table, say) ends with the shell's code for
    # SIGINT and one line, not Python's traceback.
    def interrupted():
        raise KeyboardInterrupt
    with pytest.raises(SystemExit) as exit_:
        cli.run(interrupted, 'paddleinfo')
    assert exit_.value.code == 130 and capsys.readouterr().err == 'paddleinfo: interrupted\n'


# --- a user's code that exits, prints or never finishes ------------------------------

# Models that misbehave as a user's code may: each is told as its own failure, one line.
MISBEHAVING = '''
import sys

from paddle import nn


def mlp():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))


def exits():
    sys.exit(0)


def raises_system_exit():
    raise SystemExit


class Exiting(nn.Layer):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        sys.exit(3)


def exits_in_forward():
    return Exiting()


class Printing(nn.Layer):
    def __init__(self):
        super().__init__()
        print('building Printing')
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        print('forward of Printing')
        return self.fc(x)


def prints():
    return Printing()


class Looping(nn.Layer):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        while True:
            pass


def loops_in_forward():
    return Looping()


def loops_as_built():
    while True:
        pass
'''


@pytest.fixture
def misbehaving(tmp_path):
    """misbehaving.py (MISBEHAVING above): the command line's name of each factory."""
    path = tmp_path / 'misbehaving.py'
    path.write_text(MISBEHAVING, encoding='utf-8')
    return lambda name: f'{path}:{name}'


@pytest.mark.parametrize('names, failing, message', [
    (['exits'], 'exits', ': the factory failed: it called sys.exit(0)'),
    (['mlp', 'exits'], 'exits', ': the factory failed: it called sys.exit(0)'),
    (['exits', 'mlp'], 'exits', ': the factory failed: it called sys.exit(0)'),
    (['raises_system_exit'], 'raises_system_exit', ': the factory failed: it called sys.exit()'),
    (['exits_in_forward'], 'exits_in_forward', ' fails on an input of [4]: it called sys.exit(3)'),
])
def test_a_model_that_calls_sys_exit_fails_as_any_other(capsys, misbehaving, names, failing,
                                                        message):
    # Its sys.exit(0) once ended the command with exit 0 and no output at all.
    err = one_line_error(capsys, *map(misbehaving, names), '--input', '4')
    assert err.startswith(f'paddleinfo: error: {misbehaving(failing)}{message}')


def test_a_module_that_calls_sys_exit_as_it_imports_is_one_line(capsys, tmp_path):
    module = tmp_path / 'leaving.py'
    module.write_text('import sys\nsys.exit(0)\n', encoding='utf-8')
    assert f'{module}:build: {module} does not import: it called sys.exit(0)' in (
        one_line_error(capsys, f'{module}:build'))


@pytest.mark.parametrize('fmt', ['json', 'csv'])
def test_what_a_model_prints_goes_to_stderr_and_stdout_stays_the_table(capsys, misbehaving, fmt):
    code, out, err = command(capsys, misbehaving('prints'), '--input', '4', '--format', fmt)
    assert code == 0, err
    assert err == 'building Printing\nforward of Printing\n'
    if fmt == 'json':
        # Linear(4, 2): 4 x 2 weights and 2 biases; 4 x 2 MACs.
        assert json.loads(out)['totals'] == {'params': 10, 'trainable_params': 10,
                                             'non_trainable_params': 0, 'macs': 8}
    else:
        assert out.splitlines()[:2] == ['layer,input_shape,output_shape,params',
                                        'Linear-1,"[[1, 4]]","[1, 2]",10']
    # Side by side too: one row per model, the printing ones' text on stderr.
    code, out, err = command(capsys, misbehaving('mlp'), misbehaving('prints'), '--input', '4',
                             '--format', 'json')
    assert code == 0 and 'forward of Printing' in err
    assert [row['params'] for row in json.loads(out)['rows']] == [4 * 8 + 8 + 8 * 2 + 2, 10]


def graph_state():
    """What tracing changes while it runs and must put back: the graph mode, the Program,
    the patches of static_graph() and cheap_tracing(), the SIGALRM handler and timer."""
    return (paddle.in_dynamic_mode(), paddle.static.default_main_program(),
            paddle.pir.Value.__dict__.get('__iter__'),
            traceback.extract_stack, paddle_layers.name_struct,
            signal.getsignal(signal.SIGALRM), signal.getitimer(signal.ITIMER_REAL))


@pytest.mark.parametrize('name', ['loops_in_forward', 'loops_as_built'])
def test_a_model_that_never_finishes_is_stopped_and_the_graph_put_back(capsys, misbehaving,
                                                                         name):
    before = graph_state()
    start = time.monotonic()
    err = one_line_error(capsys, misbehaving(name), '--input', '4', '--timeout', '1.5')
    took = time.monotonic() - start
    assert err.startswith(f'paddleinfo: error: {misbehaving(name)} did not finish within '
                          f'1.5 s; give --timeout to allow longer')
    assert 1.5 <= took < 20, took
    # Stopped inside static_graph(): the dynamic graph and Paddle's functions are back,
    # and the next summary is right.
    assert graph_state() == before and paddle.in_dynamic_mode()
    assert totals(capsys, misbehaving('mlp'), '--input', '4')['totals']['params'] == (
        4 * 8 + 8 + 8 * 2 + 2)


def test_a_model_that_never_finishes_is_stopped_as_a_user_runs_it(misbehaving):
    # In its own process, beside a model that finishes: one line, exit 2, and stdout
    # empty -- the table of several models is printed whole or not at all.
    done = subprocess.run([sys.executable, '-m', 'paddleinfo', misbehaving('mlp'),
                           misbehaving('loops_in_forward'), '--input', '4', '--timeout', '2'],
                          capture_output=True, text=True, timeout=300, cwd=HOME)
    assert (done.returncode, done.stdout) == (2, ''), done.stderr
    assert done.stderr == (f'paddleinfo: error: {misbehaving("loops_in_forward")} did not '
                           f'finish within 2 s; give --timeout to allow longer (see --help)\n')
