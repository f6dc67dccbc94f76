"""What the reproduction's tests share: where things are, and how to run a script as a
user does.  (Fixtures are conftest.py's; paddleinfo's own tests, in tests/paddleinfo/,
share nothing of this.)"""
import functools
import importlib.util
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys

from summaries import count_params  # noqa: F401  (one copy: paddleinfo's tests need it alone)

REPO = pathlib.Path(__file__).resolve().parents[1]
# The article's tables, copied into the repository (see tests/golden/README.md).
GOLDEN = REPO / 'tests' / 'golden'


def run_script(name, *args, timeout=300):
    """Run scripts/<name> in a fresh Python, as `python scripts/<name> args...`."""
    return subprocess.run([sys.executable, str(REPO / 'scripts' / name), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=REPO)


def load_script(name):
    """scripts/<name> as a module, to call its main() in this process (e.g. with a
    patched function); `name` is e.g. 'train.py'.  Its first import, scripts/_bootstrap.py,
    is found as a script finds it: in the script's own folder."""
    if '_bootstrap' not in sys.modules:
        sys.modules['_bootstrap'] = module_from(REPO / 'scripts' / '_bootstrap.py', '_bootstrap')
    path = REPO / 'scripts' / name
    return module_from(path, f'{path.stem}_script')


def write_finished_run(directory, train_errors, test_errors, record=None, seconds=1.5):
    """A finished run as train.py leaves it in a new `directory`: log.csv, one
    epoch per error, and run.json if `record` (a training.RunRecord) is given."""
    from resnet_tools import training
    from resnet_tools.training.run_directory import write_run
    directory.mkdir(parents=True)
    rows = [training.LogRow(epoch + 1, 0.1, 1.0, train, 1.0, test, seconds)
            for epoch, (train, test) in enumerate(zip(train_errors, test_errors))]
    (directory / training.LOG_FILE).write_text(training.format_log(rows))
    if record is not None:
        write_run(str(directory), record)


def module_from(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def summary_script():
    """scripts/summary.py as a module, loaded once."""
    return load_script('summary.py')


def summarize(*argv):
    """What `python scripts/summary.py argv...` prints, made in this process."""
    from resnet_tools.views import summary
    args = summary_script().parse_args(list(argv))
    return summary.produce(summary.check_request(vars(args)))


TOTAL_LINES = {'Total params': 'total_params', 'Trainable params': 'trainable_params',
               'Non-trainable params': 'non_trainable_params'}


def printed_totals(text):
    """The totals paddle.summary's text prints ('Total params: 25,610,152'), by key."""
    found = {}
    for line in text.splitlines():
        name, _, value = line.partition(': ')
        if name in TOTAL_LINES:
            found[TOTAL_LINES[name]] = int(value.replace(',', ''))
    return found


# --- a kill at a file operation ---------------------------------------------------------------
# A kill is simulated in a forked child that calls os._exit at the N-th file operation:
# like SIGKILL it runs no `finally` and no cleanup, and the kernel drops its flocks.

KILLED = 137
# The file operations a writer of ours makes, at each of which a kill can come.
FILE_OPERATIONS = ('write', 'fsync', 'rename', 'replace', 'mkdir', 'remove', 'unlink', 'rmdir')
CHILD_SECONDS = 120     # a child that hangs (e.g. in a thread pool after fork) fails the test
_real_write = os.write


def in_child(work):
    """Run work() in a forked child; (exit status, what it returned, through JSON, or its
    repr where JSON has no form for it) once it ends."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:                                      # the child
        os.close(read)
        signal.alarm(CHILD_SECONDS)
        code = 0
        try:
            answer = work()
        except BaseException as error:  # noqa: BLE001 - reported to the parent
            code, answer = 3, f'{type(error).__name__}: {error}'
        _real_write(write, json.dumps(answer, default=repr).encode())
        os._exit(code)
    os.close(write)
    with os.fdopen(read, 'rb') as pipe:
        answer = pipe.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), json.loads(answer) if answer else None


def kill_at(point, folder=None, operations=FILE_OPERATIONS):
    """Patch the file operations of this (child) process, only those on what is in
    `folder` if one is given: the `point`-th one is not done (a write is done half) and
    the process ends at once.  Returns the count, a list, which the operations update."""
    count = [0]
    folder = os.path.abspath(folder) if folder is not None else None

    def inside(argument):
        if isinstance(argument, int):       # a descriptor: what it is open on
            try:
                argument = os.readlink(f'/proc/self/fd/{argument}')
            except OSError:
                return False
        return (isinstance(argument, (str, os.PathLike))
                and os.path.commonpath([os.path.abspath(argument), folder]) == folder)

    def patched(name, original):
        def operation(*args, **kwargs):
            if folder is not None and not any(inside(argument) for argument in args[:2]):
                return original(*args, **kwargs)
            count[0] += 1
            if count[0] == point:
                if name == 'write':   # a torn write: half the bytes reach the file
                    descriptor, data = args
                    original(descriptor, bytes(data[:len(data) // 2]))
                os._exit(KILLED)
            return original(*args, **kwargs)
        return operation
    for name in operations:
        setattr(os, name, patched(name, getattr(os, name)))
    shutil.rmtree = patched('rmtree', shutil.rmtree)
    return count
