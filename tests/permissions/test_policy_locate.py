"""The line locator finds headers, bare, quoted and dotted keys, and skips multi-line values."""

from __future__ import annotations

from permissions._locate import Locator

TEXT = '''\
# comment with key = "value"
top = 1
[a]
b = """
fake = 1
[not.a.header]
"""
c = [
  "x = 1",  # d = 2
  '[q]',
]
"quoted key" = 'v'
'literal.key' = 3
"esc\\"aped" = 4
"\\u0041" = 4
dotted . key = 5
[ a . "sub table" ]
e = {f = 1}
[[arr]]
g = 1
x = \'\'\'
multi \'\'\'\'
h = 1
'''


def test_lines():
    loc = Locator(TEXT)
    assert loc.line("top") == 2
    assert loc.line("a") == 3
    assert loc.line("a", "b") == 4
    assert loc.line("a", "c") == 8
    assert loc.line("a", "quoted key") == 12
    assert loc.line("a", "literal.key") == 13
    assert loc.line("a", 'esc"aped') == 14
    assert loc.line("a", "A") == 15
    assert loc.line("a", "dotted", "key") == 16
    assert loc.line("a", "sub table") == 17
    assert loc.line("a", "sub table", "e", "f") == 18  # falls back to the inline table's key
    assert loc.line("arr", "g") == 20
    assert loc.line("arr", "h") == 23


def test_unknown_paths_fall_back():
    loc = Locator(TEXT)
    assert loc.line("fake") == 1
    assert loc.line("not") == 1
    assert loc.line("d") == 1
    assert loc.line("a", "nope") == 3
    assert loc.line() == 1
    assert loc.line("a", "c", 1) == 8


def test_crlf_and_empty():
    assert Locator("").line("x") == 1
    assert Locator("[a]\r\nb = 1\r\n").line("a", "b") == 2
