/*-------------------------------------------------------------------------
 *
 * gate.c
 *	  The deployment gate (seed 000's "block file"), as an advisory lock.
 *
 * One lock per database, under zerodown's two-key class: a deployer holds it
 * in ExclusiveLock, managed jobs in ShareLock.  Because the lock manager
 * queues a new ShareLock request behind a waiting ExclusiveLock, closing the
 * gate stops new jobs at once while the running ones finish; when the
 * deployer releases it, the queued jobs are granted the same instant.  A
 * crashed holder's lock goes with its process, so the gate can never stay
 * closed by a dead deployer.
 *
 * Jobs hold the gate in two ways:
 *	- zd_job_begin(name) / zd_job_end(): a session-level lock across many
 *	  transactions (an ETL run);
 *	- zerodown.managed = on: every top-level transaction holds the gate
 *	  shared from its first statement (executor or utility hook) to its end,
 *	  which also works through a transaction-pooling connection pooler.
 *
 * A managed transaction must cost next to nothing while no deployment is
 * near, so it takes no lock then.  As PostgreSQL's fast-path relation locks
 * do, it announces itself in its shared-memory slot instead, then reads the
 * count of deployers closing a gate: if there is none, it marks itself
 * running and goes on; else it withdraws and takes the lock.  A deployer
 * raises that count first, takes the lock (which waits for the jobs and the
 * managed transactions holding it for real), then waits, through the lock
 * manager, for the virtual transaction of each running fast-path
 * transaction of its database, after letting any announcement in flight
 * settle.  A full barrier between each side's write and read makes sure
 * that one of the two always sees the other.  A gate needs the library
 * preloaded: a session that never loaded it cannot be managed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "storage/lock.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "mb/pg_wchar.h"
#include "storage/procarray.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "align.h"
#include "args.h"
#include "catalog.h"
#include "gate.h"
#include "shmem.h"
#include "zerodown.h"

PG_FUNCTION_INFO_V1(zd_job_begin);
PG_FUNCTION_INFO_V1(zd_job_end);
PG_FUNCTION_INFO_V1(zd_gate_close);
PG_FUNCTION_INFO_V1(zd_gate_open);
PG_FUNCTION_INFO_V1(zd_job_slots);

/* how this session holds the gate */
static int	job_depth = 0;		/* zd_job_begin nesting */
static bool gate_closed_by_me = false;
static bool managed_lock_held = false;	/* in this transaction */
static bool managed_fast = false;	/* ... announced in the slot, no lock */
static bool counted_closing = false;	/* in ZdSharedState->closing */

static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static ProcessUtility_hook_type prev_ProcessUtility = NULL;

static void gate_tag(LOCKTAG *tag);
static void gate_acquire(LOCKMODE mode, bool session, int timeout_ms,
						 const char *who);
static void managed_enter(bool settings_only);
static bool may_run_job(void);
static inline void CheckMayRunJob(const char *what);
static void gate_ExecutorStart(QueryDesc *queryDesc, int eflags);
static void gate_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
								bool readOnlyTree, ProcessUtilityContext context,
								ParamListInfo params, QueryEnvironment *queryEnv,
								DestReceiver *dest, QueryCompletion *qc);
static void gate_xact_callback(XactEvent event, void *arg);
static void set_job_slot(const char *name);
static bool managed_enter_fast(void);
static void managed_leave_fast(void);
static void wait_for_fast_managed(int timeout_ms);
static void count_closing(bool closing);
static void gate_exit(int code, Datum arg);
static void gate_release_exclusive(void);
static void set_safe_waiter(bool waiting);

void
ZdGateInit(void)
{
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = gate_ExecutorStart;
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = gate_ProcessUtility;
	RegisterXactCallback(gate_xact_callback, NULL);
}

static void
gate_tag(LOCKTAG *tag)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, ZD_LOCK_CLASS, ZD_LOCK_GATE, 2);
}

/*
 * Take the gate in mode, waiting up to timeout_ms (0: as long as it
 * takes).  The first try does not wait; it still queues behind a waiting
 * deployer, as the lock manager keeps the queue fair.  A job that times out
 * gets its own message here; the deployer's is ZdGateClose's.
 */
static void
gate_acquire(LOCKMODE mode, bool session, int timeout_ms, const char *who)
{
	LOCKTAG		tag;
	int			save_lock_timeout = LockTimeout;
	MemoryContext oldcontext = CurrentMemoryContext;
	bool		safe_waiter;

	gate_tag(&tag);
	if (LockAcquire(&tag, mode, session, true) != LOCKACQUIRE_NOT_AVAIL)
		return;

	safe_waiter = mode == ShareLock && !IsolationUsesXactSnapshot() &&
		(MyProc->statusFlags & PROC_IN_SAFE_IC) == 0;
	if (safe_waiter)
		set_safe_waiter(true);
	LockTimeout = timeout_ms;
	PG_TRY();
	{
		(void) LockAcquire(&tag, mode, session, false);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		LockTimeout = save_lock_timeout;
		if (safe_waiter)
			set_safe_waiter(false);
		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE || mode != ShareLock)
			PG_RE_THROW();
		FlushErrorState();
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("%s waited %d ms at the closed deployment gate", who, timeout_ms),
				 errdetail("A deployment holds the gate of this database; the job did not start."),
				 errhint("Run it again when the deployment has ended (see zd_gate_status()), or raise zerodown.gate_timeout (0 waits as long as it takes).")));
	}
	PG_END_TRY();
	LockTimeout = save_lock_timeout;
	if (safe_waiter)
		set_safe_waiter(false);
}

/*
 * A job or managed transaction waiting at the closed gate reads nothing, yet
 * its statement holds a snapshot, and CREATE INDEX CONCURRENTLY in the
 * deployment waits for every older snapshot: the deployment would wait for
 * the job that waits for the deployment.  Marked while it waits as
 * PostgreSQL marks a safe concurrent index build (PROC_IN_SAFE_IC), the
 * waiter is skipped by those snapshot waits; its xmin still holds back
 * VACUUM.  This is sound because the statement that waits was planned
 * before any index the deployment builds, and under READ COMMITTED the
 * statements after it take new snapshots; a transaction snapshot
 * (REPEATABLE READ) would be used again after the wait, so it is not
 * marked.
 */
static void
set_safe_waiter(bool waiting)
{
	LWLockAcquire(ProcArrayLock, LW_EXCLUSIVE);
	if (waiting)
		MyProc->statusFlags |= PROC_IN_SAFE_IC;
	else
		MyProc->statusFlags &= ~PROC_IN_SAFE_IC;
	ProcGlobal->statusFlags[MyProc->pgxactoff] = MyProc->statusFlags;
	LWLockRelease(ProcArrayLock);
}

/*
 * zerodown.managed: the first statement of each top-level transaction takes
 * the gate shared until the transaction ends.  Only members of
 * zerodown_job may hold the gate (a job that holds it makes deployments
 * wait, then fail): another role's statements are refused, but for the
 * SET, RESET and SHOW that let it turn the setting off.
 */
static void
managed_enter(bool settings_only)
{
	if (!zerodown_managed || managed_lock_held || job_depth > 0 ||
		gate_closed_by_me || IsParallelWorker() || !IsTransactionState())
		return;
	if (!may_run_job())
	{
		if (settings_only)
			return;
		CheckMayRunJob("With zerodown.managed = on, each transaction");
	}
	managed_lock_held = true;
	if (managed_enter_fast())
		return;

	/*
	 * The lock belongs to the top-level transaction, so that rolling back to
	 * a savepoint taken before this statement does not release it.
	 */
	{
		ResourceOwner save_owner = CurrentResourceOwner;

		CurrentResourceOwner = TopTransactionResourceOwner;
		PG_TRY();
		{
			gate_acquire(ShareLock, false, zerodown_gate_timeout, "managed transaction");
		}
		PG_CATCH();
		{
			CurrentResourceOwner = save_owner;
			managed_lock_held = false;
			PG_RE_THROW();
		}
		PG_END_TRY();
		CurrentResourceOwner = save_owner;
	}
}

/*
 * Announce a managed transaction in this backend's slot; true when no
 * deployer is closing a gate, so it may run without the lock.
 */
static bool
managed_enter_fast(void)
{
	ZdJobSlot  *slot = ZdMyJobSlot();

	if (slot == NULL)
		return false;
	slot->managed_pid = MyProcPid;
	slot->managed_db = MyDatabaseId;
	slot->managed_lxid = MyProc->lxid;
	slot->managed_since = GetCurrentTransactionStartTimestamp();
	pg_atomic_write_u32(&slot->managed_state, ZD_MANAGED_ANNOUNCING);
	pg_memory_barrier();
	if (pg_atomic_read_u32(&ZdSharedState->closing) == 0)
	{
		pg_atomic_write_u32(&slot->managed_state, ZD_MANAGED_HELD);
		managed_fast = true;
		return true;
	}
	pg_atomic_write_u32(&slot->managed_state, ZD_MANAGED_NONE);
	return false;
}

/* the fast-path managed transaction ended (a waiting deployer sees its vxid go) */
static void
managed_leave_fast(void)
{
	managed_fast = false;
	pg_atomic_write_u32(&ZdMyJobSlot()->managed_state, ZD_MANAGED_NONE);
}

static void
gate_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	managed_enter(false);
	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

static void
gate_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
					bool readOnlyTree, ProcessUtilityContext context,
					ParamListInfo params, QueryEnvironment *queryEnv,
					DestReceiver *dest, QueryCompletion *qc)
{
	if (!IsA(pstmt->utilityStmt, TransactionStmt))
		managed_enter(IsA(pstmt->utilityStmt, VariableSetStmt) ||
					  IsA(pstmt->utilityStmt, VariableShowStmt));
	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context,
							params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}

/* the transaction-level lock went with the transaction */
static void
gate_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			if (managed_fast)
				managed_leave_fast();
			managed_lock_held = false;
			break;
		default:
			break;
	}
}

/*
 * zd_job_begin(name text) returns void: this session runs a managed job
 * until zd_job_end() or until it ends.  Nested calls only count.
 */
Datum
zd_job_begin(PG_FUNCTION_ARGS)
{
	char	   *name;

	ZdCheckNotNull(fcinfo, 0, "name");
	ZdCheckNotInPatch("zd_job_begin");
	CheckMayRunJob("A job started with zd_job_begin");
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (gate_closed_by_me)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("this session holds the deployment gate closed"),
				 errhint("Open it with zd_gate_open() before starting a job.")));
	if (job_depth++ > 0)
		PG_RETURN_VOID();

	set_job_slot(name);
	PG_TRY();
	{
		gate_acquire(ShareLock, true, zerodown_gate_timeout,
					 psprintf("job \"%s\"", name));
	}
	PG_CATCH();
	{
		job_depth = 0;
		set_job_slot(NULL);
		PG_RE_THROW();
	}
	PG_END_TRY();
	PG_RETURN_VOID();
}

/*
 * zd_job_end() returns void
 */
Datum
zd_job_end(PG_FUNCTION_ARGS)
{
	LOCKTAG		tag;

	ZdCheckNotInPatch("zd_job_end");
	if (job_depth == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no managed job is running in this session"),
				 errhint("Call zd_job_begin(name) first.")));
	if (--job_depth > 0)
		PG_RETURN_VOID();

	gate_tag(&tag);
	(void) LockRelease(&tag, ShareLock, true);
	set_job_slot(NULL);
	PG_RETURN_VOID();
}

/*
 * May the current role hold the gate as a managed job: a member of
 * zerodown_job, or a superuser.  Before ALTER EXTENSION zerodown UPDATE
 * has created the role (the 0.1.0 schema on this library), any role may,
 * as in 0.1.0, so that jobs do not stop in the middle of an upgrade.
 */
static bool
may_run_job(void)
{
	Oid			job_role;

	if (superuser())
		return true;
	job_role = get_role_oid(ZD_JOB_ROLE, true);
	if (!OidIsValid(job_role))
		return true;
	return has_privs_of_role(GetUserId(), job_role);
}

static inline void
CheckMayRunJob(const char *what)
{
	if (may_run_job())
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to run a managed job"),
			 errdetail("%s holds the deployment gate, which makes deployments wait for it and fail after zerodown.drain_timeout; only members of role \"%s\" may hold it.",
					   what, ZD_JOB_ROLE),
			 errhint("A superuser can run: GRANT %s TO %s; or SET zerodown.managed = off.",
					 ZD_JOB_ROLE, quote_identifier(GetUserNameFromId(GetUserId(), false)))));
}

/*
 * The check hook of zerodown.managed: a role that may not hold the gate
 * cannot turn it on with SET (ALTER ROLE ... SET and the server's settings
 * take effect at login, where each statement is then refused).
 */
bool
ZdCheckManaged(bool *newval, void **extra, GucSource source)
{
	if (!*newval || source < PGC_S_INTERACTIVE || !IsTransactionState() ||
		!IsNormalProcessingMode() || may_run_job())
		return true;
	GUC_check_errcode(ERRCODE_INSUFFICIENT_PRIVILEGE);
	GUC_check_errmsg("permission denied to set zerodown.managed");
	GUC_check_errdetail("A managed session holds the deployment gate, which makes deployments wait for it; only members of role \"%s\" may hold it.",
						ZD_JOB_ROLE);
	GUC_check_errhint("A superuser can run: GRANT %s TO %s;",
					  ZD_JOB_ROLE, quote_identifier(GetUserNameFromId(GetUserId(), false)));
	return false;
}

/* does this session hold the gate shared (a job, or a managed transaction)? */
bool
ZdGateHeldShared(void)
{
	return job_depth > 0 || managed_lock_held;
}

/* record (or clear, with NULL) this session's job name for zd_gate_status */
static void
set_job_slot(const char *name)
{
	ZdJobSlot  *slot = ZdMyJobSlot();
	int			len = 0;

	if (slot == NULL)
		return;
	/* a longer name is cut on a character boundary, never inside one */
	if (name != NULL)
		len = pg_mbcliplen(name, strlen(name), NAMEDATALEN - 1);
	LWLockAcquire(ZdSharedState->lock, LW_EXCLUSIVE);
	if (name == NULL)
		slot->pid = 0;
	else
	{
		slot->pid = MyProcPid;
		slot->dboid = MyDatabaseId;
		slot->since = GetCurrentTimestamp();
		memcpy(slot->name, name, len);
		slot->name[len] = '\0';
	}
	LWLockRelease(ZdSharedState->lock);
}

/*
 * Close the gate for this session: wait for the running jobs (up to
 * timeout_ms, 0: as long as it takes) while new ones queue.  Returns false
 * when this session had closed it already.
 */
bool
ZdGateClose(int timeout_ms)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	TimestampTz close_started;

	if (gate_closed_by_me)
		return false;
	if (job_depth > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("this session runs a managed job and cannot close the deployment gate"),
				 errhint("End the job with zd_job_end() first.")));

	/*
	 * Wait in a subtransaction, so that after a timeout the error can list
	 * the jobs still running.  The session lock outlives the subtransaction.
	 */
	close_started = GetCurrentTimestamp();
	count_closing(true);
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		TimestampTz start = GetCurrentTimestamp();
		int			remaining_ms = timeout_ms;

		gate_acquire(ExclusiveLock, true, timeout_ms, "deployment");
		if (timeout_ms > 0)
			remaining_ms = Max(1, timeout_ms -
							   (int) TimestampDifferenceMilliseconds(start, GetCurrentTimestamp()));
		wait_for_fast_managed(remaining_ms);
		ReleaseCurrentSubTransaction();
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
		gate_release_exclusive();
		count_closing(false);
		if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
			ReThrowError(edata);
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("could not close the deployment gate within %d ms", timeout_ms),
				 errdetail("Jobs still running: %s. The gate is open again.",
						   ZdGateJobsText(close_started)),
				 errhint("Wait for the jobs to end, or raise the timeout.")));
	}
	PG_END_TRY();
	gate_closed_by_me = true;
	return true;
}

/* the session lock survives a subtransaction's abort: drop it if we got it */
static void
gate_release_exclusive(void)
{
	LOCKTAG		tag;

	gate_tag(&tag);
	if (LockHeldByMe(&tag, ExclusiveLock))
		(void) LockRelease(&tag, ExclusiveLock, true);
}

/*
 * Wait until the managed transactions that run on the fast path in this
 * database have ended; new ones see the closing count and queue at the lock.
 * Each wait is on the transaction's virtual xid, through the lock manager,
 * so it shows in pg_locks and pg_blocking_pids and obeys the timeout.
 */
static void
wait_for_fast_managed(int timeout_ms)
{
	int			save_lock_timeout = LockTimeout;
	volatile int i;

	if (ZdSharedState == NULL)
		return;
	for (i = 0; i < ZdSharedState->nslots; i++)
	{
		ZdJobSlot  *slot = &ZdSharedState->jobs[i];
		VirtualTransactionId vxid;
		uint32		state;

		/*
		 * An announcement in flight settles within a few instructions; the
		 * wait still answers cancel and terminate.
		 */
		while ((state = pg_atomic_read_u32(&slot->managed_state)) == ZD_MANAGED_ANNOUNCING)
		{
			CHECK_FOR_INTERRUPTS();
			pg_spin_delay();
		}
		pg_read_barrier();
		if (state != ZD_MANAGED_HELD || slot->managed_db != MyDatabaseId)
			continue;

		vxid.backendId = i + 1;
		vxid.localTransactionId = slot->managed_lxid;
		LockTimeout = timeout_ms;
		PG_TRY();
		{
			(void) VirtualXactLock(vxid, true);
		}
		PG_FINALLY();
		{
			LockTimeout = save_lock_timeout;
		}
		PG_END_TRY();
	}
}

/*
 * Count this session among the deployers closing or holding a gate, so that
 * managed transactions stop taking the fast path; undone when the session
 * ends, however it ends.
 */
static void
count_closing(bool closing)
{
	static bool exit_registered = false;

	if (ZdSharedState == NULL || counted_closing == closing)
		return;
	if (closing)
	{
		if (!exit_registered)
		{
			before_shmem_exit(gate_exit, (Datum) 0);
			exit_registered = true;
		}
		pg_atomic_fetch_add_u32(&ZdSharedState->closing, 1);
	}
	else
		pg_atomic_fetch_sub_u32(&ZdSharedState->closing, 1);
	counted_closing = closing;
}

static void
gate_exit(int code, Datum arg)
{
	count_closing(false);
}

void
ZdGateOpen(void)
{
	LOCKTAG		tag;

	if (!gate_closed_by_me)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("this session does not hold the deployment gate"),
				 errdetail("Only the session that closed the gate can open it; a crashed deployer's gate opens by itself."),
				 errhint("See zd_gate_status() for who holds it.")));
	gate_tag(&tag);
	(void) LockRelease(&tag, ExclusiveLock, true);
	gate_closed_by_me = false;
	count_closing(false);
}

/*
 * zd_gate_close(timeout_ms integer) returns boolean
 */
Datum
zd_gate_close(PG_FUNCTION_ARGS)
{
	int			timeout_ms = ZdTimeoutArg(fcinfo, 0);

	ZdCheckNotInPatch("zd_gate_close");
	ZdCheckDeployer("close the deployment gate");
	ZdCheckPreloaded("zd_gate_close");
	PG_RETURN_BOOL(ZdGateClose(timeout_ms));
}

/*
 * zd_gate_open() returns void
 */
Datum
zd_gate_open(PG_FUNCTION_ARGS)
{
	ZdCheckNotInPatch("zd_gate_open");
	ZdGateOpen();
	PG_RETURN_VOID();
}

/*
 * zd_job_slots() returns table (pid, job, since): the named jobs of this
 * database, and the managed transactions running on the fast path (job
 * NULL), for the view zerodown.gate_jobs
 */
Datum
zd_job_slots(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	if (ZdSharedState == NULL)
		return (Datum) 0;

	LWLockAcquire(ZdSharedState->lock, LW_SHARED);
	for (i = 0; i < ZdSharedState->nslots; i++)
	{
		ZdJobSlot  *slot = &ZdSharedState->jobs[i];
		Datum		values[3];
		bool		nulls[3] = {0};

		if (slot->pid != 0 && slot->dboid == MyDatabaseId)
		{
			values[0] = Int32GetDatum(slot->pid);
			values[1] = CStringGetTextDatum(slot->name);
			values[2] = TimestampTzGetDatum(slot->since);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
		if (pg_atomic_read_u32(&slot->managed_state) == ZD_MANAGED_HELD &&
			slot->managed_db == MyDatabaseId)
		{
			values[0] = Int32GetDatum(slot->managed_pid);
			nulls[1] = true;
			values[2] = TimestampTzGetDatum(slot->managed_since);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			nulls[1] = false;
		}
	}
	LWLockRelease(ZdSharedState->lock);
	return (Datum) 0;
}

/*
 * "pid 123 (etl, since ...)" for each job that held the gate shared since
 * before the given time (the ones that queued behind a deployer that then
 * gave up are not what it waited for)
 */
char *
ZdGateJobsText(TimestampTz before)
{
	Oid			types[1] = {TIMESTAMPTZOID};
	Datum		values[1] = {TimestampTzGetDatum(before)};
	char	   *result = "none";
	bool		connected = SPI_connect() == SPI_OK_CONNECT;
	int			ret;

	if (!connected)
		return result;
	ret = ZdExecutePinned("SELECT string_agg(format('pid %s (%s, since %s)', pid, job,"
						  " date_trunc('second', since)), '; ' ORDER BY since)"
						  " FROM zerodown.gate_jobs WHERE status = 'running' AND since < $1",
						  1, types, values, NULL, 1);
	if (ret == SPI_OK_SELECT && SPI_processed == 1)
	{
		char	   *text = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (text != NULL)
		{
			result = SPI_palloc(strlen(text) + 1);
			strcpy(result, text);
		}
	}
	SPI_finish();
	return result;
}
