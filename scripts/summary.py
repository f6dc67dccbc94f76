"""Print paddle.summary of a ResNet, of one residual block or of any paddle.vision model,
and tables to teach from."""
import argparse
import sys
import textwrap

from _bootstrap import run
from paddleinfo import zoo
from paddleinfo.cli import ArgumentParser
from paddleinfo.inputs import add_input_arguments
from paddleinfo.macs import MACS_CONVENTION
from resnet_tools import specs
from resnet_tools.cli import AND_CIFAR, add_block_arguments, add_network_choices, add_shape_arguments
from resnet_tools.views import summary, teaching

DESCRIPTION = """\
Print the per-layer table of paddle.summary for a whole ResNet, or for a single
residual block, built from the article's layers_config table.

  python scripts/summary.py --layers 50         the article's ResNet-50 table
  python scripts/summary.py --block basic       the article's BasicBlock(64, 128, 2)
  python scripts/summary.py --block bottleneck  the article's BottleneckBlock(64, 128, 2)
  python scripts/summary.py --arch resnext50_32x4d --input-size 64
  python scripts/summary.py --arch cifar_resnet56   a CIFAR-10 network of Section 4.2

Tables to teach from:
  python scripts/summary.py --stages            the paper's Table 1 for ResNet-50
  python scripts/summary.py --stages --variant v1   ... with the paper's stride placement
  python scripts/summary.py --stages --arch cifar_resnet20   the paper's CIFAR-10 table
  python scripts/summary.py --overview          all five depths side by side
  python scripts/summary.py --explain --macs    every output size worked out, and MACs
  python scripts/summary.py --depth 2           one row per residual block
  python scripts/summary.py --stages --format json  the same numbers for a program

Any Paddle model:
  python scripts/summary.py --model mobilenet_v2 --macs      paddle.vision's network
  python scripts/summary.py --model my_net.py:build --input-size 1 64 64   your own
  python scripts/summary.py --model docs/examples/nets.py:lstm --input 50x16   a sequence
  python scripts/summary.py --model docs/examples/nets.py:two_inputs --input 3x32x32 --input 10
  python scripts/summary.py --models alexnet vgg16 resnet50   side by side
"""

EPILOG = '\n\n'.join(textwrap.fill(paragraph, 79, break_on_hyphens=False) for paragraph in (
    f'Input sizes: each side from 32 (a ResNet halves the map five times; 4 for a CIFAR '
    f'network), or from the stride for a block, up to {specs.MAX_INPUT_SIZE}. '
    f'With --model: [channels] height [width], by default the model\'s own '
    f'(3x224x224; 3x299x299 for inception_v3, 1x28x28 for LeNet), for a model whose input '
    f'first meets a 2-D convolution only; any other model takes --input SHAPE[:DTYPE], '
    f'once per input of forward(): its shape without the batch, sizes joined by x, and its '
    f'dtype if not float32 (16x40, 128:int64), with --batch-size N in front of every input.',
    summary.TRAINABLE_NOTE,
    teaching.PAPER_MACS_CONVENTION,
    f'With --model and --models: {MACS_CONVENTION}',
))


def parse_args(argv):
    parser = ArgumentParser(prog='summary.py', description=DESCRIPTION, epilog=EPILOG,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    what = parser.add_mutually_exclusive_group()
    add_network_choices(what, more=AND_CIFAR)
    what.add_argument('--block', metavar='TYPE', type=str,
                      help='one residual block: basic or bottleneck')
    what.add_argument('--model', metavar='NAME',
                      help='a network of paddle.vision.models as it is (' +
                           ', '.join(zoo.VISION_MODELS) + '), or your own: '
                           'path/to/file.py:function or package.module:function, a function '
                           'that returns a paddle.nn.Layer')
    add_block_arguments(parser)
    add_shape_arguments(parser, '; with --model or --models [channels] height [width], for '
                                'an image model only')
    add_input_arguments(parser, input_size=False)   # --input and --batch-size, as paddleinfo's
    view = parser.add_mutually_exclusive_group()
    view.add_argument('--stages', action='store_true',
                      help="the paper's Table 1 (or its CIFAR-10 table): one row per stage "
                           "with output size, block, params, MACs and share of the MACs")
    view.add_argument('--overview', action='store_true',
                      help='all five depths: layer count, params, trainable, MACs of v1.5 '
                           'and v1, output shape')
    view.add_argument('--depth', metavar='N', type=str,
                      help='one row per sublayer down to N levels of nesting, with the '
                           'params and MACs of what is folded in (2: one row per residual '
                           'block)')
    view.add_argument('--models', metavar='NAME', nargs='+',
                      help='several paddle.vision.models side by side, with torchvision\'s '
                           'published params and GFLOPS where it has the same network, e.g. '
                           + ' '.join(zoo.SIDE_BY_SIDE))
    parser.add_argument('--explain', action='store_true',
                        help='per-layer table: add the formula of every conv and pool output '
                             'size, checked against the shape Paddle produced')
    parser.add_argument('--macs', action='store_true',
                        help='per-layer table: add the MACs of every layer and which of its '
                             'tensors are trainable')
    parser.add_argument('--format', metavar='F', type=str,
                        help=f'{", ".join(summary.FORMATS)} (default: plain, which for the '
                             f'per-layer table is paddle.summary\'s own)')
    return parser.parse_args(argv)


def main(argv=None):
    request = summary.check_request(vars(parse_args(argv)))
    sys.stdout.write(summary.produce(request))


if __name__ == '__main__':
    run(main, 'summary.py')
