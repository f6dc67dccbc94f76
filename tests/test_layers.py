"""The layers of the repository (GUIDE.md): scripts/ and hubconf.py on top, then
resnet_tools, then paddleinfo beside the network (resnet.py, blocks.py, configs/).

import-linter checks the packages with the contracts in .importlinter.  It takes
packages only, so what the single-file modules (resnet.py, blocks.py) and the entry
points (scripts/*.py, hubconf.py, not a package) import is read here from their source.
"""
import ast
import pathlib

import pytest
from conftest import REPO
from importlinter.cli import lint_imports

PACKAGES = ('resnet_tools', 'paddleinfo', 'configs')
SCRIPTS = sorted(path.stem for path in (REPO / 'scripts').glob('*.py'))
ENTRY_POINTS = [*(f'scripts/{name}.py' for name in SCRIPTS), 'hubconf.py']
# What each file may import of ours: the layers below it, nothing above, nothing beside.
ALLOWED = {'resnet.py': {'blocks', 'configs'},
           'blocks.py': {'configs'},
           **{path: {'resnet_tools', 'paddleinfo', 'resnet', 'blocks', 'configs'}
              for path in ENTRY_POINTS}}
OURS = {'resnet', 'blocks', 'configs', 'resnet_tools', 'paddleinfo', 'hubconf', 'scripts',
        *SCRIPTS}


def lint(config, capsys):
    """lint-imports' exit code and its report, for `config` (a path), without its cache."""
    code = lint_imports(config_filename=str(config), no_cache=True, no_logo=True)
    return code, capsys.readouterr().out


def imported_names(source):
    """The top-level names of every absolute import in `source`, those inside functions
    (imported when called) included."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split('.')[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split('.')[0])
    return names


def wrong_imports(path, source):
    """What the file at `path` (relative to the repository) imports of ours and may not."""
    return sorted((imported_names(source) & OURS) - ALLOWED[path])


def test_the_packages_keep_their_contracts(capsys):
    code, report = lint(REPO / '.importlinter', capsys)
    assert code == 0, report
    assert 'Contracts: 4 kept, 0 broken.' in report


def test_a_broken_contract_fails(tmp_path, capsys):
    # A contract the code does break: resnet_tools builds the network (weights.py imports
    # resnet), so forbidding it must fail and name that import.
    config = tmp_path / 'broken.ini'
    config.write_text('[importlinter]\nroot_packages =\n    resnet_tools\n'
                      'include_external_packages = True\n\n'
                      '[importlinter:contract:upward]\nname = resnet_tools without the network\n'
                      'type = forbidden\nsource_modules =\n    resnet_tools\n'
                      'forbidden_modules =\n    resnet\n')
    code, report = lint(config, capsys)
    assert code == 1
    assert 'resnet_tools without the network BROKEN' in report
    assert 'resnet_tools.weights -> resnet' in report


@pytest.mark.parametrize('path', sorted(ALLOWED))
def test_the_modules_and_entry_points_import_only_the_layers_below(path):
    assert wrong_imports(path, (REPO / path).read_text(encoding='utf-8')) == []


def test_no_package_imports_an_entry_point():
    # scripts/ is on sys.path only when a script runs: a package importing `summary` or
    # `hubconf` would reach upward (or fail from anywhere else).
    upward = {'hubconf', 'scripts', *SCRIPTS}
    for package in PACKAGES:
        for module in sorted((REPO / package).rglob('*.py')):
            names = imported_names(module.read_text(encoding='utf-8'))
            assert not names & upward, f'{module.relative_to(REPO)} imports {names & upward}'


def test_the_source_check_finds_an_import_upward():
    # resnet.py as it is, with the import that once made a circle, inside a function.
    source = (REPO / 'resnet.py').read_text(encoding='utf-8')
    assert wrong_imports('resnet.py', source) == []
    lazy = (source + '\n\ndef load(model, path):\n'
            '    from resnet_tools.weights import load_weights\n')
    assert wrong_imports('resnet.py', lazy) == ['resnet_tools']
    script = 'import summary\nfrom resnet_tools import cli\n'
    assert wrong_imports('scripts/train.py', script) == ['summary']


def test_every_module_of_ours_is_checked():
    # A new top-level module or package must be given its place in the layers.
    top_level = {path.stem for path in REPO.glob('*.py')} | {
        path.parent.name for path in REPO.glob('*/__init__.py')}
    assert top_level == {'resnet', 'blocks', 'hubconf', *PACKAGES}
    assert {pathlib.Path(path).name for path in ALLOWED} >= {'resnet.py', 'blocks.py',
                                                                'hubconf.py'}
