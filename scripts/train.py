"""Train one of the CIFAR networks of the paper's Section 4.2 on digits or CIFAR-10."""
import argparse
import functools
from collections.abc import Sequence

from _bootstrap import run
from paddleinfo.arguments import ArgumentParser, add_number
from paddleinfo.progress import bar as progress_bar, on_terminal
from resnet.configs import CIFAR_ARCHS
from resnet_tools import cli, training
from resnet_tools.paper import networks
from resnet_tools.specs import display_name

PROG = 'train.py'

DESCRIPTION = """\
Train a CIFAR network of the paper's Section 4.2 (6n+2 layers; ResNet with
option-A shortcuts or --shortcut B or C, or its plain twin) with the paper's
optimiser: SGD, momentum 0.9, weight decay 1e-4, batch 128, learning rate 0.1
divided by 10 at 50 % and 75 % of the run.  Nothing is downloaded.

  python scripts/train.py --arch cifar_resnet56 --data digits --epochs 10 --output runs/resnet56

A deep network needs a warm-up, and gets one by default (--warmup-epochs 1 from 56
layers on): the paper trains ResNet-110 at 0.01 until the training error is below
80 %, because 0.1 is too large for it to start converging; without it
(--warmup-epochs 0) ResNet-56 on the digits ends near 53 % test error after 10
epochs.

  python scripts/train.py --arch cifar_resnet20 --data cifar10 --data-file cifar-10-python.tar.gz \\
      --epochs 164 --output runs/cifar10-resnet20
  python -m paddle.distributed.launch --nproc_per_node 2 --log_dir runs/two/launch \\
      --log_level ERROR scripts/train.py --arch cifar_resnet20 --output runs/two

--data digits: scikit-learn's 1,797 handwritten digits, 8x8, one channel, a fixed
seeded split into 1,438 training and 359 test images.  --data cifar10: the CIFAR-10
python archive you have, with the paper's augmentation (4-pixel padding, random
32x32 crop, horizontal flip).  Both have the per-pixel mean subtracted.

After every epoch OUTPUT gets a row in log.csv (epoch, lr, train_loss,
train_error, test_loss, test_error, seconds; errors are fractions) and a
checkpoint: checkpoint-000K/ (model.safetensors, optimizer.safetensors,
state.json), made current by checkpoint.json, its manifest, written last.  A kill
at any instant leaves the previous checkpoint or the new one; run.json describes
the run.  A run repeats exactly on a CPU with the same --seed, and --resume after
any stop gives the same weights and log as a run that never stopped.  While it
trains, the run owns OUTPUT: another run, --resume or --force there is refused.
"""

EPILOG = """\
Under paddle.distributed.launch the script trains data-parallel: --batch-size
stays the global batch, split evenly among the processes; only rank 0 writes.
BatchNorm normalises each process's share of the batch, and its running
statistics are averaged over the processes after every epoch.  The last line
each process prints is the sha256 of its weights: they agree.  Across machines
each runs a launcher with --nnodes N --master IP:PORT --rank R; a process that
waits for the others longer than --collective-timeout (a node died or froze)
stops with one line and exit code 1, and --resume on every node goes on.

Ctrl-C or SIGTERM stops at the end of the step (or of the save) under way with
one line, "stopped in epoch K; the last checkpoint is epoch J; continue with
--resume".

Exit codes: 0 trained; 1 the loss stopped being finite, or the other processes
did not answer within --collective-timeout (the last good checkpoint is kept);
2 a bad argument, data file, checkpoint, output directory or a failed write (one
line on stderr); 130 stopped by Ctrl-C; 143 stopped by SIGTERM.
"""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = ArgumentParser(prog=PROG, description=DESCRIPTION, epilog=EPILOG,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_arch(parser, CIFAR_ARCHS, 'the network', ' (default: cifar_resnet20)',
                 default='cifar_resnet20')
    cli.add_shortcut(parser, networks.SHORTCUT_OPTIONS,
                     'A, as the paper trains the CIFAR nets; for a ResNet only')
    cli.add_data_arguments(parser)
    cli.add_output(parser, 'directory for log.csv, run.json and the checkpoint', required=True)
    cli.add_settings_arguments(parser, derived={
        'warmup_epochs': f'1 for networks of {networks.WARMUP_LAYERS} layers or more, else 0'})
    cli.add_run_arguments(parser)
    add_number(parser, '--collective-timeout', low=1, high=86400,
               default=training.COLLECTIVE_TIMEOUT, metavar='SECONDS',
               help='data parallel: how long a process waits for the others in one all-reduce '
                    'or barrier before it stops with one line and exit code 1 (a node that '
                    'died or froze); the wait for the gradients includes the backward pass, so '
                    f'keep it above the slowest one (default {training.COLLECTIVE_TIMEOUT:g})')
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    arch = networks.check_arch(args.arch)
    networks.run_shortcut(arch, args.shortcut)   # before the data is read
    settings = cli.settings_from(args, warmup_epochs=networks.default_warmup(arch))
    world_size, rank = training.processes()
    training.set_device(args.device)   # an unusable --device before the folder is taken
    # The output taken (checked, locked, its checkpoint read) before the data is read and
    # the model built, and held until the run ends.
    with training.claim(args.output, args.resume, args.force) as taken:
        images = cli.data_source(args).load()
        if rank == 0:
            print(f'{display_name(arch)} ({arch}) on {images.describe()}', flush=True)
        progress = functools.partial(progress_bar, unit='batch') if on_terminal() else None
        result = networks.train_network(
            arch, images, settings, args.output, progress=progress,
            report=lambda line: print(line, flush=True), shortcut=args.shortcut, taken=taken,
            resume=args.resume, force=args.force, device=args.device,
            collective_timeout=args.collective_timeout)
    if rank == 0:
        last = result.log[-1]
        print(f'{result.params:,} trainable parameters; final training error '
              f'{100 * last.train_error:.2f} %, test error {100 * last.test_error:.2f} %; '
              f'saved in {args.output}')
    print(f'weights sha256 (process {rank + 1} of {world_size}): {result.digest}')
    return 0


if __name__ == '__main__':
    run(main, PROG)
