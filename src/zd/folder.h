/*-------------------------------------------------------------------------
 *
 * folder.h
 *	  The migrations folder on the client's disk: reading it, checked as
 *	  the server's zd_load checks a folder, and adding a patch to it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_ZD_FOLDER_H
#define ZERODOWN_ZD_FOLDER_H

/* one patch of the folder: build/, rollback/ and verify/NNNNN_name.sql */
typedef struct ZdFolderPatch
{
	int			number;
	char	   *name;
	char	   *file;			/* NNNNN_name.sql */
	char	   *build_sql;
	char	   *rollback_sql;
	char	   *verify_sql;		/* NULL: no verify file */
} ZdFolderPatch;

/* a whole folder, patches in number order */
typedef struct ZdFolder
{
	char	   *path;			/* absolute */
	int			npatches;
	ZdFolderPatch *patches;
} ZdFolder;

extern bool ZdReadFolder(const char *dir, ZdFolder *folder);
extern int	ZdNewPatch(const char *dir, const char *name);
extern bool ZdValidPatchName(const char *name);

#endif							/* ZERODOWN_ZD_FOLDER_H */
