"""Draw the paper's Figure 3 (a network as a column of layers with its shortcuts) or
Figure 5 (one residual block) from the model itself."""
import argparse
import textwrap

from _bootstrap import run
from paddleinfo.cli import ArgumentParser, integer
from resnet.configs import CIFAR_ARCHS
from resnet_tools import specs
from resnet_tools.cli import AND_CIFAR, add_block_arguments, add_network_choices, add_shape_arguments, refuse
from resnet_tools.errors import UsageError
from resnet_tools.views import architecture as drawing
from resnet_tools.views import drawing as figures

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


def parse_args(argv):
    parser = ArgumentParser(prog='draw.py', description=DESCRIPTION, epilog=EPILOG,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    what = parser.add_mutually_exclusive_group()
    add_network_choices(what, more=AND_CIFAR)
    what.add_argument('--block', metavar='TYPE', type=str,
                      help='one residual block, as Figure 5: basic or bottleneck')
    what.add_argument('--readme-figures', metavar='DIR', nargs='?', const=README_FIGURES,
                      help=f'remake every figure the READMEs show, in DIR '
                           f'(default: {README_FIGURES}); replaces them')
    parser.add_argument('--output', metavar='FILE',
                        help='the file to write: .svg, .png or .pdf')
    parser.add_argument('--force', action='store_true', help='replace FILE if it exists')
    add_block_arguments(parser)
    add_shape_arguments(parser)
    parser.add_argument('--shortcut', metavar='S', type=str,
                        help="the paper's shortcut option to build the network with: A, B, C "
                             "or none (default: the network's own, B; A for CIFAR)")
    parser.add_argument('--compare', action='store_true',
                        help='the plain network beside its residual twin, as Figure 3 puts '
                             'plain-34 beside ResNet-34')
    parser.add_argument('--max-blocks', metavar='N', type=str,
                        help=f'draw a stage of more blocks as its first block, a gap and its '
                             f'last block; 0 draws every block (default: {drawing.MAX_BLOCKS})')
    parser.add_argument('--columns', metavar='N', type=str,
                        help='wrap each network into N side-by-side columns, e.g. 3 for a '
                             'projector (default: 1, as the paper)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.readme_figures is not None:
        refuse(vars(args), ['--output', '--force', '--in-channels', '--out-channels', '--stride',
                      '--input-size', '--num-classes', '--variant', '--shortcut', '--compare',
                      '--max-blocks', '--columns'],
               'does not go with --readme-figures, which remakes fixed figures')
        for path in drawing.readme_figures(args.readme_figures):
            print(f'wrote {path}')
        return
    if args.output is None:
        raise UsageError('--output FILE is needed: the figure to write (.svg, .png or .pdf)')
    output = figures.check_output(args.output, args.force)
    input_size = [integer('--input-size', value) for value in args.input_size or []] or None
    if args.block is not None:
        refuse(vars(args), ['--num-classes', '--shortcut', '--compare', '--max-blocks', '--columns'],
               'is for a whole network, not for --block')
        block = {name: integer(f'--{name.replace("_", "-")}', getattr(args, name))
                 for name in specs.DEFAULT_BLOCK if getattr(args, name) is not None}
        figure, drawn = drawing.block_drawing(args.block, input_size=input_size,
                                              variant=args.variant,
                                              **{**specs.DEFAULT_BLOCK, **block})
        drawn = [drawn]
    else:
        refuse(vars(args), ['--in-channels', '--out-channels', '--stride'], 'goes with --block only')
        figure, drawn = drawing.network_drawing(
            args.layers, args.arch, input_size,
            None if args.num_classes is None else integer('--num-classes', args.num_classes),
            args.variant, args.shortcut, args.compare,
            integer('--max-blocks', args.max_blocks or str(drawing.MAX_BLOCKS), 0, 10_000),
            integer('--columns', args.columns or '1', 1, 8))
    figures.save(figure, output, args.force)
    print(f'wrote {output}: {drawing.contents(drawn)}')


if __name__ == '__main__':
    run(main, 'draw.py')
