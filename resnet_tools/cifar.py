"""The CIFAR networks of the paper's Section 4.2 on real data: train one
(scripts/train.py), or the plain and residual twins side by side to see the
degradation problem of Figure 6 (scripts/degradation.py).

The training loop, the data and the figure know nothing of ResNet
(resnet_tools/training.py, data.py, plots.py); this module picks the networks.
"""
import os

import resnet
from configs import CIFAR_ARCHS
from resnet_tools import checkpoints, plots, training, weights
from resnet_tools.cli import UsageError, arch_name, check_writable_directory

# Figure 6 of the paper draws plain-20/32/44/56 and ResNet-20/32/44/56; the
# default here is the two ends, which show the effect in minutes on a CPU.
DEFAULT_DEPTHS = (20, 56)
KINDS = (('plain', 'plain'), ('resnet', 'ResNet'))   # (arch prefix, the paper's name)
# On the 1,438 training digits: 15 epochs of batch 128 (180 steps), the first at
# lr/10, the paper's warm-up (Section 4.2).  Without it ResNet-56 starts unstably
# and ends behind ResNet-20; see the README.
DIGITS_SETTINGS = training.Settings(epochs=15, warmup_epochs=1)


def check_arch(arch):
    return arch_name(arch=arch, archs=CIFAR_ARCHS)


def display_name(arch):
    """'cifar_plain56' -> 'plain-56', 'cifar_resnet20' -> 'ResNet-20'."""
    layers = CIFAR_ARCHS[arch]['layers']
    kind = dict(KINDS)[arch[len('cifar_'):-len(str(layers))]]
    return f'{kind}-{layers}'


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


def train_network(arch, data, settings, output, progress=None, report=print, **options):
    """Train the CIFAR network `arch`, sized for `data`, with training.train."""
    check_arch(arch)
    network = network_of(arch, data)

    def build():
        return build_network(network)

    description = {'data': data.name, 'train_images': len(data.train_labels),
                   'test_images': len(data.test_labels), 'network': network}
    return training.train(arch, build, data, settings, output, description=description,
                          progress=progress, report=report, **options)


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


def degradation_archs(depths):
    """plain-d for every depth, then ResNet-d: the two panels of Figure 6."""
    for depth in depths:
        if f'cifar_resnet{depth}' not in CIFAR_ARCHS:
            depths_known = (str(config['layers']) for name, config in CIFAR_ARCHS.items()
                            if 'resnet' in name)
            raise UsageError(f'--depths {depth} is not a CIFAR depth; choose from '
                             f'{", ".join(depths_known)}')
    repeated = sorted({depth for depth in depths if depths.count(depth) > 1})
    if repeated:
        raise UsageError(f'--depths {repeated[0]} is given twice; give each depth once')
    return [f'cifar_{prefix}{depth}' for prefix, _ in KINDS for depth in depths]


def prepare_degradation(depths, output, resume=False, force=False):
    """{arch: whether --resume continues it}, once every run's folder is checked: call it
    before the data is read, not after an hour of training."""
    check_writable_directory('--output', output)
    archs = degradation_archs(depths)
    # --resume continues the runs that have a checkpoint and starts the others.
    started = {arch: resume and training.has_checkpoint(os.path.join(output, arch)) for arch in archs}
    for arch in archs:
        training.prepare_output(os.path.join(output, arch), started[arch], force)
    return started


def run_degradation(started, data, settings, output, force=False, device='cpu',
                    progress=None, report=print):
    """Train every network of `started` (from prepare_degradation, which has checked
    their folders) into output/<arch>, alike."""
    for arch, resume in started.items():
        report(f'{display_name(arch)} ({arch}) into {os.path.join(output, arch)}')
        train_network(arch, data, settings, os.path.join(output, arch), progress, report,
                      resume=resume, force=force, device=device)
    return list(started)


def finished_runs(directory):
    """{arch: (run description, log rows)} of the CIFAR runs in directory/<arch>/."""
    runs = {}
    # Plain networks first, as in the figure, each kind by depth.
    for arch in sorted(CIFAR_ARCHS, key=lambda name: ('resnet' in name, CIFAR_ARCHS[name]['layers'])):
        log = os.path.join(directory, arch, training.LOG_FILE)
        if os.path.isfile(log):
            run = training.read_run(os.path.join(directory, arch))
            runs[arch] = (run, training.read_log(log))
    if not runs:
        raise UsageError(f'{directory} holds no runs: no <arch>/{training.LOG_FILE} for any of '
                         f'cifar_plain20, cifar_resnet20 ...')
    return runs


def table(runs):
    """Rows of network, params, final training and test error (%), seconds."""
    rows = []
    for arch, (run, log) in runs.items():
        last = log[-1]
        rows.append([display_name(arch), run.get('params'), 100 * last['train_error'],
                     100 * last['test_error'], sum(row['seconds'] for row in log)])
    return rows


TABLE_HEADERS = ('network', 'params', 'training error %', 'test error %', 'seconds')


def format_table(runs):
    from tabulate import tabulate
    return tabulate(table(runs), headers=TABLE_HEADERS, intfmt=',', floatfmt=('', '', '.2f', '.2f', '.0f'))


def draw(runs, output):
    """Figure 6: plain networks left, ResNets right, one colour per depth."""
    panels = []
    for prefix, title in KINDS:
        curves = [(display_name(arch), str(CIFAR_ARCHS[arch]['layers']), log)
                  for arch, (_, log) in runs.items() if arch.startswith(f'cifar_{prefix}')]
        panels.append((title, curves))
    data_names = sorted({run.get('data', '?') for run, _ in runs.values()})
    return plots.draw_error_curves(panels, output, subtitle=f'data: {", ".join(data_names)}')
