"""The stage table of one training step of a ResNet (summary.py --stages --training): for
each stage of the paper's Table 1, the multiply-adds of its forward pass and of its
gradients, the activations it keeps for the backward pass, and, measured with --time,
its share of a training step on this machine.

The numbers are paddleinfo's (paddleinfo.cost): the backward pass is Paddle's own,
appended to the traced Program, and nothing runs but with --time.
"""
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import resnet
from paddleinfo import cost as costs
from paddleinfo.profile import profile_inputs
from paddleinfo.result import Input
from paddleinfo.render import Table
from paddleinfo.view import Step
from resnet.configs import CIFAR_ARCHS
from resnet_tools.specs import display_name
from resnet_tools.views.teaching import HEAD, stage_blocks, stage_of

OTHER = 'loss, other'   # made by no stage: the loss (a ResNet's forward() does nothing between stages)


@dataclass(frozen=True)
class TrainingStageRow:
    stage: str
    forward_macs: int
    input_grad_macs: int
    weight_grad_macs: int
    kept_bytes: int                   # activations kept for the backward pass
    step_share_percent: float         # of the step's MACs
    time_share_percent: float | None  # of the measured step, with --time


@dataclass
class TrainingStageTable:
    network: str
    input_shape: list[int]
    rows: list[TrainingStageRow]
    cost: dict[str, Any]              # paddleinfo.cost.TrainingCost.as_dict()
    timing: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {'view': 'training stages', **asdict(self)}


def training_stage_table(arch: str, input_shape: Sequence[int], num_classes: int,
                         variant: str | None, step: Step) -> TrainingStageTable:
    """The training-step stage table of the network paddle.vision calls `arch`, on an
    input of `input_shape` (batch included)."""
    def build() -> Any:
        if arch in CIFAR_ARCHS:
            return resnet.build(arch, num_classes=num_classes, in_channels=input_shape[1])
        return resnet.build(arch, num_classes=num_classes, variant=variant)
    profile = profile_inputs(build, [Input(list(input_shape))], training=True)
    cost, timing = costs.asked(build, profile, step, arch)
    assert cost is not None and profile.training is not None   # (step.training: asked says)
    stages = stage_of(profile.model)
    order = [stage for stage, _ in stage_blocks(profile.model)] + [HEAD]
    if 'conv1' in stages.values():
        order.insert(0, 'conv1')
    grads = profile.training.grad_macs
    times = {row.layer: (row.forward_s or 0) + (row.backward_s or 0)
             for row in timing.rows} if timing else {}
    kept: dict[str, int] = {}
    for buffer in profile.training.memory.buffers:
        if buffer.kept:
            stage = stages.get(buffer.owner, OTHER)
            kept[stage] = kept.get(stage, 0) + buffer.bytes(step.precision)
    rows = []
    for stage in order + ([OTHER] if OTHER in kept else []):
        members = [row for row in profile.rows if stages.get(row.layer, OTHER) == stage]
        forward = sum(row.macs or 0 for row in members)
        inputs = sum(grads[row.layer].inputs for row in members if row.layer in grads)
        weights = sum(grads[row.layer].weights for row in members if row.layer in grads)
        seconds = sum(times.get(row.layer, 0.0) for row in members)
        rows.append(TrainingStageRow(
            stage, forward, inputs, weights, kept.get(stage, 0),
            round(100 * (forward + inputs + weights) / cost.step_macs, 1),
            round(100 * seconds / timing.step_s, 1) if timing and timing.step_s else None))
    return TrainingStageTable(
        arch if arch in CIFAR_ARCHS else display_name(arch), list(input_shape), rows,
        cost.as_dict(), costs.timing_summary(timing) if timing else None, list(cost.notes))


def training_stage_view(data: TrainingStageTable) -> Table:
    timed = data.timing is not None
    header = ['Stage', 'Forward GMACs', 'dInput GMACs', 'dWeight GMACs', 'Kept', 'Step MACs']
    if timed:
        header.append('Step time')
    body, csv_rows = [], []
    for row in data.rows:
        line = [row.stage, giga(row.forward_macs), giga(row.input_grad_macs),
                giga(row.weight_grad_macs), costs.readable_bytes(row.kept_bytes),
                f'{row.step_share_percent:.1f} %']
        if timed:
            line.append('-' if row.time_share_percent is None
                        else f'{row.time_share_percent:.1f} %')
        body.append(line)
        csv_rows.append(asdict(row))
    cost = data.cost
    # The stages' times are measured with hooks: their sum is what they are, not 100 %.
    timed_share = sum(row.time_share_percent or 0.0 for row in data.rows)
    body.append(['total', giga(cost['forward_macs']), giga(cost['input_grad_macs']),
                 giga(cost['weight_grad_macs']),
                 costs.readable_bytes(cost['memory']['activations']), '100.0 %']
                + ([f'{timed_share:.1f} %'] if timed else []))
    notes = [costs.step_lines(cost, data.input_shape[0]), costs.memory_lines(cost)]
    if timed:
        assert data.timing is not None
        notes.append(costs.timing_lines(data.timing, cost, cost['forward_macs'], per_row=False))
        notes.append('Step time: a stage\'s layers\' forward and backward time, measured with '
                     'hooks, as a share of the whole step measured without them; the rest is '
                     'the code between layers, the loss and the optimizer\'s update.')
    title = f'{data.network}, input {data.input_shape}: one training step, by stage'
    return title, header, body, csv_rows, notes + data.notes


def giga(value: int) -> str:
    return f'{value / 1e9:.3f}'
