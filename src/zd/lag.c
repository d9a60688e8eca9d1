/*-------------------------------------------------------------------------
 *
 * lag.c
 *	  The replica-lag brake in zd: before each step, wait while a standby
 *	  replays too far behind.
 *
 * zd calls zd_wait_for_replicas() before each step it runs (a run of
 * ordinary steps is one CALL zd_align_each, which waits before each of its
 * patches itself).  The server decides, from zerodown.max_replica_lag and
 * zerodown.max_replica_lag_bytes; while it waits its NOTICEs say which
 * standby is how far behind, and zd prints how long it waited.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "conn.h"
#include "lag.h"
#include "zd.h"

bool
ZdWaitForStandbys(ZdSession *session)
{
	PGresult   *res;
	double		waited;

	res = ZdQuery(session,
				  psprintf("SELECT pg_catalog.date_part('epoch', %s())",
						   ZdFunction(session, "zd_wait_for_replicas")),
				  0, NULL, NULL, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	waited = atof(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (waited > 0 && !session->options->quiet)
	{
		printf("  %-12s %.1f s for lagging standbys\n", "waited", waited);
		fflush(stdout);
	}
	return true;
}
