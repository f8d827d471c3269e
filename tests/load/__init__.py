"""Load with faults: the real function under concurrent senders while the TikTok fake fails.

``python -m tests.load`` (``make load``) runs the full size and prints the figures;
``test_load.py`` runs a short version in ``make test``. See ``harness.py`` for the words.
"""
