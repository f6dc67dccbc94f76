"""A data archive and a weights file are untrusted input: nothing in them runs, nothing
outside is touched, nothing hangs.  The CIFAR-10 archive is decoded without unpickling
(resnet_tools/training/data.py); weights are read from regular files only, the scripts
refuse a pickle and name the one-time conversion, and another dtype is one error."""
import contextlib
import io
import os
import pathlib
import pickle
import pickletools
import re
import shlex
import signal
import struct
import subprocess
import sys
import tarfile

import numpy as np
import paddle
import pytest
import safetensors.numpy

import resnet
from helpers import REPO, load_script, run_script
from resnet_tools import weights
from resnet_tools.errors import UsageError
from resnet_tools.training import cifar_archive, data
from resnet_tools.weights import formats


# --- archives written here ---------------------------------------------------------------

class Python2Pickle:
    """The bytes Python 2's cPickle writes with protocol 2 for what a CIFAR-10 batch holds
    (its str is bytes here), as in the published archive: short strings 'U', long ones
    'T', False as 'I00', numpy's array through numpy.core.multiarray._reconstruct."""

    def __init__(self) -> None:
        self.out = bytearray(b'\x80\x02')
        self.memo = 0

    def put(self) -> None:
        self.memo += 1
        self.out += (b'q' + bytes([self.memo]) if self.memo < 256
                     else b'r' + struct.pack('<I', self.memo))

    def global_(self, module: str, name: str) -> None:
        self.out += f'c{module}\n{name}\n'.encode()
        self.put()

    def int_(self, value: int) -> None:
        if 0 <= value < 256:
            self.out += b'K' + bytes([value])
        elif 0 <= value < 65536:
            self.out += b'M' + struct.pack('<H', value)
        else:
            self.out += b'J' + struct.pack('<i', value)

    def str_(self, value: bytes, memoize: bool = True) -> None:
        self.out += (b'U' + bytes([len(value)]) if len(value) < 256
                     else b'T' + struct.pack('<i', len(value))) + value
        if memoize:
            self.put()

    def array(self, value: np.ndarray) -> None:
        self.global_('numpy.core.multiarray', '_reconstruct')
        self.global_('numpy', 'ndarray')
        self.out += b'K\x00\x85'                      # (0,)
        self.str_(b'b', memoize=False)
        self.out += b'\x87R'                          # TUPLE3, REDUCE
        self.put()
        self.out += b'(K\x01'                         # MARK, 1: the state's version
        for size in value.shape:
            self.int_(size)
        self.out += b'\x86'                           # TUPLE2: the shape
        self.global_('numpy', 'dtype')
        self.str_(value.dtype.str[1:].encode(), memoize=False)
        self.out += b'K\x00K\x01\x87R'                # (code, 0, 1), REDUCE
        self.put()
        self.out += b'(K\x03'
        self.str_(value.dtype.str[:1].encode(), memoize=False)
        self.out += b'NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb'   # the dtype's state
        self.out += b'I00\n'                          # not Fortran-ordered
        self.str_(value.tobytes(), memoize=False)
        self.out += b'tb'                             # TUPLE, BUILD

    def list_(self, values: list) -> None:
        self.out += b']'
        self.put()
        for start in range(0, len(values), 1000):     # cPickle appends 1000 at a time
            self.out += b'('
            for value in values[start:start + 1000]:
                if isinstance(value, int):
                    self.int_(value)
                else:
                    self.str_(value)
            self.out += b'e'

    def dumps(self, batch: dict) -> bytes:
        self.out += b'}'
        self.put()
        self.out += b'('
        for key, value in batch.items():
            self.str_(key)
            if isinstance(value, np.ndarray):
                self.array(value)
            elif isinstance(value, list):
                self.list_(value)
            else:
                self.str_(value)
        self.out += b'u.'
        return bytes(self.out)


def cifar_batch(count, seed):
    rng = np.random.default_rng(seed)
    return {b'data': rng.integers(0, 256, size=(count, 3072), dtype=np.uint8),
            b'labels': rng.integers(0, 10, size=count).tolist(),
            b'batch_label': f'training batch {seed} of 5'.encode(),
            b'filenames': [f'image_{seed}_{i}.png'.encode() for i in range(count)]}


BATCH_NAMES = [f'data_batch_{i}' for i in range(1, 6)] + ['test_batch']


def write_tar(path, members, mode='w:gz'):
    """A tar archive of `members`: {name: bytes, or a function that fills a TarInfo}."""
    with tarfile.open(path, mode) as archive:
        for name, content in members.items():
            member = tarfile.TarInfo(name)
            if callable(content):
                content(member)
                archive.addfile(member)
            else:
                member.size = len(content)
                archive.addfile(member, io.BytesIO(content))
    return path


def write_archive(path, batches, dumps, extra=None):
    """A CIFAR-10 python archive of `batches` ({name: dict}), pickled by `dumps`."""
    members = {f'cifar-10-batches-py/{name}': dumps(batch) for name, batch in batches.items()}
    return write_tar(path, {**members, **(extra or {})})


def py2_dumps(batch):
    return Python2Pickle().dumps(batch)


def small_batches(sizes=(20, 20, 300, 20, 20, 30)):
    # 300 images: more than 255 memo entries, so cPickle's LONG_BINPUT appears too.
    return {name: cifar_batch(size, seed) for seed, (name, size) in enumerate(zip(BATCH_NAMES, sizes))}


def expected(batches, names):
    return (np.concatenate([batches[name][b'data'] for name in names]).reshape(-1, 3, 32, 32),
            np.concatenate([batches[name][b'labels'] for name in names]).astype(np.int64))


def assert_parts_equal(got, want):
    images, labels = got
    assert images.dtype == np.uint8 and labels.dtype == np.int64
    assert np.array_equal(images, want[0]) and np.array_equal(labels, want[1])


def paddles_reading(path, mode):
    """What paddle.vision.datasets.Cifar10 made of the archive (by unpickling it: our own)."""
    from paddle.vision.datasets import Cifar10
    samples = Cifar10(data_file=str(path), mode=mode, download=False, backend='cv2').data
    return (np.stack([np.asarray(image, dtype=np.uint8).reshape(3, 32, 32) for image, _ in samples]),
            np.array([label for _, label in samples], dtype=np.int64))


def not_cifar(path):
    """The one-line UsageError of reading `path` as the CIFAR-10 archive."""
    with pytest.raises(UsageError) as error:
        cifar_archive.read_cifar10(str(path))
    message = str(error.value)
    assert '\n' not in message
    return message


def error_line(result, script):
    """The one line of a script's usage error (exit code 2), without its '(see --help)'."""
    assert result.returncode == 2 and 'Traceback' not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f'{script}: error: '), result.stderr
    return lines[0].removesuffix(' (see --help)')


@contextlib.contextmanager
def within(seconds):
    """Fail, instead of hanging, when the block takes longer than `seconds`."""
    def hung(signum, frame):
        raise TimeoutError(f'still waiting after {seconds} seconds')
    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# --- the CIFAR-10 archive ------------------------------------------------------------------

def test_the_python2_writer_writes_a_real_pickle():
    batch = cifar_batch(300, 3)
    payload = py2_dumps(batch)
    assert {op.name for op, _, _ in pickletools.genops(payload)} == {
        'PROTO', 'EMPTY_DICT', 'BINPUT', 'LONG_BINPUT', 'MARK', 'SHORT_BINSTRING', 'BINSTRING',
        'GLOBAL', 'BININT1', 'BININT2', 'BININT', 'TUPLE1', 'TUPLE2', 'TUPLE3', 'TUPLE', 'REDUCE',
        'NONE', 'BUILD', 'INT', 'EMPTY_LIST', 'APPENDS', 'SETITEMS', 'STOP'}
    # Python reads it back whole, as Paddle's reader did (encoding='bytes').
    decoded = pickle.loads(payload, encoding='bytes')
    assert decoded.keys() == batch.keys()
    assert np.array_equal(decoded[b'data'], batch[b'data']) and decoded[b'data'].dtype == np.uint8
    assert decoded[b'labels'] == batch[b'labels'] and decoded[b'filenames'] == batch[b'filenames']


def test_python2_batches_are_read_whole(tmp_path, no_unpickling):
    batches = small_batches()
    path = write_archive(tmp_path / 'cifar-10-python.tar.gz', batches, py2_dumps,
                         {'cifar-10-batches-py/readme.html': b'<html></html>'})
    train, test = cifar_archive.read_cifar10(str(path))
    assert_parts_equal(train, expected(batches, BATCH_NAMES[:5]))
    assert_parts_equal(test, expected(batches, BATCH_NAMES[5:]))
    assert len(train[1]) == 380 and len(test[1]) == 30
    assert no_unpickling == []


@pytest.mark.parametrize('protocol', [2, 3, 4, 5])
def test_python3_pickles_give_what_paddle_gives(tmp_path, protocol):
    batches = small_batches((20, 20, 20, 20, 20, 30))
    path = write_archive(tmp_path / 'cifar.tar.gz', batches,
                         lambda batch: pickle.dumps(batch, protocol=protocol))
    train, test = cifar_archive.read_cifar10(str(path))
    assert_parts_equal(train, paddles_reading(path, 'train'))
    assert_parts_equal(test, paddles_reading(path, 'test'))
    assert_parts_equal(train, expected(batches, BATCH_NAMES[:5]))


def test_loading_cifar10_unpickles_nothing(tmp_path, no_unpickling):
    batches = small_batches((20, 20, 20, 20, 20, 30))
    path = write_archive(tmp_path / 'cifar.tar.gz', batches, pickle.dumps)
    with pytest.raises(Exception):     # the guard guards: an unpickler call fails
        pickle.loads(pickle.dumps(1))
    no_unpickling.clear()
    images = data.DataSource('cifar10', str(path), train_size=50).load()
    assert no_unpickling == []
    raw = batches['data_batch_1'][b'data'].reshape(-1, 3, 32, 32).astype(np.float32) / 255
    assert images.train_images.shape == (50, 3, 32, 32) and images.test_images.shape == (30, 3, 32, 32)
    assert np.allclose(images.train_images[0] - images.train_images[1], raw[0] - raw[1], atol=1e-6)
    assert list(images.train_labels[:20]) == batches['data_batch_1'][b'labels']


def test_a_pickle_that_runs_a_command_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / 'ran'
    payload = f"cos\nsystem\n(S'touch {marker}'\ntR.".encode()
    batches = small_batches((20, 20, 20, 20, 20, 30))
    path = write_archive(tmp_path / 'evil.tar.gz', batches, pickle.dumps)
    members = {f'cifar-10-batches-py/{name}': pickle.dumps(batch) for name, batch in batches.items()}
    members['cifar-10-batches-py/data_batch_1'] = payload
    write_tar(path, members)
    result = run_script('train.py', '--arch', 'cifar_resnet20', '--data', 'cifar10',
                        '--data-file', path, '--output', tmp_path / 'run')
    assert error_line(result, 'train.py') == (
        f'train.py: error: --data-file {path} is not a CIFAR-10 python archive: its pickle '
        f'imports os.system, which no CIFAR-10 batch imports')
    assert not marker.exists() and not (tmp_path / 'run').exists()
    # The payload is live: unpickled, as Paddle's reader did, it runs the command.
    subprocess.run([sys.executable, '-c', 'import pickle, sys; pickle.loads(sys.stdin.buffer.read())'],
                   input=payload, check=True)
    assert marker.exists()


EVIL = {
    'STACK_GLOBAL builtins.eval': (b'\x80\x04\x8c\x08builtins\x8c\x04eval\x93\x8c\x011\x85R.',
                                   'imports builtins.eval'),
    'a numpy name not modelled': (b'\x80\x02cnumpy\nload\nX\x01\x00\x00\x00x\x85R.',
                                  'imports numpy.load'),
    'INST': (b"(S'true'\nios\nsystem\n.", 'the opcode INST'),
    'OBJ': (b'(cnumpy\ndtype\no.', 'the opcode OBJ'),
    'NEWOBJ': (b'\x80\x02cnumpy\ndtype\n)\x81.', 'the opcode NEWOBJ'),
    'EXT1': (b'\x80\x02\x82\x01.', 'the opcode EXT1'),
    'PERSID': (b'Pid\n.', 'the opcode PERSID'),
    'encode of another codec': (b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00xX\x06\x00\x00\x00rot_13\x86R.",
                                'calls encode in a way no CIFAR-10 batch does'),
    'a dtype of objects': (b"\x80\x02cnumpy\ndtype\nX\x02\x00\x00\x00O8\x85R.",
                           "an array of dtype 'O8', not of numbers"),
    'BUILD on a dict': (b'\x80\x02}}b.', 'sets the state of something that is not a numpy array'),
    'a list as a key': (b'\x80\x02}]K\x01s.', 'makes a dict that no CIFAR-10 batch holds'),
    'no STOP': (b'\x80\x02}', 'pickle exhausted before seeing STOP'),
    'a memo never put': (b'\x80\x02h\x05.', 'it gets 5, which it never put'),
    'below the mark': (b'\x80\x02K\x01(\x85.', 'it takes from an empty stack'),
}


@pytest.mark.parametrize('case', EVIL)
def test_other_opcodes_and_globals_are_refused(case, tmp_path, no_unpickling):
    payload, reason = EVIL[case]
    path = write_tar(tmp_path / 'crafted.tar.gz', {'cifar-10-batches-py/data_batch_1': payload})
    message = not_cifar(path)
    assert message.startswith(f'--data-file {path} is not a CIFAR-10 python archive')
    assert reason in message
    assert no_unpickling == []


@pytest.mark.parametrize('kind, fill, says', [
    ('symbolic link', lambda m: (setattr(m, 'type', tarfile.SYMTYPE),
                                 setattr(m, 'linkname', '/etc/passwd')), 'is a symbolic link'),
    ('hard link', lambda m: (setattr(m, 'type', tarfile.LNKTYPE),
                             setattr(m, 'linkname', 'cifar-10-batches-py/readme.html')),
     'is a hard link'),
    ('directory', lambda m: setattr(m, 'type', tarfile.DIRTYPE), 'is a directory'),
    ('FIFO', lambda m: setattr(m, 'type', tarfile.FIFOTYPE), 'is a special file'),
    ('device', lambda m: (setattr(m, 'type', tarfile.CHRTYPE), setattr(m, 'devmajor', 1),
                          setattr(m, 'devminor', 5)), 'is a special file'),
])
def test_a_batch_that_is_not_a_regular_file_is_refused(kind, fill, says, tmp_path):
    path = write_tar(tmp_path / 'links.tar.gz', {'cifar-10-batches-py/readme.html': b'x',
                                                 'cifar-10-batches-py/data_batch_1': fill})
    assert not_cifar(path).endswith(f'cifar-10-batches-py/data_batch_1 {says}, not a regular file')


def test_the_bounds_hold_the_published_archive_and_refuse_more(tmp_path, monkeypatch):
    # A full batch as published: 10,000 images in Python 2's protocol 2, about 31 MB.
    full = len(py2_dumps(cifar_batch(10_000, 0)))
    assert 30_000_000 < full < cifar_archive.MAX_MEMBER_BYTES
    assert 6 * full + 10 * 512 < cifar_archive.MAX_UNPACKED_BYTES
    batches = small_batches((20, 20, 20, 20, 20, 30))
    path = write_archive(tmp_path / 'cifar.tar.gz', batches, pickle.dumps,
                         {'cifar-10-batches-py/readme.html': bytes(3 << 20)})
    monkeypatch.setattr(cifar_archive, 'MAX_MEMBER_BYTES', 1 << 20)
    assert not_cifar(path).endswith(f'cifar-10-batches-py/readme.html is {3 << 20} bytes, more '
                                    f'than any file of the archive (1 MiB at most)')
    monkeypatch.setattr(cifar_archive, 'MAX_MEMBER_BYTES', 4 << 20)
    monkeypatch.setattr(cifar_archive, 'MAX_UNPACKED_BYTES', 2 << 20)
    assert not_cifar(path).endswith('it unpacks to more than 2 MiB')
    monkeypatch.setattr(cifar_archive, 'MAX_UNPACKED_BYTES', 8 << 20)
    monkeypatch.setattr(cifar_archive, 'MAX_MEMBERS', 3)
    assert not_cifar(path).endswith('it has more than 3 entries')
    monkeypatch.setattr(cifar_archive, 'MAX_MEMBERS', 64)
    train, _ = cifar_archive.read_cifar10(str(path))
    assert len(train[1]) == 100
    # A published batch is some 30,000 opcodes; a crafted one of millions is refused.
    opcodes = sum(1 for _ in pickletools.genops(py2_dumps(cifar_batch(10_000, 0))))
    assert opcodes < cifar_archive.MAX_OPCODES / 30
    nested = write_tar(tmp_path / 'nested.tar.gz', {'cifar-10-batches-py/data_batch_1':
                                                    b'\x80\x02K\x01' + b'\x85' * 2_000_000 + b'.'})
    assert not_cifar(nested).endswith('its pickle has more than 1,000,000 opcodes')


@pytest.mark.parametrize('case, batch, says', [
    ('a list', [1, 2], 'holds a list, not a dict'),
    ('float pixels', {b'data': np.zeros((2, 3072)), b'labels': [1, 2]}, "has no b'data' of uint8"),
    ('wrong row length', {b'data': np.zeros((2, 1024), np.uint8), b'labels': [1, 2]},
     "has no b'data' of uint8 rows of 3072 pixels"),
    ('label 10', {b'data': np.zeros((2, 3072), np.uint8), b'labels': [1, 10]},
     "has no b'labels': a list of 2 classes 0 to 9, one per image"),
    ('fewer labels', {b'data': np.zeros((2, 3072), np.uint8), b'labels': [1]},
     "has no b'labels': a list of 2 classes"),
    ('str keys', {'data': np.zeros((2, 3072), np.uint8), 'labels': [1, 2]}, "has no b'data'"),
])
def test_a_batch_of_other_contents_is_refused(case, batch, says, tmp_path):
    path = write_tar(tmp_path / 'other.tar.gz',
                     {'cifar-10-batches-py/data_batch_1': pickle.dumps(batch, protocol=2)})
    assert f'archive: cifar-10-batches-py/data_batch_1 {says}' in not_cifar(path)


def test_a_batch_twice_and_a_missing_test_batch_are_refused(tmp_path):
    batch = pickle.dumps(cifar_batch(2, 0))
    path = tmp_path / 'twice.tar'
    with tarfile.open(path, 'w') as archive:    # an uncompressed tar is read too
        for _ in range(2):
            member = tarfile.TarInfo('cifar-10-batches-py/data_batch_1')
            member.size = len(batch)
            archive.addfile(member, io.BytesIO(batch))
    assert not_cifar(path).endswith('it holds cifar-10-batches-py/data_batch_1 twice')
    only_train = write_tar(tmp_path / 'train.tar.gz', {'cifar-10-batches-py/data_batch_1': batch})
    assert not_cifar(only_train).endswith('it has no test_batch file')


@pytest.mark.parametrize('kind, name', [('FIFO', 'a FIFO'), ('/dev/zero', 'a character device')])
def test_a_data_file_that_is_no_file_is_refused_at_once(kind, name, tmp_path):
    path = special_file(kind, tmp_path, 'cifar-10-python.tar.gz')
    message = f'--data-file {path} is not a file: it is {name}'
    with within(20), pytest.raises(UsageError, match=f'^{re.escape(message)}$'):
        data.DataSource('cifar10', str(path)).load()


# --- weights files -------------------------------------------------------------------------

@pytest.fixture(scope='module')
def cifar_state():
    paddle.seed(1)
    return {key: value.numpy() for key, value in resnet.build('cifar_resnet20').state_dict().items()}


def special_file(kind, directory, name):
    path = directory / name
    os.mkfifo(path) if kind == 'FIFO' else path.symlink_to('/dev/zero')
    return path


@pytest.mark.parametrize('kind, what', [('FIFO', 'a FIFO'), ('/dev/zero', 'a character device')])
@pytest.mark.parametrize('name', ['w.safetensors', 'w.pdparams'])
def test_the_api_reads_weights_from_regular_files_only(kind, what, name, tmp_path):
    path = special_file(kind, tmp_path, name)
    message = f'{path} is {what}, not a regular file: weights are read from files only'
    with within(20):
        for read in (weights.read_state_dict, formats.file_md5,
                     lambda path: weights.load_weights(resnet.build('cifar_resnet20'), path),
                     lambda path: formats.refuse_pickle(str(path))):
            with pytest.raises(weights.WeightsError, match=re.escape(message)):
                read(path)
        if name.endswith('.pdparams'):
            with pytest.raises(weights.WeightsError, match=re.escape(message)):
                weights.check_md5(path)


def test_a_fifo_put_in_place_after_the_check_is_still_refused(tmp_path, monkeypatch):
    # The file is checked again once open (without blocking): a swap is no way around it.
    path = special_file('FIFO', tmp_path, 'w.safetensors')
    monkeypatch.setattr(formats, 'check_regular', lambda path: None)
    with within(20), pytest.raises(weights.WeightsError,
                                   match=re.escape(f'{path} is a FIFO, not a regular file')):
        weights.read_state_dict(path)


@pytest.mark.parametrize('script, name', [
    ('compare.py', 'w.safetensors'), ('export.py', 'w.pdparams'),
    ('convert.py', 'w.pdparams'), ('convert.py', 'w.safetensors')])
def test_scripts_refuse_a_fifo_without_waiting(script, name, tmp_path):
    path = special_file('FIFO', tmp_path, name)
    args = {'compare.py': ['--weights', path],
            'export.py': ['--layers', '18', '--weights', path, '--output', tmp_path / 'out'],
            'convert.py': ['--to-ours', path, tmp_path / 'out.safetensors']}[script]
    result = run_script(script, *args, timeout=120)
    assert error_line(result, script) == (
        f'{script}: error: {path} is a FIFO, not a regular file: weights are read from files only')
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


DTYPES = ['float64', 'int64', 'float16']


def with_dtype(state, dtype, key='residual_block.0.conv_bn_block1.1._mean'):
    return {**state, key: state[key].astype(dtype)}


@pytest.mark.parametrize('dtype', DTYPES)
def test_another_dtype_is_one_weights_error_on_every_path(dtype, cifar_state, tmp_path):
    state = with_dtype(cifar_state, dtype)
    path = tmp_path / 'w.safetensors'
    safetensors.numpy.save_file(state, path)
    message = (f'holds residual_block.0.conv_bn_block1.1._mean as {dtype}; the networks here '
               f'are float32 throughout')
    for source in (path, str(path), state):
        with pytest.raises(weights.WeightsError, match=message):
            weights.load_weights(resnet.build('cifar_resnet20'), source)
    with pytest.raises(weights.WeightsError, match=message):
        weights.pretrained('cifar_resnet20', str(path))
    with pytest.raises(weights.WeightsError, match=message):
        paddle.hub.load(str(REPO), 'cifar_resnet20', source='local', pretrained=str(path))
    # The same file in float32 loads: only the dtype was wrong.
    safetensors.numpy.save_file(cifar_state, path)
    assert weights.load_weights(resnet.build('cifar_resnet20'), path) == weights.OURS


def test_scripts_name_another_dtype(cifar_state, tmp_path):
    path = tmp_path / 'c20.safetensors'
    safetensors.numpy.save_file(with_dtype(cifar_state, 'int64'), path)
    result = run_script('export.py', '--arch', 'cifar_resnet20', '--weights', path,
                        '--output', tmp_path / 'out')
    assert error_line(result, 'export.py') == (
        f'export.py: error: {path} holds residual_block.0.conv_bn_block1.1._mean as int64; the '
        f'networks here are float32 throughout: convert the file to float32 first')
    paddle.seed(0)
    official = {key: value.numpy() for key, value in
                paddle.vision.models.resnet18(num_classes=10).state_dict().items()}
    r18 = tmp_path / 'r18.safetensors'
    safetensors.numpy.save_file({**official, 'fc.weight': official['fc.weight'].astype('float64')}, r18)
    result = run_script('compare.py', '--weights', r18)
    assert error_line(result, 'compare.py') == (
        f'compare.py: error: {r18} holds fc.weight as float64; the networks here are float32 '
        f'throughout: convert the file to float32 first')


def evil_pdparams(path, marker):
    """A .pdparams file whose unpickling runs a command that makes `marker`."""
    path.write_bytes(f"cos\nsystem\n(S'touch {marker}'\ntR.".encode())
    return path


def pickle_refusal(script, path, target, direction):
    command = shlex.join(['python', 'scripts/convert.py', direction, str(path), str(target)])
    return (f'{script}: error: --weights {path} is a pickle, which can run code when it is '
            f'loaded; convert it once: {command}, then give --weights {target}')


@pytest.mark.parametrize('script, args, direction', [
    ('compare.py', [], '--to-official'),
    ('export.py', ['--layers', '18', '--output', 'OUT'], '--to-official'),
    ('export.py', ['--arch', 'cifar_resnet20', '--output', 'OUT'], '--to-ours'),
])
def test_scripts_refuse_a_pickle_and_name_the_conversion(script, args, direction, tmp_path):
    marker = tmp_path / 'ran'
    path = evil_pdparams(tmp_path / 'my weights.pdparams', marker)
    args = [str(tmp_path / 'out') if arg == 'OUT' else arg for arg in args]
    result = run_script(script, *args, '--weights', path)
    assert result.stdout == '' and error_line(result, script) == pickle_refusal(
        script, path, tmp_path / 'my weights.safetensors', direction)
    assert not marker.exists() and sorted(p.name for p in tmp_path.iterdir()) == ['my weights.pdparams']


def test_the_named_conversion_makes_a_file_compare_py_takes(tmp_path):
    paddle.seed(0)
    path = tmp_path / 'r18.pdparams'
    paddle.save(paddle.vision.models.resnet18(num_classes=10).state_dict(), str(path))
    refusal = run_script('compare.py', '--weights', path).stderr
    command = refusal.split('convert it once: ')[1].split(', then give')[0]
    words = shlex.split(command)
    assert words[:3] == ['python', 'scripts/convert.py', '--to-official']
    converted = run_script(pathlib.Path(words[1]).name, *words[2:])
    assert converted.returncode == 0, converted.stderr
    assert converted.stderr.splitlines() == [
        f'convert.py: warning: unpickling {path}, which runs any code the file holds: convert '
        f'only a file from a source you trust']
    result = run_script('compare.py', '--weights', tmp_path / 'r18.safetensors')
    assert result.returncode == 0, result.stderr
    row = next(line.split() for line in result.stdout.splitlines() if line.startswith('resnet18'))
    assert row[-2:] == ['0', 'same'] and result.stderr == ''


def test_convert_py_says_it_unpickles_before_it_does(tmp_path, monkeypatch, capsys):
    marker = tmp_path / 'ran'
    path = evil_pdparams(tmp_path / 'evil.pdparams', marker)
    convert = load_script('convert.py')
    loaded = []
    # Stand in for paddle.load: what matters is what was said before the file was loaded.
    monkeypatch.setattr(formats.paddle, 'load', lambda file: loaded.append(capsys.readouterr().err)
                        or {'x': 1})
    with pytest.raises(SystemExit) as exit_:
        convert.run(lambda: convert.main(['--to-ours', str(path), str(tmp_path / 'o.safetensors')]),
                    'convert.py')
    assert exit_.value.code == 2 and not marker.exists()
    assert loaded == [f'convert.py: warning: unpickling {path}, which runs any code the file '
                      f'holds: convert only a file from a source you trust\n']
    # A file whose md5 is one of Paddle's published files is named as that.
    url, _ = formats.model_urls['resnet18']
    monkeypatch.setitem(formats.model_urls, 'resnet18', (url, formats.file_md5(path)))
    loaded.clear()
    capsys.readouterr()
    with pytest.raises(SystemExit):
        convert.run(lambda: convert.main(['--to-ours', str(path), str(tmp_path / 'o.safetensors')]),
                    'convert.py')
    assert loaded == [f"convert.py: note: unpickling {path}, Paddle's published file (its md5 "
                      f"says so)\n"]
    capsys.readouterr()
