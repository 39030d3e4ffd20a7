"""Python syntax highlighting for the code preview and the Custom layer's editor.

One left-to-right scan per line finds strings and comments first, so that a `#` inside a
string or a quote inside a comment is never mistaken for the other; keywords, numbers,
decorators and `self` are coloured only outside them. A triple-quoted string left open
at the end of a line carries over to the next line through the block state.
"""

from __future__ import annotations

import builtins
import keyword
import re
from collections.abc import Callable

from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QFontInfo,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextDocument,
)

# Block states: outside any string, or inside a triple-quoted string opened by """ or '''.
_NORMAL, _IN_DOUBLE, _IN_SINGLE = 0, 1, 2
_TRIPLE_DOUBLE, _TRIPLE_SINGLE = '"' * 3, "'" * 3
_OPENERS = {_TRIPLE_DOUBLE: _IN_DOUBLE, _TRIPLE_SINGLE: _IN_SINGLE}
_CLOSERS = {state: delimiter for delimiter, state in _OPENERS.items()}

_PREFIX = r"(?:\b[rRbBuUfF]{1,2})?"
_DOUBLE = r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"?'
_SINGLE = r"'[^'\\\n]*(?:\\.[^'\\\n]*)*'?"
# Strings (an unterminated one runs to the end of the line) and comments, earliest first.
_STRING_OR_COMMENT = re.compile(
    rf"(?P<triple>{_PREFIX}(?:{_TRIPLE_DOUBLE}|{_TRIPLE_SINGLE}))"
    rf"|(?P<string>{_PREFIX}(?:{_DOUBLE}|{_SINGLE}))"
    r"|(?P<comment>#.*)"
)
_BUILTINS = [n for n in dir(builtins) if not n.startswith("_") and not keyword.iskeyword(n)]
# Patterns for the rest; "definition" colours its group 1 (the name after def/class).
_RULES = {
    "keyword": r"\b(?:" + "|".join(keyword.kwlist) + r")\b",
    "builtin": r"\b(?:" + "|".join(_BUILTINS) + r")\b",
    "self": r"\b(?:self|cls)\b",
    "number": r"\b(?:0[xXoObB][0-9a-fA-F_]+|\d[\d_]*\.?[\d_]*(?:[eE][+-]?\d+)?j?)\b",
    "decorator": r"^\s*@[\w.]+",
    "definition": r"\b(?:def|class)\s+(\w+)",
}


def _format(color: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(color))
    if bold:
        fmt.setFontWeight(QFont.Weight.Bold)
    fmt.setFontItalic(italic)
    return fmt


STYLES: dict[str, QTextCharFormat] = {
    "keyword": _format("#0033b3", bold=True),
    "builtin": _format("#7a3e9d"),
    "self": _format("#94558d", italic=True),
    "number": _format("#b4540a"),
    "decorator": _format("#9e880d"),
    "definition": _format("#00627a", bold=True),
    "string": _format("#067d17"),
    "comment": _format("#8c8c8c", italic=True),
}


MONOSPACE_FAMILIES = ("DejaVu Sans Mono", "Liberation Mono", "Noto Sans Mono", "Menlo", "Consolas")


def monospace_font() -> QFont:
    """A fixed-pitch font, for code: the system's, asked for as fixed-pitch, with common
    fixed-pitch families after it. On a machine whose fonts are set up oddly the
    system's may be a proportional font; the families behind it are taken then, where
    installed (on Debian and Ubuntu, `fonts-dejavu-core` has the first)."""
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setStyleHint(QFont.StyleHint.Monospace, QFont.StyleStrategy.PreferMatch)
    font.setFixedPitch(True)
    if not QFontInfo(font).fixedPitch():
        font.setFamilies([*MONOSPACE_FAMILIES, font.family()])
    return font


class PythonHighlighter(QSyntaxHighlighter):
    """Colours Python source in a QTextDocument (pass `editor.document()`)."""

    def __init__(self, document: QTextDocument):
        super().__init__(document)
        self._rules = [(name, re.compile(pattern)) for name, pattern in _RULES.items()]
        self._to_qt = _utf16_offsets("")

    def highlightBlock(self, text: str) -> None:
        self._to_qt = _utf16_offsets(text)
        start = self._continue_string(text)
        covered = self._strings_and_comments(text, start)
        for name, rule in self._rules:
            group = 1 if name == "definition" else 0
            for match in rule.finditer(text):
                span = match.span(group)
                if span[0] >= start and not _overlaps(span, covered):
                    self._paint(span, name)

    def _paint(self, span: tuple[int, int], style: str) -> None:
        begin, end = self._to_qt(span[0]), self._to_qt(span[1])
        self.setFormat(begin, end - begin, STYLES[style])

    def _continue_string(self, text: str) -> int:
        """Colour the end of a triple-quoted string opened on an earlier line; return
        where normal scanning starts (len(text) when the string is still open)."""
        state = self.previousBlockState()
        self.setCurrentBlockState(_NORMAL)
        if state not in _CLOSERS:
            return 0
        end = _find_closing(text, 0, _CLOSERS[state])
        if end < 0:
            self.setCurrentBlockState(state)
            end = len(text)
        self._paint((0, end), "string")
        return end

    def _strings_and_comments(self, text: str, pos: int) -> list[tuple[int, int]]:
        covered = []
        while (match := _STRING_OR_COMMENT.search(text, pos)) is not None:
            begin, end = match.span()
            if match.group("triple"):
                delimiter = match.group("triple")[-3:]
                end = _find_closing(text, end, delimiter)
                if end < 0:
                    end = len(text)
                    self.setCurrentBlockState(_OPENERS[delimiter])
            self._paint((begin, end), "comment" if match.group("comment") else "string")
            covered.append((begin, end))
            pos = max(end, begin + 1)
        return covered


def _find_closing(text: str, start: int, delimiter: str) -> int:
    """Index just past the unescaped `delimiter` that closes a string, or -1."""
    pos = start
    while (found := text.find(delimiter, pos)) >= 0:
        before = text[:found]
        if (len(before) - len(before.rstrip("\\"))) % 2 == 0:
            return found + len(delimiter)
        pos = found + 1
    return -1


def _overlaps(span: tuple[int, int], covered: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and begin < span[1] for begin, end in covered)


def _utf16_offsets(text: str) -> Callable[[int], int]:
    """Qt counts UTF-16 code units, Python code points: map a Python index to Qt's."""
    if all(ord(ch) < 0x10000 for ch in text):
        return lambda index: index
    return lambda index: len(text[:index].encode("utf-16-le")) // 2
