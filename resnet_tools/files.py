"""Files that are complete or absent: every output of this repository is written to
a temporary file beside it, flushed to the disk, and renamed into place only once it
is whole (a set of files that belong together, a training checkpoint, is switched as
one unit by resnet_tools/training/checkpoints.py).

A temporary is locked (flock) by its writer while it is written.  The kernel drops the
lock when the writer ends, however it ends, so the next writer of the same output knows
a killed writer's temporary from a live one's, and removes it (sweep_temporaries)."""
import contextlib
import fcntl
import os
import pathlib
import re
import stat
import tempfile
from collections.abc import Callable, Iterator, Sequence

from resnet_tools.errors import UsageError


@contextlib.contextmanager
def replacing(output: str | os.PathLike[str]) -> Iterator[str]:
    """Yield a temporary path beside `output` to write; when the block ends, rename it
    onto `output`.  If the block raises, `output` is left as it was and the temporary
    file is removed; an OSError (a full disk, a folder such as /proc that cannot hold
    files) is a UsageError naming `output`."""
    output = pathlib.Path(output)
    temporary: str | None = None
    lock: int | None = None
    try:
        sweep_temporaries(output)
        temporary, lock = locked_temporary(output)
        yield temporary
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)   # mkstemp makes it private; an output is not
        flush_to_disk(temporary)   # before the rename: a power loss then keeps old or new
        os.replace(temporary, output)
        flush_to_disk(output.parent)
    except OSError as error:
        raise UsageError(f'{output} cannot be written: {error.strerror or error}')
    finally:
        if temporary is not None:
            with contextlib.suppress(FileNotFoundError):
                os.remove(temporary)
        if lock is not None:
            os.close(lock)


def flush_to_disk(path: str | os.PathLike[str]) -> None:
    """fsync a file, or a directory's entries."""
    descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# The random part of the names tempfile.mkstemp and mkdtemp make.
RANDOM_PART = '[a-z0-9_]{8}'


def locked_temporary(output: pathlib.Path, directory: bool = False) -> tuple[str, int]:
    """(path, descriptor) of a new temporary file (or directory) beside `output`,
    '.<name>.<random>.tmp', and a descriptor that holds an exclusive flock on it until
    it is closed.  An OSError if none can be made."""
    prefix = f'.{output.name}.'
    while True:
        if directory:
            path = tempfile.mkdtemp('.tmp', prefix, output.parent)
            try:
                descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
            except FileNotFoundError:
                continue
        else:
            descriptor, path = tempfile.mkstemp('.tmp', prefix, output.parent)
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        if names(path, descriptor):
            return path, descriptor
        # Another writer's sweep took it before it was locked: make another.
        os.close(descriptor)


def names(path: str, descriptor: int) -> bool:
    """Whether `path` is (still) the file open as `descriptor`."""
    try:
        named = os.lstat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(descriptor)
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


def sweep_temporaries(output: pathlib.Path, directories: bool = False,
                      remove: Callable[[str], object] | None = None) -> None:
    """Remove the temporaries that killed writers of `output` left beside it: regular
    files (or, with `directories`, directories) named exactly as locked_temporary names
    them, that no live writer holds.  `remove` removes one (by default os.remove); a
    link, a FIFO or a device is never opened, and what cannot be removed stays."""
    pattern = re.compile(re.escape(f'.{output.name}.') + RANDOM_PART + re.escape('.tmp'))
    kind = stat.S_ISDIR if directories else stat.S_ISREG
    try:
        found = os.listdir(output.parent)
    except OSError:
        return               # the writer itself will say what is wrong with the folder
    for name in found:
        if pattern.fullmatch(name):
            with contextlib.suppress(OSError):
                if_unheld(os.path.join(output.parent, name), kind, remove or os.remove)


def if_unheld(path: str, kind: Callable[[int], bool], action: Callable[[str], object]) -> bool:
    """Call action(path), holding an exclusive flock on `path`, if it is of `kind` (e.g.
    stat.S_ISREG, judged without following a link) and no other process holds a lock
    on it; whether it was called.  An OSError if `path` cannot be opened."""
    if not kind(os.lstat(path).st_mode):
        return False         # not opened: opening a device or a FIFO can act or wait
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    descriptor = os.open(path, flags)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False     # a live writer's
        # Still the file that was judged, not one put in its place since.
        if not (names(path, descriptor) and kind(os.fstat(descriptor).st_mode)):
            return False
        action(path)
        return True
    finally:
        os.close(descriptor)


def write_bytes(output: str | os.PathLike[str], data: str | bytes) -> None:
    """Write `data` (bytes, or text as UTF-8) to `output`, complete or not at all."""
    with replacing(output) as temporary:
        pathlib.Path(temporary).write_bytes(data.encode('utf-8') if isinstance(data, str)
                                            else data)


def check_writable_directory(flag: str, directory: str | os.PathLike[str]) -> None:
    """A UsageError unless `directory` exists and takes files, or can be made.

    Tried, not judged by os.access: root passes os.access for /proc and /sys, where
    nothing can be made.  A probe file in the nearest folder that exists, removed at
    once; nothing else is created."""
    existing = nearest_existing(directory)
    if not os.path.isdir(existing):
        what = 'is a file' if existing == os.path.abspath(directory) else f'is in {existing}, a file'
        raise UsageError(f'{flag} {directory} {what}, not a directory')
    check_name_lengths(directory, f'{flag} {directory}')
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise UsageError(f'{flag} {directory} cannot be written: a file cannot be made in '
                         f'{existing} ({error.strerror or error})')


# How much longer the name of an output's temporary is: '.' + name + '.<random>.tmp'.
TEMPORARY_EXTRA = len('..12345678.tmp')


def nearest_existing(path: str | os.PathLike[str]) -> str:
    """`path` made absolute, or the nearest folder above it that exists."""
    existing = os.path.abspath(path)
    while not os.path.exists(existing):   # (False too for a name too long)
        existing = os.path.dirname(existing)
    return existing


def check_name_lengths(path: str | os.PathLike[str], what: str, extra: int = 0,
                       error: type[UsageError] = UsageError) -> None:
    """An `error` '<what> cannot be written: File name too long (...)' if a name in
    `path` that does not exist yet, or its last, is longer than the file system of the
    nearest folder that exists takes (the last with `extra` bytes more, for its
    temporary), or the path longer than the system takes: said now, not as the OSError
    of a write after the work."""
    absolute = os.path.abspath(path)
    existing = nearest_existing(os.path.dirname(absolute))
    try:
        name_max, path_max = (os.pathconf(existing, name) for name in ('PC_NAME_MAX', 'PC_PATH_MAX'))
    except OSError:
        return               # the file system does not say: the write will
    new = os.path.relpath(absolute, existing).split(os.sep)
    for number, name in enumerate(new, 1):
        length, limit = len(os.fsencode(name)), name_max - (extra if number == len(new) else 0)
        if length > limit:
            raise error(f'{what} cannot be written: File name too long ({name[:16]}... is '
                        f'{length} bytes; at most {limit} here)')
    if len(os.fsencode(absolute)) + extra >= path_max:
        raise error(f'{what} cannot be written: File name too long (the path is '
                    f'{len(os.fsencode(absolute))} bytes; at most {path_max - 1 - extra})')


def check_new_file(output: str | os.PathLike[str], force: bool, suffixes: Sequence[str],
                   hint: str, error: type[UsageError] = UsageError) -> pathlib.Path:
    """`output` as a path, or an `error` saying why no file can be written there: a name
    of none of `suffixes` (`hint` says what to do), a directory, a file there already
    (unless `force`), a folder that does not exist or takes no files."""
    output = pathlib.Path(output)
    if output.suffix.lower() not in suffixes:
        raise error(f'{output}: {output.suffix or "a name without an extension"} is not a '
                    f'format written here; {hint}')
    check_name_lengths(output, str(output), TEMPORARY_EXTRA, error)
    if output.is_dir():
        raise error(f'{output} is a directory; give a file name')
    if output.exists() and not force:
        raise error(f'{output} exists already; give --force to replace it')
    folder = output.parent
    if not folder.is_dir():
        raise error(f'{folder} is not a directory, so {output.name} cannot be written there')
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        raise error(f'{folder} is not writable, so {output.name} cannot be written there')
    return output


def read_regular(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of `path`, which must be a regular file (a link to one is followed) of
    at most `limit` bytes.  An OSError if it cannot be opened; a ValueError saying what
    it is instead: a FIFO (which would block the reader for ever), a device such as
    /dev/zero (which never ends), a directory, or a file larger than `limit`."""
    # O_NONBLOCK: opening a FIFO waits for a writer; with it, the open returns at once
    # and fstat tells what it is.  Regular files ignore the flag.
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise ValueError(f'is {kind_of(status.st_mode)}, not a regular file')
        if status.st_size > limit:
            raise ValueError(f'is {status.st_size:,} bytes, more than the {limit:,} it may be')
        chunks, left = [], limit + 1     # one byte more: a file that grew while read
        while left > 0:
            chunk = os.read(descriptor, min(left, 1 << 24))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        if left <= 0:
            raise ValueError(f'is more than the {limit:,} bytes it may be')
        return b''.join(chunks)
    finally:
        os.close(descriptor)


def kind_of(mode: int) -> str:
    """'a FIFO', 'a directory', ... for a file's st_mode."""
    for test, name in ((stat.S_ISFIFO, 'a FIFO'), (stat.S_ISDIR, 'a directory'),
                       (stat.S_ISCHR, 'a character device'), (stat.S_ISBLK, 'a block device'),
                       (stat.S_ISSOCK, 'a socket'), (stat.S_ISLNK, 'a symbolic link')):
        if test(mode):
            return name
    return 'a regular file' if stat.S_ISREG(mode) else 'not a regular file'
