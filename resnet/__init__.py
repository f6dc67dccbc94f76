"""ResNet (He et al., 2015) in Paddle, built from the article's `layers_config` table.

    import resnet
    model = resnet.resnet50()                  # the same network as paddle.vision's
    cifar = resnet.build('cifar_resnet20')     # the CIFAR-10 networks of Section 4.2

Three modules, to read in this order next to the paper:
  configs.py   the tables: layers_config (Table 1) and the CIFAR-10 networks' (Section 4.2)
  blocks.py    BasicBlock and BottleneckBlock (Figure 5), and the shortcut options A, B, C
  resnet.py    the network: stem, every residual block in ONE nn.Sequential, head
"""
# blocks first: it imports paddle without Paddle's ccache notice.
from resnet.blocks import BasicBlock, BottleneckBlock
from resnet.resnet import (CifarResNet, ResNet, build, resnet18, resnet34, resnet50, resnet101,
                           resnet152, resnext50_32x4d, resnext50_64x4d, resnext101_32x4d,
                           resnext101_64x4d, resnext152_32x4d, resnext152_64x4d, wide_resnet50_2,
                           wide_resnet101_2)

__all__ = ['BasicBlock', 'BottleneckBlock', 'CifarResNet', 'ResNet', 'build', 'resnet18',
           'resnet34', 'resnet50', 'resnet101', 'resnet152', 'resnext50_32x4d', 'resnext50_64x4d',
           'resnext101_32x4d', 'resnext101_64x4d', 'resnext152_32x4d', 'resnext152_64x4d',
           'wide_resnet50_2', 'wide_resnet101_2']
