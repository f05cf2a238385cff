"""Shared pieces of the GCP and Azure fakes: a threaded HTTPS server on 127.0.0.1 that prints its
port, a JSON request log, and fault injection driven over a /control endpoint.

The fakes are faithful where the plugin and the vendors' SDKs can tell the difference (paths, query
parameters, headers, token checks, error shapes, real cryptography); everything they do not need is
refused with the vendor's error shape rather than faked.
"""
import argparse
import json
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Faults:
    """Counters for injected faults; each fault fires for the next N matching requests."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        self.flags = {}

    def set(self, values):
        with self.lock:
            for name, value in values.items():
                if isinstance(value, bool):
                    self.flags[name] = value
                else:
                    self.counts[name] = int(value)

    def take(self, name):
        with self.lock:
            if self.counts.get(name, 0) > 0:
                self.counts[name] -= 1
                return True
            return False

    def flag(self, name):
        with self.lock:
            return self.flags.get(name, False)


class FakeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake/1.0"

    def log_message(self, format, *args):  # the request log replaces the default stderr chatter
        pass

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reply(self, status, payload, headers=None, raw=None):
        data = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def record(self, entry):
        with self.server.log_lock:
            with open(self.server.log_path, "a") as log:
                log.write(json.dumps(entry) + "\n")


def serve(handler, extra_arguments=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    for name, kwargs in (extra_arguments or []):
        parser.add_argument(name, **kwargs)
    arguments = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.arguments = arguments
    server.log_path = arguments.log
    server.log_lock = threading.Lock()
    server.faults = Faults()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(arguments.cert, arguments.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    return server


def announce(server):
    print(server.server_address[1], flush=True)
    sys.stdout.close()
    server.serve_forever()
