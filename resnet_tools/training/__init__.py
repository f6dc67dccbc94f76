"""Training any paddle.nn.Layer classifier, with the paper's schedule, into a run folder
that survives a kill at any instant; one process, several (paddle.distributed.launch),
or independent runs side by side.  Knows nothing of ResNet.

  settings.py       Settings: the optimiser and schedule (the paper's by default)
  loop.py           train(): the loop, its stops, and each epoch's checkpoint
  run_directory.py  the run folder: log.csv, run.json, and the checks before a run takes it
  checkpoints.py    a checkpoint as one unit, without pickle, with checksums
  locking.py        one process owns a run folder at a time
  distributed.py    ranks, devices and the sums the processes agree on
  data.py           the digits and CIFAR-10, as numpy arrays
  jobs.py           independent runs in worker processes, one math thread each
"""
from resnet_tools.training.data import Data, DataSource
from resnet_tools.training.distributed import COLLECTIVE_TIMEOUT, processes, set_device
from resnet_tools.training.loop import Run, TrainResult, count_parameters, train, weights_digest
from resnet_tools.training.run_directory import (LOG_COLUMNS, LOG_FILE, RUN_FILE, Claim, LogRow,
                                                 RunRecord, check_run_folder, claim, format_log,
                                                 has_checkpoint, read_log, read_run)
from resnet_tools.training.settings import WARMUP_FACTOR, Settings, learning_rate

__all__ = ['COLLECTIVE_TIMEOUT', 'LOG_COLUMNS', 'LOG_FILE', 'RUN_FILE', 'WARMUP_FACTOR', 'Claim',
           'Data', 'DataSource', 'LogRow', 'Run', 'RunRecord', 'Settings', 'TrainResult',
           'check_run_folder', 'claim',
           'count_parameters', 'format_log', 'has_checkpoint', 'learning_rate', 'processes',
           'read_log', 'read_run', 'set_device', 'train', 'weights_digest']
