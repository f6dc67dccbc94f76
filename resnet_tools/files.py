"""Files that are complete or absent: every output of this repository is written to
a temporary file beside it, flushed to the disk, and renamed into place only once it
is whole (a set of files that belong together, a training checkpoint, is switched as
one unit by resnet_tools/training/checkpoints.py)."""
import contextlib
import os
import pathlib
import tempfile
from collections.abc import Iterator, Sequence

from resnet_tools.errors import UsageError


@contextlib.contextmanager
def replacing(output: str | os.PathLike[str]) -> Iterator[str]:
    """Yield a temporary path beside `output` to write; when the block ends, rename it
    onto `output`.  If the block raises, `output` is left as it was and the temporary
    file is removed; an OSError (a full disk, a folder such as /proc that cannot hold
    files) is a UsageError naming `output`."""
    output = pathlib.Path(output)
    temporary: str | None = None
    try:
        handle, temporary = tempfile.mkstemp(dir=output.parent, prefix=f'.{output.name}.',
                                             suffix='.tmp')
        os.close(handle)
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


def flush_to_disk(path: str | os.PathLike[str]) -> None:
    """fsync a file, or a directory's entries."""
    descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(descriptor)
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
    existing = os.path.abspath(directory)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        what = 'is a file' if existing == os.path.abspath(directory) else f'is in {existing}, a file'
        raise UsageError(f'{flag} {directory} {what}, not a directory')
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise UsageError(f'{flag} {directory} cannot be written: a file cannot be made in '
                         f'{existing} ({error.strerror or error})')


def check_new_file(output: str | os.PathLike[str], force: bool, suffixes: Sequence[str],
                   hint: str, error: type[UsageError] = UsageError) -> pathlib.Path:
    """`output` as a path, or an `error` saying why no file can be written there: a name
    of none of `suffixes` (`hint` says what to do), a directory, a file there already
    (unless `force`), a folder that does not exist or takes no files."""
    output = pathlib.Path(output)
    if output.suffix.lower() not in suffixes:
        raise error(f'{output}: {output.suffix or "a name without an extension"} is not a '
                    f'format written here; {hint}')
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
