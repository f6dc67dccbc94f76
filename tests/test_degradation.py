"""scripts/degradation.py: Figure 6 drawn from logs, its table, and a tiny real run."""
import dataclasses
import os
import shutil

import pytest

from helpers import REPO, load_script, run_script, write_finished_run
from resnet_tools import files, training
from resnet_tools.paper import degradation, networks
from resnet_tools.training import checkpoints
from resnet_tools.views import plots

# The figure of docs/paper.md and the logs of the run it was drawn from.
DOCS_RUNS = REPO / 'docs' / 'runs' / 'degradation'
DOCS_FIGURES = REPO / 'docs' / 'figures'



degradation_script = load_script('degradation.py')


def error_of(capsys, *args):
    """The one-line error of degradation.py with `args`, run in this process."""
    with pytest.raises(SystemExit) as exit_:
        degradation_script.run(lambda: degradation_script.main([str(a) for a in args]),
                               'degradation.py')
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count('\n') == 1 and 'Traceback' not in err
    return err.split(': error: ', 1)[1]


def write_run(directory, arch, train_errors, test_errors, params=None, seconds=1.5):
    """A finished run of `arch`: log.csv, and run.json if params is given."""
    record = None if params is None else training.RunRecord(
        arch, params, 1, 'cpu', training.Settings(), 'made-up data', {'data': 'made-up'})
    write_finished_run(directory, train_errors, test_errors, record, seconds)


@pytest.fixture
def logs(tmp_path):
    runs = tmp_path / 'runs'
    write_run(runs / 'cifar_plain20', 'cifar_plain20', [0.5, 0.1, 0.02], [0.6, 0.2, 0.05], 100)
    write_run(runs / 'cifar_plain56', 'cifar_plain56', [0.9, 0.85, 0.8], [0.9, 0.86, 0.82], 300)
    write_run(runs / 'cifar_resnet20', 'cifar_resnet20', [0.4, 0.05, 0.0], [0.5, 0.1, 0.03], 100)
    write_run(runs / 'cifar_resnet56', 'cifar_resnet56', [0.3, 0.04, 0.001], [0.4, 0.08, 0.025])
    return runs


def test_plot_only_draws_the_figure_and_the_table_from_the_logs(logs):
    result = run_script('degradation.py', '--plot-only', logs)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ['network', 'params', 'training', 'error', '%', 'test', 'error', '%',
                                'seconds']
    table = {line.split()[0]: line.split()[1:] for line in lines[2:6]}
    assert table == {'plain-20': ['100', '2.00', '5.00', '4'], 'plain-56': ['300', '80.00', '82.00', '4'],
                     'ResNet-20': ['100', '0.00', '3.00', '4'], 'ResNet-56': ['0.10', '2.50', '4']}
    assert (logs / 'degradation.png').read_bytes().startswith(b'\x89PNG')
    svg = (logs / 'degradation.svg').read_text()
    assert '<svg' in svg and '<dc:date>' not in svg


def test_the_figure_is_the_same_bytes_every_time(logs, tmp_path):
    runs = degradation.finished_runs(logs)
    first = [open(path, 'rb').read() for path in degradation.draw(runs, str(tmp_path / 'one'))]
    second = [open(path, 'rb').read() for path in degradation.draw(runs, str(tmp_path / 'two'))]
    assert first == second
    changed = dict(runs)
    run = changed['cifar_plain56']
    changed['cifar_plain56'] = dataclasses.replace(
        run, log=[dataclasses.replace(row, train_error=0.5) for row in run.log])
    third = [open(path, 'rb').read() for path in degradation.draw(changed, str(tmp_path / 'three'))]
    assert third[0] != first[0] and third[1] != first[1]


def test_figure_panels_hold_plain_left_and_resnet_right(logs, monkeypatch):
    drawn = {}
    monkeypatch.setattr(plots, 'draw_error_curves',
                        lambda panels, output, subtitle: drawn.update(panels=panels))
    degradation.draw(degradation.finished_runs(logs), 'unused')
    assert [(title, [(label, key) for label, key, _ in curves]) for title, curves in drawn['panels']] == [
        ('plain', [('plain-20', '20'), ('plain-56', '56')]),
        ('ResNet', [('ResNet-20', '20'), ('ResNet-56', '56')])]


def test_plot_only_needs_runs(tmp_path):
    result = run_script('degradation.py', '--plot-only', tmp_path)
    assert result.returncode == 2 and 'holds no runs' in result.stderr
    assert result.stderr.count('\n') == 1


def test_bad_depth_and_missing_output_are_one_line(tmp_path):
    result = run_script('degradation.py', '--depths', '21', '--output', tmp_path / 'out')
    assert result.returncode == 2 and '--depths 21 is not a CIFAR depth' in result.stderr
    result = run_script('degradation.py')
    assert result.returncode == 2 and '--output DIR is needed' in result.stderr
    assert not (tmp_path / 'out').exists()


def test_a_depth_given_twice_is_refused_before_anything_trains(tmp_path, capsys):
    assert error_of(capsys, '--depths', '20', '56', '20', '--output', tmp_path / 'out') == \
        '--depths 20 is given twice; give each depth once (see --help)\n'
    assert not (tmp_path / 'out').exists()


@pytest.mark.parametrize('flags', [['--epochs', '3'], ['--data', 'cifar10'], ['--depths', '21'],
                                   ['--resume'], ['--epochs', '15'], ['--seed', '1']])
def test_plot_only_refuses_training_flags(flags, logs, capsys):
    # --epochs 15 is the default, but given with --plot-only it still asks for something not done.
    assert error_of(capsys, '--plot-only', logs, *flags) == \
        f'{flags[0]} does not go with --plot-only, which trains nothing (see --help)\n'
    assert not (logs / 'degradation.png').exists()


def test_plot_only_replaces_a_figure_only_with_force(logs, tmp_path, capsys):
    output = tmp_path / 'figures'
    output.mkdir()
    (output / 'degradation.svg').write_text('keep me')
    assert error_of(capsys, '--plot-only', logs, '--output', output) == \
        f'{output / "degradation.svg"} exists already; give --force to replace it (see --help)\n'
    assert (output / 'degradation.svg').read_text() == 'keep me'
    assert not (output / 'degradation.png').exists()
    assert degradation_script.main(['--plot-only', str(logs), '--output', str(output), '--force']) == 0
    assert (output / 'degradation.svg').read_text().startswith('<?xml')


def test_plot_only_into_an_unwritable_folder_or_a_failed_write_is_one_line(logs, tmp_path, capsys,
                                                                           monkeypatch):
    if os.path.isdir('/proc/self'):
        assert error_of(capsys, '--plot-only', logs, '--output', '/proc/fig').startswith(
            '--output /proc/fig cannot be written: ')

    def full_disk(source, target):
        raise OSError(28, 'No space left on device')
    monkeypatch.setattr(files.os, 'replace', full_disk)
    output = tmp_path / 'figures'
    assert error_of(capsys, '--plot-only', logs, '--output', output) == \
        f'{output / "degradation.png"} cannot be written: No space left on device\n'   # no flag helps
    assert list(output.iterdir()) == []


def test_the_help_keeps_each_flag_with_its_value():
    result = run_script('degradation.py', '--help')
    assert result.returncode == 0
    assert f'--warmup-epochs {networks.DIGITS_SETTINGS.warmup_epochs} ' in result.stdout
    assert '--lr-110 0.1 ' in result.stdout and '--jobs N ' in result.stdout


def weights(run):
    """The weights of a run's last checkpoint, as the training loop loads them."""
    return {name: array.tobytes() for name, array in checkpoints.load(str(run)).model.items()}


def test_a_tiny_degradation_run_trains_both_twins_alike(tmp_path):
    output = tmp_path / 'out'
    result = run_script('degradation.py', '--depths', '20', '--train-size', '64', '--test-size', '32',
                        '--batch-size', '32', '--epochs', '1', '--device', 'cpu', '--output', output)
    assert result.returncode == 0, result.stderr
    for arch in ('cifar_plain20', 'cifar_resnet20'):
        run = training.read_run(output / arch)
        assert run.model == arch and run.details['train_images'] == 64 and run.settings.epochs == 1
    # Option A shortcuts have no parameters: the twins have the same count (Section 4.2).
    assert training.read_run(output / 'cifar_plain20').params == \
        training.read_run(output / 'cifar_resnet20').params
    assert (output / 'degradation.png').exists() and (output / 'degradation.svg').exists()
    assert 'plain-20' in result.stdout and 'ResNet-20' in result.stdout
    # A second run into it is refused before anything trains; --resume finds it finished.
    again = run_script('degradation.py', '--depths', '20', '--output', output)
    assert again.returncode == 2 and 'holds a run already' in again.stderr
    before = weights(output / 'cifar_resnet20')
    shutil.rmtree(output / 'cifar_resnet20')
    resumed = run_script('degradation.py', '--depths', '20', '--train-size', '64', '--test-size', '32',
                         '--batch-size', '32', '--epochs', '1', '--device', 'cpu', '--output', output,
                         '--resume')
    assert resumed.returncode == 0, resumed.stderr
    # plain-20 was finished and trains no more; ResNet-20 starts again, the same run.
    assert resumed.stdout.count('epoch 1/1') == 1
    assert weights(output / 'cifar_resnet20') == before


@pytest.mark.skipif(not DOCS_RUNS.is_dir(), reason='no committed run')
def test_the_readme_figure_is_drawn_from_the_committed_logs(tmp_path):
    shutil.copytree(DOCS_RUNS, tmp_path / 'runs')
    degradation.draw(degradation.finished_runs(tmp_path / 'runs'), str(tmp_path / 'figure'))
    for form in plots.PLOT_FORMATS:
        assert (tmp_path / f'figure.{form}').read_bytes() == \
            (DOCS_FIGURES / f'degradation.{form}').read_bytes(), \
            'redraw it: python scripts/degradation.py --plot-only docs/runs/degradation ' \
            '--output docs/figures --force'


@pytest.mark.skipif(not DOCS_RUNS.is_dir(), reason='no committed run')
def test_the_committed_run_shows_the_degradation_problem_and_its_fix():
    # Figure 6 of the paper: the deeper the plain network, the higher its training error
    # (here 0.28 %, 4.31 %, 40.89 % and 86.44 % for plain-20 to 56), while every ResNet
    # fits the training digits (0.00 % for ResNet-20 to 56, 0.07 % for ResNet-110).
    archs = [f'cifar_{kind}{depth}' for kind, depths in (('plain', degradation.PLAIN_DEPTHS),
                                                         ('resnet', degradation.DEFAULT_DEPTHS))
             for depth in depths]
    last = {arch: training.read_log(DOCS_RUNS / arch / training.LOG_FILE)[-1] for arch in archs}
    plain = [last[f'cifar_plain{depth}'].train_error for depth in degradation.PLAIN_DEPTHS]
    assert plain == sorted(plain) and plain[-1] > plain[0] + 0.5
    assert all(last[f'cifar_resnet{depth}'].train_error < 0.01 for depth in degradation.DEFAULT_DEPTHS)
    for depth in degradation.PLAIN_DEPTHS[1:]:
        assert last[f'cifar_resnet{depth}'].train_error < last[f'cifar_plain{depth}'].train_error
    # The committed run is the default command's, warm-up included; ResNet-110 at --lr-110.
    for arch in archs:
        settings = training.read_run(DOCS_RUNS / arch).settings
        assert len(training.read_log(DOCS_RUNS / arch / training.LOG_FILE)) == \
            networks.DIGITS_SETTINGS.epochs
        assert settings == \
            degradation.settings_of(arch, networks.DIGITS_SETTINGS, networks.DIGITS_DEEPEST_LR)


@pytest.mark.skipif(not DOCS_RUNS.is_dir(), reason='no committed run')
@pytest.mark.parametrize('readme', ['docs/paper.md', 'docs/paper_zh-CN.md'])
def test_the_papers_page_table_is_the_committed_runs_table(readme):
    table = degradation.format_table(degradation.finished_runs(DOCS_RUNS))
    assert f'```text\n{table}\n```' in (REPO / readme).read_text(encoding='utf-8')


def tree(directory):
    """{relative path: bytes, or None for a folder} of everything in `directory`, the
    lock file included."""
    found = {}
    for root, folders, names in os.walk(directory):
        for name in folders:
            found[os.path.relpath(os.path.join(root, name), directory)] = None
        for name in names:
            path = os.path.join(root, name)
            with open(path, 'rb') as file:
                found[os.path.relpath(path, directory)] = file.read()
    return found


DATA_MISTAKES = [
    (['--data', 'cifar10'], '--data cifar10 needs --data-file cifar-10-python.tar.gz'),
    (['--data', 'cifar10', '--data-file', 'MISSING'], '--data-file MISSING does not exist'),
    (['--data', 'cifar10', '--data-file', 'FOLDER'], '--data-file FOLDER is not a file'),
    (['--data', 'cifar10', '--data-file', 'JUNK'], '--data-file JUNK is not a CIFAR-10 python archive'),
    (['--data-file', 'JUNK'], '--data-file is for --data cifar10'),
    (['--train-size', '1439'], '--train-size 1439 is out of range: the data have 1438 such images'),
    (['--test-size', '360'], '--test-size 360 is out of range: the data have 359 such images'),
]


@pytest.mark.parametrize('args, message, existing', [
    *[(args, message, existing) for args, message in DATA_MISTAKES for existing in (True, False)],
    ([], 'holds a run already', True)])
def test_a_refusal_leaves_the_output_folder_as_it_was(args, message, existing, tmp_path, capsys):
    output = tmp_path / 'out'
    if existing:      # the user's own file; a run of before where the mistake is one
        (output / 'mine').mkdir(parents=True)
        (output / 'mine' / 'notes.txt').write_text('mine')
        if not args:
            write_run(output / 'cifar_plain20', 'cifar_plain20', [0.5], [0.6], 100)
            (output / 'cifar_plain20' / checkpoints.MANIFEST).write_text('{}')
    (tmp_path / 'FOLDER').mkdir()
    (tmp_path / 'JUNK').write_bytes(b'not an archive')
    places = {'MISSING': tmp_path / 'missing.tar.gz', 'FOLDER': tmp_path / 'FOLDER',
              'JUNK': tmp_path / 'JUNK'}
    before = tree(output) if existing else None
    error = error_of(capsys, '--depths', '20', '--output', output,
                     *[places.get(arg, arg) for arg in args])
    assert ' '.join(str(places.get(word, word)) for word in message.split(' ')) in error
    if existing:
        assert tree(output) == before     # no .lock, nothing made or changed
    else:
        assert not output.exists()


def test_a_run_whose_networks_all_fail_exits_1_in_one_line(tmp_path):
    # At a rate of 1e30 both twins diverge in their first epoch: each says so on its
    # line, and the run ends with exit code 1, not 2, and draws nothing.
    output = tmp_path / 'out'
    result = run_script('degradation.py', '--depths', '20', '--train-size', '64', '--test-size', '32',
                        '--batch-size', '32', '--epochs', '1', '--lr', '1e30', '--jobs', '2',
                        '--device', 'cpu', '--output', output)
    assert result.returncode == 1
    assert result.stderr == 'degradation.py: error: every network failed (the lines above say why)\n'
    failed = sorted(line for line in result.stdout.splitlines() if ': failed: ' in line)
    assert [line.split(': ')[0] for line in failed] == ['ResNet-20', 'plain-20']
    assert all('the run diverged' in line for line in failed)
    assert not (output / 'degradation.png').exists()
