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
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import safetensors
import safetensors.numpy

from resnet_tools import files
from resnet_tools.errors import UsageError

MANIFEST = 'checkpoint.json'
MODEL_FILE, OPTIMIZER_FILE, STATE_FILE = 'model.safetensors', 'optimizer.safetensors', 'state.json'
CHECKPOINT_FILES = (MODEL_FILE, OPTIMIZER_FILE, STATE_FILE)
FORMAT = 'resnet-reproduction checkpoint, version 1'
OLD_FILES = ('model.pdparams', 'model.pdopt')   # the pickled pair of the earlier format
CHECKPOINT_DIRECTORY = re.compile(r'checkpoint-\d{4,}')
# What a killed write can leave: files.replacing's '.<name>.<random>.tmp', our own
# '.checkpoint-000K.tmp' directory and '.checkpoint.json.tmp'.
TEMPORARY = re.compile(r'\.(checkpoint-\d{4,}|checkpoint\.json|run\.json|log\.csv)(\..*)?\.tmp')


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


def save(output: str | os.PathLike[str], epoch: int, model_state: Mapping[str, Any],
         optimizer_state: Mapping[str, Any], state: Mapping[str, Any]) -> None:
    """Write the checkpoint of `epoch` into `output` and switch to it (see above).

    `model_state` and `optimizer_state` are state dicts of tensors; `state` is a
    JSON-able dict.  An OSError (a full disk) leaves the previous checkpoint current
    and is raised after the new files are removed."""
    optimizer_tensors, optimizer_scalars = tensors_and_scalars(optimizer_state)
    contents = {
        MODEL_FILE: safetensors.numpy.save(as_arrays(model_state)),
        # safetensors refuses an empty dict of tensors: an optimiser that holds none yet
        # (no step taken) is stored as an empty JSON-only record.
        OPTIMIZER_FILE: safetensors.numpy.save(optimizer_tensors) if optimizer_tensors else b'',
        STATE_FILE: (json.dumps({**state, 'epoch': epoch, 'optimizer_scalars': optimizer_scalars},
                                indent=1, sort_keys=True) + '\n').encode(),
    }
    name = directory_name(epoch)
    staging, final = os.path.join(output, f'.{name}.tmp'), os.path.join(output, name)
    previous = current_directory(output)
    try:
        for leftover in (staging, final):
            if os.path.isdir(leftover):           # from a save that was killed
                shutil.rmtree(leftover)
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
        if os.path.exists(temporary):
            os.remove(temporary)
        write_durably(temporary, (json.dumps(manifest, indent=1) + '\n').encode())
        os.replace(temporary, os.path.join(output, MANIFEST))   # the switch
        fsync_directory(output)
    except OSError:
        for leftover in (staging, final):
            if leftover != previous:
                shutil.rmtree(leftover, ignore_errors=True)
        raise
    if previous is not None and previous != final:
        shutil.rmtree(previous, ignore_errors=True)


def current_directory(output: str | os.PathLike[str]) -> str | None:
    """The directory the manifest names, if the manifest can be read; else None."""
    try:
        with open(os.path.join(output, MANIFEST), encoding='utf-8') as file:
            name = json.load(file).get('directory')
    except (OSError, ValueError, AttributeError):
        return None
    return os.path.join(output, name) if isinstance(name, str) and CHECKPOINT_DIRECTORY.fullmatch(name) \
        else None


def has_checkpoint(output: str | os.PathLike[str]) -> bool:
    return os.path.exists(os.path.join(output, MANIFEST))


def has_old_checkpoint(output: str | os.PathLike[str]) -> bool:
    return any(os.path.exists(os.path.join(output, name)) for name in OLD_FILES)


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
    return UsageError(f'{prefix}{path} {why}; the checkpoint is damaged, nothing was changed'
                      + (' (start over with --force)' if prefix == '--resume: ' else ''))


def read_manifest(output: str | os.PathLike[str], prefix: str = '--resume: ') -> dict[str, Any]:
    path = os.path.join(output, MANIFEST)
    try:
        with open(path, 'rb') as file:
            data = file.read()
    except OSError as error:
        raise UsageError(f'{prefix}{path} cannot be read: {error.strerror or error}')
    if not data:
        raise damaged(path, 'is empty', prefix)
    try:
        manifest = json.loads(data)
    except ValueError:
        raise damaged(path, 'is not JSON (truncated or overwritten)', prefix)
    if not isinstance(manifest, dict) or manifest.get('format') != FORMAT:
        raise damaged(path, f'is not a manifest of the format "{FORMAT}"', prefix)
    if manifest.get('sha256') != own_checksum(manifest):
        raise damaged(path, 'does not match its own checksum', prefix)
    return manifest


def read_file(directory: str, name: str, entry: Mapping[str, Any], prefix: str = '--resume: ') -> bytes:
    path = os.path.join(directory, name)
    try:
        with open(path, 'rb') as file:
            data = file.read()
    except OSError as error:
        raise damaged(path, f'cannot be read ({error.strerror or error})', prefix)
    if len(data) != entry['bytes']:
        what = 'is empty' if not data else 'is truncated' if len(data) < entry['bytes'] else 'is too long'
        raise damaged(path, f'{what}: {len(data):,} bytes, the manifest says {entry["bytes"]:,}', prefix)
    if sha256(data) != entry['sha256']:
        raise damaged(path, 'does not match the sha256 in the manifest', prefix)
    return data


def load(output: str | os.PathLike[str], prefix: str = '--resume: ') -> Checkpoint | None:
    """The checkpoint that `output`'s manifest names, every file checked against it;
    None if there is no manifest.  A UsageError for anything damaged or missing."""
    if not has_checkpoint(output):
        return None
    manifest = read_manifest(output, prefix)
    name = manifest.get('directory')
    if not (isinstance(name, str) and CHECKPOINT_DIRECTORY.fullmatch(name)
            and set(manifest.get('files', {})) == set(CHECKPOINT_FILES)):
        raise damaged(os.path.join(output, MANIFEST), 'names no checkpoint of this format', prefix)
    directory = os.path.join(output, name)
    data = {file_name: read_file(directory, file_name, entry, prefix)
            for file_name, entry in manifest['files'].items()}
    try:
        model = safetensors.numpy.load(data[MODEL_FILE])
        optimizer = safetensors.numpy.load(data[OPTIMIZER_FILE]) if data[OPTIMIZER_FILE] else {}
        state = json.loads(data[STATE_FILE])
    except (safetensors.SafetensorError, ValueError) as error:
        # Checksums that match but contents that do not parse: not written by save().
        raise damaged(directory, f'holds a file that does not parse ({error})', prefix)
    if not isinstance(state, dict) or state.get('epoch') != manifest.get('epoch'):
        raise damaged(os.path.join(directory, STATE_FILE), 'is not of the epoch the manifest names', prefix)
    return Checkpoint(directory, manifest['epoch'], model, optimizer, state)


def leftovers(output: str | os.PathLike[str]) -> list[str]:
    """What killed saves left in `output`: temporary files and directories, and
    checkpoint directories that the manifest does not name.  Call it only when the
    manifest is absent or has been read (else the current checkpoint is unknown)."""
    current = current_directory(output)
    found: list[str] = []
    for entry in sorted(os.listdir(output)) if os.path.isdir(output) else ():
        path = os.path.join(output, entry)
        if TEMPORARY.fullmatch(entry) or (CHECKPOINT_DIRECTORY.fullmatch(entry) and path != current
                                          and os.path.isdir(path)):
            found.append(path)
    return found


def remove(paths: Iterable[str]) -> None:
    for path in paths:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        elif os.path.lexists(path):
            os.remove(path)


def everything(output: str | os.PathLike[str]) -> list[str]:
    """Every file and directory of a run in `output` (the checkpoint, its leftovers,
    the old format's pair), for --force; the user's other files are not named."""
    own = [os.path.join(output, name) for name in (MANIFEST, *OLD_FILES)
           if os.path.lexists(os.path.join(output, name))]
    current = current_directory(output)
    return own + ([current] if current and os.path.isdir(current) else []) + \
        [path for path in leftovers(output) if path != current]
