"""The fixtures of the reproduction's tests (what they share otherwise is helpers.py)."""
import _pickle
import pickle

import pytest

# First, before anything imports paddle (helpers, through paddleinfo's summaries, does):
# resnet_tools imports it without Paddle's notice that ccache is missing, which is about
# Paddle's setup, not about anything a test checks.
import resnet_tools  # noqa: F401
from helpers import GOLDEN


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
