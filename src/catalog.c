/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  zerodown's tables, read and written through SPI, and who may change
 *	  them.  Callers are connected to SPI.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "deploy.h"
#include "patch.h"
#include "zerodown.h"

/* how a catalog statement was entered, to leave it the same way */
typedef struct CatalogScope
{
	Oid			userid;
	int			sec_context;
	int			nestlevel;
} CatalogScope;

static Oid	cached_owner = InvalidOid;
static LocalTransactionId cached_owner_lxid = InvalidLocalTransactionId;

static Oid	extension_owner(void);
static Oid	extension_schema(void);
static void catalog_enter(CatalogScope *scope, bool as_owner);
static int	execute_scoped(bool as_owner, const char *sql, int nargs,
						   Oid *types, Datum *values, const char *nulls,
						   long count);
static void catalog_leave(CatalogScope *scope, bool ok);
static SPIPlanPtr keep_plan(const char *query, int nargs, Oid *types);
static char *vars_json(List *vars);
static bool applied_has_vars(void);

/*
 * Registering, aligning and setting variables are for the extension's owner
 * and the members of zerodown_deployer.
 */
void
ZdCheckDeployer(const char *action)
{
	Oid			user = GetUserId();
	Oid			deployer = get_role_oid(ZD_DEPLOYER_ROLE, true);
	Oid			owner = extension_owner();

	if (superuser() ||
		(OidIsValid(owner) && has_privs_of_role(user, owner)) ||
		(OidIsValid(deployer) && has_privs_of_role(user, deployer)))
		return;

	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to %s", action),
			 errdetail("Only the owner of extension \"zerodown\" and members of role \"%s\" may %s.",
					   ZD_DEPLOYER_ROLE, action),
			 errhint("A superuser can run: GRANT %s TO %s;",
					 ZD_DEPLOYER_ROLE, quote_identifier(GetUserNameFromId(user, false)))));
}

/*
 * The owner of extension zerodown, who owns its tables: the only role that
 * writes them.  Read once per transaction.
 */
Oid
ZdExtensionOwner(void)
{
	if (cached_owner_lxid != MyProc->lxid || !OidIsValid(cached_owner))
	{
		cached_owner = extension_owner();
		cached_owner_lxid = MyProc->lxid;
	}
	if (!OidIsValid(cached_owner))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"zerodown\" is not installed in database \"%s\"",
						get_database_name(MyDatabaseId)),
				 errhint("Run CREATE EXTENSION zerodown; as a superuser.")));
	return cached_owner;
}

static Oid
extension_owner(void)
{
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tuple;
	Oid			owner = InvalidOid;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum("zerodown"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
		owner = ((Form_pg_extension) GETSTRUCT(tuple))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return owner;
}

/* the schema of zerodown's functions (CREATE EXTENSION ... SCHEMA) */
static Oid
extension_schema(void)
{
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tuple;
	Oid			schema = InvalidOid;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum("zerodown"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
		schema = ((Form_pg_extension) GETSTRUCT(tuple))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return schema;
}

/*
 * The search_path patches run with: the session's, with the schema of
 * zerodown's functions added at its end when it is not on it already, so
 * that a patch calls zd_backfill, zd_expand_table or zd_sync unqualified
 * whatever schema CREATE EXTENSION put them in.  At the end, it resolves
 * only the names no other schema of the path has, and it is never where
 * objects are created.  NULL: nothing to add.
 */
char *
ZdPatchSearchPath(void)
{
	Oid			schema = extension_schema();
	List	   *path;
	char	   *name;
	const char *current;

	if (!OidIsValid(schema))
		return NULL;
	path = fetch_search_path(false);
	/* a path without a schema to create in would create in zerodown's */
	if (path == NIL || list_member_oid(path, schema))
		return NULL;
	name = get_namespace_name(schema);
	if (name == NULL)
		return NULL;
	current = GetConfigOption("search_path", false, false);
	if (current == NULL || current[0] == '\0')
		return pstrdup(quote_identifier(name));
	return psprintf("%s, %s", current, quote_identifier(name));
}

/*
 * Serialise everything that changes patches or applies them: the second of
 * two zd_align calls waits here, then finds the work done.  The lock is held
 * to the end of the caller's transaction.
 */
void
ZdLockAlign(const char *action)
{
	LOCKTAG		tag;

	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
				 errmsg("zerodown cannot %s in a %s transaction", action,
						IsolationIsSerializable() ? "SERIALIZABLE" : "REPEATABLE READ"),
				 errdetail("Another session may have applied patches after this transaction's snapshot was taken."),
				 errhint("Run it in a READ COMMITTED transaction.")));

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, ZD_LOCK_CLASS, ZD_LOCK_ALIGN, 2);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
}

/*
 * zerodown's own statements: the reads and writes of its tables, and the
 * queries it builds on the system catalogs.  Nobody but the extension's
 * owner may write zerodown's tables (deployers only read them), so these
 * statements run as that owner, with SECURITY_LOCAL_USERID_CHANGE as a
 * SECURITY DEFINER function would, and under search_path = pg_catalog,
 * pg_temp, so that no function or operator of the caller's search_path can
 * stand in for a pg_catalog one.  Patch text, audits and the application's
 * tables never run through here: they run as the caller.
 *
 * The caller is connected to SPI.  Statements that record who did
 * something name the caller explicitly (ZdCallerName), since current_user
 * is the owner while they run.
 */
int
ZdCatalogExecute(const char *sql, int nargs, Oid *types, Datum *values,
				 const char *nulls, long count)
{
	return execute_scoped(true, sql, nargs, types, values, nulls, count);
}

/*
 * A query zerodown builds on the system catalogs and views (pg_locks,
 * pg_stat_activity, ...): under the pinned search_path, but as the caller,
 * so that it sees what the caller may see and no more.
 */
int
ZdExecutePinned(const char *sql, int nargs, Oid *types, Datum *values,
				const char *nulls, long count)
{
	return execute_scoped(false, sql, nargs, types, values, nulls, count);
}

static int
execute_scoped(bool as_owner, const char *sql, int nargs, Oid *types,
			   Datum *values, const char *nulls, long count)
{
	CatalogScope scope;
	int			ret;

	catalog_enter(&scope, as_owner);
	PG_TRY();
	{
		ret = SPI_execute_with_args(sql, nargs, types, values, nulls, false, count);
	}
	PG_CATCH();
	{
		catalog_leave(&scope, false);
		PG_RE_THROW();
	}
	PG_END_TRY();
	catalog_leave(&scope, true);
	return ret;
}

/* the same with a plan of ZdCatalogKeepPlan */
int
ZdCatalogExecutePlan(SPIPlanPtr plan, Datum *values, const char *nulls,
					 long count)
{
	CatalogScope scope;
	int			ret;

	catalog_enter(&scope, true);
	PG_TRY();
	{
		ret = SPI_execute_plan(plan, values, nulls, false, count);
	}
	PG_CATCH();
	{
		catalog_leave(&scope, false);
		PG_RE_THROW();
	}
	PG_END_TRY();
	catalog_leave(&scope, true);
	return ret;
}

/* a catalog statement planned once, kept for the life of the backend */
SPIPlanPtr
ZdCatalogKeepPlan(const char *sql, int nargs, Oid *types)
{
	CatalogScope scope;
	SPIPlanPtr	plan;

	catalog_enter(&scope, true);
	PG_TRY();
	{
		plan = keep_plan(sql, nargs, types);
	}
	PG_CATCH();
	{
		catalog_leave(&scope, false);
		PG_RE_THROW();
	}
	PG_END_TRY();
	catalog_leave(&scope, true);
	return plan;
}

/* the role the caller acts as (current_user), as a name Datum */
Datum
ZdCallerName(void)
{
	Name		name = palloc0(NAMEDATALEN);

	namestrcpy(name, GetUserNameFromId(GetUserId(), false));
	return NameGetDatum(name);
}

static void
catalog_enter(CatalogScope *scope, bool as_owner)
{
	Oid			owner = as_owner ? ZdExtensionOwner() : InvalidOid;

	GetUserIdAndSecContext(&scope->userid, &scope->sec_context);
	scope->nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", ZD_CATALOG_SEARCH_PATH,
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (as_owner)
		SetUserIdAndSecContext(owner, scope->sec_context | SECURITY_LOCAL_USERID_CHANGE);
}

static void
catalog_leave(CatalogScope *scope, bool ok)
{
	SetUserIdAndSecContext(scope->userid, scope->sec_context);
	AtEOXact_GUC(ok, scope->nestlevel);
}

/*
 * Reads here run with read_only = false so that they take a new snapshot and
 * see what earlier steps of the same transaction changed, and with plans
 * kept for the life of the backend: an alignment reads for every step.
 */

/*
 * The registered patches numbered from..to in number order, with how they
 * were applied: a step reads only what it runs, so that aligning patch by
 * patch (the zd client, the worker) stays linear.
 */
List *
ZdReadPatches(int from, int to)
{
	static SPIPlanPtr plans[2] = {NULL, NULL};
	bool		has_vars = applied_has_vars();
	SPIPlanPtr	plan;
	Oid			types[2] = {INT4OID, INT4OID};
	Datum		values[2] = {Int32GetDatum(from), Int32GetDatum(to)};
	List	   *patches = NIL;
	uint64		i;
	int			ret;

	if (plans[has_vars] == NULL)
		plans[has_vars] = ZdCatalogKeepPlan(has_vars ?
											"SELECT p.number, p.name, p.build_sql, p.rollback_sql,"
											" p.verify_sql, p.checksum, p.source,"
											" a.checksum, a.applied_at::text, d.name, d.was, d.now"
											" FROM " ZD_PATCHES_TABLE " p"
											" LEFT JOIN " ZD_APPLIED_TABLE " a ON a.number = p.number"
											" LEFT JOIN LATERAL (SELECT u.key AS name, u.value AS was, v.value AS now"
											"   FROM pg_catalog.jsonb_each_text(a.vars) u"
											"   LEFT JOIN " ZD_VARS_TABLE " v ON v.name = u.key"
											"  WHERE v.value IS DISTINCT FROM u.value"
											"  ORDER BY u.key LIMIT 1) d ON true"
											" WHERE p.number BETWEEN $1 AND $2"
											" ORDER BY p.number" :
											"SELECT p.number, p.name, p.build_sql, p.rollback_sql,"
											" p.verify_sql, p.checksum, p.source,"
											" a.checksum, a.applied_at::text, NULL, NULL, NULL"
											" FROM " ZD_PATCHES_TABLE " p"
											" LEFT JOIN " ZD_APPLIED_TABLE " a ON a.number = p.number"
											" WHERE p.number BETWEEN $1 AND $2"
											" ORDER BY p.number",
											2, types);
	plan = plans[has_vars];
	ret = ZdCatalogExecutePlan(plan, values, NULL, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read zerodown patches: %s",
			 SPI_result_code_string(ret));

	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		ZdPatch    *patch = palloc0(sizeof(ZdPatch));
		bool		isnull;

		patch->number = DatumGetInt32(SPI_getbinval(tuple, desc, 1, &isnull));
		patch->name = SPI_getvalue(tuple, desc, 2);
		patch->build_sql = SPI_getvalue(tuple, desc, 3);
		patch->rollback_sql = SPI_getvalue(tuple, desc, 4);
		patch->verify_sql = SPI_getvalue(tuple, desc, 5);
		patch->checksum = SPI_getvalue(tuple, desc, 6);
		patch->source = SPI_getvalue(tuple, desc, 7);
		patch->applied_checksum = SPI_getvalue(tuple, desc, 8);
		patch->applied_at = SPI_getvalue(tuple, desc, 9);
		patch->drift_var = SPI_getvalue(tuple, desc, 10);
		patch->drift_was = SPI_getvalue(tuple, desc, 11);
		patch->drift_now = SPI_getvalue(tuple, desc, 12);
		patch->applied = patch->applied_checksum != NULL;
		patches = lappend(patches, patch);
	}
	return patches;
}

/* the ${name} placeholders' values */
List *
ZdReadVars(void)
{
	static SPIPlanPtr plan = NULL;
	List	   *vars = NIL;
	uint64		i;
	int			ret;

	if (plan == NULL)
		plan = ZdCatalogKeepPlan("SELECT name, value FROM " ZD_VARS_TABLE " ORDER BY name", 0, NULL);
	ret = ZdCatalogExecutePlan(plan, NULL, NULL, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read zerodown variables: %s",
			 SPI_result_code_string(ret));

	for (i = 0; i < SPI_processed; i++)
	{
		ZdVar	   *var = palloc(sizeof(ZdVar));

		var->name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		var->value = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		vars = lappend(vars, var);
	}
	return vars;
}

/* the highest registered patch number (0: none) */
int
ZdReadHighest(void)
{
	bool		isnull;
	int			ret;

	ret = ZdCatalogExecute("SELECT coalesce(max(number), 0) FROM " ZD_PATCHES_TABLE,
						   0, NULL, NULL, NULL, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the highest patch: %s", SPI_result_code_string(ret));
	return DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* the patch number the database stands at (0: none) */
int
ZdReadVersion(void)
{
	static SPIPlanPtr plan = NULL;
	bool		isnull;
	Datum		value;
	int			ret;

	if (plan == NULL)
		plan = ZdCatalogKeepPlan("SELECT coalesce(max(number), 0) FROM " ZD_APPLIED_TABLE, 0, NULL);
	ret = ZdCatalogExecutePlan(plan, NULL, NULL, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read zerodown version: %s",
			 SPI_result_code_string(ret));
	value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return DatumGetInt32(value);
}

/*
 * Record a step that succeeded: the applied table moves, and the history
 * gets a row.  The statements are planned once per backend: an alignment
 * records every patch.
 */
void
ZdRecordStep(ZdPatch *patch, bool rollback, TimestampTz started, int attempts,
			 List *vars_used)
{
	static SPIPlanPtr applied_plans[2] = {NULL, NULL};
	static SPIPlanPtr applied_plan_no_vars = NULL;
	static SPIPlanPtr history_plans[2] = {NULL, NULL};
	bool		has_vars = applied_has_vars();
	Oid			types[7] = {INT4OID, TEXTOID, TEXTOID, TIMESTAMPTZOID, INT4OID, INT8OID, NAMEOID};
	Oid			applied_types[6] = {INT4OID, TEXTOID, TEXTOID, TIMESTAMPTZOID, NAMEOID, TEXTOID};
	Datum		values[7];
	int			ret;

	/* the INSERT with vars is planned only on the 0.2.0 schema */
	if (applied_plans[rollback] == NULL && (rollback || has_vars))
		applied_plans[rollback] =
			ZdCatalogKeepPlan(rollback ?
							  "DELETE FROM " ZD_APPLIED_TABLE " WHERE number = $1" :
							  "INSERT INTO " ZD_APPLIED_TABLE
							  " (number, name, checksum, applied_at, applied_by, vars)"
							  " VALUES ($1, $2, $3, $4, $5, $6::pg_catalog.jsonb)",
							  rollback ? 1 : 6, rollback ? types : applied_types);
	if (history_plans[rollback] == NULL)
	{
		history_plans[rollback] =
			ZdCatalogKeepPlan(rollback ?
							  "INSERT INTO " ZD_HISTORY_TABLE
							  " (number, name, direction, checksum, started_at, duration, attempts, outcome, deployment, role)"
							  " VALUES ($1, $2, 'rollback', $3, $4, clock_timestamp() - $4, $5, 'done', nullif($6, 0), $7)" :
							  "INSERT INTO " ZD_HISTORY_TABLE
							  " (number, name, direction, checksum, started_at, duration, attempts, outcome, deployment, role)"
							  " VALUES ($1, $2, 'build', $3, $4, clock_timestamp() - $4, $5, 'done', nullif($6, 0), $7)",
							  7, types);
	}

	values[0] = Int32GetDatum(patch->number);
	values[1] = CStringGetTextDatum(patch->name);
	values[2] = CStringGetTextDatum(patch->checksum);
	values[3] = TimestampTzGetDatum(started);
	values[4] = Int32GetDatum(attempts);
	values[5] = Int64GetDatum(ZdCurrentDeployment);
	values[6] = ZdCallerName();

	if (rollback)
		ret = ZdCatalogExecutePlan(applied_plans[rollback], values, NULL, 0);
	else if (!has_vars)
	{
		Datum		applied[5] = {values[0], values[1], values[2], values[3], values[6]};

		/* the 0.1.0 schema, before ALTER EXTENSION zerodown UPDATE */
		if (applied_plan_no_vars == NULL)
			applied_plan_no_vars =
				ZdCatalogKeepPlan("INSERT INTO " ZD_APPLIED_TABLE
								  " (number, name, checksum, applied_at, applied_by)"
								  " VALUES ($1, $2, $3, $4, $5)",
								  5, applied_types);
		ret = ZdCatalogExecutePlan(applied_plan_no_vars, applied, NULL, 0);
	}
	else
	{
		Datum		applied[6] = {values[0], values[1], values[2], values[3], values[6],
		CStringGetTextDatum(vars_json(vars_used))};

		ret = ZdCatalogExecutePlan(applied_plans[rollback], applied, NULL, 0);
	}
	if (ret != (rollback ? SPI_OK_DELETE : SPI_OK_INSERT) || SPI_processed != 1)
		elog(ERROR, "could not record patch %d as %s: %s", patch->number,
			 rollback ? "rolled back" : "applied", SPI_result_code_string(ret));

	ret = ZdCatalogExecutePlan(history_plans[rollback], values, NULL, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not record history of patch %d: %s", patch->number,
			 SPI_result_code_string(ret));
}

/*
 * Does zerodown.applied have the vars column (0.2.0)?  The library serves
 * the 0.1.0 schema too, from CREATE EXTENSION ... VERSION '0.1.0' or a
 * server restarted on the new library until ALTER EXTENSION zerodown
 * UPDATE.  Read once per transaction.
 */
static bool
applied_has_vars(void)
{
	static LocalTransactionId lxid = InvalidLocalTransactionId;
	static bool has_vars = false;

	if (lxid != MyProc->lxid)
	{
		Oid			nsp = get_namespace_oid(ZD_SCHEMA, true);
		Oid			relid = OidIsValid(nsp) ? get_relname_relid("applied", nsp) : InvalidOid;

		has_vars = OidIsValid(relid) && get_attnum(relid, "vars") != InvalidAttrNumber;
		lxid = MyProc->lxid;
	}
	return has_vars;
}

/* {"name": "value", ...}: the placeholder values a step was applied with */
static char *
vars_json(List *vars)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	foreach(lc, vars)
	{
		ZdVar	   *var = lfirst(lc);

		if (foreach_current_index(lc) > 0)
			appendStringInfoString(&buf, ", ");
		escape_json(&buf, var->name);
		appendStringInfoString(&buf, ": ");
		escape_json(&buf, var->value);
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/* a plan kept for the life of the backend */
static SPIPlanPtr
keep_plan(const char *query, int nargs, Oid *types)
{
	SPIPlanPtr	plan = SPI_prepare(query, nargs, types);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", query,
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	return plan;
}

/*
 * How messages name a patch's file: "dir/build/00003_name.sql" when it was
 * loaded from a folder, "build of patch 3" when registered as text.
 */
char *
ZdPatchFile(ZdPatch *patch, const char *part)
{
	if (patch->source != NULL)
		return psprintf("%s/%s/%05d_%s.sql", patch->source, part,
						patch->number, patch->name);
	return psprintf("%s of patch %d", part, patch->number);
}

