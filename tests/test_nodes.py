"""train.py on two nodes: two launchers on this machine (`--nnodes 2 --master 127.0.0.1:PORT
--rank R`, one process each) against one launcher of two processes, bitwise; a node killed
or frozen in the middle of an epoch, the one-line stop of the other, and --resume on both."""
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

import pytest

from helpers import REPO
from resnet_tools import training
from resnet_tools.training import checkpoints, locking
from test_parallel import weights, without_seconds

# 128 digits in global batches of 16: 8 steps an epoch, each process takes 8 images a step.
SETTINGS = ('--arch', 'cifar_resnet20', '--train-size', '128', '--test-size', '32',
            '--batch-size', '16', '--epochs', '6', '--device', 'cpu')
LAUNCH_SECONDS = 180    # one launch of SETTINGS takes ~10 s on 2 busy cores
TIMEOUT = 15            # --collective-timeout of the frozen node's partner


def free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def launch(tmp_path, output, name, *args, rank=None, port=None):
    """paddle.distributed.launch of train.py: node `rank` of two (one process) with the
    master on 127.0.0.1:`port`, or, with rank None, one node of two processes.  The
    launcher is the leader of a new session; its log folder is tmp_path/name."""
    nodes = (['--nproc_per_node', '2'] if rank is None else
             ['--nnodes', '2', '--master', f'127.0.0.1:{port}', '--rank', str(rank),
              '--nproc_per_node', '1'])
    command = [sys.executable, '-m', 'paddle.distributed.launch', *nodes,
               '--log_dir', str(tmp_path / name), '--log_level', 'ERROR',
               str(REPO / 'scripts' / 'train.py'), *SETTINGS, '--output', str(output), *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=tmp_path, start_new_session=True,
                            env={**os.environ, 'PYTHONPATH': str(REPO)})


def workers(launcher):
    """The pids of a launcher's training processes (Paddle starts each in a session of
    its own: a signal to the launcher's group does not reach them)."""
    with open(f'/proc/{launcher.pid}/task/{launcher.pid}/children') as file:
        return [int(pid) for pid in file.read().split()]


def finish(launchers, seconds=LAUNCH_SECONDS):
    """Wait for each launcher; (exit code, output) of each.  One that is still running
    at the end of `seconds` is killed with its workers, and the test fails."""
    deadline, ends = time.monotonic() + seconds, []
    try:
        for launcher in launchers:
            out, _ = launcher.communicate(timeout=max(1.0, deadline - time.monotonic()))
            ends.append((launcher.returncode, out))
    finally:
        for launcher in launchers:
            kill_node(launcher)
    return ends


def kill_node(launcher, number=signal.SIGKILL):
    """`number` to a launcher and its workers at once, as when their machine dies."""
    if launcher.poll() is not None:
        return
    pids = workers(launcher)
    for pid in [launcher.pid, *pids]:
        try:
            os.kill(pid, number)
        except ProcessLookupError:
            pass


def two_nodes(tmp_path, output, name, *args):
    port = free_port()
    return [launch(tmp_path, output, f'{name}{rank}', *args, rank=rank, port=port)
            for rank in (0, 1)]


def worker_log(tmp_path, name):
    """The log of a node's one process (each node numbers its processes from 0)."""
    path = tmp_path / name / 'workerlog.0'
    return path.read_text(errors='replace') if path.exists() else ''


@pytest.fixture(scope='module')
def one_node(tmp_path_factory):
    """The uninterrupted run: one launcher, two processes."""
    where = tmp_path_factory.mktemp('one_node')
    output = where / 'run'
    [(code, out)] = finish([launch(where, output, 'logs')])
    assert code == 0, out + worker_log(where, 'logs')
    return output


def assert_same_run(output, reference):
    assert without_seconds(output / training.LOG_FILE) == \
        without_seconds(reference / training.LOG_FILE)
    assert len(without_seconds(output / training.LOG_FILE)) == 7     # the header, 6 epochs
    assert weights(output) == weights(reference)
    # The optimiser's momentum too, byte for byte.
    first, second = [(pathlib.Path(checkpoints.current_directory(str(run)))
                      / checkpoints.OPTIMIZER_FILE).read_bytes() for run in (output, reference)]
    assert first == second


def test_two_nodes_of_one_process_are_bitwise_one_node_of_two(tmp_path, one_node):
    output = tmp_path / 'run'
    ends = finish(two_nodes(tmp_path, output, 'node'))
    logs = [worker_log(tmp_path, f'node{rank}') for rank in (0, 1)]
    assert [code for code, _ in ends] == [0, 0], logs
    assert_same_run(output, one_node)
    assert training.read_run(output).processes == 2
    # Node 0 holds global rank 0 and writes; node 1 holds rank 1 and reports no epoch.
    assert 'weights sha256 (process 1 of 2)' in logs[0] and 'epoch 6/6' in logs[0]
    assert 'weights sha256 (process 2 of 2)' in logs[1] and 'epoch 6/6' not in logs[1]


def wait_for(text, tmp_path, name, launchers, seconds=LAUNCH_SECONDS):
    deadline = time.monotonic() + seconds
    while text not in worker_log(tmp_path, name):
        if time.monotonic() > deadline or any(launcher.poll() is not None
                                              for launcher in launchers):
            finish(launchers, 1)
            pytest.fail(f'{text!r} never came: {worker_log(tmp_path, name)}')
        time.sleep(0.05)


def fd_targets(pid):
    folder = f'/proc/{pid}/fd'
    targets = []
    for name in os.listdir(folder):
        try:
            targets.append(os.readlink(os.path.join(folder, name)))
        except OSError:
            pass
    return targets


def status_field(pid, field):
    with open(f'/proc/{pid}/status') as file:
        return next(line.split()[1] for line in file if line.startswith(f'{field}:'))


# A frozen node is found out only when the timeout runs out (15 s of waiting): slow.
@pytest.mark.parametrize('how', ['killed', pytest.param('frozen', marks=pytest.mark.slow)])
def test_a_node_that_dies_mid_epoch_stops_the_other_and_both_resume_bitwise(how, tmp_path,
                                                                           one_node):
    output = tmp_path / 'run'
    launchers = two_nodes(tmp_path, output, 'node', '--collective-timeout', str(TIMEOUT))
    wait_for('epoch 2/6', tmp_path, 'node0', launchers)
    # The lock: held by rank 0, the process of node 0's launcher; node 1's has no lock open.
    holder = locking.holder(output)
    [rank0], [rank1] = workers(launchers[0]), workers(launchers[1])
    assert holder == rank0 and int(status_field(holder, 'PPid')) == launchers[0].pid
    lock = os.path.realpath(output / locking.LOCK_FILE)
    assert lock in fd_targets(rank0) and lock not in fd_targets(rank1)
    # Node 1 dies (SIGKILL: its kernel closes the connections) or freezes (SIGSTOP: like a
    # machine that hangs or drops off the network, nothing reaches node 0) in epoch 3.
    killed = time.monotonic()
    kill_node(launchers[1], signal.SIGKILL if how == 'killed' else signal.SIGSTOP)
    try:
        code, out = finish(launchers[:1], TIMEOUT + 60)[0]
    finally:
        kill_node(launchers[1])
    seconds = time.monotonic() - killed
    log = worker_log(tmp_path, 'node0')
    assert code != 0, log
    stops = [line for line in log.splitlines() if line.startswith('train.py: ')]
    if how == 'frozen':
        # Our watchdog, after TIMEOUT s (polled every second), and nothing else.
        assert TIMEOUT <= seconds < TIMEOUT + 30, log
        assert len(stops) == 1 and stops[0].startswith(
            f'train.py: error: process 1 of 2 waited {TIMEOUT} s for the others '), log
        assert stops[0].endswith('(a node died, froze or lost the network?); the last '
                                 'checkpoint is kept: start every node again with --resume')
        assert 'Traceback' not in log and 'terminate called' not in log
        assert code == 1
    else:
        # gloo learns at once from the closed connection.  Raised in the collective under
        # way, it is our one line; raised in gloo's own thread, between collectives, it
        # ends the process from C++ with its two lines (`terminate called after throwing
        # an instance of 'gloo::IoException' ... Connection reset by peer`).
        assert seconds < 30, log
        assert 'Traceback' not in log, log
        if 'terminate called' not in log:
            assert len(stops) == 1 and stops[0].startswith(
                'train.py: error: process 1 of 2 lost the connection '), log
            # What gloo says of it is gloo's: the reset connection, or, when it had been
            # waiting on it already, its own TIMEOUT of the pair; the end of the line is ours.
            assert stops[0].endswith('start every node again with --resume'), stops
            assert code == 1
    # The checkpoint is whole: that of epoch 2 (or 3, had it just been saved).
    saved = checkpoints.load(str(output)).epoch
    assert saved in (2, 3)
    assert len(training.read_log(output / training.LOG_FILE)) == saved
    assert locking.holder(output) == holder        # nobody else wrote a lock
    # Both nodes again, with --resume: the run goes on to the uninterrupted run's weights.
    ends = finish(two_nodes(tmp_path, output, 'again', '--resume'))
    assert [code for code, _ in ends] == [0, 0], [worker_log(tmp_path, f'again{rank}')
                                                  for rank in (0, 1)]
    assert_same_run(output, one_node)
