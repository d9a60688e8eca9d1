/*-------------------------------------------------------------------------
 *
 * deploy.c
 *	  zd_deploy, zd_deploy_wait and zd_deploy_cancel: queueing deployments
 *	  for the background worker, and waiting for them.
 *
 * zd_deploy checks the plan as zd_align would, records the deployment as
 * queued and wakes the worker when the caller commits (before, the worker
 * could not see the row).  The worker broadcasts a condition variable on
 * each change of state, so zd_deploy_wait sleeps instead of polling.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/condition_variable.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "align.h"
#include "args.h"
#include "catalog.h"
#include "deploy.h"
#include "gate.h"
#include "plan.h"
#include "shmem.h"
#include "zerodown.h"

int64		ZdCurrentDeployment = 0;

static bool wake_worker_at_commit = false;

PG_FUNCTION_INFO_V1(zd_deploy);
PG_FUNCTION_INFO_V1(zd_deploy_wait);
PG_FUNCTION_INFO_V1(zd_deploy_cancel);

static void deploy_xact_callback(XactEvent event, void *arg);
static bool is_final(const char *state);
static inline void CheckWorkerDatabase(void);
static inline void CheckNotHoldingGate(void);
static void CheckNoTransactionAhead(int64 id);
static void report_unknown_deployment(int64 id);

void
ZdDeployInit(void)
{
	RegisterXactCallback(deploy_xact_callback, NULL);
}

static void
deploy_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT && wake_worker_at_commit)
		ZdWakeWorker();
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT)
		wake_worker_at_commit = false;
}

/*
 * zd_deploy(target integer) returns bigint: the deployment's id
 */
Datum
zd_deploy(PG_FUNCTION_ARGS)
{
	Oid			types[2] = {INT4OID, NAMEOID};
	Datum		values[2];
	ZdPlan	   *plan;
	bool		isnull;
	int64		id;
	int			ret;

	ZdCheckNotInPatch("zd_deploy");
	ZdCheckDeployer("deploy");
	ZdCheckPreloaded("zd_deploy");
	CheckWorkerDatabase();

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = ZdMakePlan(PG_ARGISNULL(0) ? 0 : PG_GETARG_INT32(0), PG_ARGISNULL(0));
	values[0] = Int32GetDatum(plan->target);
	values[1] = ZdCallerName();
	ret = ZdCatalogExecute("INSERT INTO " ZD_DEPLOYMENTS_TABLE " (target, from_version, requested_by)"
						   " VALUES ($1, (SELECT coalesce(max(number), 0) FROM " ZD_APPLIED_TABLE "), $2)"
						   " RETURNING id",
						   2, types, values, NULL, 1);
	if (ret != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "could not queue deployment: %s", SPI_result_code_string(ret));
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();

	wake_worker_at_commit = true;
	PG_RETURN_INT64(id);
}

/*
 * zd_deploy_wait(id bigint, timeout_ms integer) returns text: the final
 * state, or the current one when the timeout ran out first
 */
Datum
zd_deploy_wait(PG_FUNCTION_ARGS)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	int			timeout_ms;
	TimestampTz until;
	char	   *state = NULL;

	ZdCheckNotNull(fcinfo, 0, "id");
	timeout_ms = ZdTimeoutArg(fcinfo, 1);
	ZdCheckNotInPatch("zd_deploy_wait");
	ZdCheckPreloaded("zd_deploy_wait");
	CheckNotHoldingGate();
	CheckNoTransactionAhead(PG_GETARG_INT64(0));
	until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
	values[0] = PG_GETARG_DATUM(0);

	ConditionVariablePrepareToSleep(&ZdSharedState->deployment_cv);
	for (;;)
	{
		bool		isnull;
		TransactionId xmin;
		long		remaining;
		int			ret;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		ret = ZdCatalogExecute("SELECT state, xmin FROM " ZD_DEPLOYMENTS_TABLE
							   " WHERE id = $1",
							   1, types, values, NULL, 1);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "could not read deployment: %s", SPI_result_code_string(ret));
		if (SPI_processed == 0)
			report_unknown_deployment(DatumGetInt64(values[0]));
		state = pstrdup(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
		xmin = DatumGetTransactionId(SPI_getbinval(SPI_tuptable->vals[0],
												   SPI_tuptable->tupdesc, 2, &isnull));
		SPI_finish();

		if (TransactionIdIsCurrentTransactionId(xmin) && !is_final(state))
			ereport(ERROR,
					(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
					 errmsg("deployment %lld was queued by this transaction",
							(long long) DatumGetInt64(values[0])),
					 errdetail("The worker cannot see it before this transaction commits."),
					 errhint("Commit, then call zd_deploy_wait.")));
		if (is_final(state))
			break;
		remaining = timeout_ms == 0 ? 1000 :
			TimestampDifferenceMilliseconds(GetCurrentTimestamp(), until);
		if (remaining <= 0)
			break;
		/* a missed broadcast costs at most a second */
		(void) ConditionVariableTimedSleep(&ZdSharedState->deployment_cv,
										   Min(remaining, 1000), PG_WAIT_EXTENSION);
		CHECK_FOR_INTERRUPTS();
	}
	ConditionVariableCancelSleep();
	PG_RETURN_TEXT_P(cstring_to_text(state));
}

/*
 * zd_deploy_cancel(id bigint) returns boolean: a queued deployment is
 * cancelled; one the worker has started cannot be
 */
Datum
zd_deploy_cancel(PG_FUNCTION_ARGS)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	int			ret;

	ZdCheckNotNull(fcinfo, 0, "id");
	ZdCheckNotInPatch("zd_deploy_cancel");
	ZdCheckDeployer("cancel deployments");
	values[0] = PG_GETARG_DATUM(0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = ZdCatalogExecute("UPDATE " ZD_DEPLOYMENTS_TABLE
						   " SET state = 'cancelled', finished_at = now()"
						   " WHERE id = $1 AND state = 'queued'"
						   " RETURNING pg_catalog.pg_notify('" ZD_NOTIFY_CHANNEL "', id || ' cancelled')",
						   1, types, values, NULL, 1);
	if (ret != SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "could not cancel deployment: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
	{
		ret = ZdCatalogExecute("SELECT state FROM " ZD_DEPLOYMENTS_TABLE " WHERE id = $1",
							   1, types, values, NULL, 1);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "could not read deployment: %s", SPI_result_code_string(ret));
		if (SPI_processed == 0)
			report_unknown_deployment(DatumGetInt64(values[0]));
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("deployment %lld is %s and cannot be cancelled",
						(long long) DatumGetInt64(values[0]),
						SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1)),
				 errhint("Only a queued deployment can be cancelled; a running one commits patch by patch and stops at the first failure.")));
	}
	SPI_finish();
	if (ZdSharedState != NULL)
		ConditionVariableBroadcast(&ZdSharedState->deployment_cv);
	PG_RETURN_BOOL(true);
}

static bool
is_final(const char *state)
{
	return strcmp(state, "done") == 0 || strcmp(state, "failed") == 0 ||
		strcmp(state, "cancelled") == 0 || strcmp(state, "interrupted") == 0;
}

static inline void
CheckWorkerDatabase(void)
{
	char	   *dbname = get_database_name(MyDatabaseId);

	if (strcmp(dbname, zerodown_database) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the zerodown worker serves database \"%s\", not \"%s\"",
						zerodown_database, dbname),
				 errdetail("The worker runs the deployments of one database, the one zerodown.database names."),
				 errhint("To deploy this database, set zerodown.database to \"%s\" in postgresql.conf, or run ALTER SYSTEM SET zerodown.database = %s; then restart the server.",
						 dbname, quote_literal_cstr(dbname))));
}

/* a session that holds the gate shared would keep the deployment draining */
static inline void
CheckNotHoldingGate(void)
{
	if (ZdGateHeldShared())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("a managed session cannot wait for a deployment"),
				 errdetail("This session holds the deployment gate shared, so the deployment would wait for it."),
				 errhint("Wait from a session that is not managed: SET zerodown.managed = off, or end the job with zd_job_end().")));
}

/*
 * A no-transaction patch (CREATE INDEX CONCURRENTLY) waits for every
 * transaction with an older snapshot, this waiting call included.  Refuse
 * rather than hold the deployment up.
 */
static void
CheckNoTransactionAhead(int64 id)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(id)};
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = ZdCatalogExecute("SELECT p.number FROM " ZD_DEPLOYMENTS_TABLE " d"
								" JOIN " ZD_PATCHES_TABLE " p ON"
								"  (p.number > coalesce(d.to_version, d.from_version)"
								"   AND p.number <= d.target AND NOT p.build_transactional)"
								"  OR (p.number <= coalesce(d.to_version, d.from_version)"
								"   AND p.number > d.target AND NOT p.rollback_transactional)"
								" WHERE d.id = $1 AND d.state IN ('queued', 'draining', 'applying')"
								" ORDER BY p.number LIMIT 1",
								1, types, values, NULL, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read deployment: %s", SPI_result_code_string(ret));
	if (SPI_processed == 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot wait in SQL for deployment %lld: patch %s runs outside a transaction",
						(long long) id,
						SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1)),
				 errdetail("CREATE INDEX CONCURRENTLY and the like wait for every transaction that holds a snapshot, and this call would hold one while it waits."),
				 errhint("Wait with the zd client (\"zd deploy --wait\"), which holds no snapshot, or poll zerodown.deployments from short transactions.")));
	SPI_finish();
}

/* the id that zd_deploy_wait or zd_deploy_cancel was given is unknown */
static void
report_unknown_deployment(int64 id)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("deployment %lld does not exist", (long long) id),
			 errhint("See zerodown.deployments for the deployments queued in this database.")));
}
