"""The shortcut options of the paper's Section 3.3 (its Table 3), measured on ResNet-20:
options A, B and C over several seeds (scripts/shortcuts.py), beside the paper's table."""
import os
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import replace

from tabulate import tabulate

from resnet_tools.errors import UsageError
from resnet_tools.paper.experiment import Experiment, FinishedRun, PlannedRun, finished
from resnet_tools.paper.networks import SHORTCUT_OPTIONS
from resnet_tools.specs import display_name
from resnet_tools.training import LOG_FILE, Settings


SHORTCUT_ARCH = 'cifar_resnet20'
SHORTCUT_SEEDS = (0, 1, 2)
SHORTCUT_TABLE = 'table.txt'
# The paper's Table 3: ResNet-34 on ImageNet, 10-crop testing, top-1 / top-5 error (%).
PAPER_TABLE_3 = {'A': (25.03, 7.76), 'B': (24.52, 7.46), 'C': (24.19, 7.40)}


def shortcut_folder(option: str, seed: int) -> str:
    return f'{option}-seed{seed}'


def shortcut_experiment(options: Sequence[str], seeds: Sequence[int],
                        settings: Settings) -> Experiment:
    """ResNet-20 with each shortcut option and seed, into OUTPUT/<option>-seed<k>."""
    return Experiment([PlannedRun(shortcut_folder(option, seed),
                                  f'{display_name(SHORTCUT_ARCH)} {option} seed {seed}',
                                  SHORTCUT_ARCH, replace(settings, seed=seed), option)
                       for option in options for seed in seeds],
                      f'{display_name(SHORTCUT_ARCH)}, shortcuts {" ".join(options)}, '
                      f'seeds {" ".join(map(str, seeds))}', 'run')


def finished_shortcut_runs(directory: str | os.PathLike[str]) -> dict[str, list[FinishedRun]]:
    """{option: [FinishedRun]} of every <option>-seed<k>/ in directory."""
    found: dict[str, list[FinishedRun]] = {}
    for name in sorted(os.listdir(directory)):
        option, _, seed = name.partition('-seed')
        run = finished(os.path.join(directory, name))
        if option in SHORTCUT_OPTIONS and seed.isdigit() and run is not None:
            found.setdefault(option, []).append(run)
    if not found:
        raise UsageError(f'{directory} holds no shortcut runs: no <option>-seed<k>/'
                         f'{LOG_FILE} for A, B or C')
    return found


def mean_and_spread(values: Sequence[float]) -> str:
    """'mean ± sample std' of a list of percentages (the std is '-' for one value)."""
    mean = statistics.fmean(values)
    spread = f'{statistics.stdev(values):.2f}' if len(values) > 1 else '-'
    return f'{mean:.2f} ± {spread}'


SHORTCUT_HEADERS = ('option', 'params', 'seeds', 'train error %', 'test error %',
                    'paper top-1 %', 'paper top-5 %')


def format_shortcut_table(found: Mapping[str, Sequence[FinishedRun]]) -> str:
    """Our ResNet-20 on the data next to the paper's Table 3, labelled as such."""
    rows = []
    data_names: set[str]
    epochs: set[int]
    data_names, epochs = set(), set()
    for option in sorted(found):
        runs = found[option]
        params = sorted({run.params for run in runs if run.params is not None})
        data_names |= {run.data for run in runs}
        epochs |= {len(run.log) for run in runs}
        rows.append([option, ', '.join(f'{count:,}' for count in params),
                     len(runs),
                     mean_and_spread([100 * run.last.train_error for run in runs]),
                     mean_and_spread([100 * run.last.test_error for run in runs]),
                     *(f'{value:.2f}' for value in PAPER_TABLE_3[option])])
    ours = (f'{display_name(SHORTCUT_ARCH)} on {", ".join(sorted(data_names))}, '
            f'{"/".join(map(str, sorted(epochs)))} epochs: final errors, mean ± sample std '
            f'over the seeds')
    paper = 'paper: ResNet-34 on ImageNet, 10-crop top-1 / top-5 error (He et al. 2015, Table 3)'
    return '\n'.join([tabulate(rows, headers=SHORTCUT_HEADERS, disable_numparse=True,
                               colalign=('left', 'right', 'right', 'right', 'right', 'right',
                                         'right')),
                      '', f'ours:  {ours}', paper])


def shortcut_spread_finding(found: Mapping[str, Sequence[FinishedRun]]) -> str | None:
    """Whether the options' mean test errors differ by more than their seeds' spread:
    for the two options furthest apart, the gap against twice the standard error of
    the difference of two means, sqrt(s1^2/n1 + s2^2/n2)."""
    errors = {option: [100 * run.last.test_error for run in runs]
              for option, runs in found.items()}
    if len(errors) < 2 or any(len(values) < 2 for values in errors.values()):
        return None
    means = {option: statistics.fmean(values) for option, values in errors.items()}
    low, high = min(means, key=means.__getitem__), max(means, key=means.__getitem__)
    gap = means[high] - means[low]
    error = sum(statistics.variance(errors[option]) / len(errors[option])
                for option in (low, high)) ** 0.5
    verdict = 'beyond' if gap > 2 * error else 'within'
    return (f'test error {high} - {low}: {gap:.2f} points, 2 x its standard error '
            f'{2 * error:.2f}: {verdict} the spread of the seeds')
