"""Text PostgreSQL cannot store: NUL characters and lone UTF-16 surrogates.

PostgreSQL refuses both in `text`/`varchar`/`jsonb` (NUL: "invalid byte sequence"; a lone
surrogate cannot even be encoded as UTF-8), which aborts the transaction and used to surface
as a 500. Each API refuses such input once, before anything runs: GraphQL in
`schema.core.input_guard`, REST in `service.input_guard`. Both walk the decoded input with
`find_unstorable`, which reports the path of the first offending string (dict keys included).
"""

import re
from collections.abc import Iterator
from typing import Any

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
CODE = "INVALID_CHARACTER"

Path = tuple[str | int, ...]


def unstorable_reason(text: str) -> str | None:
    """Why `text` cannot be stored, or None when it can."""
    found = UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return f"contains a NUL character (U+0000) at position {found.start()}"
    return (
        f"contains a lone UTF-16 surrogate (U+{ord(found.group()):04X}) at position {found.start()}"
    )


def unstorable_strings(value: Any, path: Path = ()) -> Iterator[tuple[Path, str]]:
    """Every (path, reason) of a string in `value` (JSON-like: dicts, lists, scalars) that
    cannot be stored, in document order. A bad dict key is reported at the path of its value.
    Iterative, so any nesting the JSON decoder accepted is walked without recursion."""
    stack: list[tuple[Path, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            reason = unstorable_reason(item)
            if reason is not None:
                yield where, reason
        elif isinstance(item, dict):
            children: list[tuple[Path, Any]] = []
            for key, child in item.items():
                if isinstance(key, str):
                    reason = unstorable_reason(key)
                    if reason is not None:
                        yield (*where, key), f"name {reason}"
                children.append(((*where, key), child))
            stack.extend(reversed(children))
        elif isinstance(item, list | tuple):
            stack.extend(reversed([((*where, n), child) for n, child in enumerate(item)]))


def find_unstorable(value: Any, path: Path = ()) -> tuple[Path, str] | None:
    """The first (path, reason) of `unstorable_strings`, or None."""
    return next(unstorable_strings(value, path), None)


def shown(text: str) -> str:
    """`text` with each unstorable character written as an escape (`\\u0000`), safe to send."""
    return UNSTORABLE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def dotted(path: Path) -> str:
    """("input", "tags", 2) → "input.tags[2]" (names shown with `shown`)."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{shown(part)}" if text else shown(part)
    return text
