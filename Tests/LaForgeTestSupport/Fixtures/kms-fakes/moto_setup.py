#!/usr/bin/env python3
"""Prepares the moto server for the KMSSecrets tests and turns its signature checking on.

Usage: moto_setup.py MOTO_URL  → prints one JSON object on stdout:
  admin / limited / role keys, KMS key ids, secret names. Secrets (the values the tests expect) are
  generated here and printed too: the tests check they never appear in captured output.

Steps (DESIGN.md §6): auth off (reset-auth inf), reset all state, create an IAM admin user with an
access key and a policy allowing everything, a limited user allowed only kms:Decrypt, a role for
web identity, two KMS keys, a string and a binary secret with two stages; then reset-auth 0, after
which every request must carry a valid SigV4 signature from a known key (a wrong secret is a 403).
"""
import json
import secrets
import sys
import urllib.request

import boto3

url = sys.argv[1].rstrip("/")


def post(path, body=b""):
    request = urllib.request.Request(url + path, data=body, method="POST", headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(request, timeout=30).read()


post("/moto-api/reset-auth", b"inf")
post("/moto-api/reset")

def client(service, key="bootstrap", secret="bootstrap", token=None):
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret, aws_session_token=token)

iam = client("iam")
allow_all = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
decrypt_only = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]})

iam.create_user(UserName="laforge-admin")
iam.put_user_policy(UserName="laforge-admin", PolicyName="all", PolicyDocument=allow_all)
admin = iam.create_access_key(UserName="laforge-admin")["AccessKey"]
iam.create_user(UserName="laforge-limited")
iam.put_user_policy(UserName="laforge-limited", PolicyName="decrypt", PolicyDocument=decrypt_only)
limited = iam.create_access_key(UserName="laforge-limited")["AccessKey"]
trust = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Federated": "oidc"}, "Action": "sts:AssumeRoleWithWebIdentity"},
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/laforge-admin"}, "Action": "sts:AssumeRole"}]})
role = iam.create_role(RoleName="laforge-web-identity", AssumeRolePolicyDocument=trust)["Role"]
iam.put_role_policy(RoleName="laforge-web-identity", PolicyName="all", PolicyDocument=allow_all)

kms = client("kms")
key = kms.create_key(Description="laforge test key")["KeyMetadata"]
kms.create_alias(AliasName="alias/laforge-test", TargetKeyId=key["KeyId"])
other = kms.create_key(Description="laforge other key")["KeyMetadata"]

sm = client("secretsmanager")
db_password = "pw-" + secrets.token_hex(12)
previous_password = "old-" + secrets.token_hex(12)
binary = secrets.token_bytes(24)
sm.create_secret(Name="laforge/db-password", SecretString=previous_password)
sm.put_secret_value(SecretId="laforge/db-password", SecretString=db_password)
sm.create_secret(Name="laforge/binary", SecretBinary=binary)

post("/moto-api/reset-auth", b"0")

# From here on signatures are checked: the admin key must work, a made-up secret must not.
check = client("kms", admin["AccessKeyId"], admin["SecretAccessKey"])
check.describe_key(KeyId=key["KeyId"])

print(json.dumps({
    "url": url,
    "admin": {"id": admin["AccessKeyId"], "secret": admin["SecretAccessKey"]},
    "limited": {"id": limited["AccessKeyId"], "secret": limited["SecretAccessKey"]},
    "role_arn": role["Arn"],
    "key_id": key["KeyId"],
    "key_arn": key["Arn"],
    "other_key_id": other["KeyId"],
    "db_password": db_password,
    "previous_password": previous_password,
    "binary_hex": binary.hex(),
}))
