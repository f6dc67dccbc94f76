"""The degradation problem of the paper's Figure 6: the plain networks and the ResNets
trained alike, side by side (scripts/degradation.py), their error curves drawn as
Figure 6, and their layer responses as Figure 7."""
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from tabulate import tabulate

from resnet.configs import CIFAR_ARCHS, CIFAR_LAYERS
from resnet_tools.errors import UsageError
from resnet_tools.paper import responses
from resnet_tools.paper.experiment import Experiment, FinishedRun, PlannedRun, finished
from resnet_tools.paper.networks import DEEPEST
from resnet_tools.specs import KINDS, display_name
from resnet_tools.training import LOG_FILE, Settings
from resnet_tools.views import plots


# Figure 6 of the paper draws plain-20/32/44/56 and ResNet-20/32/44/56/110; 110 has
# no plain twin in the figure (the paper trains no plain-110).
DEFAULT_DEPTHS = (20, 32, 44, 56, 110)
PLAIN_DEPTHS = (20, 32, 44, 56)


def check_depths(flag: str, depths: Sequence[int]) -> list[int]:
    for depth in depths:
        if f'cifar_resnet{depth}' not in CIFAR_ARCHS:
            raise UsageError(f'{flag} {depth} is not a CIFAR depth; choose from '
                             f'{", ".join(map(str, CIFAR_LAYERS))}')
    repeated = sorted({depth for depth in depths if depths.count(depth) > 1})
    if repeated:
        raise UsageError(f'{flag} {repeated[0]} is given twice; give each depth once')
    return list(depths)


def degradation_archs(plain_depths: Sequence[int], resnet_depths: Sequence[int],
                      flags: tuple[str, str] = ('--plain', '--resnet')) -> list[str]:
    """plain-d for every plain depth, then ResNet-d: the two panels of Figure 6."""
    chosen = {'plain': check_depths(flags[0], plain_depths),
              'resnet': check_depths(flags[1], resnet_depths)}
    archs = [f'cifar_{prefix}{depth}' for prefix, _ in KINDS for depth in chosen[prefix]]
    if not archs:
        raise UsageError(f'{flags[0]} and {flags[1]} are both empty: nothing to train')
    return archs


def settings_of(arch: str, settings: Settings, deepest_lr: float | None = None) -> Settings:
    """The settings of `arch` in the degradation run: ResNet-110's rate is `deepest_lr`
    (if given), the others' that of `settings`."""
    return replace(settings, lr=deepest_lr) if arch == DEEPEST and deepest_lr else settings


def degradation_experiment(archs: Sequence[str], settings: Settings,
                           deepest_lr: float | None = None) -> Experiment:
    """The runs of Figure 6 into OUTPUT/<arch>, alike but for ResNet-110's `deepest_lr`;
    the deepest first, so that the longest runs do not start last."""
    order = sorted(archs, key=lambda arch: -CIFAR_ARCHS[arch]['layers'])
    return Experiment([PlannedRun(arch, display_name(arch), arch,
                                  settings_of(arch, settings, deepest_lr)) for arch in order],
                      ', '.join(map(display_name, archs)), 'network')


def finished_runs(directory: str | os.PathLike[str]) -> dict[str, FinishedRun]:
    """{arch: FinishedRun} of the CIFAR runs in directory/<arch>/."""
    runs = {}
    # Plain networks first, as in the figure, each kind by depth.
    for arch in sorted(CIFAR_ARCHS, key=lambda name: ('resnet' in name, CIFAR_ARCHS[name]['layers'])):
        run = finished(os.path.join(directory, arch))
        if run is not None:
            runs[arch] = run
    if not runs:
        raise UsageError(f'{directory} holds no runs: no <arch>/{LOG_FILE} for any of '
                         f'cifar_plain20, cifar_resnet20 ...')
    return runs


def table(runs: Mapping[str, FinishedRun]) -> list[list[Any]]:
    """Rows of network, params, final training and test error (%), seconds."""
    return [[display_name(arch), run.params, 100 * run.last.train_error,
             100 * run.last.test_error, sum(row.seconds for row in run.log)]
            for arch, run in runs.items()]


TABLE_HEADERS = ('network', 'params', 'training error %', 'test error %', 'seconds')


def format_table(runs: Mapping[str, FinishedRun]) -> str:
    return tabulate(table(runs), headers=TABLE_HEADERS, intfmt=',', floatfmt=('', '', '.2f', '.2f', '.0f'))


def draw(runs: Mapping[str, FinishedRun], output: str) -> list[str]:
    """Figure 6: plain networks left, ResNets right, one colour per depth."""
    panels = []
    for prefix, title in KINDS:
        curves = [(display_name(arch), str(CIFAR_ARCHS[arch]['layers']), run.log)
                  for arch, run in runs.items() if arch.startswith(f'cifar_{prefix}')]
        panels.append((title, curves))
    data_names = sorted({run.data for run in runs.values()})
    return plots.draw_error_curves(panels, output, subtitle=f'data: {", ".join(data_names)}')


# Figure 7 of the paper: the layer responses of these five networks.
RESPONSE_ARCHS = ('cifar_plain20', 'cifar_plain56', 'cifar_resnet20', 'cifar_resnet56',
                  'cifar_resnet110')


def finished_responses(directory: str | os.PathLike[str]) -> dict[str, list[tuple[int, str, float]]]:
    """{arch: [(index, layer, std)]} of the runs of RESPONSE_ARCHS in directory/<arch>/
    that recorded their responses."""
    found = {}
    for arch in RESPONSE_ARCHS:
        if os.path.isfile(os.path.join(directory, arch, responses.RESPONSES_FILE)):
            found[arch] = responses.read_responses(os.path.join(directory, arch))
    return found


def draw_responses(found: Mapping[str, Sequence[tuple[int, str, float]]], output: str,
                   data_names: Sequence[str] = ()) -> list[str]:
    """Figure 7 from finished_responses(): plain networks dashed, ResNets solid."""
    curves = [(display_name(arch), str(CIFAR_ARCHS[arch]['layers']), 'plain' in arch,
               [std for _, _, std in rows]) for arch, rows in found.items()]
    subtitle = f'data: {", ".join(data_names)}' if data_names else None
    return plots.draw_responses(curves, output, subtitle=subtitle)


def response_findings(found: Mapping[str, Sequence[tuple[int, str, float]]]) -> list[str]:
    """The paper's two readings of Figure 7, checked in numbers: lines of text.

    1. At each depth the ResNet's responses are smaller than its plain twin's.
    2. The deeper the ResNet, the smaller its responses."""
    means = {arch: responses.mean_std(rows) for arch, rows in found.items()}
    lines = []
    for depth in sorted({CIFAR_ARCHS[arch]['layers'] for arch in means}):
        plain, residual = f'cifar_plain{depth}', f'cifar_resnet{depth}'
        if plain in means and residual in means:
            agrees = means[residual] < means[plain]
            lines.append(f'depth {depth}: mean response std plain {means[plain]:.3f}, '
                         f'ResNet {means[residual]:.3f}; ResNet smaller: '
                         f'{"yes, as in the paper" if agrees else "no, unlike the paper"}')
    deep = [arch for arch in RESPONSE_ARCHS if arch.startswith('cifar_resnet') and arch in means]
    if len(deep) > 1:
        values = [means[arch] for arch in deep]
        falling = all(a > b for a, b in zip(values, values[1:]))
        lines.append(' > '.join(f'{display_name(arch)} {means[arch]:.3f}' for arch in deep)
                     + f': smaller with depth: '
                     f'{"yes, as in the paper" if falling else "no, unlike the paper"}')
    return lines
