"""Both READMEs stay true: the same commands, and every command shown runs.

Every `python scripts/...` line in a ```bash block of README.md or README_zh-CN.md
is run as a user would, from a scratch directory (so that an --output lands there,
not in the repository), and must exit with 0.  Where a ```text block follows a
one-command ```bash block directly, it is that command's output, byte for byte but
for the measured floating-point differences, whose last digits depend on the CPU's
oneDNN kernels.
The first block of each README is the install command and the second the test
command; those are compared, not run.
"""
import re
import shlex
import subprocess
import sys

import pytest

from conftest import REPO

READMES = ('README.md', 'README_zh-CN.md')
BASH_BLOCK = re.compile(r'^```bash\n(.*?)^```', re.MULTILINE | re.DOTALL)
OUTPUT_SHOWN = re.compile(r'^```bash\n(python scripts/[^\n]*)\n```\s*```text\n(.*?)^```',
                          re.MULTILINE | re.DOTALL)


def bash_blocks(name):
    return [block.strip() for block in BASH_BLOCK.findall((REPO / name).read_text(encoding='utf-8'))]


def script_commands(name):
    """Each `python scripts/...` line after the first two blocks, comments dropped."""
    commands = []
    for block in bash_blocks(name)[2:]:
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if words[:1] == ['python'] and len(words) > 1 and words[1].startswith('scripts/'):
                commands.append(tuple(words[1:]))
    return commands


def all_commands():
    return sorted({command for name in READMES for command in script_commands(name)})


def outputs_shown():
    """{command: the output a README shows for it}."""
    shown = {}
    for name in READMES:
        text = (REPO / name).read_text(encoding='utf-8')
        for command, output in OUTPUT_SHOWN.findall(text):
            shown.setdefault(tuple(shlex.split(command, comments=True)[1:]), set()).add(output)
    return shown


def test_the_two_commands_at_the_top_are_the_same_in_both():
    english, chinese = bash_blocks('README.md'), bash_blocks('README_zh-CN.md')
    assert english[:2] == chinese[:2]
    assert english[0].startswith('python3 -m venv .venv') and 'pip install -r requirements.txt' in english[0]


def test_the_test_command_is_what_ci_runs():
    ci = (REPO / '.ci' / 'run').read_text(encoding='utf-8').strip().splitlines()
    assert bash_blocks('README.md')[1] == ci[-1]


def test_both_readmes_show_the_same_script_commands():
    # A command changed in one README and not the other would fail here.
    assert sorted(script_commands('README.md')) == sorted(script_commands('README_zh-CN.md'))


def shown(name):
    """(the ```text and ```python blocks, the heading levels) of a README."""
    text = (REPO / name).read_text(encoding='utf-8')
    blocks = re.findall(r'^```(?:text|python)\n(.*?)^```', text, re.MULTILINE | re.DOTALL)
    prose = re.sub(r'^```.*?^```', '', text, flags=re.MULTILINE | re.DOTALL)
    headings = [line.split(' ', 1)[0] for line in prose.splitlines() if line.startswith('#')]
    return blocks, headings


def test_both_readmes_show_the_same_excerpts_and_sections():
    # The article's table, the outputs and the code read the same in any language:
    # every ```text and ```python block, in the same order, and as many sections.
    # The last block is the layout, whose explanations are translated: its file
    # names must agree.
    (english, english_headings), (chinese, chinese_headings) = shown('README.md'), shown('README_zh-CN.md')
    assert english[:-1] == chinese[:-1]
    assert [line.split()[0] for line in english[-1].splitlines()] == \
           [line.split()[0] for line in chinese[-1].splitlines()]
    assert english_headings == chinese_headings


def test_the_readmes_link_to_each_other():
    assert '](README_zh-CN.md)' in (REPO / 'README.md').read_text(encoding='utf-8')
    assert '](README.md)' in (REPO / 'README_zh-CN.md').read_text(encoding='utf-8')


def test_there_are_commands_to_run():
    scripts = {command[0] for command in all_commands()}
    assert {'scripts/summary.py', 'scripts/export.py', 'scripts/benchmark.py'} <= scripts
    assert ('scripts/export.py', '--layers', '50', '--output', 'exported/resnet50') in outputs_shown()


MEASURED = re.compile(r'(max\|diff\| |max\|logit\| |relative difference )[0-9.e+-]+')


def comparable(output):
    return MEASURED.sub(r'\1#', output)


def test_comparable_masks_only_the_measured_numbers():
    line = 'batches 1 and 4: max|diff| 0.00732, max|logit| 5034\nrelative difference 1.45e-06 (limit 1e-05)'
    assert comparable(line) == 'batches 1 and 4: max|diff| #, max|logit| #\nrelative difference # (limit 1e-05)'


@pytest.mark.parametrize('command', all_commands(), ids=' '.join)
def test_command_runs(command, tmp_path):
    result = subprocess.run([sys.executable, str(REPO / command[0]), *command[1:]],
                            capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert 'Traceback' not in result.stderr
    for output in outputs_shown().get(command, ()):
        assert comparable(result.stdout) == comparable(output)
