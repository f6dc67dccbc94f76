"""The READMEs and the pages under docs/ stay true: the same commands in both
languages, and every command shown runs.

A page pair is an English page and its Chinese twin: README.md and README_zh-CN.md,
and docs/NAME.md and docs/NAME_zh-CN.md for every page under docs/.  Every
`python scripts/...` line in a ```bash block of any of them is run as a user would,
from a scratch directory (so that an --output lands there, not in the repository),
and must exit with 0.  Where a ```text block follows a one-command ```bash block
directly, it is that command's output, byte for byte but for the measured
floating-point differences, whose last digits depend on the CPU's oneDNN kernels.
The first block of each README is the install command and the second the test
command; those are compared, not run.
"""
import re
import shlex
import subprocess
import sys

import pytest

from helpers import REPO

README, README_ZH = 'README.md', 'README_zh-CN.md'
CONTRIBUTING = 'CONTRIBUTING.md'
ZH = '_zh-CN'


def page_pairs():
    """[(English, Chinese)] as paths relative to the repository: the READMEs first."""
    english = sorted(path for path in (REPO / 'docs').glob('*.md') if not path.stem.endswith(ZH))
    return [(README, README_ZH)] + [(f'docs/{path.name}', f'docs/{path.stem}{ZH}.md') for path in english] + \
        [(CONTRIBUTING, f'CONTRIBUTING{ZH}.md')]


PAIRS = page_pairs()
PAGES = [name for pair in PAIRS for name in pair]
BASH_BLOCK = re.compile(r'^```bash\n(.*?)^```', re.MULTILINE | re.DOTALL)
OUTPUT_SHOWN = re.compile(r'^```bash\n((?:python scripts/|paddleinfo )[^\n]*)\n```\s*```text\n(.*?)^```',
                          re.MULTILINE | re.DOTALL)


def read(name):
    return (REPO / name).read_text(encoding='utf-8')


def bash_blocks(name):
    return [block.strip() for block in BASH_BLOCK.findall(read(name))]


def command_of(words):
    """('scripts/NAME.py', args...) of `python scripts/NAME.py args...`, ('paddleinfo',
    args...) of the paddleinfo command (run from the clone as python -m paddleinfo), or
    None for any other line."""
    if words[:1] == ['python'] and len(words) > 1 and words[1].startswith('scripts/'):
        return tuple(words[1:])
    if words[:1] == ['paddleinfo']:
        return tuple(words)
    return None


def script_commands(name):
    """Each `python scripts/...` and `paddleinfo ...` line of a page's ```bash blocks,
    comments dropped (after the first two blocks of a README, which are the install and
    test commands)."""
    commands = []
    for block in bash_blocks(name)[2 if name in (README, README_ZH) else 0:]:
        for line in block.splitlines():
            command = command_of(shlex.split(line, comments=True))
            if command:
                commands.append(command)
    return commands


def all_commands():
    return sorted({command for name in PAGES for command in script_commands(name)})


def outputs_shown():
    """{command: the outputs the pages show for it}."""
    shown = {}
    for name in PAGES:
        for command, output in OUTPUT_SHOWN.findall(read(name)):
            shown.setdefault(command_of(shlex.split(command, comments=True)), set()).add(output)
    return shown


def test_every_page_has_its_twin():
    for english, chinese in PAIRS:
        assert (REPO / chinese).is_file(), f'{english} has no Chinese twin {chinese}'
    orphans = ({f'docs/{path.name}' for path in (REPO / 'docs').glob(f'*{ZH}.md')}
               - {chinese for _, chinese in PAIRS})
    assert not orphans, f'Chinese pages without an English one: {sorted(orphans)}'
    assert len(PAIRS) >= 9   # the READMEs, the seven pages of the split and CONTRIBUTING


def test_the_two_commands_at_the_top_are_the_same_in_both():
    english, chinese = bash_blocks(README), bash_blocks(README_ZH)
    assert english[:2] == chinese[:2]
    assert english[0].startswith('python3 -m venv .venv') and 'pip install -r requirements.txt' in english[0]


def test_the_test_command_is_what_ci_runs():
    ci = (REPO / '.ci' / 'run').read_text(encoding='utf-8').strip().splitlines()
    assert bash_blocks(README)[1] == ci[-1]


def test_the_readmes_stay_short():
    # The way in is one screen of commands and a map, not the whole manual (issue 17).
    for name in (README, README_ZH):
        assert len(read(name).splitlines()) <= 250, name


@pytest.mark.parametrize('pair', PAIRS, ids=lambda pair: pair[0])
def test_both_languages_show_the_same_script_commands(pair):
    # A command changed in one language and not the other would fail here.
    english, chinese = pair
    assert sorted(script_commands(english)) == sorted(script_commands(chinese))


def shown(name):
    """(the ```text and ```python blocks, the heading levels) of a page."""
    text = read(name)
    blocks = re.findall(r'^```(?:text|python)\n(.*?)^```', text, re.MULTILINE | re.DOTALL)
    prose = re.sub(r'^```.*?^```', '', text, flags=re.MULTILINE | re.DOTALL)
    headings = [line.split(' ', 1)[0] for line in prose.splitlines() if line.startswith('#')]
    return blocks, headings


@pytest.mark.parametrize('pair', PAIRS, ids=lambda pair: pair[0])
def test_both_languages_show_the_same_excerpts_and_sections(pair):
    # The article's table, the outputs and the code read the same in any language:
    # every ```text and ```python block, in the same order, and as many sections.
    (english, english_headings), (chinese, chinese_headings) = map(shown, pair)
    if pair[0] == CONTRIBUTING:
        # The layout explains each file in the page's language: its file names must agree.
        layout = next(i for i, block in enumerate(english) if block.startswith('resnet/'))
        assert [line.split()[0] for line in english.pop(layout).splitlines()] == \
               [line.split()[0] for line in chinese.pop(layout).splitlines()]
    assert english == chinese
    assert english_headings == chinese_headings


@pytest.mark.parametrize('pair', PAIRS, ids=lambda pair: pair[0])
def test_the_twins_link_to_each_other(pair):
    english, chinese = pair
    assert '](' + chinese.rsplit('/', 1)[-1] + ')' in read(english)
    assert '](' + english.rsplit('/', 1)[-1] + ')' in read(chinese)


CJK = re.compile(r'[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]')


def test_chinese_paragraphs_do_not_break_between_characters():
    # A line break between two Chinese characters shows as a stray space in many browsers:
    # a Chinese paragraph is one line (issue 17).
    for _, chinese in PAIRS:
        prose = re.sub(r'^```.*?^```', '', read(chinese), flags=re.MULTILINE | re.DOTALL)
        lines = prose.split('\n')
        for line, following in zip(lines, lines[1:]):
            if line.strip() and following.strip():
                assert not (CJK.match(line.rstrip()[-1]) and CJK.match(following.lstrip()[0])), \
                    (f'{chinese}: a paragraph breaks between {line.rstrip()[-5:]!r} '
                     f'and {following.lstrip()[:5]!r}')


def layout_paths(block):
    """The paths CONTRIBUTING's layout block names: a name ending in / opens a folder for
    the lines indented under it."""
    paths, folders = set(), []
    for line in block.splitlines():
        name = line.split()[0]
        depth = (len(line) - len(line.lstrip(' '))) // 2
        folders[depth:] = []
        path = ''.join(folders) + name
        if name.endswith('/'):
            folders.append(name)
        paths.add(path)
    return paths


def test_the_layout_names_every_file_of_the_code():
    # A module added, moved or renamed must be drawn in CONTRIBUTING's layout...
    english, _ = shown(CONTRIBUTING)
    layout = layout_paths(next(block for block in english if block.startswith('resnet/')))
    code = [path.relative_to(REPO).as_posix() for folder in ('resnet', 'resnet_tools', 'paddleinfo',
                                                              'scripts', 'tests')
            for path in (REPO / folder).rglob('*.py')] + ['hubconf.py']
    missing = sorted(path for path in code if path not in layout)
    assert missing == []
    # ...and a file that is gone, out of it.
    gone = sorted(path for path in layout if path.endswith('.py') and not (REPO / path).is_file())
    assert gone == []
    assert layout_paths('a/\n  b.py  x\n  c/\n    d.py  y\ne.py  z\n') == {
        'a/', 'a/b.py', 'a/c/', 'a/c/d.py', 'e.py'}


def github_anchor(heading):
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces to '-'."""
    return re.sub(r'[^\w\- ]', '', heading.strip().lower()).replace(' ', '-')


def anchors(name):
    prose = re.sub(r'^```.*?^```', '', read(name), flags=re.MULTILINE | re.DOTALL)
    return {github_anchor(line.lstrip('#')) for line in prose.splitlines() if line.startswith('#')}


LINK = re.compile(r'\]\(([^)\s]+)\)|src="([^"]+)"')


def test_github_anchor_is_githubs():
    assert github_anchor(' Weights without pickle: `.safetensors`') == 'weights-without-pickle-safetensors'
    assert github_anchor(' 训练：Figure 6 的退化问题') == '训练figure-6-的退化问题'


@pytest.mark.parametrize('name', PAGES)
def test_every_link_leads_somewhere(name):
    # A page moved or a heading renamed would leave a dead link behind.
    here = (REPO / name).parent
    for match in LINK.finditer(read(name)):
        target = match.group(1) or match.group(2)
        if re.match(r'[a-z]+:', target):
            continue
        path, _, anchor = target.partition('#')
        file = (here / path).resolve() if path else REPO / name
        assert file.exists(), f'{name} links to {target}, which does not exist'
        if anchor and file.suffix == '.md':
            assert anchor in anchors(file.relative_to(REPO)), f'{name}: no heading #{anchor} in {path}'


def map_lines(name):
    """The README's map: {linked page: the command of its line}."""
    section = read(name).split('\n## ')[-1]
    lines = {}
    for line in section.splitlines():
        link = re.match(r'- \[[^]]+\]\(([^)]+)\)', line)
        if link:
            command = re.findall(r'`(python scripts/[^`]+)`', line)
            lines.setdefault(link.group(1), []).extend(command)
    return lines


def test_the_map_links_every_page_in_both_languages():
    english, chinese = map_lines(README), map_lines(README_ZH)
    for pages, readme in ((english, README), (chinese, README_ZH)):
        linked = {page.split('#')[0] for page in pages}
        for pair in PAIRS[1:]:
            page = pair[readme == README_ZH]
            assert page in linked, f'{readme} has no map line for {page}'
    assert [commands for commands in english.values()] == [commands for commands in chinese.values()]


def test_each_command_of_the_map_is_on_its_page():
    # The map gives one command per line; the page it links to explains (and the
    # tests run or show) that very command.
    for readme in (README, README_ZH):
        for page, commands in map_lines(readme).items():
            text = ' '.join(read(page.split('#')[0]).split())
            for command in commands:
                assert command in text, f'{readme}: `{command}` is not on {page}'


def test_there_are_commands_to_run():
    scripts = {command[0] for command in all_commands()}
    assert {'scripts/summary.py', 'scripts/export.py', 'scripts/benchmark.py', 'scripts/draw.py'} <= scripts
    assert ('scripts/export.py', '--layers', '50', '--output', 'exported/resnet50') in outputs_shown()


PADDLE_LOG = re.compile(r'^[IWEF]\d{4} \d\d:\d\d:\d\d', re.MULTILINE)
MEASURED = re.compile(r'(max\|diff\| |max\|logit\| |relative difference )[0-9.e+-]+')


def comparable(output):
    return MEASURED.sub(r'\1#', output)


def test_comparable_masks_only_the_measured_numbers():
    line = 'batches 1 and 4: max|diff| 0.00732, max|logit| 5034\nrelative difference 1.45e-06 (limit 1e-05)'
    assert comparable(line) == ('batches 1 and 4: max|diff| #, max|logit| #\n'
                                'relative difference # (limit 1e-05)')


def extras_of(command):
    """The optional extras (requirements-extras.txt) a command needs: export.py --format
    onnx converts with paddle2onnx and checks under ONNX Runtime.  Without them the
    command is one line and exit code 2 (tests/test_runtimes.py), so it is skipped."""
    pairs = list(zip(command, command[1:]))
    return ('paddle2onnx', 'onnxruntime') if ('--format', 'onnx') in pairs else ()


def test_extras_are_asked_only_by_the_onnx_export():
    assert extras_of(('scripts/export.py', '--arch', 'x', '--format', 'onnx')) == ('paddle2onnx',
                                                                                 'onnxruntime')
    assert extras_of(('scripts/export.py', '--format', 'paddle')) == ()
    assert extras_of(('scripts/benchmark.py', '--runtimes')) == ()   # leaves them out, says so


@pytest.mark.parametrize('command', all_commands(), ids=' '.join)
def test_command_runs(command, tmp_path):
    for module in extras_of(command):
        pytest.importorskip(module)
    if command[0] == 'paddleinfo':   # the installed command is python -m paddleinfo; its
        # paths are the clone's, and it writes nothing
        result = subprocess.run([sys.executable, '-m', 'paddleinfo', *command[1:]],
                                capture_output=True, text=True, timeout=600, cwd=REPO)
    else:
        result = subprocess.run([sys.executable, str(REPO / command[0]), *command[1:]],
                                capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert 'Traceback' not in result.stderr
    # Quiet by default: none of Paddle's warnings or C++ log lines (W1201 12:00:00 ...).
    assert 'Warning' not in result.stderr and not PADDLE_LOG.search(result.stderr), result.stderr
    for output in outputs_shown().get(command, ()):
        assert comparable(result.stdout) == comparable(output)
