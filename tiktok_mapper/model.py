"""What mapping one input event can come to.

- :class:`Mapped`: a TikTok event (``data``, one element of a request's ``data[]``) for an
  event source, with warnings about fields left out, and the ``test_event_code`` the input
  itself asked for (a ``/tiktok`` request body), if any.
- :class:`Skipped`: there is no TikTok event for it (not an error), with the reason.
- :class:`Rejected`: the input is invalid; each error is ``{"path": JSON path, "message": rule}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Mapped:
    event_source: str
    data: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    test_event_code: str | None = None


@dataclass(slots=True)
class Skipped:
    reason: str


@dataclass(slots=True)
class Rejected:
    errors: list[dict[str, str]]
