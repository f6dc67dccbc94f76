"""PaddleDetection's PP-YOLOE-s and PicoDet-s (paddledet 2.6.0), built as the library's
configs build them (ppyoloe_crn_s_300e_coco.yml, picodet_s_320_coco_lcnet.yml), from
its classes with random weights: the wheel ships the code of its architectures but
none of its YAML configs, so the figures of those configs are written out here.

Each is the backbone, the neck and the head, called on one image, the head giving its
raw outputs (scores and box distributions before decoding and NMS), as a detector is
summarised or exported.  ppdet is imported inside each function: as a factory, the
model's first `import ppdet` (and pyparsing's, below it) happens while paddleinfo
builds the model, which is what the issue found broken.
"""
from typing import Any

from paddle import nn


class Detector(nn.Layer):
    """backbone -> neck -> head on an image, the head's raw outputs returned."""

    def __init__(self, backbone: nn.Layer, neck: nn.Layer, head: nn.Layer, **head_options: Any):
        super().__init__()
        self.backbone, self.neck, self.head = backbone, neck, head
        self.head_options = head_options

    def forward(self, image: Any) -> Any:
        features = self.neck(self.backbone({'image': image}))
        return self.head(features, **self.head_options)


def ppyoloe_s() -> nn.Layer:
    """PP-YOLOE-s: CSPResNet and CustomCSPPAN at depth 0.33 and width 0.50, PPYOLOEHead."""
    from ppdet.modeling.backbones.cspresnet import CSPResNet
    from ppdet.modeling.heads.ppyoloe_head import PPYOLOEHead
    from ppdet.modeling.necks.custom_pan import CustomCSPPAN
    scale = dict(depth_mult=0.33, width_mult=0.50)
    backbone = CSPResNet(layers=[3, 6, 6, 3], channels=[64, 128, 256, 512, 1024],
                         return_idx=[1, 2, 3], use_large_stem=True, **scale)
    neck = CustomCSPPAN(in_channels=[shape.channels for shape in backbone.out_shape],
                        out_channels=[768, 384, 192], stage_num=1, block_num=3,
                        act='swish', spp=True, **scale)
    head = PPYOLOEHead(in_channels=[shape.channels for shape in neck.out_shape],
                       fpn_strides=[32, 16, 8], grid_cell_scale=5.0, grid_cell_offset=0.5,
                       static_assigner_epoch=100, use_varifocal_loss=True,
                       static_assigner=None, assigner=None, nms=None)
    return Detector(backbone, neck, head)


def picodet_s() -> nn.Layer:
    """PicoDet-s (320): LCNet x0.75, LCPAN of 96 channels, PicoHeadV2 over 4 strides."""
    from ppdet.modeling.backbones.lcnet import LCNet
    from ppdet.modeling.heads.pico_head import PicoFeat, PicoHeadV2
    from ppdet.modeling.losses.gfocal_loss import DistributionFocalLoss
    from ppdet.modeling.losses.iou_loss import GIoULoss
    from ppdet.modeling.losses.varifocal_loss import VarifocalLoss
    from ppdet.modeling.necks.lc_pan import LCPAN
    backbone = LCNet(scale=0.75, feature_maps=[3, 4, 5])
    neck = LCPAN(in_channels=[shape.channels for shape in backbone.out_shape],
                 out_channels=96, use_depthwise=True, num_features=4,
                 # (a fresh list: LCPAN appends to its default one, shared by every call)
                 spatial_scales=[0.125, 0.0625, 0.03125])
    features = PicoFeat(feat_in=96, feat_out=96, num_convs=2, num_fpn_stride=4,
                        norm_type='bn', share_cls_reg=True, use_se=True)
    head = PicoHeadV2(conv_feat=features, fpn_stride=[8, 16, 32, 64], prior_prob=0.01,
                      reg_max=7, cell_offset=0.5, grid_cell_scale=5.0,
                      static_assigner_epoch=100, use_align_head=True,
                      static_assigner=None, assigner=None,
                      loss_class=VarifocalLoss(use_sigmoid=True, iou_weighted=True),
                      loss_dfl=DistributionFocalLoss(loss_weight=0.5),
                      loss_bbox=GIoULoss(loss_weight=2.5), feat_in_chan=96, nms=None)
    return Detector(backbone, neck, head, export_post_process=False)
