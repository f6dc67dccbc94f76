"""Convert ResNet weights between paddle.vision's key names and this repository's,
and between the .pdparams (pickle) and .safetensors formats."""
import argparse
import sys
from collections.abc import Sequence

from _bootstrap import run
from paddleinfo.arguments import ArgumentParser
from resnet.configs import ARCHS
from resnet_tools import cli, weights
from resnet_tools.specs import ALL_ARCHS, arch_name

DESCRIPTION = """\
Rename the tensors of a ResNet state dict from paddle.vision's key names (conv1,
layer1.0.conv1, ...) to this repository's (conv, residual_block.0.conv_bn_block1.0,
...), or back. The tensors are not touched.

  python scripts/convert.py --to-ours resnet50.pdparams resnet50_ours.pdparams
  python scripts/convert.py --to-official resnet50_ours.pdparams back.pdparams
  python scripts/convert.py --to-official resnet50.pdparams resnet50.safetensors

A file whose name ends in .safetensors is read and written in the safetensors
format; any other is read with paddle.load.  OUTPUT ends in .safetensors or in
.pdparams (written with paddle.save); another extension, e.g. .pt, is refused.
A .pdparams file is a pickle: loading one can run code hidden in it.  This is the
one place that unpickles one, and it says so on stderr before it does: convert a
downloaded file to .safetensors once (the last line above keeps paddle.vision's
names and changes only the format), only from a source you trust, and every later
load is safe; compare.py and export.py take .safetensors only. The CIFAR-10
networks (cifar_resnet20 ...) have this repository's layout only: --to-ours
changes their format.

The architecture is recognised from the shapes, or checked against --arch. The
md5 of a .pdparams file is compared with the list in paddle.vision.models.resnet:
one of Paddle's published files is named as such, and a file named like one
(e.g. resnet50.pdparams) whose md5 differs gets a warning. The output is written
to a temporary file and renamed into place, so a failure leaves no half file.
Exit code 2 and one line on stderr for a file that does not fit, and for a write
that fails (a full disk, a folder that takes no files).
"""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = ArgumentParser(prog='convert.py', description=DESCRIPTION,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    direction = parser.add_mutually_exclusive_group(required=True)
    direction.add_argument('--to-ours', dest='to', action='store_const', const=weights.OURS,
                           help="from paddle.vision's layout to this repository's")
    direction.add_argument('--to-official', dest='to', action='store_const',
                           const=weights.OFFICIAL,
                           help="from this repository's layout to paddle.vision's")
    parser.add_argument('input', metavar='INPUT',
                        help='the .pdparams or .safetensors file to convert')
    parser.add_argument('output', metavar='OUTPUT',
                        help='where to write the converted file: a name ending in '
                             '.safetensors is written as safetensors, one ending in .pdparams '
                             'with paddle.save')
    cli.add_arch(parser, ARCHS, 'the expected architecture (default: recognised from the '
                                'shapes)', ', or a CIFAR network, e.g. cifar_resnet20')
    cli.add_force(parser, 'OUTPUT if it exists')
    return parser.parse_args(argv)


def unpickling_note(path: str, status: str | None) -> str:
    """The line said before a pickle is loaded: what that means, unless the file is one
    that Paddle publishes."""
    if status == 'published':
        return f"convert.py: note: unpickling {path}, Paddle's published file (its md5 says so)\n"
    return (f'convert.py: warning: unpickling {path}, which runs any code the file holds: '
            f'convert only a file from a source you trust\n')


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    weights.weights_path(args.output, args.force)   # before the work, not after it
    if args.arch is not None:                         # before the file is unpickled
        arch_name(arch=args.arch, archs=ALL_ARCHS)
    status, md5_message = weights.check_md5(args.input)   # a FIFO or a folder: an error
    if status == 'mismatch':
        sys.stderr.write(f'convert.py: warning: {md5_message}\n')
    if not weights.is_safetensors(args.input):
        sys.stderr.write(unpickling_note(args.input, status))
    state = weights.read_state_dict(args.input)
    new_format = weights.is_safetensors(args.input) != weights.is_safetensors(args.output)
    source = weights.detect_layout(state)
    converted, arch = weights.convert(state, args.to, args.arch, where=args.input,
                                      same_layout=new_format)
    assert source is not None     # convert() refuses a state dict in neither layout
    weights.save_atomically(converted, args.output, force=args.force)
    how = 'as given by --arch' if args.arch else 'recognised from its shapes'
    print(f'read  {args.input}: {len(state)} tensors in {weights.LAYOUT_NAMES[source]} '
          f'({weights.format_name(args.input)}), {arch} ({how})')
    if status == 'published':
        print(md5_message)
    print(f'wrote {args.output}: {len(converted)} tensors in {weights.LAYOUT_NAMES[args.to]} '
          f'({weights.format_name(args.output)})')


if __name__ == '__main__':
    run(main, 'convert.py')
