/// The sink's tables, created and upgraded by numbered migrations, each applied once in one
/// transaction under an advisory lock (two hosts starting together do not race), and recorded
/// in `<table>_schema_version`. A server whose tables are already at this version needs no DDL
/// privilege at all, so the writer role can start a sink an owner has set up.
struct AuditTableSchema {
    let config: PostgresAuditConfig

    /// The newest migration this plugin knows.
    static let currentVersion = 1

    var versionTable: String { "\"\(config.schema)\".\"\(config.table)_schema_version\"" }
    private var versionTableName: String { "\(config.schema).\(config.table)_schema_version" }

    /// Checks the version, migrating when allowed; returns what happened for the log.
    func prepare(_ connection: PostgresConnection) throws(PostgresAuditError) -> String? {
        let found = try installedVersion(connection)
        if found == Self.currentVersion { return nil }
        if let found, found > Self.currentVersion {
            throw PostgresAuditError(
                Status.invalidArgument,
                "\(config.tableName) is at schema version \(found), newer than this PostgresAudit knows (\(Self.currentVersion)); upgrade the plugin")
        }
        guard config.manageSchema else {
            throw PostgresAuditError(
                Status.invalidArgument,
                "\(config.tableName) is \(found.map { "at schema version \($0), older than \(Self.currentVersion)" } ?? "not set up") "
                    + "and manage_schema is false: start once with manage_schema: true as the owner role, or apply docs/POSTGRES.md's schema")
        }
        do {
            try connection.execute("BEGIN")
            try connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", ["laforge-schema:\(config.tableName)"])
            try connection.execute(
                """
                DO $create$ BEGIN
                    -- Only when missing: CREATE SCHEMA checks the database privilege even with
                    -- IF NOT EXISTS, and an owner given a ready schema needs no such privilege.
                    IF to_regnamespace('"\(config.schema)"') IS NULL THEN
                        CREATE SCHEMA "\(config.schema)";
                    END IF;
                END $create$;
                CREATE TABLE IF NOT EXISTS \(versionTable) (
                    version integer PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now(),
                    description text NOT NULL)
                """)
            let rows = try connection.execute("SELECT coalesce(max(version), 0) FROM \(versionTable)")
            let atVersion = Int(rows.unsigned(0, 0) ?? 0)
            for (index, migration) in migrations.enumerated() where index + 1 > atVersion {
                try connection.execute(migration.sql)
                try connection.execute(
                    "INSERT INTO \(versionTable) (version, description) VALUES ($1, $2)", [String(index + 1), migration.description])
            }
            try connection.execute("COMMIT")
            return "\(config.tableName): schema migrated from version \(atVersion) to \(Self.currentVersion)"
        } catch {
            if connection.isUsable { _ = try? connection.execute("ROLLBACK") }
            throw PostgresAuditError(
                error.kind.createStatus,
                "cannot create or upgrade \(config.tableName) on \(connection.endpoint): \(error.message)"
                    + (error.kind == .accessDenied ? " (creating the tables needs the owner role; see config/examples/postgres-roles.sql)" : ""))
        }
    }

    private func installedVersion(_ connection: PostgresConnection) throws(PostgresAuditError) -> Int? {
        do {
            let exists = try connection.execute("SELECT to_regclass($1) IS NOT NULL", [versionTable])
            guard exists.string(0, 0) == "t" else { return nil }
            let rows = try connection.execute("SELECT coalesce(max(version), 0) FROM \(versionTable)")
            return Int(rows.unsigned(0, 0) ?? 0)
        } catch {
            throw PostgresAuditError(
                error.kind.createStatus,
                "cannot read \(versionTableName) on \(connection.endpoint): \(error.message)"
                    + (error.kind == .accessDenied ? " (grant the role USAGE on the schema and SELECT on the tables; see config/examples/postgres-roles.sql)" : ""))
        }
    }

    private var migrations: [(description: String, sql: String)] {
        let schema = "\"\(config.schema)\""
        let entries = config.qualifiedTable
        let checkpoints = config.qualifiedCheckpoints
        let table = config.table
        return [
            (
                "entries and checkpoints tables, query columns, append-only triggers",
                """
                CREATE TABLE \(entries) (
                    chain_id text NOT NULL,
                    seq bigint NOT NULL CHECK (seq >= 0),
                    hash bytea NOT NULL CHECK (octet_length(hash) = 32),
                    prev_hash bytea NOT NULL CHECK (octet_length(prev_hash) = 32),
                    canonical text NOT NULL,
                    entry jsonb,
                    event_time timestamptz,
                    actor text,
                    tenant text,
                    action text,
                    stored_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (chain_id, seq));
                COMMENT ON COLUMN \(entries).canonical IS
                    'the entry''s RFC 8785 bytes exactly as chained; verification reads this column, never the jsonb copy';
                CREATE INDEX "\(table)_event_time_idx" ON \(entries) (event_time);
                CREATE INDEX "\(table)_actor_idx" ON \(entries) (actor, event_time);
                CREATE INDEX "\(table)_tenant_idx" ON \(entries) (tenant, event_time);
                CREATE INDEX "\(table)_action_idx" ON \(entries) (action, event_time);

                CREATE TABLE \(checkpoints) (
                    chain_id text NOT NULL,
                    tree_size bigint NOT NULL CHECK (tree_size >= 0),
                    root_hash bytea NOT NULL CHECK (octet_length(root_hash) = 32),
                    note text NOT NULL,
                    stored_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (chain_id, tree_size));

                -- The query columns always come from the stored canonical text, whoever inserts.
                -- jsonb refuses \\u0000 inside strings: such an entry keeps its exact text only.
                CREATE OR REPLACE FUNCTION \(schema).laforge_fill_query_columns() RETURNS trigger
                LANGUAGE plpgsql AS $fill$
                DECLARE
                    parsed jsonb;
                BEGIN
                    IF strpos(NEW.canonical, '\\u0000') = 0 THEN
                        parsed := NEW.canonical::jsonb;
                    END IF;
                    NEW.entry := parsed;
                    NEW.event_time := (parsed #>> '{event,timestamp}')::timestamptz;
                    NEW.actor := parsed #>> '{event,actor,user}';
                    NEW.tenant := parsed #>> '{event,tenant}';
                    NEW.action := parsed #>> '{event,action}';
                    RETURN NEW;
                END
                $fill$;

                CREATE OR REPLACE FUNCTION \(schema).laforge_refuse_change() RETURNS trigger
                LANGUAGE plpgsql AS $refuse$
                BEGIN
                    RAISE EXCEPTION '% on %.% is refused: the LaForge audit trail is append-only',
                        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
                        USING HINT = 'entries and checkpoints are never changed or removed';
                END
                $refuse$;

                CREATE TRIGGER laforge_fill_query_columns BEFORE INSERT ON \(entries)
                    FOR EACH ROW EXECUTE FUNCTION \(schema).laforge_fill_query_columns();
                CREATE TRIGGER laforge_refuse_update_delete BEFORE UPDATE OR DELETE ON \(entries)
                    FOR EACH ROW EXECUTE FUNCTION \(schema).laforge_refuse_change();
                CREATE TRIGGER laforge_refuse_truncate BEFORE TRUNCATE ON \(entries)
                    FOR EACH STATEMENT EXECUTE FUNCTION \(schema).laforge_refuse_change();
                CREATE TRIGGER laforge_refuse_update_delete BEFORE UPDATE OR DELETE ON \(checkpoints)
                    FOR EACH ROW EXECUTE FUNCTION \(schema).laforge_refuse_change();
                CREATE TRIGGER laforge_refuse_truncate BEFORE TRUNCATE ON \(checkpoints)
                    FOR EACH STATEMENT EXECUTE FUNCTION \(schema).laforge_refuse_change();
                -- ENABLE ALWAYS: a session with session_replication_role = replica (which
                -- silences ordinary triggers) is refused too.
                ALTER TABLE \(entries) ENABLE ALWAYS TRIGGER laforge_fill_query_columns;
                ALTER TABLE \(entries) ENABLE ALWAYS TRIGGER laforge_refuse_update_delete;
                ALTER TABLE \(entries) ENABLE ALWAYS TRIGGER laforge_refuse_truncate;
                ALTER TABLE \(checkpoints) ENABLE ALWAYS TRIGGER laforge_refuse_update_delete;
                ALTER TABLE \(checkpoints) ENABLE ALWAYS TRIGGER laforge_refuse_truncate;
                """
            )
        ]
    }
}
