"""DOT sources for the site's diagrams: the life-cycle swim lane and the stage graph.

Pure functions of the model (no I/O). Layout technique for lanes (see
DESIGN.md): newrank, one cluster per lane in the lanes' order, an invisible
placeholder for every (lane, column) without a node, `rank=same` per column,
an invisible heavy chain through each lane's row, invisible flat edges that
stack the lanes in order within each column, and the real flow edges with
`constraint=false` so they never disturb the grid.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Callable

from ..model import Playbook
from .graphviz import label

# Tints with alpha read on white and on slate; text colour is set by CSS
# (see templates/assets/playbook.css) and falls back to a mid grey.
LANE_FILLS = ("#1e88e51a", "#43a0471a", "#fb8c001a", "#8e24aa1a", "#00acc11a", "#e539351a")
HIGHLIGHT_FILL = "#fbc02d55"
HIGHLIGHT_PEN = "#f9a825"
STEP_FILL = "#90a4ae33"
DECISION_FILL = "#ffb30033"
HANDOFF_COLOR = "#e65100"
FLOW_COLOR = "#78909c"
TEXT_COLOR = "#808080"
FONT = "Helvetica"

def wrap(text: str, width: int = 22, max_lines: int = 4) -> str:
    """Break long labels over lines (the full text stays in the tooltip).

    Real newlines survive graphviz.escape as line breaks.
    """
    lines = textwrap.wrap(text, width, max_lines=max_lines, placeholder=" …") or [text]
    return label("\n".join(lines))


UrlFor = Callable[[str, str], str]  # (step id, anchor) -> URL relative to the page


@dataclass(frozen=True)
class FlowNode:
    name: str  # DOT node name
    lane: str
    step: str
    anchor: str
    kind: str  # "step" | "decision"
    text: str


@dataclass(frozen=True)
class Flow:
    """The life cycle as a graph, computed once per model and shared by every diagram."""

    nodes: list[FlowNode]
    edges: list[tuple[str, str, str]]
    col: dict[str, int]

    @classmethod
    def of(cls, model: Playbook) -> "Flow":
        nodes, edges = _flow(model)
        return cls(nodes, edges, columns([n.name for n in nodes], edges))


def _flow(model: Playbook) -> tuple[list[FlowNode], list[tuple[str, str, str]]]:
    """Nodes and edges (from, to, decision answer) of the life cycle."""
    roles = model.by_id("roles")
    steps = model.by_id("steps")
    nodes: list[FlowNode] = []
    edges: list[tuple[str, str, str]] = []
    for step in model.steps:
        sname = f"step__{step.id}"
        nodes.append(FlowNode(sname, step.lane, step.id, "", "step", step.name))
        via_decision: set[str] = set()
        for d in step.decisions:
            dname = f"decision__{step.id}__{d.id}"
            lane = roles[d.owner].lane if d.owner in roles else step.lane
            nodes.append(FlowNode(dname, lane, step.id, f"decision-{d.id}", "decision", d.question))
            edges.append((sname, dname, ""))
            for o in d.outcomes:
                if o.next_step and o.next_step in steps:
                    edges.append((dname, f"step__{o.next_step}", o.when))
                    via_decision.add(o.next_step)
        for nxt in step.next:
            if nxt in steps and nxt not in via_decision:
                edges.append((sname, f"step__{nxt}", ""))
    return nodes, edges


def columns(names: list[str], edges: list[tuple[str, str, str]]) -> dict[str, int]:
    """Longest-path layering in document order; edges closing a cycle are ignored."""
    succ: dict[str, list[str]] = {n: [] for n in names}
    for a, b, _ in edges:
        if a in succ and b in succ:
            succ[a].append(b)
    # Drop back edges found by a depth-first walk from each node in order.
    state: dict[str, int] = {}
    forward: dict[str, list[str]] = {n: [] for n in names}
    for root in names:
        if root in state:
            continue
        stack = [(root, iter(succ[root]))]
        state[root] = 1
        while stack:
            node, it = stack[-1]
            child = next(it, None)
            if child is None:
                state[node] = 2
                stack.pop()
                continue
            if state.get(child) == 1:
                continue  # back edge: a loop in the process, drawn but not layered
            forward[node].append(child)
            if child not in state:
                state[child] = 1
                stack.append((child, iter(succ[child])))
    indeg = {n: 0 for n in names}
    for a in names:
        for b in forward[a]:
            indeg[b] += 1
    col = {n: 0 for n in names}
    ready = [n for n in names if indeg[n] == 0]
    order = {n: i for i, n in enumerate(names)}
    while ready:
        ready.sort(key=order.__getitem__)
        n = ready.pop(0)
        for b in forward[n]:
            col[b] = max(col[b], col[n] + 1)
            indeg[b] -= 1
            if indeg[b] == 0:
                ready.append(b)
    return col


MAX_LANES_ON_ROLE_PAGE = 8


def neighbour_lanes(model: Playbook, lane_id: str, flow: Flow | None = None) -> set[str]:
    """A lane and the lanes its steps hand work to or receive work from."""
    flow = flow or Flow.of(model)
    nodes, edges = flow.nodes, flow.edges
    lane_of = {n.name: n.lane for n in nodes}
    out = {lane_id}
    for a, b, _ in edges:
        if lane_of.get(a) == lane_id and b in lane_of:
            out.add(lane_of[b])
        if lane_of.get(b) == lane_id and a in lane_of:
            out.add(lane_of[a])
    return out


def swimlane(model: Playbook, url_for: UrlFor, highlight_lane: str | None = None,
             lanes: set[str] | None = None, flow: Flow | None = None) -> str:
    """The life cycle as lanes (bands, in lane order) by columns of the flow (down the page).

    `lanes` limits the drawing to some lanes (in their usual order); steps
    outside them and their edges are left out.
    """
    import graphviz

    flow = flow or Flow.of(model)
    nodes, edges, col = flow.nodes, flow.edges, flow.col
    fill_of = {lane.id: LANE_FILLS[i % len(LANE_FILLS)] for i, lane in enumerate(model.lanes)}
    if lanes is not None:
        nodes = [n for n in nodes if n.lane in lanes]
        kept = {n.name for n in nodes}
        edges = [e for e in edges if e[0] in kept and e[1] in kept]
        col = columns([n.name for n in nodes], edges)
        model = model.model_copy(update={"lanes": [lane for lane in model.lanes if lane.id in lanes]})
    ncols = max(col.values(), default=0) + 1
    lane_of = {n.name: n.lane for n in nodes}
    handoff_of = {s.id: s.handoff for s in model.steps if s.handoff}
    handoffs = model.by_id("handoffs")

    g = graphviz.Digraph("swimlane")
    # Lanes are vertical bands side by side and the flow runs down the page, so a
    # long life cycle scrolls like the rest of the page instead of shrinking.
    g.attr("graph", newrank="true", rankdir="TB", bgcolor="transparent", nodesep="0.3", ranksep="0.35",
           fontname=FONT, fontcolor=TEXT_COLOR, labelloc="t", splines="spline", compound="true")
    g.attr("node", fontname=FONT, fontsize="11", fontcolor=TEXT_COLOR, color=FLOW_COLOR, style="filled,rounded",
           shape="box", fillcolor=STEP_FILL, width="1.6", height="0.6", margin="0.1,0.05")
    g.attr("edge", color=FLOW_COLOR, fontname=FONT, fontsize="8", fontcolor=TEXT_COLOR, arrowsize="0.7")

    grid: dict[tuple[str, int], str] = {}
    for lane in model.lanes:
        highlighted = lane.id == highlight_lane
        with g.subgraph(name=f"cluster_lane__{lane.id}") as c:
            c.attr(label=label(lane.name), id=f"swimlane-{lane.id}",
                   style="filled", fillcolor=HIGHLIGHT_FILL if highlighted else fill_of[lane.id],
                   color=HIGHLIGHT_PEN if highlighted else FLOW_COLOR, penwidth="3" if highlighted else "1",
                   fontsize="13", fontcolor=TEXT_COLOR,
                   **{"class": "lane lane-highlight" if highlighted else "lane"})
            for n in nodes:
                if n.lane != lane.id:
                    continue
                url = url_for(n.step, n.anchor)
                if n.kind == "decision":
                    c.node(n.name, label=wrap(n.text, 18, 3), tooltip=label(n.text), URL=url, shape="diamond",
                           style="filled", fillcolor=DECISION_FILL, width="1.6", height="0.8", fontsize="9",
                           margin="0", fixedsize="false",
                           **{"class": "decision"})
                else:
                    c.node(n.name, label=wrap(n.text), tooltip=label(n.text), URL=url, **{"class": "step"})
                grid.setdefault((lane.id, col[n.name]), n.name)
            row: list[str] = []
            for k in range(ncols):
                if (lane.id, k) not in grid:
                    ph = f"ph__{lane.id}__{k}"
                    c.node(ph, label="", style="invis", width="1.6", height="0.6")
                    grid[(lane.id, k)] = ph
                row.append(grid[(lane.id, k)])
            for a, b in zip(row, row[1:]):
                c.edge(a, b, style="invis", weight="100")
    for k in range(ncols):
        members = [n.name for n in nodes if col[n.name] == k]
        members += [grid[(lane.id, k)] for lane in model.lanes if grid[(lane.id, k)] not in members]
        with g.subgraph() as s:
            s.attr(rank="same")
            for m in members:
                s.node(m)
        # Stack the lanes top to bottom in their order (a flat edge orders its rank).
        stack = [grid[(lane.id, k)] for lane in model.lanes]
        for a, b in zip(stack, stack[1:]):
            g.edge(a, b, style="invis")
    for a, b, when in edges:
        cross = lane_of.get(a) != lane_of.get(b)
        attrs = {"constraint": "false"}
        if when:
            # xlabel: placed after layout, so long answers do not widen the lanes.
            attrs["xlabel"] = wrap(when, 20, 2)
            attrs["tooltip"] = label(when)
        if cross:
            attrs.update(color=HANDOFF_COLOR, penwidth="2.2", style="dashed", arrowsize="0.9")
            step_id = a.split("__")[1]
            h = handoffs.get(handoff_of.get(step_id, ""))
            if h is not None and not when:
                attrs["xlabel"] = wrap(h.name, 20, 2)
                attrs["tooltip"] = label(h.name)
            attrs["class"] = "handoff"
        else:
            attrs["class"] = "flow"
        g.edge(a, b, **attrs)
    return g.source


def stage_graph(model: Playbook, url_for_stage: Callable[[str], str]) -> str:
    """Stages and their allowed transitions, labelled with the role that makes each change."""
    import graphviz

    roles = model.by_id("roles")
    stages = model.by_id("stages")
    g = graphviz.Digraph("stages")
    g.attr("graph", rankdir="TB", bgcolor="transparent", fontname=FONT, nodesep="0.5", ranksep="0.5",
           forcelabels="true")
    g.attr("node", fontname=FONT, fontsize="11", fontcolor=TEXT_COLOR, color=FLOW_COLOR, style="filled,rounded",
           shape="box", fillcolor=STEP_FILL)
    g.attr("edge", color=FLOW_COLOR, fontname=FONT, fontsize="9", fontcolor=TEXT_COLOR, arrowsize="0.7")
    for s in model.stages:
        attrs = {"URL": url_for_stage(s.id), "tooltip": label(s.name), "class": "stage"}
        if s.initial:
            attrs["penwidth"] = "2.5"
        if s.terminal:
            attrs["peripheries"] = "2"
        if s.converted:
            attrs["fillcolor"] = "#43a04740"
        elif s.closed:
            attrs["fillcolor"] = "#e5393540"
        g.node(f"stage__{s.id}", label=wrap(s.name), **attrs)
    for s in model.stages:
        for t in s.transitions:
            if t.to not in stages:
                continue
            owner = roles.get(t.owner)
            g.edge(f"stage__{s.id}", f"stage__{t.to}", xlabel=wrap(owner.name, 18, 2) if owner else "",
                   tooltip=label(owner.name) if owner else "", **{"class": "transition"})
    return g.source
