"""Compare every ResNet here with paddle.vision.models: counts, state dicts and logits."""
import argparse
from collections.abc import Sequence

from _bootstrap import run
from paddleinfo.arguments import ArgumentParser
from paddleinfo.progress import progress
from resnet.configs import ARCHS
from resnet_tools import cli
from resnet_tools.errors import UsageError
from resnet_tools.weights import compare, formats

DESCRIPTION = f"""\
Build each architecture here and in paddle.vision.models, load the official
model's weights into ours, and compare: parameter totals, trainable parameters,
state-dict keys and shapes, and the logits on one random batch in eval mode.
Exit code 0 if every architecture agrees, 1 if any does not.

  python scripts/compare.py                          all {len(ARCHS)}, about a minute on 2 cores
  python scripts/convert.py --to-official resnet50.pdparams resnet50.safetensors
  python scripts/compare.py --weights resnet50.safetensors
                                                     ours and paddle.vision's resnet50,
                                                     both with Paddle's published weights,
                                                     converted once (the one unpickling)
                                                     to a file read without pickle
  python scripts/compare.py --arch resnet50 --per-layer
                                                     every layer of ours next to the
                                                     official one, and why the two
                                                     paddle.summary tables differ
"""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = ArgumentParser(prog='compare.py', description=DESCRIPTION,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_arch(parser, ARCHS, 'compare only this architecture (may be repeated)',
                 action='append')
    parser.add_argument('--per-layer', action='store_true',
                        help='with one --arch: the layer-by-layer mapping and the two summaries')
    cli.add_weights(parser, 'both models run with it instead of random weights (e.g. '
                            'resnet50.safetensors); the architecture is recognised from it. '
                            'A .pdparams file, a pickle, is refused: convert it once with '
                            'scripts/convert.py')
    cli.add_input_size(parser, f'{compare.CHECK_INPUT_SIZE}, small to keep the run short')
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    archs = [compare.arch_to_compare(arch) for arch in args.arch or ARCHS]
    input_size = compare.image_from(args.input_size or [compare.CHECK_INPUT_SIZE])
    state = None
    if args.weights:
        if len(archs) != 1 and args.arch:
            raise UsageError('--weights goes with one --arch at most')
        formats.refuse_pickle(args.weights)
        # A .safetensors file: Paddle publishes none, so there is no md5 to check.
        state, arch, _ = compare.weights_file(args.weights, args.arch and archs[0])
        archs = [arch]
    if args.per_layer and len(archs) != 1:
        raise UsageError('--per-layer needs exactly one --arch, e.g. --arch resnet50')
    rows = [compare.compare(arch, input_size, state=state)
            for arch in progress(archs, 'networks')]
    print(compare.comparison_table(rows))
    print()
    print(compare.method_note(input_size, args.weights))
    if args.per_layer:
        print()
        print(compare.per_layer_table(archs[0]))
        print()
        print(compare.summary_report(archs[0], input_size))
    return 0 if all(row.agrees for row in rows) else 1


if __name__ == '__main__':
    run(main, 'compare.py')
