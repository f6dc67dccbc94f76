"""paddleinfo on real architectures of the model zoos: tests/paddleinfo/real/real_models.py
run in the venv of its own that tests/paddleinfo/real/install.sh makes (.zoo-venv), on a
few models of each library, built with random weights.  For each, paddleinfo's total
parameters must be the sum of numel over model.parameters(), on the built model and on a
factory, and its MACs the multiply-adds an independent count of one real eager forward
pass finds (tests/paddleinfo/real/counting.py).  Skipped where .zoo-venv is not there:
the zoo's libraries stay out of requirements.txt."""
import json
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / 'tests' / 'paddleinfo' / 'real' / 'real_models.py'
PYTHON = ROOT / '.zoo-venv' / 'bin' / 'python'

# A few of each library that paddleinfo traces in the static graph, from small CNNs to
# transformers with attention products made by functional matmuls; PicoDet's factory
# imports ppdet, and with it pyparsing, which reads the stack, while paddleinfo builds it.
MODELS = ['mobilenet_v3_small', 'shufflenet_v2_x0_5', 'PPLCNet_x1_0', 'ResNet50_vd',
          'DeiT_tiny_patch16_224', 'PPLiteSeg_STDC1', 'BERT', 'GPT', 'PicoDet_s']

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not PYTHON.exists(), reason='no .zoo-venv: run '
                       'tests/paddleinfo/real/install.sh to test on the model zoos'),
]


@pytest.fixture(scope='module')
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp('real') / 'table.md'
    done = subprocess.run([str(PYTHON), str(SCRIPT), '--only', *MODELS, '--out', str(out)],
                          capture_output=True, text=True, timeout=1800, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(out.with_suffix('.json').read_text()), out.read_text()


@pytest.mark.parametrize('name', MODELS)
@pytest.mark.parametrize('mode', ['built', 'factory'])
def test_params_and_macs_agree(results, name, mode):
    by_name, _ = results
    result = by_name[name]
    got = result.get(mode)
    assert got is not None and 'error' not in got, (result.get(f'{mode}_run'), got)
    assert got['params'] == result['parameters']['params']
    assert got['macs'] == result['count']['macs']


def test_the_table_fits_and_names_every_model(results):
    _, table = results
    assert all(len(line) <= 100 for line in table.splitlines())
    for name in MODELS:
        assert f'| {name} |' in table


def test_a_name_it_does_not_know_is_one_line_and_exit_2():
    done = subprocess.run([str(PYTHON), str(SCRIPT), '--only', 'NoSuchNet'],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        'real_models.py: no model named NoSuchNet (see --list)')
