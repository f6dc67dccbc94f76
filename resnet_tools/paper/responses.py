"""The layer responses of the paper's Figure 7 (Section 4.2, "Analysis of Layer Responses").

A response is the output of a 3x3 conv after its BN, before the ReLU and before
the addition of the shortcut.  Its standard deviation, over every value (images,
channels, positions) of the test images with BN in eval mode, measures how far a
layer moves the signal.  The paper reads from Figure 7 that ResNets have smaller
responses than plain networks, and the deeper ResNets the smaller ones: residual
functions are closer to zero than the unreferenced functions of plain layers.

The statistic knows nothing of ResNet: it takes every BatchNorm2D that follows a
3x3 Conv2D among a model's sublayers, in the order the model defines them (the
order of depth, for our networks: the stem, then each block's two convs).
"""
import csv
import io
import os
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import paddle
from paddle import nn

from resnet_tools import files
from resnet_tools.errors import UsageError

RESPONSES_FILE = 'responses.csv'
COLUMNS = ('index', 'layer', 'std')
BATCH = 500


def response_layers(model: nn.Layer) -> list[tuple[str, nn.Layer]]:
    """[(name, BatchNorm2D)] of every BN whose input is a 3x3 conv, in definition order."""
    layers: list[tuple[str, nn.Layer]]
    previous: nn.Layer | None
    layers, previous = [], None
    for name, layer in model.named_sublayers():
        if isinstance(layer, nn.BatchNorm2D) and isinstance(previous, nn.Conv2D) \
                and tuple(previous._kernel_size) == (3, 3):
            layers.append((name, layer))
        if isinstance(layer, (nn.Conv2D, nn.BatchNorm2D)):
            previous = layer
    return layers


def layer_responses(model: nn.Layer, images: np.ndarray, batch: int = BATCH) -> list[tuple[int, str, float]]:
    """[(index from 1, layer name, std)] of every 3x3 layer's BN output on `images`.

    The std is the population std of all values, accumulated in float64 over the
    batches (sums of x and x^2 about a running shift, so that no batch is kept)."""
    layers = response_layers(model)
    # count, sum, sum of squares, shift
    sums: dict[str, list[Any]] = {name: [0, 0.0, 0.0, None] for name, _ in layers}

    def hook(name: str) -> Callable[[nn.Layer, Any, paddle.Tensor], Any]:
        def record(layer: nn.Layer, inputs: Any, output: paddle.Tensor) -> None:
            values = output.numpy().astype(np.float64).ravel()
            state = sums[name]
            if state[3] is None:
                state[3] = float(values.mean())
            centred = values - state[3]
            state[0] += values.size
            state[1] += float(centred.sum())
            state[2] += float(np.square(centred).sum())
        return record

    handles = [layer.register_forward_post_hook(hook(name)) for name, layer in layers]
    was_training = model.training
    model.eval()
    try:
        with paddle.no_grad():
            for start in range(0, len(images), batch):
                model(paddle.to_tensor(images[start:start + batch]))
    finally:
        for handle in handles:
            handle.remove()
        if was_training:
            model.train()
    rows = []
    for index, (name, _) in enumerate(layers, start=1):
        count, total, squares, _ = sums[name]
        mean = total / count
        rows.append((index, name, float(np.sqrt(max(squares / count - mean * mean, 0.0)))))
    return rows


def format_responses(rows: Iterable[tuple[int, str, float]]) -> str:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator='\n')
    writer.writerow(COLUMNS)
    for index, name, std in rows:
        writer.writerow([index, name, f'{std:.6f}'])
    return text.getvalue()


def write_responses(directory: str | os.PathLike[str], rows: Iterable[tuple[int, str, float]]) -> None:
    files.write_bytes(os.path.join(directory, RESPONSES_FILE), format_responses(rows))


def read_responses(directory: str | os.PathLike[str]) -> list[tuple[int, str, float]]:
    """The rows of directory/responses.csv: [(index, layer, std)]."""
    path = os.path.join(directory, RESPONSES_FILE)
    try:
        with open(path, newline='', encoding='utf-8') as file:
            return [(int(row['index']), row['layer'], float(row['std']))
                    for row in csv.DictReader(file)]
    except (KeyError, ValueError, TypeError) as error:
        raise UsageError(f'{path} is not a responses file ({COLUMNS}): {error}')


def mean_std(rows: Iterable[tuple[int, str, float]]) -> float:
    return float(np.mean([std for _, _, std in rows]))
