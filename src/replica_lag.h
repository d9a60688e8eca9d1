/*-------------------------------------------------------------------------
 *
 * replica_lag.h
 *	  The replica-lag brake: long work (a backfill's batches, a deployment's
 *	  steps, zd align's patches) waits before each batch or step while a
 *	  standby's replay is further behind than zerodown.max_replica_lag or
 *	  zerodown.max_replica_lag_bytes.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_REPLICA_LAG_H
#define ZERODOWN_REPLICA_LAG_H

/* settings (0: off) */
extern int	zerodown_max_replica_lag;	/* ms */
extern int	zerodown_max_replica_lag_bytes; /* kB */
extern int	zerodown_replica_lag_timeout;	/* ms */
extern char *zerodown_replica_lag_ignore;	/* application_names */

/*
 * Called when a wait starts and every few seconds while it lasts, with what
 * it waits for ("standby \"s1\" is 8.2 s and 12 MB behind ..."), and with
 * NULL when it ends.  The backfill records it in zerodown.expansions.
 */
typedef void (*ZdReplicaWaitReport) (void *arg, const char *waiting_for);

extern void ZdReplicaLagInit(void);

/*
 * Wait until no standby is behind the limits.  activity names the work that
 * waits ("backfill of public.users (email)").  Returns the milliseconds
 * waited; raises an error when zerodown.replica_lag_timeout passes.
 */
extern double ZdWaitForReplicas(const char *activity, ZdReplicaWaitReport report,
								void *arg);

/*
 * The same, for a caller outside any transaction (the worker between
 * steps): an error (the timeout, a cancel) is not raised but returned in
 * *error as "message\nDETAIL: ...\nHINT: ...", and false.
 */
extern bool ZdReplicaLagPause(const char *activity, char **error);

#endif							/* ZERODOWN_REPLICA_LAG_H */
