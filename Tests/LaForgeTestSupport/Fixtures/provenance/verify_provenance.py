"""Verifies a LaForge provenance envelope with the in-toto reference tools, as a peer would.

    verify_provenance.py ENVELOPE.json VERIFIER_KEY.pub

VERIFIER_KEY.pub is the snapshot key's C2SP verifier key (NAME+KEYID+BASE64(0x01 || key)), as
`laforge keys generate` writes it. Checks, each with the peer's own code:
  1. the DSSE envelope loads with in-toto's metadata model (in_toto.models.metadata.Metadata);
  2. securesystemslib's Envelope.verify accepts its signature under an SSlibKey whose keyid is
     securesystemslib's default keyid for the key;
  3. the payload is an in-toto Statement v1 that in_toto_attestation's model validates, whose
     subjects carry sha256 digests and whose predicateType is LaForge's.
Prints one JSON object (what was verified) and exits 0; prints the reason and exits 1 when any
check refuses the envelope.
"""

import base64
import json
import sys

from google.protobuf import json_format
from in_toto.models.metadata import Envelope as InTotoEnvelope
from in_toto.models.metadata import Metadata
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey
from securesystemslib.signer._utils import compute_default_keyid

PREDICATE_TYPE = "https://laforge.dev/provenance/snapshot/v1"


def refuse(reason):
    print(json.dumps({"verified": False, "reason": reason}))
    sys.exit(1)


def main():
    envelope_path, key_path = sys.argv[1], sys.argv[2]
    with open(envelope_path, encoding="utf-8") as handle:
        data = json.load(handle)
    with open(key_path, encoding="utf-8") as handle:
        name, _, encoded = handle.read().strip().split("+", 2)
    raw = base64.b64decode(encoded)
    if len(raw) != 33 or raw[0] != 1:
        refuse("not a C2SP Ed25519 verifier key")
    keyval = {"public": raw[1:].hex()}
    key = SSlibKey(compute_default_keyid("ed25519", "ed25519", keyval), "ed25519", "ed25519", keyval)

    try:
        metadata = Metadata.from_dict(json.loads(json.dumps(data)))
    except Exception as error:  # the peer's own parse error is the reason
        refuse(f"in-toto cannot load the envelope: {error}")
    if not isinstance(metadata, InTotoEnvelope):
        refuse("in-toto does not see a DSSE envelope")

    envelope = Envelope.from_dict(json.loads(json.dumps(data)))
    if envelope.payload_type != "application/vnd.in-toto+json":
        refuse(f"payloadType is {envelope.payload_type}")
    try:
        accepted = envelope.verify([key], 1)
    except Exception as error:
        refuse(f"securesystemslib refuses the signature: {error}")
    try:
        metadata.verify([key], 1)
    except Exception as error:
        refuse(f"in-toto refuses the signature: {error}")

    statement_json = json.loads(envelope.payload)
    try:
        proto = json_format.Parse(envelope.payload, statement_pb2.Statement())
        Statement.copy_from_pb(proto).validate()
    except Exception as error:
        refuse(f"in_toto_attestation rejects the Statement: {error}")
    if statement_json.get("predicateType") != PREDICATE_TYPE:
        refuse(f"predicateType is {statement_json.get('predicateType')}")

    print(json.dumps({
        "verified": True,
        "keyid": list(accepted.keys())[0],
        "key_name": name,
        "statement_type": proto.type,
        "subjects": [{"name": s.name, "sha256": s.digest["sha256"]} for s in proto.subject],
        "snapshot": statement_json["predicate"]["snapshot"]["hash"],
        "approvals": len(statement_json["predicate"]["approvals"]),
        "checkpoint_tree_size": (statement_json["predicate"].get("checkpoint") or {}).get("tree_size"),
    }, sort_keys=True))


if __name__ == "__main__":
    main()
