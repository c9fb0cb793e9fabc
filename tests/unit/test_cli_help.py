"""`fastfaktura --help` names every command and says what it does; every option has a help."""

from __future__ import annotations

import argparse
import subprocess
from collections.abc import Iterator

from fastfaktura.cli import parser
from tests.helpers import FASTFAKTURA


def commands(
    node: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser, str | None]]:
    """Every command and group below `node`: its path, its parser, the help listing it."""
    for action in node._actions:
        if isinstance(action, argparse._SubParsersAction):
            listed = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                yield (*path, name), sub, listed.get(name)
                yield from commands(sub, (*path, name))


def runs_something(command: argparse.ArgumentParser) -> bool:
    return not any(isinstance(a, argparse._SubParsersAction) for a in command._actions)


def test_every_command_and_option_has_a_help() -> None:
    missing = []
    for path, command, listed_help in commands(parser()):
        if not listed_help:
            missing.append(" ".join(path))
        missing += [
            f"{' '.join(path)} {action.option_strings or action.dest}"
            for action in command._actions
            if not action.help and not isinstance(action, argparse._SubParsersAction)
        ]
    assert missing == []


def test_help_lists_every_command_with_what_it_does() -> None:
    shown = subprocess.run(
        [FASTFAKTURA, "--help"], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    leaves = [(path, help) for path, command, help in commands(parser()) if runs_something(command)]
    assert len(leaves) >= 15
    for path, help in leaves:
        assert help
        lines = [line for line in shown.splitlines() if line.strip().startswith(" ".join(path))]
        assert any(help in line for line in lines), (path, help, shown)
