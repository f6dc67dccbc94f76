"""The command-line vocabulary of the `paddleinfo` command, shared by every command of
the clone (scripts/ take it through resnet_tools.cli): the parser, the one-line error,
the runner, quiet Paddle, and each kind of flag defined once, with one message for each
kind of mistake.

    parser = ArgumentParser(prog='tool')
    add_integer(parser, '--depth', low=1, high=32, help='...')   # int, checked as parsed
    add_choice(parser, '--format', FORMATS, default='plain', help='...')

A flag's value is checked while argparse reads it: a mistake is a UsageError, which
`run` turns into one line on stderr and exit code 2:

    tool: error: --depth 0 is out of range: from 1 to 32 (see --help)
    tool: error: --depth ten is not an integer (see --help)
    tool: error: --format xml is not known; choose from plain, github, ... (see --help)

Nothing here imports Paddle, so that a command can quieten it first.
"""
import argparse
import contextlib
import errno
import functools
import math
import os
import re
import signal
import sys
import tempfile
import threading
import types
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NoReturn

from paddleinfo.errors import UsageError
from paddleinfo.errors import ArgumentError
from paddleinfo.view import (COLUMNS, DEFAULT_OPTIMIZER, DEFAULT_RUNS, DEFAULT_WARMUP,
                             FLOAT_DTYPES, FORMATS, MODES, OPTIMIZERS, TABLES, Step, Trace, View)

# Messages Paddle prints that are about Paddle's own setup, not about the user's input.
PADDLE_NOISE = (
    r'No ccache found',
    r'When training, we now always track global mean and variance',
)


@contextlib.contextmanager
def paddle_notes_hidden() -> Iterator[None]:
    """Paddle's notes about itself hidden within the block only: for a library's own calls,
    where quiet_paddle, which is for a program, would reach too far."""
    with warnings.catch_warnings():
        for message in PADDLE_NOISE:
            warnings.filterwarnings('ignore', message=message)
        yield


# A note Paddle's C++ logs (glog) straight to the process's stderr, at INFO or WARNING:
# 'W1206 21:17:16.658875  4415 eager_utils.cc:3584] Paddle static graph(PIR) not support
# input out tensor for now!!!!!', which F.softmax in the static graph logs, say.
PADDLE_LOG = re.compile(rb'[IW]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ [\w.]+\.(cc|h):\d+\] ')


@contextlib.contextmanager
def paddle_logs_hidden() -> Iterator[None]:
    """Paddle's C++ notes about itself (PADDLE_LOG), logged while inside, are dropped;
    anything else written to the process's stderr meanwhile (a model's own print to
    sys.stderr, a C++ error) is written there when the block ends.  For a library's calls
    that trace a model, where the GLOG_minloglevel that quiet_paddle sets for a program
    comes too late.  Where stderr cannot be captured, nothing is hidden."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    capture = tempfile.TemporaryFile()
    try:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(OSError, ValueError, AttributeError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            capture.seek(0)
            kept = [line for line in capture.read().splitlines(keepends=True)
                    if not PADDLE_LOG.match(line)]
            if kept:
                with contextlib.suppress(OSError):
                    os.write(2, b''.join(kept))
    finally:
        os.close(saved)
        capture.close()


def quiet_paddle() -> None:
    """Hide Paddle's notes about itself; for a program, before Paddle is imported."""
    for message in PADDLE_NOISE:
        warnings.filterwarnings('ignore', message=message)
    os.environ.setdefault('GLOG_minloglevel', '2')


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        fail(self.prog, message)

    def _print_message(self, message: str, file: Any = None) -> None:
        # argparse's own drops an OSError: --help onto a full disk would print nothing
        # and exit 0.  Raised, `run` says so.
        if message:
            (file or sys.stderr).write(message)


def fail(prog: str, message: str, see_help: bool = True) -> NoReturn:
    """'<prog>: error: <message>' on stderr and exit code 2; with '(see --help)' after
    it for a mistake in the command line, which the help can put right."""
    # One line whatever a value in it holds: `--output $'x\\n'` is shown as x\\n.
    message = ''.join(character if character.isprintable() else repr(character)[1:-1]
                      for character in message)
    sys.stderr.write(f'{prog}: error: {message}{" (see --help)" if see_help else ""}\n')
    sys.exit(2)


def causes(error: BaseException) -> Iterator[BaseException]:
    """What `error` was raised from or while handling, and what that was, and so on."""
    seen = {id(error)}
    cause = error.__cause__ or error.__context__
    while cause is not None and id(cause) not in seen:
        yield cause
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__


def of_the_system(error: BaseException) -> bool:
    """Whether `error` came of an OSError (a full disk, a folder that takes no files, a
    lock that another process holds): then the state of the files, disks or processes
    is at fault, which no flag of --help puts right."""
    return any(isinstance(cause, OSError) for cause in causes(error))


# What writing the standard output raises when it cannot: a full disk or quota, an I/O
# error, and a reader that has gone (EPIPE: `| head -1` has what it wanted).
OUTPUT_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EPIPE})
BROKEN_PIPE_CODE = 141    # 128 + SIGPIPE: what the shell shows for a writer the pipe ended


class Terminated(BaseException):
    """SIGTERM, raised as Python raises KeyboardInterrupt for SIGINT (see run)."""


_terminated: list[bool] = []     # whether SIGTERM came, however the code it stopped fared


def _terminate(number: int, frame: types.FrameType | None) -> None:
    _terminated.append(True)
    raise Terminated


@contextlib.contextmanager
def sigterm_raises() -> Iterator[None]:
    """While the block runs, SIGTERM raises Terminated instead of killing the process
    silently, where its handler is the default one (an ignored SIGTERM stays ignored, a
    program's own handler stays its own); put back afterwards."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL):
        yield
        return
    signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def run(main: Callable[[], Any], prog: str) -> Any:
    """Run main(), turning a UsageError into the one-line error and exit code 2, and a
    Ctrl-C or SIGTERM into one line and exit code 130 or 143 (the shell's codes for
    them), not a traceback.

    A standard output that cannot be written (`> /dev/full`) is one line and exit code
    2 too, and one whose reader has gone (`| head -1`) ends quietly, with code 141."""
    script = bool(_until_run)     # started as a script: run() is all there is left to do
    _terminated.clear()
    for number, handler in _until_run.items():   # stop_quietly_until_run's time is over
        signal.signal(number, handler)
    _until_run.clear()
    try:
        with sigterm_raises():     # the output's flush included: a SIGTERM there ends in one line
            try:
                return main()
            finally:
                if sys.stdout is not None:
                    # Now, where a failure is caught below, not as Python exits, where it
                    # would be an 'Exception ignored' and exit code 120.
                    sys.stdout.flush()
    except (UsageError, KeyboardInterrupt, Terminated) as error:
        # A signal raised inside a call of C code can come out as another error (a
        # SystemError, which a model's factory reports as its failure): still the signal.
        # (C code may also drop it and raise its own error: _terminated remembers.)
        for stop in (error, *causes(error), *(Terminated() for _ in _terminated[:1])):
            if isinstance(stop, (KeyboardInterrupt, Terminated)):
                words, code = SIGNAL_ENDINGS[signal.SIGINT if isinstance(stop, KeyboardInterrupt)
                                             else signal.SIGTERM]
                sys.stderr.write(f'{prog}: {words}\n')
                sys.exit(code)
        assert isinstance(error, UsageError)
        fail(prog, str(error), see_help=error.see_help and not of_the_system(error))
    except OSError as error:
        # A write to a named file has a filename, or came as a UsageError.
        if error.errno not in OUTPUT_ERRORS or error.filename is not None:
            raise
        with contextlib.suppress(OSError, ValueError):   # (no descriptor: a test's capture)
            # What stdout still buffers goes there, quietly, as Python exits.
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, sys.stdout.fileno())
            os.close(null)
        if error.errno == errno.EPIPE:
            sys.exit(BROKEN_PIPE_CODE)
        fail(prog, f'the standard output cannot be written: {error.strerror}', see_help=False)
    finally:
        if script:
            # The work is done and its exit code chosen: a Ctrl-C as Python shuts down
            # would otherwise end it by the signal, with no line and no code of ours.
            for number in SIGNAL_ENDINGS:
                if signal.getsignal(number) is not None:
                    signal.signal(number, signal.SIG_IGN)


def without_paddles_signal_handlers() -> None:
    """For a program (a script, the paddleinfo command): import Paddle without its signal
    handlers.  Paddle's import installs C++ handlers of SIGTERM and the crash signals
    behind Python's back; they print a C++ stack, and were seen to deadlock in the
    handler, so that a SIGTERM never ended the program.  SIGTERM is held back while
    Paddle is imported, Paddle's handlers are removed and Python's set again, and then a
    SIGTERM that came meanwhile is let through, to Python's handler.  (A library leaves
    Paddle's handlers: they are the program's to choose.)"""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        import paddle
        paddle.disable_signal_handler()
        for number in SIGNAL_ENDINGS:
            handler = signal.getsignal(number)
            if handler is not None:
                signal.signal(number, handler)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})


# The handlers that run() puts back, as they were before stop_quietly_until_run.
_until_run: dict[int, Any] = {}
SIGNAL_ENDINGS = {signal.SIGINT: ('interrupted', 130), signal.SIGTERM: ('terminated', 143)}


def stop_quietly_until_run(prog: str) -> None:
    """Until run() starts: SIGINT (Ctrl-C) and SIGTERM end the program with one line,
    '<prog>: interrupted' (exit code 130) or '<prog>: terminated' (143), not with the
    traceback of the import they came in (Paddle's takes seconds).  A signal that is
    ignored, as a background job's SIGINT is, stays ignored; so does one whose handler
    Python did not set (it could not be put back)."""
    for number in SIGNAL_ENDINGS:
        before = signal.getsignal(number)
        if before not in (signal.SIG_IGN, None) and number not in _until_run:
            _until_run[number] = before
            signal.signal(number, functools.partial(_stop, prog))


def _stop(prog: str, number: int, frame: types.FrameType | None) -> None:
    words, code = SIGNAL_ENDINGS[signal.Signals(number)]
    with contextlib.suppress(OSError):
        os.write(2, f'{prog}: {words}\n'.encode())
    # Not SystemExit: raised inside an import, an `except BaseException` there or a
    # finaliser that swallows it could let the program go on.  Nothing is written yet.
    os._exit(code)


# --- values, checked: one message for each kind of mistake ---------------------------

def number_text(value: float) -> str:
    """1,000 for an integer, 0.1 for a fraction: how a message writes a bound."""
    return f'{value:,}' if isinstance(value, int) else f'{value:g}'


def allowed_range(low: float | None = None, high: float | None = None, *,
                  above: bool = False, below: bool = False) -> str:
    """The words for [low, high], 'from 1 to 32', 'at least 1', 'above 0 and at most 1',
    'from 0 to below 1'; `above` and `below` leave the bound itself out."""
    if low is not None and high is not None:
        start = f'above {number_text(low)} and' if above else f'from {number_text(low)}'
        end = f'below {number_text(high)}' if below else (
            f'at most {number_text(high)}' if above else number_text(high))
        return f'{start} to {end}' if not above else f'{start} {end}'
    if low is not None:
        return f'{"above" if above else "at least"} {number_text(low)}'
    if high is not None:
        return f'{"below" if below else "at most"} {number_text(high)}'
    return 'any value'


def check_range(flag: str, value: float, low: float | None = None, high: float | None = None,
                *, above: bool = False, below: bool = False, allowed: str | None = None) -> None:
    """A UsageError '<flag> <value> is out of range: <allowed>' unless `value` is in the
    range (`allowed` words it, if the range's own words would not say enough)."""
    outside = ((low is not None and (value <= low if above else value < low))
               or (high is not None and (value >= high if below else value > high)))
    if outside:
        words = allowed or allowed_range(low, high, above=above, below=below)
        given = value if isinstance(value, int) else f'{value:g}'   # as it was typed
        raise UsageError(f'{flag} {given} is out of range: {words}')


def integer(flag: str, text: str | int, low: int | None = None, high: int | None = None,
            allowed: str | None = None) -> int:
    """int(text), or a UsageError naming `flag`; checked against [low, high] if given."""
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f'{flag} {text} is not an integer') from None
    check_range(flag, value, low, high, allowed=allowed)
    return value


def number(flag: str, text: str | float, low: float | None = None, high: float | None = None,
           *, above: bool = False, below: bool = False, allowed: str | None = None) -> float:
    """float(text), finite, or a UsageError naming `flag`; checked against the range."""
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f'{flag} {text} is not a number') from None
    if not math.isfinite(value):
        raise UsageError(f'{flag} {text} is not a finite number')
    check_range(flag, value, low, high, above=above, below=below, allowed=allowed)
    return value


def choice(flag: str, text: str, options: Iterable[str]) -> str:
    """`text` if it is one of `options`, else a UsageError that lists them."""
    options = list(options)
    if not isinstance(text, str) or text not in options:
        raise ArgumentError(f'{flag} {text} is not known; choose from {", ".join(options)}')
    return text


def column_names(flag: str, names: str | Iterable[str]) -> tuple[str, ...]:
    """The columns of the per-layer table: 'a,b,c' (a flag's text) or a list of names,
    each one of COLUMNS, none twice, at least one."""
    given = ([name.strip() for name in names.split(',')] if isinstance(names, str)
             else list(names))
    if not given or any(not isinstance(name, str) or not name for name in given):
        raise ArgumentError(f'{flag} takes names of columns joined by commas, e.g. '
                            f'output_size,num_params,mult_adds; choose from '
                            f'{", ".join(COLUMNS)}')
    for name in given:
        choice(f'{flag} column', name, COLUMNS)
    twice = sorted({name for name in given if given.count(name) > 1})
    if twice:
        raise ArgumentError(f'{flag} names {", ".join(twice)} twice')
    return tuple(given)


# --- flags: each kind added one way, checked as argparse reads it ---------------------

def converter(name: str, convert: Callable[[str], Any]) -> Callable[[str], Any]:
    """`convert` as argparse's `type`: argparse names it in its own messages.  Its
    UsageError is the message, as it is: argparse would put its own words in place of a
    ValueError's or TypeError's (which the Python API's kinds of UsageError also are)."""
    def checked(text: str) -> Any:
        try:
            return convert(text)
        except UsageError as error:
            if isinstance(error, (ValueError, TypeError)):
                raise UsageError(str(error)) from None
            raise
    checked.__name__ = name
    return checked


def add_integer(parser: Any, flag: str, *, low: int | None = None, high: int | None = None,
                allowed: str | None = None, **options: Any) -> argparse.Action:
    """An integer flag (or, with nargs, several), each value checked against the range."""
    options.setdefault('metavar', 'N')
    return parser.add_argument(flag, type=converter(
        'integer', lambda text: integer(flag, text, low, high, allowed)), **options)


def add_number(parser: Any, flag: str, *, low: float | None = None, high: float | None = None,
               above: bool = False, below: bool = False, allowed: str | None = None,
               **options: Any) -> argparse.Action:
    """A finite number flag, checked against the range as it is read."""
    return parser.add_argument(flag, type=converter('number', lambda text: number(
        flag, text, low, high, above=above, below=below, allowed=allowed)), **options)


def add_choice(parser: Any, flag: str, options: Sequence[str], **more: Any) -> argparse.Action:
    """A flag that takes one of `options` (a name: --format plain, --device cpu)."""
    return parser.add_argument(flag, type=converter('choice', lambda text: choice(flag, text, options)),
                               **more)


class _Absent(list):
    """What given_flags leaves where a flag was not given (a list, so that argparse's
    'append' copies and extends it like any other)."""


def given_flags(parser: argparse.ArgumentParser, argv: Sequence[str] | None,
                args: argparse.Namespace) -> list[str]:
    """The destinations of the flags on the command line `argv`, which `parser` parsed
    into `args`, in the parser's order; a flag left at its default is not given, even
    when the default is not None."""
    names = list(vars(args))
    parsed = vars(parser.parse_args(argv, argparse.Namespace(**{name: _Absent() for name in names})))
    return [name for name in names if not (isinstance(parsed[name], _Absent) and not parsed[name])]


def refuse(given: Iterable[str], names: Iterable[str], why: str) -> None:
    """A UsageError '<flag> <why>' for the first flag of `given` (destinations, e.g.
    'in_channels', as given_flags names them) that is one of `names`."""
    refused = set(names)
    for name in given:
        if name in refused:
            raise UsageError(f'{flag_name(name)} {why}')


def flag_name(destination: str) -> str:
    """'--warmup-epochs' for the destination 'warmup_epochs'."""
    return '--' + destination.replace('_', '-')


# --- the views of a summary: shared by paddleinfo and summary.py ---------------------

MAX_DEPTH = 32


def add_format(parser: Any) -> argparse.Action:
    return add_choice(parser, '--format', FORMATS, metavar='F', default='plain',
                      help=f'{", ".join(FORMATS)} (default: plain, which for the per-layer '
                           f'table is paddle.summary\'s own)')


def add_view_arguments(parser: Any, depth_group: Any = None, depth_help: str = '') -> None:
    """--depth N (in `depth_group`, a mutually exclusive group, if given), --macs,
    --explain and --format."""
    add_integer(depth_group if depth_group is not None else parser, '--depth', low=1,
                high=MAX_DEPTH, help='one row per sublayer down to N levels of nesting, with '
                                     'the params and MACs of what is folded in' + depth_help)
    parser.add_argument('--macs', action='store_true',
                        help='per-layer table: add the MACs of every layer and which of its '
                             'tensors are trainable')
    parser.add_argument('--explain', action='store_true',
                        help='per-layer table: add the formula of every conv and pool output '
                             'size, checked against the shape Paddle produced')
    add_format(parser)


def add_table_arguments(parser: Any) -> None:
    """The paddleinfo command's choice of columns and tables: --columns, --weights,
    --by-operator, --parameters, --receptive-field."""
    parser.add_argument('--columns', metavar='A,B,...', type=converter(
        'columns', lambda text: column_names('--columns', text)),
        help=f'the per-layer table with these columns, as torchinfo\'s col_names: '
             f'{", ".join(COLUMNS)}')
    parser.add_argument('--weights', action='store_true',
                        help='per-layer table: each layer\'s weights (name, shape, count) '
                             'under it, as torchinfo\'s verbose=2')
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--by-operator', dest='table', action='store_const', const='operators',
                       help='the MACs by operator (pd_op.conv2d, pd_op.matmul ...) and their '
                            'share, as fvcore\'s by_operator')
    group.add_argument('--parameters', dest='table', action='store_const', const='parameters',
                       help='the parameters by module path (layer1.0.conv1), as fvcore\'s '
                            'parameter_count_table: needs no input, traces nothing')
    group.add_argument('--receptive-field', dest='table', action='store_const',
                       const='receptive',
                       help='each layer\'s receptive field and effective stride (jump) on '
                            'the input, as torch-scan gives them')


def view_of(args: dict[str, Any]) -> View:
    """The View of parsed arguments (a dict with 'format', 'macs', 'explain', 'depth',
    and those of add_table_arguments where the command has them), once the flags are
    known to go together."""
    if args['explain'] and args['depth'] is not None:
        raise UsageError('--explain adds a column to the per-layer table; --depth groups '
                         'its rows')
    columns, weights, table = args.get('columns'), bool(args.get('weights')), args.get('table')
    per_layer = [flag for flag, given in (('--macs', args['macs']), ('--explain', args['explain']),
                                          ('--columns', columns), ('--weights', weights))
                 if given]
    if table is not None:
        assert table in TABLES
        # --depth cuts the parameters' and the receptive fields' tree too.
        depth = [('--depth', args['depth'] is not None and table == 'operators')]
        for flag, given in depth + [(f, f != '--weights' or table != 'parameters')
                                    for f in per_layer]:
            if given:
                raise UsageError(f'{flag} is for the per-layer table; {table_flag(table)} is '
                                 f'a table of its own')
    if args['depth'] is not None and table is None:
        for flag in per_layer:
            if flag in ('--columns', '--weights'):
                raise UsageError(f'{flag} is for the per-layer table; --depth groups its rows')
    if columns is not None:
        for flag, given in (('--macs', args['macs']), ('--explain', args['explain'])):
            if given:
                raise UsageError(f'{flag} adds columns; with --columns, name them there '
                                 f'(mult_adds, trainable, formula)')
    return View(args['format'] or 'plain', bool(args['macs']), bool(args['explain']),
                args['depth'], columns, weights, table)


def table_flag(table: str) -> str:
    return {'operators': '--by-operator', 'parameters': '--parameters',
            'receptive': '--receptive-field'}[table]


# --- how a model is traced and counted: the paddleinfo command's -----------------------

def add_trace_arguments(parser: Any) -> None:
    """--mode, --count, --rules and --strict."""
    add_choice(parser, '--mode', MODES, metavar='MODE', default='eval',
               help='the layers\' mode during the trace: eval (the default) or train '
                    '(dropout and BatchNorm as in training)')
    parser.add_argument('--count', metavar='NAME', default='macs',
                        help='the counting convention: macs (the default, torchvision\'s '
                             'GFLOPS), flops or full; the notes under the table state its rules')
    parser.add_argument('--rules', metavar='MODULE:NAME',
                        help='your own rules: a dict {operator name: function(op) -> count} '
                             'named NAME in MODULE (importable from here or the Python path, '
                             'or path/to/file.py)')
    parser.add_argument('--strict', action='store_true',
                        help='fail, naming what is left out, where the count is not whole '
                             '(an operator with no rule, or one path of a branch on a value)')


def trace_of(args: dict[str, Any]) -> Trace:
    """The Trace of parsed arguments (the convention's name is checked where the
    conventions are known, with Paddle)."""
    return Trace(args.get('mode') or 'eval', args.get('count') or 'macs', args.get('rules'),
                 bool(args.get('strict')))


# --- a training step, timed runs and sweeps: shared by paddleinfo and summary.py -----

MAX_RUNS = 10_000


def add_step_arguments(parser: Any, plot: bool = True) -> None:
    """--training, --optimizer, --precision, --time, --runs and (for a command that
    sweeps) --plot."""
    parser.add_argument('--training', action='store_true',
                        help='one training step: every layer\'s forward MACs and its gradients\' '
                             '(Paddle\'s own backward pass, appended to the traced Program), the '
                             'optimizer\'s update, and the memory of a step and of inference, '
                             'estimated without running anything')
    add_choice(parser, '--optimizer', OPTIMIZERS, metavar='NAME',
               help=f'with --training: {", ".join(OPTIMIZERS)} (default: {DEFAULT_OPTIMIZER})')
    add_choice(parser, '--precision', FLOAT_DTYPES, metavar='DTYPE',
               help='with --training: count every floating-point tensor of the memory '
                    'estimate as DTYPE (default: the dtypes the model has)')
    parser.add_argument('--time', action='store_true',
                        help='measure every layer\'s time on this machine (forward, and with '
                             '--training a whole step): builds the weights and runs the model')
    add_integer(parser, '--runs', low=1, high=MAX_RUNS,
                help=f'with --time: the timed runs, after {DEFAULT_WARMUP} warm-up runs (default: '
                     f'{DEFAULT_RUNS}); each row is their median')
    if plot:
        parser.add_argument('--plot', metavar='FILE',
                            help='with a sweep (--batch-size 1,8,32, or sizes of --input joined '
                                 'by commas): draw its cost into FILE (.png, .svg or .pdf)')


def step_of(args: dict[str, Any]) -> Step:
    """The Step of parsed arguments; a flag that would be ignored is a UsageError."""
    training, time = bool(args.get('training')), bool(args.get('time'))
    for flag, needs, given in (('--optimizer', '--training', args.get('optimizer')),
                               ('--precision', '--training', args.get('precision')),
                               ('--runs', '--time', args.get('runs'))):
        if given is not None and not (training if needs == '--training' else time):
            raise UsageError(f'{flag} is for {needs}, which is not given')
    return Step(training, args.get('optimizer') or DEFAULT_OPTIMIZER, args.get('precision'),
                time, args.get('runs') or DEFAULT_RUNS, args.get('plot'))
