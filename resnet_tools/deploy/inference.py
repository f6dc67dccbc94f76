"""A model exported by paddle.jit.save, run by Paddle Inference on CPU, and checked
against the dynamic-graph model on the same input."""
import os

from collections.abc import Iterable, Sequence

import numpy as np
import paddle
import paddle.inference
from paddle import nn

# The two files Paddle Inference loads: the program and the weights.
MODEL_FILE, PARAMS_FILE = 'model.json', 'model.pdiparams'
CHECK_BATCHES = (1, 4)    # two batch sizes through one predictor: the batch is dynamic
SEED = 0                  # of the random weights and images of an export and its check


def inference_config(directory: str | os.PathLike[str], threads: int = 1,
                     onednn: bool = True) -> paddle.inference.Config:
    """A Paddle Inference CPU config with its default optimisations, but no pass logs.

    The defaults are IR optimisation with oneDNN (conv + BN + ReLU fusion and the
    like) and one math thread, as the dynamic graph uses by default; `threads` sets
    another number.
    """
    config = paddle.inference.Config(os.path.join(directory, MODEL_FILE),
                                     os.path.join(directory, PARAMS_FILE))
    config.disable_gpu()
    if not onednn:
        config.disable_onednn()
    config.set_cpu_math_library_num_threads(threads)
    # Without this, every optimisation pass prints a line to stderr.
    config.disable_glog_info()
    return config


class Predictor:
    """A paddle.inference predictor that takes and returns numpy arrays."""

    def __init__(self, directory: str | os.PathLike[str], threads: int = 1, onednn: bool = True) -> None:
        self.config = inference_config(directory, threads, onednn)
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


def differences(model: nn.Layer, predictor: Predictor, shape: Sequence[int],
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
