"""The command-line vocabulary of scripts/: each flag the reproduction's scripts share,
defined once, with one meaning, one help and one check.

The kinds of flag (an integer in a range, a name among choices, the format of a table,
the inputs of a model) and the parser, the one-line error and the runner are
paddleinfo.arguments', which the `paddleinfo` command uses too; here are the flags that
name what this repository builds and trains:

  add_network      --layers N | --arch NAME: which ResNet
  add_arch         --arch NAME alone (the CIFAR networks of train.py; several for compare.py)
  add_block        --block TYPE, and add_block_options: --in-channels, --out-channels, --stride
  add_input_size   --input-size [C] H [W]: the image, as paddleinfo takes it
  add_network_options  --num-classes, --variant: how the chosen network is built
  add_weights      --weights FILE: .safetensors or .pdparams, either key layout
  add_repeats      --repeats N: how many times each timed thing runs
  add_shortcut     --shortcut: the paper's option A, B, C (or none)
  add_output, add_force  where a script writes, and whether it may replace what is there
  add_model_format, add_precision  what export.py writes (Paddle or ONNX) and runs it in
  add_data_arguments     --data, --data-file, --train-size, --test-size
  add_settings_arguments every field of training.Settings, as a flag
  add_run_arguments      --device, --resume, --force of a training run
  add_jobs         --jobs N: runs side by side
  train_experiment what degradation.py and shortcuts.py do with those flags
  finished_runs_folder  what their --plot-only and --table-only check first
"""
import argparse
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import fields
from typing import Any, NoReturn

from paddleinfo.arguments import add_choice, add_integer, add_number, flag_name, refuse
from paddleinfo.arguments import run as run_command
from paddleinfo.inputs import add_input_size as add_image_size
from paddleinfo.progress import on_terminal
from resnet.configs import ARCHS, CIFAR_ARCHS, STRIDE_PLACEMENT, SUPPORTED_LAYERS
from resnet_tools.deploy.export import FORMATS as MODEL_FORMATS
from resnet_tools.deploy.export import PADDLE
from resnet_tools.deploy.inference import F32, PRECISIONS
from resnet_tools.deploy.onnx import SETUP_LINE
from resnet_tools.errors import Stop, UsageError
from resnet_tools.files import check_writable_directory
from resnet_tools.paper.experiment import Experiment, train_all
from resnet_tools.specs import BLOCKS, DEFAULT_BLOCK, MAX_CHANNELS
from resnet_tools.training.data import DATASETS, DataSource
from resnet_tools.training.distributed import DEVICES, default_device
from resnet_tools.training.jobs import default_workers
from resnet_tools.training.settings import Settings


def run(main: Callable[[], int | None], prog: str) -> NoReturn:
    """Run main() and exit with the code it returns (0 for None).  A user's mistake
    (UsageError) is one line and exit code 2, a Ctrl-C one line and 130, and a Stop (the
    training loop's own end at a step, after a signal or a divergence) its one line and
    its code: never a traceback."""
    try:
        code = run_command(main, prog)
    except Stop as stop:
        sys.stderr.write(f'{prog}: {stop}\n')
        sys.exit(stop.code)
    sys.exit(code or 0)


# --- which network --------------------------------------------------------------------

def arch_names(archs: Iterable[str]) -> str:
    """The names --arch takes, paddle.vision's first, then the CIFAR-10 networks."""
    archs = list(archs)
    vision = ', '.join(name for name in archs if name in ARCHS)
    cifar = ', '.join(name for name in archs if name in CIFAR_ARCHS)
    return f'{vision}, and the CIFAR-10 networks {cifar}' if vision and cifar else vision or cifar


def add_arch(parser: Any, archs: Iterable[str] = ARCHS, what: str = 'a paddle.vision.models name',
             more: str = '', **options: Any) -> argparse.Action:
    """--arch NAME, `what` a network of `archs` is (checked by resnet_tools.specs.arch_name,
    which says which names there are); `options` as argparse takes them (a default,
    'append')."""
    return parser.add_argument('--arch', metavar='NAME', help=f'{what}: {arch_names(archs)}{more}',
                               **options)


def add_network(parser: Any, archs: Iterable[str] = ARCHS, group: Any = None) -> Any:
    """--layers N or --arch NAME, one of them (in `group`, a mutually exclusive group of
    the caller's, if given): the choice of network."""
    which = group if group is not None else parser.add_mutually_exclusive_group()
    which.add_argument('--layers', metavar='N',
                       help=f'the ResNet depth: {", ".join(map(str, SUPPORTED_LAYERS))} '
                            f'(default: 50)')
    add_arch(which, archs)
    return which


def add_block(group: Any, figure: str = '') -> argparse.Action:
    """--block TYPE, in the caller's group of choices (add_block_options adds the rest)."""
    return group.add_argument('--block', metavar='TYPE',
                              help=f'one residual block{figure}: {" or ".join(BLOCKS)}')


def add_block_options(parser: Any) -> None:
    """--in-channels, --out-channels and --stride: the block that --block builds."""
    defaults = DEFAULT_BLOCK
    add_integer(parser, '--in-channels', low=1, high=MAX_CHANNELS, metavar='C',
                help=f'with --block: input channels (default: {defaults["in_channels"]})')
    add_integer(parser, '--out-channels', low=1, high=MAX_CHANNELS, metavar='C',
                help=f'with --block: output channels (default: {defaults["out_channels"]})')
    add_integer(parser, '--stride', metavar='S',
                help=f'with --block: stride, 1 or 2 (default: {defaults["stride"]})')


def add_input_size(parser: Any, default: str = '224; 32 for a CIFAR network') -> argparse.Action:
    """--input-size [C] H [W], as paddleinfo defines it; `default` says the network's own."""
    return add_image_size(parser, f' (default: {default})')


def add_num_classes(parser: Any, default: str = '1000; 10 for a CIFAR network, which always '
                                               'has its fc') -> argparse.Action:
    """--num-classes K: the outputs of the fc layer; `default` says the network's own."""
    return add_integer(parser, '--num-classes', metavar='K',
                       help=f'outputs of the fc layer, 0 to drop it (default: {default})')


def add_variant(parser: Any) -> argparse.Action:
    """--variant V: where a down-sampling bottleneck puts its stride."""
    return add_choice(parser, '--variant', list(STRIDE_PLACEMENT), metavar='V',
                      help="where a down-sampling bottleneck puts its stride: v1.5 (on the 3x3 "
                           "conv, as the article and Paddle; default) or v1 (on the first 1x1 "
                           "conv, as the paper)")


def add_network_options(parser: Any) -> None:
    """--num-classes K and --variant V: how the chosen network is built."""
    add_num_classes(parser)
    add_variant(parser)


def add_weights(parser: Any, use: str) -> argparse.Action:
    """--weights FILE: a .safetensors weights file (read without pickle), in this
    repository's key names or paddle.vision's; `use` says what is done with it."""
    return parser.add_argument('--weights', metavar='FILE',
                               help=f'a .safetensors file, in our layout or paddle.vision\'s: '
                                    f'{use}')


def add_repeats(parser: Any, default: int, high: int, what: str) -> argparse.Action:
    """--repeats N: how many times each timed thing runs; `what` says what one repeat is."""
    return add_integer(parser, '--repeats', low=1, high=high, default=default,
                       help=f'{what} (default: {default})')


def add_shortcut(parser: Any, options: Sequence[str], default: str) -> argparse.Action:
    """--shortcut: the paper's option for the shortcuts where a block changes the shape."""
    words = {'A': 'A zero-padding', 'B': 'B projections there', 'C': 'C projections in every '
             'block', 'none': 'none for the plain network'}
    return parser.add_argument('--shortcut', metavar='|'.join(options),
                               help='the shortcut where a block changes the shape (Section '
                                    f'3.3): {", ".join(words[option] for option in options)} '
                                    f'(default: {default})')


# --- where a script writes -------------------------------------------------------------

def add_output(parser: Any, what: str, metavar: str = 'DIR', required: bool = False) -> argparse.Action:
    """--output: the file or the directory a script writes (`what` says which, and what
    goes there)."""
    return parser.add_argument('--output', metavar=metavar, required=required, help=f'the {what}')


def add_force(parser: Any, what: str) -> argparse.Action:
    """--force: replace what an earlier run left at --output."""
    return parser.add_argument('--force', action='store_true', help=f'replace {what}')


# --- what an export is ---------------------------------------------------------------

def add_model_format(parser: Any) -> argparse.Action:
    """--format paddle|onnx: the model export.py writes.  (Not paddleinfo's --format of a
    table: export.py prints no table.)"""
    return add_choice(parser, '--format', MODEL_FORMATS, metavar='F', default=PADDLE,
                      help=f'paddle (model.json and model.pdiparams for Paddle Inference; '
                           f'default) or onnx (model.onnx, converted by paddle2onnx and checked '
                           f'under ONNX Runtime: optional extras, `{SETUP_LINE}`)')


def add_precision(parser: Any) -> argparse.Action:
    """--precision f32|bf16: what Paddle Inference runs an export in."""
    return add_choice(parser, '--precision', PRECISIONS, metavar='P', default=F32,
                      help='f32 (default) or bf16: oneDNN\'s bfloat16, on a CPU with AVX512-BF16 '
                           'or AMX; the export is checked in f32, then marked bf16, and what bf16 '
                           'costs (top-1 agreement with f32, the largest logit moved) is printed')


# --- training --------------------------------------------------------------------------

def add_data_arguments(parser: Any) -> None:
    """--data, --data-file, --train-size and --test-size: the images a run trains on."""
    add_choice(parser, '--data', DATASETS, default='digits', metavar='NAME',
               help='digits (scikit-learn\'s 8x8 handwritten digits, 1,438 training and '
                    '359 test images, a fixed split) or cifar10 (needs --data-file) '
                    '(default: digits)')
    parser.add_argument('--data-file', metavar='FILE',
                        help='the CIFAR-10 python archive, cifar-10-python.tar.gz, for --data '
                             'cifar10')
    add_integer(parser, '--train-size', low=1, help='train on the first N training images '
                                                    'only (default: all); for quick trials')
    add_integer(parser, '--test-size', low=1,
                help='test on the first N test images only (default: all)')


def data_source(args: argparse.Namespace) -> DataSource:
    """The DataSource the data flags ask for: what any process needs to read the data."""
    return DataSource(args.data, args.data_file, args.train_size, args.test_size)


def add_settings_arguments(parser: Any, defaults: Settings = Settings(),
                           derived: Mapping[str, str] | None = None) -> None:
    """One flag per field of training.Settings (--lr-decay for lr_decay), its help, range
    and metavar from the field; its default from `defaults`.  `derived` maps a field to
    the words of a default that a script works out itself: the flag then defaults to None."""
    derived = derived or {}
    for item in fields(Settings):
        flag, spec = flag_name(item.name), item.metadata['flag']
        limits, default = spec.limits, getattr(defaults, item.name)
        several = isinstance(default, tuple)
        if item.name in derived:
            words, default = derived[item.name], None
        else:
            words = ' '.join(map(str, default)) if several else format(default, 'g')
        options: dict[str, Any] = {'metavar': spec.metavar, 'help': f'{spec.help} (default: {words})',
                                   'default': list(default) if several and default else default}
        if several:
            options['nargs'] = '+'
        if isinstance(getattr(Settings(), item.name), int):
            add_integer(parser, flag, low=limits.low, high=limits.high, allowed=limits.allowed,
                        **options)
        else:
            add_number(parser, flag, low=limits.low, high=limits.high, above=limits.above,
                       below=limits.below, allowed=limits.allowed, **options)


def settings_from(args: argparse.Namespace, **derived: Any) -> Settings:
    """The Settings of parsed arguments, checked; `derived` gives the fields a script
    works out itself where the flag was not given."""
    values = {item.name: getattr(args, item.name) for item in fields(Settings)}
    for name, value in derived.items():
        if values[name] is None:
            values[name] = value
    values['milestones'] = tuple(values['milestones'])
    return Settings(**values).check()


def add_run_arguments(parser: Any) -> None:
    """--device, --resume and --force: where a run trains, and what it does with the run
    already in its --output."""
    add_choice(parser, '--device', DEVICES, default=default_device(), metavar='cpu|gpu',
               help='where to train (default: gpu if the installed Paddle has CUDA, else cpu)')
    parser.add_argument('--resume', action='store_true',
                        help='continue the run in --output from its last checkpoint, with the '
                             'same settings')
    add_force(parser, 'the run in --output: start it over')


def add_jobs(parser: Any, what: str) -> argparse.Action:
    """--jobs N: `what` trained at a time, one process each."""
    return add_integer(parser, '--jobs', low=1, default=default_workers(),
                       help=f'{what} trained at a time, one process each (default: the number '
                            f'of cores, {default_workers()})')


def train_experiment(experiment: Experiment, args: argparse.Namespace) -> int:
    """paper.experiment.train_all with the flags degradation.py and shortcuts.py share:
    the data flags, --output, --jobs, --resume, --force and --device; progress bars on a
    terminal, every line printed as it comes.  The exit code of the runs."""
    return train_all(experiment, data_source(args), args.output, args.jobs, args.resume,
                     args.force, args.device, shown=on_terminal(),
                     report=lambda line: print(line, flush=True))


# What a script's --plot-only or --table-only, which trains nothing, takes besides itself.
FINISHED_RUNS_FLAGS = ('output', 'force')


def finished_runs_folder(given: Sequence[str], flag: str, source: str, output: str | None,
                         force: bool, written: Callable[[str], Sequence[str]]) -> str:
    """The folder a script writes the results of the finished runs in `source` to (given
    by `flag`, --plot-only or --table-only), once checked: no training flag beside `flag`,
    `source` a directory, the output folder (--output, else `source`) writable, and none
    of the files `written(output)` names there already unless `force`.  The folder is made."""
    itself = flag.lstrip('-').replace('-', '_')
    refuse(given, [name for name in given if name not in (itself, *FINISHED_RUNS_FLAGS)],
           f'does not go with {flag}, which trains nothing')
    if not os.path.isdir(source):
        raise UsageError(f'{flag} {source} is not a directory')
    output = output or source
    check_writable_directory('--output', output)
    for path in written(output):
        if os.path.exists(path) and not force:
            raise UsageError(f'{path} exists already; give --force to replace it')
    os.makedirs(output, exist_ok=True)
    return output
