"""Switching guard or git's hooks off, in any spelling (shell/switches.py and shell/git.py).

Every line in SWITCHES must be reported as `disables_git_hooks` (refused for every agent,
the holder included); every line in NOT_SWITCHES must not be (text, reads, ordinary work).
"""

from __future__ import annotations

import pytest

from worktree_guard.shell.classify import classify_command

SWITCHES = [
    # the session's variables, in every form
    "CLAUDE_CODE_SESSION_ID= git commit -m x",
    "CLAUDE_PID=1 git commit -m x",
    "GUARD_SESSION_ID=abc git commit -m x",
    "GUARD_LOCK_DIR=/tmp/elsewhere git commit -m x",
    "export GUARD_LOCK_DIR=/tmp/x",
    "export -n CLAUDE_CODE_SESSION_ID",
    "unset CLAUDE_CODE_SESSION_ID",
    "unset -v CLAUDE_PID; git push",
    "env -u CLAUDE_CODE_SESSION_ID git push",
    "env -uCLAUDE_PID git push",
    "env --unset=GUARD_SESSION_ID git push",
    "env -i git push",
    "env - git push",
    "env --ignore-environment PATH=/usr/bin git push",
    "exec -c git push",
    "declare -x CLAUDE_CODE_SESSION_ID=",
    "declare -n r=CLAUDE_PID; r=1",
    "local GUARD_FAIL_CLOSED=0",
    "readonly CLAUDE_PID",
    "typeset GUARD_TTL_MS=1",
    "read -r GUARD_LOCK_DIR <<< /tmp",
    "printf -v CLAUDE_PID %s 1",
    "mapfile -t GUARD_X < /dev/null",
    "for CLAUDE_PID in 1; do git commit -m x; done",
    "select GUARD_LOCK_DIR in /tmp; do break; done",
    ": ${CLAUDE_PID:=1}",
    "echo ${GUARD_LOCK_DIR=/tmp}",
    "((GUARD_TTL_MS++))",
    "echo $((CLAUDE_PID=1))",
    "let GUARD_TTL_MS=1",
    "CLAUDE_CODE_SESSION_ID+=x git commit -m x",
    'v=CLAUDE_PID; unset "$v"',
    "unset $(echo CLAUDE_PID)",
    "bash -c 'unset CLAUDE_CODE_SESSION_ID; git push -f'",
    "sh -c \"CLAUDE_CODE_SESSION_ID= git commit -m x\"",
    "echo $(unset CLAUDE_PID)",
    "CODEX_THREAD_ID= git commit -m x",
    # where git reads its configuration
    "GIT_CONFIG_GLOBAL=/tmp/c git push",
    "GIT_CONFIG_SYSTEM=/tmp/c git push",
    "GIT_CONFIG_NOSYSTEM=1 git push",
    "GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=x GIT_CONFIG_VALUE_0=y git push",
    "HOME=/tmp/h git push",
    "XDG_CONFIG_HOME=/tmp/x git push",
    "export HOME=/tmp/h; git push",
    "env HOME=/tmp/h git push",
    "unset HOME XDG_CONFIG_HOME; git push",
    # hook switches built from variables or substitutions
    "git push $(printf -- --no-verify) -f origin main",
    "f=--no-verify; git push $f -f origin main",
    'git push "$f" origin main',
    "git push --no-$x origin main",
    "git commit -$flags -m x",
    "git commit `echo -n` -m x",
    "git merge $opt feature",
    "git push origin $(git branch --show-current) $(echo --no-verify)",
    'git push origin "$(git branch --show-current)$x"',
    'k=core.hooksPath; git -c "$k=/dev/null" push -f origin main',
    'git -c "$kv" push',
    "git --config-env=$k=V push",
    "git $sub -f origin main",
    '"$(command -v git)" push -f origin main',
    "g=git; $g push",
    # configuration that reads or carries hook switches
    "git -c include.path=/tmp/x.cfg push -f origin main",
    "git -c includeIf.gitdir:/.path=/tmp/x.cfg push",
    "git -c guard.protectedBranches=none push -f origin main",
    "git --config-env=guard.allowForcePush=V push",
    "git config alias.fp 'push --no-verify --force'",
    "git config --global alias.p push",
    "git config guard.protectedBranches none",
    "git config --local guard.allowForcePush holder",
    "git config --unset guard.humanPolicy",
    "git config --remove-section guard",
    "git config --rename-section core old",
    "git config include.path /tmp/x.cfg",
    "git config --global core.hooksPath /dev/null",
    "git config set core.hooksPath /dev/null",
    "git config --edit",
    'git config "$key" value',
    # pushing without pre-push
    "git send-pack --force ../remote.git main",
    "git http-push --force https://example.invalid/r.git main",
    "/usr/lib/git-core/git-send-pack ../remote.git main",
    "git receive-pack ../remote.git",
    # the hooks folder, git's config files, the lock folder
    "chmod -x .git/hooks/pre-push",
    "mv .git/hooks .git/hooks.off",
    "rm -rf .git/hooks",
    "cd .git && mv hooks off",
    "cd .gi? && mv hooks off",
    "rm -rf .[g]it/hooks",
    "shopt -s dotglob; rm -rf *",
    "ln -sf /dev/null .git/hooks/pre-push",
    "cp /dev/null .git/hooks/pre-commit",
    "sed -i 's/guard/true/' .git/hooks/pre-push",
    "python3 -c \"import os; os.remove('.git/hooks/pre-push')\"",
    "echo '[core] hooksPath=/dev/null' >> .git/config",
    "printf '[core]\\n\\thooksPath=/dev/null\\n' >> ~/.gitconfig",
    "mkdir -p ~/.config/git && echo x > ~/.config/git/config",
    'rm -f "$(git rev-parse --git-path hooks)/pre-push"',
    "rm -f ~/.claude/runtime/session-lock-*.json",
    'rm -rf "$GUARD_LOCK_DIR"',
    "rm -rf ~/.claude",
    "echo {} > ~/.claude/settings.json",
    "find ~/.claude -name 'session-lock-*' -delete",
    "x='a[$(rm -f ~/.claude/runtime/session-lock-x.json)]'; echo $((x))",
    # a message that expands runs code; wrappers run commands
    'git commit -m "$(unset CLAUDE_PID; rm .git/hooks/pre-push)"',
    'git commit -m "x" && rm -f .git/hooks/pre-push',
    "nice env -u CLAUDE_CODE_SESSION_ID git push",
    "timeout 60 env -i git push",
    "nohup env HOME=/tmp/h git push",
    "bash -cm 'rm -rf .git/hooks'",
    "python3 -m 'x' .git/hooks/pre-push",
]

NOT_SWITCHES = [
    "git status",
    "git log --oneline -5",
    "git commit -m 'fix the push'",
    'git commit -m "$msg"',
    'git commit --message="$msg" -- "$file"',
    'git push origin "HEAD:$branch"',
    'git push -u origin "$(git branch --show-current)"',
    "git push origin $(git rev-parse --abbrev-ref HEAD)",
    "git push origin main",
    "git push --force-with-lease origin feature",
    'git config user.email "$email"',
    "git config user.name Dev",
    "git config --get guard.protectedBranches",
    "git config --get-regexp '^alias\\.'",
    "git config --list",
    'git config --get "$key"',
    'git config get "$key"',
    'git config --get-regexp "^$section\\."',
    "echo $HOME && ls ~",
    'export PATH="$HOME/bin:$PATH"',
    "echo 'unset CLAUDE_CODE_SESSION_ID'",
    "echo CLAUDE_CODE_SESSION_ID=x",
    "printenv CLAUDE_PID",
    'echo "$CLAUDE_CODE_SESSION_ID"',
    "echo ${#GUARD_LOCK_DIR}",
    "cat .git/hooks/pre-push",
    "ls -la .git/hooks",
    "cat ~/.claude/runtime/session-lock-abc.json",
    "git add .gitignore && git commit -m ignore",
    "git clone https://example.invalid/repo.git ../other",
    "rm -rf build dist",
    "make test",
    "npm install",
    "cd .claude/worktrees/x && make",
    "mkdir -p .claude/commands",
    "env FOO=1 make",
    "read -r line < file.txt",
    "for f in *.py; do echo $f; done",
    "git worktree add ../feature -b feature",
    'git commit -m "unset HOME in tests"',
    "git commit -am 'document .git/hooks and CLAUDE_PID=1'",
    'git tag -a v1 --message="export GUARD_X"',
]


@pytest.mark.parametrize("line", SWITCHES)
def test_switching_hooks_or_guard_off_is_found(line: str) -> None:
    verdict = classify_command(line)
    assert verdict.disables_git_hooks, (line, verdict.reason)
    assert not verdict.read_only


@pytest.mark.parametrize("line", NOT_SWITCHES)
def test_ordinary_lines_are_not_switches(line: str) -> None:
    verdict = classify_command(line)
    assert not verdict.disables_git_hooks, (line, verdict.reason)


def test_the_lock_folder_the_hook_names_is_protected() -> None:
    line = "rm -rf /srv/guard-locks/leases"
    assert not classify_command(line).disables_git_hooks
    assert classify_command(line, ("/srv/guard-locks",)).disables_git_hooks
