"""paddleinfo: a summary of any paddle.nn.Layer -- rows, totals, MACs, memory, depth
grouping and every output format -- and the paddle.vision zoo with torchvision's
published figures.  It knows nothing of ResNet.

Importing the package imports no Paddle: its modules do, when they are used, so that
a script can quieten Paddle before Paddle is first imported.
"""
