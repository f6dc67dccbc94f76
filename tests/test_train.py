"""scripts/train.py and the modules under it: data, the training loop, resume, the
2-process launch and every bad input.  Tiny subsets of the digits and a small
CIFAR-10-format archive made here keep each run to a second or two."""
import dataclasses
import hashlib
import io
import json
import os
import pathlib
import pickle
import re
import subprocess
import sys
import tarfile

import numpy as np
import paddle
import pytest

import resnet
from helpers import REPO, load_script, run_script
from paddleinfo import progress
from resnet_tools import files, training
from resnet_tools.errors import UsageError
from resnet_tools.paper import networks
from resnet_tools.training import checkpoints, data, distributed

TINY = ['--train-size', '96', '--test-size', '48', '--batch-size', '32', '--device', 'cpu']



train_script = load_script('train.py')


def run_train(*args):
    """train.py in this process: (exit code, stdout, stderr)."""
    return train_script.main([str(a) for a in args])


def error_of(capsys, *args):
    """The one-line error and exit code of train.py with `args`."""
    with pytest.raises(SystemExit) as exit_:
        train_script.run(lambda: run_train(*args), 'train.py')
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and 'Traceback' not in err
    return exit_.value.code, err


def tiny_digits(train_size=96, test_size=48):
    return data.digits(train_size, test_size)


def settings(**changes):
    return training.Settings(**{'epochs': 2, 'batch_size': 32, **changes})


def train_quietly(arch, images, output, **options):
    return networks.train_network(arch, images, options.pop('settings', settings()), str(output),
                               report=lambda line: None, **options)


def checkpoint_of(run):
    """The current checkpoint of a run directory, read back and checked."""
    return checkpoints.load(str(run))


def model_file(run):
    """The model.safetensors of a run's current checkpoint."""
    return pathlib.Path(checkpoints.current_directory(str(run))) / checkpoints.MODEL_FILE


def without_seconds(log_text):
    return [line.rsplit(',', 1)[0] for line in log_text.splitlines()]


# --- data ---------------------------------------------------------------------------

def test_digits_have_a_fixed_split_of_real_8x8_images():
    images = data.digits()
    # sklearn.datasets.load_digits: 1,797 images of 8x8, ten classes.
    assert len(images.train_labels) + len(images.test_labels) == 1797
    assert len(images.test_labels) == 359          # round(0.2 * 1797)
    assert images.train_images.shape[1:] == (1, 8, 8) and images.in_channels == 1
    assert images.num_classes == 10 and images.padding == 0
    again = data.digits()
    assert np.array_equal(images.train_labels, again.train_labels)
    assert np.array_equal(images.test_images, again.test_images)
    # Per-pixel mean subtracted: every pixel of the training set averages to 0.
    assert np.abs(images.train_images.mean(axis=0)).max() < 1e-6
    # No test image is also a training image.
    train = {row.tobytes() for row in images.train_images}
    assert not any(row.tobytes() in train for row in images.test_images)


def test_subsets_are_the_first_images_of_the_split():
    full, small = data.digits(), data.digits(100, 40)
    assert np.array_equal(small.train_labels, full.train_labels[:100])
    assert np.array_equal(small.test_labels, full.test_labels[:40])


def test_crop_and_flip_moves_and_mirrors_the_image():
    image = np.arange(2 * 4 * 5, dtype=np.float32).reshape(1, 2, 4, 5)
    same = data.crop_and_flip(image, 2, np.array([[2, 2]]), np.array([False]))
    assert np.array_equal(same, image)
    mirrored = data.crop_and_flip(image, 2, np.array([[2, 2]]), np.array([True]))
    assert np.array_equal(mirrored, image[..., ::-1])
    # Offset (0, 0) is the top-left corner of the padded image: two rows and columns
    # of zeros, then the image.
    corner = data.crop_and_flip(image, 2, np.array([[0, 0]]), np.array([False]))
    assert np.all(corner[..., :2, :] == 0) and np.all(corner[..., :, :2] == 0)
    assert np.array_equal(corner[..., 2:, 2:], image[..., :2, :3])


def make_cifar_archive(path, train=(20, 20, 20, 20, 20), test=30, seed=0):
    """A CIFAR-10 python archive in the published layout, with random images."""
    rng = np.random.default_rng(seed)
    with tarfile.open(path, 'w:gz') as archive:
        parts = [(f'data_batch_{i + 1}', n) for i, n in enumerate(train)] + [('test_batch', test)]
        for name, count in parts:
            batch = {b'data': rng.integers(0, 256, size=(count, 3072), dtype=np.uint8),
                     b'labels': rng.integers(0, 10, size=count).tolist()}
            content = pickle.dumps(batch)
            member = tarfile.TarInfo(f'cifar-10-batches-py/{name}')
            member.size = len(content)
            archive.addfile(member, io.BytesIO(content))
    return path


def test_cifar10_is_read_without_pickle_with_the_papers_augmentation(tmp_path):
    archive = make_cifar_archive(tmp_path / 'cifar-10-python.tar.gz')
    images = data.cifar10(str(archive))
    assert images.train_images.shape == (100, 3, 32, 32)
    assert images.test_images.shape == (30, 3, 32, 32)
    assert images.padding == 4          # Section 4.2: 4 pixels padded on each side
    assert np.abs(images.train_images.mean(axis=0)).max() < 1e-6
    # The first image of data_batch_1, as the archive holds it (rows of R, G, B).
    with tarfile.open(archive) as tar:
        first = pickle.load(tar.extractfile('cifar-10-batches-py/data_batch_1'), encoding='bytes')
    raw = first[b'data'].reshape(-1, 3, 32, 32).astype(np.float32) / 255
    assert images.train_labels[0] == first[b'labels'][0]
    assert np.allclose(images.train_images[0] - images.train_images[1], raw[0] - raw[1], atol=1e-6)
    choices = images.augmentation(np.random.default_rng(0))
    assert choices[0].min() >= 0 and choices[0].max() <= 8 and choices[1].any() and not choices[1].all()


# --- the training loop -----------------------------------------------------------------

def test_learning_rate_drops_at_half_and_three_quarters():
    # The paper: 0.1, divided by 10 at 32k and 48k of 64k iterations.
    rates = [training.learning_rate(training.Settings(epochs=8), epoch) for epoch in range(8)]
    assert rates == pytest.approx([0.1] * 4 + [0.01] * 2 + [0.001] * 2)


def test_warmup_epochs_train_at_a_tenth_of_the_rate_then_the_schedule_goes_on():
    # The paper's warm-up (Section 4.2, ResNet-110): 0.01, then back to 0.1.
    run_settings = training.Settings(epochs=8, warmup_epochs=2)
    rates = [training.learning_rate(run_settings, epoch) for epoch in range(8)]
    assert rates == pytest.approx([0.01] * 2 + [0.1] * 2 + [0.01] * 2 + [0.001] * 2)
    assert training.Settings().warmup_epochs == 0


def test_a_short_run_lowers_the_training_loss(tmp_path):
    result = train_quietly('cifar_resnet20', tiny_digits(), tmp_path / 'run',
                           settings=settings(epochs=2, milestones=(1.0,)))
    first, second = result.log
    assert second.train_loss < first.train_loss
    assert result.params == training.count_parameters(
        resnet.build('cifar_resnet20', in_channels=1))
    rows = training.read_log(tmp_path / 'run' / training.LOG_FILE)
    assert [row.epoch for row in rows] == [1, 2]
    assert [item.name for item in dataclasses.fields(rows[0])] == list(training.LOG_COLUMNS)
    assert rows[1].train_loss == pytest.approx(second.train_loss, abs=1e-6)


def test_the_same_seed_repeats_a_run_exactly_and_another_does_not(tmp_path):
    images = tiny_digits()
    one = train_quietly('cifar_plain20', images, tmp_path / 'one', settings=settings(epochs=1))
    two = train_quietly('cifar_plain20', images, tmp_path / 'two', settings=settings(epochs=1))
    other = train_quietly('cifar_plain20', images, tmp_path / 'other',
                          settings=settings(epochs=1, seed=1))
    assert one.digest == two.digest != other.digest
    assert model_file(tmp_path / 'one').read_bytes() == model_file(tmp_path / 'two').read_bytes()


class Stop(Exception):
    pass


@pytest.mark.parametrize('warmup_epochs', [0, 1])
def test_resume_after_an_epoch_is_bitwise_a_run_that_never_stopped(tmp_path, warmup_epochs):
    # With a warm-up epoch the resumed run starts where the rate goes back up.
    images, run_settings = tiny_digits(), settings(epochs=3, warmup_epochs=warmup_epochs)
    straight = train_quietly('cifar_resnet20', images, tmp_path / 'straight', settings=run_settings)

    def stop_after_first_epoch(line):
        if line.startswith('epoch 1/'):
            raise Stop
    with pytest.raises(Stop):
        networks.train_network('cifar_resnet20', images, run_settings, str(tmp_path / 'stopped'),
                            report=stop_after_first_epoch)
    assert len(training.read_log(tmp_path / 'stopped' / training.LOG_FILE)) == 1
    resumed = train_quietly('cifar_resnet20', images, tmp_path / 'stopped', settings=run_settings,
                            resume=True)
    assert resumed.digest == straight.digest
    a, b = checkpoint_of(tmp_path / 'straight'), checkpoint_of(tmp_path / 'stopped')
    assert a.model.keys() == b.model.keys()
    assert all(np.array_equal(a.model[key], b.model[key]) for key in a.model)
    # The optimiser's momentum too, and the log but for its wall-clock seconds.
    assert a.optimizer.keys() == b.optimizer.keys() and len(a.optimizer) > 0
    assert all(np.array_equal(a.optimizer[key], b.optimizer[key]) for key in a.optimizer)
    logs = [(tmp_path / name / training.LOG_FILE).read_text() for name in ('straight', 'stopped')]
    assert without_seconds(logs[0]) == without_seconds(logs[1])
    rates = [row.lr for row in training.read_log(tmp_path / 'stopped' / training.LOG_FILE)]
    assert rates == pytest.approx([0.01] * warmup_epochs + [0.1] * (2 - warmup_epochs) + [0.001])


def test_resume_of_a_finished_run_trains_nothing_more(tmp_path):
    images = tiny_digits()
    done = train_quietly('cifar_resnet20', images, tmp_path / 'run', settings=settings(epochs=1))
    again = train_quietly('cifar_resnet20', images, tmp_path / 'run', settings=settings(epochs=1),
                          resume=True)
    assert again.digest == done.digest and len(again.log) == 1


def test_a_checkpoint_file_from_another_run_is_refused(tmp_path):
    images = tiny_digits()
    train_quietly('cifar_resnet20', images, tmp_path / 'a', settings=settings(epochs=1))
    train_quietly('cifar_resnet20', images, tmp_path / 'b', settings=settings(epochs=1, seed=5))
    os.replace(model_file(tmp_path / 'b'), model_file(tmp_path / 'a'))
    with pytest.raises(UsageError, match='does not match the sha256 in the manifest'):
        train_quietly('cifar_resnet20', images, tmp_path / 'a', settings=settings(epochs=1),
                      resume=True)


# --- the script --------------------------------------------------------------------

def test_train_script_writes_log_checkpoint_and_run_description(tmp_path):
    result = run_script('train.py', '--arch', 'cifar_resnet20', '--epochs', '1', *TINY,
                        '--output', tmp_path / 'run')
    assert result.returncode == 0, result.stderr
    assert result.stderr == ''     # no progress bar off a terminal, no Paddle warnings
    assert 'epoch 1/1  lr 0.1' in result.stdout
    digest = re.search(r'weights sha256 \(process 1 of 1\): (\w+)', result.stdout).group(1)
    assert digest == training.weights_digest(checkpoint_of(tmp_path / 'run').model)
    run = training.read_run(tmp_path / 'run')
    assert run.model == 'cifar_resnet20' and run.details['train_images'] == 96
    assert run.settings.momentum == 0.9 and run.settings.weight_decay == 1e-4
    # responses.csv: the layer responses of the paper's Figure 7 (resnet_tools/paper/responses.py).
    assert sorted(os.listdir(tmp_path / 'run')) == ['.lock', 'checkpoint-0001', 'checkpoint.json',
                                                    'log.csv', 'responses.csv', 'run.json']
    assert sorted(os.listdir(tmp_path / 'run' / 'checkpoint-0001')) == sorted(checkpoints.CHECKPOINT_FILES)


def test_train_script_on_a_cifar10_archive(tmp_path, capsys):
    archive = make_cifar_archive(tmp_path / 'cifar-10-python.tar.gz')
    assert run_train('--arch', 'cifar_plain20', '--data', 'cifar10', '--data-file', archive,
                     '--epochs', '1', '--batch-size', '50', '--device', 'cpu',
                     '--output', tmp_path / 'run') == 0
    out = capsys.readouterr().out
    assert 'cifar10: 100 training and 30 test images, 3x32x32' in out
    assert training.read_run(tmp_path / 'run').params == training.count_parameters(
        resnet.build('cifar_plain20'))


def write_bad_archive(tmp_path):
    path = tmp_path / 'corrupt.tar.gz'
    path.write_bytes(b'this is not a tar archive' * 10)
    return path


BAD_INPUTS = {
    'unknown arch': (['--arch', 'resnet50'], '--arch resnet50 is not known; choose from cifar_resnet20'),
    'missing data file': (['--data', 'cifar10', '--data-file', 'nowhere.tar.gz'], 'does not exist'),
    'cifar10 without a file': (['--data', 'cifar10'], '--data cifar10 needs --data-file'),
    'unknown data': (['--data', 'mnist'], '--data mnist is not known; choose from digits, cifar10'),
    'epochs below 1': (['--epochs', '0'], '--epochs 0 is out of range: at least 1'),
    'warm-up longer than the run': (['--epochs', '2', '--warmup-epochs', '3'],
                                    '--warmup-epochs 3 is out of range: from 0 to --epochs (2)'),
    'epochs not a number': (['--epochs', 'ten'], '--epochs ten is not an integer'),
    'train size too large': (['--train-size', '5000'], '--train-size 5000 is out of range'),
    'device': (['--device', 'tpu'], '--device tpu is not known; choose from cpu, gpu'),
}


@pytest.mark.parametrize('case', BAD_INPUTS)
def test_bad_input_is_one_line_and_exit_code_2(case, capsys, tmp_path):
    args, message = BAD_INPUTS[case]
    code, err = error_of(capsys, *args, '--output', tmp_path / 'run')
    assert code == 2 and message in err and err.startswith('train.py: error: ')
    assert not (tmp_path / 'run').exists()


def test_corrupt_data_file_is_one_line(capsys, tmp_path):
    code, err = error_of(capsys, '--data', 'cifar10', '--data-file', write_bad_archive(tmp_path),
                         '--output', tmp_path / 'run')
    assert code == 2 and 'is not a CIFAR-10 python archive' in err


def test_archive_without_cifar_batches_is_one_line(capsys, tmp_path):
    path = tmp_path / 'other.tar.gz'
    with tarfile.open(path, 'w:gz') as archive:
        member = tarfile.TarInfo('readme.txt')
        archive.addfile(member, io.BytesIO(b''))
    code, err = error_of(capsys, '--data', 'cifar10', '--data-file', path, '--output', tmp_path / 'run')
    assert code == 2 and 'it has no data_batch files' in err


@pytest.mark.skipif(paddle.is_compiled_with_cuda(), reason='this Paddle has CUDA')
def test_gpu_without_cuda_is_one_line(capsys, tmp_path):
    code, err = error_of(capsys, *TINY[:-2], '--device', 'gpu', '--output', tmp_path / 'run')
    assert code == 2 and 'the installed Paddle has no CUDA' in err


def test_batch_not_divisible_by_the_processes_is_one_line(capsys, tmp_path, monkeypatch):
    # What paddle.distributed.launch --nproc_per_node 3 tells every process.
    monkeypatch.setenv('PADDLE_TRAINERS_NUM', '3')
    monkeypatch.setenv('PADDLE_TRAINER_ID', '0')
    code, err = error_of(capsys, '--batch-size', '128', '--output', tmp_path / 'run')
    assert code == 2 and '--batch-size 128 is the global batch and must divide evenly among the 3' in err


def test_second_run_into_an_output_is_refused_and_resume_of_another_net_too(capsys, tmp_path):
    output = tmp_path / 'run'
    assert run_train('--arch', 'cifar_resnet20', '--epochs', '1', *TINY, '--output', output) == 0
    before = model_file(output).read_bytes()
    capsys.readouterr()
    code, err = error_of(capsys, '--arch', 'cifar_resnet20', '--epochs', '1', *TINY, '--output', output)
    assert code == 2 and 'holds a run already' in err and '--resume' in err and '--force' in err
    code, err = error_of(capsys, '--arch', 'cifar_resnet56', '--epochs', '1', *TINY, '--output', output,
                         '--resume')
    assert code == 2 and 'the checkpoint in' in err and 'is of cifar_resnet20, not cifar_resnet56' in err
    code, err = error_of(capsys, '--arch', 'cifar_resnet20', '--epochs', '2', *TINY, '--output', output,
                         '--resume')
    assert code == 2 and 'had other settings: epochs 1 (now 2)' in err
    code, err = error_of(capsys, '--epochs', '1', *TINY, '--output', tmp_path / 'empty', '--resume')
    assert code == 2 and 'has no checkpoint' in err
    assert model_file(output).read_bytes() == before
    # --force starts over: the same command gives the same weights again.
    assert run_train('--arch', 'cifar_resnet20', '--epochs', '1', *TINY, '--output', output,
                     '--force') == 0
    assert model_file(output).read_bytes() == before


def test_bad_input_from_the_shell_has_no_traceback(tmp_path):
    result = run_script('train.py', '--arch', 'cifar_resnet21', '--output', tmp_path / 'run')
    assert result.returncode == 2
    assert result.stderr.startswith('train.py: error: --arch cifar_resnet21 is not known')
    assert result.stderr.count('\n') == 1 and result.stdout == ''


def test_two_processes_under_paddle_distributed_launch_end_with_the_same_weights(tmp_path):
    # CPU Paddle runs data-parallel over gloo; each process prints the sha256 of
    # its weights, and the test hashes rank 0's saved checkpoint itself.
    logs, output = tmp_path / 'logs', tmp_path / 'run'
    command = [sys.executable, '-m', 'paddle.distributed.launch', '--nproc_per_node', '2',
               '--log_dir', str(logs), str(REPO / 'scripts' / 'train.py'), '--arch', 'cifar_resnet20',
               '--train-size', '64', '--test-size', '32', '--batch-size', '16', '--epochs', '1',
               '--device', 'cpu', '--output', str(output)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path,
                            env={**os.environ, 'PYTHONPATH': str(REPO)})
    worker_logs = [(logs / f'workerlog.{rank}').read_text(errors='replace') for rank in (0, 1)]
    assert result.returncode == 0, worker_logs
    digests = [re.search(rf'weights sha256 \(process {rank + 1} of 2\): (\w+)', text).group(1)
               for rank, text in enumerate(worker_logs)]
    saved = training.weights_digest(checkpoint_of(output).model)
    assert digests == [saved, saved]
    run = training.read_run(output)
    assert run.processes == 2 and run.settings.batch_size == 16
    assert [row.epoch for row in training.read_log(output / training.LOG_FILE)] == [1]
    # Only rank 0 writes: rank 1 reports no epochs.
    assert 'epoch 1/1' in worker_logs[0] and 'epoch 1/1' not in worker_logs[1]
    manifest = json.loads((output / checkpoints.MANIFEST).read_text())
    assert hashlib.sha256(model_file(output).read_bytes()).hexdigest() == \
        manifest['files'][checkpoints.MODEL_FILE]['sha256']


def test_each_of_two_processes_takes_half_of_every_global_batch():
    # What the 2-process launch above runs on: 64 images, global batch 16.
    shares = [list(distributed.process_batches(64, 16, 2, rank)) for rank in (0, 1)]
    assert [len(share) for share in shares] == [4, 4]
    for step in range(4):
        first, second = shares[0][step], shares[1][step]
        assert len(first) == len(second) == 8 and not set(first) & set(second)
    assert sorted(i for share in shares for batch in share for i in batch) == list(range(64))
    assert [len(batch) for batch in distributed.process_batches(64, 16, 1, 0)] == [16] * 4


@pytest.mark.parametrize('script, args', [('train.py', TINY), ('degradation.py', [])])
@pytest.mark.parametrize('where', ['file/run', 'file', '/proc/review', '/dev/null/x'])
def test_an_output_that_cannot_be_a_directory_is_refused_before_the_data_is_read(
        script, args, where, tmp_path, capsys, monkeypatch):
    if where.startswith('/') and not os.path.exists(os.path.dirname(where)):
        pytest.skip(f'no {os.path.dirname(where)}')
    (tmp_path / 'file').write_text('not a directory')
    output = where if where.startswith('/') else tmp_path / where

    def read_data(source):
        raise AssertionError('the data was read before --output was checked')
    monkeypatch.setattr(data.DataSource, 'load', read_data)
    module = load_script(script)
    with pytest.raises(SystemExit) as exit_:
        module.run(lambda: module.main([*args, '--output', str(output)]), script)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count('\n') == 1 and 'Traceback' not in err
    assert err.startswith(f'{script}: error: --output {output} ')
    assert 'not a directory' in err or 'cannot be written' in err
    assert (tmp_path / 'file').read_text() == 'not a directory'


def test_a_write_that_fails_in_training_is_one_line_and_leaves_no_temporary_file(
        tmp_path, capsys, monkeypatch):
    def full_disk(source, target):
        raise OSError(28, 'No space left on device')
    monkeypatch.setattr(files.os, 'replace', full_disk)
    output = tmp_path / 'run'
    code, err = error_of(capsys, '--epochs', '1', *TINY, '--output', output)
    assert code == 2 and f'{output / training.RUN_FILE} cannot be written: No space left' in err
    # Nothing was written but the lock, in a folder the run made: the folder goes too.
    assert not output.exists()


def test_the_progress_bar_shows_loss_and_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(progress, 'on_terminal', lambda: True)   # as if a person watched
    train_quietly('cifar_resnet20', tiny_digits(), tmp_path / 'run', settings=settings(epochs=1),
                  progress=lambda total, text: progress.bar(total, text, mininterval=0))
    err = capsys.readouterr().err
    # 96 images in batches of 32: three steps.
    assert 'epoch 1/1' in err and '3/3' in err and 'loss=' in err and 'error=' in err
