/*-------------------------------------------------------------------------
 *
 * deploy.c
 *	  zd deploy: queueing a deployment for the background worker, and
 *	  waiting for it.
 *
 * zd deploy registers the folder, calls zd_deploy and prints the id of the
 * deployment; the worker runs it, committing patch by patch, whether zd
 * stays or not.  With --wait, zd listens on the worker's channel before it
 * queues, so no change of state can slip by, and then waits on the socket
 * with no transaction open: a no-transaction patch (CREATE INDEX
 * CONCURRENTLY) waits for every transaction that holds a snapshot, so a
 * waiting client must hold none.  That is why the SQL function
 * zd_deploy_wait refuses to wait when such a patch is ahead, and why zd does
 * not call it.  Every few seconds zd also reads the state in a short query,
 * in case a notification was missed (a cancelled deployment, one settled by
 * a restarted worker).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>

#include "catalog/pg_type_d.h"
#include "common/logging.h"
#include "portability/instr_time.h"

#include "conn.h"
#include "deploy.h"
#include "run.h"
#include "zd.h"

/* how often zd reads the state in case a notification was missed */
#define ZD_DEPLOY_POLL_MS	2000
/* how long a state read waits for the notifications that lead to it */
#define ZD_DEPLOY_GRACE_MS	500

static bool queue(ZdSession *session, const char *target, char **id);
static int	wait_for(ZdSession *session, const char *id);
static bool read_state(ZdSession *session, const char *id, char **state);
static void advance(ZdSession *session, const char *id, char **current,
					const char *state);
static bool wait_for_input(ZdSession *session, long timeout_ms);
static int	report_end(ZdSession *session, const char *id);
static void split_error(const char *error, char **message, char **detail,
						char **hint);
static int	state_rank(const char *state);
static double elapsed_ms(instr_time since);

/*
 * zd deploy [TARGET] [--wait [--timeout=SECONDS]]
 */
int
ZdDeploy(const ZdOptions *options, const char *target)
{
	ZdSession  *session;
	char	   *id;

	/*
	 * No align lock: the worker takes it for the whole deployment, and zd
	 * waits for the worker.
	 */
	session = ZdStart(options, false, options->register_patches);
	if (session == NULL)
		return ZD_EXIT_FAILURE;

	/*
	 * A managed session would take the gate at each query while it waits,
	 * and queue behind the deployment it waits for.  Then listen before
	 * queueing, so that the first change of state is not missed.
	 */
	if (options->wait &&
		(!ZdCommand(session, "SET zerodown.managed = off") ||
		 !ZdCommand(session, "LISTEN " ZD_NOTIFY_CHANNEL)))
		return ZdFinish(session, ZD_EXIT_FAILURE);

	if (!queue(session, target, &id))
	{
		ZdReportVersion(session);
		return ZdFinish(session, ZD_EXIT_FAILURE);
	}
	if (!options->wait)
		return ZdFinish(session, ZD_EXIT_OK);
	return ZdFinish(session, wait_for(session, id));
}

/*
 * Queue the deployment, in its own transaction (autocommit): the worker
 * sees it, and is woken, when it commits.  Prints its id.
 */
static bool
queue(ZdSession *session, const char *target, char **id)
{
	Oid			types[1] = {INT4OID};
	const char *params[1] = {target};
	PGresult   *res;

	res = ZdQuery(session,
				  psprintf("SELECT %s($1)", ZdFunction(session, "zd_deploy")),
				  1, types, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	*id = pg_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);

	params[0] = *id;
	types[0] = INT8OID;
	res = ZdQuery(session,
				  "SELECT d.from_version, d.target FROM zerodown.deployments d"
				  " WHERE d.id = $1",
				  1, types, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	if (PQntuples(res) == 1)
		printf("zd: deployment %s queued: from patch %s to patch %s\n", *id,
			   PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
	else
		printf("zd: deployment %s queued\n", *id);
	fflush(stdout);
	PQclear(res);
	return true;
}

/*
 * Wait for the deployment to end, printing each change of state, and report
 * how it ended.  Returns the exit code.
 */
static int
wait_for(ZdSession *session, const char *id)
{
	const ZdOptions *options = session->options;
	char	   *current = pg_strdup("queued");
	char	   *read = NULL;	/* a later state read, not yet notified */
	double		read_at = 0;
	double		next_read = 0;
	instr_time	started;

	INSTR_TIME_SET_CURRENT(started);
	for (;;)
	{
		PGnotify   *notify;
		double		now;
		double		wait_ms;

		/* the notifications that came with the last result or read */
		while ((notify = PQnotifies(session->conn)) != NULL)
		{
			char	   *payload = notify->extra;
			size_t		len = strlen(id);

			if (strcmp(notify->relname, ZD_NOTIFY_CHANNEL) == 0 &&
				strncmp(payload, id, len) == 0 && payload[len] == ' ')
				advance(session, id, &current, payload + len + 1);
			PQfreemem(notify);
		}
		if (state_rank(current) == state_rank("done"))
			break;
		now = elapsed_ms(started);

		/*
		 * A read that is ahead of the notifications gives them a moment to
		 * arrive, so that every state is printed in order; a state that is
		 * never notified is taken from the read after that.
		 */
		if (read != NULL && state_rank(read) <= state_rank(current))
			read = NULL;
		if (read != NULL && now >= read_at + ZD_DEPLOY_GRACE_MS)
		{
			advance(session, id, &current, read);
			read = NULL;
			continue;
		}
		if (now >= next_read)
		{
			char	   *state;

			if (!read_state(session, id, &state))
				return ZD_EXIT_FAILURE;
			if (read == NULL && state_rank(state) > state_rank(current))
			{
				read = state;
				read_at = now;
			}
			next_read = now + ZD_DEPLOY_POLL_MS;
			continue;
		}
		if (options->timeout > 0 && now >= options->timeout * 1000.0)
		{
			fflush(stdout);
			pg_log_error("gave up waiting for deployment %s after %d s: it is %s",
						 id, options->timeout, current);
			pg_log_error_detail("The deployment goes on in the background worker; only zd stopped waiting.");
			pg_log_error_hint("Follow it with \"zd status\" or in zerodown.deployments.");
			return ZD_EXIT_FAILURE;
		}

		wait_ms = next_read - now;
		if (read != NULL)
			wait_ms = Min(wait_ms, read_at + ZD_DEPLOY_GRACE_MS - now);
		if (options->timeout > 0)
			wait_ms = Min(wait_ms, options->timeout * 1000.0 - now);
		if (!wait_for_input(session, (long) wait_ms + 1))
			return ZD_EXIT_FAILURE;
	}
	return report_end(session, id);
}

/* the deployment's state, read in a short transaction of its own */
static bool
read_state(ZdSession *session, const char *id, char **state)
{
	Oid			types[1] = {INT8OID};
	const char *params[1] = {id};
	PGresult   *res;

	res = ZdQuery(session,
				  "SELECT d.state FROM zerodown.deployments d WHERE d.id = $1",
				  1, types, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	if (PQntuples(res) != 1)
	{
		pg_log_error("deployment %s does not exist any more", id);
		PQclear(res);
		return false;
	}
	*state = pg_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return true;
}

/*
 * Move to a later state and print it, unless it is the final one.  A notification can come after a
 * read that already saw a later state: states only go forward.
 */
static void
advance(ZdSession *session, const char *id, char **current,
		const char *state)
{
	if (state_rank(state) <= state_rank(*current))
		return;
	free(*current);
	*current = pg_strdup(state);
	/* report_end says how it ended */
	if (!session->options->quiet && state_rank(state) < state_rank("done"))
	{
		printf("zd: deployment %s: %s\n", id, state);
		fflush(stdout);
	}
}

/*
 * Sleep until the server sends something or timeout_ms passes, and take in
 * what it sent.  No transaction is open meanwhile.  False after reporting a
 * lost connection.
 */
static bool
wait_for_input(ZdSession *session, long timeout_ms)
{
	struct pollfd pfd;
	int			rc;

	pfd.fd = PQsocket(session->conn);
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (pfd.fd < 0)
	{
		pg_log_error("connection to the server was lost");
		return false;
	}
	rc = poll(&pfd, 1, (int) Min(timeout_ms, INT_MAX));
	if (rc < 0 && errno != EINTR)
	{
		pg_log_error("could not wait for the server: %m");
		return false;
	}
	if (rc > 0 && !PQconsumeInput(session->conn))
	{
		pg_log_error("connection to the server was lost while waiting: %s",
					 PQerrorMessage(session->conn));
		pg_log_error_hint("The deployment goes on in the background worker; follow it with \"zd status\" or in zerodown.deployments.");
		return false;
	}
	return true;
}

/*
 * Print how the deployment ended, from its row: from and to which patch,
 * and its error with the DETAIL and HINT lines.  0 when it is done, else 1.
 */
static int
report_end(ZdSession *session, const char *id)
{
	Oid			types[1] = {INT8OID};
	const char *params[1] = {id};
	PGresult   *res;
	const char *state;
	const char *from;
	const char *to;
	const char *target;
	const char *took;
	int			code;

	res = ZdQuery(session,
				  psprintf("SELECT d.state, d.from_version, coalesce(d.to_version, %s()),"
						   " d.target, d.error,"
						   " pg_catalog.round(pg_catalog.date_part('epoch',"
						   "  d.finished_at - coalesce(d.started_at, d.requested_at)) * 1000)"
						   " FROM zerodown.deployments d WHERE d.id = $1",
						   ZdFunction(session, "zd_version")),
				  1, types, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return ZD_EXIT_FAILURE;
	if (PQntuples(res) != 1)
	{
		pg_log_error("deployment %s does not exist any more", id);
		PQclear(res);
		return ZD_EXIT_FAILURE;
	}
	state = PQgetvalue(res, 0, 0);
	from = PQgetvalue(res, 0, 1);
	to = PQgetvalue(res, 0, 2);
	target = PQgetvalue(res, 0, 3);
	took = PQgetisnull(res, 0, 5) ? "?" : PQgetvalue(res, 0, 5);

	if (strcmp(state, "done") == 0)
	{
		if (!session->options->quiet)
			printf("zd: deployment %s done in %s ms: database at patch %s (from patch %s)\n",
				   id, took, to, from);
		code = ZD_EXIT_OK;
	}
	else
	{
		char	   *message = NULL;
		char	   *detail = NULL;
		char	   *hint = NULL;

		fflush(stdout);
		if (!PQgetisnull(res, 0, 4))
			split_error(PQgetvalue(res, 0, 4), &message, &detail, &hint);
		if (message != NULL)
			pg_log_error("deployment %s %s: %s", id, state, message);
		else
			pg_log_error("deployment %s %s", id, state);
		if (detail != NULL)
			pg_log_error_detail("%s", detail);
		if (hint != NULL)
			pg_log_error_hint("%s", hint);
		if (strcmp(state, "cancelled") == 0)
			pg_log_info("database at patch %s", to);
		else
			pg_log_info("database at patch %s (the deployment started at patch %s, toward patch %s)",
						to, from, target);
		code = ZD_EXIT_FAILURE;
	}
	PQclear(res);
	return code;
}

/*
 * The worker stores an error as its message, then "\nDETAIL: ..." and
 * "\nHINT: ..." when it has them.
 */
static void
split_error(const char *error, char **message, char **detail, char **hint)
{
	char	   *text = pg_strdup(error);
	char	   *mark;

	if ((mark = strstr(text, "\nHINT: ")) != NULL)
	{
		*mark = '\0';
		*hint = mark + strlen("\nHINT: ");
	}
	if ((mark = strstr(text, "\nDETAIL: ")) != NULL)
	{
		*mark = '\0';
		*detail = mark + strlen("\nDETAIL: ");
	}
	*message = text;
}

/* states only go forward: queued, draining, applying, then a final one */
static int
state_rank(const char *state)
{
	if (strcmp(state, "queued") == 0)
		return 0;
	if (strcmp(state, "draining") == 0)
		return 1;
	if (strcmp(state, "applying") == 0)
		return 2;
	if (strcmp(state, "done") == 0 || strcmp(state, "failed") == 0 ||
		strcmp(state, "cancelled") == 0 || strcmp(state, "interrupted") == 0)
		return 3;
	return -1;
}

static double
elapsed_ms(instr_time since)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, since);
	return INSTR_TIME_GET_MILLISEC(now);
}

/*
 * The latest deployments, oldest of them first, when the table exists (an
 * older zerodown has none).  False after reporting an error.
 */
bool
ZdPrintDeployments(ZdSession *session, int limit)
{
	char	   *limit_text = psprintf("%d", limit);
	Oid			types[1] = {INT4OID};
	const char *params[1] = {limit_text};
	PGresult   *res;
	bool		exists;
	int			i;

	res = ZdQuery(session,
				  "SELECT pg_catalog.to_regclass('zerodown.deployments') IS NOT NULL",
				  0, NULL, NULL, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!exists)
		return true;

	res = ZdQuery(session,
				  "SELECT d.id, d.target, d.state, d.from_version, d.to_version,"
				  " pg_catalog.to_char(d.requested_at, 'YYYY-MM-DD HH24:MI:SSOF'),"
				  " pg_catalog.to_char(d.finished_at, 'YYYY-MM-DD HH24:MI:SSOF'),"
				  " pg_catalog.split_part(d.error, E'\\n', 1)"
				  " FROM (SELECT * FROM zerodown.deployments"
				  "        ORDER BY id DESC LIMIT $1) d"
				  " ORDER BY d.id",
				  1, types, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	if (PQntuples(res) > 0)
	{
		printf("zd: latest deployments\n");
		printf("  %6s  %6s  %-11s  %4s  %4s  %-22s  %s\n",
			   "id", "target", "state", "from", "to", "requested at",
			   "finished at");
	}
	for (i = 0; i < PQntuples(res); i++)
	{
		printf("  %6s  %6s  %-11s  %4s  %4s  %-22s  %s\n",
			   PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
			   PQgetvalue(res, i, 2),
			   PQgetisnull(res, i, 3) ? "-" : PQgetvalue(res, i, 3),
			   PQgetisnull(res, i, 4) ? "-" : PQgetvalue(res, i, 4),
			   PQgetvalue(res, i, 5),
			   PQgetisnull(res, i, 6) ? "-" : PQgetvalue(res, i, 6));
		if (!PQgetisnull(res, i, 7))
			printf("          error: %s\n", PQgetvalue(res, i, 7));
	}
	PQclear(res);
	return true;
}
