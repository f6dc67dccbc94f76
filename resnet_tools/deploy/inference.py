"""A model exported by paddle.jit.save, run by Paddle Inference on CPU, and checked
against the dynamic-graph model on the same input; its bfloat16 mode, where the CPU has
it, and what that mode costs in accuracy against float32."""
import json
import os

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import paddle
import paddle.inference
from paddle import nn

from resnet_tools import files
from resnet_tools.errors import UsageError

# The two files Paddle Inference loads: the program and the weights.
MODEL_FILE, PARAMS_FILE = 'model.json', 'model.pdiparams'
# Beside them, where export.py --precision bf16 wrote it: the precision to run them in,
# and what it cost against f32 when it was exported.
PRECISION_FILE = 'precision.json'
CHECK_BATCHES = (1, 4)    # two batch sizes through one predictor: the batch is dynamic
SEED = 0                  # of the random weights and images of an export and its check
# The precisions Paddle Inference runs an export in: float32, and oneDNN's bfloat16
# (Config.enable_mkldnn_bfloat16), which only CPUs with bf16 instructions run fast.
F32, BF16 = 'f32', 'bf16'
PRECISIONS = (F32, BF16)
AGREEMENT_IMAGES = 64     # generated images on which bf16's top-1 is compared with f32's
AGREEMENT_BATCH = 8

# A model run: a batch of images in, logits out (Paddle Inference, ONNX Runtime, ...).
Runner = Callable[[np.ndarray], np.ndarray]


def fast_bf16() -> bool:
    """Whether this CPU runs oneDNN's bfloat16 kernels natively (AVX512-BF16 or AMX),
    as Paddle's own query says; elsewhere oneDNN emulates them, slower than float32."""
    return bool(paddle.base.core.supports_bfloat16_fast_performance())


def inference_config(directory: str | os.PathLike[str], threads: int = 1,
                     onednn: bool = True, precision: str = F32) -> paddle.inference.Config:
    """A Paddle Inference CPU config with its default optimisations, but no pass logs.

    The defaults are IR optimisation with oneDNN (conv + BN + ReLU fusion and the
    like) and one math thread, as the dynamic graph uses by default; `threads` sets
    another number, and `precision` BF16 runs oneDNN's bfloat16 kernels.
    """
    config = paddle.inference.Config(os.path.join(directory, MODEL_FILE),
                                     os.path.join(directory, PARAMS_FILE))
    config.disable_gpu()
    if not onednn:
        config.disable_onednn()
    if precision == BF16:
        config.enable_mkldnn_bfloat16()
    config.set_cpu_math_library_num_threads(threads)
    # Without this, every optimisation pass prints a line to stderr.
    config.disable_glog_info()
    return config


class Predictor:
    """A paddle.inference predictor that takes and returns numpy arrays."""

    def __init__(self, directory: str | os.PathLike[str], threads: int = 1, onednn: bool = True,
                 precision: str | None = None) -> None:
        """`precision` by default is the export's own: BF16 where export.py --precision
        bf16 marked it so (precision.json), else F32."""
        self.precision = saved_precision(directory) if precision is None else precision
        self.config = inference_config(directory, threads, onednn, self.precision)
        self.predictor = paddle.inference.create_predictor(self.config)
        self.input = self.predictor.get_input_handle(self.predictor.get_input_names()[0])
        self.output = self.predictor.get_output_handle(self.predictor.get_output_names()[0])

    def __call__(self, images: np.ndarray) -> np.ndarray:
        self.input.reshape(list(images.shape))
        self.input.copy_from_cpu(images)
        self.predictor.run()
        return self.output.copy_to_cpu()

    def onednn_enabled(self) -> bool:
        return self.config.onednn_enabled()


def random_images(batch: int, shape: Sequence[int], seed: int = SEED) -> np.ndarray:
    """A seeded batch of standard-normal images, roughly what a normalised photo is."""
    return np.random.RandomState(seed).standard_normal((batch, *shape[1:])).astype('float32')


def eager(model: nn.Layer, images: np.ndarray) -> np.ndarray:
    with paddle.no_grad():
        return model(paddle.to_tensor(images)).numpy()


def differences(model: nn.Layer, predictor: Runner, shape: Sequence[int],
                batches: Iterable[int] = CHECK_BATCHES) -> tuple[float, float, tuple[int, ...]]:
    """(max|diff|, max|logit|, the output shape) over `batches`, the same input each.

    An output of the wrong shape counts as an infinite difference.
    """
    max_diff = max_logit = 0.0
    for batch in batches:
        images = random_images(batch, shape, seed=SEED + batch)
        expected, got = eager(model, images), predictor(images)
        max_logit = max(max_logit, float(np.abs(expected).max()))
        if got.shape != expected.shape:
            max_diff = float('inf')
        else:
            max_diff = max(max_diff, float(np.abs(got - expected).max()))
    return max_diff, max_logit, (-1, *expected.shape[1:])


@dataclass(frozen=True)
class Agreement:
    """How a runner's logits compare with a reference's on the same `images` images:
    the share whose top-1 class is the same, in %, the largest |difference| of a logit,
    the largest |logit| of the reference, and what the images were."""
    images: int
    top1_percent: float
    max_diff: float
    max_logit: float
    source: str = 'generated images'


def agreement_inputs(shape: Sequence[int], images: int = AGREEMENT_IMAGES,
                     batch: int = AGREEMENT_BATCH, seed: int = SEED) -> list[np.ndarray]:
    """`images` seeded standard-normal images of `shape`, in batches of `batch`."""
    return [random_images(min(batch, images - start), shape, seed=seed + 1000 + start)
            for start in range(0, images, batch)]


def compare(expected: Sequence[np.ndarray], got: Sequence[np.ndarray],
            source: str = 'generated images') -> Agreement:
    """The Agreement of the logits `got` with `expected`, batch by batch, on `source`."""
    same = images = 0
    max_diff = max_logit = 0.0
    for want, have in zip(expected, got, strict=True):
        images += len(want)
        same += int((want.argmax(axis=1) == have.argmax(axis=1)).sum())
        max_diff = max(max_diff, float(np.abs(have - want).max()))
        max_logit = max(max_logit, float(np.abs(want).max()))
    return Agreement(images, 100 * same / images, max_diff, max_logit, source)


def agreement(reference: Runner, candidate: Runner, shape: Sequence[int],
              images: int = AGREEMENT_IMAGES, real: np.ndarray | None = None,
              source: str = 'real images') -> Agreement:
    """`candidate` against `reference` on the `real` images if given (N, C, H, W; what
    they are is `source`), else on agreement_inputs of `shape`."""
    if real is None:
        inputs, source = agreement_inputs(shape, images), 'generated images'
    else:
        inputs = [real[start:start + AGREEMENT_BATCH] for start in range(0, len(real), AGREEMENT_BATCH)]
    return compare([reference(batch) for batch in inputs], [candidate(batch) for batch in inputs],
                   source)


def write_precision(directory: str | os.PathLike[str], cost: Agreement) -> None:
    """precision.json in the export `directory`: run it in bf16; what that cost."""
    path = os.path.join(directory, PRECISION_FILE)
    with open(path, 'w', encoding='utf-8') as file:
        json.dump({'precision': BF16, 'images': cost.images, 'top1_agreement_percent':
                   round(cost.top1_percent, 2), 'max_logit_diff': round(cost.max_diff, 4),
                   'max_logit': round(cost.max_logit, 4)}, file, indent=1)
        file.write('\n')
    files.flush_to_disk(path)


def saved_precision(directory: str | os.PathLike[str]) -> str:
    """The precision an export is to run in: its precision.json's (a small file, read
    bounded), else F32.  An unreadable or unknown one is a ValueError."""
    path = os.path.join(directory, PRECISION_FILE)
    if not os.path.lexists(path):
        return F32
    try:
        precision = json.loads(files.read_regular(path, 4096)).get('precision')
    except (OSError, ValueError, AttributeError, UsageError) as error:
        raise ValueError(f'{path} cannot be read: {error}')
    if precision not in PRECISIONS:
        raise ValueError(f'{path} names no precision of {", ".join(PRECISIONS)}')
    return str(precision)
