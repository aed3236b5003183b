-- PostgreSQL roles for a deployment (docs/deploy.md). Run as a superuser, once:
--   psql -v app_password="'...'" -v owner_password="'...'" -f deploy/postgres.sql
-- crm_owner owns the schema and runs the migrations (and `flask audit purge`);
-- crm_app is what the web servers and the scheduler connect as: it may read and write the
-- records, but only read and append to the audit log (the trigger refuses updates and deletes
-- anyway; without ownership it cannot TRUNCATE, DROP or disable the trigger either).
CREATE ROLE crm_owner LOGIN PASSWORD :owner_password;
CREATE ROLE crm_app LOGIN PASSWORD :app_password;
CREATE DATABASE crm OWNER crm_owner ENCODING 'UTF8' TEMPLATE template0;
\connect crm
ALTER SCHEMA public OWNER TO crm_owner;
GRANT USAGE ON SCHEMA public TO crm_app;
ALTER DEFAULT PRIVILEGES FOR ROLE crm_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO crm_app;
ALTER DEFAULT PRIVILEGES FOR ROLE crm_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO crm_app;
-- The audit log is narrowed by `flask db upgrade` itself with CRM_DATABASE_APP_ROLE=crm_app
-- (REVOKE UPDATE, DELETE ON audit_entry FROM crm_app), after every upgrade and restore.
