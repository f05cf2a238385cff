#!/usr/bin/env python3
"""The ECS / EKS Pod Identity container credentials endpoint (plain HTTP on 127.0.0.1, as the agent
serves it): GET with `Authorization: <token>` returns {AccessKeyId, SecretAccessKey, Token,
Expiration}; a missing or wrong token is a 401. Prints its port; logs each request.

Usage: container_credentials.py --log FILE --token TOKEN --access-key-id ID --secret-access-key SECRET
"""
import argparse
import datetime
import json
from http.server import BaseHTTPRequestHandler, HTTPServer

parser = argparse.ArgumentParser()
for name in ("--log", "--token", "--access-key-id", "--secret-access-key"):
    parser.add_argument(name, required=True)
arguments = parser.parse_args()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format, *args):
        pass

    def do_GET(self):
        authorized = self.headers.get("Authorization") == arguments.token
        with open(arguments.log, "a") as log:
            log.write(json.dumps({"path": self.path, "authorized": authorized}) + "\n")
        if not authorized:
            body = b'{"code":"AccessDenied","message":"Unauthorized"}'
            status = 401
        else:
            expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
            body = json.dumps({"AccessKeyId": arguments.access_key_id, "SecretAccessKey": arguments.secret_access_key,
                               "Token": "", "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ")}).encode()
            status = 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


server = HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
