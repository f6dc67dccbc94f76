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
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, cast

from resnet_tools import files
from resnet_tools.errors import UsageError
from resnet_tools.files import check_writable_directory
from resnet_tools.training import checkpoints, locking
from resnet_tools.training.checkpoints import Checkpoint
from resnet_tools.training.distributed import processes
from resnet_tools.training.settings import Settings

LOG_FILE, RUN_FILE = 'log.csv', 'run.json'
LOG_COLUMNS = ('epoch', 'lr', 'train_loss', 'train_error', 'test_loss', 'test_error', 'seconds')


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


def read_log(path: str | os.PathLike[str]) -> list[LogRow]:
    """The rows of a log.csv."""
    with open(path, newline='', encoding='utf-8') as file:
        rows = list(csv.DictReader(file))
    return [LogRow(**cast(dict[str, Any], {key: int(value) if key == 'epoch' else float(value)
                                           for key, value in row.items()})) for row in rows]


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
    def from_dict(cls, record: Mapping[str, Any]) -> 'RunRecord':
        settings = dict(record['settings'])
        settings['milestones'] = tuple(settings['milestones'])
        fixed = {item.name for item in fields(cls)} - {'details'}
        return cls(record['model'], record['params'], record['processes'], record['device'],
                   Settings(**settings), record['data_description'],
                   {key: value for key, value in record.items() if key not in fixed})


def write_run(output: str, record: RunRecord) -> None:
    files.write_bytes(os.path.join(output, RUN_FILE), json.dumps(record.to_dict(), indent=1) + '\n')


def read_run(directory: str | os.PathLike[str]) -> RunRecord | None:
    """The run.json of a run directory, or None for a log that came without one."""
    path = os.path.join(directory, RUN_FILE)
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding='utf-8') as file:
            return RunRecord.from_dict(json.load(file))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise UsageError(f'{path} is not the run.json of a run of this repository '
                         f'({type(error).__name__}: {error})') from None


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
    if resume and checkpoints.has_checkpoint(output):
        checkpoints.read_manifest(output)
    else:
        existing_run(output, resume, force)


def existing_run(output: str, resume: bool, force: bool) -> Checkpoint | None:
    """Refuse to mix a new run into an old one: the checkpoint that --resume continues
    in `output`, or None for a run that starts at epoch 1."""
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
                if os.path.exists(os.path.join(output, name))]
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
