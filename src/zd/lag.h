/*-------------------------------------------------------------------------
 *
 * lag.h
 *	  The replica-lag brake in zd: before each step, wait while a standby
 *	  replays too far behind.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_ZD_LAG_H
#define ZERODOWN_ZD_LAG_H

#include "conn.h"

/* false after reporting the error (the wait timed out, was cancelled) */
extern bool ZdWaitForStandbys(ZdSession *session);

#endif							/* ZERODOWN_ZD_LAG_H */
