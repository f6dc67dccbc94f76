"""The `paddleinfo` command."""


def main(argv=None):
    import argparse
    argparse.ArgumentParser(prog='paddleinfo').parse_args(argv)
    return 0
