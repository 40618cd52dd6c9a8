"""`playbook lsp` through a real LSP client session over stdio (pygls' LanguageClient).

The playbook is the `minimal` template written by `playbook init`; expected places
are found in the files' text here, independently of the server's index.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from lsprotocol import types as t

from generator.init import create_playbook
from lsp_session import run


@pytest.fixture
def pb(tmp_path):
    folder, _ = create_playbook(tmp_path / "process" / "clinic", "minimal", "Acme Care")
    return folder


def find(path: Path, pattern: str, group: int = 1, nth: int = 0) -> tuple[int, int, int]:
    """(line, start, end), 0-based, of a regex group's nth match in a file."""
    text = path.read_text()
    m = list(re.finditer(pattern, text, re.MULTILINE))[nth]
    line = text.count("\n", 0, m.start(group))
    col = m.start(group) - (text.rfind("\n", 0, m.start(group)) + 1)
    return line, col, col + len(m.group(group))


def rng(r: t.Range) -> tuple[int, int, int]:
    assert r.start.line == r.end.line
    return r.start.line, r.start.character, r.end.character


def codes(diags) -> list[str]:
    return sorted(d.code for d in diags)


def test_diagnostics_on_open_and_change_with_exact_range_and_hint(pb):
    steps = pb / "steps.yaml"
    # On disk: a lane that does not exist (R006).
    steps.write_text(steps.read_text().replace("    lane: contact-center\n", "    lane: contact-centre\n"))
    bad = find(steps, r"lane: (contact-centre)")

    async def scenario(s):
        s.open(steps)
        await s.sync(steps)
        diags = s.diagnostics[steps.resolve()]
        r006 = [d for d in diags if d.code == "R006"]
        assert len(r006) == 1
        assert rng(r006[0].range) == bad
        assert r006[0].severity == t.DiagnosticSeverity.Error
        assert r006[0].message == ("step 'first-call' is in lane 'contact-centre', which is not defined"
                                   " (did you mean 'contact-center'?)")
        assert r006[0].source == "playbook"
        # The same problems `playbook validate` finds, nothing more.
        from generator.validate import check
        assert codes(diags) == sorted(p.code for p in check(pb, pb).problems if p.file == "steps.yaml")
        # Fix it in the buffer only (unsaved): the error goes, the disk is untouched.
        line = bad[0]
        s.replace_line(steps, line, "    lane: contact-center")
        await s.sync(steps)
        assert s.diagnostics[steps.resolve()] == []
        assert "contact-centre" in steps.read_text()
        # A warning shows as a warning, at the key it is about.
        guidance = find(steps, r"^  - id: (capture)")
        s.replace_line(steps, guidance[0] + 4, "    lane: contact-center")  # R007: owner ops-lead, lane contact-center
        await s.sync(steps)
        warn = [d for d in s.diagnostics[steps.resolve()] if d.code == "R007"]
        assert warn and warn[0].severity == t.DiagnosticSeverity.Warning

    run(pb.parent.parent, scenario)


def test_error_caused_in_one_file_shows_in_both(pb):
    stages, events, steps = pb / "stages.yaml", pb / "events.yaml", pb / "steps.yaml"
    line, start, end = find(stages, r"^  - id: (contacted)$")
    in_events = find(events, r"stage: (contacted)\}")
    in_steps = find(steps, r"stage_changes: \[(contacted)")

    async def scenario(s):
        s.open(stages)
        await s.sync(stages)
        assert all(d == [] for d in s.diagnostics.values())
        s.replace_line(stages, line, "  - id: reached")  # rename the stage; its users are in other files
        await s.sync(stages)
        ev = [d for d in s.diagnostics[events.resolve()] if d.code == "R001"]
        st = [d for d in s.diagnostics[steps.resolve()] if d.code == "R001"]
        assert [rng(d.range) for d in ev] == [in_events]
        assert [rng(d.range) for d in st] == [in_steps]
        # ... and in the file whose edit caused them, at the edit, linking to where they are reported.
        own = [d for d in s.diagnostics[stages.resolve()] if not d.related_information]
        assert ("R001", find(stages, r"- to: (contacted)")) in [(d.code, rng(d.range)) for d in own]
        here = [d for d in s.diagnostics[stages.resolve()] if d.related_information]
        assert len(here) == 2
        assert {d.range.start.line for d in here} == {line}
        related = {(Path(d.related_information[0].location.uri.removeprefix("file://")).name,
                    rng(d.related_information[0].location.range)) for d in here}
        assert related == {("events.yaml", in_events), ("steps.yaml", in_steps)}
        assert any("reported in events.yaml:" in d.message for d in here)
        # Undo: every file is cleared again.
        s.replace_line(stages, line, "  - id: contacted")
        await s.sync(stages)
        assert all(d == [] for d in s.diagnostics.values()), s.diagnostics

    run(pb.parent.parent, scenario)


def test_syntax_error_mid_edit(pb):
    stages, steps = pb / "stages.yaml", pb / "steps.yaml"
    line = find(stages, r"^    (transitions):", nth=1)[0]

    async def scenario(s):
        s.open(stages)
        s.open(steps)
        await s.sync(stages)
        original = s.texts[stages.resolve()]
        # Half-typed: an unclosed flow list, then a new transition being typed.
        s.replace_line(stages, line, "    transitions: [booked, ")
        await s.sync(stages)
        diags = s.diagnostics[stages.resolve()]
        assert codes(diags) == ["Y001"]
        assert "YAML syntax error" in diags[0].message
        # The server still answers in the broken file and in the others.
        items = await s.completion(stages, line, len("    transitions: [booked, "))
        assert items is not None
        target = find(steps, r"sla: (first-call)")
        loc = await s.definition(steps, target[0], target[1] + 2)
        assert loc and loc[0].uri.endswith("routing-and-slas.yaml")
        # Fixed again: clean.
        s.set_text(stages, original)
        await s.sync(stages)
        assert s.diagnostics[stages.resolve()] == []

    run(pb.parent.parent, scenario)


KINDS = [
    # (kind, file with a reference, regex of the reference, file with the definition, regex of the definition)
    ("stage", "stages.yaml", r"- to: (booked)", "stages.yaml", r"- id: (booked)"),
    ("field", "stages.yaml", r"required_fields: \[(phone)", "data-dictionary.yaml", r"- id: (phone)"),
    ("lane", "steps.yaml", r"lane: (contact-center)", "playbook.yaml", r"- id: (contact-center)"),
    ("role", "stages.yaml", r"owner: (agent)", "playbook.yaml", r"- id: (agent)"),
    ("queue", "routing-and-slas.yaml", r"queue: (new-leads)", "routing-and-slas.yaml", r"- id: (new-leads)"),
    ("event", "stages.yaml", r"entry_event: (lead-closed)", "events.yaml", r"- id: (lead-closed)"),
    ("sla", "steps.yaml", r"sla: (first-call)", "routing-and-slas.yaml", r"^  - id: (first-call)"),
    ("person", "playbook.yaml", r"default: \[(ops-manager)", "playbook.yaml", r"- id: (ops-manager)"),
]


def test_definition_and_references_for_every_kind(pb, tmp_path):
    # The minimal playbook has no template: add one, used by the first-call step.
    (pb / "templates.yaml").write_text(
        "# yaml-language-server: $schema=../../schema/playbook.schema.json\n"
        "templates:\n  - id: first-call-script\n    name: First call script\n    kind: call_script\n"
        "    approved: true\n    approved_by: ops-manager\n    body: Hello, this is the clinic.\n")
    steps = pb / "steps.yaml"
    steps.write_text(steps.read_text().replace("    sla: first-call\n", "    sla: first-call\n    templates: [first-call-script]\n"))
    kinds = KINDS + [("template", "steps.yaml", r"templates: \[(first-call-script)", "templates.yaml", r"- id: (first-call-script)")]

    async def scenario(s):
        for kind, ref_file, ref_re, def_file, def_re in kinds:
            ref, want = find(pb / ref_file, ref_re), find(pb / def_file, def_re)
            s.open(pb / ref_file) if (pb / ref_file).resolve() not in s.texts else None
            for col in (ref[1], ref[2] - 1, ref[2]):  # first character, last, just after
                locs = await s.definition(pb / ref_file, ref[0], col)
                assert [(Path(l.uri).name, rng(l.range)) for l in locs] == [(def_file, want)], (kind, col)
            # References: every place the id is written as that entity, found here by its text.
            ident = re.search(ref_re, (pb / ref_file).read_text(), re.MULTILINE).group(1)
            locs = await s.references(pb / ref_file, ref[0], ref[1])
            got = sorted((Path(l.uri).name, rng(l.range)) for l in locs)
            assert (def_file, want) in got, kind
            assert all(l.uri.startswith(pb.resolve().as_uri() + "/") for l in locs)
            texts = {f.name: f.read_text() for f in pb.glob("*.yaml")}
            for name, line, a, b in [(n, *_pos(txt, m)) for n, txt in texts.items()
                                     for m in re.finditer(rf"(?:(?<=: )|(?<=\[)|(?<=, )|(?<=- )){re.escape(ident)}(?=[ \t]*$|[ \t]*[,\]}}])",
                                                         txt, re.MULTILINE)]:
                if (name, (line, a, b)) not in got:
                    source_line = texts[name].split("\n")[line]
                    key = re.match(r"\s*(?:- )?(\w+):", source_line)
                    # Left out only: words that are values of other kinds (`type: phone`), and
                    # first-call, which names an event, a step and an SLA alike.
                    assert (key and key.group(1) in NOT_REFS) or ident in AMBIGUOUS, (kind, name, source_line)
            without = await s.references(pb / ref_file, ref[0], ref[1], declaration=False)
            assert len(without) == len(locs) - 1

    run(pb.parent.parent, scenario)


NOT_REFS = {"type", "semantic", "kind", "activity_types", "phase", "activity"}
AMBIGUOUS = {"first-call"}


def _pos(text: str, m: re.Match) -> tuple[int, int, int]:
    line = text.count("\n", 0, m.start())
    col = m.start() - (text.rfind("\n", 0, m.start()) + 1)
    return line, col, col + len(m.group(0))


def test_completion_of_ids_where_a_reference_is_expected(pb):
    stages, steps, routing = pb / "stages.yaml", pb / "steps.yaml", pb / "routing-and-slas.yaml"
    to_line = find(stages, r"      - (to): booked")[0]
    lane_line = find(steps, r"    (lane): contact-center")[0]
    queue_line = find(routing, r"      (queue): new-leads")[0]

    async def scenario(s):
        for f in (stages, steps, routing):
            s.open(f)
        # `- to: ` being typed: every stage, replacing the word under the cursor.
        s.replace_line(stages, to_line, "      - to: ")
        res = await s.completion(stages, to_line, 12)
        assert [i.label for i in res.items] == ["new", "contacted", "booked", "closed"]
        assert res.items[0].text_edit.range == t.Range(t.Position(to_line, 12), t.Position(to_line, 12))
        s.replace_line(stages, to_line, "      - to: bo")
        res = await s.completion(stages, to_line, 14)
        assert [i.label for i in res.items] == ["booked"]
        assert res.items[0].text_edit.range.start.character == 12
        assert "Appointment booked" in res.items[0].detail
        # A step's lane, a rule's queue, a flow list of fields, a block list of stages.
        s.replace_line(steps, lane_line, "    lane: ")
        assert [i.label for i in (await s.completion(steps, lane_line, 10)).items] == ["marketing", "contact-center"]
        s.replace_line(routing, queue_line, "      queue: ")
        assert [i.label for i in (await s.completion(routing, queue_line, 13)).items] == ["new-leads"]
        req = find(stages, r"    (required_fields): \[phone, specialty\]")[0]
        typed = "    required_fields: [phone, sp"
        s.replace_line(stages, req, typed)
        assert [i.label for i in (await s.completion(stages, req, len(typed))).items] == ["specialty"]
        # Not a reference: no id completion (the YAML language server completes keys from the schema).
        name_line = find(stages, r"    (name): New")[0]
        assert not (await s.completion(stages, name_line, 10)).items

    run(pb.parent.parent, scenario)


def test_hover_describes_key_and_entity(pb):
    stages = pb / "stages.yaml"
    key = find(stages, r"    (entry_event): form-submitted")
    value = find(stages, r"      - to: (booked)")

    async def scenario(s):
        s.open(stages)
        h = await s.hover(stages, key[0], key[1] + 3)
        assert "**`entry_event`** in Stage (required)" in h.contents.value
        assert "The id of an entry in `events`." in h.contents.value
        h = await s.hover(stages, value[0], value[1] + 1)
        text = h.contents.value
        assert "**stage `booked`**: Appointment booked" in text
        assert "Confirm the appointment by phone." in text  # the stage's guidance
        assert "Defined in `stages.yaml:" in text
        assert "**`to`** in Transition" in text  # and the key it is the value of
        assert rng(h.range) == value
        field_type = find(pb / "data-dictionary.yaml", r"    (type): phone")
        s.open(pb / "data-dictionary.yaml")
        h = await s.hover(pb / "data-dictionary.yaml", field_type[0], field_type[1])
        assert "One of: string, text, email, phone" in h.contents.value

    run(pb.parent.parent, scenario)


def test_never_runs_anything_from_the_files(pb, tmp_path):
    marker = tmp_path / "ran"
    evil = pb / "evil.yaml"
    evil.write_text(f"steps: !!python/object/apply:os.system ['touch {marker}']\n")

    async def scenario(s):
        s.open(evil)
        await s.sync(evil)
        diags = s.diagnostics[evil.resolve()]
        assert "Y003" in codes(diags)
        y003 = [d for d in diags if d.code == "Y003"][0]
        assert rng(y003.range)[0] == 0
        s.set_text(evil, f"steps: !!python/name:os.system ['touch {marker}']\n")
        await s.sync(evil)
        assert "Y003" in codes(s.diagnostics[evil.resolve()])

    run(pb.parent.parent, scenario)
    assert not marker.exists()


# ---- the same problems as `playbook validate`, for every code (the workspace behind the server)

from generator.lsp.workspace import Workspace  # noqa: E402
from generator.validate import check  # noqa: E402
from test_rules import _cases, build_case  # noqa: E402


def _compare(root: Path, opened: Path | None = None) -> list:
    ws = Workspace()
    out = ws.analyze(opened or sorted(root.glob("*.yaml"))[0])
    diags = [(f.relative_to(root.resolve()).as_posix(), d) for f, ds in out.items() for d in ds]
    want = sorted((p.file, p.line - 1, p.column - 1, p.code, p.level, p.message, p.hint)
                  for p in check(root, root).problems)
    got = sorted((f, d.range.start[0], d.range.start[1], d.code, d.level, d.message, d.hint) for f, d in diags)
    assert got == want
    for f, d in diags:
        lines = (root / f).read_text(errors="replace").split("\n")
        (l0, c0), (l1, c1) = d.range.start, d.range.end
        assert (l1, c1) > (l0, c0), (f, d)
        if l0 == l1 and not d.code.startswith("Y"):
            token = lines[l0][c0:c1]
            assert token.strip() == token and token, (f, d, token)
    return diags


@pytest.mark.parametrize("code, case", [c for c in _cases() if c.values[1]["expect"]])
def test_every_rule_case_gives_validate_problems_with_ranges(tmp_path, code, case):
    root = build_case(tmp_path, case).resolve()
    diags = _compare(root)
    assert code in {d.code for _, d in diags}


YS_CASES = {
    "Y001": ("stages.yaml", "  - id: new\n", "  - id: new\n   bad: [\n"),
    "Y002": ("stages.yaml", "    name: New\n", "    name: New\n    name: Again\n"),
    "Y003": ("stages.yaml", "    name: New\n", "    name: !!python/object/apply:os.getcwd []\n"),
    "Y004": ("stages.yaml", "stages:\n", "x: &a [*a]\nstages:\n"),
    "Y007": ("stages.yaml", "stages:\n", "<<: {a: 1}\nstages:\n"),
    "S001": ("stages.yaml", "    initial: true\n", "    initial: [true]\n"),
    "S002": ("stages.yaml", "    entry_event: form-submitted\n", ""),
    "S003": ("stages.yaml", "    initial: true\n", "    initail: true\n"),
    "S004": ("data-dictionary.yaml", "    type: phone\n", "    type: telephone\n"),
}


@pytest.mark.parametrize("code", sorted(YS_CASES))
def test_loader_and_schema_codes(tmp_path, code):
    folder, _ = create_playbook(tmp_path / "process" / "pb", "minimal", "Acme Care")
    name, old, new = YS_CASES[code]
    f = folder / name
    text = f.read_text()
    assert text.count(old) >= 1
    f.write_text(text.replace(old, new, 1))
    diags = _compare(folder.resolve(), f)
    assert code in {d.code for _, d in diags}


def test_y005_y006_unreadable_files(tmp_path):
    folder, _ = create_playbook(tmp_path / "process" / "pb", "minimal", "Acme Care")
    (folder / "latin1.yaml").write_bytes("lanes:\n  - id: caf\xe9\n".encode("latin-1"))
    (folder / "huge.yaml").write_text("# " + "x" * 1_000_001 + "\n")
    diags = _compare(folder.resolve())
    assert {"Y005", "Y006"} <= {d.code for _, d in diags}


def test_buffers_and_parse_cache_match_a_fresh_validate(tmp_path):
    """Edits through the workspace (buffers over disk, unchanged parses reused) find what validate
    finds on a copy of the same texts written to disk, edit after edit."""
    folder, _ = create_playbook(tmp_path / "a" / "pb", "minimal", "Acme Care")
    ws = Workspace()
    stages = (folder / "stages.yaml").resolve()
    original = stages.read_text()
    edits = [original.replace("- to: booked", "- to: bookd"), original.replace("  - id: new\n", "  - id: new\n  bad: [\n"),
             original, original.replace("    guidance: Offer an appointment on the first call.\n", ""),
             original + "steps:\n  - id: extra\n", original]
    for n, text in enumerate(edits):
        ws.set_buffer(stages, text)
        got = sorted((f.name, d.range.start, d.code, d.message) for f, ds in ws.analyze(stages, 0).items()
                     for d in ds if not d.related)
        copy = tmp_path / "b" / f"pb{n}"
        shutil.copytree(folder, copy)
        (copy / "stages.yaml").write_text(text)
        want = sorted((p.file, (p.line - 1, p.column - 1), p.code, p.message) for p in check(copy, copy).problems)
        assert got == want
    assert stages.read_text() == original  # buffers never reach the disk


def test_other_yaml_is_left_alone_and_a_new_playbook_is_checked(tmp_path):
    """mkdocs.yml or a CI file gets no diagnostics; a first file under process/ does."""
    other = tmp_path / "mkdocs.yml"
    other.write_text("site_name: x\nstages: 3\n")
    new = tmp_path / "process" / "new" / "stages.yaml"
    new.parent.mkdir(parents=True)
    new.write_text("stages:\n  - id: new\n")

    async def scenario(s):
        s.open(other)
        s.open(new)
        await s.sync(new)
        assert other.resolve() not in s.diagnostics
        assert await s.hover(other, 1, 2) is None
        assert await s.definition(other, 1, 9) == []
        assert {"S002"} <= set(codes(s.diagnostics[new.resolve()]))  # lanes, roles, steps, ... missing

    run(tmp_path, scenario)
