/*-------------------------------------------------------------------------
 *
 * deploy.h
 *	  Queueing deployments for the worker, and waiting for them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_DEPLOY_H
#define ZERODOWN_DEPLOY_H

extern void ZdDeployInit(void);

/* the deployment the worker runs now, for the history (0: none) */
extern int64 ZdCurrentDeployment;

#endif							/* ZERODOWN_DEPLOY_H */
