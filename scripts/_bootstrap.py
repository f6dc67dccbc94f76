"""The first import of every script in scripts/, so that each works from any directory:

  - the repository's root goes on sys.path, where `resnet`, `resnet_tools` and
    `paddleinfo` are;
  - a Python without Paddle is told so in one line (exit code 2), not by the traceback
    of the first import that needs it;
  - Paddle's notes about itself are silenced before Paddle is first imported;
  - a Ctrl-C or SIGTERM during the imports (Paddle's take seconds) is one line and exit
    code 130 or 143, not a traceback, until `run` takes over;
  - the script gets `run`, which turns a user's mistake, a stop or a Ctrl-C into one line.

    from _bootstrap import run
"""
import importlib.util
import os
import sys

__all__ = ['ROOT', 'run']

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def paddle_installed() -> bool:
    """Whether `import paddle` would find Paddle, without importing it."""
    try:
        return importlib.util.find_spec('paddle') is not None
    except (ImportError, ValueError):   # a finder that refuses it, or a broken install
        return False


def started_as_a_script() -> bool:
    """Whether the program is a script of scripts/ (not a test that loads one)."""
    main = getattr(sys.modules.get('__main__'), '__file__', None)
    return main is not None and os.path.dirname(os.path.abspath(main)) == os.path.join(ROOT, 'scripts')


def prepare() -> None:
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    if not paddle_installed():
        sys.stderr.write(f'{os.path.basename(sys.argv[0])}: error: PaddlePaddle is not '
                         f'installed for {sys.executable}; install the requirements first: '
                         f'pip install -r requirements.txt\n')
        sys.exit(2)
    from paddleinfo.arguments import (quiet_paddle, stop_quietly_until_run,
                                      without_paddles_signal_handlers)
    quiet_paddle()
    if started_as_a_script():
        stop_quietly_until_run(os.path.basename(sys.argv[0]))
        without_paddles_signal_handlers()


prepare()

from resnet_tools.cli import run  # noqa: E402 -- Paddle is quiet now, and resnet_tools imports it
