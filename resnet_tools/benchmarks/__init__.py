"""Benchmarks: they measure, they do not test (their exit code is 0 whether or not a
target is met), and every figure is timed in the same run as what it is compared with.

  machine.py          the machine, its ceiling (numpy's matrix product), interleaved medians
  inference.py        ours against paddle.vision's, eager and under Paddle Inference
  runtimes.py         Paddle Inference against ONNX Runtime and OpenVINO, f32 and bf16
  training.py         the training step of the CIFAR networks on every way of using the cores
  summary_timings.py  the summary commands, as multiples of importing Paddle
  memory.py           paddleinfo's memory estimate of a training step against the allocator's peak
"""
