/*-------------------------------------------------------------------------
 *
 * check.c
 *	  zd check: does each patch's rollback undo its build?
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

#include "check.h"
#include "conn.h"
#include "run.h"
#include "zd.h"

static char *highest_patch(ZdSession *session);
static bool passes(const char *result);

/*
 * zd check [FROM [TO]]
 */
int
ZdCheck(const ZdOptions *options, const char *from, const char *to)
{
	ZdSession  *session;
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

	session = ZdStart(options, false, options->register_patches);
	if (session == NULL)
		return ZD_EXIT_FAILURE;
	if (from == NULL)
		from = "0";
	if (to == NULL)
	{
		if ((to = highest_patch(session)) == NULL)
			return ZdFinish(session, ZD_EXIT_FAILURE);
		if (atoi(to) == 0)
		{
			printf("zd: no patches registered, nothing to check\n");
			return ZdFinish(session, ZD_EXIT_OK);
		}
	}

	if (atoi(to) == atoi(from) + 1)
		printf("zd: checking patch %s: it is built, rolled back and built again, then all is rolled back\n",
			   to);
	else
		printf("zd: checking patches %d to %s: each is built, rolled back and built again, then all is rolled back\n",
			   atoi(from) + 1, to);
	fflush(stdout);
	params[0] = from;
	params[1] = to;
	res = ZdQuery(session,
				  psprintf("SELECT c.number, c.name, c.result, d.difference"
						   " FROM %s($1, $2) WITH ORDINALITY AS c"
						   " LEFT JOIN LATERAL pg_catalog.unnest(c.differences)"
						   "  WITH ORDINALITY AS d(difference, n) ON true"
						   " ORDER BY c.ordinality, d.n",
						   ZdFunction(session, "zd_check")),
				  2, types, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return ZdFinish(session, ZD_EXIT_FAILURE);

	for (i = 0; i < PQntuples(res); i++)
		name_width = Max(name_width, (int) strlen(PQgetvalue(res, i, 1)));
	for (i = 0; i < PQntuples(res); i++)
	{
		int			number = atoi(PQgetvalue(res, i, 0));
		const char *result = PQgetvalue(res, i, 2);

		/* one line per patch, then its differences under it */
		if (number != last)
		{
			printf("  %05d  %-*s  %s\n", number, name_width,
				   PQgetvalue(res, i, 1), result);
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
			printf("           %s\n", PQgetvalue(res, i, 3));
	}
	PQclear(res);

	if (failed == 0 && not_run == 0 && npatches == atoi(to) - atoi(from))
	{
		printf("zd: every patch passes the check");
		if (irreversible > 0)
			printf(" (%d irreversible: no rollback to check)", irreversible);
		printf("\n");
		return ZdFinish(session, ZD_EXIT_OK);
	}
	fflush(stdout);
	if (failed > 0)
		pg_log_error("%d of %d patch%s checked failed the check", failed,
					 npatches, npatches == 1 ? "" : "es");
	else if (not_run > 0)
		pg_log_error("the check stopped at patch %d, which cannot run in a transaction",
					 not_run);
	else
		pg_log_error("the check stopped before patch %d",
					 last < 0 ? atoi(from) + 1 : last + 1);
	if (npatches < atoi(to) - atoi(from))
		pg_log_error_detail("Patches %d to %s were not checked.",
							last < 0 ? atoi(from) + 1 : last + 1, to);
	if (not_run > 0)
		pg_log_error_hint("A patch marked no-transaction cannot run inside the transaction that the check rolls back: choose FROM and TO to leave it out.");
	else if (not_undone)
		pg_log_error_hint("Make each rollback undo exactly what its build does, then check again.");
	else
		pg_log_error_hint("Fix the patch that failed, then check again.");
	return ZdFinish(session, ZD_EXIT_FAILURE);
}

/* the highest registered patch, the default TO */
static char *
highest_patch(ZdSession *session)
{
	PGresult   *res;
	char	   *to;

	res = ZdQuery(session,
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
