"""Maps dotted key paths of a TOML text to the lines they are written on, because tomllib
reports no positions and every problem must name its line."""

from __future__ import annotations

__all__ = ["Locator"]

_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


class Locator:
    """Line numbers (1-based) of table headers and keys of one TOML text.

    Meant for text tomllib already accepted: it is a scanner, not a validator."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._n = len(text)
        self._i = 0
        self._line = 1
        self._lines: dict[tuple[str, ...], int] = {}
        self._scan()

    def line(self, *path: str | int) -> int:
        """Line of `path`, else of its longest located prefix, else 1."""
        keys = tuple(str(p) for p in path)
        for k in range(len(keys), 0, -1):
            found = self._lines.get(keys[:k])
            if found is not None:
                return found
        return 1

    # -- scanning ---------------------------------------------------------------------
    def _record(self, path: tuple[str, ...], line: int) -> None:
        for k in range(1, len(path) + 1):
            self._lines.setdefault(path[:k], line)

    def _scan(self) -> None:
        text, current = self._text, ()
        while self._i < self._n:
            c = text[self._i]
            if c in " \t\r":
                self._i += 1
            elif c == "\n":
                self._newline()
            elif c == "#":
                self._skip_to_eol()
            elif c == "[":
                self._i += 2 if text.startswith("[[", self._i) else 1
                current = tuple(self._read_key())
                self._record(current, self._line)
                self._skip_to_eol()
            else:
                start = self._i
                keys = self._read_key()
                if keys:
                    self._record(current + tuple(keys), self._line)
                if self._i < self._n and text[self._i] == "=":
                    self._i += 1
                    self._skip_value()
                if self._i == start:  # never loop on text we cannot read
                    self._i += 1
                self._skip_to_eol()

    def _newline(self) -> None:
        self._i += 1
        self._line += 1

    def _skip_to_eol(self) -> None:
        end = self._text.find("\n", self._i)
        self._i = self._n if end < 0 else end

    def _skip_blank(self) -> None:
        while self._i < self._n and self._text[self._i] in " \t":
            self._i += 1

    def _read_key(self) -> list[str]:
        """Read a (dotted) key up to `=` or `]`, leaving the position on that character."""
        text, keys = self._text, []
        while True:
            self._skip_blank()
            if self._i >= self._n:
                return keys
            c = text[self._i]
            if c == '"':
                keys.append(self._read_basic())
            elif c == "'":
                end = text.find("'", self._i + 1)
                end = self._n if end < 0 else end
                keys.append(text[self._i + 1 : end])
                self._i = end + 1
            elif c in _BARE:
                start = self._i
                while self._i < self._n and text[self._i] in _BARE:
                    self._i += 1
                keys.append(text[start : self._i])
            else:
                return keys
            self._skip_blank()
            if self._i < self._n and text[self._i] == ".":
                self._i += 1
                continue
            return keys

    def _read_basic(self) -> str:
        """Read a single-line basic string starting at its quote; return its value."""
        text, out = self._text, []
        self._i += 1
        while self._i < self._n:
            c = text[self._i]
            if c == '"':
                self._i += 1
                break
            if c == "\\" and self._i + 1 < self._n:
                e = text[self._i + 1]
                if e in "uU":
                    width = 4 if e == "u" else 8
                    digits = text[self._i + 2 : self._i + 2 + width]
                    try:
                        out.append(chr(int(digits, 16)))
                    except ValueError:
                        out.append(digits)
                    self._i += 2 + width
                    continue
                out.append(_ESCAPES.get(e, e))
                self._i += 2
                continue
            out.append(c)
            self._i += 1
        return "".join(out)

    def _skip_value(self) -> None:
        """Skip one value, following arrays and multi-line strings across lines."""
        text, depth = self._text, 0
        while self._i < self._n:
            c = text[self._i]
            if c == "\n":
                if depth == 0:
                    return
                self._newline()
            elif c == "#":
                self._skip_to_eol()
            elif c in "[{":
                depth += 1
                self._i += 1
            elif c in "]}":
                depth -= 1
                self._i += 1
            elif c in "\"'":
                self._skip_string(c)
            else:
                self._i += 1

    def _skip_string(self, quote: str) -> None:
        text = self._text
        if text.startswith(quote * 3, self._i):
            self._i += 3
            while self._i < self._n:
                c = text[self._i]
                if c == "\\" and quote == '"':
                    if text[self._i + 1 : self._i + 2] == "\n":
                        self._line += 1
                    self._i += 2
                elif c == "\n":
                    self._newline()
                elif text.startswith(quote * 3, self._i):
                    self._i += 3
                    # a closing delimiter may carry up to two more quotes of content
                    while self._i < self._n and text[self._i] == quote:
                        self._i += 1
                    return
                else:
                    self._i += 1
            return
        self._i += 1
        while self._i < self._n:
            c = text[self._i]
            if c == quote:
                self._i += 1
                return
            if c == "\n":
                return
            self._i += 2 if (c == "\\" and quote == '"') else 1
