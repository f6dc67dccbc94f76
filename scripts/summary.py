"""Print paddle.summary of a ResNet, or of one residual block, as the article does."""
import argparse
import functools
import pathlib
import sys
import textwrap

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from resnet_tools.cli import (ArgumentParser, add_network_choices, integer,  # noqa: E402
                              quiet_paddle, run)

quiet_paddle()

from resnet_tools import summary, teaching  # noqa: E402

DESCRIPTION = """\
Print the per-layer table of paddle.summary for a whole ResNet, or for a single
residual block, built from the article's layers_config table.

  python scripts/summary.py --layers 50         the article's ResNet-50 table
  python scripts/summary.py --block basic       the article's BasicBlock(64, 128, 2)
  python scripts/summary.py --block bottleneck  the article's BottleneckBlock(64, 128, 2)
  python scripts/summary.py --arch resnext50_32x4d --input-size 64

Tables to teach from:
  python scripts/summary.py --stages            the paper's Table 1 for ResNet-50
  python scripts/summary.py --stages --variant v1   ... with the paper's stride placement
  python scripts/summary.py --overview          all five depths side by side
  python scripts/summary.py --explain --macs    every output size worked out, and MACs
  python scripts/summary.py --stages --format json  the same numbers for a program
"""

EPILOG = '\n\n'.join(textwrap.fill(paragraph, 79, break_on_hyphens=False) for paragraph in (
    f'Input sizes: each side from 32 (a ResNet halves the map five times), or from '
    f'the stride for a block, up to {summary.MAX_INPUT_SIZE}.',
    summary.TRAINABLE_NOTE,
    teaching.MACS_CONVENTION,
))


def parse_args(argv):
    parser = ArgumentParser(prog='summary.py', description=DESCRIPTION, epilog=EPILOG,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    what = parser.add_mutually_exclusive_group()
    add_network_choices(what)
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
    parser.add_argument('--variant', metavar='V', type=str,
                        help="where a down-sampling bottleneck puts its stride: v1.5 (on the "
                             "3x3 conv, as the article and Paddle; default) or v1 (on the "
                             "first 1x1 conv, as the paper)")
    view = parser.add_mutually_exclusive_group()
    view.add_argument('--stages', action='store_true',
                      help="the paper's Table 1: one row per stage with output size, block, "
                           "params, MACs and share of the MACs")
    view.add_argument('--overview', action='store_true',
                      help='all five depths: layer count, params, trainable, MACs of v1.5 '
                           'and v1, output shape')
    parser.add_argument('--explain', action='store_true',
                        help='per-layer table: add the formula of every conv and pool output '
                             'size, checked against the shape Paddle produced')
    parser.add_argument('--macs', action='store_true',
                        help='per-layer table: add the MACs of every layer and which of its '
                             'tensors are trainable')
    parser.add_argument('--format', metavar='F', type=str,
                        help=f'{", ".join(teaching.FORMATS)} (default: plain, which for the '
                             f'per-layer table is paddle.summary\'s own)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    fmt = teaching.check_format(args.format or 'plain')
    input_size = [integer('--input-size', value) for value in args.input_size or ['224']]
    teaching.check_view(args.stages, args.overview, args.macs, args.explain,
                        {flag: getattr(args, flag.lstrip('-').replace('-', '_')) is not None
                         for flag in ('--layers', '--arch', '--block', '--variant')})
    variant = args.variant or summary.DEFAULT_VARIANT
    if args.block is not None:
        if args.num_classes is not None:
            raise summary.UsageError('--num-classes is for a whole network, not for --block')
        block = {name: integer(f'--{name.replace("_", "-")}', getattr(args, name))
                 for name in summary.DEFAULT_BLOCK if getattr(args, name) is not None}
        spec = summary.block_spec(args.block, input_size=input_size, variant=variant,
                                  **{**summary.DEFAULT_BLOCK, **block})
    else:
        for name in summary.DEFAULT_BLOCK:
            if getattr(args, name) is not None:
                raise summary.UsageError(f'--{name.replace("_", "-")} goes with --block only')
        num_classes = integer('--num-classes', args.num_classes or '1000')
        spec = summary.network_spec(args.layers, args.arch, input_size, num_classes,
                                    variant)
    name, build_model, input_shape = spec
    if args.overview:
        data, view = teaching.overview(input_shape, num_classes), teaching.overview_view
    elif args.stages:
        data = teaching.stage_table(name, input_shape, num_classes, variant)
        view = teaching.stage_view
    elif fmt == 'plain' and not (args.macs or args.explain):
        sys.stdout.write(summary.capture_summary(build_model, input_shape)[0])
        return
    else:
        data = teaching.layer_table(build_model, input_shape, name,
                                    None if args.block == 'basic' else variant)
        view = functools.partial(teaching.layer_view, macs=args.macs, explain=args.explain)
    sys.stdout.write(teaching.render(data, view, fmt))


if __name__ == '__main__':
    run(main, 'summary.py')
