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
import copy
import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import paddle
from paddle import nn

from paddleinfo.conventions import Rule, check_rules, convention
from paddleinfo.errors import ArgumentError, FactoryError, NotALayerError, ShapeError, first_line, text_of
from paddleinfo.formulas import size_formula
from paddleinfo.graph import OURS, build, quiet, raised_by_paddle, static_graph, untraceable
from paddleinfo.memory import dtype_name
from paddleinfo.naming import shown_by_summary, summary_name
from paddleinfo.result import Input, LayerRow, Profile, own_parameters, unknown_sizes
from paddleinfo.view import MODES
from paddleinfo.tracer import (ControlFlow, Tracer, static_twins, trace_built, trace_eager,
                               trace_factory, trace_static)

__all__ = ['profile', 'profile_inputs', 'profile_of']


def profile_inputs(source: nn.Layer | Callable[[], object], inputs: list[Input],
                   training: bool = False, *, mode: str = 'eval', count: str = 'macs',
                   rules: Mapping[str, Rule] | None = None) -> Profile:
    """As counted(), with the convention and rules checked: count is one of
    paddleinfo.conventions.CONVENTIONS, rules the user's own {operator name: fn(op)}."""
    convention(count)
    checked = check_rules(rules)
    result = counted(source, inputs, training, mode, count, checked)
    result.count, result.rules = count, tuple(sorted(checked))
    if result.eager and checked:
        # A rule reads an operator of a Program; the real pass has none to give it.
        result.uncounted_ops = {**result.uncounted_ops, **{
            f'{name} (your rule: the model ran in the dynamic graph)': [] for name in checked}}
    if result.eager and count == 'full':
        result.uncounted_ops = {**result.uncounted_ops, **{
            'the work beyond products (count full: the model ran in the dynamic graph)': []}}
    return result


def counted(source: nn.Layer | Callable[[], object], inputs: list[Input], training: bool,
            mode: str, count: str, rules: Mapping[str, Rule]) -> Profile:
    """The Profile of a model on `inputs` (a list of Input).  `source` is a built
    paddle.nn.Layer or a factory that returns one; `mode` the layers' mode in the pass
    ('eval', or 'train' for dropout paths and auxiliary heads; training=True is 'train').
    Any error of the model on these inputs is raised: FactoryError if the factory fails,
    NotALayerError if it returns something else, ShapeError if the model does not take
    the inputs.

    The way down, each step taken only where the one before cannot be: a factory's model
    built and traced in the static graph (no weights are made); the model built in the
    dynamic graph (an __init__ that reads a tensor, registers a buffer, casts with .to())
    and traced by dy2static; one real pass in the dynamic graph (control flow on a value,
    a size the trace could not infer), whose products are counted as they run
    (paddleinfo.eager), and whose reason is kept in Profile.fallback."""
    if not isinstance(source, nn.Layer) and not callable(source):
        raise NotALayerError(f'a {type(source).__name__} is not a paddle.nn.Layer, nor a '
                             f'function that builds one')
    if mode not in MODES:
        raise ArgumentError(f"mode is 'eval' or 'train', not {mode!r}")
    train = mode == 'train'
    if isinstance(source, nn.Layer):
        if not paddle.in_dynamic_mode():
            raise NotALayerError('the model was built in the static graph; build it '
                                 'in the dynamic graph (the default)')
        model = source
    else:
        try:
            with quiet(), static_graph() as programs:
                traced = profile_of(inputs, *trace_factory(source, inputs, training, train, count, rules),
                                    programs)
            if not unknown_sizes(traced):
                return traced
        except (FactoryError, NotALayerError, ShapeError):
            raise
        except Exception as error:  # noqa: BLE001 -- the static graph's refusal: built again
            if not (isinstance(error, ControlFlow) or untraceable(error) or raised_by_paddle(error)):
                raise       # the model's own error, which the dynamic graph would raise too
        with quiet():
            model = build(source)
    reason, sites, reads = None, [], None
    try:
        traced = built_traced(model, inputs, training, train, count, rules)
        if not unknown_sizes(traced):
            return traced
        reason = 'a size the trace could not infer (-1)'
    except (FactoryError, NotALayerError, ShapeError):
        raise
    except ControlFlow as flow:
        sites = flow.sites
        reason = ('the forward pass branches or loops on a tensor value'
                  + (f' ({", ".join(sites)})' if sites else ''))
    except Exception as error:  # noqa: BLE001 -- a model the static graph cannot trace
        if '(InvalidArgument)' in text_of(error) and not untraceable(error):
            raise
        if half(model, inputs):
            # Paddle's CPU build has no float16 convs, in the static graph or out of it;
            # counting needs no kernel: a float32 twin has the same shapes and products.
            return twin_traced(model, inputs, training, mode, count, rules)
        first = getattr(error, 'static_error', error)
        reads = user_site(first) if untraceable(first) else None
        reason = (f'it reads a tensor value in {reads}' if reads else
                  f'the trace stopped: {type(error).__name__}: {first_line(error)}')
    with quiet():
        result = profile_of(inputs, *trace_eager(model, inputs, train, count), eager=True)
    result.fallback = reason
    decides = ', '.join(sites) or (f'a tensor value read in {reads}' if reads else '')
    if decides and any(item.value is None for item in inputs):
        result.estimate = (f'{decides} decides the path, and the pass ran on zeros of the '
                           f'shapes given: the count is the path zeros take (give real tensors '
                           f'for theirs)')
    return result


def user_site(error: BaseException) -> str | None:
    """Where in the user's code `error` was raised: 'Gate.forward (nets.py:12)' for the
    innermost frame of its traceback that is neither Paddle's nor paddleinfo's."""
    ours = OURS     # (with the separator: paddlenlp/, paddleseg/ ... are the user's)
    site = None
    frame = error.__traceback__
    while frame is not None:
        code = frame.tb_frame.f_code
        if not code.co_filename.startswith(ours):
            owner = frame.tb_frame.f_locals.get('self')
            name = f'{type(owner).__name__}.{code.co_name}' if owner is not None else code.co_name
            where = os.path.basename(code.co_filename)
            site = f'{name} ({where}:{frame.tb_lineno})' if not where.startswith('<') else name
        frame = frame.tb_next
    return site


def built_traced(model: nn.Layer, inputs: list[Input], training: bool, train: bool, count: str,
                 rules: Mapping[str, Rule]) -> Profile:
    """A built model traced: called in the static graph with static twins of its
    parameters (tracer.static_twins), as fast as a factory's; where that cannot be (a
    tensor kept outside its parameters and buffers, `if` on a value), by dy2static."""
    try:
        for distinct in (False, True):
            with quiet(), static_graph() as programs:
                with static_twins(model, training, distinct) as twins:
                    traced = trace_static(model, inputs, training, train, count, rules)
            if not twins.listed:
                break   # (else forward() listed parameters, which shared twins would make fewer)
        # (Outside static_twins: each row counts the model's own parameters.)
        return profile_of(inputs, *traced, programs)
    except Exception as error:  # noqa: BLE001 -- dy2static rewrites forward() for what this cannot
        # (A ShapeError too: where it is the input's, dy2static raises it as well; where
        # the twins caused it, dy2static has the model's own parameters.)
        static_error = error
    try:
        with quiet():
            return profile_of(inputs, *trace_built(model, inputs, training, train, count, rules))
    except Exception as error:
        # The static call's error says where the model read a value (its frame is the
        # user's code); dy2static's, from a rewritten copy, may not.
        error.static_error = static_error      # type: ignore[attr-defined]
        raise


def half(model: nn.Layer, inputs: list[Input]) -> bool:
    """Whether the model or its inputs are float16, which the CPU build cannot run."""
    return not paddle.is_compiled_with_cuda() and (
        any(item.dtype == 'float16' for item in inputs)
        or any(dtype_name(p.dtype) == 'float16' for p in model.parameters()))


def twin_traced(model: nn.Layer, inputs: list[Input], training: bool, mode: str, count: str,
                rules: Mapping[str, Rule]) -> Profile:
    """The Profile of a float32 copy of a float16 model, told as the model's own: the same
    layers, names, shapes and products, counted the same way down as any model; its
    inputs and parameters as they are.  (A copy: the user's model is not cast.)"""
    twin = copy.deepcopy(model)
    twin.to(dtype='float32')
    as_float = [dataclasses.replace(item, dtype='float32', value=None if item.value is None
                                    else item.value.astype('float32'))
                if item.dtype == 'float16' else item for item in inputs]
    result = counted(twin, as_float, training, mode, count, rules)
    own = dict(zip(twin.sublayers(include_self=True), model.sublayers(include_self=True)))
    for row in result.rows:
        row.layer = own[row.layer]
    result.model, result.inputs = model, list(inputs)
    result.order = [own[layer] for layer in result.order]
    result.calls = {own[layer]: call for layer, call in result.calls.items()}
    if result.training is not None:
        result.training.grad_macs = {own.get(layer, layer): macs
                                     for layer, macs in result.training.grad_macs.items()}
    return result


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
                   tracer.training_failure, by_operator=dict(sorted(
                       tracer.by_operator.items(), key=lambda item: (-item[1], item[0]))),
                   rules_used=tuple(sorted(tracer.used_rules)))
