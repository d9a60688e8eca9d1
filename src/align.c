/*-------------------------------------------------------------------------
 *
 * align.c
 *	  zd_align and zd_plan, and the step runner they share.
 *
 * zd_align runs in the caller's transaction and is all or nothing.  Each
 * step runs in a subtransaction with lock_timeout set to
 * zerodown.lock_timeout, statement by statement, so that a failure names the
 * patch, its file, the line and the statement.  A step that could not get a
 * lock in time is rolled back to its start and retried with jittered
 * exponential backoff, and each retry says who held the lock.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "align.h"
#include "blockers.h"
#include "catalog.h"
#include "check.h"
#include "common/backoff.h"
#include "contracts.h"
#include "deploy.h"
#include "patch.h"
#include "replica_lag.h"
#include "zerodown.h"

/* where a step was when it failed */
typedef struct StepProgress
{
	ZdStatement *statement;
	const char *file;
} StepProgress;

/* one attempt at a step, for ZdTryUnderLockTimeout */
typedef struct StepAttempt
{
	ZdStep	   *step;
	StepProgress *progress;
} StepAttempt;


/* zd_align_each runs: each step commits (for the failure hint) */
static bool commit_each_step = false;

/* the step whose text runs now, in this backend (NULL: none) */
static ZdStep *running_step = NULL;

bool		ZdRunningOutsideStep = false;

PG_FUNCTION_INFO_V1(zd_align);
PG_FUNCTION_INFO_V1(zd_align_each);
PG_FUNCTION_INFO_V1(zd_plan);

static void run_step(void *arg);
static void run_statements(List *statements, const char *file,
						   bool verify, StepProgress *progress);
static void check_verify_result(const char *file, ZdStatement *statement);
static bool is_lock_failure(ErrorData *edata);
static void wait_before_retry(ZdStep *step, StepProgress *progress,
							  int attempt, ErrorData *edata);
static void report_step_failure(ZdStep *step, StepProgress *progress,
								ErrorData *edata, int attempts, int from);

/*
 * zd_align(target integer, dry_run boolean) returns integer
 *
 * With dry_run, the steps run in a subtransaction that is rolled back, and
 * each one's duration and locks are reported as NOTICEs.
 */
Datum
zd_align(PG_FUNCTION_ARGS)
{
	bool		dry_run = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
	ZdPlan	   *plan;
	ListCell   *lc;
	int			reached;

	ZdCheckNotInPatch(dry_run ? "zd_align(dry_run => true)" : "zd_align");
	ZdCheckDeployer("align the database");

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	ZdLockAlign("align the database");
	plan = ZdMakePlan(PG_ARGISNULL(0) ? 0 : PG_GETARG_INT32(0), PG_ARGISNULL(0));
	if (dry_run)
		ZdDryRunNotices(plan);
	else
	{
		ZdCheckTransactional(plan);
		foreach(lc, plan->steps)
			ZdRunStep(lfirst(lc), plan->current, plan->target,
					  GetCurrentTimestamp(), 0);
	}

	reached = plan->target;
	SPI_finish();
	PG_RETURN_INT32(reached);
}

/*
 * CALL zd_align_each(target integer): as zd_align, but each step commits,
 * so that a failure leaves the database at the last good patch; one round
 * trip for a client that wants patch-by-patch commits (the zd client).  The
 * whole plan is checked first; each step then takes the align lock again
 * and checks that it is still the next one.
 */
Datum
zd_align_each(PG_FUNCTION_ARGS)
{
	CallContext *call = (CallContext *) fcinfo->context;
	ZdPlan	   *plan;
	int			from;
	int			target;

	if (call == NULL || !IsA(call, CallContext) || call->atomic)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
				 errmsg("zd_align_each commits each patch and cannot run inside a transaction block"),
				 errhint("CALL it on its own, outside BEGIN ... COMMIT, or use zd_align, which is all or nothing.")));
	ZdCheckNotInPatch("zd_align_each");
	ZdCheckDeployer("align the database");

	if (SPI_connect_ext(SPI_OPT_NONATOMIC) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ZdLockAlign("align the database");
	plan = ZdMakePlan(PG_ARGISNULL(0) ? 0 : PG_GETARG_INT32(0), PG_ARGISNULL(0));
	ZdCheckTransactional(plan);
	from = plan->current;
	target = plan->target;

	commit_each_step = true;
	PG_TRY();
	{
		for (;;)
		{
			int			current;
			bool		rollback;
			ZdStep	   *step;

			CHECK_FOR_INTERRUPTS();
			SPI_commit();
			ZdLockAlign("align the database");
			current = ZdReadVersion();
			if (current == target)
				break;
			rollback = current > target;
			(void) ZdWaitForReplicas(psprintf("zd_align_each to patch %d", target), NULL, NULL);
			step = ZdNextStep(rollback ? current : current + 1, rollback, &current);
			ZdRunStep(step, from, target, GetCurrentTimestamp(), 0);
		}
	}
	PG_FINALLY();
	{
		commit_each_step = false;
	}
	PG_END_TRY();
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * zd_plan(target integer) returns table (step, number, name, direction,
 * transactional, statements, file)
 */
Datum
zd_plan(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ZdPlan	   *plan;
	ListCell   *lc;
	int			n = 0;

	ZdCheckDeployer("plan an alignment");
	InitMaterializedSRF(fcinfo, 0);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	plan = ZdMakePlan(PG_ARGISNULL(0) ? 0 : PG_GETARG_INT32(0), PG_ARGISNULL(0));
	foreach(lc, plan->steps)
	{
		ZdStep	   *step = lfirst(lc);
		Datum		values[7];
		bool		nulls[7] = {0};

		values[0] = Int32GetDatum(++n);
		values[1] = Int32GetDatum(step->patch->number);
		values[2] = CStringGetTextDatum(step->patch->name);
		values[3] = CStringGetTextDatum(step->rollback ? "rollback" : "build");
		values[4] = BoolGetDatum(step->transactional);
		values[5] = Int32GetDatum(list_length(step->statements) +
								  list_length(step->verify));
		values[6] = CStringGetTextDatum(step->file);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	SPI_finish();
	return (Datum) 0;
}

/*
 * Run one step in a subtransaction of the current transaction, and record
 * it.  An error other than a lock failure, or a lock failure after
 * zerodown.lock_retries retries, ends the caller's transaction.  A step whose
 * statements already ran outside a transaction comes with no statements:
 * only its verify runs here, and the history counts its earlier attempts.
 */
void
ZdRunStep(ZdStep *step, int from, int to, TimestampTz started,
		  int prior_attempts)
{
	int			attempt;

	if (ZdCurrentDeployment != 0)
		pgstat_report_activity(STATE_RUNNING,
							   psprintf("zerodown: deployment %lld: %s patch %d \"%s\" (%d to %d)",
										(long long) ZdCurrentDeployment,
										step->rollback ? "rolling back" : "applying",
										step->patch->number, step->patch->name, from, to));
	else
		pgstat_report_activity(STATE_RUNNING,
							   psprintf("zerodown: %s patch %d \"%s\" (aligning %d to %d)",
										step->rollback ? "rolling back" : "building",
										step->patch->number, step->patch->name,
										from, to));

	for (attempt = 1;; attempt++)
	{
		StepProgress progress = {0};
		StepAttempt this = {step, &progress};
		ErrorData  *edata;

		CHECK_FOR_INTERRUPTS();
		edata = ZdTryUnderLockTimeout(run_step, &this, true);

		if (edata == NULL)
			break;
		if (!is_lock_failure(edata) || attempt > zerodown_lock_retries)
			report_step_failure(step, &progress, edata, attempt, from);
		wait_before_retry(step, &progress, attempt, edata);
	}

	ZdRecordStep(step->patch, step->rollback, started, prior_attempts + attempt,
				 step->vars_used);
}

static void
run_step(void *arg)
{
	StepAttempt *this = arg;
	ZdStep	   *outer = running_step;
	char	   *search_path = ZdPatchSearchPath();

	/* undone with the attempt's GUC nest level, as lock_timeout is */
	if (search_path != NULL)
		(void) set_config_option("search_path", search_path,
								 PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	/* expansions record the patch that expanded or contracted them */
	ZdCurrentPatch = this->step->rollback ? 0 : this->step->patch->number;
	running_step = this->step;
	PG_TRY();
	{
		run_statements(this->step->statements, this->step->file, false, this->progress);
		run_statements(this->step->verify, this->step->verify_file, true, this->progress);
	}
	PG_FINALLY();
	{
		running_step = outer;
		ZdCurrentPatch = 0;
	}
	PG_END_TRY();
}

/*
 * Patch text that calls zerodown back (SELECT zd_align(0) in a patch, or
 * zd_align(1) in patch 1 itself) would move the version under the
 * alignment that runs it, or recurse until the stack gives out.  The
 * functions that align, register, set variables, deploy or move the gate
 * refuse to run inside a patch; expand, backfill, contract, publish and
 * sync are made to be called from one.
 */
void
ZdCheckNotInPatch(const char *function)
{
	if (running_step == NULL && !ZdRunningOutsideStep)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("%s cannot be called from inside a patch", function),
			 running_step != NULL ?
			 errdetail("It was called by the %s of patch %d \"%s\", which zerodown is running; nothing more was run.",
					   running_step->rollback ? "rollback" : "build",
					   running_step->patch->number, running_step->patch->name) :
			 errdetail("It was called by a statement of a patch that zerodown runs outside a transaction; nothing more was run."),
			 errhint("Remove the call from the patch: align, register, set variables, deploy and open or close the gate from outside, before or after the alignment.")));
}

/*
 * Run work(arg) in a subtransaction of the current transaction, with
 * lock_timeout set to zerodown.lock_timeout.  Every setting the work
 * changes (a patch's SET, SET ROLE, set_config) is undone when it ends, as
 * a function's SET clause scopes its settings: a patch's settings never
 * outlive its step.  On success the subtransaction is kept (keep) or rolled back, and
 * NULL is returned; on an error it is rolled back and the error returned,
 * for the caller to retry or report.  Every lock zerodown waits for on a
 * live database goes through here.
 */
ErrorData *
ZdTryUnderLockTimeout(void (*work) (void *arg), void *arg, bool keep)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		int			nestlevel = NewGUCNestLevel();

		(void) set_config_option("lock_timeout",
								 psprintf("%d", zerodown_lock_timeout),
								 PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		work(arg);
		AtEOXact_GUC(false, nestlevel);
		if (keep)
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
	return edata;
}

static void
run_statements(List *statements, const char *file, bool verify,
			   StepProgress *progress)
{
	ListCell   *lc;

	progress->file = file;
	foreach(lc, statements)
	{
		ZdStatement *statement = lfirst(lc);
		int			ret;

		progress->statement = statement;
		ret = SPI_execute(statement->sql, false, 0);
		if (ret < 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("statement cannot run in a patch: %s",
							SPI_result_code_string(ret)),
					 errhint("COPY FROM STDIN and transaction control cannot run inside a patch.")));
		if (verify && lnext(statements, lc) == NULL)
			check_verify_result(file, statement);
	}
}

/*
 * A verify file fails when it raises an error, or when its last statement
 * returns a row whose first column is false or NULL (as pgTAP's ok() does:
 * bool_and() over no rows is NULL, not a pass).
 */
static void
check_verify_result(const char *file, ZdStatement *statement)
{
	uint64		i;

	if (SPI_tuptable == NULL || SPI_tuptable->tupdesc->natts < 1 ||
		SPI_gettypeid(SPI_tuptable->tupdesc, 1) != BOOLOID)
		return;
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		value = SPI_getbinval(SPI_tuptable->vals[i],
										  SPI_tuptable->tupdesc, 1, &isnull);

		if (isnull || !DatumGetBool(value))
			ereport(ERROR,
					(errcode(ERRCODE_ASSERT_FAILURE),
					 errmsg("verify returned %s", isnull ? "NULL" : "false"),
					 errhint("The verify file's last statement must return true in its first column for the patch to pass.")));
	}
}

static bool
is_lock_failure(ErrorData *edata)
{
	return edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE ||
		edata->sqlerrcode == ERRCODE_T_R_DEADLOCK_DETECTED;
}

/*
 * Say who held the lock, then sleep: the first pause is
 * zerodown.lock_retry_delay, doubled on each retry up to one minute, with
 * the actual pause drawn between half and all of it so that competing
 * deployers do not retry in step.
 */
static void
wait_before_retry(ZdStep *step, StepProgress *progress, int attempt,
				  ErrorData *edata)
{
	int			delay = ZdRetryDelay(attempt);

	ereport(NOTICE,
			(errmsg("patch %d \"%s\" could not get its locks (attempt %d of %d), retrying in %d ms",
					step->patch->number, step->patch->name, attempt,
					zerodown_lock_retries + 1, delay),
			 errdetail("%s at %s, line %d: %s. %s",
					   edata->message,
					   progress->file,
					   progress->statement ? progress->statement->line : 0,
					   progress->statement ? ZdAbbreviate(progress->statement->sql, 120) : "",
					   progress->statement ? ZdDescribeBlockers(progress->statement->parsetree) : "")));

	ZdSleep(delay);
}

/*
 * The pause before retry number attempt, in milliseconds, by the formula zd
 * shares (src/common/backoff.c), from zerodown.lock_retry_delay.  Every retry
 * of a lock zerodown waited for uses it.
 */
int
ZdRetryDelay(int attempt)
{
	return ZdBackoffDelay(zerodown_lock_retry_delay, attempt);
}

/* sleep ms milliseconds on the latch, answering interrupts */
void
ZdSleep(int ms)
{
	TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), Max(ms, 0));
	long		remaining;

	CHECK_FOR_INTERRUPTS();
	while ((remaining = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), until)) > 0)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 remaining, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Raise the step's error again, naming the patch, its file, the line and the
 * statement, and keeping the original SQLSTATE.
 */
static void
report_step_failure(ZdStep *step, StepProgress *progress, ErrorData *edata,
					int attempts, int from)
{
	ZdStatement *statement = progress->statement;
	char	   *where;

	if (statement != NULL)
		where = ZdDescribeStatement(progress->file, statement,
									ZdStatementErrorLine(statement,
														 edata->internalquery,
														 edata->internalpos));
	else
		where = pstrdup(step->file);

	if (is_lock_failure(edata))
		ereport(ERROR,
				(errcode(edata->sqlerrcode),
				 errmsg("patch %d \"%s\" failed: %s", step->patch->number,
						step->patch->name, edata->message),
				 errdetail("%s%sIt was tried %d times. %s", where,
						   strchr(where, '\n') ? "\n" : ". ", attempts,
						   statement ? ZdDescribeBlockers(statement->parsetree) : ""),
				 errhint("Raise zerodown.lock_timeout or zerodown.lock_retries, or deploy when the sessions holding the locks have ended. The database stays at patch %d.",
						 from)));

	ereport(ERROR,
			(errcode(edata->sqlerrcode),
			 errmsg("patch %d \"%s\" failed: %s", step->patch->number,
					step->patch->name, edata->message),
			 edata->detail ?
			 errdetail("%s%s\n%s", where, strchr(where, '\n') ? "" : ".", edata->detail) :
			 errdetail("%s%s", where, strchr(where, '\n') ? "" : "."),
			 edata->hint ?
			 errhint("%s", edata->hint) :
			 step->statements == NIL && step->verify != NIL ?
			 errhint("The patch's statements ran outside a transaction and stay applied; the database stays at patch %d until its verify passes.", from) :
			 ZdCurrentDeployment != 0 || commit_each_step ?
			 errhint("Each patch commits on its own: the database stays at patch %d, the one before this patch.",
					 step->rollback ? step->patch->number : step->patch->number - 1) :
			 errhint("zd_align is all or nothing: the database stays at patch %d.", from),
			 edata->context ? errcontext("%s", edata->context) : 0));
}
