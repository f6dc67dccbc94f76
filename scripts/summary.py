"""Print paddle.summary of a ResNet, or of one residual block, as the article does."""
import argparse
import pathlib
import sys
import textwrap

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from resnet_tools.cli import ArgumentParser, quiet_paddle, run  # noqa: E402

quiet_paddle()

from configs import ARCHS, SUPPORTED_LAYERS  # noqa: E402
from resnet_tools import summary  # noqa: E402

DESCRIPTION = """\
Print the per-layer table of paddle.summary for a whole ResNet, or for a single
residual block, built from the article's layers_config table.

  python scripts/summary.py --layers 50         the article's ResNet-50 table
  python scripts/summary.py --block basic       the article's BasicBlock(64, 128, 2)
  python scripts/summary.py --block bottleneck  the article's BottleneckBlock(64, 128, 2)
  python scripts/summary.py --arch resnext50_32x4d --input-size 64
"""

EPILOG = '\n\n'.join(textwrap.fill(paragraph, 79, break_on_hyphens=False) for paragraph in (
    f'Input sizes: each side from 32 (a ResNet halves the map five times), or from '
    f'the stride for a block, up to {summary.MAX_INPUT_SIZE}.',
    summary.TRAINABLE_NOTE,
))


def integer(flag):
    def parse(text):
        try:
            return int(text)
        except ValueError:
            raise summary.UsageError(f'{flag} {text} is not an integer')
    return parse


def parse_args(argv):
    parser = ArgumentParser(prog='summary.py', description=DESCRIPTION, epilog=EPILOG,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    what = parser.add_mutually_exclusive_group()
    what.add_argument('--layers', metavar='N', type=str,
                      help=f'the ResNet depth: {", ".join(map(str, SUPPORTED_LAYERS))} (default: 50)')
    what.add_argument('--arch', metavar='NAME', type=str,
                      help='a paddle.vision.models name: ' + ', '.join(ARCHS))
    what.add_argument('--block', metavar='TYPE', type=str,
                      help='one residual block: basic or bottleneck')
    parser.add_argument('--in-channels', metavar='C', type=str,
                        help='with --block: input channels (default: 64)')
    parser.add_argument('--out-channels', metavar='C', type=str,
                        help='with --block: output channels (default: 128)')
    parser.add_argument('--stride', metavar='S', type=str,
                        help='with --block: stride, 1 or 2 (default: 2)')
    parser.add_argument('--input-size', metavar='N', type=str, nargs='+',
                        help='height [width] of the input (default: 224)')
    parser.add_argument('--num-classes', metavar='K', type=str,
                        help='outputs of the fc layer, 0 to drop it (default: 1000)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    input_size = [integer('--input-size')(value) for value in args.input_size or ['224']]
    if args.block is not None:
        if args.num_classes is not None:
            raise summary.UsageError('--num-classes is for a whole network, not for --block')
        block = {name: integer(f'--{name.replace("_", "-")}')(getattr(args, name))
                 for name in summary.DEFAULT_BLOCK if getattr(args, name) is not None}
        text, _ = summary.block_summary(args.block, input_size=input_size,
                                        **{**summary.DEFAULT_BLOCK, **block})
    else:
        for name in summary.DEFAULT_BLOCK:
            if getattr(args, name) is not None:
                raise summary.UsageError(f'--{name.replace("_", "-")} goes with --block only')
        num_classes = integer('--num-classes')(args.num_classes or '1000')
        text, _ = summary.network_summary(args.layers or 50, args.arch, input_size, num_classes)
    sys.stdout.write(text)


if __name__ == '__main__':
    run(main, 'summary.py')
