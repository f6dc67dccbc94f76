"""paddleinfo: a summary of any paddle.nn.Layer -- rows, totals, MACs, memory, depth
grouping and every output format -- and the paddle.vision zoo with torchvision's
published figures.  It knows nothing of ResNet.

    from paddleinfo import summary
    result = summary(model, input_size=(None, 3, 224, 224))
    result.total_params, result.trainable_params, result.macs
    step = summary(model, (32, 3, 224, 224), training=True)   # a training step's cost
    table = sweep(model, [(b, 3, 224, 224) for b in (1, 8, 32)])

Importing the package imports no Paddle: `summary` and `ModelStatistics` are loaded
from paddleinfo.api when first used, so that a script can quieten Paddle before Paddle
is first imported, and paddleinfo.errors can be caught without it.
"""
import importlib.util as _util
import itertools as _itertools
import os as _os
import sys as _sys
from typing import Any as _Any

NO_PADDLE = ('paddleinfo needs PaddlePaddle, which is not installed here: pip install '
             'paddlepaddle (or paddlepaddle-gpu); paddleinfo leaves the choice to you')


def _paddle_installed() -> bool:
    """Whether `import paddle` would find Paddle, without importing it."""
    try:
        return _util.find_spec('paddle') is not None
    except (ImportError, ValueError):   # a finder that refuses it, or a broken install
        return False


def _starts_the_command() -> bool:
    """Whether this import starts the `paddleinfo` command or `python -m paddleinfo`."""
    argv = getattr(_sys, 'orig_argv', [])
    return (_os.path.splitext(_os.path.basename(_sys.argv[0]))[0] == 'paddleinfo'
            or any(pair == ('-m', 'paddleinfo') for pair in _itertools.pairwise(argv)))


if not _paddle_installed():
    if _starts_the_command():   # a user at the shell: one line and exit 2, no traceback
        _sys.stderr.write(f'paddleinfo: error: {NO_PADDLE}\n')
        raise SystemExit(2)
    raise ImportError(NO_PADDLE)


from paddleinfo.errors import FactoryError, NotALayerError, ShapeError, UsageError  # noqa: E402

__all__ = ['FactoryError', 'ModelDiff', 'ModelStatistics', 'NotALayerError',
           'ParameterStatistics', 'ShapeError', 'Sweep', 'UsageError', 'diff', 'summary', 'sweep']


def __getattr__(name: str) -> _Any:
    if name in ('summary', 'ModelStatistics', 'ParameterStatistics', 'diff', 'ModelDiff'):
        import warnings
        with warnings.catch_warnings():
            # Paddle's note on its own build, as it is first imported (a notebook's kernel
            # has no quiet_paddle): not the user's business.
            warnings.filterwarnings('ignore', message='No ccache found')
            from paddleinfo import api
        return getattr(api, name)
    if name in ('sweep', 'Sweep'):
        from paddleinfo import sweeps
        return getattr(sweeps, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
