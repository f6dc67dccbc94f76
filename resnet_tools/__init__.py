"""The ResNet reproduction's tools: what scripts/ computes before it prints, cut by job.

The scripts only parse arguments and print; what they print is computed here, so that
the tests can import and check it directly.  From the top down (.importlinter holds
the layers, and tests/test_layers.py checks them):

  cli.py        the command-line vocabulary: every shared flag, defined once
  benchmarks/   how fast: the exported model, training steps, the summary commands
  deploy/       export for Paddle Inference, and its check against the dynamic graph
  paper/        the paper's experiments: the CIFAR-10 networks trained, Figures 6 and 7,
                the shortcut options of Table 3
  views/        the tables and figures to teach from: summaries, Table 1, Figures 3 and 5
  training/     the training loop, its run folder, checkpoints, data and worker processes
  weights/      our names and paddle.vision's, .pdparams and .safetensors, the comparison
  specs.py      which network or block, at which size, checked
  files.py      every output written whole or not at all
  errors.py     UsageError, WeightsError, Stop
"""
import importlib as _importlib

from paddleinfo.arguments import paddle_notes_hidden as _paddle_notes_hidden

# Paddle warns at import that ccache, a compiler cache for C++ extensions, is missing:
# news about Paddle's setup, not about anything asked here.  Imported once, quietly,
# before any module of this package imports it.
with _paddle_notes_hidden():
    _importlib.import_module('paddle')
