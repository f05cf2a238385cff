#!/usr/bin/env python3
"""A faithful fake of Azure Key Vault (keys: get, wrapkey, unwrapkey with RSA-OAEP-256; secrets:
get) and of Microsoft Entra ID (client-credentials token endpoint with its OpenID discovery document)
and the managed-identity IMDS token endpoint, over TLS on 127.0.0.1.

- Vault requests need `api-version` (one of --api-version, default 7.4; others: 400 BadParameter)
  and a bearer token this fake issued for resource https://vault.azure.net; without one: 401 with the
  `WWW-Authenticate: Bearer authorization=…, resource=…` challenge the SDKs follow.
- Keys are real RSA-2048 keys; `kid`s are versioned; `/keys/NAME/wrapkey` uses the latest version.
- Errors: {"error": {"code", "message"}} (Key Vault), {"error", "error_description"} (Entra).
- Faults (POST /control, JSON): throttle N (429 + Retry-After), expire_tokens true, rotate NAME
  (adds a new version of key NAME).

Usage: azure_fake.py --log FILE --cert PEM --key PEM --tenant T --client-id C --client-secret S
       [--key-name NAME ...] [--secret NAME=VALUE ...] [--api-version V ...]
"""
import base64
import json
import secrets
import threading
import time
import urllib.parse

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from fakecommon import FakeHandler, announce, serve

OAEP_256 = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
OAEP_1 = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def integer_bytes(value):
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


class State:
    def __init__(self, arguments):
        self.lock = threading.Lock()
        self.arguments = arguments
        self.tokens = {}
        self.keys = {}  # name -> [(version, private key)]
        for name in arguments.key_name or []:
            self.rotate(name)
        self.secrets = dict(pair.split("=", 1) for pair in (arguments.secret or []))
        self.api_versions = arguments.api_version or ["7.4"]

    def rotate(self, name):
        with self.lock:
            self.keys.setdefault(name, []).append((secrets.token_hex(16), rsa.generate_private_key(65537, 2048)))

    def issue(self):
        token = "eyJ0eXAiOiJKV1QifQ.fake-" + secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = time.time() + 3599
        return token

    def valid(self, header):
        if not header or not header.startswith("Bearer "):
            return False
        with self.lock:
            expiry = self.tokens.get(header[7:])
        return expiry is not None and expiry > time.time()


class Handler(FakeHandler):
    def vault_error(self, status, code, message, headers=None):
        self.reply(status, {"error": {"code": code, "message": message}}, headers=headers)

    def base(self):
        return f"https://127.0.0.1:{self.server.server_address[1]}"

    def vault_gate(self, split):
        """Common checks of every vault request; returns False when an error was sent."""
        state = self.server.state
        query = urllib.parse.parse_qs(split.query)
        authorized = state.valid(self.headers.get("Authorization"))
        self.record({"method": self.command, "path": split.path, "api_version": query.get("api-version", [None])[0],
                     "authorized": authorized})
        if self.server.faults.take("throttle"):
            self.vault_error(429, "Throttled", "Request was not processed because too many requests were received.",
                             {"Retry-After": "1"})
            return False
        if not authorized:
            challenge = f'Bearer authorization="{self.base()}/{state.arguments.tenant}", resource="https://vault.azure.net"'
            self.vault_error(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.",
                             {"WWW-Authenticate": challenge})
            return False
        version = query.get("api-version", [None])[0]
        if version not in state.api_versions:
            self.vault_error(400, "BadParameter", f"The specified version ({version}) is not recognized. "
                             f"Consider using the latest supported version ({state.api_versions[-1]}).")
            return False
        return True

    def find_key(self, name, version):
        state = self.server.state
        with state.lock:
            versions = state.keys.get(name)
            if not versions:
                return None
            if not version:
                return versions[-1]
            return next((entry for entry in versions if entry[0] == version), None)

    def do_GET(self):
        state = self.server.state
        split = urllib.parse.urlsplit(self.path)
        parts = [part for part in split.path.split("/") if part]
        if split.path.endswith("/v2.0/.well-known/openid-configuration"):
            tenant = parts[0]
            return self.reply(200, {
                "token_endpoint": f"{self.base()}/{tenant}/oauth2/v2.0/token",
                "authorization_endpoint": f"{self.base()}/{tenant}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{self.base()}/{tenant}/oauth2/v2.0/devicecode",
                "issuer": f"{self.base()}/{tenant}/v2.0", "token_endpoint_auth_methods_supported": ["client_secret_post"]})
        if split.path == "/metadata/identity/oauth2/token":
            query = urllib.parse.parse_qs(split.query)
            self.record({"method": "GET", "path": split.path, "metadata": self.headers.get("Metadata"),
                         "api_version": query.get("api-version", [None])[0], "resource": query.get("resource", [None])[0]})
            if self.headers.get("Metadata") != "true":
                return self.reply(400, {"error": "invalid_request", "error_description": "Required metadata header not specified"})
            if query.get("resource") != ["https://vault.azure.net"]:
                return self.reply(400, {"error": "invalid_resource", "error_description": "AADSTS500011: resource not found"})
            return self.reply(200, {"access_token": state.issue(), "expires_in": "3599", "expires_on": str(int(time.time()) + 3599),
                                    "resource": "https://vault.azure.net", "token_type": "Bearer"})
        if not self.vault_gate(split):
            return
        if len(parts) in (2, 3) and parts[0] == "keys":
            entry = self.find_key(parts[1], parts[2] if len(parts) == 3 else None)
            if entry is None:
                return self.vault_error(404, "KeyNotFound", f"A key with (name/id) {parts[1]} was not found in this key vault.")
            numbers = entry[1].public_key().public_numbers()
            return self.reply(200, {"key": {"kid": f"{self.base()}/keys/{parts[1]}/{entry[0]}", "kty": "RSA",
                                            "key_ops": ["wrapKey", "unwrapKey", "encrypt", "decrypt"],
                                            "n": b64url(integer_bytes(numbers.n)), "e": b64url(integer_bytes(numbers.e))},
                                    "attributes": {"enabled": True, "recoveryLevel": "Recoverable+Purgeable"}})
        if len(parts) in (2, 3) and parts[0] == "secrets":
            value = state.secrets.get(parts[1])
            if value is None or (len(parts) == 3 and parts[2] != "v1"):
                return self.vault_error(404, "SecretNotFound", f"A secret with (name/id) {parts[1]} was not found in this key vault.")
            return self.reply(200, {"value": value, "id": f"{self.base()}/secrets/{parts[1]}/v1",
                                    "attributes": {"enabled": True, "recoveryLevel": "Recoverable+Purgeable"}})
        return self.vault_error(404, "NotFound", "The requested resource was not found.")

    def do_POST(self):
        state = self.server.state
        split = urllib.parse.urlsplit(self.path)
        parts = [part for part in split.path.split("/") if part]
        body = self.body()
        if split.path == "/control":
            values = json.loads(body)
            if values.pop("expire_tokens", False):
                with state.lock:
                    state.tokens.clear()
            if "rotate" in values:
                state.rotate(values.pop("rotate"))
            self.server.faults.set(values)
            return self.reply(200, {})
        if len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"]:
            return self.token(parts[0], body)
        if not self.vault_gate(split):
            return
        if len(parts) in (3, 4) and parts[0] == "keys" and parts[-1] in ("wrapkey", "unwrapkey"):
            entry = self.find_key(parts[1], parts[2] if len(parts) == 4 else None)
            if entry is None:
                return self.vault_error(404, "KeyNotFound", f"A key with (name/id) {parts[1]} was not found in this key vault.")
            try:
                request = json.loads(body)
                algorithm = {"RSA-OAEP-256": OAEP_256, "RSA-OAEP": OAEP_1}[request["alg"]]
                value = b64url_decode(request["value"])
            except (ValueError, KeyError):
                return self.vault_error(400, "BadParameter", "Property 'alg' or 'value' is missing or invalid.")
            kid = f"{self.base()}/keys/{parts[1]}/{entry[0]}"
            try:
                if parts[-1] == "wrapkey":
                    result = entry[1].public_key().encrypt(value, algorithm)
                else:
                    result = entry[1].decrypt(value, algorithm)
            except ValueError:
                return self.vault_error(400, "BadParameter", "Unable to unwrap: the wrapped key is invalid for this key.")
            return self.reply(200, {"kid": kid, "value": b64url(result)})
        return self.vault_error(404, "NotFound", "The requested resource was not found.")

    def token(self, tenant, body):
        state = self.server.state
        arguments = state.arguments
        form = {key: values[0] for key, values in urllib.parse.parse_qs(body.decode()).items()}
        self.record({"method": "POST", "path": "/oauth2/token", "tenant": tenant, "grant_type": form.get("grant_type"),
                     "scope": form.get("scope")})
        if tenant != arguments.tenant:
            return self.reply(400, {"error": "invalid_tenant", "error_description": f"AADSTS90002: Tenant '{tenant}' not found."})
        if form.get("grant_type") != "client_credentials":
            return self.reply(400, {"error": "unsupported_grant_type", "error_description": "AADSTS70003: unsupported grant type"})
        if form.get("client_id") != arguments.client_id or form.get("client_secret") != arguments.client_secret:
            return self.reply(401, {"error": "invalid_client",
                                    "error_description": "AADSTS7000215: Invalid client secret provided."})
        if "https://vault.azure.net/.default" not in (form.get("scope") or "").split():
            return self.reply(400, {"error": "invalid_scope", "error_description": "AADSTS70011: The provided scope is not valid."})
        return self.reply(200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": state.issue()})


if __name__ == "__main__":
    server = serve(Handler, [("--tenant", {"required": True}), ("--client-id", {"required": True}),
                             ("--client-secret", {"required": True}), ("--key-name", {"action": "append"}),
                             ("--secret", {"action": "append"}), ("--api-version", {"action": "append"})])
    server.state = State(server.arguments)
    announce(server)
