"""The FLOPs PaddleClas publishes for its ImageNet-1k models, at 224x224 unless named.

Source: PaddlePaddle/PaddleClas, docs/zh_CN/models/ImageNet1k/README.md at commit
d178931fca432204e6b7422bac4f92e09ff22fa4 (2024-10-18), the column "FLOPs(G)" (or
"FLOPs(M)" in the tables of the mobile and the lightweight models, given here in G) of
each model's row; the line of the row is given with each figure.  The page says how
they were computed: "FLOPs 与 Params 通过 `paddle.flops()` 计算得到（PaddlePaddle 版本为
2.2）" -- so they follow paddle.flops' convention (tests/paddleinfo/real/counting.py,
PaddleFlopsCount), not paddleinfo's: conv bias, BatchNorm and average pools are
counted, and any product made by a functional call in a forward() (attention's QK^T
and AV, a matmul with a class token) is left out.

The per-family pages (docs/zh_CN/models/ImageNet1k/ResNet.md, ...) print other figures
for some models: ResNet.md gives ResNet50 8.19 G, twice the MACs (FLOPs as 2 per
multiply-add), where README.md gives 4.11 G; README.md is the one used.

Parameters are in millions, from the same rows ("Params(M)").
"""

# name: (FLOPs in G, params in M, the line of README.md)
PADDLECLAS = {
    'ResNet50': (4.11, 25.61, 174),
    'ResNet50_vd': (4.35, 25.63, 176),
    'SE_ResNet50_vd': (4.36, 28.16, 232),
    'DPN68': (2.35, 12.68, 246),
    'DenseNet121': (2.87, 8.06, 260),
    'HRNet_W18_C': (4.32, 21.35, 274),
    'GoogLeNet': (1.44, 11.54, 293),
    'InceptionV3': (5.73, 23.87, 299),     # at 299x299
    'EfficientNetB0': (0.40, 5.33, 310),
    'ResNeSt50': (5.40, 27.54, 344),
    'RegNetX_4GF': (3.99, 22.16, 363),
    'RepVGG_A0': (1.36, 8.31, 379),
    'MixNet_S': (0.252977, 4.167, 400),
    'ReXNet_1_0': (0.415, 4.84, 412),
    'DLA34': (3.07, 15.76, 443),
    'ConvNeXt_tiny': (4.458, 28.583, 471),
    'VAN_B0': (0.880, 4.110, 486),
    'PeleeNet': (0.514, 2.812, 499),
    'CSPDarkNet53': (5.041, 27.678, 509),
    'AlexNet': (0.71, 61.10, 519),
    'SqueezeNet1_0': (0.78, 1.25, 520),
    'VGG16': (15.470, 138.35, 524),
    'MobileNetV1': (0.57888, 4.25, 543),
    'MobileNetV2': (0.32784, 3.54, 548),
    'ESNet_x1_0': (0.19733, 4.64, 579),
    'PPLCNet_x1_0': (0.16081, 2.96, 593),
    'PPLCNetV2_base': (0.604, 6.6, 600),
    'PPHGNet_tiny': (4.54, 14.75, 145),
    'PPHGNet_small': (8.53, 24.38, 147),
    'SwinTransformer_tiny_patch4_window7_224': (4.35, 28.26, 655),
    'SwinTransformerV2_tiny_patch4_window8_256': (4.34, 21.87, 668),   # at 256x256
    'CSWinTransformer_tiny_224': (4.1, 22, 705),
    'PVT_V2_B0': (0.53, 3.7, 720),
    'LeViT_128S': (0.281, 7.42, 736),
    'TNT_small': (4.83, 23.69, 752),
    'NextViT_small_224': (5.79, 31.80, 764),
    'UniFormer_small': (3.44, 21.55, 785),
    'DSNet_tiny': (1.8, 10.5, 799),
    'MobileViT_S': (1.84935, 5.59, 817),
    'ResNeXt50_32x4d': (4.26, 25.10, 194),
    'Res2Net50_26w_4s': (4.28, 25.76, 215),
    'HarDNet68': (4.26, 17.58, 428),
    'MobileNetV3_large_x1_0': (0.22966, 5.50, 553),
    'MobileNetV3_small_x1_0': (0.06367, 2.95, 558),
    'ShuffleNetV2_x1_0': (0.14886, 2.29, 565),   # the row named ShuffleNetV2
    'GhostNet_x1_0': (0.14878, 5.21, 573),
    'ViT_base_patch16_224': (16.85, 86.42, 623),
    'DeiT_tiny_patch16_224': (1.07, 5.68, 638),
    'pcpvt_small': (3.67, 24.06, 688),
    'alt_gvt_small': (2.81, 24.06, 691),
    'MobileViTV2_x1_0': (1.84381, 4.90, 819),
}


# PaddleDetection publishes "FLOPs(G)" as two per multiply-add (PicoDet-S at 320: 0.97 G
# for 0.48 G MACs), of the network as deployed: a CSPRepResNet's RepVgg blocks each fused
# into one 3x3 conv (convert_to_deploy), as PaddleClas's RepVGG.  Params are in millions.
# name: (FLOPs in G, params in M, where)
PADDLEDET = {
    'PP-YOLOE_s': (17.36, 7.93, 'PaddleDetection configs/ppyoloe/README_legacy.md at commit '
                   '8a2a6772a0c445b824118a606b707355e5ccec8a, line 7 (ppyoloe_crn_s_300e_coco)'),
    'PicoDet_s': (0.97, 1.18, 'PaddleDetection configs/picodet/README_en.md at commit '
                  '084e537bc217bf7fa587e11ce283bf5faeb67fda, line 38 (picodet_s_320_coco_lcnet)'),
}
