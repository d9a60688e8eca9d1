/*-------------------------------------------------------------------------
 *
 * backfill.h
 *	  zd_backfill, the procedure that fills an expansion's new shape for
 *	  the rows that existed before its triggers.
 *
 * It has no exported C interface: it is called as a procedure (CALL
 * zd_backfill(...)), from psql, from a patch, or from a deployment.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_BACKFILL_H
#define ZERODOWN_BACKFILL_H

#endif							/* ZERODOWN_BACKFILL_H */
