"""Runs schemathesis against a live `laforge serve` (docs/api/openapi.yaml).

schemathesis speaks TCP, the server a Unix socket: a small relay on 127.0.0.1 forwards each
connection to the socket unchanged (the server then sees this process as the caller, which the
test's serve.clients allows). Usage: schemathesis_run.py SOCKET SPEC MAX_EXAMPLES
Exits with schemathesis's status.
"""
import socket
import subprocess
import sys
import tempfile
import threading


def pump(source, target):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, target):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def relay(listener, socket_path):
    while True:
        client, _ = listener.accept()
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        upstream.connect(socket_path)
        threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
        threading.Thread(target=pump, args=(upstream, client), daemon=True).start()


def main():
    socket_path, spec, max_examples = sys.argv[1], sys.argv[2], sys.argv[3]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    threading.Thread(target=relay, args=(listener, socket_path), daemon=True).start()
    checks = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance"
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", spec,
        "--url", f"http://127.0.0.1:{port}",
        "--checks", checks,
        "--max-examples", max_examples,
        "--workers", "1",
        "--no-color",
    ]
    # schemathesis keeps a cache in its working directory: a scratch one, not the repository.
    with tempfile.TemporaryDirectory() as scratch:
        sys.exit(subprocess.call(command, cwd=scratch))


if __name__ == "__main__":
    main()
