"""The Cloud Function's door: ``tiktok_events`` receives every HTTP request.

The configuration is read here, once, when the instance starts: a bad value stops the start with
a message that names the variable. Everything else happens in ``service.app``.
"""

import os

import flask
import functions_framework

from service.app import App

APP = App.from_environment(os.environ)


@functions_framework.http
def tiktok_events(request: flask.Request) -> flask.Response:
    return APP.handle(request)
