"""The errors of the reproduction, in one place, below everything else of resnet_tools.

Each is shown by a script as one line, '<prog>: ...', never as a traceback:
  UsageError      a mistake in what was asked (a flag, a file, a folder): exit code 2.
                  It is paddleinfo's, so that one `except` serves both products.
  FileError       a file or folder given that is not what it must be (damaged,
                  crafted, in the way): a UsageError without '(see --help)'.
  WeightsError    a weights file that cannot be read, or does not fit the network: a
                  UsageError.
  Stop            the end of a run that is no mistake of the user's: a signal (exit 130
                  or 143), or a training that diverged (exit 1).
"""
from paddleinfo.errors import FileError, UsageError

__all__ = ['FileError', 'Stop', 'UsageError', 'WeightsError', 'WeightsWarning']


class WeightsError(UsageError):
    """A weights file that cannot be read, or does not fit the network."""


class WeightsWarning(UserWarning):
    """A file named like one of Paddle's published weight files, with another md5."""


class Stop(Exception):
    """The end of a run that is not a mistake of the user's: a stop asked for by a
    signal, a training that diverged.  Shown as one line, '<prog>: <message>', with
    exit code `code`."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code
