"""A real LSP client session with `playbook lsp` over stdio (pygls' LanguageClient).

Used by tests/test_lsp.py and benchmarks/lsp.py. Notifications (open, change) are
handled by the server in order, so a request sent after them is answered only once
their diagnostics have been published: `sync()` uses that as a barrier.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from lsprotocol import types as t
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parents[1]


class Session:
    def __init__(self, cwd: Path):
        self.cwd = cwd
        self.client = LanguageClient("playbook-test", "1")
        self.diagnostics: dict[Path, list[t.Diagnostic]] = {}
        self.publishes = 0
        self.versions: dict[Path, int] = {}
        self.texts: dict[Path, str] = {}
        self._waiting: dict[Path, asyncio.Future] = {}

        @self.client.feature(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def _diags(params: t.PublishDiagnosticsParams) -> None:
            path = Path(params.uri.removeprefix("file://"))
            self.diagnostics[path] = list(params.diagnostics)
            self.publishes += 1
            waiter = self._waiting.pop(path, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(self.diagnostics[path])

    async def start(self) -> None:
        await self.client.start_io(sys.executable, "-m", "generator", "lsp", cwd=str(self.cwd))
        await self.client.initialize_async(t.InitializeParams(
            capabilities=t.ClientCapabilities(), root_uri=self.cwd.as_uri(), process_id=None))
        self.client.initialized(t.InitializedParams())

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()

    def open(self, path: Path) -> None:
        path = path.resolve()
        text = path.read_text()
        self.versions[path] = 1
        self.texts[path] = text
        self.client.text_document_did_open(t.DidOpenTextDocumentParams(
            t.TextDocumentItem(uri=path.as_uri(), language_id="yaml", version=1, text=text)))

    def replace_line(self, path: Path, line: int, new: str) -> None:
        """An incremental edit, as editors send them: line `line` (0-based) becomes `new`."""
        path = path.resolve()
        lines = self.texts[path].split("\n")
        old = lines[line]
        lines[line] = new
        self.texts[path] = "\n".join(lines)
        self.versions[path] += 1
        self.client.text_document_did_change(t.DidChangeTextDocumentParams(
            t.VersionedTextDocumentIdentifier(uri=path.as_uri(), version=self.versions[path]),
            [t.TextDocumentContentChangePartial(
                range=t.Range(t.Position(line, 0), t.Position(line, len(old))), text=new)]))

    def set_text(self, path: Path, text: str) -> None:
        """A whole-document change."""
        path = path.resolve()
        self.texts[path] = text
        self.versions[path] += 1
        self.client.text_document_did_change(t.DidChangeTextDocumentParams(
            t.VersionedTextDocumentIdentifier(uri=path.as_uri(), version=self.versions[path]),
            [t.TextDocumentContentChangeWholeDocument(text=text)]))

    def expect_diagnostics(self, path: Path) -> asyncio.Future:
        """A future resolved by the next diagnostics published for `path` (set it up before the edit)."""
        fut = asyncio.get_running_loop().create_future()
        self._waiting[path.resolve()] = fut
        return fut

    async def sync(self, path: Path) -> None:
        await self.hover(path, 0, 0)

    async def hover(self, path: Path, line: int, col: int) -> t.Hover | None:
        return await self.client.text_document_hover_async(t.HoverParams(
            t.TextDocumentIdentifier(path.resolve().as_uri()), t.Position(line, col)))

    async def definition(self, path: Path, line: int, col: int):
        return await self.client.text_document_definition_async(t.DefinitionParams(
            t.TextDocumentIdentifier(path.resolve().as_uri()), t.Position(line, col)))

    async def references(self, path: Path, line: int, col: int, declaration: bool = True):
        return await self.client.text_document_references_async(t.ReferenceParams(
            context=t.ReferenceContext(include_declaration=declaration),
            text_document=t.TextDocumentIdentifier(path.resolve().as_uri()), position=t.Position(line, col)))

    async def completion(self, path: Path, line: int, col: int):
        return await self.client.text_document_completion_async(t.CompletionParams(
            t.TextDocumentIdentifier(path.resolve().as_uri()), t.Position(line, col)))


def run(cwd: Path, scenario) -> None:
    """Start a server, run `await scenario(session)`, shut the server down."""

    async def main() -> None:
        s = Session(cwd)
        await s.start()
        try:
            await asyncio.wait_for(scenario(s), timeout=120)
        finally:
            await s.stop()

    asyncio.run(main())
