/*-------------------------------------------------------------------------
 *
 * load.c
 *	  zd_load: register every patch of a server-side migrations folder.
 *
 * The folder holds build/NNNNN_name.sql, the matching
 * rollback/NNNNN_name.sql (an empty file is a rollback that does nothing; a
 * file that starts with "-- zerodown:irreversible" registers the patch
 * without rollback) and, optionally, verify/NNNNN_name.sql.  Every file is
 * read and checked, by the rules the zd client shares (src/common/rules.c),
 * before the first patch is registered; of several problems, the one with
 * the lowest patch number is reported.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>

#include "catalog/pg_authid.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/acl.h"
#include "utils/builtins.h"

#include "align.h"
#include "args.h"
#include "catalog.h"
#include "common/rules.h"
#include "register.h"
#include "zerodown.h"

/* one patch as found in the folder */
typedef struct FolderPatch
{
	int			number;
	char	   *name;
	char	   *file;			/* NNNNN_name.sql */
	char	   *build_sql;
	char	   *rollback_sql;
	char	   *verify_sql;
} FolderPatch;

PG_FUNCTION_INFO_V1(zd_load);

static char **list_patch_files(const char *dir, const char *part,
							   bool required, int *n);
static char *read_patch_file(const char *path);
static void report_problem(const ZdFolderProblem *problem, const char *dir);
static inline void CheckCanReadFiles(void);
static inline void CheckDirectory(const char *path, const char *what);

/*
 * zd_load(dir text) returns table (number, name, action)
 */
Datum
zd_load(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *dir;
	char	  **builds;
	char	  **rollbacks;
	char	  **verifies;
	int			nbuilds;
	int			nrollbacks;
	int			nverifies;
	ZdFolderProblems problems = {0};
	List	   *patches = NIL;
	ListCell   *lc;
	int			i;

	ZdCheckNotNull(fcinfo, 0, "dir");
	ZdCheckNotInPatch("zd_load");
	ZdCheckDeployer("register patches");
	CheckCanReadFiles();

	dir = text_to_cstring(PG_GETARG_TEXT_PP(0));
	canonicalize_path(dir);
	CheckDirectory(dir, "migrations folder");

	builds = list_patch_files(dir, "build", true, &nbuilds);
	rollbacks = list_patch_files(dir, "rollback", false, &nrollbacks);
	verifies = list_patch_files(dir, "verify", false, &nverifies);

	/* the names first, then the files of the patches they allow */
	ZdCheckFolderNames(&problems, builds, nbuilds, rollbacks, nrollbacks,
					   verifies, nverifies);
	for (i = 0; i < nbuilds; i++)
	{
		FolderPatch *patch = palloc0(sizeof(FolderPatch));

		if (!ZdParsePatchFileName(builds[i], &patch->number, &patch->name) ||
			!ZdHasFileName(rollbacks, nrollbacks, builds[i]))
			continue;
		patch->file = builds[i];
		patch->build_sql = read_patch_file(psprintf("%s/build/%s", dir, patch->file));
		patch->rollback_sql = read_patch_file(psprintf("%s/rollback/%s", dir, patch->file));
		/* irreversible: registered without rollback */
		ZdApplyRollbackMarker(&problems, patch->number, patch->file,
							  &patch->rollback_sql);
		if (ZdHasFileName(verifies, nverifies, patch->file))
			patch->verify_sql = read_patch_file(psprintf("%s/verify/%s", dir, patch->file));
		patches = lappend(patches, patch);
	}
	if (problems.n > 0)
	{
		ZdSortFolderProblems(&problems);
		report_problem(&problems.items[0], dir);
	}

	InitMaterializedSRF(fcinfo, 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ZdLockAlign("register patches");
	foreach(lc, patches)
	{
		FolderPatch *patch = lfirst(lc);
		Datum		values[3];
		bool		nulls[3] = {0};

		values[0] = Int32GetDatum(patch->number);
		values[1] = CStringGetTextDatum(patch->name);
		values[2] = CStringGetTextDatum(ZdRegisterPatch(patch->number, patch->name,
														patch->build_sql,
														patch->rollback_sql,
														patch->verify_sql, dir));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

/*
 * The files of dir/part, whatever their names (the rules check those); dot
 * files are ignored, anything but a regular file is an error.
 */
static char **
list_patch_files(const char *dir, const char *part, bool required, int *n)
{
	char	   *path = psprintf("%s/%s", dir, part);
	struct stat st;
	List	   *files = NIL;
	char	  **names;
	DIR		   *d;
	struct dirent *de;
	ListCell   *lc;

	*n = 0;
	if (!required && stat(path, &st) != 0 && errno == ENOENT)
		return NULL;
	CheckDirectory(path, psprintf("%s folder", part));

	d = AllocateDir(path);
	while ((de = ReadDir(d, path)) != NULL)
	{
		char	   *full;

		if (de->d_name[0] == '.')
			continue;
		full = psprintf("%s/%s", path, de->d_name);
		if (stat(full, &st) != 0 || !S_ISREG(st.st_mode))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_NAME),
					 errmsg("\"%s\" is not a regular file", full),
					 errhint("A migrations folder holds only NNNNN_name.sql files in build/, rollback/ and verify/.")));
		files = lappend(files, pstrdup(de->d_name));
	}
	FreeDir(d);

	names = palloc(sizeof(char *) * Max(list_length(files), 1));
	foreach(lc, files)
		names[(*n)++] = lfirst(lc);
	return names;
}

/* the first of the folder's problems, as an error */
static void
report_problem(const ZdFolderProblem *problem, const char *dir)
{
	char	   *message;
	char	   *detail;
	char	   *hint;
	int			code = ERRCODE_UNDEFINED_FILE;

	ZdDescribeFolderProblem(problem, dir, "Nothing was registered.",
							&message, &detail, &hint);
	switch (problem->fault)
	{
		case ZD_FOLDER_BAD_NAME:
			code = ERRCODE_INVALID_NAME;
			break;
		case ZD_FOLDER_NO_ROLLBACK:
		case ZD_FOLDER_NO_BUILD:
			code = ERRCODE_UNDEFINED_FILE;
			break;
		case ZD_FOLDER_DUPLICATE:
			code = ERRCODE_DUPLICATE_OBJECT;
			break;
		case ZD_FOLDER_GAP:
			code = ERRCODE_UNDEFINED_OBJECT;
			break;
		case ZD_FOLDER_IRREVERSIBLE_TEXT:
			code = ERRCODE_INVALID_PARAMETER_VALUE;
			break;
	}
	ereport(ERROR,
			(errcode(code),
			 errmsg_internal("%s", message),
			 errdetail_internal("%s", detail),
			 errhint("%s", hint)));
}

static char *
read_patch_file(const char *path)
{
	FILE	   *file;
	struct stat st;
	char	   *buf;
	size_t		len;

	if (stat(path, &st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat file \"%s\": %m", path)));
	if ((Size) st.st_size > MaxAllocSize - 1)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("patch file \"%s\" is too large", path)));

	file = AllocateFile(path, PG_BINARY_R);
	if (file == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\" for reading: %m", path)));
	buf = palloc(st.st_size + 1);
	len = fread(buf, 1, st.st_size, file);
	if (ferror(file))
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read file \"%s\": %m", path)));
	FreeFile(file);
	buf[len] = '\0';

	if (!pg_verify_mbstr(GetDatabaseEncoding(), buf, len, true))
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("patch file \"%s\" is not valid %s", path,
						GetDatabaseEncodingName()),
				 errhint("Save the file in the database's encoding.")));
	return buf;
}

static inline void
CheckCanReadFiles(void)
{
	if (!has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to read patch files on the server"),
				 errdetail("zd_load reads files on the database server, which needs the privileges of role \"pg_read_server_files\"."),
				 errhint("Use the zd client to load patches from your own disk, or ask a superuser for: GRANT pg_read_server_files TO %s;",
						 quote_identifier(GetUserNameFromId(GetUserId(), false)))));
}

static inline void
CheckDirectory(const char *path, const char *what)
{
	struct stat st;

	if (stat(path, &st) != 0)
	{
		if (errno == ENOENT)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FILE),
					 errmsg("%s \"%s\" does not exist", what, path),
					 errdetail("zd_load reads a folder on the database server that holds build/ and rollback/."),
					 errhint("Check the path; a relative path is relative to the server's data directory.")));
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat \"%s\": %m", path)));
	}
	if (!S_ISDIR(st.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("%s \"%s\" is not a directory", what, path),
				 errhint("Pass the folder that holds build/ and rollback/.")));
}
