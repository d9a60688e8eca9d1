/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  The background worker that runs queued deployments.
 *
 * One worker, started by the postmaster when zerodown is preloaded, serves
 * the database named by zerodown.database.  On every start it first settles
 * what a crash or a stop left: a deployment left draining or applying is
 * marked interrupted (the gate opened by itself when the process died, and
 * the patch in progress was rolled back).  Then it sleeps on its latch, which
 * zd_deploy sets when the queueing transaction commits.
 *
 * A deployment: check the plan, close the gate (waiting up to
 * zerodown.drain_timeout for running jobs while new ones queue), apply the
 * patches one transaction each, recording every step, and open the gate.
 * The worker holds the gate at session level, outside any transaction, so a
 * no-transaction patch (CREATE INDEX CONCURRENTLY) never waits on the
 * worker's own snapshot.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "parser/analyze.h"
#include "parser/parser.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/ps_status.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "align.h"
#include "catalog.h"
#include "deploy.h"
#include "gate.h"
#include "patch.h"
#include "plan.h"
#include "replica_lag.h"
#include "shmem.h"
#include "worker.h"
#include "zerodown.h"

#define ZD_WORKER_NAPTIME_MS	10000
#define ZD_WORKER_RESTART_S		5

/* what a deployment is doing, kept across its transactions */
typedef struct Deployment
{
	int64		id;
	int			target;
	int			from;
	int			reached;
	TimestampTz gate_opened;	/* 0: the gate was never closed */
	char	   *error;
} Deployment;

typedef void (*TransactionWork) (Deployment *deployment);

static MemoryContext worker_context = NULL;
static MemoryContext statement_context = NULL;	/* one top-level statement */

static void worker_exit(int code, Datum arg);
static void register_worker(void);
static bool extension_ready(void);
static void settle_interrupted(void);
static bool claim_next(Deployment *deployment);
static void run_deployment(Deployment *deployment);
static bool run_in_transaction(TransactionWork work, Deployment *deployment);
static void check_plan(Deployment *deployment);
static void close_gate(Deployment *deployment);
static void apply_next_step(Deployment *deployment);
static void run_outside_transaction(Deployment *deployment, ZdStep *step);
static ErrorData *try_execute_top_level(const char *sql);
static void execute_top_level(const char *sql);
static List *invalid_indexes(void);
static void drop_leftover_index(const char *sql);
static void drop_new_invalid_indexes(List *before);
static void set_state(Deployment *deployment, const char *state);
static void notify(int64 id, const char *state);
static void finish(Deployment *deployment, const char *state);
static void lock_align_session(bool lock);
static void report(const char *fmt,...) pg_attribute_printf(1, 2);

void
ZdWorkerRegister(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = ZD_WORKER_RESTART_S;
	strlcpy(worker.bgw_library_name, "zerodown", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "ZdWorkerMain", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "zerodown launcher", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "zerodown launcher", BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}

void
ZdWorkerMain(Datum main_arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	worker_context = AllocSetContextCreate(TopMemoryContext, "zerodown worker",
										   ALLOCSET_DEFAULT_SIZES);
	statement_context = AllocSetContextCreate(TopMemoryContext, "zerodown statement",
											  ALLOCSET_DEFAULT_SIZES);
	register_worker();
	BackgroundWorkerInitializeConnection(zerodown_database, NULL, 0);
	pgstat_report_appname("zerodown worker");
	SetConfigOption("zerodown.managed", "off", PGC_SUSET, PGC_S_OVERRIDE);

	settle_interrupted();

	for (;;)
	{
		Deployment	deployment;

		MemoryContextReset(worker_context);
		MemoryContextSwitchTo(worker_context);
		while (claim_next(&deployment))
		{
			run_deployment(&deployment);
			MemoryContextReset(worker_context);
		}
		pgstat_report_activity(STATE_IDLE, NULL);

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 ZD_WORKER_NAPTIME_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
}

/* the worker is a singleton: its pid and latch live in shared memory */
static void
register_worker(void)
{
	LWLockAcquire(ZdSharedState->lock, LW_EXCLUSIVE);
	if (ZdSharedState->worker_pid != 0)
	{
		pid_t		other = ZdSharedState->worker_pid;

		LWLockRelease(ZdSharedState->lock);
		ereport(LOG,
				(errmsg("zerodown worker already running under pid %d", (int) other)));
		proc_exit(0);
	}
	ZdSharedState->worker_pid = MyProcPid;
	ZdSharedState->worker_latch = MyLatch;
	LWLockRelease(ZdSharedState->lock);
	before_shmem_exit(worker_exit, (Datum) 0);
}

static void
worker_exit(int code, Datum arg)
{
	LWLockAcquire(ZdSharedState->lock, LW_EXCLUSIVE);
	ZdSharedState->worker_pid = 0;
	ZdSharedState->worker_latch = NULL;
	ZdSharedState->deployment = 0;
	LWLockRelease(ZdSharedState->lock);
}

/* is the extension installed in the database we serve? (in a transaction) */
static bool
extension_ready(void)
{
	return OidIsValid(get_extension_oid("zerodown", true));
}

/*
 * A deployment left draining or applying belongs to a worker that died or
 * was stopped: its open patch was rolled back and its gate lock went with
 * it.  Mark it interrupted, never "applying" forever.
 */
static void
settle_interrupted(void)
{
	int			ret;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (extension_ready())
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		pgstat_report_activity(STATE_RUNNING, "zerodown: settling interrupted deployments");
		ret = ZdCatalogExecute("UPDATE " ZD_DEPLOYMENTS_TABLE " d"
						  " SET state = 'interrupted', finished_at = now(),"
						  "  to_version = v.version,"
						  "  error = format('the deployment was interrupted while %s (worker stopped or server crashed); "
						  "the patch in progress was rolled back and the database stands at patch %s; "
						  "queue it again to finish', d.state, v.version)"
						  " FROM (SELECT coalesce(max(number), 0) AS version FROM " ZD_APPLIED_TABLE ") v"
						  " WHERE d.state IN ('draining', 'applying')"
						  " RETURNING d.id",
						  0, NULL, NULL, NULL, 0);
		if (ret != SPI_OK_UPDATE_RETURNING)
			elog(ERROR, "could not settle deployments: %s", SPI_result_code_string(ret));
		if (SPI_processed > 0)
		{
			SPITupleTable *settled = SPI_tuptable;
			uint64		n = SPI_processed;
			uint64		i;

			ereport(LOG,
					(errmsg("zerodown worker marked %llu interrupted deployment(s)",
							(unsigned long long) n)));
			for (i = 0; i < n; i++)
			{
				bool		isnull;

				notify(DatumGetInt64(SPI_getbinval(settled->vals[i], settled->tupdesc, 1, &isnull)),
					   "interrupted");
			}
		}
		SPI_finish();
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	ConditionVariableBroadcast(&ZdSharedState->deployment_cv);
}

/* take the oldest queued deployment, if any, and mark it draining */
static bool
claim_next(Deployment *deployment)
{
	bool		found = false;
	int			ret;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (extension_ready())
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		ret = ZdCatalogExecute("UPDATE " ZD_DEPLOYMENTS_TABLE " SET state = 'draining', started_at = now(),"
						  "  from_version = (SELECT coalesce(max(number), 0) FROM " ZD_APPLIED_TABLE ")"
						  " WHERE id = (SELECT id FROM " ZD_DEPLOYMENTS_TABLE
						  "   WHERE state = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)"
						  " RETURNING id, target, from_version",
						  0, NULL, NULL, NULL, 1);
		if (ret != SPI_OK_UPDATE_RETURNING)
			elog(ERROR, "could not claim a deployment: %s", SPI_result_code_string(ret));
		if (SPI_processed == 1)
		{
			bool		isnull;
			HeapTuple	tuple = SPI_tuptable->vals[0];
			TupleDesc	desc = SPI_tuptable->tupdesc;

			memset(deployment, 0, sizeof(Deployment));
			deployment->id = DatumGetInt64(SPI_getbinval(tuple, desc, 1, &isnull));
			deployment->target = DatumGetInt32(SPI_getbinval(tuple, desc, 2, &isnull));
			deployment->from = DatumGetInt32(SPI_getbinval(tuple, desc, 3, &isnull));
			deployment->reached = deployment->from;
			found = true;
			notify(deployment->id, "draining");
		}
		SPI_finish();
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(worker_context);
	if (found)
	{
		LWLockAcquire(ZdSharedState->lock, LW_EXCLUSIVE);
		ZdSharedState->deployment = deployment->id;
		LWLockRelease(ZdSharedState->lock);
		ConditionVariableBroadcast(&ZdSharedState->deployment_cv);
	}
	return found;
}

static void
run_deployment(Deployment *deployment)
{
	ZdCurrentDeployment = deployment->id;
	report("zerodown: deployment %lld: checking the plan to patch %d",
		   (long long) deployment->id, deployment->target);

	lock_align_session(true);
	if (run_in_transaction(check_plan, deployment) &&
		run_in_transaction(close_gate, deployment))
	{
		while (deployment->reached != deployment->target &&
			   ZdReplicaLagPause(psprintf("deployment %lld at patch %d", (long long) deployment->id,
										  deployment->reached), &deployment->error) &&
			   run_in_transaction(apply_next_step, deployment))
			;
		ZdGateOpen();
		deployment->gate_opened = GetCurrentTimestamp();
	}
	lock_align_session(false);

	finish(deployment, deployment->error == NULL ? "done" : "failed");
	ZdCurrentDeployment = 0;
	LWLockAcquire(ZdSharedState->lock, LW_EXCLUSIVE);
	ZdSharedState->deployment = 0;
	LWLockRelease(ZdSharedState->lock);
}

/*
 * Run work in its own transaction, connected to SPI.  An error aborts the
 * transaction and becomes the deployment's error; returns whether the work
 * succeeded.
 */
static bool
run_in_transaction(TransactionWork work, Deployment *deployment)
{
	volatile bool ok = true;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	PG_TRY();
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		work(deployment);
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(worker_context);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		deployment->error = psprintf("%s%s%s%s%s", edata->message,
									 edata->detail ? "\nDETAIL: " : "",
									 edata->detail ? edata->detail : "",
									 edata->hint ? "\nHINT: " : "",
									 edata->hint ? edata->hint : "");
		ereport(LOG,
				(errmsg("zerodown deployment %lld failed: %s",
						(long long) deployment->id, edata->message),
				 edata->detail ? errdetail_internal("%s", edata->detail) : 0));
		ok = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(worker_context);
	return ok;
}

/* everything zd_align checks, before the gate closes */
static void
check_plan(Deployment *deployment)
{
	(void) ZdMakePlan(deployment->target, false);
}

/* wait for the running jobs while new ones queue */
static void
close_gate(Deployment *deployment)
{
	report("zerodown: deployment %lld: closing the gate, waiting for running jobs",
		   (long long) deployment->id);
	(void) ZdGateClose(zerodown_drain_timeout);
	set_state(deployment, "applying");
}

/*
 * One step toward the target, in this transaction when the patch allows it,
 * else statement by statement outside one.
 */
static void
apply_next_step(Deployment *deployment)
{
	int			current = ZdReadVersion();
	bool		rollback = current > deployment->target;
	int			reaches = rollback ? current - 1 : current + 1;
	ZdStep	   *step;

	deployment->reached = current;
	if (current == deployment->target)
		return;
	step = ZdNextStep(rollback ? current : current + 1, rollback, &current);
	report("zerodown: deployment %lld: %s patch %d \"%s\" (%d to %d)",
		   (long long) deployment->id, rollback ? "rolling back" : "applying",
		   step->patch->number, step->patch->name, deployment->from,
		   deployment->target);

	/* a step outside a transaction commits the memory step lives in */
	if (step->transactional)
		ZdRunStep(step, current, deployment->target, GetCurrentTimestamp(), 0);
	else
		run_outside_transaction(deployment, step);
	deployment->reached = reaches;
}

/*
 * A no-transaction step: commit the current transaction, run each statement
 * at top level in its own, then record the step in a new transaction.  A
 * failed CREATE INDEX CONCURRENTLY leaves an invalid index: drop it.  A
 * statement that hits the lock timeout is retried from that statement on.
 */
static void
run_outside_transaction(Deployment *deployment, ZdStep *step)
{
	MemoryContext oldcontext;
	List	   *statements;
	TimestampTz started = GetCurrentTimestamp();
	ListCell   *lc;
	int			attempts = 1;
	int			patch = step->patch->number;
	bool		rollback = step->rollback;
	char	   *name;
	char	   *file;
	char	   *search_path;
	char	   *saved_search_path;
	int			current;

	/* what outlives this transaction is copied out of it */
	oldcontext = MemoryContextSwitchTo(worker_context);
	search_path = ZdPatchSearchPath();
	saved_search_path = pstrdup(GetConfigOption("search_path", false, false));
	name = pstrdup(step->patch->name);
	file = pstrdup(step->file);
	statements = NIL;
	foreach(lc, step->statements)
		statements = lappend(statements, pstrdup(((ZdStatement *) lfirst(lc))->sql));
	MemoryContextSwitchTo(oldcontext);

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(worker_context);

	SetConfigOption("lock_timeout", psprintf("%d", zerodown_lock_timeout),
					PGC_SUSET, PGC_S_SESSION);
	if (search_path != NULL)
		SetConfigOption("search_path", search_path, PGC_SUSET, PGC_S_SESSION);
	foreach(lc, statements)
	{
		drop_leftover_index(lfirst(lc));
		for (;;)
		{
			List	   *before = invalid_indexes();
			ErrorData  *edata;

			/* the patch's statement may not call zerodown back */
			ZdRunningOutsideStep = true;
			edata = try_execute_top_level(lfirst(lc));
			ZdRunningOutsideStep = false;

			if (edata == NULL)
				break;

			drop_new_invalid_indexes(before);
			if (edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE &&
				attempts <= zerodown_lock_retries)
			{
				ZdSleep(ZdRetryDelay(attempts));
				attempts++;
				continue;
			}
			SetConfigOption("lock_timeout", "0", PGC_SUSET, PGC_S_SESSION);
			SetConfigOption("search_path", saved_search_path, PGC_SUSET, PGC_S_SESSION);
			ereport(ERROR,
					(errcode(edata->sqlerrcode),
					 errmsg("patch %d \"%s\" failed: %s", patch, name, edata->message),
					 errdetail("%s: %s", file, ZdAbbreviate(lfirst(lc), 200)),
					 errhint("The statements before it stay applied; any index it left invalid was dropped.")));
		}
	}
	SetConfigOption("lock_timeout", "0", PGC_SUSET, PGC_S_SESSION);
	SetConfigOption("search_path", saved_search_path, PGC_SUSET, PGC_S_SESSION);

	/* verify and record in a new transaction, which the caller commits */
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ZdLockAlign("run patches");
	step = ZdNextStep(patch, rollback, &current);
	step->statements = NIL;
	ZdRunStep(step, current, deployment->target, started, attempts - 1);
}

/* execute_top_level, returning its error (the transaction aborted) or NULL */
static ErrorData *
try_execute_top_level(const char *sql)
{
	ErrorData  *volatile edata = NULL;

	PG_TRY();
	{
		execute_top_level(sql);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(worker_context);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(worker_context);
	return edata;
}

/*
 * Run one statement the way a client's simple query does, at top level and
 * outside a transaction block, so that CREATE INDEX CONCURRENTLY can manage
 * its own transactions.  Its parse and plan trees live in
 * statement_context, not in the transaction's memory, because such a
 * statement commits the transaction it started in (exec_simple_query keeps
 * them in MessageContext for the same reason).
 */
static void
execute_top_level(const char *sql)
{
	List	   *parsetrees;
	ListCell   *lc;

	MemoryContextReset(statement_context);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	MemoryContextSwitchTo(statement_context);
	parsetrees = pg_parse_query(sql);
	foreach(lc, parsetrees)
	{
		RawStmt    *parsetree = lfirst_node(RawStmt, lc);
		bool		snapshot_set = false;
		List	   *querytrees;
		List	   *plantrees;
		Portal		portal;
		DestReceiver *receiver;
		QueryCompletion qc;

		if (analyze_requires_snapshot(parsetree))
		{
			PushActiveSnapshot(GetTransactionSnapshot());
			snapshot_set = true;
		}
		querytrees = pg_analyze_and_rewrite_fixedparams(parsetree, sql, NULL, 0, NULL);
		plantrees = pg_plan_queries(querytrees, sql, CURSOR_OPT_PARALLEL_OK, NULL);
		if (snapshot_set)
			PopActiveSnapshot();

		portal = CreatePortal("", true, true);
		portal->visible = false;
		PortalDefineQuery(portal, NULL, sql, CreateCommandTag(parsetree->stmt),
						  plantrees, NULL);
		PortalStart(portal, NULL, 0, InvalidSnapshot);
		receiver = CreateDestReceiver(DestNone);
		InitializeQueryCompletion(&qc);
		(void) PortalRun(portal, FETCH_ALL, true, true, receiver, receiver, &qc);
		receiver->rDestroy(receiver);
		PortalDrop(portal, false);
		MemoryContextSwitchTo(statement_context);
	}
	CommitTransactionCommand();
	MemoryContextSwitchTo(worker_context);
	MemoryContextReset(statement_context);
}

static List *
invalid_indexes(void)
{
	List	   *oids = NIL;
	uint64		i;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (ZdCatalogExecute("SELECT indexrelid FROM pg_catalog.pg_index WHERE NOT indisvalid",
						 0, NULL, NULL, NULL, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not list invalid indexes");
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		MemoryContext oldcontext = MemoryContextSwitchTo(worker_context);

		oids = lappend_oid(oids, DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
																SPI_tuptable->tupdesc,
																1, &isnull)));
		MemoryContextSwitchTo(oldcontext);
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(worker_context);
	return oids;
}

/*
 * A CREATE INDEX CONCURRENTLY that a crash or a stop interrupted leaves an
 * invalid index of the same name behind; drop it before running the
 * statement again.
 */
static void
drop_leftover_index(const char *sql)
{
	Oid			types[2] = {TEXTOID, OIDOID};
	Datum		values[2];
	List	   *raw = raw_parser(sql, RAW_PARSE_DEFAULT);
	IndexStmt  *stmt;
	char	   *name = NULL;

	if (list_length(raw) != 1 || !IsA(linitial_node(RawStmt, raw)->stmt, IndexStmt))
		return;
	stmt = (IndexStmt *) linitial_node(RawStmt, raw)->stmt;
	if (!stmt->concurrent || stmt->idxname == NULL)
		return;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* the table as the statement names it, under the search_path it runs with */
	values[0] = CStringGetTextDatum(stmt->idxname);
	values[1] = ObjectIdGetDatum(RangeVarGetRelid(stmt->relation, NoLock, true));
	if (ZdCatalogExecute("SELECT i.indexrelid::regclass::text"
						 " FROM pg_catalog.pg_index i"
						 " JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid"
						 " WHERE NOT i.indisvalid AND c.relname = $1"
						 "  AND c.relnamespace = (SELECT relnamespace FROM pg_catalog.pg_class"
						 "                        WHERE oid = $2)",
						 2, types, values, NULL, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look for a leftover index");
	if (SPI_processed == 1)
		name = MemoryContextStrdup(worker_context,
								   SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(worker_context);

	if (name != NULL)
	{
		ereport(LOG,
				(errmsg("zerodown: dropping invalid index %s left by an interrupted run", name)));
		execute_top_level(psprintf("DROP INDEX CONCURRENTLY IF EXISTS %s", name));
	}
}

/* a failed CREATE INDEX CONCURRENTLY leaves an invalid index: drop it */
static void
drop_new_invalid_indexes(List *before)
{
	List	   *after = invalid_indexes();
	ListCell   *lc;

	foreach(lc, after)
	{
		Oid			index = lfirst_oid(lc);
		char	   *name;

		if (list_member_oid(before, index))
			continue;
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		name = pstrdup(quote_qualified_identifier(get_namespace_name(get_rel_namespace(index)),
												  get_rel_name(index)));
		CommitTransactionCommand();
		MemoryContextSwitchTo(worker_context);
		ereport(LOG,
				(errmsg("zerodown: dropping invalid index %s left by a failed patch", name)));
		execute_top_level(psprintf("DROP INDEX CONCURRENTLY IF EXISTS %s", name));
	}
}

/* the deployment's new state, seen by zd_deploy_wait at commit */
static void
set_state(Deployment *deployment, const char *state)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2];
	int			ret;

	values[0] = Int64GetDatum(deployment->id);
	values[1] = CStringGetTextDatum(state);
	ret = ZdCatalogExecute("UPDATE " ZD_DEPLOYMENTS_TABLE " SET state = $2,"
						   " gate_closed_at = CASE WHEN $2 = 'applying' THEN clock_timestamp()"
						   "  ELSE gate_closed_at END"
						   " WHERE id = $1",
						   2, types, values, NULL, 0);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "could not update deployment: %s", SPI_result_code_string(ret));
	notify(deployment->id, state);
}

/*
 * NOTIFY zerodown_deployment, 'id state' at commit: clients wait with LISTEN,
 * holding no snapshot.
 */
static void
notify(int64 id, const char *state)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	values[0] = CStringGetTextDatum(psprintf("%lld %s", (long long) id, state));
	if (ZdCatalogExecute("SELECT pg_catalog.pg_notify('" ZD_NOTIFY_CHANNEL "', $1)",
						 1, types, values, NULL, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not notify deployment state");
}

/* record how the deployment ended, and wake who waits for it */
static void
finish(Deployment *deployment, const char *state)
{
	Oid			types[5] = {INT8OID, TEXTOID, INT4OID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[5];
	char		nulls[5] = "     ";
	int			ret;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	values[0] = Int64GetDatum(deployment->id);
	values[1] = CStringGetTextDatum(state);
	values[2] = Int32GetDatum(ZdReadVersion());
	values[3] = deployment->error ? CStringGetTextDatum(deployment->error) : (Datum) 0;
	nulls[3] = deployment->error ? ' ' : 'n';
	values[4] = TimestampTzGetDatum(deployment->gate_opened);
	nulls[4] = deployment->gate_opened != 0 ? ' ' : 'n';
	ret = ZdCatalogExecute("UPDATE " ZD_DEPLOYMENTS_TABLE " SET state = $2,"
						   " finished_at = clock_timestamp(), to_version = $3, error = $4,"
						   " gate_opened_at = $5"
						   " WHERE id = $1",
						   5, types, values, nulls, 0);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "could not finish deployment: %s", SPI_result_code_string(ret));
	notify(deployment->id, state);
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(worker_context);
	ConditionVariableBroadcast(&ZdSharedState->deployment_cv);
	report("zerodown: deployment %lld %s at patch %d", (long long) deployment->id,
		   state, deployment->reached);
}

/*
 * Hold the align lock at session level for the whole deployment, so that no
 * zd_align or zd client runs between its transactions.
 */
static void
lock_align_session(bool lock)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, ZD_LOCK_CLASS, ZD_LOCK_ALIGN, 2);
	if (lock)
	{
		StartTransactionCommand();
		(void) LockAcquire(&tag, ExclusiveLock, true, false);
		CommitTransactionCommand();
		MemoryContextSwitchTo(worker_context);
	}
	else
		(void) LockRelease(&tag, ExclusiveLock, true);
}

/* what the worker does, in pg_stat_activity and the process title */
static void
report(const char *fmt,...)
{
	char		buf[256];
	va_list		args;

	va_start(args, fmt);
	vsnprintf(buf, sizeof(buf), fmt, args);
	va_end(args);
	pgstat_report_activity(STATE_RUNNING, buf);
	set_ps_display(buf);
}
