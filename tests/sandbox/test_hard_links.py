"""Hard links through the file tools: the Write and Edit tools run in the client, not in the
shell sandbox, so a hard link of A's file made in B is judged as A, by A's git index."""

from __future__ import annotations

import os

from tests.conftest import pre_tool, run_hook

from .conftest import Scene


def test_a_write_through_a_hard_link_of_a_held_file_is_judged_as_that_tree(
    scene: Scene,
) -> None:
    """Without guard the write changes A (the same inode); guard denies it naming A.
    Catches: tree_of_path not asking core/hardlinks, or index_inodes reading the wrong field."""
    link = scene.b / "l.txt"
    os.link(scene.a_file, link)
    with open(link, "w") as fh:  # what the client's Write does: the file, in place
        fh.write("changed\n")
    assert scene.a_changed()
    scene.restore_a()
    for tool, tool_input in (
        ("Write", {"file_path": str(link), "content": "changed\n"}),
        ("Edit", {"file_path": str(link), "old_string": "from A", "new_string": "changed"}),
    ):
        answer = run_hook(pre_tool("b-session", scene.b, tool, **tool_input), scene.env)
        assert answer.denied, tool
        assert "holds this working tree" in answer.reason and str(scene.a) in answer.reason


def test_a_file_linked_twice_inside_bs_own_tree_is_bs(scene: Scene) -> None:
    """A hard link whose inode no held tree's index records changes nothing in the
    judgement. Catches: every file with two links taken for a held tree's."""
    own = scene.b / "own.txt"
    own.write_text("mine\n")
    os.link(own, scene.b / "own-too.txt")
    answer = run_hook(pre_tool("b-session", scene.b, "Write", file_path=str(own),
                               content="x\n"), scene.env)
    assert not answer.denied, answer.reason
