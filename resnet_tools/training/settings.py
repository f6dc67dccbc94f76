"""What a training run is asked to do: the optimiser and the schedule (Settings), the
paper's by default (Section 4.2), and the learning rate of every epoch."""
import math
from dataclasses import dataclass

from resnet_tools.errors import UsageError


SEED_RANGE = (0, 2 ** 32 - 1)   # what numpy's and Paddle's generators take


@dataclass(frozen=True)
class Settings:
    """The optimiser and the schedule; the defaults are the paper's (Section 4.2)."""
    epochs: int = 10
    batch_size: int = 128
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-4
    milestones: tuple = (0.5, 0.75)   # fractions of the run where the rate drops
    lr_decay: float = 0.1
    seed: int = 0
    warmup_epochs: int = 0            # first epochs at lr * WARMUP_FACTOR (off in the paper's default)

    def check(self):
        for flag, value in (('--lr', self.lr), ('--momentum', self.momentum),
                            ('--weight-decay', self.weight_decay), ('--lr-decay', self.lr_decay),
                            *(('--milestones', fraction) for fraction in self.milestones)):
            if not math.isfinite(value):
                raise UsageError(f'{flag} {value} is not a finite number')
        checks = (('--seed', self.seed, SEED_RANGE[0] <= self.seed <= SEED_RANGE[1],
                   f'from {SEED_RANGE[0]} to {SEED_RANGE[1]:,} (2^32 - 1)'),
                  ('--epochs', self.epochs, self.epochs >= 1, 'at least 1'),
                  ('--batch-size', self.batch_size, self.batch_size >= 1, 'at least 1'),
                  ('--lr', self.lr, self.lr > 0, 'above 0'),
                  ('--momentum', self.momentum, 0 <= self.momentum < 1, 'from 0 to below 1'),
                  ('--weight-decay', self.weight_decay, self.weight_decay >= 0, 'at least 0'),
                  ('--lr-decay', self.lr_decay, 0 < self.lr_decay <= 1, 'above 0 and at most 1'),
                  # Up to the whole run, so that a script's default warm-up allows --epochs 1.
                  ('--warmup-epochs', self.warmup_epochs, 0 <= self.warmup_epochs <= self.epochs,
                   f'from 0 to --epochs ({self.epochs})'))
        for flag, value, good, allowed in checks:
            if not good:
                raise UsageError(f'{flag} {value} is out of range: it must be {allowed}')
        for fraction in self.milestones:
            if not 0 < fraction <= 1:
                raise UsageError(f'--milestones {fraction} is out of range: each is a fraction '
                                 f'of the run, above 0 and at most 1')
        return self


def milestone_epochs(settings):
    """The epochs (counted from 0) that start at a lower rate: 5 and 8 of 10."""
    return [int(fraction * settings.epochs + 0.5) for fraction in settings.milestones]


# The paper's warm-up for ResNet-110 (Section 4.2): 0.01 instead of 0.1 until the
# training error is below 80 %, then back to 0.1.  Here it lasts a fixed number of
# epochs, so that the rate stays a function of the epoch and a resumed run repeats.
WARMUP_FACTOR = 0.1


def learning_rate(settings, epoch):
    if epoch < settings.warmup_epochs:
        return settings.lr * WARMUP_FACTOR
    drops = sum(epoch >= milestone for milestone in milestone_epochs(settings))
    return settings.lr * settings.lr_decay ** drops
