/*-------------------------------------------------------------------------
 *
 * publish.h
 *	  Blue/green publish: audits, the schema swap, un-publish, and the
 *	  objects outside a schema that depend on it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_PUBLISH_H
#define ZERODOWN_PUBLISH_H

#include "nodes/pg_list.h"

#define ZD_PUBLISHES_TABLE		"zerodown.publishes"

/* the previous schema's default name: live || suffix */
#define ZD_PREVIOUS_SUFFIX		"_previous"

/* advisory lock key (class ZD_LOCK_CLASS) serialising publishes */
#define ZD_LOCK_PUBLISH			6

/* how many audit rows a failure shows */
#define ZD_AUDIT_SHOWN_ROWS		5

extern List *ZdOutsideDependents(Oid nspid, Oid ignored_nspid);
extern char *ZdJoinLines(List *lines, int max);
extern void ZdCheckUserSchema(const char *name, Oid nspid, const char *role);

#endif							/* ZERODOWN_PUBLISH_H */
