"""taskdist.typing_free.NamedTuple builds at run time what typing.NamedTuple builds."""

from __future__ import annotations

import pickle
import typing
from typing import Any

import pytest

from taskdist import typing_free
from taskdist.config import Config, LimitsConfig, Source

BODY = '''
from __future__ import annotations

class Point(NamedTuple):
    """A point."""

    x: int
    y: int = 0
    label: str | None = None
    SCALE = 10  # not annotated: a class attribute, not a field

    def scaled(self) -> Point:
        return self._replace(x=self.x * self.SCALE, y=self.y * self.SCALE)

    @property
    def norm1(self) -> int:
        return abs(self.x) + abs(self.y)

    @classmethod
    def origin(cls) -> Point:
        return cls(0)
'''


def _define(named_tuple: Any, body: str = BODY) -> Any:
    namespace: dict[str, Any] = {"NamedTuple": named_tuple, "__name__": "tests.points"}
    exec(compile(body, "<points>", "exec"), namespace)
    return namespace["Point"]


def test_the_class_form_builds_what_typing_builds() -> None:
    ours, theirs = _define(typing_free.NamedTuple), _define(typing.NamedTuple)
    assert issubclass(ours, tuple) and ours.__mro__[1:] == theirs.__mro__[1:] == (tuple, object)
    for attribute in ("__name__", "__qualname__", "__module__", "__doc__", "_fields", "_field_defaults", "SCALE"):
        assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
    assert ours.__annotations__ == {"x": "int", "y": "int", "label": "str | None"}
    point, reference = ours(3, -4), theirs(3, -4)
    assert tuple(point) == tuple(reference) == (3, -4, None)
    assert repr(point) == repr(reference) == "Point(x=3, y=-4, label=None)"
    assert point.scaled() == (30, -40, None) and point.norm1 == 7 and ours.origin() == (0, 0, None)
    assert point._asdict() == reference._asdict() and ours._make([1, 2, "a"]) == (1, 2, "a")
    with pytest.raises(TypeError):
        ours()  # x has no default
    with pytest.raises(AttributeError):
        point.x = 5


def test_the_mistakes_typing_refuses_are_refused() -> None:
    default_first = "class Point(NamedTuple):\n    x: int = 0\n    y: int\n"
    overwrite = "class Point(NamedTuple):\n    x: int\n    def _replace(self):\n        return self\n"
    two_bases = "class Point(NamedTuple, int):\n    x: int\n"
    for body, error in ((default_first, TypeError), (overwrite, AttributeError), (two_bases, TypeError)):
        for named_tuple in (typing_free.NamedTuple, typing.NamedTuple):
            with pytest.raises(error):
                _define(named_tuple, body)


def test_the_configuration_records_still_pickle_and_compare() -> None:
    # The import's worker processes receive the configuration pickled.
    config = Config(sources=(Source("tickets", "demo"),), limits=LimitsConfig(max_files=7))
    assert pickle.loads(pickle.dumps(config)) == config
    assert config.limits.max_files == 7 and config._replace(roster="r.yaml").roster == "r.yaml"
    assert Config() == Config() and Config() != Config(roster="r.yaml")
    assert not typing_free.TYPE_CHECKING
