"""The layers of the repository: scripts/ and hubconf.py on top, then resnet_tools, cut
by job into subpackages with layers of their own, then paddleinfo beside the network
(the package resnet).

import-linter checks the packages with the contracts in .importlinter, imports inside
functions included.  It takes packages only, so what the entry points (scripts/*.py and
hubconf.py, which are files, not a package) import is read here from their source, and
so is what paddleinfo's own tests (tests/paddleinfo/, run after `pip install .` without
the reproduction) import: nothing of the reproduction, nor of its tests.
"""
import ast
import configparser
import pathlib

import pytest
from helpers import REPO
from importlinter.cli import lint_imports

PACKAGES = ('resnet_tools', 'paddleinfo', 'resnet')
SCRIPTS = sorted(path.stem for path in (REPO / 'scripts').glob('*.py'))
ENTRY_POINTS = [*(f'scripts/{name}.py' for name in SCRIPTS), 'hubconf.py']
# What each entry point may import of ours: the layers below it (and, for a script, the
# bootstrap beside it), nothing above, nothing beside.
ALLOWED = {path: {'resnet_tools', 'paddleinfo', 'resnet'} | ({'_bootstrap'} if path.startswith('scripts/')
                                                              and path != 'scripts/_bootstrap.py' else set())
           for path in ENTRY_POINTS}
OURS = {'resnet', 'resnet_tools', 'paddleinfo', 'hubconf', 'scripts', *SCRIPTS}


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
    assert 'Contracts: 7 kept, 0 broken.' in report


def contract_with(tmp_path, contract):
    """A copy of .importlinter with one more contract."""
    config = tmp_path / 'contracts.ini'
    config.write_text((REPO / '.importlinter').read_text(encoding='utf-8') + contract)
    return config


@pytest.mark.parametrize('contract, broken, import_', [
    # A contract the code does break: the weights' names build the network (names.py
    # imports resnet), so forbidding it must fail and name that import.
    ('[importlinter:contract:upward]\nname = weights without the network\ntype = forbidden\n'
     'source_modules =\n    resnet_tools.weights\nforbidden_modules =\n    resnet\n',
     'weights without the network', 'resnet_tools.weights.names -> resnet'),
    # The layers turned upside down: training put above the paper, which trains with it,
    # must break, and name the import that runs the wrong way.
    ('[importlinter:contract:upside_down]\nname = training above the paper\ntype = layers\n'
     'containers =\n    resnet_tools\nlayers =\n    training\n    paper\n',
     'training above the paper', 'resnet_tools.paper.networks -> resnet_tools.training'),
])
def test_a_contract_the_code_breaks_fails_and_names_the_import(tmp_path, capsys, contract,
                                                               broken, import_):
    code, report = lint(contract_with(tmp_path, '\n' + contract), capsys)
    assert code == 1
    assert f'{broken} BROKEN' in report
    assert import_ in report


def resnet_tools_layers():
    """The names in the layers of the resnet_tools contract, e.g. {'cli', 'views', ...}."""
    config = configparser.ConfigParser()
    config.read(REPO / '.importlinter', encoding='utf-8')
    layers = config['importlinter:contract:resnet_tools']['layers'].split()
    return {name for name in layers if name != '|'}


def test_every_subpackage_of_resnet_tools_has_its_layer():
    # A new module or folder in resnet_tools must be given its place in the layers.
    inside = {path.stem for path in (REPO / 'resnet_tools').glob('*.py') if path.stem != '__init__'}
    inside |= {path.parent.name for path in (REPO / 'resnet_tools').glob('*/__init__.py')}
    assert inside == resnet_tools_layers()


@pytest.mark.parametrize('path', sorted(ALLOWED))
def test_the_entry_points_import_only_the_layers_below(path):
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
    script = 'import summary\nfrom resnet_tools import cli\n'
    assert wrong_imports('scripts/train.py', script) == ['summary']
    lazy = 'def load():\n    import hubconf\n'
    assert wrong_imports('scripts/summary.py', lazy) == ['hubconf']


def test_every_module_of_ours_is_checked():
    # A new top-level module or package must be given its place in the layers.
    top_level = {path.stem for path in REPO.glob('*.py')} | {
        path.parent.name for path in REPO.glob('*/__init__.py')}
    assert top_level == {'hubconf', *PACKAGES}
    assert {pathlib.Path(path).name for path in ALLOWED} >= {'hubconf.py', '_bootstrap.py'}


# --- paddleinfo's own tests: they run after `pip install .`, without the reproduction ---

TESTS = REPO / 'tests'
# What tests/paddleinfo/ may not import: the reproduction (its packages, scripts and
# hubconf.py) and the reproduction's tests and their helpers (tests/*.py).
REPRODUCTION = {'resnet', 'resnet_tools', 'hubconf', 'scripts', *SCRIPTS,
                *(path.stem for path in TESTS.glob('*.py'))}


def reproduction_imports(source):
    """What `source`, a file of tests/paddleinfo/, imports of the reproduction."""
    return sorted(imported_names(source) & REPRODUCTION)


def test_paddleinfos_tests_import_nothing_of_the_reproduction():
    files = sorted((TESTS / 'paddleinfo').rglob('*.py'))
    assert {'conftest.py', 'summaries.py', 'test_api.py', 'test_command.py'} <= {
        path.name for path in files}
    assert {'resnet', 'resnet_tools', 'helpers', 'hubconf', 'summary', 'conftest'} <= REPRODUCTION
    for path in files:
        assert reproduction_imports(path.read_text(encoding='utf-8')) == [], path.relative_to(REPO)


def test_the_scan_of_paddleinfos_tests_finds_an_import_of_the_reproduction():
    source = 'import paddle\n\n\ndef table():\n    from resnet_tools.views import summary\n'
    assert reproduction_imports(source) == ['resnet_tools']
    assert reproduction_imports('from helpers import REPO\nimport summary\n') == ['helpers', 'summary']


def test_no_two_test_modules_share_a_name():
    # pytest imports a test file by its name alone (no tests/__init__.py): two of one
    # name, in tests/ and tests/paddleinfo/, would clash.  conftest.py is pytest's own.
    names = [path.name for path in TESTS.rglob('*.py') if path.name != 'conftest.py']
    assert len(names) == len(set(names)), sorted(name for name in names if names.count(name) > 1)
