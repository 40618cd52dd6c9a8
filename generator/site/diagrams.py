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

import graphviz

from ..model import Playbook
from .graphviz import AFTER_LAYOUT, label

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

# Every box of a swim lane is this wide, so every lane is as wide as the others.
NODE_WIDTH = 1.7  # inches
STEP_CHARS = 20  # characters per line that fit NODE_WIDTH at 11 pt
DECISION_CHARS = 19  # a hexagon's label sits inside its slanted sides
EDGE_CHARS = 16
SHORT_ANSWER = 16  # longer decision answers go to the legend under the diagram, keyed
STUB_CHARS = 18


def lines(text: str, width: int) -> list[str]:
    """The whole text over lines of at most `width` characters: nothing is ever cut."""
    return textwrap.wrap(str(text), width, break_on_hyphens=False) or [str(text)]


def wrap(text: str, width: int = STEP_CHARS) -> str:
    """A label broken over lines; real newlines survive graphviz.escape as line breaks."""
    return label("\n".join(lines(text, width)))


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


def columns(names: list[str], edges: list[tuple[str, str, str]],
            lane_of: dict[str, str] | None = None) -> dict[str, int]:
    """Longest-path layering in document order; edges closing a cycle are ignored.

    With `lane_of`, no two nodes of one lane share a column (the later one
    moves down and its successors with it): two boxes side by side would make
    that lane wider than the others.
    """
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
    topo: list[str] = []
    taken: set[tuple[str, int]] = set()
    while ready:
        ready.sort(key=order.__getitem__)
        n = ready.pop(0)
        topo.append(n)
        if lane_of is not None:
            while (lane_of.get(n), col[n]) in taken:
                col[n] += 1
            taken.add((lane_of.get(n), col[n]))
        for b in forward[n]:
            col[b] = max(col[b], col[n] + 1)
            indeg[b] -= 1
            if indeg[b] == 0:
                ready.append(b)
    return col


MAX_LANES_ON_ROLE_PAGE = 8


def phases(model: Playbook) -> list[str]:
    """The playbook's phases in the order its steps first use them."""
    return list(dict.fromkeys(s.phase for s in model.steps))


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


def _graph(name: str):
    """A digraph with the site's look (its accessible name is on the page's figure)."""
    import graphviz

    g = graphviz.Digraph(name)
    g.attr("graph", newrank="true", rankdir="TB", bgcolor="transparent", nodesep="0.25", ranksep="0.3",
           fontname=FONT, fontcolor=TEXT_COLOR, labelloc="t", splines="spline", compound="true",
           forcelabels="true")
    g.attr("node", fontname=FONT, fontsize="11", fontcolor=TEXT_COLOR, color=FLOW_COLOR, style="filled,rounded",
           shape="box", fillcolor=STEP_FILL, width=str(NODE_WIDTH), height="0.5", margin="0.08,0.04",
           fixedsize="true")
    g.attr("edge", color=FLOW_COLOR, fontname=FONT, fontsize="9", fontcolor=TEXT_COLOR, arrowsize="0.7")
    return g


def _node_attrs(n: FlowNode, url: str) -> dict[str, str]:
    """Fixed-size boxes and diamonds as tall as their wrapped label needs."""
    if n.kind == "decision":
        # A hexagon: a diamond holding a whole question would be twice as tall.
        text = lines(n.text, DECISION_CHARS)
        return dict(label=label("\n".join(text)), tooltip=label(n.text), URL=url, shape="hexagon", style="filled",
                    fillcolor=DECISION_FILL, fontsize="10", margin="0",
                    height=f"{0.3 + 0.16 * len(text):.2f}", **{"class": "decision"})
    text = lines(n.text, STEP_CHARS)
    return dict(label=label("\n".join(text)), tooltip=label(n.text), URL=url,
                height=f"{max(0.5, 0.16 + 0.17 * len(text)):.2f}", **{"class": "step"})


def _gap(label_lines: int) -> dict[str, str]:
    """Extra ranks between two rows whose arrow carries an answer of this many lines.

    An answer is an xlabel, which dot places after the layout without making room for it
    (a real edge label would widen its lane): with rows one rank apart the gap is about one
    line high, so the label would lie on the boxes. Each extra rank adds about two lines.
    """
    return {"minlen": str(1 + (label_lines + 1) // 2)} if label_lines else {}


def _stub_attrs(text: str, url: str, kind: str) -> dict[str, str]:
    """A link to a step drawn elsewhere (another phase, another lane's page)."""
    text_lines = lines(text, STUB_CHARS)
    return dict(label=label("\n".join(text_lines)), tooltip=label(text), URL=url, shape="note", style="dashed",
                fontsize="9", width=str(NODE_WIDTH), height=f"{max(0.4, 0.12 + 0.15 * len(text_lines)):.2f}",
                **{"class": f"stub stub-{kind}"})


def swimlane(model: Playbook, url_for: UrlFor, highlight_lane: str | None = None,
             lanes: set[str] | None = None, flow: Flow | None = None, phase: str | None = None,
             phase_url: Callable[[str], str] | None = None) -> str:
    """The life cycle as lanes (bands, in lane order) by columns of the flow (down the page).

    `lanes` limits the drawing to some lanes (in their usual order); steps
    outside them and their edges are left out. `phase` draws one phase: its
    steps, and a linked stub for each step of another phase that it comes
    from or leads to, so the handoffs between phases never cross the page.
    """
    flow = flow or Flow.of(model)
    nodes, edges = list(flow.nodes), list(flow.edges)
    fill_of = {lane.id: LANE_FILLS[i % len(LANE_FILLS)] for i, lane in enumerate(model.lanes)}
    step_names = {s.id: s.name for s in model.steps}
    phase_of = {s.id: s.phase for s in model.steps}
    stubs: dict[str, tuple[str, str, str]] = {}  # stub node -> (text, url, kind)
    if phase is not None:
        inside = {n.name for n in nodes if phase_of.get(n.step) == phase}
        by_name = {n.name: n for n in nodes}
        kept_edges = []
        for a, b, when in edges:
            if a in inside and b in inside:
                kept_edges.append((a, b, when))
            elif a in inside or b in inside:
                other = by_name[b if a in inside else a]
                kind = "out" if a in inside else "in"
                stub = f"stub__{kind}__{other.step}"
                where = phase_of[other.step]
                text = (f"Next: {step_names[other.step]} ({where})" if kind == "out"
                        else f"From: {step_names[other.step]} ({where})")
                url = phase_url(where) if phase_url else url_for(other.step, "")
                if stub not in stubs:  # one box, however many answers lead to it
                    stubs[stub] = (text, url, kind)
                    nodes.append(FlowNode(stub, other.lane, other.step, "", "stub", text))
                kept_edges.append((stub, b, when) if kind == "in" else (a, stub, when))
        nodes = [n for n in nodes if n.name in inside or n.name in stubs]
        edges = list(dict.fromkeys(kept_edges))
    if lanes is not None:
        nodes = [n for n in nodes if n.lane in lanes]
        model = model.model_copy(update={"lanes": [lane for lane in model.lanes if lane.id in lanes]})
    kept = {n.name for n in nodes}
    edges = [e for e in edges if e[0] in kept and e[1] in kept]
    lane_of = {n.name: n.lane for n in nodes}
    step_of = {n.name: n.step for n in nodes}  # every node, stubs included, knows its step
    col = columns([n.name for n in nodes], edges, lane_of)
    ncols = max(col.values(), default=0) + 1
    handoff_of = {s.id: s.handoff for s in model.steps if s.handoff}
    handoffs = model.by_id("handoffs")

    keys = answer_keys(edges)
    merged: dict[tuple[str, str], list[str]] = {}
    for a, b, when in edges:
        merged.setdefault((a, b), []).append(when)
    # Lines of the answer label on each arrow between two neighbouring rows of one lane, by
    # the upper row: those rows are pushed apart to hold it (see _gap).
    gaps: dict[int, int] = {}
    for (a, b), whens in merged.items():
        answers = [w if (a, b, w) not in keys else keys[(a, b, w)] for w in whens if w]
        if answers and lane_of.get(a) == lane_of.get(b) and col[b] - col[a] == 1:
            gaps[col[a]] = max(gaps.get(col[a], 0), len(lines("; ".join(answers), EDGE_CHARS)))

    g = _graph("swimlane" + (f"-{phase}" if phase else ""))
    # dot orders clusters by the order it first meets their nodes (following every
    # edge) and does not honour flat edges between clusters, so handoffs would
    # shuffle the lanes. So the layout has no cross-lane edge: a header row
    # declared first and chained left to right fixes the lane order, and the
    # handoffs are routed afterwards around the placed boxes (AFTER_LAYOUT).
    later = graphviz.Digraph()
    heads = [f"head__{lane.id}" for lane in model.lanes]
    for a, b in zip(heads, heads[1:]):
        g.edge(a, b, style="invis")
    grid: dict[tuple[str, int], str] = {}
    # Every lane's title takes as many lines as the longest, so the lanes start level.
    titles = {lane.id: lines(lane.name, 18) for lane in model.lanes}
    title_lines = max((len(t) for t in titles.values()), default=1)
    for lane in model.lanes:
        highlighted = lane.id == highlight_lane
        with g.subgraph(name=f"cluster_lane__{lane.id}") as c:
            title = titles[lane.id] + [" "] * (title_lines - len(titles[lane.id]))
            c.attr(label=label("\n".join(title)), id=f"swimlane-{lane.id}" + (f"-{phase}" if phase else ""),
                   style="filled", fillcolor=HIGHLIGHT_FILL if highlighted else fill_of[lane.id],
                   color=HIGHLIGHT_PEN if highlighted else FLOW_COLOR, penwidth="3" if highlighted else "1",
                   fontsize="12", fontcolor=TEXT_COLOR,
                   **{"class": "lane lane-highlight" if highlighted else "lane"})
            for n in nodes:
                if n.lane != lane.id:
                    continue
                if n.kind == "stub":
                    text, url, kind = stubs[n.name]
                    c.node(n.name, **_stub_attrs(text, url, kind))
                else:
                    c.node(n.name, **_node_attrs(n, url_for(n.step, n.anchor)))
                grid.setdefault((lane.id, col[n.name]), n.name)
            c.node(f"head__{lane.id}", label="", style="invis", height="0.05")
            row: list[str] = [f"head__{lane.id}"]
            for k in range(ncols):
                if (lane.id, k) not in grid:
                    ph = f"ph__{lane.id}__{k}"
                    c.node(ph, label="", style="invis", height="0.3")
                    grid[(lane.id, k)] = ph
                row.append(grid[(lane.id, k)])
            for k, (a, b) in enumerate(zip(row, row[1:])):
                # Pair k joins column k - 1 to column k (row[0] is the header).
                c.edge(a, b, style="invis", weight="100", **_gap(gaps.get(k - 1, 0)))
    with g.subgraph() as s:
        s.attr(rank="min")
        for h in heads:
            s.node(h)
    for k in range(ncols):
        members = [n.name for n in nodes if col[n.name] == k]
        members += [grid[(lane.id, k)] for lane in model.lanes if grid[(lane.id, k)] not in members]
        with g.subgraph() as s:
            s.attr(rank="same")
            for m in members:
                s.node(m)
        # Stack the lanes in their order (a flat edge orders its rank).
        stack = [grid[(lane.id, k)] for lane in model.lanes]
        for a, b in zip(stack, stack[1:]):
            g.edge(a, b, style="invis")
    for (a, b), whens in merged.items():
        cross = lane_of.get(a) != lane_of.get(b)
        attrs = {"constraint": "false"}
        answers = [w for w in whens if w]
        when = " / ".join(answers)
        if answers:
            # Short answers on the arrow (xlabel: placed after layout, never widening a lane);
            # long ones by their key, spelled out in full in the legend under the diagram.
            shown = [w if (a, b, w) not in keys else keys[(a, b, w)] for w in answers]
            attrs["xlabel"] = wrap("; ".join(shown), EDGE_CHARS)
            attrs["tooltip"] = label(when)
        if cross:
            attrs.update(color=HANDOFF_COLOR, penwidth="2", style="dashed", arrowsize="0.9")
            h = handoffs.get(handoff_of.get(step_of[a], ""))
            if h is not None and not when and a not in stubs and b not in stubs:
                attrs["xlabel"] = wrap(h.name, EDGE_CHARS)
                attrs["tooltip"] = label(h.name)
            attrs["class"] = "handoff"
            later.edge(a, b, **attrs)
        else:
            attrs["class"] = "flow"
            if col[b] - col[a] == 1:
                g.edge(a, b, **attrs)
            else:
                # An arrow within a lane that skips a row (or goes back up) would bend
                # around the boxes between its ends, and dot widens the lane to hold the
                # bend: so it is routed after layout too, like a handoff.
                later.edge(a, b, **attrs)
    return g.source + AFTER_LAYOUT + "".join(later.body)


def answer_keys(edges: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], str]:
    """Keys (A, B, ...) for decision answers too long to sit on their arrow, in edge order."""
    out: dict[tuple[str, str, str], str] = {}
    for e in edges:
        if e[2] and len(e[2]) > SHORT_ANSWER and e not in out:
            n = len(out)
            out[e] = (chr(ord("A") + n % 26) + (str(n // 26) if n >= 26 else ""))
    return out


def phase_edges(flow: Flow, phase: str, phase_of: dict[str, str]) -> dict[tuple[str, str, str], str]:
    """The edges a phase diagram draws, in its order (for its legend), each with its target step."""
    by_name = {n.name: n for n in flow.nodes}
    out: dict[tuple[str, str, str], str] = {}
    for a, b, when in flow.edges:
        ina, inb = phase_of.get(by_name[a].step) == phase, phase_of.get(by_name[b].step) == phase
        if ina and inb:
            out.setdefault((a, b, when), by_name[b].step)
        elif ina:
            out.setdefault((a, f"stub__out__{by_name[b].step}", when), by_name[b].step)
        elif inb:
            out.setdefault((f"stub__in__{by_name[a].step}", b, when), by_name[b].step)
    return out


def legend(model: Playbook, flow: Flow, phase: str) -> list[tuple[str, str, str, str, str]]:
    """(key, decision step id, decision anchor, answer, next step id) for a phase's keyed answers."""
    phase_of = {s.id: s.phase for s in model.steps}
    by_name = {n.name: n for n in flow.nodes}
    out = []
    targets = phase_edges(flow, phase, phase_of)
    for (a, b, when), key in answer_keys(list(targets)).items():
        src = by_name.get(a)
        out.append((key, src.step if src else "", src.anchor if src else "", when, targets[(a, b, when)]))
    return out


def lane_focus(model: Playbook, lane_id: str, url_for: UrlFor, flow: Flow | None = None) -> str:
    """One lane's steps in order, with the work it receives and hands on as linked stubs.

    Narrow enough for a phone: the lane down the middle, where work comes from
    on the left, where it goes on the right.
    """
    flow = flow or Flow.of(model)
    lanes = model.by_id("lanes")
    lane = lanes.get(lane_id)
    mine = [n for n in flow.nodes if n.lane == lane_id]
    names = {n.name for n in mine}
    by_name = {n.name: n for n in flow.nodes}
    col = columns([n.name for n in mine], [e for e in flow.edges if e[0] in names and e[1] in names],
                  {n.name: lane_id for n in mine})
    # Answers on parallel arrows (several answers leading to the same step) share one arrow.
    # Short answers only: long ones would pile up in a phone-wide lane; each is spelled out
    # on the step page the decision links to.
    merged: dict[tuple[str, str], list[str]] = {}
    for a, b, when in flow.edges:
        if a in names and b in names:
            merged.setdefault((a, b), []).append(when)
    shown = {e: [w for w in whens if w and len(w) <= SHORT_ANSWER] for e, whens in merged.items()}
    answer_lines = {e: len(lines("; ".join(ws), EDGE_CHARS)) for e, ws in shown.items() if ws}
    g = _graph(f"lane-{lane_id}")
    g.attr("graph", nodesep="0.2", ranksep="0.25")
    with g.subgraph(name=f"cluster_lane__{lane_id}") as c:
        c.attr(label=wrap(lane.name if lane else lane_id), id=f"swimlane-{lane_id}", style="filled",
               fillcolor=HIGHLIGHT_FILL, color=HIGHLIGHT_PEN, penwidth="3", fontsize="12", fontcolor=TEXT_COLOR,
               **{"class": "lane lane-highlight"})
        ordered = sorted(mine, key=lambda n: col[n.name])
        for n in ordered:
            c.node(n.name, **_node_attrs(n, url_for(n.step, n.anchor)))
        for a, b in zip(ordered, ordered[1:]):
            c.edge(a.name, b.name, style="invis", weight="100", **_gap(answer_lines.get((a.name, b.name), 0)))
    stub_w = "1.25"
    for n in mine:
        ins = [by_name[a] for a, b, _ in flow.edges if b == n.name and a in by_name and a not in names]
        outs = [by_name[b] for a, b, _ in flow.edges if a == n.name and b in by_name and b not in names]
        side = []
        for kind, others in (("in", ins), ("out", outs)):
            if not others:
                continue
            others = list({o.step: o for o in others}.values())
            text = "; ".join(f"{lanes[o.lane].name if o.lane in lanes else o.lane}: "
                             f"{next(s.name for s in model.steps if s.id == o.step)}" for o in others)
            text = ("From " if kind == "in" else "To ") + text
            stub = f"stub__{kind}__{n.name}"
            attrs = _stub_attrs(text, url_for(others[0].step, ""), kind)
            attrs["label"] = label("\n".join(lines(text, 16)))
            attrs.update(width=stub_w, height=f"{max(0.4, 0.12 + 0.15 * len(lines(text, 16))):.2f}")
            g.node(stub, **attrs)
            side.append(stub)
            if kind == "in":
                g.edge(stub, n.name, color=HANDOFF_COLOR, style="dashed", penwidth="1.6", **{"class": "handoff"})
            else:
                g.edge(n.name, stub, color=HANDOFF_COLOR, style="dashed", penwidth="1.6", **{"class": "handoff"})
        with g.subgraph() as s:
            s.attr(rank="same")
            s.node(n.name)
            for x in side:
                s.node(x)
    for (a, b), whens in merged.items():
        attrs = {"class": "flow"}
        answers = [w for w in whens if w]
        if answers:
            attrs["tooltip"] = label(" / ".join(answers))
        if shown[(a, b)]:
            attrs["xlabel"] = wrap("; ".join(shown[(a, b)]), EDGE_CHARS)
        g.edge(a, b, constraint="false", **attrs)
    return g.source


def stage_graph(model: Playbook, url_for_stage: Callable[[str], str]) -> str:
    """Stages and their allowed transitions, labelled with the role that makes each change."""
    import graphviz

    roles = model.by_id("roles")
    stages = model.by_id("stages")
    g = graphviz.Digraph("stages")
    g.attr("graph", rankdir="TB", bgcolor="transparent", fontname=FONT, nodesep="0.3", ranksep="0.45",
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
        g.node(f"stage__{s.id}", label=wrap(s.name, 18), **attrs)
    for s in model.stages:
        for t in s.transitions:
            if t.to not in stages:
                continue
            owner = roles.get(t.owner)
            # A real label (not an xlabel): dot makes room for it, so no two role names overlap.
            g.edge(f"stage__{s.id}", f"stage__{t.to}", label=wrap(owner.name, 16) if owner else "",
                   tooltip=label(owner.name) if owner else "", **{"class": "transition"})
    return g.source
