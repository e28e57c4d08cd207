"""Text from the web, made safe to show in a terminal.

Anchors, titles, URLs and domains come from pages anyone can write. Printed as they
are, a C0 or C1 control character drives the operator's terminal (``ESC[2J`` clears
it, an OSC 8 sequence plants a hyperlink of the page's choosing) and a bidi override
turns what follows around. ``visible`` shows each such character as its escape
(``\\x1b``, ``\\u202e``) instead, so the text reads as what it is; the reports' rich
tables also get it as ``rich.text.Text``, never as markup (``terminal.py``).
``--json`` and the exports keep the exact strings.
"""

from __future__ import annotations

_BIDI = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_SHOWN = {
    **{c: f"\\x{c:02x}" for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))},  # C0, DEL, C1
    **{c: f"\\u{c:04x}" for c in _BIDI},
}


def visible(text: str) -> str:
    """``text`` with control characters and bidi overrides shown as escapes."""
    return text.translate(_SHOWN)
