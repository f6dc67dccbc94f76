"""scripts/summary.py against the article's three printed tables, and its errors."""
import os
import subprocess
import sys

import pytest

from helpers import REPO, printed_totals, run_script, summarize
from summaries import HIDE_PADDLE

# The trainable split of current Paddle (BatchNorm weight and bias trainable) and
# the article's (Paddle 2.1: all BatchNorm tensors non-trainable).
ARTICLE_TABLES = [
    ('article_basic_block_64_128_s2.txt', ['--block', 'basic'],
     ('Trainable params: 230,144', 'Non-trainable params: 768'),
     ('Trainable params: 229,376', 'Non-trainable params: 1,536')),
    ('article_bottleneck_block_64_128_s2.txt', ['--block', 'bottleneck'],
     ('Trainable params: 24,192', 'Non-trainable params: 640'),
     ('Trainable params: 23,552', 'Non-trainable params: 1,280')),
    ('article_resnet50.txt', ['--layers', '50'],
     ('Trainable params: 25,557,032', 'Non-trainable params: 53,120'),
     ('Trainable params: 25,503,912', 'Non-trainable params: 106,240')),
]


@pytest.mark.parametrize('name, args, ours, articles', ARTICLE_TABLES)
def test_script_prints_the_articles_table(reference, name, args, ours, articles):
    result = run_script('summary.py', *args)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ''
    printed, expected = result.stdout.splitlines(), reference(name).splitlines()
    assert len(printed) == len(expected)
    differing = [i for i, (a, b) in enumerate(zip(printed, expected)) if a != b]
    assert [printed[i] for i in differing] == list(ours)
    assert [expected[i] for i in differing] == list(articles)


def test_tables_restart_their_numbering_and_repeat_byte_for_byte():
    first = summarize('--block', 'basic')
    summarize('--layers', '18', '--input-size', '32')
    second = summarize('--block', 'basic')
    assert first == second
    assert '   Conv2D-1     [[1, 64, 224, 224]]' in first


def test_default_is_resnet50():
    # ResNet-50's total, as the article prints it: 25,610,152.
    text = summarize()
    assert printed_totals(text)['total_params'] == 25_610_152
    assert 'BottleneckBlock-16' in text


def test_custom_input_and_head_reach_the_table():
    text = summarize('--layers', '18', '--input-size', '64', '96', '--num-classes', '10')
    rows = {line.split()[0]: line for line in text.splitlines()[3:-10]}
    assert '[[1, 3, 64, 96]]' in rows['Conv2D-1']
    assert '[[1, 512]]' in rows['Linear-1'] and '[1, 10]' in rows['Linear-1']
    assert printed_totals(text)['total_params'] == 11_699_112 - 1000 * 513 + 10 * 513


def test_block_options_reach_the_table():
    text = summarize('--block', 'bottleneck', '--in-channels', '256', '--out-channels', '256',
                     '--stride', '1', '--input-size', '56')
    # Inner width 64: three convs and three BNs (4 tensors each), no projection.
    assert printed_totals(text)['total_params'] == (256 * 64 + 9 * 64 * 64 + 64 * 256
                                                    + 4 * (64 + 64 + 256))
    assert 'Conv2D-4' not in text


@pytest.mark.parametrize('args, message', [
    (['--layers', '42'], '--layers 42 is not a ResNet depth; choose from 18, 34, 50, 101, 152'),
    (['--layers', 'abc'], '--layers abc is not a ResNet depth; choose from 18, 34, 50, 101, 152'),
    (['--arch', 'cifar_resnet20', '--num-classes', '0'], 'cifar_resnet20 always has one: give 1 to 100000'),
    (['--input-size', '0'], '--input-size 0 is out of range'),
    (['--input-size', '-5'], '--input-size -5 is out of range'),
    (['--input-size', '16'], 'each side must be from 32 to 1024'),
    (['--input-size', '1', '2', '3', '4'], '--input-size takes one, two or three integers'),
    (['--block', 'basic', '--stride', '3'], '--stride 3 is not a ResNet block stride; choose from 1, 2'),
    (['--block', 'foo'], '--block foo is not a block type; choose from basic, bottleneck'),
    (['--block', 'basic', '--input-size', '1'], 'each side must be from 2 to 1024'),
    (['--block', 'bottleneck', '--out-channels', '10'], 'give a multiple of 4'),
    (['--arch', 'resnet42'], '--arch resnet42 is not known; choose from resnet18,'),
    (['--num-classes', '-1'], '--num-classes -1 is out of range'),
    (['--stride', '2'], '--stride goes with --block only'),
    (['--layers', '50', '--block', 'basic'], 'not allowed with argument --layers'),
    (['--colour'], 'unrecognized arguments: --colour'),
])
def test_bad_input_is_one_line_and_exit_code_2(args, message):
    result = run_script('summary.py', *args)
    assert result.returncode == 2
    assert result.stdout == ''
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith('summary.py: error: ')
    assert message in result.stderr
    assert 'Traceback' not in result.stderr


def test_help_explains_the_trainable_difference():
    result = run_script('summary.py', '--help')
    assert result.returncode == 0
    text = ' '.join(result.stdout.split())
    assert '230,144 / 768 here, 229,376 / 1,536 there' in text
    assert 'Paddle 2.1' in text


def test_a_script_without_paddle_is_one_line_and_exit_code_2(tmp_path):
    # A user who forgot `pip install -r requirements.txt`: Paddle is hidden from the
    # script's Python (by the same finder as tests/paddleinfo/test_package.py), and the
    # first import that needs it would be a traceback.
    (tmp_path / 'sitecustomize.py').write_text(HIDE_PADDLE)
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(tmp_path), str(REPO)])}
    done = subprocess.run([sys.executable, str(REPO / 'scripts' / 'summary.py'), '--layers', '50'],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert (done.returncode, done.stdout) == (2, '')
    assert done.stderr == (f'summary.py: error: PaddlePaddle is not installed for {sys.executable}; '
                           'install the requirements first: pip install -r requirements.txt\n')
