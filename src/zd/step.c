/*-------------------------------------------------------------------------
 *
 * step.c
 *	  Running one step of a plan.
 *
 * An ordinary step is one call of zd_align, to the patch number the step
 * reaches, in its own transaction: the server runs it all or nothing, with
 * its lock timeout and retries, and its errors name the file and the line.
 *
 * A step whose file starts with "-- zerodown:no-transaction" (CREATE INDEX
 * CONCURRENTLY, ...) cannot run inside a function, so zd runs it itself:
 * it takes the statements from zd_step_statements, runs each one alone in
 * autocommit mode with lock_timeout set from zerodown.lock_timeout, then
 * calls zd_step_done, which runs the verify and records the step.  A
 * statement that fails may leave an invalid index behind (a failed CREATE
 * INDEX CONCURRENTLY does); zd drops every index that became invalid during
 * the step.  A statement that could not get its locks in time is run again
 * after the same jittered, doubling pause as the server's, up to
 * zerodown.lock_retries times; the statements before it have committed and
 * are not run again.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "catalog/pg_type_d.h"
#include "common/logging.h"
#include "common/pg_prng.h"

#include "conn.h"
#include "step.h"
#include "zd.h"

#define ZD_MAX_RETRY_DELAY_MS	60000

/* one statement of a step run outside a transaction */
typedef struct StepStatement
{
	int			line;
	char	   *sql;
} StepStatement;

/* the invalid indexes that existed before the step */
typedef struct IndexList
{
	int			n;
	Oid		   *oids;
} IndexList;

static bool run_in_transaction(ZdSession *session, const ZdPlanStep *step);
static bool run_outside_transaction(ZdSession *session,
									const ZdPlanStep *step, int *attempts);
static bool read_lock_settings(ZdSession *session);
static bool set_lock_timeout(ZdSession *session, const char *value);
static bool read_statements(ZdSession *session, const ZdPlanStep *step,
							StepStatement **statements, int *n,
							const char **file);
static PGresult *run_statement(PGconn *conn, const char *sql);
static bool read_invalid_indexes(ZdSession *session, IndexList *list);
static void drop_new_invalid_indexes(ZdSession *session,
									 const IndexList *before);
static bool is_lock_failure(const PGresult *res);
static void report_failure(ZdSession *session, const ZdPlanStep *step,
						   const char *file, const StepStatement *statements,
						   int failed, const PGresult *res, int attempts);
static void wait_before_retry(ZdSession *session, const ZdPlanStep *step,
							  const char *file, const StepStatement *statement,
							  const PGresult *res, int attempt);
static char *abbreviate(ZdSession *session, const char *sql, int maxlen);

/*
 * Run one step; on failure, report it and return false.  *attempts is how
 * many times a step outside a transaction ran into a lock timeout, plus one.
 */
bool
ZdRunStep(ZdSession *session, const ZdPlanStep *step, int *attempts)
{
	*attempts = 1;
	if (step->transactional)
		return run_in_transaction(session, step);
	return run_outside_transaction(session, step, attempts);
}

/* zd_align to the patch the step reaches: one patch, one transaction */
static bool
run_in_transaction(ZdSession *session, const ZdPlanStep *step)
{
	Oid			types[1] = {INT4OID};
	const char *params[1];
	PGresult   *res;

	params[0] = psprintf("%d", ZD_STEP_REACHES(step));
	res = ZdQuery(session,
				  psprintf("SELECT %s($1)", ZdFunction(session, "zd_align")),
				  1, types, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	PQclear(res);
	return true;
}

static bool
run_outside_transaction(ZdSession *session, const ZdPlanStep *step,
						int *attempts)
{
	Oid			types[4] = {INT4OID, TEXTOID, TIMESTAMPTZOID, INT4OID};
	const char *params[4];
	StepStatement *statements;
	IndexList	invalid;
	const char *file;
	char	   *started_at;
	PGresult   *res;
	int			n;
	int			i = 0;

	if (!read_lock_settings(session) ||
		!read_statements(session, step, &statements, &n, &file))
		return false;

	/* ISO 8601 in UTC reads back the same whatever DateStyle a patch sets */
	res = ZdQuery(session,
				  "SELECT pg_catalog.to_char(pg_catalog.clock_timestamp() AT TIME ZONE 'UTC',"
				  " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
				  0, NULL, NULL, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	started_at = pg_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);

	if (!read_invalid_indexes(session, &invalid))
		return false;

	while (i < n)
	{
		if (session->options->verbose)
		{
			printf("    %s, line %d:\n      %s\n", file, statements[i].line,
				   statements[i].sql);
			fflush(stdout);
		}

		res = run_statement(session->conn, statements[i].sql);
		if (PQresultStatus(res) == PGRES_COMMAND_OK ||
			PQresultStatus(res) == PGRES_TUPLES_OK)
		{
			PQclear(res);
			i++;
			continue;
		}

		/* no invalid index stays behind, whatever comes next */
		drop_new_invalid_indexes(session, &invalid);

		if (is_lock_failure(res) && *attempts <= session->lock_retries)
		{
			wait_before_retry(session, step, file, &statements[i], res,
							  *attempts);
			PQclear(res);
			(*attempts)++;
			continue;
		}

		report_failure(session, step, file, statements, i, res, *attempts);
		PQclear(res);
		return false;
	}

	/* the verify, and the record of the step */
	params[0] = psprintf("%d", step->number);
	params[1] = step->rollback ? "rollback" : "build";
	params[2] = started_at;
	params[3] = psprintf("%d", *attempts);
	res = PQexecParams(session->conn,
					   psprintf("SELECT %s($1, $2, $3, $4)",
								ZdFunction(session, "zd_step_done")),
					   4, types, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		ZdReportError(session, res, NULL,
					  psprintf("The statements of %s ran outside a transaction and stay committed; the step was not recorded.",
							   file),
					  NULL);
		PQclear(res);
		return false;
	}
	PQclear(res);
	return true;
}

/*
 * Once per session: lock_timeout from zerodown.lock_timeout, and how to
 * retry.  The extension's library is loaded by then (zd_plan ran).
 */
static bool
read_lock_settings(ZdSession *session)
{
	PGresult   *res;

	if (session->settings_read)
		return true;
	res = ZdQuery(session,
				  "SELECT pg_catalog.set_config('lock_timeout',"
				  "  pg_catalog.current_setting('zerodown.lock_timeout'), false),"
				  " (SELECT s.setting FROM pg_catalog.pg_settings s"
				  "   WHERE s.name = 'zerodown.lock_retries'),"
				  " (SELECT s.setting FROM pg_catalog.pg_settings s"
				  "   WHERE s.name = 'zerodown.lock_retry_delay')",
				  0, NULL, NULL, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	session->lock_timeout = pg_strdup(PQgetvalue(res, 0, 0));
	session->lock_retries = atoi(PQgetvalue(res, 0, 1));
	session->lock_retry_delay = atoi(PQgetvalue(res, 0, 2));
	session->settings_read = true;
	PQclear(res);

	/*
	 * The statements run with the extension's schema at the end of
	 * search_path, as the server runs patches, so that a patch calls
	 * zd_backfill unqualified whatever schema zerodown is in.
	 */
	res = ZdQuery(session,
				  "SELECT pg_catalog.set_config('search_path',"
				  "  pg_catalog.concat_ws(', ',"
				  "   CASE WHEN pg_catalog.current_setting('search_path') OPERATOR(pg_catalog.<>) ''"
				  "        THEN pg_catalog.current_setting('search_path') END,"
				  "   pg_catalog.quote_ident(n.nspname)), false)"
				  " FROM pg_catalog.pg_extension e"
				  " JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace"
				  " WHERE e.extname OPERATOR(pg_catalog.=) 'zerodown'"
				  "  AND n.nspname OPERATOR(pg_catalog.<>) ALL (pg_catalog.current_schemas(false))",
				  0, NULL, NULL, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	PQclear(res);
	return true;
}

static bool
set_lock_timeout(ZdSession *session, const char *value)
{
	const char *params[1] = {value};
	PGresult   *res;

	res = ZdQuery(session,
				  "SELECT pg_catalog.set_config('lock_timeout', $1, false)",
				  1, NULL, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	PQclear(res);
	return true;
}

/* the step's statements, placeholders filled, and the file they are from */
static bool
read_statements(ZdSession *session, const ZdPlanStep *step,
				StepStatement **statements, int *n, const char **file)
{
	Oid			types[2] = {INT4OID, TEXTOID};
	const char *params[2];
	PGresult   *res;
	int			i;

	params[0] = psprintf("%d", step->number);
	params[1] = step->rollback ? "rollback" : "build";
	res = ZdQuery(session,
				  psprintf("SELECT line, statement, file FROM %s($1, $2) ORDER BY ordinal",
						   ZdFunction(session, "zd_step_statements")),
				  2, types, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;

	*n = PQntuples(res);
	*statements = pg_malloc0(sizeof(StepStatement) * Max(*n, 1));
	*file = *n > 0 ? pg_strdup(PQgetvalue(res, 0, 2)) : step->file;
	for (i = 0; i < *n; i++)
	{
		(*statements)[i].line = atoi(PQgetvalue(res, i, 0));
		(*statements)[i].sql = pg_strdup(PQgetvalue(res, i, 1));
	}
	PQclear(res);
	return true;
}

/*
 * One statement alone, so that it is its own transaction.  COPY cannot take
 * data from a patch: it is ended, and reported as the statement's error.
 */
static PGresult *
run_statement(PGconn *conn, const char *sql)
{
	PGresult   *res = PQexec(conn, sql);
	PGresult   *next;

	if (PQresultStatus(res) == PGRES_COPY_IN)
	{
		PQclear(res);
		(void) PQputCopyEnd(conn, "COPY FROM STDIN cannot run in a patch");
		res = PQgetResult(conn);
	}
	else if (PQresultStatus(res) == PGRES_COPY_OUT)
	{
		char	   *buf;

		PQclear(res);
		while (PQgetCopyData(conn, &buf, 0) > 0)
			PQfreemem(buf);
		res = PQgetResult(conn);
	}
	while ((next = PQgetResult(conn)) != NULL)
		PQclear(next);
	return res;
}

static bool
read_invalid_indexes(ZdSession *session, IndexList *list)
{
	PGresult   *res;
	int			i;

	res = ZdQuery(session,
				  "SELECT indexrelid FROM pg_catalog.pg_index WHERE NOT indisvalid",
				  0, NULL, NULL, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	list->n = PQntuples(res);
	list->oids = pg_malloc(sizeof(Oid) * Max(list->n, 1));
	for (i = 0; i < list->n; i++)
		list->oids[i] = (Oid) strtoul(PQgetvalue(res, i, 0), NULL, 10);
	PQclear(res);
	return true;
}

/*
 * Drop every index that is invalid now and was not before the step, with
 * DROP INDEX CONCURRENTLY so that the application's queries go on.  It runs
 * without lock_timeout: it waits for the transactions using the table, but
 * does not block them.
 */
static void
drop_new_invalid_indexes(ZdSession *session, const IndexList *before)
{
	PGresult   *res;
	int			i;

	if (PQstatus(session->conn) == CONNECTION_BAD)
		return;
	res = ZdQuery(session,
				  "SELECT i.indexrelid, n.nspname, c.relname"
				  " FROM pg_catalog.pg_index i"
				  " JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid"
				  " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
				  " WHERE NOT i.indisvalid",
				  0, NULL, NULL, PGRES_TUPLES_OK);
	if (res == NULL)
		return;

	for (i = 0; i < PQntuples(res); i++)
	{
		Oid			oid = (Oid) strtoul(PQgetvalue(res, i, 0), NULL, 10);
		const char *schema = PQgetvalue(res, i, 1);
		const char *index = PQgetvalue(res, i, 2);
		char	   *qschema;
		char	   *qindex;
		PGresult   *drop;
		bool		existed = false;
		int			j;

		for (j = 0; j < before->n; j++)
			existed = existed || before->oids[j] == oid;
		if (existed)
			continue;

		qschema = PQescapeIdentifier(session->conn, schema, strlen(schema));
		qindex = PQescapeIdentifier(session->conn, index, strlen(index));
		if (qschema == NULL || qindex == NULL ||
			!set_lock_timeout(session, "0"))
		{
			pg_log_warning("could not drop invalid index \"%s.%s\": %s",
						   schema, index, PQerrorMessage(session->conn));
			PQfreemem(qschema);
			PQfreemem(qindex);
			continue;
		}
		drop = PQexec(session->conn,
					  psprintf("DROP INDEX CONCURRENTLY IF EXISTS %s.%s",
							   qschema, qindex));
		if (PQresultStatus(drop) == PGRES_COMMAND_OK)
		{
			if (!session->options->quiet)
				pg_log_info("dropped invalid index \"%s.%s\" left by the failed statement",
							schema, index);
		}
		else
		{
			pg_log_warning("could not drop invalid index \"%s.%s\": %s",
						   schema, index, PQresultErrorMessage(drop));
			pg_log_warning_hint("Drop it with DROP INDEX CONCURRENTLY %s.%s; before aligning again.",
								qschema, qindex);
		}
		PQclear(drop);
		PQfreemem(qschema);
		PQfreemem(qindex);
		(void) set_lock_timeout(session, session->lock_timeout);
	}
	PQclear(res);
}

/* lock_not_available or deadlock_detected, as the server retries */
static bool
is_lock_failure(const PGresult *res)
{
	const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	return sqlstate != NULL &&
		(strcmp(sqlstate, "55P03") == 0 || strcmp(sqlstate, "40P01") == 0);
}

/*
 * Name the patch, the file, the line and the statement, and say what of the
 * step stays committed.
 */
static void
report_failure(ZdSession *session, const ZdPlanStep *step, const char *file,
			   const StepStatement *statements, int failed,
			   const PGresult *res, int attempts)
{
	const StepStatement *statement = &statements[failed];
	bool		lock_failure = is_lock_failure(res);
	char	   *detail;
	const char *hint;

	detail = psprintf("%s, line %d: %s.", file, statement->line,
					  abbreviate(session, statement->sql, 200));
	if (lock_failure)
		detail = psprintf("%s It was tried %d times.", detail, attempts);
	if (failed > 0)
		detail = psprintf("%s\nThe patch runs outside a transaction: its statements before line %d ran and stay committed.",
						  detail, statement->line);
	else
		detail = psprintf("%s\nThe patch runs outside a transaction; none of its statements was committed.",
						  detail);

	if (lock_failure)
		hint = "Raise zerodown.lock_timeout or zerodown.lock_retries, or deploy when the sessions holding the locks have ended.";
	else if (failed > 0)
		hint = "Fix the patch so that the statements that ran can run again (IF NOT EXISTS, ...), then align again.";
	else
		hint = "Fix the patch, then align again.";

	ZdReportError(session, res,
				  psprintf("patch %d \"%s\" failed: ", step->number, step->name),
				  detail, hint);
}

/*
 * The server's pause: zerodown.lock_retry_delay, doubled on each retry up to
 * one minute, and drawn between half and all of it so that competing
 * deployers do not retry in step.
 */
static void
wait_before_retry(ZdSession *session, const ZdPlanStep *step,
				  const char *file, const StepStatement *statement,
				  const PGresult *res, int attempt)
{
	double		delay = session->lock_retry_delay;
	const char *message = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	delay = Min(delay * (1 << Min(attempt - 1, 16)), ZD_MAX_RETRY_DELAY_MS);
	delay *= 0.5 + 0.5 * pg_prng_double(&pg_global_prng_state);

	if (!session->options->quiet)
	{
		pg_log_info("patch %d \"%s\" could not get its locks (attempt %d of %d), retrying in %d ms",
					step->number, step->name, attempt,
					session->lock_retries + 1, (int) delay);
		pg_log_info_detail("%s at %s, line %d: %s",
						   message ? message : "lock not available",
						   file, statement->line,
						   abbreviate(session, statement->sql, 120));
	}
	pg_usleep((long) (delay * 1000));
}

/* the first line of a statement, cut to about maxlen bytes, for messages */
static char *
abbreviate(ZdSession *session, const char *sql, int maxlen)
{
	int			encoding = PQclientEncoding(session->conn);
	int			len = 0;

	while (sql[len] && sql[len] != '\n' && len < maxlen)
		len += PQmblenBounded(sql + len, encoding);
	if (sql[len] == '\0')
		return pg_strdup(sql);
	return psprintf("%.*s...", len, sql);
}
