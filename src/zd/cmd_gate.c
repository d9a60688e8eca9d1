/*-------------------------------------------------------------------------
 *
 * cmd_gate.c
 *	  zd gate status: the deployment gate and the managed jobs at it.
 *
 * The gate is open, closing (a deployer waits for the running jobs while
 * new ones queue) or closed, as zd_gate_status() says; zerodown.gate_jobs
 * lists the managed jobs of the database, running or waiting.  Only reads:
 * the folder is not read.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "output.h"
#include "session.h"
#include "zd.h"

static int	run_gate(const CliOptions *options, int nargs, char **args);
static const char *or_dash(const PGresult *res, int row, int column);

const CliCommand CliGateCommand = {
	.name = "gate",
	.arguments = "status",
	.summary = "show the deployment gate and the jobs at it",
	.description =
	"Shows the deployment gate (open, closing or closed), who holds it, and\n"
	"the managed jobs running or waiting at it.  Reads only: the folder is\n"
	"not read.",
	.options = 0,
	.run = run_gate
};

static int
run_gate(const CliOptions *options, int nargs, char **args)
{
	CliSession *session;
	PGresult   *res;
	int			job_width = 3;
	int			i;

	if (nargs < 1)
		CliUsageError("gate", "\"gate\" needs a subcommand: status");
	if (strcmp(args[0], "status") != 0)
		CliUsageError("gate", "unknown subcommand \"gate %s\": the subcommand is status",
					  args[0]);
	if (nargs > 1)
		CliUsageError("gate", "too many arguments for \"gate status\": \"%s\"",
					  args[1]);

	session = CliOpen(options, false, false);
	if (session == NULL)
		return ZD_EXIT_FAILURE;

	res = CliQuery(session,
				   psprintf("SELECT g.state, g.deployer_pid, g.deployer, g.deployment,"
							" g.running_jobs, g.waiting_jobs FROM %s() g",
							CliFunction(session, "zd_gate_status")),
				   0, NULL, NULL, PGRES_TUPLES_OK);
	if (res == NULL)
		return CliClose(session, ZD_EXIT_FAILURE);
	printf("zd: deployment gate %s\n", PQgetvalue(res, 0, 0));
	if (PQgetisnull(res, 0, 1))
		printf("  deployer:      -\n");
	else if (PQgetisnull(res, 0, 2) || PQgetvalue(res, 0, 2)[0] == '\0')
		printf("  deployer:      pid %s\n", PQgetvalue(res, 0, 1));
	else
		printf("  deployer:      %s (pid %s)\n", PQgetvalue(res, 0, 2),
			   PQgetvalue(res, 0, 1));
	printf("  deployment:    %s\n", or_dash(res, 0, 3));
	printf("  running jobs:  %s\n", PQgetvalue(res, 0, 4));
	printf("  waiting jobs:  %s\n", PQgetvalue(res, 0, 5));
	PQclear(res);

	res = CliQuery(session,
				   "SELECT j.pid, j.job, j.status,"
				   " pg_catalog.to_char(j.since, 'YYYY-MM-DD HH24:MI:SSOF')"
				   " FROM zerodown.gate_jobs j"
				   " ORDER BY j.status = 'waiting', j.since, j.pid",
				   0, NULL, NULL, PGRES_TUPLES_OK);
	if (res == NULL)
		return CliClose(session, ZD_EXIT_FAILURE);
	if (PQntuples(res) == 0)
		printf("  no managed jobs\n");
	else
	{
		for (i = 0; i < PQntuples(res); i++)
			job_width = Max(job_width, (int) strlen(PQgetvalue(res, i, 1)));
		printf("  %8s  %-*s  %-7s  %s\n", "pid", job_width, "job", "status",
			   "since");
		for (i = 0; i < PQntuples(res); i++)
			printf("  %8s  %-*s  %-7s  %s\n", PQgetvalue(res, i, 0),
				   job_width, PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
				   or_dash(res, i, 3));
	}
	PQclear(res);
	return CliClose(session, ZD_EXIT_OK);
}

static const char *
or_dash(const PGresult *res, int row, int column)
{
	return PQgetisnull(res, row, column) ? "-" : PQgetvalue(res, row, column);
}
