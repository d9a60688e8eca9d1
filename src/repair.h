/*-------------------------------------------------------------------------
 *
 * repair.h
 *	  Replacing the rollback of an applied patch when the registered one
 *	  cannot run.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_REPAIR_H
#define ZERODOWN_REPAIR_H

extern bool ZdRollbackRepairable(int number, const char *name,
								 const char *build_sql, const char *rollback_sql,
								 const char *verify_sql);
extern void ZdRecordRollbackRepair(int number, const char *name,
								   const char *checksum);

#endif							/* ZERODOWN_REPAIR_H */
