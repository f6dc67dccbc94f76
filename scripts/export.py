"""Export a ResNet with paddle.jit.save and check it under Paddle Inference."""
import argparse
import sys
from collections.abc import Sequence

from _bootstrap import run
from paddleinfo.arguments import ArgumentParser, given_flags, refuse
from resnet_tools import cli
from resnet_tools.deploy import export, inference, onnx
from resnet_tools.specs import ALL_ARCHS, arch_name
from resnet_tools.weights import formats

PROG = 'export.py'

DESCRIPTION = f"""\
Save a ResNet as a static graph (paddle.jit.save) for Paddle Inference, then load
it with paddle.inference on CPU, feed it the input the dynamic-graph model gets,
and compare the two: max|diff| / max|logit| must be at most {export.TOLERANCE:g}.

  python scripts/export.py --layers 50 --output exported/resnet50
  python scripts/export.py --arch resnext50_32x4d --output exported/resnext50
  python scripts/export.py --layers 50 --weights resnet50.safetensors --output exported/r50
  python scripts/export.py --arch cifar_resnet20 --output exported/cifar_resnet20
  python scripts/export.py --run runs/resnet20 --output exported/resnet20
  python scripts/export.py --layers 50 --format onnx --output exported/resnet50-onnx
  python scripts/export.py --layers 50 --precision bf16 --output exported/resnet50-bf16

The directory gets {export.MODEL_FILE} (the program) and {export.PARAMS_FILE} (the weights);
the input, named '{export.INPUT_NAME}', is [-1, channels, height, width]: any batch size.
A CIFAR-10 network takes 32x32 images and has 10 classes, unless --weights holds
one trained for others (e.g. 1 channel for scikit-learn's digits).
--run DIR deploys the network that scripts/train.py trained into DIR: its arch,
input channels (1 for digits), classes and image size come from the run, its
weights from the run's last checkpoint (checked, never unpickled).
--format onnx writes {onnx.ONNX_FILE} instead, converted by paddle2onnx, and checks it under
ONNX Runtime in the same way (optional extras: {onnx.SETUP_LINE}).
--precision bf16 marks the export to run in oneDNN's bfloat16 ({inference.PRECISION_FILE}),
on a CPU with AVX512-BF16 or AMX, and prints what that costs against f32.
"""

EPILOG = """\
Exit codes: 0 saved and checked; 1 the check failed (nothing saved);
2 a bad argument, weights file, run or a failed write (nothing saved).  The directory appears only
once it is complete and checked; --force replaces a directory that holds an
earlier export and nothing else.
"""


def make_parser() -> ArgumentParser:
    parser = ArgumentParser(prog=PROG, description=DESCRIPTION, epilog=EPILOG,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_network(parser, ALL_ARCHS)
    cli.add_weights(parser, 'the network exported with them (default: seeded random weights). '
                            'A .pdparams file, a pickle, is refused: convert it once with '
                            'scripts/convert.py')
    parser.add_argument('--run', metavar='DIR',
                        help='a directory that scripts/train.py trained into: export that '
                             'network with its last checkpoint')
    cli.add_output(parser, 'directory to create for the exported model', required=True)
    cli.add_force(parser, 'DIR if it holds an earlier export')
    cli.add_input_size(parser, "224; 32 for a CIFAR network; a run's own with --run")
    cli.add_num_classes(parser, 'as in --weights, else 1000; 10 for a CIFAR network, which '
                                'always has its fc')
    cli.add_model_format(parser)
    cli.add_precision(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    if args.run is not None:
        refuse(given_flags(parser, argv, args), ['layers', 'arch', 'weights', 'num_classes'],
                   'does not go with --run, which takes the network and its weights from the run')
        result = export.export(None, args.output, force=args.force, input_size=args.input_size,
                               run=args.run, format=args.format, precision=args.precision)
    else:
        arch = arch_name(args.layers, args.arch, ALL_ARCHS)
        if args.weights is not None:
            formats.refuse_pickle(args.weights, arch)
        result = export.export(arch, args.output, args.weights, args.force, args.input_size,
                               args.num_classes, format=args.format, precision=args.precision)
    for note in result.notes:
        sys.stderr.write(f'{PROG}: warning: {note}\n')
    print('\n'.join(export.report(result)))
    if not result.passed:
        runtime = 'ONNX Runtime' if args.format == export.ONNX else 'Paddle Inference'
        sys.stderr.write(f'{PROG}: error: {runtime} does not reproduce the dynamic '
                         f'graph: relative difference {result.relative:.3g} > '
                         f'{export.TOLERANCE:g}\n')
        return 1
    return 0


if __name__ == '__main__':
    run(main, PROG)
