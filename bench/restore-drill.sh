#!/usr/bin/env bash
# The disaster-recovery figure of docs/OPERATIONS.md: how long `laforge backup restore` of a
# journal of N entries takes (and `backup create`, and `verify chain` on the restored directory),
# against the physical limit of the same bytes: `cp` of the backup file plus `sync`.
# Usage: bench/restore-drill.sh [entries (default 1000000)] [laforge binary (default .build/release/laforge)]
set -euo pipefail
entries=${1:-1000000}
laforge=${2:-.build/release/laforge}
laforge=$(realpath "$laforge")
work=$(mktemp -d /tmp/laforge-restore-drill.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat > "$work/laforge.yaml" <<YAML
version: 1
mode: development
state_dir: $work/state
audit:
  checkpoints:
    every_entries: 0
    every_ms: 0
YAML
python3 -c "
import sys
for i in range($entries):
    sys.stdout.write('{\"action\":\"schema.change\",\"actor\":{\"user\":\"user-%d\"},\"data\":{\"n\":%d}}\n' % (i % 1000, i))
" > "$work/events.ndjson"
seconds() { python3 -c 'import time; print(time.monotonic())'; }
t0=$(seconds); "$laforge" audit emit --config "$work/laforge.yaml" --stdin < "$work/events.ndjson" > /dev/null; t1=$(seconds)
"$laforge" backup create --config "$work/laforge.yaml" --out "$work/drill.backup" --include-private-keys > /dev/null; t2=$(seconds)
"$laforge" backup restore "$work/drill.backup" --state-dir "$work/restored" > /dev/null; t3=$(seconds)
sed "s#state_dir: $work/state#state_dir: $work/restored#" "$work/laforge.yaml" > "$work/restored.yaml"
"$laforge" verify chain --config "$work/restored.yaml" > /dev/null; t4=$(seconds)
cp "$work/drill.backup" "$work/copy.backup"; sync; t5=$(seconds)
python3 - "$entries" "$(stat -c %s "$work/drill.backup")" "$t0" "$t1" "$t2" "$t3" "$t4" "$t5" <<'PY'
import sys
n, size = int(sys.argv[1]), int(sys.argv[2])
t0, t1, t2, t3, t4, t5 = map(float, sys.argv[3:])
print(f"entries {n}, backup {size / 1e6:.1f} MB")
print(f"ingest (audit emit --stdin) {t1 - t0:.1f} s")
print(f"backup create {t2 - t1:.1f} s")
print(f"backup restore {t3 - t2:.1f} s (verifies the whole chain first), {(t3 - t2) / (t5 - t4):.1f}x the physical limit")
print(f"verify chain on the restored directory {t4 - t3:.1f} s")
print(f"physical limit: cp of the backup file + sync {t5 - t4:.2f} s")
PY
