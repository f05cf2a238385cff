"""oidc-provider-mock, the real OpenID provider of the identity tests, with an RFC 7662 token
introspection endpoint added (the mock has none; scripts/services/oidc runs this file).

Everything else is the mock's own app: discovery, JWKS, the code flow, refresh, userinfo and its
token storage. The introspection answer is read from that storage, so `active` follows the mock's
own expiry and revocation (POST /users/SUB/revoke-tokens), and `aud`/`client_id` are the client the
token endpoint issued the token to (the client that authenticated there). Callers must
authenticate (RFC 7662 §2.1: HTTP Basic here). GET /introspection-stats counts the calls.

usage: provider.py --host 127.0.0.1 --port PORT
"""

import argparse
import os
import threading
import urllib.parse

import flask
import uvicorn

import oidc_provider_mock
from oidc_provider_mock import _app as mock_app

app = oidc_provider_mock.app()
token_clients: dict[str, str | None] = {}
stats = {"introspections": 0}
lock = threading.Lock()


def authenticated_client(request: flask.Request) -> str | None:
    credentials = request.authorization
    if credentials is not None and credentials.type == "basic" and credentials.username:
        # RFC 6749 §2.3.1: the client id is form-encoded inside Basic.
        return urllib.parse.unquote_plus(credentials.username)
    return request.form.get("client_id")


@app.after_request
def extend(response: flask.Response) -> flask.Response:
    request = flask.request
    if request.path == "/oauth2/token" and response.status_code == 200:
        body = response.get_json(silent=True) or {}
        if "access_token" in body:
            with lock:
                token_clients[body["access_token"]] = authenticated_client(request)
    elif request.path == "/.well-known/openid-configuration" and response.status_code == 200:
        document = response.get_json()
        document["introspection_endpoint"] = request.host_url.rstrip("/") + "/oauth2/introspect"
        document["introspection_endpoint_auth_methods_supported"] = ["client_secret_basic"]
        response.set_data(flask.json.dumps(document))
    return response


@app.post("/oauth2/introspect")
def introspect():
    credentials = flask.request.authorization
    if credentials is None or credentials.type != "basic" or not credentials.username:
        return {"error": "invalid_client"}, 401, {"WWW-Authenticate": 'Basic realm="introspection"'}
    with lock:
        stats["introspections"] += 1
    token = flask.request.form.get("token")
    if not token:
        return {"error": "invalid_request", "error_description": "token is required"}, 400
    record = flask.g.oidc_provider_mock_storage.get_access_token(token)
    if record is None or record.is_expired():
        return {"active": False}
    with lock:
        client = token_clients.get(token)
    answer = dict(mock_app._user_claims_for_scope(record.get_user(), record.scope))
    answer.update({
        "active": True,
        "sub": record.user_id,
        "scope": record.scope,
        "token_type": "Bearer",
        "iss": flask.request.host_url.rstrip("/"),
        "exp": int(record.expires_at.timestamp()),
    })
    if client is not None:
        answer["client_id"] = client
        answer["aud"] = client
    return answer


@app.get("/introspection-stats")
def introspection_stats():
    with lock:
        return dict(stats)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    arguments = parser.parse_args()
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
    uvicorn.run(app, interface="wsgi", host=arguments.host, port=arguments.port, log_config=None)
