/*-------------------------------------------------------------------------
 *
 * backoff.c
 *	  The pause before retrying a lock that did not come in time.
 *
 * One formula for every retry zerodown makes, in the server (patches,
 * expand, contract, backfill batches, publish, the worker) and in zd (the
 * statements of a no-transaction patch): the first pause is first_ms,
 * doubled on each retry up to ZD_MAX_RETRY_DELAY_MS, and the pause taken is
 * drawn between half and all of it, so that competing sessions do not retry
 * in step.  The caller seeds pg_global_prng_state (the server does at
 * backend start, zd in main).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FRONTEND
#include "postgres.h"
#else
#include "postgres_fe.h"
#endif

#include "common/pg_prng.h"

#include "backoff.h"
#include "protocol.h"

/* the pause before retry number attempt (from 1), in milliseconds */
int
ZdBackoffDelay(int first_ms, int attempt)
{
	double		delay = Max(first_ms, 0);

	delay = Min(delay * (1 << Min(Max(attempt, 1) - 1, 16)),
				ZD_MAX_RETRY_DELAY_MS);
	delay *= 0.5 + 0.5 * pg_prng_double(&pg_global_prng_state);
	return (int) delay;
}
