"""A scripted stand-in for the OpenAI Responses API (streamed), for Codex CLI end-to-end tests.

Codex CLI is pointed at it through a model provider (`-c model_providers.mock.base_url=...`).
As with the other stand-ins, each session's prompt names a script with ``SCRIPT:<name>``;
its turns are answered in order (the turn is how many tool calls the conversation already
holds, so a retried request gets the same answer), and every request is recorded so a test
can read the ``function_call_output`` items the model received. Loopback only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .fake_model_api import SCRIPT_MARKER, ScriptedHandler, ScriptedServer, Text, ToolUse

_CALLS = ("function_call", "custom_tool_call", "local_shell_call")
_OUTPUTS = ("function_call_output", "custom_tool_call_output", "local_shell_call_output")


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


class _Handler(ScriptedHandler):
    owner: FakeResponsesAPI

    def do_GET(self) -> None:
        self._record(None, "unknown")
        self._send(404, b'{"error":{"message":"not faked"}}', "application/json")

    def do_POST(self) -> None:
        read = self._read_body()
        body: dict[str, Any] = read if isinstance(read, dict) else {}
        if not urlsplit(self.path).path.endswith("/responses") or not isinstance(read, dict):
            self._record(body, "unknown")
            self._send(404, b'{"error":{"message":"not faked"}}', "application/json")
            return
        marker = SCRIPT_MARKER.search(_first_user_text(body))
        if marker is None or not body.get("tools"):
            self._record(body, "side")
            self._stream([_message("ok")])
            return
        script = marker.group(1)
        self._record(body, "scripted", script)
        index = sum(1 for i in body.get("input") or []
                    if isinstance(i, dict) and i.get("type") in _CALLS)
        turn = self.owner.turn(script, index)
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


class FakeResponsesAPI(ScriptedServer):
    """The OpenAI Responses API, streamed, as Codex CLI calls it."""

    handler = _Handler
    base_path = "/v1"

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
