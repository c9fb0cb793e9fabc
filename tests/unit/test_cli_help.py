"""Every command and every option of `fastfaktura` says what it is for in `--help`."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from fastfaktura.cli.parser import parser


def _parsers(
    node: argparse.ArgumentParser, path: str = "fastfaktura"
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield path, node
    for action in node._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, f"{path} {name}")


def test_every_command_and_option_has_help() -> None:
    missing = []
    for path, node in _parsers(parser()):
        if not node.description:
            missing.append(f"{path}: no description")
        for action in node._actions:
            if isinstance(action, argparse._SubParsersAction):
                listed = {choice.dest for choice in action._choices_actions}
                missing += [
                    f"{path} {name}: no line in the list of commands"
                    for name in action.choices
                    if name not in listed
                ]
            elif not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


def test_business_options_say_a_name_is_taken_too() -> None:
    found = []
    for path, node in _parsers(parser()):
        for action in node._actions:
            if "--business" in action.option_strings:
                found.append(path)
                assert "name" in (action.help or ""), path
    assert sorted(found) == [
        "fastfaktura audit export",
        "fastfaktura audit replay",
        "fastfaktura audit verify",
        "fastfaktura keys create",
        "fastfaktura keys list",
        "fastfaktura users create",
    ]


def test_the_root_help_lists_every_command_with_its_description() -> None:
    text = " ".join(parser().format_help().split())
    for path, node in _parsers(parser()):
        leaf = not any(isinstance(a, argparse._SubParsersAction) for a in node._actions)
        if path != "fastfaktura" and leaf:
            line = (
                f"{path.removeprefix('fastfaktura ')} {' '.join((node.description or '').split())}"
            )
            assert line in text, path
