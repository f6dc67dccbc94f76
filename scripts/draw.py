"""Draw the paper's Figure 3 (a network as a column of layers with its shortcuts) or
Figure 5 (one residual block) from the model itself."""
import argparse
import textwrap
from collections.abc import Sequence

from _bootstrap import run
from paddleinfo.arguments import ArgumentParser, add_integer, given_flags, refuse
from resnet.blocks import SHORTCUTS
from resnet.configs import CIFAR_ARCHS
from resnet_tools import cli
from resnet_tools.errors import UsageError
from resnet_tools.specs import ALL_ARCHS, block_options
from resnet_tools.views import architecture as drawing
from resnet_tools.views import drawing as figures
from resnet_tools.views.saving import figure_path

DESCRIPTION = """\
Draw a ResNet as the paper's Figure 3 draws ResNet-34 (a box per weighted layer,
shortcuts as arcs beside the column: solid for an identity, dashed for a
projection or option A's zero-padding), or one residual block as its Figure 5
does. Every label is read from the model built with these arguments.

  python scripts/draw.py --arch resnet34 --output resnet34.svg
  python scripts/draw.py --layers 34 --compare --output plain_vs_resnet34.png
  python scripts/draw.py --arch cifar_resnet56 --output cifar_resnet56.pdf
  python scripts/draw.py --layers 152 --columns 3 --output resnet152.png
  python scripts/draw.py --block bottleneck --output bottleneck.svg
  python scripts/draw.py --readme-figures docs/figures
"""

EPILOG = '\n\n'.join(textwrap.fill(paragraph, 79, break_on_hyphens=False) for paragraph in (
    "--arch also takes the CIFAR-10 networks of the paper's Section 4.2, drawn at 32x32 "
    "with 10 classes: " + ', '.join(name for name in CIFAR_ARCHS if name.startswith('cifar_resnet'))
    + ', and their plain twins cifar_plain20 .. cifar_plain1202.',
    "The output's extension picks the format: .svg (text stays text; each shortcut is an "
    "element with the id shortcut-identity-K, shortcut-projection-K or shortcut-zeropad-K, "
    "the K-th shortcut of its kind, counted from the input over all blocks of the network), "
    ".png or .pdf. "
    "The same command writes the same bytes every time.",
))

README_FIGURES = 'docs/figures'


def make_parser() -> ArgumentParser:
    parser = ArgumentParser(prog='draw.py', description=DESCRIPTION, epilog=EPILOG,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    what = parser.add_mutually_exclusive_group()
    cli.add_network(parser, ALL_ARCHS, group=what)
    cli.add_block(what, ', as Figure 5')
    what.add_argument('--readme-figures', metavar='DIR', nargs='?', const=README_FIGURES,
                      help=f'remake every figure the READMEs show, in DIR '
                           f'(default: {README_FIGURES}); replaces them')
    cli.add_block_options(parser)
    cli.add_output(parser, 'file to write: .svg, .png or .pdf', metavar='FILE')
    cli.add_force(parser, 'FILE if it exists')
    cli.add_input_size(parser)
    cli.add_network_options(parser)
    cli.add_shortcut(parser, SHORTCUTS, "the network's own, B; A for CIFAR")
    parser.add_argument('--compare', action='store_true',
                        help='the plain network beside its residual twin, as Figure 3 puts '
                             'plain-34 beside ResNet-34')
    add_integer(parser, '--max-blocks', low=0, high=10_000, default=drawing.MAX_BLOCKS,
                help=f'draw a stage of more blocks as its first block, a gap and its last '
                     f'block; 0 draws every block (default: {drawing.MAX_BLOCKS})')
    add_integer(parser, '--columns', low=1, high=8, default=1,
                help='wrap each network into N side-by-side columns, e.g. 3 for a projector '
                     '(default: 1, as the paper)')
    return parser


# What --block draws with: the network's flags are refused with it.
NETWORK_FLAGS = ('num_classes', 'shortcut', 'compare', 'max_blocks', 'columns')
BLOCK_FLAGS = ('in_channels', 'out_channels', 'stride')


def main(argv: Sequence[str] | None = None) -> None:
    parser = make_parser()
    args = parser.parse_args(argv)
    given = given_flags(parser, argv, args)
    if args.readme_figures is not None:
        refuse(given, [name for name in given if name != 'readme_figures'],
                   'does not go with --readme-figures, which remakes fixed figures')
        for path in drawing.readme_figures(args.readme_figures):
            print(f'wrote {path}')
        return
    if args.output is None:
        raise UsageError('--output FILE is needed: the figure to write (.svg, .png or .pdf)')
    output = figure_path(args.output, args.force)
    if args.block is not None:
        refuse(given, NETWORK_FLAGS, 'is for a whole network, not for --block')
        figure, column = drawing.block_drawing(args.block, input_size=args.input_size,
                                               variant=args.variant, **block_options(vars(args)))
        drawn = [column]
    else:
        refuse(given, BLOCK_FLAGS, 'goes with --block only')
        figure, drawn = drawing.network_drawing(
            args.layers, args.arch, args.input_size, args.num_classes, args.variant,
            args.shortcut, args.compare, args.max_blocks, args.columns)
    figures.save(figure, output, args.force)
    print(f'wrote {output}: {drawing.contents(drawn)}')


if __name__ == '__main__':
    run(main, 'draw.py')
