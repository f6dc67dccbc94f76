"""`pip install .`: the package paddleinfo and its command, nothing else, and no Paddle;
and paddleinfo's own tests (tests/paddleinfo/) run against what pip installed, without
the ResNet reproduction.

The repository is copied and installed with pip into a folder of its own (`--target`,
without dependencies: they are this environment's), which is then the only place of
ours on the path, from a directory outside the clone.  It needs the clone (its
pyproject.toml): from a copy of tests/paddleinfo/ alone, these tests are skipped.
"""
import ast
import email.parser
import os
import pathlib
import shutil
import subprocess
import sys

import pytest
from summaries import HIDE_PADDLE

# The clone: tests/paddleinfo/ is two folders below it.
REPO = pathlib.Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not (REPO / 'pyproject.toml').is_file(),
                                reason=f'pip install . needs the source tree (pyproject.toml), '
                                       f'which is not at {REPO}')

# Left out of the copy: what a build or a test run leaves in a clone.
NOT_COPIED = shutil.ignore_patterns('.git', '.venv', '.zoo-venv', '__pycache__', '.pytest_cache', 'build',
                                    '*.egg-info', '.import_linter_cache', 'output', 'runs')


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """(the folder pip installed into, a directory outside the clone to run from)."""
    root = tmp_path_factory.mktemp('package')
    source, target = root / 'clone', root / 'site'
    shutil.copytree(REPO, source, ignore=NOT_COPIED)
    done = subprocess.run([sys.executable, '-m', 'pip', 'install', '--quiet', '--no-deps',
                           '--disable-pip-version-check', '--target', str(target), str(source)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    elsewhere = root / 'elsewhere'
    elsewhere.mkdir()
    return target, elsewhere


def run(installed, *command, without_paddle=False, timeout=120):
    """`command` from outside the clone, with only the installed package of ours on the path."""
    target, elsewhere = installed
    path = [str(target)]
    if without_paddle:
        hider = elsewhere / 'hider'
        hider.mkdir(exist_ok=True)
        (hider / 'sitecustomize.py').write_text(HIDE_PADDLE)
        path.insert(0, str(hider))
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join(path)}
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False,
                          cwd=elsewhere, env=env)


def metadata(target):
    dist_info, = target.glob('paddleinfo-*.dist-info')
    return email.parser.Parser().parsestr((dist_info / 'METADATA').read_text())


def test_pip_installs_paddleinfo_and_its_command_only(installed):
    target, _ = installed
    assert sorted(path.name for path in target.iterdir()) == [
        'bin', 'paddleinfo', f'paddleinfo-{metadata(target)["Version"]}.dist-info']
    assert sorted(path.name for path in (target / 'bin').iterdir()) == ['paddleinfo']
    installed_modules = {path.name for path in (target / 'paddleinfo').glob('*.py')}
    assert installed_modules == {path.name for path in (REPO / 'paddleinfo').glob('*.py')}


def test_the_dependencies_are_what_paddleinfo_imports_bounded_and_not_paddle(installed):
    target, _ = installed
    requires = metadata(target).get_all('Requires-Dist')
    names = {requirement.split('<')[0].split('>')[0].split('=')[0] for requirement in requires}
    assert all('>=' in requirement and '<' in requirement for requirement in requires), requires
    imported = set()
    for module in (REPO / 'paddleinfo').glob('*.py'):
        for node in ast.walk(ast.parse(module.read_text(encoding='utf-8'))):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split('.')[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split('.')[0])
    third_party = imported - set(sys.stdlib_module_names) - {'paddleinfo'}
    # Paddle is the user's choice (paddlepaddle or paddlepaddle-gpu), never a dependency.
    assert 'paddle' in third_party and not any('paddle' in name for name in names)
    assert names == third_party - {'paddle'}


def test_it_imports_from_any_directory(installed):
    target, _ = installed
    done = run(installed, sys.executable, '-c', 'import paddleinfo, resnet_tools')
    assert "No module named 'resnet_tools'" in done.stderr   # the clone is not on the path
    done = run(installed, sys.executable, '-c', 'import paddleinfo; print(paddleinfo.__file__)')
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(target / 'paddleinfo' / '__init__.py')
    # The README's promise: `from paddleinfo import summary` in any directory.
    done = run(installed, sys.executable, '-c',
               'import paddle; from paddleinfo import summary; '
               'result = summary(paddle.nn.Linear(20, 10), input_size=(None, 20), verbose=0); '
               'print(result.total_params, result.macs)')
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(20 * 10 + 10), str(20 * 10)]   # weight and bias; 20 x 10


@pytest.mark.parametrize('command', ['console', 'module'])
def test_the_command_runs_from_any_directory(installed, command):
    target, _ = installed
    start = ([str(target / 'bin' / 'paddleinfo')] if command == 'console'
             else [sys.executable, '-m', 'paddleinfo'])
    done = run(installed, *start, '--help')
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith('usage: paddleinfo')


def test_without_paddle_the_import_is_one_line_saying_so(installed):
    done = run(installed, sys.executable, '-c', 'import paddleinfo', without_paddle=True)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        'ImportError: paddleinfo needs PaddlePaddle, which is not installed here: pip install '
        'paddlepaddle (or paddlepaddle-gpu); paddleinfo leaves the choice to you')
    # The hider works: with it, Paddle itself cannot be imported either.
    done = run(installed, sys.executable, '-c', 'import paddle', without_paddle=True)
    assert "No module named 'paddle'" in done.stderr


@pytest.mark.parametrize('command', ['console', 'module'])
def test_without_paddle_the_command_is_one_line_and_exit_2(installed, command):
    target, _ = installed
    start = ([str(target / 'bin' / 'paddleinfo')] if command == 'console'
             else [sys.executable, '-m', 'paddleinfo'])
    done = run(installed, *start, 'resnet18', without_paddle=True)
    assert (done.returncode, done.stdout) == (2, '')
    assert done.stderr == ('paddleinfo: error: paddleinfo needs PaddlePaddle, which is not '
                           'installed here: pip install paddlepaddle (or paddlepaddle-gpu); '
                           'paddleinfo leaves the choice to you\n')


def test_paddleinfos_tests_run_without_the_reproduction(installed):
    # tests/paddleinfo/ and docs/examples/ copied outside the clone, in the same layout,
    # and paddleinfo's tests run with only the installed package of ours on the path: no
    # resnet, no resnet_tools, no scripts/, nothing else of tests/.  (All of them but this
    # file, which would install the package again from a clone that is not there.)
    _, elsewhere = installed
    for folder in ('tests/paddleinfo', 'docs/examples'):
        shutil.copytree(REPO / folder, elsewhere / folder, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns('__pycache__'))
    # Every test module imports there (collected), and a fair share of them runs: the
    # whole folder again would double its time in this suite.
    done = run(installed, sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
               '-n', '0', '--collect-only', 'tests/paddleinfo',
               '--ignore', 'tests/paddleinfo/test_package.py', timeout=300)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    collected = int(done.stdout.strip().splitlines()[-1].split()[0])
    assert collected > 400, done.stdout[-2000:]
    done = run(installed, sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
               '-n', '0', 'tests/paddleinfo/test_fallbacks.py', 'tests/paddleinfo/test_rules.py',
               'tests/paddleinfo/test_command.py', timeout=300)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    assert ' passed' in done.stdout and 'skipped' not in done.stdout, done.stdout[-2000:]
