"""Training runs under faults: a kill at every moment of a run's writes, Ctrl-C and
SIGTERM, damaged and foreign checkpoints, a second run on a live run's directory, a
full disk, and a run that diverges.

The runs are of a tiny network (one conv, BatchNorm, fc: 200 parameters) on 32 digits,
so that a run of three epochs takes a fraction of a second and the ~70 kill points of
one run fit in seconds.  A kill is simulated in a forked child that calls os._exit at
the N-th file operation: like SIGKILL it runs no `finally` and no cleanup."""
import os
import shutil
import signal
import subprocess
import sys

import numpy as np
import paddle
import pytest

from helpers import KILLED, REPO, in_child, kill_at, load_script
from resnet_tools import files, training
from resnet_tools.errors import Stop, UsageError
from resnet_tools.training import checkpoints, data, locking, loop

TINY = ['--train-size', '96', '--test-size', '48', '--batch-size', '32', '--device', 'cpu']
SETTINGS = training.Settings(epochs=3, batch_size=8, seed=3)

train_script = load_script('train.py')


@pytest.fixture(scope='module')
def digits():
    return data.digits(32, 16)


def tiny_network():
    return paddle.nn.Sequential(
        paddle.nn.Conv2D(1, 4, 3, padding=1), paddle.nn.BatchNorm2D(4), paddle.nn.ReLU(),
        paddle.nn.AdaptiveAvgPool2D(1), paddle.nn.Flatten(), paddle.nn.Linear(4, 10))


def train_tiny(images, output, settings=SETTINGS, **options):
    return training.train(training.Run('tiny', tiny_network, images, settings, str(output),
                                       report=lambda line: None, **options))


def snapshot(directory):
    """{relative path: bytes} of every file in `directory` but the lock."""
    found = {}
    for root, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            if name != locking.LOCK_FILE:
                with open(path, 'rb') as file:
                    found[os.path.relpath(path, directory)] = file.read()
    return found


def run_layout(directory, epoch):
    """What a run directory holds after its checkpoint of `epoch`, and nothing else."""
    name = checkpoints.directory_name(epoch)
    return sorted(['.lock', 'checkpoint.json', 'log.csv', 'run.json', name]), \
        sorted(checkpoints.CHECKPOINT_FILES)


def assert_clean(directory, epoch):
    top, inside = run_layout(directory, epoch)
    assert sorted(os.listdir(directory)) == top
    assert sorted(os.listdir(os.path.join(directory, checkpoints.directory_name(epoch)))) == inside


# --- a kill at every moment (helpers.kill_at) -------------------------------------------

def test_a_kill_at_any_moment_leaves_a_run_that_goes_on_to_the_same_weights(tmp_path, digits):
    # The run that never stopped, and how many file operations it makes.
    def straight():
        count = kill_at(0)
        result = train_tiny(digits, tmp_path / 'straight')
        return {'digest': result.digest, 'operations': count[0]}
    code, reference = in_child(straight)
    assert code == 0, reference
    operations = reference['operations']
    # run.json, then for each epoch its three files, the manifest and log.csv: dozens.
    assert operations > 3 * 10
    restarted_plainly = 0
    for point in range(1, operations + 1):
        output = tmp_path / f'killed-at-{point}'
        code, _ = in_child(lambda point=point, output=output:
                           (kill_at(point), train_tiny(digits, output))[-1]['digest'])
        assert code == KILLED, f'point {point}: the run was not killed'
        saved = checkpoints.current_directory(str(output)) if output.exists() else None
        if saved is None and point % 2:
            # No checkpoint yet: a plain rerun starts over, without --force.
            go_on, restarted_plainly = {}, restarted_plainly + 1
        else:
            go_on = {'resume': True} if (output / training.RUN_FILE).exists() or saved else {}
        code, digest = in_child(lambda output=output, go_on=go_on:
                                train_tiny(digits, output, **go_on).digest)
        assert code == 0, f'point {point}: {digest}'
        assert digest == reference['digest'], f'killed at operation {point}'
        assert_clean(output, SETTINGS.epochs)          # no temporary file is left
        rows = training.read_log(output / training.LOG_FILE)
        assert [row.epoch for row in rows] == [1, 2, 3]
    assert restarted_plainly > 0


# --- stops ---------------------------------------------------------------------------

def signal_at(monkeypatch, where, number, after_calls):
    """Send this process `number` at the `after_calls`-th call of `where` (a module's
    function), as a user's Ctrl-C at that moment would."""
    module, name = where
    original, calls = getattr(module, name), [0]

    def sending(*args, **kwargs):
        calls[0] += 1
        if calls[0] == after_calls:
            os.kill(os.getpid(), number)
        return original(*args, **kwargs)
    monkeypatch.setattr(module, name, sending)


@pytest.mark.parametrize('number, code', [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_in_an_epoch_stops_at_a_step_and_the_resume_is_bitwise(
        number, code, tmp_path, digits, monkeypatch):
    straight = train_tiny(digits, tmp_path / 'straight')
    handler = signal.getsignal(number)
    # 32 images in batches of 8: the 6th batch is the second of epoch 2.
    with monkeypatch.context() as patch:
        signal_at(patch, (type(digits), 'train_batch'), number, 6)
        with pytest.raises(Stop) as stop:
            train_tiny(digits, tmp_path / 'stopped')
    assert str(stop.value) == 'stopped in epoch 2; the last checkpoint is epoch 1; continue with --resume'
    assert stop.value.code == code
    assert checkpoints.load(str(tmp_path / 'stopped')).epoch == 1
    assert signal.getsignal(number) == handler       # the handlers before are put back
    resumed = train_tiny(digits, tmp_path / 'stopped', resume=True)
    assert resumed.digest == straight.digest


def test_ctrl_c_during_a_save_ends_once_the_checkpoint_is_whole(tmp_path, digits, monkeypatch):
    straight = train_tiny(digits, tmp_path / 'straight')
    with monkeypatch.context() as patch:
        # The 4th durable write is the first of epoch 2's checkpoint (3 files an epoch
        # and the manifest: model.safetensors of epoch 2 is the 5th).
        signal_at(patch, (checkpoints, 'write_durably'), signal.SIGINT, 5)
        with pytest.raises(Stop) as stop:
            train_tiny(digits, tmp_path / 'stopped')
    assert str(stop.value) == 'stopped in epoch 2; the last checkpoint is epoch 2; continue with --resume'
    assert_clean(tmp_path / 'stopped', 2)
    assert train_tiny(digits, tmp_path / 'stopped', resume=True).digest == straight.digest


def test_ctrl_c_in_the_first_epoch_says_there_is_no_checkpoint_yet(tmp_path, digits, monkeypatch):
    signal_at(monkeypatch, (type(digits), 'train_batch'), signal.SIGINT, 2)
    with pytest.raises(Stop, match=r'^stopped in epoch 1; the last checkpoint is epoch 0 \(none yet\)'):
        train_tiny(digits, tmp_path / 'run')


def test_sigterm_to_train_py_is_one_line_and_exit_code_143(tmp_path):
    output = tmp_path / 'run'
    child = subprocess.Popen([sys.executable, str(REPO / 'scripts' / 'train.py'), *TINY,
                              '--epochs', '50', '--output', str(output)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    for line in child.stdout:
        if line.startswith('epoch 1/50'):
            break
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 143
    assert err.count('\n') == 1 and 'Traceback' not in err
    assert err.startswith('train.py: stopped in epoch ')
    assert err.endswith('; continue with --resume\n')
    last = checkpoints.load(str(output)).epoch
    assert f'the last checkpoint is epoch {last};' in err and last >= 1


# --- damaged, foreign and old checkpoints ---------------------------------------------------

@pytest.fixture(scope='module')
def finished(tmp_path_factory, digits):
    """A finished 2-epoch run of the tiny network, to be copied and damaged."""
    output = tmp_path_factory.mktemp('finished') / 'run'
    train_tiny(digits, output, training.Settings(epochs=2, batch_size=8, seed=3))
    return output


def checkpoint_files(output):
    current = checkpoints.current_directory(str(output))
    return [output / checkpoints.MANIFEST] + [
        output / os.path.basename(current) / name for name in checkpoints.CHECKPOINT_FILES]


DAMAGES = {
    'one flipped byte': lambda data: data[:len(data) // 2] + bytes([data[len(data) // 2] ^ 1])
    + data[len(data) // 2 + 1:],
    'truncated': lambda data: data[:len(data) - 7],
    'empty': lambda data: b'',
}


@pytest.mark.parametrize('damage', DAMAGES)
@pytest.mark.parametrize('which', range(4))
def test_a_damaged_checkpoint_file_is_refused_in_one_line_and_nothing_is_changed(
        damage, which, finished, tmp_path, digits, no_unpickling):
    output = tmp_path / 'run'
    shutil.copytree(finished, output)
    path = checkpoint_files(output)[which]
    path.write_bytes(DAMAGES[damage](path.read_bytes()))
    before = snapshot(output)
    with pytest.raises(UsageError) as refused:
        train_tiny(digits, output, training.Settings(epochs=2, batch_size=8, seed=3), resume=True)
    message = str(refused.value)
    assert '\n' not in message and message.startswith(f'--resume: {output}')
    assert 'damaged' in message and os.path.basename(path) in message
    assert snapshot(output) == before
    assert no_unpickling == []


def test_the_damage_test_damages_something(finished):
    # Each damage changes every file it is applied to.
    for path in checkpoint_files(finished):
        data_ = path.read_bytes()
        assert all(damage(data_) != data_ for damage in DAMAGES.values())


def test_a_checkpoint_of_another_network_is_refused(finished, tmp_path, digits):
    output = tmp_path / 'run'
    shutil.copytree(finished, output)

    def wider():
        return paddle.nn.Sequential(
            paddle.nn.Conv2D(1, 6, 3, padding=1), paddle.nn.BatchNorm2D(6), paddle.nn.ReLU(),
            paddle.nn.AdaptiveAvgPool2D(1), paddle.nn.Flatten(), paddle.nn.Linear(6, 10))
    with pytest.raises(UsageError, match='are of another network than tiny'):
        training.train(training.Run('tiny', wider, digits,
                                    training.Settings(epochs=2, batch_size=8, seed=3),
                                    str(output), resume=True, report=lambda line: None))


def test_a_run_in_the_pickled_format_of_before_is_refused_and_never_unpickled(
        tmp_path, capsys, no_unpickling):
    output = tmp_path / 'old'
    output.mkdir()
    # A pickle that would make a file if it were ever loaded.
    marker = tmp_path / 'unpickled'
    payload = (b'cos\nsystem\n(S' + f"'touch {marker}'".encode() + b'\ntR.')
    (output / 'model.pdopt').write_bytes(payload)
    (output / 'model.pdparams').write_bytes(payload)
    (output / training.RUN_FILE).write_text('{}')
    with pytest.raises(SystemExit) as exit_:
        train_script.run(lambda: train_script.main([*TINY, '--output', str(output), '--resume']),
                         'train.py')
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count('\n') == 1
    assert 'earlier format (model.pdparams + model.pdopt), which is a pickle and is not loaded' in err
    assert not marker.exists() and no_unpickling == []
    # A plain rerun does not overwrite it either; --force starts over.
    with pytest.raises(SystemExit):
        train_script.run(lambda: train_script.main([*TINY, '--output', str(output)]), 'train.py')
    assert 'holds a run already (model.pdparams, model.pdopt)' in capsys.readouterr().err


def test_leftovers_of_a_killed_save_are_removed_at_the_next_start(finished, tmp_path, digits):
    output = tmp_path / 'run'
    shutil.copytree(finished, output)
    leftovers = ['.checkpoint-0003.tmp/model.safetensors', 'checkpoint-0001/state.json',
                 '.checkpoint.json.tmp', '.log.csv.x1y2_abc.tmp', '.run.json.abcd1234.tmp',
                 '.responses.csv.0a1b2c3d.tmp']
    for name in leftovers:
        (output / name).parent.mkdir(exist_ok=True)
        (output / name).write_bytes(b'half')
    (output / 'notes.txt').write_text('the user\'s own file')
    train_tiny(digits, output, training.Settings(epochs=2, batch_size=8, seed=3), resume=True)
    assert sorted(os.listdir(output)) == sorted(run_layout(output, 2)[0] + ['notes.txt'])


# --- one process owns a directory ------------------------------------------------------------

HOLDER = """
import sys, time
from resnet_tools.training import locking
with locking.owning(sys.argv[1]):
    print('locked', flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize('flag', [[], ['--resume'], ['--force']])
def test_a_live_runs_directory_is_refused_and_force_deletes_nothing(flag, finished, tmp_path,
                                                                    capsys):
    output = tmp_path / 'run'
    shutil.copytree(finished, output)
    before = snapshot(output)
    live = subprocess.Popen([sys.executable, '-c', HOLDER, str(output)], cwd=REPO,
                            stdout=subprocess.PIPE, text=True, env={**os.environ, 'PYTHONPATH': str(REPO)})
    try:
        assert live.stdout.readline() == 'locked\n'
        with pytest.raises(SystemExit) as exit_:
            train_script.run(lambda: train_script.main([*TINY, '--output', str(output), *flag]),
                             'train.py')
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and err.count('\n') == 1
        assert f'train.py: error: {output} is in use by process {live.pid} (' in err
        # And inside the loop, where the lock is taken: the same answer.
        with pytest.raises(UsageError, match=f'in use by process {live.pid}'):
            train_tiny(data.digits(32, 16), output, force=True)
    finally:
        live.kill()
        live.wait()
    assert snapshot(output) == before


def test_two_runs_started_together_into_one_directory_one_is_refused(tmp_path):
    output = tmp_path / 'run'
    command = [sys.executable, str(REPO / 'scripts' / 'train.py'), *TINY, '--epochs', '3',
               '--output', str(output)]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             cwd=REPO) for _ in range(2)]
    results = [(run.wait(timeout=300), run.stderr.read()) for run in runs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    refused = next(err for code, err in results if code == 2)
    # 'in use by process <pid>', or, when it comes between the other's lock and the pid
    # it writes under it, 'in use by another process'.
    assert 'is in use by' in refused or 'holds a run already' in refused
    assert checkpoints.load(str(output)).epoch == 3


# --- a full disk, a diverging run, bad numbers -----------------------------------------------

def test_a_full_disk_during_a_save_keeps_the_last_checkpoint(tmp_path, digits, monkeypatch):
    original, calls = checkpoints.write_durably, [0]

    def full_disk_in_epoch_2(path, data_):
        calls[0] += 1
        if calls[0] == 5:
            raise OSError(28, 'No space left on device')
        return original(path, data_)
    with monkeypatch.context() as patch:
        patch.setattr(checkpoints, 'write_durably', full_disk_in_epoch_2)
        with pytest.raises(UsageError) as refused:
            train_tiny(digits, tmp_path / 'run')
    assert str(refused.value) == (f'{tmp_path / "run"}: the checkpoint of epoch 2 cannot be '
                                  f'written (No space left on device); the last checkpoint is epoch 1')
    assert_clean(tmp_path / 'run', 1)
    assert train_tiny(digits, tmp_path / 'run', resume=True).digest == \
        train_tiny(digits, tmp_path / 'straight').digest


def test_an_infinite_learning_rate_in_the_loop_stops_with_exit_code_1(tmp_path, digits, monkeypatch):
    # --lr inf itself is refused; here the loop meets it in epoch 2, as a rate far too
    # high would make the loss overflow.
    scheduled = training.learning_rate
    monkeypatch.setattr(loop, 'learning_rate',
                        lambda settings, epoch: float('inf') if epoch == 1 else scheduled(settings, epoch))
    with pytest.raises(Stop) as stop:
        train_tiny(digits, tmp_path / 'run')
    assert stop.value.code == 1
    assert str(stop.value) == ('error: the training loss is nan in epoch 2, step 2: the run diverged '
                               '(try a lower --lr); the last checkpoint is epoch 1, kept')
    checkpoint = checkpoints.load(str(tmp_path / 'run'))
    assert checkpoint.epoch == 1 and all(np.isfinite(value).all() for value in checkpoint.model.values())


def test_a_huge_learning_rate_is_one_line_and_exit_code_1(tmp_path):
    result = subprocess.run([sys.executable, str(REPO / 'scripts' / 'train.py'), *TINY,
                             '--epochs', '2', '--lr', '1e30', '--output', str(tmp_path / 'run')],
                            capture_output=True, text=True, cwd=REPO, timeout=300)
    assert result.returncode == 1 and result.stderr.count('\n') == 1
    assert result.stderr.startswith('train.py: error: the training loss is ')
    assert 'in epoch 1, step ' in result.stderr
    assert not (tmp_path / 'run' / checkpoints.MANIFEST).exists()


@pytest.mark.parametrize('args, message', [
    (['--lr', 'inf'], '--lr inf is not a finite number'),
    (['--lr', 'nan'], '--lr nan is not a finite number'),
    (['--momentum', 'inf'], '--momentum inf is not a finite number'),
    (['--weight-decay', 'inf'], '--weight-decay inf is not a finite number'),
    (['--weight-decay=-inf'], '--weight-decay -inf is not a finite number'),
    (['--seed', '-5'], '--seed -5 is out of range: from 0 to 4,294,967,295 (2^32 - 1)'),
    (['--seed', '4294967296'], '--seed 4294967296 is out of range'),
])
def test_bad_numbers_are_refused_before_training(args, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        train_script.run(
            lambda: train_script.main([*TINY, *args, '--output', str(tmp_path / 'run')]), 'train.py')
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count('\n') == 1 and message in err
    assert not (tmp_path / 'run').exists()


def test_the_largest_seed_trains(tmp_path, digits):
    settings = training.Settings(epochs=1, batch_size=8, seed=2 ** 32 - 1)
    assert train_tiny(digits, tmp_path / 'run', settings).log[0].epoch == 1


def test_ctrl_c_outside_the_loop_is_one_line(capsys):
    def interrupted():
        raise KeyboardInterrupt
    with pytest.raises(SystemExit) as exit_:
        train_script.run(interrupted, 'train.py')
    assert exit_.value.code == 130 and capsys.readouterr().err == 'train.py: interrupted\n'


def test_files_replacing_flushes_before_the_rename(tmp_path, monkeypatch):
    events = []
    monkeypatch.setattr(files.os, 'fsync', lambda descriptor: events.append('fsync'))
    real_replace = os.replace
    monkeypatch.setattr(files.os, 'replace', lambda a, b: (events.append('replace'), real_replace(a, b)))
    files.write_bytes(tmp_path / 'out.txt', 'text')
    assert events == ['fsync', 'replace', 'fsync'] and (tmp_path / 'out.txt').read_text() == 'text'


def test_a_second_ctrl_c_does_not_wait_for_the_step(tmp_path, digits, monkeypatch):
    original = type(digits).train_batch

    def impatient(self, *args):
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)
        return original(self, *args)
    monkeypatch.setattr(type(digits), 'train_batch', impatient)
    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        train_tiny(digits, tmp_path / 'run')
    assert signal.getsignal(signal.SIGINT) == handler
