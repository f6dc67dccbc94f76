"""A write that fails is one line and exit code 2 in every script that writes: a full
disk and a directory that takes no files, for convert.py (both formats), export.py
and draw.py.  (train.py's are in test_faults.py.)

The full disk is real where this process may mount one (a 64 KB tmpfs, filled; as root,
e.g. in CI containers with the privilege), and simulated everywhere: the writing call
raises ENOSPC, as each did on such a tmpfs, or, for paddle.jit.save, returns normally
after writing an empty model.json, which is what Paddle 3 does on a full disk."""
import errno
import os
import pathlib
import subprocess

import numpy as np
import paddle
import pytest
import safetensors.numpy

import resnet
from helpers import load_script
from resnet_tools import weights
from resnet_tools.deploy import export
from resnet_tools.weights import formats

SCRIPTS = {name: load_script(name) for name in ('convert.py', 'export.py', 'draw.py')}


@pytest.fixture(scope='module')
def cifar_weights(tmp_path_factory):
    """A cifar_resnet20 state dict in both formats (our layout; the format may change)."""
    directory = tmp_path_factory.mktemp('weights')
    paddle.seed(0)
    state = resnet.build('cifar_resnet20').state_dict()
    paddle.save(state, str(directory / 'r20.pdparams'))
    weights.save_atomically(state, directory / 'r20.safetensors')
    return directory


def commands(cifar_weights, folder):
    """Each script writing into `folder`."""
    return {
        'convert.py to .safetensors': ('convert.py', ['--to-ours', cifar_weights / 'r20.pdparams',
                                                      folder / 'out.safetensors']),
        'convert.py to .pdparams': ('convert.py', ['--to-ours', cifar_weights / 'r20.safetensors',
                                                   folder / 'out.pdparams']),
        'export.py': ('export.py', ['--layers', '18', '--num-classes', '10', '--input-size', '32',
                                    '--output', folder / 'exported']),
        'draw.py': ('draw.py', ['--block', 'basic', '--output', folder / 'block.svg']),
    }


def one_line_error(name, args, capsys):
    script = SCRIPTS[name]
    with pytest.raises(SystemExit) as exit_:
        script.run(lambda: script.main([str(arg) for arg in args]), name)
    captured = capsys.readouterr()
    assert exit_.value.code == 2, captured
    assert captured.err.count('\n') == 1 and 'Traceback' not in captured.err, captured.err
    assert captured.err.startswith(f'{name}: error: ')
    return captured.err


CASES = ('convert.py to .safetensors', 'convert.py to .pdparams', 'export.py', 'draw.py')


def simulate_full_disk(monkeypatch):
    """Every write of the four scripts fails as it does on a full disk."""
    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def empty_program(model, path, input_spec):   # what paddle.jit.save leaves
        pathlib.Path(path + '.json').write_text('')
        pathlib.Path(path + '.pdiparams').write_text('')
    monkeypatch.setattr(pathlib.Path, 'write_bytes', no_space)     # safetensors, figures
    monkeypatch.setattr(formats.paddle, 'save', no_space)         # .pdparams
    monkeypatch.setattr(export.paddle.jit, 'save', empty_program)
    # And the file system says it is full, as export.py asks when Paddle does not say.
    monkeypatch.setattr(export.os, 'statvfs', lambda path: os.statvfs_result((4096,) * 3 + (0,) * 7))


@pytest.mark.parametrize('case', CASES)
def test_a_full_disk_is_one_line_and_leaves_nothing(case, cifar_weights, tmp_path, capsys,
                                                      monkeypatch):
    name, args = commands(cifar_weights, tmp_path)[case]
    simulate_full_disk(monkeypatch)
    err = one_line_error(name, args, capsys)
    assert 'cannot be written: No space left on device' in err
    assert list(tmp_path.iterdir()) == []          # no half file, no temporary one


@pytest.fixture
def small_disk(tmp_path):
    """A 64 KB tmpfs at tmp_path/disk, filled up; skipped where mounting is not allowed."""
    disk = tmp_path / 'disk'
    disk.mkdir()
    mounted = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', str(disk)],
                             capture_output=True)
    if mounted.returncode:
        pytest.skip('cannot mount a small file system here (needs root)')
    try:
        descriptor = os.open(disk / 'filler', os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(descriptor, b'\0' * 4096)
        except OSError:
            pass                  # full
        finally:
            os.close(descriptor)
        yield disk
    finally:
        subprocess.run(['umount', str(disk)], check=True)


@pytest.mark.parametrize('case', CASES)
def test_a_real_full_disk_is_one_line_and_leaves_nothing(case, cifar_weights, small_disk, capsys):
    name, args = commands(cifar_weights, small_disk)[case]
    err = one_line_error(name, args, capsys)
    assert 'cannot be written: No space left on device' in err
    assert os.listdir(small_disk) == ['filler']


@pytest.mark.skipif(not os.path.isdir('/proc/self'), reason='no /proc')
@pytest.mark.parametrize('case', CASES)
def test_a_directory_that_takes_no_files_is_one_line(case, cifar_weights, capsys):
    # /proc takes no new file, not even from root, for whom chmod stops nothing.
    name, args = commands(cifar_weights, pathlib.Path('/proc'))[case]
    err = one_line_error(name, args, capsys)
    assert '/proc' in err and ('cannot be written' in err or 'not writable' in err)


@pytest.mark.parametrize('name', ['out.pt', 'out.pth', 'out', 'out.safetensor'])
def test_convert_refuses_an_extension_it_does_not_write(name, cifar_weights, tmp_path, capsys):
    err = one_line_error('convert.py', ['--to-ours', cifar_weights / 'r20.safetensors',
                                        tmp_path / name], capsys)
    assert 'is not a format written here; name the file .safetensors' in err
    assert list(tmp_path.iterdir()) == []


def test_the_simulation_is_undone(cifar_weights, tmp_path):
    # The patched writers above came back: a real write works.
    weights.save_atomically({'w': np.zeros(2, dtype='float32')}, tmp_path / 'w.safetensors')
    data = safetensors.numpy.load((tmp_path / 'w.safetensors').read_bytes())
    assert data['w'].shape == (2,)
