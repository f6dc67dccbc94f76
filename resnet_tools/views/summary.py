"""The tables of scripts/summary.py: paddle.summary's table of a network or a block, as
the article prints it, and the request a summary.py command line makes, checked once.

paddle.summary names each row after the layer's unique name, which Paddle takes
from a counter that runs for the whole process: a second ResNet built in the same
process would start at Conv2D-54, not Conv2D-1.  So every model here is built
inside a fresh `unique_name.guard()` (paddleinfo.profile does it), and its table
starts from 1, as the article's.  The table itself is paddle.summary's text, written
by paddleinfo.render from the rows of paddleinfo.profile, byte for byte.
"""
from dataclasses import dataclass, field
from typing import Any

from paddleinfo import cost, tables
from paddleinfo.arguments import flag_name, refuse, step_of, view_of
from paddleinfo.cli import models_text
from paddleinfo.inputs import batch_size
from paddleinfo.profile import profile, profile_inputs
from paddleinfo.result import Input
from paddleinfo.render import render
from paddleinfo.view import Step, View
from resnet.configs import CIFAR_ARCHS, DEFAULT_VARIANT
from resnet_tools.errors import UsageError
from resnet_tools.specs import (COLOUR, DEFAULT_INPUT_SIZE, IMAGENET_CLASSES, NetworkSpec,
                                block_options, block_spec, display_name,
                                every_resnet_size, network_spec)
from resnet_tools.views import teaching, training_stages

# The current Paddle counts BatchNorm's weight and bias (gamma, beta) as trainable, and
# only its running mean and variance as not; Paddle 2.1, which printed the article's
# tables, put all four under non-trainable.  Total params agree; the split does not.
TRAINABLE_NOTE = (
    "The 'Trainable params' and 'Non-trainable params' lines differ from the "
    "article's (for BasicBlock(64, 128, 2): 230,144 / 768 here, 229,376 / 1,536 "
    "there). The article was printed with Paddle 2.1, which counted all four "
    "BatchNorm tensors as non-trainable; current Paddle counts BatchNorm's weight "
    "and bias as trainable and only the running mean and variance as "
    "non-trainable. The total and every row are the same."
)


# --- what scripts/summary.py is asked for: parse, check once, build, tabulate, render ---

# The tables of their own, one at a time; the per-layer table is the default.
VIEWS = ('--stages', '--overview', '--depth', '--models')
# The flags of the ResNets here, which --model and --models (any Paddle model) refuse.
RESNET_FLAGS = ('layers', 'arch', 'block', 'variant', 'stages', 'num_classes', 'in_channels',
                'out_channels', 'stride')
# The flags of any model's inputs, which this repository's ResNets take as --input-size.
MODEL_INPUT_FLAGS = ('input', 'batch_size')


@dataclass(frozen=True)
class Request:
    """A summary.py command line, checked: which table of what, in which format.

    kind: 'stages' (the paper's Table 1), 'overview' (all five depths), 'models' (any
    Paddle models, as the paddleinfo command shows them), or 'layers' (the per-layer
    table, or with view.depth one row per sublayer, of `spec`).  `step` asks for a
    training step's cost or measured times (--training, --time), at batch `batch`."""
    kind: str
    view: View
    spec: NetworkSpec | None = None
    variant: str | None = None
    num_classes: int | None = None
    input_shape: tuple[int | None, ...] = ()
    models: tuple[str, ...] = ()
    inputs: dict[str, Any] = field(default_factory=dict)
    several: bool = False
    step: Step = Step()
    batch: int = 1


def given(args: dict[str, Any]) -> list[str]:
    """The destinations that `args`, a dict of parsed arguments, holds a value for: every
    flag of summary.py defaults to None or False."""
    return [name for name, value in args.items() if value not in (None, False, [])]


def check_request(args: dict[str, Any]) -> Request:
    """The Request of summary.py's parsed arguments (a dict: destination -> value, None
    or False where a flag is absent); every check of the command line is here."""
    view = view_of(args)
    step = step_of(args)
    table = next((flag for flag in VIEWS if args.get(flag.lstrip('-'))), None)
    if step.asked:
        what = '--training' if step.training else '--time'
        if table in ('--overview', '--models', '--depth') or view.macs or view.explain:
            other = table or ('--macs' if view.macs else '--explain')
            raise UsageError(f'{what} is for --stages, a network\'s per-layer table or '
                             f'--model; {other} is a table of its own')
        if args['block'] is not None:
            raise UsageError(f'{what} is for a whole network, not for --block')
    for flag in ('--macs', '--explain'):
        if args[flag.lstrip('-')] and table in ('--stages', '--overview', '--models'):
            raise UsageError(f'{flag} adds a column to the per-layer table; '
                             f'{table} is a table of its own')
    if table == '--overview':
        network_flags = ('layers', 'arch', 'block', 'model', 'variant', 'depth')
        for name in [name for name in given(args) if name in network_flags]:
            raise UsageError(f'--overview shows every depth in both variants; '
                             f'it takes no {flag_name(name)}')
    if table == '--models' or args['model'] is not None:
        return model_request(args, table, view, step)
    refuse(given(args), ('input',) if step.asked else MODEL_INPUT_FLAGS,
           'is for --model and --models; this repository\'s ResNets take an image of '
           '--input-size [channels] height [width], batch 1 (with --training or --time, '
           '--batch-size N)')
    sizes = args['input_size']
    if args['block'] is not None:
        if table == '--stages':
            raise UsageError('--stages is for a whole network, not for --block')
        refuse(given(args), ('num_classes',), 'is for a whole network, not for --block')
        spec = block_spec(args['block'], input_size=sizes, variant=args['variant'],
                          **block_options(args))
        return Request('stages' if table == '--stages' else 'layers', view, spec, spec.variant)
    refuse(given(args), ('in_channels', 'out_channels', 'stride'), 'goes with --block only')
    num_classes = args['num_classes']
    if table == '--overview':
        height, width = every_resnet_size(sizes or (DEFAULT_INPUT_SIZE,))
        return Request('overview', view, input_shape=(None, COLOUR, height, width),
                       num_classes=IMAGENET_CLASSES if num_classes is None else num_classes)
    spec = network_spec(args['layers'], args['arch'], sizes, num_classes, args['variant'])
    return Request('stages' if table == '--stages' else 'layers', view, spec, spec.variant,
                   spec.num_classes, step=step, batch=batch_size(args['batch_size']))


def model_request(args: dict[str, Any], table: str | None, view: View,
                  step: Step = Step()) -> Request:
    """The Request of --model NAME or --models NAME...: paddle.vision's networks or a
    user's own, which take none of the ResNet options; paddleinfo's own command line."""
    which = '--models' if table == '--models' else '--model'
    refuse(given(args), RESNET_FLAGS,
           f'is for this repository\'s ResNets; {which} builds paddle.vision\'s networks as they are')
    inputs = {key: args.get(key) for key in ('input', 'batch_size', 'input_size')}
    if table == '--models':
        if args['model'] is not None:
            raise UsageError('--model shows one network; --models lists several: give one')
        return Request('models', view, models=tuple(args['models']), inputs=inputs,
                       several=True)
    return Request('models', view, models=(args['model'],), inputs=inputs, step=step)


def produce(request: Request) -> str:
    """The text summary.py prints for a Request."""
    fmt = request.view.fmt
    if request.kind == 'models':
        # What the paddleinfo command prints for the same models, errors naming the flag.
        flag = '--models' if request.several else '--model'
        return models_text(request.models, request.inputs, request.view, flag,
                           several=request.several, step=request.step)
    if request.kind == 'overview':
        assert request.num_classes is not None     # check_request sets it for both tables
        return render(teaching.overview(request.input_shape, request.num_classes),
                      teaching.overview_view, fmt)
    spec = request.spec
    assert spec is not None
    if request.step.asked:
        return training_text(request, spec)
    if request.kind == 'stages':
        assert request.num_classes is not None
        return render(teaching.stage_table(spec.name, spec.input_shape, request.num_classes,
                                           request.variant or DEFAULT_VARIANT),
                      teaching.stage_view, fmt)
    result = profile(spec.build, spec.input_shape)
    # A CIFAR network keeps its arch name in the tables, as --stages titles it.
    name = spec.name if spec.name in CIFAR_ARCHS else display_name(spec.name)
    return tables.view_text(result, name, request.view, request.variant,
                            teaching.PAPER_MACS_CONVENTION)


def training_text(request: Request, spec: NetworkSpec) -> str:
    """A network's training step (--training) or measured times (--time): by stage with
    --stages, else per layer, at --batch-size."""
    step, fmt = request.step, request.view.fmt
    shape = [request.batch, *[size for size in spec.input_shape[1:] if size is not None]]
    if request.kind == 'stages':
        if not step.training:
            raise UsageError('--stages --time shows a stage\'s share of a training step: '
                             'give --training too')
        assert request.num_classes is not None
        return render(training_stages.training_stage_table(
            spec.name, shape, request.num_classes, request.variant, step),
            training_stages.training_stage_view, fmt)
    result = profile_inputs(spec.build, [Input(shape)], training=step.training)
    name = spec.name if spec.name in CIFAR_ARCHS else display_name(spec.name)
    return cost.step_text(spec.build, result, name, step, fmt, name)
