"""torchvision's published parameter counts and GFLOPS, for the paddle.vision.models
architectures of the same name.

Source: pytorch/vision (https://github.com/pytorch/vision), the files
torchvision/models/{alexnet,vgg,squeezenet,googlenet,inception,mobilenetv2,mobilenetv3,
shufflenetv2,densenet,resnet}.py: the ``meta`` of each ``*_Weights`` enum member
(e.g. ``ResNet50_Weights.IMAGENET1K_V1``), its ``num_params`` and its ``_ops`` (in
mobilenetv2.py ``num_params`` comes from ``_COMMON_META``).  torchvision's
documentation prints the same numbers, ``_ops`` as "GFLOPS" rounded to 2 decimals, on
each model's page and in the table of "Models and pre-trained weights"
(https://pytorch.org/vision/stable/models.html); e.g. resnet50: num_params 25557032,
GFLOPS 4.09; inception_v3: num_params 27161264.

``_ops`` was added by pytorch/vision PR #6936 ("Adding FLOPs and size to model
metadata"), computed at batch 1 in eval mode at the weights' crop size (224x224, or
299x299 for inception_v3) with a counter of the matrix-multiply and convolution
operators, one per multiply-add: so it is the multiply-adds of the convs and fc layers,
paddleinfo.macs's convention, and Paddle's count reproduces it exactly where the
network is the same (tests/paddleinfo/test_vision_models.py checks it).  ``num_params``
sums the model's parameters without its buffers, so it leaves out BatchNorm's running
mean and variance: it is Paddle's trainable count, not its total.

Paddle (3.3.1) builds vgg11_bn ... as vgg11(batch_norm=True) ...; the *_bn keys are those.
"""
from typing import TypedDict


class Published(TypedDict):
    """torchvision's numbers for one architecture: num_params, _ops (GFLOPS), and where."""
    params: int
    gflops: float
    source: str


# name -> torchvision's published numbers, or None where torchvision has no such architecture.
PUBLISHED: dict[str, Published | None] = {
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

# One line each for the --models table: how paddle.vision's network differs from
# torchvision's of the same name (found by reading both networks' code; e.g. with
# ceil-mode pools Paddle's squeezenet1_0 gives torchvision's 0.819 GMACs).
DIFFERENCE: dict[str, str] = {
    'googlenet': 'no BatchNorm, 5x5 convs where torchvision has 3x3, floor-mode pools, and '
                 'both auxiliary heads always run (three outputs)',
    'inception_v3': 'no auxiliary head, which torchvision counts in its parameters; the main '
                    'network is the same',
    'squeezenet1_0': 'floor-mode max pools where torchvision rounds up, so smaller maps and '
                     'fewer MACs; the same parameters',
    'squeezenet1_1': 'the first conv is padded by 1 where torchvision pads by 0',
    'shufflenet_v2_x2_0': '244 channels in stage 2 in torchvision, 224 in Paddle',
}
