"""The `paddleinfo` command (also `python -m paddleinfo`): the summary of a paddle.vision
model or of your own, from the shell.

Every mistake in what was asked is one line on stderr and exit code 2.  The flags, the
parser and the one-line error are paddleinfo.arguments', which scripts/summary.py --model
shares: `models_text` is what both print for the models they are given.  Nothing here
imports Paddle before `quiet_paddle()` has run.

stdout holds the table alone: what a user's model prints as it is built or traced goes
to stderr, so that --format json and csv stay readable by a program.  The command stops
a model that does not finish within --timeout seconds.
"""
import argparse
import contextlib
import sys
import textwrap
from collections.abc import Sequence
from typing import Any

from paddleinfo.arguments import (ArgumentParser, add_number, add_step_arguments,
                                  add_view_arguments, quiet_paddle, run, step_of, view_of,
                                  without_paddles_signal_handlers)
from paddleinfo.errors import UsageError
from paddleinfo.inputs import DTYPES, add_input_arguments, sweep_points
from paddleinfo.view import Step, View

PROG = 'paddleinfo'
# Seconds: all 43 paddle.vision models side by side take about 7 (2 shared Xeon cores), so
# only a model that never finishes reaches it.
TIMEOUT = 300.0
MAX_TIMEOUT = 10 ** 6   # 11.6 days: the most an interval timer takes on every platform

DESCRIPTION = """\
The summary of a Paddle model: paddle.summary's per-layer table, or tables with the
MACs, output-size formulas, nesting depth, or several models side by side, in plain
text, github, markdown, csv or json.

MODEL is a network of paddle.vision.models (resnet50, mobilenet_v2, vgg16_bn, LeNet,
...) or your own: path/to/file.py:function or package.module:function, a function
that returns a paddle.nn.Layer.

Inputs: each --input is one positional input of forward(), in order: its shape without
the batch, sizes joined by x, then :dtype if it is not float32. --batch-size puts the
batch in front of every input. --input-size [C] H [W] is the shorthand for an image
model only, one whose input first meets a 2-D convolution; any other model is refused
with it, never given an image. Without either, a paddle.vision model gets its own
image (3x224x224; 3x299x299 for inception_v3, 1x28x28 for LeNet), and your own model
3x224x224, which it must then take as an image model.

  paddleinfo resnet50                              paddle.summary's table
  paddleinfo mobilenet_v2 --macs --input-size 160  with MACs, on 3x160x160
  paddleinfo googlenet --depth 1                   one row per top-level layer
  paddleinfo alexnet vgg16 resnet50                side by side, with torchvision's figures
  paddleinfo resnet50 --training --batch-size 32   a training step: backward MACs, memory
  paddleinfo resnet18 --training --time            ... and each layer's time on this machine
  paddleinfo resnet50 --batch-size 1,8,32,128 --plot cost.png   one table, and its plot

Your own (the models of docs/examples/nets.py, in the clone):
  paddleinfo docs/examples/nets.py:lstm --input 50x16 --macs        50 steps of 16 features
  paddleinfo docs/examples/nets.py:text --input 128:int64           128 token ids
  paddleinfo docs/examples/nets.py:two_inputs --input 3x32x32 --input 10 --batch-size 8
  paddleinfo docs/examples/nets.py:video --input 3x8x32x32          8 frames of 3x32x32

""" + textwrap.fill(f'dtypes: {", ".join(DTYPES)}.', 84) + '\n'


MODEL_HELP = ('a paddle.vision.models name, or path/to/file.py:function or '
              'package.module:function, a function that returns a paddle.nn.Layer')


def add_model_argument(parser: Any) -> argparse.Action:
    """--model NAME: one model (scripts/summary.py's; the command takes MODEL...)."""
    return parser.add_argument('--model', metavar='NAME', help=MODEL_HELP)


def add_models_argument(parser: Any) -> argparse.Action:
    """--models NAME...: several models side by side (scripts/summary.py's)."""
    from paddleinfo.zoo import SIDE_BY_SIDE   # (imports Paddle: not before quiet_paddle)
    return parser.add_argument('--models', metavar='NAME', nargs='+',
                               help=f'several models side by side, with torchvision\'s '
                                    f'published params and GFLOPS where it has the same '
                                    f'network, e.g. {" ".join(SIDE_BY_SIDE)}')


def parse_args(argv: Sequence[str] | None) -> dict[str, Any]:
    parser = ArgumentParser(prog=PROG, description=DESCRIPTION,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('model', metavar='MODEL', nargs='+',
                        help=MODEL_HELP + '; several: side by side')
    add_input_arguments(parser, sweep=True)
    add_view_arguments(parser)
    add_step_arguments(parser)
    add_number(parser, '--timeout', low=0, high=MAX_TIMEOUT, above=True, default=TIMEOUT,
               metavar='SECONDS',
               help=f'stop with an error naming the model if the models are not summarised '
                    f'within SECONDS, from when Paddle is loaded (default: {TIMEOUT:g})')
    return vars(parser.parse_args(argv))


def check_several(count: int, view: View, step: Step = Step(), sweep: bool = False) -> None:
    """Several models are one table side by side: no flag of the table of one model.  A
    training step, timed runs and a sweep are tables of their own, apart from --macs,
    --explain and --depth."""
    table_flags = (('--macs', view.macs), ('--explain', view.explain),
                   ('--depth', view.depth is not None))
    if count > 1:
        for flag, given in table_flags + (('--training', step.training), ('--time', step.time),
                                          ('a sweep', sweep)):
            if given:
                raise UsageError(f'{flag} is for the table of one model; several models are '
                                 f'shown side by side')
    if step.asked or sweep:
        what = 'a sweep' if sweep else '--training' if step.training else '--time'
        for flag, given in table_flags:
            if given:
                raise UsageError(f'{what} has a table of its own; {flag} is for the '
                                 f'per-layer table')
    if step.plot is not None and not sweep:
        raise UsageError('--plot draws a sweep: give several sizes, e.g. --batch-size 1,8,32 '
                         'or --input 64,128,256:int64')


def models_text(names: Sequence[str], inputs: dict[str, Any], view: View, flag: str = '',
                several: bool | None = None, timeout: float | None = None,
                step: Step = Step()) -> str:
    """The text the command prints for the models `names`: one model's table in `view`, or
    several side by side (`several` says which, by default: more than one name).
    `inputs` are the input options (a dict of paddleinfo.inputs' 'input', 'batch_size' and
    'input_size'); `flag` is how errors name a model ('--model NAME', or the NAME alone).
    What the models print goes to stderr; past `timeout` seconds (None: no bound) the
    model being built or traced is a UsageError, and no text is returned.  `step` asks for
    a training step, timed runs, or the plot of a sweep (--batch-size 1,8,32)."""
    from paddleinfo import cost, tables, zoo
    from paddleinfo.render import render
    from paddleinfo.result import Input
    from paddleinfo.sweeps import Sweep, add_row, axis_name, check_plot, varying_axis

    try:
        with contextlib.redirect_stdout(sys.stderr), zoo.time_bound(timeout):
            points = sweep_points(inputs)
            if points is not None:
                name, = names
                if step.plot is not None:
                    check_plot(step.plot)       # before the work, not after it
                specs = [zoo.model_spec(name, point, flag=flag) for point in points]
                moving = varying_axis([spec.inputs.shapes for spec in specs])
                first = [Input(shape, dtype) for shape, dtype in
                         zip(specs[0].inputs.shapes, specs[0].inputs.dtypes)]
                table = Sweep(name, axis_name(*moving, first), step.optimizer)
                for spec in specs:
                    result = zoo.profile_model(spec, flag=flag, training=True)
                    add_row(table, result,
                            *cost.asked(spec.build, result, step, zoo.named(flag, spec.name)),
                            moving)
                if step.plot is not None:
                    table.plot(step.plot)
                return table.render(view.fmt)
            # Every model is checked before any is built.
            specs = [zoo.model_spec(name, inputs, flag=flag) for name in names]
            if len(specs) > 1 if several is None else several:
                return render(zoo.models_table(specs, flag=flag), zoo.models_view, view.fmt)
            spec, = specs
            result = zoo.profile_model(spec, flag=flag, training=step.training)
            if step.asked:
                return cost.step_text(spec.build, result, spec.name, step, view.fmt,
                                      zoo.named(flag, spec.name))
            return tables.view_text(result, spec.name, view)
    except zoo.TimedOut as error:   # past the model's own work: the table, say
        raise UsageError(f'{", ".join(zoo.named(flag, name) for name in names)} {error}') from None


def main(argv: Sequence[str] | None = None) -> int:
    """The command; returns its exit code (a user's mistake exits 2 from `fail`)."""
    quiet_paddle()

    def command() -> int:
        args = parse_args(argv)
        view = view_of(args)
        inputs = {key: args[key] for key in ('input', 'batch_size', 'input_size')}
        sweep = sweep_points(inputs) is not None
        step = step_of({**args, 'training': args['training'] or sweep})
        check_several(len(args['model']), view, step, sweep)
        without_paddles_signal_handlers()
        sys.stdout.write(models_text(args['model'], inputs, view, timeout=args['timeout'],
                                     step=step))
        return 0
    return run(command, PROG)
