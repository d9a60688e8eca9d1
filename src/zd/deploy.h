/*-------------------------------------------------------------------------
 *
 * deploy.h
 *	  zd deploy: queueing a deployment for the background worker, and
 *	  waiting for it without holding a transaction open.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_ZD_DEPLOY_H
#define ZERODOWN_ZD_DEPLOY_H

#include "conn.h"
#include "zd.h"

/* returns the exit code; target is NULL for the highest patch */
extern int	ZdDeploy(const ZdOptions *options, const char *target);
extern bool ZdPrintDeployments(ZdSession *session, int limit);

#endif							/* ZERODOWN_ZD_DEPLOY_H */
