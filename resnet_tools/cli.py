"""What every script in scripts/ shares: a quiet Paddle, and one-line errors.

Call `quiet_paddle()` before paddle is imported.  Paddle's import and its layers
emit warnings that have nothing to do with the question a script answers (the
missing-ccache notice, BatchNorm's note on running statistics); the user should
see the table, not those.
"""
import argparse
import os
import sys
import warnings

# Messages Paddle prints that are about Paddle's own setup, not about the user's input.
PADDLE_NOISE = (
    r'No ccache found',
    r'When training, we now always track global mean and variance',
)


def quiet_paddle():
    for message in PADDLE_NOISE:
        warnings.filterwarnings('ignore', message=message)
    os.environ.setdefault('GLOG_minloglevel', '2')


class UsageError(Exception):
    """A mistake in what the user asked for; its message is shown as one line."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr and exit code 2."""

    def error(self, message):
        fail(self.prog, message)


def fail(prog, message):
    sys.stderr.write(f'{prog}: error: {message} (see --help)\n')
    sys.exit(2)


def run(main, prog):
    """Run main(), turning a UsageError into the one-line error and exit code 2."""
    try:
        return main()
    except UsageError as error:
        fail(prog, str(error))
