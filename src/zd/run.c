/*-------------------------------------------------------------------------
 *
 * run.c
 *	  The zd commands that align: align, plan and status; and the session
 *	  steps that every command talking to the database shares.
 *
 * align reads the folder, registers every patch in one transaction, asks
 * zd_plan for the steps (which checks the whole plan before anything runs)
 * and runs them in order, each committed on its own, so that a failure
 * leaves the database at the last good patch.  The whole run holds the
 * session-level form of the advisory lock that zd_align takes per
 * transaction, so two runs never interleave.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "catalog/pg_type_d.h"
#include "common/logging.h"
#include "portability/instr_time.h"

#include "advice.h"
#include "conn.h"
#include "deploy.h"
#include "folder.h"
#include "lag.h"
#include "run.h"
#include "step.h"
#include "zd.h"

/* how many of the latest deployments status shows */
#define ZD_STATUS_DEPLOYMENTS	5

/* how many zd_register calls go in one pipeline round trip */
#define ZD_REGISTER_BATCH	200

static bool lock_align(ZdSession *session);
static bool run_transactional_steps(ZdSession *session, const ZdOptions *options,
									const ZdPlanStep *last, int width);
static bool register_folder(ZdSession *session, const ZdFolder *folder);
static const char *yes_no(const char *value);

/*
 * zd align [TARGET]
 */
int
ZdAlign(const ZdOptions *options, const char *target)
{
	ZdSession  *session;
	ZdPlanStep *steps;
	int			nsteps;
	int			current;
	int			width = 0;
	int			i;

	session = ZdStart(options, true, options->register_patches);
	if (session == NULL)
		return ZD_EXIT_FAILURE;

	current = ZdReadVersion(session);
	if (current < 0 || !ZdReadPlan(session, target, &steps, &nsteps))
	{
		ZdReportVersion(session);
		return ZdFinish(session, ZD_EXIT_FAILURE);
	}
	if (nsteps == 0)
	{
		if (!options->quiet)
			printf("zd: database already at patch %d\n", current);
		return ZdFinish(session, ZD_EXIT_OK);
	}
	if (!options->quiet)
		printf("zd: database at patch %d, aligning to patch %d (%d step%s)\n",
			   current, ZD_STEP_REACHES(&steps[nsteps - 1]), nsteps,
			   nsteps == 1 ? "" : "s");

	for (i = 0; i < nsteps; i++)
		width = Max(width, (int) strlen(steps[i].name) + 6);

	for (i = 0; i < nsteps; i++)
	{
		ZdPlanStep *step = &steps[i];
		instr_time	started;
		instr_time	duration;
		int			attempts;

		/* the replica-lag brake, before each step (lag.c) */
		if (!ZdWaitForStandbys(session))
		{
			ZdReportVersion(session);
			return ZdFinish(session, ZD_EXIT_FAILURE);
		}

		/* consecutive ordinary steps: one CALL, which commits each patch */
		if (step->transactional)
		{
			int			last = i;

			while (last + 1 < nsteps && steps[last + 1].transactional)
				last++;
			if (!run_transactional_steps(session, options, &steps[last], width))
			{
				ZdReportVersion(session);
				return ZdFinish(session, ZD_EXIT_FAILURE);
			}
			i = last;
			continue;
		}

		if (options->verbose)
		{
			printf("  %-12s %05d_%s\n", step->rollback ? "rolling back" : "building",
				   step->number, step->name);
			fflush(stdout);
		}

		INSTR_TIME_SET_CURRENT(started);
		if (!ZdRunStep(session, step, &attempts))
		{
			ZdReportVersion(session);
			return ZdFinish(session, ZD_EXIT_FAILURE);
		}
		INSTR_TIME_SET_CURRENT(duration);
		INSTR_TIME_SUBTRACT(duration, started);

		if (!options->quiet)
		{
			char	   *label = psprintf("%05d_%s", step->number, step->name);

			printf("  %-12s %-*s %6.0f ms%s%s\n",
				   step->rollback ? "rolled back" : "built",
				   width, label, INSTR_TIME_GET_MILLISEC(duration),
				   step->transactional ? "" : "  (outside a transaction)",
				   attempts > 1 ? psprintf("  (%d attempts)", attempts) : "");
			fflush(stdout);
		}
	}

	current = ZdReadVersion(session);
	if (current < 0)
		return ZdFinish(session, ZD_EXIT_FAILURE);
	if (!options->quiet)
		printf("zd: database at patch %d\n", current);
	return ZdFinish(session, ZD_EXIT_OK);
}

/*
 * Run ordinary steps up to the one given with zd_align_each, which commits
 * each patch in one round trip, then print one line per step from the
 * history (the steps that committed, also when a later one failed).
 */
static bool
run_transactional_steps(ZdSession *session, const ZdOptions *options,
						const ZdPlanStep *last, int width)
{
	Oid			types[1] = {INT4OID};
	const char *params[1];
	PGresult   *res;
	char	   *since;
	bool		ok;
	int			i;

	res = ZdQuery(session, "SELECT coalesce(max(id), 0) FROM zerodown.history",
				  0, NULL, NULL, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	since = pg_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);

	params[0] = psprintf("%d", ZD_STEP_REACHES(last));
	res = ZdQuery(session, psprintf("CALL %s($1)", ZdFunction(session, "zd_align_each")),
				  1, types, params, PGRES_COMMAND_OK);
	ok = res != NULL;
	PQclear(res);
	if (options->quiet)
		return ok;

	params[0] = since;
	res = ZdQuery(session,
				  "SELECT format('%s_%s', lpad(number::text, 5, '0'), name), direction,"
				  " round(extract(epoch FROM duration) * 1000)"
				  " FROM zerodown.history WHERE id > $1::bigint ORDER BY id",
				  1, NULL, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	for (i = 0; i < PQntuples(res); i++)
		printf("  %-12s %-*s %6s ms\n",
			   strcmp(PQgetvalue(res, i, 1), "rollback") == 0 ? "rolled back" : "built",
			   width, PQgetvalue(res, i, 0), PQgetvalue(res, i, 2));
	fflush(stdout);
	PQclear(res);
	return ok;
}

/*
 * zd plan [TARGET]
 */
int
ZdPlan(const ZdOptions *options, const char *target)
{
	ZdSession  *session;
	ZdPlanStep *steps;
	int			nsteps;
	int			current;
	int			name_width = 4;
	int			nfindings;
	int			i;

	session = ZdStart(options, false, options->register_patches);
	if (session == NULL)
		return ZD_EXIT_FAILURE;

	current = ZdReadVersion(session);
	if (current < 0 || !ZdReadPlan(session, target, &steps, &nsteps))
	{
		ZdReportVersion(session);
		return ZdFinish(session, ZD_EXIT_FAILURE);
	}
	if (nsteps == 0)
	{
		printf("zd: database already at patch %d, nothing to do\n", current);
		return ZdFinish(session, ZD_EXIT_OK);
	}

	printf("zd: database at patch %d, plan to patch %d (%d step%s)\n",
		   current, ZD_STEP_REACHES(&steps[nsteps - 1]), nsteps,
		   nsteps == 1 ? "" : "s");
	for (i = 0; i < nsteps; i++)
		name_width = Max(name_width, (int) strlen(steps[i].name));
	printf("  %4s  %5s  %-*s  %-9s  %-13s  %10s  %s\n",
		   "step", "patch", name_width, "name", "direction", "transactional",
		   "statements", "file");
	for (i = 0; i < nsteps; i++)
	{
		ZdPlanStep *step = &steps[i];

		printf("  %4d  %05d  %-*s  %-9s  %-13s  %10d  %s\n",
			   step->step, step->number, name_width, step->name,
			   step->rollback ? "rollback" : "build",
			   step->transactional ? "yes" : "no", step->statements,
			   step->file);
	}

	/* advice: findings fail only with --strict */
	if (!ZdPrintFindings(session, target, steps, nsteps, &nfindings) ||
		(options->lock_plan && !ZdPrintLockPlan(session, target, nsteps)))
		return ZdFinish(session, ZD_EXIT_FAILURE);
	if (options->strict && nfindings > 0)
	{
		fflush(stdout);
		pg_log_error("%d lint finding%s, and --strict makes findings an error",
					 nfindings, nfindings == 1 ? "" : "s");
		pg_log_error_hint("Follow the hint of each finding, or plan without --strict to take them as advice.");
		return ZdFinish(session, ZD_EXIT_FAILURE);
	}
	return ZdFinish(session, ZD_EXIT_OK);
}

/*
 * zd status: the version, every registered patch, and the latest
 * deployments
 */
int
ZdStatus(const ZdOptions *options)
{
	ZdSession  *session;
	PGresult   *res;
	int			current;
	int			name_width = 4;
	int			drifted = 0;
	int			i;

	session = ZdStart(options, false, false);
	if (session == NULL)
		return ZD_EXIT_FAILURE;

	current = ZdReadVersion(session);
	if (current < 0)
		return ZdFinish(session, ZD_EXIT_FAILURE);
	res = ZdQuery(session,
				  "SELECT s.number, s.name, s.applied,"
				  " pg_catalog.to_char(s.applied_at, 'YYYY-MM-DD HH24:MI:SSOF'),"
				  " s.drift, s.reversible, s.transactional"
				  " FROM zerodown.status s ORDER BY s.number",
				  0, NULL, NULL, PGRES_TUPLES_OK);
	if (res == NULL)
		return ZdFinish(session, ZD_EXIT_FAILURE);

	printf("zd: database at patch %d\n", current);
	if (PQntuples(res) == 0)
	{
		printf("zd: no patches registered\n");
		PQclear(res);
		if (!ZdPrintDeployments(session, ZD_STATUS_DEPLOYMENTS))
			return ZdFinish(session, ZD_EXIT_FAILURE);
		return ZdFinish(session, ZD_EXIT_OK);
	}

	for (i = 0; i < PQntuples(res); i++)
		name_width = Max(name_width, (int) strlen(PQgetvalue(res, i, 1)));
	printf("    %5s  %-*s  %-7s  %-22s  %-5s  %-10s  %s\n",
		   "patch", name_width, "name", "applied", "applied at", "drift",
		   "reversible", "transactional");
	for (i = 0; i < PQntuples(res); i++)
	{
		bool		drift = strcmp(PQgetvalue(res, i, 4), "t") == 0;

		printf("  %s %05d  %-*s  %-7s  %-22s  %-5s  %-10s  %s\n",
			   drift ? "!" : " ",
			   atoi(PQgetvalue(res, i, 0)),
			   name_width, PQgetvalue(res, i, 1),
			   yes_no(PQgetvalue(res, i, 2)),
			   PQgetisnull(res, i, 3) ? "-" : PQgetvalue(res, i, 3),
			   drift ? "DRIFT" : "no",
			   yes_no(PQgetvalue(res, i, 5)),
			   yes_no(PQgetvalue(res, i, 6)));
		drifted += drift ? 1 : 0;
	}
	if (!ZdPrintDeployments(session, ZD_STATUS_DEPLOYMENTS))
	{
		PQclear(res);
		return ZdFinish(session, ZD_EXIT_FAILURE);
	}
	fflush(stdout);
	for (i = 0; i < PQntuples(res); i++)
	{
		if (strcmp(PQgetvalue(res, i, 4), "t") == 0)
			pg_log_warning("patch %s \"%s\" has changed since it was applied",
						   PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
	}
	if (drifted > 0)
		pg_log_warning_hint("Applied patches are immutable: restore the text they were applied with (see the view zerodown.status), and make changes in new patches.");
	PQclear(res);
	return ZdFinish(session, ZD_EXIT_OK);
}

/*
 * Read the folder, connect, take the align lock and register the folder's
 * patches, as asked.  NULL after reporting an error.
 */
ZdSession *
ZdStart(const ZdOptions *options, bool lock, bool register_patches)
{
	ZdFolder	folder;
	ZdSession  *session;

	if (register_patches && !ZdReadFolder(options->directory, &folder))
		return NULL;
	session = ZdConnect(options);
	if (session == NULL)
		return NULL;
	if ((lock && !lock_align(session)) ||
		(register_patches && !register_folder(session, &folder)))
	{
		ZdReportVersion(session);
		ZdDisconnect(session);
		return NULL;
	}
	return session;
}

int
ZdFinish(ZdSession *session, int code)
{
	ZdDisconnect(session);
	return code;
}

/*
 * The session-level form of the lock zd_align takes per transaction: two
 * zd runs never interleave, and zd_align calls from elsewhere wait.
 */
static bool
lock_align(ZdSession *session)
{
	PGresult   *res;
	bool		locked;

	res = ZdQuery(session,
				  "SELECT pg_catalog.pg_try_advisory_lock(" ZD_LOCK_CLASS ", " ZD_LOCK_ALIGN ")",
				  0, NULL, NULL, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	locked = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (locked)
		return true;

	if (!session->options->quiet)
		pg_log_info("waiting for another deployment to this database to finish");
	res = ZdQuery(session,
				  "SELECT pg_catalog.pg_advisory_lock(" ZD_LOCK_CLASS ", " ZD_LOCK_ALIGN ")",
				  0, NULL, NULL, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	PQclear(res);
	return true;
}

/*
 * Register every patch of the folder in one transaction: all of them, or
 * none.  Registering changes no schema.
 */
static bool
register_folder(ZdSession *session, const ZdFolder *folder)
{
	Oid			types[6] = {INT4OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	char	   *sql = psprintf("SELECT %s($1, $2, $3, $4, $5, $6)",
							   ZdFunction(session, "zd_register"));
	int			changed = 0;
	int			first;

	if (!ZdCommand(session, "BEGIN"))
		return false;

	/*
	 * In pipeline mode, one batch of calls at a time: one round trip per
	 * batch instead of one per patch, and batches small enough that neither
	 * side fills its socket buffer while the other is not reading.
	 */
	for (first = 0; first < folder->npatches; first += ZD_REGISTER_BATCH)
	{
		int			last = Min(first + ZD_REGISTER_BATCH, folder->npatches);
		const ZdFolderPatch *failed = NULL;
		PGresult   *error = NULL;
		PGresult   *res;
		int			i;

		if (!PQenterPipelineMode(session->conn))
			pg_fatal("could not enter pipeline mode: %s", PQerrorMessage(session->conn));
		for (i = first; i < last; i++)
		{
			const ZdFolderPatch *patch = &folder->patches[i];
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
			const ZdFolderPatch *patch = &folder->patches[i];

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
			ZdReportError(session, error, NULL,
						  psprintf("While registering %s/build/%s. Nothing was registered.",
								   folder->path, failed->file),
						  NULL);
			PQclear(error);
			(void) ZdCommand(session, "ROLLBACK");
			return false;
		}
	}
	if (!ZdCommand(session, "COMMIT"))
		return false;
	if (changed > 0 && !session->options->quiet)
		printf("zd: registered %d patch%s from \"%s\"\n", changed,
			   changed == 1 ? "" : "es", folder->path);
	return true;
}

/* the rows of zd_plan(target): every check is made before anything runs */
bool
ZdReadPlan(ZdSession *session, const char *target, ZdPlanStep **steps, int *n)
{
	Oid			types[1] = {INT4OID};
	const char *params[1] = {target};
	PGresult   *res;
	int			i;

	res = ZdQuery(session,
				  psprintf("SELECT step, number, name, direction, transactional,"
						   " statements, file FROM %s($1) ORDER BY step",
						   ZdFunction(session, "zd_plan")),
				  1, types, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;

	*n = PQntuples(res);
	*steps = pg_malloc0(sizeof(ZdPlanStep) * Max(*n, 1));
	for (i = 0; i < *n; i++)
	{
		ZdPlanStep *step = &(*steps)[i];

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

/* after a failure: where the database stands now */
void
ZdReportVersion(ZdSession *session)
{
	PGresult   *res;

	if (PQstatus(session->conn) == CONNECTION_BAD)
	{
		pg_log_info("the patch the database stands at is unknown: the connection was lost");
		return;
	}
	/* a failed registration may have left its transaction open */
	if (PQtransactionStatus(session->conn) != PQTRANS_IDLE)
		(void) ZdCommand(session, "ROLLBACK");
	res = PQexec(session->conn,
				 psprintf("SELECT %s()", ZdFunction(session, "zd_version")));
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		pg_log_info("database at patch %s", PQgetvalue(res, 0, 0));
	else
		pg_log_info("the patch the database stands at is unknown: %s",
					PQresultErrorMessage(res));
	PQclear(res);
}

static const char *
yes_no(const char *value)
{
	return strcmp(value, "t") == 0 ? "yes" : "no";
}
