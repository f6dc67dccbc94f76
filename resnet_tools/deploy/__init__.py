"""Deployment: a network saved as a static graph for Paddle Inference (paddle.jit.save),
then loaded back and checked against the dynamic graph before it is kept.

  export.py     the export of a network, a weights file or a training run; its report
  inference.py  Paddle Inference on CPU: the predictor and the check against the eager model
"""
