#!/usr/bin/env python3
"""An independent verifier of LaForge audit stores, written from docs/FORMATS.md alone.

    verify.py --key checkpoint.pub [--origin O] [--chain ID] [--strict] JOURNAL_DIR
    verify.py --key checkpoint.pub [...] --file PATH        (a FileSink set: PATH.1 ... PATH)
    verify.py --key checkpoint.pub [...] --approvals FILE JOURNAL_DIR   (approvals.ndjson too)
    verify.py --key checkpoint.pub [...] --table ROWS.ndjson (a PostgresAudit table's rows)
    --known-entries N: the store held N entries when last verified (kept outside the store)

Prints one JSON report (valid, entries, checkpoints, uncovered_entries, warnings, failure with
kind and seq) and exits 0 when the store verifies, 1 when it does not, 2 on bad usage.
Needs Python 3.9+ and the `cryptography` package (Ed25519).
"""
import argparse, base64, hashlib, json, os, re, struct, sys
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

LOOKAHEAD = 4096
MAX_PAYLOAD = 16 << 20
ENTRY_TAIL = re.compile(rb',"prev_hash":"([0-9a-fA-F]{64})","seq":([0-9]{1,19}),"v":1\}\Z')
sha = lambda *parts: hashlib.sha256(b"".join(parts)).digest()
leaf = lambda data: sha(b"\x00", data)
node = lambda left, right: sha(b"\x01", left, right)


class Failed(Exception):
    def __init__(self, kind, seq, message):
        super().__init__(message)
        self.kind, self.seq, self.message = kind, seq, message


def load_key(path):
    name, key_id, blob = open(path, encoding="utf-8").read().strip().split("+", 2)
    raw = base64.b64decode(blob, validate=True)
    if len(raw) != 33 or raw[0] != 1:
        sys.exit("verify.py: %s is not a verifier key (base64 of 0x01 and 32 bytes)" % path)
    computed = sha(name.encode(), b"\n\x01", raw[1:])[:4]
    if computed.hex() != key_id.lower():
        sys.exit("verify.py: %s: key id %s does not match the key" % (path, key_id))
    return name, computed, Ed25519PublicKey.from_public_bytes(raw[1:])


class Verifier:
    def __init__(self, keys, origin, chain, strict, whole_store):
        self.keys, self.origin, self.chain, self.strict = keys, origin, chain, strict
        self.whole_store = whole_store
        self.border = []  # frontier: (subtree size, hash), largest first
        self.size = 0
        self.expected = None
        self.previous = None
        self.entries = self.checkpoints = 0
        self.last_checkpoint = None
        self.warnings = []
        self.torn = None

    def append(self, leaf_hash):
        self.border.append((1, leaf_hash))
        while len(self.border) > 1 and self.border[-1][0] == self.border[-2][0]:
            (count, right), (_, left) = self.border.pop(), self.border.pop()
            self.border.append((count * 2, node(left, right)))
        self.size += 1

    def root(self):
        if not self.border:
            return sha(b"")
        value = self.border[-1][1]
        for _, left in reversed(self.border[:-1]):
            value = node(left, value)
        return value

    def run(self, records):
        """records: a list of ("entry", bytes) / ("checkpoint", note text) in storage order."""
        index = 0
        while index < len(records):
            kind, data = records[index]
            if kind == "missing":
                raise Failed("entry_missing", self.expected or 0, "the active file of a rotated set (%s) is missing" % data)
            if kind == "rotated_end":
                following = records[index + 1] if index + 1 < len(records) else None
                if following and following[0] == "missing":
                    index += 1
                    continue
                claimed = None
                if following and following[0] == "entry":
                    claimed = self.link(following[1])[1]
                elif following and following[0] == "checkpoint":
                    body = following[1].split("\n")
                    claimed = int(body[1]) if len(body) > 1 and body[1].isdigit() else None
                if self.expected is not None and (following is None or claimed == self.expected):
                    raise Failed("checkpoint_missing", self.expected, "%s does not end with a checkpoint" % data)
                index += 1
                continue
            seq = self.entry(data) if kind == "entry" else self.checkpoint(data)
            if seq is not None:  # a gap: look ahead for the entry expected
                ahead = records[index + 1:index + 1 + LOOKAHEAD]
                for kind2, data2 in ahead:
                    if kind2 == "entry" and self.link(data2)[1] == self.expected:
                        raise Failed("reordered", self.expected, "entry %d comes after a later record" % self.expected)
                raise Failed("entry_missing", self.expected, "entries from %d are missing (next present: %d)" % (self.expected, seq))
            index += 1

    def link(self, data):
        tail = ENTRY_TAIL.search(data)
        if len(data) <= 90 or not data.startswith(b'{"chain":"') or tail is None or b'"' not in data[10:]:
            return None, None, None
        return data[10:data.index(b'"', 10)].decode("utf-8", "replace"), int(tail.group(2)), bytes.fromhex(tail.group(1).decode())

    def entry(self, data):
        chain, seq, prev = self.link(data)
        if seq is None:
            raise Failed("content_changed", self.expected, "not a canonical audit entry")
        if self.chain is None:
            self.chain = chain
        if chain != self.chain:
            raise Failed("content_changed", seq, "belongs to chain %r, not %r" % (chain, self.chain))
        if self.expected is None:
            if seq != 0:
                raise Failed("entry_missing", 0, "the input starts at entry %d" % seq)
            self.expected = 0
        if seq > self.expected:
            return seq
        if seq < self.expected:
            raise Failed("reordered", seq, "entry %d appears again" % seq)
        if seq == 0 and prev != bytes(32):
            raise Failed("content_changed", 0, "the first entry's prev_hash must be all zeros")
        if self.previous is not None and prev != self.previous:
            differing = sum(a != b for a, b in zip(self.previous.hex(), prev.hex()))
            blamed = seq if differing <= 32 else seq - 1
            raise Failed("content_changed", blamed, "the link between entries %d and %d is broken" % (seq - 1, seq))
        self.previous = leaf(data)
        self.append(self.previous)
        self.expected = seq + 1
        self.entries += 1
        return None

    def open_note(self, note):
        """The verified (origin, size, root, extensions), or Failed("checkpoint_forged")."""
        claimed = note.split("\n")[1] if note.count("\n") >= 1 else ""
        size = int(claimed) if claimed.isdigit() else None
        forged = lambda why: Failed("checkpoint_forged", size, why)
        raw = note.encode("utf-8")
        if any(b < 0x20 and b != 0x0A or b == 0x7F for b in raw):
            raise forged("control character in the note")
        split = raw.rfind(b"\n\n")
        if split < 0 or not raw.endswith(b"\n") or split + 2 >= len(raw):
            raise forged("no signature block")
        text, trusted = raw[:split + 1], 0
        for line in raw[split + 2:-1].split(b"\n"):
            if not line.startswith("— ".encode()) or b" " not in line[4:]:
                raise forged("malformed signature line")
            name, blob = line[4:].split(b" ", 1)
            try:
                blob = base64.b64decode(blob, validate=True)
            except ValueError:
                raise forged("signature is not base64")
            for key_name, key_id, public in self.keys:
                if key_name.encode() == name and key_id == blob[:4]:
                    try:
                        public.verify(blob[4:], text)
                    except InvalidSignature:
                        raise forged("a signature by %s does not verify" % key_name)
                    trusted += 1
        if not trusted:
            raise forged("no signature by a trusted key")
        lines = text.decode("utf-8")[:-1].split("\n")
        if len(lines) < 3 or size is None or str(size) != lines[1]:
            raise Failed("checkpoint_inconsistent", size, "not a checkpoint body")
        root = base64.b64decode(lines[2])
        if self.origin is not None and lines[0] != self.origin:
            raise Failed("checkpoint_inconsistent", size, "origin %r" % lines[0])
        return size, root, lines[3:]

    def checkpoint(self, note):
        size, root, extensions = self.open_note(note)
        if self.last_checkpoint is not None and size < self.last_checkpoint:
            raise Failed("checkpoint_inconsistent", size, "checkpoints only grow")
        if self.expected is None:
            if self.whole_store:
                raise Failed("entry_missing", 0, "the store starts at a checkpoint, not at entry 0")
            carried = [e for e in extensions if e.startswith("laforge-frontier ")]
            frontier = base64.b64decode(carried[0].split(" ", 1)[1]) if carried else b""
            count = struct.unpack(">Q", frontier[:8])[0] if len(frontier) >= 8 else -1
            if count != size or len(frontier) != 8 + 32 * bin(count).count("1"):
                raise Failed("malformed", size, "the starting checkpoint carries no usable frontier")
            hashes = [frontier[8 + 32 * i:40 + 32 * i] for i in range(bin(count).count("1"))]
            bits = [1 << b for b in range(63, -1, -1) if count >> b & 1]
            self.border, self.size, self.expected = list(zip(bits, hashes)), count, count
            if self.root() != root:
                raise Failed("checkpoint_inconsistent", size, "the frontier does not match its root")
        if size > self.size:
            return size
        if size < self.size:
            raise Failed("checkpoint_inconsistent", size, "checkpoint of size %d is out of place" % size)
        if self.root() != root:
            raise Failed("content_changed", max(size, 1) - 1, "the entries do not give the signed root")
        self.checkpoints += 1
        self.last_checkpoint = size
        return None

    def finish(self, known_entries=None):
        if known_entries is not None and (self.expected or 0) < known_entries:
            raise Failed("entry_missing", self.expected or 0, "the store held %d entries when last verified" % known_entries)
        uncovered = self.size - (self.last_checkpoint or 0)
        if uncovered > 0:
            if self.strict:
                raise Failed("not_covered", self.last_checkpoint or 0, "%d entries no checkpoint covers" % uncovered)
            self.warnings.append("%d entries are not covered by a checkpoint" % uncovered)
        if self.torn:
            if self.strict:
                raise Failed("malformed", self.size, "a torn tail")
            self.warnings.append("torn tail: " + self.torn)
        return uncovered


def journal_records(directory, verifier):
    """The journal's records in storage order, frame problems raised at their seq; the
    checkpoints.log problem (if any) is returned to be reported after the walk."""
    data = open(os.path.join(directory, "checkpoints.log"), "rb").read() if os.path.exists(os.path.join(directory, "checkpoints.log")) else b""
    checkpoints, offset, problem, previous = [], 0, None, None
    while offset < len(data):
        rest = data[offset:]
        magic_ok = rest[:16][:4] == b"LFC1"[:len(rest[:4])]
        length = struct.unpack("<I", rest[4:8])[0] if len(rest) >= 16 else None
        if length is None or rest[:4] != b"LFC1" or length > MAX_PAYLOAD:
            if len(rest) < 16:
                problem = ("torn", None) if magic_ok else ("changed", previous)
            else:  # a whole header still names a size; a length that fits, a note to check
                size = struct.unpack("<Q", rest[8:16])[0]
                fits = length <= MAX_PAYLOAD and len(rest) >= 48 + length
                problem = ("changed", size, rest[16:16 + length]) if fits else ("changed", size)
            break
        if len(rest) < 48 + length:
            problem = ("torn", None)
            break
        size, payload = struct.unpack("<Q", rest[8:16])[0], rest[16:16 + length]
        if sha(rest[8:16], payload) != rest[16 + length:48 + length]:
            problem = ("changed", size, payload)
            break
        if previous is not None and size < previous:
            problem = ("changed", size)
            break
        checkpoints.append((size, json.loads(payload)["note"]))
        previous, offset = size, offset + 48 + length
    names = sorted(n for n in os.listdir(directory) if re.fullmatch(r"entries-[0-9]{20}\.seg", n))
    records, expected, previous_hash = [("checkpoint", n) for s, n in checkpoints if s == 0], 0, bytes(32)
    pending = [c for c in checkpoints if c[0] > 0]
    for number, name in enumerate(names):
        first, last = int(name[8:28]), number == len(names) - 1
        if first != expected:
            raise Failed("entry_missing" if first > expected else "reordered", expected if first > expected else first, name + " starts at seq %d" % first)
        data, offset = open(os.path.join(directory, name), "rb").read(), 0
        while offset < len(data):
            rest = data[offset:]
            length = struct.unpack("<I", rest[4:8])[0] if len(rest) >= 80 else None
            if length is None or rest[:4] != b"LFJ1" or length > MAX_PAYLOAD:
                if last and len(rest) < 80 and rest[:4] == b"LFJ1"[:len(rest[:4])]:
                    verifier.torn = "%s at byte %d" % (name, offset)
                    return records + [("checkpoint", n) for _, n in pending], problem
                raise Failed("content_changed", expected, "entry %d's frame is not a frame" % expected)
            if len(rest) < 80 + length:
                if last:
                    verifier.torn = "%s at byte %d" % (name, offset)
                    return records + [("checkpoint", n) for _, n in pending], problem
                raise Failed("content_changed", expected, "entry %d's frame runs past its segment" % expected)
            payload = rest[80:80 + length]
            if leaf(payload) != rest[16:48]:
                raise Failed("content_changed", expected, "entry %d's stored hash does not match" % expected)
            if struct.unpack("<Q", rest[8:16])[0] != expected:
                header_seq = struct.unpack("<Q", rest[8:16])[0]
                raise Failed("reordered" if header_seq < expected else "entry_missing", expected, "frame holds entry %d" % header_seq)
            if rest[48:80] != previous_hash:
                raise Failed("content_changed", expected, "entry %d's prev_hash is not the previous hash" % expected)
            records.append(("entry", payload))
            previous_hash, expected, offset = rest[16:48], expected + 1, offset + 80 + length
            while pending and pending[0][0] <= expected:
                records.append(("checkpoint", pending.pop(0)[1]))
    return records + [("checkpoint", n) for _, n in pending], problem


def file_records(path, alone):
    """The records of PATH.1 ... PATH (or of PATH alone: a numbered file, or `alone`)."""
    name, folder = os.path.basename(path), os.path.dirname(path) or "."
    rotated = sorted((int(n[len(name) + 1:]), n) for n in os.listdir(folder) if n.startswith(name + ".") and n[len(name) + 1:].isdigit())
    records, files = [], [path] if alone else [os.path.join(folder, n) for _, n in rotated] + [path]
    for number, file in enumerate(files):
        if len(files) > 1 and file == path and not os.path.exists(path):
            records.append(("missing", file))  # FileSink always keeps an active file after rotating
            break
        data = open(file, "rb").read()
        lines = data.split(b"\n")
        if lines[-1]:
            records.append(("malformed", file))
            break
        for line in lines[:-1]:
            if line.startswith(b'{"checkpoint":'):
                try:
                    value = json.loads(line).get("checkpoint")
                except ValueError:
                    value = None
                records.append(("checkpoint", value) if isinstance(value, str) else ("malformed", file))
            else:
                records.append(("entry", line))
        # A rotated file ends with a checkpoint (FileSink rotates right after one).
        if number < len(files) - 1 and not (lines[-2:-1] and lines[-2].startswith(b'{"checkpoint":')):
            records.append(("rotated_end", file))
    return records


def table_records(path, verifier):
    """A PostgresAudit table's rows (FORMATS.md, the export query) as records, and the first
    row whose hash, prev_hash, seq, root_hash or tree_size copy is not what its text gives."""
    records, problem = [], None
    for line in open(path, "rb").read().split(b"\n"):
        if not line:
            continue
        row = json.loads(line)
        if "note" in row:
            records.append(("checkpoint", row["note"]))
            body = row["note"].split("\n")
            size = int(body[1]) if len(body) > 2 and body[1].isdigit() else None
            if problem is None and size is not None and (row["tree_size"] != size or bytes.fromhex(row["root_hash"]) != base64.b64decode(body[2])):
                problem = Failed("content_changed", size, "the row's tree_size or root_hash is not the note's")
            continue
        data = row["canonical"].encode("utf-8")
        records.append(("entry", data))
        _, seq, prev = verifier.link(data)
        if problem is None and seq is not None:
            if row["seq"] != seq:
                problem = Failed("content_changed", row["seq"], "the row's seq is not its entry's")
            elif bytes.fromhex(row["hash"]) != leaf(data) or bytes.fromhex(row["prev_hash"]) != prev:
                problem = Failed("content_changed", seq, "the row's hash or prev_hash is not what its canonical text gives")
    return records, problem


TIME = re.compile(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?Z\Z")


def verify_approvals(path, events):
    """Problems of approvals.ndjson (FORMATS.md, Approvals), as (kind, location) pairs;
    `events` maps each approval_hash the journal recorded to (seq, action, key)."""
    problems, stored, previous = [], {}, None
    lines = open(path, "rb").read().split(b"\n") if os.path.exists(path) else [b""]
    for number, line in enumerate(lines[:-1], 1):
        where = "%s:%d" % (os.path.basename(path), number)
        try:
            record = json.loads(line)
            version, actor, signature = record["version"], record["actor"], record.get("signature")
            body = {k: record[k] for k in ("snapshot", "decision", "comment", "created_at")}
            assert version in (1, 2) and record["decision"] in ("approve", "reject", "annotate")
            assert isinstance(actor["user"], str) and all(isinstance(r, str) for r in actor["roles"]) and TIME.match(body["created_at"])
            assert len(bytes.fromhex(record["snapshot"])) == 32 and isinstance(body["comment"], str)
            stored_hash, prev = bytes.fromhex(record["hash"]), record["prev_hash"] if version == 2 else None
            assert len(stored_hash) == 32 and (prev is None or len(bytes.fromhex(prev)) == 32)
            if signature is not None:
                signature = {k: signature[k] for k in ("key_name", "key_id", "public_key", "sig")}
                public, sig = base64.b64decode(signature["public_key"], validate=True), base64.b64decode(signature["sig"], validate=True)
        except (ValueError, KeyError, TypeError, AssertionError, AttributeError):
            problems.append(("malformed", where))
            previous = None
            continue
        body.update(version=version, actor={"user": actor["user"], "roles": actor["roles"]})
        if version == 2:
            body["prev_hash"] = prev
        canonical = lambda value: json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        written = signature and dict(signature, public_key=base64.b64encode(public).decode(), sig=base64.b64encode(sig).decode())
        if sha(canonical(body)) != stored_hash or canonical(dict(body, hash=record["hash"], signature=written)) != line:
            problems.append(("content changed", where))
        if signature is not None:
            named = len(public) == 32 and sha(signature["key_name"].encode(), b"\n\x01", public)[:4].hex() == signature["key_id"]
            try:
                assert named
                Ed25519PublicKey.from_public_bytes(public).verify(sig, b"laforge-approval-v1\n" + stored_hash)
            except (AssertionError, InvalidSignature, ValueError):
                problems.append(("signature forged", where))
        if version == 2:
            if number == 1 and prev is not None:
                problems.append(("approval missing", where))
            elif previous is not None and prev != previous:
                problems.append(("content changed", where))
        key = "%s+%s" % (signature["key_name"], signature["key_id"]) if signature else None
        stored[stored_hash.hex()] = (where, version, "approval." + record["decision"], key)
        previous = stored_hash.hex()
    for approval_hash, (seq, action, key) in events.items():
        if approval_hash not in stored:
            problems.append(("approval missing", "journal seq %d" % seq))
        elif stored[approval_hash][2:] != (action, key):
            problems.append(("content changed", stored[approval_hash][0]))
    problems += [("approval unrecorded", os.path.basename(path)) for h, r in stored.items() if h not in events and r[1] == 2]
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--key", action="append", required=True)
    parser.add_argument("--origin"), parser.add_argument("--chain"), parser.add_argument("--file"), parser.add_argument("--approvals")
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("--table"), parser.add_argument("--known-entries", type=int)
    parser.add_argument("--from-checkpoint", action="store_true", help="the set's first files were pruned")
    parser.add_argument("journal", nargs="?")
    args = parser.parse_args()
    if [args.file, args.journal, args.table].count(None) != 2:
        parser.error("give a journal directory, --file PATH or --table ROWS")
    numbered = bool(args.file) and os.path.basename(args.file).rsplit(".", 1)[-1].isdigit()
    whole = not (numbered or args.from_checkpoint)
    verifier = Verifier([load_key(k) for k in args.key], args.origin, args.chain, args.strict, whole)
    report = {"valid": True}
    try:
        problem = columns = None
        if args.file:
            records = file_records(args.file, numbered)
        elif args.table:
            records, columns = table_records(args.table, verifier)
        else:
            records, problem = journal_records(args.journal, verifier)
        if verifier.origin is None:
            first = next((d for k, d in records if k == "entry"), None)
            chain = verifier.chain or (verifier.link(first)[0] if first else None)
            verifier.origin = "laforge/%s" % chain if chain else None
        malformed = next((i for i, r in enumerate(records) if r[0] == "malformed"), None)
        try:
            verifier.run(records[:malformed])
        except Failed as failure:
            # A changed column copy counts unless the chain itself failed at or before its seq.
            raise columns if columns is not None and failure.seq is not None and failure.seq > columns.seq else failure
        if malformed is not None:
            raise Failed("malformed", verifier.expected, "a line that is no record, or a last line without newline")
        if problem and problem[0] == "torn":
            verifier.torn = "checkpoints.log"
        elif problem:
            size = problem[1]
            if len(problem) == 3:
                try:
                    size = verifier.open_note(json.loads(problem[2])["note"])[0]
                except (Failed, ValueError, KeyError, TypeError):
                    pass
            raise Failed("checkpoint_forged", size, "a checkpoint frame of checkpoints.log was changed")
        try:
            report["uncovered_entries"] = verifier.finish(args.known_entries)
        except Failed as failure:
            raise columns if columns is not None and failure.seq is not None and failure.seq > columns.seq else failure
        if columns is not None:
            raise columns
        if args.approvals:
            events = {}
            for kind, data in records:
                event = json.loads(data)["event"] if kind == "entry" else {}
                if str(event.get("action", "")).startswith("approval.") and "approval_hash" in event.get("data", {}):
                    events[event["data"]["approval_hash"]] = (verifier.link(data)[1], event["action"], event["data"].get("key"))
            report["approval_problems"] = [{"kind": k, "location": w} for k, w in verify_approvals(args.approvals, events)]
            report["valid"] = not report["approval_problems"]
    except Failed as failure:
        report["valid"] = False
        report["failure"] = {"kind": failure.kind, "seq": failure.seq, "message": failure.message}
    report.update(entries=verifier.entries, checkpoints=verifier.checkpoints, warnings=verifier.warnings)
    print(json.dumps(report, sort_keys=True))
    sys.exit(0 if report["valid"] else 1)


if __name__ == "__main__":
    main()
