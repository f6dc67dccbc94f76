"""The paper's experiments, on data that ships offline: the CIFAR-10 networks of
Section 4.2 trained, the degradation problem of Figure 6 with the layer responses of
Figure 7, and the shortcut options of Table 3.

  networks.py     the CIFAR-10 networks as runs: built, trained, loaded back (load_run)
  degradation.py  plain against residual networks: Figure 6, Figure 7, the table
  shortcuts.py    options A, B and C over several seeds, beside Table 3
  responses.py    Figure 7's statistic: the std of every 3x3 conv's BN output
"""
from resnet_tools.paper.networks import load_run

__all__ = ['load_run']
