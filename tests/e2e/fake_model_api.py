"""A scripted stand-in for the Anthropic Messages API, for end-to-end tests.

The real Claude Code client is pointed at it with ``ANTHROPIC_BASE_URL``. Each
session's prompt names a script with a ``SCRIPT:<name>`` marker; the server answers
that session's model calls with the script's turns, in order, and records every
request so a test can check what the model *received* (its ``tool_result`` blocks).

What Claude Code 2.1.197 calls, with CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1:
``HEAD /`` once at start-up (a reachability probe), then ``POST /v1/messages?beta=true``
with ``stream: true`` for every model turn. Count-tokens calls, non-streamed calls and
tool-less side calls (titles, summaries) are answered too, in case a client makes them.

Standard library only, so it runs wherever the tests run.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import urlsplit

SCRIPT_MARKER = re.compile(r"SCRIPT:([A-Za-z0-9_]+)")

# A held turn gives up after this long, so a broken test cannot wedge a handler forever.
MAX_HOLD_SECONDS = 300.0


@dataclass(frozen=True)
class ToolUse:
    """The model asks the client to run one tool."""

    name: str
    input: Mapping[str, Any]


@dataclass(frozen=True)
class Text:
    """The model says something; a turn without ToolUse ends the client's agent loop."""

    text: str


Block = ToolUse | Text


class Gate:
    """Holds a turn's answer until the test opens it, keeping that session alive."""

    def __init__(self) -> None:
        self._reached = threading.Event()
        self._opened = threading.Event()

    def open(self) -> None:
        self._opened.set()

    def wait_reached(self, timeout: float) -> bool:
        """True once the client has asked for the held turn (False after timeout)."""
        return self._reached.wait(timeout)

    def hold(self) -> None:
        self._reached.set()
        self._opened.wait(MAX_HOLD_SECONDS)


@dataclass(frozen=True)
class Turn:
    """One model answer. With a gate, the answer waits until the gate opens."""

    blocks: Sequence[Block]
    gate: Gate | None = None


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: Any  # parsed JSON, or the raw text when it is not JSON
    kind: str  # "scripted", "side", "count_tokens", "probe" or "unknown"
    script: str | None = None


def tool_use_id(script: str, turn: int, index: int) -> str:
    """The id a scripted tool call gets: predictable, so a test can find its result."""
    return f"toolu_{script}_{turn}_{index}"


class ScriptedServer:
    """What every stand-in model API shares: ``scripts`` (name -> turns), the requests it
    received, and an HTTP server on 127.0.0.1; use as a context manager. A subclass names
    its request handler (a ScriptedHandler) and the path its base URL ends with."""

    handler: type[ScriptedHandler]
    base_path = ""

    def __init__(self, scripts: Mapping[str, Sequence[Turn]] | None = None) -> None:
        self.scripts: dict[str, Sequence[Turn]] = dict(scripts or {})
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> Self:
        handler = type("Handler", (self.handler,), {"owner": self})
        # Loopback only, port chosen by the OS: the client never reaches another host.
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        # Open every gate first: a handler still holding a turn must not block shutdown.
        for turns in self.scripts.values():
            for turn in turns:
                if turn.gate is not None:
                    turn.gate.open()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self.base_path}"

    # -- what the model received -------------------------------------------------

    def requests(self, kind: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self._requests if kind is None or r.kind == kind]

    # -- answering ------------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def next_id(self) -> int:
        with self._lock:
            return next(self._ids)

    def turn(self, script: str, index: int) -> Turn:
        """The script's turn `index`, counted from the answers the conversation already
        holds (so a retried request gets the same answer); past the end, "done"."""
        turns = self.scripts.get(script, [])
        return turns[index] if index < len(turns) else Turn([Text("done")])


class ScriptedHandler(BaseHTTPRequestHandler):
    """What every stand-in's handler shares: keep-alive, no log lines, requests recorded on
    the owner with their headers, answers that survive a client gone away."""

    owner: Any
    protocol_version = "HTTP/1.1"  # keep-alive, as the clients expect
    extra_headers: tuple[tuple[str, str], ...] = ()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # every request is recorded on the owner; keep test output clean

    def handle(self) -> None:
        # A client killed by a test's safety net drops its keep-alive connection.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            super().handle()

    def _read_body(self) -> Any:
        """The JSON body; None when empty, the text when it is not JSON."""
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        try:
            return json.loads(raw) if raw else None
        except json.JSONDecodeError:
            return raw

    def _record(self, body: Any, kind: str, script: str | None = None) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}  # HTTP names are case-blind
        self.owner._record(RecordedRequest(self.command, self.path, headers, body, kind, script))

    def _send(self, status: int, data: bytes, content_type: str) -> None:
        # The client may have gone away while its answer was held.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in self.extra_headers:
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)


def _first_user_text(body: Mapping[str, Any]) -> str:
    for message in body.get("messages") or []:
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        return "\n".join(str(b.get("text", "")) for b in content or [] if isinstance(b, dict))
    return ""


def _message(model: str, msg_id: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    uses_tools = any(b["type"] == "tool_use" for b in blocks)
    return {
        "id": msg_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": blocks,
        "stop_reason": "tool_use" if uses_tools else "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 10,
            "output_tokens": 10,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }


def _content(script: str, turn: int, blocks: Sequence[Block]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, block in enumerate(blocks):
        if isinstance(block, ToolUse):
            out.append(
                {
                    "type": "tool_use",
                    "id": tool_use_id(script, turn, i),
                    "name": block.name,
                    "input": dict(block.input),
                }
            )
        else:
            out.append({"type": "text", "text": block.text})
    return out


def _stream_events(message: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """A streamed answer's events, in the real API's order (SSE event name = type)."""
    start = {**message, "content": [], "stop_reason": None}
    yield {"type": "message_start", "message": start}
    for i, block in enumerate(message["content"]):
        if block["type"] == "tool_use":
            yield {
                "type": "content_block_start",
                "index": i,
                "content_block": {**block, "input": {}},
            }
            raw = json.dumps(block["input"])
            # Split the JSON as the real API does, so the client has to join the parts.
            for part in (raw[: len(raw) // 2], raw[len(raw) // 2 :]):
                delta = {"type": "input_json_delta", "partial_json": part}
                yield {"type": "content_block_delta", "index": i, "delta": delta}
        else:
            yield {
                "type": "content_block_start",
                "index": i,
                "content_block": {**block, "text": ""},
            }
            delta = {"type": "text_delta", "text": block["text"]}
            yield {"type": "content_block_delta", "index": i, "delta": delta}
        yield {"type": "content_block_stop", "index": i}
    yield {
        "type": "message_delta",
        "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
        "usage": {"output_tokens": message["usage"]["output_tokens"]},
    }
    yield {"type": "message_stop"}


_NOT_FOUND = {"type": "error", "error": {"type": "not_found_error", "message": "not faked"}}


class _Handler(ScriptedHandler):
    owner: FakeModelAPI
    extra_headers = (("request-id", "req_fake"),)

    def _send_json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json")

    def do_HEAD(self) -> None:
        # Claude Code probes the base URL once before its first call; a 200 satisfies it.
        self._record(None, "probe")
        self._send(200, b"", "text/plain")

    def do_GET(self) -> None:
        self._record(None, "unknown")
        self._send_json(404, _NOT_FOUND)

    def do_POST(self) -> None:
        body = self._read_body()
        path = urlsplit(self.path).path
        if path == "/v1/messages/count_tokens":
            self._record(body, "count_tokens")
            self._send_json(200, {"input_tokens": 10})
            return
        if path != "/v1/messages" or not isinstance(body, dict):
            self._record(body, "unknown")
            self._send_json(404, _NOT_FOUND)
            return
        model = str(body.get("model", "fake-model"))
        marker = SCRIPT_MARKER.search(_first_user_text(body))
        # Side calls (titles, summaries, quota checks) offer no tools: answer them with
        # plain text and leave the script alone.
        if marker is None or not body.get("tools"):
            self._record(body, "side", marker.group(1) if marker else None)
            text = [{"type": "text", "text": "ok"}]
            self._answer(body, _message(model, self.owner._next_message_id(), text))
            return
        script = marker.group(1)
        self._record(body, "scripted", script)
        index, turn = self.owner._turn_for(script, body)
        if turn.gate is not None:
            turn.gate.hold()
        content = _content(script, index, turn.blocks)
        self._answer(body, _message(model, self.owner._next_message_id(), content))

    def _answer(self, body: Mapping[str, Any], message: dict[str, Any]) -> None:
        if not body.get("stream"):
            self._send_json(200, message)
            return
        stream = "".join(
            f"event: {event['type']}\ndata: {json.dumps(event)}\n\n"
            for event in _stream_events(message)
        )
        self._send(200, stream.encode(), "text/event-stream")


class FakeModelAPI(ScriptedServer):
    """The Anthropic Messages API, as Claude Code calls it."""

    handler = _Handler

    def tool_results(self) -> dict[str, dict[str, Any]]:
        """Every ``tool_result`` block sent to the model, by ``tool_use_id``."""
        results: dict[str, dict[str, Any]] = {}
        for request in self.requests("scripted"):
            for message in request.body.get("messages") or []:
                content = message.get("content")
                if not isinstance(content, list):
                    continue
                for block in content:
                    if isinstance(block, dict) and block.get("type") == "tool_result":
                        results[str(block.get("tool_use_id"))] = block
        return results

    def tool_result(self, script: str, turn: int = 0, index: int = 0) -> dict[str, Any] | None:
        """The result the model got for the script's ``index``-th tool call of ``turn``."""
        return self.tool_results().get(tool_use_id(script, turn, index))

    def session_ids(self, script: str) -> set[str]:
        """Claude Code session ids that ran ``script`` (from the client's request header)."""
        return {
            r.headers.get("x-claude-code-session-id", "")
            for r in self.requests("scripted")
            if r.script == script
        } - {""}

    def _next_message_id(self) -> str:
        return f"msg_fake_{self.next_id()}"

    def _turn_for(self, script: str, body: Mapping[str, Any]) -> tuple[int, Turn]:
        index = sum(1 for m in body.get("messages") or [] if m.get("role") == "assistant")
        return index, self.turn(script, index)
