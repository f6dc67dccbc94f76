"""The errors of paddleinfo: each is a mistake in what was asked, with a one-line message.

It imports nothing (no Paddle), so that a script can catch them before Paddle is loaded.
Every one is a UsageError: a command line shows its message and exits with code 2.
"""


class UsageError(Exception):
    """A mistake in what the user asked for; its message is shown as one line, with
    '(see --help)' after it where the help can put it right (`see_help`).  Not itself a
    ValueError, which argparse would take from a flag's converter for its own message;
    the Python API raises its kinds that are (ArgumentError, ShapeError, ...)."""
    see_help = True


class FileError(UsageError):
    """A file or folder given that is not what it must be (damaged, crafted, of another
    kind, in the way): a mistake of the user's, which no flag of --help puts right."""
    see_help = False


class ShapeError(UsageError, ValueError):
    """The model does not take the input: a layer gets a tensor of the wrong rank, size
    or dtype, an input is missing, or a feature map would have no pixels.  The message
    names the layer, what it got and what it expects."""


class FactoryError(UsageError, RuntimeError):
    """build_model() itself raised, before any input was given."""


class NotALayerError(UsageError, TypeError):
    """What was given (or what build_model() returned) is not a paddle.nn.Layer."""


class ArgumentError(UsageError, ValueError):
    """An argument's value is not one it takes: a name not among its choices, a number
    out of its range, arguments that do not go together."""


class ArgumentTypeError(UsageError, TypeError):
    """An argument is of a type it does not take (a model that is no paddle.nn.Layer, a
    rule that is not a function)."""


class RuleError(UsageError, ValueError, TypeError):
    """A rule of the user's own (summary(rules=...), --rules) that is not one: a key that
    names no operator, a value that is no function, a rule that raised or returned no
    whole number of MACs; or a count that names no convention."""


class IncompleteCountError(ArgumentError):
    """strict=True (--strict), and the count is not the whole of its convention: an
    operator had no rule, or the forward pass branches on a value (one path's count)."""
    see_help = False


# --- what an error says, on one line ---------------------------------------------

def text_of(error: BaseException) -> str:
    """str(error), or '' for an error that cannot say what it is (a C++ one, at times)."""
    try:
        return str(error)
    except Exception:  # noqa: BLE001
        return ''


def first_line(error: BaseException) -> str:
    """The first non-blank line of an error's message (or its class name)."""
    lines = [line.strip() for line in text_of(error).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def exited(error: SystemExit) -> str:
    """What a user's sys.exit(code) (or raise SystemExit) is told as: 'it called sys.exit(0)'."""
    return f'it called sys.exit({"" if error.code is None else repr(error.code)})'


def paddle_reason(error: BaseException) -> str:
    """Paddle's reason for refusing an operator's inputs, on one line (dy2static puts
    the traceback of the forward pass first)."""
    text = text_of(error)
    lines = [line for line in text.splitlines() if '(InvalidArgument)' in line] or [first_line(error)]
    return lines[0].split('(InvalidArgument)')[-1].strip().split('  [')[0]
