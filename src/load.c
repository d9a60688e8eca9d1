/*-------------------------------------------------------------------------
 *
 * load.c
 *	  zd_load: register every patch of a server-side migrations folder.
 *
 * The folder holds build/NNNNN_name.sql, the matching
 * rollback/NNNNN_name.sql (an empty file is a rollback that does nothing)
 * and, optionally, verify/NNNNN_name.sql.  Every file is read and checked
 * before the first patch is registered.
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

static List *list_patch_files(const char *dir, const char *part, bool required);
static FolderPatch *parse_file_name(const char *dir, const char *file);
static char *read_patch_file(const char *path);
static int	compare_numbers(const ListCell *a, const ListCell *b);
static bool has_file(List *files, const char *file);
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
	List	   *builds;
	List	   *rollbacks;
	List	   *verifies;
	List	   *patches = NIL;
	ListCell   *lc;
	int			previous = 0;
	FolderPatch *previous_patch = NULL;

	ZdCheckNotNull(fcinfo, 0, "dir");
	ZdCheckNotInPatch("zd_load");
	ZdCheckDeployer("register patches");
	CheckCanReadFiles();

	dir = text_to_cstring(PG_GETARG_TEXT_PP(0));
	canonicalize_path(dir);
	CheckDirectory(dir, "migrations folder");

	builds = list_patch_files(dir, "build", true);
	rollbacks = list_patch_files(dir, "rollback", false);
	verifies = list_patch_files(dir, "verify", false);

	/* every build has its rollback, and nothing stands alone */
	foreach(lc, builds)
	{
		char	   *file = lfirst(lc);
		FolderPatch *patch = parse_file_name(dir, file);

		if (!has_file(rollbacks, file))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FILE),
					 errmsg("build file \"%s/build/%s\" has no rollback file", dir, file),
					 errdetail("In a folder every build needs its rollback/%s. Nothing was registered.", file),
					 errhint("Write the statements that undo the build in rollback/%s; an empty file is a rollback that does nothing.",
							 file)));
		patches = lappend(patches, patch);
	}
	foreach(lc, rollbacks)
		if (!has_file(builds, lfirst(lc)))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FILE),
					 errmsg("rollback file \"%s/rollback/%s\" has no build file", dir,
							(char *) lfirst(lc)),
					 errdetail("Nothing was registered."),
					 errhint("Rename it to match its build file, or remove it.")));
	foreach(lc, verifies)
		if (!has_file(builds, lfirst(lc)))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FILE),
					 errmsg("verify file \"%s/verify/%s\" has no build file", dir,
							(char *) lfirst(lc)),
					 errdetail("Nothing was registered."),
					 errhint("Rename it to match its build file, or remove it.")));

	/* numbers are unique and follow each other */
	list_sort(patches, compare_numbers);
	foreach(lc, patches)
	{
		FolderPatch *patch = lfirst(lc);

		if (patch->number == previous)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("two build files in \"%s/build\" have number %d", dir, patch->number),
					 errdetail("Files \"%s\" and \"%s\" both have number %d. Nothing was registered.",
							   previous_patch->file, patch->file, patch->number),
					 errhint("Each patch has its own number: renumber one of them.")));
		if (previous != 0 && patch->number != previous + 1)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("patch %d is missing from \"%s/build\"", previous + 1, dir),
					 errdetail("The folder goes from patch %d to patch %d. Nothing was registered.",
							   previous, patch->number),
					 errhint("Add the missing patch, or renumber the patches so that they follow each other.")));
		previous = patch->number;
		previous_patch = patch;
	}

	/* read everything, then register everything */
	foreach(lc, patches)
	{
		FolderPatch *patch = lfirst(lc);

		patch->build_sql = read_patch_file(psprintf("%s/build/%s", dir, patch->file));
		patch->rollback_sql = read_patch_file(psprintf("%s/rollback/%s", dir, patch->file));
		if (has_file(verifies, patch->file))
			patch->verify_sql = read_patch_file(psprintf("%s/verify/%s", dir, patch->file));
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

/* the NNNNN_name.sql files of dir/part; dot files are ignored */
static List *
list_patch_files(const char *dir, const char *part, bool required)
{
	char	   *path = psprintf("%s/%s", dir, part);
	struct stat st;
	List	   *files = NIL;
	DIR		   *d;
	struct dirent *de;

	if (!required && stat(path, &st) != 0 && errno == ENOENT)
		return NIL;
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
		(void) parse_file_name(path, de->d_name);
		files = lappend(files, pstrdup(de->d_name));
	}
	FreeDir(d);
	return files;
}

/*
 * NNNNN_name.sql: a number of at least five digits, zero-padded to five, an
 * underscore, a patch name, ".sql".
 */
static FolderPatch *
parse_file_name(const char *dir, const char *file)
{
	FolderPatch *patch = palloc0(sizeof(FolderPatch));
	const char *p = file;
	size_t		len = strlen(file);
	long		number = 0;

	while (*p >= '0' && *p <= '9' && number <= PG_INT32_MAX)
		number = number * 10 + (*p++ - '0');

	if (p - file >= 5 && *p == '_' && len > 4 &&
		strcmp(file + len - 4, ".sql") == 0 && number > 0 &&
		number <= PG_INT32_MAX &&
		strcmp(psprintf("%05ld", number), pnstrdup(file, p - file)) == 0)
	{
		patch->number = (int) number;
		patch->name = pnstrdup(p + 1, len - 4 - (p + 1 - file));
		patch->file = pstrdup(file);
		if (ZdValidPatchName(patch->name))
			return patch;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_NAME),
			 errmsg("file name \"%s/%s\" is not NNNNN_name.sql", dir, file),
			 errdetail("A patch file is named by its number, zero-padded to five digits and starting at 00001, an underscore, a name of letters, digits, underscores or hyphens, and \".sql\"."),
			 errhint("Rename it, for example to \"00001_create_table_example_a.sql\".")));
	return NULL;				/* keep compiler quiet */
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

static int
compare_numbers(const ListCell *a, const ListCell *b)
{
	FolderPatch *pa = lfirst(a);
	FolderPatch *pb = lfirst(b);

	if (pa->number != pb->number)
		return (pa->number > pb->number) - (pa->number < pb->number);
	return strcmp(pa->file, pb->file);
}

static bool
has_file(List *files, const char *file)
{
	ListCell   *lc;

	foreach(lc, files)
		if (strcmp(lfirst(lc), file) == 0)
			return true;
	return false;
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
