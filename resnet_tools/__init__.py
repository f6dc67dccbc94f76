"""The logic behind scripts/: summaries, checks against paddle.vision, and helpers.

The scripts only parse arguments and print; what they print is computed here,
so that the tests can import and check it directly.
"""
