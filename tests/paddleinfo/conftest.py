"""The fixtures of paddleinfo's own tests (what they share otherwise is summaries.py).

These tests need paddleinfo, Paddle and docs/examples/nets.py, nothing of the ResNet
reproduction: they run after `pip install .` from a copy of tests/paddleinfo/ and
docs/examples/ alone (tests/paddleinfo/test_package.py does so).
"""
import textwrap
import warnings

import pytest

# First, before any test module imports paddle: Paddle's notice at import that ccache is
# missing is about Paddle's setup, not about anything a test checks.
with warnings.catch_warnings():
    warnings.filterwarnings('ignore', message='No ccache found')
    import paddle  # noqa: F401

# A user's own network file, for `paddleinfo my_net.py:build` and its mistakes.
NETWORK = '''
from paddle import nn

SIZE = 3

def build(classes=10):
    return nn.Sequential(nn.Conv2D(1, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2D(1),
                         nn.Flatten(), nn.Linear(8, classes))

def not_a_layer():
    return [1, 2]

def fixed():
    return nn.Sequential(nn.Conv2D(3, 4, 3), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))

def three_channels():
    return nn.Conv2D(3, 8, 3)

def needs_arguments(classes):
    return nn.Linear(4, classes)
'''


@pytest.fixture
def network_file(tmp_path):
    """my_net.py, a user's file of network factories (NETWORK above), in a fresh folder."""
    path = tmp_path / 'my_net.py'
    path.write_text(textwrap.dedent(NETWORK), encoding='utf-8')
    return path
