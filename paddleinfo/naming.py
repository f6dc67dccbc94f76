"""paddle.summary's naming rules: which layers get a row, and what each is called."""
from paddle import nn


def summary_name(layer: nn.Layer) -> str:
    """The name paddle.summary gives `layer`: its class and the counter of its unique name."""
    class_name = str(layer.__class__).split('.')[-1].split("'")[0]
    return f'{class_name}-{int(layer.full_name().split("_")[-1]) + 1}'


def shown_by_summary(layer: nn.Layer, model: nn.Layer) -> bool:
    # paddle.summary leaves out containers and the model itself (unless it has no
    # sublayers), but for an RNN layer (LSTM, GRU, SimpleRNN subclass LayerList), which
    # it shows when it runs as one operator (could_use_cudnn, on the CPU too).
    # (model._sub_layers: model.sublayers() would walk the whole model.)
    return (not isinstance(layer, (nn.Sequential, nn.LayerList)) and (
        layer is not model or all(sub is None for sub in model._sub_layers.values()))) or bool(
        getattr(layer, 'could_use_cudnn', False))
