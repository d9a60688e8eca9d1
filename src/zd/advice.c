/*-------------------------------------------------------------------------
 *
 * advice.c
 *	  What plan shows besides its steps.
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

#include "advice.h"
#include "conn.h"
#include "step.h"

static const char *step_file(const ZdPlanStep *steps, int nsteps,
							 int number, const char *direction);

/*
 * Print the lint findings of the steps to target under a heading, and set
 * *nfindings.  False after reporting an error.
 */
bool
ZdPrintFindings(ZdSession *session, const char *target,
				const ZdPlanStep *steps, int nsteps, int *nfindings)
{
	Oid			types[1] = {INT4OID};
	const char *params[1] = {target};
	PGresult   *res;
	int			n;
	int			i;

	res = ZdQuery(session,
				  psprintf("SELECT l.number, l.direction, l.line, l.rule,"
						   " l.statement, l.message, l.hint"
						   " FROM %s($1) WITH ORDINALITY AS l"
						   " ORDER BY l.ordinality",
						   ZdFunction(session, "zd_lint")),
				  1, types, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;

	n = PQntuples(res);
	*nfindings = n;
	if (n == 0)
		printf("zd: lint findings: none\n");
	else
		printf("zd: lint findings (%d), each with its safe recipe:\n", n);
	for (i = 0; i < n; i++)
	{
		printf("  %s, line %s: %s\n",
			   step_file(steps, nsteps, atoi(PQgetvalue(res, i, 0)),
						 PQgetvalue(res, i, 1)),
			   PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
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
bool
ZdPrintLockPlan(ZdSession *session, const char *target, int nsteps)
{
	Oid			types[1] = {INT4OID};
	const char *params[1] = {target};
	PGresult   *res;
	int			name_width = 4;
	int			failed = -1;
	int			i;

	res = ZdQuery(session,
				  psprintf("SELECT d.step, d.number, d.name, d.direction,"
						   " pg_catalog.to_char(d.milliseconds, 'FM9999999990.0'),"
						   " pg_catalog.array_to_string(d.locks, ', '), d.result"
						   " FROM %s($1) d ORDER BY d.step",
						   ZdFunction(session, "zd_dry_run")),
				  1, types, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;

	printf("zd: lock plan, measured by running the steps in a transaction that was rolled back:\n");
	for (i = 0; i < PQntuples(res); i++)
		name_width = Max(name_width, (int) strlen(PQgetvalue(res, i, 2)));
	printf("  %4s  %5s  %-*s  %-9s  %10s  %s\n",
		   "step", "patch", name_width, "name", "direction", "duration",
		   "locks");
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

		printf("  %4s  %05d  %-*s  %-9s  %10s  %s\n",
			   PQgetvalue(res, i, 0), atoi(PQgetvalue(res, i, 1)),
			   name_width, PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
			   duration, outcome);
	}
	if (PQntuples(res) < nsteps && failed < 0)
	{
		int			left = nsteps - PQntuples(res);

		printf("  (the dry run stopped there: the %d step%s after it %s not run)\n",
			   left, left == 1 ? "" : "s", left == 1 ? "was" : "were");
	}
	if (failed >= 0)
	{
		fflush(stdout);
		pg_log_error("the dry run failed at step %s: %s",
					 PQgetvalue(res, failed, 0), PQgetvalue(res, failed, 5));
		pg_log_error_hint("Aligning would fail there too: fix the patch, then plan again.");
	}
	PQclear(res);
	return failed < 0;
}

/* the file of a step of the plan, as zd_plan names it */
static const char *
step_file(const ZdPlanStep *steps, int nsteps, int number,
		  const char *direction)
{
	bool		rollback = strcmp(direction, "rollback") == 0;
	int			i;

	for (i = 0; i < nsteps; i++)
		if (steps[i].number == number && steps[i].rollback == rollback)
			return steps[i].file;
	return psprintf("%s of patch %d", direction, number);
}
