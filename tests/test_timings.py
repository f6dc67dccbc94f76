"""resnet_tools.benchmarks.summary_timings (the arithmetic of scripts/timings.py, with a
made-up clock: no timing here) and paddleinfo.progress (a bar only when stderr is a
terminal)."""
import io
import sys

from paddleinfo import progress
from resnet_tools.benchmarks import summary_timings as timings


def test_ratios_are_medians_over_the_import_median():
    seconds = {timings.IMPORT: [2.0, 1.0, 1.5], ('scripts/summary.py', '--overview'): [9.0, 3.0, 6.0]}
    clock = iter(value for round_ in zip(*seconds.values()) for value in round_)
    times = timings.measure([('scripts/summary.py', '--overview')], 3, clock=lambda _: next(clock))
    assert times == seconds
    (_, base, one), (text, median, ratio) = timings.ratios(times)
    assert (base, one) == (1.5, 1.0)
    assert text == 'python scripts/summary.py --overview' and (median, ratio) == (6.0, 4.0)
    table = timings.table(times, [4.0]).splitlines()
    assert table[2] == '| `python -c "import paddle"` | 1.50 | 1.00 |  |'
    assert table[3] == '| `python scripts/summary.py --overview` | 6.00 | 4.00 | <= 4: met |'


def test_the_table_fits_100_columns_and_writes_cut_commands_in_full():
    commands = [command for command, _ in timings.COMMANDS]
    times = {timings.IMPORT: [1.0], **{command: [12.345] for command in commands}}
    lines = timings.table(times, [1.8] * len(commands)).splitlines()
    assert max(map(len, lines)) <= 100
    models = timings.command_text(commands[3])
    assert models.startswith('python scripts/summary.py --models alexnet') and len(models) > 100
    assert f'| `{timings.cut(models)}` |' in lines[6] and timings.cut(models).endswith(' ...')
    assert timings.cut('python -m paddleinfo docs/examples/nets.py:lstm --input 50x16') == (
        'python -m paddleinfo nets.py:lstm --input 50x16')
    assert lines[lines.index('In full:') + 1].strip() == models[:len(lines[
        lines.index('In full:') + 1].strip())]
    assert ' '.join(line.strip() for line in lines[lines.index('In full:') + 1:]).count(
        'python ') == sum(timings.cut(text) != text for text, _, _ in timings.ratios(times))


def test_every_timed_command_has_a_target_or_none():
    for command, target in timings.COMMANDS + timings.SLOW_COMMANDS:
        script = command[2].split(':')[0] if command[:2] == ('-m', 'paddleinfo') else command[0]
        assert script in ('resnet34', 'resnet50') or (timings.REPO / script).is_file()
        assert target is None or target > 1


def test_the_training_estimate_is_timed_against_the_forward_summary():
    (command, reference, target), = timings.RELATIVE
    assert command in [c for c, _ in timings.COMMANDS] and reference in [c for c, _ in
                                                                        timings.COMMANDS]
    # import 1 s; the forward summary 3 s; the training estimate 4.5 s: 1.5 x whole,
    # 1.75 x past the import (3.5 s against 2 s).
    times = {timings.IMPORT: [1.0], reference: [3.0], command: [4.5]}
    line, = timings.relative_lines(times)
    assert '1.50 x' in line and f'target <= {target:g}: met' in line and '1.75 x' in line
    line, = timings.relative_lines({**times, command: [7.0]})
    assert '2.33 x' in line and 'missed' in line


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_shows_only_on_a_terminal(monkeypatch):
    for stream, shown in ((io.StringIO(), False), (Terminal(), True)):
        monkeypatch.setattr(sys, 'stderr', stream)
        assert list(progress.progress(range(3), 'counting')) == [0, 1, 2]
        assert ('counting' in stream.getvalue()) == shown
        if not shown:
            assert stream.getvalue() == ''


def test_a_hand_advanced_bar_shows_only_on_a_terminal(monkeypatch):
    for stream, shown in ((io.StringIO(), False), (Terminal(), True)):
        monkeypatch.setattr(sys, 'stderr', stream)
        with progress.bar(4, 'epoch 1/1', mininterval=0) as steps:
            steps.update(4)
        assert ('epoch 1/1' in stream.getvalue()) == shown
