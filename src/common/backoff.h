/*-------------------------------------------------------------------------
 *
 * backoff.h
 *	  The pause before retrying a lock that did not come in time.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_COMMON_BACKOFF_H
#define ZERODOWN_COMMON_BACKOFF_H

extern int	ZdBackoffDelay(int first_ms, int attempt);

#endif							/* ZERODOWN_COMMON_BACKOFF_H */
