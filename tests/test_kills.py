"""A kill at every file operation of convert.py and export.py: the output is old or new,
never partial, and the next run of the same writer removes what the killed one left
(files.replacing's '.<name>.<random>.tmp', export.py's staging directory, the earlier
export that --force had set aside).  A live writer's temporary, and anything that is not
a temporary of ours, is never removed.

A kill is simulated by helpers.kill_at, as in test_faults.py: a forked child ends
(os._exit, which like SIGKILL runs no `finally`) at its N-th file operation.  The
kernel drops the child's flocks as it does a killed process's."""
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import paddle
import pytest

import resnet
from helpers import FILE_OPERATIONS, KILLED, REPO, in_child, kill_at, load_script
from paddleinfo import arguments
from resnet_tools import files, weights
from resnet_tools.deploy import export

convert_script = load_script('convert.py')

# convert.py's and export.py's own: opening and chmod as well (files.replacing's temporary).
OPERATIONS = ('open', 'chmod', *FILE_OPERATIONS)


def operations_of(work, folder):
    """How many file operations work() makes in `folder`, run straight through in a child."""
    def counted():
        count = kill_at(0, folder, OPERATIONS)
        work()
        return count[0]
    code, answer = in_child(counted)
    assert code == 0, answer
    return int(answer)


def killed_at(point, folder, work):
    code, answer = in_child(lambda: (kill_at(point, folder, OPERATIONS), work()))
    assert code == KILLED, f'point {point}: not killed ({code}, {answer})'


def contents(path):
    """{name: md5} of the files of the directory `path`, the bytes' md5 of a file, or
    None where there is nothing."""
    if not os.path.lexists(path):
        return None
    if os.path.isdir(path):
        return {name: contents(os.path.join(path, name)) for name in sorted(os.listdir(path))}
    with open(path, 'rb') as file:
        return hashlib.md5(file.read()).hexdigest()


# --- convert.py --------------------------------------------------------------------------

def tensors(path):
    """md5 of the names and values of a weights file's tensors (paddle.save's pickle is
    not the same bytes each time); a file cut short does not read."""
    digest = hashlib.md5()
    for name, value in sorted(weights.read_state_dict(path).items()):
        digest.update(name.encode() + np.asarray(value).tobytes())
    return digest.hexdigest()


@pytest.fixture(scope='module')
def cifar_weights(tmp_path_factory):
    """cifar_resnet20 weights in both formats, and an earlier output of each format (other
    weights) for --force to replace."""
    directory = tmp_path_factory.mktemp('weights')
    for seed, name in ((0, 'r20'), (1, 'old')):
        paddle.seed(seed)
        state = resnet.build('cifar_resnet20').state_dict()
        for suffix in ('.pdparams', '.safetensors'):
            weights.save_atomically(state, directory / f'{name}{suffix}')
    return directory


@pytest.mark.parametrize('suffix', ['.safetensors', '.pdparams'])
def test_a_kill_anywhere_in_convert_leaves_old_or_new_and_the_next_run_sweeps(suffix, cifar_weights,
                                                                             tmp_path):
    source = cifar_weights / ('r20.pdparams' if suffix == '.safetensors' else 'r20.safetensors')

    def convert(output):
        convert_script.main(['--to-ours', str(source), str(output), '--force'])
    (tmp_path / 'reference').mkdir()
    reference = tmp_path / 'reference' / f'out{suffix}'
    shutil.copyfile(cifar_weights / f'old{suffix}', reference)
    operations = operations_of(lambda: convert(reference), reference.parent)
    old, new = tensors(cifar_weights / f'old{suffix}'), tensors(reference)
    assert old != new and operations > 8
    left = 0
    for point in range(1, operations + 1):
        folder = tmp_path / f'killed-at-{point}'
        folder.mkdir()
        output = folder / f'out{suffix}'
        shutil.copyfile(cifar_weights / f'old{suffix}', output)
        killed_at(point, folder, lambda: convert(output))
        assert tensors(output) in (old, new), f'point {point}'
        left += len(os.listdir(folder)) > 1
        convert(output)                     # the next run, in this process
        assert os.listdir(folder) == [output.name], f'point {point}'
        assert tensors(output) == new
    # Some kills came while the temporary was there: the runs after them removed it.
    assert left >= 3


# --- export.py ---------------------------------------------------------------------------

def export_tiny(output, force=False, input_size=8):
    export.export('cifar_resnet20', output, force=force, input_size=(input_size,))


@pytest.fixture(scope='module')
def exports(tmp_path_factory):
    """(an earlier export, the export made by export_tiny), each made in a child, so that
    this process never starts Paddle Inference (whose threads a fork would not carry)."""
    root = tmp_path_factory.mktemp('exports')
    for name, size in (('old', 16), ('new', 8)):
        code, answer = in_child(lambda name=name, size=size: export_tiny(root / name, input_size=size))
        assert code == 0, answer
    return root / 'old', root / 'new'


def export_quickly(output, made, force=False):
    """export_tiny, with Paddle's part taken as done: paddle.jit.save copies `made` (what
    it wrote for export_tiny), and the check under Paddle Inference passes.  What is
    left are export.py's own file operations, in a tenth of the time.  For a child:
    the patches stay."""
    def jit_save(model, path, input_spec):
        for name in os.listdir(made):
            shutil.copyfile(made / name, os.path.join(os.path.dirname(path), name))

    class Passed:
        def __init__(self, directory):
            pass

        def onednn_enabled(self):
            return True
    export.paddle.jit.save = jit_save
    export.Predictor = Passed
    export.differences = lambda model, predictor, shape: (0.0, 1.0, (-1, 10))
    export_tiny(output, force)


@pytest.mark.parametrize('earlier', [False, True], ids=['new-output', 'force'])
def test_a_kill_anywhere_in_export_is_recovered_and_swept_by_the_next_run(earlier, exports, tmp_path):
    old, new = (contents(path) for path in exports)

    def run(output, force):
        export_quickly(output, exports[1], force)
    counted = tmp_path / 'counted' / 'exported'
    if earlier:
        shutil.copytree(exports[0], counted)
    operations = operations_of(lambda: run(counted, earlier), counted.parent)
    assert operations > 10
    stranded = left = 0
    for point in range(1, operations + 1):
        folder = tmp_path / f'killed-at-{point}'
        folder.mkdir()
        output = folder / 'exported'
        if earlier:
            shutil.copytree(exports[0], output)
        killed_at(point, folder, lambda: run(output, earlier))
        found = contents(output)
        assert found in (old, new, None), f'point {point}'
        stranded += found is None and earlier
        left += any(name.startswith('.exported.') for name in os.listdir(folder))
        export.recover(output)             # what every export.py does first
        assert contents(output) in ((old, new) if earlier else (None, new)), f'point {point}'
        code, answer = in_child(lambda: run(output, True))
        assert code == 0, f'point {point}: {answer}'
        assert os.listdir(folder) == ['exported'], f'point {point}'
        assert contents(output) == new
    # Most kills left a staging directory or the set-aside export; with --force, some
    # came between the two renames, which left no export at all until recover() put
    # the earlier one back.
    assert left > operations // 2
    assert (stranded > 0) == earlier


def test_recover_puts_back_or_removes_only_exports(exports, tmp_path):
    output = tmp_path / 'exported'
    aside = tmp_path / '.exported.old'
    shutil.copytree(exports[0], aside)
    export.recover(output)                  # no export: the earlier one goes back
    assert contents(output) == contents(exports[0]) and not aside.exists()
    shutil.copytree(exports[1], aside)
    export.recover(output)                  # both: the set-aside one goes
    assert contents(output) == contents(exports[0]) and not aside.exists()
    # Not an export, a link to one, a staging directory a live export.py holds: kept.
    shutil.copytree(exports[1], aside)
    (aside / 'notes.txt').write_text('mine')
    elsewhere = tmp_path / 'elsewhere'
    shutil.copytree(exports[1], elsewhere)
    link = tmp_path / '.exported.abcd1234.tmp'
    link.symlink_to(elsewhere)
    live, lock = files.locked_temporary(output, directory=True)
    shutil.copy(exports[1] / export.MODEL_FILE, live)
    dead = tmp_path / '.exported.dead_123.tmp'
    shutil.copytree(exports[1], dead)
    other = tmp_path / '.exported.abcd12345.tmp'   # a name export.py does not make
    shutil.copytree(exports[1], other)
    try:
        export.recover(output)
        assert sorted(os.listdir(tmp_path)) == sorted(
            ['exported', '.exported.old', link.name, os.path.basename(live), 'elsewhere', other.name])
        assert contents(elsewhere) == contents(exports[1])
    finally:
        os.close(lock)
    export.recover(output)                  # its writer gone, the staging directory goes
    assert not os.path.exists(live)


# --- files.replacing ---------------------------------------------------------------------

def test_a_live_writers_temporary_is_kept_and_a_dead_ones_is_swept(tmp_path):
    output = tmp_path / 'out.txt'
    with files.replacing(output) as temporary:
        with open(temporary, 'w') as file:
            file.write('first')
        # Another process writes the same output meanwhile: it leaves ours alone.
        code, answer = in_child(lambda: files.write_bytes(output, 'second'))
        assert code == 0, answer
        assert os.path.exists(temporary) and output.read_text() == 'second'
    assert output.read_text() == 'first'
    # A writer killed just before its rename: its temporary stays until the next writer.
    code, _ = in_child(lambda: (setattr(os, 'replace', lambda *args: os._exit(KILLED)),
                                files.write_bytes(output, 'third')))
    assert code == KILLED
    stale = [name for name in os.listdir(tmp_path) if name != 'out.txt']
    assert len(stale) == 1 and stale[0].startswith('.out.txt.') and stale[0].endswith('.tmp')
    files.write_bytes(output, 'fourth')
    assert os.listdir(tmp_path) == ['out.txt'] and output.read_text() == 'fourth'


def test_a_sweep_removes_nothing_but_our_temporaries(tmp_path):
    output = tmp_path / 'out.txt'
    target = tmp_path / 'target'
    target.write_text('kept')
    kept = {
        '.out.txt.abcd1234.tmp': lambda path: path.symlink_to(target),     # a link
        '.out.txt.abcd1235.tmp': lambda path: os.mkfifo(path),             # a FIFO: never opened
        '.out.txt.abcd1236.tmp': lambda path: path.mkdir(),                 # a directory
        '.out.txt.abc.tmp': lambda path: path.write_text('x'),              # another name
        '.other.txt.abcd1234.tmp': lambda path: path.write_text('x'),       # another output's
        '.out.txt.ABCD1234.tmp': lambda path: path.write_text('x'),         # not mkstemp's
    }
    for name, make in kept.items():
        make(tmp_path / name)
    (tmp_path / '.out.txt.dead_123.tmp').write_text('stale')
    files.write_bytes(output, 'new')
    assert sorted(os.listdir(tmp_path)) == sorted([*kept, 'out.txt', 'target'])
    assert target.read_text() == 'kept'


def test_the_convert_script_sweeps_in_a_fresh_process(cifar_weights, tmp_path):
    # What a kill -9 of the real command leaves (a temporary nobody holds) goes with
    # the next command.
    stale = tmp_path / '.out.safetensors.k1ll3d_9.tmp'
    stale.write_bytes(b'half')
    result = subprocess.run([sys.executable, str(REPO / 'scripts' / 'convert.py'), '--to-ours',
                             str(cifar_weights / 'r20.pdparams'), str(tmp_path / 'out.safetensors')],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert os.listdir(tmp_path) == ['out.safetensors']


# --- a signal during the imports -----------------------------------------------------------

def signals_of(pid, field):
    """The signals of process `pid` that /proc/<pid>/status lists under `field`: SigCgt
    (caught by a handler) or SigIgn (ignored)."""
    with open(f'/proc/{pid}/status') as status:
        mask = next(int(line.split()[1], 16) for line in status if line.startswith(f'{field}:'))
    return {number for number in signal.Signals if mask >> (number - 1) & 1}


def start_importing(command, ignore_sigint=False):
    """Start `python scripts/...` and return it once it is in its imports: when its
    SIGTERM handler, which only scripts/_bootstrap.py sets until `run` begins, is in."""
    process = subprocess.Popen(
        [sys.executable, *map(str, command)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=REPO, preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
        if ignore_sigint else None)
    for _ in range(20_000):             # 100 s at most
        if process.poll() is not None or signal.SIGTERM in signals_of(process.pid, 'SigCgt'):
            break
        time.sleep(0.005)
    assert process.poll() is None, 'it ended before its imports were done'
    assert signal.SIGTERM in signals_of(process.pid, 'SigCgt'), 'no handler during the imports'
    return process


IMPORTING = {'summary.py': ['--layers', '18'], 'export.py': ['--layers', '18', '--output', 'unused'],
             'train.py': ['--arch', 'cifar_resnet20']}


@pytest.mark.skipif(not os.path.exists('/proc/self/status'), reason='no /proc')
@pytest.mark.parametrize('number, words', [(signal.SIGINT, 'interrupted'),
                                           (signal.SIGTERM, 'terminated')])
@pytest.mark.parametrize('script', IMPORTING)
def test_a_signal_during_the_imports_is_one_line(script, number, words):
    process = start_importing([REPO / 'scripts' / script, *IMPORTING[script]])
    process.send_signal(number)
    stdout, stderr = process.communicate(timeout=300)
    assert (process.returncode, stderr, stdout) == (128 + number, f'{script}: {words}\n', '')


@pytest.mark.skipif(not os.path.exists('/proc/self/status'), reason='no /proc')
def test_a_background_job_ignores_ctrl_c_during_the_imports_and_after(tmp_path):
    # A job started with `&` by a shell without job control has SIGINT ignored: no
    # handler goes in, neither during the imports nor in `run`.
    process = start_importing([REPO / 'scripts' / 'summary.py', '--stages', '--arch', 'cifar_resnet20'],
                              ignore_sigint=True)
    assert signal.SIGINT in signals_of(process.pid, 'SigIgn')
    assert signal.SIGINT not in signals_of(process.pid, 'SigCgt')
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=300)
    assert (process.returncode, stderr) == (0, '')
    assert stdout.splitlines()[0].startswith('cifar_resnet20')


def test_run_leaves_an_ignored_sigint_ignored_and_puts_back_the_rest():
    before = signal.signal(signal.SIGINT, signal.SIG_IGN), signal.getsignal(signal.SIGTERM)
    try:
        arguments.stop_quietly_until_run('tool')
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) not in before   # the import-time handler
        # In main, SIGTERM raises (where it was the default), to end in one line.
        in_main = arguments._terminate if before[1] is signal.SIG_DFL else before[1]
        assert arguments.run(lambda: [signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)],
                             'tool') == [signal.SIG_IGN, in_main]
        # After it, a script's work is done: a signal as Python shuts down changes nothing.
        assert signal.getsignal(signal.SIGINT) is signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before[0])
        signal.signal(signal.SIGTERM, before[1])


def test_a_sigterm_at_any_moment_of_a_script_is_one_line_or_a_finished_run():
    # Paddle's import installs C++ handlers of SIGTERM that killed the process silently
    # (-15, half its output) or deadlocked it; the bootstrap imports Paddle with SIGTERM
    # held back and removes them, and run() turns SIGTERM into one line.  Sent at 12
    # moments spread over the run, from the imports to the last line printed.
    full = subprocess.run([sys.executable, 'scripts/summary.py', '--layers', '50'],
                          capture_output=True, text=True, cwd=REPO)
    start = time.perf_counter()
    subprocess.run([sys.executable, '-c', 'import paddle'], cwd=REPO)
    whole = max(time.perf_counter() - start, 0.5) * 2
    seen = []
    for moment in range(12):
        # From the moment its first handler is in: before it, Python itself is starting.
        process = start_importing([REPO / 'scripts' / 'summary.py', '--layers', '50'])
        time.sleep(whole * moment / 12)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=120)
        seen.append(process.returncode)
        assert (process.returncode, stderr) in ((0, ''), (143, 'summary.py: terminated\n')), \
            (moment, process.returncode, stderr)
        assert stdout == (full.stdout if process.returncode == 0 else stdout)
    assert 143 in seen      # the signals did come while it ran
