"""tiktok_mapper: the pure core of tiktok-events.

It turns input events (Commanders Act, server-side GTM, TikTok-shaped) into TikTok Events API 2.0
request bodies and a per-event report. It reads no environment, opens no socket and reads no
clock: the configuration and the current time are passed in. The edges (``main.py`` and the
``service`` package, the preview command) do the I/O.

Modules: ``body`` (request bytes → events), ``config`` (environment → ``Config``),
``schemas`` (validation), ``fields`` and ``normalize`` (the field-table machinery and the
normalisers), one module per source (``commandersact``, ``ga4``, ``passthrough``), ``model``
(what mapping an event comes to), ``pipeline`` (validate, map, group) and ``report`` (the
answer and its HTTP status). ``__main__`` is the preview command, an edge like ``main.py``.
"""

__version__ = "0.1.0"
