"""Fuzz the command lines of every script in scripts/ and of `python -m paddleinfo`.

    python tests/fuzz_commands.py --runs 1000 --jobs 2 --seed 0 [--timeout 60]

The project's rule: whatever the command line, a command ends with its normal output,
or with one line on stderr, `<prog>: ...`, and exit code 2 (a user's mistake, a full
disk), 1 (a run that failed), 130 or 143 (a signal); never a Python traceback, never
'Exception ignored', never a hang.

Each case is made from the seed and its number alone (`--case N` runs case N again):
a command, then a cheap valid command line of it (or one drawn at random from its
flags), then 0 to 3 changes: a value made invalid (0, -1, 1e309, nan, '', huge integers,
unicode, 300-character names), a path made special (a missing folder, a directory, a
FIFO, a link to /dev/zero or /dev/full, a dangling link), an unknown flag, a repeated
flag, a flag of another script, a truncation, a shuffle, a dropped token; sometimes the
standard output is /dev/full, and sometimes a Ctrl-C or SIGTERM comes after a delay.
A line that would run long (a full training run, all 13 networks of compare.py) is
drawn again.  Each case runs in a fresh folder of its own, with the files it names
(weights, a trained run, FIFOs, links), stdin from /dev/null, a memory limit, and a
timeout after which its process group is killed (a hang).  As root, a private mount
namespace keeps /dev read-only for it, so that no bug can replace /dev/full or /dev/null.

A run is 'ok' (exit code 0), 'error' (exit code 1, 2, 130 or 143 and every line on
stderr the program's own, `<prog>: ...`), 'traceback' (a Python traceback or
'Exception ignored' on stderr), 'hang' (killed at the timeout) or 'other' (anything
else: a foreign line on stderr with exit code 2, exit code -11, processes left behind).
The exit code is 0 only if no run was a traceback, a hang or other.
"""
import argparse
import concurrent.futures
import contextlib
import dataclasses
import math
import os
import pathlib
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import BinaryIO

REPO = pathlib.Path(__file__).resolve().parents[1]
PYTHON = sys.executable
WIDTH = 100
VERDICTS = ('ok', 'error', 'traceback', 'hang', 'other')
FAILURES = ('traceback', 'hang', 'other')
SIGNAL_CODES = (1, 2, 130, 143)
BUDGET = 20.0          # the estimated seconds above which a drawn line is drawn again
PADDLEINFO = 'paddleinfo'


# --- the flags of each command ---------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Flag:
    """A flag (or a positional argument, named without dashes) and its valid values,
    each the tuple of words that follow the flag; `nargs` as argparse's: '0' for a
    switch, '1', '?', '+' or '*'."""
    name: str
    kind: str
    valid: tuple[tuple[str, ...], ...]
    nargs: str = '1'


def flag(name: str, kind: str, *valid: str | tuple[str, ...], nargs: str = '1') -> Flag:
    return Flag(name, kind, tuple(value if isinstance(value, tuple) else (value,) for value in valid),
                nargs)


def switch(name: str) -> Flag:
    return Flag(name, 'switch', ((),), '0')


@dataclasses.dataclass(frozen=True)
class Command:
    """A command: its prog (what its errors start with), its flags and positional
    arguments, the cheap valid lines the cases start from, and how often it is drawn."""
    prog: str
    flags: tuple[Flag, ...]
    bases: tuple[tuple[str, ...], ...]
    weight: float
    positionals: tuple[Flag, ...] = ()

    def find(self, word: str) -> Flag | None:
        """The flag `word` names: its full name, or a prefix of only one (as argparse
        takes it); None for a word that is no flag of this command."""
        if not word.startswith('--') or len(word) < 3:
            return None
        name = word.split('=', 1)[0]
        exact = [item for item in self.flags if item.name == name]
        prefixed = [item for item in self.flags if item.name.startswith(name)]
        return exact[0] if exact else (prefixed[0] if len(prefixed) == 1 else None)


TINY = ('--train-size', '32', '--test-size', '16', '--epochs', '1', '--batch-size', '16')
SMALL_BENCHMARK = ('--input-size', '32', '--repeats', '1', '--warmup', '0', '--batch-size', '1')
CIFAR = ('cifar_resnet20', 'cifar_plain20', 'cifar_resnet32')
MODELS = ('LeNet', 'alexnet', 'mobilenet_v2', 'resnet18', 'nets.py:cnn')

NETWORK = (flag('--layers', 'depth', '18', '34'),
           flag('--arch', 'arch', 'resnet18', 'cifar_resnet20', 'cifar_plain20', 'resnet34'))
BLOCK = (flag('--block', 'choice', 'basic', 'bottleneck'),
         flag('--in-channels', 'int', '64', '3', '16'),
         flag('--out-channels', 'int', '128', '64', '256'),
         flag('--stride', 'int', '1', '2'))
INPUT_SIZE = flag('--input-size', 'ints', '64', ('3', '64'), ('3', '64', '96'), '32', nargs='+')
NUM_CLASSES = flag('--num-classes', 'int', '0', '10', '1000')
VARIANT = flag('--variant', 'choice', 'v1', 'v1.5')
VIEW = (flag('--depth', 'int', '1', '2', '3'), switch('--macs'), switch('--explain'),
        flag('--format', 'choice', 'plain', 'github', 'markdown', 'csv', 'json'))
INPUTS = (flag('--input', 'shape', '3x32x32', '50x16', '128:int64', '3x64x64:float32'),
          flag('--batch-size', 'int', '1', '2', '4'))
DATA = (flag('--data', 'choice', 'digits'), flag('--data-file', 'file-in', 'fake.tar.gz'),
        flag('--train-size', 'int', '32', '16', '64'), flag('--test-size', 'int', '16', '8'))
SETTINGS = (flag('--epochs', 'int', '1', '2'), flag('--batch-size', 'int', '16', '8', '32'),
            flag('--lr', 'number', '0.1', '0.05'), flag('--momentum', 'number', '0.9', '0'),
            flag('--weight-decay', 'number', '0.0001', '0'),
            flag('--milestones', 'numbers', '0.5', ('0.5', '0.75'), nargs='+'),
            flag('--lr-decay', 'number', '0.1', '0.5'), flag('--seed', 'int', '0', '3', '12345'),
            flag('--warmup-epochs', 'int', '0', '1'))
RUN = (flag('--device', 'choice', 'cpu'), switch('--resume'), switch('--force'))
# A training step's cost (issue 23); --time runs the model, which a fuzzer's many runs of
# full-size networks cannot afford, so it is left to the tests.
STEP = (switch('--training'), flag('--optimizer', 'choice', 'sgd', 'momentum', 'adam', 'adamw'),
        flag('--precision', 'choice', 'bfloat16', 'float32'))

COMMANDS: dict[str, Command] = {
    'summary': Command('summary.py', (
        *NETWORK, *BLOCK, flag('--model', 'model', *MODELS), NUM_CLASSES, VARIANT, INPUT_SIZE,
        *INPUTS, switch('--stages'), switch('--overview'),
        flag('--models', 'models', ('LeNet', 'alexnet'), 'resnet18', nargs='+'), *VIEW, *STEP), (
        ('--layers', '18'), ('--layers', '18', '--macs', '--explain'), ('--block', 'basic'),
        ('--block', 'bottleneck', '--in-channels', '64', '--out-channels', '128', '--stride', '2'),
        ('--arch', 'cifar_resnet20', '--stages'), ('--stages', '--variant', 'v1'), ('--overview',),
        ('--depth', '2', '--layers', '18'), ('--stages', '--format', 'json'),
        ('--model', 'LeNet', '--macs'), ('--model', 'nets.py:lstm', '--input', '50x16'),
        ('--models', 'LeNet', 'alexnet'), ('--arch', 'resnet18', '--input-size', '64', '--format', 'csv'),
        ('--layers', '18', '--num-classes', '0'),
        ('--stages', '--training', '--arch', 'cifar_resnet20', '--input-size', '32')), 2.0),
    'paddleinfo': Command(PADDLEINFO, (
        *INPUTS, INPUT_SIZE, *VIEW, flag('--timeout', 'number', '30', '120'), *STEP,
        flag('--plot', 'file-out', 'p.png', 'p.svg')), (
        ('LeNet',), ('LeNet', '--macs'), ('mobilenet_v2', '--input-size', '64', '--depth', '1'),
        ('nets.py:lstm', '--input', '50x16', '--macs'), ('nets.py:text', '--input', '128:int64'),
        ('nets.py:two_inputs', '--input', '3x32x32', '--input', '10', '--batch-size', '2'),
        ('alexnet', 'LeNet', '--format', 'markdown'), ('resnet18', '--explain', '--format', 'github'),
        ('LeNet', '--timeout', '30'), ('bad_models.py:linear', '--input', '16'),
        ('bad_models.py:loop', '--timeout', '2'), ('LeNet', '--training', '--optimizer', 'sgd'),
        ('LeNet', '--batch-size', '1,2', '--plot', 'p.png'),
        ('nets.py:text', '--input', '64,128:int64')), 2.0,
        (flag('MODEL', 'model', *MODELS, nargs='+'),)),
    'draw': Command('draw.py', (
        *NETWORK, *BLOCK, flag('--readme-figures', 'dir-out', 'figs', (), nargs='?'),
        flag('--output', 'file-out', 'd.svg', 'd.png', 'd.pdf', 'ü.svg'), switch('--force'),
        INPUT_SIZE, NUM_CLASSES, VARIANT, flag('--shortcut', 'choice', 'A', 'B', 'C', 'none'),
        switch('--compare'), flag('--max-blocks', 'int', '0', '2', '6'),
        flag('--columns', 'int', '1', '2', '3')), (
        ('--layers', '18', '--output', 'd.svg'), ('--block', 'basic', '--output', 'b.png'),
        ('--arch', 'cifar_resnet20', '--output', 'c.pdf'),
        ('--layers', '34', '--compare', '--output', 'cmp.svg'),
        ('--layers', '50', '--columns', '2', '--max-blocks', '2', '--output', 'x.svg'),
        ('--block', 'bottleneck', '--in-channels', '64', '--out-channels', '256', '--stride', '1',
         '--output', 'bb.svg'),
        ('--readme-figures', 'figs'), ('--layers', '18', '--shortcut', 'A', '--output', 'a.svg'),
        ('--arch', 'resnet18', '--variant', 'v1', '--num-classes', '10', '--input-size', '64',
         '--output', 'v.svg'),
        ('--layers', '18', '--output', 'exists.svg', '--force')), 1.5),
    'train': Command('train.py', (
        flag('--arch', 'arch', *CIFAR), flag('--shortcut', 'choice', 'A', 'B', 'C'), *DATA,
        flag('--output', 'dir-out', 't', 't2', 'ü'), *SETTINGS, *RUN,
        flag('--collective-timeout', 'number', '30', '300')), (
        ('--output', 't', *TINY), ('--arch', 'cifar_plain20', '--output', 't', *TINY),
        ('--shortcut', 'B', '--seed', '3', '--output', 't', *TINY),
        ('--output', 't', *TINY, '--lr', '0.05', '--momentum', '0.5', '--milestones', '0.5',
         '--lr-decay', '0.5', '--warmup-epochs', '1', '--device', 'cpu'),
        ('--output', 'run20', '--resume'), ('--output', 'run20', '--force', *TINY),
        ('--output', 't', '--data', 'cifar10', '--data-file', 'fake.tar.gz', *TINY)), 1.5),
    'degradation': Command('degradation.py', (
        flag('--plain', 'ints', '20', (), nargs='*'), flag('--resnet', 'ints', '20', (), nargs='*'),
        flag('--depths', 'ints', '20', nargs='+'), flag('--jobs', 'int', '1', '2'),
        flag('--lr-110', 'number', '0.02', '0.1'), *DATA,
        flag('--output', 'dir-out', 'd1', 'plots'), flag('--plot-only', 'dir-in', 'deg'),
        *SETTINGS, *RUN), (
        ('--plain', '--resnet', '20', *TINY, '--output', 'd1'),
        ('--plain', '20', '--resnet', *TINY, '--jobs', '1', '--output', 'd1'),
        ('--depths', '20', *TINY, '--output', 'd1'), ('--plot-only', 'deg', '--output', 'plots'),
        ('--plot-only', 'deg', '--force'), ('--plot-only', 'deg')), 1.0),
    'shortcuts': Command('shortcuts.py', (
        flag('--options', 'choices', 'A', ('B', 'C'), nargs='+'),
        flag('--seeds', 'ints', '0', '1', nargs='+'), flag('--jobs', 'int', '1', '2'), *DATA,
        flag('--output', 'dir-out', 's1', 'tb'), flag('--table-only', 'dir-in', 'sc'), *SETTINGS,
        *RUN), (
        ('--options', 'A', '--seeds', '0', *TINY, '--output', 's1'),
        ('--options', 'B', '--seeds', '1', *TINY, '--jobs', '1', '--output', 's1'),
        ('--table-only', 'sc', '--output', 'tb'), ('--table-only', 'sc', '--force'),
        ('--table-only', 'sc')), 1.0),
    'export': Command('export.py', (
        *NETWORK, flag('--weights', 'file-in', 'w20.safetensors', 'r18.safetensors'),
        flag('--run', 'dir-in', 'run20'), flag('--output', 'dir-out', 'ex', 'ü'), switch('--force'),
        flag('--input-size', 'ints', '32', '64', ('1', '32'), nargs='+'),
        flag('--num-classes', 'int', '10', '5', '0'), flag('--format', 'choice', 'paddle', 'onnx'),
        flag('--precision', 'choice', 'f32', 'bf16')), (
        ('--arch', 'cifar_resnet20', '--output', 'ex'),
        ('--arch', 'cifar_resnet20', '--format', 'onnx', '--output', 'ex'),
        ('--arch', 'cifar_resnet20', '--precision', 'bf16', '--output', 'ex'),
        ('--arch', 'cifar_plain20', '--num-classes', '5', '--output', 'ex'),
        ('--layers', '18', '--input-size', '64', '--output', 'ex'), ('--run', 'run20', '--output', 'ex'),
        ('--arch', 'cifar_resnet20', '--weights', 'w20.safetensors', '--output', 'ex'),
        ('--layers', '18', '--weights', 'r18.safetensors', '--input-size', '32', '--output', 'ex'),
        ('--arch', 'cifar_resnet20', '--output', 'nonempty', '--force')), 1.0),
    'compare': Command('compare.py', (
        flag('--arch', 'arch', 'resnet18', 'resnet34'), switch('--per-layer'),
        flag('--weights', 'file-in', 'r18.safetensors', 'r18v.safetensors'),
        flag('--input-size', 'ints', '32', '64', ('3', '32'), nargs='+')), (
        ('--arch', 'resnet18'), ('--arch', 'resnet18', '--per-layer'),
        ('--arch', 'resnet18', '--arch', 'resnet34', '--input-size', '32'),
        ('--weights', 'r18.safetensors', '--input-size', '32'),
        ('--weights', 'r18v.safetensors', '--arch', 'resnet18')), 1.0),
    'convert': Command('convert.py', (
        switch('--to-ours'), switch('--to-official'), flag('--arch', 'arch', 'resnet18', 'cifar_resnet20'),
        switch('--force')), (
        ('--to-ours', 'r18v.safetensors', 'out.safetensors'),
        ('--to-official', 'r18.safetensors', 'out.pdparams'),
        ('--to-ours', 'r18v.pdparams', 'out.safetensors'),
        ('--to-ours', 'w20.safetensors', 'out.pdparams', '--arch', 'cifar_resnet20'),
        ('--to-official', 'r18.safetensors', 'afile.safetensors', '--force'),
        ('--to-ours', 'r18v.safetensors', 'out.safetensors', '--arch', 'resnet18')), 1.5,
        (flag('INPUT', 'file-in', 'w20.safetensors', 'r18.safetensors', 'r18v.safetensors', 'r18v.pdparams'),
         flag('OUTPUT', 'file-out', 'out.safetensors', 'out.pdparams'))),
    'benchmark': Command('benchmark.py', (
        flag('--layers', 'depth', '18'), flag('--arch', 'arch', 'resnet18'),
        flag('--batch-size', 'int', '1', '2'), flag('--input-size', 'ints', '32', ('3', '32'), nargs='+'),
        flag('--repeats', 'int', '1', '2'), flag('--warmup', 'int', '0', '1'),
        flag('--threads', 'int', '1', '0'), switch('--training')), (
        ('--layers', '18', *SMALL_BENCHMARK), ('--arch', 'resnet18', *SMALL_BENCHMARK, '--threads', '0'),
        ('--layers', '18', '--input-size', '3', '32', '--repeats', '1', '--warmup', '1',
         '--batch-size', '2', '--threads', '1')), 0.7),
    'timings': Command('timings.py', (flag('--repeats', 'int', '1'), switch('--with-compare')),
                       (('--repeats', '1'),), 0.3),
}


# --- invalid values ---------------------------------------------------------------------

LONG = 'a' * 300
HUGE = ('9' * 25, str(2 ** 63), str(2 ** 64), '1' + '0' * 400, '9' * 5000)
GENERIC_BAD = ('', ' ', '-1', '0', 'nan', LONG, 'ü' * 50, '--', '-', '\t', 'ℝ', '18\n19', '日本語')
BAD: dict[str, tuple[str, ...]] = {
    'int': ('0', '-1', '1e309', 'nan', '', '3.5', 'ten', '１８', '٣', '0x10', ' 18', '+18', '1_000',
            '2147483648', '-0', *HUGE),
    'number': ('nan', 'inf', '-inf', '1e309', '', 'abc', '-1', '0', '1e-320', '0x1p3', '1,5', 'NaN',
               'Infinity', '１', '1e308', '-0'),
    'choice': ('', 'RESNET50', 'resnet', 'résnet50', 'v1 ', 'basic\n', LONG, 'none', 'a', 'json5'),
    'shape': ('', 'x', '3x', 'x3', '0x3', '-1x3', '3x0', '3x32x32:float8', '3x32x32:', '::', ':int64',
              '3x32x32:int64:int64', '3×32×32', '3X32X32', '1e3', '99999999x99999999',
              'x'.join(['1'] * 20), '3x32x32:bool', '3x32x32:complex128', '3x32x32:bfloat16',
              '3x32x32:float16', '２x３', '3x32x32:int64'),
    'model': ('nosuchnet', 'ResNet50', 'resnet', 'nets.py:nosuch', 'nets.py', 'nets.py:', ':lstm',
              'nets.py:lstm:x', 'missing.py:f', 'adir.py:f', 'fifo.py:f', 'zero.py:f', 'afile.py:f',
              'syntax_error.py:build', 'import_error.py:build', 'bad_models.py:raises',
              'bad_models.py:returns_none', 'bad_models.py:returns_int', 'bad_models.py:needs_args',
              'bad_models.py:recursion', 'bad_models.py:keyboard', 'bad_models.py:exits',
              'bad_models.py:noisy', 'bad_models.py:bad_forward', 'bad_models.py:text_output',
              'bad_models.py:not_callable', 'os:getcwd', 'os.path:join', 'paddle.nn:ReLU',
              'paddle.nn:Linear', 'builtins:input', 'sys:exit', 'json:loads', 'no.such.module:f',
              'paddle:nn', '.:f', '/:f', 'dangling.py:f', 'loop.py:f', LONG + '.py:f'),
}
BAD['ints'], BAD['numbers'], BAD['choices'], BAD['models'] = (BAD['int'], BAD['number'],
                                                               BAD['choice'], BAD['model'])
BAD['depth'] = ('0', '-1', '17', '19', '50.0', '1e309', 'nan', '', '１８', str(2 ** 64), '1202')
BAD['arch'] = ('resnet', 'resnet19', 'ResNet18', 'cifar_resnet21', 'cifar_resnet', 'cifar_plain',
               'resnext', 'vgg16', 'cifar_resnet1202', '', LONG, 'résnet18')
# The special files every case's folder holds, under each name of SPECIAL and each extension.
SPECIAL = ('adir', 'fifo', 'zero', 'full', 'null', 'dangling', 'loop', 'afile', 'nonempty')
EXTENSIONS = ('', '.svg', '.png', '.pdf', '.safetensors', '.pdparams', '.tar.gz', '.py', '.txt')
ODD_PATHS = ('', '.', '..', '/dev/full', '/dev/null', '/dev/zero', 'missing/deeper/x', 'afile/x',
             LONG, 'données/ü/x', '-x', ' x', 'x\n', '~', '/proc/x', 'a/' * 100 + 'x')
FILE_FIXTURES = ('empty.safetensors', 'empty.pdparams', 'junk.safetensors', 'junk.pdparams',
                 'huge_header.safetensors', 'lying.safetensors', 'junk.tar.gz', 'empty.tar.gz',
                 'fake.tar.gz', 'exists.svg')
DIR_FIXTURES = ('badrun', 'emptyrun', 'deg', 'sc', 'run20')
UNKNOWN = ('--bogus', '--bogus=1', '-x', '--', '-', '--help=1', '--LAYERS', '—layers', '--layers=',
           '--output=', '--версия', '--' + 'x' * 300, '--no-such-flag=ä', '-h', '---layers', '--=',
           '--force=yes', '--macs=1')
PATH_KINDS = ('file-in', 'file-out', 'dir-in', 'dir-out')


def extension(value: str) -> str:
    return '.tar.gz' if value.endswith('.tar.gz') else os.path.splitext(value)[1]


def bad_value(rng: random.Random, kind: str, valid: Sequence[str] = ()) -> str:
    """An invalid (or odd) value for a flag of `kind`, whose valid values are `valid`."""
    if kind in PATH_KINDS:
        return special_path(rng, kind, valid)
    if rng.random() < 0.2 or kind not in BAD:
        return rng.choice(GENERIC_BAD + HUGE[:2])
    return rng.choice(BAD[kind])


def special_path(rng: random.Random, kind: str, valid: Sequence[str] = ()) -> str:
    """A path that is something else than the flag wants, often with the right extension."""
    ext = extension(rng.choice(valid)) if valid and rng.random() < 0.7 else rng.choice(EXTENSIONS)
    roll = rng.random()
    if roll < 0.5:
        return rng.choice(SPECIAL) + ext
    if roll < 0.75:
        return rng.choice(ODD_PATHS) + (ext if rng.random() < 0.5 else '')
    if kind.startswith('file'):
        return rng.choice(FILE_FIXTURES + DIR_FIXTURES)
    return rng.choice(DIR_FIXTURES + FILE_FIXTURES)


def valid_value(rng: random.Random, item: Flag) -> tuple[str, ...]:
    return rng.choice(item.valid)


def invalid_values(rng: random.Random, item: Flag) -> tuple[str, ...]:
    """The words after `item` with one of them invalid (a multi-valued flag keeps some)."""
    values = list(valid_value(rng, item)) or ['']
    valid = [word for option in item.valid for word in option]
    values[rng.randrange(len(values))] = bad_value(rng, item.kind, valid)
    return tuple(values)


# --- the words of a line, read as argparse would (nearly) ------------------------------

def is_value(word: str) -> bool:
    """Whether argparse takes `word` as a value rather than a flag: not '-x', but '-1'."""
    return (not word.startswith('-') or word == '-'
            or re.fullmatch(r'-\d+(\.\d*)?([eE]-?\d+)?', word) is not None)


def parse(command: Command, words: Sequence[str]) -> dict[str, list[list[str]]]:
    """Each flag's occurrences in `words` (its values each time) and, under the names of
    the positional arguments, the words that fill them."""
    found: dict[str, list[list[str]]] = {}
    loose: list[str] = []
    index = 0
    while index < len(words):
        word, item = words[index], command.find(words[index])
        if item is None:
            if is_value(word):
                loose.append(word)
            index += 1
            continue
        if '=' in word:
            values, index = [word.split('=', 1)[1]], index + 1
        elif item.nargs == '0':
            values, index = [], index + 1
        elif item.nargs == '1':
            values, index = list(words[index + 1:index + 2]), index + 2
        else:
            end = index + 1
            while end < len(words) and is_value(words[end]) and (item.nargs != '?' or end == index + 1):
                end += 1
            values, index = list(words[index + 1:end]), end
        found.setdefault(item.name, []).append(values)
    for position, item in enumerate(command.positionals):
        if item.nargs == '+':
            found[item.name] = [loose[position:]]
        elif position < len(loose):
            found[item.name] = [[loose[position]]]
    return found


def last(found: dict[str, list[list[str]]], name: str) -> list[str] | None:
    return found[name][-1] if name in found else None


def as_int(words: list[str] | None, default: int) -> int | None:
    """The integer a flag gives (its default if absent); None if it is not one (then
    the command stops at once with an error)."""
    if words is None:
        return default
    values = as_ints(words, [])
    return values[0] if values is not None and len(values) == 1 else None


def as_ints(words: list[str] | None, default: Sequence[int]) -> list[int] | None:
    """The integers of a flag (huge ones cut to a billion), or None if one is not."""
    if words is None:
        return list(default)
    try:
        return [max(-LARGEST, min(LARGEST, int(word))) for word in words]
    except ValueError:
        return None


# --- what a line would cost --------------------------------------------------------------

CIFAR_DEPTHS = (20, 32, 44, 56, 110, 1202)
LARGEST = 10 ** 9
# The seconds export.py takes for each of paddle.vision's networks at 224x224 (about).
IMAGENET_COST = {'resnet18': 3.0, 'resnet34': 4.0, 'resnet50': 5.0, 'resnet101': 8.0, 'resnet152': 11.0,
                 **{name: 12.0 for name in ('resnext50_32x4d', 'resnext50_64x4d', 'resnext101_32x4d',
                                            'resnext101_64x4d', 'resnext152_32x4d', 'resnext152_64x4d',
                                            'wide_resnet50_2', 'wide_resnet101_2')}}


def training_seconds(depth: int, epochs: int, train: int, test: int, batch: int) -> float:
    """About how long one CIFAR network trains on the digits (measured on 2 cores)."""
    steps = math.ceil(train / batch) * epochs
    return 0.004 * depth + depth / 20 * (epochs * (0.0007 * train + 0.0002 * test) + 0.005 * steps)


def training_cost(found: dict[str, list[list[str]]], depths: Sequence[int], jobs: int = 1) -> float:
    epochs = as_int(last(found, '--epochs'), 10 if not depths or len(depths) == 1 else 15)
    train = as_int(last(found, '--train-size'), 1438)
    test = as_int(last(found, '--test-size'), 359)
    batch = as_int(last(found, '--batch-size'), 128)
    if None in (epochs, train, test, batch) or min(epochs or 0, train or 0, test or 0, batch or 0) < 1:
        return 1.5     # an error before any training
    assert epochs is not None and train is not None and test is not None and batch is not None
    if (last(found, '--data') or ['digits'])[0] != 'digits':
        return 1.5     # the CIFAR-10 archive given is never a real one
    train, test = min(train, 1438), min(test, 359)
    total = sum(training_seconds(depth, epochs, train, test, batch) for depth in depths)
    return 2.0 + total / max(1, min(jobs, 2, len(depths)))


def cifar_depth(name: str) -> int | None:
    match = re.fullmatch(r'cifar_(resnet|plain)(\d+)', name)
    return int(match.group(2)) if match and int(match.group(2)) in CIFAR_DEPTHS else None


def image_factor(words: list[str] | None, default: int) -> float:
    """How much larger the image is than the network's default one."""
    sizes = as_ints(words, [default])
    if not sizes or len(sizes) > 3 or min(sizes) < 1:
        return 0.0
    height = sizes[0] if len(sizes) == 1 else sizes[1]
    width = sizes[-1] if len(sizes) == 3 else height
    return height * width / default ** 2


def network_cost(found: dict[str, list[list[str]]], default_size: int) -> float:
    """The seconds to build and run one ResNet of --layers or --arch (export, benchmark);
    0 for a name that is none (an error at once)."""
    arch = (last(found, '--arch') or [''])[0]
    layers = (last(found, '--layers') or ['50'])[0]
    if arch:
        depth = cifar_depth(arch)
        base = 2.0 + 0.01 * depth if depth else IMAGENET_COST.get(arch, 0.0)
        default_size = 32 if depth else default_size
    else:
        base = IMAGENET_COST.get(f'resnet{layers}', 0.0)
    return base * max(1.0, image_factor(last(found, '--input-size'), default_size))


def cost(name: str, words: Sequence[str]) -> float:
    """The estimated seconds `words` take: a line above BUDGET is drawn again."""
    command = COMMANDS[name]
    found = parse(command, words)
    if name in ('summary', 'paddleinfo'):
        models = (last(found, '--models') or []) + (last(found, 'MODEL') or [])
        if any('loop' in model for model in models + (last(found, '--model') or [])):
            if name == 'summary':
                return math.inf
            timeout = last(found, '--timeout')
            try:
                return 2.0 + float(timeout[0] if timeout else 300)
            except ValueError:
                return 1.5
        arch = (last(found, '--arch') or [''])[0]
        return 2.0 + len(models) + (10.0 if '1202' in arch else 0.0)
    if name == 'draw':
        return 5.0 if '--readme-figures' in found else 2.5
    if name == 'train':
        depth = cifar_depth((last(found, '--arch') or ['cifar_resnet20'])[0])
        return training_cost(found, [depth]) if depth else 1.5
    if name == 'degradation':
        if '--plot-only' in found:
            return 3.0
        depths = as_ints(last(found, '--depths'), [])
        if depths:
            networks = depths * 2
        else:
            plain = as_ints(last(found, '--plain'), [20, 32, 44, 56])
            resnet = as_ints(last(found, '--resnet'), [20, 32, 44, 56, 110])
            networks = (plain or []) + (resnet or []) if plain is not None and resnet is not None else []
        if not networks or any(depth not in CIFAR_DEPTHS for depth in networks):
            return 1.5
        return 3.0 + training_cost(found, networks, as_int(last(found, '--jobs'), 2) or 1)
    if name == 'shortcuts':
        if '--table-only' in found:
            return 2.0
        options = last(found, '--options') or ['A', 'B', 'C']
        seeds = last(found, '--seeds') or ['0', '1', '2']
        return training_cost(found, [20] * (len(options) * len(seeds)),
                             as_int(last(found, '--jobs'), 2) or 1)
    if name == 'export':
        return 3.0 if '--run' in found else 2.0 + network_cost(found, 224)
    if name == 'compare':
        archs = [words[0] for words in found.get('--arch', []) if words]
        if not archs:
            return 4.0 if '--weights' in found else 60.0
        if any(arch not in IMAGENET_COST for arch in archs):
            return 1.5
        factor = max(1.0, image_factor(last(found, '--input-size'), 64))
        return 1.5 + factor * sum(IMAGENET_COST[arch] / 2 for arch in archs)
    if name == 'benchmark':
        if '--training' in found:
            return 40.0
        runs = (as_int(last(found, '--repeats'), 10) or 0) + (as_int(last(found, '--warmup'), 2) or 0)
        batch = as_int(last(found, '--batch-size'), 8) or 0
        factor = image_factor(last(found, '--input-size'), 224)
        network = network_cost(found, 224)
        return 5.0 + runs * network / 3 * factor * (3 * batch + 9) * 0.1 if network else 1.5
    if name == 'timings':
        if '--with-compare' in found:
            return 100.0
        return 18.0 * max(0, as_int(last(found, '--repeats'), 5) or 0) + 1.5
    return 2.5     # convert


# --- the cases ----------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Case:
    """One command line: the command's key in COMMANDS, its words, where its standard
    output goes, the signal sent to it and after how many seconds (if any), and how it
    was made."""
    index: int
    name: str
    words: tuple[str, ...]
    stdout: str = 'pipe'
    signal: tuple[int, float] | None = None
    how: str = ''

    @property
    def prog(self) -> str:
        return COMMANDS[self.name].prog

    def argv(self) -> list[str]:
        if self.name == PADDLEINFO:
            return [PYTHON, '-m', 'paddleinfo', *self.words]
        return [PYTHON, str(REPO / 'scripts' / f'{self.name}.py'), *self.words]

    def shown(self) -> str:
        """The command line as a user would type it (long words abbreviated)."""
        start = 'python -m paddleinfo' if self.name == PADDLEINFO else f'python scripts/{self.name}.py'
        line = ' '.join([start, *map(shown_word, self.words)])
        if self.stdout != 'pipe':
            line += f' > {self.stdout}'
        if self.signal:
            line += f'  # {signal.Signals(self.signal[0]).name} after {self.signal[1]:.1f} s'
        return line


def shown_word(word: str) -> str:
    if len(word) > 40:
        return f'{shown_word(word[:10])}...[{len(word)} chars]'
    if any(not character.isprintable() for character in word):
        return "$'" + word.encode('unicode_escape').decode('ascii').replace("'", "\\'") + "'"
    return shlex.quote(word)


def random_line(rng: random.Random, command: Command) -> list[str]:
    """A few flags (and positional arguments) of `command`, most with valid values."""
    words: list[str] = []
    for item in rng.sample(command.flags, min(len(command.flags), rng.randint(1, 5))):
        words += [item.name, *(valid_value(rng, item) if rng.random() < 0.7 else invalid_values(rng, item))]
    for item in command.positionals:
        words += list(valid_value(rng, item) if rng.random() < 0.7 else invalid_values(rng, item))
    return words


def value_slots(command: Command, words: Sequence[str]) -> list[tuple[int, Flag]]:
    """(index, flag) of each word that is a value: a flag's or a positional argument's."""
    slots: list[tuple[int, Flag]] = []
    positional = 0
    index = 0
    while index < len(words):
        item = command.find(words[index])
        if item is not None and '=' not in words[index] and item.nargs != '0':
            end = index + 1
            while end < len(words) and is_value(words[end]) and (item.nargs in '+*' or end == index + 1):
                slots.append((end, item))
                end += 1
            index = end
            continue
        if item is None and is_value(words[index]) and command.positionals:
            which = command.positionals[min(positional, len(command.positionals) - 1)]
            slots.append((index, which))
            positional += 1
        index += 1
    return slots


def boundaries(command: Command, words: Sequence[str]) -> list[int]:
    """Where a flag may go without splitting another from its value."""
    return [index for index in range(len(words) + 1)
            if index == len(words) or command.find(words[index]) is not None]


def mutate(rng: random.Random, name: str, words: list[str]) -> tuple[list[str], str]:
    """`words` changed once, and how."""
    command = COMMANDS[name]
    operation = rng.choices(('value', 'path', 'unknown', 'repeat', 'foreign', 'extra', 'truncate',
                             'shuffle', 'drop', 'equals'),
                            weights=(30, 12, 8, 8, 8, 10, 8, 5, 6, 5))[0]
    slots = value_slots(command, words)
    if operation == 'value' and slots:
        index, item = rng.choice(slots)
        words[index] = bad_value(rng, item.kind, [word for option in item.valid for word in option])
        return words, f'value {item.name}'
    paths = [(index, item) for index, item in slots if item.kind in PATH_KINDS]
    if operation == 'path' and paths:
        index, item = rng.choice(paths)
        words[index] = special_path(rng, item.kind, [word for option in item.valid for word in option])
        return words, f'path {item.name}'
    if operation in ('value', 'path', 'extra') or (operation == 'repeat' and not slots):
        item = rng.choice(command.flags)
        values = invalid_values(rng, item) if operation != 'extra' and item.nargs != '0' else \
            valid_value(rng, item)
        at = rng.choice(boundaries(command, words))
        words[at:at] = [item.name, *values]
        return words, f'{"extra" if operation == "extra" else "bad"} {item.name}'
    if operation == 'unknown':
        at = rng.randrange(len(words) + 1)
        words[at:at] = [rng.choice(UNKNOWN)] + ([rng.choice(('18', 'x', ''))] if rng.random() < 0.3 else [])
        return words, 'unknown flag'
    if operation == 'repeat':
        index, item = rng.choice(slots)
        values = valid_value(rng, item) if rng.random() < 0.6 else invalid_values(rng, item)
        if item.name.startswith('-'):
            at = rng.choice(boundaries(command, words))
            words[at:at] = [item.name, *values]
        else:
            words.insert(index + 1, values[0] if values else '')
        return words, f'repeat {item.name}'
    if operation == 'foreign':
        other = COMMANDS[rng.choice([key for key in COMMANDS if key != name])]
        item = rng.choice(other.flags)
        at = rng.choice(boundaries(command, words))
        words[at:at] = [item.name, *valid_value(rng, item)]
        return words, f'foreign {item.name}'
    if not words:
        return words, 'empty'
    if operation == 'truncate':
        cut = rng.randrange(len(words))
        return words[:cut], f'truncate {cut}'
    if operation == 'shuffle':
        if rng.random() < 0.5:
            rng.shuffle(words)
            return words, 'shuffle'
        index = rng.randrange(max(1, len(words) - 1))
        words[index:index + 2] = words[index:index + 2][::-1]
        return words, 'swap'
    if operation == 'drop':
        index = rng.randrange(len(words))
        return words[:index] + words[index + 1:], f'drop {index}'
    flags = [index for index, word in enumerate(words[:-1])
             if (found := command.find(word)) is not None and found.nargs != '0' and '=' not in word]
    if not flags:
        return words, 'equals (none)'
    index = rng.choice(flags)
    return words[:index] + [f'{words[index]}={words[index + 1]}'] + words[index + 2:], 'equals'


def draw_line(rng: random.Random, name: str) -> tuple[list[str], str]:
    command = COMMANDS[name]
    if rng.random() < 0.1:
        words, steps = random_line(rng, command), ['random']
    else:
        base = rng.randrange(len(command.bases))
        words, steps = list(command.bases[base]), [f'base {base}']
    for _ in range(rng.choices((0, 1, 2, 3), weights=(15, 50, 25, 10))[0]):
        words, step = mutate(rng, name, words)
        steps.append(step)
    return words, ', '.join(steps)


def make_case(seed: int, index: int, signal_rate: float = 0.0) -> Case:
    """Case `index` of `seed`: the same every time, whatever the other cases."""
    rng = random.Random(f'{seed}/{index}')
    names = list(COMMANDS)
    name = rng.choices(names, weights=[COMMANDS[key].weight for key in names])[0]
    for _ in range(50):
        words, how = draw_line(rng, name)
        if cost(name, words) <= BUDGET:
            break
    else:
        words, how = list(COMMANDS[name].bases[0]), 'base 0 (every draw too long)'
    stdout = '/dev/full' if rng.random() < 0.06 else 'pipe'
    chance = random.Random(f'{seed}/{index}/signal')   # its own: the lines do not depend on the rate
    sent = None
    if chance.random() < signal_rate:
        sent = (chance.choice((signal.SIGINT, signal.SIGTERM)), round(chance.uniform(0.3, 6.0), 1))
    return Case(index, name, tuple(words), stdout, sent, how)


def cheap_sample(seed: int, count: int, limit: float = 2.5, scan: int = 3000) -> list[Case]:
    """`count` cases of `seed` expected to take at most `limit` seconds each, without the
    fixtures that must be built (weights, a trained run) or a signal, taken in turn from
    each command: a quick sample for the test suite."""
    by_command: dict[str, list[Case]] = {name: [] for name in COMMANDS}
    enough = math.ceil(count / len(COMMANDS)) + 1
    for index in range(scan):
        case = make_case(seed, index)
        if (cost(case.name, case.words) <= limit and not fixtures_named(case)
                and len(by_command[case.name]) < enough):
            by_command[case.name].append(case)
        if all(len(cases) >= enough for cases in by_command.values()):
            break
    sample: list[Case] = []
    while len(sample) < count and any(by_command.values()):
        for cases in by_command.values():
            if cases and len(sample) < count:
                sample.append(cases.pop(0))
    return sorted(sample, key=lambda case: case.index)


# --- the files a case names ---------------------------------------------------------------

SHARED = ('w20.safetensors', 'r18.safetensors', 'r18v.safetensors', 'r18v.pdparams', 'run20')
BAD_MODELS = '''\
import sys

import paddle


def raises():
    raise ValueError('this model is broken')


def returns_none():
    return None


def returns_int():
    return 3


def needs_args(width):
    return paddle.nn.Linear(width, width)


def recursion():
    return recursion()


def keyboard():
    raise KeyboardInterrupt


def exits():
    sys.exit('the model gave up')


def noisy():
    print('building the model', file=sys.stderr)
    return paddle.nn.Conv2D(3, 4, 3)


def linear():
    return paddle.nn.Linear(16, 4)


def loop():
    while True:
        pass


class BadForward(paddle.nn.Layer):
    def forward(self, x):
        raise RuntimeError('forward failed')


def bad_forward():
    return BadForward()


class TextOutput(paddle.nn.Layer):
    def forward(self, x):
        return 'text'


def text_output():
    return TextOutput()


not_callable = 3
'''


def fixtures_named(case: Case) -> list[str]:
    """The fixtures built once per session that `case` names."""
    return [name for name in SHARED
            if any(re.search(rf'(?<![\w.]){re.escape(name)}(?![\w.])', word) for word in case.words)]


def safetensors_bytes(header: str, length: int | None = None) -> bytes:
    data = header.encode()
    return (len(data) if length is None else length).to_bytes(8, 'little') + data


def make_workspace(folder: pathlib.Path) -> None:
    """The files any case may name, in its fresh working folder."""
    for base in SPECIAL:
        for ext in EXTENSIONS:
            path = folder / (base + ext)
            if base in ('adir', 'nonempty'):
                path.mkdir()
                if base == 'nonempty':
                    (path / 'keep.txt').write_text('not an export\n')
            elif base == 'fifo':
                os.mkfifo(path)
            elif base in ('zero', 'full', 'null'):
                path.symlink_to(f'/dev/{base}')
            elif base == 'dangling':
                path.symlink_to('nowhere/x')
            elif base == 'loop':
                path.symlink_to(path.name)
            else:
                path.write_text('not what the name says\n')
    junk = bytes(random.Random(0).randrange(256) for _ in range(4096))
    for name in ('empty.safetensors', 'empty.pdparams', 'empty.tar.gz'):
        (folder / name).write_bytes(b'')
    for name in ('junk.safetensors', 'junk.pdparams', 'junk.tar.gz'):
        (folder / name).write_bytes(junk)
    (folder / 'huge_header.safetensors').write_bytes(safetensors_bytes('{}', 2 ** 63))
    (folder / 'lying.safetensors').write_bytes(safetensors_bytes(
        '{"conv.weight": {"dtype": "F32", "shape": [100000, 100000], "data_offsets": [0, 40000000000]}}'))
    with tarfile.open(folder / 'fake.tar.gz', 'w:gz') as archive:
        for member in ('data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5',
                       'test_batch', 'batches.meta'):
            path = folder / member
            path.write_bytes(junk)
            archive.add(path, f'cifar-10-batches-py/{member}')
            path.unlink()
    (folder / 'exists.svg').write_text('<svg/>\n')
    (folder / 'badrun').mkdir()
    (folder / 'badrun' / 'log.csv').write_text('epoch,lr\n1,nan\n')
    (folder / 'badrun' / 'run.json').write_text('{')
    (folder / 'badrun' / 'checkpoint.json').write_text('{"epoch": 1e309}')
    (folder / 'emptyrun').mkdir()
    for runs, name in (('degradation', 'deg'), ('shortcuts', 'sc')):
        shutil.copytree(REPO / 'docs' / 'runs' / runs, folder / name)
    shutil.copy(REPO / 'docs' / 'examples' / 'nets.py', folder / 'nets.py')
    (folder / 'bad_models.py').write_text(BAD_MODELS)
    (folder / 'syntax_error.py').write_text('def build(:\n    pass\n')
    (folder / 'import_error.py').write_text('import no_such_module_at_all\n\n\ndef build():\n    pass\n')


FIXTURE_SCRIPT = '''\
import os, sys, warnings
warnings.simplefilter('ignore')
os.environ.setdefault('GLOG_minloglevel', '2')
sys.path.insert(0, sys.argv[1])
import paddle
import resnet
from resnet_tools import weights
paddle.seed(0)
folder = sys.argv[2]
weights.save_atomically(resnet.build('cifar_resnet20').state_dict(), f'{folder}/w20.safetensors')
weights.save_atomically(resnet.resnet18().state_dict(), f'{folder}/r18.safetensors')
official = paddle.vision.models.resnet18().state_dict()
weights.save_atomically(official, f'{folder}/r18v.safetensors')
paddle.save(official, f'{folder}/r18v.pdparams')
'''


def build_fixtures(folder: pathlib.Path, names: Iterable[str], report: Callable[[str], None]) -> None:
    """The weights files and the trained run that cases name, built once into `folder`."""
    names = set(names)
    if names & {'w20.safetensors', 'r18.safetensors', 'r18v.safetensors', 'r18v.pdparams'}:
        result = subprocess.run([PYTHON, '-c', FIXTURE_SCRIPT, str(REPO), str(folder)], capture_output=True,
                                text=True, timeout=300, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            report(f'the weights fixtures could not be made: {result.stderr.strip()[-300:]}')
    if 'run20' in names:
        train = [PYTHON, str(REPO / 'scripts' / 'train.py'), '--output', str(folder / 'run20'), *TINY]
        result = subprocess.run(train, capture_output=True, text=True, timeout=300,
                                stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            report(f'the trained run could not be made: {result.stderr.strip()[-300:]}')


# --- running a case -----------------------------------------------------------------------

@dataclasses.dataclass
class Result:
    case: Case
    verdict: str
    code: int | None
    seconds: float
    stderr: str
    note: str = ''


def classify(prog: str, code: int | None, stderr: str, timed_out: bool = False) -> str:
    """ok, error, traceback, hang or other: see the module's docstring."""
    if timed_out:
        return 'hang'
    if 'Traceback (most recent call last)' in stderr or 'Exception ignored' in stderr:
        return 'traceback'
    if code == 0:
        return 'ok'
    lines = [line for line in stderr.splitlines() if line.strip()]
    if code in SIGNAL_CODES and lines and all(line.startswith(f'{prog}: ') for line in lines):
        return 'error'
    return 'other'


def foreign_lines(prog: str, stderr: str) -> list[str]:
    """The lines on stderr that are not the program's own."""
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith(f'{prog}: ')]


def sandbox_prefix(memory: int) -> list[str]:
    """What each command runs under: a memory limit and, as root, a private mount
    namespace with /dev read-only (a bug then cannot replace /dev/full by a file)."""
    prefix = ['prlimit', f'--as={memory}', '--'] if shutil.which('prlimit') else []
    if os.geteuid() == 0 and sandbox_works():
        prefix += ['unshare', '-m', '--propagation', 'private', 'sh', '-c',
                   'mount --rbind /dev /dev && mount -o remount,bind,ro /dev && exec "$@"', 'sh']
    return prefix


_SANDBOX: list[bool] = []


def sandbox_works() -> bool:
    """Whether a private mount namespace with /dev read-only can be made (asked once)."""
    if not _SANDBOX:
        try:
            _SANDBOX.append(subprocess.run(
                ['unshare', '-m', '--propagation', 'private', 'sh', '-c',
                 'mount --rbind /dev /dev && mount -o remount,bind,ro /dev && ! touch /dev/.fuzz'],
                capture_output=True, timeout=30).returncode == 0)
        except (OSError, subprocess.SubprocessError):
            _SANDBOX.append(False)
    return _SANDBOX[0]


def unsafe_words(words: Sequence[str]) -> list[str]:
    """`words` with /dev/... made the folder's links to them: for root without the sandbox."""
    return [f'{word[5:]}' if word.startswith('/dev/') and word[5:] in ('full', 'null', 'zero') else word
            for word in words]


def tail(handle: BinaryIO, limit: int = 65536) -> str:
    """The last `limit` bytes written to a captured file, as text."""
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    handle.seek(max(0, size - limit))
    return handle.read().decode('utf-8', 'replace')


def group_alive(group: int) -> bool:
    """Whether a process of the process group `group` still runs."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_case(case: Case, folder: pathlib.Path, fixtures: pathlib.Path, timeout: float, memory: int,
             prefix: Sequence[str], keep: bool = False) -> Result:
    """Run `case` in a fresh folder under `folder`, and classify how it ended."""
    root = pathlib.Path(tempfile.mkdtemp(prefix=f'case{case.index}-', dir=folder))
    work = root / 'work'
    work.mkdir()
    (root / 'tmp').mkdir()
    make_workspace(work)
    for name in fixtures_named(case):
        if (fixtures / name).is_dir():
            shutil.copytree(fixtures / name, work / name)
        elif (fixtures / name).exists():
            shutil.copy(fixtures / name, work / name)
    argv = case.argv()
    if os.geteuid() == 0 and 'unshare' not in prefix:
        argv = unsafe_words(argv)
    env = {**os.environ, 'TMPDIR': str(root / 'tmp')}
    if case.name == PADDLEINFO:
        env['PYTHONPATH'] = str(REPO)
    note = ''
    with open(root / 'stderr', 'w+b') as errors, \
            open(root / 'stdout', 'w+b') if case.stdout == 'pipe' else open(case.stdout, 'wb') as output:
        start = time.monotonic()
        process = subprocess.Popen([*prefix, *argv], cwd=work, env=env, stdin=subprocess.DEVNULL,
                                   stdout=output, stderr=errors, start_new_session=True)
        timed_out = False
        try:
            if case.signal:
                number, delay = case.signal
                try:
                    process.wait(timeout=delay)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        if number == signal.SIGINT:
                            os.killpg(process.pid, number)     # Ctrl-C: the terminal's whole group
                        else:
                            process.send_signal(number)        # `kill PID`
            process.wait(timeout=max(0.1, timeout - (time.monotonic() - start)))
        except subprocess.TimeoutExpired:
            timed_out = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        seconds = time.monotonic() - start
        stderr = tail(errors)
    deadline = time.monotonic() + 2.0
    while not timed_out and group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = not timed_out and group_alive(process.pid)
    if left:
        note = 'left processes running after it ended (killed)'
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    verdict = classify(case.prog, process.returncode, stderr, timed_out)
    if left and verdict in ('ok', 'error'):
        verdict = 'other'
    if not keep:
        shutil.rmtree(root, ignore_errors=True)
    return Result(case, verdict, process.returncode, seconds, stderr, note)


# --- the report ----------------------------------------------------------------------------

def wrapped(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent + '    ',
                         break_long_words=True, break_on_hyphens=False) or [indent.rstrip()]


def counts_line(results: Sequence[Result]) -> str:
    return '  '.join(f'{verdict} {sum(result.verdict == verdict for result in results)}'
                     for verdict in VERDICTS)


def table(results: Sequence[Result]) -> list[str]:
    """The counts by command and by verdict, and the seconds each command took."""
    lines = [f'{"command":<16}{"runs":>6}' + ''.join(f'{verdict:>11}' for verdict in VERDICTS)
             + f'{"seconds":>10}']
    rows = [(name, [result for result in results if result.case.name == name]) for name in COMMANDS]
    for name, mine in [*rows, ('total', list(results))]:
        if not mine:
            continue
        label = COMMANDS[name].prog if name in COMMANDS else name
        counts = [sum(result.verdict == verdict for result in mine) for verdict in VERDICTS]
        lines.append(f'{label:<16}{len(mine):>6}' + ''.join(f'{count:>11}' for count in counts)
                     + f'{sum(result.seconds for result in mine):>10.0f}')
    return lines


def cause(result: Result) -> str:
    """What a failure's cause is, in a line: its last line on stderr, numbers blotted."""
    if result.verdict == 'hang':
        return f'{result.case.prog}: no end within the timeout'
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    last_line = lines[-1].strip() if lines else f'(nothing on stderr, exit code {result.code})'
    if result.note:
        last_line = result.note
    return f'{result.case.prog}: ' + re.sub(r'\d+', '#', last_line)[:80]


def details(result: Result) -> list[str]:
    case = result.case
    code = 'killed' if result.verdict == 'hang' else f'exit code {result.code}'
    lines = wrapped(f'#{case.index} {result.verdict}, {code}, {result.seconds:.1f} s ({case.how})', '')
    lines += wrapped('$ ' + case.shown(), '  ')
    stderr = [line for line in result.stderr.splitlines() if line.strip()][-3:]
    for line in stderr or ['(nothing on stderr)']:
        lines += wrapped(line, '  | ')
    if result.note:
        lines += wrapped(result.note, '  ! ')
    return lines


def report(results: Sequence[Result]) -> list[str]:
    """The table, the causes of the failures, then every failure's command and stderr."""
    lines = ['', *table(results)]
    noisy = [result for result in results if result.verdict == 'ok' and foreign_lines(result.case.prog,
                                                                                         result.stderr)]
    if noisy:
        lines += ['', f'{len(noisy)} ok runs printed other lines on stderr, e.g.:']
        for result in noisy[:5]:
            lines += wrapped(f'#{result.case.index}: {foreign_lines(result.case.prog, result.stderr)[0]}',
                             '  ')
    failures = sorted((result for result in results if result.verdict in FAILURES),
                      key=lambda result: result.case.index)
    if not failures:
        return lines
    causes: dict[str, list[int]] = {}
    for result in failures:
        causes.setdefault(cause(result), []).append(result.case.index)
    lines += ['', 'causes (last line on stderr, numbers as #), with their cases:']
    for text, indices in sorted(causes.items(), key=lambda item: -len(item[1])):
        lines += wrapped(f'{len(indices):>3} x {text}  [#{", #".join(map(str, indices[:8]))}'
                         f'{", ..." if len(indices) > 8 else ""}]', '')
    lines += ['', 'every traceback, hang and other:']
    for result in failures:
        lines += ['', *details(result)]
    return lines


def run_cases(cases: Sequence[Case], jobs: int, timeout: float, folder: pathlib.Path,
              memory: int = 6 << 30, keep: bool = False,
              progress: Callable[[int, Sequence[Result], float], None] | None = None) -> list[Result]:
    """Every case, `jobs` at a time, each with its fixtures; the results in case order."""
    fixtures = folder / 'fixtures'
    fixtures.mkdir(parents=True, exist_ok=True)
    needed = sorted({name for case in cases for name in fixtures_named(case)})
    if needed:
        print(f'building the fixtures the cases name: {", ".join(needed)}', flush=True)
        build_fixtures(fixtures, needed, lambda line: print(line, flush=True))
    prefix = sandbox_prefix(memory)
    start = time.monotonic()
    results: list[Result] = []
    lock = threading.Lock()
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_case, case, folder, fixtures, timeout, memory, prefix, keep)
                   for case in cases]
        for future in concurrent.futures.as_completed(futures):
            with lock:
                results.append(future.result())
                if progress is not None:
                    progress(len(results), results, time.monotonic() - start)
    return sorted(results, key=lambda result: result.case.index)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog='fuzz_commands.py', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--runs', type=int, default=200, help='how many cases (default: 200)')
    parser.add_argument('--jobs', type=int, default=2, help='cases run at a time (default: 2)')
    parser.add_argument('--seed', type=int, default=0, help='the seed of the cases (default: 0)')
    parser.add_argument('--timeout', type=float, default=60.0,
                        help='seconds before a case is a hang (default: 60)')
    parser.add_argument('--signals', type=float, default=0.04,
                        help='the share of cases sent a Ctrl-C or SIGTERM (default: 0.04)')
    parser.add_argument('--memory', type=float, default=6.0,
                        help='the address space of each case, in GiB (default: 6)')
    parser.add_argument('--case', type=int, action='append',
                        help='run only case N of the seed (may be repeated); shows its output')
    parser.add_argument('--commands', nargs='+', choices=list(COMMANDS),
                        help='run only the cases of these commands')
    parser.add_argument('--list', action='store_true', help='print the command lines, run nothing')
    parser.add_argument('--keep', action='store_true', help='keep every case\'s folder')
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    indices = args.case if args.case else range(args.runs)
    cases = [make_case(args.seed, index, args.signals) for index in indices]
    if args.commands:
        cases = [case for case in cases if case.name in args.commands]
    if args.list:
        for case in cases:
            print('\n'.join(wrapped(f'#{case.index} ' + case.shown(), '')))
        return 0
    folder = pathlib.Path(tempfile.mkdtemp(prefix='fuzz-commands-'))
    if os.geteuid() == 0 and not sandbox_works():
        print('note: running as root without a mount namespace: /dev/... paths become links to them')
    print(f'{len(cases)} cases of seed {args.seed}, {args.jobs} at a time, timeout {args.timeout:g} s, '
          f'in {folder}', flush=True)

    def progress(done: int, results: Sequence[Result], elapsed: float) -> None:
        if done % 50 == 0 or done == len(cases):
            print(f'{done:>6}/{len(cases)} {elapsed:7.0f} s  {counts_line(results)}', flush=True)

    start = time.monotonic()
    results = run_cases(cases, args.jobs, args.timeout, folder, int(args.memory * (1 << 30)), args.keep,
                        progress)
    print('\n'.join(report(results)))
    if args.case:
        for result in results:
            print(f'\n#{result.case.index} stderr, whole:\n{result.stderr}')
    print(f'\n{len(results)} runs in {time.monotonic() - start:.0f} s')
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    else:
        print(f'the cases\' folders are kept in {folder}')
    return 1 if any(result.verdict in FAILURES for result in results) else 0


if __name__ == '__main__':
    sys.exit(main())
