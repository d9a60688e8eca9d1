/*-------------------------------------------------------------------------
 *
 * catalog.h
 *	  zerodown's tables, read and written through SPI, and who may change
 *	  them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_CATALOG_H
#define ZERODOWN_CATALOG_H

#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "nodes/pg_list.h"

/* a registered patch, with whether and how it was applied */
typedef struct ZdPatch
{
	int			number;
	char	   *name;
	char	   *build_sql;
	char	   *rollback_sql;	/* NULL: irreversible */
	char	   *verify_sql;		/* NULL: no verify step */
	char	   *checksum;
	char	   *source;			/* the folder it came from, or NULL */
	bool		applied;
	char	   *applied_checksum;
	char	   *applied_at;
	char	   *drift_var;		/* a placeholder whose value changed since
								 * it was applied, or NULL */
	char	   *drift_was;		/* ... its value then */
	char	   *drift_now;		/* ... and now (NULL: not set) */
} ZdPatch;

extern void ZdCheckDeployer(const char *action);
extern Oid	ZdExtensionOwner(void);
extern int	ZdCatalogExecute(const char *sql, int nargs, Oid *types,
							 Datum *values, const char *nulls, long count);
extern int	ZdExecutePinned(const char *sql, int nargs, Oid *types,
							Datum *values, const char *nulls, long count);
extern int	ZdCatalogExecutePlan(SPIPlanPtr plan, Datum *values,
								 const char *nulls, long count);
extern SPIPlanPtr ZdCatalogKeepPlan(const char *sql, int nargs, Oid *types);
extern Datum ZdCallerName(void);
extern void ZdLockAlign(const char *action);
extern List *ZdReadPatches(int from, int to);
extern int	ZdReadHighest(void);
extern List *ZdReadVars(void);
extern int	ZdReadVersion(void);
extern void ZdRecordStep(ZdPatch *patch, bool rollback, TimestampTz started,
						 int attempts, List *vars_used);
extern char *ZdPatchFile(ZdPatch *patch, const char *part);
extern char *ZdPatchSearchPath(void);

#endif							/* ZERODOWN_CATALOG_H */
