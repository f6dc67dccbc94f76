"""What a training run is asked to do: the optimiser and the schedule (Settings), the
paper's by default (Section 4.2), and the learning rate of every epoch."""
from dataclasses import dataclass, field, fields
from typing import Any

from paddleinfo.arguments import check_range, flag_name, number


SEED_RANGE = (0, 2 ** 32 - 1)   # what numpy's and Paddle's generators take
# The paper's warm-up for ResNet-110 (Section 4.2): 0.01 instead of 0.1 until the
# training error is below 80 %, then back to 0.1.  Here it lasts a fixed number of
# epochs, so that the rate stays a function of the epoch and a resumed run repeats.
WARMUP_FACTOR = 0.1


@dataclass(frozen=True)
class Limits:
    """What a setting may be: its range (see paddleinfo.arguments.allowed_range), and
    the words of the range where they must say more."""
    low: float | None = None
    high: float | None = None
    above: bool = False
    below: bool = False
    allowed: str | None = None


@dataclass(frozen=True)
class Flag:
    """How a setting is given on a command line: one entry of each field's metadata, from
    which resnet_tools.cli makes the flag, its help and its check."""
    metavar: str
    help: str
    limits: Limits = Limits()


def setting(default: Any, metavar: str, help: str, **limits: Any) -> Any:
    """A field of Settings with its flag."""
    return field(default=default, metadata={'flag': Flag(metavar, help, Limits(**limits))})


@dataclass(frozen=True)
class Settings:
    """The optimiser and the schedule; the defaults are the paper's (Section 4.2).  Each
    field is also a flag of train.py, degradation.py and shortcuts.py (--lr-decay for
    lr_decay), with the help and the range given here."""
    epochs: int = setting(10, 'N', 'passes over the training images; the paper\'s 64k '
                                   'iterations of 128 CIFAR-10 images are 164 epochs', low=1)
    batch_size: int = setting(128, 'N', 'images per step, over all processes together', low=1)
    lr: float = setting(0.1, 'RATE', 'the starting learning rate', low=0, above=True)
    momentum: float = setting(0.9, 'M', 'SGD momentum', low=0, high=1, below=True)
    weight_decay: float = setting(1e-4, 'W', 'L2 weight decay on every parameter', low=0)
    # Fractions of the run where the rate drops.
    milestones: tuple[float, ...] = setting(
        (0.5, 0.75), 'FRACTION', 'where in the run the rate is multiplied by --lr-decay, as '
                                 'fractions of --epochs', low=0, high=1, above=True,
        allowed='each is a fraction of the run, above 0 and at most 1')
    lr_decay: float = setting(0.1, 'FACTOR', 'the factor at each milestone', low=0, high=1,
                              above=True)
    seed: int = setting(0, 'N', 'seeds the weights, the data order and the augmentation; a '
                                'CPU run repeats exactly', low=SEED_RANGE[0], high=SEED_RANGE[1],
                        allowed=f'from {SEED_RANGE[0]} to {SEED_RANGE[1]:,} (2^32 - 1)')
    # The first epochs at lr * WARMUP_FACTOR (off in the paper's default); up to the whole
    # run, so that a script's default warm-up allows --epochs 1.
    warmup_epochs: int = setting(0, 'N', f'train the first N epochs at {WARMUP_FACTOR:g} x --lr, '
                                         f'the paper\'s warm-up for ResNet-110', low=0)

    def check(self) -> 'Settings':
        """These settings, or a UsageError naming the first that is out of its range."""
        for item in fields(self):
            limits = item.metadata['flag'].limits
            values = getattr(self, item.name)
            for value in values if isinstance(values, tuple) else (values,):
                if isinstance(value, float):
                    number(flag_name(item.name), value)     # finite
                check_range(flag_name(item.name), value, limits.low, limits.high,
                            above=limits.above, below=limits.below, allowed=limits.allowed)
        check_range('--warmup-epochs', self.warmup_epochs, 0, self.epochs,
                    allowed=f'from 0 to --epochs ({self.epochs})')
        return self


def milestone_epochs(settings: Settings) -> list[int]:
    """The epochs (counted from 0) that start at a lower rate: 5 and 8 of 10."""
    return [int(fraction * settings.epochs + 0.5) for fraction in settings.milestones]


def learning_rate(settings: Settings, epoch: int) -> float:
    if epoch < settings.warmup_epochs:
        return settings.lr * WARMUP_FACTOR
    drops = sum(epoch >= milestone for milestone in milestone_epochs(settings))
    return settings.lr * settings.lr_decay ** drops
