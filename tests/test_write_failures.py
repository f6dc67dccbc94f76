"""A write that fails is one line and exit code 2 in every script that writes: a full
disk, a directory that takes no files and a name too long, for convert.py (both
formats), export.py and draw.py; and a standard output on a full disk, or whose reader
has gone.  (train.py's files are in test_faults.py.)  No '(see --help)' follows a
failure of the disk: no flag puts it right.

The full disk is real where this process may mount one (a 64 KB tmpfs, filled, and a
2 MB one that a ResNet-18 overflows; as root, e.g. in CI containers with the privilege),
and simulated everywhere: the writing call raises ENOSPC, as each did on such a tmpfs,
or, for paddle.jit.save, returns normally after writing an empty model.json or a
model.pdiparams cut short, which is what Paddle 3 does on a full disk."""
import errno
import os
import pathlib
import signal
import subprocess
import sys

import numpy as np
import paddle
import pytest
import safetensors.numpy

import resnet
from helpers import REPO, load_script
from paddleinfo import arguments
from resnet_tools import weights
from resnet_tools.errors import UsageError
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
    """The one error line of scripts/<name> run on `args` (its warnings aside)."""
    script = SCRIPTS[name]
    with pytest.raises(SystemExit) as exit_:
        script.run(lambda: script.main([str(arg) for arg in args]), name)
    captured = capsys.readouterr()
    assert exit_.value.code == 2, captured
    lines = [line for line in captured.err.splitlines(keepends=True)
             if not line.startswith(f'{name}: warning: ')]
    assert len(lines) == 1 and 'Traceback' not in captured.err, captured.err
    assert lines[0].startswith(f'{name}: error: ')
    return lines[0]


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
    assert err.endswith(' cannot be written: No space left on device\n')   # no '(see --help)'
    assert list(tmp_path.iterdir()) == []          # no half file, no temporary one


def cut_short(monkeypatch, how):
    """paddle.jit.save writes the export, then its weights file is damaged `how`."""
    save = export.paddle.jit.save

    def damaged(model, path, input_spec):
        save(model, path, input_spec=input_spec)
        weights_file = pathlib.Path(path + '.pdiparams')
        data = weights_file.read_bytes()
        weights_file.write_bytes(data[:len(data) // 2] if how == 'half' else b'\xff' * 64 + data[64:])
        return len(data)
    monkeypatch.setattr(export.paddle.jit, 'save', damaged)


def test_an_export_cut_short_on_a_full_disk_is_one_line_and_leaves_nothing(tmp_path, capsys,
                                                                           monkeypatch):
    cut_short(monkeypatch, 'half')
    output = tmp_path / 'exported'
    args = ['--arch', 'cifar_resnet20', '--input-size', '8', '--output', output]
    # Where the file system does not say that it is full, the size says what happened.
    err = one_line_error('export.py', args, capsys)
    assert err.startswith(f'export.py: error: {output} cannot be written: model.pdiparams is cut '
                          f'short: ')
    assert err.endswith(f' of the {1_084_392:,} of the weights\n')   # cifar_resnet20's 271,098 floats
    monkeypatch.setattr(export.os, 'statvfs', lambda path: os.statvfs_result((4096,) * 3 + (0,) * 7))
    err = one_line_error('export.py', args, capsys)
    assert err == f'export.py: error: {output} cannot be written: No space left on device\n'
    assert list(tmp_path.iterdir()) == []


def test_an_export_that_does_not_read_back_is_one_line_and_leaves_nothing(tmp_path, capsys,
                                                                          monkeypatch):
    # Whole in size, but not what Paddle wrote: its own reader, the read-back, refuses it.
    cut_short(monkeypatch, 'garbled')
    output = tmp_path / 'exported'
    err = one_line_error('export.py', ['--arch', 'cifar_resnet20', '--input-size', '8',
                                       '--output', output], capsys)
    assert err.startswith(f'export.py: error: {output} cannot be written: the saved model does '
                          f'not load ((InvalidArgument) Deserialize to tensor failed')
    assert list(tmp_path.iterdir()) == []


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
    assert err.endswith(' cannot be written: No space left on device\n')
    assert os.listdir(small_disk) == ['filler']


def test_a_real_disk_too_small_for_the_export_is_one_line_and_leaves_nothing(cifar_weights, tmp_path,
                                                                             capsys):
    # 2 MB: model.json fits, ResNet-18's 45 MB of weights do not, and paddle.jit.save
    # returns normally with model.pdiparams cut short.
    disk = tmp_path / 'disk'
    disk.mkdir()
    if subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', str(disk)],
                      capture_output=True).returncode:
        pytest.skip('cannot mount a small file system here (needs root)')
    try:
        name, args = commands(cifar_weights, disk)['export.py']
        err = one_line_error(name, args, capsys)
        assert err == f'export.py: error: {disk / "exported"} cannot be written: No space left on device\n'
        assert os.listdir(disk) == []
    finally:
        subprocess.run(['umount', str(disk)], check=True)


@pytest.mark.skipif(not os.path.isdir('/proc/self'), reason='no /proc')
@pytest.mark.parametrize('case', CASES)
def test_a_directory_that_takes_no_files_is_one_line(case, cifar_weights, capsys):
    # /proc takes no new file, not even from root, for whom chmod stops nothing.
    name, args = commands(cifar_weights, pathlib.Path('/proc'))[case]
    err = one_line_error(name, args, capsys)
    assert '/proc' in err and ('cannot be written' in err or 'not writable' in err)


LONG = 'a' * 300     # longer than a name may be (255 bytes on Linux's file systems)


@pytest.mark.parametrize('case', CASES)
def test_a_name_too_long_is_one_line_and_makes_nothing(case, cifar_weights, tmp_path, capsys):
    # In a folder whose name is too long, and as the output's own name.
    name, args = commands(cifar_weights, tmp_path / LONG)[case]
    err = one_line_error(name, args, capsys)
    assert err.startswith(f'{name}: error: {args[-1]} cannot be written: File name too long '
                          f'(aaaaaaaaaaaaaaaa... is 300 bytes; at most 255 here)'), err
    output = args[-1]
    args[-1] = output.parent.parent / (LONG + ''.join(output.suffixes))
    err = one_line_error(name, args, capsys)
    assert err.startswith(f'{name}: error: {args[-1]} cannot be written: File name too long '
                          f'(aaaaaaaaaaaaaaaa... is {300 + len("".join(output.suffixes))} bytes; '
                          f'at most 241 here)'), err
    assert list(tmp_path.iterdir()) == []


def test_a_folder_name_too_long_is_one_line(tmp_path, capsys):
    # --output DIR of degradation.py --plot-only, checked by files.check_writable_directory.
    SCRIPTS['degradation.py'] = load_script('degradation.py')
    err = one_line_error('degradation.py', ['--plot-only', REPO / 'docs' / 'runs' / 'degradation',
                                            '--output', tmp_path / LONG / 'figures'], capsys)
    assert err.startswith(f'degradation.py: error: --output {tmp_path / LONG / "figures"} cannot be '
                          f'written: File name too long (aaaaaaaaaaaaaaaa... is 300 bytes; at most 255 '
                          f'here)')
    assert list(tmp_path.iterdir()) == []


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


# --- the standard output -----------------------------------------------------------------

def command_line(program, tmp_path):
    """A command that prints its result: a script, or the paddleinfo command."""
    tiny = ['--train-size', '32', '--test-size', '16', '--batch-size', '16', '--epochs', '1',
            '--device', 'cpu']
    return {'summary.py': [REPO / 'scripts' / 'summary.py', '--layers', '18'],
            'summary.py --help': [REPO / 'scripts' / 'summary.py', '--help'],   # (argparse's print)
            'paddleinfo': ['-m', 'paddleinfo', 'resnet18'],
            'train.py': [REPO / 'scripts' / 'train.py', '--arch', 'cifar_resnet20', *tiny,
                         '--output', tmp_path / 'run']}[program]


@pytest.mark.skipif(not os.path.exists('/dev/full'), reason='no /dev/full')
@pytest.mark.parametrize('program', ['summary.py', 'summary.py --help', 'paddleinfo', 'train.py'])
def test_a_full_standard_output_is_one_line_and_exit_code_2(program, tmp_path):
    with open('/dev/full', 'w') as full:
        result = subprocess.run([sys.executable, *map(str, command_line(program, tmp_path))],
                                stdout=full, stderr=subprocess.PIPE, text=True, cwd=REPO, timeout=300)
    assert (result.returncode, result.stderr) == (2, f'{program.split()[0]}: error: the standard '
                                                     f'output cannot be written: No space left on device\n')


@pytest.mark.parametrize('program', ['summary.py', 'summary.py --help', 'paddleinfo'])
def test_a_reader_that_has_gone_ends_the_program_quietly(program, tmp_path):
    # `| head -1`: the reader has what it wanted and closes the pipe.
    process = subprocess.Popen([sys.executable, *map(str, command_line(program, tmp_path))],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    process.stdout.close()
    _, stderr = process.communicate(timeout=300)
    assert (process.returncode, stderr) == (128 + signal.SIGPIPE, b'')


def outcome(main, capsys):
    """(exit code, stderr) of arguments.run(main)."""
    with pytest.raises(SystemExit) as exit_:
        arguments.run(main, 'tool')
    return exit_.value.code, capsys.readouterr().err


def test_see_help_follows_a_mistake_in_the_command_line_only(tmp_path, capsys):
    def mistake():
        arguments.integer('--depth', '0', low=1)
    assert outcome(mistake, capsys) == (2, 'tool: error: --depth 0 is out of range: at least 1 '
                                           '(see --help)\n')

    def argparse_mistake():
        arguments.ArgumentParser(prog='tool').parse_args(['--nope'])
    assert outcome(argparse_mistake, capsys) == (2, 'tool: error: unrecognized arguments: --nope '
                                                    '(see --help)\n')

    def unwritable():                 # a UsageError raised from the OSError that caused it
        try:
            os.mkdir(tmp_path / 'missing' / 'folder')
        except OSError as error:
            raise UsageError(f'folder cannot be made: {error.strerror}')
    assert outcome(unwritable, capsys) == (2, 'tool: error: folder cannot be made: No such file or '
                                              'directory\n')


def test_an_oserror_that_is_not_the_standard_outputs_is_not_hidden(capsys):
    # A bug's OSError with a file name stays a traceback: it is not the output's.
    def bug():
        open('/nonexistent/file')
    with pytest.raises(FileNotFoundError):
        arguments.run(bug, 'tool')
