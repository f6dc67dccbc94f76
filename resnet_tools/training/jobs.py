"""Independent training runs side by side: N worker processes, one math thread each.

Paddle's CPU training gains nothing from a second math thread (1.00x to 1.04x on
2 cores), but the runs of an experiment are independent, so the cores are used by
running them as separate processes.  Every worker trains with one thread, so a
network's log and weights are bitwise those of a run with --jobs 1, whatever ran
beside it.

    outcomes = run_jobs([Job('ResNet-20', 'runs/a', networks.train_job, {...}), ...], workers=2)

A job is a module-level function (so that a spawned process can import it) called
as function(progress=..., report=..., **arguments) in a worker that holds the lock
of the job's folder (training.train takes it); it returns something picklable, a dict
whose `summary` attribute ends the job's 'done' line.  The parent collects:
  - each job's lines (`report`), printed as '<name>: <line>';
  - its outcome: ('done', result), ('failed', one line), or ('stopped', one line);
  - on a terminal, one progress bar per running job.
A failing job is one line; the others go on.  SIGINT or SIGTERM stops every worker at
the next step boundary: the checkpoint of its last finished epoch stays.  The parent
alone hears the signal (each worker has a process group of its own, away from the
terminal's Ctrl-C) and passes it on to every worker once.  A worker starts with both
signals blocked, so that one sent while it still imports Python and Paddle waits until
its handler is in place: a stop request, not a KeyboardInterrupt's traceback.  A signal
the program was started with ignored (a background job's SIGINT) stays ignored, here
and in the workers.
"""
import multiprocessing
import os
import queue
import signal
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, cast

from paddleinfo.arguments import check_range
from resnet_tools.errors import Stop, UsageError

THREADS_PER_WORKER = 1
POLL_SECONDS = 0.2
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass(frozen=True)
class Job:
    name: str          # what the user reads: 'ResNet-56'
    output: str        # its run folder, which the worker owns while the job runs
    function: Callable[..., Any]   # module-level: function(progress=, report=, **arguments)
    arguments: dict[str, Any] = field(default_factory=dict)


class StopRequested(Exception):
    """Raised in a worker at a step boundary after SIGINT or SIGTERM."""


def check_workers(workers: int) -> int:
    check_range('--jobs', workers, 1)
    return workers


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# ---- the worker side ----------------------------------------------------------------

_stop_requested = False
_parent: int | None = None       # the parent's pid: a worker whose parent has died stops too


def _ask_to_stop(signum: int, frame: FrameType | None) -> None:
    global _stop_requested
    _stop_requested = True


def _should_stop() -> bool:
    return _stop_requested or os.getppid() != _parent


def handle_unless_ignored(handler: Callable[[int, FrameType | None], Any]) -> dict[int, Any]:
    """Install `handler` for each of STOP_SIGNALS that is not ignored; {number: the
    handler before}.  A program started with a signal ignored (`cmd &` ignores SIGINT,
    nohup SIGHUP) was asked not to be stopped by it."""
    return {number: signal.signal(number, handler) for number in STOP_SIGNALS
            if signal.getsignal(number) is not signal.SIG_IGN}


class _Bar:
    """What training.train_epoch asks of a progress bar, sent to the parent; every
    update() is a step boundary, where a requested stop takes effect."""

    def __init__(self, events: 'multiprocessing.queues.Queue[Any]', index: int, total: int,
                 description: str, shown: bool) -> None:
        self.events, self.index, self.total, self.description = events, index, total, description
        self.shown, self.done, self.postfix = shown, 0, ''
        self.epoch = int(description.split()[1].split('/')[0]) if description.startswith('epoch ') \
            else None
        self._send()

    def _send(self) -> None:
        if self.shown:
            self.events.put(('progress', self.index, self.description, self.done, self.total,
                             self.postfix))

    def set_postfix(self, refresh: bool = False, **values: Any) -> None:
        self.postfix = ', '.join(f'{key}={value}' for key, value in values.items())

    def update(self, steps: int = 1) -> None:
        self.done += steps
        self._send()
        if _should_stop():
            raise StopRequested(self.epoch)

    def close(self) -> None:
        pass


def _worker(slot: int, tasks: 'multiprocessing.queues.Queue[Any]',
            events: 'multiprocessing.queues.Queue[Any]', shown: bool) -> None:
    """A worker process: take jobs from `tasks` until None, report on `events`."""
    global _parent
    _parent = os.getppid()
    # A process group of its own: a terminal's Ctrl-C goes to the foreground group, and
    # a worker in it would get the signal twice, from the terminal and from the parent
    # (which forwards it), and take the second for a user's "stop at once".  The parent
    # alone hears the terminal now, and tells each worker once.
    os.setpgrp()
    # Blocked since the parent made this process (run_jobs): a signal sent while Python
    # and Paddle were importing has waited, and arrives now, as a stop request.
    handle_unless_ignored(_ask_to_stop)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    try:
        import paddle
        paddle.base.core.set_num_threads(THREADS_PER_WORKER)
    except Exception:   # noqa: BLE001 (a job that needs paddle reports the failure itself)
        pass
    while True:
        item = tasks.get()
        if item is None:
            return
        index, job = item
        if _should_stop():
            events.put(('stopped', index, None))
            continue
        events.put(('started', index, slot))
        try:
            # The job's own training.train holds the lock of its folder (locking.owning)
            # and turns SIGINT and SIGTERM into a Stop at the next step boundary.
            result = job.function(
                progress=lambda total, text: _Bar(events, index, total, text, shown),
                report=lambda line: events.put(('line', index, line)), **job.arguments)
            events.put(('done', index, result))
        except StopRequested as stop:
            events.put(('stopped', index, stop.args[0]))
        except Stop as stop:
            events.put(('stopped' if stop.code > 128 else 'failed', index, str(stop)))
        except UsageError as error:
            events.put(('failed', index, str(error)))
        except Exception as error:   # noqa: BLE001 (one line for the user, the others go on)
            where = traceback.extract_tb(error.__traceback__)[-1]
            events.put(('failed', index, f'{type(error).__name__}: {error} '
                                         f'({os.path.basename(where.filename)}:{where.lineno})'))


# ---- the parent side ----------------------------------------------------------------

class _Display:
    """Lines on stdout; on a terminal, one tqdm bar per worker on stderr as well."""

    def __init__(self, workers: int, shown: bool, report: Callable[[str], None]) -> None:
        self.report, self.bars = report, []
        if shown:
            from tqdm import tqdm
            self.bars = [tqdm(total=1, position=slot, file=sys.stderr, leave=False,
                              bar_format='{desc} {bar} {n_fmt}/{total_fmt}{postfix}')
                         for slot in range(workers)]
            self.write = lambda line: tqdm.write(line, file=sys.stdout)
        else:
            self.write = report

    def progress(self, slot: int | None, name: str, description: str, done: int, total: int,
                 postfix: str) -> None:
        if slot is None or slot >= len(self.bars):
            return
        bar = self.bars[slot]
        if bar.total != total:
            bar.reset(total=total)
        bar.n = done
        bar.set_description_str(f'{name} {description}', refresh=False)
        bar.set_postfix_str(postfix, refresh=False)
        bar.refresh()

    def idle(self, slot: int | None) -> None:
        if slot is not None and slot < len(self.bars):
            self.bars[slot].reset(total=1)
            self.bars[slot].set_description_str('', refresh=False)
            self.bars[slot].set_postfix_str('')

    def close(self) -> None:
        for bar in self.bars:
            bar.close()


class Outcomes(dict[str, tuple[str, Any]]):
    """{job name: outcome}, and the signal that stopped the run (or None)."""
    signal: int | None = None


def run_jobs(jobs: Sequence[Job], workers: int, report: Callable[[str], None] = print,
             shown: bool = False, title: str | None = None) -> Outcomes:
    """Run `jobs` in min(workers, len(jobs)) processes; {job name: outcome}.

    An outcome is ('done', result), ('failed', message) or ('stopped', epoch or None),
    None when the job had not started.  `report(line)` gets every line, `title` first,
    once a signal is a stop request (what a user who reads it and presses Ctrl-C gets);
    `shown` draws progress bars on stderr."""
    check_workers(workers)
    workers = min(workers, len(jobs))
    stopping: list[int] = []

    def stop(signum: int, frame: FrameType | None) -> None:
        # Only noted: the loop below tells the workers, once every one of them exists.
        stopping.append(signum)

    previous = handle_unless_ignored(stop)     # first: from here a signal is a stop request
    processes: list[multiprocessing.context.SpawnProcess] = []
    display = _Display(workers, shown, report)
    slots: dict[int, int]
    outcomes, slots, told = Outcomes(), {}, False
    try:
        if title is not None:
            display.write(title)
        context = multiprocessing.get_context('spawn')
        tasks, events = context.Queue(), context.Queue()
        for item in enumerate(jobs):
            tasks.put(item)
        for _ in range(workers):
            tasks.put(None)
        _start_workers(context, workers, tasks, events, shown, processes)
        while len(outcomes) < len(jobs):
            if stopping and not told:
                told = True
                for process in processes:
                    if process.pid is not None and process.is_alive():
                        os.kill(process.pid, stopping[0])
            try:
                kind, index, *rest = events.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if not any(process.is_alive() for process in processes):
                    _lost(jobs, outcomes, slots, processes, display)
                continue
            job = jobs[index]
            if kind == 'started':
                slots[index] = rest[0]
                display.write(f'{job.name}: training into {job.output}')
            elif kind == 'line':
                display.write(f'{job.name}: {rest[0]}')
            elif kind == 'progress':
                display.progress(slots.get(index), job.name, *rest)
            else:
                outcomes[job.name] = (kind, rest[0])
                display.idle(slots.get(index))
                display.write(describe_outcome(job, kind, rest[0]))
        for process in processes:
            process.join()
        outcomes.signal = stopping[0] if stopping else None
    finally:
        display.close()
        for number, handler in previous.items():
            signal.signal(number, handler)
        for process in processes:
            if process.is_alive():
                process.kill()
    return outcomes


def _start_workers(context: multiprocessing.context.SpawnContext, workers: int,
                   tasks: 'multiprocessing.queues.Queue[Any]',
                   events: 'multiprocessing.queues.Queue[Any]', shown: bool,
                   processes: list[multiprocessing.context.SpawnProcess]) -> None:
    """Start `workers` worker processes into `processes`, each with one math thread.

    A child inherits the signal mask through fork and exec: each starts with SIGINT and
    SIGTERM blocked, and unblocks them once it handles them (_worker)."""
    saved = {name: os.environ.get(name) for name in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS')}
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        os.environ.update({name: str(THREADS_PER_WORKER) for name in saved})
        for slot in range(workers):
            process = context.Process(target=_worker, args=(slot, tasks, events, shown),
                                      daemon=True)
            process.start()
            processes.append(process)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _lost(jobs: Sequence[Job], outcomes: Outcomes, slots: Mapping[int, int],
          processes: Sequence[multiprocessing.process.BaseProcess], display: _Display) -> None:
    """Every worker has ended, some jobs unreported: a worker was killed or crashed."""
    codes = sorted({cast(int, process.exitcode) for process in processes})   # all have ended
    for index, job in enumerate(jobs):
        if job.name not in outcomes:
            message = (f'its worker process ended with exit code {", ".join(map(str, codes))}'
                       if index in slots else 'not run: every worker process had ended')
            outcomes[job.name] = ('failed', message)
            display.write(describe_outcome(job, 'failed', message))


def describe_outcome(job: Job, kind: str, detail: Any) -> str:
    if kind == 'done':
        summary = getattr(detail, 'summary', None)
        return f'{job.name}: done' + (f'; {summary}' if summary else '')
    if kind == 'failed':
        return f'{job.name}: failed: {detail}'
    if detail is None:
        return f'{job.name}: stopped before it started; start it with --resume'
    if isinstance(detail, str):   # training.train's own line
        return f'{job.name}: {detail}'
    if detail <= 1:
        return (f'{job.name}: stopped in epoch {detail}, before its first checkpoint; rerun it '
                f'with --resume')
    return (f'{job.name}: stopped in epoch {detail}; the last checkpoint is epoch {detail - 1}; '
            f'continue with --resume')


def wall_time(start: float, count: int, noun: str, workers: int) -> str:
    """The closing line of a run of `count` `noun`s begun at time.perf_counter() `start`."""
    minutes, seconds = divmod(round(time.perf_counter() - start), 60)
    return (f'wall time {minutes} min {seconds} s for {count} {noun}{"s" * (count > 1)}, '
            f'{workers} at a time')


def exit_code(outcomes: Mapping[str, tuple[str, Any]]) -> int:
    """128 + the signal if the run was stopped (130 for Ctrl-C, 143 for SIGTERM), even
    one whose jobs had all ended when the signal came; 1 if a job failed, else 0."""
    kinds = {kind for kind, _ in outcomes.values()}
    number = getattr(outcomes, 'signal', None)
    if 'stopped' in kinds or number:
        return 128 + (number or signal.SIGINT)
    return 1 if 'failed' in kinds else 0
