/*-------------------------------------------------------------------------
 *
 * cmd_deploy.c
 *	  zd deploy: queueing a deployment for the background worker, and
 *	  following it to its end.
 *
 * zd deploy registers the folder, calls zd_deploy and prints the id of the
 * deployment; the worker runs it, committing patch by patch, whether zd
 * stays or not.  With --wait, zd listens on the worker's channel before it
 * queues, so no change of state can slip by, and then waits on the socket
 * with no transaction open: a no-transaction patch (CREATE INDEX
 * CONCURRENTLY) waits for every transaction that holds a snapshot, so a
 * waiting client must hold none.  That is why the SQL function
 * zd_deploy_wait refuses to wait when such a patch is ahead, and why zd does
 * not call it.
 *
 * While it waits, zd shows each state the worker notifies ("ID STATE" on
 * zerodown_deployment), each step as it starts and ends (from
 * zerodown.history, whose rows name their deployment, and from where the
 * database stands), and the progress of a backfill that runs
 * (zerodown.expansion_status).  It reads them in short queries of their own
 * when a notification for the deployment comes, and every second or two in
 * case one was missed (a cancelled deployment, one settled by a restarted
 * worker).  A state zd does not know is shown as it comes; the deployment
 * has ended when its row has finished_at.  --quiet shows only the id and how
 * the deployment ended.
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

#include "common/protocol.h"
#include "output.h"
#include "session.h"
#include "zd.h"

/* how often zd reads the deployment while it applies, and before */
#define ZD_DEPLOY_APPLYING_POLL_MS	1000
#define ZD_DEPLOY_POLL_MS			2000
/* how long a state read waits for the notifications that lead to it */
#define ZD_DEPLOY_GRACE_MS			500
/* how often at most a backfill's progress is shown */
#define ZD_DEPLOY_PROGRESS_MS		2000

/* what zd knows of the deployment it follows */
typedef struct Following
{
	CliSession *session;
	const char *id;
	char	   *state;			/* the last state shown */
	bool		ended;
	char	   *last_history;	/* the last history id shown */
	char	   *running;		/* the step shown as started */
	char	   *at;				/* where the last step shown left the database */
	char	   *progress;		/* the backfill progress last shown */
	double		progress_at;
	bool		show;			/* progress is shown (not --quiet, not JSON) */
	CliJson    *states;			/* JSON: every state seen */
	CliJson    *steps;			/* JSON: every step done */
} Following;

static int	run_deploy(const CliOptions *options, int nargs, char **args);
static bool queue(CliSession *session, const char *target, char **id);
static int	wait_for(CliSession *session, const char *id);
static bool read_deployment(Following *f, char **state, bool *finished);
static void show_state(Following *f, const char *state);
static bool read_steps(Following *f);
static bool read_progress(Following *f, double now);
static bool wait_for_input(CliSession *session, long timeout_ms);
static int	report_end(CliSession *session, const char *id);
static void split_error(const char *error, char **message, char **detail,
						char **hint);
static int	state_rank(const char *state);
static double elapsed_ms(instr_time since);

const CliCommand CliDeployCommand = {
	.name = "deploy",
	.arguments = "[TARGET]",
	.summary = "queue a deployment to TARGET for the worker",
	.description =
	"Registers the folder's patches and queues a deployment to patch TARGET\n"
	"(default: the highest patch) for the background worker, which closes the\n"
	"deployment gate and commits patch by patch; prints its id.  With --wait,\n"
	"follows it to the end with no transaction open: each state, each step as\n"
	"it starts and ends, and the progress of a backfill; exits 0 only when it\n"
	"is done.  --quiet shows only the id and how it ended.  Ctrl-C stops the\n"
	"waiting, not the deployment.",
	.options = ZD_OPT_WAIT | ZD_OPT_TIMEOUT | ZD_OPT_JSON,
	.run = run_deploy
};

/*
 * zd deploy [TARGET] [--wait [--timeout=SECONDS]]
 */
static int
run_deploy(const CliOptions *options, int nargs, char **args)
{
	const char *target;
	CliSession *session;
	char	   *id;

	CliCheckArguments("deploy", nargs, args, 1);
	target = nargs > 0 ? CliPatchNumberArgument("deploy", "target", args[0]) : NULL;

	/*
	 * No align lock: the worker takes it for the whole deployment, and zd
	 * waits for the worker.
	 */
	session = CliOpen(options, false, options->register_patches);
	if (session == NULL)
		return ZD_EXIT_FAILURE;
	if (CliOutputJson())
		CliJsonSet(CliOutputDocument(), "waited", CliJsonBool(options->wait));

	/*
	 * A managed session would take the gate at each query while it waits,
	 * and queue behind the deployment it waits for.  Then listen before
	 * queueing, so that the first change of state is not missed.
	 */
	if (options->wait &&
		(!CliExec(session, "SET zerodown.managed = off") ||
		 !CliExec(session, "LISTEN " ZD_NOTIFY_CHANNEL)))
		return CliClose(session, ZD_EXIT_FAILURE);

	if (!queue(session, target, &id))
	{
		CliReportVersion(session);
		return CliClose(session, ZD_EXIT_FAILURE);
	}
	if (!options->wait)
		return CliClose(session, ZD_EXIT_OK);
	return CliClose(session, wait_for(session, id));
}

/*
 * Queue the deployment, in its own transaction (autocommit): the worker
 * sees it, and is woken, when it commits.  Prints its id.
 */
static bool
queue(CliSession *session, const char *target, char **id)
{
	Oid			types[1] = {INT4OID};
	const char *params[1] = {target};
	CliJson    *doc = CliOutputDocument();
	PGresult   *res;

	res = CliQuery(session,
				   psprintf("SELECT %s($1)", CliFunction(session, "zd_deploy")),
				   1, types, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	*id = pg_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);

	params[0] = *id;
	types[0] = INT8OID;
	res = CliQuery(session,
				   "SELECT d.from_version, d.target, d.state FROM zerodown.deployments d"
				   " WHERE d.id = $1",
				   1, types, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	if (doc)
	{
		CliJsonSet(doc, "id", CliJsonNumber(*id));
		CliJsonSet(doc, "from", CliJsonNumber(PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : NULL));
		CliJsonSet(doc, "target", CliJsonNumber(PQntuples(res) == 1 ? PQgetvalue(res, 0, 1) : target));
		CliJsonSet(doc, "state", CliJsonString(PQntuples(res) == 1 ? PQgetvalue(res, 0, 2) : "queued"));
	}
	else if (PQntuples(res) == 1)
		printf("zd: deployment %s queued: from patch %s to patch %s\n", *id,
			   PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
	else
		printf("zd: deployment %s queued\n", *id);
	fflush(stdout);
	PQclear(res);
	return true;
}

/*
 * Wait for the deployment to end, showing what it does, and report how it
 * ended.  Returns the exit code.
 */
static int
wait_for(CliSession *session, const char *id)
{
	const CliOptions *options = session->options;
	CliJson    *doc = CliOutputDocument();
	Following	f = {0};
	char	   *read = NULL;	/* a later state read, not yet notified */
	bool		read_finished = false;	/* ... and the deployment had ended */
	double		read_at = 0;
	double		next_read = 0;
	instr_time	started;

	f.session = session;
	f.id = id;
	f.state = pg_strdup("queued");
	f.last_history = pg_strdup("0");
	f.show = !options->quiet && !options->json;
	if (doc)
	{
		f.states = CliJsonSet(doc, "states", CliJsonArray());
		CliJsonAppend(f.states, CliJsonString("queued"));
		f.steps = CliJsonSet(doc, "steps", CliJsonArray());
	}

	INSTR_TIME_SET_CURRENT(started);
	for (;;)
	{
		PGnotify   *notify;
		bool		notified = false;
		double		now;
		double		wait_ms;

		/* the notifications that came with the last result or read */
		while ((notify = PQnotifies(session->conn)) != NULL)
		{
			char	   *payload = notify->extra;
			size_t		len = strlen(id);

			/*
			 * "ID STATE" is a change of state; anything else about the
			 * deployment ("ID" and more words) only says to read it now.
			 */
			if (strcmp(notify->relname, ZD_NOTIFY_CHANNEL) == 0 &&
				strncmp(payload, id, len) == 0 && payload[len] == ' ')
			{
				const char *state = payload + len + 1;

				if (*state != '\0' && strchr(state, ' ') == NULL)
					show_state(&f, state);
				notified = true;
			}
			PQfreemem(notify);
		}
		if (f.ended)
			break;
		if (CliCancelled())
		{
			fflush(stdout);
			CliError("stopped waiting for deployment %s (Ctrl-C): it is %s",
					 id, f.state);
			CliErrorDetail("The deployment goes on in the background worker; only zd stopped waiting.");
			CliErrorHint("Follow it with \"zd status\" or in zerodown.deployments; cancel it with zd_deploy_cancel(%s).",
						 id);
			return ZD_EXIT_FAILURE;
		}
		now = elapsed_ms(started);

		/*
		 * A read that is ahead of the notifications gives them a moment to
		 * arrive, so that every state is shown in order; a state that is
		 * never notified is taken from the read after that.
		 */
		if (read != NULL && state_rank(read) >= 0 &&
			state_rank(read) <= state_rank(f.state))
			read = NULL;
		if (read != NULL && now >= read_at + ZD_DEPLOY_GRACE_MS)
		{
			show_state(&f, read);
			if (read_finished)
				f.ended = true;
			read = NULL;
			continue;
		}
		if (now >= next_read || notified)
		{
			char	   *state;
			bool		finished;
			bool		applying;

			/* steps are shown once the deployment is shown applying */
			if (!read_deployment(&f, &state, &finished) ||
				(state_rank(f.state) != 0 && state_rank(f.state) != 1 &&
				 !read_steps(&f)))
				return ZD_EXIT_FAILURE;
			if (read == NULL && strcmp(state, f.state) != 0 &&
				(state_rank(state) < 0 || state_rank(state) > state_rank(f.state)))
			{
				read = state;
				read_finished = finished;
				read_at = now;
			}
			else if (finished && strcmp(state, f.state) == 0)
				f.ended = true;
			if (f.ended)
				break;
			applying = strcmp(f.state, "applying") == 0;
			if (applying && !read_progress(&f, now))
				return ZD_EXIT_FAILURE;
			next_read = now + (applying ? ZD_DEPLOY_APPLYING_POLL_MS : ZD_DEPLOY_POLL_MS);
			continue;
		}
		if (options->timeout > 0 && now >= options->timeout * 1000.0)
		{
			fflush(stdout);
			CliError("gave up waiting for deployment %s after %d s: it is %s",
					 id, options->timeout, f.state);
			CliErrorDetail("The deployment goes on in the background worker; only zd stopped waiting.");
			CliErrorHint("Follow it with \"zd status\" or in zerodown.deployments.");
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
	/* the steps that ended with the deployment */
	if (!read_steps(&f))
		return ZD_EXIT_FAILURE;
	return report_end(session, id);
}

/*
 * The deployment's state, read in a short transaction of its own, and
 * whether it has finished (finished_at, whatever the state's name).
 */
static bool
read_deployment(Following *f, char **state, bool *finished)
{
	Oid			types[1] = {INT8OID};
	const char *params[1] = {f->id};
	PGresult   *res;

	res = CliQuery(f->session,
				   "SELECT d.state, d.finished_at IS NOT NULL"
				   " FROM zerodown.deployments d WHERE d.id = $1",
				   1, types, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	if (PQntuples(res) != 1)
	{
		CliError("deployment %s does not exist any more", f->id);
		PQclear(res);
		return false;
	}
	*state = pg_strdup(PQgetvalue(res, 0, 0));
	*finished = strcmp(PQgetvalue(res, 0, 1), "t") == 0 ||
		state_rank(*state) == state_rank("done");
	PQclear(res);
	return true;
}

/*
 * Show a new state, unless it is the one shown, or an older one than it (a
 * notification can come after a read that already saw a later state).  The
 * final state is shown by report_end.
 */
static void
show_state(Following *f, const char *state)
{
	if (strcmp(state, f->state) == 0 ||
		(state_rank(state) >= 0 && state_rank(f->state) >= 0 &&
		 state_rank(state) < state_rank(f->state)))
		return;
	free(f->state);
	f->state = pg_strdup(state);
	if (f->states)
		CliJsonAppend(f->states, CliJsonString(state));
	if (state_rank(state) == state_rank("done"))
	{
		f->ended = true;
		return;
	}
	if (f->show)
	{
		printf("zd: deployment %s: %s\n", f->id, state);
		fflush(stdout);
	}
}

/*
 * The steps of the deployment that ended since the last read, one line
 * each, and the step running now: the next one from where the database
 * stands toward the target, while the deployment applies.
 */
static bool
read_steps(Following *f)
{
	Oid			types[2] = {INT8OID, INT8OID};
	const char *params[2] = {f->id, f->last_history};
	PGresult   *res;
	int			i;

	res = CliQuery(f->session,
				   "SELECT h.id, pg_catalog.format('%s_%s', pg_catalog.lpad(h.number::text, 5, '0'), h.name),"
				   " h.direction, pg_catalog.round(pg_catalog.date_part('epoch', h.duration) * 1000),"
				   " h.attempts, h.number, h.name, h.outcome"
				   " FROM zerodown.history h"
				   " WHERE h.deployment = $1 AND h.id > $2 ORDER BY h.id",
				   2, types, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	for (i = 0; i < PQntuples(res); i++)
	{
		bool		rollback = strcmp(PQgetvalue(res, i, 2), "rollback") == 0;
		bool		done = strcmp(PQgetvalue(res, i, 7), "done") == 0;
		int			attempts = atoi(PQgetvalue(res, i, 4));
		char	   *start = psprintf("%s %s", rollback ? "rolling back" : "building",
									 PQgetvalue(res, i, 1));

		/* a step that began and ended between two reads: its start first */
		if (f->show && (f->running == NULL || strcmp(f->running, start) != 0))
			printf("  %-12s %s\n", rollback ? "rolling back" : "building",
				   PQgetvalue(res, i, 1));

		free(f->last_history);
		f->last_history = pg_strdup(PQgetvalue(res, i, 0));
		if (done)
		{
			free(f->at);
			f->at = psprintf("%d", atoi(PQgetvalue(res, i, 5)) - (rollback ? 1 : 0));
		}
		if (f->steps)
		{
			CliJson    *entry = CliJsonAppend(f->steps, CliJsonObject());

			CliJsonSet(entry, "number", CliJsonNumber(PQgetvalue(res, i, 5)));
			CliJsonSet(entry, "name", CliJsonString(PQgetvalue(res, i, 6)));
			CliJsonSet(entry, "direction", CliJsonString(PQgetvalue(res, i, 2)));
			CliJsonSet(entry, "milliseconds", CliJsonNumber(PQgetvalue(res, i, 3)));
			CliJsonSet(entry, "attempts", CliJsonInteger(attempts));
			CliJsonSet(entry, "outcome", CliJsonString(PQgetvalue(res, i, 7)));
		}
		if (f->show)
			printf("  %-12s %-30s %6s ms%s\n",
				   !done ? "failed" : rollback ? "rolled back" : "built",
				   PQgetvalue(res, i, 1), PQgetvalue(res, i, 3),
				   attempts > 1 ? psprintf("  (%d attempts)", attempts) : "");
		if (f->running != NULL)
		{
			free(f->running);
			f->running = NULL;
		}
	}
	PQclear(res);
	if (!f->show || f->ended || strcmp(f->state, "applying") != 0)
	{
		fflush(stdout);
		return true;
	}

	/*
	 * The step running: the next one toward the target from where the last
	 * step shown left the database (from where the deployment started before
	 * the first), so that what is shown never runs ahead of the history.
	 */
	params[0] = f->id;
	params[1] = f->at;
	types[1] = INT4OID;
	res = CliQuery(f->session,
				   "SELECT CASE WHEN d.target > a.at THEN 'building' ELSE 'rolling back' END,"
				   " pg_catalog.format('%s_%s', pg_catalog.lpad(p.number::text, 5, '0'), p.name)"
				   " FROM zerodown.deployments d"
				   " CROSS JOIN LATERAL (SELECT coalesce($2, d.from_version) AS at) a"
				   " JOIN zerodown.patches p"
				   "  ON p.number = CASE WHEN d.target > a.at THEN a.at + 1 ELSE a.at END"
				   " WHERE d.id = $1 AND d.target <> a.at AND d.finished_at IS NULL",
				   2, types, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	if (PQntuples(res) == 1)
	{
		char	   *running = psprintf("%s %s", PQgetvalue(res, 0, 0),
									   PQgetvalue(res, 0, 1));

		if (f->running == NULL || strcmp(f->running, running) != 0)
		{
			printf("  %-12s %s\n", PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
			free(f->running);
			f->running = pg_strdup(running);
		}
	}
	PQclear(res);
	fflush(stdout);
	return true;
}

/*
 * The progress of a backfill running (a step that CALLs zd_backfill), when
 * it moved, at most every ZD_DEPLOY_PROGRESS_MS.
 */
static bool
read_progress(Following *f, double now)
{
	Oid			types[2] = {INT8OID, INT8OID};
	const char *params[2] = {f->id, f->last_history};
	PGresult   *res;
	int			i;

	if (!f->show || (f->progress != NULL && now < f->progress_at + ZD_DEPLOY_PROGRESS_MS))
		return true;
	res = CliQuery(f->session,
				   "SELECT pg_catalog.format('backfill of %s%s: %s of %s rows (%s%%)%s%s',"
				   "  e.table_name, coalesce(' (' || e.child || ')', ''),"
				   "  e.rows_done, coalesce(e.rows_total::text, '?'), coalesce(e.percent::text, '?'),"
				   "  ', ' || e.rows_per_second || ' rows/s',"
				   "  ', ' || pg_catalog.justify_interval(e.time_left) || ' left')"
				   " FROM zerodown.expansion_status e"
				   " WHERE e.backfill_pid IS NOT NULL AND e.backfill_started_at IS NOT NULL"
				   /* not before a step that ended is shown: the next read */
				   "  AND NOT EXISTS (SELECT FROM zerodown.history h"
				   "                   WHERE h.deployment = $1 AND h.id > $2)"
				   " ORDER BY e.id",
				   2, types, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	for (i = 0; i < PQntuples(res); i++)
	{
		const char *line = PQgetvalue(res, i, 0);

		if (f->progress != NULL && strcmp(f->progress, line) == 0)
			continue;
		printf("               %s\n", line);
		free(f->progress);
		f->progress = pg_strdup(line);
		f->progress_at = now;
	}
	fflush(stdout);
	PQclear(res);
	return true;
}

/*
 * Sleep until the server sends something or timeout_ms passes, and take in
 * what it sent.  No transaction is open meanwhile.  False after reporting a
 * lost connection.
 */
static bool
wait_for_input(CliSession *session, long timeout_ms)
{
	struct pollfd pfd;
	int			rc;

	pfd.fd = PQsocket(session->conn);
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (pfd.fd < 0)
	{
		CliError("connection to the server was lost");
		return false;
	}
	rc = poll(&pfd, 1, (int) Min(timeout_ms, INT_MAX));
	if (rc < 0 && errno != EINTR)
	{
		CliError("could not wait for the server: %m");
		return false;
	}
	if (rc > 0 && !PQconsumeInput(session->conn))
	{
		CliError("connection to the server was lost while waiting: %s",
				 PQerrorMessage(session->conn));
		CliErrorHint("The deployment goes on in the background worker; follow it with \"zd status\" or in zerodown.deployments.");
		return false;
	}
	return true;
}

/*
 * Print how the deployment ended, from its row: from and to which patch,
 * and its error with the DETAIL and HINT lines.  0 when it is done, else 1.
 * --quiet prints this too: it is the result, not progress.
 */
static int
report_end(CliSession *session, const char *id)
{
	Oid			types[1] = {INT8OID};
	const char *params[1] = {id};
	CliJson    *doc = CliOutputDocument();
	PGresult   *res;
	const char *state;
	const char *from;
	const char *to;
	const char *target;
	const char *took;
	int			code;

	res = CliQuery(session,
				   psprintf("SELECT d.state, d.from_version, coalesce(d.to_version, %s()),"
							" d.target, d.error,"
							" pg_catalog.round(pg_catalog.date_part('epoch',"
							"  d.finished_at - coalesce(d.started_at, d.requested_at)) * 1000)"
							" FROM zerodown.deployments d WHERE d.id = $1",
							CliFunction(session, "zd_version")),
				   1, types, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return ZD_EXIT_FAILURE;
	if (PQntuples(res) != 1)
	{
		CliError("deployment %s does not exist any more", id);
		PQclear(res);
		return ZD_EXIT_FAILURE;
	}
	state = PQgetvalue(res, 0, 0);
	from = PQgetvalue(res, 0, 1);
	to = PQgetvalue(res, 0, 2);
	target = PQgetvalue(res, 0, 3);
	took = PQgetisnull(res, 0, 5) ? "?" : PQgetvalue(res, 0, 5);
	if (doc)
	{
		CliJsonSet(doc, "state", CliJsonString(state));
		CliJsonSet(doc, "from", CliJsonNumber(from));
		CliJsonSet(doc, "database_at", CliJsonNumber(to));
		CliJsonSet(doc, "milliseconds", CliJsonNumber(PQgetisnull(res, 0, 5) ? NULL : took));
	}

	if (strcmp(state, "done") == 0)
	{
		if (!session->options->json)
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
			CliError("deployment %s %s: %s", id, state, message);
		else
			CliError("deployment %s %s", id, state);
		if (detail != NULL)
			CliErrorDetail("%s", detail);
		if (hint != NULL)
			CliErrorHint("%s", hint);
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

/*
 * The states zd knows go forward: queued, draining, applying, then a final
 * one.  Another state (-1) is shown as it comes.
 */
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
