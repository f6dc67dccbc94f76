"""A run's output directory: what it holds besides the checkpoint (log.csv, run.json),
how those are written and read, and the checks before a run takes the directory.

  .lock            the run lock (training/locking.py): the live run's pid
  run.json         what the run is (network, data, settings)
  log.csv          one row per epoch up to the current checkpoint (LOG_COLUMNS)
  checkpoint.json  and checkpoint-000K/: the checkpoint (training/checkpoints.py)
"""
import csv
import io
import json
import os

from resnet_tools.errors import UsageError
from resnet_tools.files import check_writable_directory
from resnet_tools.training import checkpoints, locking


LOG_FILE, RUN_FILE = 'log.csv', 'run.json'


LOG_COLUMNS = ('epoch', 'lr', 'train_loss', 'train_error', 'test_loss', 'test_error', 'seconds')


def format_log(rows):
    lines = io.StringIO()
    writer = csv.writer(lines, lineterminator='\n')
    writer.writerow(LOG_COLUMNS)
    for row in rows:
        writer.writerow([row['epoch'], f"{row['lr']:.6g}",
                         *(f'{row[key]:.6f}' for key in LOG_COLUMNS[2:-1]), f"{row['seconds']:.2f}"])
    return lines.getvalue()


def read_log(path):
    """The rows of a log.csv, as dicts of numbers (epoch an int)."""
    with open(path, newline='', encoding='utf-8') as file:
        rows = list(csv.DictReader(file))
    return [{key: int(value) if key == 'epoch' else float(value) for key, value in row.items()}
            for row in rows]


def read_run(directory):
    """The run.json of a run directory, or {} for a log that came without one."""
    path = os.path.join(directory, RUN_FILE)
    if not os.path.isfile(path):
        return {}
    with open(path, encoding='utf-8') as file:
        return json.load(file)


def describe_row(row, epochs):
    return (f"epoch {row['epoch']}/{epochs}  lr {row['lr']:.6g}  "
            f"train loss {row['train_loss']:.4f} error {100 * row['train_error']:.2f} %  "
            f"test loss {row['test_loss']:.4f} error {100 * row['test_error']:.2f} %  "
            f"{row['seconds']:.1f} s")


def has_checkpoint(output):
    return checkpoints.has_checkpoint(output)


def prepare_output(output, resume, force, rank=0):
    """Refuse to mix a new run into an old one, or to touch a live run's directory;
    changes nothing.  Returns the checkpoint that --resume continues, or None."""
    if resume and force:
        raise UsageError('--resume continues the run in the output directory and --force '
                         'starts it over: give one of them')
    check_writable_directory('--output', output)
    if rank == 0:
        locking.check_free(output)       # before the checks below: a live run changes
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
