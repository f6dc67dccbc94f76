"""The Python examples of docs/paddleinfo.md run, in a fresh process as a user runs them,
and print what the page shows under each (the ```text block that follows it)."""
import json
import re
import subprocess
import sys

from helpers import REPO

PAGES = ('docs/paddleinfo.md', 'docs/paddleinfo_zh-CN.md')
EXAMPLE = re.compile(r'^```python\n(.*?)^```\s*(?:```text\n(.*?)^```)?', re.MULTILINE | re.DOTALL)

# Runs each example from a file of its own (dy2static reads a forward()'s source, as
# it does from a notebook cell), one after the other in one process, and prints what
# each printed, as JSON.
DRIVER = '''
import contextlib, io, json, pathlib, runpy, sys
outputs = []
for path in sys.argv[1:]:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        runpy.run_path(path, run_name='__main__')
    outputs.append(printed.getvalue())
print(json.dumps(outputs))
'''


def examples(page):
    return EXAMPLE.findall((REPO / page).read_text(encoding='utf-8'))


def test_both_pages_show_the_same_examples():
    assert examples(PAGES[0]) == examples(PAGES[1]) and len(examples(PAGES[0])) >= 2


def test_the_examples_print_what_the_page_shows(tmp_path):
    paths = []
    for index, (code, _) in enumerate(examples(PAGES[0])):
        paths.append(tmp_path / f'example_{index}.py')
        paths[-1].write_text(code, encoding='utf-8')
    result = subprocess.run([sys.executable, '-c', DRIVER, *map(str, paths)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300,
                            env={'PYTHONPATH': str(REPO), 'PATH': '/usr/bin:/bin'}, check=False)
    assert result.returncode == 0, result.stderr
    # Paddle's own notice at `import paddle` (the examples import it) is not ours.
    ours = [line for line in result.stderr.splitlines()
            if 'No ccache found' not in line and 'warnings.warn(warning_message)' not in line]
    assert ours == []
    printed = json.loads(result.stdout)
    for (_, shown), output in zip(examples(PAGES[0]), printed):
        assert output == shown
