"""paddleinfo: a summary of any paddle.nn.Layer -- rows, totals, MACs, memory, depth
grouping and every output format -- and the paddle.vision zoo with torchvision's
published figures.  It knows nothing of ResNet.

    from paddleinfo import summary
    result = summary(model, input_size=(None, 3, 224, 224))
    result.total_params, result.trainable_params, result.macs

Importing the package imports no Paddle: `summary` and `ModelStatistics` are loaded
from paddleinfo.api when first used, so that a script can quieten Paddle before Paddle
is first imported, and paddleinfo.errors can be caught without it.
"""
from paddleinfo.errors import FactoryError, NotALayerError, ShapeError, UsageError

__all__ = ['FactoryError', 'ModelStatistics', 'NotALayerError', 'ShapeError', 'UsageError',
           'summary']


def __getattr__(name):
    if name in ('summary', 'ModelStatistics'):
        from paddleinfo import api
        return getattr(api, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
