"""Save a ResNet as a static graph and check it under Paddle Inference.

paddle.jit.save traces forward() into a program (model.json) and its weights
(model.pdiparams), the two files Paddle Inference loads.  The batch dimension of
the input is left open (-1), so one exported model serves any batch size; the
height and width are fixed at the size the export was checked at.

The check feeds the saved model, loaded by paddle.inference, the same input as the
dynamic-graph model, at two batch sizes, and compares the logits relative to the
largest one: random weights give logits in the thousands, where an absolute bound
would say nothing.

--format onnx converts the saved program to ONNX with paddle2onnx (deploy/onnx.py)
and checks that model, run by ONNX Runtime, against the dynamic graph in the same way;
the directory then holds model.onnx alone.  --precision bf16 keeps the float32 model,
checked as above, and marks it to run in oneDNN's bfloat16 (precision.json), after
measuring what that costs: top-1 agreement with float32 and the largest logit moved.

What a killed export.py leaves is put right by the next one (recover): a staging
directory '.<name>.<random>.tmp' that no live export.py holds is removed, and the
earlier export that --force set aside as '.<name>.old' is put back if <name> is
missing, else removed.  Only directories that hold nothing but export files are
touched, and a link is never followed.
"""
import contextlib
import errno
import fcntl
import json
import math
import os
import pathlib
import shutil
import stat
import warnings

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import paddle
from paddle import nn

import resnet
from resnet.configs import CIFAR_ARCHS
from resnet_tools.deploy import onnx
from resnet_tools.deploy.inference import (BF16, CHECK_BATCHES, F32, MODEL_FILE, PARAMS_FILE,
                                           PRECISION_FILE, SEED, Agreement, Predictor, Runner,
                                           agreement, differences, fast_bf16, write_precision)
from resnet_tools import files
from resnet_tools.errors import UsageError, WeightsWarning
from resnet_tools.paper import load_run
from resnet_tools.training.data import digits
from resnet_tools.specs import (COLOUR, check_channels, check_num_classes, default_input,
                                network_image_size)
from resnet_tools.weights import load_weights, network_options, read_state_dict, shapes_of

# Everything paddle.jit.save may write for a model (older Paddle wrote .pdmodel);
# --force replaces only a directory that holds nothing else.
EXPORT_FILES = {MODEL_FILE, PARAMS_FILE, 'model.pdmodel', 'model.pdiparams.info', onnx.ONNX_FILE,
                PRECISION_FILE}
# --format: the program and weights Paddle Inference loads, or an ONNX model.
PADDLE, ONNX = 'paddle', 'onnx'
FORMATS = (PADDLE, ONNX)
INPUT_NAME = 'image'
TOLERANCE = 1e-5          # the largest max|diff| / max|logit| accepted


def input_shape(arch: str, input_size: Sequence[int],
                in_channels: int = COLOUR) -> tuple[int, ...]:
    """(-1, in_channels, height, width) of --input-size [C] H [W] for `arch`, whose first
    conv takes `in_channels` (a C given must be those)."""
    channels, height, width = network_image_size(arch, input_size)
    check_channels(channels, in_channels, arch)
    return (-1, in_channels, height, width)


def export_options(arch: str, weights: str | None = None, num_classes: int | None = None,
                   channels: int | None = None) -> dict[str, int]:
    """{'num_classes', 'in_channels'} of the `arch` to export: the weights file's (its fc
    layer and, for a CIFAR network, its stem), else the network's own (1000 classes,
    or 10 for a CIFAR network, on 3 channels, or a CIFAR network on the `channels` of
    --input-size); `num_classes` overrides the classes."""
    if weights is not None:
        # A fine-tuned model has its own number of classes: take it from the file.
        options = network_options(shapes_of(read_state_dict(weights)), arch)
    else:
        options = {'num_classes': default_input(arch)[1],
                   'in_channels': channels if channels and arch in CIFAR_ARCHS else COLOUR}
    if num_classes is not None:
        options['num_classes'] = num_classes
    check_num_classes(options['num_classes'])
    if arch in CIFAR_ARCHS and options['num_classes'] == 0:
        raise UsageError(f'--num-classes 0 drops the fc layer of an ImageNet ResNet; {arch} '
                         f'always has one')
    return options


def build_model(arch: str, weights: str | None = None, num_classes: int | None = None,
                channels: int | None = None) -> tuple[nn.Layer, list[str]]:
    """Our `arch` in eval mode, with seeded random weights or those of a weights file
    (.pdparams or .safetensors).

    Its classes and input channels are export_options'.  Returns (model, warnings
    about the file, e.g. an md5 that is not the published one).
    """
    options = export_options(arch, weights, num_classes, channels)
    if arch not in CIFAR_ARCHS:
        del options['in_channels']      # an ImageNet ResNet always takes 3
    paddle.seed(SEED)
    model = resnet.build(arch, **options)
    notes = []
    if weights is not None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            load_weights(model, weights)
        notes = [str(w.message) for w in caught if issubclass(w.category, WeightsWarning)]
    model.eval()
    return model, notes


def save(model: nn.Layer, directory: str | os.PathLike[str], shape: Sequence[int],
         output: str | os.PathLike[str] | None = None) -> None:
    """paddle.jit.save `model` into `directory` as model.json + model.pdiparams, flushed
    to the disk and checked.

    A write that fails (a full disk) is a UsageError naming `output`: Paddle reports it
    as a RuntimeError of many lines from its C++ writer, or as an OSError, or not at
    all: on a full disk paddle.jit.save may return normally, leaving a model.json or a
    model.pdiparams cut short, which check_saved finds."""
    spec = paddle.static.InputSpec(list(shape), 'float32', INPUT_NAME)
    try:
        paddle.jit.save(model, os.path.join(directory, 'model'), input_spec=[spec])
        check_saved(model, directory)
    except (OSError, RuntimeError, ValueError) as error:
        raise write_error(output or directory, error, directory, 'paddle.jit.save failed')


def check_saved(model: nn.Layer, directory: str | os.PathLike[str]) -> None:
    """An OSError, or the ValueError of a program that does not parse, unless what
    paddle.jit.save left in `directory` is on the disk and whole, as far as can be told
    without loading it: the program parses, and the weights file holds at least the
    bytes of `model`'s tensors."""
    for name in os.listdir(directory):
        files.flush_to_disk(os.path.join(directory, name))   # where a delayed write fails
    files.flush_to_disk(directory)
    with open(os.path.join(directory, MODEL_FILE), 'rb') as file:
        json.loads(file.read())
    weights = sum(math.prod(tensor.shape) * tensor.element_size()
                  for tensor in model.state_dict().values())
    size = os.path.getsize(os.path.join(directory, PARAMS_FILE))
    if size < weights:
        raise OSError(errno.EIO, f'{PARAMS_FILE} is cut short: {size:,} bytes of the '
                                 f'{weights:,} of the weights')


def write_error(output: str | os.PathLike[str], error: Exception,
                directory: str | os.PathLike[str], failed: str) -> UsageError:
    """The UsageError '<output> cannot be written: <why>' of a write into `directory`
    that failed with `error`, or that Paddle could not read back: a full disk if the
    file system says so, else the error's words (its first line, after `failed` if it
    is not an OSError).  Its cause is an OSError: the state of the disk, not the
    command line, is at fault (paddleinfo.arguments.run adds no '(see --help)')."""
    with contextlib.suppress(OSError):
        if os.statvfs(directory).f_bavail == 0:
            error = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    if isinstance(error, OSError):
        why = error.strerror or str(error)
    else:
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        why = f'{failed} ({lines[0] if lines else type(error).__name__})'
    usage = UsageError(f'{output} cannot be written: {why}')
    usage.__cause__ = error if isinstance(error, OSError) else OSError(errno.EIO, why)
    return usage


def missing_parents(output: str | os.PathLike[str]) -> list[pathlib.Path]:
    """The directories above `output` that do not exist yet, the outermost first."""
    missing: list[pathlib.Path] = []
    for parent in pathlib.Path(output).absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f'{parent} is a file, so {output} cannot be written there')
            break
        missing.insert(0, parent)
    return missing


def check_export_directory(output: str | os.PathLike[str], force: bool) -> None:
    """Refuse an `output` that exists (unless --force may replace it) or cannot be made."""
    output = pathlib.Path(output)
    files.check_name_lengths(output, str(output), files.TEMPORARY_EXTRA)
    missing_parents(output)
    if not os.path.lexists(output):
        return
    if output.is_symlink():
        raise UsageError(f'{output} is a symbolic link; --output names a directory to create')
    if not output.is_dir():
        raise UsageError(f'{output} is a file; --output names a directory to create')
    if not force:
        raise UsageError(f'{output} exists already; give --force to replace it')
    others = sorted(path.name for path in output.iterdir() if path.name not in EXPORT_FILES)
    if others:
        raise UsageError(f'{output} holds more than an exported model (e.g. {others[0]}); '
                         f'--force replaces only a directory that export.py wrote')
    if os.path.lexists(set_aside(output)):     # what recover() did not take: not ours
        raise UsageError(f'{set_aside(output)} is in the way: --force sets the earlier export '
                         f'aside there while the new one is put in place; move it elsewhere')


def set_aside(output: pathlib.Path) -> pathlib.Path:
    """Where --force keeps the earlier export while the new one is put in place."""
    return output.parent / f'.{output.name}.old'


def only_export_files(path: str | os.PathLike[str]) -> bool:
    """Whether `path` is a directory (not a link to one) that holds nothing but regular
    files of the names paddle.jit.save writes: what export.py may remove."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode) and all(
            name in EXPORT_FILES and stat.S_ISREG(os.lstat(os.path.join(path, name)).st_mode)
            for name in os.listdir(path))
    except OSError:
        return False


def remove_export(path: str | os.PathLike[str]) -> None:
    """Remove the directory `path` if only_export_files; else leave it.  An OSError if
    it cannot be removed (a file put there meanwhile is never removed)."""
    if only_export_files(path):
        for name in os.listdir(path):
            if name in EXPORT_FILES:
                os.remove(os.path.join(path, name))
        os.rmdir(path)


def recover(output: str | os.PathLike[str]) -> None:
    """Put right what a killed export.py left beside `output`: the earlier export that
    --force set aside goes back if `output` is missing (the kill came between the two
    renames of install), else it goes; staging directories that no live export.py
    holds go.  Best effort: what cannot be done now is left as it was."""
    output = pathlib.Path(output)
    aside = set_aside(output)

    def put_back_or_remove(path: str) -> None:
        if not os.path.lexists(output):
            if os.listdir(path):              # an export, not an empty folder of that name
                os.rename(path, output)
        else:
            remove_export(path)
    with contextlib.suppress(OSError):
        if only_export_files(aside):
            files.if_unheld(str(aside), stat.S_ISDIR, put_back_or_remove)
    files.sweep_temporaries(output, directories=True, remove=remove_export)


@contextlib.contextmanager
def staging(output: str | os.PathLike[str]) -> Iterator[str]:
    """A temporary directory next to `output`, removed unless it was moved into place.

    Directories made above `output` for it are removed too if nothing was installed.
    """
    output = pathlib.Path(output)
    made = missing_parents(output)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f'cannot create {output.parent}: {error.strerror}')
    try:
        # Locked while this process lives, so that no other export.py's recover()
        # takes it for a killed one's.
        directory, lock = files.locked_temporary(output, directory=True)
    except OSError as error:
        raise UsageError(f'{output} cannot be written: no directory can be made in '
                         f'{output.parent} ({error.strerror or error})')
    try:
        # mkdtemp makes it private (0700); the export should get the usual permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(directory, 0o777 & ~umask)
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)
        os.close(lock)
        if not os.path.lexists(output):
            for parent in reversed(made):
                with contextlib.suppress(OSError):   # someone else put a file there meanwhile
                    parent.rmdir()


def install(directory: str | os.PathLike[str], output: str | os.PathLike[str]) -> None:
    """Move the finished `directory` to `output`, replacing an older export there.

    A directory cannot be renamed over a non-empty one: the old one is set aside first,
    locked, so that another export.py's recover() leaves it alone.  A kill between the
    two renames leaves it there, and the next export.py puts it back."""
    output = pathlib.Path(output)
    if not os.path.lexists(output):
        os.rename(directory, output)
        files.flush_to_disk(output.parent)
        return
    aside = set_aside(output)
    lock = os.open(output, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        os.rename(output, aside)
        try:
            os.rename(directory, output)
        except OSError:
            with contextlib.suppress(OSError):
                if not os.path.lexists(output):
                    os.rename(aside, output)
            raise
        files.flush_to_disk(output.parent)
        with contextlib.suppress(OSError):   # if it stays, the next export.py removes it
            remove_export(aside)
    finally:
        os.close(lock)


def run_model(run: str, input_size: Sequence[int] | None = None
              ) -> tuple[nn.Layer, str, tuple[int, ...], str]:
    """(model, arch, input shape, what the weights are) of a training run's directory:
    the network and weights train.py left there (paper.load_run), fed images of the
    run's channels and size, or of `input_size` ([channels] height [width])."""
    loaded = load_run(run)
    network = loaded.network
    shape = input_shape(network.arch, input_size or network.image_size, network.in_channels)
    return loaded.model, network.arch, shape, f'trained in {run}, epoch {loaded.epoch}'


# Every network is checked with oneDNN on, as Paddle Inference runs by default.  (Option
# A's shortcut once padded its channels with F.pad, whose oneDNN kernel corrupted the
# heap under Paddle Inference 3.3; resnet/blocks.py appends zero channels instead.)


@dataclass(frozen=True)
class ExportResult:
    """What export() saved, and how the saved model compared with the dynamic graph."""
    arch: str
    output: str
    files: list[str]
    shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    weights: str | None
    notes: list[str]
    checked_by: str
    max_diff: float
    max_logit: float
    relative: float
    passed: bool
    precision: str = F32
    agreement: Agreement | None = None      # bf16 against f32, with --precision bf16


def check_format(format: str, precision: str) -> None:
    """Refuse a --format and --precision that do not go together, or bf16 on a CPU
    that has no bfloat16 instructions, before anything is built."""
    if precision == BF16 and format != PADDLE:
        raise UsageError('--precision bf16 is a mode of Paddle Inference (oneDNN); it does not '
                         'go with --format onnx')
    if precision == BF16 and not fast_bf16():
        raise UsageError('--precision bf16 needs a CPU with bfloat16 instructions (AVX512-BF16 '
                         'or AMX); this one has neither, and would run it slower than f32')
    if format == ONNX:      # both extras, before the export is built
        onnx.extra('paddle2onnx', '--format onnx')
        onnx.extra('onnxruntime', '--format onnx')


def export(arch: str | None, output: str | os.PathLike[str], weights: str | None = None,
           force: bool = False, input_size: Sequence[int] | None = None,
           num_classes: int | None = None, run: str | None = None, format: str = PADDLE,
           precision: str = F32) -> ExportResult:
    """Save `arch` to `output` and check it under Paddle Inference, or as ONNX under ONNX
    Runtime (`format` ONNX); with `run` (a train.py output directory) the network
    trained there instead of `arch`.

    `input_size` is [channels] height [width], by default the network's own (224, or 32
    for a CIFAR network).  `output` is only written when the relative difference is
    within TOLERANCE.  `precision` BF16 marks the export to run in bfloat16, and
    measures what that costs against float32.
    """
    check_format(format, precision)
    recover(output)
    if run is not None:
        check_export_directory(output, force)
        model, arch, shape, weights = run_model(run, input_size)
        notes: list[str] = []
    else:
        assert arch is not None
        input_size = input_size or (default_input(arch)[0],)
        channels = network_image_size(arch, input_size)[0]    # checked before anything is built
        if arch not in CIFAR_ARCHS:
            check_channels(channels, COLOUR, arch)
        check_export_directory(output, force)
        model, notes = build_model(arch, weights, num_classes, channels)
        shape = input_shape(arch, input_size, model.conv._in_channels)
    cost = None
    with staging(output) as directory:
        save(model, directory, shape, output)
        runner, checked_by = (saved_onnx if format == ONNX else saved_paddle)(directory, output)
        max_diff, max_logit, output_shape = differences(model, runner, shape)
        relative = max_diff / max_logit if max_logit else max_diff
        passed = relative <= TOLERANCE
        if passed and precision == BF16:
            cost = agreement(runner, Predictor(directory, precision=BF16), shape,
                             real=real_images(shape) if run is not None else None,
                             source='digits test images')
            try:
                write_precision(directory, cost)
            except OSError as error:
                raise write_error(output, error, directory, 'writing the precision failed')
        saved = sorted(os.listdir(directory))
        if passed:
            try:
                install(directory, output)
            except OSError as error:
                raise UsageError(f'{output} cannot be written: {error.strerror or error}')
    return ExportResult(arch, str(output), saved, shape, output_shape, weights, notes,
                        checked_by, max_diff, max_logit, relative, passed, precision, cost)


def real_images(shape: Sequence[int]) -> np.ndarray | None:
    """The digits' test images (359 real 8x8 grey images, the fixed split train.py
    tests on) where a run's network takes them, else None."""
    images = digits().test_images
    return images if images.shape[1:] == tuple(shape[1:]) else None


def saved_paddle(directory: str, output: str | os.PathLike[str]) -> tuple[Runner, str]:
    """(Paddle Inference on the export in `directory`, what it is): the read-back,
    Paddle's own reader, finds what check_saved cannot."""
    try:
        predictor = Predictor(directory)
    except (OSError, RuntimeError, ValueError) as error:
        raise write_error(output, error, directory, 'the saved model does not load')
    mode = 'oneDNN on' if predictor.onednn_enabled() else 'oneDNN off'
    return predictor, f'Paddle Inference on CPU ({mode})'


def saved_onnx(directory: str, output: str | os.PathLike[str]) -> tuple[Runner, str]:
    """(ONNX Runtime on model.onnx, what it is): the program in `directory` converted by
    paddle2onnx into model.onnx, which replaces it there, and read back from the disk."""
    model = onnx.convert(directory)
    path = os.path.join(directory, onnx.ONNX_FILE)
    try:
        with open(path, 'wb') as file:
            file.write(model)
        files.flush_to_disk(path)
        for name in (MODEL_FILE, PARAMS_FILE):
            os.remove(os.path.join(directory, name))
        runner = onnx.OnnxRuntime(path)
    except Exception as error:      # onnxruntime's own errors derive from Exception alone
        raise write_error(output, error, directory, 'the ONNX model does not load')
    return runner, (f'ONNX Runtime {onnx.version("onnxruntime")} on CPU (paddle2onnx '
                    f'{onnx.version("paddle2onnx")}, opset {onnx.OPSET})')


def report(result: ExportResult) -> list[str]:
    """The lines export.py prints for a result of export()."""
    weights = result.weights or f'random weights, paddle.seed({SEED})'
    shape, output_shape = (', '.join(map(str, value)) for value in (result.shape,
                                                                    result.output_shape))
    verdict = 'OK' if result.passed else f'ABOVE {TOLERANCE:g}'
    lines = [f'{result.arch} ({weights}): input [{shape}], output [{output_shape}]',
             f"{result.checked_by} vs the dynamic graph, batches "
             f"{' and '.join(map(str, CHECK_BATCHES))}: max|diff| {result.max_diff:.3g}, "
             f'max|logit| {result.max_logit:.4g}',
             f'relative difference {result.relative:.3g} (limit {TOLERANCE:g}): {verdict}']
    if result.agreement is not None:
        lines.append(cost_line(result.agreement))
    if result.passed:
        lines.append(f"saved {result.output}/: {', '.join(result.files)}")
    else:
        lines.append(f'nothing saved to {result.output}')
    return lines


def cost_line(cost: Agreement) -> str:
    """What --precision bf16 costs, as export.py prints it."""
    relative = cost.max_diff / cost.max_logit if cost.max_logit else cost.max_diff
    return (f'bf16 cost against f32, on {cost.images} {cost.source}: top-1 agreement '
            f'{cost.top1_percent:.1f} %, max|logit diff| {cost.max_diff:.3g} of max|logit| '
            f'{cost.max_logit:.4g} ({relative:.2g} relative)')
