"""The tables of scripts/summary.py: paddle.summary's table of a network or a block, as
the article prints it, and the request a summary.py command line makes, checked once.

paddle.summary names each row after the layer's unique name, which Paddle takes
from a counter that runs for the whole process: a second ResNet built in the same
process would start at Conv2D-54, not Conv2D-1.  So every model here is built
inside a fresh `unique_name.guard()` (paddleinfo.profile does it), and its table
starts from 1, as the article's.  The table itself is paddle.summary's text, written
by paddleinfo.render from the rows of paddleinfo.profile, byte for byte.
"""
import functools
from dataclasses import dataclass

from paddleinfo import tables, zoo
from paddleinfo.macs import MACS_CONVENTION
from paddleinfo.profile import profile
from paddleinfo.render import FORMATS, render, summary_text
from resnet.configs import CIFAR_ARCHS, DEFAULT_VARIANT, layers_config
from paddleinfo.cli import given_flags, integer
from resnet_tools.errors import UsageError
from resnet_tools.specs import (DEFAULT_BLOCK, DEFAULT_INPUT_SIZE, IMAGENET_CLASSES, block_spec,
                                default_input, display_name, image_size, network_spec,
                                total_stride)
from resnet_tools.views import teaching


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


def capture_summary(build_model, input_shape):
    """Build a model in a fresh name scope and return (paddle.summary's text, its totals:
    {'total_params', 'trainable_params'}).  The text is what paddle.summary prints but
    for its last line, which is blank (the article's tables end without it)."""
    return summary_text(profile(build_model, input_shape))


def network_summary(layers=50, arch=None, input_size=None, num_classes=None, variant=None):
    """The summary of ResNet-`layers`, or of `arch` (a paddle.vision name) if given."""
    _, build_model, input_shape = network_spec(layers, arch, input_size, num_classes, variant)
    return capture_summary(build_model, input_shape)


def block_summary(block='basic', in_channels=64, out_channels=128, stride=2,
                  input_size=(DEFAULT_INPUT_SIZE,), variant=DEFAULT_VARIANT):
    """The summary of one residual block, by default the article's (64, 128, 2)."""
    _, build_model, input_shape = block_spec(block, in_channels, out_channels, stride,
                                             input_size, variant)
    return capture_summary(build_model, input_shape)


# --- what scripts/summary.py is asked for: parse, check once, build, tabulate, render ---

VIEWS = ('--stages', '--overview', '--depth', '--models')
MAX_DEPTH = 32


@dataclass
class Request:
    """A summary.py command line, checked: what to build, which table, which format."""
    view: str                # 'summary' (paddle.summary's own), 'layers', 'depth',
                             # 'stages', 'overview' or 'models'
    fmt: str
    name: str = ''           # the network, as titles name it
    build_model: object = None
    input_shape: tuple = ()
    variant: str | None = None
    num_classes: int | None = None
    macs: bool = False
    explain: bool = False
    depth: int | None = None
    model: object = None     # the zoo.ModelSpec of --model
    models: tuple = ()       # the zoo.ModelSpecs of --models


def check_format(name):
    if name not in FORMATS:
        raise UsageError(f'--format {name} is not known; choose from {", ".join(FORMATS)}')
    return name


def check_request(args):
    """The Request of summary.py's parsed arguments (a dict: flag name -> the text given,
    True/False for switches, None if absent); every check of the command line is here."""
    fmt = check_format(args['format'] or 'plain')
    view = ([flag for flag in VIEWS if args.get(flag.lstrip('-'))] or [None])[0]
    for flag in ('--macs', '--explain'):
        if args[flag.lstrip('-')] and view in ('--stages', '--overview', '--models'):
            raise UsageError(f'{flag} adds a column to the per-layer table; '
                             f'{view} is a table of its own')
    if args['explain'] and view == '--depth':
        raise UsageError('--explain adds a column to the per-layer table; '
                         '--depth groups its rows')
    sizes = None if args['input_size'] is None else [integer('--input-size', value)
                                                     for value in args['input_size']]
    depth = None if args['depth'] is None else integer('--depth', args['depth'], 1, MAX_DEPTH)
    if view == '--overview':
        for flag in given_flags(args, ('--layers', '--arch', '--block', '--model',
                                       '--variant', '--depth')):
            raise UsageError(f'--overview shows every depth in both variants; '
                             f'it takes no {flag}')
    if view == '--models' or args['model'] is not None:
        return model_request(args, view, fmt, depth)
    for flag in given_flags(args, ('--input', '--batch-size')):
        raise UsageError(f'{flag} is for --model and --models; this repository\'s ResNets '
                         f'take an image of --input-size height [width], batch 1')
    if args['block'] is not None:
        if view == '--stages':
            raise UsageError('--stages is for a whole network, not for --block')
        if args['num_classes'] is not None:
            raise UsageError('--num-classes is for a whole network, not for --block')
        block = {name: integer(f'--{name.replace("_", "-")}', args[name])
                 for name in DEFAULT_BLOCK if args[name] is not None}
        name, build_model, input_shape = block_spec(
            args['block'], input_size=sizes or (DEFAULT_INPUT_SIZE,),
            variant=args['variant'] or DEFAULT_VARIANT, **{**DEFAULT_BLOCK, **block})
        # Only the bottleneck has a choice of where its stride goes.
        variant = (args['variant'] or DEFAULT_VARIANT) if args['block'] == 'bottleneck' else None
    else:
        for flag in given_flags(args, ('--in-channels', '--out-channels', '--stride')):
            raise UsageError(f'{flag} goes with --block only')
        num_classes = None if args['num_classes'] is None else integer('--num-classes',
                                                                      args['num_classes'])
        if view == '--overview':
            return Request('overview', fmt, input_shape=(None, 3, *image_size(
                sizes or (DEFAULT_INPUT_SIZE,), total_stride(max(layers_config)),
                'every ResNet (each halves the map 5 times)')),
                num_classes=IMAGENET_CLASSES if num_classes is None else num_classes)
        name, build_model, input_shape = network_spec(args['layers'], args['arch'], sizes,
                                                      num_classes, args['variant'])
        num_classes = num_classes if num_classes is not None else default_input(name)[1]
        variant = None if name in CIFAR_ARCHS else args['variant'] or DEFAULT_VARIANT
    kind = {'--stages': 'stages', '--depth': 'depth'}.get(view)
    if kind is None:
        kind = 'summary' if fmt == 'plain' and not (args['macs'] or args['explain']) else 'layers'
    return Request(kind, fmt, name, build_model, input_shape, variant,
                   None if args['block'] is not None else num_classes,
                   args['macs'], args['explain'], depth)


def model_request(args, view, fmt, depth):
    """The Request of --model NAME or --models NAME...: paddle.vision's networks or a
    user's own, which take none of the ResNet options."""
    for flag in given_flags(args, ('--layers', '--arch', '--block', '--variant', '--stages',
                                   '--num-classes', '--in-channels', '--out-channels',
                                   '--stride')):
        which = '--models' if view == '--models' else '--model'
        raise UsageError(f'{flag} is for this repository\'s ResNets; {which} builds '
                         f'paddle.vision\'s networks as they are')
    # paddleinfo.inputs reads them: --input, --batch-size, and --input-size [C] H [W].
    inputs = {key: args.get(key) for key in ('input', 'batch_size', 'input_size')}
    if view == '--models':
        if args['model'] is not None:
            raise UsageError('--model shows one network; --models lists several: give one')
        # All checked before any is built.
        specs = tuple(zoo.model_spec(name, inputs, '--models') for name in args['models'])
        return Request('models', fmt, models=specs)
    spec = zoo.model_spec(args['model'], inputs)
    kind = 'depth' if view == '--depth' else (
        'summary' if fmt == 'plain' and not (args['macs'] or args['explain']) else 'layers')
    return Request(kind, fmt, spec.name, input_shape=spec.input_shape, macs=args['macs'],
                   explain=args['explain'], depth=depth, model=spec)


def tabulate(request):
    """(data, view function) of the table a Request asks for; for the 'summary' view,
    (paddle.summary's text, None)."""
    if request.view == 'overview':
        return teaching.overview(request.input_shape, request.num_classes), teaching.overview_view
    if request.view == 'models':
        return zoo.models_table(request.models), zoo.models_view
    if request.view == 'stages':
        return (teaching.stage_table(request.name, request.input_shape, request.num_classes,
                                     request.variant or DEFAULT_VARIANT), teaching.stage_view)
    if request.model is not None:
        result, name = zoo.profile_model(request.model), request.name
        convention = MACS_CONVENTION
    else:
        result = profile(request.build_model, request.input_shape)
        # A CIFAR network keeps its arch name in the tables, as --stages titles it.
        name = request.name if request.name in CIFAR_ARCHS else display_name(request.name)
        convention = teaching.PAPER_MACS_CONVENTION
    if request.view == 'summary':
        return summary_text(result)[0], None
    if request.view == 'depth':
        return (tables.depth_table(result, name, request.depth or 1, request.variant,
                                   convention), tables.depth_view)
    return (tables.layer_table(result, name, request.variant, convention),
            functools.partial(tables.layer_view, macs=request.macs, explain=request.explain))


def produce(request):
    """The text summary.py prints for a Request."""
    data, view = tabulate(request)
    return data if view is None else render(data, view, request.fmt)
