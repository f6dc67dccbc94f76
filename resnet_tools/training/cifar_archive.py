"""The CIFAR-10 python archive (cifar-10-python.tar.gz) read without unpickling it.

The archive is untrusted input: its batches are pickles, and unpickling one (as
paddle.vision.datasets.Cifar10 does) runs whatever it asks.  Here they are decoded by
a machine that knows only the opcodes and numpy names a batch needs (unpickle_batch),
from regular files of a bounded size in the archive, which is never unpacked to disk.
read_cifar10 gives the images and labels of the training and test batches, in the order
Paddle reads them.
"""
import bz2
import gzip
import io
import lzma
import math
import os
import pickletools
import stat
import tarfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

import numpy as np

from resnet_tools import files
from resnet_tools.errors import FileError, UsageError

# The archive as its authors publish it: five training batches and a test batch, each a
# Python 2 pickle of {b'batch_label', b'labels', b'data', b'filenames'}.
CIFAR_FOLDER = 'cifar-10-batches-py/'
CIFAR_TRAIN = tuple(f'{CIFAR_FOLDER}data_batch_{i}' for i in range(1, 6))
CIFAR_TEST = (f'{CIFAR_FOLDER}test_batch',)
CIFAR_IMAGE = (3, 32, 32)
CIFAR_CLASSES = 10
# Far above the published archive (batches of 31 MB, 178 MiB unpacked, 9 entries), so that
# a crafted archive cannot make us unpack or hold without end.
MAX_MEMBER_BYTES = 64 << 20
MAX_UNPACKED_BYTES = 256 << 20
MAX_MEMBERS = 64
# A published batch is about 30,000 opcodes (a label, a file name and its memo entry per
# image); a crafted one of a million one-byte opcodes would keep us busy for seconds.
MAX_OPCODES = 1_000_000
# Which compression a file is in, by its first bytes; anything else is read as a plain tar.
DECOMPRESSORS: tuple[tuple[bytes, Callable[[BinaryIO], BinaryIO]], ...] = (
    (b'\x1f\x8b', lambda file: cast(BinaryIO, gzip.GzipFile(fileobj=file))),
    (b'BZh', lambda file: cast(BinaryIO, bz2.BZ2File(file))),
    (b'\xfd7zXZ\x00', lambda file: cast(BinaryIO, lzma.LZMAFile(file))))


class NotCifar(Exception):
    """Why a file is not the CIFAR-10 python archive (read_cifar10 names the file)."""


def read_archive(path: str) -> bytes:
    """The bytes of the archive `path`, a regular file (a FIFO would block the reader for
    ever, /dev/zero never ends), of at most MAX_UNPACKED_BYTES; a UsageError otherwise."""
    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            raise FileError(f'--data-file {path} is not a file: it is {files.kind_of(mode)}')
        return files.read_regular(path, MAX_UNPACKED_BYTES)
    except FileNotFoundError:
        raise UsageError(f'--data-file {path} does not exist')
    except OSError as error:
        raise UsageError(f'--data-file {path} cannot be read: {error.strerror}')
    except ValueError as error:     # swapped for another kind since, or too large
        raise UsageError(f'--data-file {path} {error}')


class Bounded:
    """A file's read(), which fails once more than `limit` bytes have come out of it: an
    archive that unpacks to gigabytes is refused, not unpacked."""

    def __init__(self, file: BinaryIO, limit: int) -> None:
        self.file, self.limit, self.left = file, limit, limit

    def read(self, size: int = -1) -> bytes:
        data = self.file.read(self.left + 1 if size < 0 else min(size, self.left + 1))
        self.left -= len(data)
        if self.left < 0:
            raise NotCifar(f'it unpacks to more than {self.limit >> 20} MiB')
        return data


def archive_batches(file: BinaryIO) -> dict[str, bytes]:
    """{member name: bytes} of the batches CIFAR_TRAIN and CIFAR_TEST in the tar `file`:
    read in one pass, as a stream, only from regular files of a sane size; nothing is
    written anywhere."""
    head = file.read(6)
    file.seek(0)
    unpacked = next((open_as(file) for magic, open_as in DECOMPRESSORS if head.startswith(magic)),
                    file)
    batches: dict[str, bytes] = {}
    with tarfile.open(fileobj=cast(BinaryIO, Bounded(unpacked, MAX_UNPACKED_BYTES)),
                      mode='r|') as archive:
        for count, member in enumerate(archive, 1):
            name = member.name.removeprefix('./')
            if count > MAX_MEMBERS:
                raise NotCifar(f'it has more than {MAX_MEMBERS} entries')
            if member.size > MAX_MEMBER_BYTES:
                raise NotCifar(f'{name} is {member.size} bytes, more than any file of the '
                               f'archive ({MAX_MEMBER_BYTES >> 20} MiB at most)')
            if name not in CIFAR_TRAIN + CIFAR_TEST:
                continue
            if name in batches:
                raise NotCifar(f'it holds {name} twice')
            if not member.isreg() or member.issparse():
                kind = ('a symbolic link' if member.issym() else 'a hard link' if member.islnk()
                        else 'a directory' if member.isdir() else 'a special file')
                raise NotCifar(f'{name} is {kind}, not a regular file')
            content = archive.extractfile(member)
            assert content is not None      # a regular file's
            batches[name] = content.read()
    return batches


@dataclass(frozen=True)
class Global:
    """A name a pickle may import, modelled here: never looked up, never called."""
    name: str


RECONSTRUCT, FROMBUFFER, NDARRAY, DTYPE, ENCODE = (
    Global(name) for name in ('_reconstruct', '_frombuffer', 'ndarray', 'dtype', 'encode'))
# The only globals of the CIFAR-10 batches: numpy's array and dtype as Python 2's cPickle
# wrote them (numpy 2 writes numpy._core; protocol 5, Python 3.14's default, _frombuffer),
# and bytes as Python 3's protocol 2 writes them.
GLOBALS = {**{(f'numpy.{core}.multiarray', '_reconstruct'): RECONSTRUCT
              for core in ('core', '_core')},
           **{(f'numpy.{core}.numeric', '_frombuffer'): FROMBUFFER for core in ('core', '_core')},
           ('numpy', 'ndarray'): NDARRAY, ('numpy', 'dtype'): DTYPE,
           ('_codecs', 'encode'): ENCODE}
# The dtypes a numpy array in a batch may have: plain numbers, never Python objects.
DTYPES = frozenset({'u1', 'i1', 'u2', 'i2', 'u4', 'i4', 'u8', 'i8', 'f4', 'f8'})


@dataclass
class Made:
    """What RECONSTRUCT (an array) or DTYPE (a dtype) made; BUILD gives it its value."""
    kind: Global
    value: np.ndarray | np.dtype | None = None


def shown(text: str) -> str:
    """`text` from the file, cut short for a one-line error."""
    return text if len(text) <= 60 else f'{text[:57]}...'


def as_bytes(text: str) -> bytes:
    # pickletools gives a Python 2 str as text, a byte per character; Paddle read them
    # with encoding='bytes', as bytes.
    return text.encode('latin-1')


PUSHES: dict[str, Callable[[Any], object]] = {
    **dict.fromkeys(('STRING', 'BINSTRING', 'SHORT_BINSTRING'), as_bytes),
    **dict.fromkeys(('BINBYTES', 'SHORT_BINBYTES', 'BINBYTES8', 'UNICODE', 'BINUNICODE',
                     'SHORT_BINUNICODE', 'BINUNICODE8', 'INT', 'BININT', 'BININT1', 'BININT2',
                     'LONG', 'LONG1', 'LONG4'), lambda arg: arg),
    'BYTEARRAY8': bytes,    # protocol 5's in-band buffer of an array's bytes
    'NONE': lambda arg: None, 'NEWTRUE': lambda arg: True, 'NEWFALSE': lambda arg: False,
    'EMPTY_DICT': lambda arg: {}, 'EMPTY_LIST': lambda arg: [], 'EMPTY_TUPLE': lambda arg: ()}
TUPLES = {'TUPLE1': 1, 'TUPLE2': 2, 'TUPLE3': 3}


def reduce(function: object, args: object) -> object:
    """What calling `function` with `args` gives, for the calls the batches make."""
    if function == ENCODE and isinstance(args, tuple) and len(args) == 2 \
            and isinstance(args[0], str) and args[1] in ('latin1', 'latin-1'):
        return args[0].encode('latin-1')
    if function == RECONSTRUCT and isinstance(args, tuple) and args[:1] == (NDARRAY,):
        return Made(RECONSTRUCT)
    if function == FROMBUFFER and isinstance(args, tuple) and len(args) == 4 \
            and args[3] in ('C', 'F'):
        raw, dtype, shape, order = args
        return Made(RECONSTRUCT, array(shape, dtype, order == 'F', raw))
    if function == DTYPE and isinstance(args, tuple) and args \
            and isinstance(args[0], (str, bytes)):
        code = args[0].decode('latin-1') if isinstance(args[0], bytes) else args[0]
        if code not in DTYPES:
            raise NotCifar(f'it holds an array of dtype {shown(code)!r}, not of numbers')
        return Made(DTYPE, np.dtype(code))
    what = function.name if isinstance(function, Global) else f'a {type(function).__name__}'
    raise NotCifar(f'its pickle calls {what} in a way no CIFAR-10 batch does')


def array(shape: object, dtype: object, fortran: object, raw: object) -> np.ndarray:
    """The numpy array of `shape` and the dtype `dtype` made, whose bytes are `raw`."""
    if not (isinstance(shape, tuple) and all(type(size) is int and size >= 0 for size in shape)
            and isinstance(dtype, Made) and isinstance(dtype.value, np.dtype)
            and isinstance(fortran, bool) and isinstance(raw, bytes)
            and len(raw) == math.prod(shape) * dtype.value.itemsize):
        raise NotCifar('its numpy array is damaged')
    return np.frombuffer(raw, dtype.value).reshape(shape, order='F' if fortran else 'C')


def build(target: object, state: object) -> None:
    """numpy's __setstate__ of an array or dtype that `reduce` made, modelled."""
    if not isinstance(target, Made) or not isinstance(state, tuple):
        raise NotCifar('its pickle sets the state of something that is not a numpy array')
    if target.kind == DTYPE and len(state) >= 5 and state[2:5] == (None, None, None):
        assert isinstance(target.value, np.dtype)
        order = state[1].decode('latin-1') if isinstance(state[1], bytes) else state[1]
        if order in ('<', '>'):
            target.value = target.value.newbyteorder('<' if order == '<' else '>')
        elif order not in ('|', '='):
            raise NotCifar('its numpy dtype has an unknown byte order')
    elif target.kind == RECONSTRUCT and target.value is None and len(state) in (4, 5):
        target.value = array(*state[-4:])
    else:
        raise NotCifar('its pickle sets a numpy state that no CIFAR-10 batch holds')


def dict_items(items: list[Any]) -> dict[Any, Any]:
    """The dict of the keys and values `items` alternates.  Its keys are strings or
    numbers, as a batch's are: hashing anything else might recurse without end."""
    if len(items) % 2 or not all(isinstance(key, (bytes, str, int)) for key in items[::2]):
        raise NotCifar('its pickle makes a dict that no CIFAR-10 batch holds')
    return dict(zip(items[::2], items[1::2]))


def unpickle_batch(data: bytes) -> object:
    """The object the pickle `data` holds, made without unpickling: a stack machine over
    the opcodes pickletools reads, for the few that dicts, lists, tuples, numbers,
    strings and numpy arrays need.  Any other opcode or global is refused, so nothing in
    the file can call anything; GLOBALS and REDUCE make only the models above."""
    stack: list[Any] = []
    marks: list[int] = []       # where each open MARK is on the stack
    memo: dict[int, Any] = {}

    def pop() -> Any:
        # As in pickle's own machine, what lies below the last MARK is out of reach.
        if len(stack) <= (marks[-1] if marks else 0):
            raise NotCifar('its pickle is damaged: it takes from an empty stack')
        return stack.pop()

    def top(kind: type = object) -> Any:
        value = pop()
        stack.append(value)
        if not isinstance(value, kind):
            raise NotCifar(f'its pickle adds to a {type(value).__name__}, not a {kind.__name__}')
        return value

    def since_mark() -> list[Any]:
        if not marks:
            raise NotCifar('its pickle is damaged: it has no MARK')
        start = marks.pop()
        items = stack[start:]
        del stack[start:]
        return items

    for count, (opcode, value, _) in enumerate(pickletools.genops(data)):
        name, arg = opcode.name, cast(Any, value)
        if count == MAX_OPCODES:
            raise NotCifar(f'its pickle has more than {MAX_OPCODES:,} opcodes')
        if name in PUSHES:
            stack.append(PUSHES[name](arg))
        elif name in ('PROTO', 'FRAME'):
            pass
        elif name == 'MARK':
            marks.append(len(stack))
        elif name == 'STOP':
            return pop()
        elif name in ('PUT', 'BINPUT', 'LONG_BINPUT', 'MEMOIZE'):
            memo[len(memo) if name == 'MEMOIZE' else arg] = top()
        elif name in ('GET', 'BINGET', 'LONG_BINGET'):
            if arg not in memo:
                raise NotCifar(f'its pickle is damaged: it gets {arg}, which it never put')
            stack.append(memo[arg])
        elif name in ('TUPLE', 'LIST'):
            items = since_mark()
            stack.append(tuple(items) if name == 'TUPLE' else items)
        elif name in TUPLES:
            stack.append(tuple(reversed([pop() for _ in range(TUPLES[name])])))
        elif name in ('APPEND', 'APPENDS'):
            items = since_mark() if name == 'APPENDS' else [pop()]
            top(list).extend(items)
        elif name == 'DICT':
            stack.append(dict_items(since_mark()))
        elif name in ('SETITEM', 'SETITEMS'):
            items = since_mark() if name == 'SETITEMS' else list(reversed([pop(), pop()]))
            top(dict).update(dict_items(items))
        elif name in ('GLOBAL', 'STACK_GLOBAL'):
            names = arg.split(' ', 1) if name == 'GLOBAL' else list(reversed([pop(), pop()]))
            model = GLOBALS.get(tuple(names)) if all(isinstance(n, str) for n in names) else None
            if model is None:
                what = (shown('.'.join(names)) if all(isinstance(n, str) for n in names)
                        else 'a non-name')
                raise NotCifar(f'its pickle imports {what}, which no CIFAR-10 batch imports')
            stack.append(model)
        elif name == 'REDUCE':
            args = pop()
            stack.append(reduce(pop(), args))
        elif name == 'BUILD':
            state = pop()
            build(top(), state)
        else:
            raise NotCifar(f'its pickle uses the opcode {name}, which no CIFAR-10 batch uses')
    raise NotCifar('its pickle has no end')   # genops stops at STOP, or raises ValueError


def decode_batch(data: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(images N x 3 x 32 x 32 uint8, labels int64) of one batch of the archive."""
    batch = unpickle_batch(data)
    if not isinstance(batch, dict):
        raise NotCifar(f'{name} holds a {type(batch).__name__}, not a dict')
    pixels, labels = batch.get(b'data'), batch.get(b'labels')
    if not (isinstance(pixels, Made) and isinstance(pixels.value, np.ndarray)
            and pixels.value.dtype == np.uint8 and pixels.value.ndim == 2
            and pixels.value.shape[1] == math.prod(CIFAR_IMAGE)):
        raise NotCifar(f"{name} has no b'data' of uint8 rows of {math.prod(CIFAR_IMAGE)} pixels")
    images = pixels.value.reshape(-1, *CIFAR_IMAGE)
    if not (isinstance(labels, list) and len(labels) == len(images)
            and all(type(label) is int and 0 <= label < CIFAR_CLASSES for label in labels)):
        raise NotCifar(f"{name} has no b'labels': a list of {len(images)} classes 0 to "
                       f"{CIFAR_CLASSES - 1}, one per image")
    return images, np.array(labels, dtype=np.int64)


def read_cifar10(data_file: str) -> tuple[tuple[np.ndarray, np.ndarray],
                                         tuple[np.ndarray, np.ndarray]]:
    """((images, labels) of the training batches, (images, labels) of the test batch) of
    the CIFAR-10 python archive: images N x 3 x 32 x 32 uint8, labels int64, in the order
    of paddle.vision.datasets.Cifar10 (data_batch_1 .. data_batch_5), which read the
    same archive by unpickling it.  Nothing here unpickles: see unpickle_batch."""
    content = read_archive(data_file)
    try:
        batches = archive_batches(io.BytesIO(content))
        train = [decode_batch(batches[name], name) for name in CIFAR_TRAIN if name in batches]
        test = [decode_batch(batches[name], name) for name in CIFAR_TEST if name in batches]
    except NotCifar as error:
        raise FileError(f'--data-file {data_file} is not a CIFAR-10 python archive: {error}')
    except (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError, ValueError) as error:
        # A damaged or truncated archive, or a pickle that pickletools cannot parse.
        raise FileError(f'--data-file {data_file} is not a CIFAR-10 python archive '
                         f'({type(error).__name__}: {error})'.replace('\n', ' '))
    for part, found in (('data_batch files', train), ('test_batch file', test)):
        if not found:
            raise FileError(f'--data-file {data_file} is not a CIFAR-10 python archive: it '
                             f'has no {part}')
    return ((np.concatenate([images for images, _ in train]),
             np.concatenate([labels for _, labels in train])),
            (np.concatenate([images for images, _ in test]),
             np.concatenate([labels for _, labels in test])))


