"""The CIFAR networks of the paper's Section 4.2 on real data: train one
(scripts/train.py), or the plain and residual twins side by side to see the
degradation problem of Figure 6 (scripts/degradation.py).

The training loop, the data and the figure know nothing of ResNet
(resnet_tools/training.py, data.py, plots.py); this module picks the networks.
"""
import os

import resnet
from configs import CIFAR_ARCHS
from resnet_tools import plots, training
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


def train_network(arch, data, settings, output, progress=None, report=print, **options):
    """Train the CIFAR network `arch`, sized for `data`, with training.train."""
    check_arch(arch)

    def build():
        return resnet.build(arch, num_classes=data.num_classes, in_channels=data.in_channels)

    description = {'data': data.name, 'train_images': len(data.train_labels),
                   'test_images': len(data.test_labels)}
    return training.train(arch, build, data, settings, output, description=description,
                          progress=progress, report=report, **options)


def degradation_archs(depths):
    """plain-d for every depth, then ResNet-d: the two panels of Figure 6."""
    for depth in depths:
        if f'cifar_resnet{depth}' not in CIFAR_ARCHS:
            raise UsageError(f'--depths {depth} is not a CIFAR depth; choose from '
                             f'{", ".join(str(config["layers"]) for name, config in CIFAR_ARCHS.items() if "resnet" in name)}')
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
