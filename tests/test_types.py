"""The public API is typed, and the types hold: mypy, with mypy.ini (every function of
resnet/, resnet_tools/, paddleinfo/, scripts/ and hubconf.py annotated), finds nothing."""
import subprocess
import sys

from helpers import REPO


def mypy(*arguments):
    return subprocess.run([sys.executable, '-m', 'mypy', '--no-incremental', *arguments],
                          capture_output=True, text=True, cwd=REPO, timeout=600)


def test_mypy_finds_nothing():
    result = mypy('--config-file', str(REPO / 'mypy.ini'))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith('Success: no issues found')


def test_mypy_finds_a_function_without_types(tmp_path):
    # The check can fail: the same settings on a function that has no annotations.
    source = tmp_path / 'untyped.py'
    source.write_text('def area(width, height):\n    return width * height\n')
    result = mypy('--config-file', str(REPO / 'mypy.ini'), str(source))
    assert result.returncode == 1
    assert 'Function is missing a type annotation' in result.stdout
