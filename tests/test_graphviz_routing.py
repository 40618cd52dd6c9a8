"""Large playbooks still build: the handoff routing pass stays within graphviz's time limit.

Obstacle-avoiding splines in `neato -n2` took longer than DOT_TIMEOUT on a phase
of the 20x benchmark playbook, so `playbook build` failed on it. Past a budget of
boxes x routed edges the handoffs are drawn as straight lines instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.site import scaled_data
from generator.load import load_data
from generator.model import Playbook
from generator.site import diagrams
from generator.site.graphviz import AFTER_LAYOUT, render_svg, routing_splines

DEFAULT = Path(__file__).parent.parent / "process" / "lead-management"


def _phases(scale: int):
    model = Playbook.model_validate(scaled_data(load_data(DEFAULT).data, scale))
    flow = diagrams.Flow.of(model)
    for ph in diagrams.phases(model):
        yield model, ph, diagrams.swimlane(model, lambda step, anchor="": f"#{step}", phase=ph, flow=flow)


def test_the_default_playbook_keeps_curved_routing():
    for _, ph, src in _phases(1):
        layout, later = src.split(AFTER_LAYOUT)
        assert routing_splines(layout, later) == "spline", ph


@pytest.mark.slow
def test_a_twenty_fold_playbook_renders_every_phase():
    seen_line = False
    for model, ph, src in _phases(20):
        layout, later = src.split(AFTER_LAYOUT)
        seen_line |= routing_splines(layout, later) == "line"
        svg = render_svg(src)  # raised GraphvizError (timeout) before the budget
        steps = [s.id for s in model.steps if s.phase == ph]
        assert svg.startswith("<svg") and all(f'href="#{s}"' in svg for s in steps), ph
    assert seen_line
