"""What paddleinfo's own tests share (fixtures are conftest.py's): the example networks
of docs/examples/nets.py, paddle.summary's own text, and the `paddleinfo` command run in
this process.  Nothing here is of the ResNet reproduction, whose tests may import it
(pytest.ini puts tests/paddleinfo on the path)."""
import contextlib
import importlib.util
import io
import pathlib

import paddle

from paddleinfo import cli

# docs/examples/nets.py, which docs/paddleinfo.md shows: found beside the tests, in the
# clone or in a copy of tests/paddleinfo/ and docs/examples/.
NETS = pathlib.Path(__file__).resolve().parents[2] / 'docs' / 'examples' / 'nets.py'

# A Python without Paddle: the finder that answers first refuses it, as a missing one
# would.  Written as a sitecustomize.py into a folder put first on PYTHONPATH.
HIDE_PADDLE = '''\
import sys


class HidePaddle:
    def find_spec(self, name, path=None, target=None):
        if name == 'paddle' or name.startswith('paddle.'):
            raise ModuleNotFoundError(f'No module named {name!r}', name=name)


sys.meta_path.insert(0, HidePaddle())
'''


def net(name):
    """The command line's name of the network `name` of docs/examples/nets.py."""
    return f'{NETS}:{name}'


def built(name):
    """The network `name` of docs/examples/nets.py, built."""
    spec = importlib.util.spec_from_file_location('nets', NETS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)()


def count_params(model, trainable_only=False):
    return sum(int(p.numel()) for p in model.parameters()
               if not (trainable_only and p.stop_gradient))


def paddle_summary(build_model, input_shape):
    """What paddle.summary prints (without its last blank line) and returns, for the
    model build_model() makes (with layer names from 1, as in a fresh process)."""
    with paddle.utils.unique_name.guard():
        model = build_model()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        totals = paddle.summary(model, input_size=input_shape)
    return printed.getvalue().rstrip('\n') + '\n', totals


def command(capsys, *args):
    """(exit code, stdout, stderr) of `paddleinfo args...`, in this process."""
    try:
        code = cli.main([str(arg) for arg in args])
    except SystemExit as exit:
        code = exit.code
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(capsys, *args):
    """The one line on stderr of `paddleinfo args...`, which must exit 2 and print nothing."""
    code, out, err = command(capsys, *args)
    assert (code, out) == (2, ''), err
    assert err.startswith('paddleinfo: error: ') and err.count('\n') == 1, err
    assert 'Traceback' not in err
    return err
