/*-------------------------------------------------------------------------
 *
 * run.h
 *	  The zd commands that align: align, plan and status; and the session
 *	  steps every command that talks to the database shares.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_ZD_RUN_H
#define ZERODOWN_ZD_RUN_H

#include "conn.h"
#include "step.h"
#include "zd.h"

/* each returns the exit code; target is NULL for the highest patch */
extern int	ZdAlign(const ZdOptions *options, const char *target);
extern int	ZdPlan(const ZdOptions *options, const char *target);
extern int	ZdStatus(const ZdOptions *options);

/* read the folder, connect, lock and register, as asked; NULL on error */
extern ZdSession *ZdStart(const ZdOptions *options, bool lock,
						  bool register_patches);
extern int	ZdFinish(ZdSession *session, int code);
extern bool ZdReadPlan(ZdSession *session, const char *target,
					   ZdPlanStep **steps, int *n);
extern void ZdReportVersion(ZdSession *session);

#endif							/* ZERODOWN_ZD_RUN_H */
