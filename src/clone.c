/*-------------------------------------------------------------------------
 *
 * clone.c
 *	  zd_clone_schema: a copy of a schema, to rebuild on top of the latest
 *	  published data (seed 001's "production rollback").
 *
 * The copy is made from the catalogs the way pg_dump makes a dump: each
 * object's DDL comes from pg_get_*def and format('%I'), generated with
 * search_path = source, pg_catalog, so that the source's own objects come
 * out unqualified and anything else qualified; the DDL then runs with
 * search_path = target, pg_catalog, where the unqualified names mean the
 * copies.  That is how defaults using the schema's sequences, foreign keys
 * between its tables and views over its tables and views come to point at
 * the copies.  Both run in the same order, so a name means in the copy what
 * it meant in the source: a table named "text" makes pg_catalog's text come
 * out as pg_catalog.text.  The source may hold no function, operator or
 * type of its own (they are refused before anything is created), and the
 * queries that generate the DDL name every function and type of pg_catalog
 * with its schema, so nothing of the source's can stand in for them.
 *
 * Order: schema, sequences, tables, data (INSERT ... SELECT, every table
 * from one snapshot, so that the copies are consistent with each other),
 * constraints, sequence values and owners, foreign keys, views and
 * materialized views (in dependency order), indexes, column options and
 * replica identity, triggers, row security, comments, privileges, owners.
 * What cannot be copied is listed in one error before anything is created.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

#include "catalog.h"
#include "patch.h"
#include "publish.h"
#include "zerodown.h"

#define ZD_MAX_LISTED			50

/* one statement of the copy, and what it reports */
typedef struct CloneStep
{
	char	   *sql;
	char	   *object;			/* NULL: not reported */
	char	   *kind;
	bool		data;			/* copies rows: runs with the clone's snapshot */
} CloneStep;

/* a row of the result: an object created, and the rows copied into it */
typedef struct CloneResult
{
	char	   *object;
	char	   *kind;
	int64		rows;
	bool		has_rows;
} CloneResult;

/* the clone's arguments, for queries and messages */
typedef struct Clone
{
	char	   *source;
	char	   *target;
	Oid			source_oid;
	bool		structure_only;
	List	   *steps;			/* of CloneStep */
	List	   *results;		/* of CloneResult */
} Clone;

/* error context while a step runs */
typedef struct StepContext
{
	CloneStep  *step;
} StepContext;

PG_FUNCTION_INFO_V1(zd_clone_schema);

static void check_uncopyable(Clone *clone);
static void lock_source(Clone *clone);
static void collect(Clone *clone, const char *query);
static void run_steps(Clone *clone);
static void step_error_callback(void *arg);
static CloneResult *find_result(Clone *clone, const char *object);
static inline char *CheckName(FunctionCallInfo fcinfo, int arg, const char *what);

/*
 * Each query returns (statement, object, kind) with $1 the source schema's
 * oid, $2 the target's name, $3 the source's name and $4 structure_only;
 * they run under search_path = source, pg_catalog.
 */

/* the schema itself */
static const char *const q_schema =
"SELECT pg_catalog.format('CREATE SCHEMA %I', $2::pg_catalog.text), pg_catalog.format('%I', $2::pg_catalog.text), 'schema'";

/* sequences, but identity ones: the table creates those */
static const char *const q_sequences =
"SELECT pg_catalog.format('CREATE %sSEQUENCE %I AS %s INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s %s',"
"        CASE c.relpersistence WHEN 'u' THEN 'UNLOGGED ' ELSE '' END, c.relname,"
"        pg_catalog.format_type(s.seqtypid, NULL), s.seqincrement, s.seqmin, s.seqmax,"
"        s.seqstart, s.seqcache, CASE WHEN s.seqcycle THEN 'CYCLE' ELSE 'NO CYCLE' END),"
"       pg_catalog.format('%I.%I', $2::pg_catalog.text, c.relname), 'sequence'"
"  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid"
" WHERE c.relnamespace = $1 AND c.relkind = 'S'"
"   AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d"
"                    WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass"
"                      AND d.objid = c.oid AND d.deptype = 'i')"
" ORDER BY c.oid";

/* tables: columns with types, collations, identity, generation, defaults, NOT NULL */
static const char *const q_tables =
"SELECT pg_catalog.format('CREATE %sTABLE %I (%s)%s',"
"        CASE c.relpersistence WHEN 'u' THEN 'UNLOGGED ' ELSE '' END, c.relname,"
"        coalesce((SELECT pg_catalog.string_agg(pg_catalog.format('%I %s', a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod))"
"          || CASE WHEN a.attcollation <> t.typcollation THEN"
"               (SELECT pg_catalog.format(' COLLATE %I.%I', cn.nspname, co.collname)"
"                  FROM pg_catalog.pg_collation co"
"                  JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace"
"                 WHERE co.oid = a.attcollation)"
"             ELSE '' END"
"          || CASE WHEN a.attidentity IN ('a', 'd') THEN"
"               (SELECT pg_catalog.format(' GENERATED %s AS IDENTITY (SEQUENCE NAME %I INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s %s)',"
"                       CASE a.attidentity WHEN 'a' THEN 'ALWAYS' ELSE 'BY DEFAULT' END, sc.relname,"
"                       s.seqincrement, s.seqmin, s.seqmax, s.seqstart, s.seqcache,"
"                       CASE WHEN s.seqcycle THEN 'CYCLE' ELSE 'NO CYCLE' END)"
"                  FROM pg_catalog.pg_depend d"
"                  JOIN pg_catalog.pg_class sc ON sc.oid = d.objid"
"                  JOIN pg_catalog.pg_sequence s ON s.seqrelid = sc.oid"
"                 WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass"
"                   AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass"
"                   AND d.refobjid = c.oid AND d.refobjsubid = a.attnum AND d.deptype = 'i')"
"             ELSE '' END"
"          || CASE WHEN a.attgenerated = 's' THEN"
"               pg_catalog.format(' GENERATED ALWAYS AS (%s) STORED', pg_catalog.pg_get_expr(ad.adbin, ad.adrelid))"
"             WHEN ad.adbin IS NOT NULL THEN ' DEFAULT ' || pg_catalog.pg_get_expr(ad.adbin, ad.adrelid)"
"             ELSE '' END"
"          || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END,"
"          ', ' ORDER BY a.attnum)"
"            FROM pg_catalog.pg_attribute a"
"            JOIN pg_catalog.pg_type t ON t.oid = a.atttypid"
"            LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum"
"           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), ''),"
"        CASE WHEN c.reloptions IS NOT NULL"
"             THEN pg_catalog.format(' WITH (%s)', pg_catalog.array_to_string(c.reloptions, ', ')) ELSE '' END),"
"       pg_catalog.format('%I.%I', $2::pg_catalog.text, c.relname), 'table'"
"  FROM pg_catalog.pg_class c"
" WHERE c.relnamespace = $1 AND c.relkind = 'r'"
" ORDER BY c.oid";

/* the rows, with identity values kept */
static const char *const q_data =
"SELECT pg_catalog.format('INSERT INTO %I.%I (%s) %sSELECT %s FROM ONLY %I.%I',"
"        $2::pg_catalog.text, c.relname, x.cols, CASE WHEN x.always THEN 'OVERRIDING SYSTEM VALUE ' ELSE '' END,"
"        x.cols, $3::pg_catalog.text, c.relname),"
"       pg_catalog.format('%I.%I', $2::pg_catalog.text, c.relname), 'rows'"
"  FROM pg_catalog.pg_class c,"
"       LATERAL (SELECT pg_catalog.string_agg(pg_catalog.format('%I', a.attname), ', ' ORDER BY a.attnum) AS cols,"
"                       pg_catalog.bool_or(a.attidentity = 'a') AS always"
"                  FROM pg_catalog.pg_attribute a"
"                 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
"                   AND a.attgenerated = '') x"
" WHERE c.relnamespace = $1 AND c.relkind = 'r' AND x.cols IS NOT NULL AND NOT $4"
" ORDER BY c.oid";

/* primary keys, unique, exclusion and check constraints */
static const char *const q_constraints =
"SELECT pg_catalog.format('ALTER TABLE %I ADD CONSTRAINT %I %s', c.relname, k.conname,"
"              pg_catalog.pg_get_constraintdef(k.oid, true)),"
"       pg_catalog.format('%I on %I.%I', k.conname, $2::pg_catalog.text, c.relname),"
"       CASE k.contype WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique constraint'"
"            WHEN 'x' THEN 'exclusion constraint' ELSE 'check constraint' END"
"  FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_class c ON c.oid = k.conrelid"
" WHERE c.relnamespace = $1 AND c.relkind = 'r' AND k.contype IN ('p', 'u', 'x', 'c')"
" ORDER BY c.oid, k.oid";

/* per-column statistics targets, storage, compression and options; replica identity */
static const char *const q_column_options =
"SELECT pg_catalog.format('ALTER TABLE %I ALTER COLUMN %I SET STATISTICS %s', c.relname, a.attname, a.attstattarget), NULL, NULL"
"  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid"
" WHERE c.relnamespace = $1 AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped"
"   AND a.attstattarget >= 0"
" UNION ALL "
"SELECT pg_catalog.format('ALTER TABLE %I ALTER COLUMN %I SET STORAGE %s', c.relname, a.attname,"
"              CASE a.attstorage WHEN 'p' THEN 'PLAIN' WHEN 'e' THEN 'EXTERNAL'"
"                   WHEN 'm' THEN 'MAIN' ELSE 'EXTENDED' END), NULL, NULL"
"  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid"
"  JOIN pg_catalog.pg_type t ON t.oid = a.atttypid"
" WHERE c.relnamespace = $1 AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped"
"   AND a.attstorage <> t.typstorage"
" UNION ALL "
"SELECT pg_catalog.format('ALTER TABLE %I ALTER COLUMN %I SET COMPRESSION %s', c.relname, a.attname,"
"              CASE a.attcompression WHEN 'l' THEN 'lz4' ELSE 'pglz' END), NULL, NULL"
"  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid"
" WHERE c.relnamespace = $1 AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped"
"   AND a.attcompression <> ''"
" UNION ALL "
"SELECT pg_catalog.format('ALTER TABLE %I ALTER COLUMN %I SET (%s)', c.relname, a.attname, o.options), NULL, NULL"
"  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid,"
"       LATERAL (SELECT pg_catalog.string_agg(x, ', ') AS options FROM pg_catalog.unnest(a.attoptions) x"
"                 WHERE pg_catalog.split_part(x, '=', 1) IN ('n_distinct', 'n_distinct_inherited')) o"
" WHERE c.relnamespace = $1 AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped"
"   AND o.options IS NOT NULL"
" UNION ALL "
"SELECT pg_catalog.format('ALTER TABLE %I REPLICA IDENTITY %s', c.relname,"
"              CASE c.relreplident WHEN 'n' THEN 'NOTHING' WHEN 'f' THEN 'FULL'"
"                   ELSE (SELECT pg_catalog.format('USING INDEX %I', ic.relname)"
"                           FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid"
"                          WHERE i.indrelid = c.oid AND i.indisreplident) END), NULL, NULL"
"  FROM pg_catalog.pg_class c"
" WHERE c.relnamespace = $1 AND c.relkind = 'r' AND c.relreplident <> 'd'";

/* sequence values, read after the data was copied so they are never behind it */
static const char *const q_sequence_values =
"SELECT pg_catalog.format('SELECT pg_catalog.setval(%L::pg_catalog.regclass, last_value, is_called) FROM %I.%I',"
"              pg_catalog.format('%I.%I', $2::pg_catalog.text, c.relname), $3::pg_catalog.text, c.relname),"
"       NULL, NULL"
"  FROM pg_catalog.pg_class c"
" WHERE c.relnamespace = $1 AND c.relkind = 'S' AND NOT $4"
" ORDER BY c.oid";

/* serial columns own their sequences */
static const char *const q_sequence_owners =
"SELECT pg_catalog.format('ALTER SEQUENCE %I OWNED BY %I.%I', s.relname, t.relname, a.attname), NULL, NULL"
"  FROM pg_catalog.pg_class s"
"  JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass"
"   AND d.objid = s.oid AND d.deptype = 'a'"
"   AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjsubid > 0"
"  JOIN pg_catalog.pg_class t ON t.oid = d.refobjid"
"  JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid"
" WHERE s.relnamespace = $1 AND s.relkind = 'S' AND t.relnamespace = $1"
" ORDER BY s.oid";

static const char *const q_foreign_keys =
"SELECT pg_catalog.format('ALTER TABLE %I ADD CONSTRAINT %I %s', c.relname, k.conname,"
"              pg_catalog.pg_get_constraintdef(k.oid, true)),"
"       pg_catalog.format('%I on %I.%I', k.conname, $2::pg_catalog.text, c.relname), 'foreign key'"
"  FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_class c ON c.oid = k.conrelid"
" WHERE c.relnamespace = $1 AND c.relkind = 'r' AND k.contype = 'f'"
" ORDER BY c.oid, k.oid";

/* views and materialized views, each after the ones it uses */
static const char *const q_views =
"WITH RECURSIVE v AS ("
"  SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relnamespace = $1 AND c.relkind IN ('v', 'm')"
"), uses AS ("
"  SELECT DISTINCT r.ev_class AS view, d.refobjid AS used"
"    FROM pg_catalog.pg_rewrite r"
"    JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass"
"     AND d.objid = r.oid AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass"
"   WHERE r.ev_class IN (SELECT oid FROM v) AND d.refobjid IN (SELECT oid FROM v)"
"     AND d.refobjid <> r.ev_class"
"), depth(view, level) AS ("
"  SELECT oid, 0 FROM v"
"  UNION ALL"
"  SELECT u.view, depth.level + 1 FROM uses u JOIN depth ON u.used = depth.view"
"), ordered AS ("
"  SELECT view, pg_catalog.max(level) AS level FROM depth GROUP BY view"
")"
"SELECT CASE c.relkind WHEN 'v' THEN pg_catalog.format('CREATE VIEW %I%s AS %s', c.relname, x.opts, x.def)"
"       ELSE pg_catalog.format('CREATE MATERIALIZED VIEW %I%s AS %s WITH %sDATA', c.relname, x.opts, x.def,"
"                   CASE WHEN c.relispopulated AND NOT $4 THEN '' ELSE 'NO ' END) END,"
"       pg_catalog.format('%I.%I', $2::pg_catalog.text, c.relname),"
"       CASE c.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END"
"  FROM ordered o JOIN pg_catalog.pg_class c ON c.oid = o.view,"
"       LATERAL (SELECT pg_catalog.rtrim(pg_catalog.pg_get_viewdef(c.oid, true), E'; \\n') AS def,"
"                       CASE WHEN c.reloptions IS NOT NULL"
"                            THEN pg_catalog.format(' WITH (%s)', pg_catalog.array_to_string(c.reloptions, ', '))"
"                            ELSE '' END AS opts) x"
" ORDER BY o.level, c.oid";

/* indexes that no constraint made, on tables and materialized views */
static const char *const q_indexes =
"SELECT pg_catalog.pg_get_indexdef(i.indexrelid, 0, true),"
"       pg_catalog.format('%I.%I', $2::pg_catalog.text, ic.relname), 'index'"
"  FROM pg_catalog.pg_index i"
"  JOIN pg_catalog.pg_class c ON c.oid = i.indrelid"
"  JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid"
" WHERE c.relnamespace = $1 AND c.relkind IN ('r', 'm')"
"   AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint k"
"                    WHERE k.conrelid = c.oid AND k.conindid = i.indexrelid"
"                      AND k.contype IN ('p', 'u', 'x'))"
" UNION ALL "
"SELECT pg_catalog.format('ALTER %s %I CLUSTER ON %I', CASE c.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,"
"              c.relname, ic.relname), NULL, NULL"
"  FROM pg_catalog.pg_index i"
"  JOIN pg_catalog.pg_class c ON c.oid = i.indrelid"
"  JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid"
" WHERE c.relnamespace = $1 AND c.relkind IN ('r', 'm') AND i.indisclustered";

/*
 * triggers, created after the data so they do not fire on it, and their
 * state; never zerodown's dual-write triggers: a copy is no part of an
 * expansion, and its triggers would write the production tables
 */
static const char *const q_triggers =
"SELECT pg_catalog.pg_get_triggerdef(g.oid, true),"
"       pg_catalog.format('%I on %I.%I', g.tgname, $2::pg_catalog.text, c.relname), 'trigger'"
"  FROM pg_catalog.pg_trigger g JOIN pg_catalog.pg_class c ON c.oid = g.tgrelid"
" WHERE c.relnamespace = $1 AND NOT g.tgisinternal"
"   AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend x"
"                    WHERE x.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND x.objid = g.tgfoid"
"                      AND x.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND x.deptype = 'e'"
"                      AND x.refobjid = (SELECT e.oid FROM pg_catalog.pg_extension e WHERE e.extname = 'zerodown'))"
" UNION ALL "
"SELECT pg_catalog.format('ALTER TABLE %I %s TRIGGER %I', c.relname,"
"              CASE g.tgenabled WHEN 'D' THEN 'DISABLE' WHEN 'R' THEN 'ENABLE REPLICA'"
"                   ELSE 'ENABLE ALWAYS' END, g.tgname), NULL, NULL"
"  FROM pg_catalog.pg_trigger g JOIN pg_catalog.pg_class c ON c.oid = g.tgrelid"
" WHERE c.relnamespace = $1 AND NOT g.tgisinternal AND g.tgenabled <> 'O'"
"   AND c.relkind = 'r'"
"   AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend x"
"                    WHERE x.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND x.objid = g.tgfoid"
"                      AND x.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND x.deptype = 'e'"
"                      AND x.refobjid = (SELECT e.oid FROM pg_catalog.pg_extension e WHERE e.extname = 'zerodown'))";

/* row level security and its policies */
static const char *const q_policies =
"SELECT pg_catalog.format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', c.relname), NULL, NULL"
"  FROM pg_catalog.pg_class c WHERE c.relnamespace = $1 AND c.relkind = 'r' AND c.relrowsecurity"
" UNION ALL "
"SELECT pg_catalog.format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', c.relname), NULL, NULL"
"  FROM pg_catalog.pg_class c WHERE c.relnamespace = $1 AND c.relkind = 'r' AND c.relforcerowsecurity"
" UNION ALL "
"SELECT pg_catalog.format('CREATE POLICY %I ON %I AS %s FOR %s TO %s%s%s', p.polname, c.relname,"
"              CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,"
"              CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'"
"                   WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,"
"              (SELECT pg_catalog.string_agg(CASE WHEN r = 0 THEN 'PUBLIC'"
"                                      ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(r)) END, ', ')"
"                 FROM pg_catalog.unnest(p.polroles) r),"
"              CASE WHEN p.polqual IS NOT NULL"
"                   THEN pg_catalog.format(' USING (%s)', pg_catalog.pg_get_expr(p.polqual, p.polrelid)) ELSE '' END,"
"              CASE WHEN p.polwithcheck IS NOT NULL"
"                   THEN pg_catalog.format(' WITH CHECK (%s)', pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid)) ELSE '' END),"
"       pg_catalog.format('%I on %I.%I', p.polname, $2::pg_catalog.text, c.relname), 'policy'"
"  FROM pg_catalog.pg_policy p JOIN pg_catalog.pg_class c ON c.oid = p.polrelid"
" WHERE c.relnamespace = $1";

/* comments on the schema, relations, columns, constraints, triggers, policies */
static const char *const q_comments =
"SELECT pg_catalog.format('COMMENT ON SCHEMA %I IS %L', $2::pg_catalog.text, d.description), NULL, NULL"
"  FROM pg_catalog.pg_description d"
" WHERE d.classoid = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND d.objoid = $1"
" UNION ALL "
"SELECT CASE WHEN d.objsubid = 0 THEN"
"         pg_catalog.format('COMMENT ON %s %I IS %L',"
"                CASE c.relkind WHEN 'r' THEN 'TABLE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'"
"                     WHEN 'S' THEN 'SEQUENCE' ELSE 'INDEX' END, c.relname, d.description)"
"       ELSE pg_catalog.format('COMMENT ON COLUMN %I.%I IS %L', c.relname, a.attname, d.description) END,"
"       NULL, NULL"
"  FROM pg_catalog.pg_description d"
"  JOIN pg_catalog.pg_class c ON d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objoid = c.oid"
"  LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid"
" WHERE c.relnamespace = $1 AND c.relkind IN ('r', 'v', 'm', 'S', 'i')"
"   AND (d.objsubid = 0 OR NOT a.attisdropped)"
" UNION ALL "
"SELECT pg_catalog.format('COMMENT ON CONSTRAINT %I ON %I IS %L', k.conname, c.relname, d.description), NULL, NULL"
"  FROM pg_catalog.pg_description d"
"  JOIN pg_catalog.pg_constraint k ON d.classoid = 'pg_catalog.pg_constraint'::pg_catalog.regclass AND d.objoid = k.oid"
"  JOIN pg_catalog.pg_class c ON c.oid = k.conrelid"
" WHERE c.relnamespace = $1"
" UNION ALL "
"SELECT pg_catalog.format('COMMENT ON TRIGGER %I ON %I IS %L', g.tgname, c.relname, d.description), NULL, NULL"
"  FROM pg_catalog.pg_description d"
"  JOIN pg_catalog.pg_trigger g ON d.classoid = 'pg_catalog.pg_trigger'::pg_catalog.regclass AND d.objoid = g.oid"
"  JOIN pg_catalog.pg_class c ON c.oid = g.tgrelid"
" WHERE c.relnamespace = $1 AND NOT g.tgisinternal"
"   AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend x"
"                    WHERE x.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND x.objid = g.tgfoid"
"                      AND x.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND x.deptype = 'e'"
"                      AND x.refobjid = (SELECT e.oid FROM pg_catalog.pg_extension e WHERE e.extname = 'zerodown'))"
" UNION ALL "
"SELECT pg_catalog.format('COMMENT ON POLICY %I ON %I IS %L', p.polname, c.relname, d.description), NULL, NULL"
"  FROM pg_catalog.pg_description d"
"  JOIN pg_catalog.pg_policy p ON d.classoid = 'pg_catalog.pg_policy'::pg_catalog.regclass AND d.objoid = p.oid"
"  JOIN pg_catalog.pg_class c ON c.oid = p.polrelid"
" WHERE c.relnamespace = $1";

/* privileges granted to others than the owner: schema, relations, columns */
static const char *const q_grants =
"SELECT pg_catalog.format('GRANT %s ON SCHEMA %I TO %s%s', x.privilege_type, $2::pg_catalog.text,"
"              CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(x.grantee)) END,"
"              CASE WHEN x.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END), NULL, NULL"
"  FROM pg_catalog.pg_namespace n, LATERAL pg_catalog.aclexplode(n.nspacl) x"
" WHERE n.oid = $1 AND x.grantee <> n.nspowner"
" UNION ALL "
"SELECT pg_catalog.format('GRANT %s ON %s %I TO %s%s', x.privilege_type,"
"              CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, c.relname,"
"              CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(x.grantee)) END,"
"              CASE WHEN x.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END), NULL, NULL"
"  FROM pg_catalog.pg_class c, LATERAL pg_catalog.aclexplode(c.relacl) x"
" WHERE c.relnamespace = $1 AND c.relkind IN ('r', 'v', 'm', 'S') AND x.grantee <> c.relowner"
" UNION ALL "
"SELECT pg_catalog.format('GRANT %s (%I) ON TABLE %I TO %s%s', x.privilege_type, a.attname, c.relname,"
"              CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(x.grantee)) END,"
"              CASE WHEN x.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END), NULL, NULL"
"  FROM pg_catalog.pg_class c"
"  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped,"
"       LATERAL pg_catalog.aclexplode(a.attacl) x"
" WHERE c.relnamespace = $1 AND c.relkind IN ('r', 'v', 'm') AND x.grantee <> c.relowner";

/* the source's owners, where they differ from the cloning role */
static const char *const q_owners =
"SELECT pg_catalog.format('ALTER %s %I OWNER TO %I',"
"              CASE c.relkind WHEN 'r' THEN 'TABLE' WHEN 'v' THEN 'VIEW'"
"                   WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'SEQUENCE' END,"
"              c.relname, pg_catalog.pg_get_userbyid(c.relowner)), NULL, NULL"
"  FROM pg_catalog.pg_class c"
" WHERE c.relnamespace = $1 AND c.relkind IN ('r', 'v', 'm', 'S')"
"   AND c.relowner <> (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)"
"   AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d"
"                    WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid"
"                      AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass"
"                      AND d.deptype IN ('a', 'i') AND c.relkind = 'S')"
" UNION ALL "
"SELECT pg_catalog.format('ALTER SCHEMA %I OWNER TO %I', $2::pg_catalog.text, pg_catalog.pg_get_userbyid(n.nspowner)), NULL, NULL"
"  FROM pg_catalog.pg_namespace n"
" WHERE n.oid = $1 AND n.nspowner <> (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)";

/* what the copy cannot make: one line each */
static const char *const q_uncopyable =
"SELECT what FROM ("
"  SELECT pg_catalog.format('%s %I.%I', CASE c.relkind WHEN 'p' THEN 'partitioned table'"
"                WHEN 'f' THEN 'foreign table' ELSE 'composite type' END, $3::pg_catalog.text, c.relname) AS what"
"    FROM pg_catalog.pg_class c WHERE c.relnamespace = $1 AND c.relkind IN ('p', 'f', 'c')"
"  UNION ALL"
"  SELECT pg_catalog.format('partition %I.%I of %s', $3::pg_catalog.text, c.relname, i.inhparent::pg_catalog.regclass)"
"    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_inherits i ON i.inhrelid = c.oid"
"   WHERE c.relnamespace = $1 AND c.relispartition AND c.relkind IN ('r', 'f')"
"  UNION ALL"
"  SELECT pg_catalog.format('table %I.%I (inherits from %s)', $3::pg_catalog.text, c.relname, i.inhparent::pg_catalog.regclass)"
"    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_inherits i ON i.inhrelid = c.oid"
"   WHERE c.relnamespace = $1 AND NOT c.relispartition AND c.relkind = 'r'"
"  UNION ALL"
"  SELECT pg_catalog.format('typed table %I.%I (of type %s)', $3::pg_catalog.text, c.relname, c.reloftype::pg_catalog.regtype)"
"    FROM pg_catalog.pg_class c WHERE c.relnamespace = $1 AND c.reloftype <> 0"
"  UNION ALL"
"  SELECT pg_catalog.format('%s %s', CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate'"
"                WHEN 'w' THEN 'window function' ELSE 'function' END, p.oid::pg_catalog.regprocedure)"
"    FROM pg_catalog.pg_proc p WHERE p.pronamespace = $1"
"  UNION ALL"
"  SELECT pg_catalog.format('%s (%s)', pg_catalog.pg_describe_object('pg_catalog.pg_type'::pg_catalog.regclass, t.oid, 0),"
"                CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain' WHEN 'r' THEN 'range'"
"                     WHEN 'p' THEN 'pseudo-type' ELSE 'base type' END)"
"    FROM pg_catalog.pg_type t"
"   WHERE t.typnamespace = $1 AND t.typtype IN ('e', 'd', 'r', 'b', 'p')"
"     AND NOT EXISTS (SELECT FROM pg_catalog.pg_type e WHERE e.typarray = t.oid)"
"  UNION ALL"
"  SELECT pg_catalog.pg_describe_object(o.classid, o.objid, 0) FROM ("
"    SELECT 'pg_catalog.pg_operator'::pg_catalog.regclass AS classid, oid AS objid FROM pg_catalog.pg_operator WHERE oprnamespace = $1"
"    UNION ALL SELECT 'pg_catalog.pg_opclass'::pg_catalog.regclass, oid FROM pg_catalog.pg_opclass WHERE opcnamespace = $1"
"    UNION ALL SELECT 'pg_catalog.pg_opfamily'::pg_catalog.regclass, oid FROM pg_catalog.pg_opfamily WHERE opfnamespace = $1"
"    UNION ALL SELECT 'pg_catalog.pg_collation'::pg_catalog.regclass, oid FROM pg_catalog.pg_collation WHERE collnamespace = $1"
"    UNION ALL SELECT 'pg_catalog.pg_conversion'::pg_catalog.regclass, oid FROM pg_catalog.pg_conversion WHERE connamespace = $1"
"    UNION ALL SELECT 'pg_catalog.pg_ts_config'::pg_catalog.regclass, oid FROM pg_catalog.pg_ts_config WHERE cfgnamespace = $1"
"    UNION ALL SELECT 'pg_catalog.pg_ts_dict'::pg_catalog.regclass, oid FROM pg_catalog.pg_ts_dict WHERE dictnamespace = $1"
"    UNION ALL SELECT 'pg_catalog.pg_ts_parser'::pg_catalog.regclass, oid FROM pg_catalog.pg_ts_parser WHERE prsnamespace = $1"
"    UNION ALL SELECT 'pg_catalog.pg_ts_template'::pg_catalog.regclass, oid FROM pg_catalog.pg_ts_template WHERE tmplnamespace = $1"
"    UNION ALL SELECT 'pg_catalog.pg_statistic_ext'::pg_catalog.regclass, oid FROM pg_catalog.pg_statistic_ext WHERE stxnamespace = $1"
"  ) o"
"  UNION ALL"
"  SELECT pg_catalog.format('rule %I on %I.%I', r.rulename, $3::pg_catalog.text, c.relname)"
"    FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class"
"   WHERE c.relnamespace = $1 AND r.rulename <> '_RETURN'"
"  UNION ALL"
"  SELECT pg_catalog.format('sequence %I.%I (owned by column %I of %s, outside the schema)', $3::pg_catalog.text, s.relname,"
"                a.attname, t.oid::pg_catalog.regclass)"
"    FROM pg_catalog.pg_class s"
"    JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass"
"     AND d.objid = s.oid AND d.deptype = 'a'"
"     AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjsubid > 0"
"    JOIN pg_catalog.pg_class t ON t.oid = d.refobjid"
"    JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid"
"   WHERE s.relnamespace = $1 AND s.relkind = 'S' AND t.relnamespace <> $1"
"  UNION ALL"
"  SELECT pg_catalog.format('%s (member of extension %I)', pg_catalog.pg_describe_object(d.classid, d.objid, 0), e.extname)"
"    FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid"
"    JOIN pg_catalog.pg_class c ON c.oid = d.objid"
"   WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass"
"     AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass"
"     AND d.deptype = 'e' AND c.relnamespace = $1"
"  UNION ALL"
"  SELECT pg_catalog.format('table %I.%I (member of publication %I)', $3::pg_catalog.text, c.relname, p.pubname)"
"    FROM pg_catalog.pg_publication_rel r JOIN pg_catalog.pg_publication p ON p.oid = r.prpubid"
"    JOIN pg_catalog.pg_class c ON c.oid = r.prrelid"
"   WHERE c.relnamespace = $1"
"  UNION ALL"
"  SELECT pg_catalog.format('schema %I (member of publication %I)', $3::pg_catalog.text, p.pubname)"
"    FROM pg_catalog.pg_publication_namespace pn JOIN pg_catalog.pg_publication p ON p.oid = pn.pnpubid"
"   WHERE pn.pnnspid = $1"
") x ORDER BY what";

/*
 * zd_clone_schema(source name, target name, structure_only boolean)
 * returns table (object text, kind text, rows bigint)
 */
Datum
zd_clone_schema(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Clone	   *clone = palloc0(sizeof(Clone));
	ListCell   *lc;
	int			nestlevel;

	clone->source = CheckName(fcinfo, 0, "source");
	clone->target = CheckName(fcinfo, 1, "target");
	clone->structure_only = !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
	ZdCheckDeployer("clone a schema");
	InitMaterializedSRF(fcinfo, 0);

	if (strcmp(clone->source, clone->target) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source and target are the same schema \"%s\"", clone->source),
				 errhint("Name a new schema as target, for example '%s_staging'.", clone->source)));
	clone->source_oid = get_namespace_oid(clone->source, true);
	if (!OidIsValid(clone->source_oid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("source schema \"%s\" does not exist", clone->source),
				 errhint("Schema names are taken as written, without folding to lower case: pass 'Sales', not 'sales', for a schema created as \"Sales\".")));
	ZdCheckUserSchema(clone->source, clone->source_oid, "source");
	if (OidIsValid(get_namespace_oid(clone->target, true)))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_SCHEMA),
				 errmsg("target schema \"%s\" already exists", clone->target),
				 errdetail("zd_clone_schema creates the target schema; it never writes into an existing one."),
				 errhint("Drop it first (DROP SCHEMA %s CASCADE) if it is a leftover, or choose another name.",
						 quote_identifier(clone->target))));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	pgstat_report_activity(STATE_RUNNING,
						   psprintf("zerodown: cloning schema \"%s\" into \"%s\"",
									clone->source, clone->target));

	lock_source(clone);
	check_uncopyable(clone);

	/* generate every statement with the source's names unqualified */
	nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path",
							 psprintf("%s, pg_catalog", quote_identifier(clone->source)),
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	collect(clone, q_schema);
	collect(clone, q_sequences);
	collect(clone, q_tables);
	collect(clone, q_data);
	collect(clone, q_constraints);
	collect(clone, q_sequence_values);
	collect(clone, q_sequence_owners);
	collect(clone, q_foreign_keys);
	collect(clone, q_views);
	collect(clone, q_indexes);
	collect(clone, q_column_options);
	collect(clone, q_triggers);
	collect(clone, q_policies);
	collect(clone, q_comments);
	collect(clone, q_grants);
	collect(clone, q_owners);
	AtEOXact_GUC(true, nestlevel);

	run_steps(clone);

	foreach(lc, clone->results)
	{
		CloneResult *result = lfirst(lc);
		Datum		values[3];
		bool		nulls[3] = {false, false, !result->has_rows};

		values[0] = CStringGetTextDatum(result->object);
		values[1] = CStringGetTextDatum(result->kind);
		values[2] = Int64GetDatum(result->rows);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

/*
 * Lock the source's relations against changes (ACCESS SHARE, as a reader)
 * before their DDL is read, so that the definitions and the data copied
 * belong together.
 */
static void
lock_source(Clone *clone)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1];
	List	   *relids = NIL;
	List	   *denied = NIL;
	ListCell   *lc;
	uint64		i;
	int			ret;

	if (pg_namespace_aclcheck(clone->source_oid, GetUserId(), ACL_USAGE) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for schema \"%s\"", clone->source),
				 errdetail("Copying a schema reads every relation in it."),
				 errhint("The schema's owner can run: GRANT USAGE ON SCHEMA %s TO %s;",
						 quote_identifier(clone->source),
						 quote_identifier(GetUserNameFromId(GetUserId(), false)))));

	values[0] = ObjectIdGetDatum(clone->source_oid);
	ret = ZdExecutePinned("SELECT oid FROM pg_catalog.pg_class"
						  " WHERE relnamespace = $1 AND relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
						  " ORDER BY oid",
						  1, types, values, NULL, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not list the relations of schema \"%s\": %s",
			 clone->source, SPI_result_code_string(ret));
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		relids = lappend_oid(relids, DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
																	SPI_tuptable->tupdesc,
																	1, &isnull)));
	}

	/* every privilege first: no relation is locked that cannot be read */
	foreach(lc, relids)
	{
		Oid			relid = lfirst_oid(lc);

		if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
			denied = lappend(denied, quote_qualified_identifier(clone->source,
																 get_rel_name(relid)));
	}
	if (denied != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to copy schema \"%s\": %d %s cannot be read",
						clone->source, list_length(denied),
						list_length(denied) == 1 ? "relation" : "relations"),
				 errdetail("Nothing was created or locked. Relations without the SELECT privilege:\n%s",
						   ZdJoinLines(denied, ZD_MAX_LISTED)),
				 errhint("Run it as a role that may read the whole schema, or have their owners grant SELECT on them.")));
	foreach(lc, relids)
		LockRelationOid(lfirst_oid(lc), AccessShareLock);
}

/* everything the copy would miss, in one error, before anything is created */
static void
check_uncopyable(Clone *clone)
{
	Oid			types[3] = {OIDOID, TEXTOID, TEXTOID};
	Datum		values[3];
	List	   *lines = NIL;
	uint64		i;
	int			ret;

	values[0] = ObjectIdGetDatum(clone->source_oid);
	values[1] = CStringGetTextDatum(clone->target);
	values[2] = CStringGetTextDatum(clone->source);
	ret = ZdExecutePinned(q_uncopyable, 3, types, values, NULL, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not check schema \"%s\": %s", clone->source,
			 SPI_result_code_string(ret));
	for (i = 0; i < SPI_processed; i++)
		lines = lappend(lines, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
	if (lines != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("schema \"%s\" holds %d %s zd_clone_schema cannot copy",
						clone->source, list_length(lines),
						list_length(lines) == 1 ? "object" : "objects"),
				 errdetail("Nothing was created. Objects it cannot copy:\n%s",
						   ZdJoinLines(lines, ZD_MAX_LISTED)),
				 errhint("zd_clone_schema copies tables, sequences, views, materialized views, their indexes, constraints, triggers, policies, comments and privileges. Move the others to another schema (functions and types can live in a shared one), or copy the schema with pg_dump.")));
}

/* append the statements a query generates */
static void
collect(Clone *clone, const char *query)
{
	Oid			types[4] = {OIDOID, TEXTOID, TEXTOID, BOOLOID};
	Datum		values[4];
	uint64		i;
	int			ret;

	values[0] = ObjectIdGetDatum(clone->source_oid);
	values[1] = CStringGetTextDatum(clone->target);
	values[2] = CStringGetTextDatum(clone->source);
	values[3] = BoolGetDatum(clone->structure_only);
	ret = SPI_execute_with_args(query, 4, types, values, NULL, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read the definitions of schema \"%s\": %s",
			 clone->source, SPI_result_code_string(ret));
	for (i = 0; i < SPI_processed; i++)
	{
		CloneStep  *step = palloc(sizeof(CloneStep));

		step->sql = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		step->object = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		step->kind = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3);
		step->data = step->kind != NULL && strcmp(step->kind, "rows") == 0;
		if (step->sql == NULL)
			elog(ERROR, "could not generate the definition of %s", step->object ? step->object : "an object");
		clone->steps = lappend(clone->steps, step);
	}
}

/*
 * Run the statements with search_path = target, pg_catalog; the data is
 * read from one snapshot, taken before the first statement.
 */
static void
run_steps(Clone *clone)
{
	Snapshot	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	ListCell   *lc;
	int			nestlevel;
	StepContext sctx;
	ErrorContextCallback callback;

	nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path",
							 psprintf("%s, pg_catalog", quote_identifier(clone->target)),
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	callback.callback = step_error_callback;
	callback.arg = &sctx;
	callback.previous = error_context_stack;
	error_context_stack = &callback;

	foreach(lc, clone->steps)
	{
		CloneStep  *step = lfirst(lc);
		int			ret;

		sctx.step = step;
		if (step->data)
		{
			SPIPlanPtr	plan = SPI_prepare(step->sql, 0, NULL);
			CloneResult *result;

			if (plan == NULL)
				elog(ERROR, "could not prepare \"%s\": %s", step->sql,
					 SPI_result_code_string(SPI_result));
			ret = SPI_execute_snapshot(plan, NULL, NULL, snapshot, InvalidSnapshot,
									   false, false, 0);
			if (ret != SPI_OK_INSERT)
				elog(ERROR, "could not copy %s: %s", step->object, SPI_result_code_string(ret));
			result = find_result(clone, step->object);
			if (result != NULL)
			{
				result->rows = SPI_processed;
				result->has_rows = true;
			}
			SPI_freeplan(plan);
			continue;
		}

		ret = SPI_execute(step->sql, false, 0);
		if (ret < 0)
			elog(ERROR, "could not run \"%s\": %s", step->sql, SPI_result_code_string(ret));
		if (step->object != NULL && step->kind != NULL)
		{
			CloneResult *result = palloc0(sizeof(CloneResult));

			result->object = step->object;
			result->kind = step->kind;
			clone->results = lappend(clone->results, result);
		}
	}

	error_context_stack = callback.previous;
	AtEOXact_GUC(true, nestlevel);
	UnregisterSnapshot(snapshot);
}

static void
step_error_callback(void *arg)
{
	StepContext *sctx = (StepContext *) arg;

	if (sctx->step->object != NULL)
		errcontext("zd_clone_schema copying %s %s: %s",
				   strcmp(sctx->step->kind, "rows") == 0 ? "the rows of" : sctx->step->kind,
				   sctx->step->object, ZdAbbreviate(sctx->step->sql, 200));
	else
		errcontext("zd_clone_schema: %s", ZdAbbreviate(sctx->step->sql, 200));
}

static CloneResult *
find_result(Clone *clone, const char *object)
{
	ListCell   *lc;

	foreach(lc, clone->results)
	{
		CloneResult *result = lfirst(lc);

		if (strcmp(result->kind, "table") == 0 && strcmp(result->object, object) == 0)
			return result;
	}
	return NULL;
}

static inline char *
CheckName(FunctionCallInfo fcinfo, int arg, const char *what)
{
	char	   *name;

	if (PG_ARGISNULL(arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", what),
				 errhint("Pass a schema name for the argument \"%s\".", what)));
	name = pstrdup(NameStr(*PG_GETARG_NAME(arg)));
	if (name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", what),
				 errhint("Pass a schema name for the argument \"%s\".", what)));
	return name;
}
