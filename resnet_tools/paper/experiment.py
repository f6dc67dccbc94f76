"""An experiment of the paper: several training runs of the CIFAR-10 networks into one
output folder, side by side in worker processes, and what they left behind.

scripts/degradation.py (Figure 6) and scripts/shortcuts.py (Table 3) differ only in
which runs they plan; both train them with `train_all`, which checks every run's folder
and reads the data before it touches the output folder, holds the lock of the output
folder, prints one line per event, and returns the exit code of the runs (0, or 1 if
some failed), or raises the Stop of a run that was stopped or whose runs all failed:

    code = train_all(Experiment(runs, 'ResNet-20, shortcuts A B C', 'run'), source,
                     'runs/shortcuts', workers=2)
"""
import os
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from resnet_tools.errors import FileError, Stop
from resnet_tools.files import check_writable_directory
from resnet_tools.paper.networks import train_job
from resnet_tools.training import (DataSource, LogRow, RunRecord, Settings, jobs, locking,
                                   read_log, read_run, run_directory, set_device)


@dataclass(frozen=True)
class PlannedRun:
    """One run of an experiment: its folder in the output folder, the name its lines
    carry, the network and how it trains."""
    folder: str
    name: str
    arch: str
    settings: Settings
    shortcut: str | None = None


@dataclass(frozen=True)
class Experiment:
    """The runs of an experiment, in the order they start; `title` names them in the
    first line, `noun` ('network', 'run') counts them in the last."""
    runs: Sequence[PlannedRun]
    title: str
    noun: str


def train_all(experiment: Experiment, source: DataSource, output: str, workers: int,
              resume: bool = False, force: bool = False, device: str = 'cpu',
              shown: bool = False, report: Callable[[str], None] = print) -> int:
    """Train every run of `experiment` into output/<folder>, `workers` at a time, each in
    a process of its own with one math thread; the exit code of the runs: 0, or 1 if
    some failed.  A Stop (one line, the exit code its own) if a signal stopped them (130
    or 143) or every run failed (1).

    Every run's folder is checked, and the data read, before the output folder is
    touched: a mistake is one UsageError that leaves the folder as it was (no .lock), not
    a failure an hour later.  --resume continues the runs that have a checkpoint and
    starts the others."""
    for settings in {run.settings for run in experiment.runs}:
        settings.check()
    set_device(device)
    check_writable_directory('--output', output)
    locking.check_free(output)   # in use: said first, as the lock would say it
    tasks = []
    for run in experiment.runs:
        # Read only, and checked again by the worker, which takes the folder (claim).
        path = os.path.join(output, run.folder)
        if os.path.islink(path):
            # A received folder's link would have the run write, and --force remove,
            # files outside the output folder.
            raise FileError(f'--output {output}: {run.folder} is a symbolic link, not the folder '
                             f'of a run; move it away (nothing was changed)')
        started = resume and run_directory.has_checkpoint(path)
        run_directory.check_run_folder(path, started, force)
        tasks.append(jobs.Job(run.name, path, train_job,
                              {'arch': run.arch, 'source': source, 'settings': run.settings,
                               'output': path, 'shortcut': run.shortcut, 'resume': started,
                               'force': force, 'device': device}))
    # Read whole here, so that a bad file or size is refused now rather than by every
    # worker; only its description is kept (each worker reads its own copy).
    data = source.load().describe()
    workers = min(workers, len(experiment.runs))
    with locking.owning(output):
        start = time.perf_counter()
        outcomes = jobs.run_jobs(tasks, workers, report=report, shown=shown,
                                 title=f'{experiment.title} on {data}; {workers} at a time')
        report(jobs.wall_time(start, len(experiment.runs), experiment.noun, workers))
        # Raised in the block: a folder made here that nothing was written to goes again.
        code = jobs.exit_code(outcomes)
        if code > 128:
            raise Stop(f'stopped by {signal.Signals(code - 128).name}; the last checkpoint of '
                       f'each {experiment.noun} is kept; continue with --resume', code)
        if all(kind == 'failed' for kind, _ in outcomes.values()):
            raise Stop(f'error: every {experiment.noun} failed (the lines above say why)', 1)
    return code


@dataclass(frozen=True)
class FinishedRun:
    """What a run left in its folder: its run.json (None for a log that came without one)
    and its log."""
    record: RunRecord | None
    log: list[LogRow]

    @property
    def last(self) -> LogRow:
        return self.log[-1]

    @property
    def params(self) -> int | None:
        return self.record.params if self.record else None

    @property
    def data(self) -> str:
        """The data it trained on, '?' where its run.json does not say."""
        return self.record.details.get('data', '?') if self.record else '?'


def finished(folder: str | os.PathLike[str]) -> FinishedRun | None:
    """The FinishedRun in `folder`, or None where it holds no log."""
    log = os.path.join(folder, run_directory.LOG_FILE)
    if not os.path.isfile(log):
        return None
    return FinishedRun(read_run(folder), read_log(log))
