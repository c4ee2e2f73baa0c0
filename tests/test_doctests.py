"""Every docstring example in gatectl and its dashboard runs with the suite.

Examples that need hardware are marked ``# doctest: +SKIP`` where they stand.
"""

import doctest
import importlib
import pkgutil

import pytest

import gatectl
import gatectl.web


def _modules() -> list[str]:
    names = [m.name for m in pkgutil.walk_packages(gatectl.__path__, "gatectl.")]
    names += [m.name for m in pkgutil.walk_packages(gatectl.web.__path__, "gatectl.web.")]
    return sorted({"gatectl", "gatectl.web", *names} - {"gatectl.__main__"})  # __main__ runs the CLI


MODULES = _modules()


def test_every_module_is_found():
    assert {"gatectl.timing.model", "gatectl.coaching.paces", "gatectl.sim.sprinters", "gatectl.web.format"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    failed, _ = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert failed == 0, f"{name}: {failed} docstring example(s) failed (see the output above)"
