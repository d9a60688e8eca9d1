/*-------------------------------------------------------------------------
 *
 * trigger.h
 *	  The dual-write compatibility triggers of expand/contract: the C
 *	  trigger functions, the per-backend cache of what they compile, and the
 *	  switches that backfill and mirroring use to keep them from recursing.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_TRIGGER_H
#define ZERODOWN_TRIGGER_H

#include "nodes/primnodes.h"
#include "utils/relcache.h"

/* the trigger functions' SQL names */
#define ZD_COLUMN_TRIGGER_FUNCTION	"zd_dualwrite_column"
#define ZD_PARENT_TRIGGER_FUNCTION	"zd_dualwrite_parent"
#define ZD_CHILD_TRIGGER_FUNCTION	"zd_dualwrite_child"

/*
 * The search_path up and down expressions are deparsed and compiled under,
 * so that an application session's search_path cannot change what they
 * call.  (The table triggers' statements name every table and operator
 * with its schema instead, and run under the session's search_path, which
 * the application's own triggers may need.)
 */
#define ZD_PINNED_SEARCH_PATH	"pg_catalog, pg_temp"

/*
 * While zd_backfill fills the new columns of a column expansion, the
 * expansion's trigger computes the new columns from the old ones for every
 * row it sees, whatever changed.
 */
extern int64 ZdBackfillExpansion;

extern Expr *ZdCookExpression(Relation rel, const char *source,
							  const char *what, Oid typid, int32 typmod,
							  const char *column);
extern char *ZdDeparseExpression(Relation rel, Expr *expr);
extern int	ZdPinSearchPath(void);
extern void ZdUnpinSearchPath(int nestlevel);
/* the statements of a table expansion's trigger on one side */
typedef struct ZdTableSql
{
	char	   *write;
	char	   *other;
	char	   *read;			/* the child's side only */
} ZdTableSql;

extern void ZdTableStatements(bool parent, const char *parent_name,
							  const char *child_name, const char *parent_key,
							  const char *child_key, const char *child_pk,
							  Oid key_type, Oid child_pk_type, int n,
							  char **parent_cols, char **child_cols,
							  ZdTableSql *sql);
extern char *ZdTypeOperator(Oid typid, int which);
extern void ZdMirrorBegin(int64 expansion);
extern void ZdMirrorEnd(int64 expansion);

#endif							/* ZERODOWN_TRIGGER_H */
