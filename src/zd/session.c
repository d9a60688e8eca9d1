/*-------------------------------------------------------------------------
 *
 * session.c
 *	  The zd client's database session.
 *
 * zd connects as PostgreSQL's own client programs do (libpgfeutils'
 * connectDatabase: the libpq options and environment, a password prompt
 * when the server asks for one, -w and -W), and Ctrl-C cancels the
 * statement running on the server (setup_cancel_handler in main, and
 * SetCancelConn here) instead of leaving it running: a patch that waits for
 * a lock stops waiting, and zd says where the database stands.  With
 * --echo, every query is shown before it is sent.
 *
 * zd finds the schema the zerodown extension lives in and calls its
 * functions there, so it does not depend on search_path.  It leaves
 * search_path as the session would have it: patch statements that zd runs
 * itself see the same search_path as the patches that zd_align runs.  Every
 * value goes to the server as a parameter.
 *
 * Every command that reads the folder does the same first steps (CliOpen):
 * read and check the folder, connect, take the align lock when it runs
 * patches, and register the folder's patches in one transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "catalog/pg_type_d.h"
#include "common/logging.h"
#include "fe_utils/cancel.h"
#include "fe_utils/connect_utils.h"
#include "pqexpbuffer.h"

#include "common/protocol.h"
#include "output.h"
#include "session.h"
#include "zd.h"

/* how many zd_register calls go in one pipeline round trip */
#define ZD_REGISTER_BATCH	200

/* how much of a parameter --echo shows */
#define ZD_ECHO_PARAM_LEN	60

static bool find_extension(CliSession *session);
static void echo_query(CliSession *session, const char *sql, int nparams,
					   const char *const *params);
static void notice_receiver(void *arg, const PGresult *res);
static bool lock_align(CliSession *session);
static bool register_folder(CliSession *session, const CliFolder *folder);
static bool unregister_missing(CliSession *session, const CliFolder *folder);

/*
 * Connect, asking for a password when the server wants one (unless -w), and
 * find the extension.  Returns NULL after reporting the error.
 */
CliSession *
CliConnect(const CliOptions *options)
{
	CliSession *session;
	PGconn	   *conn;
	ConnParams	cparams = options->cparams;

	/*
	 * libpq's default database (the user name) when -d is not given: an
	 * empty value is as good as none.  A connection that fails is fatal, as
	 * in PostgreSQL's own programs: the message is libpq's, and exit code 1.
	 */
	if (cparams.dbname == NULL)
		cparams.dbname = "";
	conn = connectDatabase(&cparams, "zd", options->echo && !options->json,
						   false, false);

	session = pg_malloc0(sizeof(CliSession));
	session->conn = conn;
	session->options = options;
	PQsetNoticeReceiver(conn, notice_receiver, (void *) options);
	SetCancelConn(conn);

	/*
	 * connectDatabase starts with an empty search_path, which suits programs
	 * that run only their own queries; zd also runs patch statements, which
	 * must see the session's own.
	 */
	if (!CliExec(session, "RESET search_path") ||
		(options->json && PQsetClientEncoding(conn, "UTF8") != 0) ||
		!find_extension(session))
	{
		CliDisconnect(session);
		return NULL;
	}
	return session;
}

/* disconnect, cancelling a statement still running */
void
CliDisconnect(CliSession *session)
{
	ResetCancelConn();
	disconnectDatabase(session->conn);
	if (session->schema != NULL)
		free(session->schema);
	free(session);
}

/*
 * Run one query with its values as parameters.  Returns the result, or NULL
 * after reporting the error when its status is not the one expected.
 */
PGresult *
CliQuery(CliSession *session, const char *sql, int nparams, const Oid *types,
		 const char *const *params, ExecStatusType expected)
{
	PGresult   *res;

	echo_query(session, sql, nparams, params);
	res = PQexecParams(session->conn, sql, nparams, types, params,
					   NULL, NULL, 0);
	if (PQresultStatus(res) != expected)
	{
		CliReportError(session, res, NULL, NULL, NULL);
		PQclear(res);
		return NULL;
	}
	return res;
}

/* a command without parameters or rows; false after reporting the error */
bool
CliExec(CliSession *session, const char *sql)
{
	PGresult   *res = CliQuery(session, sql, 0, NULL, NULL, PGRES_COMMAND_OK);

	if (res == NULL)
		return false;
	PQclear(res);
	return true;
}

/* an extension function's name, qualified with its schema, for SQL */
char *
CliFunction(CliSession *session, const char *name)
{
	return psprintf("%s.%s", session->schema, name);
}

/* the patch number the database stands at, or -1 after reporting an error */
int
CliReadVersion(CliSession *session)
{
	PGresult   *res;
	int			version;

	res = CliQuery(session,
				   psprintf("SELECT %s()", CliFunction(session, "zd_version")),
				   0, NULL, NULL, PGRES_TUPLES_OK);
	if (res == NULL)
		return -1;
	version = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return version;
}

/* --echo of a query zd sends without CliQuery */
void
CliEcho(CliSession *session, const char *sql)
{
	echo_query(session, sql, 0, NULL);
}

/* did the user interrupt zd (Ctrl-C)?  Commands stop before the next step. */
bool
CliCancelled(void)
{
	return CancelRequested;
}

/*
 * Report a failed query: the server's message, after prefix; then detail
 * (ours, then the server's); then the server's hint, or ours when it has
 * none.  With --verbose, the SQLSTATE and the context too.
 */
void
CliReportError(CliSession *session, const PGresult *res, const char *prefix,
			   const char *detail, const char *hint)
{
	const char *message = NULL;
	const char *server_detail = NULL;
	const char *server_hint = NULL;
	const char *sqlstate = NULL;
	const char *context = NULL;

	if (res != NULL)
	{
		message = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		server_detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
		server_hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
		sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		context = PQresultErrorField(res, PG_DIAG_CONTEXT);
		if (message == NULL && PQresultErrorMessage(res)[0] != '\0')
			message = PQresultErrorMessage(res);
		if (message == NULL && PQresultStatus(res) != PGRES_FATAL_ERROR)
			message = psprintf("unexpected result: %s",
							   PQresStatus(PQresultStatus(res)));
	}
	if (message == NULL)
		message = PQerrorMessage(session->conn);

	fflush(stdout);
	CliError("%s%s", prefix ? prefix : "", message);
	CliErrorSqlstate(sqlstate);
	if (detail != NULL && server_detail != NULL)
		CliErrorDetail("%s\n%s", detail, server_detail);
	else if (detail != NULL || server_detail != NULL)
		CliErrorDetail("%s", detail ? detail : server_detail);
	if (CancelRequested)
		CliErrorDetail("zd was interrupted (Ctrl-C) and had the server cancel the statement.");
	if (server_hint != NULL || hint != NULL)
		CliErrorHint("%s", server_hint ? server_hint : hint);
	if (session->options->verbose)
	{
		if (sqlstate != NULL)
			pg_log_error_detail("SQLSTATE %s", sqlstate);
		if (context != NULL)
			pg_log_error_detail("context: %s", context);
	}
	if (PQstatus(session->conn) == CONNECTION_BAD)
		CliError("connection to the server was lost");
}

/* after a failure: where the database stands now */
void
CliReportVersion(CliSession *session)
{
	PGresult   *res;

	if (PQstatus(session->conn) == CONNECTION_BAD)
	{
		pg_log_info("the patch the database stands at is unknown: the connection was lost");
		return;
	}
	/* a failed registration may have left its transaction open */
	if (PQtransactionStatus(session->conn) != PQTRANS_IDLE)
		(void) PQclear(PQexec(session->conn, "ROLLBACK"));
	echo_query(session, psprintf("SELECT %s()", CliFunction(session, "zd_version")),
			   0, NULL);
	res = PQexec(session->conn,
				 psprintf("SELECT %s()", CliFunction(session, "zd_version")));
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
	{
		pg_log_info("database at patch %s", PQgetvalue(res, 0, 0));
		if (CliOutputJson())
			CliJsonSet(CliOutputDocument(), "database_at",
					   CliJsonNumber(PQgetvalue(res, 0, 0)));
	}
	else
		pg_log_info("the patch the database stands at is unknown: %s",
					PQresultErrorMessage(res));
	PQclear(res);
}

/*
 * Read the folder, connect, take the align lock and register the folder's
 * patches, as asked.  NULL after reporting an error.
 */
CliSession *
CliOpen(const CliOptions *options, bool lock, bool register_patches)
{
	CliFolder  *folder = NULL;
	CliSession *session;

	if (register_patches)
	{
		folder = pg_malloc0(sizeof(CliFolder));
		if (!CliReadFolder(options->directory, folder))
			return NULL;
	}
	session = CliConnect(options);
	if (session == NULL)
		return NULL;
	session->folder = folder;
	if ((lock && !lock_align(session)) ||
		(register_patches && !register_folder(session, folder)))
	{
		CliReportVersion(session);
		CliDisconnect(session);
		return NULL;
	}
	return session;
}

int
CliClose(CliSession *session, int code)
{
	CliDisconnect(session);
	return code;
}

/* the rows of zd_plan(target): every check is made before anything runs */
bool
CliReadPlan(CliSession *session, const char *target, CliPlanStep **steps,
			int *n)
{
	Oid			types[1] = {INT4OID};
	const char *params[1] = {target};
	PGresult   *res;
	int			i;

	res = CliQuery(session,
				   psprintf("SELECT step, number, name, direction, transactional,"
							" statements, file FROM %s($1) ORDER BY step",
							CliFunction(session, "zd_plan")),
				   1, types, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;

	*n = PQntuples(res);
	*steps = pg_malloc0(sizeof(CliPlanStep) * Max(*n, 1));
	for (i = 0; i < *n; i++)
	{
		CliPlanStep *step = &(*steps)[i];

		step->step = atoi(PQgetvalue(res, i, 0));
		step->number = atoi(PQgetvalue(res, i, 1));
		step->name = pg_strdup(PQgetvalue(res, i, 2));
		step->rollback = strcmp(PQgetvalue(res, i, 3), "rollback") == 0;
		step->transactional = strcmp(PQgetvalue(res, i, 4), "t") == 0;
		step->statements = atoi(PQgetvalue(res, i, 5));
		step->file = pg_strdup(PQgetvalue(res, i, 6));
	}
	PQclear(res);
	return true;
}

/*
 * Find the extension's schema and check its version against zd's.
 */
static bool
find_extension(CliSession *session)
{
	PGresult   *res;
	const char *schema;
	const char *version;
	char	   *quoted;

	res = CliQuery(session,
				   "SELECT n.nspname, e.extversion"
				   " FROM pg_catalog.pg_extension e"
				   " JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace"
				   " WHERE e.extname = 'zerodown'",
				   0, NULL, NULL, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	if (PQntuples(res) != 1)
	{
		CliError("extension \"zerodown\" is not installed in database \"%s\"",
				 PQdb(session->conn));
		CliErrorHint("Run CREATE EXTENSION zerodown; in that database, or connect to another with -d.");
		PQclear(res);
		return false;
	}

	schema = PQgetvalue(res, 0, 0);
	version = PQgetvalue(res, 0, 1);
	quoted = PQescapeIdentifier(session->conn, schema, strlen(schema));
	if (quoted == NULL)
	{
		CliError("could not quote schema name \"%s\": %s", schema,
				 PQerrorMessage(session->conn));
		PQclear(res);
		return false;
	}
	session->schema = pg_strdup(quoted);
	PQfreemem(quoted);

	if (strcmp(version, ZD_VERSION) != 0)
	{
		CliWarning("extension \"zerodown\" is at version %s, but zd is version %s",
				   version, ZD_VERSION);
		CliWarningHint("Run ALTER EXTENSION zerodown UPDATE; or use the zd of version %s.",
					   version);
	}
	PQclear(res);
	return true;
}

/*
 * --echo: the query, and its parameters cut to their first line, as
 * PostgreSQL's client programs show theirs (on stdout; on stderr with
 * --json, whose stdout is the document).
 */
static void
echo_query(CliSession *session, const char *sql, int nparams,
		   const char *const *params)
{
	FILE	   *out = session->options->json ? stderr : stdout;
	int			i;

	if (!session->options->echo)
		return;
	fprintf(out, "%s\n", sql);
	for (i = 0; i < nparams; i++)
	{
		const char *value = params[i];
		int			len;

		if (value == NULL)
		{
			fprintf(out, "  -- $%d = NULL\n", i + 1);
			continue;
		}
		len = strcspn(value, "\n");
		if (len > ZD_ECHO_PARAM_LEN || value[len] != '\0')
			fprintf(out, "  -- $%d = '%.*s...'\n", i + 1,
					Min(len, ZD_ECHO_PARAM_LEN), value);
		else
			fprintf(out, "  -- $%d = '%s'\n", i + 1, value);
	}
	fflush(out);
}

/*
 * Server notices (a patch's own, zd_align's lock retries, warnings about
 * files the plan does not need) on stderr unless --quiet, and in the JSON
 * document.
 */
static void
notice_receiver(void *arg, const PGresult *res)
{
	const CliOptions *options = arg;
	const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);

	/*
	 * A warning about the folder (a rollback the plan does not need) comes
	 * from each function that reads the plan: say it once per run.
	 */
	if (severity != NULL && strcmp(severity, "WARNING") == 0)
	{
		static char **seen = NULL;
		static int	nseen = 0;
		const char *text = PQresultErrorMessage(res);
		int			i;

		for (i = 0; i < nseen; i++)
			if (strcmp(seen[i], text) == 0)
				return;
		seen = pg_realloc(seen, sizeof(char *) * (nseen + 1));
		seen[nseen++] = pg_strdup(text);
	}

	CliNotice(severity,
			  PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY),
			  PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL),
			  PQresultErrorField(res, PG_DIAG_MESSAGE_HINT));
	if (options->quiet)
		return;
	fflush(stdout);
	fprintf(stderr, "%s", PQresultErrorMessage(res));
}

/*
 * The session-level form of the lock zd_align takes per transaction: two
 * zd runs never interleave, and zd_align calls from elsewhere wait.
 */
static bool
lock_align(CliSession *session)
{
	Oid			types[2] = {INT4OID, INT4OID};
	const char *params[2];
	PGresult   *res;
	bool		locked;

	params[0] = psprintf("%d", ZD_LOCK_CLASS);
	params[1] = psprintf("%d", ZD_LOCK_ALIGN);
	res = CliQuery(session, "SELECT pg_catalog.pg_try_advisory_lock($1, $2)",
				   2, types, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	locked = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (locked)
		return true;

	if (!session->options->quiet)
		pg_log_info("waiting for another deployment to this database to finish");
	res = CliQuery(session, "SELECT pg_catalog.pg_advisory_lock($1, $2)",
				   2, types, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	PQclear(res);
	return true;
}

/*
 * Register every patch of the folder in one transaction: all of them, or
 * none.  A registered patch that is not applied and whose file is no longer
 * in the folder is unregistered in the same transaction: the folder is the
 * truth, and aligning never builds a patch it does not hold.  Registering
 * changes no schema.
 */
static bool
register_folder(CliSession *session, const CliFolder *folder)
{
	Oid			types[6] = {INT4OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	char	   *sql = psprintf("SELECT %s($1, $2, $3, $4, $5, $6)",
							   CliFunction(session, "zd_register"));
	int			changed = 0;
	int			first;

	if (!CliExec(session, "BEGIN"))
		return false;

	/*
	 * In pipeline mode, one batch of calls at a time: one round trip per
	 * batch instead of one per patch, and batches small enough that neither
	 * side fills its socket buffer while the other is not reading.
	 */
	for (first = 0; first < folder->npatches; first += ZD_REGISTER_BATCH)
	{
		int			last = Min(first + ZD_REGISTER_BATCH, folder->npatches);
		const CliFolderPatch *failed = NULL;
		PGresult   *error = NULL;
		PGresult   *res;
		int			i;

		if (session->options->echo)
			echo_query(session, psprintf("%s  -- %d calls, in one pipeline",
										 sql, last - first), 0, NULL);
		if (!PQenterPipelineMode(session->conn))
			pg_fatal("could not enter pipeline mode: %s", PQerrorMessage(session->conn));
		for (i = first; i < last; i++)
		{
			const CliFolderPatch *patch = &folder->patches[i];
			const char *params[6];

			params[0] = psprintf("%d", patch->number);
			params[1] = patch->name;
			params[2] = patch->build_sql;
			params[3] = patch->rollback_sql;
			params[4] = patch->verify_sql;
			params[5] = folder->path;
			if (!PQsendQueryParams(session->conn, sql, 6, types, params, NULL, NULL, 0))
				pg_fatal("could not send a query: %s", PQerrorMessage(session->conn));
		}
		if (!PQpipelineSync(session->conn))
			pg_fatal("could not send a pipeline sync: %s", PQerrorMessage(session->conn));

		for (i = first; i < last; i++)
		{
			const CliFolderPatch *patch = &folder->patches[i];

			res = PQgetResult(session->conn);
			if (PQresultStatus(res) == PGRES_TUPLES_OK && failed == NULL)
			{
				const char *action = PQgetvalue(res, 0, 0);

				if (strcmp(action, "unchanged") != 0)
					changed++;
				if (session->options->verbose)
					printf("  %-11s %s\n", action, patch->file);
				PQclear(res);
			}
			else if (failed == NULL && PQresultStatus(res) != PGRES_PIPELINE_ABORTED)
			{
				failed = patch;
				error = res;
			}
			else
				PQclear(res);
			/* each query's results end with a NULL */
			while ((res = PQgetResult(session->conn)) != NULL)
				PQclear(res);
		}
		res = PQgetResult(session->conn);	/* the sync */
		PQclear(res);
		if (!PQexitPipelineMode(session->conn))
			pg_fatal("could not leave pipeline mode: %s", PQerrorMessage(session->conn));

		if (failed != NULL)
		{
			CliReportError(session, error, NULL,
						   psprintf("While registering %s/build/%s. Nothing was registered.",
									folder->path, failed->file),
						   NULL);
			PQclear(error);
			(void) CliExec(session, "ROLLBACK");
			return false;
		}
	}
	if (!unregister_missing(session, folder))
	{
		(void) CliExec(session, "ROLLBACK");
		return false;
	}
	if (!CliExec(session, "COMMIT"))
		return false;
	if (changed > 0 && !session->options->quiet && !session->options->json)
		printf("zd: registered %d patch%s from \"%s\"\n", changed,
			   changed == 1 ? "" : "es", folder->path);
	if (CliOutputJson())
		CliJsonSet(CliOutputDocument(), "registered", CliJsonInteger(changed));
	return true;
}

/*
 * Unregister the patches that are registered, not applied, and not in the
 * folder (a file deleted or renamed since it was registered).  An applied
 * patch stays registered when its file leaves: aligning below it needs its
 * rollback; zd status shows it.
 */
static bool
unregister_missing(CliSession *session, const CliFolder *folder)
{
	PQExpBufferData numbers;
	const char *params[1];
	Oid			types[1] = {INT4OID};
	char	   *sql = psprintf("SELECT %s($1)", CliFunction(session, "zd_unregister"));
	CliJson    *list = NULL;
	PGresult   *res;
	int			i;

	initPQExpBuffer(&numbers);
	appendPQExpBufferChar(&numbers, '{');
	for (i = 0; i < folder->npatches; i++)
		appendPQExpBuffer(&numbers, "%s%d", i > 0 ? "," : "",
						  folder->patches[i].number);
	appendPQExpBufferChar(&numbers, '}');
	params[0] = numbers.data;
	res = CliQuery(session,
				   "SELECT s.number, s.name FROM zerodown.status s"
				   " WHERE NOT s.applied AND s.number <> ALL ($1::pg_catalog.int4[])"
				   " ORDER BY s.number",
				   1, NULL, params, PGRES_TUPLES_OK);
	termPQExpBuffer(&numbers);
	if (res == NULL)
		return false;
	if (CliOutputJson())
		list = CliJsonSet(CliOutputDocument(), "unregistered", CliJsonArray());

	for (i = 0; i < PQntuples(res); i++)
	{
		const char *number = PQgetvalue(res, i, 0);
		PGresult   *done;

		params[0] = number;
		done = CliQuery(session, sql, 1, types, params, PGRES_TUPLES_OK);
		if (done == NULL)
		{
			PQclear(res);
			return false;
		}
		PQclear(done);
		if (list)
		{
			CliJson    *entry = CliJsonAppend(list, CliJsonObject());

			CliJsonSet(entry, "number", CliJsonNumber(number));
			CliJsonSet(entry, "name", CliJsonString(PQgetvalue(res, i, 1)));
		}
		if (!session->options->quiet && !session->options->json)
			printf("zd: unregistered patch %s \"%s\": it is not applied, and its file is no longer in \"%s\"\n",
				   number, PQgetvalue(res, i, 1), folder->path);
	}
	PQclear(res);
	return true;
}
