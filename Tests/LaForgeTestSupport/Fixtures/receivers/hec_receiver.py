"""A Splunk HTTP Event Collector look-alike: POST /services/collector/event (concatenated JSON
event objects, `Authorization: Splunk <token>`) and, with --acks, indexer acknowledgement:
every request on an `X-Splunk-Request-Channel` gets an ackId, and POST /services/collector/ack
answers {"acks": {"<id>": true|false}}. Acks are withheld (false) until --grant-file exists;
events count as indexed only when their ack is granted. Log lines: {"kind": "post"|"ack"|
"indexed", ...}."""

import json
import os
import threading

import receiver_common

parser = receiver_common.base_arguments(__doc__)
parser.add_argument("--token", required=True)
parser.add_argument("--acks", action="store_true")
parser.add_argument("--grant-file", help="acks are withheld until this file exists")
arguments = parser.parse_args()
log = receiver_common.RequestLog(arguments.log)
lock = threading.Lock()
next_ack = {}
pending = {}  # (channel, ack id) -> events


def parse_concatenated(text):
    decoder = json.JSONDecoder()
    events, position = [], 0
    while position < len(text):
        while position < len(text) and text[position] in " \r\n\t":
            position += 1
        if position >= len(text):
            break
        value, position = decoder.raw_decode(text, position)
        events.append(value)
    return events


class HECHandler(receiver_common.Handler):
    def do_POST(self):
        body, _ = self.read_body()
        if self.headers.get("Authorization") != "Splunk " + arguments.token:
            log.write({"kind": "post", "status": 401, "path": self.path})
            return self.answer(401, {"text": "Invalid authorization", "code": 3})
        channel = self.headers.get("X-Splunk-Request-Channel")
        if arguments.acks and not channel:
            log.write({"kind": "post", "status": 400, "path": self.path})
            return self.answer(400, {"text": "Data channel is missing", "code": 10})
        if self.path.startswith("/services/collector/event"):
            try:
                events = parse_concatenated(body.decode())
                if not events or any("event" not in event for event in events):
                    raise ValueError("event field missing")
            except ValueError:
                log.write({"kind": "post", "status": 400})
                return self.answer(400, {"text": "Invalid data format", "code": 6})
            if not arguments.acks:
                log.write({"kind": "post", "status": 200, "events": events})
                log.write({"kind": "indexed", "events": events})
                return self.answer(200, {"text": "Success", "code": 0})
            with lock:
                ack_id = next_ack.get(channel, 0)
                next_ack[channel] = ack_id + 1
                pending[(channel, ack_id)] = events
            log.write({"kind": "post", "status": 200, "ack_id": ack_id, "channel": channel, "events": events})
            return self.answer(200, {"text": "Success", "code": 0, "ackId": ack_id})
        if self.path.startswith("/services/collector/ack"):
            requested = json.loads(body)["acks"]
            granted = arguments.grant_file is None or os.path.exists(arguments.grant_file)
            answer = {}
            for ack_id in requested:
                with lock:
                    events = pending.pop((channel, ack_id), None) if granted else None
                    known = (channel, ack_id) in pending
                if events is not None:
                    log.write({"kind": "indexed", "ack_id": ack_id, "events": events})
                answer[str(ack_id)] = events is not None
            log.write({"kind": "ack", "requested": requested, "granted": granted})
            return self.answer(200, {"acks": answer})
        self.answer(404, {"text": "The requested URL was not found on this server.", "code": 404})


receiver_common.serve(HECHandler, arguments)
