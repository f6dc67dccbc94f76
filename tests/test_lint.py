"""ruff, with ruff.toml's rules (pycodestyle and pyflakes), finds nothing in the
repository: the README's test command runs the linter too."""
import subprocess
import sys

from helpers import REPO


def test_ruff_finds_nothing():
    result = subprocess.run([sys.executable, '-m', 'ruff', 'check', '--no-cache', '.'],
                            capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'All checks passed' in result.stdout


def test_ruff_reads_our_configuration(tmp_path):
    # A line of 111 columns is one too many; an unused import is found.
    (tmp_path / 'long.py').write_text('import os\n' + 'x = ' + '1' * 107 + '\n')
    result = subprocess.run([sys.executable, '-m', 'ruff', 'check', '--no-cache',
                             '--config', str(REPO / 'ruff.toml'), '--output-format', 'concise',
                             str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    found = sorted(line.split(': ')[1].split()[0] for line in result.stdout.splitlines()
                   if line.startswith(str(tmp_path)))
    assert found == ['E501', 'F401']
