"""paddleinfo's Python API, paddleinfo.summary, on the kinds of networks Paddle users
write, built here with tiny sizes: every total against model.parameters() (and
paddle.summary's, where paddle.summary is right, its text byte for byte), every MAC count
against one worked out by hand, with the formula next to it; its arguments, formats and
one-line errors."""
import contextlib
import io
import itertools
import json
import math
import sys
import warnings

import numpy as np
import paddle
import pytest
from paddle import nn

from paddleinfo import FactoryError, ShapeError, UsageError, profile, summary
from paddleinfo.macs import MACS_CONVENTION
from paddleinfo.macs import CONVS, RNNS, TRANSPOSED_CONVS


def parameters(model):
    return sum(math.prod(p.shape) for p in model.parameters())


def trainable(model):
    return sum(math.prod(p.shape) for p in model.parameters()
               if p.trainable and not p.stop_gradient)


def built(factory):
    """The model as a user builds it, with layer names from 1 (as in a fresh process)."""
    with paddle.utils.unique_name.guard():
        return factory()


def paddle_summary(model, *args, **kwargs):
    """What paddle.summary prints (without its last blank line) and returns."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        totals = paddle.summary(model, *args, **kwargs)
    return printed.getvalue().rstrip('\n') + '\n', totals


# --- the networks ---------------------------------------------------------------------

class MLP(nn.Layer):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x):
        return self.net(x)


class LSTMClassifier(nn.Layer):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(50, 8)
        self.lstm = nn.LSTM(8, 16)
        self.fc = nn.Linear(16, 3)

    def forward(self, tokens):
        out, _ = self.lstm(self.embedding(tokens))
        return self.fc(out[:, -1])


class GRUClassifier(nn.Layer):
    """Two layers, both directions."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(8, 16, num_layers=2, direction='bidirect')
        self.fc = nn.Linear(32, 4)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.fc(out[:, -1])


class TextRNN(nn.Layer):
    """Token ids (int64) through an Embedding and a SimpleRNN."""

    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(100, 12)
        self.rnn = nn.SimpleRNN(12, 8)
        self.fc = nn.Linear(8, 2)

    def forward(self, tokens):
        _, last = self.rnn(self.embedding(tokens))
        return self.fc(last[0])


class SelfAttention(nn.Layer):
    """Attention written out with paddle.matmul."""

    def __init__(self, dim):
        super().__init__()
        self.qkv, self.out, self.dim = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim), dim

    def forward(self, x):
        q, k, v = paddle.split(self.qkv(x), 3, axis=-1)
        weights = nn.functional.softmax(paddle.matmul(q, k, transpose_y=True)
                                        / math.sqrt(self.dim), axis=-1)
        return self.out(paddle.matmul(weights, v))


class AttentionNet(nn.Layer):
    def __init__(self):
        super().__init__()
        self.attention = SelfAttention(16)
        self.norm = nn.LayerNorm(16)

    def forward(self, x):
        return self.norm(x + self.attention(x))


def transformer_encoder():
    layer = nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32, dropout=0.0)
    return nn.TransformerEncoder(layer, num_layers=2)


class AudioNet(nn.Layer):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv1D(1, 8, 9, stride=4), nn.ReLU(),
                                      nn.Conv1D(8, 16, 5, stride=2), nn.ReLU(),
                                      nn.AdaptiveAvgPool1D(1), nn.Flatten())
        self.fc = nn.Linear(16, 5)

    def forward(self, waveform):
        return self.fc(self.features(waveform))


class VideoNet(nn.Layer):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv3D(3, 4, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool3D(1)
        self.fc = nn.Linear(4, 2)

    def forward(self, clip):
        return self.fc(paddle.flatten(self.pool(nn.functional.relu(self.conv(clip))), 1))


class Generator(nn.Layer):
    """DCGAN's generator, from a 100-d latent vector to a 3x16x16 image."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2DTranspose(100, 32, 4, 1, 0), nn.BatchNorm2D(32), nn.ReLU(),
            nn.Conv2DTranspose(32, 16, 4, 2, 1), nn.BatchNorm2D(16), nn.ReLU(),
            nn.Conv2DTranspose(16, 3, 4, 2, 1), nn.Tanh())

    def forward(self, latent):
        return self.net(latent.reshape([latent.shape[0], 100, 1, 1]))


class UNet(nn.Layer):
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2D(1, 4, 3, padding=1)
        self.pool = nn.MaxPool2D(2)
        self.bottom = nn.Conv2D(4, 8, 3, padding=1)
        self.up = nn.Conv2DTranspose(8, 4, 2, stride=2)
        self.merge = nn.Conv2D(8, 4, 3, padding=1)
        self.head = nn.Conv2D(4, 2, 1)

    def forward(self, x):
        skip = nn.functional.relu(self.down(x))
        x = self.up(nn.functional.relu(self.bottom(self.pool(skip))))
        return self.head(nn.functional.relu(self.merge(paddle.concat([x, skip], axis=1))))


class TwoInputs(nn.Layer):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2D(3, 4, 3)
        self.meta = nn.Linear(5, 4)
        self.fc = nn.Linear(8, 2)

    def forward(self, image, features):
        x = paddle.flatten(nn.functional.adaptive_avg_pool2d(self.conv(image), 1), 1)
        return self.fc(paddle.concat([x, self.meta(features)], axis=1))


class ReturnsDict(nn.Layer):
    def __init__(self):
        super().__init__()
        self.logits, self.embedding = nn.Linear(6, 3), nn.Linear(6, 4)

    def forward(self, x):
        return {'logits': self.logits(x), 'embedding': self.embedding(x)}


class SharedLayer(nn.Layer):
    def __init__(self):
        super().__init__()
        self.block = nn.Linear(8, 8)

    def forward(self, x):
        return self.block(nn.functional.relu(self.block(x)))


class Frozen(nn.Layer):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1D(6))
        for p in self.backbone.parameters():
            p.stop_gradient = True
        self.head = nn.Linear(6, 2)

    def forward(self, x):
        return self.head(self.backbone(x))


class ViT(nn.Layer):
    """Patches of 4x4, a class token and position embedding created on the model itself."""

    def __init__(self):
        super().__init__()
        self.patches = nn.Conv2D(3, 16, 4, stride=4)
        self.cls_token = self.create_parameter([1, 1, 16])
        self.pos_embed = self.create_parameter([1, 5, 16])
        self.encoder = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0)
        self.norm = nn.LayerNorm(16)
        self.head = nn.Linear(16, 10)

    def forward(self, images):
        x = self.patches(images).flatten(2).transpose([0, 2, 1])
        cls = self.cls_token.expand([x.shape[0], 1, 16])
        x = self.encoder(paddle.concat([cls, x], axis=1) + self.pos_embed)
        return self.head(self.norm(x[:, 0]))


class EinsumNet(nn.Layer):
    def __init__(self):
        super().__init__()
        self.weight = self.create_parameter([6, 5])

    def forward(self, x):
        return paddle.einsum('bij,jk->bik', x, self.weight)


class TiedWeights(nn.Layer):
    """An autoencoder whose decoder shares the encoder's weight tensor."""

    def __init__(self):
        super().__init__()
        self.encoder, self.decoder = nn.Linear(8, 8), nn.Linear(8, 8)
        self.decoder.weight = self.encoder.weight

    def forward(self, x):
        return self.decoder(nn.functional.relu(self.encoder(x)))


class CellLoop(nn.Layer):
    """An LSTMCell stepped through the sequence by hand."""

    def __init__(self):
        super().__init__()
        self.cell = nn.LSTMCell(6, 10)

    def forward(self, x):
        state = None
        for step in range(x.shape[1]):
            out, state = self.cell(x[:, step], state)
        return out


class MatmulInForward(nn.Layer):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x, y):
        return paddle.matmul(self.fc(x), y, transpose_y=True)


def lstm_macs(inputs, hidden, steps, batch, layers=1, directions=1, gates=4):
    """gates x (input + hidden) x hidden per step, sequence, direction and layer; the
    input of layer 2 on is the hidden state of every direction below."""
    per_step = sum(((inputs if layer == 0 else hidden * directions) + hidden) * hidden
                   for layer in range(layers))
    return gates * per_step * steps * batch * directions


def encoder_layer_macs(batch, length, dim, ff, heads):
    # q, k, v and out projections: 4 x dim x dim per token; QK^T and AV: each
    # heads x length x length x (dim / heads); the feed-forward: 2 x dim x ff per token.
    return (batch * length * 4 * dim * dim + 2 * batch * heads * length * length * (dim // heads)
            + batch * length * 2 * dim * ff)


# (id, factory, summary() arguments, MACs by hand, paddle.summary right about the totals)
NETWORKS = [
    ('mlp', MLP, {'input_size': (None, 20)},
     20 * 64 + 64 * 10, True),
    ('lstm', LSTMClassifier, {'input_size': (2, 10), 'dtypes': 'int64'},
     lstm_macs(8, 16, steps=10, batch=2) + 2 * 16 * 3, True),
    ('gru_bidirectional_2_layers', GRUClassifier, {'input_size': (2, 6, 8)},
     lstm_macs(8, 16, steps=6, batch=2, layers=2, directions=2, gates=3) + 2 * 32 * 4, True),
    ('text_simple_rnn', TextRNN, {'input_size': (2, 5), 'dtypes': 'int64'},
     lstm_macs(12, 8, steps=5, batch=2, gates=1) + 2 * 8 * 2, True),
    # qkv 16 -> 48 and out 16 -> 16 per token, QK^T and AV 5 x 5 x 16 each.
    ('handwritten_attention', AttentionNet, {'input_size': (2, 5, 16)},
     2 * 5 * 16 * 48 + 2 * (2 * 5 * 5 * 16) + 2 * 5 * 16 * 16, True),
    ('transformer_encoder', transformer_encoder, {'input_size': (2, 5, 16)},
     2 * encoder_layer_macs(2, 5, 16, 32, 2), True),
    # Conv1D: out_channels x out_length x in_channels x kernel; 1,600 samples give
    # (1600 - 9) // 4 + 1 = 398, then (398 - 5) // 2 + 1 = 197.
    ('conv1d_audio', AudioNet, {'input_size': (2, 1, 1600)},
     2 * (8 * 398 * 1 * 9 + 16 * 197 * 8 * 5 + 16 * 5), True),
    # Conv3D: 4 x 8 x 16 x 16 outputs of 3 x 3^3 each.
    ('conv3d_video', VideoNet, {'input_size': (1, 3, 8, 16, 16)},
     4 * 8 * 16 * 16 * 3 * 27 + 4 * 2, True),
    # Transposed convs: every input value x out_channels x kernel.
    ('dcgan_generator', Generator, {'input_size': (2, 100)},
     2 * (100 * 32 * 16 + 32 * 4 * 4 * 16 * 16 + 16 * 8 * 8 * 3 * 16), True),
    ('unet', UNet, {'input_size': (1, 1, 16, 16)},
     4 * 256 * 9 + 8 * 64 * 36 + 8 * 64 * 4 * 4 + 4 * 256 * 72 + 2 * 256 * 4, True),
    ('two_inputs', TwoInputs, {'input_size': [(None, 3, 8, 8), (None, 5)]},
     4 * 6 * 6 * 27 + 5 * 4 + 8 * 2, True),
    ('returns_dict', ReturnsDict, {'input_size': (3, 6)},
     3 * (6 * 3 + 6 * 4), True),
    ('shared_layer', SharedLayer, {'input_size': (1, 8)},
     2 * 8 * 8, True),
    ('frozen_layers', Frozen, {'input_size': (4, 4)},
     4 * (4 * 6 + 6 * 2), True),
    # patches: 16 x 2 x 2 outputs of 3 x 4 x 4; one encoder layer on 5 tokens; the head.
    ('vit', ViT, {'input_size': (1, 3, 8, 8)},
     16 * 2 * 2 * 3 * 16 + encoder_layer_macs(1, 5, 16, 32, 2) + 16 * 10, False),
    # b x i x j x k for 'bij,jk->bik'.
    ('einsum', EinsumNet, {'input_size': (2, 3, 6)},
     2 * 3 * 6 * 5, False),
    # fc: 2 x 3 tokens x 4 x 4; the matmul: 2 x 3 x 5 outputs of K = 4.
    ('matmul_in_forward', MatmulInForward, {'input_size': [(2, 3, 4), (2, 5, 4)]},
     2 * 3 * 4 * 4 + 2 * 3 * 5 * 4, True),
    # The cell's two matmuls, 4 x 10 gates from 6 inputs and 10 hidden, at each of 7 steps.
    ('lstm_cell_loop', CellLoop, {'input_size': (3, 7, 6)},
     lstm_macs(6, 10, steps=7, batch=3), True),
    ('tied_weights', TiedWeights, {'input_size': (1, 8)},
     2 * 8 * 8, False),
]


@pytest.fixture(scope='module')
def results():
    """{id: (model, ModelStatistics)}: each network summarised once, as a user would."""
    out = {}
    for name, factory, arguments, _, _ in NETWORKS:
        model = built(factory)
        out[name] = model, summary(model, verbose=0, **arguments)
    return out


@pytest.mark.parametrize('name, macs', [(n[0], n[3]) for n in NETWORKS], ids=[n[0] for n in NETWORKS])
def test_totals_are_model_parameters_and_macs_the_hand_count(results, name, macs):
    model, result = results[name]
    assert result.total_params == result['total_params'] == parameters(model)
    assert result.trainable_params == result['trainable_params'] == trainable(model)
    assert result.macs == macs
    assert all(isinstance(value, int) for value in
               (result.total_params, result.trainable_params, result.macs))
    assert not result.eager      # traced, nothing run


@pytest.mark.parametrize('name', [n[0] for n in NETWORKS if n[4]])
def test_where_paddle_summary_is_right_its_text_is_ours(results, name):
    model, result = results[name]
    arguments = dict(next(n[2] for n in NETWORKS if n[0] == name))
    text, totals = paddle_summary(model, arguments.pop('input_size'), **arguments)
    assert totals['total_params'] == result.total_params
    assert totals['trainable_params'] == result.trainable_params
    assert result.render(view='paddle') == text


def test_where_paddle_summary_undercounts_a_note_says_what_it_leaves_out(results):
    model, result = results['vit']
    _, totals = paddle_summary(model, (1, 3, 8, 8))
    # The class token and the position embedding: 16 + 5 x 16.
    assert result.total_params - totals['total_params'] == 16 + 5 * 16
    ours = ' '.join(result.render(view='paddle').split())
    assert f'Total params: {parameters(model):,}' in ours
    assert 'leaves out 96 parameters' in ours and 'cls_token [1, 1, 16]' in ours
    assert 'pos_embed [1, 5, 16]' in ours


def test_a_tensor_shared_by_two_layers_is_counted_once(results):
    model, result = results['tied_weights']
    _, totals = paddle_summary(model, (1, 8))
    assert totals['total_params'] - result.total_params == 8 * 8
    assert 'counts 64 parameters twice' in ' '.join(result.render(view='paddle').split())


def test_rnn_layers_have_their_row(results):
    rows = {row.name: row for row in results['lstm'][1].rows}
    # 4 gates x (8 + 16) x 16 weights, and two biases of 4 x 16.
    assert rows['LSTM-1'].params == 4 * 16 * (8 + 16) + 2 * 4 * 16
    assert rows['LSTM-1'].macs == lstm_macs(8, 16, steps=10, batch=2)
    gru = {row.name: row for row in results['gru_bidirectional_2_layers'][1].rows}['GRU-1']
    assert gru.params == (2 * (3 * 16 * (8 + 16) + 2 * 3 * 16)
                          + 2 * (3 * 16 * (32 + 16) + 2 * 3 * 16))


def test_products_are_charged_to_the_layer_whose_forward_ran_them(results):
    rows = {row.name: row for row in results['handwritten_attention'][1].rows}
    assert rows['SelfAttention-1'].macs == 2 * (2 * 5 * 5 * 16)      # QK^T and AV
    assert rows['Linear-1'].macs == 2 * 5 * 16 * 48
    rows = {row.name: row for row in results['transformer_encoder'][1].rows}
    attention = [row for name, row in rows.items() if name.startswith('MultiHeadAttention')]
    assert [row.macs for row in attention] == [2 * 2 * 2 * 5 * 5 * 8] * 2


def test_products_outside_any_layer_are_in_the_total_and_a_note(results):
    _, result = results['matmul_in_forward']
    assert [row.macs for row in result.rows] == [2 * 3 * 4 * 4]
    assert any('120 in MatmulInForward.forward' in ' '.join(note.split())
               for note in result.notes)
    # A model without sublayers is its own row, as in paddle.summary.
    assert [(row.name, row.macs) for row in results['einsum'][1].rows] == [('EinsumNet-1', 180)]


def test_the_table_says_the_batch_and_the_inputs(results):
    text = str(results['two_inputs'][1])
    assert text.splitlines()[0] == 'TwoInputs, inputs [1, 3, 8, 8] float32, [1, 5] float32'
    assert 'Total MACs at batch 1: 3,924' in text
    assert 'Total MACs at batch 2: ' in str(results['lstm'][1])
    assert ' '.join(MACS_CONVENTION.split()) in ' '.join(text.split())


def test_macs_scale_with_the_batch():
    one = summary(built(LSTMClassifier), (1, 10), 'int64', verbose=0)
    eight = summary(built(LSTMClassifier), (8, 10), 'int64', verbose=0)
    assert eight.macs == 8 * one.macs and one.macs == lstm_macs(8, 16, 10, 1) + 16 * 3


def test_every_format(results):
    _, result = results['lstm']
    data = json.loads(result.render('json'))
    assert data['totals'] == {'macs': result.macs, 'non_trainable_params': 0,
                              'params': result.total_params,
                              'trainable_params': result.trainable_params}
    assert {tuple(sorted(row)) for row in data['rows']} == {(
        'formula', 'input_shape', 'layer', 'macs', 'non_trainable', 'output_shape', 'params',
        'trainable', 'trainable_params')}
    assert '| LSTM-1 ' in result.render('github') and '| LSTM-1 ' in result.render('markdown')
    assert result.render('csv').splitlines()[-1].startswith('total,,,2115,')
    depth = result.render(view='depth', depth=1)
    assert 'LSTM: lstm' in depth


def test_a_notebook_shows_the_table(results):
    _, result = results['mlp']

    class Printer:
        def __init__(self):
            self.texts = []

        def text(self, value):
            self.texts.append(value)

    printer = Printer()
    result._repr_pretty_(printer, False)
    assert printer.texts == [str(result)] and repr(result) == str(result)
    assert str(result).startswith('MLP, input [1, 20]\n')


def test_printing_at_the_call_can_be_turned_off(capsys):
    summary(built(MLP), (None, 20))
    assert capsys.readouterr().out.startswith('MLP, input [1, 20]\n')
    summary(built(MLP), (None, 20), verbose=0)
    assert capsys.readouterr().out == ''


def test_real_tensors_positional_and_keyword():
    model = built(TwoInputs)
    image, features = paddle.rand([2, 3, 8, 8]), paddle.rand([2, 5])
    positional = summary(model, input=[image, features], verbose=0)
    keywords = summary(model, input={'image': image, 'features': features}, verbose=0)
    assert positional.macs == keywords.macs == 2 * (4 * 6 * 6 * 27 + 5 * 4 + 8 * 2)
    assert summary(built(MLP), input=paddle.rand([3, 20]), verbose=0).macs == 3 * (20 * 64 + 64 * 10)


def test_a_factory_is_built_in_the_static_graph():
    result = summary(LSTMClassifier, (2, 10), 'int64', verbose=0)
    assert result.macs == lstm_macs(8, 16, steps=10, batch=2) + 2 * 16 * 3
    assert result.total_params == 400 + 4 * 16 * 24 + 2 * 64 + 16 * 3 + 3
    assert paddle.in_dynamic_mode()


class ReadsValues(nn.Layer):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        y = self.fc(x)
        return y[:, :int(y.argmax(axis=1).max().item()) + 1]     # the size is a value


def test_a_model_that_reads_values_runs_once_and_says_so():
    result = summary(built(ReadsValues), (2, 4), verbose=0)
    assert result.eager and result.macs == 2 * 4 * 4
    assert any('ran once in the dynamic graph' in ' '.join(note.split()) for note in result.notes)


class DropPathRates(nn.Layer):
    """The stochastic-depth rule of ConvNeXt (PaddleClas ppcls/arch/backbone/model_zoo/
    convnext.py) and many more: `[x.item() for x in paddle.linspace(0, rate, depth)]`
    in __init__, and a block's drop path only where its rate is above 0."""

    def __init__(self, depth=3, rate=0.1):
        super().__init__()
        rates = [x.item() for x in paddle.linspace(0, rate, depth)]
        self.blocks = nn.LayerList([nn.Sequential(nn.Linear(4, 4), nn.Dropout(p) if p > 0.
                                                  else nn.Identity()) for p in rates])

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return x


def test_a_factory_that_reads_values_as_it_builds_is_built_eagerly_and_traced():
    # It used to loop for ever: paddle.linspace's Value has no known length in the static
    # graph, and Python iterates it by indexing until an IndexError that never comes.  Its
    # __init__ needs the dynamic graph; its forward pass does not, so dy2static traces it.
    result = summary(DropPathRates, (2, 4), verbose=0)
    assert not result.eager and result.total_params == 3 * (4 * 4 + 4)
    assert result.macs == 3 * 2 * 4 * 4
    assert [row.name for row in result.rows] == [
        'Linear-1', 'Identity-1', 'Linear-2', 'Dropout-1', 'Linear-3', 'Dropout-2']
    assert paddle.in_dynamic_mode()


def test_a_value_of_unknown_length_cannot_be_iterated_in_the_static_graph():
    with profile.static_graph():
        known = list(itertools.islice(paddle.zeros([3]), 10))
        unknown = paddle.linspace(0, 1, 4)
        assert unknown.shape[0] < 0
        with pytest.raises(TypeError, match='unknown length'):
            list(itertools.islice(unknown, 10))   # at most 10: without the check, for ever
    assert len(known) == 3 and not hasattr(paddle.pir.Value, '__iter__')


@pytest.mark.parametrize('factory, arguments, message', [
    (LSTMClassifier, {'input_size': (2, 10)},
     'Embedding-1 takes integer token ids (int64 or int32), not float32 (its input is [2, 10])'),
    (GRUClassifier, {'input_size': (2, 8)},
     'GRU-1 takes a 3-D input [batch, time, 8 features], not 2-D [2, 8]'),
    (GRUClassifier, {'input_size': (2, 6, 5)}, 'GRU-1 takes 8 input features, not 5'),
    (TwoInputs, {'input_size': (None, 3, 8, 8)},
     ("TwoInputs.forward(image, features) cannot take the inputs [1, 3, 8, 8]: missing a "
      "required argument: 'features'")),
    (VideoNet, {'input_size': (1, 3, 16, 16)},
     'Conv3D-1 takes a 5-D input [batch, channels, depth, height, width], not 4-D [1, 3, 16, 16]'),
    (AudioNet, {'input_size': (1, 2, 1600)}, 'Conv1D-1 takes 1 input channels, not 2'),
    # 5 samples are fewer than the kernel's 9.
    (AudioNet, {'input_size': (1, 1, 5)}, 'Conv1D-1 would make an empty output of its input [1, 1, 5]'),
    (MLP, {'input_size': (1, 30)}, 'Linear-1 takes 20 input features, not 30 (its input is [1, 30])'),
])
def test_an_input_that_does_not_fit_is_one_line_naming_the_layer(factory, arguments, message):
    with pytest.raises(ShapeError) as raised:
        summary(built(factory), verbose=0, **arguments)
    assert str(raised.value).startswith(message) and '\n' not in str(raised.value)
    assert isinstance(raised.value, UsageError) and paddle.in_dynamic_mode()


@pytest.mark.parametrize('arguments, message', [
    ({'dtypes': 'int64'}, 'give input_size'),
    ({'input_size': (None, None, 20)}, 'only the batch, the first size, may be None or -1'),
    ({'input_size': (1, 0)}, 'every size must be at least 1'),
    ({'input_size': [(1, 20), 5]}, 'mixes sizes and shapes'),
    ({'input_size': [(1, 20)], 'dtypes': ['float32', 'int64']}, 'dtypes has 2 entries for 1 input'),
    ({'input_size': (1, 20), 'dtypes': 'float31'}, 'dtype float31 is not known'),
    ({'input_size': (1, 20), 'input': paddle.rand([1, 20])}, 'not both'),
    ({'input': [np.float32(1.0)]}, 'input[0] is a float32, not a paddle.Tensor'),
])
def test_bad_arguments_are_usage_errors(arguments, message):
    with pytest.raises(UsageError, match=message.replace('[', r'\[').replace('(', r'\(')):
        summary(built(MLP), verbose=0, **arguments)


@pytest.mark.parametrize('leave, message', [
    (lambda: sys.exit(0), 'it called sys.exit(0)'),
    (lambda: sys.exit('no model today'), "it called sys.exit('no model today')"),
])
def test_a_factory_that_calls_sys_exit_is_a_factory_error(leave, message):
    # Not a SystemExit, which would end the caller's program: the factory failed.
    with pytest.raises(FactoryError) as raised:
        summary(leave, (1, 20), verbose=0)
    assert str(raised.value) == message and isinstance(raised.value, UsageError)
    assert paddle.in_dynamic_mode()


def test_the_inputs_are_bound_by_cost_not_by_caps():
    # A 100-d latent, 1,600 samples and a 5-D clip: all taken (the networks above), and
    # a large input costs nothing to trace.
    result = summary(built(AudioNet), (64, 1, 160_000), verbose=0)
    assert result.batch_size == 64 and result.output_shape == [64, 5]


def test_the_model_is_left_as_it_was():
    model = built(LSTMClassifier)
    model.train()
    before = {name: p.numpy().copy() for name, p in model.named_parameters()}
    summary(model, (2, 10), 'int64', verbose=0)
    assert model.training and 'forward' not in model.__dict__
    assert all(np.array_equal(p.numpy(), before[name]) for name, p in model.named_parameters())
    out = model(paddle.zeros([2, 10], dtype='int64'))
    assert out.shape == [2, 3]


# Layers with weights that take the model's input: what the input "first meets".
WEIGHTED = CONVS + TRANSPOSED_CONVS + RNNS + (nn.Linear, nn.Embedding, nn.MultiHeadAttention)


def first_weighted_layer(result):
    """The first layer with weights that the forward pass called (a Conv2D for an image
    model, an Embedding for token ids ...), or None."""
    return next((layer for layer in result.order if isinstance(layer, WEIGHTED)), None)


def test_the_layer_the_input_first_meets(results):
    # What tells an image model (its input first meets a Conv2D) from the others.
    first = {name: type(first_weighted_layer(result.profile)).__name__
             for name, (_, result) in results.items()}
    assert first['unet'] == first['vit'] == first['two_inputs'] == 'Conv2D'
    assert first['lstm'] == first['text_simple_rnn'] == 'Embedding'
    assert (first['mlp'], first['conv1d_audio'], first['conv3d_video'], first['dcgan_generator'],
            first['gru_bidirectional_2_layers']) == ('Linear', 'Conv1D', 'Conv3D',
                                                     'Conv2DTranspose', 'GRU')


class WarnsItself(nn.Layer):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, x):
        warnings.warn('the model says so')
        return self.fc(x)


def test_only_paddles_warnings_are_silenced():
    with pytest.warns(UserWarning, match='the model says so'):
        summary(built(WarnsItself), (1, 2), verbose=0)


def test_a_factory_initialises_no_weight():
    # 4 layers, both directions, 256 wide: the trace makes the program and never runs
    # its startup part, so no parameter has a value anywhere.
    result = summary(lambda: nn.LSTM(256, 256, num_layers=4, direction='bidirect'),
                     (1, 50, 256), verbose=0)
    per_direction = 4 * 256 * (256 + 256) + 2 * 4 * 256
    upper = 4 * 256 * (512 + 256) + 2 * 4 * 256
    assert result.total_params == 2 * (per_direction + 3 * upper)
    parameters = result.profile.model.parameters()
    assert parameters and not any(isinstance(p, paddle.Tensor) for p in parameters)
    assert all(paddle.static.global_scope().find_var(p.name) is None for p in parameters)
    assert result.macs == lstm_macs(256, 256, steps=50, batch=1, layers=4, directions=2)


class Branches(nn.Layer):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(4, 4), nn.Linear(4, 8)

    def forward(self, x):
        if x.mean() > 0:            # dy2static would trace both branches
            x = self.a(x)
        return self.b(x)


def test_a_branch_on_a_value_is_the_branch_a_real_pass_takes():
    # zeros: the mean is 0, so only b runs: 2 x 4 x 8.
    result = summary(built(Branches), (2, 4), verbose=0)
    assert result.eager and result.macs == 2 * 4 * 8
    assert [row.name for row in result.rows] == ['Linear-2']


def test_dtypes_and_input_specs_as_paddle_takes_them():
    model = built(LSTMClassifier)
    macs = lstm_macs(8, 16, steps=10, batch=2) + 2 * 16 * 3
    for arguments in ({'input_size': (2, 10), 'dtypes': paddle.int64},
                      {'input_size': (2, 10), 'dtypes': np.int64},
                      {'input_size': [(2, 10)], 'dtypes': ['int64']},
                      {'input_size': paddle.static.InputSpec([None, 10], 'int64')},
                      {'input': paddle.zeros([2, 10], dtype='int64')}):
        result = summary(model, verbose=0, **arguments)
        assert result.macs == macs * result.batch_size // 2, arguments
        assert result.input_dtypes == ['int64']


def test_a_built_model_and_its_factory_give_the_same_summary():
    from paddle.vision import models
    factory = summary(models.mobilenet_v3_small, (1, 3, 64, 64), verbose=0)
    model = summary(built(models.mobilenet_v3_small), (1, 3, 64, 64), verbose=0)
    assert (model.macs, model.total_params) == (factory.macs, factory.total_params)
    assert model.render(view='paddle') == factory.render(view='paddle')
    assert model.render('json') == factory.render('json')


def test_memory_takes_each_value_at_its_dtype_and_is_in_the_json():
    # Linear(8, 8) in float64: 72 values of 8 bytes; the input [4, 8] of float64, 32 x 8;
    # the output [4, 8] twice (paddle.summary's gradient), at the model's 8 bytes.
    model = nn.Linear(8, 8)
    model.to(dtype='float64')
    result = summary(model, (4, 8), dtypes='float64', verbose=0)
    mb = 1024 ** 2
    assert result.memory['params'] == 72 * 8 / mb
    assert result.memory['input'] == 32 * 8 / mb
    assert result.memory['forward_backward'] == 2 * 32 * 8 / mb
    assert json.loads(result.render('json'))['memory_mb'] == result.memory
