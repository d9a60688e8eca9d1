/*-------------------------------------------------------------------------
 *
 * publish.c
 *	  zd_publish and zd_unpublish: write-audit-publish by schema swap (seed
 *	  001), and the objects outside a schema that depend on it.
 *
 * A data set is built in a staging schema and audited (queries that must
 * return no rows).  Publishing then swaps in one short step of the
 * caller's transaction: the previous schema kept by the last publish is
 * dropped, live is renamed to the previous schema and staging to live.
 * Renames only touch pg_namespace, so the swap takes the same time for ten
 * rows or ten billion.  zd_unpublish swaps live and the previous schema, so
 * a second call re-publishes.
 *
 * What readers see.  A statement resolves "live.t" to a relation once, at
 * parse time, and locks it.  The swap first takes ACCESS EXCLUSIVE on every
 * relation of the schemas it renames or drops, so a statement (indeed a
 * transaction) that has already resolved one name of live to the old
 * relation holds a lock that keeps the swap waiting until it ends, and a
 * statement that arrives while the swap holds its locks waits, then finds
 * its names changed (RangeVarGetRelidExtended looks them up again after the
 * invalidation) and resolves every one to the new relations.  A statement
 * sees all old or all new, never a mix, and never an error.
 *
 * Taking many locks without deadlocking a reader.  A reader that holds
 * live.a and asks for live.b while the swap holds live.b and waits for
 * live.a is a deadlock, and the detector may pick the reader.  So the swap
 * never waits while it holds a lock: it takes the locks without waiting,
 * and when one is not free it lets go of all of them, waits for that one
 * alone (under zerodown.lock_timeout, as patches do), and starts over.  A
 * wait that times out is retried with backoff up to zerodown.lock_retries
 * times.  With use_gate, the swap also closes the deployment gate first,
 * so no managed job runs across it; because a managed transaction may have
 * locked a table before it queued at the gate, the gate is opened again
 * while the swap waits for a lock, and closed again before the next round.
 *
 * Renaming keeps object identities: a view, foreign key or function with a
 * SQL body outside the two schemas that uses an object of live would keep
 * using it in the previous schema.  Those are found in pg_depend and listed
 * in an error, unless the caller forces the publish.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "align.h"
#include "catalog.h"
#include "gate.h"
#include "patch.h"
#include "publish.h"
#include "zerodown.h"

#define ZD_MAX_LOCK_ROUNDS		1000
#define ZD_MAX_LISTED			50

/* one lock the swap takes: a schema or a relation */
typedef struct LockTarget
{
	Oid			classid;		/* NamespaceRelationId or RelationRelationId */
	Oid			objid;
} LockTarget;

/* a publish or an unpublish, from its arguments to its record */
typedef struct Swap
{
	bool		unpublish;
	char	   *live;
	char	   *staging;		/* publish only */
	char	   *keep;			/* the previous schema */
	Oid			live_oid;
	Oid			staging_oid;
	Oid			keep_oid;		/* InvalidOid: there is none yet */
	List	   *audits;			/* of char * */
	bool		force;
	bool		use_gate;
	int			gate_timeout_ms;
	List	   *forced;			/* dependents accepted with force */
	int			rounds;
	TimestampTz started;
	TimestampTz swap_started;
	TimestampTz swap_ended;
} Swap;

/* what the audits found */
typedef struct AuditResult
{
	StringInfoData failures;
	int			failed;
	int			first_failed;
	int64		first_rows;
	int			running;		/* the audit running now */
	char	   *running_sql;
} AuditResult;

/* error context while an audit is parsed or run */
typedef struct AuditContext
{
	int			number;
	const char *sql;
} AuditContext;

PG_FUNCTION_INFO_V1(zd_publish);
PG_FUNCTION_INFO_V1(zd_unpublish);

static void lock_publish(void);
static List *parse_audits(ArrayType *array);
static void audit_error_callback(void *arg);
static void run_audits(Swap *swap);
static void run_audit_queries(Swap *swap, AuditResult *result);
static char *format_row(HeapTuple tuple, TupleDesc desc);
static void check_dependents(Swap *swap, bool locked);
static void run_swap(Swap *swap);
static bool lock_all(Swap *swap, LockTarget *blocked);
static List *lock_targets(Swap *swap);
static bool lock_target(LockTarget *target, bool wait);
static bool wait_alone(Swap *swap, LockTarget *target, int *failures, bool keep);
static void lock_waiting(void *arg);
static char *describe_target(LockTarget *target);
static char *describe_holders(LockTarget *target);
static void rename_schemas(Swap *swap);
static void run_ddl(const char *sql);
static int64 record_swap(Swap *swap);
static char *previous_schema_of(const char *live);
static inline char *CheckNameArg(FunctionCallInfo fcinfo, int arg, const char *what);
static inline Oid CheckSchemaExists(const char *name, const char *role);
static inline void CheckNotExtensionSchema(const char *name, Oid nspid);
static inline void CheckReadCommitted(const char *action);
static inline void CheckAuditReadOnly(SelectStmt *stmt, int number, const char *sql);
static inline void CheckKeptByPublish(const char *live, const char *keep);
static inline void CheckMaySwap(const char *name, Oid nspid, const char *action);
static inline int CheckGateTimeout(FunctionCallInfo fcinfo, int arg);

/*
 * zd_publish(staging name, live name, audits text[], keep name,
 *			  force boolean, use_gate boolean, gate_timeout_ms integer)
 * returns bigint: the id of the publish in zerodown.publishes
 */
Datum
zd_publish(PG_FUNCTION_ARGS)
{
	Swap	   *swap = palloc0(sizeof(Swap));
	int64		id;

	swap->started = GetCurrentTimestamp();
	swap->staging = CheckNameArg(fcinfo, 0, "staging");
	swap->live = CheckNameArg(fcinfo, 1, "live");
	swap->force = !PG_ARGISNULL(4) && PG_GETARG_BOOL(4);
	swap->use_gate = !PG_ARGISNULL(5) && PG_GETARG_BOOL(5);
	swap->gate_timeout_ms = CheckGateTimeout(fcinfo, 6);
	if (PG_ARGISNULL(3))
	{
		if (strlen(swap->live) + strlen(ZD_PREVIOUS_SUFFIX) >= NAMEDATALEN)
			ereport(ERROR,
					(errcode(ERRCODE_NAME_TOO_LONG),
					 errmsg("the previous schema's default name \"%s%s\" is too long",
							swap->live, ZD_PREVIOUS_SUFFIX),
					 errhint("Name the previous schema with keep => '...'.")));
		swap->keep = psprintf("%s%s", swap->live, ZD_PREVIOUS_SUFFIX);
	}
	else
		swap->keep = CheckNameArg(fcinfo, 3, "keep");

	ZdCheckDeployer("publish a schema");
	CheckReadCommitted("publish a schema");
	if (strcmp(swap->staging, swap->live) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("staging and live are the same schema \"%s\"", swap->live),
				 errhint("Build the new data in another schema, for example with zd_clone_schema('%s', '%s_staging').",
						 swap->live, swap->live)));
	if (strcmp(swap->keep, swap->live) == 0 || strcmp(swap->keep, swap->staging) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the previous schema \"%s\" must differ from staging and live", swap->keep),
				 errhint("Pass another name as keep, or leave it NULL for \"%s%s\".",
						 swap->live, ZD_PREVIOUS_SUFFIX)));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	swap->staging_oid = CheckSchemaExists(swap->staging, "staging");
	swap->live_oid = CheckSchemaExists(swap->live, "live");
	ZdCheckUserSchema(swap->staging, swap->staging_oid, "staging");
	ZdCheckUserSchema(swap->live, swap->live_oid, "live");
	CheckNotExtensionSchema(swap->staging, swap->staging_oid);
	CheckNotExtensionSchema(swap->live, swap->live_oid);
	swap->keep_oid = get_namespace_oid(swap->keep, true);
	if (OidIsValid(swap->keep_oid))
	{
		ZdCheckUserSchema(swap->keep, swap->keep_oid, "keep");
		CheckNotExtensionSchema(swap->keep, swap->keep_oid);
		CheckKeptByPublish(swap->live, swap->keep);
	}
	swap->audits = PG_ARGISNULL(2) ? NIL : parse_audits(PG_GETARG_ARRAYTYPE_P(2));
	CheckMaySwap(swap->staging, swap->staging_oid, "publish");
	CheckMaySwap(swap->live, swap->live_oid, "publish");
	if (OidIsValid(swap->keep_oid))
		CheckMaySwap(swap->keep, swap->keep_oid, "publish");

	/* one publish at a time; then check, audit, swap */
	lock_publish();
	check_dependents(swap, false);
	pgstat_report_activity(STATE_RUNNING,
						   psprintf("zerodown: auditing \"%s\" to publish it as \"%s\"",
									swap->staging, swap->live));
	run_audits(swap);
	pgstat_report_activity(STATE_RUNNING,
						   psprintf("zerodown: publishing \"%s\" as \"%s\"",
									swap->staging, swap->live));
	run_swap(swap);
	id = record_swap(swap);

	SPI_finish();
	PG_RETURN_INT64(id);
}

/*
 * zd_unpublish(live name, force boolean, use_gate boolean,
 *				gate_timeout_ms integer)
 * returns bigint: the id of the unpublish in zerodown.publishes
 */
Datum
zd_unpublish(PG_FUNCTION_ARGS)
{
	Swap	   *swap = palloc0(sizeof(Swap));
	int64		id;

	swap->unpublish = true;
	swap->started = GetCurrentTimestamp();
	swap->live = CheckNameArg(fcinfo, 0, "live");
	swap->force = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
	swap->use_gate = !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
	swap->gate_timeout_ms = CheckGateTimeout(fcinfo, 3);

	ZdCheckDeployer("unpublish a schema");
	CheckReadCommitted("unpublish a schema");

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	swap->live_oid = CheckSchemaExists(swap->live, "live");
	ZdCheckUserSchema(swap->live, swap->live_oid, "live");
	CheckNotExtensionSchema(swap->live, swap->live_oid);
	CheckMaySwap(swap->live, swap->live_oid, "unpublish");
	lock_publish();
	swap->keep = previous_schema_of(swap->live);
	swap->keep_oid = get_namespace_oid(swap->keep, true);
	if (!OidIsValid(swap->keep_oid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("schema \"%s\" has no previous schema to swap back in", swap->live),
				 errdetail("Schema \"%s\" does not exist.", swap->keep),
				 errhint("zd_publish keeps the schema it replaces as \"%s%s\" (or under the name passed as keep); unpublish works once something was published.",
						 swap->live, ZD_PREVIOUS_SUFFIX)));
	ZdCheckUserSchema(swap->keep, swap->keep_oid, "previous");
	CheckNotExtensionSchema(swap->keep, swap->keep_oid);
	CheckMaySwap(swap->keep, swap->keep_oid, "unpublish");

	check_dependents(swap, false);
	pgstat_report_activity(STATE_RUNNING,
						   psprintf("zerodown: unpublishing \"%s\" (swapping \"%s\" back in)",
									swap->live, swap->keep));
	run_swap(swap);
	id = record_swap(swap);

	SPI_finish();
	PG_RETURN_INT64(id);
}

/* publishes of one database run one at a time, to the end of the transaction */
static void
lock_publish(void)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, ZD_LOCK_CLASS, ZD_LOCK_PUBLISH, 2);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
}

/*
 * The audits, each checked to be one query (a SELECT, VALUES or TABLE,
 * without INTO) before any runs.
 */
static List *
parse_audits(ArrayType *array)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	List	   *audits = NIL;

	deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (i = 0; i < n; i++)
	{
		AuditContext actx;
		ErrorContextCallback callback;
		List	   *parsetree;
		RawStmt    *raw;
		char	   *sql;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("audit %d is NULL", i + 1),
					 errhint("An audit is a query that must return no rows.")));
		sql = TextDatumGetCString(elems[i]);

		actx.number = i + 1;
		actx.sql = sql;
		callback.callback = audit_error_callback;
		callback.arg = &actx;
		callback.previous = error_context_stack;
		error_context_stack = &callback;
		parsetree = raw_parser(sql, RAW_PARSE_DEFAULT);
		error_context_stack = callback.previous;

		raw = list_length(parsetree) == 1 ? linitial_node(RawStmt, parsetree) : NULL;
		if (raw == NULL || !IsA(raw->stmt, SelectStmt) ||
			((SelectStmt *) raw->stmt)->intoClause != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("audit %d is not a query", i + 1),
					 errdetail("Audit %d: %s", i + 1, ZdAbbreviate(sql, 200)),
					 errhint("An audit is one SELECT that returns the rows that are wrong; it passes when it returns none.")));
		CheckAuditReadOnly((SelectStmt *) raw->stmt, i + 1, sql);
		audits = lappend(audits, sql);
	}
	return audits;
}

static void
audit_error_callback(void *arg)
{
	AuditContext *actx = (AuditContext *) arg;

	errcontext("audit %d: %s", actx->number, ZdAbbreviate(actx->sql, 200));
}

/*
 * Run every audit with staging first in search_path, so that unqualified
 * names mean the staging tables; fail listing each audit that returned
 * rows, how many and the first ones.  The audits run in a subtransaction
 * with transaction_read_only on, rolled back afterwards: an audit that
 * calls a function that writes gets "cannot execute ... in a read-only
 * transaction", and nothing an audit does stays.
 */
static void
run_audits(Swap *swap)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	AuditResult result;

	if (swap->audits == NIL)
		return;

	memset(&result, 0, sizeof(result));
	initStringInfo(&result.failures);
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		int			nestlevel = NewGUCNestLevel();

		(void) set_config_option("transaction_read_only", "on",
								 PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		(void) set_config_option("search_path",
								 psprintf("%s, %s", quote_identifier(swap->staging),
										  namespace_search_path),
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
		run_audit_queries(swap, &result);
		AtEOXact_GUC(false, nestlevel);
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		if (edata->sqlerrcode == ERRCODE_READ_ONLY_SQL_TRANSACTION)
			ereport(ERROR,
					(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
					 errmsg("audit %d of %d tried to change data: %s", result.running,
							list_length(swap->audits), edata->message),
					 errdetail("Audit %d: %s", result.running,
							   ZdAbbreviate(result.running_sql, 200)),
					 errhint("An audit only reads: it runs read-only, and what it did was undone. Nothing was published.")));
		ReThrowError(edata);
	}
	PG_END_TRY();

	if (result.failed == 1)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("audit %d of %d failed: it returned " INT64_FORMAT " %s",
						result.first_failed, list_length(swap->audits), result.first_rows,
						result.first_rows == 1 ? "row" : "rows"),
				 errdetail("%s", result.failures.data),
				 errhint("Nothing was published: fix the data in schema \"%s\" and publish again.",
						 swap->staging)));
	if (result.failed > 1)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("%d of %d audits failed", result.failed, list_length(swap->audits)),
				 errdetail("%s", result.failures.data),
				 errhint("Nothing was published: fix the data in schema \"%s\" and publish again.",
						 swap->staging)));
}

static void
run_audit_queries(Swap *swap, AuditResult *result)
{
	MemoryContext keep = CurrentMemoryContext;
	ListCell   *lc;
	int			number = 0;

	foreach(lc, swap->audits)
	{
		char	   *sql = lfirst(lc);
		AuditContext actx;
		ErrorContextCallback callback;
		SPIPlanPtr	plan;
		Portal		portal;
		StringInfoData shown;
		int64		rows;
		uint64		i;

		actx.number = ++number;
		actx.sql = sql;
		result->running = number;
		result->running_sql = sql;
		callback.callback = audit_error_callback;
		callback.arg = &actx;
		callback.previous = error_context_stack;
		error_context_stack = &callback;

		plan = SPI_prepare(sql, 0, NULL);
		if (plan == NULL)
			elog(ERROR, "could not prepare audit %d: %s", number,
				 SPI_result_code_string(SPI_result));
		if (!SPI_is_cursor_plan(plan))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("audit %d is not a query", number),
					 errhint("An audit is one SELECT that returns the rows that are wrong; it passes when it returns none.")));
		portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);
		SPI_cursor_fetch(portal, true, ZD_AUDIT_SHOWN_ROWS);
		rows = SPI_processed;
		MemoryContextSwitchTo(keep);
		initStringInfo(&shown);
		for (i = 0; i < SPI_processed; i++)
			appendStringInfo(&shown, "%s%s", i > 0 ? ", " : "",
							 format_row(SPI_tuptable->vals[i], SPI_tuptable->tupdesc));
		if (rows == ZD_AUDIT_SHOWN_ROWS)
		{
			SPI_cursor_move(portal, true, FETCH_ALL);
			rows += SPI_processed;
		}
		SPI_cursor_close(portal);
		SPI_freeplan(plan);
		error_context_stack = callback.previous;
		MemoryContextSwitchTo(keep);

		if (rows > 0)
		{
			if (result->failed++ == 0)
			{
				result->first_failed = number;
				result->first_rows = rows;
			}
			appendStringInfo(&result->failures, "%sAudit %d returned " INT64_FORMAT " %s: %s\n%s %s.",
							 result->failures.len > 0 ? "\n" : "",
							 number, rows, rows == 1 ? "row" : "rows",
							 ZdAbbreviate(sql, 200),
							 rows > ZD_AUDIT_SHOWN_ROWS ? "First rows:" : rows == 1 ? "Row:" : "Rows:",
							 shown.data);
		}
	}
}

/* "(id=3, amount=-5)", each value abbreviated */
static char *
format_row(HeapTuple tuple, TupleDesc desc)
{
	StringInfoData buf;
	int			i;
	bool		first = true;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '(');
	for (i = 1; i <= desc->natts; i++)
	{
		char	   *value;

		if (TupleDescAttr(desc, i - 1)->attisdropped)
			continue;
		value = SPI_getvalue(tuple, desc, i);
		appendStringInfo(&buf, "%s%s=%s", first ? "" : ", ",
						 SPI_fname(desc, i),
						 value ? ZdAbbreviate(value, 60) : "NULL");
		first = false;
	}
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

/*
 * Refuse the swap when objects outside live depend on it (they would keep
 * using the previous schema's objects), unless forced; and when a publish
 * would drop a previous schema that objects outside it still use.  Checked
 * once before the audits, and again under the swap's locks, when no new
 * dependent can appear.
 */
static void
check_dependents(Swap *swap, bool locked)
{
	List	   *dependents;

	if (!swap->unpublish && OidIsValid(swap->keep_oid))
	{
		dependents = ZdOutsideDependents(swap->keep_oid, InvalidOid);
		if (dependents != NIL)
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("cannot drop the previous schema \"%s\": %d %s outside it %s on it",
							swap->keep, list_length(dependents),
							list_length(dependents) == 1 ? "object" : "objects",
							list_length(dependents) == 1 ? "depends" : "depend"),
					 errdetail("Publishing drops the schema kept by the last publish, and these would go with it:\n%s",
							   ZdJoinLines(dependents, ZD_MAX_LISTED)),
					 errhint("Drop or re-create them first, or keep the previous schema under another name with keep => '...'.")));
	}

	/* for a publish, what depends on live from the old previous schema goes with it */
	dependents = ZdOutsideDependents(swap->live_oid,
									 swap->unpublish ? InvalidOid : swap->keep_oid);
	if (dependents == NIL)
		return;
	if (!swap->force)
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("%d %s outside schema \"%s\" %s on it",
						list_length(dependents),
						list_length(dependents) == 1 ? "object" : "objects",
						swap->live,
						list_length(dependents) == 1 ? "depends" : "depend"),
				 errdetail("A schema swap keeps object identities: after it these would still use the objects of the previous schema \"%s\":\n%s",
						   swap->unpublish ? swap->live : swap->keep,
						   ZdJoinLines(dependents, ZD_MAX_LISTED)),
				 errhint("Re-create them against the new objects after the swap, or pass force => true to swap anyway and keep them on the previous schema.")));
	if (locked)
	{
		ereport(WARNING,
				(errmsg("%d %s outside schema \"%s\" still %s the previous schema \"%s\"",
						list_length(dependents),
						list_length(dependents) == 1 ? "object" : "objects",
						swap->live, list_length(dependents) == 1 ? "uses" : "use",
						swap->unpublish ? swap->live : swap->keep),
				 errdetail("%s", ZdJoinLines(dependents, ZD_MAX_LISTED)),
				 errhint("Re-create them against schema \"%s\".", swap->live)));
		swap->forced = dependents;
	}
}

/*
 * "view public.report depends on table live.orders" for each object outside
 * schema nspid (and outside ignored_nspid) that depends on an object in it
 * through pg_depend: views and materialized views (their rules), foreign
 * keys, defaults, triggers, policies, functions with SQL bodies, columns of
 * its types, sequences owned by its columns, partitions of its tables.
 * Called connected to SPI.
 */
List *
ZdOutsideDependents(Oid nspid, Oid ignored_nspid)
{
	Oid			types[2] = {OIDOID, OIDOID};
	Datum		values[2];
	List	   *result = NIL;
	uint64		i;
	int			ret;

	values[0] = ObjectIdGetDatum(nspid);
	values[1] = ObjectIdGetDatum(ignored_nspid);
	ret = ZdExecutePinned(
								"WITH inside(classid, objid) AS ("
								"  SELECT 'pg_catalog.pg_class'::pg_catalog.regclass, oid FROM pg_catalog.pg_class WHERE relnamespace = $1"
								"  UNION ALL SELECT 'pg_catalog.pg_type'::pg_catalog.regclass, oid FROM pg_catalog.pg_type WHERE typnamespace = $1"
								"  UNION ALL SELECT 'pg_catalog.pg_proc'::pg_catalog.regclass, oid FROM pg_catalog.pg_proc WHERE pronamespace = $1"
								"  UNION ALL SELECT 'pg_catalog.pg_operator'::pg_catalog.regclass, oid FROM pg_catalog.pg_operator WHERE oprnamespace = $1"
								"  UNION ALL SELECT 'pg_catalog.pg_collation'::pg_catalog.regclass, oid FROM pg_catalog.pg_collation WHERE collnamespace = $1"
								"), dep AS ("
								"  SELECT CASE d.classid"
								"    WHEN 'pg_catalog.pg_class'::pg_catalog.regclass THEN"
								"      (SELECT c.relnamespace FROM pg_catalog.pg_class c WHERE c.oid = d.objid)"
								"    WHEN 'pg_catalog.pg_rewrite'::pg_catalog.regclass THEN"
								"      (SELECT c.relnamespace FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class WHERE r.oid = d.objid)"
								"    WHEN 'pg_catalog.pg_attrdef'::pg_catalog.regclass THEN"
								"      (SELECT c.relnamespace FROM pg_catalog.pg_attrdef a JOIN pg_catalog.pg_class c ON c.oid = a.adrelid WHERE a.oid = d.objid)"
								"    WHEN 'pg_catalog.pg_trigger'::pg_catalog.regclass THEN"
								"      (SELECT c.relnamespace FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid WHERE t.oid = d.objid)"
								"    WHEN 'pg_catalog.pg_policy'::pg_catalog.regclass THEN"
								"      (SELECT c.relnamespace FROM pg_catalog.pg_policy p JOIN pg_catalog.pg_class c ON c.oid = p.polrelid WHERE p.oid = d.objid)"
								"    WHEN 'pg_catalog.pg_constraint'::pg_catalog.regclass THEN"
								"      (SELECT k.connamespace FROM pg_catalog.pg_constraint k WHERE k.oid = d.objid)"
								"    WHEN 'pg_catalog.pg_type'::pg_catalog.regclass THEN"
								"      (SELECT t.typnamespace FROM pg_catalog.pg_type t WHERE t.oid = d.objid)"
								"    WHEN 'pg_catalog.pg_proc'::pg_catalog.regclass THEN"
								"      (SELECT p.pronamespace FROM pg_catalog.pg_proc p WHERE p.oid = d.objid)"
								"    WHEN 'pg_catalog.pg_operator'::pg_catalog.regclass THEN"
								"      (SELECT o.oprnamespace FROM pg_catalog.pg_operator o WHERE o.oid = d.objid)"
								"    END AS nsp,"
								"    CASE WHEN d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass THEN"
								"      (SELECT pg_catalog.pg_describe_object('pg_catalog.pg_class'::pg_catalog.regclass, r.ev_class, 0)"
								"         FROM pg_catalog.pg_rewrite r WHERE r.oid = d.objid)"
								"    ELSE pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) END AS dependent,"
								"    pg_catalog.pg_describe_object(d.refclassid,"
								"      coalesce((SELECT x.indrelid FROM pg_catalog.pg_index x"
								"                 WHERE d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass"
								"                   AND x.indexrelid = d.refobjid), d.refobjid), 0) AS referenced"
								"    FROM pg_catalog.pg_depend d"
								"    JOIN inside i ON i.classid = d.refclassid AND i.objid = d.refobjid"
								"   WHERE d.deptype IN ('n', 'a', 'P', 'S'))"
								" SELECT pg_catalog.format('%s depends on %s', dependent,"
								"        pg_catalog.string_agg(DISTINCT referenced, ', ' ORDER BY referenced))"
								"   FROM dep"
								"  WHERE nsp IS DISTINCT FROM $1 AND nsp IS DISTINCT FROM $2"
								"  GROUP BY dependent"
								"  ORDER BY dependent",
								2, types, values, NULL, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read the dependents of schema %u: %s", nspid,
			 SPI_result_code_string(ret));
	for (i = 0; i < SPI_processed; i++)
		result = lappend(result, SPI_getvalue(SPI_tuptable->vals[i],
											  SPI_tuptable->tupdesc, 1));
	return result;
}

/* lines, one per row, cut after max with "... and N more" */
char *
ZdJoinLines(List *lines, int max)
{
	StringInfoData buf;
	ListCell   *lc;
	int			n = 0;

	initStringInfo(&buf);
	foreach(lc, lines)
	{
		if (n == max)
		{
			appendStringInfo(&buf, "\n... and %d more", list_length(lines) - max);
			break;
		}
		appendStringInfo(&buf, "%s%s", n++ > 0 ? "\n" : "", (char *) lfirst(lc));
	}
	return buf.data;
}

/*
 * The swap, in rounds.  Each round (with use_gate, after closing the gate)
 * takes every lock without waiting, in a subtransaction; when all are
 * held, it checks the dependents again and renames.  When a lock is not
 * free, the round is rolled back (and the gate opened).  Without the gate,
 * the next round first waits for that lock, holding no other, and keeps it:
 * new readers of that relation then queue behind the swap instead of
 * taking it again in the instant between two of their transactions, and
 * the rest is taken without waiting.  With the gate, the swap waits for the
 * lock alone and lets it go before the next round, because a managed
 * reader may hold it while it waits at the closed gate.
 */
static void
run_swap(Swap *swap)
{
	int			failures = 0;
	LockTarget	pending = {InvalidOid, InvalidOid};

	for (swap->rounds = 1;; swap->rounds++)
	{
		MemoryContext oldcontext = CurrentMemoryContext;
		ResourceOwner oldowner = CurrentResourceOwner;
		LockTarget	blocked = {InvalidOid, InvalidOid};
		volatile bool gate_closed = false;
		volatile bool done = false;
		ErrorData  *volatile edata = NULL;

		CHECK_FOR_INTERRUPTS();
		if (swap->rounds > ZD_MAX_LOCK_ROUNDS)
			ereport(ERROR,
					(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
					 errmsg("could not take the locks for the swap of schema \"%s\" in %d rounds",
							swap->live, ZD_MAX_LOCK_ROUNDS),
					 errdetail("Each round found another lock taken. Nothing was swapped."),
					 errhint("Publish when the schemas are less busy.")));

		if (swap->use_gate)
			gate_closed = ZdGateClose(swap->gate_timeout_ms);

		swap->swap_started = GetCurrentTimestamp();
		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(oldcontext);
		PG_TRY();
		{
			bool		ready = true;

			if (!swap->use_gate && OidIsValid(pending.objid))
				ready = wait_alone(swap, &pending, &failures, true);
			if (ready && lock_all(swap, &blocked))
			{
				check_dependents(swap, true);
				rename_schemas(swap);
				done = true;
			}
			if (done)
				ReleaseCurrentSubTransaction();
			else
				RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(oldcontext);
			CurrentResourceOwner = oldowner;
		}
		PG_CATCH();
		{
			MemoryContextSwitchTo(oldcontext);
			edata = CopyErrorData();
			FlushErrorState();
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(oldcontext);
			CurrentResourceOwner = oldowner;
		}
		PG_END_TRY();
		swap->swap_ended = GetCurrentTimestamp();

		/*
		 * The locks the swap holds until commit keep every reader of the
		 * schemas waiting, so the gate can open now: a job that starts next
		 * reads the new live schema.
		 */
		if (gate_closed)
			ZdGateOpen();
		if (edata != NULL)
			ReThrowError(edata);
		if (done)
			return;
		if (swap->use_gate)
			(void) wait_alone(swap, &blocked, &failures, false);
		else if (OidIsValid(blocked.objid))
			pending = blocked;
	}
}

/*
 * Take every lock of the swap without waiting: the schemas, then their
 * relations in OID order, again until no new relation appeared.  false,
 * with the lock that was not free in *blocked, when one was taken.
 */
static bool
lock_all(Swap *swap, LockTarget *blocked)
{
	List	   *held = NIL;

	for (;;)
	{
		List	   *targets;
		ListCell   *lc;
		bool		added = false;

		CHECK_FOR_INTERRUPTS();
		targets = lock_targets(swap);

		foreach(lc, targets)
		{
			LockTarget *target = lfirst(lc);
			ListCell   *lc2;
			bool		already = false;

			foreach(lc2, held)
			{
				LockTarget *h = lfirst(lc2);

				if (h->classid == target->classid && h->objid == target->objid)
				{
					already = true;
					break;
				}
			}
			if (already)
				continue;
			if (!lock_target(target, false))
			{
				*blocked = *target;
				return false;
			}
			held = lappend(held, target);
			added = true;
		}
		if (!added)
			return true;
		/* see what committed before we held the locks */
		AcceptInvalidationMessages();
	}
}

/* the schemas the swap renames or drops, then their relations */
static List *
lock_targets(Swap *swap)
{
	Oid			schemas[3];
	int			nschemas = 0;
	List	   *targets = NIL;
	Oid			types[1] = {OIDARRAYOID};
	Datum		values[1];
	uint64		i;
	int			k;
	int			ret;

	schemas[nschemas++] = swap->live_oid;
	if (OidIsValid(swap->staging_oid))
		schemas[nschemas++] = swap->staging_oid;
	if (OidIsValid(swap->keep_oid))
		schemas[nschemas++] = swap->keep_oid;

	for (k = 0; k < nschemas; k++)
	{
		LockTarget *target = palloc(sizeof(LockTarget));

		target->classid = NamespaceRelationId;
		target->objid = schemas[k];
		targets = lappend(targets, target);
	}

	values[0] = PointerGetDatum(construct_array((Datum *) schemas, nschemas, OIDOID,
												sizeof(Oid), true, TYPALIGN_INT));
	ret = ZdExecutePinned("SELECT oid FROM pg_catalog.pg_class"
								" WHERE relnamespace = ANY ($1)"
								"   AND relkind NOT IN ('i', 'I', 'c', 't')"
								" ORDER BY oid",
								1, types, values, NULL, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not list the relations to lock: %s", SPI_result_code_string(ret));
	for (i = 0; i < SPI_processed; i++)
	{
		LockTarget *target = palloc(sizeof(LockTarget));
		bool		isnull;

		target->classid = RelationRelationId;
		target->objid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
													   SPI_tuptable->tupdesc, 1, &isnull));
		targets = lappend(targets, target);
	}
	return targets;
}

static bool
lock_target(LockTarget *target, bool wait)
{
	LOCKTAG		tag;

	if (target->classid == RelationRelationId)
		SET_LOCKTAG_RELATION(tag, MyDatabaseId, target->objid);
	else
		SET_LOCKTAG_OBJECT(tag, MyDatabaseId, target->classid, target->objid, 0);
	return LockAcquire(&tag, AccessExclusiveLock, false, !wait) != LOCKACQUIRE_NOT_AVAIL;
}

/*
 * Wait for one lock while holding no other (nor the gate), under
 * zerodown.lock_timeout; keep it for the caller's subtransaction, or let it
 * go.  A timeout counts as a failed attempt, and returns false: after
 * zerodown.lock_retries of them the swap fails, naming who holds the lock.
 */
static bool
wait_alone(Swap *swap, LockTarget *target, int *failures, bool keep)
{
	char	   *what = describe_target(target);
	ErrorData  *edata = ZdTryUnderLockTimeout(lock_waiting, target, keep);

	if (edata == NULL)
		return true;
	if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE &&
		edata->sqlerrcode != ERRCODE_T_R_DEADLOCK_DETECTED)
		ReThrowError(edata);

	if (++(*failures) > zerodown_lock_retries)
		ereport(ERROR,
				(errcode(edata->sqlerrcode),
				 errmsg("could not swap schema \"%s\": %s on %s", swap->live,
						edata->message, what),
				 errdetail("It was tried %d times. %s", *failures, describe_holders(target)),
				 errhint("Raise zerodown.lock_timeout or zerodown.lock_retries, or publish when the sessions holding the locks have ended. Nothing was swapped.")));
	ereport(NOTICE,
			(errmsg("the swap of schema \"%s\" could not lock %s (attempt %d of %d), retrying",
					swap->live, what, *failures, zerodown_lock_retries + 1),
			 errdetail("%s", describe_holders(target))));
	ZdSleep(ZdRetryDelay(*failures));
	return false;
}

static void
lock_waiting(void *arg)
{
	(void) lock_target((LockTarget *) arg, true);
}

static char *
describe_target(LockTarget *target)
{
	if (target->classid == NamespaceRelationId)
	{
		char	   *name = get_namespace_name(target->objid);

		return psprintf("schema \"%s\"", name ? name : "?");
	}
	else
	{
		char	   *name = get_rel_name(target->objid);
		char	   *nsp = get_namespace_name(get_rel_namespace(target->objid));

		return psprintf("\"%s.%s\"", nsp ? nsp : "?", name ? name : "?");
	}
}

/* who holds the lock: pid, application, how long, query */
static char *
describe_holders(LockTarget *target)
{
	Oid			types[2] = {OIDOID, BOOLOID};
	Datum		values[2];
	int			ret;
	char	   *result = NULL;

	values[0] = ObjectIdGetDatum(target->objid);
	values[1] = BoolGetDatum(target->classid == RelationRelationId);
	ret = ZdExecutePinned("SELECT string_agg(pg_catalog.format('pid %s (application \"%s\", %s, transaction open %s) holds %s: %s',"
								"  l.pid, a.application_name, a.state,"
								"  date_trunc('second', clock_timestamp() - a.xact_start),"
								"  l.mode, left(a.query, 200)), '; ' ORDER BY a.xact_start)"
								" FROM pg_catalog.pg_locks l"
								" JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid"
								" WHERE l.granted AND l.pid <> pg_catalog.pg_backend_pid()"
								"  AND l.database = (SELECT oid FROM pg_catalog.pg_database"
								"                     WHERE datname = pg_catalog.current_database())"
								"  AND CASE WHEN $2 THEN l.locktype = 'relation' AND l.relation = $1"
								"      ELSE l.locktype = 'object' AND l.objid = $1 END",
								2, types, values, NULL, 1);
	if (ret == SPI_OK_SELECT && SPI_processed == 1)
		result = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	return result ? psprintf("Held by %s.", result) : "Its holder has ended since.";
}

/*
 * Publish: drop the old previous schema, live becomes the previous one,
 * staging becomes live.  Unpublish: live and the previous schema trade
 * names through a temporary one nobody else can see.
 */
static void
rename_schemas(Swap *swap)
{
	const char *live = quote_identifier(swap->live);
	const char *keep = quote_identifier(swap->keep);

	if (swap->unpublish)
	{
		char	   *tmp = psprintf("zerodown_swap_%d", MyProcPid);

		run_ddl(psprintf("ALTER SCHEMA %s RENAME TO %s", live, tmp));
		run_ddl(psprintf("ALTER SCHEMA %s RENAME TO %s", keep, live));
		run_ddl(psprintf("ALTER SCHEMA %s RENAME TO %s", tmp, keep));
		return;
	}

	if (OidIsValid(swap->keep_oid))
	{
		int			nestlevel = NewGUCNestLevel();

		/* "drop cascades to ..." for each object of a schema we drop whole */
		(void) set_config_option("client_min_messages", "warning",
								 PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		run_ddl(psprintf("DROP SCHEMA %s CASCADE", keep));
		AtEOXact_GUC(true, nestlevel);
	}
	run_ddl(psprintf("ALTER SCHEMA %s RENAME TO %s", live, keep));
	run_ddl(psprintf("ALTER SCHEMA %s RENAME TO %s",
					 quote_identifier(swap->staging), live));
}

static void
run_ddl(const char *sql)
{
	int			ret = SPI_execute(sql, false, 0);

	if (ret != SPI_OK_UTILITY)
		elog(ERROR, "could not run \"%s\": %s", sql, SPI_result_code_string(ret));
}

static int64
record_swap(Swap *swap)
{
	Oid			types[12] = {TEXTOID, NAMEOID, NAMEOID, NAMEOID, NAMEOID, TEXTARRAYOID,
	TEXTARRAYOID, BOOLOID, TIMESTAMPTZOID, INT8OID, INT4OID, NAMEOID};
	Datum		values[12];
	char		nulls[12] = "            ";
	Datum	   *elems;
	ListCell   *lc;
	int			n;
	int			ret;
	bool		isnull;
	char		namebufs[4][NAMEDATALEN];

	values[0] = CStringGetTextDatum(swap->unpublish ? "unpublish" : "publish");
	namestrcpy((Name) namebufs[0], swap->live);
	values[1] = NameGetDatum((Name) namebufs[0]);
	if (swap->staging)
	{
		namestrcpy((Name) namebufs[1], swap->staging);
		values[2] = NameGetDatum((Name) namebufs[1]);
	}
	else
		nulls[2] = 'n';
	namestrcpy((Name) namebufs[2], swap->keep);
	values[3] = NameGetDatum((Name) namebufs[2]);
	if (!swap->unpublish && OidIsValid(swap->keep_oid))
	{
		namestrcpy((Name) namebufs[3], swap->keep);
		values[4] = NameGetDatum((Name) namebufs[3]);
	}
	else
		nulls[4] = 'n';

	elems = palloc(sizeof(Datum) * (list_length(swap->audits) + 1));
	n = 0;
	foreach(lc, swap->audits)
		elems[n++] = CStringGetTextDatum(lfirst(lc));
	values[5] = PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));

	if (swap->forced != NIL)
	{
		elems = palloc(sizeof(Datum) * list_length(swap->forced));
		n = 0;
		foreach(lc, swap->forced)
			elems[n++] = CStringGetTextDatum(lfirst(lc));
		values[6] = PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
	}
	else
		nulls[6] = 'n';
	values[7] = BoolGetDatum(swap->use_gate);
	values[8] = TimestampTzGetDatum(swap->started);
	values[9] = Int64GetDatum(swap->swap_ended - swap->swap_started);
	values[10] = Int32GetDatum(swap->rounds);
	values[11] = ZdCallerName();

	ret = ZdCatalogExecute("INSERT INTO " ZD_PUBLISHES_TABLE
						   " (action, live, staging, previous, dropped, audits, result,"
						   "  forced_dependents, gated, started_at, duration, swap_duration,"
						   "  lock_rounds, role)"
						   " VALUES ($1, $2, $3, $4, $5, $6,"
						   "  CASE $1 WHEN 'publish' THEN 'published' ELSE 'unpublished' END,"
						   "  $7, $8, $9, clock_timestamp() - $9,"
						   "  $10 * interval '1 microsecond', $11, $12)"
						   " RETURNING id",
						   12, types, values, nulls, 1);
	if (ret != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "could not record the %s of schema \"%s\": %s",
			 swap->unpublish ? "unpublish" : "publish", swap->live,
			 SPI_result_code_string(ret));
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* the schema the last publish of live kept, or live_previous */
static char *
previous_schema_of(const char *live)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	int			ret;

	values[0] = CStringGetTextDatum(live);
	ret = ZdCatalogExecute("SELECT previous FROM " ZD_PUBLISHES_TABLE
						   " WHERE live = $1 ORDER BY id DESC LIMIT 1",
						   1, types, values, NULL, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read the publishes of \"%s\": %s", live,
			 SPI_result_code_string(ret));
	if (SPI_processed == 1)
		return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	return psprintf("%s%s", live, ZD_PREVIOUS_SUFFIX);
}

/* system schemas and zerodown's own are not the application's to swap or copy */
void
ZdCheckUserSchema(const char *name, Oid nspid, const char *role)
{
	if (IsCatalogNamespace(nspid) || IsToastNamespace(nspid) ||
		isAnyTempNamespace(nspid) || strcmp(name, "information_schema") == 0 ||
		strcmp(name, ZD_SCHEMA) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s schema \"%s\" is a system schema", role, name),
				 errhint("zerodown publishes and copies the application's own schemas.")));
}

static inline char *
CheckNameArg(FunctionCallInfo fcinfo, int arg, const char *what)
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

static inline Oid
CheckSchemaExists(const char *name, const char *role)
{
	Oid			nspid = get_namespace_oid(name, true);

	if (!OidIsValid(nspid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("%s schema \"%s\" does not exist", role, name),
				 errhint("Schema names are taken as written, without folding to lower case: pass 'Sales', not 'sales', for a schema created as \"Sales\".")));
	return nspid;
}

/* renaming the schema of zerodown's functions would take them along */
static inline void
CheckNotExtensionSchema(const char *name, Oid nspid)
{
	int			ret;

	ret = ZdExecutePinned("SELECT extnamespace FROM pg_catalog.pg_extension"
						  " WHERE extname = 'zerodown'", 0, NULL, NULL, NULL, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read pg_extension: %s", SPI_result_code_string(ret));
	if (SPI_processed == 1)
	{
		bool		isnull;
		Oid			extnsp = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
															SPI_tuptable->tupdesc, 1, &isnull));

		if (extnsp == nspid)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("schema \"%s\" holds extension \"zerodown\" and cannot be swapped", name),
					 errhint("Publish the application's data in its own schemas, or create zerodown in another schema.")));
	}
}

static inline void
CheckReadCommitted(const char *action)
{
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
				 errmsg("zerodown cannot %s in a %s transaction", action,
						IsolationIsSerializable() ? "SERIALIZABLE" : "REPEATABLE READ"),
				 errdetail("The swap must see the schemas' latest objects, not those of the transaction's snapshot."),
				 errhint("Run it in a READ COMMITTED transaction.")));
}

static inline int
CheckGateTimeout(FunctionCallInfo fcinfo, int arg)
{
	int			timeout_ms;

	if (PG_ARGISNULL(arg))
		return 0;
	timeout_ms = PG_GETARG_INT32(arg);
	if (timeout_ms < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("gate_timeout_ms must not be negative"),
				 errdetail("The timeout is in milliseconds; 0 waits as long as it takes.")));
	return timeout_ms;
}

/* an audit reads: no data-modifying WITH, no FOR UPDATE */
static inline void
CheckAuditReadOnly(SelectStmt *stmt, int number, const char *sql)
{
	bool		writes = stmt->lockingClause != NIL;
	ListCell   *lc;

	if (stmt->withClause != NULL)
		foreach(lc, stmt->withClause->ctes)
		{
			CommonTableExpr *cte = lfirst_node(CommonTableExpr, lc);

			if (!IsA(cte->ctequery, SelectStmt))
				writes = true;
		}
	if (writes)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("audit %d changes or locks rows", number),
				 errdetail("Audit %d: %s", number, ZdAbbreviate(sql, 200)),
				 errhint("An audit only reads: it runs read-only, without data-modifying WITH or FOR UPDATE.")));
}

/*
 * The swap renames (and drops) schemas, which only their owner may do, and
 * locks every relation in them: checked before any lock is requested.
 */
static inline void
CheckMaySwap(const char *name, Oid nspid, const char *action)
{
	if (!pg_namespace_ownercheck(nspid, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s schema \"%s\"", action, name),
				 errdetail("The swap renames schema \"%s\", and only its owner may rename it.", name),
				 errhint("Run it as the owner of the schemas, or as a member of that role.")));
	if (pg_database_aclcheck(MyDatabaseId, GetUserId(), ACL_CREATE) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s schema \"%s\"", action, name),
				 errdetail("Renaming a schema needs the CREATE privilege on the database."),
				 errhint("A superuser can run: GRANT CREATE ON DATABASE %s TO %s;",
						 quote_identifier(get_database_name(MyDatabaseId)),
						 quote_identifier(GetUserNameFromId(GetUserId(), false)))));
}

/*
 * A publish drops the previous schema it replaces: only one that a publish
 * or unpublish of the same live schema kept, never a schema that merely has
 * the name.
 */
static inline void
CheckKeptByPublish(const char *live, const char *keep)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	int			ret;

	values[0] = CStringGetTextDatum(live);
	values[1] = CStringGetTextDatum(keep);
	ret = ZdCatalogExecute("SELECT FROM " ZD_PUBLISHES_TABLE
						   " WHERE live = $1 AND previous = $2 LIMIT 1",
						   2, types, values, NULL, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read the publishes of \"%s\": %s", live,
			 SPI_result_code_string(ret));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_SCHEMA),
				 errmsg("schema \"%s\" exists and was not kept by a publish of \"%s\"", keep, live),
				 errdetail("A publish drops the previous schema it replaces, and only one that zerodown kept itself."),
				 errhint("Choose another name with keep => '...', or drop schema \"%s\" yourself if it is a leftover.",
						 keep)));
}
