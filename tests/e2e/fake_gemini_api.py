"""A scripted stand-in for the Gemini API (generateContent / streamGenerateContent).

Gemini CLI is pointed at it with ``GOOGLE_GEMINI_BASE_URL``. As with the Anthropic stand-in
(``fake_model_api``), each session's prompt names a script with ``SCRIPT:<name>``; its tool
calls are answered turn by turn, and every request is recorded so a test can read the
``functionResponse`` parts the model received. Calls that offer no tools (routing,
next-speaker checks, summaries) get a plain text answer and leave the script alone.
Loopback only; standard library only.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from .fake_model_api import SCRIPT_MARKER, RecordedRequest, Text, ToolUse, Turn


class FakeGeminiAPI:
    def __init__(self) -> None:
        self.scripts: dict[str, list[Turn]] = {}
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> FakeGeminiAPI:
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
        return f"http://{host!s}:{port}"

    def requests(self, kind: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self._requests if kind is None or r.kind == kind]

    def function_responses(self, script: str) -> list[dict[str, Any]]:
        """Every functionResponse part the model received in the script's conversation."""
        found: list[dict[str, Any]] = []
        for request in self.requests("scripted"):
            if request.script != script:
                continue
            for content in request.body.get("contents") or []:
                for part in content.get("parts") or []:
                    if isinstance(part, dict) and "functionResponse" in part:
                        response = part["functionResponse"]
                        if response not in found:
                            found.append(response)
        return found

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)


def _first_user_text(body: Mapping[str, Any]) -> str:
    for content in body.get("contents") or []:
        if content.get("role") == "user":
            return "\n".join(str(p.get("text", "")) for p in content.get("parts") or []
                             if isinstance(p, dict))
    return ""


def _parts(turn: Turn) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for block in turn.blocks:
        if isinstance(block, ToolUse):
            parts.append({"functionCall": {"name": block.name, "args": dict(block.input)}})
        else:
            assert isinstance(block, Text)
            parts.append({"text": block.text})
    return parts


def _response(parts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP",
                        "index": 0}],
        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 10,
                          "totalTokenCount": 20},
        "modelVersion": "gemini-fake",
    }


class _Handler(BaseHTTPRequestHandler):
    owner: FakeGeminiAPI
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
        self._send(404, b'{"error":{"code":404,"message":"not faked"}}', "application/json")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        try:
            body = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            body = {}
        path = urlsplit(self.path).path
        headers = {k.lower(): v for k, v in self.headers.items()}
        if path.endswith(":countTokens"):
            self.owner._record(RecordedRequest("POST", self.path, headers, body, "count_tokens"))
            self._send(200, b'{"totalTokens": 10}', "application/json")
            return
        marker = SCRIPT_MARKER.search(_first_user_text(body))
        if marker is None or not body.get("tools"):
            self.owner._record(RecordedRequest("POST", self.path, headers, body, "side"))
            self._answer(path, [{"text": "ok"}])
            return
        script = marker.group(1)
        self.owner._record(RecordedRequest("POST", self.path, headers, body, "scripted", script))
        # The turn is how many answers the conversation holds: a retry gets the same answer.
        index = sum(1 for c in body.get("contents") or [] if c.get("role") == "model")
        turns = self.owner.scripts.get(script, [])
        turn = turns[index] if index < len(turns) else Turn([Text("done")])
        if turn.gate is not None:
            turn.gate.hold()
        self._answer(path, _parts(turn))

    def _answer(self, path: str, parts: list[dict[str, Any]]) -> None:
        chunk = json.dumps(_response(parts))
        if path.endswith(":streamGenerateContent"):
            self._send(200, f"data: {chunk}\r\n\r\n".encode(), "text/event-stream")
        else:
            self._send(200, chunk.encode(), "application/json")
