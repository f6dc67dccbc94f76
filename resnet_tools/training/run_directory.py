"""A run's output directory: what it holds besides the checkpoint (log.csv, run.json),
how those are written and read, and how a run takes the directory.

  .lock            the run lock (training/locking.py): the live run's pid
  run.json         what the run is (network, data, settings): a RunRecord
  log.csv          one row per epoch up to the current checkpoint: LogRows
  checkpoint.json  and checkpoint-000K/: the checkpoint (training/checkpoints.py)

`claim` takes the directory for a run: it checks that it can be written, locks it, and
reads the checkpoint that --resume continues, once.
"""
import contextlib
import csv
import io
import json
import math
import os
import stat
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from resnet_tools import files
from resnet_tools.errors import FileError, UsageError
from resnet_tools.files import check_writable_directory
from resnet_tools.training import checkpoints, locking
from resnet_tools.training.checkpoints import Checkpoint, short
from resnet_tools.training.distributed import processes
from resnet_tools.training.settings import Settings

LOG_FILE, RUN_FILE = 'log.csv', 'run.json'
LOG_COLUMNS = ('epoch', 'lr', 'train_loss', 'train_error', 'test_loss', 'test_error', 'seconds')
# Bounds on what is read of a run.json and a log.csv (a few kilobytes when written here).
RUN_BYTES, LOG_BYTES = 1 << 20, 1 << 24


@dataclass(frozen=True)
class LogRow:
    """One epoch of a run, as log.csv has it; errors are fractions."""
    epoch: int
    lr: float
    train_loss: float
    train_error: float
    test_loss: float
    test_error: float
    seconds: float

    @classmethod
    def checked(cls, values: Mapping[str, Any]) -> 'LogRow':
        """The row of {column: value} read from a file, or a ValueError saying what is
        wrong: every column there, the epoch a whole number, the rest finite numbers."""
        if set(values) != set(LOG_COLUMNS):
            raise ValueError(f'has the columns {", ".join(map(str, values))}, not '
                             f'{", ".join(LOG_COLUMNS)}')
        if type(values['epoch']) is not int:
            raise ValueError(f'gives the epoch {short(values["epoch"])}, not a whole number')
        for key in LOG_COLUMNS[1:]:
            value = values[key]
            if type(value) not in (int, float) or not math.isfinite(value):
                raise ValueError(f'gives the {key} {short(value)}, not a finite number')
        return cls(values['epoch'], *(float(values[key]) for key in LOG_COLUMNS[1:]))

    def describe(self, epochs: int) -> str:
        """The line a run prints after the epoch."""
        return (f'epoch {self.epoch}/{epochs}  lr {self.lr:.6g}  '
                f'train loss {self.train_loss:.4f} error {100 * self.train_error:.2f} %  '
                f'test loss {self.test_loss:.4f} error {100 * self.test_error:.2f} %  '
                f'{self.seconds:.1f} s')


def format_log(rows: Sequence[LogRow]) -> str:
    lines = io.StringIO()
    writer = csv.writer(lines, lineterminator='\n')
    writer.writerow(LOG_COLUMNS)
    for row in rows:
        writer.writerow([row.epoch, f'{row.lr:.6g}',
                         *(f'{getattr(row, key):.6f}' for key in LOG_COLUMNS[2:-1]),
                         f'{row.seconds:.2f}'])
    return lines.getvalue()


def log_rows(rows: Any, epochs: int) -> list[LogRow]:
    """The LogRows of a run of `epochs` epochs from a list of {column: value} (a
    checkpoint's log), or a ValueError saying what is wrong."""
    if not isinstance(rows, list) or len(rows) != epochs:
        raise ValueError(f'does not have the {epochs} rows of its epochs')
    checked = [LogRow.checked(row if isinstance(row, dict) else {}) for row in rows]
    if [row.epoch for row in checked] != list(range(1, epochs + 1)):
        raise ValueError(f'does not count the epochs from 1 to {epochs}')
    return checked


def read_log(path: str | os.PathLike[str]) -> list[LogRow]:
    """The rows of a log.csv; a UsageError for one that is not a log of a run."""
    try:
        text = files.read_regular(path, LOG_BYTES).decode('utf-8')
        rows = list(csv.DictReader(io.StringIO(text, newline='')))
        return [LogRow.checked({key: number(key, value) for key, value in row.items()})
                for row in rows]
    except OSError as error:
        raise UsageError(f'{path} cannot be read: {error.strerror or error}') from None
    except (ValueError, csv.Error) as why:      # UnicodeDecodeError is a ValueError
        raise FileError(f'{path} is not the log.csv of a run of this repository: a row '
                         f'{why}'.replace('\n', ' ')) from None


def number(key: Any, text: Any) -> Any:
    """A log.csv cell as the number it holds (an int for the epoch); what it holds else."""
    try:
        return int(text) if key == 'epoch' else float(text)
    except (TypeError, ValueError):
        return text


@dataclass(frozen=True)
class RunRecord:
    """run.json: what a run is.  `details` are its caller's (the paper's runs: the data,
    its sizes and the network); run.json holds them beside the fixed fields, in this
    order: model, params, processes, device, the details, settings, data_description."""
    model: str
    params: int
    processes: int
    device: str
    settings: Settings
    data_description: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {'model': self.model, 'params': self.params, 'processes': self.processes,
                'device': self.device, **self.details, 'settings': asdict(self.settings),
                'data_description': self.data_description}

    @classmethod
    def from_dict(cls, record: Any) -> 'RunRecord':
        """The record of a run.json's JSON, or a ValueError saying what is wrong: every
        field of its type, the settings in their ranges."""
        if not isinstance(record, dict):
            raise ValueError('it is not a JSON object')
        for key, kind in (('model', str), ('params', int), ('processes', int), ('device', str),
                          ('settings', dict), ('data_description', str)):
            if not isinstance(record.get(key), kind) or isinstance(record[key], bool):
                raise ValueError(f'it gives no {key} of the JSON type {kind.__name__}')
        fixed = {item.name for item in fields(cls)} - {'details'}
        return cls(record['model'], record['params'], record['processes'], record['device'],
                   settings_of(record['settings']), record['data_description'],
                   {key: value for key, value in record.items() if key not in fixed})


def settings_of(values: Mapping[str, Any]) -> Settings:
    """The Settings a run.json holds, or a ValueError saying what is wrong."""
    names = [item.name for item in fields(Settings)]
    if set(values) != set(names):
        raise ValueError(f'its settings are not {", ".join(names)}')
    checked: dict[str, Any] = {}
    for item in fields(Settings):
        value = values[item.name]
        if item.name == 'milestones':
            ok = isinstance(value, list) and all(type(each) in (int, float) for each in value)
            value = tuple(value) if ok else value
        else:
            ok = type(value) is int or (item.type in (float, 'float') and type(value) is float)
        if not ok:
            raise ValueError(f'its setting {item.name} is {short(value)}')
        checked[item.name] = value
    try:
        return Settings(**checked).check()
    except UsageError as error:
        raise ValueError(f'its settings are out of range ({error})') from None


def write_run(output: str, record: RunRecord) -> None:
    files.write_bytes(os.path.join(output, RUN_FILE), json.dumps(record.to_dict(), indent=1) + '\n')


def read_run(directory: str | os.PathLike[str]) -> RunRecord | None:
    """The run.json of a run directory, or None for a log that came without one."""
    path = os.path.join(directory, RUN_FILE)
    if not os.path.lexists(path):
        return None
    try:
        return RunRecord.from_dict(json.loads(files.read_regular(path, RUN_BYTES)))
    except OSError as error:
        raise UsageError(f'{path} cannot be read: {error.strerror or error}') from None
    except (ValueError, RecursionError) as why:
        raise FileError(f'{path} is not the run.json of a run of this repository '
                         f'({why})'.replace('\n', ' ')) from None


def has_checkpoint(output: str | os.PathLike[str]) -> bool:
    return checkpoints.has_checkpoint(output)


def check_resume_or_force(resume: bool, force: bool) -> None:
    if resume and force:
        raise UsageError('--resume continues the run in the output directory and --force '
                         'starts it over: give one of them')


def check_run_folder(output: str, resume: bool, force: bool) -> None:
    """What claim() would refuse in a run's folder, checked by a parent ahead of the
    process that will train the run (and take the folder) itself; changes nothing.  Of
    a checkpoint --resume continues, only its manifest is read: the worker reads the
    checkpoint once."""
    check_resume_or_force(resume, force)
    check_writable_directory('--output', output)
    locking.check_free(output)       # before the checks below: a live run changes
    check_contents(output, resume, force)
    if resume and checkpoints.has_checkpoint(output):
        checkpoints.read_manifest(output)
    else:
        existing_run(output, resume, force)


def check_contents(output: str, resume: bool, force: bool = False) -> None:
    """A UsageError for what a run must not touch in `output`: something named like a part
    of a checkpoint that our writes cannot have made (a link, a FIFO, a folder of the
    user's files), or checkpoints whose manifest is lost (which a run would otherwise
    take for the leftovers of a killed save, and remove)."""
    for path in checkpoints.foreign(output):
        raise FileError(f'--output {output}: {os.path.basename(path)} is named like a part of a '
                         f'run, but it is {what_is(path)}, which training does not write; move '
                         f'it away (nothing was changed)')
    if force or checkpoints.has_checkpoint(output):
        return
    unnamed = [os.path.basename(path) for path in checkpoints.unnamed(output)]
    # The one checkpoint a kill can leave without a manifest: the first one, killed
    # between its rename and the switch, before log.csv was first written.
    if unnamed and (unnamed != [checkpoints.directory_name(1)]
                    or os.path.lexists(os.path.join(output, LOG_FILE))):
        raise FileError(f'{"--resume: " if resume else ""}{output} holds {", ".join(unnamed)} '
                         f'but no {checkpoints.MANIFEST}, the manifest that names the current '
                         f'checkpoint and its checksums: the run is damaged, nothing was changed '
                         f'(start over with --force)')


def what_is(path: str) -> str:
    """'a symbolic link', 'a FIFO', 'a folder that holds notes.txt', ... for foreign()."""
    mode = os.lstat(path).st_mode
    if stat.S_ISDIR(mode):
        others = sorted(set(os.listdir(path)) - set(checkpoints.CHECKPOINT_FILES))
        return f'a folder that holds {others[0]}' if others else 'a folder of links or folders'
    return files.kind_of(mode)


def existing_run(output: str, resume: bool, force: bool) -> Checkpoint | None:
    """Refuse to mix a new run into an old one: the checkpoint that --resume continues
    in `output`, or None for a run that starts at epoch 1."""
    check_contents(output, resume, force)
    if force:
        return None
    if resume:
        if checkpoints.has_old_checkpoint(output) and not checkpoints.has_checkpoint(output):
            raise UsageError(f'--resume: {output} holds a checkpoint of the earlier format '
                             f'({" + ".join(checkpoints.OLD_FILES)}), which is a pickle and is not '
                             f'loaded (it could run code); start the run over with --force')
        checkpoint = checkpoints.load(output)
        if checkpoint is None and not os.path.exists(os.path.join(output, RUN_FILE)):
            raise UsageError(f'--resume: {output} has no checkpoint and no {RUN_FILE}: there is '
                             f'no run to continue')
        return checkpoint
    existing = [name for name in (checkpoints.MANIFEST, *checkpoints.OLD_FILES)
                if os.path.lexists(os.path.join(output, name))]
    if existing:
        raise UsageError(f'{output} holds a run already ({", ".join(existing)}); add --resume to '
                         f'continue it or --force to start it over')
    return None



@dataclass(frozen=True)
class Claim:
    """A run directory taken for a run: checked, locked by this process (rank 0), and the
    checkpoint that --resume continues, read (None for a run that starts at epoch 1)."""
    output: str
    checkpoint: Checkpoint | None


@contextlib.contextmanager
def claim(output: str, resume: bool = False, force: bool = False) -> Iterator[Claim]:
    """Take `output` for a run until the block ends: check once that it can be written,
    lock it (rank 0 of paddle.distributed.launch; the other ranks only check), and read
    the checkpoint --resume continues, once.  A UsageError says what is in the way."""
    output = os.fspath(output)
    check_resume_or_force(resume, force)
    check_writable_directory('--output', output)
    _, rank = processes()
    with locking.owning(output) if rank == 0 else contextlib.nullcontext():
        yield Claim(output, existing_run(output, resume, force))
