/*-------------------------------------------------------------------------
 *
 * runstep.c
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
 * INDEX CONCURRENTLY does); zd drops the index the statement names, if it
 * became invalid during the step, and never an application's.  A statement that could not get its locks in time is run again
 * after the pause the server takes (src/common/backoff.c), up to
 * zerodown.lock_retries times; the statements before it have committed and
 * are not run again.  Ctrl-C cancels the statement running, and no other
 * statement starts.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <ctype.h>

#include "catalog/pg_type_d.h"
#include "common/backoff.h"
#include "common/logging.h"
#include "common/rules.h"
#include "pqexpbuffer.h"

#include "output.h"
#include "runstep.h"
#include "session.h"
#include "zd.h"

/* how much of a failing statement messages show */
#define ZD_SHOW_STATEMENT_LINES	20
#define ZD_SHOW_STATEMENT_BYTES	2000

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

static bool run_in_transaction(CliSession *session, const CliPlanStep *step);
static bool run_outside_transaction(CliSession *session,
									const CliPlanStep *step, int *attempts);
static bool read_lock_settings(CliSession *session);
static bool set_lock_timeout(CliSession *session, const char *value);
static bool read_statements(CliSession *session, const CliPlanStep *step,
							StepStatement **statements, int *n,
							const char **file);
static PGresult *run_statement(PGconn *conn, const char *sql);
static bool read_invalid_indexes(CliSession *session, IndexList *list);
static void drop_new_invalid_indexes(CliSession *session,
									 const IndexList *before,
									 const char *statement);
static void warn_new_invalid_indexes(CliSession *session,
									 const IndexList *before);
static bool created_index(const char *sql, char **name, char **table);
static const char *next_token(const char *p, char **token);
static bool is_lock_failure(const PGresult *res);
static void report_failure(CliSession *session, const CliPlanStep *step,
						   const char *file, const StepStatement *statements,
						   int failed, const PGresult *res, int attempts);
static void wait_before_retry(CliSession *session, const CliPlanStep *step,
							  const char *file, const StepStatement *statement,
							  const PGresult *res, int attempt);
static char *abbreviate(CliSession *session, const char *sql, int maxlen);
static void report_interrupted(const CliPlanStep *step, const char *file,
							   const StepStatement *statements, int next);

/*
 * Run one step; on failure, report it and return false.  *attempts is how
 * many times a step outside a transaction ran into a lock timeout, plus one.
 */
bool
CliRunStep(CliSession *session, const CliPlanStep *step, int *attempts)
{
	*attempts = 1;
	if (step->transactional)
		return run_in_transaction(session, step);
	return run_outside_transaction(session, step, attempts);
}

/* zd_align to the patch the step reaches: one patch, one transaction */
static bool
run_in_transaction(CliSession *session, const CliPlanStep *step)
{
	Oid			types[1] = {INT4OID};
	const char *params[1];
	PGresult   *res;

	params[0] = psprintf("%d", CLI_STEP_REACHES(step));
	res = CliQuery(session,
				   psprintf("SELECT %s($1)", CliFunction(session, "zd_align")),
				   1, types, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	PQclear(res);
	return true;
}

static bool
run_outside_transaction(CliSession *session, const CliPlanStep *step,
						int *attempts)
{
	Oid			types[4] = {INT4OID, TEXTOID, TIMESTAMPTZOID, INT4OID};
	const char *params[4];
	StepStatement *statements;
	IndexList	invalid;
	const char *file;
	char	   *started_at;
	char	   *sql;
	PGresult   *res;
	int			n;
	int			i = 0;

	if (!read_lock_settings(session) ||
		!read_statements(session, step, &statements, &n, &file))
		return false;

	/* ISO 8601 in UTC reads back the same whatever DateStyle a patch sets */
	res = CliQuery(session,
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
		/* Ctrl-C: no statement starts after it */
		if (CliCancelled())
		{
			report_interrupted(step, file, statements, i);
			return false;
		}
		if (session->options->verbose)
		{
			printf("    %s, line %d:\n      %s\n", file, statements[i].line,
				   statements[i].sql);
			fflush(stdout);
		}

		CliEcho(session, statements[i].sql);
		res = run_statement(session->conn, statements[i].sql);
		if (PQresultStatus(res) == PGRES_COMMAND_OK ||
			PQresultStatus(res) == PGRES_TUPLES_OK)
		{
			PQclear(res);
			i++;
			continue;
		}

		/* no invalid index stays behind, whatever comes next */
		drop_new_invalid_indexes(session, &invalid, statements[i].sql);

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
	sql = psprintf("SELECT %s($1, $2, $3, $4)",
				   CliFunction(session, "zd_step_done"));
	CliEcho(session, sql);
	res = PQexecParams(session->conn, sql, 4, types, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		CliReportError(session, res, NULL,
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
read_lock_settings(CliSession *session)
{
	PGresult   *res;

	if (session->settings_read)
		return true;
	res = CliQuery(session,
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
	res = CliQuery(session,
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
set_lock_timeout(CliSession *session, const char *value)
{
	const char *params[1] = {value};
	PGresult   *res;

	res = CliQuery(session,
				   "SELECT pg_catalog.set_config('lock_timeout', $1, false)",
				   1, NULL, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	PQclear(res);
	return true;
}

/* the step's statements, placeholders filled, and the file they are from */
static bool
read_statements(CliSession *session, const CliPlanStep *step,
				StepStatement **statements, int *n, const char **file)
{
	Oid			types[2] = {INT4OID, TEXTOID};
	const char *params[2];
	PGresult   *res;
	int			i;

	params[0] = psprintf("%d", step->number);
	params[1] = step->rollback ? "rollback" : "build";
	res = CliQuery(session,
				   psprintf("SELECT line, statement, file FROM %s($1, $2) ORDER BY ordinal",
						   CliFunction(session, "zd_step_statements")),
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
read_invalid_indexes(CliSession *session, IndexList *list)
{
	PGresult   *res;
	int			i;

	res = CliQuery(session,
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
 * Drop the invalid index the failed statement left: a CREATE INDEX
 * CONCURRENTLY that fails leaves its index behind, invalid.  The index is
 * chosen by the name and table the statement gives, among the indexes that
 * became invalid during the step, never by a database-wide diff alone: an
 * application's own CREATE INDEX CONCURRENTLY running meanwhile has an
 * invalid index too, and DROP INDEX CONCURRENTLY would wait for it to end,
 * then drop it.  A statement whose index zd cannot name (no name given) is
 * reported, with how to find and drop the index, and nothing is dropped.
 * DROP INDEX CONCURRENTLY lets the application's queries go on; it runs
 * without lock_timeout: it waits for the transactions using the table, but
 * does not block them.
 */
static void
drop_new_invalid_indexes(CliSession *session, const IndexList *before,
						 const char *statement)
{
	const char *params[2];
	char	   *name;
	char	   *table;
	PGresult   *res;
	int			i;

	if (PQstatus(session->conn) == CONNECTION_BAD)
		return;
	if (!created_index(statement, &name, &table))
	{
		warn_new_invalid_indexes(session, before);
		return;
	}
	params[0] = name;
	params[1] = table;
	res = CliQuery(session,
				   "SELECT i.indexrelid, n.nspname, c.relname"
				   " FROM pg_catalog.pg_index i"
				   " JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid"
				   " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
				   " WHERE NOT i.indisvalid AND c.relname = $1"
				   "  AND i.indrelid = pg_catalog.to_regclass($2)",
				   2, NULL, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return;

	for (i = 0; i < PQntuples(res); i++)
	{
		Oid			oid = (Oid) strtoul(PQgetvalue(res, i, 0), NULL, 10);
		const char *schema = PQgetvalue(res, i, 1);
		const char *index = PQgetvalue(res, i, 2);
		char	   *qschema;
		char	   *qindex;
		char	   *sql;
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
			CliWarning("could not drop invalid index \"%s.%s\": %s",
					   schema, index, PQerrorMessage(session->conn));
			PQfreemem(qschema);
			PQfreemem(qindex);
			continue;
		}
		sql = psprintf("DROP INDEX CONCURRENTLY IF EXISTS %s.%s", qschema, qindex);
		CliEcho(session, sql);
		drop = PQexec(session->conn, sql);
		if (PQresultStatus(drop) == PGRES_COMMAND_OK)
		{
			if (!session->options->quiet)
				pg_log_info("dropped invalid index \"%s.%s\" left by the failed statement",
							schema, index);
		}
		else
		{
			CliWarning("could not drop invalid index \"%s.%s\": %s",
					   schema, index, PQresultErrorMessage(drop));
			CliWarningHint("Drop it with DROP INDEX CONCURRENTLY %s.%s; before aligning again.",
						   qschema, qindex);
		}
		PQclear(drop);
		PQfreemem(qschema);
		PQfreemem(qindex);
		(void) set_lock_timeout(session, session->lock_timeout);
	}
	PQclear(res);
}

/*
 * A failed statement that names no index zd can drop: say which indexes
 * became invalid during the step, which may be its own or an
 * application's, and drop none.
 */
static void
warn_new_invalid_indexes(CliSession *session, const IndexList *before)
{
	PGresult   *res;
	int			i;

	res = CliQuery(session,
				   "SELECT i.indexrelid, pg_catalog.format('%I.%I', n.nspname, c.relname)"
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
		bool		existed = false;
		int			j;

		for (j = 0; j < before->n; j++)
			existed = existed || before->oids[j] == oid;
		if (existed)
			continue;
		CliWarning("index %s became invalid while the patch ran, and was left alone",
				   PQgetvalue(res, i, 1));
		CliWarningDetail("The failed statement does not name the index it creates, so zd cannot tell its index from an application's.");
		CliWarningHint("If it is the patch's, drop it with DROP INDEX CONCURRENTLY %s; before aligning again.",
					   PQgetvalue(res, i, 1));
	}
	PQclear(res);
}

/*
 * The index a CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name ON
 * [ONLY] table statement creates: its name (folded as the server folds it)
 * and its table as written.  False for any other statement, and for one
 * that names no index.
 */
static bool
created_index(const char *sql, char **name, char **table)
{
	const char *p = sql;
	char	   *word;
	PQExpBufferData qualified;

	p = next_token(p, &word);
	if (word == NULL || strcmp(word, "create") != 0)
		return false;
	p = next_token(p, &word);
	if (word != NULL && strcmp(word, "unique") == 0)
		p = next_token(p, &word);
	if (word == NULL || strcmp(word, "index") != 0)
		return false;
	p = next_token(p, &word);
	if (word == NULL || strcmp(word, "concurrently") != 0)
		return false;
	p = next_token(p, &word);
	if (word != NULL && strcmp(word, "if") == 0)
	{
		p = next_token(p, &word);	/* not */
		p = next_token(p, &word);	/* exists */
		p = next_token(p, &word);
	}
	if (word == NULL || strcmp(word, "on") == 0 || strcmp(word, ".") == 0)
		return false;
	*name = word;
	p = next_token(p, &word);
	if (word == NULL || strcmp(word, "on") != 0)
		return false;
	p = next_token(p, &word);
	if (word != NULL && strcmp(word, "only") == 0)
		p = next_token(p, &word);

	/* table, or schema.table, quoted again for to_regclass */
	initPQExpBuffer(&qualified);
	while (word != NULL && strcmp(word, "(") != 0 && strcmp(word, "using") != 0)
	{
		if (strcmp(word, ".") == 0)
			appendPQExpBufferChar(&qualified, '.');
		else
		{
			const char *c;

			appendPQExpBufferChar(&qualified, '"');
			for (c = word; *c; c++)
			{
				if (*c == '"')
					appendPQExpBufferChar(&qualified, '"');
				appendPQExpBufferChar(&qualified, *c);
			}
			appendPQExpBufferChar(&qualified, '"');
		}
		p = next_token(p, &word);
	}
	*table = qualified.data;
	return qualified.len > 0;
}

/*
 * The next token after comments and white space, in *token: an identifier
 * or keyword folded to lower case, a quoted identifier unquoted, or one
 * other character; NULL at the end.  Returns where the token ends.
 */
static const char *
next_token(const char *p, char **token)
{
	PQExpBufferData buf;

	p = ZdSkipComments(p);
	*token = NULL;
	if (*p == '\0')
		return p;
	initPQExpBuffer(&buf);
	if (*p == '"')
	{
		for (p++; *p; p++)
		{
			if (*p == '"' && p[1] == '"')
				appendPQExpBufferChar(&buf, *p++);
			else if (*p == '"')
			{
				p++;
				break;
			}
			else
				appendPQExpBufferChar(&buf, *p);
		}
	}
	else if (isalpha((unsigned char) *p) || *p == '_' || IS_HIGHBIT_SET(*p))
	{
		while (isalnum((unsigned char) *p) || *p == '_' || *p == '$' ||
			   IS_HIGHBIT_SET(*p))
			appendPQExpBufferChar(&buf, pg_ascii_tolower((unsigned char) *p++));
	}
	else
		appendPQExpBufferChar(&buf, *p++);
	*token = buf.data;
	return p;
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
report_failure(CliSession *session, const CliPlanStep *step, const char *file,
			   const StepStatement *statements, int failed,
			   const PGresult *res, int attempts)
{
	const StepStatement *statement = &statements[failed];
	bool		lock_failure = is_lock_failure(res);
	char	   *detail;
	const char *hint;

	detail = psprintf("%s, line %d:%s", file, statement->line,
					  CliShowStatement(session, statement->sql, "    "));
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

	CliReportError(session, res,
				   psprintf("patch %d \"%s\" failed: ", step->number, step->name),
				   detail, hint);
}

/*
 * The server's pause (src/common/backoff.c): zerodown.lock_retry_delay,
 * doubled on each retry up to one minute, and drawn between half and all of
 * it so that competing deployers do not retry in step.  Ctrl-C ends it.
 */
static void
wait_before_retry(CliSession *session, const CliPlanStep *step,
				  const char *file, const StepStatement *statement,
				  const PGresult *res, int attempt)
{
	int			delay = ZdBackoffDelay(session->lock_retry_delay, attempt);
	const char *message = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	if (!session->options->quiet)
	{
		pg_log_info("patch %d \"%s\" could not get its locks (attempt %d of %d), retrying in %d ms",
					step->number, step->name, attempt,
					session->lock_retries + 1, delay);
		pg_log_info_detail("%s at %s, line %d: %s",
						   message ? message : "lock not available",
						   file, statement->line,
						   abbreviate(session, statement->sql, 120));
	}
	if (!CliCancelled())
		pg_usleep((long) delay * 1000L);
}

/*
 * A statement for a message: on the same line when it has one line (" SQL."),
 * else on lines of its own after indent, up to ZD_SHOW_STATEMENT_LINES lines
 * and about ZD_SHOW_STATEMENT_BYTES bytes.
 */
char *
CliShowStatement(CliSession *session, const char *sql, const char *indent)
{
	int			encoding = PQclientEncoding(session->conn);
	PQExpBufferData buf;
	const char *p = sql;
	int			lines = 0;

	while (*p && isspace((unsigned char) *p))
		p++;
	if (strchr(p, '\n') == NULL && strlen(p) <= ZD_SHOW_STATEMENT_BYTES)
		return psprintf(" %s.", p);

	initPQExpBuffer(&buf);
	while (*p)
	{
		const char *end = p;

		if (lines == ZD_SHOW_STATEMENT_LINES || buf.len >= ZD_SHOW_STATEMENT_BYTES)
		{
			appendPQExpBuffer(&buf, "\n%s...", indent);
			break;
		}
		while (*end && *end != '\n' &&
			   buf.len + (end - p) < ZD_SHOW_STATEMENT_BYTES)
			end += PQmblenBounded(end, encoding);
		appendPQExpBuffer(&buf, "\n%s%.*s", indent, (int) (end - p), p);
		lines++;
		p = end;
		if (*p == '\n')
			p++;
	}
	return buf.data;
}

/* Ctrl-C came between two statements: say where the step stopped */
static void
report_interrupted(const CliPlanStep *step, const char *file,
				   const StepStatement *statements, int next)
{
	fflush(stdout);
	CliError("patch %d \"%s\" was interrupted (Ctrl-C) before %s, line %d",
			 step->number, step->name, file, statements[next].line);
	if (next > 0)
		CliErrorDetail("The patch runs outside a transaction: its statements before line %d ran and stay committed; the step was not recorded.",
					   statements[next].line);
	else
		CliErrorDetail("The patch runs outside a transaction; none of its statements ran.");
}

/* the first line of a statement, cut to about maxlen bytes, for messages */
static char *
abbreviate(CliSession *session, const char *sql, int maxlen)
{
	int			encoding = PQclientEncoding(session->conn);
	int			len = 0;

	while (sql[len] && sql[len] != '\n' && len < maxlen)
		len += PQmblenBounded(sql + len, encoding);
	if (sql[len] == '\0')
		return pg_strdup(sql);
	return psprintf("%.*s...", len, sql);
}
