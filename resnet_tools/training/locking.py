"""One process owns an output directory at a time.

    with locking.owning(directory):
        ...   # nobody else holds `directory` until the block ends

An advisory lock (fcntl.flock) on `directory/.lock`, which also records the pid of
its holder so that a refused run can say whom it met.  flock, not a file whose mere
existence is the lock: the kernel drops the lock when its holder dies, however it
dies (SIGKILL, a crash, a power loss), so a stale lock file never blocks a new run,
and nothing has to guess whether a recorded pid is still alive.

The lock file itself stays after the block: removing it would let a process that
opened the old file and one that creates a new one both think they hold the lock.
"""
import contextlib
import errno
import fcntl
import os
import stat
from collections.abc import Iterator

from resnet_tools.errors import FileError, UsageError
from resnet_tools.files import kind_of

LOCK_FILE = '.lock'
_held: set[str] = set()   # the real paths of the directories this process holds


def open_lock(directory: str | os.PathLike[str], flags: int) -> int:
    """A descriptor of `directory/.lock`, opened with `flags` but never through a link
    (a received folder's .lock -> ~/.bashrc would be truncated) and never blocking (a
    FIFO named .lock would block the open for ever); a UsageError if it is not a
    regular file."""
    path = os.path.join(directory, LOCK_FILE)
    try:
        descriptor = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise FileError(f'{path} is a symbolic link, not the lock of a run; remove it '
                             f'(nothing was changed)')
        raise
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        raise FileError(f'{path} is {kind_of(mode)}, not the lock of a run; remove it '
                         f'(nothing was changed)')
    return descriptor


def holder(directory: str | os.PathLike[str]) -> int | None:
    """The pid recorded in `directory/.lock` (an int), or None if none is recorded.
    It is the live holder only while the lock is held."""
    try:
        descriptor = open_lock(directory, os.O_RDONLY)
    except (OSError, UsageError):
        return None
    try:
        text = os.read(descriptor, 32).decode('ascii', 'replace').split()
    except OSError:
        return None
    finally:
        os.close(descriptor)
    return int(text[0]) if text and text[0].isdigit() else None


def _describe(pid: int | None) -> str:
    """'process 1234 (python scripts/train.py --output runs/a)', as far as /proc tells."""
    if pid is None:
        return 'another process'
    try:
        with open(f'/proc/{pid}/cmdline', 'rb') as file:
            command = ' '.join(file.read().decode('utf-8', 'replace').replace('\0', ' ').split())
    except OSError:
        command = ''
    if len(command) > 80:
        command = command[:77] + '...'
    return f'process {pid} ({command})' if command else f'process {pid}'


@contextlib.contextmanager
def owning(directory: str | os.PathLike[str]) -> Iterator[str]:
    """Hold `directory` (made if needed) for this process until the block ends.  If the
    block fails before anything but the lock was written into a directory made here,
    the directory is removed again (while the lock is still held): a refused run leaves
    no trace.

    A UsageError '<directory> is in use by process <pid> (<its command>)' if another
    live process holds it; another OSError (an unwritable folder) is a UsageError too.
    The lock is held by the open file: it is not inherited by a child made with
    subprocess (close_fds).  Inside a block that holds `directory`, this process may
    ask for it again (a script that locks a run and then calls the training loop,
    which locks it too): the inner block is a no-op."""
    directory = os.fspath(directory)
    key = os.path.realpath(directory)
    if key in _held:
        yield directory
        return
    path = os.path.join(directory, LOCK_FILE)
    existed = os.path.isdir(directory)
    try:
        os.makedirs(directory, exist_ok=True)
        descriptor = open_lock(directory, os.O_RDWR | os.O_CREAT)
    except OSError as error:
        raise UsageError(f'{directory} cannot be locked: {error.strerror or error}')
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise UsageError(f'{directory} cannot be locked: {error.strerror or error}')
            raise UsageError(f'{directory} is in use by {_describe(holder(directory))}; '
                             f'wait for it to end, or stop it first')
        # Ours now: record who holds it, for the message of the next one to come.
        try:
            os.ftruncate(descriptor, 0)
            os.pwrite(descriptor, f'{os.getpid()}\n'.encode('ascii'), 0)
        except OSError:
            pass   # a full disk: the lock holds all the same, only the pid is missing
        _held.add(key)
        try:
            yield directory
        except BaseException:
            if not existed:
                with contextlib.suppress(OSError):
                    if os.listdir(directory) == [LOCK_FILE]:
                        os.remove(path)
                        os.rmdir(directory)
            raise
        finally:
            _held.discard(key)
    finally:
        os.close(descriptor)   # releases the lock


def check_free(directory: str | os.PathLike[str]) -> None:
    """A UsageError naming the live holder if another process holds `directory`;
    nothing is created (for an early check before the lock is taken)."""
    directory = os.fspath(directory)
    if os.path.realpath(directory) in _held:
        return
    try:
        descriptor = open_lock(directory, os.O_RDONLY)
    except OSError:
        return   # no lock file, or none that can be read: nobody to meet
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        raise UsageError(f'{directory} is in use by {_describe(holder(directory))}; '
                         f'wait for it to end, or stop it first')
    finally:
        os.close(descriptor)
