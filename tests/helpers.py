"""What the reproduction's tests share: where things are, and how to run a script as a
user does.  (Fixtures are conftest.py's; paddleinfo's own tests, in tests/paddleinfo/,
share nothing of this.)"""
import importlib.util
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
# The article's tables, copied into the repository (see tests/golden/README.md).
GOLDEN = REPO / 'tests' / 'golden'


def run_script(name, *args, timeout=300):
    """Run scripts/<name> in a fresh Python, as `python scripts/<name> args...`."""
    return subprocess.run([sys.executable, str(REPO / 'scripts' / name), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=REPO)


def load_script(name):
    """scripts/<name> as a module, to call its main() in this process (e.g. with a
    patched function); `name` is e.g. 'train.py'.  Its first import, scripts/_bootstrap.py,
    is found as a script finds it: in the script's own folder."""
    if '_bootstrap' not in sys.modules:
        sys.modules['_bootstrap'] = module_from(REPO / 'scripts' / '_bootstrap.py', '_bootstrap')
    path = REPO / 'scripts' / name
    return module_from(path, f'{path.stem}_script')


def module_from(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def count_params(model, trainable_only=False):
    return sum(int(p.numel()) for p in model.parameters()
               if not (trainable_only and p.stop_gradient))


def network_summary(layers=50, arch=None, input_size=None, num_classes=None, variant=None):
    """(paddle.summary's text, its totals) of ResNet-`layers`, or of `arch`, as summary.py
    prints it."""
    from paddleinfo.profile import profile
    from paddleinfo.render import summary_text
    from resnet_tools.specs import network_spec
    spec = network_spec(layers, arch, input_size, num_classes, variant)
    return summary_text(profile(spec.build, spec.input_shape))


def block_summary(block='basic', in_channels=64, out_channels=128, stride=2, input_size=(224,),
                  variant='v1.5'):
    """(paddle.summary's text, its totals) of one residual block, by default the article's
    BasicBlock(64, 128, 2)."""
    from paddleinfo.profile import profile
    from paddleinfo.render import summary_text
    from resnet_tools.specs import block_spec
    spec = block_spec(block, in_channels, out_channels, stride, input_size, variant)
    return summary_text(profile(spec.build, spec.input_shape))
