"""The fake model API on its own: quick, no Claude Code client needed.

The real client only exercises the streamed, scripted path; these cover the rest.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from typing import Any

from .fake_model_api import FakeModelAPI, Gate, Text, ToolUse, Turn, tool_use_id

TOOLS = [{"name": "Write", "description": "write a file", "input_schema": {"type": "object"}}]


def post(api: FakeModelAPI, body: dict[str, Any]) -> tuple[str, str]:
    request = urllib.request.Request(
        f"{api.base_url}/v1/messages?beta=true",
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers.get("Content-Type", ""), response.read().decode()


def conversation(prompt: str, *answers_and_results: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"type": "text", "text": prompt}]}, *answers_and_results]


def sse_events(stream: str) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in stream.splitlines() if line.startswith("data: ")]


def test_streamed_tool_use_then_text_and_recorded_results() -> None:
    write = ToolUse("Write", {"file_path": "/x/a.txt", "content": "A\n"})
    with FakeModelAPI({"s": [Turn([write]), Turn([Text("done")])]}) as api:
        body = {"model": "m", "stream": True, "tools": TOOLS, "messages": conversation("SCRIPT:s")}
        content_type, stream = post(api, body)
        assert content_type == "text/event-stream"
        events = sse_events(stream)
        assert [e["type"] for e in events] == [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
        joined = "".join(e["delta"]["partial_json"] for e in events[2:4])
        assert json.loads(joined) == dict(write.input)
        assert events[-2]["delta"]["stop_reason"] == "tool_use"

        use_id = tool_use_id("s", 0, 0)
        answer = {"role": "assistant", "content": [events[1]["content_block"]]}
        result = {"type": "tool_result", "tool_use_id": use_id, "content": "no", "is_error": True}
        body["messages"] = conversation("SCRIPT:s", answer, {"role": "user", "content": [result]})
        body["stream"] = False
        _, text = post(api, body)
        message = json.loads(text)
        assert message["content"] == [{"type": "text", "text": "done"}]
        assert message["stop_reason"] == "end_turn"
        assert api.tool_result("s") == result


def test_side_calls_do_not_consume_the_script() -> None:
    with FakeModelAPI({"s": [Turn([ToolUse("Write", {"file_path": "f", "content": ""})])]}) as api:
        side = {"model": "small", "messages": conversation("SCRIPT:s title please")}
        assert json.loads(post(api, side)[1])["content"][0]["type"] == "text"
        scripted = {**side, "tools": TOOLS}
        assert json.loads(post(api, scripted)[1])["content"][0]["type"] == "tool_use"
        assert [r.kind for r in api.requests()] == ["side", "scripted"]


def test_gate_holds_the_answer_until_opened() -> None:
    gate = Gate()
    with FakeModelAPI({"g": [Turn([Text("late")], gate=gate)]}) as api:
        body = {"model": "m", "tools": TOOLS, "messages": conversation("SCRIPT:g")}
        answers: list[str] = []
        caller = threading.Thread(target=lambda: answers.append(post(api, body)[1]))
        caller.start()
        assert gate.wait_reached(10)
        assert answers == []  # held: the caller has no answer yet
        gate.open()
        caller.join(10)
        assert json.loads(answers[0])["content"] == [{"type": "text", "text": "late"}]
