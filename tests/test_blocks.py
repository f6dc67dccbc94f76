import paddle
import pytest

from resnet.blocks import BasicBlock, BottleneckBlock
from helpers import count_params


def test_basic_block_total_is_the_articles():
    # 230,912: the article's "Total params" for BasicBlock(64, 128, 2).
    assert count_params(BasicBlock(64, 128, 2)) == 230_912


def test_bottleneck_block_total_is_the_articles():
    # 24,832: the article's "Total params" for BottleneckBlock(64, 128, 2).
    assert count_params(BottleneckBlock(64, 128, 2)) == 24_832


@pytest.mark.parametrize('block_type', [BasicBlock, BottleneckBlock])
def test_shortcut_is_a_projection_only_where_the_shape_changes(block_type):
    assert block_type(64, 128, 1).down_sample_block is not None   # channels change
    assert block_type(128, 128, 2).down_sample_block is not None  # map halves
    assert block_type(128, 128, 1).down_sample_block is None      # identity fits


@pytest.mark.parametrize('block_type, out_channels, stride, expected', [
    (BasicBlock, 128, 2, [2, 128, 8, 8]),
    (BasicBlock, 64, 1, [2, 64, 16, 16]),
    (BottleneckBlock, 256, 2, [2, 256, 8, 8]),
    (BottleneckBlock, 64, 1, [2, 64, 16, 16]),
])
def test_block_output_shape(block_type, out_channels, stride, expected):
    block = block_type(64, out_channels, stride)
    assert block(paddle.rand([2, 64, 16, 16])).shape == expected


def test_identity_block_adds_its_input():
    # With the residual path's last BN scaled to zero, F(x) = 0 and the block
    # must return relu(x): the shortcut really is the identity.
    block = BasicBlock(8, 8, 1)
    block.eval()
    last_bn = block.conv_bn_block2[1]
    last_bn.weight.set_value(paddle.zeros_like(last_bn.weight))
    x = paddle.randn([1, 8, 5, 5])
    assert paddle.equal_all(block(x), paddle.nn.functional.relu(x)).item()


def test_bottleneck_stride_sits_on_the_3x3_conv():
    block = BottleneckBlock(64, 128, 2)
    assert block.conv_bn_block1[0]._stride == [1, 1]
    assert block.conv_bn_block2[0]._stride == [2, 2]
    assert block.conv_bn_block2[0].weight.shape == [32, 32, 3, 3]  # inner width 128 // 4
