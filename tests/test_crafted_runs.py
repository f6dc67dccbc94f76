"""Run folders are untrusted input: one received from someone else may hold anything.

Every crafted folder is refused in one line (a UsageError, exit code 2 from a script)
or loaded correctly, and nothing in it or outside it changes; no reader hangs on a
FIFO or reads for ever from a link to /dev/zero; nothing is unpickled.  The manifest's
checksum catches accidents, not intent (anyone can recompute it), so the crafted
manifests below carry a correct checksum and every field behind it is checked.

The runs are of cifar_resnet20 on 32 digits for two epochs, so that both readers of a
run folder are tried: train.py's --resume and load_run (export.py --run)."""
import fcntl
import json
import os
import shutil
import signal
import stat

import numpy as np
import pytest
import safetensors.numpy

from helpers import load_script
from resnet_tools import training
from resnet_tools.errors import UsageError
from resnet_tools.paper import networks
from resnet_tools.training import checkpoints, data, locking, run_directory

SETTINGS = training.Settings(epochs=2, batch_size=16, seed=5)
ARCH = 'cifar_resnet20'
train_script = load_script('train.py')


@pytest.fixture(scope='module')
def digits():
    return data.digits(32, 16)


@pytest.fixture(scope='module')
def finished(tmp_path_factory, digits):
    output = tmp_path_factory.mktemp('crafted') / 'run'
    networks.train_network(ARCH, digits, SETTINGS, str(output), report=lambda line: None)
    return output


@pytest.fixture
def run(finished, tmp_path):
    """A copy of the finished run, to be crafted."""
    output = tmp_path / 'run'
    shutil.copytree(finished, output)
    return output


@pytest.fixture(autouse=True)
def no_hang():
    """A reader that blocks (on a FIFO) fails the test instead of hanging the suite."""
    def expired(number, frame):
        raise TimeoutError('the reader blocked')
    before = signal.signal(signal.SIGALRM, expired)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, before)


def snapshot(directory):
    """{relative path: bytes, or what the entry is} of everything in `directory`; links
    and FIFOs are described, never opened."""
    found = {}
    for root, folders, names in os.walk(directory):
        for name in folders + names:
            path = os.path.join(root, name)
            mode = os.lstat(path).st_mode
            key = os.path.relpath(path, directory)
            if stat.S_ISLNK(mode):
                found[key] = ('link', os.readlink(path))
            elif stat.S_ISREG(mode):
                with open(path, 'rb') as file:
                    found[key] = file.read()
            else:
                found[key] = ('mode', stat.S_IFMT(mode))
    return found


def resume(output, digits):
    return networks.train_network(ARCH, digits, SETTINGS, str(output), report=lambda line: None,
                                  resume=True)


def manifest_of(output):
    return json.loads((output / checkpoints.MANIFEST).read_text())


def write_manifest(output, manifest):
    """Write `manifest` with its checksum recomputed, as an attacker can."""
    manifest = {key: value for key, value in manifest.items() if key != 'sha256'}
    manifest['sha256'] = checkpoints.own_checksum(manifest)
    (output / checkpoints.MANIFEST).write_text(json.dumps(manifest))


def rewrite_file(output, name, data_):
    """Replace a file of the current checkpoint and update the manifest to match it."""
    manifest = manifest_of(output)
    (output / manifest['directory'] / name).write_bytes(data_)
    manifest['files'][name] = {'bytes': len(data_), 'sha256': checkpoints.sha256(data_)}
    write_manifest(output, manifest)


def state_of(output):
    return json.loads((output / manifest_of(output)['directory'] / checkpoints.STATE_FILE).read_text())


def with_state(**changes):
    def craft(output):
        state = {**state_of(output), **changes}
        rewrite_file(output, checkpoints.STATE_FILE, json.dumps(state).encode())
    return craft


def with_manifest(**changes):
    def craft(output):
        write_manifest(output, {**manifest_of(output), **changes})
    return craft


def with_entry(**changes):
    def craft(output):
        manifest = manifest_of(output)
        manifest['files'][checkpoints.MODEL_FILE] = {**manifest['files'][checkpoints.MODEL_FILE],
                                                     **changes}
        write_manifest(output, manifest)
    return craft


def with_log_row(**changes):
    def craft(output):
        state = state_of(output)
        state['log'][0] = {**state['log'][0], **changes}
        rewrite_file(output, checkpoints.STATE_FILE, json.dumps(state).encode())
    return craft


def with_model_dtype(dtype):
    def craft(output):
        path = output / manifest_of(output)['directory'] / checkpoints.MODEL_FILE
        arrays = safetensors.numpy.load(path.read_bytes())
        rewrite_file(output, checkpoints.MODEL_FILE, safetensors.numpy.save(
            {key: value.astype(dtype) for key, value in arrays.items()}))
    return craft


def nested_manifest(output):
    (output / checkpoints.MANIFEST).write_text('[' * 100_000 + ']' * 100_000)


def model_as(kind):
    def craft(output):
        path = output / manifest_of(output)['directory'] / checkpoints.MODEL_FILE
        path.unlink()
        if kind == 'fifo':
            os.mkfifo(path)
        else:
            path.symlink_to('/dev/zero')
    return craft


def manifest_fifo(output):
    (output / checkpoints.MANIFEST).unlink()
    os.mkfifo(output / checkpoints.MANIFEST)


def with_network(**changes):
    def craft(output):
        state = state_of(output)
        state['description']['network'] = {**state['description']['network'], **changes}
        rewrite_file(output, checkpoints.STATE_FILE, json.dumps(state).encode())
    return craft


CRAFTED = {
    'bytes "many"': with_entry(bytes='many'),
    'bytes true': with_entry(bytes=True),
    'a huge size': with_entry(bytes=10 ** 30),
    'a sha256 that is no digest': with_entry(sha256='x' * 64),
    'a files entry that is a string': with_manifest(
        files={name: 'x' for name in checkpoints.CHECKPOINT_FILES}),
    'files null': with_manifest(files=None),
    'epoch -1': with_manifest(epoch=-1),
    'epoch "2"': with_manifest(epoch='2'),
    'epoch 2.0': with_manifest(epoch=2.0),
    'epoch 10**30': with_manifest(epoch=10 ** 30, directory=checkpoints.directory_name(10 ** 30)),
    'a directory outside': with_manifest(directory='../../elsewhere'),
    'JSON nested 100,000 deep': nested_manifest,
    'a manifest that is a FIFO': manifest_fifo,
    'model.safetensors a FIFO': model_as('fifo'),
    'model.safetensors a link to /dev/zero': model_as('zero'),
    'log lr "abc"': with_log_row(lr='abc'),
    'log epoch 1.5': with_log_row(epoch=1.5),
    'log rows missing': with_state(log=[]),
    'description "x"': with_state(description='x'),
    'model 5': with_state(model=5),
    'state epoch "2"': with_state(epoch='2'),
    'next_generator a list': with_state(next_generator=[]),
    'optimizer scalars to set': with_state(optimizer_scalars={'LR_Scheduler': {'last_epoch': 3}}),
    'weights F64': with_model_dtype(np.float64),
    'weights I64': with_model_dtype(np.int64),
    'weights F16': with_model_dtype(np.float16),
    'in_channels 10**9': with_network(in_channels=10 ** 9),
    'num_classes "10"': with_network(num_classes='10'),
    'image_size null': with_network(image_size=None),
    'shortcut "Z"': with_network(shortcut='Z'),
}
# What load_run does not use: the contents of the loop's own fields (the log, the
# optimiser's scalars), which train.py's --resume checks; their JSON types load checks.
LOADS_ALL_THE_SAME = {'log lr "abc"', 'log epoch 1.5', 'log rows missing',
                      'optimizer scalars to set'}


def assert_refused(call, output, outside, before):
    with pytest.raises(UsageError) as refused:
        call()
    message = str(refused.value)
    assert '\n' not in message and str(output) in message, message
    assert snapshot(output) == before and snapshot(outside) == {'keep': b'keep'}
    return message


@pytest.mark.parametrize('craft', CRAFTED)
def test_a_crafted_run_is_refused_by_resume_in_one_line_and_nothing_changes(
        craft, run, tmp_path, digits, no_unpickling):
    outside = tmp_path / 'outside'
    outside.mkdir()
    (outside / 'keep').write_bytes(b'keep')
    CRAFTED[craft](run)
    before = snapshot(run)
    assert_refused(lambda: resume(run, digits), run, outside, before)
    assert no_unpickling == []


@pytest.mark.parametrize('craft', CRAFTED)
def test_a_crafted_run_is_refused_by_load_run_or_loaded_as_it_is(craft, run, tmp_path):
    outside = tmp_path / 'outside'
    outside.mkdir()
    (outside / 'keep').write_bytes(b'keep')
    CRAFTED[craft](run)
    before = snapshot(run)
    if craft in LOADS_ALL_THE_SAME:
        loaded = networks.load_run(run)
        assert loaded.epoch == 2 and loaded.network.arch == ARCH
        assert snapshot(run) == before
    else:
        assert_refused(lambda: networks.load_run(run), run, outside, before)


def test_the_crafts_change_the_run(finished, tmp_path):
    # Each craft changes something that the readers above then read.
    for name, craft in CRAFTED.items():
        output = tmp_path / name.replace('/', '_')
        shutil.copytree(finished, output)
        craft(output)
        assert snapshot(output) != snapshot(finished), name


def test_an_uncrafted_copy_resumes_and_loads(run, digits):
    assert networks.load_run(run).epoch == 2
    result = resume(run, digits)
    assert [row.epoch for row in result.log] == [1, 2]


# --- the lock ---------------------------------------------------------------------------------

def test_a_lock_that_links_outside_is_refused_and_its_target_untouched(run, tmp_path, capsys):
    target = tmp_path / 'bashrc'
    target.write_text('export PATH=...\n')
    (run / locking.LOCK_FILE).unlink()
    (run / locking.LOCK_FILE).symlink_to(target)
    before = snapshot(run)
    with pytest.raises(SystemExit) as exit_:
        train_script.run(lambda: train_script.main(
            ['--data', 'digits', '--train-size', '32', '--test-size', '16', '--epochs', '2',
             '--batch-size', '16', '--seed', '5', '--output', str(run), '--resume']), 'train.py')
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count('\n') == 1
    assert f'{run / locking.LOCK_FILE} is a symbolic link, not the lock of a run' in err
    assert target.read_text() == 'export PATH=...\n' and snapshot(run) == before


@pytest.mark.parametrize('check', [locking.check_free, locking.holder,
                                   lambda folder: locking.owning(folder).__enter__()])
def test_a_lock_that_is_a_fifo_blocks_nobody(check, run):
    (run / locking.LOCK_FILE).unlink()
    os.mkfifo(run / locking.LOCK_FILE)
    try:
        result = check(run)
    except UsageError as refused:
        assert 'is a FIFO, not the lock of a run' in str(refused)
    else:
        assert result is None     # check_free and holder: nobody to name
    assert stat.S_ISFIFO(os.lstat(run / locking.LOCK_FILE).st_mode)


# --- a damaged run is never thrown away -------------------------------------------------------

@pytest.mark.parametrize('flags', [{'resume': True}, {}])
def test_a_lost_manifest_is_damage_and_nothing_is_removed(flags, run, digits):
    (run / checkpoints.MANIFEST).unlink()
    before = snapshot(run)
    with pytest.raises(UsageError, match='holds checkpoint-0002 but no checkpoint.json'):
        networks.train_network(ARCH, digits, SETTINGS, str(run), report=lambda line: None, **flags)
    assert snapshot(run) == before


def test_a_lost_manifest_starts_over_with_force(run, digits):
    (run / checkpoints.MANIFEST).unlink()
    result = networks.train_network(ARCH, digits, SETTINGS, str(run), report=lambda line: None,
                                    force=True)
    assert [row.epoch for row in result.log] == [1, 2]


def test_the_first_checkpoint_without_a_manifest_is_what_a_killed_save_leaves(run, digits):
    # Killed between the first checkpoint's rename and the switch: no manifest, no log yet.
    # That checkpoint was never the run's, and the run starts at epoch 1.
    (run / checkpoints.MANIFEST).unlink()
    (run / run_directory.LOG_FILE).unlink()
    (run / 'checkpoint-0002').rename(run / 'checkpoint-0001')
    result = resume(run, digits)
    assert [row.epoch for row in result.log] == [1, 2]


def test_a_users_folder_named_like_a_checkpoint_is_refused_and_kept(run, digits):
    (run / 'checkpoint-0099').mkdir()
    (run / 'checkpoint-0099' / 'notes.txt').write_text('mine')
    before = snapshot(run)
    for flags in ({'resume': True}, {'force': True}):
        with pytest.raises(UsageError, match='checkpoint-0099 is named like a part of a run, but '
                                             'it is a folder that holds notes.txt'):
            networks.train_network(ARCH, digits, SETTINGS, str(run), report=lambda line: None,
                                   **flags)
        assert snapshot(run) == before


# --- an I/O error at the switch ---------------------------------------------------------------

def test_an_io_error_after_the_switch_keeps_the_new_checkpoint(tmp_path, digits, monkeypatch):
    output = tmp_path / 'run'
    flushes = []
    real = checkpoints.fsync_directory

    def failing(path):
        flushes.append(path)
        # The fsync of the folder after epoch 2's manifest is switched: each save flushes
        # the staging folder, the run folder after the rename, and again after the switch.
        if len(flushes) == 6:
            raise OSError(5, 'Input/output error')
        real(path)
    monkeypatch.setattr(checkpoints, 'fsync_directory', failing)
    with pytest.raises(UsageError) as failed:
        networks.train_network(ARCH, digits, SETTINGS, str(output), report=lambda line: None)
    assert str(failed.value) == (
        f'{output}: the checkpoint of epoch 2 was written, but flushing it to the disk failed '
        f'(Input/output error); the last checkpoint is epoch 2, which --resume continues')
    monkeypatch.setattr(checkpoints, 'fsync_directory', real)
    assert checkpoints.load(output).epoch == 2
    again = tmp_path / 'again'
    whole = networks.train_network(ARCH, digits, SETTINGS, str(again), report=lambda line: None)
    assert resume(output, digits).digest == whole.digest


# --- a reader beside a live run ---------------------------------------------------------------

def test_a_reader_whose_checkpoint_is_switched_under_it_reads_the_new_one(finished, tmp_path,
                                                                         monkeypatch):
    # The run in `output` is at epoch 1; while load_run reads it, the trainer switches to
    # epoch 2 and removes checkpoint-0001, as a live run does.
    output = tmp_path / 'live'
    one = training.Settings(epochs=1, batch_size=16, seed=5)
    networks.train_network(ARCH, data.digits(32, 16), one, str(output), report=lambda line: None)
    real = checkpoints.read_file

    def switched(directory, name, entry, prefix='--resume: '):
        if directory.endswith('checkpoint-0001'):
            shutil.rmtree(directory)
            shutil.copytree(finished / 'checkpoint-0002', output / 'checkpoint-0002')
            shutil.copy(finished / checkpoints.MANIFEST, output / checkpoints.MANIFEST)
        return real(directory, name, entry, prefix)
    monkeypatch.setattr(checkpoints, 'read_file', switched)
    assert networks.load_run(output).epoch == 2


# --- Figure 7's data is written inside the lock -------------------------------------------------

def test_responses_are_written_while_the_folder_is_held(tmp_path, digits, monkeypatch):
    output = tmp_path / 'run'
    held = []
    real = networks.responses.write_responses

    def write(folder, rows):
        with open(os.path.join(folder, locking.LOCK_FILE)) as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                held.append(True)
            else:
                held.append(False)
        return real(folder, rows)
    monkeypatch.setattr(networks.responses, 'write_responses', write)
    networks.train_network(ARCH, digits, training.Settings(epochs=1, batch_size=16), str(output),
                           report=lambda line: None)
    assert held == [True]


def test_a_network_folder_that_links_outside_is_refused(tmp_path, capsys):
    degradation_script = load_script('degradation.py')
    outside, output = tmp_path / 'outside', tmp_path / 'out'
    outside.mkdir()
    (outside / 'keep').write_bytes(b'keep')
    output.mkdir()
    (output / 'cifar_resnet20').symlink_to(outside)
    before = snapshot(output)
    with pytest.raises(SystemExit) as exit_:
        degradation_script.run(lambda: degradation_script.main(
            ['--depths', '20', '--epochs', '1', '--train-size', '32', '--test-size', '16',
             '--output', str(output), '--force']), 'degradation.py')
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count('\n') == 1
    assert 'cifar_resnet20 is a symbolic link, not the folder of a run' in err
    assert snapshot(output) == before and snapshot(outside) == {'keep': b'keep'}
