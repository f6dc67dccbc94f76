"""Print paddle.summary of a ResNet, of one residual block or of any paddle.vision model,
and tables to teach from."""
import argparse
import sys
import textwrap
from collections.abc import Sequence

from _bootstrap import run
from paddleinfo.arguments import ArgumentParser, add_step_arguments, add_view_arguments
from paddleinfo.cli import add_model_argument, add_models_argument
from paddleinfo.inputs import add_input_arguments
from paddleinfo.macs import MACS_CONVENTION
from resnet_tools import cli, specs
from resnet_tools.specs import ALL_ARCHS
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
  python scripts/summary.py --stages --training --batch-size 8   a training step by stage:
                                                backward MACs, activations kept
  python scripts/summary.py --stages --training --time --layers 18   ... and the time

Any Paddle model:
  python scripts/summary.py --model mobilenet_v2 --macs      paddle.vision's network
  python scripts/summary.py --model my_net.py:build --input-size 1 64 64   your own
  python scripts/summary.py --model docs/examples/nets.py:lstm --input 50x16   a sequence
  python scripts/summary.py --model docs/examples/nets.py:two_inputs --input 3x32x32 --input 10
  python scripts/summary.py --models alexnet vgg16 resnet50   side by side
"""

EPILOG = '\n\n'.join(textwrap.fill(paragraph, 79, break_on_hyphens=False) for paragraph in (
    f'--input-size [channels] height [width] is the input image, for the ResNets here as for '
    f'any model. Each side from 32 (a ResNet halves the map five times; 4 for a CIFAR '
    f'network), or from the stride for a block, up to {specs.MAX_INPUT_SIZE}; the channels '
    f'are the network\'s: 3, any number for a CIFAR network (1 for the digits), '
    f'--in-channels for a block. With --model, by default the model\'s own image '
    f'(3x224x224; 3x299x299 for inception_v3, 1x28x28 for LeNet), for a model whose input '
    f'first meets a 2-D convolution only; any other model takes --input SHAPE[:DTYPE], '
    f'once per input of forward(): its shape without the batch, sizes joined by x, and its '
    f'dtype if not float32 (16x40, 128:int64), with --batch-size N in front of every input.',
    summary.TRAINABLE_NOTE,
    teaching.PAPER_MACS_CONVENTION,
    f'With --model and --models: {MACS_CONVENTION}',
))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = ArgumentParser(prog='summary.py', description=DESCRIPTION, epilog=EPILOG,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    what = parser.add_mutually_exclusive_group()
    cli.add_network(parser, ALL_ARCHS, group=what)
    cli.add_block(what)
    add_model_argument(what)
    cli.add_block_options(parser)
    cli.add_network_options(parser)
    # --input-size, --input and --batch-size: paddleinfo's, one meaning for any model.
    cli.add_input_size(parser, '224; 32 for a CIFAR network; a --model\'s own')
    add_input_arguments(parser, input_size=False)
    tables = parser.add_mutually_exclusive_group()
    tables.add_argument('--stages', action='store_true',
                        help="the paper's Table 1 (or its CIFAR-10 table): one row per stage "
                             "with output size, block, params, MACs and share of the MACs")
    tables.add_argument('--overview', action='store_true',
                        help='all five depths: layer count, params, trainable, MACs of v1.5 '
                             'and v1, output shape')
    add_models_argument(tables)
    add_view_arguments(parser, depth_group=tables, depth_help=' (2: one row per residual block)')
    add_step_arguments(parser, plot=False)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    request = summary.check_request(vars(parse_args(argv)))
    sys.stdout.write(summary.produce(request))


if __name__ == '__main__':
    run(main, 'summary.py')
