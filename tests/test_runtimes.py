"""export.py --format onnx and --precision bf16, and benchmark.py --runtimes: what they
write, check and compute, and their errors.

The ONNX tests need the optional extras (requirements-extras.txt) and are skipped where
they are not installed; bf16 needs a CPU with bfloat16 instructions.  No test here times
anything: benchmark.py --runtimes's figures are docs/export.md's.
"""
import os
import sys

import numpy as np
import paddle
import pytest

import resnet
from helpers import load_script, run_script
from resnet_tools.benchmarks import runtimes
from resnet_tools.deploy import export, inference, onnx
from resnet_tools.deploy.inference import Agreement
from resnet_tools.errors import UsageError

SMALL = ['--layers', '18', '--input-size', '64', '--num-classes', '10']
needs_bf16 = pytest.mark.skipif(not inference.fast_bf16(), reason='no bfloat16 instructions')


def small_model():
    paddle.seed(export.SEED)
    model = resnet.resnet18(num_classes=10)
    model.eval()
    return model


def test_onnx_export_writes_model_onnx_checked_under_onnx_runtime(tmp_path):
    pytest.importorskip('paddle2onnx')
    pytest.importorskip('onnxruntime')
    output = tmp_path / 'onnx'
    result = run_script('export.py', *SMALL, '--format', 'onnx', '--output', output)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ''        # nothing of paddle2onnx's C++ or ONNX Runtime's logs
    lines = result.stdout.splitlines()
    assert lines[1].startswith(f'ONNX Runtime {onnx.version("onnxruntime")} on CPU (paddle2onnx '
                               f'{onnx.version("paddle2onnx")}, opset 13) vs the dynamic graph, '
                               f'batches 1 and 4: max|diff| ')
    assert lines[2].endswith('(limit 1e-05): OK')
    assert lines[3] == f'saved {output}/: model.onnx'
    assert sorted(os.listdir(tmp_path)) == ['onnx'] and os.listdir(output) == ['model.onnx']
    # The saved file, loaded anew, answers as the dynamic graph at another batch size.
    images = inference.random_images(3, (-1, 3, 64, 64), seed=3)
    got = onnx.OnnxRuntime(output / 'model.onnx')(images)
    expected = inference.eager(small_model(), images)
    assert got.shape == (3, 10)
    assert np.abs(got - expected).max() <= export.TOLERANCE * np.abs(expected).max()


def test_a_conversion_that_fails_is_one_line_and_saves_nothing(tmp_path, monkeypatch):
    paddle2onnx = pytest.importorskip('paddle2onnx')

    def fails(*args, **kwargs):      # as paddle2onnx does: it logs, then calls sys.exit
        print('[ERROR] Failed to convert PaddlePaddle model: no converter for pd_op.x.')
        sys.exit(-1)
    monkeypatch.setattr(paddle2onnx, 'export', fails)
    output = tmp_path / 'out'
    with pytest.raises(onnx.ConversionError, match=r'^paddle2onnx \S+ cannot convert this program: '
                                                   r'\[ERROR\] Failed to convert .*pd_op\.x\.$'):
        load_script('export.py').main([*SMALL, '--format', 'onnx', '--output', str(output)])
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize('missing', ['paddle2onnx', 'onnxruntime'])
def test_onnx_without_the_extras_names_the_setup_line(missing, tmp_path, monkeypatch):
    if missing == 'onnxruntime':    # the converter is asked for first: it must be there
        pytest.importorskip('paddle2onnx')
    monkeypatch.setitem(sys.modules, missing, None)       # import raises ImportError
    with pytest.raises(UsageError) as error:
        load_script('export.py').main([*SMALL, '--format', 'onnx', '--output', str(tmp_path / 'o')])
    assert str(error.value) == (f'--format onnx needs {missing}, an optional extra: '
                                f'python -m pip install -r requirements-extras.txt')
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize('args, message', [
    (['--format', 'onnx', '--precision', 'bf16'],
     '--precision bf16 is a mode of Paddle Inference (oneDNN); it does not go with --format onnx'),
    (['--format', 'tflite'], '--format tflite is not known; choose from paddle, onnx'),
    (['--precision', 'fp8'], '--precision fp8 is not known; choose from f32, bf16'),
])
def test_bad_format_or_precision_gets_one_line(args, message, tmp_path):
    result = run_script('export.py', *SMALL, *args, '--output', tmp_path / 'o')
    assert result.returncode == 2
    assert result.stderr.count('\n') == 1 and 'Traceback' not in result.stderr
    assert result.stderr.startswith(f'export.py: error: {message}')
    assert os.listdir(tmp_path) == []


def test_bf16_is_refused_on_a_cpu_without_bfloat16_instructions(tmp_path, monkeypatch):
    monkeypatch.setattr(export, 'fast_bf16', lambda: False)
    with pytest.raises(UsageError, match='^--precision bf16 needs a CPU with bfloat16 instructions '
                                         r'\(AVX512-BF16 or AMX\); this one has neither'):
        load_script('export.py').main([*SMALL, '--precision', 'bf16', '--output', str(tmp_path / 'o')])
    assert os.listdir(tmp_path) == []


@needs_bf16
def test_bf16_export_is_checked_in_f32_marked_bf16_and_prints_its_cost(tmp_path):
    output = tmp_path / 'bf16'
    result = run_script('export.py', '--layers', '18', '--input-size', '32', '--num-classes', '10',
                        '--precision', 'bf16', '--output', output)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].startswith('Paddle Inference on CPU (oneDNN on) vs the dynamic graph')
    assert lines[2].endswith('(limit 1e-05): OK')
    assert lines[3].startswith('bf16 cost against f32, on 64 generated images: top-1 agreement ')
    assert lines[4] == f'saved {output}/: model.json, model.pdiparams, precision.json'
    # Our Predictor runs it in bf16 by default, and it is not f32's answer.
    predictor = inference.Predictor(output)
    assert predictor.precision == 'bf16' and inference.Predictor(output, precision='f32').precision == 'f32'
    images = inference.random_images(4, (-1, 3, 32, 32), seed=4)
    bf16, f32 = predictor(images), inference.Predictor(output, precision='f32')(images)
    assert 0 < np.abs(bf16 - f32).max() < 0.05 * np.abs(f32).max()


def test_a_precision_file_that_names_no_precision_is_refused(tmp_path):
    (tmp_path / inference.PRECISION_FILE).write_text('{"precision": "int4"}')
    with pytest.raises(ValueError, match='names no precision of f32, bf16'):
        inference.saved_precision(tmp_path)
    (tmp_path / inference.PRECISION_FILE).write_text('[1, 2')
    with pytest.raises(ValueError, match='cannot be read'):
        inference.saved_precision(tmp_path)
    assert inference.saved_precision(tmp_path / 'none') == 'f32'


def test_agreement_counts_top1_and_the_largest_difference():
    expected = [np.array([[1.0, 2.0, 0.0], [5.0, 1.0, 0.0]]), np.array([[0.0, 0.0, 9.0]])]
    got = [np.array([[1.0, 1.5, 0.0], [0.5, 1.0, 0.0]]), np.array([[0.0, 0.0, 8.0]])]
    cost = inference.compare(expected, got)
    assert cost == Agreement(3, 100 * 2 / 3, 4.5, 9.0, 'generated images')
    line = export.cost_line(cost)
    assert line == ('bf16 cost against f32, on 3 generated images: top-1 agreement 66.7 %, '
                    'max|logit diff| 4.5 of max|logit| 9 (0.5 relative)')


def row(name, batch, ms, ort_ms, top1=100.0):
    cost = Agreement(256, top1, 0.5, 80.0)
    return runtimes.RuntimeRow(name, batch, ms, ort_ms / ms, 1.0, 1.0, 100.0, cost)


def test_the_goal_is_our_fastest_paddle_row_against_onnx_runtime_f32():
    rows = [row('Paddle Inference f32', 1, 40.0, 60.0), row('Paddle Inference bf16', 1, 50.0, 60.0),
            row('ONNX Runtime f32', 1, 60.0, 60.0), row('OpenVINO bf16', 1, 10.0, 60.0),
            row('Paddle Inference f32', 8, 500.0, 400.0), row('Paddle Inference bf16', 8, 250.0, 400.0,
                                                               top1=97.5),
            row('ONNX Runtime f32', 8, 400.0, 400.0)]
    assert runtimes.goal_lines(rows) == [
        'batch 1: fastest of ours Paddle Inference f32, 1.50 x ONNX Runtime f32 (goal >= 1: met)',
        'batch 8: fastest of ours Paddle Inference bf16, 1.60 x ONNX Runtime f32 (goal >= 1: met)',
        'bf16 against f32 under Paddle Inference: batch 1 0.80 x, batch 8 2.00 x; top-1 agreement '
        '100.0 % on 256 images, max|logit diff| 0.5 of 80: export.py --precision bf16 offers it']
    slower = [row('Paddle Inference f32', 8, 500.0, 400.0), row('ONNX Runtime f32', 8, 400.0, 400.0)]
    assert runtimes.goal_lines(slower) == [
        'batch 8: fastest of ours Paddle Inference f32, 0.80 x ONNX Runtime f32 (goal >= 1: NOT met)']
    table = runtimes.table(rows).splitlines()
    assert max(map(len, table)) <= 100
    assert '| Paddle Inference bf16 |       8 | 250.0 |     1.60 |' in table[7]
    assert runtimes.ceiling_line(rows) == ('ceiling GMAC/s, timed with the rows of each batch: '
                                          'batch 1 1.0, batch 8 1.0.')


def test_the_runtimes_run_one_table_of_every_runtime_at_both_batches(monkeypatch):
    # ResNet-18 at 32x32, one repeat: the rows, their ratios and their agreement, untimed.
    monkeypatch.setattr(runtimes, 'SETTLE', 0.0)
    result = runtimes.runtimes_benchmark('resnet18', (32,), warmup=0, repeats=1, threads=1,
                                         agreement_images=8)
    names = [r.name for r in result.rows]
    expected = ['Paddle Inference f32'] + (['Paddle Inference bf16'] if inference.fast_bf16() else [])
    if onnx.installed('paddle2onnx') and onnx.installed('onnxruntime'):
        expected.append('ONNX Runtime f32')
    assert names[:len(expected)] == expected and len(names) == 2 * len(set(names))
    assert [r.batch for r in result.rows] == [1] * len(set(names)) + [8] * len(set(names))
    assert len(set(names)) + len(result.left_out) == 5
    for r in result.rows:
        assert r.percent == pytest.approx(100 * r.gmac_per_s / r.ceiling_gmac_per_s)
        assert r.agreement.images == 8
        if r.name.endswith('f32'):          # every f32 runtime gives f32's classes
            assert r.agreement.top1_percent == 100.0
            assert r.agreement.max_diff <= 1e-4 * r.agreement.max_logit
        if 'ONNX Runtime f32' in names:
            assert r.vs_ort is not None
    reference = [r for r in result.rows if r.name == 'Paddle Inference f32']
    assert all(r.agreement.max_diff == 0 for r in reference)


def test_runtimes_without_the_extras_leave_them_out_with_the_setup_line(monkeypatch):
    monkeypatch.setattr(onnx, 'installed', lambda name: False)
    monkeypatch.setattr(runtimes, 'SETTLE', 0.0)
    result = runtimes.runtimes_benchmark('resnet18', (32,), warmup=0, repeats=1, threads=1,
                                         batches=(1,), agreement_images=8)
    assert [r.vs_ort for r in result.rows] == [None] * len(result.rows)
    why = 'paddle2onnx is not installed (python -m pip install -r requirements-extras.txt)'
    assert f'ONNX Runtime f32: {why}' in result.left_out
    assert f'OpenVINO f32: {why}' in result.left_out
    assert runtimes.goal_lines(result.rows)[0].endswith('no ONNX Runtime to compare with')


@pytest.mark.parametrize('args, message', [
    (['--runtimes', '--batch-size', '4'], '--batch-size does not go with --runtimes, which times '
                                          'batch 1 and 8'),
    (['--runtimes', '--training'], '--training does not go with --runtimes: choose one'),
    (['--runtimes', '--memory'], '--runtimes does not go with --memory: choose one'),
])
def test_bad_runtimes_arguments_get_one_line(args, message):
    result = run_script('benchmark.py', *args)
    assert result.returncode == 2 and result.stdout == ''
    assert result.stderr.count('\n') == 1 and result.stderr.startswith(f'benchmark.py: error: {message}')


@pytest.mark.slow      # trains a network first
@needs_bf16
def test_a_digits_run_exported_in_bf16_is_measured_on_the_digits_test_images(tmp_path):
    from resnet_tools import training
    from resnet_tools.paper import networks
    from resnet_tools.training import data
    run = tmp_path / 'run'
    networks.train_network('cifar_resnet20', data.digits(32, 16), training.Settings(epochs=1, batch_size=16),
                           str(run), report=lambda line: None)
    result = run_script('export.py', '--run', run, '--precision', 'bf16', '--output', tmp_path / 'out')
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[3].startswith(
        'bf16 cost against f32, on 359 digits test images: top-1 agreement ')
