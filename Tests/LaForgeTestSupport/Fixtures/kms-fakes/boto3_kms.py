#!/usr/bin/env python3
"""boto3 as the independent AWS client in the KMSSecrets tests (reads one JSON request on stdin).

{"op": "decrypt"|"encrypt", "url", "key_id", "secret", "ciphertext_b64" | "plaintext_b64", "context": {...},
 "kms_key_id"}  → prints {"plaintext_b64"} / {"ciphertext_b64"}, or {"error": code} on a ClientError.
"""
import base64
import json
import sys

import boto3
import botocore.exceptions

request = json.load(sys.stdin)
kms = boto3.client("kms", endpoint_url=request["url"], region_name="us-east-1",
                   aws_access_key_id=request["key_id"], aws_secret_access_key=request["secret"])
try:
    if request["op"] == "decrypt":
        answer = kms.decrypt(CiphertextBlob=base64.b64decode(request["ciphertext_b64"]),
                             EncryptionContext=request.get("context", {}))
        print(json.dumps({"plaintext_b64": base64.b64encode(answer["Plaintext"]).decode(), "key": answer["KeyId"]}))
    else:
        answer = kms.encrypt(KeyId=request["kms_key_id"], Plaintext=base64.b64decode(request["plaintext_b64"]),
                             EncryptionContext=request.get("context", {}))
        print(json.dumps({"ciphertext_b64": base64.b64encode(answer["CiphertextBlob"]).decode()}))
except botocore.exceptions.ClientError as error:
    print(json.dumps({"error": error.response["Error"]["Code"]}))
