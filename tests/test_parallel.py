"""degradation.py --jobs: networks side by side, bitwise those of a sequential run."""
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from helpers import REPO, run_script
from resnet_tools import training
from resnet_tools.training import checkpoints, jobs, locking, loop

TINY = ('--train-size', '64', '--test-size', '32', '--batch-size', '32', '--device', 'cpu')
TWINS = ('cifar_plain20', 'cifar_resnet20')


def without_seconds(path):
    """log.csv without its last column, the seconds, the one thing a run may change."""
    return [line.rsplit(',', 1)[0] for line in path.read_text().splitlines()]


def weights(run):
    """{name: bytes} of the weights in a run's last checkpoint, read by the training
    loop's own loader."""
    return {name: np.asarray(array).tobytes() for name, array in
            checkpoints.load(str(run)).model.items()}


def test_two_jobs_give_the_logs_and_weights_of_one(tmp_path):
    outputs, lines = {}, {}
    for count in ('1', '2'):
        outputs[count] = tmp_path / f'jobs{count}'
        result = run_script('degradation.py', '--depths', '20', *TINY, '--epochs', '2',
                            '--jobs', count, '--output', outputs[count])
        assert result.returncode == 0, result.stderr
        assert f'{count} at a time' in result.stdout
        assert 'plain-20: done' in result.stdout and 'ResNet-20: done' in result.stdout
        lines[count] = result.stdout.splitlines()
    for arch in TWINS:
        one, two = outputs['1'] / arch, outputs['2'] / arch
        assert without_seconds(one / training.LOG_FILE) == without_seconds(two / training.LOG_FILE)
        assert len(without_seconds(one / training.LOG_FILE)) == 3
        assert weights(one) == weights(two)
        assert (one / 'responses.csv').read_bytes() == (two / 'responses.csv').read_bytes()
    # The plain net and the ResNet did differ: the comparison is not of two copies.
    assert weights(outputs['1'] / TWINS[0]) != weights(outputs['1'] / TWINS[1])
    # The 'done' lines carry the errors and the weights' digest: the same in both.
    done = {count: sorted(line for line in lines[count] if ': done; ' in line)
            for count in lines}
    assert done['1'] == done['2'] and len(done['1']) == 2


def test_a_failing_network_is_one_line_and_the_other_finishes(tmp_path):
    output = tmp_path / 'out'
    # ResNet-110 at an absurd rate diverges in its first epoch; plain-20 is unharmed.
    result = run_script('degradation.py', '--plain', '20', '--resnet', '110', *TINY,
                        '--epochs', '1', '--lr-110', '1e30', '--jobs', '2', '--output', output)
    assert result.returncode == 1, result.stderr
    failed = [line for line in result.stdout.splitlines() if 'failed' in line]
    assert len(failed) == 1
    assert failed[0].startswith('ResNet-110: failed: error: the training loss ')
    assert 'the run diverged' in failed[0]
    assert any(line.startswith('plain-20: done; ') for line in result.stdout.splitlines())
    assert (output / 'cifar_plain20' / training.LOG_FILE).is_file()
    assert not (output / 'cifar_resnet110' / training.LOG_FILE).exists()
    assert 'Traceback' not in result.stderr


def test_ctrl_c_stops_every_network_at_a_step_boundary(tmp_path):
    output = tmp_path / 'out'
    process = subprocess.Popen([sys.executable, str(REPO / 'scripts' / 'degradation.py'),
                                '--depths', '20', *TINY, '--epochs', '200', '--jobs', '2',
                                '--output', str(output)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True, cwd=REPO)
    lines = []
    try:
        # Both networks have finished an epoch, so both hold a checkpoint.
        while {name for name in ('plain-20', 'ResNet-20')
               if any(line.startswith(f'{name}: epoch 2/') for line in lines)} != \
                {'plain-20', 'ResNet-20'}:
            line = process.stdout.readline()
            assert line, process.stderr.read()
            lines.append(line)
        # A terminal's Ctrl-C goes to the whole process group.
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=180)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, err
    assert 'Traceback' not in err
    stopped = [line for line in out.splitlines() if 'stopped in epoch' in line]
    assert sorted(line.split(':')[0] for line in stopped) == ['ResNet-20', 'plain-20']
    for line in stopped:
        epoch = int(line.split('stopped in epoch ')[1].split(';')[0])
        last = int(line.split('the last checkpoint is epoch ')[1].split(';')[0])
        # Stopped in a step (the epoch before is saved) or just after a save.
        assert last in (epoch - 1, epoch) and line.endswith('; continue with --resume')
        arch = 'cifar_plain20' if line.startswith('plain') else 'cifar_resnet20'
        assert len(training.read_log(output / arch / training.LOG_FILE)) == last


def test_jobs_below_one_are_refused_and_more_than_networks_run_one_each(tmp_path):
    result = run_script('degradation.py', '--depths', '20', '--jobs', '0',
                        '--output', tmp_path / 'o')
    assert result.returncode == 2
    assert result.stderr == 'degradation.py: error: --jobs 0 is out of range: at least 1 ' \
                            '(see --help)\n'
    assert not (tmp_path / 'o').exists()
    result = run_script('degradation.py', '--plain', '--resnet', '20', *TINY, '--epochs', '1',
                        '--jobs', '5', '--output', tmp_path / 'one')
    assert result.returncode == 0, result.stderr
    assert 'ResNet-20 on digits' in result.stdout and '1 at a time' in result.stdout


def test_the_parent_holds_the_output_and_refuses_a_second_run(tmp_path):
    output = tmp_path / 'out'
    with locking.owning(output):
        result = run_script('degradation.py', '--depths', '20', *TINY, '--epochs', '1',
                            '--output', output)
    assert result.returncode == 2
    assert f'{output} is in use by process {os.getpid()}' in result.stderr
    assert result.stderr.count('\n') == 1


def test_a_job_that_raises_is_reported_and_the_rest_run(tmp_path):
    tasks = [jobs.Job('bad', str(tmp_path / 'bad'), _raises),
             jobs.Job('good', str(tmp_path / 'good'), _reports, {'text': 'hello'})]
    lines = []
    outcomes = jobs.run_jobs(tasks, 2, report=lines.append)
    assert outcomes['good'] == ('done', 'hello')
    kind, message = outcomes['bad']
    assert kind == 'failed' and message.startswith('ZeroDivisionError: division by zero (')
    assert 'good: said hello' in lines and jobs.exit_code(outcomes) == 1


def _raises(progress, report):
    return 1 / 0


def _reports(progress, report, text):
    report(f'said {text}')
    time.sleep(0.1)
    return text


@pytest.mark.parametrize('value', [0, -1])
def test_check_workers(value):
    with pytest.raises(jobs.UsageError):
        jobs.check_workers(value)


def test_the_wall_time_line_counts_minutes_seconds_and_what_ran():
    now = time.perf_counter()
    assert jobs.wall_time(now - 125.2, 9, 'network', 2) == \
        'wall time 2 min 5 s for 9 networks, 2 at a time'
    assert jobs.wall_time(now - 3, 1, 'run', 1) == 'wall time 0 min 3 s for 1 run, 1 at a time'


# --- signals at every moment, and a signal the program was started with ignored ------------

EPOCHS = ('--epochs', '8')


@pytest.fixture(scope='module')
def straight(tmp_path_factory):
    """The uninterrupted run that every stopped and resumed run must end as."""
    output = tmp_path_factory.mktemp('straight') / 'out'
    result = run_script('degradation.py', '--depths', '20', *TINY, *EPOCHS, '--jobs', '2',
                        '--output', output)
    assert result.returncode == 0, result.stderr
    return output


def interrupted(output, signals, ignore_sigint=False):
    """degradation.py with --jobs 2, sent signals as it prints: `signals` is a list of
    (text, delay, number, to_group): `delay` seconds after the first line that holds
    `text`, `number` goes to its process group (as a terminal's Ctrl-C does) or to it
    alone.  (exit code, stdout, stderr)."""
    process = subprocess.Popen(
        [sys.executable, str(REPO / 'scripts' / 'degradation.py'), '--depths', '20', *TINY,
         *EPOCHS, '--jobs', '2', '--output', str(output)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        cwd=REPO, preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
        if ignore_sigint else None)
    lines, waiting = [], list(signals)
    try:
        while waiting:
            line = process.stdout.readline()
            assert line, ''.join(lines) + process.stderr.read()
            lines.append(line)
            text, delay, number, to_group = waiting[0]
            if text in line:
                waiting.pop(0)
                time.sleep(delay)
                (os.killpg if to_group else os.kill)(process.pid, number)
        out, err = process.communicate(timeout=180)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    return process.returncode, ''.join(lines) + out, err


def assert_resumes_to(output, straight):
    result = run_script('degradation.py', '--depths', '20', *TINY, *EPOCHS, '--jobs', '2',
                        '--output', output, '--resume')
    assert result.returncode == 0, result.stderr
    for arch in TWINS:
        assert weights(output / arch) == weights(straight / arch)
        assert without_seconds(output / arch / training.LOG_FILE) == \
            without_seconds(straight / arch / training.LOG_FILE)


TITLE = '2 at a time'   # the first line, printed once a signal is a stop request


@pytest.mark.parametrize('moment, delay, number, to_group', [
    # Half a second after the first line the workers are still importing Paddle.
    ('start-up', 0.5, signal.SIGINT, True),
    ('start-up', 0.0, signal.SIGTERM, False),    # as the workers are made
    ('training', 0.0, signal.SIGINT, True),
    ('training', 0.0, signal.SIGTERM, False),
])
def test_a_signal_stops_in_one_line_and_the_resume_is_bitwise(moment, delay, number, to_group,
                                                              tmp_path, straight):
    output = tmp_path / 'out'
    after = TITLE if moment == 'start-up' else ': epoch 1/'
    code, out, err = interrupted(output, [(after, delay, number, to_group)])
    name = signal.Signals(number).name
    # The parent's one line; no worker says anything on stderr, let alone a traceback.
    assert (code, err) == (128 + number, f'degradation.py: stopped by {name}; the last '
                                         f'checkpoint of each network is kept; continue with '
                                         f'--resume\n'), out
    ends = {line.split(':')[0]: line for line in out.splitlines()
            if line.startswith(('plain-20: ', 'ResNet-20: ')) and ': stopped' in line}
    assert sorted(ends) == ['ResNet-20', 'plain-20'], out
    if moment == 'start-up':
        assert all(line.endswith('stopped before it started; start it with --resume')
                   for line in ends.values())
        assert not output.exists()      # nothing was written: the folder made goes again
    else:
        for arch, line in zip(TWINS, (ends['plain-20'], ends['ResNet-20'])):
            # The loop's own line, or the worker's for a stop before the loop began.
            found = re.search(r'the last checkpoint is epoch (\d+)', line)
            assert found or line.endswith('before its first checkpoint; rerun it with --resume')
            last = int(found.group(1)) if found else 0
            log = output / arch / training.LOG_FILE
            assert len(training.read_log(log) if log.exists() else []) == last < int(EPOCHS[1])
    assert_resumes_to(output, straight)


def test_an_ignored_sigint_stays_ignored_and_sigterm_still_stops(tmp_path, straight):
    # A background job (`degradation.py ... &`) starts with SIGINT ignored: Ctrl-C at the
    # terminal, in start-up and in training, is not for it.  SIGTERM stops it.
    output = tmp_path / 'out'
    code, out, err = interrupted(output, [(TITLE, 0.5, signal.SIGINT, True),
                                          (': epoch 1/', 0.0, signal.SIGINT, True),
                                          (': epoch 3/', 0.0, signal.SIGTERM, False)],
                                 ignore_sigint=True)
    assert code == 143 and err.startswith('degradation.py: stopped by SIGTERM; '), out + err
    assert 'Traceback' not in err and err.count('\n') == 1
    # Trained on past the Ctrl-Cs of epoch 1, and stopped by SIGTERM alone: a worker that
    # a Ctrl-C had stopped would have made the run's code 130.  (Whether the slower of
    # the two had finished epoch 2 when SIGTERM came depends on the machine's load.)
    assert ': epoch 3/' in out and 'stopped by SIGINT' not in out + err
    assert_resumes_to(output, straight)


def _signal_dispositions(progress, report):
    """In a worker: SIGINT sent to itself and to the parent, then whether SIGINT is still
    ignored here and whether a stop was asked for."""
    os.kill(os.getpid(), signal.SIGINT)
    os.kill(os.getppid(), signal.SIGINT)
    time.sleep(2 * jobs.POLL_SECONDS)
    return signal.getsignal(signal.SIGINT) is signal.SIG_IGN, jobs._should_stop()


def test_run_jobs_leaves_an_ignored_sigint_ignored_in_the_parent_and_the_workers(tmp_path):
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        outcomes = jobs.run_jobs([jobs.Job('job', str(tmp_path), _signal_dispositions)], 1,
                                 report=lambda line: None)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)
    # The worker's SIGINT stayed ignored, no stop was asked for, there or in the parent.
    assert outcomes['job'] == ('done', (True, False))
    assert outcomes.signal is None and jobs.exit_code(outcomes) == 0


def test_the_training_loops_signals_leave_an_ignored_sigint_ignored():
    sigterm = signal.getsignal(signal.SIGTERM)
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with loop.Signals() as signals:
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) == signals.handle
            os.kill(os.getpid(), signal.SIGINT)
            assert signals.signal is None
            os.kill(os.getpid(), signal.SIGTERM)
            assert signals.signal == signal.SIGTERM
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) == sigterm
    finally:
        signal.signal(signal.SIGINT, before)


def test_a_signal_after_every_job_ended_still_stops_the_run():
    outcomes = jobs.Outcomes({'a': ('done', None), 'b': ('failed', 'why')})
    assert jobs.exit_code(outcomes) == 1
    outcomes.signal = signal.SIGTERM
    assert jobs.exit_code(outcomes) == 143
