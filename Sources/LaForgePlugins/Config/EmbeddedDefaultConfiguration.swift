/// The default configuration built into every binary: `config/laforge.yaml` of the checkout it
/// was built from, byte for byte (EmbeddedDefaultConfigurationTests compares the two), so
/// `laforge` works from any directory without a file. It is in force when no `--config`,
/// `$LAFORGE_CONFIG` or `/etc/laforge/laforge.yaml` names another (ConfigLocation).
public enum EmbeddedDefaultConfiguration {
    /// What errors and `laforge config show` call it.
    public static let sourceName = "<built-in default>"

    /// (A multi-line literal drops the line break before its closing delimiter: hence the empty
    /// last line, which keeps the file's final newline.)
    public static let text = #"""
# LaForge runtime configuration — the development default.
#
# Every key is described in docs/CONFIG.md. Values may use ${env:NAME}, ${file:PATH} (relative to
# this file's folder) and, inside a plugin's `config:`, ${secret:BACKEND/NAME}; write $${ for a
# literal "${".

version: 1              # the configuration format; this laforge reads version 1
mode: development       # development: unsigned plugins load with a warning; production: signatures required

# Journal, checkpoints and sink cursors. Relative to the current working directory;
# `laforge --state-dir` overrides it.
state_dir: .laforge

# Where plugin libraries named without a path are found. Left out here, so the loader uses
# $LAFORGE_PLUGIN_DIR or else the folder of the laforge executable.
# plugin_dir: /opt/laforge/plugins

# Keys allowed to sign plugins; required (non-empty) in production mode.
# trusted_keys:
#   - name: release-2026
#     public_key: <base64 of the 32-byte Ed25519 public key>

audit:
  # The journal under state_dir is the source of truth: emit returns once events are durable there.
  journal:
    fsync: group          # always | group | never; group = many events, one fdatasync
    fail_closed: true     # emit fails (and records nothing) when the journal cannot persist
  # Signed checkpoints (C2SP tlog-checkpoint, Ed25519) over the hash chain. In development mode the
  # key is generated on first use at state_dir/keys/checkpoint; production needs key_file.
  checkpoints:
    every_entries: 10000
    every_ms: 1000
  # pii:
  #   drop: [data.ssn]
  #   hash: [actor.claims.email]   # replaced by HMAC-SHA256; see `laforge audit hash-value`
  sinks:
    # Writes every audit event as one JSON line. The journal under state_dir stays the source of
    # truth; a sink is fed from it and catches up after a restart.
    - name: file
      library: libFileSink.so
      config:
        path: .laforge/audit/audit.ndjson

"""#
}
