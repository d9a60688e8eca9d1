--
-- install: what CREATE EXTENSION zerodown creates
--
CREATE EXTENSION zerodown;

-- every member object of the extension
SELECT pg_describe_object(classid, objid, objsubid) AS object
  FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'zerodown')
   AND deptype = 'e'
 ORDER BY 1;

-- the extension lives in public (its functions), its tables in zerodown
SELECT e.extname, n.nspname AS extschema, e.extrelocatable
  FROM pg_extension e
  JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'zerodown';

-- the tables, the view and the sequence in the schema zerodown
SELECT c.relname, c.relkind
  FROM pg_class c
 WHERE c.relnamespace = 'zerodown'::regnamespace
   AND c.relkind IN ('r', 'v', 'S')
 ORDER BY c.relname;

-- the tables and the sequence whose rows pg_dump keeps
SELECT c.config_table
  FROM pg_extension e, unnest(e.extconfig::regclass[]) AS c(config_table)
 WHERE e.extname = 'zerodown'
 ORDER BY c.config_table::text;

-- the columns of zerodown.status
SELECT attnum, attname, format_type(atttypid, atttypmod) AS type
  FROM pg_attribute
 WHERE attrelid = 'zerodown.status'::regclass AND attnum > 0
 ORDER BY attnum;

-- every function is in the extension's schema, commented, and only
-- zd_version is executable by PUBLIC; deployers may run the others
SELECT p.oid::regprocedure AS function,
       p.pronamespace::regnamespace AS schema,
       obj_description(p.oid, 'pg_proc') IS NOT NULL AS commented,
       p.prosecdef AS security_definer,
       EXISTS (SELECT FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner)))
                WHERE grantee = 0 AND privilege_type = 'EXECUTE') AS public_execute,
       has_function_privilege('zerodown_deployer', p.oid, 'EXECUTE') AS deployer_execute
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
 WHERE d.refclassid = 'pg_extension'::regclass
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'zerodown')
   AND d.deptype = 'e'
 ORDER BY p.oid::regprocedure::text;

-- the deployer role exists, cannot log in, and may use the schema
SELECT rolname, rolcanlogin, rolsuper
  FROM pg_roles
 WHERE rolname = 'zerodown_deployer';
SELECT has_schema_privilege('zerodown_deployer', 'zerodown', 'USAGE') AS schema_usage,
       has_table_privilege('zerodown_deployer', 'zerodown.status', 'SELECT') AS status_select,
       has_table_privilege('zerodown_deployer', 'zerodown.history', 'UPDATE') AS history_update,
       has_table_privilege('zerodown_deployer', 'zerodown.history', 'DELETE') AS history_delete;

-- settings, with their defaults
SELECT name, setting, unit, context
  FROM pg_settings
 WHERE name LIKE 'zerodown.%'
 ORDER BY name;

-- an empty database stands at patch 0, with nothing registered
SELECT zd_version();
SELECT count(*) AS patches FROM zerodown.status;
SELECT count(*) AS history FROM zerodown.history;
SELECT count(*) AS vars FROM zerodown.vars;

DROP EXTENSION zerodown;
SELECT count(*) AS schemas_left FROM pg_namespace WHERE nspname = 'zerodown';
