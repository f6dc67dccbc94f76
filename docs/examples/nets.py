"""Small networks of the kinds Paddle users write, for `paddleinfo FILE:function` (see
docs/paddleinfo.md).  Each function returns a paddle.nn.Layer; the docstring says the
input it takes, as --input gives it (the shape without the batch, then the dtype).
"""
import paddle
from paddle import nn


class LSTMClassifier(nn.Layer):
    def __init__(self, features=16, hidden=32, classes=4):
        super().__init__()
        self.lstm = nn.LSTM(features, hidden)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, sequence):
        steps, _ = self.lstm(sequence)
        return self.fc(steps[:, -1])


class TextClassifier(nn.Layer):
    def __init__(self, vocabulary=1000, width=32, classes=2):
        super().__init__()
        self.embedding = nn.Embedding(vocabulary, width)
        self.fc = nn.Linear(width, classes)

    def forward(self, ids):
        return self.fc(self.embedding(ids).mean(axis=1))


class ImageAndFeatures(nn.Layer):
    """Two inputs: an image and a vector of features, joined before the classifier."""

    def __init__(self, features=10, classes=2):
        super().__init__()
        self.conv = nn.Conv2D(3, 8, 3)
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.fc = nn.Linear(8 + features, classes)

    def forward(self, image, features):
        pooled = self.pool(self.conv(image)).flatten(1)
        return self.fc(paddle.concat([pooled, features], axis=1))


def transformer():
    """--input 64x512: a sequence of 64 vectors of 512, into the base Transformer's encoder
    (6 layers, 8 heads, a feed-forward of 2048): 18.9 million parameters."""
    layer = nn.TransformerEncoderLayer(d_model=512, nhead=8, dim_feedforward=2048)
    return nn.TransformerEncoder(layer, num_layers=6)


def lstm():
    """--input 50x16: 50 steps of 16 features."""
    return LSTMClassifier()


def text():
    """--input 128:int64: 128 token ids."""
    return TextClassifier()


def two_inputs():
    """--input 3x32x32 --input 10: an image and 10 features."""
    return ImageAndFeatures()


def cnn():
    """--input 1x28x28, or --input-size 1 28 28: a grey image."""
    return nn.Sequential(nn.Conv2D(1, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2D(1), nn.Flatten(),
                         nn.Linear(4, 2))


def mlp():
    """--input 20: 20 features."""
    return nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 10))


def audio():
    """--input 1x1600: 1,600 samples of one channel."""
    return nn.Sequential(nn.Conv1D(1, 8, 9, stride=4), nn.ReLU(), nn.AdaptiveAvgPool1D(1),
                         nn.Flatten(), nn.Linear(8, 4))


def video():
    """--input 3x8x32x32: 8 frames of 3x32x32."""
    return nn.Sequential(nn.Conv3D(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool3D(1),
                         nn.Flatten(), nn.Linear(4, 2))


def generator():
    """--input 100x1x1: a DCGAN-style generator of a 100-d latent vector."""
    return nn.Sequential(nn.Conv2DTranspose(100, 16, 4), nn.BatchNorm2D(16), nn.ReLU(),
                         nn.Conv2DTranspose(16, 3, 4, stride=2, padding=1), nn.Tanh())
