"""The fixtures of the reproduction's tests (what they share otherwise is helpers.py)."""
import _pickle
import pickle
import warnings

import pytest

from helpers import GOLDEN

# First, before any test module imports paddle: Paddle's notice at import that ccache is
# missing is about Paddle's setup, not about anything a test checks.
with warnings.catch_warnings():
    warnings.filterwarnings('ignore', message='No ccache found')
    import paddle  # noqa: F401


@pytest.fixture
def reference():
    """The article's printed tables, as kept in tests/golden/."""
    return lambda name: (GOLDEN / name).read_text(encoding='utf-8')


class Unpickled(Exception):
    pass


@pytest.fixture
def no_unpickling(monkeypatch):
    """Every way into the unpickler raises; returns the list of attempts made."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise Unpickled('something was unpickled')

    class RefusingUnpickler:
        def __init__(self, *args, **kwargs):
            refuse(*args)

    for module in (pickle, _pickle):
        monkeypatch.setattr(module, 'load', refuse)
        monkeypatch.setattr(module, 'loads', refuse)
        monkeypatch.setattr(module, 'Unpickler', RefusingUnpickler)
    return attempts
