"""Weights: this repository's names and paddle.vision's, the two file formats, loading
them into a network, and the comparison with paddle.vision.models.

  names.py    the mapping ours <-> paddle.vision, and the architecture a state dict is of
  formats.py  .pdparams (a pickle) and .safetensors (no pickle), the md5 of published files
  load.py     load_weights, pretrained, load_official: a file or a state dict into a network
  compare.py  ours against paddle.vision.models: counts, layouts, logits, the per-layer view
"""
from resnet_tools.errors import WeightsError, WeightsWarning
from resnet_tools.weights.formats import (check_md5, weights_path, format_name, is_safetensors,
                                          read_state_dict, save_atomically)
from resnet_tools.weights.load import load_official, load_weights, pretrained
from resnet_tools.weights.names import (LAYOUT_NAMES, MAPPING, OFFICIAL, OURS, check_fits,
                                        convert, detect_layout, guess_arch, in_layout, key_map,
                                        known_arch, layout_shapes, network_options,
                                        num_classes_of, official_layer_name, shapes_of, skeleton)

__all__ = ['LAYOUT_NAMES', 'MAPPING', 'OFFICIAL', 'OURS', 'WeightsError', 'WeightsWarning',
           'check_fits', 'check_md5', 'weights_path', 'convert', 'detect_layout', 'format_name',
           'guess_arch', 'in_layout', 'is_safetensors', 'key_map', 'known_arch', 'layout_shapes',
           'load_official', 'load_weights', 'network_options', 'num_classes_of',
           'official_layer_name', 'pretrained', 'read_state_dict', 'save_atomically',
           'shapes_of', 'skeleton']
