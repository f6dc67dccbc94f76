"""The two file formats of weights, read and written.

A `.pdparams` file is what paddle.save writes: a pickle, and unpickling can run any
code the file's author put in it.  A `.safetensors` file is a JSON header and the raw
tensor bytes, parsed by the safetensors library without unpickling anything; a path
ending in `.safetensors` is read and written that way, any other path with paddle.load
and paddle.save.  The scripts load no pickle (refuse_pickle): only convert.py unpickles,
once, to make a .safetensors file.  A .pdparams file's md5 is checked against Paddle's
published list.  Weights are read from regular files only: a FIFO would block for ever,
/dev/zero never ends.
"""
import hashlib
import io
import os
import pathlib
import shlex
import stat

from collections.abc import Mapping

import numpy as np
import paddle
import safetensors.numpy
from paddle.vision.models.resnet import model_urls

from resnet.configs import CIFAR_ARCHS
from resnet_tools import files
from resnet_tools.errors import WeightsError
from resnet_tools.weights.names import Array, StateDict, detect_layout, listed


SAFETENSORS = '.safetensors'
# Four times the largest network here in float32 (wide_resnet101_2, 508 MB): no weights
# file of these networks is larger.
MAX_WEIGHTS_BYTES = 2 << 30
WRITTEN_SUFFIXES = (SAFETENSORS, '.pdparams')   # what save_atomically writes


def check_regular(path: str | os.PathLike[str]) -> None:
    """A WeightsError unless `path` is a regular file (after symbolic links), checked
    without opening it."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise WeightsError(f'{path}: no such file')
    except OSError as error:
        raise WeightsError(f'{path} cannot be read: {error.strerror}')
    if stat.S_ISDIR(mode):
        raise WeightsError(f'{path} is a directory, not a weights file')
    if not stat.S_ISREG(mode):
        raise WeightsError(f'{path} is {files.kind_of(mode)}, not a regular file: weights '
                           f'are read from files only')


def read_regular(path: str | os.PathLike[str]) -> bytes:
    """The bytes of the weights file `path`, a regular file: a FIFO would block the
    reader for ever, /dev/zero never ends.  files.read_regular checks it again once it
    is open, in case it was swapped since, and reads no more than it holds."""
    check_regular(path)
    try:
        return files.read_regular(path, MAX_WEIGHTS_BYTES)
    except OSError as error:
        raise WeightsError(f'{path} cannot be read: {error.strerror}')
    except ValueError as error:     # what it is instead, or its size
        raise WeightsError(f'{path} {error}')


def refuse_pickle(path: str, arch: str | None = None) -> None:
    """A WeightsError for `--weights path` unless it is a .safetensors file: the scripts
    load no pickle.  The error names the one-time conversion (convert.py, the one place
    that unpickles); `arch` picks its direction, since a CIFAR network has our layout only."""
    check_regular(path)          # a missing file is missing, whatever its name
    if is_safetensors(path):
        return
    target = str(pathlib.Path(path).with_suffix(SAFETENSORS))
    direction = '--to-ours' if arch in CIFAR_ARCHS else '--to-official'
    command = shlex.join(['python', 'scripts/convert.py', direction, path, target])
    raise WeightsError(f'--weights {path} is a pickle, which can run code when it is loaded; '
                       f'convert it once: {command}, then give --weights {target}')


def file_md5(path: str | os.PathLike[str]) -> str:
    return hashlib.md5(read_regular(path)).hexdigest()


def published_file(arch: str) -> str:
    return model_urls[arch][0].rsplit('/', 1)[1]


def check_md5(path: str | os.PathLike[str]) -> tuple[str | None, str | None]:
    """(status, message) for a file against the md5 list of paddle.vision.models.resnet.

    status is 'published' (its md5 is one of Paddle's published files), 'mismatch'
    (it is named like a published file, e.g. resnet50.pdparams, but its md5 is not
    that file's) or None (neither; nothing to check).  Paddle publishes no .safetensors
    files, so a .safetensors file has nothing to be checked against.
    """
    if is_safetensors(path):
        return None, None
    name, digest = pathlib.Path(path).name, file_md5(path)
    for arch, (_, md5) in model_urls.items():
        if digest == md5:
            return 'published', (f'md5 {digest}: this is Paddle\'s published '
                                 f'{published_file(arch)}')
    for arch, (_, md5) in model_urls.items():
        if name == published_file(arch):
            return 'mismatch', (f'{name} is named like Paddle\'s published weights, but '
                                f'its md5 is {digest}, not {md5}: it is not that file, '
                                f'or it is damaged')
    return None, None


def is_safetensors(path: str | os.PathLike[str]) -> bool:
    """Whether `path` is read and written as safetensors: its name ends in .safetensors."""
    return str(path).lower().endswith(SAFETENSORS)


def format_name(path: str | os.PathLike[str]) -> str:
    return 'safetensors' if is_safetensors(path) else 'pickle'


def read_safetensors(data: bytes, path: pathlib.Path) -> dict[str, np.ndarray]:
    """{name: numpy array} of the .safetensors file `path`, whose bytes are `data`.  The
    library parses the header as JSON and views the bytes as arrays: nothing is unpickled."""
    try:
        state = safetensors.numpy.load(data)
    except Exception as error:
        # The library's messages are one line, e.g. "Error while deserializing:
        # incomplete metadata, file not fully covered" for a truncated file.
        reason = ' '.join(str(error).split()) or type(error).__name__
        raise WeightsError(f'{path} is not a complete safetensors file, or it is damaged: '
                           f'{reason}')
    if not state:
        raise WeightsError(f'{path} is a safetensors file without tensors')
    return state


def read_pickle(data: bytes, path: pathlib.Path) -> StateDict:
    """The state dict paddle.load reads from the bytes `data` of `path`: an unpickled
    object, checked."""
    try:
        state = paddle.load(io.BytesIO(data))
    except Exception:
        raise WeightsError(f'{path} is not a Paddle state dict: paddle.load cannot read it')
    if not (isinstance(state, dict) and state
            and all(isinstance(key, str) for key in state)
            and all(isinstance(value, (paddle.Tensor, np.ndarray)) for value in state.values())):
        raise WeightsError(f'{path} is not a Paddle state dict: it holds '
                           f'{describe(state)}, not names mapped to tensors')
    return state


def read_state_dict(path: str | os.PathLike[str]) -> Mapping[str, Array]:
    """The state dict in a weights file, or a WeightsError saying why there is none.

    A .safetensors file gives numpy arrays and never unpickles; any other file is
    unpickled by paddle.load, so it should come from someone you trust.
    """
    path = pathlib.Path(path)
    data = read_regular(path)
    state: Mapping[str, Array] = (read_safetensors(data, path) if is_safetensors(path)
                                  else read_pickle(data, path))
    if detect_layout(state) is None:
        raise WeightsError(f'{path} is a state dict, but not of a ResNet: its keys start with '
                           f'{listed(state)}')
    check_dtypes(state, path)
    return state


def check_dtypes(state: Mapping[str, Array], where: str | os.PathLike[str]) -> None:
    """Every tensor of these networks, BatchNorm's statistics included, is float32;
    set_state_dict would stop at another dtype with an assertion deep inside Paddle, or
    cast it without a word."""
    for key, value in state.items():
        dtype = str(value.dtype).removeprefix('paddle.')
        if dtype != 'float32':
            raise WeightsError(f'{where} holds {key} as {dtype}; the networks here are '
                               f'float32 throughout: convert the file to float32 first')


def describe(value: object) -> str:
    if isinstance(value, dict):
        return 'an empty dict' if not value else 'a dict of other things'
    return f'a {type(value).__name__}'


def weights_path(output: str | os.PathLike[str], force: bool = False) -> pathlib.Path:
    """`output` as the path of a weights file to write, or a WeightsError: a name of a
    format written here (never a pickle under a name that does not say so, e.g. out.pt),
    in a folder that exists, not there already unless `force`."""
    return files.check_new_file(output, force, WRITTEN_SUFFIXES,
                                'name the file .safetensors (safe to load) or .pdparams (a '
                                'pickle, for paddle.load)', error=WeightsError)


def as_array(value: Array) -> np.ndarray:
    return value.numpy() if isinstance(value, paddle.Tensor) else np.asarray(value)


def write_weights(state: Mapping[str, Array], path: str, as_safetensors: bool) -> None:
    """Write `state` to `path` as safetensors, or else with paddle.save, which stores
    Tensors whatever the state dict held."""
    if as_safetensors:
        # Contiguous copies with the tensors' own dtypes (BatchNorm's statistics are
        # float32 like the rest): the file holds exactly these bytes.
        # Serialised in memory and written by Python: a full disk is then an OSError
        # (a one-line error through files.replacing), not the library's SafetensorError.
        data = safetensors.numpy.save(
            {key: np.ascontiguousarray(as_array(value)) for key, value in state.items()})
        pathlib.Path(path).write_bytes(data)
    else:
        paddle.save({key: value if isinstance(value, paddle.Tensor)
                     else paddle.to_tensor(np.array(value)) for key, value in state.items()},
                    path)


def save_atomically(state: Mapping[str, Array], output: str | os.PathLike[str], force: bool = False) -> None:
    """Write `state` to a temporary file next to `output`, then rename it into place;
    as safetensors if `output` ends in .safetensors (see write_weights)."""
    output = weights_path(output, force)
    with files.replacing(output) as temporary:
        write_weights(state, temporary, is_safetensors(output))
