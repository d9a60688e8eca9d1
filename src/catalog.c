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
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "deploy.h"
#include "patch.h"
#include "zerodown.h"

static Oid	extension_owner(void);
static Oid	extension_schema(void);
static SPIPlanPtr keep_plan(const char *query, int nargs, Oid *types);

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
	static SPIPlanPtr plan = NULL;
	Oid			types[2] = {INT4OID, INT4OID};
	Datum		values[2] = {Int32GetDatum(from), Int32GetDatum(to)};
	List	   *patches = NIL;
	uint64		i;
	int			ret;

	if (plan == NULL)
		plan = keep_plan("SELECT p.number, p.name, p.build_sql, p.rollback_sql,"
						 " p.verify_sql, p.checksum, p.source,"
						 " a.checksum, a.applied_at::text"
						 " FROM " ZD_PATCHES_TABLE " p"
						 " LEFT JOIN " ZD_APPLIED_TABLE " a ON a.number = p.number"
						 " WHERE p.number BETWEEN $1 AND $2"
						 " ORDER BY p.number",
						 2, types);
	ret = SPI_execute_plan(plan, values, NULL, false, 0);
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
		plan = keep_plan("SELECT name, value FROM " ZD_VARS_TABLE " ORDER BY name", 0, NULL);
	ret = SPI_execute_plan(plan, NULL, NULL, false, 0);
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

	ret = SPI_execute("SELECT coalesce(max(number), 0) FROM " ZD_PATCHES_TABLE, false, 1);
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
		plan = keep_plan("SELECT coalesce(max(number), 0) FROM " ZD_APPLIED_TABLE, 0, NULL);
	ret = SPI_execute_plan(plan, NULL, NULL, false, 1);
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
ZdRecordStep(ZdPatch *patch, bool rollback, TimestampTz started, int attempts)
{
	static SPIPlanPtr applied_plans[2] = {NULL, NULL};
	static SPIPlanPtr history_plans[2] = {NULL, NULL};
	Oid			types[6] = {INT4OID, TEXTOID, TEXTOID, TIMESTAMPTZOID, INT4OID, INT8OID};
	Datum		values[6];
	int			ret;

	if (applied_plans[rollback] == NULL || history_plans[rollback] == NULL)
	{
		applied_plans[rollback] =
			keep_plan(rollback ?
					  "DELETE FROM " ZD_APPLIED_TABLE " WHERE number = $1" :
					  "INSERT INTO " ZD_APPLIED_TABLE
					  " (number, name, checksum, applied_at, applied_by)"
					  " VALUES ($1, $2, $3, $4, current_user)",
					  rollback ? 1 : 4, types);
		history_plans[rollback] =
			keep_plan(rollback ?
					  "INSERT INTO " ZD_HISTORY_TABLE
					  " (number, name, direction, checksum, started_at, duration, attempts, outcome, deployment)"
					  " VALUES ($1, $2, 'rollback', $3, $4, clock_timestamp() - $4, $5, 'done', nullif($6, 0))" :
					  "INSERT INTO " ZD_HISTORY_TABLE
					  " (number, name, direction, checksum, started_at, duration, attempts, outcome, deployment)"
					  " VALUES ($1, $2, 'build', $3, $4, clock_timestamp() - $4, $5, 'done', nullif($6, 0))",
					  6, types);
	}

	values[0] = Int32GetDatum(patch->number);
	values[1] = CStringGetTextDatum(patch->name);
	values[2] = CStringGetTextDatum(patch->checksum);
	values[3] = TimestampTzGetDatum(started);
	values[4] = Int32GetDatum(attempts);
	values[5] = Int64GetDatum(ZdCurrentDeployment);

	ret = SPI_execute_plan(applied_plans[rollback], values, NULL, false, 0);
	if (ret != (rollback ? SPI_OK_DELETE : SPI_OK_INSERT) || SPI_processed != 1)
		elog(ERROR, "could not record patch %d as %s: %s", patch->number,
			 rollback ? "rolled back" : "applied", SPI_result_code_string(ret));

	ret = SPI_execute_plan(history_plans[rollback], values, NULL, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not record history of patch %d: %s", patch->number,
			 SPI_result_code_string(ret));
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

