#!/usr/bin/env python3
"""Proves gcp_fake.py with Google's own Python SDKs (REST transport): encrypt/decrypt with AAD and
CRC32C as Google's docs show it, a wrong AAD refused, Secret Manager access with its checksum, an
unknown secret NOT_FOUND. Prints "ok" or exits non-zero.

Usage (REQUESTS_CA_BUNDLE names the test CA): gcp_sdk_check.py ENDPOINT KEYFILE KEY_NAME PROJECT SECRET VALUE
"""
import sys

import google_crc32c
from google.api_core import exceptions
from google.cloud import kms, secretmanager
from google.oauth2 import service_account

endpoint, keyfile, key_name, project, secret_name, secret_value = sys.argv[1:]
credentials = service_account.Credentials.from_service_account_file(
    keyfile, scopes=["https://www.googleapis.com/auth/cloud-platform"])
options = {"api_endpoint": endpoint}

client = kms.KeyManagementServiceClient(credentials=credentials, transport="rest", client_options=options)
plaintext, aad = b"sdk plaintext", b'{"tenant":"acme"}'
crc = lambda data: int(google_crc32c.Checksum(data).hexdigest(), 16)
encrypted = client.encrypt(request={"name": key_name, "plaintext": plaintext, "plaintext_crc32c": crc(plaintext),
                                    "additional_authenticated_data": aad, "additional_authenticated_data_crc32c": crc(aad)})
assert encrypted.verified_plaintext_crc32c, "fake did not verify the plaintext checksum"
assert encrypted.verified_additional_authenticated_data_crc32c, "fake did not verify the AAD checksum"
assert encrypted.ciphertext_crc32c == crc(encrypted.ciphertext), "ciphertext checksum wrong"
assert encrypted.name.startswith(key_name + "/cryptoKeyVersions/"), encrypted.name
decrypted = client.decrypt(request={"name": key_name, "ciphertext": encrypted.ciphertext, "ciphertext_crc32c": crc(encrypted.ciphertext),
                                    "additional_authenticated_data": aad, "additional_authenticated_data_crc32c": crc(aad)})
assert decrypted.plaintext == plaintext and decrypted.plaintext_crc32c == crc(plaintext)
try:
    client.decrypt(request={"name": key_name, "ciphertext": encrypted.ciphertext, "additional_authenticated_data": b"other"})
    raise SystemExit("a wrong AAD decrypted")
except exceptions.BadRequest:  # REST maps INVALID_ARGUMENT by its HTTP status, 400
    pass
try:
    client.encrypt(request={"name": key_name, "plaintext": plaintext, "plaintext_crc32c": crc(plaintext) ^ 1})
    raise SystemExit("a wrong plaintext checksum was accepted")
except exceptions.BadRequest:  # REST maps INVALID_ARGUMENT by its HTTP status, 400
    pass
try:
    client.encrypt(request={"name": key_name.replace("cryptoKeys/", "cryptoKeys/missing-"), "plaintext": plaintext})
    raise SystemExit("an unknown key encrypted")
except exceptions.NotFound:
    pass

secrets = secretmanager.SecretManagerServiceClient(credentials=credentials, transport="rest", client_options=options)
version = secrets.access_secret_version(request={"name": f"projects/{project}/secrets/{secret_name}/versions/latest"})
assert version.payload.data == secret_value.encode()
assert version.payload.data_crc32c == crc(version.payload.data)
try:
    secrets.access_secret_version(request={"name": f"projects/{project}/secrets/nope/versions/latest"})
    raise SystemExit("an unknown secret was found")
except exceptions.NotFound:
    pass
print("ok")
