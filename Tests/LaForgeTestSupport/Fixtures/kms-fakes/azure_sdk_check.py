#!/usr/bin/env python3
"""Proves azure_fake.py with Microsoft's own SDKs: azure-identity's ClientSecretCredential (MSAL,
OpenID discovery, client credentials), the Key Vault challenge flow, CryptographyClient wrap
(RSA-OAEP-256, done locally by the SDK with the key's public JWK and remotely by the fake) and
unwrap, a tampered value refused, SecretClient get_secret, an unknown secret ResourceNotFound.
Prints "ok" or exits non-zero.

Usage (REQUESTS_CA_BUNDLE names the test CA): azure_sdk_check.py URL TENANT CLIENT_ID SECRET KEY SECRET_NAME VALUE
"""
import sys

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.identity import ClientSecretCredential
from azure.keyvault.keys import KeyClient
from azure.keyvault.keys.crypto import CryptographyClient, KeyWrapAlgorithm
from azure.keyvault.secrets import SecretClient

url, tenant, client_id, client_secret, key_name, secret_name, secret_value = sys.argv[1:]
credential = ClientSecretCredential(tenant, client_id, client_secret, authority=url, disable_instance_discovery=True)
options = {"api_version": "7.4", "verify_challenge_resource": False}

key = KeyClient(url, credential, **options).get_key(key_name)
assert key.id.startswith(f"{url}/keys/{key_name}/"), key.id
assert key.key.kty == "RSA"
crypto = CryptographyClient(key.id, credential, **options)
data_key = bytes(range(32))
wrapped = crypto.wrap_key(KeyWrapAlgorithm.rsa_oaep_256, data_key)
assert wrapped.key_id == key.id, wrapped.key_id
assert crypto.unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, wrapped.encrypted_key).key == data_key
tampered = bytearray(wrapped.encrypted_key)
tampered[10] ^= 1
try:
    crypto.unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, bytes(tampered))
    raise SystemExit("a tampered wrapped key unwrapped")
except HttpResponseError as error:
    assert error.status_code == 400, error.status_code

secrets = SecretClient(url, credential, **options)
assert secrets.get_secret(secret_name).value == secret_value
try:
    secrets.get_secret("nope")
    raise SystemExit("an unknown secret was found")
except ResourceNotFoundError:
    pass
print("ok")
