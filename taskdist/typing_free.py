"""`TYPE_CHECKING` and `NamedTuple` for the modules a re-import loads, without importing `typing`.

A re-import that finds nothing to do is mostly interpreter start-up, and issue 2 holds it to a tenth
of a first import. Importing `typing` costs about 2 ms of it, and `typing.NamedTuple` about 0.1 ms
more per class than `collections.namedtuple`: under `from __future__ import annotations` it compiles
every field's annotation string into a `ForwardRef` that nothing here ever evaluates. The re-import
path defines two dozen such classes.

Type checkers see `typing.NamedTuple` itself. At run time, `class Point(NamedTuple)` builds what
`typing.NamedTuple` builds, a `collections.namedtuple` with the class body's defaults, docstring and
methods, its `__annotations__` left as written (text). Only the class form is provided.
`tests/test_typing_free.py` checks it against `typing.NamedTuple`.
"""

from __future__ import annotations

# mypy and pyright treat a name `TYPE_CHECKING` as true wherever it comes from; at run time it is False.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import NamedTuple as NamedTuple
else:
    import collections

    # What typing.NamedTuple refuses to let a class body overwrite, and the body's own bookkeeping.
    _PROHIBITED = frozenset(
        {"__new__", "__init__", "__slots__", "__getnewargs__", "_fields", "_field_defaults"}
        | {"_make", "_replace", "_asdict", "_source"}
    )
    _SPECIAL = frozenset({"__module__", "__name__", "__annotations__"})

    class _NamedTupleMeta(type):
        def __new__(cls, typename, bases, namespace):
            if bases != (_NamedTupleBase,):
                raise TypeError("a NamedTuple class can only inherit from NamedTuple")
            fields = list(namespace.get("__annotations__", {}))
            defaults = []
            for name in fields:
                if name in namespace:
                    defaults.append(namespace[name])
                elif defaults:
                    raise TypeError(f"non-default NamedTuple field {name} cannot follow default field(s)")
            record = collections.namedtuple(typename, fields, defaults=defaults, module=namespace["__module__"])
            record.__annotations__ = dict(namespace.get("__annotations__", {}))
            for key, value in namespace.items():
                if key in _PROHIBITED:
                    raise AttributeError("Cannot overwrite NamedTuple attribute " + key)
                if key not in _SPECIAL and key not in record._fields:
                    setattr(record, key, value)
            return record

    _NamedTupleBase = type.__new__(_NamedTupleMeta, "NamedTuple", (), {})

    class _NamedTupleEntry:
        """`class X(NamedTuple)` resolves its base through `__mro_entries__`, as typing's does."""

        def __mro_entries__(self, bases):
            return (_NamedTupleBase,)

        def __repr__(self):
            return "taskdist.typing_free.NamedTuple"

    NamedTuple = _NamedTupleEntry()
