"""service: the edges of tiktok-events that touch the world.

``settings`` reads the environment, ``app`` answers HTTP requests, ``delivery`` posts to TikTok,
``logs`` writes JSON lines for Cloud Logging. The pure mapping lives in ``tiktok_mapper``.
"""
