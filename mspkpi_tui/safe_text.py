"""The one sanitiser for untrusted text (PSA titles, company names, the PSA's own error text).

Every writer to a terminal, a toast, the clipboard or a file calls `clean` (directly or through
mspkpi_tui.output and mspkpi_tui.tui.text). The rule, once, for every layer (no Textual here):

- C0 controls, ESC and DEL are shown as Control Pictures (ESC -> U+241B, LF -> U+240A, DEL -> U+2421):
  an escape sequence is printed as text, never acted on (no screen clear, title or clipboard change).
- C1 controls, bidi overrides and isolates (U+202A-202E, U+2066-2069, "Trojan Source"), every other
  invisible format character (zero-width, U+FEFF, soft hyphen, tags: category Cf) and the line and
  paragraph separators are shown as `<U+XXXX>`, so what is hidden or reordered becomes visible.
- A lone surrogate (it cannot be encoded as UTF-8 and would crash the writer) becomes U+FFFD.

Widths are display cells, not characters (a CJK character or most emoji take two): `truncate` and
`fit` cut and pad by cells, so columns stay aligned whatever the text.
"""

from __future__ import annotations

import unicodedata

from rich.cells import cell_len, set_cell_size

ELLIPSIS = "…"
REPLACEMENT = "\ufffd"
# Categories a terminal or a text renderer acts on instead of showing: controls, format
# characters (bidi, zero-width, BOM), surrogates, line and paragraph separators.
_HIDDEN = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def visible(ch: str) -> str:
    """One character as it is safe to show: itself, or a visible stand-in."""
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ESC -> ␛, BEL -> ␇, LF -> ␊
    if code == 0x7F:
        return "\u2421"  # ␡
    category = unicodedata.category(ch)
    if category == "Cs":
        return REPLACEMENT
    if category in _HIDDEN:
        return f"<U+{code:04X}>"
    return ch


def is_hidden(ch: str) -> bool:
    """True for a character `clean` replaces (a control, format, surrogate or separator character)."""
    return unicodedata.category(ch) in _HIDDEN


def clean(value: object) -> str:
    """The text with every control and invisible character made visible: one line, inert.

    None is the empty string; anything else is str()-ed first.
    """
    text = "" if value is None else str(value)
    if text.isprintable():  # the common case: nothing to replace (isprintable is False for every hidden category)
        return text
    return "".join(visible(ch) for ch in text)


def cells(text: str) -> int:
    """Display width in terminal cells."""
    return cell_len(text)


def truncate(text: str, width: int) -> str:
    """At most `width` cells; a cut text ends in an ellipsis. `text` should already be clean."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return text
    # set_cell_size pads with a space when a wide character would straddle the cut.
    return set_cell_size(text, width - 1) + ELLIPSIS


def fit(text: str, width: int, justify: str = "left") -> str:
    """Exactly `width` cells: truncated with an ellipsis, then padded on the right (or left)."""
    cut = truncate(text, width)
    pad = " " * max(width - cell_len(cut), 0)
    return pad + cut if justify == "right" else cut + pad
