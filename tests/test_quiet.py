"""Quiet by default: the Python snippets of the README and the docs pages, and the
scripts, print no Paddle warning the user did not ask for.

Each runs in a fresh Python, outside pytest and its filterwarnings, with no
PYTHONWARNINGS, from a scratch directory with the repository on its path, as the
pages say to run them.  The Chinese pages show the same snippets (test_readme.py).
"""
import os
import re
import subprocess
import sys

import paddle
import pytest

from helpers import REPO

PAGES = ['README.md', *sorted(f'docs/{page.name}' for page in (REPO / 'docs').glob('*.md')
                              if not page.stem.endswith('_zh-CN'))]
PYTHON_BLOCK = re.compile(r'^```python\n(.*?)^```', re.MULTILINE | re.DOTALL)
WARNING = re.compile(r'\b\w*Warning\b|^[WE]\d{4} ', re.MULTILINE)
# Paddle's own notice at `import paddle` where ccache is not installed.  Our modules
# import paddle without it; a snippet that imports paddle itself first gets it from
# Paddle, as any program does.
CCACHE = re.compile(r'^\S+extension_utils\.py:\d+: UserWarning: No ccache found.*\n'
                    r'\s+warnings\.warn\(warning_message\)\n', re.MULTILINE)
OUR_MD5_WARNING = re.compile(r'^\S+: WeightsWarning: resnet50\.pdparams is named like Paddle\'s '
                             r'published weights, but its md5 is .*\n.*\n', re.MULTILINE)
OURS = re.compile(r'^(import|from) (resnet|blocks|configs|resnet_tools|paddleinfo|hubconf)\b',
                  re.MULTILINE)
RUN = re.compile(r"'(runs/\w+)'")
OWN_PADDLE = re.compile(r'^(import paddle|from paddle)\b', re.MULTILINE)


def snippets():
    found = []
    for page in PAGES:
        text = (REPO / page).read_text(encoding='utf-8')
        for number, code in enumerate(PYTHON_BLOCK.findall(text)):
            found.append(pytest.param(code, id=f'{page}#{number}'))
    return found


def first_import_is_paddles(code):
    own, ours = OWN_PADDLE.search(code), OURS.search(code)
    return own is not None and (ours is None or own.start() < ours.start())


def run_quietly(args, cwd, code=None):
    env = {key: value for key, value in os.environ.items()
           if key not in ('PYTHONWARNINGS', 'GLOG_minloglevel')}
    env['PYTHONPATH'] = os.pathsep.join([str(REPO), env.get('PYTHONPATH', '')]).rstrip(os.pathsep)
    return subprocess.run([sys.executable, *args], input=code, capture_output=True, text=True,
                          timeout=600, cwd=cwd, env=env)


def needs(code, directory):
    """Make in `directory` the files a snippet reads: a weights file, an exported model,
    a training run (a short one: cifar_resnet20, one epoch on 32 digits)."""
    for run in sorted(set(RUN.findall(code))):
        from resnet_tools import training
        from resnet_tools.paper import networks
        from resnet_tools.training import data
        networks.train_network('cifar_resnet20', data.digits(32, 16),
                               training.Settings(epochs=1, batch_size=16), str(directory / run),
                            report=lambda line: None)
    if 'resnet50.pdparams' in code:
        paddle.save(paddle.vision.models.resnet50().state_dict(), str(directory / 'resnet50.pdparams'))
    if 'exported/resnet50' in code:
        from resnet_tools.deploy import export
        export.export('resnet50', directory / 'exported' / 'resnet50')


@pytest.mark.parametrize('code', snippets())
def test_a_snippet_prints_no_warning(code, tmp_path):
    needs(code, tmp_path)
    code = code.replace('/path/to/this/repository', str(REPO))
    result = run_quietly(['-'], tmp_path, code)
    assert result.returncode == 0, result.stderr
    stderr = result.stderr
    if first_import_is_paddles(code):
        stderr = CCACHE.sub('', stderr, count=1)
    if 'resnet50.pdparams' in code:
        # Ours, and true: the file made here is not Paddle's published one.
        stderr = OUR_MD5_WARNING.sub('', stderr, count=1)
    assert WARNING.findall(stderr) == [], stderr
    assert stderr == ''


def test_our_modules_import_paddle_without_its_ccache_notice(tmp_path):
    # The notice is Paddle's when ccache is missing; where ccache is installed there is
    # nothing to hide, and the check still holds.
    result = run_quietly(['-c', 'import resnet\nimport paddle\n'
                                'resnet.resnet18()(paddle.rand([2, 3, 32, 32]))\n'
                                'resnet.build("cifar_resnet20")(paddle.rand([2, 3, 8, 8]))\n'
                                'resnet.resnet18().forward_features(paddle.rand([1, 3, 32, 32]))\n'
                                'resnet.BottleneckBlock(64, 128, 2)(paddle.rand([2, 64, 8, 8]))\n'],
                         tmp_path)
    assert result.returncode == 0 and result.stderr == ''


def test_the_same_in_paddle_warns_where_ours_does_not(tmp_path):
    # What the two tests above hold back: paddle.vision's network in training mode warns.
    result = run_quietly(['-c', 'import resnet\nimport paddle\n'
                                'paddle.vision.models.resnet18()(paddle.rand([2, 3, 32, 32]))\n'],
                         tmp_path)
    assert result.returncode == 0
    assert 'UserWarning: When training, we now always track global mean and variance' in result.stderr


def test_a_script_prints_no_warning(tmp_path):
    # Many tests check a script's empty stderr; this one also clears PYTHONWARNINGS.
    result = run_quietly([str(REPO / 'scripts' / 'summary.py'), '--stages', '--arch',
                          'cifar_resnet20'], tmp_path)
    assert result.returncode == 0 and result.stderr == ''
