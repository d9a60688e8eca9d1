/*-------------------------------------------------------------------------
 *
 * cmd_check.c
 *	  zd check [FROM [TO]]: does each patch's rollback undo its build?
 *
 * zd registers the folder as align does, then calls zd_check(from, to),
 * which builds each patch from+1..to, rolls it back, compares the schema
 * with the one before the build, and builds it again, all inside a
 * subtransaction that it rolls back: the database is unchanged afterwards.
 * A patch passes when its rollback undoes its build, or when it has no
 * rollback (irreversible: nothing to check).  A failure stops the check, so
 * the patches after it are not checked.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "catalog/pg_type_d.h"
#include "common/logging.h"

#include "output.h"
#include "session.h"
#include "zd.h"

static int	run_check(const CliOptions *options, int nargs, char **args);
static char *highest_patch(CliSession *session);
static bool passes(const char *result);

const CliCommand CliCheckCommand = {
	.name = "check",
	.arguments = "[FROM [TO]]",
	.summary = "check that rollbacks FROM+1 to TO undo their builds",
	.description =
	"Registers the folder's patches, then builds, rolls back and builds again\n"
	"each patch FROM+1 to TO (default: 0 to the highest patch) in a\n"
	"transaction that is rolled back, and shows what each rollback fails to\n"
	"undo.  The database is unchanged afterwards.  An irreversible patch (no\n"
	"rollback) passes: there is nothing to check.",
	.options = ZD_OPT_JSON,
	.run = run_check
};

static int
run_check(const CliOptions *options, int nargs, char **args)
{
	const char *from = "0";
	const char *to = NULL;
	CliSession *session;
	CliJson    *doc = CliOutputDocument();
	CliJson    *list = NULL;
	CliJson    *entry = NULL;
	bool		text = !options->json;
	Oid			types[2] = {INT4OID, INT4OID};
	const char *params[2];
	PGresult   *res;
	int			name_width = 4;
	int			npatches = 0;
	int			failed = 0;
	int			irreversible = 0;
	int			last = -1;
	int			not_run = 0;	/* the patch that could not run */
	bool		not_undone = false;
	int			i;

	CliCheckArguments("check", nargs, args, 2);
	if (nargs > 0)
		from = CliPatchNumberArgument("check", "FROM", args[0]);
	if (nargs > 1)
		to = CliPatchNumberArgument("check", "TO", args[1]);
	if (to != NULL && atoi(from) >= atoi(to))
		CliUsageError("check", "FROM (%s) must be below TO (%s): check checks patches FROM+1 to TO",
					  from, to);

	session = CliOpen(options, false, options->register_patches);
	if (session == NULL)
		return ZD_EXIT_FAILURE;
	if (to == NULL)
	{
		if ((to = highest_patch(session)) == NULL)
			return CliClose(session, ZD_EXIT_FAILURE);
		if (doc)
		{
			CliJsonSet(doc, "from", CliJsonNumber(from));
			CliJsonSet(doc, "to", CliJsonNumber(to));
			CliJsonSet(doc, "patches", CliJsonArray());
			CliJsonSet(doc, "passed", CliJsonBool(true));
		}
		if (atoi(to) == 0)
		{
			if (text)
				printf("zd: no patches registered, nothing to check\n");
			return CliClose(session, ZD_EXIT_OK);
		}
		/* check N, where N is the highest: nothing above it */
		if (atoi(from) == atoi(to))
		{
			if (text)
				printf("zd: nothing to check: patch %s is the highest patch\n", to);
			return CliClose(session, ZD_EXIT_OK);
		}
		if (atoi(from) > atoi(to))
		{
			CliError("FROM (%s) is above the highest patch, %s", from, to);
			CliErrorDetail("check checks patches FROM+1 to TO, and TO is the highest patch when it is not given.");
			CliErrorHint("Give a FROM below %s.", to);
			if (doc)
				CliJsonSet(doc, "passed", CliJsonBool(false));
			return CliClose(session, ZD_EXIT_FAILURE);
		}
	}
	if (doc)
	{
		CliJsonSet(doc, "from", CliJsonNumber(from));
		CliJsonSet(doc, "to", CliJsonNumber(to));
		list = CliJsonSet(doc, "patches", CliJsonArray());
		CliJsonSet(doc, "passed", CliJsonBool(false));
	}

	if (text && atoi(to) == atoi(from) + 1)
		printf("zd: checking patch %s: it is built, rolled back and built again, then all is rolled back\n",
			   to);
	else if (text)
		printf("zd: checking patches %d to %s: each is built, rolled back and built again, then all is rolled back\n",
			   atoi(from) + 1, to);
	fflush(stdout);
	params[0] = from;
	params[1] = to;
	res = CliQuery(session,
				   psprintf("SELECT c.number, c.name, c.result, d.difference"
							" FROM %s($1, $2) WITH ORDINALITY AS c"
							" LEFT JOIN LATERAL pg_catalog.unnest(c.differences)"
							"  WITH ORDINALITY AS d(difference, n) ON true"
							" ORDER BY c.ordinality, d.n",
							CliFunction(session, "zd_check")),
				   2, types, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return CliClose(session, ZD_EXIT_FAILURE);

	for (i = 0; i < PQntuples(res); i++)
		name_width = Max(name_width, (int) strlen(PQgetvalue(res, i, 1)));
	for (i = 0; i < PQntuples(res); i++)
	{
		int			number = atoi(PQgetvalue(res, i, 0));
		const char *result = PQgetvalue(res, i, 2);

		/* one line per patch, then its differences under it */
		if (number != last)
		{
			if (text)
				printf("  %05d  %-*s  %s\n", number, name_width,
					   PQgetvalue(res, i, 1), result);
			if (list)
			{
				entry = CliJsonAppend(list, CliJsonObject());
				CliJsonSet(entry, "number", CliJsonInteger(number));
				CliJsonSet(entry, "name", CliJsonString(PQgetvalue(res, i, 1)));
				CliJsonSet(entry, "result", CliJsonString(result));
				CliJsonSet(entry, "passed", CliJsonBool(passes(result)));
				CliJsonSet(entry, "differences", CliJsonArray());
			}
			npatches++;
			if (strncmp(result, "not run", 7) == 0)
				not_run = number;
			else if (!passes(result))
				failed++;
			if (strcmp(result, "rollback does not undo the build") == 0)
				not_undone = true;
			else if (strcmp(result, "irreversible") == 0)
				irreversible++;
			last = number;
		}
		if (!PQgetisnull(res, i, 3))
		{
			if (text)
				printf("           %s\n", PQgetvalue(res, i, 3));
			if (entry)
				CliJsonAppend(CliJsonGet(entry, "differences"),
							  CliJsonString(PQgetvalue(res, i, 3)));
		}
	}
	PQclear(res);

	if (failed == 0 && not_run == 0 && npatches == atoi(to) - atoi(from))
	{
		if (text)
		{
			printf("zd: every patch passes the check");
			if (irreversible > 0)
				printf(" (%d irreversible: no rollback to check)", irreversible);
			printf("\n");
		}
		if (doc)
			CliJsonSet(doc, "passed", CliJsonBool(true));
		return CliClose(session, ZD_EXIT_OK);
	}
	fflush(stdout);
	if (failed > 0)
		CliError("%d of %d patch%s checked failed the check", failed,
				 npatches, npatches == 1 ? "" : "es");
	else if (not_run > 0)
		CliError("the check stopped at patch %d, which cannot run in a transaction",
				 not_run);
	else
		CliError("the check stopped before patch %d",
				 last < 0 ? atoi(from) + 1 : last + 1);
	if (npatches < atoi(to) - atoi(from))
		CliErrorDetail("Patches %d to %s were not checked.",
					   last < 0 ? atoi(from) + 1 : last + 1, to);
	if (not_run > 0)
		CliErrorHint("A patch marked no-transaction cannot run inside the transaction that the check rolls back: choose FROM and TO to leave it out.");
	else if (not_undone)
		CliErrorHint("Make each rollback undo exactly what its build does, then check again.");
	else
		CliErrorHint("Fix the patch that failed, then check again.");
	return CliClose(session, ZD_EXIT_FAILURE);
}

/* the highest registered patch, the default TO */
static char *
highest_patch(CliSession *session)
{
	PGresult   *res;
	char	   *to;

	res = CliQuery(session,
				   "SELECT coalesce(max(p.number), 0) FROM zerodown.patches p",
				   0, NULL, NULL, PGRES_TUPLES_OK);
	if (res == NULL)
		return NULL;
	to = pg_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return to;
}

/* a rollback that undoes its build, or no rollback to check */
static bool
passes(const char *result)
{
	return strcmp(result, "ok") == 0 || strcmp(result, "irreversible") == 0;
}
