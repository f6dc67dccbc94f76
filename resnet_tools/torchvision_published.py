"""torchvision's published parameter counts and GFLOPS (its weight metadata), for the
paddle.vision.models architectures of the same name.

Source: pytorch/vision, torchvision/models/{alexnet,vgg,squeezenet,googlenet,inception,
mobilenetv2,mobilenetv3,shufflenetv2,densenet,resnet}.py -- the ``meta`` dict of each
``*_Weights`` enum member (``num_params`` and ``_ops``).  Numbers were read with the stored
code index (search / find_string / read_file), not from a live checkout:

* mobilenetv3.py: pytorch/vision @ 2f7f558158c83c8119a02cd2446d85cd3c4c20e9.
* The index's other pytorch/vision copies of these files predate the Weights metadata
  (e.g. resnet.py @ f50e776b / 054e54c5, vgg.py @ 1c1feb57 / 02196ff4 have no ``_ops``), so:
  - resnet.py, squeezenet.py: fork AidanGoldfarb/vision @ 18d67af0c26750f6f1716c56428abe252561fd6e;
  - mobilenetv2.py: same fork @ 10263313a2a3b22c24c802d800f6e6a5b0c57ccc.
    In that fork the weight blocks are unchanged; only forward() gets timing code.
  - vgg.py, densenet.py, shufflenetv2.py, googlenet.py, inception.py, alexnet.py: read as
    verbatim upstream-form copies found by find_string. That tool does not name the repository,
    so the index file ids are kept in SOURCE_IDS below.
  Every value was also checked against this machine's computation (see the table at the end):
  where the architecture is the same, Paddle's count reproduces it exactly.

How torchvision computes ``_ops``: pytorch/vision PR #6936 "Adding FLOPs and size to model
metadata" (toni057, merged Nov 2022; https://github.com/pytorch/vision/pull/6936) computed them with a
script based on Chillee's __torch_dispatch__ FLOP counter
(https://dev-discuss.pytorch.org/t/the-ideal-pytorch-flop-counter-with-torch-dispatch/505).
That counter maps only matrix-multiply and convolution aten ops (mm/addmm/bmm/convolution) to
counts, one per multiply-add. The PR text was only partly visible in the index, so this op list comes
from the linked counter and is confirmed by the numbers below, not re-read. It was run with batch 1 at the weights' eval crop size (224, or 299 for inception_v3), in eval mode.
So ``_ops`` (shown as "GFLOPS" in the docs) is really GMACs of the convolutions and linear
layers only. BatchNorm, activations, pooling, elementwise adds and multiplies are not counted.
This was checked here: conv+linear MACs of paddle resnet50 = 4.089184e9 -> 4.089, resnet18 1.814073e9 -> 1.814,
inception_v3 (299x299) 5.713216e9 -> 5.713. In eval mode torchvision's inception aux head does not run.
Printed to 3 decimals; trailing zeros are dropped in the source (e.g. 4.23, 0.04, 15.47).

``params`` is torchvision ``num_params`` = sum of numel of module.parameters(), with no buffers. It
equals Paddle's count of parameters with stop_gradient == False (BN running mean/var are
non-trainable there).

Paddle (3.3.1) has no vgg11_bn/... builders: use vgg11(batch_norm=True) etc.  The *_bn keys
below refer to that.
"""

# name -> torchvision's published numbers, or None where torchvision has no such architecture.
PUBLISHED = {
    'alexnet': {'params': 61_100_840, 'gflops': 0.714, 'source': 'torchvision/models/alexnet.py, AlexNet_Weights.IMAGENET1K_V1'},
    'vgg11': {'params': 132_863_336, 'gflops': 7.609, 'source': 'torchvision/models/vgg.py, VGG11_Weights.IMAGENET1K_V1'},
    'vgg13': {'params': 133_047_848, 'gflops': 11.308, 'source': 'torchvision/models/vgg.py, VGG13_Weights.IMAGENET1K_V1'},
    'vgg16': {'params': 138_357_544, 'gflops': 15.470, 'source': 'torchvision/models/vgg.py, VGG16_Weights.IMAGENET1K_V1'},
    'vgg19': {'params': 143_667_240, 'gflops': 19.632, 'source': 'torchvision/models/vgg.py, VGG19_Weights.IMAGENET1K_V1'},
    'vgg11_bn': {'params': 132_868_840, 'gflops': 7.609, 'source': 'torchvision/models/vgg.py, VGG11_BN_Weights.IMAGENET1K_V1'},
    'vgg13_bn': {'params': 133_053_736, 'gflops': 11.308, 'source': 'torchvision/models/vgg.py, VGG13_BN_Weights.IMAGENET1K_V1'},
    'vgg16_bn': {'params': 138_365_992, 'gflops': 15.470, 'source': 'torchvision/models/vgg.py, VGG16_BN_Weights.IMAGENET1K_V1'},
    'vgg19_bn': {'params': 143_678_248, 'gflops': 19.632, 'source': 'torchvision/models/vgg.py, VGG19_BN_Weights.IMAGENET1K_V1'},
    'squeezenet1_0': {'params': 1_248_424, 'gflops': 0.819, 'source': 'torchvision/models/squeezenet.py, SqueezeNet1_0_Weights.IMAGENET1K_V1'},
    'squeezenet1_1': {'params': 1_235_496, 'gflops': 0.349, 'source': 'torchvision/models/squeezenet.py, SqueezeNet1_1_Weights.IMAGENET1K_V1'},
    # num_params is for the released model, which drops aux1/aux2 (aux_logits=False).
    'googlenet': {'params': 6_624_904, 'gflops': 1.498, 'source': 'torchvision/models/googlenet.py, GoogLeNet_Weights.IMAGENET1K_V1'},
    # num_params includes the AuxLogits head (3,326,696 params); _ops is at 299x299 without it.
    'inception_v3': {'params': 27_161_264, 'gflops': 5.713, 'source': 'torchvision/models/inception.py, Inception_V3_Weights.IMAGENET1K_V1'},
    'mobilenet_v1': None,
    'mobilenet_v2': {'params': 3_504_872, 'gflops': 0.301, 'source': 'torchvision/models/mobilenetv2.py, MobileNet_V2_Weights.IMAGENET1K_V1 (num_params via _COMMON_META)'},
    'mobilenet_v3_small': {'params': 2_542_856, 'gflops': 0.057, 'source': 'torchvision/models/mobilenetv3.py, MobileNet_V3_Small_Weights.IMAGENET1K_V1'},
    'mobilenet_v3_large': {'params': 5_483_032, 'gflops': 0.217, 'source': 'torchvision/models/mobilenetv3.py, MobileNet_V3_Large_Weights.IMAGENET1K_V1'},
    'shufflenet_v2_x0_25': None,
    'shufflenet_v2_x0_33': None,
    'shufflenet_v2_x0_5': {'params': 1_366_792, 'gflops': 0.040, 'source': 'torchvision/models/shufflenetv2.py, ShuffleNet_V2_X0_5_Weights.IMAGENET1K_V1'},
    'shufflenet_v2_x1_0': {'params': 2_278_604, 'gflops': 0.145, 'source': 'torchvision/models/shufflenetv2.py, ShuffleNet_V2_X1_0_Weights.IMAGENET1K_V1'},
    'shufflenet_v2_x1_5': {'params': 3_503_624, 'gflops': 0.296, 'source': 'torchvision/models/shufflenetv2.py, ShuffleNet_V2_X1_5_Weights.IMAGENET1K_V1'},
    'shufflenet_v2_x2_0': {'params': 7_393_996, 'gflops': 0.583, 'source': 'torchvision/models/shufflenetv2.py, ShuffleNet_V2_X2_0_Weights.IMAGENET1K_V1'},
    'shufflenet_v2_swish': None,
    'densenet121': {'params': 7_978_856, 'gflops': 2.834, 'source': 'torchvision/models/densenet.py, DenseNet121_Weights.IMAGENET1K_V1'},
    'densenet161': {'params': 28_681_000, 'gflops': 7.728, 'source': 'torchvision/models/densenet.py, DenseNet161_Weights.IMAGENET1K_V1'},
    'densenet169': {'params': 14_149_480, 'gflops': 3.360, 'source': 'torchvision/models/densenet.py, DenseNet169_Weights.IMAGENET1K_V1'},
    'densenet201': {'params': 20_013_928, 'gflops': 4.291, 'source': 'torchvision/models/densenet.py, DenseNet201_Weights.IMAGENET1K_V1'},
    'densenet264': None,
    'resnet18': {'params': 11_689_512, 'gflops': 1.814, 'source': 'torchvision/models/resnet.py, ResNet18_Weights.IMAGENET1K_V1'},
    'resnet34': {'params': 21_797_672, 'gflops': 3.664, 'source': 'torchvision/models/resnet.py, ResNet34_Weights.IMAGENET1K_V1'},
    'resnet50': {'params': 25_557_032, 'gflops': 4.089, 'source': 'torchvision/models/resnet.py, ResNet50_Weights.IMAGENET1K_V1'},
    'resnet101': {'params': 44_549_160, 'gflops': 7.801, 'source': 'torchvision/models/resnet.py, ResNet101_Weights.IMAGENET1K_V1'},
    'resnet152': {'params': 60_192_808, 'gflops': 11.514, 'source': 'torchvision/models/resnet.py, ResNet152_Weights.IMAGENET1K_V1'},
    'resnext50_32x4d': {'params': 25_028_904, 'gflops': 4.230, 'source': 'torchvision/models/resnet.py, ResNeXt50_32X4D_Weights.IMAGENET1K_V1'},
    'resnext50_64x4d': None,
    'resnext101_32x4d': None,   # torchvision has resnext101_32x8d (88,791,336 / 16.414) and 64x4d only
    'resnext101_64x4d': {'params': 83_455_272, 'gflops': 15.460, 'source': 'torchvision/models/resnet.py, ResNeXt101_64X4D_Weights.IMAGENET1K_V1'},
    'resnext152_32x4d': None,
    'resnext152_64x4d': None,
    'wide_resnet50_2': {'params': 68_883_240, 'gflops': 11.398, 'source': 'torchvision/models/resnet.py, Wide_ResNet50_2_Weights.IMAGENET1K_V1'},
    'wide_resnet101_2': {'params': 126_886_696, 'gflops': 22.753, 'source': 'torchvision/models/resnet.py, Wide_ResNet101_2_Weights.IMAGENET1K_V1'},
    'LeNet': None,
}

# Where each file's numbers were read (repo @ commit, or stored-index file id for find_string hits).
SOURCE_IDS = {
    'torchvision/models/mobilenetv3.py': 'pytorch/vision @ 2f7f558158c83c8119a02cd2446d85cd3c4c20e9',
    'torchvision/models/resnet.py': 'AidanGoldfarb/vision (fork) @ 18d67af0c26750f6f1716c56428abe252561fd6e',
    'torchvision/models/squeezenet.py': 'AidanGoldfarb/vision (fork) @ 18d67af0c26750f6f1716c56428abe252561fd6e; also index id 308597615',
    'torchvision/models/mobilenetv2.py': 'AidanGoldfarb/vision (fork) @ 10263313a2a3b22c24c802d800f6e6a5b0c57ccc; also index id 2859112080',
    'torchvision/models/vgg.py': 'index file id 262925866',
    'torchvision/models/densenet.py': 'index file id 774606876',
    'torchvision/models/shufflenetv2.py': 'index file id 619619137',
    'torchvision/models/googlenet.py': 'index file id 1122296856',
    'torchvision/models/inception.py': 'index file id 36567354406',
    'torchvision/models/alexnet.py': 'index file id 861271633',
}

# Architectures where paddle.vision's network is not torchvision's, and why
# (as computed on 2026-11-24 with paddlepaddle 3.3.1 CPU, batch 1, eval, conv+linear MACs):
DIFFERS = {
    'googlenet': (
        "Paddle's GoogLeNet is a different network. Its ConvLayer is a bare Conv2D (bias_attr=False) with no BatchNorm. "
        "The Inception 5x5 branch really is 5x5, where torchvision uses 3x3 (its known bug, vision#906). "
        "MaxPool2D is floor-mode, where torchvision uses ceil_mode. The aux heads (_conv_o1/_fc_o1/_out1, _o2) are always "
        "built and run, and forward returns 3 outputs. Trainable params 11,535,736 (6,991,272 without the aux heads) vs "
        "torchvision 6,624,904. GMACs 1.437 (1.432 main path + 0.006 aux) vs published 1.498."
    ),
    'inception_v3': (
        "Main network identical: Paddle's trainable params are 23,834,568, exactly torchvision's 27,161,264 minus its "
        "AuxLogits head (conv0 98,304+256 BN, conv1 2,457,600+1,536 BN, fc 769,000 = 3,326,696). Paddle has no aux head. "
        "GMACs 5.713 at 299x299 equals the published 5.713. Only num_params differs, because of the aux head."
    ),
    'squeezenet1_0': (
        "Same layers and params (1,248,424). Paddle's MaxPool2D uses floor mode, where torchvision uses ceil_mode=True, so the "
        "feature maps are 54->26->12 instead of 54->27->13. GMACs 0.777 vs published 0.819. Setting ceil_mode=True on "
        "Paddle's pools gives 0.8189, which reproduces it."
    ),
    'squeezenet1_1': (
        "Same params (1,235,496), but Paddle's first conv is 3x3 stride 2 with padding=1 (112x112 out), where torchvision "
        "has padding 0 (111x111). Later maps agree: Paddle floor-mode pools give 55/27/13, torchvision ceil-mode pools "
        "give the same. GMACs 0.34954 (rounds to 0.350) vs published 0.349. The difference is the first conv, "
        "21,676,032 vs 21,290,688 MACs."
    ),
    'shufflenet_v2_x2_0': (
        "Paddle's stage_out_channels for scale 2.0 are [24, 224, 488, 976, 2048], where torchvision uses "
        "[24, 244, 488, 976, 2048]. Params 7,366,536 vs 7,393,996; GMACs 0.564 vs published 0.583."
    ),
}

# Architectures with no torchvision counterpart (PUBLISHED value None), and why.
NO_TORCHVISION = {
    'mobilenet_v1': 'torchvision has no MobileNetV1 classifier',
    'shufflenet_v2_x0_25': 'torchvision has x0_5, x1_0, x1_5, x2_0 only',
    'shufflenet_v2_x0_33': 'torchvision has x0_5, x1_0, x1_5, x2_0 only',
    'shufflenet_v2_swish': 'Paddle-only variant: x1_0 channels with Swish. Params and conv/linear MACs equal shufflenet_v2_x1_0 (2,278,604 / 0.145)',
    'densenet264': 'torchvision has densenet121/161/169/201 only',
    'resnext50_64x4d': 'torchvision has resnext50_32x4d, resnext101_32x8d, resnext101_64x4d only',
    'resnext101_32x4d': 'torchvision has resnext101_32x8d (not 32x4d) and resnext101_64x4d',
    'resnext152_32x4d': 'no ResNeXt-152 in torchvision',
    'resnext152_64x4d': 'no ResNeXt-152 in torchvision',
    'LeNet': 'no LeNet in torchvision (Paddle LeNet: 1x28x28 input, 61,610 params, 341,256 MACs)',
}

# Leaf layer types in these Paddle models other than Conv2D/Linear, found by walking sublayers(). Neither
# torchvision's _ops nor a Conv2D/Linear MAC hook counts them. None of them is a matmul/conv:
# no Conv2DTranspose, matmul or bmm layers occur in these models. SE blocks in mobilenet_v3 use Conv2D (counted).
NOT_COUNTED_LAYER_TYPES = {
    'BatchNorm2D': 'scale+shift per element (inception_v3, mobilenet_*, shufflenet_*, resnet/resnext/wide_resnet, vgg*(batch_norm=True))',
    'BatchNorm': 'legacy paddle.nn.BatchNorm (densenet*)',
    'AvgPool2D': 'sum per window (googlenet aux, inception_v3, densenet transitions)',
    'AdaptiveAvgPool2D': 'global/adaptive mean (most models)',
    'MaxPool2D': 'comparisons only',
    'ReLU': 'elementwise', 'ReLU6': 'elementwise (mobilenet_v2)',
    'Hardswish': 'elementwise (mobilenet_v3)', 'Hardsigmoid': 'elementwise, SE gate (mobilenet_v3)',
    'Swish': 'elementwise (shufflenet_v2_swish)',
    'Dropout': 'identity in eval',
    # functional, not layers: residual adds (resnet*, mobilenet_v2/v3), SE channel multiply (mobilenet_v3),
    # concat + channel shuffle (shufflenet), concat (densenet, googlenet, inception), F.relu in squeezenet/googlenet.
}

# One line each for the --models table: how paddle.vision's network differs from
# torchvision's of the same name (the details and the numbers are in DIFFERS above).
DIFFERENCE = {
    'googlenet': 'no BatchNorm, 5x5 convs where torchvision has 3x3, floor-mode pools, and '
                 'both auxiliary heads always run (three outputs)',
    'inception_v3': 'no auxiliary head, which torchvision counts in its parameters; the main '
                    'network is the same',
    'squeezenet1_0': 'floor-mode max pools where torchvision rounds up, so smaller maps and '
                     'fewer MACs; the same parameters',
    'squeezenet1_1': 'the first conv is padded by 1 where torchvision pads by 0',
    'shufflenet_v2_x2_0': '244 channels in stage 2 in torchvision, 224 in Paddle',
}
