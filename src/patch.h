/*-------------------------------------------------------------------------
 *
 * patch.h
 *	  Patch text: checksums, ${placeholders}, the no-transaction marker and
 *	  splitting into statements.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_PATCH_H
#define ZERODOWN_PATCH_H

#include "nodes/pg_list.h"

/* one statement of a patch, as the server's parser split it */
typedef struct ZdStatement
{
	int			line;			/* line of its first token, from 1 */
	char	   *sql;			/* its text */
	Node	   *parsetree;		/* raw parse tree */
} ZdStatement;

/* a ${name} placeholder's value */
typedef struct ZdVar
{
	char	   *name;
	char	   *value;
} ZdVar;

extern char *ZdChecksum(const char *name, const char *build_sql,
						const char *rollback_sql, const char *verify_sql);
extern bool ZdIsNoTransaction(const char *sql);
extern char *ZdSubstitute(const char *sql, List *vars, const char *file,
						  int **linemap, List **used);
extern List *ZdSplitStatements(const char *sql, const char *file,
							   const int *linemap, bool unwrap);
extern const char *ZdNeedsNoTransaction(Node *parsetree);
extern char *ZdAbbreviate(const char *sql, int maxlen);
extern char *ZdExcerpt(const char *sql, int maxlines, int maxbytes);
extern int	ZdStatementErrorLine(const ZdStatement *statement, const char *query,
								 int charpos);
extern char *ZdDescribeStatement(const char *file, const ZdStatement *statement,
								 int error_line);

#endif							/* ZERODOWN_PATCH_H */
