/*-------------------------------------------------------------------------
 *
 * conn.c
 *	  The zd client's database session: connecting, running queries and
 *	  reporting the server's errors.
 *
 * zd connects with the usual libpq options and environment, finds the
 * schema the zerodown extension lives in and calls its functions there, so
 * it does not depend on search_path.  It leaves search_path alone: patch
 * statements that zd runs itself see the same search_path as the patches
 * that zd_align runs.  Every value goes to the server as a parameter.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "catalog/pg_type_d.h"
#include "common/logging.h"
#include "common/string.h"

#include "conn.h"
#include "zd.h"

static bool find_extension(ZdSession *session);
static void notice_receiver(void *arg, const PGresult *res);

/*
 * Connect, asking for a password when the server wants one (unless -w), and
 * find the extension.  Returns NULL after reporting the error.
 */
ZdSession *
ZdConnect(const ZdOptions *options)
{
	ZdSession  *session;
	PGconn	   *conn;
	char	   *password = NULL;
	bool		new_pass;

	if (options->prompt == ZD_PROMPT_ALWAYS)
		password = simple_prompt("Password: ", false);

	do
	{
		const char *keywords[7];
		const char *values[7];
		int			i = 0;

		keywords[i] = "host";
		values[i++] = options->host;
		keywords[i] = "port";
		values[i++] = options->port;
		keywords[i] = "user";
		values[i++] = options->username;
		keywords[i] = "password";
		values[i++] = password;
		keywords[i] = "dbname";
		values[i++] = options->dbname;
		keywords[i] = "fallback_application_name";
		values[i++] = "zd";
		keywords[i] = NULL;
		values[i] = NULL;

		new_pass = false;
		conn = PQconnectdbParams(keywords, values, true);
		if (conn == NULL)
		{
			pg_log_error("connection to database failed: out of memory");
			return NULL;
		}
		if (PQstatus(conn) == CONNECTION_BAD &&
			PQconnectionNeedsPassword(conn) &&
			password == NULL &&
			options->prompt != ZD_PROMPT_NEVER)
		{
			PQfinish(conn);
			password = simple_prompt("Password: ", false);
			new_pass = true;
		}
	} while (new_pass);

	if (password != NULL)
		free(password);

	if (PQstatus(conn) == CONNECTION_BAD)
	{
		pg_log_error("connection to database failed: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	PQsetNoticeReceiver(conn, notice_receiver, (void *) options);

	session = pg_malloc0(sizeof(ZdSession));
	session->conn = conn;
	session->options = options;
	if (!find_extension(session))
	{
		ZdDisconnect(session);
		return NULL;
	}
	return session;
}

void
ZdDisconnect(ZdSession *session)
{
	PQfinish(session->conn);
	if (session->schema != NULL)
		free(session->schema);
	free(session);
}

/*
 * Run one query with its values as parameters.  Returns the result, or NULL
 * after reporting the error when its status is not the one expected.
 */
PGresult *
ZdQuery(ZdSession *session, const char *sql, int nparams, const Oid *types,
		const char *const *params, ExecStatusType expected)
{
	PGresult   *res;

	res = PQexecParams(session->conn, sql, nparams, types, params,
					   NULL, NULL, 0);
	if (PQresultStatus(res) != expected)
	{
		ZdReportError(session, res, NULL, NULL, NULL);
		PQclear(res);
		return NULL;
	}
	return res;
}

/* a command without parameters or rows; false after reporting the error */
bool
ZdCommand(ZdSession *session, const char *sql)
{
	PGresult   *res = ZdQuery(session, sql, 0, NULL, NULL, PGRES_COMMAND_OK);

	if (res == NULL)
		return false;
	PQclear(res);
	return true;
}

/* an extension function's name, qualified with its schema, for SQL */
char *
ZdFunction(ZdSession *session, const char *name)
{
	return psprintf("%s.%s", session->schema, name);
}

/* the patch number the database stands at, or -1 after reporting an error */
int
ZdReadVersion(ZdSession *session)
{
	PGresult   *res;
	int			version;

	res = ZdQuery(session,
				  psprintf("SELECT %s()", ZdFunction(session, "zd_version")),
				  0, NULL, NULL, PGRES_TUPLES_OK);
	if (res == NULL)
		return -1;
	version = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return version;
}

/*
 * Report a failed query: the server's message, after prefix; then detail
 * (ours, then the server's); then the server's hint, or ours when it has
 * none.  With --verbose, the SQLSTATE and the context too.
 */
void
ZdReportError(ZdSession *session, const PGresult *res, const char *prefix,
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

	pg_log_error("%s%s", prefix ? prefix : "", message);
	if (detail != NULL && server_detail != NULL)
		pg_log_error_detail("%s\n%s", detail, server_detail);
	else if (detail != NULL || server_detail != NULL)
		pg_log_error_detail("%s", detail ? detail : server_detail);
	if (server_hint != NULL || hint != NULL)
		pg_log_error_hint("%s", server_hint ? server_hint : hint);
	if (session->options->verbose)
	{
		if (sqlstate != NULL)
			pg_log_error_detail("SQLSTATE %s", sqlstate);
		if (context != NULL)
			pg_log_error_detail("context: %s", context);
	}
	if (PQstatus(session->conn) == CONNECTION_BAD)
		pg_log_error("connection to the server was lost");
}

/*
 * Find the extension's schema and check its version against zd's.
 */
static bool
find_extension(ZdSession *session)
{
	PGresult   *res;
	const char *schema;
	const char *version;
	char	   *quoted;

	res = ZdQuery(session,
				  "SELECT n.nspname, e.extversion"
				  " FROM pg_catalog.pg_extension e"
				  " JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace"
				  " WHERE e.extname = 'zerodown'",
				  0, NULL, NULL, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	if (PQntuples(res) != 1)
	{
		pg_log_error("extension \"zerodown\" is not installed in database \"%s\"",
					 PQdb(session->conn));
		pg_log_error_hint("Run CREATE EXTENSION zerodown; in that database, or connect to another with -d.");
		PQclear(res);
		return false;
	}

	schema = PQgetvalue(res, 0, 0);
	version = PQgetvalue(res, 0, 1);
	quoted = PQescapeIdentifier(session->conn, schema, strlen(schema));
	if (quoted == NULL)
	{
		pg_log_error("could not quote schema name \"%s\": %s", schema,
					 PQerrorMessage(session->conn));
		PQclear(res);
		return false;
	}
	session->schema = pg_strdup(quoted);
	PQfreemem(quoted);

	if (strcmp(version, ZD_VERSION) != 0)
	{
		pg_log_warning("extension \"zerodown\" is at version %s, but zd is version %s",
					   version, ZD_VERSION);
		pg_log_warning_hint("Run ALTER EXTENSION zerodown UPDATE; or use the zd of version %s.",
							version);
	}
	PQclear(res);
	return true;
}

/* server notices (a patch's own, zd_align's lock retries) unless --quiet */
static void
notice_receiver(void *arg, const PGresult *res)
{
	const ZdOptions *options = arg;

	if (options->quiet)
		return;
	fflush(stdout);
	fprintf(stderr, "%s", PQresultErrorMessage(res));
}
