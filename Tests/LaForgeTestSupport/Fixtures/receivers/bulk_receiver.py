"""An Elasticsearch `_bulk` look-alike for `create` actions: documents are kept by `_id`; a
second create of an `_id` is a 409 item. Partial failures on purpose: items of --reject-user's
events get 400 (mapper_parsing_exception), items whose seq is in --throttle-seqs get 429 the
first time they are seen, the item of --block-seq gets 503 until --unblock-file exists, and
every --lose-answer-every'th request is stored but its answer lost (connection reset). The
answer is HTTP 200 with "errors": true whenever an item failed. Log lines: {"kind": "bulk",
"items": [...]} per request and {"kind": "stored", "id", "doc"} per created document."""

import json
import os
import threading

import receiver_common

parser = receiver_common.base_arguments(__doc__)
parser.add_argument("--reject-user")
parser.add_argument("--throttle-seqs", default="")
parser.add_argument("--block-seq", type=int)
parser.add_argument("--unblock-file")
parser.add_argument("--lose-answer-every", type=int, default=0)
arguments = parser.parse_args()
log = receiver_common.RequestLog(arguments.log)
throttle = {int(seq) for seq in arguments.throttle_seqs.split(",") if seq}
seen = set()
documents = {}
lock = threading.Lock()


def item_status(doc):
    seq = doc.get("seq")
    if doc.get("kind") == "entry" and doc["entry"]["event"]["actor"]["user"] == arguments.reject_user:
        return 400, {"type": "mapper_parsing_exception", "reason": "failed to parse field [entry.event.actor.user]"}
    if seq == arguments.block_seq and doc.get("kind") == "entry" and not os.path.exists(arguments.unblock_file or "/nonexistent"):
        return 503, {"type": "unavailable_shards_exception", "reason": "primary shard is not active"}
    if seq in throttle and doc.get("kind") == "entry" and seq not in seen:
        seen.add(seq)
        return 429, {"type": "es_rejected_execution_exception", "reason": "rejected execution of coordinating operation"}
    return None, None


class BulkHandler(receiver_common.Handler):
    def do_POST(self):
        number = log.next_number()
        body, _ = self.read_body()
        if not self.path.startswith("/_bulk"):
            return self.answer(404, {"error": "no handler for " + self.path})
        if self.headers.get("Content-Type") != "application/x-ndjson":
            return self.answer(406, {"error": "Content-Type must be application/x-ndjson"})
        lines = [line for line in body.decode().split("\n") if line]
        items, errors = [], False
        for action_line, doc_line in zip(lines[0::2], lines[1::2]):
            action = json.loads(action_line)["create"]
            doc = json.loads(doc_line)
            doc_id = action["_id"]
            status, error = item_status(doc)
            with lock:
                if status is None:
                    if doc_id in documents:
                        status = 409
                        error = {"type": "version_conflict_engine_exception",
                                 "reason": "[%s]: version conflict, document already exists" % doc_id}
                    else:
                        documents[doc_id] = doc
                        status = 201
                        log.write({"kind": "stored", "id": doc_id, "index": action["_index"], "doc": doc})
            item = {"_index": action["_index"], "_id": doc_id, "status": status}
            if error:
                item["error"] = error
                errors = True
            items.append({"create": item})
        log.write({"kind": "bulk", "n": number,
                   "items": [{"id": i["create"]["_id"], "status": i["create"]["status"]} for i in items]})
        if arguments.lose_answer_every and number % arguments.lose_answer_every == 0:
            return self.reset_connection()
        self.answer(200, {"took": 3, "errors": errors, "items": items})


receiver_common.serve(BulkHandler, arguments)
