"""The baseline function of the benchmarks: the least an HTTP function can do with a JSON body.

It parses the body and answers it back, through the same functions-framework as ours.
"""

import json

import flask
import functions_framework


@functions_framework.http
def echo(request: flask.Request) -> flask.Response:
    body = json.loads(request.get_data())
    return flask.Response(json.dumps(body), mimetype="application/json")
