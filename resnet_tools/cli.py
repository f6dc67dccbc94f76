"""The command-line vocabulary of scripts/: the flags every script shares, defined once.

The scripts parse, call and print; what a flag means, its help and its checks are here
(and, for what the summary engine shares, in paddleinfo.cli: the argument parser, the
one-line error, integers, the inputs of a model).
"""
import sys

from paddleinfo.cli import ArgumentParser, fail, given_flags, integer  # noqa: F401 -- one definition
from paddleinfo.cli import run as run_command
from resnet.configs import ARCHS, CIFAR_ARCHS, SUPPORTED_LAYERS
from resnet_tools.errors import Stop, UsageError
from resnet_tools.training.distributed import default_device
from resnet_tools.training.settings import WARMUP_FACTOR, Settings


def add_network_arguments(parser):
    """--layers N or --arch NAME: the choice of network the scripts offer."""
    which = parser.add_mutually_exclusive_group()
    add_network_choices(which)
    return which


# The help of --arch where the CIFAR-10 networks are offered too.
AND_CIFAR = ', and the CIFAR-10 networks ' + ', '.join(CIFAR_ARCHS)


def add_network_choices(group, archs=ARCHS, more=''):
    """--layers and --arch; `archs` are the names --arch offers, `more` adds to its help."""
    group.add_argument('--layers', metavar='N',
                       help=f'the ResNet depth: {", ".join(map(str, SUPPORTED_LAYERS))} (default: 50)')
    group.add_argument('--arch', metavar='NAME',
                       help='a paddle.vision.models name: ' + ', '.join(ARCHS) + more)


def refuse(args, flags, why):
    """A UsageError '<flag> <why>' for the first of `flags` given in `args`."""
    for flag in given_flags(args, flags):
        raise UsageError(f'{flag} {why}')


def add_block_arguments(parser):
    """--in-channels, --out-channels and --stride: the block that --block builds."""
    parser.add_argument('--in-channels', metavar='C', type=str,
                        help='with --block: input channels (default: 64)')
    parser.add_argument('--out-channels', metavar='C', type=str,
                        help='with --block: output channels (default: 128)')
    parser.add_argument('--stride', metavar='S', type=str,
                        help='with --block: stride, 1 or 2 (default: 2)')


def add_shape_arguments(parser, input_help=''):
    """--input-size, --num-classes and --variant: how the chosen network is built."""
    parser.add_argument('--input-size', metavar='N', type=str, nargs='+',
                        help='height [width] of the input (default: 224; 32 for a CIFAR '
                             'network)' + input_help)
    parser.add_argument('--num-classes', metavar='K', type=str,
                        help='outputs of the fc layer, 0 to drop it (default: 1000; 10 for '
                             'a CIFAR network, which always has its fc)')
    parser.add_argument('--variant', metavar='V', type=str,
                        help="where a down-sampling bottleneck puts its stride: v1.5 (on the "
                             "3x3 conv, as the article and Paddle; default) or v1 (on the "
                             "first 1x1 conv, as the paper)")


def add_training_arguments(parser, defaults=Settings()):
    """The flags of Settings, the device, and the output directory."""
    parser.add_argument('--epochs', type=int, default=defaults.epochs, metavar='N',
                        help=f'passes over the training images (default: {defaults.epochs}); '
                             f'the paper\'s 64k iterations of 128 CIFAR-10 images are 164 epochs')
    parser.add_argument('--batch-size', type=int, default=defaults.batch_size, metavar='N',
                        help=f'images per step, over all processes together (default: {defaults.batch_size})')
    parser.add_argument('--lr', type=float, default=defaults.lr, metavar='RATE',
                        help=f'the starting learning rate (default: {defaults.lr:g})')
    parser.add_argument('--milestones', type=float, nargs='+', default=list(defaults.milestones),
                        metavar='FRACTION',
                        help='where in the run the rate is multiplied by --lr-decay, as fractions '
                             f'of --epochs (default: {" ".join(map(str, defaults.milestones))})')
    parser.add_argument('--lr-decay', type=float, default=defaults.lr_decay, metavar='FACTOR',
                        help=f'the factor at each milestone (default: {defaults.lr_decay:g})')
    parser.add_argument('--warmup-epochs', type=int, default=defaults.warmup_epochs, metavar='N',
                        help=f'train the first N epochs at {WARMUP_FACTOR:g} x --lr, the paper\'s '
                             f'warm-up for ResNet-110 (default: {defaults.warmup_epochs})')
    parser.add_argument('--momentum', type=float, default=defaults.momentum, metavar='M',
                        help=f'SGD momentum (default: {defaults.momentum:g})')
    parser.add_argument('--weight-decay', type=float, default=defaults.weight_decay, metavar='W',
                        help=f'L2 weight decay on every parameter (default: {defaults.weight_decay:g})')
    parser.add_argument('--seed', type=int, default=defaults.seed, metavar='N',
                        help=f'seeds the weights, the data order and the augmentation '
                             f'(default: {defaults.seed}); a CPU run repeats exactly')
    parser.add_argument('--device', default=default_device(), metavar='cpu|gpu',
                        help='where to train (default: gpu if the installed Paddle has CUDA, '
                             'else cpu)')
    parser.add_argument('--resume', action='store_true',
                        help='continue the run in --output from its last checkpoint, with the '
                             'same settings')
    parser.add_argument('--force', action='store_true',
                        help='start over in an --output that holds a run')


def settings_from(args):
    return Settings(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                    momentum=args.momentum, weight_decay=args.weight_decay,
                    milestones=tuple(args.milestones), lr_decay=args.lr_decay,
                    seed=args.seed, warmup_epochs=args.warmup_epochs).check()


def run(main, prog):
    """Run main() and exit with the code it returns (0 for None).  A user's mistake
    (UsageError) is one line and exit code 2, a Ctrl-C one line and 130, and a Stop (the
    training loop's own end at a step, after a signal or a divergence) its one line and
    its code: never a traceback."""
    try:
        code = run_command(main, prog)
    except Stop as stop:
        sys.stderr.write(f'{prog}: {stop}\n')
        sys.exit(stop.code)
    sys.exit(code or 0)
