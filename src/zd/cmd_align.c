/*-------------------------------------------------------------------------
 *
 * cmd_align.c
 *	  zd align [TARGET]: build or roll back, one patch per transaction.
 *
 * align reads the folder, registers every patch in one transaction, asks
 * zd_plan for the steps (which checks the whole plan before anything runs)
 * and runs them in order, each committed on its own, so that a failure
 * leaves the database at the last good patch.  Consecutive ordinary steps
 * go in one CALL zd_align_each, which commits each patch; a patch marked
 * no-transaction runs statement by statement (runstep.c).  The whole run
 * holds the session-level form of the advisory lock that zd_align takes per
 * transaction, so two runs never interleave.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "catalog/pg_type_d.h"
#include "common/logging.h"
#include "portability/instr_time.h"

#include "lag.h"
#include "output.h"
#include "runstep.h"
#include "session.h"
#include "zd.h"

static int	run_align(const CliOptions *options, int nargs, char **args);
static bool run_transactional_steps(CliSession *session,
									const CliPlanStep *last, int width,
									CliJson *done);
static CliJson *step_json(const CliPlanStep *step);

const CliCommand CliAlignCommand = {
	.name = "align",
	.arguments = "[TARGET]",
	.summary = "build or roll back, patch by patch, to patch TARGET",
	.description =
	"Registers the folder's patches, then builds or rolls back, one patch per\n"
	"transaction, until the database stands at patch TARGET (default: the\n"
	"highest patch).  Every check is made before the first patch runs.  A\n"
	"failure leaves the database at the last good patch, and says which.  A\n"
	"patch whose file starts with \"-- zerodown:no-transaction\" runs statement\n"
	"by statement outside a transaction.  Ctrl-C cancels the statement\n"
	"running; the patches before it stay committed.",
	.options = ZD_OPT_JSON,
	.run = run_align
};

static int
run_align(const CliOptions *options, int nargs, char **args)
{
	const char *target;
	CliSession *session;
	CliPlanStep *steps;
	CliJson    *doc = CliOutputDocument();
	CliJson    *done = NULL;
	bool		text = !options->quiet && !options->json;
	int			nsteps;
	int			current;
	int			width = 0;
	int			i;

	CliCheckArguments("align", nargs, args, 1);
	target = nargs > 0 ? CliPatchNumberArgument("align", "target", args[0]) : NULL;

	session = CliOpen(options, true, options->register_patches);
	if (session == NULL)
		return ZD_EXIT_FAILURE;

	current = CliReadVersion(session);
	if (doc)
	{
		CliJsonSet(doc, "from", current >= 0 ? CliJsonInteger(current) : CliJsonNull());
		CliJsonSet(doc, "target", CliJsonNumber(target));
		CliJsonSet(doc, "database_at", current >= 0 ? CliJsonInteger(current) : CliJsonNull());
		done = CliJsonSet(doc, "steps", CliJsonArray());
	}
	if (current < 0 || !CliReadPlan(session, target, &steps, &nsteps))
	{
		CliReportVersion(session);
		return CliClose(session, ZD_EXIT_FAILURE);
	}
	if (doc && nsteps > 0)
		CliJsonSet(doc, "target", CliJsonInteger(CLI_STEP_REACHES(&steps[nsteps - 1])));
	if (doc && nsteps == 0)
		CliJsonSet(doc, "target", CliJsonInteger(current));
	if (nsteps == 0)
	{
		if (text)
			printf("zd: database already at patch %d\n", current);
		return CliClose(session, ZD_EXIT_OK);
	}
	if (text)
		printf("zd: database at patch %d, aligning to patch %d (%d step%s)\n",
			   current, CLI_STEP_REACHES(&steps[nsteps - 1]), nsteps,
			   nsteps == 1 ? "" : "s");

	for (i = 0; i < nsteps; i++)
		width = Max(width, (int) strlen(steps[i].name) + 6);

	for (i = 0; i < nsteps; i++)
	{
		CliPlanStep *step = &steps[i];
		instr_time	started;
		instr_time	duration;
		int			attempts;

		if (CliCancelled())
		{
			fflush(stdout);
			CliError("interrupted (Ctrl-C) before patch %d \"%s\"",
					 step->number, step->name);
			CliReportVersion(session);
			return CliClose(session, ZD_EXIT_FAILURE);
		}

		/* the replica-lag brake, before each step (lag.c) */
		if (!CliWaitForStandbys(session))
		{
			CliReportVersion(session);
			return CliClose(session, ZD_EXIT_FAILURE);
		}

		/* consecutive ordinary steps: one CALL, which commits each patch */
		if (step->transactional)
		{
			int			last = i;

			while (last + 1 < nsteps && steps[last + 1].transactional)
				last++;
			if (!run_transactional_steps(session, &steps[last], width, done))
			{
				CliReportVersion(session);
				return CliClose(session, ZD_EXIT_FAILURE);
			}
			i = last;
			continue;
		}

		if (options->verbose && !options->json)
		{
			printf("  %-12s %05d_%s\n", step->rollback ? "rolling back" : "building",
				   step->number, step->name);
			fflush(stdout);
		}

		INSTR_TIME_SET_CURRENT(started);
		if (!CliRunStep(session, step, &attempts))
		{
			CliReportVersion(session);
			return CliClose(session, ZD_EXIT_FAILURE);
		}
		INSTR_TIME_SET_CURRENT(duration);
		INSTR_TIME_SUBTRACT(duration, started);

		if (done)
		{
			CliJson    *entry = CliJsonAppend(done, step_json(step));

			CliJsonSet(entry, "milliseconds",
					   CliJsonNumber(psprintf("%.0f", INSTR_TIME_GET_MILLISEC(duration))));
			CliJsonSet(entry, "attempts", CliJsonInteger(attempts));
		}
		if (text)
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

	current = CliReadVersion(session);
	if (current < 0)
		return CliClose(session, ZD_EXIT_FAILURE);
	if (doc)
		CliJsonSet(doc, "database_at", CliJsonInteger(current));
	if (text)
		printf("zd: database at patch %d\n", current);
	return CliClose(session, ZD_EXIT_OK);
}

/*
 * Run ordinary steps up to the one given with zd_align_each, which commits
 * each patch in one round trip, then print one line per step from the
 * history (the steps that committed, also when a later one failed).
 */
static bool
run_transactional_steps(CliSession *session, const CliPlanStep *last,
						int width, CliJson *done)
{
	const CliOptions *options = session->options;
	Oid			types[1] = {INT4OID};
	const char *params[1];
	PGresult   *res;
	char	   *since;
	bool		ok;
	int			i;

	res = CliQuery(session, "SELECT coalesce(max(id), 0) FROM zerodown.history",
				   0, NULL, NULL, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	since = pg_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);

	params[0] = psprintf("%d", CLI_STEP_REACHES(last));
	res = CliQuery(session, psprintf("CALL %s($1)", CliFunction(session, "zd_align_each")),
				   1, types, params, PGRES_COMMAND_OK);
	ok = res != NULL;
	PQclear(res);
	if (options->quiet && done == NULL)
		return ok;

	params[0] = since;
	res = CliQuery(session,
				   "SELECT format('%s_%s', lpad(number::text, 5, '0'), name), direction,"
				   " round(extract(epoch FROM duration) * 1000), number, name, attempts"
				   " FROM zerodown.history WHERE id > $1::bigint ORDER BY id",
				   1, NULL, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	for (i = 0; i < PQntuples(res); i++)
	{
		bool		rollback = strcmp(PQgetvalue(res, i, 1), "rollback") == 0;

		if (done)
		{
			CliJson    *entry = CliJsonAppend(done, CliJsonObject());

			CliJsonSet(entry, "number", CliJsonNumber(PQgetvalue(res, i, 3)));
			CliJsonSet(entry, "name", CliJsonString(PQgetvalue(res, i, 4)));
			CliJsonSet(entry, "direction", CliJsonString(PQgetvalue(res, i, 1)));
			CliJsonSet(entry, "transactional", CliJsonBool(true));
			CliJsonSet(entry, "milliseconds", CliJsonNumber(PQgetvalue(res, i, 2)));
			CliJsonSet(entry, "attempts", CliJsonNumber(PQgetvalue(res, i, 5)));
		}
		if (!options->quiet && !options->json)
			printf("  %-12s %-*s %6s ms\n", rollback ? "rolled back" : "built",
				   width, PQgetvalue(res, i, 0), PQgetvalue(res, i, 2));
	}
	fflush(stdout);
	PQclear(res);
	return ok;
}

/* a step that ran, for the JSON document */
static CliJson *
step_json(const CliPlanStep *step)
{
	CliJson    *entry = CliJsonObject();

	CliJsonSet(entry, "number", CliJsonInteger(step->number));
	CliJsonSet(entry, "name", CliJsonString(step->name));
	CliJsonSet(entry, "direction", CliJsonString(step->rollback ? "rollback" : "build"));
	CliJsonSet(entry, "transactional", CliJsonBool(step->transactional));
	return entry;
}
