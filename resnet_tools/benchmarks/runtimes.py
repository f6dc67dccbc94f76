"""Our exported model under Paddle Inference beside the same network under ONNX Runtime
and OpenVINO: one table, interleaved, on the same input, at the same threads.

The network is exported once (paddle.jit.save, seeded random weights), converted to ONNX
once by paddle2onnx (deploy/onnx.py), and every runtime runs those files:

  Paddle Inference f32    the export as export.py writes it (oneDNN on)
  Paddle Inference bf16   the same, with oneDNN's bfloat16 kernels, where the CPU has them
  ONNX Runtime f32        the ONNX model, CPU execution provider
  OpenVINO f32 (bf16)     the ONNX model; precision asked for explicitly: OpenVINO's default
                          on a CPU with bfloat16 instructions is bf16

A runtime that is not installed (ONNX Runtime and OpenVINO are optional extras,
requirements-extras.txt) is left out with a line that says so.  For each batch the rows
are timed in turn with numpy's matrix product (benchmarks/machine.py), which gives each
row's share of the machine's ceiling, each call after a pause (machine.SETTLE) in which
the thread pools of the call before stop spinning; `vs ORT` is ONNX Runtime f32's median over the
row's, above 1 faster.  Every row's logits are also compared with Paddle Inference f32's
on AGREEMENT_IMAGES generated images: top-1 agreement and the largest logit moved.
"""
import os
import tempfile

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import threadpoolctl
from tabulate import tabulate

from paddleinfo.macs import model_macs
from resnet_tools.benchmarks.machine import (CEILING_SIZE, DEFAULT_THREADS, SETTLE, describe_blas,
                                             gmac_per_second, machine, numpy_blas, thread_count,
                                             with_ceiling, wrapped)
from resnet_tools.deploy import onnx
from resnet_tools.deploy.export import build_model, input_shape, save
from resnet_tools.deploy.inference import (BF16, F32, Agreement, Predictor, Runner,
                                           agreement_inputs, compare, fast_bf16, random_images)
from resnet_tools.deploy.onnx import ConversionError, OnnxRuntime

RUNTIME_BATCHES = (1, 8)
AGREEMENT_IMAGES = 256        # "a few hundred generated inputs", fed 8 at a time
PADDLE, ORT, OPENVINO = 'Paddle Inference', 'ONNX Runtime', 'OpenVINO'


class OpenVino:
    """An OpenVINO model compiled for the CPU at `precision` on `threads` threads, one
    stream, taking and returning numpy arrays."""

    def __init__(self, path: str | os.PathLike[str], threads: int, precision: str) -> None:
        openvino = onnx.extra('openvino', 'OpenVINO')
        core = openvino.Core()
        self.compiled = core.compile_model(os.fspath(path), 'CPU', {
            'INFERENCE_NUM_THREADS': threads, 'NUM_STREAMS': 1, 'PERFORMANCE_HINT': 'LATENCY',
            'INFERENCE_PRECISION_HINT': 'bf16' if precision == BF16 else 'f32'})
        self.request = self.compiled.create_infer_request()

    def __call__(self, images: np.ndarray) -> np.ndarray:
        self.request.infer({0: images})
        return np.array(self.request.get_output_tensor(0).data)


@dataclass(frozen=True)
class Contender:
    """A runtime at a precision, ready to run, or the reason it is not."""
    runtime: str
    precision: str
    run: Runner | None
    why_not: str = ''

    @property
    def name(self) -> str:
        return f'{self.runtime} {self.precision}'


@dataclass(frozen=True)
class RuntimeRow:
    """One row: `name` at `batch`, its median ms, ONNX Runtime f32's ms over it (None
    without ONNX Runtime), its GMAC/s, the ceiling's GMAC/s timed with it and its share
    of it in %, and its agreement with Paddle Inference f32."""
    name: str
    batch: int
    ms: float
    vs_ort: float | None
    gmac_per_s: float
    ceiling_gmac_per_s: float
    percent: float
    agreement: Agreement


@dataclass(frozen=True)
class RuntimesResult:
    rows: list[RuntimeRow]
    left_out: list[str]         # 'OpenVINO f32: not installed ...'
    versions: list[str]         # 'ONNX Runtime 1.32.0', ...
    macs: int
    blas: dict[str, object]


def contenders(directory: str, threads: int) -> tuple[list[Contender], list[str]]:
    """(every runtime and precision of the module docstring, in its order, and the
    versions of the runtimes that run).  The ONNX model is converted into `directory`."""
    import paddle
    versions = [f'{PADDLE} {paddle.__version__}']
    bf16 = fast_bf16()
    no_bf16 = 'this CPU has no bfloat16 instructions (AVX512-BF16 or AMX)'
    found = [Contender(PADDLE, F32, Predictor(directory, threads, precision=F32)),
             Contender(PADDLE, BF16, Predictor(directory, threads, precision=BF16) if bf16 else None,
                       '' if bf16 else no_bf16)]
    onnx_path, why = None, ''
    if not onnx.installed('paddle2onnx'):
        why = f'paddle2onnx is not installed ({onnx.SETUP_LINE})'
    else:
        try:
            model = onnx.convert(directory)
            onnx_path = os.path.join(directory, onnx.ONNX_FILE)
            with open(onnx_path, 'wb') as file:
                file.write(model)
            versions.append(f'paddle2onnx {onnx.version("paddle2onnx")}')
        except ConversionError as error:
            why = str(error)
    for runtime, module, precisions, make in (
            (ORT, 'onnxruntime', (F32,), lambda path, precision: OnnxRuntime(path, threads)),
            (OPENVINO, 'openvino', (F32, BF16), lambda path, precision: OpenVino(path, threads, precision))):
        if onnx_path is not None and onnx.installed(module):
            versions.append(f'{runtime} {onnx.version(module).split("-")[0]}')
        for precision in precisions:
            if onnx_path is None:
                found.append(Contender(runtime, precision, None, why))
            elif not onnx.installed(module):
                found.append(Contender(runtime, precision, None,
                                       f'{module} is not installed ({onnx.SETUP_LINE})'))
            elif precision == BF16 and not bf16:
                found.append(Contender(runtime, precision, None, no_bf16))
            else:
                found.append(Contender(runtime, precision, make(onnx_path, precision)))
    return found, versions


def runtimes_benchmark(arch: str = 'resnet50', input_size: Sequence[int] = (224,),
                       warmup: int = 2, repeats: int = 10, threads: int = DEFAULT_THREADS,
                       batches: Iterable[int] = RUNTIME_BATCHES,
                       agreement_images: int = AGREEMENT_IMAGES,
                       progress: Callable[[str], object] = lambda what: None) -> RuntimesResult:
    """The table's rows: every runtime that runs here, at every batch, `threads` math
    threads each (and numpy's BLAS for the ceiling)."""
    with threadpoolctl.threadpool_limits(limits=threads, user_api='blas'):
        shape = input_shape(arch, input_size)
        model, _ = build_model(arch)
        macs = model_macs(model, (1, *shape[1:]))
        with tempfile.TemporaryDirectory() as directory:
            progress('export and conversion')
            save(model, directory, shape)
            found, versions = contenders(directory, threads)
            running = {c.name: c.run for c in found if c.run is not None}
            inputs = agreement_inputs(shape, agreement_images)
            agreements: dict[str, Agreement] = {}
            for name, run in running.items():
                progress(f'{name} on {agreement_images} images')
                logits = [run(batch) for batch in inputs]
                if not agreements:          # the first, Paddle Inference f32, is the reference
                    expected = logits
                agreements[name] = compare(expected, logits)
            rows = []
            for batch in batches:
                progress(f'batch {batch}')
                images = random_images(batch, shape)
                medians, ceiling = with_ceiling(
                    {name: partial(run, images) for name, run in running.items()},
                    warmup, repeats, pause=SETTLE)
                ort = medians.get(f'{ORT} {F32}')
                for name, seconds in medians.items():
                    rate = gmac_per_second(macs * batch, seconds)
                    rows.append(RuntimeRow(name, batch, seconds * 1e3,
                                           ort / seconds if ort else None, rate, ceiling,
                                           100 * rate / ceiling, agreements[name]))
    left_out = [f'{c.name}: {c.why_not}' for c in found if c.run is None]
    return RuntimesResult(rows, left_out, versions, macs, numpy_blas())


def table(rows: Iterable[RuntimeRow]) -> str:
    """The rows as a Markdown table of at most 100 columns (each batch's ceiling is
    ceiling_line's)."""
    return tabulate([[r.name, r.batch, r.ms, r.vs_ort, r.gmac_per_s, r.percent,
                      r.agreement.top1_percent, r.agreement.max_diff] for r in rows],
                    headers=['runtime', 'batch', 'ms', 'vs ORT', 'GMAC/s', '% ceil',
                             'top-1', 'max|diff|'],
                    tablefmt='github', floatfmt=['', '', '.1f', '.2f', '.1f', '.1f', '.1f', '.3g'],
                    missingval='-')


def ceiling_line(rows: Iterable[RuntimeRow]) -> str:
    ceilings = {r.batch: r.ceiling_gmac_per_s for r in rows}
    return 'ceiling GMAC/s, timed with the rows of each batch: ' + ', '.join(
        f'batch {batch} {value:.1f}' for batch, value in ceilings.items()) + '.'


def ours(rows: Iterable[RuntimeRow]) -> list[RuntimeRow]:
    return [r for r in rows if r.name.startswith(PADDLE)]


def goal_lines(rows: Sequence[RuntimeRow]) -> list[str]:
    """The issue's goal, per batch: our fastest Paddle Inference row at least even with
    ONNX Runtime f32; and whether bf16 is worth offering here."""
    lines = []
    for batch in sorted({r.batch for r in rows}):
        at = [r for r in rows if r.batch == batch]
        best = min(ours(at), key=lambda r: r.ms)
        if best.vs_ort is None:
            lines.append(f'batch {batch}: fastest of ours {best.name}, {best.ms:.1f} ms; no '
                         f'ONNX Runtime to compare with')
        else:
            verdict = 'met' if best.vs_ort >= 1 else 'NOT met'
            lines.append(f'batch {batch}: fastest of ours {best.name}, {best.vs_ort:.2f} x ONNX '
                         f'Runtime f32 (goal >= 1: {verdict})')
    f32 = {r.batch: r for r in rows if r.name == f'{PADDLE} {F32}'}
    bf16 = [r for r in rows if r.name == f'{PADDLE} {BF16}']
    if bf16:
        speeds = ', '.join(f'batch {r.batch} {f32[r.batch].ms / r.ms:.2f} x' for r in bf16)
        faster = any(f32[r.batch].ms > r.ms for r in bf16)
        cost = bf16[0].agreement
        lines.append(f'bf16 against f32 under {PADDLE}: {speeds}; top-1 agreement '
                     f'{cost.top1_percent:.1f} % on {cost.images} images, max|logit diff| '
                     f'{cost.max_diff:.3g} of {cost.max_logit:.4g}: '
                     + ('export.py --precision bf16 offers it' if faster
                        else 'not faster here: keep f32'))
    return lines


def report(arch: str, input_size: Sequence[int], warmup: int, repeats: int,
           threads: int = DEFAULT_THREADS, agreement_images: int = AGREEMENT_IMAGES,
           progress: Callable[[str], object] = lambda what: None) -> str:
    """The text benchmark.py --runtimes prints.  `threads` is --threads: 0 for every core."""
    count = thread_count(threads)
    result = runtimes_benchmark(arch, input_size, warmup, repeats, count,
                                agreement_images=agreement_images, progress=progress)
    shape = input_shape(arch, input_size)
    lines = [
        f'{arch}, input {shape[2]}x{shape[3]}, {result.macs / 1e9:.2f} GMAC per image (conv + fc), '
        f'seeded random weights; median of {repeats} interleaved runs after {warmup} warm-up runs',
        f'machine: {machine()}',
        f'runtimes: {", ".join(result.versions)}; {count} math thread(s) each',
        f'ceiling: numpy float32 matrix product {CEILING_SIZE}x{CEILING_SIZE} on {count} '
        f'thread(s), timed in turn with each batch\'s rows; {describe_blas(result.blas)}',
        '',
        table(result.rows),
        '',
        'vs ORT = ONNX Runtime f32\'s median / the row\'s: above 1, faster.  % ceil = the row\'s '
        'GMAC/s as a share of the ceiling\'s.  top-1 (%) and max|diff| = the row\'s logits against '
        f'{PADDLE} f32\'s on {agreement_images} generated images.  Each call waits '
        f'{SETTLE:g} s first, untimed, for the thread pools of the one before to stop spinning.',
        ceiling_line(result.rows),
        *[f'left out: {line}' for line in result.left_out],
        *goal_lines(result.rows),
    ]
    return '\n'.join(wrapped(lines))
