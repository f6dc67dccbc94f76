"""The CIFAR-10 networks of the paper's Section 4.2, written as layers_config is.

Each network has 6n+2 weighted layers: a 3x3 conv with 16 filters, three stages
of n BasicBlocks (2n convs each) on maps of 32x32, 16x16 and 8x8 with 16, 32 and
64 filters, and a 10-way fc after global average pooling.  The first block of the
second and third stage halves the map.  The paper trains n = 3, 5, 7, 9, 18 and
200: ResNet-20, 32, 44, 56, 110 and 1202.
"""

cifar_layers_config = {
    6 * n + 2: {'block_type': 'BasicBlock', 'num_blocks': [n, n, n], 'out_channels': [16, 32, 64]}
    for n in (3, 5, 7, 9, 18, 200)
}

CIFAR_LAYERS = tuple(cifar_layers_config)

# The stem of Section 4.2: one 3x3 conv with 16 filters, and no max pool.
CIFAR_STEM_CHANNELS = 16
CIFAR_NUM_CLASSES = 10
# CIFAR-10's images are 32x32.
CIFAR_INPUT_SIZE = 32

# The paper trains the CIFAR networks with option A (zero-padding shortcuts, so that
# a residual network has exactly the parameters of its plain twin).
CIFAR_SHORTCUT = 'A'

# `cifar_resnet20` .. `cifar_resnet1202`, and their plain twins without shortcuts.
CIFAR_ARCHS = {
    **{f'cifar_resnet{depth}': {'layers': depth, 'shortcut': CIFAR_SHORTCUT} for depth in CIFAR_LAYERS},
    **{f'cifar_plain{depth}': {'layers': depth, 'shortcut': 'none'} for depth in CIFAR_LAYERS},
}
