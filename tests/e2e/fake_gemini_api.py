"""A scripted stand-in for the Gemini API (generateContent / streamGenerateContent).

Gemini CLI is pointed at it with ``GOOGLE_GEMINI_BASE_URL``. As with the Anthropic stand-in
(``fake_model_api``), each session's prompt names a script with ``SCRIPT:<name>``; its tool
calls are answered turn by turn, and every request is recorded so a test can read the
``functionResponse`` parts the model received. Calls that offer no tools (routing,
next-speaker checks, summaries) get a plain text answer and leave the script alone.
Loopback only; standard library only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .fake_model_api import SCRIPT_MARKER, ScriptedHandler, ScriptedServer, Text, ToolUse, Turn


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


class _Handler(ScriptedHandler):
    owner: FakeGeminiAPI

    def do_GET(self) -> None:
        self._record(None, "unknown")
        self._send(404, b'{"error":{"code":404,"message":"not faked"}}', "application/json")

    def do_POST(self) -> None:
        read = self._read_body()
        body: dict[str, Any] = read if isinstance(read, dict) else {}
        path = urlsplit(self.path).path
        if path.endswith(":countTokens"):
            self._record(body, "count_tokens")
            self._send(200, b'{"totalTokens": 10}', "application/json")
            return
        marker = SCRIPT_MARKER.search(_first_user_text(body))
        if marker is None or not body.get("tools"):
            self._record(body, "side")
            self._answer(path, [{"text": "ok"}])
            return
        script = marker.group(1)
        self._record(body, "scripted", script)
        index = sum(1 for c in body.get("contents") or [] if c.get("role") == "model")
        turn = self.owner.turn(script, index)
        if turn.gate is not None:
            turn.gate.hold()
        self._answer(path, _parts(turn))

    def _answer(self, path: str, parts: list[dict[str, Any]]) -> None:
        chunk = json.dumps(_response(parts))
        if path.endswith(":streamGenerateContent"):
            self._send(200, f"data: {chunk}\r\n\r\n".encode(), "text/event-stream")
        else:
            self._send(200, chunk.encode(), "application/json")


class FakeGeminiAPI(ScriptedServer):
    """The Gemini API, as Gemini CLI calls it (``GOOGLE_GEMINI_BASE_URL``)."""

    handler = _Handler

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
