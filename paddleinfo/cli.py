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

from paddleinfo.arguments import (ArgumentParser, add_choice, add_number, add_step_arguments,
                                  add_table_arguments, add_trace_arguments, add_view_arguments,
                                  quiet_paddle, run, step_of, trace_of, view_of,
                                  without_paddles_signal_handlers)
from paddleinfo.errors import UsageError
from paddleinfo.inputs import DTYPES, add_input_arguments, sweep_points
from paddleinfo.errors import IncompleteCountError, RuleError
from paddleinfo.view import Step, Trace, View

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
  paddleinfo resnet50 --columns output_size,num_params,params_percent,mult_adds
  paddleinfo resnet50 --parameters --depth 2       parameters by module path, no input
  paddleinfo resnet50 --receptive-field --depth 1  receptive field of each stage
  paddleinfo resnet50 --by-operator --count flops  FLOPs by operator
  paddleinfo resnet18 resnet34 --diff              two models row by row, by module path
  paddleinfo resnet18@3x224x224 resnet18@3x160x160 --diff   each model its own input

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
                        help=MODEL_HELP + '; several: side by side.  MODEL@SHAPE[:DTYPE][@...] '
                                          'gives that model its own inputs, as --input')
    add_input_arguments(parser, sweep=True)
    add_view_arguments(parser)
    add_table_arguments(parser)
    add_choice(parser, '--diff', ('path', 'order'), nargs='?', const='path', metavar='BY',
               help='two models row by row, aligned by module path (the default) or by '
                    'order: params, MACs and output shapes, and what differs')
    add_trace_arguments(parser)
    add_step_arguments(parser)
    add_number(parser, '--timeout', low=0, high=MAX_TIMEOUT, above=True, default=TIMEOUT,
               metavar='SECONDS',
               help=f'stop with an error naming the model if the models are not summarised '
                    f'within SECONDS, from when Paddle is loaded (default: {TIMEOUT:g})')
    return vars(parser.parse_args(argv))


def check_several(count: int, view: View, step: Step = Step(), sweep: bool = False,
                  diff: str | None = None, trace: Trace = Trace()) -> None:
    """Several models are one table side by side: no flag of the table of one model.  A
    training step, timed runs and a sweep are tables of their own, apart from --macs,
    --explain and --depth.  --diff takes two models and no other table."""
    table_flags = (('--macs', view.macs), ('--explain', view.explain),
                   ('--depth', view.depth is not None), ('--columns', view.columns is not None),
                   ('--weights', view.weights),
                   (view.table and f'--{view.table}', view.table is not None))
    if diff is not None:
        if count != 2:
            raise UsageError(f'--diff compares two models, row by row; {count} given')
        for flag, given in table_flags + (('--training', step.training), ('--time', step.time),
                                          ('a sweep', sweep)):
            if given:
                raise UsageError(f'{flag} is for the table of one model; --diff has a table '
                                 f'of its own')
        return
    if count > 1:
        for flag, given in table_flags + (('--training', step.training), ('--time', step.time),
                                          ('a sweep', sweep)):
            if given:
                raise UsageError(f'{flag} is for the table of one model; several models are '
                                 f'shown side by side')
        if trace.count != 'macs':
            raise UsageError(f'--count {trace.count} is for one model: several models side by '
                             f'side compare MACs with torchvision\'s GFLOPS')
    if step.asked or sweep:
        what = 'a sweep' if sweep else '--training' if step.training else '--time'
        for flag, given in table_flags:
            if given:
                raise UsageError(f'{what} has a table of its own; {flag} is for the '
                                 f'per-layer table')
    if step.plot is not None and not sweep:
        raise UsageError('--plot draws a sweep: give several sizes, e.g. --batch-size 1,8,32 '
                         'or --input 64,128,256:int64')


def own_inputs(name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(the model's name, its input options) of MODEL or MODEL@SHAPE[:DTYPE][@SHAPE...]:
    inputs after @ are that model's own, as --input gives them, at --batch-size."""
    model, _, given = name.partition('@')
    if not given:
        return name, inputs
    if inputs.get('input') or inputs.get('input_size'):
        raise UsageError(f'{name}: give inputs after @ or with --input/--input-size, not both')
    if not model or any(not part for part in given.split('@')):
        raise UsageError(f'{name}: give MODEL@SHAPE[:DTYPE], e.g. resnet18@3x160x160 or '
                         f'nets.py:text@128:int64')
    return model, {**inputs, 'input': given.split('@'), 'input_size': None}


def load_rules(text: str) -> dict[str, Any]:
    """The dict named by --rules MODULE:NAME (or path/to/file.py:NAME), checked."""
    from paddleinfo.conventions import check_rules
    from paddleinfo.zoo import imported_name
    label = f'--rules {text}'
    rules = imported_name(text, label, 'give MODULE:NAME or path/to/file.py:NAME, a dict '
                                       '{operator name: function(op) -> count}', cwd=True)
    try:
        return check_rules(rules)
    except RuleError as error:
        raise UsageError(f'{label}: {error}') from None


def trace_options(trace: Trace) -> dict[str, Any]:
    """profile_inputs' keyword arguments of a Trace, those at their defaults left out."""
    from paddleinfo import api, tables
    from paddleinfo.arguments import choice
    choice('--count', trace.count, tables.conventions())
    rules = load_rules(trace.rules) if trace.rules is not None else None
    options = api.trace_options(trace.mode, trace.count, rules, False)
    options.pop('strict')
    return options


def check_strict(result: Any, trace: Trace, name: str) -> None:
    if trace.strict:
        from paddleinfo.tables import incomplete
        message = incomplete(result)
        if message:
            raise IncompleteCountError(f'{name}: {message}')


def models_text(names: Sequence[str], inputs: dict[str, Any], view: View, flag: str = '',
                several: bool | None = None, timeout: float | None = None,
                step: Step = Step(), trace: Trace = Trace(), diff: str | None = None) -> str:
    """The text the command prints for the models `names`: one model's table in `view`, or
    several side by side (`several` says which, by default: more than one name), or two
    row by row (`diff`: 'path' or 'order').
    `inputs` are the input options (a dict of paddleinfo.inputs' 'input', 'batch_size' and
    'input_size'); a name MODEL@SHAPE... gives that model its own.  `flag` is how errors
    name a model ('--model NAME', or the NAME alone).
    What the models print goes to stderr; past `timeout` seconds (None: no bound) the
    model being built or traced is a UsageError, and no text is returned.  `step` asks for
    a training step, timed runs, or the plot of a sweep (--batch-size 1,8,32); `trace`
    the layers' mode, the convention, the user's rules and --strict."""
    from paddleinfo import cost, tables, zoo
    from paddleinfo.compare import diff_table, diff_view
    from paddleinfo.render import render
    from paddleinfo.result import Input
    from paddleinfo.sweeps import Sweep, add_row, axis_name, check_plot, varying_axis

    try:
        with contextlib.redirect_stdout(sys.stderr), zoo.time_bound(timeout):
            options = trace_options(trace)
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
                    result = zoo.profile_model(spec, flag=flag, training=True, **options)
                    check_strict(result, trace, zoo.named(flag, spec.name))
                    add_row(table, result,
                            *cost.asked(spec.build, result, step, zoo.named(flag, spec.name)),
                            moving)
                if step.plot is not None:
                    table.plot(step.plot)
                return table.render(view.fmt)
            # Every model is checked before any is built.
            specs = [zoo.model_spec(*own_inputs(name, inputs), flag=flag) for name in names]
            if diff is not None:
                first_spec, second_spec = specs
                profiles = []
                for spec in specs:
                    profiles.append(zoo.profile_model(spec, flag=flag, **options))
                    check_strict(profiles[-1], trace, zoo.named(flag, spec.name))
                labels = (zoo.short_name(first_spec.name), zoo.short_name(second_spec.name))
                if labels[0] == labels[1]:
                    labels = (f'{labels[0]} (A)', f'{labels[1]} (B)')
                return render(diff_table(profiles[0], profiles[1], labels, diff), diff_view,
                              view.fmt)
            if len(specs) > 1 if several is None else several:
                if trace.strict:
                    for spec in specs:
                        check_strict(zoo.profile_model(spec, flag, **options), trace,
                                     zoo.named(flag, spec.name))
                return render(zoo.models_table(specs, flag=flag, **options), zoo.models_view,
                              view.fmt)
            spec, = specs
            if view.table == 'parameters':
                from paddleinfo.parameters import model_parameters, parameters_view
                try:
                    data = model_parameters(spec.build, spec.name, view.depth, view.weights)
                except UsageError as error:
                    raise UsageError(f'{zoo.named(flag, spec.name)}: {error}') from None
                return render(data, parameters_view, view.fmt)
            result = zoo.profile_model(spec, flag=flag, training=step.training, **options)
            check_strict(result, trace, zoo.named(flag, spec.name))
            if step.asked:
                return cost.step_text(spec.build, result, spec.name, step, view.fmt,
                                      zoo.named(flag, spec.name))
            return tables.view_text(result, spec.name, view, mode=trace.mode)
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
        trace = trace_of(args)
        check_several(len(args['model']), view, step, sweep, args['diff'], trace)
        without_paddles_signal_handlers()
        sys.stdout.write(models_text(args['model'], inputs, view, timeout=args['timeout'],
                                     step=step, trace=trace, diff=args['diff']))
        return 0
    return run(command, PROG)
