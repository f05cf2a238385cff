"""A webhook receiver that verifies every request the way a Standard Webhooks consumer does:
`v1,` HMAC signatures with the PyPI `standardwebhooks` package, `v1a,` Ed25519 signatures with
`cryptography`. It can also misbehave on purpose (--faults): 5xx answers, hanging past the
client's timeout, resetting connections, 429 with Retry-After, and 400 for requests carrying a
chosen user's event. Each request is logged as one JSON line:
{"n", "id", "status", "verified", "gzip", "events"} (events only when accepted)."""

import base64
import json
import random
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

import receiver_common

parser = receiver_common.base_arguments(__doc__)
parser.add_argument("--secret", action="append", default=[], help="whsec_… secret to verify v1 signatures with")
parser.add_argument("--ed25519-public", action="append", default=[], help="whpk_… key to verify v1a signatures with")
parser.add_argument("--faults", action="store_true", help="answer 50%% 5xx, hang, reset, 429")
parser.add_argument("--hang-seconds", type=float, default=3.0)
parser.add_argument("--reject-user", help="answer 400 to any request carrying this user's event")
parser.add_argument("--seed", type=int, default=7)
arguments = parser.parse_args()
log = receiver_common.RequestLog(arguments.log)
faults = random.Random(arguments.seed)


def verify_ed25519(key, msg_id, timestamp, body, header):
    raw = base64.b64decode(key[len("whpk_"):])
    public_key = Ed25519PublicKey.from_public_bytes(raw)
    signed = f"{msg_id}.{timestamp}.".encode() + body
    for candidate in header.split(" "):
        version, _, signature = candidate.partition(",")
        if version != "v1a":
            continue
        try:
            public_key.verify(base64.b64decode(signature), signed)
            return True
        except InvalidSignature:
            continue
    return False


def parse_events(body, content_type):
    if content_type.startswith("application/json"):
        return json.loads(body)
    return receiver_common.envelopes_ndjson(body)


class WebhookHandler(receiver_common.Handler):
    def do_POST(self):
        number = log.next_number()
        body, compressed = self.read_body()
        headers = {name: value for name, value in self.headers.items()}
        msg_id = self.headers.get("webhook-id")
        record = {"n": number, "id": msg_id, "gzip": compressed, "t": time.time(),
                  "peer": self.client_address[1], "path": self.path}

        verified = True
        try:
            for secret in arguments.secret:
                Webhook(secret).verify(body.decode(), headers, json_parse=False)
        except WebhookVerificationError as error:
            verified = False
            record["error"] = str(error)
        for key in arguments.ed25519_public:
            if not verify_ed25519(key, msg_id, self.headers.get("webhook-timestamp", ""), body,
                                  self.headers.get("webhook-signature", "")):
                verified = False
                record["error"] = "no valid v1a signature"
        record["verified"] = verified
        if not verified:
            record["status"] = 401
            log.write(record)
            return self.answer(401, "signature verification failed")

        if arguments.faults:
            roll = faults.random()
            if roll < 0.5:
                record["status"] = faults.choice([500, 502, 503, 504])
                log.write(record)
                return self.answer(record["status"], "injected server error")
            if roll < 0.56:
                record["status"] = "hang"
                log.write(record)
                time.sleep(arguments.hang_seconds)
                return self.reset_connection()
            if roll < 0.62:
                record["status"] = "reset"
                log.write(record)
                return self.reset_connection()
            if roll < 0.68:
                record["status"] = 429
                log.write(record)
                return self.answer(429, "slow down", {"Retry-After": "1"})

        events = parse_events(body, self.headers.get("Content-Type", ""))
        if arguments.reject_user and any(
                event.get("kind") == "entry" and event["entry"]["event"]["actor"]["user"] == arguments.reject_user
                for event in events):
            record["status"] = 400
            log.write(record)
            return self.answer(400, {"error": "events of user %s are not accepted" % arguments.reject_user})

        record["status"] = 200
        record["events"] = events
        log.write(record)
        self.answer(200, {"accepted": len(events)})


receiver_common.serve(WebhookHandler, arguments)
