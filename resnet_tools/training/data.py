"""Image classification data that needs no download, as numpy arrays.

`digits`: scikit-learn's handwritten digits (1,797 real 8x8 grey images, shipped
inside the package), split into training and test images once, with a fixed seed,
so that every run and every network sees the same split.

`cifar10`: the CIFAR-10 python archive the user has (cifar-10-python.tar.gz), read
without unpickling it (cifar_archive.py), with the augmentation of the paper's Section
4.2: 4 pixels of zero padding on each side, a random 32x32 crop and a random horizontal
flip, drawn anew every epoch.

Both are scaled to [0, 1] and have the per-pixel mean of the training images
subtracted (the paper's "per-pixel mean subtracted"), from training and test alike.
Nothing here knows which network will see the images.
"""
from dataclasses import dataclass

import numpy as np

from paddleinfo.arguments import choice
from resnet_tools.errors import UsageError
from resnet_tools.training.cifar_archive import read_cifar10

DATASETS = ('digits', 'cifar10')
# The fixed split of the digits: a fifth of them (359 images) for testing.
DIGITS_SPLIT_SEED = 0
DIGITS_TEST_FRACTION = 0.2
DIGITS_MAX_VALUE = 16     # the digits' pixels are counts from 0 to 16
CIFAR_PADDING = 4         # Section 4.2: "4 pixels are padded on each side"


@dataclass
class Data:
    """Training and test images (N, channels, height, width, float32) and labels (N, int64).

    `padding` > 0 turns on the random crop and flip of the training images.
    """
    name: str
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    num_classes: int
    padding: int = 0

    @property
    def in_channels(self) -> int:
        return self.train_images.shape[1]

    def describe(self) -> str:
        _, channels, height, width = self.train_images.shape
        augmentation = (f', random crop after {self.padding}-pixel padding and horizontal flip'
                        if self.padding else '')
        return (f'{self.name}: {len(self.train_labels)} training and {len(self.test_labels)} test '
                f'images, {channels}x{height}x{width}, {self.num_classes} classes, per-pixel mean '
                f'subtracted{augmentation}')

    def augmentation(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray] | None:
        """One epoch's random choices for every training image: crop offsets and flips."""
        count = len(self.train_labels)
        if not self.padding:
            return None
        return (rng.integers(0, 2 * self.padding + 1, size=(count, 2)),
                rng.random(count) < 0.5)

    def train_batch(self, indices: np.ndarray, positions: np.ndarray | None = None,
                    augmentation: tuple[np.ndarray, np.ndarray] | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
        """The training images `indices`, augmented with the choices at `positions`."""
        images = self.train_images[indices]
        if augmentation is not None:
            images = crop_and_flip(images, self.padding, augmentation[0][positions],
                                   augmentation[1][positions])
        return images, self.train_labels[indices]


def crop_and_flip(images: np.ndarray, padding: int, offsets: np.ndarray,
                  flips: np.ndarray) -> np.ndarray:
    """Zero-pad every image by `padding`, crop it back to its size at `offsets`, and
    mirror it left-right where `flips` is True."""
    height, width = images.shape[2:]
    padded = np.pad(images, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = np.empty_like(images)
    for i, ((top, left), flip) in enumerate(zip(offsets, flips)):
        crop = padded[i, :, top:top + height, left:left + width]
        out[i] = crop[:, :, ::-1] if flip else crop
    return out


def subtract_pixel_mean(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = train.mean(axis=0, keepdims=True, dtype=np.float64).astype(np.float32)
    return train - mean, test - mean


def limit(flag: str, images: np.ndarray, labels: np.ndarray,
          size: int | None) -> tuple[np.ndarray, np.ndarray]:
    """The first `size` images (all of them for None)."""
    if size is None:
        return images, labels
    if not 1 <= size <= len(labels):
        raise UsageError(f'{flag} {size} is out of range: the data have {len(labels)} such images')
    return images[:size], labels[:size]


def digits(train_size: int | None = None, test_size: int | None = None) -> Data:
    """scikit-learn's 8x8 digits, one channel, with the fixed seeded split."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (bunch.images / DIGITS_MAX_VALUE).astype(np.float32)[:, None]
    labels = bunch.target.astype(np.int64)
    order = np.random.default_rng(DIGITS_SPLIT_SEED).permutation(len(labels))
    test_count = round(len(labels) * DIGITS_TEST_FRACTION)
    test, train = order[:test_count], order[test_count:]
    train_images, train_labels = limit('--train-size', images[train], labels[train], train_size)
    test_images, test_labels = limit('--test-size', images[test], labels[test], test_size)
    train_images, test_images = subtract_pixel_mean(train_images, test_images)
    return Data('digits', train_images, train_labels, test_images, test_labels,
                num_classes=len(bunch.target_names))


# --- the CIFAR-10 python archive, read without unpickling --------------------------------

def cifar10(data_file: str | None, train_size: int | None = None,
            test_size: int | None = None) -> Data:
    """The CIFAR-10 archive: 50,000 training and 10,000 test images, 3x32x32."""
    if data_file is None:
        raise UsageError('--data cifar10 needs --data-file cifar-10-python.tar.gz '
                         '(the CIFAR-10 python archive; nothing is downloaded)')
    train, test = read_cifar10(data_file)
    train_images, train_labels = limit('--train-size', *train, train_size)
    test_images, test_labels = limit('--test-size', *test, test_size)
    train_images, test_images = subtract_pixel_mean(train_images.astype(np.float32) / 255,
                                                    test_images.astype(np.float32) / 255)
    return Data('cifar10', train_images, train_labels, test_images, test_labels,
                num_classes=10, padding=CIFAR_PADDING)


@dataclass(frozen=True)
class DataSource:
    """Which data a run reads, and how much of it: all that another process needs to read
    the same images (scripts/degradation.py's workers each read their own)."""
    name: str = 'digits'
    data_file: str | None = None
    train_size: int | None = None
    test_size: int | None = None

    def load(self) -> Data:
        """The images, split, scaled and mean-subtracted."""
        if choice('--data', self.name, DATASETS) == 'digits':
            if self.data_file is not None:
                raise UsageError('--data-file is for --data cifar10; the digits come with '
                                 'scikit-learn')
            return digits(self.train_size, self.test_size)
        return cifar10(self.data_file, self.train_size, self.test_size)
