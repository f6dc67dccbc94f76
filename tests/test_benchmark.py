"""scripts/benchmark.py: how it times and what it computes, and its errors.

No test here times anything: the figures belong to the README's Speed section.
tests/test_readme.py runs the quick benchmark command shown there.
"""
import pytest

from conftest import run_script
from resnet_tools import benchmark


def test_runs_are_interleaved_after_the_warm_up():
    calls = []
    medians = benchmark.interleaved({'a': lambda: calls.append('a'),
                                     'b': lambda: calls.append('b')}, warmup=1, repeats=3)
    assert calls == ['a', 'b'] * 4
    assert set(medians) == {'a', 'b'} and all(m >= 0 for m in medians.values())


def test_a_row_gives_the_speed_and_the_multiply_adds_per_second():
    # 4,089,184,256 MACs: ResNet-50 v1.5 at 224x224 (torchvision publishes 4.09 GFLOPS).
    row = benchmark.row('x', 8, official=2.0, ours=0.5, macs=4_089_184_256, target=2.0)
    assert row['speed ours/official'] == 4.0
    assert row['official GMAC/s'] == pytest.approx(8 * 4.089184256 / 2.0)
    assert row['ours GMAC/s'] == pytest.approx(8 * 4.089184256 / 0.5)
    assert row['target'] == '>= 2: met'
    slower = benchmark.row('x', 1, official=1.0, ours=1.04, target=benchmark.EAGER_TARGET)
    assert slower['target'] == '>= 0.97: NOT met' and slower['ours GMAC/s'] is None


@pytest.mark.parametrize('args, message', [
    (['--batch-size', '0'], '--batch-size 0 is out of range: from 1 to 256'),
    (['--repeats', 'many'], '--repeats many is not an integer'),
    (['--warmup', '-1'], '--warmup -1 is out of range: from 0 to 1000'),
    (['--layers', '20'], '--layers 20 is not a ResNet depth; choose from 18, 34, 50, 101, 152'),
    (['--arch', 'resnet18', '--input-size', '31'], '--input-size 31 is out of range for resnet18'),
])
def test_bad_arguments_get_one_line(args, message):
    result = run_script('benchmark.py', *args)
    assert result.returncode == 2
    assert 'Traceback' not in result.stderr
    assert result.stderr.count('\n') == 1
    assert result.stderr.startswith(f'benchmark.py: error: {message}')
    assert result.stdout == ''
