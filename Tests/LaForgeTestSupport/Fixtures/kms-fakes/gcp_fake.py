#!/usr/bin/env python3
"""A faithful fake of Google Cloud KMS (encrypt/decrypt, REST v1), Secret Manager (versions:access),
the OAuth 2.0 token endpoint (JWT-bearer, RS256 checked against the service account's public key)
and the metadata server's token endpoint, over TLS on 127.0.0.1.

- Keys: AES-256-GCM per key version; the ciphertext names its version, AAD is bound.
- CRC32C: request checksums are checked (400 INVALID_ARGUMENT on mismatch), replies carry
  ciphertextCrc32c / plaintextCrc32c and the verified* flags, as the real service does.
- Errors: {"error": {"code", "message", "status"}}; tokens: 401 UNAUTHENTICATED when missing/expired.
- Faults (POST /control, JSON): throttle N (429 RESOURCE_EXHAUSTED), corrupt_crc N (wrong
  ciphertextCrc32c / plaintextCrc32c in the reply), unverified N (verified* false), expire_tokens
  true (every issued token becomes invalid).

Usage: gcp_fake.py --log FILE --cert PEM --key PEM --service-account KEYFILE.json
       [--secret NAME=VALUE ...] [--key-name projects/…/cryptoKeys/K ...]
"""
import base64
import json
import os
import secrets
import threading
import time
import urllib.parse

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fakecommon import FakeHandler, announce, serve

CRC_TABLE = []
for index in range(256):
    value = index
    for _ in range(8):
        value = (value >> 1) ^ 0x82F63B78 if value & 1 else value >> 1
    CRC_TABLE.append(value)


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc = CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class State:
    def __init__(self, arguments):
        self.lock = threading.Lock()
        account = json.load(open(arguments.service_account))
        self.email = account["client_email"]
        self.token_uri = None  # https://127.0.0.1:PORT/token, set once the server listens
        self.public_key = serialization.load_pem_private_key(account["private_key"].encode(), None).public_key()
        self.tokens = {}  # token -> expiry
        self.expired_all = False
        self.keys = {}  # key name -> {version: aes key}
        for name in arguments.key_name or []:
            self.keys[name] = {"1": AESGCM.generate_key(256)}
        self.secrets = {}
        for pair in arguments.secret or []:
            name, value = pair.split("=", 1)
            self.secrets[name] = value.encode()

    def issue(self, lifetime=3600):
        token = "ya29.fake-" + secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = time.time() + lifetime
        return token, lifetime

    def valid(self, header):
        if not header or not header.startswith("Bearer "):
            return False
        token = header[7:]
        with self.lock:
            expiry = self.tokens.get(token)
            expired_all = self.expired_all
        if expiry is not None:
            return expiry > time.time()
        # Google also accepts a self-signed JWT from the service account as the bearer token (what
        # google-auth sends by default for Cloud client libraries): RS256, iss = sub = the account.
        if token.count(".") != 2 or expired_all:
            return False
        try:
            header_b64, claims_b64, signature_b64 = token.split(".")
            claims = json.loads(b64url_decode(claims_b64))
            self.public_key.verify(b64url_decode(signature_b64), f"{header_b64}.{claims_b64}".encode(),
                                   padding.PKCS1v15(), hashes.SHA256())
        except (ValueError, InvalidSignature):
            return False
        now = time.time()
        return claims.get("iss") == self.email and claims.get("sub") == self.email and claims.get("iat", now + 1000) <= now + 300 \
            and claims.get("exp", 0) > now


class Handler(FakeHandler):
    def google_error(self, code, status, message):
        self.reply(code, {"error": {"code": code, "message": message, "status": status}})

    def do_POST(self):
        state = self.server.state
        path = urllib.parse.urlsplit(self.path).path
        body = self.body()
        if path == "/control":
            values = json.loads(body)
            if values.pop("expire_tokens", False):
                with state.lock:
                    state.tokens.clear()
            self.server.faults.set(values)
            return self.reply(200, {})
        if path == "/token":
            return self.token(body)
        self.record({"method": "POST", "path": path, "authorized": state.valid(self.headers.get("Authorization"))})
        if self.server.faults.take("throttle"):
            return self.google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Cryptographic requests'.")
        if not state.valid(self.headers.get("Authorization")):
            return self.google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        if not path.startswith("/v1/") or ":" not in path:
            return self.google_error(404, "NOT_FOUND", "The requested URL was not found on this server.")
        name, method = path[4:].rsplit(":", 1)
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return self.google_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        if method == "encrypt":
            return self.encrypt(name, request)
        if method == "decrypt":
            return self.decrypt(name, request)
        return self.google_error(404, "NOT_FOUND", "The requested URL was not found on this server.")

    def do_GET(self):
        state = self.server.state
        split = urllib.parse.urlsplit(self.path)
        if split.path == "/computeMetadata/v1/instance/service-accounts/default/token":
            self.record({"method": "GET", "path": split.path, "metadata_flavor": self.headers.get("Metadata-Flavor")})
            if self.headers.get("Metadata-Flavor") != "Google":
                return self.reply(403, None, raw=b"Missing required header: Metadata-Flavor")
            token, lifetime = state.issue()
            return self.reply(200, {"access_token": token, "expires_in": lifetime, "token_type": "Bearer"})
        self.record({"method": "GET", "path": split.path, "authorized": state.valid(self.headers.get("Authorization"))})
        if self.server.faults.take("throttle"):
            return self.google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded.")
        if not state.valid(self.headers.get("Authorization")):
            return self.google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        parts = split.path.split("/")
        # /v1/projects/P/secrets/S/versions/V:access
        if len(parts) == 8 and parts[1] == "v1" and parts[2] == "projects" and parts[4] == "secrets" and parts[6] == "versions" \
                and parts[7].endswith(":access"):
            secret, version = parts[5], parts[7][:-len(":access")]
            if secret not in state.secrets or version not in ("latest", "1"):
                return self.google_error(404, "NOT_FOUND", f"Secret [projects/{parts[3]}/secrets/{secret}] not found or has no versions.")
            data = state.secrets[secret]
            checksum = crc32c(data)
            if self.server.faults.take("corrupt_crc"):
                checksum ^= 1
            return self.reply(200, {"name": f"projects/{parts[3]}/secrets/{secret}/versions/1",
                                    "payload": {"data": base64.b64encode(data).decode(), "dataCrc32c": str(checksum)}})
        return self.google_error(404, "NOT_FOUND", "The requested URL was not found on this server.")

    def token(self, body):
        state = self.server.state
        form = urllib.parse.parse_qs(body.decode())
        self.record({"method": "POST", "path": "/token", "grant_type": form.get("grant_type", [""])[0]})
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"] or "assertion" not in form:
            return self.reply(400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type."})
        try:
            header_b64, claims_b64, signature_b64 = form["assertion"][0].split(".")
            header = json.loads(b64url_decode(header_b64))
            claims = json.loads(b64url_decode(claims_b64))
            state.public_key.verify(b64url_decode(signature_b64), f"{header_b64}.{claims_b64}".encode(),
                                    padding.PKCS1v15(), hashes.SHA256())
        except (ValueError, InvalidSignature):
            return self.reply(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
        now = time.time()
        if header.get("alg") != "RS256" or claims.get("iss") != state.email or claims.get("aud") != state.token_uri \
                or "https://www.googleapis.com/auth/cloud-platform" not in claims.get("scope", "").split() \
                or not (claims.get("iat", 0) - 300 <= now <= claims.get("exp", 0)) or claims["exp"] - claims["iat"] > 3600:
            return self.reply(400, {"error": "invalid_grant", "error_description": "Invalid JWT: claims rejected."})
        token, lifetime = state.issue()
        return self.reply(200, {"access_token": token, "expires_in": lifetime, "token_type": "Bearer"})

    def key_versions(self, name):
        state = self.server.state
        key = name.split("/cryptoKeyVersions/")[0]
        return key, state.keys.get(key)

    def checked(self, request, field, checksum_field):
        data = base64.b64decode(request.get(field, ""))
        if checksum_field in request and int(request[checksum_field]) != crc32c(data):
            raise ValueError(f"The checksum in field {checksum_field} did not match the data in field {field}.")
        return data

    def encrypt(self, name, request):
        key, versions = self.key_versions(name)
        if versions is None:
            return self.google_error(404, "NOT_FOUND", f"CryptoKey {key} not found.")
        try:
            plaintext = self.checked(request, "plaintext", "plaintextCrc32c")
            aad = self.checked(request, "additionalAuthenticatedData", "additionalAuthenticatedDataCrc32c")
        except ValueError as error:
            return self.google_error(400, "INVALID_ARGUMENT", str(error))
        version = name.split("/cryptoKeyVersions/")[1] if "/cryptoKeyVersions/" in name else max(versions)
        nonce = os.urandom(12)
        ciphertext = version.encode() + b"\x00" + nonce + AESGCM(versions[version]).encrypt(nonce, plaintext, aad)
        checksum = crc32c(ciphertext)
        if self.server.faults.take("corrupt_crc"):
            checksum ^= 1
        verified = not self.server.faults.take("unverified")
        return self.reply(200, {
            "name": f"{key}/cryptoKeyVersions/{version}", "ciphertext": base64.b64encode(ciphertext).decode(),
            "ciphertextCrc32c": str(checksum), "verifiedPlaintextCrc32c": verified and "plaintextCrc32c" in request,
            "verifiedAdditionalAuthenticatedDataCrc32c": verified and "additionalAuthenticatedDataCrc32c" in request,
            "protectionLevel": "SOFTWARE"})

    def decrypt(self, name, request):
        if "/cryptoKeyVersions/" in name:
            return self.google_error(400, "INVALID_ARGUMENT", "Decrypt takes a CryptoKey name, not a CryptoKeyVersion.")
        key, versions = self.key_versions(name)
        if versions is None:
            return self.google_error(404, "NOT_FOUND", f"CryptoKey {key} not found.")
        try:
            ciphertext = self.checked(request, "ciphertext", "ciphertextCrc32c")
            aad = self.checked(request, "additionalAuthenticatedData", "additionalAuthenticatedDataCrc32c")
            version, rest = ciphertext.split(b"\x00", 1)
            plaintext = AESGCM(versions[version.decode()]).decrypt(rest[:12], rest[12:], aad)
        except ValueError as error:
            return self.google_error(400, "INVALID_ARGUMENT", str(error))
        except Exception:
            return self.google_error(400, "INVALID_ARGUMENT", "Decryption failed: the ciphertext is invalid.")
        checksum = crc32c(plaintext)
        if self.server.faults.take("corrupt_crc"):
            checksum ^= 1
        return self.reply(200, {"plaintext": base64.b64encode(plaintext).decode(), "plaintextCrc32c": str(checksum),
                                "usedPrimary": True, "protectionLevel": "SOFTWARE"})


if __name__ == "__main__":
    server = serve(Handler, [("--service-account", {"required": True}), ("--secret", {"action": "append"}),
                             ("--key-name", {"action": "append"})])
    server.state = State(server.arguments)
    server.state.token_uri = f"https://127.0.0.1:{server.server_address[1]}/token"
    announce(server)
