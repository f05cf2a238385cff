-- PostgresAudit roles: an owner that owns the audit tables, a writer that may only add rows,
-- and a reader (auditors, `laforge verify chain --sink`, `laforge audit query --sink`).
-- docs/POSTGRES.md explains the model; the append-only triggers stop UPDATE/DELETE/TRUNCATE
-- even for the owner, the grants below keep the writer from even trying.
--
-- Run as a superuser (or a role with CREATEROLE) connected to the audit database:
--
--   psql "$ADMIN_DSN" -v ON_ERROR_STOP=1 \
--        -v schema=audit -v owner=laforge_audit_owner -v writer=laforge_audit_writer \
--        -v reader=laforge_audit_reader -f config/examples/postgres-roles.sql
--
-- then give the login roles passwords without putting them on a command line:
--   psql "$ADMIN_DSN" -c '\password laforge_audit_owner'   (and the writer, the reader)
-- (a test or a script may pass -v owner_password=… -v writer_password=… -v reader_password=…).
--
-- Start LaForge once with the owner (manage_schema: true creates the tables), then run it with
-- the writer and manage_schema: false. Safe to run again (it only adds what is missing).

\set ON_ERROR_STOP on

-- The roles (LOGIN; no superuser, no CREATEDB, no CREATEROLE, no BYPASSRLS).
SELECT format('CREATE ROLE %I LOGIN', name)
FROM unnest(ARRAY[:'owner', :'writer', :'reader']) AS name
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = name) \gexec

-- Optional passwords (only the variables that are set).
\if :{?owner_password}
SELECT format('ALTER ROLE %I PASSWORD %L', :'owner', :'owner_password') \gexec
\endif
\if :{?writer_password}
SELECT format('ALTER ROLE %I PASSWORD %L', :'writer', :'writer_password') \gexec
\endif
\if :{?reader_password}
SELECT format('ALTER ROLE %I PASSWORD %L', :'reader', :'reader_password') \gexec
\endif

-- The schema belongs to the owner; nobody else may create objects in it.
CREATE SCHEMA IF NOT EXISTS :"schema" AUTHORIZATION :"owner";
REVOKE CREATE ON SCHEMA :"schema" FROM PUBLIC;
GRANT USAGE ON SCHEMA :"schema" TO :"writer", :"reader";

-- Tables the owner creates later (the plugin's migrations) get these grants automatically:
-- the writer reads (to skip re-sent rows) and inserts; the reader only reads.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA :"schema" GRANT SELECT, INSERT ON TABLES TO :"writer";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA :"schema" GRANT SELECT ON TABLES TO :"reader";

-- Tables that already exist: the same grants, and nothing more.
GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA :"schema" TO :"writer";
GRANT SELECT ON ALL TABLES IN SCHEMA :"schema" TO :"reader";
REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA :"schema" FROM :"writer", :"reader", PUBLIC;
