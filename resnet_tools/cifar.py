"""The CIFAR networks of the paper's Section 4.2 on real data: train one
(scripts/train.py), or the plain and residual twins side by side to see the
degradation problem of Figure 6 (scripts/degradation.py).

The training loop, the data and the figure know nothing of ResNet
(resnet_tools/training.py, data.py, plots.py); this module picks the networks.
"""
import os

import resnet
from configs import CIFAR_ARCHS, CIFAR_LAYERS
from resnet_tools import checkpoints, data, jobs, plots, responses, training, weights
from resnet_tools.cli import UsageError, arch_name, check_writable_directory

# Figure 6 of the paper draws plain-20/32/44/56 and ResNet-20/32/44/56/110; 110 has
# no plain twin in the figure (the paper trains no plain-110).
DEFAULT_DEPTHS = (20, 32, 44, 56, 110)
PLAIN_DEPTHS = (20, 32, 44, 56)
SHORTCUT_OPTIONS = ('A', 'B', 'C')
KINDS = (('plain', 'plain'), ('resnet', 'ResNet'))   # (arch prefix, the paper's name)
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


def display_name(arch):
    """'cifar_plain56' -> 'plain-56', 'cifar_resnet20' -> 'ResNet-20'."""
    layers = CIFAR_ARCHS[arch]['layers']
    kind = dict(KINDS)[arch[len('cifar_'):-len(str(layers))]]
    return f'{kind}-{layers}'


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


def check_depths(flag, depths):
    for depth in depths:
        if f'cifar_resnet{depth}' not in CIFAR_ARCHS:
            raise UsageError(f'{flag} {depth} is not a CIFAR depth; choose from '
                             f'{", ".join(map(str, CIFAR_LAYERS))}')
    repeated = sorted({depth for depth in depths if depths.count(depth) > 1})
    if repeated:
        raise UsageError(f'{flag} {repeated[0]} is given twice; give each depth once')
    return list(depths)


def degradation_archs(plain_depths, resnet_depths, flags=('--plain', '--resnet')):
    """plain-d for every plain depth, then ResNet-d: the two panels of Figure 6."""
    chosen = {'plain': check_depths(flags[0], plain_depths),
              'resnet': check_depths(flags[1], resnet_depths)}
    archs = [f'cifar_{prefix}{depth}' for prefix, _ in KINDS for depth in chosen[prefix]]
    if not archs:
        raise UsageError(f'{flags[0]} and {flags[1]} are both empty: nothing to train')
    return archs


def prepare_degradation(archs, output, resume=False, force=False):
    """{arch: whether --resume continues it}, once every run's folder is checked: call it
    before the data is read, not after an hour of training."""
    check_writable_directory('--output', output)
    # --resume continues the runs that have a checkpoint and starts the others.
    started = {arch: resume and training.has_checkpoint(os.path.join(output, arch))
               for arch in archs}
    for arch in archs:
        training.prepare_output(os.path.join(output, arch), started[arch], force)
    return started


def settings_of(arch, settings, deepest_lr=None):
    """The settings of `arch` in the degradation run: ResNet-110's rate is `deepest_lr`
    (if given), the others' that of `settings`."""
    from dataclasses import replace
    return replace(settings, lr=deepest_lr) if arch == DEEPEST and deepest_lr else settings


def run_degradation(started, data_source, settings, output, workers, force=False, device='cpu',
                    shown=False, report=print, deepest_lr=None):
    """Train every network of `started` (from prepare_degradation, which has checked
    their folders) into output/<arch>, alike but for ResNet-110's `deepest_lr`, in
    `workers` processes; the deepest first, so that the longest runs do not start last.
    {name: outcome}, as jobs.run_jobs returns them."""
    order = sorted(started, key=lambda arch: -CIFAR_ARCHS[arch]['layers'])
    tasks = [jobs.Job(display_name(arch), os.path.join(output, arch), train_job,
                      {'arch': arch, 'data_source': data_source,
                       'settings': settings_of(arch, settings, deepest_lr),
                       'output': os.path.join(output, arch), 'resume': started[arch],
                       'force': force, 'device': device})
             for arch in order]
    return jobs.run_jobs(tasks, workers, report=report, shown=shown)


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


# Figure 7 of the paper: the layer responses of these five networks.
RESPONSE_ARCHS = ('cifar_plain20', 'cifar_plain56', 'cifar_resnet20', 'cifar_resnet56',
                  'cifar_resnet110')


def finished_responses(directory):
    """{arch: [(index, layer, std)]} of the runs of RESPONSE_ARCHS in directory/<arch>/
    that recorded their responses."""
    found = {}
    for arch in RESPONSE_ARCHS:
        if os.path.isfile(os.path.join(directory, arch, responses.RESPONSES_FILE)):
            found[arch] = responses.read_responses(os.path.join(directory, arch))
    return found


def draw_responses(found, output, data_names=()):
    """Figure 7 from finished_responses(): plain networks dashed, ResNets solid."""
    curves = [(display_name(arch), str(CIFAR_ARCHS[arch]['layers']), 'plain' in arch,
               [std for _, _, std in rows]) for arch, rows in found.items()]
    subtitle = f'data: {", ".join(data_names)}' if data_names else None
    return plots.draw_responses(curves, output, subtitle=subtitle)


def response_findings(found):
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


# ---- the shortcut options of Section 3.3, Table 3 -------------------------------------

SHORTCUT_ARCH = 'cifar_resnet20'
SHORTCUT_SEEDS = (0, 1, 2)
SHORTCUT_TABLE = 'table.txt'
# The paper's Table 3: ResNet-34 on ImageNet, 10-crop testing, top-1 / top-5 error (%).
PAPER_TABLE_3 = {'A': (25.03, 7.76), 'B': (24.52, 7.46), 'C': (24.19, 7.40)}


def shortcut_folder(option, seed):
    return f'{option}-seed{seed}'


def shortcut_runs(options, seeds):
    """[(option, seed, folder name)] of the shortcut experiment."""
    return [(option, seed, shortcut_folder(option, seed)) for option in options for seed in seeds]


def run_shortcuts(runs, data_source, settings, output, workers, started, force=False,
                  device='cpu', shown=False, report=print):
    """Train ResNet-20 with each (option, seed) of `runs` into output/<option>-seed<k>."""
    from dataclasses import replace
    tasks = [jobs.Job(f'{display_name(SHORTCUT_ARCH)} {option} seed {seed}',
                      os.path.join(output, folder), train_job,
                      {'arch': SHORTCUT_ARCH, 'data_source': data_source,
                       'settings': replace(settings, seed=seed),
                       'output': os.path.join(output, folder), 'shortcut': option,
                       'resume': started[folder], 'force': force, 'device': device})
             for option, seed, folder in runs]
    return jobs.run_jobs(tasks, workers, report=report, shown=shown)


def finished_shortcut_runs(directory):
    """{option: [(run description, log rows)]} of every <option>-seed<k>/ in directory."""
    found = {}
    for name in sorted(os.listdir(directory)):
        option, _, seed = name.partition('-seed')
        log = os.path.join(directory, name, training.LOG_FILE)
        if option in SHORTCUT_OPTIONS and seed.isdigit() and os.path.isfile(log):
            found.setdefault(option, []).append((training.read_run(os.path.join(directory, name)),
                                                 training.read_log(log)))
    if not found:
        raise UsageError(f'{directory} holds no shortcut runs: no <option>-seed<k>/'
                         f'{training.LOG_FILE} for A, B or C')
    return found


def mean_and_spread(values):
    """'mean ± sample std' of a list of percentages (the std is '-' for one value)."""
    import statistics
    mean = statistics.fmean(values)
    spread = f'{statistics.stdev(values):.2f}' if len(values) > 1 else '-'
    return f'{mean:.2f} ± {spread}'


SHORTCUT_HEADERS = ('option', 'params', 'seeds', 'train error %', 'test error %',
                    'paper top-1 %', 'paper top-5 %')


def format_shortcut_table(found):
    """Our ResNet-20 on the data next to the paper's Table 3, labelled as such."""
    from tabulate import tabulate
    rows = []
    data_names, epochs = set(), set()
    for option in sorted(found):
        runs = found[option]
        params = sorted({run.get('params') for run, _ in runs})
        data_names |= {run.get('data', '?') for run, _ in runs}
        epochs |= {len(log) for _, log in runs}
        rows.append([option, ', '.join(f'{count:,}' for count in params if count is not None),
                     len(runs),
                     mean_and_spread([100 * log[-1]['train_error'] for _, log in runs]),
                     mean_and_spread([100 * log[-1]['test_error'] for _, log in runs]),
                     *(f'{value:.2f}' for value in PAPER_TABLE_3[option])])
    ours = (f'{display_name(SHORTCUT_ARCH)} on {", ".join(sorted(data_names))}, '
            f'{"/".join(map(str, sorted(epochs)))} epochs: final errors, mean ± sample std '
            f'over the seeds')
    paper = 'paper: ResNet-34 on ImageNet, 10-crop top-1 / top-5 error (He et al. 2015, Table 3)'
    return '\n'.join([tabulate(rows, headers=SHORTCUT_HEADERS, disable_numparse=True,
                               colalign=('left', 'right', 'right', 'right', 'right', 'right',
                                         'right')),
                      '', f'ours:  {ours}', paper])


def shortcut_spread_finding(found):
    """Whether the options' mean test errors differ by more than their seeds' spread:
    for the two options furthest apart, the gap against twice the standard error of
    the difference of two means, sqrt(s1^2/n1 + s2^2/n2)."""
    import statistics
    errors = {option: [100 * log[-1]['test_error'] for _, log in runs]
              for option, runs in found.items()}
    if len(errors) < 2 or any(len(values) < 2 for values in errors.values()):
        return None
    means = {option: statistics.fmean(values) for option, values in errors.items()}
    low, high = min(means, key=means.get), max(means, key=means.get)
    gap = means[high] - means[low]
    error = sum(statistics.variance(errors[option]) / len(errors[option])
                for option in (low, high)) ** 0.5
    verdict = 'beyond' if gap > 2 * error else 'within'
    return (f'test error {high} - {low}: {gap:.2f} points, 2 x its standard error '
            f'{2 * error:.2f}: {verdict} the spread of the seeds')
