"""Time our ResNet against paddle.vision's, eager and exported under Paddle Inference."""
import argparse
import sys
from collections.abc import Sequence

from _bootstrap import run
from paddleinfo.arguments import ArgumentParser, add_integer, given_flags, refuse
from paddleinfo.inputs import add_batch_size
from paddleinfo.progress import on_terminal
from resnet_tools import cli
from resnet_tools.benchmarks import inference as benchmark
from resnet_tools.benchmarks import machine, memory as memory_benchmark, runtimes as runtimes_benchmark
from resnet_tools.benchmarks import summary_speed, training as training_benchmark
from resnet_tools.deploy import export, onnx
from resnet_tools.specs import arch_name

PROG = 'benchmark.py'
RUNTIME_BATCHES = ' and '.join(map(str, runtimes_benchmark.RUNTIME_BATCHES))
MEMORY_CASES = '\n'.join(f'  {line}' for line in memory_benchmark.cases_lines())

DESCRIPTION = f"""\
Time this repository's ResNet against paddle.vision.models' (same weights, same
input), interleaved after a warm-up, and print the medians as a Markdown table:

  eager forward (eval) and one training step (forward, backward, SGD) at
  --batch-size, ours next to the official model; target: speed >= {benchmark.EAGER_TARGET:g};
  our model exported by paddle.jit.save and run by Paddle Inference on CPU (its
  default optimisations, oneDNN) at batch {' and '.join(map(str, benchmark.INFERENCE_BATCHES))}, \
next to the official eager
  model; target: speed >= {benchmark.INFERENCE_TARGET:g}.

  python scripts/benchmark.py                         ResNet-50, 224x224, batch 8
  python scripts/benchmark.py --threads 0             the same on all cores
  python scripts/benchmark.py --layers 18 --input-size 64 --repeats 3   a quick look

The same run measures the machine's ceiling, numpy's float32 matrix product of
two {machine.CEILING_SIZE}x{machine.CEILING_SIZE} matrices at the same number of \
threads, and shows every GMAC/s
also as a share of it, naming the BLAS kernel that ran.  Target: the exported
model at batch {max(benchmark.INFERENCE_BATCHES)} with all cores (--threads 0) at \
>= {100 * benchmark.CEILING_TARGET:g} % of the ceiling.

--runtimes times our exported model under Paddle Inference beside the same network
converted to ONNX by paddle2onnx, under ONNX Runtime and OpenVINO, in one table,
interleaved on the same input at the same threads, at batch {RUNTIME_BATCHES}: f32
each, and bf16 where the CPU has bfloat16 instructions.  Each row gives its speed
against ONNX Runtime f32, its share of the ceiling, and its top-1 agreement with
Paddle Inference f32 on {runtimes_benchmark.AGREEMENT_IMAGES} generated images.  ONNX Runtime, OpenVINO and
paddle2onnx are optional extras ({onnx.SETUP_LINE});
a runtime not installed is left out with a line that says so.  Goal: our fastest
Paddle Inference row at least even with ONNX Runtime f32 at each batch:

  python scripts/benchmark.py --runtimes --threads 0

--training times one training step (forward, backward, SGD) of the CIFAR networks
instead: ResNet-20 and ResNet-56 at batch {training_benchmark.TRAINING_BATCH} on 1x8x8 (the digits) and
3x32x32 (CIFAR-10) inputs, with 1 thread, with every core as threads, and with
every core as processes of one thread each, each as img/s and as a share of the
ceiling (training counted as {training_benchmark.TRAINING_MAC_FACTOR} x the forward MACs); then the options
that might close the gap (oneDNN kernels, NHWC, bf16 autocast where the CPU has AMX), each
timed in turn with the step it changes:

  python scripts/benchmark.py --training

--memory measures what a training step and a forward pass take in memory instead:
Paddle's allocator's peak (its live bytes) during real steps with Adam (and SGD on
one row), each case in a fresh process, next to paddleinfo's estimate from the traced
program (summary(..., training=True)) and its parts, for

{MEMORY_CASES}

Target: the estimate within {100 * memory_benchmark.TOLERANCE:g} % of the measured peak:

  python scripts/benchmark.py --memory

--summaries times paddleinfo's summary of a built model against paddle.summary on the
same model, in turn in one process, for small and deep CNNs of paddle.vision; target:
never slower (a ratio at most 1.00x):

  python scripts/benchmark.py --summaries

A full ResNet-50 run takes a few minutes on 2 cores.  It is a benchmark, not a
test: the exit code is 0 whether or not a target is met.
"""


def make_parser() -> ArgumentParser:
    parser = ArgumentParser(prog=PROG, description=DESCRIPTION,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_network(parser)
    add_batch_size(parser, benchmark.MAX_BATCH, 8, 'batch of the eager rows (default: 8)')
    cli.add_input_size(parser, '224')
    cli.add_repeats(parser, 10, benchmark.MAX_REPEATS,
                    'timed runs of each side per row; the median is shown')
    add_integer(parser, '--warmup', low=0, high=benchmark.MAX_REPEATS, default=2,
                help='untimed runs of each side first (default: 2)')
    add_integer(parser, '--threads', low=0, high=machine.all_cores(),
                default=machine.DEFAULT_THREADS,
                help=f'math threads for the eager models, Paddle Inference and the ceiling; 0 '
                     f'for all {machine.all_cores()} cores (default: '
                     f"{machine.DEFAULT_THREADS}, Paddle's default)")
    parser.add_argument('--runtimes', action='store_true',
                        help='time Paddle Inference beside ONNX Runtime and OpenVINO instead (see '
                             'above)')
    parser.add_argument('--training', action='store_true',
                        help='time the training step of the CIFAR networks instead (see above)')
    parser.add_argument('--memory', action='store_true',
                        help='measure the memory of training steps against the estimate instead '
                             '(see above)')
    parser.add_argument('--summaries', action='store_true',
                        help="time paddleinfo's summary against paddle.summary instead (see above)")
    return parser


def show_progress(what: str, verb: str = 'timing') -> None:
    sys.stderr.write(f'{PROG}: {verb} {what} ...\n')
    sys.stderr.flush()


def main(argv: Sequence[str] | None = None) -> None:
    parser = make_parser()
    args = parser.parse_args(argv)
    progress = show_progress if on_terminal() else lambda what: None
    if args.summaries:
        given = given_flags(parser, argv, args)
        refuse(given, ('training', 'runtimes', 'memory'), 'does not go with --summaries: choose one')
        refuse(given, ('layers', 'arch', 'input_size', 'batch_size', 'threads', 'warmup'),
               'does not go with --summaries, which times its own models and input')
        text, _ = summary_speed.report(repeats=args.repeats if 'repeats' in given else 5,
                                       progress=progress)
        print(text)
        return
    if args.memory:
        given = given_flags(parser, argv, args)
        refuse(given, ('training', 'runtimes'), 'does not go with --memory: choose one')
        refuse(given, ('layers', 'arch', 'input_size', 'batch_size', 'threads', 'repeats', 'warmup'),
               'does not go with --memory, which measures its own networks, inputs and batches')
        measuring = (lambda what: show_progress(what, 'measuring')) if on_terminal() else progress
        text, _ = memory_benchmark.memory_report(progress=measuring)
        print(text)
        return
    if args.runtimes:
        given = given_flags(parser, argv, args)
        refuse(given, ('training',), 'does not go with --runtimes: choose one')
        refuse(given, ('batch_size',), f'does not go with --runtimes, which times batch {RUNTIME_BATCHES}')
        arch = arch_name(args.layers, args.arch)
        input_size = args.input_size or [224]
        export.input_shape(arch, input_size)
        print(runtimes_benchmark.report(arch, input_size, warmup=args.warmup, repeats=args.repeats,
                                        threads=args.threads, progress=progress))
        return
    if args.training:
        given = given_flags(parser, argv, args)
        refuse(given, ('layers', 'arch', 'input_size'),
                   'does not go with --training, which times its own networks and inputs')
        refuse(given, ('batch_size', 'threads'),
                   f'does not go with --training, which uses batch '
                   f'{training_benchmark.TRAINING_BATCH} and every way of using the cores')
        text, _, _ = training_benchmark.training_report(warmup=args.warmup, repeats=args.repeats,
                                                        progress=progress)
        print(text)
        return
    arch = arch_name(args.layers, args.arch)
    input_size = args.input_size or [224]
    export.input_shape(arch, input_size)   # checks the size before any network is built
    # Progress is for a person watching; a redirected run prints the table only.
    print(benchmark.report(arch, batch_size=args.batch_size, input_size=input_size,
                           warmup=args.warmup, repeats=args.repeats, threads=args.threads,
                           progress=progress))


if __name__ == '__main__':
    run(main, PROG)
