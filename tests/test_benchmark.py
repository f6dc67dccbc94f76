"""scripts/benchmark.py: how it times and what it computes, and its errors.

No test here times anything: the figures belong to the Speed section of docs/export.md.
tests/test_readme.py runs the quick benchmark command shown there.
"""
import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from helpers import REPO, run_script
from resnet_tools.benchmarks import inference as benchmark
from resnet_tools.benchmarks import machine, memory as memory_benchmark, training as training_benchmark
from resnet_tools.deploy import export, inference


def test_runs_are_interleaved_after_the_warm_up():
    calls = []
    medians = machine.interleaved({'a': lambda: calls.append('a'),
                                     'b': lambda: calls.append('b')}, warmup=1, repeats=3)
    assert calls == ['a', 'b'] * 4
    assert set(medians) == {'a', 'b'} and all(m >= 0 for m in medians.values())


def test_a_row_gives_the_speed_and_the_multiply_adds_per_second():
    # 4,089,184,256 MACs: ResNet-50 v1.5 at 224x224 (torchvision publishes 4.09 GFLOPS).
    row = benchmark.row('x', 8, official=2.0, ours=0.5, macs=4_089_184_256, target=2.0)
    assert row.speed == 4.0
    assert row.official_gmac_per_s == pytest.approx(8 * 4.089184256 / 2.0)
    assert row.ours_gmac_per_s == pytest.approx(8 * 4.089184256 / 0.5)
    assert row.target == '>= 2: met'
    slower = benchmark.row('x', 1, official=1.0, ours=1.04, target=benchmark.EAGER_TARGET)
    assert slower.target == '>= 0.97: NOT met' and slower.ours_gmac_per_s is None


def test_a_row_gives_each_sides_share_of_the_ceiling():
    # Ours at 8 x 4.089184256 / 0.5 = 65.43 GMAC/s against a ceiling of 80 GMAC/s.
    row = benchmark.row('x', 8, official=2.0, ours=0.5, macs=4_089_184_256, target=2.0,
                        ceiling=80.0)
    assert row.ours_percent == pytest.approx(100 * 8 * 4.089184256 / 0.5 / 80)
    assert row.official_percent == pytest.approx(100 * 8 * 4.089184256 / 2.0 / 80)
    assert benchmark.row('x', 8, 1.0, 1.0, target=1, ceiling=80.0).ours_percent is None
    assert benchmark.row('x', 8, 1.0, 1.0, macs=10**9, target=1).ours_percent is None


def share_row(run, batch, ours_share):
    return dataclasses.replace(benchmark.row(run, batch, 1.0, 1.0, target=1), ours_percent=ours_share)


def inference_row(batch, ours_share):
    return share_row('Paddle Inference (exported)', batch, ours_share)


def test_the_ceiling_target_is_judged_at_the_largest_inference_batch():
    rows = [share_row('eager forward (eval)', 8, 95.0),
            inference_row(1, 85.0), inference_row(8, 79.9)]
    cores = machine.all_cores()
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

    def fake_interleaved(runs, warmup, repeats, pause):
        assert list(runs) == ['ours', 'ceiling'] and pause == 0.0
        products.append(runs['ceiling']())
        return {'ours': 1.0, 'ceiling': 0.25}
    monkeypatch.setattr(machine, 'interleaved', fake_interleaved)
    medians, ceiling = machine.with_ceiling({'ours': lambda: None}, 1, 3, size=64)
    assert medians == {'ours': 1.0}
    assert ceiling == pytest.approx(64 ** 3 / 0.25 / 1e9)
    # What was timed is the float32 matrix product itself.
    assert products[0].dtype == 'float32' and products[0].shape == (64, 64)
    rng = np.random.RandomState(export.SEED)
    a, b = (rng.standard_normal((64, 64)).astype('float32') for _ in range(2))
    assert np.array_equal(products[0], a @ b)


def test_a_pause_comes_before_each_timed_call_and_is_not_timed(monkeypatch):
    events = []
    monkeypatch.setattr(machine.time, 'sleep', lambda seconds: events.append(('sleep', seconds)))
    clock = iter(range(100))
    monkeypatch.setattr(machine.time, 'perf_counter', lambda: next(clock))
    medians = machine.interleaved({'a': lambda: events.append('a'), 'b': lambda: events.append('b')},
                                  warmup=1, repeats=2, pause=0.25)
    assert events == ['a', 'b'] + [('sleep', 0.25), 'a', ('sleep', 0.25), 'b'] * 2
    assert medians == {'a': 1, 'b': 1}      # each call is one tick; the sleeps take none


def test_zero_threads_means_every_core():
    assert machine.thread_count(0) == machine.all_cores() >= 1
    assert machine.thread_count(1) == 1


def test_the_blas_line_names_the_kernel_and_the_openblas_settings():
    info = {'prefix': 'libscipy_openblas', 'version': '0.3.31', 'architecture': 'Haswell',
            'threading_layer': 'pthreads', 'user_api': 'blas'}
    assert machine.describe_blas(info, environ={}) == (
        'libscipy_openblas 0.3.31, kernel Haswell, pthreads threading, '
        'no OPENBLAS_CORETYPE set')
    assert machine.describe_blas(info, environ={'OPENBLAS_CORETYPE': 'Sandybridge'}).endswith(
        'kernel Haswell, pthreads threading, OPENBLAS_CORETYPE=Sandybridge set')
    # numpy's own BLAS, as threadpoolctl finds it in this process.
    assert machine.numpy_blas()['user_api'] == 'blas'


def test_threads_reach_paddle_inference_and_the_dynamic_graph(tmp_path):
    # Config only checks that the model files exist; a predictor would read them.
    for name in (export.MODEL_FILE, export.PARAMS_FILE):
        (tmp_path / name).write_bytes(b'')
    assert inference.inference_config(tmp_path, threads=2).cpu_math_library_num_threads() == 2
    assert inference.inference_config(tmp_path).cpu_math_library_num_threads() == 1
    # In a fresh Python: the thread count is global to the process.
    script = ('import warnings; warnings.simplefilter("ignore"); import threadpoolctl; '
              'from resnet_tools.benchmarks import machine; machine.set_eager_threads(2); '
              'print(sorted(i["num_threads"] for i in threadpoolctl.threadpool_info() '
              'if i["prefix"] == "libiomp"))')
    result = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                            cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '[2]'


@pytest.mark.parametrize('args, message', [
    (['--batch-size', '0'], '--batch-size 0 is out of range: from 1 to 256'),
    (['--repeats', 'many'], '--repeats many is not an integer'),
    (['--warmup', '-1'], '--warmup -1 is out of range: from 0 to 1,000'),
    (['--layers', '20'], '--layers 20 is not a ResNet depth; choose from 18, 34, 50, 101, 152'),
    (['--arch', 'resnet18', '--input-size', '31'], '--input-size 31 is out of range for resnet18'),
    (['--threads', '-1'], f'--threads -1 is out of range: from 0 to {machine.all_cores()}'),
    (['--threads', str(machine.all_cores() + 1)],
     f'--threads {machine.all_cores() + 1} is out of range: from 0 to {machine.all_cores()}'),
    (['--threads', 'all'], '--threads all is not an integer'),
    (['--memory', '--batch-size', '2'], '--batch-size does not go with --memory, which measures '
                                        'its own networks, inputs and batches'),
    (['--memory', '--training'], '--training does not go with --memory: choose one'),
    (['--summaries', '--layers', '50'], '--layers does not go with --summaries, which times its '
                                        'own models and input'),
    (['--summaries', '--memory'], '--memory does not go with --summaries: choose one'),
])
def test_bad_arguments_get_one_line(args, message):
    result = run_script('benchmark.py', *args)
    assert result.returncode == 2
    assert 'Traceback' not in result.stderr
    assert result.stderr.count('\n') == 1
    assert result.stderr.startswith(f'benchmark.py: error: {message}')
    assert result.stdout == ''


def example_rows():
    return [benchmark.row('eager forward (eval)', 8, 1.82754, 1.79797, benchmark.EAGER_TARGET,
                          4_089_184_256, 82.76),
            benchmark.row('Paddle Inference (exported)', 8, 3.10574, 0.42692,
                          benchmark.INFERENCE_TARGET, 4_089_184_256, 89.24),
            benchmark.row('eager training step (SGD)', 8, 8.32429, 8.34579,
                          target=benchmark.EAGER_TARGET)]


def test_the_table_fits_100_columns():
    lines = benchmark.table(example_rows()).splitlines()
    assert max(map(len, lines)) <= 100
    assert lines[0].split('|')[1].strip() == 'run, batch' and 'Inference, 8' in lines[3]


def test_targets_are_judged_only_where_they_apply():
    rows = example_rows()
    cores = machine.all_cores()
    # ResNet-18 at 64x64: the targets are ResNet-50's at 224x224, batch 8.
    assert benchmark.target_lines(rows, 'resnet18', [64], 8, cores) == [
        'targets: set for resnet50 at 224x224, batch 8; not judged for this run']
    assert benchmark.target_lines(rows, 'resnet50', [224], 1, cores)[0].endswith(
        'not judged for this run')
    lines = benchmark.target_lines(rows, 'resnet50', [224, 224], 8, cores)
    assert lines[0] == 'target eager forward, batch 8: speed >= 0.97: met'
    assert lines[2] == 'target eager train step, batch 8: speed >= 0.97: met'
    assert lines[-1].startswith('Paddle Inference at batch 8: ')


def test_long_lines_of_text_are_wrapped_and_tables_are_not():
    text = 'word ' * 50
    table = '|' + '-' * 120 + '|'
    wrapped = machine.wrapped([text.strip(), table])
    assert all(len(line) <= 100 for line in wrapped[:-1]) and wrapped[-1] == table
    assert ' '.join(line.strip() for line in wrapped[:-1]) == text.strip()


def test_a_training_row_counts_three_forward_passes(monkeypatch):
    monkeypatch.setattr(machine, 'interleaved', lambda runs, warmup, repeats, pause:
                        {'step': 0.5, 'ceiling': 2.0})
    row = training_benchmark.training_throughput(lambda: None, macs=10 ** 9, batch=128, warmup=0,
                                        repeats=1)
    assert row['img/s'] == 256
    assert row['GMAC/s'] == pytest.approx(3 * 128 / 0.5)
    assert row['ceiling'] == pytest.approx(training_benchmark.TRAINING_CEILING_SIZE ** 3 / 2.0 / 1e9)


def test_nhwc_is_refused_for_option_a_and_runs_the_plain_net():
    import resnet
    with pytest.raises(ValueError, match='option A'):
        training_benchmark.to_channels_last(resnet.build('cifar_resnet20'))
    step, macs = training_benchmark.cifar_step('cifar_plain20', (1, 8, 8), batch=4, nhwc=True)
    step()
    # ResNet-20 on 32x32, by hand: the stem 32*32*16*27 = 442,368; stage 1, 6 convs of
    # 32*32*16*144 = 2,359,296 each; stages 2 and 3 the same per conv (a quarter of the
    # positions, four times the filters x inputs) but the first conv of each at half:
    # 6 + 5.5 + 5.5 = 17 conv-equivalents = 40,108,032; and the fc's 640: 40,551,040.
    # On 8x8 about a sixteenth of the convs' work.
    assert training_benchmark.cifar_step('cifar_resnet20', (3, 32, 32), batch=2)[1] == 40_551_040
    assert 0 < macs < 40_551_040 / 15


def test_the_memory_target_is_a_ratio_within_ten_percent():
    assert memory_benchmark.ratio(90, 100) == 0.9
    assert [memory_benchmark.verdict(value) for value in (0.9, 1.0, 1.1, 0.899, 1.101)] == \
        ['yes', 'yes', 'yes', 'NO', 'NO']


def test_the_memory_cases_are_named_once_per_network():
    assert memory_benchmark.cases_lines()[0] == 'ResNet-50 (3x224x224 float32) at batch 2 and 8'
    assert len(memory_benchmark.cases_lines()) == 3


def test_a_memory_case_is_measured_in_a_fresh_process_next_to_its_estimate():
    # The tiny MLP with SGD at batch 4, spawned: what is live after the step is exact on a
    # CPU (tests/paddleinfo/test_measure.py says why): the parameters (16*8 + 8 + 8*4 + 4
    # = 172 float32) and their gradients, the input (4 x 16 float32) and SGD's rate.
    text, rows = memory_benchmark.memory_report([memory_benchmark.Case('tiny MLP', 4, 'sgd')])
    row, = rows
    if row.device == 'cpu':
        assert row.at_rest == 2 * 172 * 4 + 4 * 16 * 4 + 4
    assert row.training_peak > row.at_rest and row.inference_peak < row.training_peak
    assert row.estimate.parameters == 172 * 4 and row.estimate.gradients == 172 * 4
    assert row.estimate.optimizer_state == 0
    lines = text.splitlines()
    assert max(map(len, lines)) <= 100
    machine_line = next(number for number, line in enumerate(lines) if line.startswith('machine: '))
    assert lines[machine_line + 1] == 'tiny MLP: Linear(16, 8), ReLU, Linear(8, 4)'
    peaks = next(line for line in lines if line.startswith('| tiny MLP'))
    cells = [cell.strip() for cell in peaks.strip('|').split('|')]
    assert cells[:3] == ['tiny MLP', '4', 'sgd']
    assert float(cells[5]) == pytest.approx(row.estimate.training_peak / row.training_peak, abs=5e-4)
    assert cells[6] in ('yes', 'NO')
    assert lines[-1].startswith('target: estimate / measured from 0.9 to 1.1: training peak '
                                f'{cells[6] == "yes":d} of 1 rows met, inference peak ')
