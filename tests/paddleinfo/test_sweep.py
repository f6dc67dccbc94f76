"""Sweeps (paddleinfo.sweep, paddleinfo --batch-size 1,8,32 and --input 64,128:int64): one
table of the cost against a size, and its plot; and --time from the command."""
import json

import pytest
from paddle import nn

from paddleinfo import summary, sweep
from paddleinfo.errors import UsageError
from summaries import NETS, command, net, one_line_error


def mlp():
    return nn.Sequential(nn.Linear(20, 30), nn.ReLU(), nn.Linear(30, 5))


def test_a_batch_sweep_is_each_batch_s_summary():
    table = sweep(mlp, [(batch, 20) for batch in (1, 4, 16)], verbose=0)
    assert table.axis == 'batch' and [row.size for row in table.rows] == [1, 4, 16]
    for row, batch in zip(table.rows, (1, 4, 16)):
        alone = summary(mlp, (batch, 20), training=True, verbose=0)
        assert row.forward_macs == batch * (20 * 30 + 30 * 5) == alone.macs
        assert row.step_macs == alone.training.step_macs
        assert row.training_peak == alone.memory_estimate.training_peak
    # The parameters do not grow with the batch; the MACs do, in proportion.
    assert table.rows[2].forward_macs == 16 * table.rows[0].forward_macs


class Decoder(nn.Layer):
    """A decoder language model's shape: token ids in, a logit per token and word out."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(50, 16)
        self.mix = nn.Linear(16, 16)
        self.head = nn.Linear(16, 50)

    def forward(self, ids):
        return self.head(self.mix(self.embed(ids)))


def test_a_length_sweep_of_token_ids_gives_macs_per_token():
    table = sweep(Decoder, [(2, length) for length in (8, 16, 32)], 'int64', verbose=0)
    assert table.axis == 'length'
    assert [row.tokens for row in table.rows] == [16, 32, 64]
    # every token meets the two Linears: 16 x 16 + 16 x 50 multiply-adds
    assert {row.forward_macs // row.tokens for row in table.rows} == {16 * 16 + 16 * 50}
    assert 'MACs/token' in table.render()


@pytest.mark.parametrize('sizes, message', [
    ([(1, 20)], 'at least two'), ([(1, 20), (1, 20)], 'all the same'),
    ([(1, 20), (2, 21)], 'several change'), ((1, 20), 'list')])
def test_a_sweep_changes_exactly_one_size(sizes, message):
    with pytest.raises(UsageError, match=message):
        sweep(mlp, sizes, verbose=0)


def test_the_command_sweeps_the_batch_and_plots_it(capsys, tmp_path):
    plot = tmp_path / 'cost.png'
    code, out, err = command(capsys, net('mlp'), '--input', '20', '--batch-size', '1,8,32',
                             '--plot', plot, '--format', 'json')
    assert code == 0, err
    data = json.loads(out)
    assert [row['size'] for row in data['rows']] == [1, 8, 32]
    assert [row['forward_macs'] for row in data['rows']] == [b * (20 * 64 + 64 * 10)
                                                             for b in (1, 8, 32)]
    assert plot.read_bytes().startswith(b'\x89PNG')
    assert [path.name for path in tmp_path.iterdir()] == ['cost.png']
    # The same sweep draws the same bytes.
    first = plot.read_bytes()
    command(capsys, net('mlp'), '--input', '20', '--batch-size', '1,8,32', '--plot', plot)
    assert plot.read_bytes() == first


def test_the_command_sweeps_a_length_given_as_a_list(capsys):
    code, out, _ = command(capsys, net('text'), '--input', '32,64:int64', '--format', 'csv')
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith('size,') and [line.split(',')[0] for line in lines[1:]] == [
        '32', '64']


@pytest.mark.parametrize('args, message', [
    (['--batch-size', '1,1'], 'given twice'),
    (['--batch-size', '1,0'], 'out of range'),
    (['--batch-size', '2,4', '--macs'], 'a sweep has a table of its own'),
    (['--batch-size', '2,4', '--plot', 'cost.txt'], "the plot's format is its extension"),
    (['--batch-size', '2,4', '--plot', '/proc/cost.png'], 'cannot be written')])
def test_bad_sweeps_are_one_line(capsys, args, message):
    assert message in one_line_error(capsys, net('mlp'), '--input', '20', *args)


def test_two_lists_of_different_lengths_are_refused(capsys):
    err = one_line_error(capsys, net('two_inputs'), '--input', '3x32x32', '--input', '10,20,30',
                         '--batch-size', '1,2')
    assert 'not both' in err


def test_the_command_times_each_layer(capsys):
    code, out, err = command(capsys, net('cnn'), '--input', '1x28x28', '--batch-size', '4',
                             '--training', '--time', '--runs', '2', '--format', 'json')
    assert code == 0, err
    data = json.loads(out)
    assert [row['layer'] for row in data['rows']] == ['Conv2D-1', 'ReLU-1',
                                                      'AdaptiveAvgPool2D-1', 'Flatten-1',
                                                      'Linear-1']
    assert all(row['forward_s'] > 0 and row['backward_s'] is not None for row in data['rows'])
    assert data['timing']['runs'] == 2 and data['timing']['ceiling_gmacs'] > 0
    assert data['timing']['step_s'] > 0


def test_a_bad_plot_is_refused_before_the_work(capsys, tmp_path, monkeypatch):
    from paddleinfo import sweeps
    traced = []
    monkeypatch.setattr(sweeps, 'add_row', lambda *args: traced.append(args))
    err = one_line_error(capsys, net('mlp'), '--input', '20', '--batch-size', '1,2', '--plot',
                         tmp_path / 'missing' / 'cost.png')
    assert 'is not a folder here' in err and traced == []


def test_a_timed_sweep_of_token_ids_fits_100_columns(capsys, monkeypatch):
    monkeypatch.chdir(NETS.parents[2])     # the title names the model as it was given
    code, out, _ = command(capsys, 'docs/examples/nets.py:text', '--input', '64,128:int64',
                           '--time', '--runs', '1')
    assert code == 0 and max(map(len, out.splitlines())) <= 100
