"""One value per name from a query string, the same rule for every list (runs, triggers, the audit log).

Why: `request.args.get` reads the first of `?take=5&take=50` and drops the rest, so a caller's
mistake went unnoticed and the answer depended on the order of the parameters. A name given twice
is refused (each list answers `RepeatedParameter` as its own 400), except names whose values
combine naturally (the runs list's `status`, already comma-separated), which are joined.
"""

from __future__ import annotations


class RepeatedParameter(ValueError):
    """A query parameter that takes one value was given several times."""

    def __init__(self, name: str, count: int):
        super().__init__(f"Give {name} once; it was given {count} times.")
        self.name, self.count = name, count

    @property
    def message(self) -> str:
        return str(self)


def single_values(args, several: tuple[str, ...] = ()) -> dict[str, str]:
    """`args` (a MultiDict; a plain dict passes as it is) with one value per name; `several` are comma-joined."""
    if not hasattr(args, "getlist"):
        return dict(args)
    values = {}
    for name in args:
        given = args.getlist(name)
        if name in several:
            values[name] = ",".join(value for value in given if value.strip())
        elif len(given) > 1:
            raise RepeatedParameter(name, len(given))
        else:
            values[name] = given[0]
    return values
