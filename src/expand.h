/*-------------------------------------------------------------------------
 *
 * expand.h
 *	  Expand/contract: the expansions zerodown keeps (zerodown.expansions),
 *	  and how their functions find them and lock their tables.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_EXPAND_H
#define ZERODOWN_EXPAND_H

#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"
#include "storage/lockdefs.h"
#include "utils/relcache.h"

#define ZD_EXPANSIONS_TABLE		"zerodown.expansions"

/*
 * A running zd_backfill holds a session advisory lock on (this class, the
 * expansion's id); "zdbf" in ASCII.
 */
#define ZD_LOCK_BACKFILL_CLASS	0x7A646266

/* one row of zerodown.expansions, as the functions need it */
typedef struct ZdExpansion
{
	int64		id;
	bool		column;			/* a column expansion, or a table one */
	Oid			relid;			/* the table, or the parent */
	char	   *table_name;		/* as it read at expand time */
	char	   *target;
	Oid			child;			/* table expansions: the child */
	char	   *child_name;
	List	   *old_columns;	/* column: old ones; table: parent's mapped */
	List	   *new_columns;	/* column: new ones; table: child's mapped */
	char	   *key_column;		/* the single-column primary key, or NULL */
	Oid			key_type;
	char	   *child_key;		/* table expansions */
	char	   *child_pk;
	List	   *triggers;		/* on relid */
	List	   *child_triggers; /* on child */
	char	   *watermark;		/* the highest key at expand time, or NULL */
	char	   *state;
	char	   *last_key;		/* where the backfill stands, or NULL */
	int64		rows_done;
	bool		rows_total_known;
	int64		rows_total;
} ZdExpansion;

extern ZdExpansion *ZdFindExpansion(Oid relid, const char *target,
									const char *action, bool lock);
/* ZdCheckTableAccess: the caller must own the table */
#define ZD_TABLE_OWNER			((AclMode) 0)

extern void ZdCheckTableAccess(Oid relid, AclMode mode, const char *action);
extern void ZdLockRelationRetry(Oid relid, LOCKMODE mode, const char *action);
extern char *ZdQualifiedName(Oid relid);
extern char *ZdPrimaryKeyColumn(Relation rel, Oid *keytype);

#endif							/* ZERODOWN_EXPAND_H */
