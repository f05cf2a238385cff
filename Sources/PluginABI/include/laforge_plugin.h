/*
 * laforge_plugin.h — the LaForge runtime plugin ABI, version 1.2.
 *
 * This header is the whole contract between the LaForge host and a plugin. A plugin is a shared
 * library that exports one function, LAFORGE_PLUGIN_ENTRY_SYMBOL ("laforge_plugin_entry"), which
 * returns a descriptor: who the plugin is, which ABI it was built for, and one typed vtable per
 * capability it offers (audit sink, secret backend, IdP connector; exporter comes later).
 *
 * Rules that keep old plugins loading for years (docs/ABI.md explains each):
 *
 *  1. Versioning. The descriptor names the ABI the plugin was built against. The host loads it
 *     only when the majors are equal and the plugin's minor is <= the host's minor. A change of
 *     behaviour (e.g. the threading contract) is a major bump; additions are minor bumps.
 *  2. Every struct that crosses the boundary starts with `uint32_t struct_size`, set to
 *     sizeof(struct) by whoever fills it. Structs only ever grow at the end. A reader reads
 *     min(its own size, struct_size) bytes and treats missing tail fields as absent (NULL / 0).
 *  3. Ownership is in the comments of every function: "borrowed" inputs are valid only for the
 *     duration of the call; plugin-owned outputs are valid until the next call on the same
 *     instance, or until released through the named release function.
 *  4. Concurrency is declared, not assumed: a vtable's `threading` field says whether the host
 *     may call one instance from several threads at once. Different instances are always
 *     independent: a plugin must keep no mutable global state.
 *  5. Status codes are a closed set pinned below; the host treats any value it does not know as
 *     an error. Functions that fail leave a human-readable message in last_error().
 *  6. The host owns the process: signals, the working directory, the environment, stdio. A plugin
 *     installs no signal handler and changes no process-wide state; what a signal would tell it
 *     (logrotate's SIGHUP) arrives as a vtable call (the audit sink's reopen).
 *  7. Retries. A sink's write and flush never sleep and retry: they return LAFORGE_RETRY and the
 *     host retries with backoff. A call whose caller is waiting for the answer (a secret
 *     backend's or IdP connector's request to its service) may retry a transient failure inside
 *     the call, bounded by a deadline the plugin documents and its configuration can lower; when
 *     the deadline or the attempts are used up it returns LAFORGE_RETRY with the last reason.
 *
 * The header is C99 and C++ compatible; it compiles with
 *     cc -std=c99 -pedantic -Wall -Wextra -Werror      and      c++ -std=c++11 -Wall -Wextra
 */
#ifndef LAFORGE_PLUGIN_H
#define LAFORGE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Version and entry point
 * ------------------------------------------------------------------------------------------- */

#define LAFORGE_ABI_VERSION_MAJOR 1
#define LAFORGE_ABI_VERSION_MINOR 2

/* The name of the one function a plugin exports. */
#define LAFORGE_PLUGIN_ENTRY_SYMBOL "laforge_plugin_entry"

/* Symbol visibility for the entry function. */
#if defined(_WIN32)
#define LAFORGE_EXPORT __declspec(dllexport)
#else
#define LAFORGE_EXPORT __attribute__((visibility("default")))
#endif

/* Compile-time checks that work in C99 (no _Static_assert) and C++. */
#ifdef __cplusplus
#define LAFORGE_STATIC_ASSERT(cond, name) static_assert(cond, #name)
#else
#define LAFORGE_STATIC_ASSERT(cond, name) typedef char laforge_static_assert_##name[(cond) ? 1 : -1]
#endif

/* ---------------------------------------------------------------------------------------------
 * Status codes
 *
 * Functions return int32_t rather than the enum type so the width is fixed across compilers. The
 * host treats any value not listed here as an error (and says so, naming the value).
 * ------------------------------------------------------------------------------------------- */

typedef enum laforge_status {
    /* Success. For an audit sink's write: every record of the batch is durably stored. */
    LAFORGE_OK = 0,
    /* Transient failure (connection lost, 5xx, throttled, timeout): the host retries later with
     * backoff. A sink never sleeps and retries itself; other calls retry only within their
     * documented deadline (rule 7 above). */
    LAFORGE_RETRY = 1,
    /* The input can never succeed as it is (rejected by the receiver, 4xx, malformed). For a
     * sink's write the host dead-letters the offending record and moves on. */
    LAFORGE_PERMANENT_ERROR = 2,
    /* The configuration or an argument is invalid (create, get_secret with a bad name, ...). */
    LAFORGE_INVALID_ARGUMENT = 3,
    /* The named secret or key does not exist. */
    LAFORGE_NOT_FOUND = 4,
    /* Authentication or authorization failed (wrong password, access denied). */
    LAFORGE_ACCESS_DENIED = 5,
    /* The operation is not offered by this plugin. */
    LAFORGE_UNSUPPORTED = 6,
    /* A bug or an unexpected state inside the plugin. */
    LAFORGE_INTERNAL_ERROR = 7
} laforge_status;

LAFORGE_STATIC_ASSERT(LAFORGE_OK == 0, status_ok_is_0);
LAFORGE_STATIC_ASSERT(LAFORGE_RETRY == 1, status_retry_is_1);
LAFORGE_STATIC_ASSERT(LAFORGE_PERMANENT_ERROR == 2, status_permanent_is_2);
LAFORGE_STATIC_ASSERT(LAFORGE_INVALID_ARGUMENT == 3, status_invalid_argument_is_3);
LAFORGE_STATIC_ASSERT(LAFORGE_NOT_FOUND == 4, status_not_found_is_4);
LAFORGE_STATIC_ASSERT(LAFORGE_ACCESS_DENIED == 5, status_access_denied_is_5);
LAFORGE_STATIC_ASSERT(LAFORGE_UNSUPPORTED == 6, status_unsupported_is_6);
LAFORGE_STATIC_ASSERT(LAFORGE_INTERNAL_ERROR == 7, status_internal_error_is_7);

/* Log levels for laforge_host_api.log. */
typedef enum laforge_log_level {
    LAFORGE_LOG_DEBUG = 0,
    LAFORGE_LOG_INFO = 1,
    LAFORGE_LOG_WARNING = 2,
    LAFORGE_LOG_ERROR = 3
} laforge_log_level;

LAFORGE_STATIC_ASSERT(LAFORGE_LOG_DEBUG == 0 && LAFORGE_LOG_ERROR == 3, log_levels_pinned);

/* Capability bits in laforge_plugin_descriptor.capabilities. Each set bit must come with its
 * vtable pointer; a bit the host does not know is reported and ignored. */
#define LAFORGE_CAP_AUDIT_SINK      ((uint64_t)1 << 0)
#define LAFORGE_CAP_SECRET_BACKEND  ((uint64_t)1 << 1)
/* ABI 1.1 (a plugin offering it sets abi_minor = 1): */
#define LAFORGE_CAP_IDP_CONNECTOR   ((uint64_t)1 << 2)
/* Reserved: */
#define LAFORGE_CAP_EXPORTER        ((uint64_t)1 << 3)

/* Values of a vtable's `threading` field. */
#define LAFORGE_THREADING_SERIAL     0u /* the host never calls one instance concurrently */
#define LAFORGE_THREADING_CONCURRENT 1u /* any function but create/destroy may run concurrently
                                           on one instance */

/* ---------------------------------------------------------------------------------------------
 * Shared small types
 * ------------------------------------------------------------------------------------------- */

/* An opaque per-instance handle, allocated by the plugin's create and freed by its destroy. */
typedef struct laforge_instance laforge_instance;

/* A borrowed byte string: valid for the duration of the call it is passed to. */
typedef struct laforge_bytes {
    const uint8_t *data;
    size_t len;
} laforge_bytes;

/* A plugin-owned output buffer. The plugin fills data/len (and may use `opaque` for its own
 * bookkeeping); the host hands it back to the matching release function exactly once, which
 * must zero the bytes before freeing them when they are secret. The host zero-initializes the
 * struct before the call; on failure the plugin leaves it zeroed. */
typedef struct laforge_buffer {
    uint8_t *data;
    size_t len;
    void *opaque;
} laforge_buffer;

/* A metric label. Borrowed for the duration of the call. A `labels` array argument may be
 * NULL when its count is 0. */
typedef struct laforge_label {
    const char *name;
    const char *value;
} laforge_label;

/* ---------------------------------------------------------------------------------------------
 * Host services, passed to every create()
 *
 * All function pointers are non-NULL in ABI 1.0. `host_ctx` identifies the instance on the host
 * side and must be passed back unchanged. The table stays valid until destroy() returns. Every
 * callback may be called from any thread, concurrently, from inside any plugin function.
 * ------------------------------------------------------------------------------------------- */

typedef struct laforge_host_api {
    uint32_t struct_size;
    void *host_ctx;

    /* Writes a log line attributed to this instance. `message` is borrowed, UTF-8. Never pass
     * secret values: the host cannot redact what it does not know is secret. */
    void (*log)(void *host_ctx, int32_t level, const char *message);

    /* Metrics, named in Prometheus style (`laforge_sink_bytes_total`), with borrowed labels.
     * The host prefixes nothing and owns registration: using one name with two kinds is
     * reported once in the log and the second kind's samples are dropped. */
    void (*counter_add)(void *host_ctx, const char *name, const laforge_label *labels,
                        size_t label_count, double delta);
    void (*gauge_set)(void *host_ctx, const char *name, const laforge_label *labels,
                      size_t label_count, double value);
    void (*histogram_observe)(void *host_ctx, const char *name, const laforge_label *labels,
                              size_t label_count, double value);

    /* Resolves a secret by reference ("BACKEND/NAME", or "NAME" when the configuration has one
     * secret backend) through the host's configured secret backends, so a sink can fetch its
     * database password without knowing KMS. On LAFORGE_OK `out` holds the value, which the
     * plugin must give back to release_secret (the host zeroes it). Do not call it from inside
     * a secret backend's own functions. On failure, `out` is zeroed
     * and the status says why (LAFORGE_NOT_FOUND, LAFORGE_ACCESS_DENIED, LAFORGE_RETRY, ...). */
    int32_t (*resolve_secret)(void *host_ctx, const char *reference, laforge_buffer *out);
    void (*release_secret)(void *host_ctx, laforge_buffer *buffer);

    /* ---- ABI 1.1 (read only when struct_size covers it, or when your abi_minor is >= 1) ---- */

    /* The configuration's `mode`: LAFORGE_MODE_DEVELOPMENT or LAFORGE_MODE_PRODUCTION. In
     * production a plugin refuses settings that weaken security (e.g. skipping TLS verification)
     * with LAFORGE_INVALID_ARGUMENT from create. */
    uint32_t mode;
} laforge_host_api;

typedef enum laforge_mode {
    LAFORGE_MODE_DEVELOPMENT = 1,
    LAFORGE_MODE_PRODUCTION = 2
} laforge_mode;

LAFORGE_STATIC_ASSERT(LAFORGE_MODE_DEVELOPMENT == 1 && LAFORGE_MODE_PRODUCTION == 2, modes_pinned);

/* ---------------------------------------------------------------------------------------------
 * Audit sink capability
 *
 * The host owns ordering, batching, retries with backoff, dead-lettering and metrics; a sink only
 * turns a batch of records into its system's write. Records arrive in increasing `seq` order; a
 * batch may be re-sent after RETRY or after a crash, so the sink must be idempotent by (chain_id,
 * seq) or by hash: storing a record twice must have the effect of storing it once.
 * ------------------------------------------------------------------------------------------- */

typedef enum laforge_record_kind {
    /* A chained audit entry: `data` is its RFC 8785 canonical JSON, an object whose top-level
     * "seq" equals the record's seq (docs/AUDIT.md shows the format); `hash` its leaf hash. */
    LAFORGE_RECORD_ENTRY = 1,
    /* A signed checkpoint (C2SP tlog-checkpoint note) covering entries [0, seq): `data` is the
     * note text; `hash` the Merkle root. Store it so the sink can be verified on its own. */
    LAFORGE_RECORD_CHECKPOINT = 2
} laforge_record_kind;

LAFORGE_STATIC_ASSERT(LAFORGE_RECORD_ENTRY == 1 && LAFORGE_RECORD_CHECKPOINT == 2,
                      record_kinds_pinned);

typedef struct laforge_audit_record {
    uint32_t struct_size;
    uint32_t kind;             /* laforge_record_kind. A 1.0 plugin only receives 1.0 kinds. */
    uint64_t seq;              /* entry: its sequence number (0-based); checkpoint: tree size */
    const uint8_t *hash;       /* 32 bytes: entry leaf hash / checkpoint root hash */
    const uint8_t *prev_hash;  /* entry: 32 bytes, the previous entry's hash; checkpoint: NULL */
    const char *data;          /* canonical bytes, UTF-8, exactly `data_len` bytes (not NUL-
                                  terminated by contract; store them byte for byte) */
    size_t data_len;
} laforge_audit_record;

typedef struct laforge_audit_batch {
    uint32_t struct_size;
    const char *chain_id;                        /* NUL-terminated, stable per journal */
    const laforge_audit_record *const *records;  /* `count` pointers, seq ascending */
    size_t count;
} laforge_audit_batch;

typedef struct laforge_audit_sink_vtable {
    uint32_t struct_size;
    /* LAFORGE_THREADING_SERIAL or LAFORGE_THREADING_CONCURRENT (for write, flush, health,
     * read_back and reopen). */
    uint32_t threading;

    /* JSON Schema (draft 2020-12 subset, see docs/ABI.md) of this capability's configuration,
     * as NUL-terminated JSON text, static for the life of the library. The host validates the
     * user's config against it, applies `default`s, and passes the normalized JSON to create.
     * Mark secret string properties with "x-laforge-secret": true so the host redacts them.
     * NULL means the capability takes no configuration (only `{}` is accepted). */
    const char *config_schema;

    /* Creates an instance. `config_json` (borrowed, NUL-terminated, `config_len` bytes) is the
     * validated, normalized configuration as RFC 8785 canonical JSON; `host` stays valid until
     * destroy. On success returns LAFORGE_OK with *out set. On failure returns a status and may
     * still set *out so the host can read last_error(*out); the host then calls destroy(*out)
     * and nothing else. Status: LAFORGE_INVALID_ARGUMENT for a config the plugin cannot use,
     * LAFORGE_ACCESS_DENIED for rejected credentials, LAFORGE_RETRY when a server it must reach
     * at start is unavailable (start-up fails with that message; a later start may succeed).
     * Never called concurrently with anything on the same instance. */
    int32_t (*create)(const char *config_json, size_t config_len, const laforge_host_api *host,
                      laforge_instance **out);

    /* Stores a batch (borrowed for the call). Returns LAFORGE_OK when every record is durably
     * stored. Otherwise `*stored` (set to 0 by the host) says how many leading records were
     * stored; with LAFORGE_RETRY the host re-sends the rest later, with
     * LAFORGE_PERMANENT_ERROR the record at index *stored is the one that can never be stored:
     * the host dead-letters it and continues after it. With LAFORGE_ACCESS_DENIED (ABI 1.1) the
     * sink as a whole refuses this host until an operator acts (credentials rejected, privilege
     * missing, database or index gone): the host keeps the rest, reports last_error as an
     * error, and re-sends it with backoff; nothing is dead-lettered for it. A 1.0 host treats
     * it as a contract violation, which also keeps the records. An empty batch (count 0) must succeed.
     * Any other status, or *stored out of range, breaks the contract: the host keeps the
     * records, logs the violation and retries the batch later, never counting it delivered. */
    int32_t (*write)(laforge_instance *instance, const laforge_audit_batch *batch,
                     size_t *stored);

    /* Makes everything written so far durable (fsync, commit, drain). May be NULL when write
     * already is durable. Same status meaning as write. */
    int32_t (*flush)(laforge_instance *instance);

    /* Cheap liveness probe: LAFORGE_OK healthy, LAFORGE_RETRY degraded (reason in last_error).
     * May be NULL. */
    int32_t (*health)(laforge_instance *instance);

    /* The message for the most recent failed call on this instance, NUL-terminated UTF-8,
     * plugin-owned, valid until the next call on the instance. Never NULL (return "" when
     * there is none). Must never contain secret values. The host calls it on the same thread
     * right after the failing call and copies the string at once. For a CONCURRENT vtable keep
     * the message per thread (`__thread` / `_Thread_local` storage), so each caller reads its own
     * failure; a plugin that keeps one buffer per instance instead must keep it NUL-terminated
     * within its size at every moment (written under a lock): the host may then report another
     * thread's message, or a mix of two, but never reads past the buffer. */
    const char *(*last_error)(laforge_instance *instance);

    /* Frees the instance. Called exactly once per instance that create() handed out (also after
     * a failed create), after every other call on it has returned. */
    void (*destroy)(laforge_instance *instance);

    /* ---- ABI 1.1 (NULL or absent in a 1.0 vtable: the sink cannot be read back) ---- */

    /* Reads back what this instance stored, so `laforge verify chain --sink` and
     * `laforge audit query --sink` work on the sink's storage alone. Calls `visit` once per
     * stored record of chain `chain_id` (NUL-terminated; NULL when the host does not know it: then
     * read the one chain stored, or fail with LAFORGE_INVALID_ARGUMENT naming the chains found)
     * with entries of seq >= `from_seq` in increasing seq order and each checkpoint of tree size
     * > `from_seq` right after the entry that completes it (size N after entry N - 1); when
     * `from_seq` is 0, the checkpoint of size 0 comes first, before entry 0. Records and `location` are borrowed for the call to `visit` only. In a
     * record, `data`/`data_len` are the stored bytes exactly as written; `hash` and `prev_hash`
     * may be NULL (the host recomputes everything from `data`); a sink that stores them apart
     * from `data` (a table's columns) passes what it stored, and the host fails verification
     * when they are not what `data` gives (queries over the sink read those copies). `location` is where a person
     * finds the record in the sink, e.g. "table audit.entries, seq 41". `visit` returns 0 to go
     * on and non-zero to stop: read_back then returns LAFORGE_OK at once. Returns LAFORGE_OK
     * after the last record; LAFORGE_RETRY when the storage is unreachable; another status with
     * last_error for anything else. Called like write (same threading), never concurrently with
     * write on the same instance. */
    int32_t (*read_back)(laforge_instance *instance, const char *chain_id, uint64_t from_seq,
                         int32_t (*visit)(void *visit_ctx, const laforge_audit_record *record,
                                          const char *location),
                         void *visit_ctx);

    /* ---- ABI 1.2 (NULL or absent in a 1.0/1.1 vtable: the sink has nothing to reopen) ---- */

    /* Closes and reopens what the sink holds open by name (files, sockets to a path), because an
     * operator moved it: the host calls it when the process receives SIGHUP (logrotate's
     * postrotate) or when asked to. The plugin never installs a signal handler for this (rule 6).
     * Called like write (same threading, through the same serialization), never concurrently
     * with write on a SERIAL instance. Returns LAFORGE_OK when reopened; LAFORGE_RETRY when the
     * new file or connection cannot be opened yet (last_error says why; the next write tries
     * again and must not lose or duplicate records); another status with last_error for anything
     * else. A sink that opens nothing by name leaves it NULL. */
    int32_t (*reopen)(laforge_instance *instance);
} laforge_audit_sink_vtable;

/* ---------------------------------------------------------------------------------------------
 * Secret backend capability
 *
 * Reads secrets by name and performs key operations (envelope encryption): the key material of
 * a KMS never leaves it; data keys and secrets handed to the host come back through release(),
 * which must zero them. `context` arguments are RFC 8785 canonical JSON objects of string values
 * (an AWS encryption context; GCP/Azure use the bytes as additional authenticated data); the
 * same context must be given to decrypt. Every output buffer is released through release().
 * ------------------------------------------------------------------------------------------- */

typedef struct laforge_secret_backend_vtable {
    uint32_t struct_size;
    /* LAFORGE_THREADING_SERIAL or LAFORGE_THREADING_CONCURRENT (for all but create/destroy). */
    uint32_t threading;
    /* As for the audit sink. */
    const char *config_schema;
    int32_t (*create)(const char *config_json, size_t config_len, const laforge_host_api *host,
                      laforge_instance **out);

    /* Reads the secret `name` (borrowed). On LAFORGE_OK `out` holds the value. NULL when the
     * backend only offers key operations. */
    int32_t (*get_secret)(laforge_instance *instance, const char *name, laforge_buffer *out);

    /* Encrypts `plaintext` under key `key_id` (borrowed, NUL-terminated; NULL = the configured
     * default key) bound to `context` (may be empty). `out` receives a self-describing
     * ciphertext blob that decrypt accepts. encrypt and decrypt are both set or both NULL. */
    int32_t (*encrypt)(laforge_instance *instance, const char *key_id, laforge_bytes plaintext,
                       laforge_bytes context, laforge_buffer *out);
    int32_t (*decrypt)(laforge_instance *instance, const char *key_id, laforge_bytes ciphertext,
                       laforge_bytes context, laforge_buffer *out);

    /* Returns a fresh random data key of `key_len` bytes in `plaintext_key` and the same key
     * wrapped by `key_id` in `wrapped_key` (decrypt(wrapped_key) == plaintext_key). May be NULL:
     * the host then generates the key and calls encrypt. */
    int32_t (*generate_data_key)(laforge_instance *instance, const char *key_id, size_t key_len,
                                 laforge_bytes context, laforge_buffer *plaintext_key,
                                 laforge_buffer *wrapped_key);

    /* Zeroes and frees a buffer this instance produced. Called exactly once per filled buffer,
     * possibly from another thread than the one that produced it. Never NULL. */
    void (*release)(laforge_instance *instance, laforge_buffer *buffer);

    /* As for the audit sink: the message of the most recent failure, never NULL, never a
     * secret value; per thread for a CONCURRENT vtable. */
    const char *(*last_error)(laforge_instance *instance);
    /* As for the audit sink: called once, after every other call on the instance returned;
     * must zero any secret the instance still holds. */
    void (*destroy)(laforge_instance *instance);
} laforge_secret_backend_vtable;

/* ---------------------------------------------------------------------------------------------
 * IdP connector capability (ABI 1.1)
 *
 * Shaped on Dex's connector interfaces: a connector turns what an identity provider hands out
 * into one identity the host can map to roles. The host owns everything after that: role
 * mapping, authorization decisions, audit of denials, and the token cache on disk.
 *
 * Every input and output crossing this vtable is UTF-8 JSON text (an object), so the contract
 * grows by new keys, never by new arguments. Unknown keys are ignored by both sides.
 *
 * The identity object (validate_token, and "identity" inside a session):
 *     {"subject": "...", "username": "...", "email": "...", "email_verified": true,
 *      "groups": ["..."], "tenant": "...", "issuer": "...", "expires_at": 1700000000,
 *      "claims": {...every claim as received...}}
 * `subject` and `issuer` are required; the others are omitted when the provider gave none.
 * `groups` are already filtered/prefixed by the connector's own claim mapping.
 *
 * The session object (login_callback, refresh, device_poll):
 *     {"identity": {...}, "access_token": "...", "id_token": "...", "refresh_token": "...",
 *      "token_type": "Bearer", "expires_at": 1700000000, "connector_data": "..."}
 * `connector_data` is opaque to the host: it keeps it (in its token cache, mode 0600) and hands
 * it back to refresh unchanged. Sessions hold secrets: release() must zero them.
 * ------------------------------------------------------------------------------------------- */

typedef struct laforge_idp_connector_vtable {
    uint32_t struct_size;
    /* LAFORGE_THREADING_SERIAL or LAFORGE_THREADING_CONCURRENT (for all but create/destroy).
     * A connector that caches keys should be CONCURRENT: every request validates a token. */
    uint32_t threading;
    /* As for the audit sink. Mark client secrets "x-laforge-secret": true. */
    const char *config_schema;
    /* As for the audit sink. LAFORGE_RETRY when the provider cannot be reached at start
     * (discovery), LAFORGE_INVALID_ARGUMENT for a config it cannot use. */
    int32_t (*create)(const char *config_json, size_t config_len, const laforge_host_api *host,
                      laforge_instance **out);

    /* Validates a bearer token (`token`, borrowed, the bytes after "Bearer "): signature, issuer,
     * audience, lifetime, and whatever else the provider's rules need. On LAFORGE_OK `identity`
     * holds the identity object. LAFORGE_ACCESS_DENIED when the token is not acceptable; then
     * last_error says precisely why ("token expired at ... (now ..., skew 30 s)"), and never
     * contains the token. LAFORGE_RETRY when the provider (keys, userinfo) cannot be reached.
     * Required. */
    int32_t (*validate_token)(laforge_instance *instance, laforge_bytes token,
                              laforge_buffer *identity);

    /* Starts an interactive login (authorization code + PKCE). `request_json` (borrowed,
     * NUL-terminated) is {"redirect_uri": "http://127.0.0.1:PORT/callback", "scopes": [...]}.
     * On LAFORGE_OK `out` holds {"authorization_url": "...", "state": "...", "flow_data": "..."}:
     * the host sends the user to authorization_url and later passes `state` and `flow_data`
     * (opaque; it holds the PKCE verifier, so it is secret) back to login_callback.
     * login_start and login_callback are both set or both NULL (no browser login). */
    int32_t (*login_start)(laforge_instance *instance, const char *request_json,
                           laforge_buffer *out);
    /* Finishes it: `request_json` is {"redirect_uri": ..., "state": ..., "flow_data": ...,
     * "callback_query": "code=...&state=..."} (the query string the provider redirected to).
     * The connector checks the state, redeems the code with the verifier and validates what it
     * received. On LAFORGE_OK `out` holds a session object. */
    int32_t (*login_callback)(laforge_instance *instance, const char *request_json,
                              laforge_buffer *out);

    /* Renews a session: `connector_data` (borrowed) is what a previous session carried. On
     * LAFORGE_OK `out` holds a new session object (possibly with new connector_data, which
     * replaces the old). LAFORGE_ACCESS_DENIED when the provider refused (revoked, expired):
     * the host then asks the user to log in again. May be NULL (sessions cannot be renewed). */
    int32_t (*refresh)(laforge_instance *instance, laforge_bytes connector_data,
                       laforge_buffer *out);

    /* Device authorization grant (RFC 8628), for machines without a browser. device_start's
     * `request_json` is {"scopes": [...]}; on LAFORGE_OK `out` holds {"user_code": ...,
     * "verification_uri": ..., "verification_uri_complete": ..., "interval": 5,
     * "expires_at": ..., "flow_data": "..."}. device_poll takes {"flow_data": ...} and returns
     * LAFORGE_OK with a session object, LAFORGE_RETRY while the user has not approved yet
     * (last_error says "authorization_pending" or "slow_down"; the host waits `interval`
     * seconds, longer after slow_down), LAFORGE_ACCESS_DENIED when denied or expired. Both set
     * or both NULL. The host never polls faster than `interval`. */
    int32_t (*device_start)(laforge_instance *instance, const char *request_json,
                            laforge_buffer *out);
    int32_t (*device_poll)(laforge_instance *instance, const char *request_json,
                           laforge_buffer *out);

    /* Zeroes and frees a buffer this instance produced (identities, sessions, flow starts).
     * Called exactly once per filled buffer, possibly from another thread. Never NULL. */
    void (*release)(laforge_instance *instance, laforge_buffer *buffer);
    /* As for the audit sink: never NULL, never a token or secret; per thread when CONCURRENT. */
    const char *(*last_error)(laforge_instance *instance);
    /* As for the audit sink. */
    void (*destroy)(laforge_instance *instance);
} laforge_idp_connector_vtable;

/* ---------------------------------------------------------------------------------------------
 * Host information and the plugin descriptor
 * ------------------------------------------------------------------------------------------- */

/* What the host tells the plugin about itself. Borrowed for the duration of the entry call. */
typedef struct laforge_host_info {
    uint32_t struct_size;
    uint16_t abi_major;        /* LAFORGE_ABI_VERSION_MAJOR of the host */
    uint16_t abi_minor;        /* LAFORGE_ABI_VERSION_MINOR of the host */
    const char *host_version;  /* e.g. "0.1.0" */
} laforge_host_info;

/* What the plugin declares. Static storage, valid for the life of the library (which the host
 * never unloads). The first three fields are frozen for every future ABI major. */
typedef struct laforge_plugin_descriptor {
    uint32_t struct_size;
    uint16_t abi_major;        /* LAFORGE_ABI_VERSION_MAJOR the plugin was built against */
    uint16_t abi_minor;        /* LAFORGE_ABI_VERSION_MINOR the plugin was built against: the
                                  lowest host minor it loads into, and what it understands (the
                                  host never sends it record kinds or fields of a later minor) */

    const char *name;          /* short identifier, [a-z0-9][a-z0-9_-]*, <= 64 characters */
    const char *version;       /* the plugin's own version, semver */
    const char *description;   /* one line */
    const char *license;       /* SPDX expression, e.g. "Apache-2.0" */

    uint64_t capabilities;     /* LAFORGE_CAP_* bits, each with its vtable below */
    const laforge_audit_sink_vtable *audit_sink;
    const laforge_secret_backend_vtable *secret_backend;
    /* ---- ABI 1.1 (absent in a 1.0-sized descriptor: read as NULL) ---- */
    const laforge_idp_connector_vtable *idp_connector;
    /* Later minors append their capability vtables here. */
} laforge_plugin_descriptor;

/* The entry point every plugin exports under LAFORGE_PLUGIN_ENTRY_SYMBOL:
 *
 *     LAFORGE_EXPORT const laforge_plugin_descriptor *
 *     laforge_plugin_entry(const laforge_host_info *host, const char **refusal);
 *
 * Returns the plugin's descriptor, or NULL to refuse this host (too old, missing a feature),
 * in which case *refusal may be pointed at a static NUL-terminated reason. Called once per
 * load, before anything else, from one thread. Must not allocate per-call state that needs
 * freeing: the descriptor is static. */
typedef const laforge_plugin_descriptor *(*laforge_plugin_entry_fn)(
    const laforge_host_info *host, const char **refusal);

/* Sizes of the 1.0 structs. A plugin whose descriptor or vtables are smaller than these was not
 * built against a 1.0 header and is refused. Later minors only grow these. */
#define LAFORGE_DESCRIPTOR_SIZE_1_0 \
    (offsetof(laforge_plugin_descriptor, secret_backend) + sizeof(void *))
#define LAFORGE_AUDIT_SINK_VTABLE_SIZE_1_0 \
    (offsetof(laforge_audit_sink_vtable, destroy) + sizeof(void *))
#define LAFORGE_SECRET_BACKEND_VTABLE_SIZE_1_0 \
    (offsetof(laforge_secret_backend_vtable, destroy) + sizeof(void *))
#define LAFORGE_HOST_API_SIZE_1_0 \
    (offsetof(laforge_host_api, release_secret) + sizeof(void *))
/* Sizes of the 1.1 additions. */
#define LAFORGE_DESCRIPTOR_SIZE_1_1 \
    (offsetof(laforge_plugin_descriptor, idp_connector) + sizeof(void *))
#define LAFORGE_IDP_CONNECTOR_VTABLE_SIZE_1_1 \
    (offsetof(laforge_idp_connector_vtable, destroy) + sizeof(void *))
#define LAFORGE_AUDIT_SINK_VTABLE_SIZE_1_1 \
    (offsetof(laforge_audit_sink_vtable, read_back) + sizeof(void *))
/* Sizes of the 1.2 additions. */
#define LAFORGE_AUDIT_SINK_VTABLE_SIZE_1_2 \
    (offsetof(laforge_audit_sink_vtable, reopen) + sizeof(void *))

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LAFORGE_PLUGIN_H */
