/*-------------------------------------------------------------------------
 *
 * cmd_plan.c
 *	  zd plan [TARGET]: the steps align would run, checked but not run, the
 *	  lint findings and, with --lock-plan, the locks a dry run measured.
 *
 * The lint findings come from zd_lint: statements known to hurt a live
 * database (CREATE INDEX without CONCURRENTLY on a table that exists, ...),
 * each with the file and line it is at and its safe recipe.  They are
 * advice: plan exits 0 with them unless --strict.
 *
 * The lock plan (--lock-plan) comes from zd_dry_run, which runs the steps
 * for real in a subtransaction that it rolls back, and reports how long each
 * took and the strongest lock it took on each table that existed before.  A
 * step that fails in the dry run would fail in align too: that is an error.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "catalog/pg_type_d.h"
#include "common/logging.h"

#include "output.h"
#include "session.h"
#include "zd.h"

static int	run_plan(const CliOptions *options, int nargs, char **args);
static bool print_findings(CliSession *session, const char *target,
						   const CliPlanStep *steps, int nsteps,
						   int *nfindings);
static bool print_lock_plan(CliSession *session, const char *target,
							int nsteps);
static const char *step_file(const CliPlanStep *steps, int nsteps,
							 int number, const char *direction);

const CliCommand CliPlanCommand = {
	.name = "plan",
	.arguments = "[TARGET]",
	.summary = "show what \"align TARGET\" would run, and lint findings",
	.description =
	"Registers the folder's patches and shows the steps that \"align TARGET\"\n"
	"would run, checked but not run, then the lint findings: statements that\n"
	"would hurt a live database, each with its file, line and safe recipe.\n"
	"Registering changes no schema.  Findings are advice: plan exits 0 with\n"
	"them unless --strict.",
	.options = ZD_OPT_LOCK_PLAN | ZD_OPT_STRICT | ZD_OPT_JSON,
	.run = run_plan
};

static int
run_plan(const CliOptions *options, int nargs, char **args)
{
	const char *target;
	CliSession *session;
	CliPlanStep *steps;
	CliJson    *doc = CliOutputDocument();
	int			nsteps;
	int			current;
	int			name_width = 4;
	int			nfindings;
	int			i;

	CliCheckArguments("plan", nargs, args, 1);
	target = nargs > 0 ? CliPatchNumberArgument("plan", "target", args[0]) : NULL;

	session = CliOpen(options, false, options->register_patches);
	if (session == NULL)
		return ZD_EXIT_FAILURE;

	current = CliReadVersion(session);
	if (current < 0 || !CliReadPlan(session, target, &steps, &nsteps))
	{
		CliReportVersion(session);
		return CliClose(session, ZD_EXIT_FAILURE);
	}
	if (doc)
	{
		CliJson    *list = CliJsonArray();

		CliJsonSet(doc, "database_at", CliJsonInteger(current));
		CliJsonSet(doc, "target",
				   CliJsonInteger(nsteps > 0 ? CLI_STEP_REACHES(&steps[nsteps - 1]) : current));
		for (i = 0; i < nsteps; i++)
		{
			CliJson    *entry = CliJsonAppend(list, CliJsonObject());

			CliJsonSet(entry, "step", CliJsonInteger(steps[i].step));
			CliJsonSet(entry, "number", CliJsonInteger(steps[i].number));
			CliJsonSet(entry, "name", CliJsonString(steps[i].name));
			CliJsonSet(entry, "direction",
					   CliJsonString(steps[i].rollback ? "rollback" : "build"));
			CliJsonSet(entry, "transactional", CliJsonBool(steps[i].transactional));
			CliJsonSet(entry, "statements", CliJsonInteger(steps[i].statements));
			CliJsonSet(entry, "file", CliJsonString(steps[i].file));
		}
		CliJsonSet(doc, "steps", list);
		CliJsonSet(doc, "findings", CliJsonArray());
		CliJsonSet(doc, "lock_plan", CliJsonNull());
	}
	if (nsteps == 0)
	{
		if (!options->json)
			printf("zd: database already at patch %d, nothing to do\n", current);
		return CliClose(session, ZD_EXIT_OK);
	}

	if (!options->json)
	{
		printf("zd: database at patch %d, plan to patch %d (%d step%s)\n",
			   current, CLI_STEP_REACHES(&steps[nsteps - 1]), nsteps,
			   nsteps == 1 ? "" : "s");
		for (i = 0; i < nsteps; i++)
			name_width = Max(name_width, (int) strlen(steps[i].name));
		printf("  %4s  %5s  %-*s  %-9s  %-13s  %10s  %s\n",
			   "step", "patch", name_width, "name", "direction", "transactional",
			   "statements", "file");
		for (i = 0; i < nsteps; i++)
		{
			CliPlanStep *step = &steps[i];

			printf("  %4d  %05d  %-*s  %-9s  %-13s  %10d  %s\n",
				   step->step, step->number, name_width, step->name,
				   step->rollback ? "rollback" : "build",
				   step->transactional ? "yes" : "no", step->statements,
				   step->file);
		}
	}

	/* advice: findings fail only with --strict */
	if (!print_findings(session, target, steps, nsteps, &nfindings) ||
		(options->lock_plan && !print_lock_plan(session, target, nsteps)))
		return CliClose(session, ZD_EXIT_FAILURE);
	if (options->strict && nfindings > 0)
	{
		fflush(stdout);
		CliError("%d lint finding%s, and --strict makes findings an error",
				 nfindings, nfindings == 1 ? "" : "s");
		CliErrorHint("Follow the hint of each finding, or plan without --strict to take them as advice.");
		return CliClose(session, ZD_EXIT_FAILURE);
	}
	return CliClose(session, ZD_EXIT_OK);
}

/*
 * Print the lint findings of the steps to target under a heading, and set
 * *nfindings.  False after reporting an error.
 */
static bool
print_findings(CliSession *session, const char *target,
			   const CliPlanStep *steps, int nsteps, int *nfindings)
{
	Oid			types[1] = {INT4OID};
	const char *params[1] = {target};
	CliJson    *list = CliJsonGet(CliOutputDocument(), "findings");
	bool		text = !session->options->json;
	PGresult   *res;
	int			n;
	int			i;

	res = CliQuery(session,
				   psprintf("SELECT l.number, l.direction, l.line, l.rule,"
							" l.statement, l.message, l.hint"
							" FROM %s($1) WITH ORDINALITY AS l"
							" ORDER BY l.ordinality",
							CliFunction(session, "zd_lint")),
				   1, types, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;

	n = PQntuples(res);
	*nfindings = n;
	if (text && n == 0)
		printf("zd: lint findings: none\n");
	else if (text)
		printf("zd: lint findings (%d), each with its safe recipe:\n", n);
	for (i = 0; i < n; i++)
	{
		const char *file = step_file(steps, nsteps, atoi(PQgetvalue(res, i, 0)),
									 PQgetvalue(res, i, 1));

		if (list)
		{
			CliJson    *entry = CliJsonAppend(list, CliJsonObject());

			CliJsonSet(entry, "number", CliJsonNumber(PQgetvalue(res, i, 0)));
			CliJsonSet(entry, "direction", CliJsonString(PQgetvalue(res, i, 1)));
			CliJsonSet(entry, "file", CliJsonString(file));
			CliJsonSet(entry, "line", CliJsonNumber(PQgetvalue(res, i, 2)));
			CliJsonSet(entry, "rule", CliJsonString(PQgetvalue(res, i, 3)));
			CliJsonSet(entry, "message", CliJsonString(PQgetvalue(res, i, 5)));
			CliJsonSet(entry, "statement", CliJsonString(PQgetvalue(res, i, 4)));
			CliJsonSet(entry, "hint", CliJsonString(PQgetvalue(res, i, 6)));
		}
		if (!text)
			continue;
		printf("  %s, line %s: %s\n", file, PQgetvalue(res, i, 2),
			   PQgetvalue(res, i, 3));
		printf("      %s\n", PQgetvalue(res, i, 5));
		printf("      statement: %s\n", PQgetvalue(res, i, 4));
		printf("      hint: %s\n", PQgetvalue(res, i, 6));
	}
	PQclear(res);
	return true;
}

/*
 * Run the dry run of the steps to target and print each step's duration and
 * locks.  False after reporting an error, or when a step failed.
 */
static bool
print_lock_plan(CliSession *session, const char *target, int nsteps)
{
	Oid			types[1] = {INT4OID};
	const char *params[1] = {target};
	CliJson    *doc = CliOutputDocument();
	CliJson    *list = NULL;
	bool		text = !session->options->json;
	PGresult   *res;
	int			name_width = 4;
	int			failed = -1;
	int			i;

	res = CliQuery(session,
				   psprintf("SELECT d.step, d.number, d.name, d.direction,"
							" pg_catalog.to_char(d.milliseconds, 'FM9999999990.0'),"
							" pg_catalog.array_to_string(d.locks, ', '), d.result,"
							" pg_catalog.array_to_string(d.locks, E'\\n')"
							" FROM %s($1) d ORDER BY d.step",
							CliFunction(session, "zd_dry_run")),
				   1, types, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;

	if (doc)
		list = CliJsonSet(doc, "lock_plan", CliJsonArray());
	if (text)
	{
		printf("zd: lock plan, measured by running the steps in a transaction that was rolled back:\n");
		for (i = 0; i < PQntuples(res); i++)
			name_width = Max(name_width, (int) strlen(PQgetvalue(res, i, 2)));
		printf("  %4s  %5s  %-*s  %-9s  %10s  %s\n",
			   "step", "patch", name_width, "name", "direction", "duration",
			   "locks");
	}
	for (i = 0; i < PQntuples(res); i++)
	{
		const char *result = PQgetvalue(res, i, 6);
		const char *locks = PQgetvalue(res, i, 5);
		const char *duration = "-";
		const char *outcome;

		/* a step that ran: its locks; else why not, with the error */
		if (strcmp(result, "ok") == 0)
		{
			duration = psprintf("%s ms", PQgetvalue(res, i, 4));
			outcome = locks[0] != '\0' ? locks : "none";
		}
		else if (locks[0] != '\0')
			outcome = psprintf("%s: %s", result, locks);
		else
			outcome = result;
		if (strcmp(result, "failed") == 0)
			failed = i;

		if (list)
		{
			CliJson    *entry = CliJsonAppend(list, CliJsonObject());
			CliJson    *lock_list = CliJsonSet(entry, "locks", CliJsonArray());
			const char *p = PQgetvalue(res, i, 7);

			CliJsonSet(entry, "step", CliJsonNumber(PQgetvalue(res, i, 0)));
			CliJsonSet(entry, "number", CliJsonNumber(PQgetvalue(res, i, 1)));
			CliJsonSet(entry, "name", CliJsonString(PQgetvalue(res, i, 2)));
			CliJsonSet(entry, "direction", CliJsonString(PQgetvalue(res, i, 3)));
			CliJsonSet(entry, "milliseconds",
					   strcmp(result, "ok") == 0 ?
					   CliJsonNumber(PQgetvalue(res, i, 4)) : CliJsonNull());
			CliJsonSet(entry, "result", CliJsonString(result));
			/* one "MODE on table" a line */
			while (*p)
			{
				int			len = strcspn(p, "\n");

				CliJsonAppend(lock_list, CliJsonString(pnstrdup(p, len)));
				p += len + (p[len] ? 1 : 0);
			}
		}
		if (text)
			printf("  %4s  %05d  %-*s  %-9s  %10s  %s\n",
				   PQgetvalue(res, i, 0), atoi(PQgetvalue(res, i, 1)),
				   name_width, PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
				   duration, outcome);
	}
	if (text && PQntuples(res) < nsteps && failed < 0)
	{
		int			left = nsteps - PQntuples(res);

		printf("  (the dry run stopped there: the %d step%s after it %s not run)\n",
			   left, left == 1 ? "" : "s", left == 1 ? "was" : "were");
	}
	if (failed >= 0)
	{
		fflush(stdout);
		CliError("the dry run failed at step %s: %s",
				 PQgetvalue(res, failed, 0), PQgetvalue(res, failed, 5));
		CliErrorHint("Aligning would fail there too: fix the patch, then plan again.");
	}
	PQclear(res);
	return failed < 0;
}

/* the file of a step of the plan, as zd_plan names it */
static const char *
step_file(const CliPlanStep *steps, int nsteps, int number,
		  const char *direction)
{
	bool		rollback = strcmp(direction, "rollback") == 0;
	int			i;

	for (i = 0; i < nsteps; i++)
		if (steps[i].number == number && steps[i].rollback == rollback)
			return steps[i].file;
	return psprintf("%s of patch %d", direction, number);
}
