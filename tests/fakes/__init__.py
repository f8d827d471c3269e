"""Loopback fakes of the services the function talks to, answering as the real ones do.

Words used here: a *fake* is a real HTTP server on 127.0.0.1 (stdlib ``http.server`` in a
daemon thread) that the real client code talks to over a socket; a *script* is a queue of
canned answers a test sets up, consumed one per request before the fake's normal behaviour.
"""
