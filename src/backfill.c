/*-------------------------------------------------------------------------
 *
 * backfill.c
 *	  zd_backfill: fill the new shape of an expansion for the rows that
 *	  existed before its triggers, in committed keyset batches.
 *
 * Rows written since the expansion went through its triggers and are right
 * already; the backfill visits only keys up to the watermark (the highest
 * primary key at expand time), so a busy insert stream cannot make it chase
 * its tail.  Within that range it touches only the rows that still need it
 * (a column expansion: all new columns NULL; a table expansion: a parent
 * with mapped values and no child row), so a row a writer already set is
 * never overwritten.  Each batch runs in a subtransaction under
 * zerodown.lock_timeout, retried on a lock timeout or a deadlock, and when
 * the procedure is called outside a transaction block each batch commits, so
 * no row lock is held longer than one batch.  The batch's end key and the
 * counts are committed with it: stopping (cancel, crash) loses at most the
 * batch in flight, and running the procedure again goes on from there.
 *
 * Progress shows in zerodown.expansion_status (rows done, total, rate, time
 * left, the backend's pid), in the backend's pg_stat_activity line, and as a
 * NOTICE every ZD_NOTICE_INTERVAL_MS.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "backfill.h"
#include "align.h"
#include "catalog.h"
#include "expand.h"
#include "replica_lag.h"
#include "trigger.h"
#include "zerodown.h"

#define ZD_NOTICE_INTERVAL_MS		10000
#define ZD_MAX_BATCH_SIZE			1000000

/* one backfill run */
typedef struct Backfill
{
	ZdExpansion *e;
	int			batch_size;
	int			pause;			/* ms between batches */
	bool		commit;			/* called non-atomically: commit per batch */
	char	   *label;			/* "users (email_normalized)" */
	char	   *select_first;	/* the next batch's end key, from the start */
	char	   *select_next;	/* ... after $1 */
	char	   *write_first;	/* fill the rows of a batch */
	char	   *write_next;
	char	   *lock_first;		/* table expansions: lock the batch's parents */
	char	   *lock_next;
	Oid			key_input;		/* the key type's input function */
	Oid			key_ioparam;
	TimestampTz run_started;
	int64		run_rows;
	int64		rows_done;
	int64		rows_written;
	int64		batches;
	double		longest_ms;
	double		replica_wait_ms;	/* waited for lagging standbys */
	TimestampTz last_notice;
	MemoryContext run_cxt;		/* what lives for the whole call */
} Backfill;

/* what one batch did */
typedef struct BatchResult
{
	bool		stopped;		/* the expansion is no longer expanded */
	bool		finished;		/* no rows left up to the watermark */
	int64		visited;
	int64		written;
	char	   *end_key;
} BatchResult;

PG_FUNCTION_INFO_V1(zd_backfill);

static void run_backfill(Backfill *b);
static void prepare_statements(Backfill *b);
static void start_run(Backfill *b);
static void run_batch(Backfill *b, BatchResult *result);
/* one attempt at a batch, for ZdTryUnderLockTimeout */
typedef struct BatchAttempt
{
	Backfill   *b;
	BatchResult *result;
	TimestampTz started;
} BatchAttempt;

static ErrorData *try_batch(Backfill *b, BatchResult *result);
static void attempt_batch(void *arg);
static void batch_work(Backfill *b, BatchResult *result, TimestampTz started);
static int64 fill_columns(Backfill *b, const char *lower, const char *upper);
static int64 fill_children(Backfill *b, const char *lower, const char *upper);
static int64 execute_range(Backfill *b, const char *sql, const char *lower,
						   const char *upper, int expected);
static Datum key_datum(Backfill *b, const char *text);
static void report_progress(Backfill *b, bool force);
static double rows_per_second(Backfill *b);
static void commit_batch(Backfill *b);
static void record_replica_wait(void *arg, const char *waiting_for);
static bool retryable(ErrorData *edata);
static void backfill_lock_tag(LOCKTAG *tag, int64 id);
static inline void CheckBatchSize(int batch_size);
static inline void CheckPause(int pause);

static inline void
CheckBatchSize(int batch_size)
{
	if (batch_size < 1 || batch_size > ZD_MAX_BATCH_SIZE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch_size must be between 1 and %d", ZD_MAX_BATCH_SIZE),
				 errhint("Each batch locks its rows until it commits; 1000 to 10000 rows keep that short.")));
}

static inline void
CheckPause(int pause)
{
	if (pause < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pause_ms must not be negative"),
				 errhint("Pass the pause between batches in milliseconds, 0 for none.")));
}

/*
 * zd_backfill(tbl regclass, target text, batch_size integer, pause_ms
 * integer): a procedure.
 *
 * CALL it outside a transaction block to commit after each batch; inside
 * one (a patch run by zd_align, BEGIN ... COMMIT) its batches commit with
 * the caller's transaction, and a NOTICE says so.
 */
Datum
zd_backfill(PG_FUNCTION_ARGS)
{
	Backfill   *b;
	LOCKTAG		tag;
	bool		nonatomic;
	const char *activity = debug_query_string;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tbl and target must not be NULL"),
				 errhint("Name the table and the expansion's new column or child table, for example CALL zd_backfill('users', 'email_normalized').")));
	CheckBatchSize(PG_ARGISNULL(2) ? 0 : PG_GETARG_INT32(2));
	CheckPause(PG_ARGISNULL(3) ? -1 : PG_GETARG_INT32(3));
	ZdCheckDeployer("backfill an expansion");

	nonatomic = fcinfo->context != NULL && IsA(fcinfo->context, CallContext) &&
		!castNode(CallContext, fcinfo->context)->atomic;
	if (SPI_connect_ext(nonatomic ? SPI_OPT_NONATOMIC : 0) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	b = palloc0(sizeof(Backfill));
	b->batch_size = PG_GETARG_INT32(2);
	b->pause = PG_GETARG_INT32(3);
	b->commit = nonatomic;
	b->e = ZdFindExpansion(PG_GETARG_OID(0), text_to_cstring(PG_GETARG_TEXT_PP(1)),
						   "backfill", false);
	b->label = psprintf("%s (%s)", b->e->table_name,
						b->e->column ? b->e->target : b->e->child_name);

	/* what the batches do, checked before they lock anything */
	ZdCheckTableAccess(b->e->relid, ACL_SELECT, "backfill");
	ZdCheckTableAccess(b->e->relid, ACL_UPDATE, "backfill");
	if (!b->e->column)
	{
		ZdCheckTableAccess(b->e->child, ACL_SELECT, "backfill");
		ZdCheckTableAccess(b->e->child, ACL_INSERT, "backfill");
	}
	if (strcmp(b->e->state, "backfilled") == 0)
	{
		ereport(NOTICE,
				(errmsg("expansion " INT64_FORMAT " of %s is backfilled already",
						b->e->id, b->label)));
		SPI_finish();
		PG_RETURN_VOID();
	}
	if (!nonatomic)
		ereport(NOTICE,
				(errmsg("zd_backfill runs in the caller's transaction: its batches commit together"),
				 errhint("CALL it outside a transaction block to commit after each batch.")));

	backfill_lock_tag(&tag, b->e->id);
	if (LockAcquire(&tag, ExclusiveLock, true, true) == LOCKACQUIRE_NOT_AVAIL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("expansion " INT64_FORMAT " of %s is being backfilled by another session",
						b->e->id, b->label),
				 errhint("zerodown.expansion_status shows its backfill_pid; wait for it, or stop it with pg_cancel_backend and call zd_backfill again.")));

	PG_TRY();
	{
		run_backfill(b);
	}
	PG_FINALLY();
	{
		LockRelease(&tag, ExclusiveLock, true);
		pgstat_report_activity(STATE_RUNNING, activity);
	}
	PG_END_TRY();

	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
	PG_RETURN_VOID();
}

static void
run_backfill(Backfill *b)
{
	BatchResult result;
	TimestampTz finished;
	double		seconds;
	char	   *activity = psprintf("backfill of %s", b->label);

	start_run(b);
	prepare_statements(b);

	/*
	 * Each batch runs in an SPI connection of its own, whose memory (the
	 * statements' results, keys, messages) goes when it ends: a backfill of
	 * a million batches runs in the memory of one.  What outlives a batch
	 * (where it stands) is copied into run_cxt.
	 */
	b->run_cxt = CurrentMemoryContext;
	for (;;)
	{
		bool		stopped;
		bool		finished;

		CHECK_FOR_INTERRUPTS();
		/* the replica-lag brake, when each batch commits (replica_lag.c) */
		if (b->commit)
			b->replica_wait_ms += ZdWaitForReplicas(activity, record_replica_wait, b);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		run_batch(b, &result);
		stopped = result.stopped;
		finished = result.finished;
		if (!stopped && !finished)
			report_progress(b, false);
		if (SPI_finish() != SPI_OK_FINISH)
			elog(ERROR, "SPI_finish failed");
		if (stopped)
		{
			commit_batch(b);
			ereport(NOTICE,
					(errmsg("backfill of %s stopped: the expansion was contracted or aborted",
							b->label)));
			return;
		}
		if (finished)
			break;
		commit_batch(b);
		ZdSleep(b->pause);
	}

	/* done: the expansion is backfilled */
	{
		Oid			types[1] = {INT8OID};
		Datum		values[1];
		int			ret;

		values[0] = Int64GetDatum(b->e->id);
		ret = ZdCatalogExecute("UPDATE " ZD_EXPANSIONS_TABLE
							   " SET state = 'backfilled', backfilled_at = now(), progress_at = now()"
							   " WHERE id = $1 AND state = 'expanded'",
							   1, types, values, NULL, 0);
		if (ret != SPI_OK_UPDATE)
			elog(ERROR, "could not record expansion " INT64_FORMAT " as backfilled: %s",
				 b->e->id, SPI_result_code_string(ret));
	}
	commit_batch(b);

	finished = GetCurrentTimestamp();
	seconds = (double) TimestampDifferenceMilliseconds(b->run_started, finished) / 1000.0;
	ereport(NOTICE,
			(errmsg("backfill of %s done: " INT64_FORMAT " rows visited, " INT64_FORMAT " written, in " INT64_FORMAT " batches, %.1f s (%.0f rows/s); longest batch %.0f ms%s",
					b->label, b->run_rows, b->rows_written, b->batches, seconds,
					rows_per_second(b), b->longest_ms,
					b->replica_wait_ms > 0 ?
					psprintf("; waited %.1f s for lagging standbys", b->replica_wait_ms / 1000.0) : "")));
}

/*
 * The statements of a batch.  $1 is the last key done, $2 the batch's end
 * key (or the watermark), both of the key's type; the "first" forms have no
 * lower bound.  Operators are named with their schema, so the statements
 * mean the same under any search_path, while the session's search_path
 * stays in force for the application triggers the batch fires.
 */
static void
prepare_statements(Backfill *b)
{
	ZdExpansion *e = b->e;
	char	   *table = ZdQualifiedName(e->relid);
	char	   *key = pstrdup(quote_identifier(e->key_column));
	char	   *gt = ZdTypeOperator(e->key_type, TYPECACHE_GT_OPR);
	char	   *eq = ZdTypeOperator(e->key_type, TYPECACHE_EQ_OPR);
	char	   *lower = psprintf("%s %s $1 AND ", key, gt);
	char	   *plower = psprintf("p.%s %s $1 AND ", key, gt);
	StringInfoData sql;
	ListCell   *lc;
	int			pass;

	b->select_first = psprintf("SELECT %s FROM %s WHERE NOT (%s %s $2) ORDER BY %s LIMIT %d",
							   key, table, key, gt, key, b->batch_size);
	b->select_next = psprintf("SELECT %s FROM %s WHERE %sNOT (%s %s $2) ORDER BY %s LIMIT %d",
							  key, table, lower, key, gt, key, b->batch_size);

	for (pass = 0; pass < 2; pass++)
	{
		initStringInfo(&sql);
		if (e->column)
		{
			/* the trigger computes the new columns of each row it sees */
			appendStringInfo(&sql, "UPDATE %s SET %s = %s WHERE %sNOT (%s %s $2)",
							 table, quote_identifier(linitial(e->new_columns)),
							 quote_identifier(linitial(e->new_columns)),
							 pass == 0 ? "" : lower, key, gt);
			foreach(lc, e->new_columns)
				appendStringInfo(&sql, " AND %s IS NULL", quote_identifier(lfirst(lc)));
		}
		else
		{
			char	   *child = ZdQualifiedName(e->child);

			/* a parent with values and no child row gets one */
			appendStringInfo(&sql, "INSERT INTO %s (%s", child,
							 quote_identifier(e->child_key));
			foreach(lc, e->new_columns)
				appendStringInfo(&sql, ", %s", quote_identifier(lfirst(lc)));
			appendStringInfo(&sql, ") SELECT p.%s", key);
			foreach(lc, e->old_columns)
				appendStringInfo(&sql, ", p.%s", quote_identifier(lfirst(lc)));
			appendStringInfo(&sql, " FROM %s p WHERE %sNOT (p.%s %s $2) AND (",
							 table, pass == 0 ? "" : plower, key, gt);
			foreach(lc, e->old_columns)
				appendStringInfo(&sql, "%sp.%s IS NOT NULL",
								 foreach_current_index(lc) > 0 ? " OR " : "",
								 quote_identifier(lfirst(lc)));
			appendStringInfo(&sql, ") AND NOT EXISTS (SELECT FROM %s c WHERE c.%s %s p.%s)",
							 child, quote_identifier(e->child_key), eq, key);

			/* first lock the batch's parents, as the child's trigger does */
			if (pass == 0)
				b->lock_first = psprintf("SELECT FROM %s p WHERE NOT (p.%s %s $2) FOR NO KEY UPDATE OF p",
										 table, key, gt);
			else
				b->lock_next = psprintf("SELECT FROM %s p WHERE %sNOT (p.%s %s $2) FOR NO KEY UPDATE OF p",
										table, plower, key, gt);
		}
		if (pass == 0)
			b->write_first = sql.data;
		else
			b->write_next = sql.data;
	}
}

/* a key, kept as text, as a value of the key's type */
static Datum
key_datum(Backfill *b, const char *text)
{
	return OidInputFunctionCall(b->key_input, (char *) text, b->key_ioparam, -1);
}

/*
 * Settle where this run starts: find the key when the table had none at
 * expand time, count the rows to do on the first run, and record the run's
 * start.
 */
static void
start_run(Backfill *b)
{
	ZdExpansion *e = b->e;
	Oid			types[4] = {INT8OID, TEXTOID, TEXTOID, INT8OID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	int			ret;

	if (e->key_column == NULL)
	{
		Relation	rel = relation_open(e->relid, AccessShareLock);

		e->key_column = ZdPrimaryKeyColumn(rel, &e->key_type);
		relation_close(rel, AccessShareLock);
		if (e->key_column == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot backfill %s: it has no single-column primary key",
							e->table_name),
					 errdetail("The backfill walks the table in batches by its primary key."),
					 errhint("Add a primary key in a patch (CREATE UNIQUE INDEX CONCURRENTLY, then ALTER TABLE ... ADD PRIMARY KEY USING INDEX), then call zd_backfill again.")));

		/* rows inserted since the expansion are visited too: they are right */
		ret = SPI_execute(psprintf("SELECT %s FROM %s ORDER BY 1 DESC LIMIT 1",
								   quote_identifier(e->key_column),
								   ZdQualifiedName(e->relid)), false, 1);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "could not read the highest key: %s", SPI_result_code_string(ret));
		e->watermark = SPI_processed == 1 ?
			SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1) : NULL;
		SPI_freetuptable(SPI_tuptable);
	}
	getTypeInputInfo(e->key_type, &b->key_input, &b->key_ioparam);

	if (!e->rows_total_known)
	{
		if (e->watermark == NULL)
			e->rows_total = 0;
		else
		{
			Oid			argtypes[1] = {e->key_type};
			Datum		args[1];
			bool		isnull;

			args[0] = key_datum(b, e->watermark);
			ret = SPI_execute_with_args(psprintf("SELECT pg_catalog.count(*) FROM %s WHERE NOT (%s %s $1)",
												 ZdQualifiedName(e->relid),
												 quote_identifier(e->key_column),
												 ZdTypeOperator(e->key_type, TYPECACHE_GT_OPR)),
										1, argtypes, args, NULL, false, 1);
			if (ret != SPI_OK_SELECT || SPI_processed != 1)
				elog(ERROR, "could not count the rows to backfill: %s",
					 SPI_result_code_string(ret));
			e->rows_total = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
														SPI_tuptable->tupdesc, 1, &isnull));
			SPI_freetuptable(SPI_tuptable);
		}
		e->rows_total_known = true;
	}

	values[0] = Int64GetDatum(e->id);
	values[1] = CStringGetTextDatum(e->key_column);
	values[2] = e->watermark ? CStringGetTextDatum(e->watermark) : (Datum) 0;
	nulls[2] = e->watermark ? ' ' : 'n';
	values[3] = Int64GetDatum(e->rows_total);
	ret = ZdCatalogExecute("UPDATE " ZD_EXPANSIONS_TABLE
								" SET key_column = $2, watermark = $3, rows_total = $4,"
								"  backfill_started_at = coalesce(backfill_started_at, now()),"
								"  run_started_at = now(), progress_at = now(), rows_per_second = NULL"
								" WHERE id = $1",
								4, types, values, nulls, 0);
	if (ret != SPI_OK_UPDATE || SPI_processed != 1)
		elog(ERROR, "could not record the start of the backfill: %s",
			 SPI_result_code_string(ret));
	commit_batch(b);

	b->run_started = GetCurrentTimestamp();
	b->last_notice = b->run_started;
	b->rows_done = e->rows_done;
	ereport(NOTICE,
			(errmsg("backfilling %s: " INT64_FORMAT " rows to visit of " INT64_FORMAT ", in batches of %d",
					b->label, Max(e->rows_total - e->rows_done, 0), e->rows_total,
					b->batch_size)));
	report_progress(b, true);
}

/*
 * One batch in a subtransaction, retried with backoff when it hits
 * zerodown.lock_timeout, a deadlock or a serialization failure.
 */
static void
run_batch(Backfill *b, BatchResult *result)
{
	int			attempt;

	for (attempt = 1;; attempt++)
	{
		ErrorData  *edata;
		int			delay;

		CHECK_FOR_INTERRUPTS();
		edata = try_batch(b, result);

		if (edata == NULL)
			return;
		if (!retryable(edata))
			ReThrowError(edata);
		if (attempt > zerodown_lock_retries)
			ereport(ERROR,
					(errcode(edata->sqlerrcode),
					 errmsg("backfill of %s failed: %s", b->label, edata->message),
					 errdetail("The batch after key %s was tried %d times. The batches before it are done.",
							   b->e->last_key ? b->e->last_key : "(none)", attempt),
					 errhint("Call zd_backfill again to go on from there; raise zerodown.lock_timeout or zerodown.lock_retries if the application holds its row locks long.")));

		delay = ZdRetryDelay(attempt);
		ereport(NOTICE,
				(errmsg("backfill batch of %s could not get its locks (attempt %d of %d), retrying in %d ms",
						b->label, attempt, zerodown_lock_retries + 1, delay),
				 errdetail("%s", edata->message)));
		ZdSleep(delay);
	}
}

/*
 * One attempt at a batch, in a subtransaction under zerodown.lock_timeout.
 * Returns the error, or NULL.
 */
static ErrorData *
try_batch(Backfill *b, BatchResult *result)
{
	BatchAttempt attempt = {b, result, GetCurrentTimestamp()};

	memset(result, 0, sizeof(BatchResult));
	return ZdTryUnderLockTimeout(attempt_batch, &attempt, true);
}

static void
attempt_batch(void *arg)
{
	BatchAttempt *attempt = arg;

	batch_work(attempt->b, attempt->result, attempt->started);
}

static void
batch_work(Backfill *b, BatchResult *result, TimestampTz started)
{
	ZdExpansion *e = b->e;
	const char *lower = e->last_key;
	Oid			types[8] = {INT8OID, TEXTOID, INT8OID, INT8OID, INT8OID, FLOAT8OID, FLOAT8OID};
	Datum		values[8];
	int			ret;
	double		ms;

	/* the expansion is still there: contract and abort wait for this batch */
	values[0] = Int64GetDatum(e->id);
	ret = ZdCatalogExecute("SELECT state FROM " ZD_EXPANSIONS_TABLE
						   " WHERE id = $1 FOR NO KEY UPDATE",
						   1, types, values, NULL, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read expansion " INT64_FORMAT ": %s",
			 e->id, SPI_result_code_string(ret));
	if (SPI_processed != 1 ||
		strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), "expanded") != 0)
	{
		result->stopped = true;
		return;
	}
	SPI_freetuptable(SPI_tuptable);

	if (e->watermark == NULL)
	{
		result->finished = true;
		return;
	}

	/* the batch: the next batch_size keys up to the watermark */
	{
		Oid			argtypes[2] = {e->key_type, e->key_type};
		Datum		args[2];
		char		nulls[2] = {' ', ' '};

		args[0] = lower ? key_datum(b, lower) : (Datum) 0;
		nulls[0] = lower ? ' ' : 'n';
		args[1] = key_datum(b, e->watermark);
		ret = SPI_execute_with_args(lower ? b->select_next : b->select_first,
									2, argtypes, args, nulls, false, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "could not find the next batch: %s", SPI_result_code_string(ret));
		result->visited = (int64) SPI_processed;
		if (SPI_processed > 0)
			result->end_key = SPI_getvalue(SPI_tuptable->vals[SPI_processed - 1],
										   SPI_tuptable->tupdesc, 1);
		SPI_freetuptable(SPI_tuptable);
	}
	if (result->visited == 0)
	{
		result->finished = true;
		return;
	}

	if (e->column)
		result->written = fill_columns(b, lower, result->end_key);
	else
	{
		(void) execute_range(b, lower ? b->lock_next : b->lock_first, lower,
							 result->end_key, SPI_OK_SELECT);
		result->written = fill_children(b, lower, result->end_key);
	}

	/* where it stands, committed with the batch */
	ms = (double) TimestampDifferenceMilliseconds(started, GetCurrentTimestamp());
	b->run_rows += result->visited;
	b->rows_done += result->visited;
	b->rows_written += result->written;
	b->batches++;
	b->longest_ms = Max(b->longest_ms, ms);
	values[0] = Int64GetDatum(e->id);
	values[1] = CStringGetTextDatum(result->end_key);
	values[2] = Int64GetDatum(result->visited);
	values[3] = Int64GetDatum(result->written);
	values[4] = Int64GetDatum(1);
	values[5] = Float8GetDatum(ms);
	values[6] = Float8GetDatum(rows_per_second(b));
	ret = ZdCatalogExecute("UPDATE " ZD_EXPANSIONS_TABLE
								" SET last_key = $2, rows_done = rows_done + $3,"
								"  rows_written = rows_written + $4, batches = batches + $5,"
								"  longest_batch = greatest(longest_batch, make_interval(secs => $6 / 1000)),"
								"  rows_per_second = $7, progress_at = now(),"
								"  waiting_for = NULL, waiting_since = NULL"
								" WHERE id = $1",
								7, types, values, NULL, 0);
	if (ret != SPI_OK_UPDATE || SPI_processed != 1)
		elog(ERROR, "could not record the backfill's progress: %s",
			 SPI_result_code_string(ret));
	/* the batch's memory goes after it: where it stands outlives it */
	if (e->last_key != NULL && b->run_cxt != NULL)
		pfree(e->last_key);
	e->last_key = b->run_cxt ? MemoryContextStrdup(b->run_cxt, result->end_key) :
		pstrdup(result->end_key);
}

/*
 * A column expansion's batch: an UPDATE that sets nothing itself, while
 * the expansion's trigger computes the new columns of each row it sees.
 */
static int64
fill_columns(Backfill *b, const char *lower, const char *upper)
{
	volatile int64 written = 0;

	ZdBackfillExpansion = b->e->id;
	PG_TRY();
	{
		written = execute_range(b, lower ? b->write_next : b->write_first,
								lower, upper, SPI_OK_UPDATE);
	}
	PG_FINALLY();
	{
		ZdBackfillExpansion = 0;
	}
	PG_END_TRY();
	return written;
}

/*
 * A table expansion's batch: insert the missing child rows, with the
 * mirroring guard up so the child's trigger does not copy them back.
 */
static int64
fill_children(Backfill *b, const char *lower, const char *upper)
{
	volatile int64 written = 0;

	ZdMirrorBegin(b->e->id);
	PG_TRY();
	{
		written = execute_range(b, lower ? b->write_next : b->write_first,
								lower, upper, SPI_OK_INSERT);
	}
	PG_FINALLY();
	{
		ZdMirrorEnd(b->e->id);
	}
	PG_END_TRY();
	return written;
}

/* run a batch statement over (lower, upper]; returns the rows it processed */
static int64
execute_range(Backfill *b, const char *sql, const char *lower,
			  const char *upper, int expected)
{
	Oid			argtypes[2] = {b->e->key_type, b->e->key_type};
	Datum		args[2];
	char		nulls[2] = {' ', ' '};
	int			ret;
	int64		processed;

	args[0] = lower ? key_datum(b, lower) : (Datum) 0;
	nulls[0] = lower ? ' ' : 'n';
	args[1] = key_datum(b, upper);
	ret = SPI_execute_with_args(sql, 2, argtypes, args, nulls, false, 0);
	if (ret != expected)
		elog(ERROR, "unexpected result %s of: %s", SPI_result_code_string(ret), sql);
	processed = (int64) SPI_processed;
	SPI_freetuptable(SPI_tuptable);
	return processed;
}

/*
 * Where the backfill stands, in pg_stat_activity every batch and as a NOTICE
 * every ZD_NOTICE_INTERVAL_MS.
 */
static void
report_progress(Backfill *b, bool force)
{
	TimestampTz now = GetCurrentTimestamp();
	int64		total = b->e->rows_total;
	double		rate = rows_per_second(b);
	char	   *left;
	char	   *line;

	if (rate > 0 && total > b->rows_done)
		left = psprintf(", %.0f s left", (double) (total - b->rows_done) / rate);
	else
		left = pstrdup("");
	line = psprintf("zerodown: backfill of %s: " INT64_FORMAT " of " INT64_FORMAT " rows (%.1f%%), %.0f rows/s%s",
					b->label, b->rows_done, total,
					total > 0 ? 100.0 * (double) Min(b->rows_done, total) / (double) total : 100.0,
					rate, left);
	pgstat_report_activity(STATE_RUNNING, line);

	if (!force &&
		TimestampDifferenceMilliseconds(b->last_notice, now) >= ZD_NOTICE_INTERVAL_MS)
	{
		b->last_notice = now;
		ereport(NOTICE, (errmsg("%s", line + strlen("zerodown: "))));
	}
}

static double
rows_per_second(Backfill *b)
{
	long		ms = TimestampDifferenceMilliseconds(b->run_started, GetCurrentTimestamp());

	return ms > 0 ? (double) b->run_rows * 1000.0 / (double) ms : 0.0;
}

/* commit when the procedure may, so that the batch's locks go */
static void
commit_batch(Backfill *b)
{
	if (b->commit)
		SPI_commit();
}

/*
 * What the replica-lag brake waits for, committed so that
 * zerodown.expansion_status shows it to every session; NULL when it goes on.
 */
static void
record_replica_wait(void *arg, const char *waiting_for)
{
	Backfill   *b = arg;
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2];
	char		nulls[2] = {' ', ' '};
	int			ret;

	values[0] = Int64GetDatum(b->e->id);
	values[1] = waiting_for ? CStringGetTextDatum(waiting_for) : (Datum) 0;
	nulls[1] = waiting_for ? ' ' : 'n';
	ret = ZdCatalogExecute("UPDATE " ZD_EXPANSIONS_TABLE
						   " SET waiting_for = $2,"
						   "  waiting_since = CASE WHEN $2 IS NULL THEN NULL"
						   "   ELSE coalesce(waiting_since, pg_catalog.now()) END"
						   " WHERE id = $1",
						   2, types, values, nulls, 0);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "could not record the backfill's wait: %s", SPI_result_code_string(ret));
	commit_batch(b);
}

/* sleep, waking up for cancel and shutdown */
static bool
retryable(ErrorData *edata)
{
	return edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE ||
		edata->sqlerrcode == ERRCODE_T_R_DEADLOCK_DETECTED ||
		edata->sqlerrcode == ERRCODE_T_R_SERIALIZATION_FAILURE;
}

static void
backfill_lock_tag(LOCKTAG *tag, int64 id)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, ZD_LOCK_BACKFILL_CLASS,
						 (uint32) id, 2);
}
