"""Shared by the tests: where things are, and how to run a script as a user does."""
import _pickle
import importlib.util
import pickle
import pathlib
import subprocess
import sys

import pytest

# First, before any test module imports paddle: resnet imports it without Paddle's
# ccache notice (see blocks.py), so pytest.ini needs no filter for it.
import resnet  # noqa: F401

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


def module_from(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def count_params(model, trainable_only=False):
    return sum(int(p.numel()) for p in model.parameters()
               if not (trainable_only and p.stop_gradient))


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
