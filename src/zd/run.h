/*-------------------------------------------------------------------------
 *
 * run.h
 *	  The zd commands that talk to the database: align, plan and status.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_ZD_RUN_H
#define ZERODOWN_ZD_RUN_H

#include "zd.h"

/* each returns the exit code; target is NULL for the highest patch */
extern int	ZdAlign(const ZdOptions *options, const char *target);
extern int	ZdPlan(const ZdOptions *options, const char *target);
extern int	ZdStatus(const ZdOptions *options);

#endif							/* ZERODOWN_ZD_RUN_H */
