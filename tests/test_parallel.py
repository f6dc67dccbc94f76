"""degradation.py --jobs: networks side by side, bitwise those of a sequential run."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from helpers import REPO, run_script
from resnet_tools import training
from resnet_tools.training import checkpoints, jobs, locking

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
