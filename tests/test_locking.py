"""resnet_tools.training.locking: one process owns an output directory."""
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from helpers import REPO
from resnet_tools.errors import UsageError
from resnet_tools.training import locking

# A child that takes the lock, says so, and holds it until it is killed.
HOLDER = textwrap.dedent("""
    import sys, time
    from resnet_tools.training import locking
    with locking.owning(sys.argv[1]):
        print('locked', flush=True)
        time.sleep(60)
""")


@pytest.fixture
def live_holder(tmp_path):
    """A live process holding tmp_path/'run'; killed at the end."""
    directory = tmp_path / 'run'
    child = subprocess.Popen([sys.executable, '-c', HOLDER, str(directory)], cwd=REPO,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline() == 'locked\n'
    yield directory, child
    child.kill()
    child.wait()


def test_the_lock_makes_the_directory_and_records_our_pid(tmp_path):
    directory = tmp_path / 'a' / 'b'
    with locking.owning(directory):
        assert directory.is_dir()
        assert locking.holder(directory) == os.getpid()


def test_a_live_holder_is_named_in_one_line(live_holder):
    directory, child = live_holder
    with pytest.raises(UsageError) as refused:
        with locking.owning(directory):
            pytest.fail('the lock of a live process was taken')
    message = str(refused.value)
    assert f'{directory} is in use by process {child.pid} (' in message
    assert '\n' not in message


def test_a_killed_holder_leaves_no_lock_behind(live_holder):
    directory, child = live_holder
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert locking.holder(directory) == child.pid       # the stale pid is still written...
    with locking.owning(directory):                      # ...and does not block
        assert locking.holder(directory) == os.getpid()


def test_the_lock_is_released_when_the_block_ends_even_by_an_error(tmp_path):
    with pytest.raises(ZeroDivisionError):
        with locking.owning(tmp_path):
            1 / 0
    with locking.owning(tmp_path):
        pass


def test_this_process_may_ask_again_for_a_directory_it_holds(tmp_path):
    with locking.owning(tmp_path):
        with locking.owning(tmp_path / '.'):
            locking.check_free(tmp_path)
        # The inner block did not release the lock.
        child = subprocess.run([sys.executable, '-c', HOLDER, str(tmp_path)], cwd=REPO,
                               capture_output=True, text=True, timeout=60)
        assert child.returncode == 1 and f'in use by process {os.getpid()}' in child.stderr


def test_check_free_names_the_holder_and_creates_nothing(live_holder, tmp_path):
    directory, child = live_holder
    with pytest.raises(UsageError, match=f'is in use by process {child.pid}'):
        locking.check_free(directory)
    locking.check_free(tmp_path / 'nowhere')
    assert not (tmp_path / 'nowhere').exists()


def test_an_unwritable_directory_is_a_usage_error():
    # /proc takes no new files, not even from root (chmod does not stop root).
    with pytest.raises(UsageError, match='/proc/resnet-run cannot be locked'):
        with locking.owning('/proc/resnet-run'):
            pass


def test_a_file_in_the_way_is_a_usage_error(tmp_path):
    (tmp_path / 'run').write_text('not a directory')
    with pytest.raises(UsageError, match='cannot be locked'):
        with locking.owning(tmp_path / 'run'):
            pass
