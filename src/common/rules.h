/*-------------------------------------------------------------------------
 *
 * rules.h
 *	  The rules of patch names, patch files and migrations folders, shared
 *	  by the two folder readers (the server's zd_load and the zd client).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_COMMON_RULES_H
#define ZERODOWN_COMMON_RULES_H

#include "protocol.h"

/* what a rollback file says */
typedef enum ZdRollbackKind
{
	ZD_ROLLBACK_STATEMENTS,		/* statements that undo the build (or none) */
	ZD_ROLLBACK_IRREVERSIBLE,	/* the marker, then only comments */
	ZD_ROLLBACK_IRREVERSIBLE_TEXT	/* the marker, then statements: refused */
} ZdRollbackKind;

/* what can be wrong with a folder, in the order ties are reported */
typedef enum ZdFolderFault
{
	ZD_FOLDER_BAD_NAME,			/* a file not named NNNNN_name.sql */
	ZD_FOLDER_NO_ROLLBACK,		/* a build without its rollback file */
	ZD_FOLDER_NO_BUILD,			/* a rollback or verify without its build */
	ZD_FOLDER_DUPLICATE,		/* two builds with one number */
	ZD_FOLDER_GAP,				/* a number missing between two builds */
	ZD_FOLDER_IRREVERSIBLE_TEXT /* an irreversible rollback with statements */
} ZdFolderFault;

typedef struct ZdFolderProblem
{
	ZdFolderFault fault;
	int			number;			/* the patch it concerns; orders problems */
	const char *part;			/* "build", "rollback" or "verify" */
	const char *file;			/* the file, in part/ */
	const char *other;			/* DUPLICATE: the other file */
	int			previous;		/* GAP: the patch before the missing one */
} ZdFolderProblem;

/* the problems of one folder, lowest number first once sorted */
typedef struct ZdFolderProblems
{
	int			n;
	int			allocated;
	ZdFolderProblem *items;
} ZdFolderProblems;

extern bool ZdValidPatchName(const char *name);
extern bool ZdParsePatchFileName(const char *file, int *number, char **name);
extern bool ZdStartsWithMarker(const char *text, const char *marker);
extern ZdRollbackKind ZdClassifyRollback(const char *text);
extern const char *ZdSkipComments(const char *p);
extern bool ZdHasFileName(char **names, int n, const char *name);
extern void ZdApplyRollbackMarker(ZdFolderProblems *problems, int number,
								  const char *file, char **rollback_sql);

extern void ZdAddFolderProblem(ZdFolderProblems *problems, ZdFolderFault fault,
							   int number, const char *part, const char *file,
							   const char *other, int previous);
extern void ZdCheckFolderNames(ZdFolderProblems *problems,
							   char **builds, int nbuilds,
							   char **rollbacks, int nrollbacks,
							   char **verifies, int nverifies);
extern void ZdSortFolderProblems(ZdFolderProblems *problems);
extern void ZdDescribeFolderProblem(const ZdFolderProblem *problem,
									const char *dir, const char *nothing_done,
									char **message, char **detail,
									char **hint);

#endif							/* ZERODOWN_COMMON_RULES_H */
