"""scripts/benchmark.py: how it times and what it computes, and its errors.

No test here times anything: the figures belong to the Speed section of docs/export.md.
tests/test_readme.py runs the quick benchmark command shown there.
"""
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO, run_script
from resnet_tools import benchmark, export


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


def test_a_row_gives_each_sides_share_of_the_ceiling():
    # Ours at 8 x 4.089184256 / 0.5 = 65.43 GMAC/s against a ceiling of 80 GMAC/s.
    row = benchmark.row('x', 8, official=2.0, ours=0.5, macs=4_089_184_256, target=2.0,
                        ceiling=80.0)
    assert row['ours % of ceiling'] == pytest.approx(100 * 8 * 4.089184256 / 0.5 / 80)
    assert row['official % of ceiling'] == pytest.approx(100 * 8 * 4.089184256 / 2.0 / 80)
    assert benchmark.row('x', 8, 1.0, 1.0, target=1, ceiling=80.0)['ours % of ceiling'] is None
    assert benchmark.row('x', 8, 1.0, 1.0, macs=10**9, target=1)['ours % of ceiling'] is None


def inference_row(batch, ours_share):
    return {'run': 'Paddle Inference (exported)', 'batch': batch, 'ours % of ceiling': ours_share}


def test_the_ceiling_target_is_judged_at_the_largest_inference_batch():
    rows = [{'run': 'eager forward (eval)', 'batch': 8, 'ours % of ceiling': 95.0},
            inference_row(1, 85.0), inference_row(8, 79.9)]
    cores = benchmark.all_cores()
    verdict = benchmark.ceiling_verdict(rows, cores)
    assert verdict == ('Paddle Inference at batch 8: 79.9 % of the ceiling '
                       '(target >= 80 % with all cores, --threads 0: NOT met)')
    rows[-1] = inference_row(8, 80.0)
    assert benchmark.ceiling_verdict(rows, cores).endswith('--threads 0: met)')
    if cores > 1:
        assert benchmark.ceiling_verdict(rows, 1).endswith(
            f'met at 1 of {cores} cores; the target is for all cores)')
    assert benchmark.ceiling_verdict(rows[:1], cores) is None


def test_the_ceiling_is_n_cubed_over_the_median_time_of_the_product(monkeypatch):
    products = []

    def fake_interleaved(runs, warmup, repeats):
        assert list(runs) == ['ours', 'ceiling']
        products.append(runs['ceiling']())
        return {'ours': 1.0, 'ceiling': 0.25}
    monkeypatch.setattr(benchmark, 'interleaved', fake_interleaved)
    medians, ceiling = benchmark.with_ceiling({'ours': lambda: None}, 1, 3, size=64)
    assert medians == {'ours': 1.0}
    assert ceiling == pytest.approx(64 ** 3 / 0.25 / 1e9)
    # What was timed is the float32 matrix product itself.
    assert products[0].dtype == 'float32' and products[0].shape == (64, 64)
    rng = np.random.RandomState(export.SEED)
    a, b = (rng.standard_normal((64, 64)).astype('float32') for _ in range(2))
    assert np.array_equal(products[0], a @ b)


def test_zero_threads_means_every_core():
    assert benchmark.thread_count(0) == benchmark.all_cores() >= 1
    assert benchmark.thread_count(1) == 1


def test_the_blas_line_names_the_kernel_and_the_openblas_settings():
    info = {'prefix': 'libscipy_openblas', 'version': '0.3.31', 'architecture': 'Haswell',
            'threading_layer': 'pthreads', 'user_api': 'blas'}
    assert benchmark.describe_blas(info, environ={}) == (
        'libscipy_openblas 0.3.31, kernel Haswell, pthreads threading, '
        'no OPENBLAS_CORETYPE set')
    assert benchmark.describe_blas(info, environ={'OPENBLAS_CORETYPE': 'Sandybridge'}).endswith(
        'kernel Haswell, pthreads threading, OPENBLAS_CORETYPE=Sandybridge set')
    # numpy's own BLAS, as threadpoolctl finds it in this process.
    assert benchmark.numpy_blas()['user_api'] == 'blas'


def test_threads_reach_paddle_inference_and_the_dynamic_graph(tmp_path):
    # Config only checks that the model files exist; a predictor would read them.
    for name in (export.MODEL_FILE, export.PARAMS_FILE):
        (tmp_path / name).write_bytes(b'')
    assert export.inference_config(tmp_path, threads=2).cpu_math_library_num_threads() == 2
    assert export.inference_config(tmp_path).cpu_math_library_num_threads() == 1
    # In a fresh Python: the thread count is global to the process.
    script = ('import warnings; warnings.simplefilter("ignore"); import threadpoolctl; '
              'from resnet_tools import benchmark; benchmark.set_eager_threads(2); '
              'print(sorted(i["num_threads"] for i in threadpoolctl.threadpool_info() '
              'if i["prefix"] == "libiomp"))')
    result = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                            cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '[2]'


@pytest.mark.parametrize('args, message', [
    (['--batch-size', '0'], '--batch-size 0 is out of range: from 1 to 256'),
    (['--repeats', 'many'], '--repeats many is not an integer'),
    (['--warmup', '-1'], '--warmup -1 is out of range: from 0 to 1000'),
    (['--layers', '20'], '--layers 20 is not a ResNet depth; choose from 18, 34, 50, 101, 152'),
    (['--arch', 'resnet18', '--input-size', '31'], '--input-size 31 is out of range for resnet18'),
    (['--threads', '-1'], f'--threads -1 is out of range: from 0 to {benchmark.all_cores()}'),
    (['--threads', str(benchmark.all_cores() + 1)],
     f'--threads {benchmark.all_cores() + 1} is out of range: from 0 to {benchmark.all_cores()}'),
    (['--threads', 'all'], '--threads all is not an integer'),
])
def test_bad_arguments_get_one_line(args, message):
    result = run_script('benchmark.py', *args)
    assert result.returncode == 2
    assert 'Traceback' not in result.stderr
    assert result.stderr.count('\n') == 1
    assert result.stderr.startswith(f'benchmark.py: error: {message}')
    assert result.stdout == ''
