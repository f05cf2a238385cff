"""A token issuer the identity tests control: OIDC discovery and a JWKS on 127.0.0.1, plus
endpoints that forge tokens (with joserfc) for the attack suite and rotate the signing key.

oidc-provider-mock is the real provider for logins; it cannot sign what an attacker would send
(alg none, HS256 keyed with its public key, foreign keys), nor rotate its key on demand, so the
attack suite and the rotation test talk to this one.

    python issuer.py [--tls CERT KEY] [--jwks-uri URL]
                                prints the port on stdout once listening, serves until killed;
                                --tls serves https (the issuer is then https://127.0.0.1:PORT),
                                --jwks-uri makes discovery name another JWKS URL

GET  /.well-known/openid-configuration
GET  /jwks                      the published keys (counts fetches)
GET  /stats                     {"jwks_fetches": N}
POST /forge   {"claims": {...}, "header": {...}, "key": "rsa|ec|ed|outsider", "attack": "none|hs256-pubkey|tamper", "utf8": true|false}
POST /rotate                    new RSA key with a new kid; the old one is unpublished
POST /device                    RFC 8628 device authorization (interval 1 s)
POST /token                     device_code grant: authorization_pending once, then slow_down
                                once, then an id_token (RS256) for subject "device-user"
"""

import base64
import hashlib
import hmac
import json
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from joserfc import jws
from joserfc.jwk import ECKey, OKPKey, RSAKey

lock = threading.Lock()
state = {
    "rsa": RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig", "alg": "RS256"}, private=True),
    "ec": ECKey.generate_key("P-256", parameters={"kid": "ec-1", "use": "sig"}, private=True),
    "ed": OKPKey.generate_key("Ed25519", parameters={"kid": "ed-1", "use": "sig"}, private=True),
    "ps": RSAKey.generate_key(2048, parameters={"kid": "ps-1", "use": "sig", "alg": "PS256"}, private=True),
    # Never published: what an attacker signs with.
    "outsider": RSAKey.generate_key(2048, parameters={"kid": "outsider-1"}, private=True),
    "jwks_fetches": 0,
    "generation": 1,
    "device_polls": 0,
}
ALGORITHMS = {"rsa": "RS256", "ec": "ES256", "ed": "EdDSA", "ps": "PS256", "outsider": "RS256"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def published():
    return {"keys": [state[name].as_dict(private=False) for name in ("rsa", "ec", "ed", "ps")]}


def forge(request, issuer):
    now = int(time.time())
    claims = {"iss": issuer, "aud": "laforge", "sub": "alice", "iat": now, "exp": now + 300}
    claims.update(request.get("claims", {}))
    for name, value in list(claims.items()):
        if value is None:
            del claims[name]
    name = request.get("key", "rsa")
    with lock:
        key = state[name]
    header = {"alg": request.get("alg", ALGORITHMS[name]), "typ": "at+jwt", "kid": key.kid}
    header.update(request.get("header", {}))
    for field, value in list(header.items()):
        if value is None:
            del header[field]
    payload = json.dumps(claims, ensure_ascii=not request.get("utf8", False)).encode()
    attack = request.get("attack")
    if attack == "none":
        header["alg"] = "none"
        return f"{b64(json.dumps(header).encode())}.{b64(payload)}."
    if attack == "hs256-pubkey":
        # The classic confusion: HMAC keyed with the issuer's public key in PEM form.
        header["alg"] = "HS256"
        secret = state["rsa"].as_pem(private=False)
        signing_input = f"{b64(json.dumps(header).encode())}.{b64(payload)}"
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{b64(mac)}"
    token = jws.serialize_compact(header, payload, key, algorithms=[header["alg"]])
    if attack == "tamper":
        head, _, signature = token.split(".")
        claims["sub"] = "mallory"
        return f"{head}.{b64(json.dumps(claims).encode())}.{signature}"
    return token


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def issuer(self):
        return f"{scheme}://127.0.0.1:{self.server.server_address[1]}"

    def reply(self, body, status=200):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/.well-known/openid-configuration":
            self.reply({"issuer": self.issuer(), "jwks_uri": jwks_uri_override or self.issuer() + "/jwks",
                        "token_endpoint": self.issuer() + "/token",
                        "device_authorization_endpoint": self.issuer() + "/device",
                        "id_token_signing_alg_values_supported": ["RS256", "PS256", "ES256", "EdDSA"]})
        elif self.path == "/jwks":
            with lock:
                state["jwks_fetches"] += 1
                body = published()
            self.reply(body)
        elif self.path == "/outsider-jwks":
            self.reply({"keys": [state["outsider"].as_dict(private=False)]})
        elif self.path == "/stats":
            with lock:
                self.reply({"jwks_fetches": state["jwks_fetches"], "device_polls": state["device_polls"]})
        else:
            self.reply({"error": "not found"}, 404)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if self.path == "/device":
            self.reply({"device_code": "dc-1", "user_code": "WDJB-MJHT", "verification_uri": self.issuer() + "/activate",
                        "verification_uri_complete": self.issuer() + "/activate?user_code=WDJB-MJHT",
                        "expires_in": 60, "interval": 1})
            return
        if self.path == "/token":
            form = dict(urllib.parse.parse_qsl(body.decode()))
            if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:device_code" or form.get("device_code") != "dc-1":
                self.reply({"error": "invalid_grant"}, 400)
                return
            with lock:
                state["device_polls"] += 1
                polls = state["device_polls"]
            if polls == 1:
                self.reply({"error": "authorization_pending"}, 400)
            elif polls == 2:
                self.reply({"error": "slow_down"}, 400)
            else:
                id_token = forge({"claims": {"sub": "device-user", "aud": form.get("client_id", "laforge"),
                                             "groups": ["laforge-admins"]}}, self.issuer())
                self.reply({"access_token": forge({"claims": {"sub": "device-user"}}, self.issuer()),
                            "id_token": id_token, "token_type": "Bearer", "expires_in": 300,
                            "refresh_token": "rt-device"})
            return
        request = json.loads(body or b"{}")
        if self.path == "/forge":
            self.reply({"token": forge(request, self.issuer())})
        elif self.path == "/rotate":
            with lock:
                state["generation"] += 1
                kid = f"rsa-{state['generation']}"
                state["rsa"] = RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"}, private=True)
            self.reply({"kid": kid})
        else:
            self.reply({"error": "not found"}, 404)


arguments = sys.argv[1:]
scheme = "http"
jwks_uri_override = None
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
if "--jwks-uri" in arguments:
    jwks_uri_override = arguments[arguments.index("--jwks-uri") + 1]
if "--tls" in arguments:
    import ssl
    at = arguments.index("--tls")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(arguments[at + 1], arguments[at + 2])
    server.socket = context.wrap_socket(server.socket, server_side=True)
    scheme = "https"
print(server.server_address[1], flush=True)
server.serve_forever()
