"""tiktok_mapper: the pure core of tiktok-events.

It turns input events (Commanders Act, server-side GTM, TikTok-shaped) into TikTok Events API 2.0
request bodies and a per-event report. It reads no environment, opens no socket and reads no
clock: the configuration and the current time are passed in. The edges (``main.py`` and the
``service`` package, the preview command) do the I/O.

The words, one meaning each (each module's docstring says more of its own):

- *route*: how events come in: ``commandersact``, ``ga4`` or ``tiktok``, the path a sender
  posts to without its slash (``pipeline.Route``: how the body is read, its schema, its mapper).
- *event_source*: only ever TikTok's: ``web``, ``app``, ``offline`` or ``crm``, which decides
  the ``event_source_id`` an event is sent with (the pixel, the app …).
- *TikTok field*: a dotted name in TikTok's event (``user.email``); its *rule* (normaliser,
  hashed or not, form, required for which event_source) is written once, in ``events_api``.
- *row*: where one route finds one TikTok field: its *getters*, first found wins; a route's
  rows are its "where to find it" table. A *table* (``fields.Table``) is those rows joined with
  TikTok's rules, ready to apply; applying it to an event is *assembling* it.
- *getter*: reads one value from an event (a path, a cookie, a query parameter); its *label*
  is the JSON path named in errors and warnings, never the value.
- *normaliser*: turns one value into what TikTok expects, or says why it is left out (a
  warning) or why the event cannot be sent (an error).
- *shared settings* (``config.Config``) and a route's *options* (``Options`` in its module):
  what an operator set; ``pipeline.Setup`` holds them all.
- *result*, *batch*, *plan*, *envelope*: see ``pipeline``; *payload*: the JSON bytes of one
  TikTok request (``sizing``).

Modules: ``body`` (request bytes → events), ``config`` (the shared settings and how settings
are read), ``events_api`` (TikTok's fields and their rules), ``fields`` (getters, rows, tables,
assembling), ``normalize`` (the normalisers), one module per route (``commandersact``,
``ga4``, ``passthrough`` for ``tiktok``), ``flat`` (flattened keys), ``schemas``
(validation), ``model`` (what mapping an event comes to), ``pipeline`` (validate, map, group),
``sizing`` (requests of at most 1 MiB), ``match`` (the match-quality summary) and ``report``
(the answer and its HTTP status). ``__main__`` is the preview command, an edge like
``main.py``.
"""

__version__ = "0.1.0"
