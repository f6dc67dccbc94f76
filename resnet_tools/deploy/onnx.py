"""An exported model as ONNX: converted by paddle2onnx, Paddle's own converter, from the
program paddle.jit.save wrote, and run by ONNX Runtime on CPU.

Both are optional extras, outside requirements.txt: `pip install -r
requirements-extras.txt` installs them at the versions tested (docs/export.md).  Without
them, what needs them is one line naming that command.

paddle2onnx 2.1 converts Paddle 3.3's programs (model.json, PIR) directly.  Its
converter prints to the process's stdout from C++, and on an error logs and calls
sys.exit; convert() keeps both from the user: a failure is one ConversionError line.
Its optional constant folding (polygraphy) is not used: it would install packages at
run time, and ONNX Runtime folds constants itself when it loads the model.
"""
import contextlib
import importlib
import io
import os
import sys
import tempfile

from collections.abc import Iterator
from types import ModuleType

import numpy as np

from resnet_tools.deploy.inference import MODEL_FILE, PARAMS_FILE
from resnet_tools.errors import UsageError

ONNX_FILE = 'model.onnx'
OPSET = 13              # what ONNX Runtime and OpenVINO both run; paddle2onnx raises it if needed
EXTRAS_FILE = 'requirements-extras.txt'
SETUP_LINE = f'python -m pip install -r {EXTRAS_FILE}'


class ConversionError(UsageError):
    """paddle2onnx could not convert a program (its last line of output says why)."""


def extra(name: str, needed_for: str) -> ModuleType:
    """The optional module `name`, imported; a UsageError naming the setup line if it is
    not installed."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise UsageError(f'{needed_for} needs {name}, an optional extra: {SETUP_LINE}') from None


def installed(name: str) -> bool:
    """Whether the optional module `name` imports."""
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def version(name: str) -> str:
    return str(getattr(importlib.import_module(name), '__version__', '?'))


@contextlib.contextmanager
def captured_output() -> Iterator[list[str]]:
    """Everything written inside the block to file descriptors 1 and 2 (C++ included)
    and to sys.stdout and sys.stderr, kept from the terminal; the list is filled with its
    lines when the block ends (the descriptors' first)."""
    lines: list[str] = []
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    python = io.StringIO()          # what Python prints, wherever sys.stdout points
    with tempfile.TemporaryFile() as sink:
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            with contextlib.redirect_stdout(python), contextlib.redirect_stderr(python):
                yield lines
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for descriptor in saved:
                os.close(descriptor)
            sink.seek(0)
            lines.extend(sink.read().decode('utf-8', 'replace').splitlines())
            lines.extend(python.getvalue().splitlines())


def convert(directory: str | os.PathLike[str], opset: int = OPSET) -> bytes:
    """The ONNX model (its bytes) of the export in `directory` (model.json and
    model.pdiparams), converted by paddle2onnx with ONNX's checker on."""
    paddle2onnx = extra('paddle2onnx', '--format onnx')
    model = None
    with captured_output() as lines:
        try:
            model = paddle2onnx.export(os.path.join(directory, MODEL_FILE),
                                       os.path.join(directory, PARAMS_FILE), save_file=None,
                                       opset_version=opset, enable_onnx_checker=True)
        except (Exception, SystemExit):     # it logs its error, then calls sys.exit
            model = None
    if not isinstance(model, bytes) or not model:
        said = [line.strip() for line in lines if line.strip()]
        why = said[-1] if said else 'no model came back'
        raise ConversionError(f'paddle2onnx {version("paddle2onnx")} cannot convert this '
                              f'program: {why}')
    return model


class OnnxRuntime:
    """An ONNX Runtime session on CPU with `threads` math threads, taking and returning
    numpy arrays; `model` is an ONNX file or its bytes."""

    def __init__(self, model: str | os.PathLike[str] | bytes, threads: int = 1) -> None:
        ort = extra('onnxruntime', 'ONNX Runtime')
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3          # errors only: no note per unused initializer
        source = model if isinstance(model, bytes) else os.fspath(model)
        self.session = ort.InferenceSession(source, options, providers=['CPUExecutionProvider'])
        self.input = self.session.get_inputs()[0].name

    def __call__(self, images: np.ndarray) -> np.ndarray:
        return np.asarray(self.session.run(None, {self.input: images})[0])
