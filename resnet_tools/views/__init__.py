"""The tables and figures to teach from, each read off the model itself.

  summary.py       paddle.summary's table of a network or a block, and summary.py's request
  teaching.py      the paper's Table 1 by stage (and its CIFAR-10 table), all depths at once
  architecture.py  Figure 3 (a network) and Figure 5 (a block), read from a built model
  drawing.py       columns of labelled boxes and arcs: what architecture.py draws with
  plots.py         error curves (Figure 6) and layer responses (Figure 7) from training logs
"""
