"""The CIFAR-10 networks of the paper's Section 4.2 on real data: how a run of one is
built, trained (scripts/train.py) and loaded back as a network (load_run).

The training loop, the data and the figures know nothing of ResNet
(resnet_tools.training, resnet_tools.views.plots); this module picks the networks.
"""
import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from paddle import nn

import resnet
from resnet.configs import CIFAR_ARCHS
from resnet_tools import training
from resnet_tools.errors import FileError, UsageError
from resnet_tools.paper import responses
from resnet_tools.specs import arch_name, shortcut_option
from resnet_tools.training import Claim, Data, DataSource, LogRow, Settings, TrainResult, checkpoints
from resnet_tools.weights import names as weights
from resnet_tools.weights.formats import check_dtypes

SHORTCUT_OPTIONS = ('A', 'B', 'C')
# On the 1,438 training digits: 15 epochs of batch 128 (180 steps), the first at
# lr/10, the paper's warm-up (Section 4.2).  Without it ResNet-56 starts unstably
# and ends behind ResNet-20; see "Why the warm-up" in docs/paper.md.
DIGITS_SETTINGS = training.Settings(epochs=15, warmup_epochs=1)
# ResNet-110 is the paper's one special case: "0.1 is slightly too large to start
# converging", so it warms up at 0.01.  On the digits that is not enough: measured,
# ResNet-110 falls back to 79 % training error when the rate goes to 0.1, after 1, 2
# or 3 warm-up epochs alike, and trains (0.07 % training error) at 0.02.
DEEPEST, DIGITS_DEEPEST_LR = 'cifar_resnet110', 0.02
# train.py warms up the networks of this depth and deeper by default: ResNet-56 ends
# near 53 % test error after 10 epochs on the digits without it.
WARMUP_LAYERS = 56
# What a checkpoint's description of its network may ask for (CIFAR-10: 3 channels, 10
# classes, 32x32): generous bounds, so that a crafted one cannot ask for any memory.
MAX_CHANNELS, MAX_CLASSES, MAX_SIDE = 64, 100_000, 4096


def default_warmup(arch: str) -> int:
    """train.py's --warmup-epochs when none is given: 1 for a deep network, else 0."""
    return 1 if CIFAR_ARCHS[arch]['layers'] >= WARMUP_LAYERS else 0


def check_arch(arch: str) -> str:
    return arch_name(arch=arch, archs=CIFAR_ARCHS)


def run_shortcut(arch: str, shortcut: str | None) -> str:
    """The shortcut option of a run of `arch`: the CIFAR default (A) for None; only the
    ResNets take one, of Section 3.3's options A, B and C."""
    if shortcut is None:
        return CIFAR_ARCHS[arch]['shortcut']
    if CIFAR_ARCHS[arch]['shortcut'] == 'none':
        raise UsageError(f'--shortcut {shortcut} is for the ResNets; {arch} is a plain network, '
                         f'which has no shortcuts')
    return shortcut_option(shortcut, SHORTCUT_OPTIONS)


@dataclass(frozen=True)
class Network:
    """How a run built its CIFAR network, sized for its data: what load_run needs to
    build it again.  run.json and the checkpoint keep it as a dict (to_dict)."""
    arch: str
    in_channels: int
    num_classes: int
    shortcut: str
    image_size: tuple[int, ...]

    @classmethod
    def of(cls, arch: str, data: Data, shortcut: str | None = None) -> 'Network':
        """How train_network builds `arch` for `data`, with its own shortcut option
        unless `shortcut` is given."""
        return cls(arch, data.in_channels, data.num_classes,
                   shortcut or CIFAR_ARCHS[arch]['shortcut'], tuple(data.train_images.shape[2:]))

    def build(self) -> nn.Layer:
        """The network, with fresh weights."""
        return resnet.build(self.arch, num_classes=self.num_classes,
                            in_channels=self.in_channels, shortcut=self.shortcut)

    def to_dict(self) -> dict[str, Any]:
        return {'arch': self.arch, 'in_channels': self.in_channels,
                'num_classes': self.num_classes, 'shortcut': self.shortcut,
                'image_size': list(self.image_size)}

    @classmethod
    def from_dict(cls, network: Any) -> 'Network':
        """The network a checkpoint describes, or a ValueError saying what is wrong: a
        crafted description must not build a network of any size it likes."""
        if not isinstance(network, dict) or network.get('arch') not in CIFAR_ARCHS:
            raise ValueError('does not say which CIFAR network it is')
        arch, size = network['arch'], network.get('image_size')
        for key, high in (('in_channels', MAX_CHANNELS), ('num_classes', MAX_CLASSES)):
            if type(network.get(key)) is not int or not 1 <= network[key] <= high:
                raise ValueError(f'gives {key} {checkpoints.short(network.get(key))}, not a '
                                 f'whole number from 1 to {high:,}')
        options = ('none',) if CIFAR_ARCHS[arch]['shortcut'] == 'none' else SHORTCUT_OPTIONS
        if network.get('shortcut') not in options:
            raise ValueError(f'gives the shortcut {checkpoints.short(network.get("shortcut"))}, '
                             f'not one of {", ".join(options)} of {arch}')
        if not (isinstance(size, list) and len(size) == 2
                and all(type(side) is int and 1 <= side <= MAX_SIDE for side in size)):
            raise ValueError(f'gives the image size {checkpoints.short(size)}, not two sides '
                             f'from 1 to {MAX_SIDE:,}')
        return cls(arch, network['in_channels'], network['num_classes'], network['shortcut'],
                   tuple(size))


def train_network(arch: str, data: Data, settings: Settings, output: str,
                  progress: Callable[[int, str], Any] | None = None,
                  report: Callable[[str], None] = print, shortcut: str | None = None,
                  taken: Claim | None = None, **options: Any) -> TrainResult:
    """Train the CIFAR network `arch`, sized for `data` (with `shortcut`, A, B or C for a
    ResNet, or its own option), with training.train (in `taken`, the output directory
    already claimed, if given); then record its layer responses (Figure 7) in
    output/responses.csv.  `options` are those of training.Run: resume, force, device."""
    check_arch(arch)
    network = Network.of(arch, data, run_shortcut(arch, shortcut))
    details = {'data': data.name, 'train_images': len(data.train_labels),
               'test_images': len(data.test_labels), 'network': network.to_dict()}
    run = training.Run(arch, network.build, data, settings, output, details, progress=progress,
                       report=report, **options)
    # Figure 7's data is written while the folder is still held: a run that took the
    # folder after this one must not find this run's responses beside its checkpoint.
    if taken is None:
        training.set_device(run.device)   # as train() does before it takes a folder
    with training.claim(output, run.resume, run.force) if taken is None \
            else contextlib.nullcontext(taken) as held:
        result = training.train(run, held)
        if training.processes()[1] == 0:
            responses.write_responses(output, responses.layer_responses(result.model,
                                                                        data.test_images))
    return result


@dataclass(frozen=True)
class LoadedRun:
    """The network of a training run with the weights of its last checkpoint, in eval
    mode; the checkpoint is of `epoch`."""
    model: nn.Layer
    network: Network
    epoch: int


def load_run(directory: str | os.PathLike[str]) -> LoadedRun:
    """The network train.py trained in `directory`, built with the run's own arch, input
    channels, classes and shortcut option, with the weights of its last checkpoint.

    The checkpoint is read as --resume reads it (every file checked against the
    manifest, nothing unpickled); a UsageError says what is missing or damaged, and a
    checkpoint that does not fit its own description says how it differs."""
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise UsageError(f'--run {directory} is not a directory')
    checkpoint = checkpoints.load(directory, prefix=f'--run {directory}: ')
    if checkpoint is None:
        old = checkpoints.has_old_checkpoint(directory)
        raise UsageError(f'--run {directory} holds no checkpoint ({checkpoints.MANIFEST})'
                         + ('; its model.pdparams is of the earlier, pickled format: train it '
                            'again, or convert that file once with scripts/convert.py'
                            if old else ': train one with scripts/train.py --output DIR'))
    try:
        network = Network.from_dict(checkpoint.state['description'].get('network'))
    except ValueError as why:
        raise FileError(f'--run {directory}: the network its checkpoint describes {why} '
                         f'({checkpoints.STATE_FILE})')
    model = network.build()
    weights.check_fits(weights.shapes_of(checkpoint.model), weights.shapes_of(model.state_dict()),
                       network.arch, checkpoint.directory)
    check_dtypes(checkpoint.model, checkpoint.directory)
    # Paddle's hints ask for Tensors; set_state_dict takes numpy arrays as well.
    model.set_state_dict(cast(dict[str, Any], checkpoint.model))
    model.eval()
    return LoadedRun(model, network, checkpoint.epoch)


@dataclass(frozen=True)
class JobResult:
    """What a run in a worker process sends back (resnet_tools.training.jobs): its
    parameters, the sha256 of its weights, its last epoch, and the end of its 'done' line."""
    params: int
    digest: str
    last: LogRow
    summary: str


_loaded: dict[DataSource, Data] = {}   # the data of each source, read once per process


def train_job(progress: Callable[[int, str], Any], report: Callable[[str], None], arch: str,
              source: DataSource, settings: Settings, output: str, **options: Any) -> JobResult:
    """train_network in a worker process (resnet_tools.training.jobs): the data is read
    there, once per process, from `source`."""
    if source not in _loaded:
        _loaded[source] = source.load()
    result = train_network(arch, _loaded[source], settings, output, progress, report, **options)
    last = result.log[-1]
    return JobResult(result.params, result.digest, last,
                     f'training error {100 * last.train_error:.2f} %, test error '
                     f'{100 * last.test_error:.2f} %, weights sha256 {result.digest[:16]}')
