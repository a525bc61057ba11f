"""kitlib/errors.py: the tree drawn in its docstring is the tree of classes it defines."""

from __future__ import annotations

import re

import pytest

from kitlib import errors
from kitlib.errors import KitlibError

# "    │   └── InvalidField (400)   a named field..." -> depth from the indent, name, status
LINE = re.compile(r"^(?P<indent>[ │]*)(?:[├└]── )?(?P<name>\w+) \((?P<status>\d{3})\)")


def drawn_tree() -> dict[str, tuple[str | None, int]]:
    """Each class named in the docstring, with the parent it is drawn under and its status."""
    drawn: dict[str, tuple[str | None, int]] = {}
    parents: list[str] = []
    for line in (errors.__doc__ or "").splitlines():
        match = LINE.match(line.strip("\n")[4:] if line.startswith("    ") else "")
        if not match:
            continue
        depth = len(match["indent"]) // 4 + (0 if match["name"] == "KitlibError" else 1)
        parents[depth:] = [match["name"]]
        drawn[match["name"]] = (parents[depth - 1] if depth else None, int(match["status"]))
    return drawn


def defined_tree() -> dict[str, tuple[str | None, int]]:
    found: dict[str, tuple[str | None, int]] = {"KitlibError": (None, KitlibError.status)}
    todo = [KitlibError]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub.__module__ == errors.__name__:
                found[sub.__name__] = (cls.__name__, sub.status)
                todo.append(sub)
    return found


def test_the_docstring_draws_every_class_under_its_parent_with_its_status():
    assert drawn_tree() == defined_tree()


def test_every_class_has_a_code_of_its_own_and_a_message_for_people():
    classes = [getattr(errors, name) for name in defined_tree()]
    codes = [cls.code for cls in classes]
    assert len(codes) == len(set(codes))
    assert all(cls.__doc__ for cls in classes)


@pytest.mark.parametrize("cls", [errors.NotFound, errors.Forbidden, errors.Conflict])
def test_a_raised_error_says_its_docstring_unless_given_a_message(cls):
    assert cls().message == cls.__doc__
    assert cls("Kit « covid » introuvable").message == "Kit « covid » introuvable"
