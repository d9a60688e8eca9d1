/*-------------------------------------------------------------------------
 *
 * folder.h
 *	  The migrations folder on the client's disk: build/, rollback/ and
 *	  verify/ NNNNN_name.sql files, read and checked by the rules the server's
 *	  zd_load shares (src/common/rules.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_ZD_FOLDER_H
#define ZERODOWN_ZD_FOLDER_H

/* one patch of the folder: build/, rollback/ and verify/NNNNN_name.sql */
typedef struct CliFolderPatch
{
	int			number;
	char	   *name;
	char	   *file;			/* NNNNN_name.sql */
	char	   *build_sql;
	char	   *rollback_sql;	/* NULL: irreversible (the marker) */
	char	   *verify_sql;		/* NULL: no verify file */
} CliFolderPatch;

/* a whole folder, patches in number order */
typedef struct CliFolder
{
	char	   *path;			/* absolute */
	int			npatches;
	CliFolderPatch *patches;
} CliFolder;

extern bool CliReadFolder(const char *dir, CliFolder *folder);
extern bool CliListPatchFiles(const char *dir, const char *part,
							  bool required, char ***files, int *n);
extern const CliFolderPatch *CliFindFolderPatch(const CliFolder *folder,
												int number);

#endif							/* ZERODOWN_ZD_FOLDER_H */
