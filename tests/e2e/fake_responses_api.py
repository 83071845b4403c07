"""A scripted stand-in for the OpenAI Responses API (streamed), for Codex CLI end-to-end tests.

Codex CLI is pointed at it through a model provider (`-c model_providers.mock.base_url=...`).
As with the other stand-ins, each session's prompt names a script with ``SCRIPT:<name>``;
its turns are answered in order (the turn is how many tool calls the conversation already
holds, so a retried request gets the same answer), and every request is recorded so a test
can read the ``function_call_output`` items the model received. Loopback only.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from .fake_model_api import SCRIPT_MARKER, RecordedRequest, Text, ToolUse, Turn

_CALLS = ("function_call", "custom_tool_call", "local_shell_call")
_OUTPUTS = ("function_call_output", "custom_tool_call_output", "local_shell_call_output")


class FakeResponsesAPI:
    def __init__(self) -> None:
        self.scripts: dict[str, list[Turn]] = {}
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> FakeResponsesAPI:
        api = self

        class Handler(_Handler):
            owner = api

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        for turns in self.scripts.values():
            for turn in turns:
                if turn.gate is not None:
                    turn.gate.open()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def requests(self, kind: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self._requests if kind is None or r.kind == kind]

    def tool_outputs(self, script: str) -> list[str]:
        """The output text of every tool call the script's model was sent back, in order."""
        found: list[str] = []
        for request in self.requests("scripted"):
            if request.script != script:
                continue
            for item in request.body.get("input") or []:
                if isinstance(item, dict) and item.get("type") in _OUTPUTS:
                    output = item.get("output")
                    text = output if isinstance(output, str) else json.dumps(output)
                    if text not in found:
                        found.append(text)
        return found

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def next_id(self) -> int:
        with self._lock:
            return next(self._ids)


def _first_user_text(body: Mapping[str, Any]) -> str:
    for item in body.get("input") or []:
        if isinstance(item, dict) and item.get("role") == "user":
            content = item.get("content")
            if isinstance(content, str):
                if "SCRIPT:" in content:
                    return content
                continue
            text = "\n".join(str(c.get("text", "")) for c in content or [] if isinstance(c, dict))
            if "SCRIPT:" in text:
                return text
    return ""


class _Handler(BaseHTTPRequestHandler):
    owner: FakeResponsesAPI
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle(self) -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            super().handle()

    def _send(self, status: int, data: bytes, content_type: str) -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    def do_GET(self) -> None:
        self.owner._record(RecordedRequest("GET", self.path, {}, None, "unknown"))
        self._send(404, b'{"error":{"message":"not faked"}}', "application/json")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        try:
            body = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            body = {}
        headers = {k.lower(): v for k, v in self.headers.items()}
        if not urlsplit(self.path).path.endswith("/responses") or not isinstance(body, dict):
            self.owner._record(RecordedRequest("POST", self.path, headers, body, "unknown"))
            self._send(404, b'{"error":{"message":"not faked"}}', "application/json")
            return
        marker = SCRIPT_MARKER.search(_first_user_text(body))
        if marker is None or not body.get("tools"):
            self.owner._record(RecordedRequest("POST", self.path, headers, body, "side"))
            self._stream([_message("ok")])
            return
        script = marker.group(1)
        self.owner._record(RecordedRequest("POST", self.path, headers, body, "scripted", script))
        index = sum(1 for i in body.get("input") or []
                    if isinstance(i, dict) and i.get("type") in _CALLS)
        turns = self.owner.scripts.get(script, [])
        turn = turns[index] if index < len(turns) else Turn([Text("done")])
        if turn.gate is not None:
            turn.gate.hold()
        items: list[dict[str, Any]] = []
        for n, block in enumerate(turn.blocks):
            if isinstance(block, ToolUse):
                items.append({"type": "function_call", "id": f"fc_{script}_{index}_{n}",
                              "call_id": f"call_{script}_{index}_{n}", "name": block.name,
                              "arguments": json.dumps(dict(block.input)),
                              "status": "completed"})
            else:
                assert isinstance(block, Text)
                items.append(_message(block.text))
        self._stream(items)

    def _stream(self, items: list[dict[str, Any]]) -> None:
        rid = f"resp_{self.owner.next_id()}"
        events: list[dict[str, Any]] = [{"type": "response.created",
                                         "response": {"id": rid, "status": "in_progress"}}]
        for n, item in enumerate(items):
            events.append({"type": "response.output_item.added", "output_index": n,
                           "item": item})
            events.append({"type": "response.output_item.done", "output_index": n,
                           "item": item})
        usage = {"input_tokens": 10, "input_tokens_details": {"cached_tokens": 0},
                 "output_tokens": 10, "output_tokens_details": {"reasoning_tokens": 0},
                 "total_tokens": 20}
        events.append({"type": "response.completed",
                       "response": {"id": rid, "status": "completed", "output": items,
                                    "usage": usage}})
        data = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
        self._send(200, data.encode(), "text/event-stream")


def _message(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "assistant", "id": "msg_fake", "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}
