"""The CIFAR-10 networks of the paper's Section 4.2 on real data: how a run of one is
built, trained (scripts/train.py) and loaded back as a network (load_run).

The training loop, the data and the figures know nothing of ResNet
(resnet_tools.training, resnet_tools.views.plots); this module picks the networks.
"""
import os

import resnet
from resnet.configs import CIFAR_ARCHS
from resnet_tools.errors import UsageError
from resnet_tools.paper import responses
from resnet_tools.specs import arch_name
from resnet_tools import training
from resnet_tools.training import checkpoints, data
from resnet_tools.weights import names as weights
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


def default_warmup(arch):
    """train.py's --warmup-epochs when none is given: 1 for a deep network, else 0."""
    return 1 if CIFAR_ARCHS[arch]['layers'] >= WARMUP_LAYERS else 0


def check_arch(arch):
    return arch_name(arch=arch, archs=CIFAR_ARCHS)


def check_shortcut(arch, shortcut):
    """The shortcut option of a run of `arch`: the CIFAR default (A) for None; only the
    ResNets take one."""
    if shortcut is None:
        return CIFAR_ARCHS[arch]['shortcut']
    if CIFAR_ARCHS[arch]['shortcut'] == 'none':
        raise UsageError(f'--shortcut {shortcut} is for the ResNets; {arch} is a plain network, '
                         f'which has no shortcuts')
    if shortcut not in SHORTCUT_OPTIONS:
        raise UsageError(f'--shortcut {shortcut} is not known; choose from '
                         f'{", ".join(SHORTCUT_OPTIONS)} (Section 3.3 of the paper)')
    return shortcut


def network_of(arch, data, shortcut=None):
    """How train_network builds `arch` for `data` (with its own shortcut option unless
    `shortcut` is given): what load_run needs to build it again."""
    return {'arch': arch, 'in_channels': data.in_channels, 'num_classes': data.num_classes,
            'shortcut': shortcut or CIFAR_ARCHS[arch]['shortcut'],
            'image_size': list(data.train_images.shape[2:])}


def build_network(network):
    """The network a run's description names (see network_of), with fresh weights."""
    return resnet.build(network['arch'], num_classes=network['num_classes'],
                        in_channels=network['in_channels'], shortcut=network['shortcut'])


def train_network(arch, data, settings, output, progress=None, report=print, shortcut=None,
                  **options):
    """Train the CIFAR network `arch`, sized for `data` (with `shortcut`, A, B or C for a
    ResNet, or its own option), with training.train; then record its layer responses
    (Figure 7) in output/responses.csv."""
    check_arch(arch)
    network = network_of(arch, data, check_shortcut(arch, shortcut))

    def build():
        return build_network(network)

    description = {'data': data.name, 'train_images': len(data.train_labels),
                   'test_images': len(data.test_labels), 'network': network}
    result = training.train(arch, build, data, settings, output, description=description,
                            progress=progress, report=report, **options)
    if training.processes()[1] == 0:
        responses.write_responses(output, responses.layer_responses(result['model'],
                                                                    data.test_images))
    return result


def load_run(directory):
    """(model, network) of the training run in `directory`: the network train.py trained
    there, built with the run's own arch, input channels, classes and shortcut option,
    with the weights of its last checkpoint, in eval mode; `network` is the dict of
    network_of (arch, in_channels, num_classes, shortcut, image_size) and the 'epoch'
    of the checkpoint.

    The checkpoint is read as --resume reads it (every file checked against the
    manifest, nothing unpickled); a UsageError says what is missing or damaged, and a
    checkpoint that does not fit its own description says how it differs."""
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise UsageError(f'--run {directory} is not a directory')
    if not training.has_checkpoint(directory):
        old = checkpoints.has_old_checkpoint(directory)
        raise UsageError(f'--run {directory} holds no checkpoint ({checkpoints.MANIFEST})'
                         + ('; its model.pdparams is of the earlier, pickled format: train it '
                            'again, or convert that file once with scripts/convert.py'
                            if old else ': train one with scripts/train.py --output DIR'))
    checkpoint = checkpoints.load(directory, prefix=f'--run {directory}: ')
    network = checkpoint.state.get('description', {}).get('network')
    if not isinstance(network, dict) or network.get('arch') not in CIFAR_ARCHS:
        raise UsageError(f'--run {directory}: its checkpoint does not say which CIFAR network '
                         f'it is (no "network" in {checkpoints.STATE_FILE})')
    model = build_network(network)
    weights.check_fits(weights.shapes_of(checkpoint.model), weights.shapes_of(model.state_dict()),
                       network['arch'], checkpoint.directory)
    model.set_state_dict(checkpoint.model)
    model.eval()
    return model, {**network, 'epoch': checkpoint.epoch}


_loaded = {}


def train_job(progress, report, arch, data_source, settings, output, **options):
    """train_network in a worker process (resnet_tools.jobs): the data is read there,
    once per process, from `data_source`, the arguments of data.load."""
    key = tuple(sorted(data_source.items()))
    if key not in _loaded:
        _loaded[key] = data.load(**data_source)
    result = train_network(arch, _loaded[key], settings, output, progress, report, **options)
    last = result['log'][-1]
    return {'params': result['params'], 'digest': result['digest'], 'last': last,
            'summary': f'training error {100 * last["train_error"]:.2f} %, test error '
                       f'{100 * last["test_error"]:.2f} %, weights sha256 {result["digest"][:16]}'}
