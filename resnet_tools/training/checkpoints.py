"""A training checkpoint as one unit on disk, written without pickle and read with
checks.

An output directory of training.train holds:

  .lock                  the run lock (resnet_tools/training/locking.py): the live run's pid
  run.json               what the run is (network, data, settings)
  log.csv                one row per epoch up to the current checkpoint (a copy of its log)
  checkpoint.json        the manifest: which checkpoint is current, and its checksums
  checkpoint-0003/       the checkpoint it names (here after epoch 3):
    model.safetensors      the network's state_dict (weights and BatchNorm statistics)
    optimizer.safetensors  the optimiser's tensors (SGD's momentum velocities)
    state.json             the epoch, the log rows up to it, the random state of the next
                           epoch, the run's description and the optimiser's scalars

How a checkpoint is switched, and why this way.  The files of epoch K go into a new
directory (.checkpoint-000K.tmp, renamed to checkpoint-000K once they are whole and
flushed), and only then is checkpoint.json replaced, by a rename, to name it: that
rename is the switch.  Until it happens the manifest names epoch K-1, whose files have
not been touched; after it, it names epoch K, whose files are on disk.  So a kill at
any instant leaves one complete checkpoint, the old or the new.  The manifest holds
the sha256 of every file of its checkpoint and a checksum of its own, so a file damaged
later (a flipped byte, a truncated copy) is caught too.  Every file, and the directories
holding them, is fsync'ed before the switch, and the directory after it, so that a
power loss keeps the promise a kill does.  A manifest as the switch rather than a
symlink: a plain file survives every copy tool, zip and file system, and the manifest
has to exist anyway for the checksums.  What a killed save leaves (a .tmp file or
directory, a checkpoint directory that was never switched to, or the previous one not
yet removed) is named so that `clean` can tell it apart and remove it at the next start.

Nothing here unpickles: tensors are read by the safetensors library (a JSON header and
raw bytes), everything else is JSON.  A directory in the format of before, model.pdparams
and model.pdopt (two pickles), is recognised and refused, never loaded.
"""
import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

import numpy as np
import safetensors
import safetensors.numpy

from resnet_tools import files
from resnet_tools.errors import FileError, UsageError

MANIFEST = 'checkpoint.json'
MODEL_FILE, OPTIMIZER_FILE, STATE_FILE = 'model.safetensors', 'optimizer.safetensors', 'state.json'
CHECKPOINT_FILES = (MODEL_FILE, OPTIMIZER_FILE, STATE_FILE)
FORMAT = 'resnet-reproduction checkpoint, version 1'
OLD_FILES = ('model.pdparams', 'model.pdopt')   # the pickled pair of the earlier format
CHECKPOINT_DIRECTORY = re.compile(r'checkpoint-\d{4,}')
# What a killed write can leave: our own '.checkpoint-000K.tmp' directory and
# '.checkpoint.json.tmp', and files.replacing's '.<name>.<8 random characters>.tmp'.
STAGING = re.compile(r'\.checkpoint-\d{4,}\.tmp')
TEMPORARY = re.compile(r'\.(checkpoint\.json|(run\.json|log\.csv|responses\.csv)\.[a-z0-9_]{8})\.tmp')
# Bounds on what is read, so that a crafted file cannot make a reader take all memory:
# the manifest and state.json are a few kilobytes, a checkpoint's tensors at most the
# manifest's size of them, and that at most MAX_FILE_BYTES (ResNet-1202's are 78 MB).
MANIFEST_BYTES = 1 << 20
MAX_FILE_BYTES = 1 << 34
MAX_EPOCH = 10 ** 6
SHA256 = re.compile(r'[0-9a-f]{64}')
# What state.json holds beside the epoch, and the JSON type of each.
STATE_FIELDS: Mapping[str, type] = {'model': str, 'description': dict, 'log': list,
                                    'next_generator': dict, 'optimizer_scalars': dict}


def directory_name(epoch: int) -> str:
    return f'checkpoint-{epoch:04d}'


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def own_checksum(manifest: Mapping[str, Any]) -> str:
    """The sha256 of the manifest without its own 'sha256' entry, in a canonical form."""
    rest = {key: value for key, value in manifest.items() if key != 'sha256'}
    return sha256(json.dumps(rest, sort_keys=True, separators=(',', ':')).encode())


def write_durably(path: str, data: bytes) -> None:
    """Create `path` (it must not exist) with `data`, and flush it to the disk."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view):]
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def fsync_directory(path: str | os.PathLike[str]) -> None:
    """Flush a directory's entries (a file made or renamed in it) to the disk."""
    files.flush_to_disk(path)


def as_arrays(state: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """{name: contiguous numpy array} of a state dict of tensors (or arrays)."""
    return {name: np.ascontiguousarray(value.numpy() if hasattr(value, 'numpy') else value)
            for name, value in state.items()}


def tensors_and_scalars(state: Mapping[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Split an optimiser's state_dict into its tensors and the JSON-able rest."""
    tensors, scalars = {}, {}
    for name, value in state.items():
        if hasattr(value, 'numpy') or isinstance(value, np.ndarray):
            tensors[name] = value
        else:
            scalars[name] = value
    return as_arrays(tensors), scalars


class SaveFailed(Exception):
    """A save that failed with the OSError `error`.  `epoch` is that of the checkpoint the
    manifest names now, which --resume continues (None: none yet): the one before, or,
    if the error came after the switch, the new one, which is then kept."""

    def __init__(self, error: OSError, epoch: int | None) -> None:
        super().__init__(error.strerror or str(error))
        self.error, self.epoch = error, epoch


def save(output: str | os.PathLike[str], epoch: int, model_state: Mapping[str, Any],
         optimizer_state: Mapping[str, Any], state: Mapping[str, Any]) -> None:
    """Write the checkpoint of `epoch` into `output` and switch to it (see above).

    `model_state` and `optimizer_state` are state dicts of tensors; `state` is a
    JSON-able dict.  An OSError (a full disk, an I/O error) is a SaveFailed naming the
    checkpoint that is current after it: whatever the manifest names is kept, the rest
    of this save is removed."""
    optimizer_tensors, optimizer_scalars = tensors_and_scalars(optimizer_state)
    contents = {
        MODEL_FILE: safetensors.numpy.save(as_arrays(model_state)),
        # safetensors refuses an empty dict of tensors: an optimiser that holds none yet
        # (no step taken) is stored as an empty JSON-only record.
        OPTIMIZER_FILE: safetensors.numpy.save(optimizer_tensors) if optimizer_tensors else b'',
        STATE_FILE: (json.dumps({**state, 'epoch': epoch, 'optimizer_scalars': optimizer_scalars},
                                indent=1, sort_keys=True) + '\n').encode(),
    }
    output = os.fspath(output)
    name = directory_name(epoch)
    staging, final = os.path.join(output, f'.{name}.tmp'), os.path.join(output, name)
    previous = current_directory(output)
    try:
        for leftover in (staging, final):
            remove_ours(leftover)                  # from a save that was killed
        os.mkdir(staging)
        for file_name, data in contents.items():
            write_durably(os.path.join(staging, file_name), data)
        fsync_directory(staging)
        os.rename(staging, final)
        fsync_directory(output)
        manifest = {'format': FORMAT, 'epoch': epoch, 'directory': name,
                    'files': {file_name: {'bytes': len(data), 'sha256': sha256(data)}
                              for file_name, data in contents.items()}}
        manifest['sha256'] = own_checksum(manifest)
        temporary = os.path.join(output, f'.{MANIFEST}.tmp')
        remove_ours(temporary)
        write_durably(temporary, (json.dumps(manifest, indent=1) + '\n').encode())
        os.replace(temporary, os.path.join(output, MANIFEST))   # the switch
        fsync_directory(output)
    except OSError as error:
        # The manifest decides, not how far this block got: an error after the switch
        # (in the fsync that follows it) leaves the new checkpoint as the run, and
        # removing it would leave a manifest that names nothing.
        current = current_directory(output)
        for leftover in (staging, final):
            if leftover not in (current, previous):
                with contextlib.suppress(OSError):
                    remove_ours(leftover)
        raise SaveFailed(error, epoch_of(current))
    if previous is not None and previous != final:
        with contextlib.suppress(OSError):
            remove_ours(previous)


def epoch_of(directory: str | None) -> int | None:
    """The epoch of a checkpoint directory's path (checkpoint-0003: 3), None for None."""
    return None if directory is None else int(os.path.basename(directory).split('-')[1])


def current_directory(output: str | os.PathLike[str]) -> str | None:
    """The directory a sound manifest names, if there is one; else None."""
    try:
        return os.path.join(output, read_manifest(output)['directory'])
    except UsageError:
        return None


def has_checkpoint(output: str | os.PathLike[str]) -> bool:
    """Whether `output` has a manifest (a link or a FIFO in its place counts: it is read,
    and refused, as a damaged one)."""
    return os.path.lexists(os.path.join(output, MANIFEST))


def has_old_checkpoint(output: str | os.PathLike[str]) -> bool:
    return any(os.path.lexists(os.path.join(output, name)) for name in OLD_FILES)


# eq=False: == and hash stay the object's own, as before (a field-wise == of numpy arrays
# would raise).
@dataclass(frozen=True, eq=False)
class Checkpoint:
    """A checkpoint read back and checked: .epoch, .model and .optimizer ({name: numpy
    array}), .state (the dict of state.json), .directory."""
    directory: str
    epoch: int
    model: dict[str, np.ndarray]
    optimizer: dict[str, np.ndarray]
    state: dict[str, Any]


def damaged(path: str, why: str, prefix: str = '--resume: ') -> UsageError:
    return FileError(f'{prefix}{path} {why}; the checkpoint is damaged, nothing was changed'
                      + (' (start over with --force)' if prefix == '--resume: ' else ''))


def short(value: Any) -> str:
    """A JSON value as a message may quote it: a string as it is, anything else as its
    repr, cut at 40 characters."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + '...'


def is_count(value: Any, high: int) -> TypeGuard[int]:
    """Whether a JSON value is a whole number from 0 to `high` (not a bool, not 2.0)."""
    return type(value) is int and 0 <= value <= high


def manifest_problem(manifest: Mapping[str, Any]) -> str | None:
    """What is wrong in a manifest whose checksum matches (a crafted one: anyone can
    recompute the checksum), or None.  Every field is checked in type and range."""
    epoch = manifest.get('epoch')
    if not is_count(epoch, MAX_EPOCH) or epoch == 0:
        return f'names epoch {short(epoch)}, not a whole number from 1 to {MAX_EPOCH:,}'
    if manifest.get('directory') != directory_name(epoch):
        return (f'names the directory {short(manifest.get("directory"))}, not '
                f'{directory_name(epoch)} of its epoch')
    entries = manifest.get('files')
    if not isinstance(entries, dict) or set(entries) != set(CHECKPOINT_FILES):
        return f'does not list the files {", ".join(CHECKPOINT_FILES)}'
    for file_name, entry in entries.items():
        if not (isinstance(entry, dict) and is_count(entry.get('bytes'), MAX_FILE_BYTES)
                and isinstance(entry.get('sha256'), str) and SHA256.fullmatch(entry['sha256'])):
            return f'gives no size of at most {MAX_FILE_BYTES:,} bytes and sha256 for {file_name}'
    return None


def read_manifest(output: str | os.PathLike[str], prefix: str = '--resume: ') -> dict[str, Any]:
    """The manifest of `output`, checked in every field; a UsageError for a missing or
    damaged one."""
    path = os.path.join(output, MANIFEST)
    try:
        data = files.read_regular(path, MANIFEST_BYTES)
    except OSError as error:
        raise UsageError(f'{prefix}{path} cannot be read: {error.strerror or error}')
    except ValueError as why:
        raise damaged(path, str(why), prefix)
    if not data:
        raise damaged(path, 'is empty', prefix)
    try:
        manifest = json.loads(data)
        checksum = own_checksum(manifest) if isinstance(manifest, dict) else None
    except (ValueError, RecursionError):
        raise damaged(path, 'is not JSON of a manifest (truncated, overwritten or nested '
                            'too deep)', prefix)
    if not isinstance(manifest, dict) or manifest.get('format') != FORMAT:
        raise damaged(path, f'is not a manifest of the format "{FORMAT}"', prefix)
    if manifest.get('sha256') != checksum:
        raise damaged(path, 'does not match its own checksum', prefix)
    problem = manifest_problem(manifest)
    if problem is not None:
        raise damaged(path, problem, prefix)
    return manifest


def read_file(directory: str, name: str, entry: Mapping[str, Any], prefix: str = '--resume: ') -> bytes:
    """A file of a checkpoint, of the size and sha256 its manifest `entry` gives: read
    from a regular file only, and never more than that size."""
    path = os.path.join(directory, name)
    try:
        data = files.read_regular(path, entry['bytes'])
    except OSError as error:
        raise damaged(path, f'cannot be read ({error.strerror or error})', prefix)
    except ValueError as why:
        raise damaged(path, f'{why} (the size its manifest gives)', prefix)
    if len(data) != entry['bytes']:
        what = 'is empty' if not data else 'is truncated'
        raise damaged(path, f'{what}: {len(data):,} bytes, the manifest says {entry["bytes"]:,}', prefix)
    if sha256(data) != entry['sha256']:
        raise damaged(path, 'does not match the sha256 in the manifest', prefix)
    return data


def state_problem(state: Any, epoch: int) -> str | None:
    """What is wrong in a state.json of the checkpoint of `epoch`, or None: its fields
    are checked in type here, their contents by the reader that uses them."""
    if not isinstance(state, dict) or state.get('epoch') != epoch or type(state['epoch']) is not int:
        return 'is not of the epoch the manifest names'
    for key, kind in STATE_FIELDS.items():
        if not isinstance(state.get(key), kind):
            return f'holds no {key} of the JSON type {kind.__name__}'
    return None


def load(output: str | os.PathLike[str], prefix: str = '--resume: ',
         attempts: int = 3) -> Checkpoint | None:
    """The checkpoint that `output`'s manifest names, every file checked against it;
    None if there is no manifest.  A UsageError for anything damaged or missing.

    A reader beside a live run (export.py --run) may read a manifest just before the
    run switches to the next checkpoint and removes this one: a file that has gone is
    then no damage.  The manifest is read again, and a changed one is read afresh, up
    to `attempts` times."""
    if not has_checkpoint(output):
        return None
    manifest = read_manifest(output, prefix)
    for attempt in range(attempts):
        try:
            return read_checkpoint(output, manifest, prefix)
        except UsageError:
            again = read_manifest(output, prefix)
            if again == manifest or attempt == attempts - 1:
                raise
            manifest = again
    raise AssertionError('unreachable')


def read_checkpoint(output: str | os.PathLike[str], manifest: Mapping[str, Any],
                    prefix: str) -> Checkpoint:
    """The checkpoint a checked `manifest` names, its files checked against it."""
    directory = os.path.join(output, manifest['directory'])
    data = {file_name: read_file(directory, file_name, entry, prefix)
            for file_name, entry in manifest['files'].items()}
    try:
        model = safetensors.numpy.load(data[MODEL_FILE])
        optimizer = safetensors.numpy.load(data[OPTIMIZER_FILE]) if data[OPTIMIZER_FILE] else {}
        state = json.loads(data[STATE_FILE])
    except (safetensors.SafetensorError, ValueError, RecursionError) as error:
        # Checksums that match but contents that do not parse: not written by save().
        reason = ' '.join(str(error).split())[:80] or type(error).__name__
        raise damaged(directory, f'holds a file that does not parse ({reason})', prefix)
    problem = state_problem(state, manifest['epoch'])
    if problem is not None:
        raise damaged(os.path.join(directory, STATE_FILE), problem, prefix)
    return Checkpoint(directory, manifest['epoch'], model, optimizer, state)


def ours(path: str) -> bool:
    """Whether `path` is what a write of ours can have left, and so may be removed: a
    temporary file (not a link), or a checkpoint directory, staged or not, that holds
    nothing but a checkpoint's files.  A user's checkpoint-0099/notes.txt is not."""
    name = os.path.basename(path)
    try:
        mode = os.lstat(path).st_mode
        if stat.S_ISDIR(mode) and (CHECKPOINT_DIRECTORY.fullmatch(name) or STAGING.fullmatch(name)):
            return all(entry in CHECKPOINT_FILES
                       and stat.S_ISREG(os.lstat(os.path.join(path, entry)).st_mode)
                       for entry in os.listdir(path))
    except OSError:
        return False
    return stat.S_ISREG(mode) and TEMPORARY.fullmatch(name) is not None


def remove_ours(path: str) -> None:
    """Remove `path` if it is there and ours; a FileExistsError if it is there and not
    ours (a user's folder with our name is in the way: nothing of it is removed)."""
    if not os.path.lexists(path):
        return
    if not ours(path):
        raise FileExistsError(errno.EEXIST, 'is in the way: it is not a checkpoint of a run', path)
    if os.path.isdir(path):
        shutil.rmtree(path)
    else:
        os.remove(path)


def named_like_ours(output: str | os.PathLike[str]) -> list[str]:
    """The entries of `output` named as a checkpoint's (a directory, staged or not, a
    temporary file): ours or not."""
    try:
        names = sorted(os.listdir(output))
    except OSError:
        return []
    return [os.path.join(output, name) for name in names
            if CHECKPOINT_DIRECTORY.fullmatch(name) or STAGING.fullmatch(name)
            or TEMPORARY.fullmatch(name)]


def foreign(output: str | os.PathLike[str]) -> list[str]:
    """Entries of `output` named like ours that our writes cannot have left (a link, a
    FIFO, a folder of other files): a run refuses to start beside them."""
    files_as_folders = [os.path.join(output, name) for name in (MANIFEST, *OLD_FILES)
                        if os.path.isdir(os.path.join(output, name))]
    return files_as_folders + [path for path in named_like_ours(output) if not ours(path)]


def unnamed(output: str | os.PathLike[str]) -> list[str]:
    """The checkpoint directories of `output` that its manifest does not name (all of
    them when there is no sound manifest)."""
    current = current_directory(output)
    return [path for path in named_like_ours(output)
            if CHECKPOINT_DIRECTORY.fullmatch(os.path.basename(path)) and path != current]


def leftovers(output: str | os.PathLike[str]) -> list[str]:
    """What killed saves left in `output`: temporary files and directories, and
    checkpoint directories that the manifest does not name, each of them ours.  Call it
    only when the manifest is absent or has been read (else the current checkpoint is
    unknown)."""
    current = current_directory(output)
    return [path for path in named_like_ours(output) if path != current and ours(path)]


def remove(paths: Iterable[str]) -> None:
    """Remove what leftovers() and everything() name: the manifest and the old format's
    files (a link among them is removed, not what it points to), and what is ours."""
    for path in paths:
        if os.path.basename(path) in (MANIFEST, *OLD_FILES):
            os.remove(path)
        else:
            remove_ours(path)


def everything(output: str | os.PathLike[str]) -> list[str]:
    """Every file and directory of a run in `output` (the checkpoint, its leftovers,
    the old format's pair), for --force; the user's other files are not named."""
    own = [os.path.join(output, name) for name in (MANIFEST, *OLD_FILES)
           if os.path.lexists(os.path.join(output, name))
           and not os.path.isdir(os.path.join(output, name))]
    return own + [path for path in named_like_ours(output) if ours(path)]
