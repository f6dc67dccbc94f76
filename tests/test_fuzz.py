"""A quick sample of tests/fuzz_commands.py: the cheapest of its command lines (mostly
mistakes, no training longer than a second) run as a user runs them, two at a time,
and not one ends in a traceback, a hang or anything but its output or one line on
stderr.  The whole fuzz: python tests/fuzz_commands.py --runs 1000 --jobs 2 --seed 0"""
import signal

import fuzz_commands as fuzz
import pytest

SAMPLE = 24


def test_a_sample_of_command_lines_ends_in_output_or_one_line(tmp_path):
    cases = fuzz.cheap_sample(seed=0, count=SAMPLE)
    assert len(cases) == SAMPLE
    assert len({case.name for case in cases}) >= 8       # spread over the commands
    results = fuzz.run_cases(cases, jobs=2, timeout=60, folder=tmp_path)
    failures = [result for result in results if result.verdict in fuzz.FAILURES]
    assert failures == [], '\n'.join(fuzz.report(results))
    assert {result.verdict for result in results} <= {'ok', 'error'}


def test_the_cases_are_the_seeds_alone():
    # Case N of a seed is the same whatever the other cases and the signal rate.
    first = [fuzz.make_case(3, index) for index in range(40)]
    assert first == [fuzz.make_case(3, index) for index in range(40)]
    assert [case.words for case in first] == [fuzz.make_case(3, index, 1.0).words for index in range(40)]
    assert first != [fuzz.make_case(4, index) for index in range(40)]
    assert {case.name for case in (fuzz.make_case(0, index) for index in range(300))} == set(fuzz.COMMANDS)
    # ... and none is drawn so long that it would pass for a hang.
    assert all(fuzz.cost(case.name, case.words) <= fuzz.BUDGET for case in first)
    assert all(fuzz.make_case(0, index, 1.0).signal[0] in (signal.SIGINT, signal.SIGTERM)
               for index in range(10))


@pytest.mark.parametrize('code, stderr, verdict', [
    (0, '', 'ok'),
    (0, 'a warning of Paddle\n', 'ok'),
    (2, 'train.py: error: --epochs 0 is out of range: at least 1 (see --help)\n', 'error'),
    (2, 'train.py: warning: a note\ntrain.py: error: no\n', 'error'),
    (1, 'train.py: the loss is not finite\n', 'error'),
    (130, 'train.py: interrupted\n', 'error'),
    (143, 'train.py: terminated\n', 'error'),
    (2, 'UserWarning: No ccache found\ntrain.py: error: no\n', 'other'),
    (2, '\n', 'other'),
    (3, 'train.py: error: no\n', 'other'),
    (-11, '', 'other'),
    (2, 'summary.py: error: no\n', 'other'),
    (1, 'Traceback (most recent call last):\n  File "x"\nValueError: x\n', 'traceback'),
    (0, 'Exception ignored in: <_io.TextIOWrapper>\nBrokenPipeError\n', 'traceback'),
])
def test_the_classifier(code, stderr, verdict):
    assert fuzz.classify('train.py', code, stderr) == verdict
    assert fuzz.classify('train.py', None, '', timed_out=True) == 'hang'


def test_the_cost_of_a_line():
    # The bases are cheap; a full training run, all of compare.py or the default benchmark are not.
    for name, command in fuzz.COMMANDS.items():
        assert all(fuzz.cost(name, base) <= fuzz.BUDGET for base in command.bases), name
    assert fuzz.cost('train', ['--output', 't', '--epochs', '200']) > fuzz.BUDGET
    assert fuzz.cost('train', ['--output', 't', '--epochs', 'nan']) < 3
    assert fuzz.cost('compare', []) > fuzz.BUDGET
    assert fuzz.cost('benchmark', []) > fuzz.BUDGET
    assert fuzz.cost('degradation', ['--output', 'd']) > fuzz.BUDGET
    assert fuzz.cost('paddleinfo', ['bad_models.py:loop']) > fuzz.BUDGET


def test_the_report_fits_100_columns():
    case = fuzz.Case(7, 'draw', ('--output', 'x' * 300 + '.svg', '--layers', '18\n19'), '/dev/full')
    result = fuzz.Result(case, 'traceback', 1, 1.0, 'Traceback (most recent call last):\n' + 'y' * 250)
    lines = fuzz.report([result])
    assert max(map(len, lines)) <= fuzz.WIDTH
    assert any("$'18\\n19'" in line for line in lines)
