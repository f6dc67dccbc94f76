"""One row per layer of any paddle.nn.Layer, from one pass over its inputs' shapes.

This module knows nothing of ResNet.  `profile_inputs(model, inputs)` takes a built
model, or a factory that builds one, and the inputs of its forward() (shapes and
dtypes, or real tensors), and returns the rows paddle.summary would print -- same
names, same order, same shapes and parameter counts -- with the multiply-adds of every
matrix product the forward pass runs (paddleinfo.ops), which of each layer's tensors
are trainable, and the arithmetic of every conv and pool output size.
`profile(build_model, input_shape)` is the same for one float32 input.

Shapes, parameter counts and MACs do not depend on the parameter values, so nothing
runs: a factory's model is built and called in Paddle's static graph, where calling a
layer appends its operators to a Program and infers the output shapes, and the
Program's startup part, which would initialise the parameters, never runs; a model
already built is turned into the same kind of Program by paddle.jit's dy2static with an
InputSpec per input.  A model that cannot be traced that way (one that reads tensor
values in its forward pass or its __init__, say) is built and run once in the ordinary
dynamic graph instead, with the same rows, and its MACs counted from its layers (a note
says so).
"""
from collections.abc import Callable, Sequence
from typing import Any

import paddle
from paddle import nn

from paddleinfo.errors import FactoryError, NotALayerError, ShapeError, text_of
from paddleinfo.formulas import size_formula
from paddleinfo.graph import quiet, static_graph, untraceable
from paddleinfo.naming import shown_by_summary, summary_name
from paddleinfo.result import Input, LayerRow, Profile, own_parameters, unknown_sizes
from paddleinfo.tracer import ControlFlow, Tracer, trace_built, trace_eager, trace_factory

__all__ = ['profile', 'profile_inputs', 'profile_of']


def profile_inputs(source: nn.Layer | Callable[[], object], inputs: list[Input],
                   training: bool = False) -> Profile:
    """The Profile of a model on `inputs` (a list of Input).  `source` is a built
    paddle.nn.Layer or a factory that returns one.  Any error of the model on these
    inputs is raised: FactoryError if the factory fails, NotALayerError if it returns
    something else, ShapeError if the model does not take the inputs."""
    if not isinstance(source, nn.Layer) and not callable(source):
        raise NotALayerError(f'a {type(source).__name__} is not a paddle.nn.Layer, nor a '
                             f'function that builds one')
    try:
        with quiet():
            if isinstance(source, nn.Layer):
                if not paddle.in_dynamic_mode():
                    raise NotALayerError('the model was built in the static graph; build it '
                                         'in the dynamic graph (the default)')
                traced = profile_of(inputs, *trace_built(source, inputs, training))
            else:
                with static_graph() as programs:
                    traced = profile_of(inputs, *trace_factory(source, inputs, training),
                                        programs)
        # A size the trace could not know (-1): the model read a value (dy2static
        # traces x.item() as a tensor); its real sizes are those of a real pass.
        if not unknown_sizes(traced):
            return traced
    except (FactoryError, NotALayerError, ShapeError):
        raise
    except ControlFlow:
        pass
    except Exception as error:  # noqa: BLE001 -- a model the static graph cannot trace
        if not (untraceable(error) or isinstance(source, nn.Layer)
                and '(InvalidArgument)' not in text_of(error)):
            raise
    with quiet():
        return profile_of(inputs, *trace_eager(source, inputs), eager=True)


# (Callable[..., object]: mypy cannot infer a `lambda v=v: ...` factory against Callable[[], ...].)
def profile(build_model: Callable[..., object], input_shape: Sequence[int | None]) -> Profile:
    """Build a model with `build_model()` and pass it one float32 input of `input_shape`
    (None for the batch means 1).  Returns a Profile whose rows are the layers
    paddle.summary would show, in its order; errors as profile_inputs."""
    shape = [1 if size is None else size for size in input_shape]
    return profile_inputs(build_model, [Input(shape)])


def profile_of(inputs: list[Input], model: nn.Layer, output_shape: list[Any] | dict[Any, Any],
               tracer: Tracer, programs: tuple[Any, ...] = (), eager: bool = False) -> Profile:
    """The Profile of a traced model: one row per name paddle.summary would print."""
    rows: dict[str, LayerRow] = {}
    calls = tracer.calls
    # paddle.summary keeps one row per name, where the layer first finished, with the
    # shapes of its last call.
    for layer in (layer for layer in calls if shown_by_summary(layer, model)):
        layer_inputs, out, macs, count = calls[layer]
        params, trainable_params, names, frozen = own_parameters(layer)
        name = summary_name(layer)
        first = layer_inputs[0] if layer_inputs else None
        rows[name] = LayerRow(
            name=name, layer=layer, input_shape=layer_inputs,
            output_shape=out, params=params, trainable_params=trainable_params,
            trainable=names, frozen=frozen, macs=macs,
            formula=size_formula(layer, first, out) if first is not None else None,
            calls=count)
    # A layer whose call raised an error the model caught has no shapes to show.
    order = [layer for layer in tracer.order if layer in calls]
    return Profile(model, list(inputs[0].shape) if inputs else [], list(rows.values()),
                   output_shape, order, {layer: calls[layer] for layer in order},
                   programs, list(inputs), eager, tracer.uncounted, tracer.training,
                   tracer.training_failure)
