"""The errors of paddleinfo: each is a mistake in what was asked, with a one-line message.

It imports nothing (no Paddle), so that a script can catch them before Paddle is loaded.
Every one is a UsageError: a command line shows its message and exits with code 2.
"""


class UsageError(Exception):
    """A mistake in what the user asked for; its message is shown as one line, with
    '(see --help)' after it where the help can put it right (`see_help`)."""
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
