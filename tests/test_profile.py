"""paddleinfo.profile and paddleinfo.render.summary_text on the reproduction's networks:
the article's three tables, the blocks, ResNet-34 and the CIFAR networks, printed as
paddle.summary prints them -- checked byte for byte against paddle.summary itself, which
runs the model.  (paddleinfo's own cases and checks are tests/paddleinfo/test_paddle_summary.py.)"""
import paddle
import pytest

import resnet
from resnet.blocks import BasicBlock, BottleneckBlock
from paddleinfo.profile import profile
from paddleinfo.render import summary_text
from summaries import paddle_summary

CASES = [
    # The article's three tables (tests/golden/), as current Paddle prints them.
    ('article: BasicBlock(64, 128, 2)', lambda: BasicBlock(64, 128, 2), (None, 64, 224, 224)),
    ('article: BottleneckBlock(64, 128, 2)', lambda: BottleneckBlock(64, 128, 2),
     (None, 64, 224, 224)),
    ('article: ResNet-50', lambda: resnet.build('resnet50'), (None, 3, 224, 224)),
    ('BottleneckBlock v1', lambda: BottleneckBlock(64, 256, 2, stride_on='1x1'), (None, 64, 32, 32)),
    ('ResNet-34', lambda: resnet.build('resnet34'), (None, 3, 64, 96)),
    ('cifar_resnet20 (option A)', lambda: resnet.build('cifar_resnet20'), (None, 3, 32, 32)),
    ('cifar_plain20', lambda: resnet.build('cifar_plain20'), (None, 3, 32, 32)),
]


@pytest.mark.parametrize('name, build_model, input_shape', CASES, ids=[c[0] for c in CASES])
def test_the_table_is_paddle_summarys_byte_for_byte(name, build_model, input_shape):
    ours = summary_text(profile(build_model, input_shape))
    assert ours == paddle_summary(build_model, input_shape)
    assert paddle.in_dynamic_mode()
