"""Deployment: a network saved as a static graph for Paddle Inference (paddle.jit.save),
then loaded back and checked against the dynamic graph before it is kept.

  export.py     the export of a network, a weights file or a training run; its report
  inference.py  Paddle Inference on CPU (f32 or bf16): the predictor, the check against the
                eager model, and bf16's cost against f32
  onnx.py       the export as ONNX: paddle2onnx's conversion and ONNX Runtime (optional extras)
"""
