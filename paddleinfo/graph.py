"""Paddle's static graph, entered for a trace and left as it was: a fresh Program, the
bookkeeping a trace does not need switched off, Paddle's own notes hidden, and the
factory's model built there; and what an error raised inside says of the graph.
"""
import contextlib
import gc
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator
from typing import Any, cast

import paddle
import paddle.nn.layer.layers as paddle_layers
from paddle import nn

from paddleinfo.arguments import paddle_logs_hidden
from paddleinfo.errors import FactoryError, NotALayerError, exited, first_line, text_of


PADDLE = os.path.dirname(paddle.__file__) + os.sep
OURS = (PADDLE, os.path.dirname(__file__) + os.sep)     # Paddle's code, and paddleinfo's


def _stack_for_paddle(saved: Callable[..., traceback.StackSummary]) -> Callable[..., Any]:
    """traceback.extract_stack, but empty where Paddle asks for it without arguments, as
    its C++ does for every operator it adds (the caller is then Paddle's own code): any
    other caller (paddleinfo's own calls of Paddle's operators count as Paddle's) -- the
    user's code, a library imported by the factory (pyparsing asks for
    `limit=2`) -- gets the real stack."""
    def extract_stack(f: Any = None, limit: int | None = None) -> traceback.StackSummary:
        if f is None and limit is None and sys._getframe(1).f_code.co_filename.startswith(OURS):
            return traceback.StackSummary()
        return saved(f, limit)
    return extract_stack


class _NoStruct:
    """Paddle's name_struct(prefix), which labels a layer's operators, labelling nothing:
    one object that is its own context, as cheap as a call can be (every layer call
    enters it)."""

    def __call__(self, prefix: str | None = None) -> '_NoStruct':
        return self

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_no_struct = _NoStruct()


@contextlib.contextmanager
def cheap_tracing() -> Iterator[None]:
    """Two pieces of bookkeeping that only matter for a Program that is compiled and
    run are switched off while inside, because they cost more than the shape
    inference itself: every operator records the Python stack it was created from
    (for error messages at run time), and every layer call walks all operators of
    the Program so far to label the new ones (for auto-parallel), which makes a
    deep network quadratic.  Python's cyclic garbage collector waits too: a trace
    makes thousands of objects and frees few, and each collection would walk every
    object that Paddle keeps alive."""
    saved = traceback.extract_stack, paddle_layers.name_struct
    traceback.extract_stack = _stack_for_paddle(saved[0])
    # (Paddle's type says a generator's context manager; any context manager does.)
    paddle_layers.name_struct = cast(Any, _no_struct)
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        traceback.extract_stack, paddle_layers.name_struct = saved
        if collecting:
            gc.enable()


def _iterate(value: Any) -> Iterator[Any]:
    """`for item in value` in the static graph, which refuses a length it cannot know
    as bool(value) and float(value) refuse a value it cannot know."""
    shape = list(value.shape)
    if not shape or shape[0] < 0:
        raise TypeError('iterating over a Tensor of unknown length is not supported in '
                        'static graph mode')
    for index in range(shape[0]):
        yield value[index]


@contextlib.contextmanager
def static_graph() -> Iterator[tuple[paddle.static.Program, paddle.static.Program]]:
    """Paddle's static graph on a fresh Program, and back to the dynamic graph after.

    A Value has no __iter__, so Python iterates it by indexing 0, 1, 2, ... until an
    IndexError that a Value of unknown length (paddle.linspace's, say) never raises:
    `[x.item() for x in paddle.linspace(0, rate, depth)]`, as ConvNeXt's and Swin's
    __init__ compute their drop-path rates, would loop forever.  Inside, iterating one
    raises the TypeError of a value the static graph cannot know, and the model is
    built and run in the dynamic graph instead."""
    was_dynamic = paddle.in_dynamic_mode()
    paddle.enable_static()
    programs = paddle.static.Program(), paddle.static.Program()
    value_type = paddle.pir.Value
    saved = value_type.__dict__.get('__iter__')
    value_type.__iter__ = _iterate
    try:
        with cheap_tracing(), paddle.static.program_guard(*programs):
            yield programs
    finally:
        if saved is None:
            del value_type.__iter__
        else:
            value_type.__iter__ = saved
        if was_dynamic:
            paddle.disable_static()


@contextlib.contextmanager
def static_mode() -> Iterator[None]:
    """The static graph inside the block, and the mode as it was after."""
    was_dynamic = paddle.in_dynamic_mode()
    paddle.enable_static()
    try:
        yield
    finally:
        if was_dynamic:
            paddle.disable_static()


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Paddle's warnings about its own workings, raised by the calls made here, are not
    the user's business (dy2static's notes, BatchNorm's on running statistics); a
    warning of the user's own code still shows, and so does what it writes to stderr; the
    notes Paddle's C++ logs there about itself do not.  Only inside the block."""
    with warnings.catch_warnings(), paddle_logs_hidden():
        warnings.filterwarnings('ignore', module=r'paddle(\.|$)')
        yield


def build(build_model: Callable[[], object]) -> nn.Layer:
    """build_model() in a fresh name scope, checked to be a paddle.nn.Layer.  Its
    sys.exit() is its failure too: it must not end the caller's program."""
    with paddle.utils.unique_name.guard():
        try:
            model = build_model()
        except SystemExit as error:
            raise FactoryError(exited(error)) from error
        except Exception as error:  # noqa: BLE001 -- any error of the factory is its own
            if not paddle.in_dynamic_mode() and (names_the_graph(error) or raised_by_paddle(error)):
                raise   # the static graph's, not the factory's: it is built again eagerly
            raise FactoryError(f'{type(error).__name__}: {first_line(error)}') from error
    if not isinstance(model, nn.Layer):
        raise NotALayerError(f'it returned a {type(model).__name__}, not a paddle.nn.Layer')
    return model


def raised_by_paddle(error: BaseException) -> bool:
    """Whether `error` was raised inside Paddle's code (or ours), not the factory's own:
    register_buffer refusing a Value, .to() without a place, a Value read as a number.
    A factory's own error is raised where it failed, and the factory is not run again."""
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    if frame is None:
        return False
    filename = frame.tb_frame.f_code.co_filename
    return filename.startswith(OURS)


def untraceable(error: BaseException) -> bool:
    """Whether `error`, raised while tracing in the static graph, says that the model
    reads a tensor's value (float(x), `if x > 0`, x.numpy()), which has no answer there:
    Paddle raises a TypeError or an AssertionError that names the static or dynamic
    graph for it.  Any other error (Paddle's shape inference refusing an operator's
    inputs, the model's own) the dynamic graph would raise as well, so the model is
    not run a second time for it."""
    if '(InvalidArgument)' in text_of(error):
        return False
    return (isinstance(error, (TypeError, AssertionError, NotImplementedError))
            or names_the_graph(error))


def names_the_graph(error: BaseException) -> bool:
    """Whether `error` says it is the static graph's refusal (float(x), bool(x), x.numpy(),
    iterating a Value of unknown length all name the static or the dynamic graph; a
    method a Tensor has and a Value has not, `weight.set_value(...)`, names pir.Value), or
    cannot say what it is (a C++ error, at times)."""
    text = text_of(error)
    return not text or 'static' in text or 'dynamic graph' in text or 'pir.Value' in text
