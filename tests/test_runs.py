"""A training run as a network again: networks.load_run, and export.py --run."""
import json

import numpy as np
import paddle
import pytest

import resnet
from helpers import load_script
from resnet_tools import training, weights
from resnet_tools.errors import UsageError
from resnet_tools.paper import networks
from resnet_tools.training import checkpoints, data


@pytest.fixture(scope='module')
def digits_run(tmp_path_factory):
    """cifar_resnet20 trained for one epoch on 32 digits (1 channel, 8x8, 10 classes)."""
    output = tmp_path_factory.mktemp('runs') / 'digits'
    networks.train_network('cifar_resnet20', data.digits(32, 16),
                           training.Settings(epochs=1, batch_size=16), str(output),
                           report=lambda line: None)
    return output


def test_load_run_builds_the_runs_network_with_its_weights(digits_run, no_unpickling):
    run = networks.load_run(digits_run)
    model = run.model
    assert run.network == networks.Network('cifar_resnet20', in_channels=1, num_classes=10,
                                           shortcut='A', image_size=(8, 8))
    assert run.epoch == 1
    assert isinstance(model, resnet.CifarResNet) and not model.training
    assert model.conv.weight.shape == [16, 1, 3, 3] and model.fc.weight.shape == [64, 10]
    saved = checkpoints.load(str(digits_run)).model
    assert all(np.array_equal(value.numpy(), saved[key]) for key, value in model.state_dict().items())
    assert training.weights_digest(model.state_dict()) == training.weights_digest(saved)
    assert no_unpickling == []


def test_a_digits_checkpoint_in_a_3_channel_net_names_the_likely_cause(digits_run):
    path = checkpoints.current_directory(str(digits_run)) + '/' + checkpoints.MODEL_FILE
    with pytest.raises(weights.WeightsError) as refused:
        weights.load_weights(resnet.build('cifar_resnet20'), path)
    message = str(refused.value)
    assert 'shape mismatch for conv.weight: [16, 1, 3, 3] in the file, [16, 3, 3, 3]' in message
    assert 'built with in_channels=1 (a run on the 1-channel digits?)' in message
    assert 'resnet_tools.paper.load_run(DIR)' in message
    # With the run's options it loads.
    model = resnet.build('cifar_resnet20', in_channels=1)
    weights.load_weights(model, path)
    assert model.conv.weight.shape[1] == 1


def test_the_classes_are_named_too():
    state = resnet.build('cifar_resnet20', num_classes=7).state_dict()
    with pytest.raises(weights.WeightsError, match=r'built with num_classes=7: build it so'):
        weights.load_weights(resnet.build('cifar_resnet20'), state)


def test_load_run_refuses_a_directory_without_a_checkpoint_or_damaged(digits_run, tmp_path):
    with pytest.raises(UsageError, match='holds no checkpoint'):
        networks.load_run(tmp_path)
    with pytest.raises(UsageError, match='is not a directory'):
        networks.load_run(tmp_path / 'nowhere')
    (tmp_path / 'model.pdparams').write_bytes(b'not loaded')
    with pytest.raises(UsageError, match='earlier, pickled format'):
        networks.load_run(tmp_path)
    manifest = json.loads((digits_run / checkpoints.MANIFEST).read_text())
    manifest['epoch'] = 5
    damaged = tmp_path / 'damaged'
    damaged.mkdir()
    (damaged / checkpoints.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(UsageError, match=rf'^--run {damaged}: .* does not match its own checksum'):
        networks.load_run(damaged)


def test_export_deploys_a_trained_run(digits_run, tmp_path, capsys):
    script = load_script('export.py')
    output = tmp_path / 'exported'
    with pytest.raises(SystemExit) as exit_:
        script.run(lambda: script.main(['--run', str(digits_run), '--output', str(output)]),
                   'export.py')
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert f'cifar_resnet20 (trained in {digits_run}, epoch 1): input [-1, 1, 8, 8], output [-1, 10]' in out
    assert 'relative difference 0 ' in out or 'OK' in out
    # The exported program answers as the trained network does.
    from resnet_tools.deploy import inference
    model = networks.load_run(digits_run).model
    images = np.random.RandomState(0).standard_normal((3, 1, 8, 8)).astype('float32')
    predictor = inference.Predictor(str(output))
    with paddle.no_grad():
        expected = model(paddle.to_tensor(images)).numpy()
    assert np.abs(predictor(images) - expected).max() <= 1e-5 * np.abs(expected).max()


def test_export_run_refuses_a_network_choice(digits_run, tmp_path, capsys):
    script = load_script('export.py')
    with pytest.raises(SystemExit) as exit_:
        script.run(lambda: script.main(['--run', str(digits_run), '--layers', '18',
                                        '--output', str(tmp_path / 'x')]), 'export.py')
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count('\n') == 1
    assert '--layers does not go with --run' in err
