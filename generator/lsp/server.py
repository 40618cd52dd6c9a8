"""`playbook lsp`: the language server over stdio (pygls), wired to `Workspace`.

Handlers are thin: convert LSP positions (UTF-16 by default) to characters, ask the
workspace, convert back. Diagnostics are published for every file of the folder
on each open, change and save, and cleared for files that no longer have any.
"""

from __future__ import annotations

import gc
import logging
import sys
from pathlib import Path

from lsprotocol import types as t
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from .. import __version__
from .describe import schema_descriptions
from .workspace import Diag, Range, Workspace

SOURCE = "playbook"
TRIGGERS = [" ", ",", "[", "-"]


class PlaybookServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("playbook", __version__)
        self.ws = Workspace()
        self.published: dict[Path, set[Path]] = {}  # folder -> files with diagnostics shown

    # ----------------------------------------------------------- conversions

    def _lines(self, path: Path) -> list[str]:
        return (self.ws.text(path) or "").splitlines(True) or [""]

    def to_client(self, path: Path, r: Range) -> t.Range:
        codec = self.workspace.position_codec
        lines = self._lines(path)
        return codec.range_to_client_units(lines, t.Range(t.Position(*r.start), t.Position(*r.end)))

    def from_client(self, path: Path, pos: t.Position) -> tuple[int, int]:
        p = self.workspace.position_codec.position_from_client_units(self._lines(path), pos)
        return p.line, p.character

    def diagnostic(self, path: Path, d: Diag) -> t.Diagnostic:
        related = [t.DiagnosticRelatedInformation(t.Location(from_fs_path(str(p)), self.to_client(p, r)), msg)
                   for p, r, msg in d.related] or None
        return t.Diagnostic(
            range=self.to_client(path, d.range),
            message=d.message + (f" ({d.hint})" if d.hint else ""),
            severity=t.DiagnosticSeverity.Error if d.level == "error" else t.DiagnosticSeverity.Warning,
            code=d.code,
            source=SOURCE,
            related_information=related,
            data={"hint": d.hint} if d.hint else None,
        )

    def publish(self, path: Path, edit_line: int | None = None) -> None:
        """Check the folder of `path` and publish every file's diagnostics (empty lists clear old ones)."""
        root = self.ws.root_for(path)
        if root is None:
            return  # not a process file: nothing to say about it
        by_file = self.ws.analyze(path, edit_line)
        shown = {f for f, diags in by_file.items() if diags}
        for f in sorted(set(by_file) | self.published.get(root, set())):
            diags = [self.diagnostic(f, d) for d in by_file.get(f, [])]
            if not diags and f not in self.published.get(root, set()) and f != path:
                continue
            self.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri=from_fs_path(str(f)),
                                                                              diagnostics=diags))
        self.published[root] = shown


server = PlaybookServer()


def _path(uri: str) -> Path:
    return Path(to_fs_path(uri) or uri).resolve()


@server.feature(t.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: PlaybookServer, params: t.DidOpenTextDocumentParams) -> None:
    path = ls.ws.set_buffer(_path(params.text_document.uri), params.text_document.text)
    first = not ls.published
    ls.publish(path)
    if first:
        # The first load pays for what every later answer needs: the schema hover text reads,
        # the id index, and moving the loaded objects out of the garbage collector's young
        # generations (a collection pass over them otherwise lands on a keystroke).
        schema_descriptions()
        ls.ws.warm(path)
        gc.collect()
        gc.freeze()


@server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: PlaybookServer, params: t.DidChangeTextDocumentParams) -> None:
    doc = ls.workspace.get_text_document(params.text_document.uri)
    path = ls.ws.set_buffer(_path(doc.uri), doc.source)
    line = None
    for change in params.content_changes:
        if isinstance(change, t.TextDocumentContentChangePartial):
            line = change.range.start.line
    ls.publish(path, line if line is not None else 0)


@server.feature(t.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: PlaybookServer, params: t.DidSaveTextDocumentParams) -> None:
    ls.publish(_path(params.text_document.uri))


@server.feature(t.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: PlaybookServer, params: t.DidCloseTextDocumentParams) -> None:
    path = _path(params.text_document.uri)
    ls.ws.close_buffer(path)  # the disk's text counts again
    ls.publish(path)


@server.feature(t.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def did_change_watched(ls: PlaybookServer, params: t.DidChangeWatchedFilesParams) -> None:
    ls.ws.forget_roots()
    for change in params.changes:
        ls.publish(_path(change.uri))


def _location(ls: PlaybookServer, loc) -> t.Location:
    return t.Location(from_fs_path(str(loc.path)), ls.to_client(loc.path, loc.range))


@server.feature(t.TEXT_DOCUMENT_DEFINITION)
def definition(ls: PlaybookServer, params: t.DefinitionParams) -> list[t.Location]:
    path = _path(params.text_document.uri)
    return [_location(ls, loc) for loc in ls.ws.definition(path, ls.from_client(path, params.position))]


@server.feature(t.TEXT_DOCUMENT_REFERENCES)
def references(ls: PlaybookServer, params: t.ReferenceParams) -> list[t.Location]:
    path = _path(params.text_document.uri)
    found = ls.ws.references(path, ls.from_client(path, params.position), params.context.include_declaration)
    return [_location(ls, loc) for loc in found]


@server.feature(t.TEXT_DOCUMENT_COMPLETION, t.CompletionOptions(trigger_characters=TRIGGERS))
def completion(ls: PlaybookServer, params: t.CompletionParams) -> t.CompletionList:
    path = _path(params.text_document.uri)
    items = []
    for c in ls.ws.completions(path, ls.from_client(path, params.position)):
        items.append(t.CompletionItem(
            label=c.label, kind=t.CompletionItemKind.Reference, detail=c.detail,
            documentation=t.MarkupContent(kind=t.MarkupKind.Markdown, value=c.documentation),
            text_edit=t.TextEdit(range=ls.to_client(path, c.replace), new_text=c.label)))
    return t.CompletionList(is_incomplete=False, items=items)


@server.feature(t.TEXT_DOCUMENT_HOVER)
def hover(ls: PlaybookServer, params: t.HoverParams) -> t.Hover | None:
    path = _path(params.text_document.uri)
    found = ls.ws.hover(path, ls.from_client(path, params.position))
    if found is None:
        return None
    text, rng = found
    return t.Hover(contents=t.MarkupContent(kind=t.MarkupKind.Markdown, value=text),
                   range=ls.to_client(path, rng) if rng is not None else None)


def serve() -> None:
    """Run the server on stdin/stdout until the client says exit."""
    # stdout carries the protocol: logging goes to stderr, quietly.
    logging.basicConfig(level=logging.WARNING)
    # The protocol is bytes framed by Content-Length, not text for a terminal: it goes to the
    # process's own stdout, past the CLI's terminal sanitiser (which would change byte counts).
    # JSON escapes every control character, so none reaches the stream raw.
    server.start_io(sys.__stdin__.buffer, sys.__stdout__.buffer)
