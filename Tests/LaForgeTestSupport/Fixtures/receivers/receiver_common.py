"""Shared plumbing of the test receivers: an HTTP/1.1 keep-alive server on 127.0.0.1 (a free
port, printed on stdout once listening), optional TLS (with optional client-certificate
checking), one JSON line per request appended to a log file the test reads."""

import argparse
import gzip
import http.server
import json
import socket
import ssl
import struct
import sys
import threading


def base_arguments(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--log", required=True, help="append one JSON line per request here")
    parser.add_argument("--cert", help="serve HTTPS with this certificate (PEM)")
    parser.add_argument("--key", help="private key of --cert (PEM)")
    parser.add_argument("--client-ca", help="require a client certificate signed by this CA")
    return parser


class RequestLog:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.count = 0

    def next_number(self):
        with self.lock:
            self.count += 1
            return self.count

    def write(self, record):
        line = json.dumps(record, sort_keys=True)
        with self.lock:
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")
                handle.flush()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so the client's connection reuse is exercised

    def log_message(self, format, *args):  # quiet: the test reads the JSON log
        pass

    def read_body(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length) if length else b""
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            return gzip.decompress(raw), True
        return raw, False

    def answer(self, status, body=b"", headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def reset_connection(self):
        """Closes with RST (SO_LINGER 0): the client sees 'connection reset by peer'."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass


def serve(handler_class, arguments):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    server.daemon_threads = True
    if arguments.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(arguments.cert, arguments.key)
        if arguments.client_ca:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(arguments.client_ca)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    server.serve_forever()


def envelopes_ndjson(body):
    return [json.loads(line) for line in body.decode().split("\n") if line]
