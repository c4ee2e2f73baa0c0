"""The README and the help text keep up with the commands."""

import argparse
import re
from pathlib import Path

from gatectl.cli import build_parser

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def commands() -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_readme_opens_with_the_demo_and_the_test_command():
    blocks = re.findall(r"```sh\n(.*?)\n```", README, re.S)
    assert blocks[0].endswith("gatectl demo")
    assert "pytest" in blocks[1]
    assert blocks[1] in (Path(__file__).parent.parent / ".ci" / "run").read_text()


def test_every_command_is_in_the_readme():
    missing = [name for name in commands() if f"gatectl {name}" not in README]
    assert missing == []


def test_every_command_has_help_with_an_example():
    for name, parser in commands().items():
        text = parser.format_help()
        assert "example" in text, f"gatectl {name} --help shows no example"
