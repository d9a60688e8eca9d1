/*-------------------------------------------------------------------------
 *
 * folder.c
 *	  The migrations folder on the client's disk.
 *
 * A folder holds build/NNNNN_name.sql, the matching rollback/NNNNN_name.sql
 * (an empty file is a rollback that does nothing; a file whose first line is
 * "-- zerodown:irreversible" declares the patch irreversible) and,
 * optionally, verify/NNNNN_name.sql.  It is checked by the rules the
 * server's zd_load uses too (src/common/rules.c): file names, a rollback
 * for every build, nothing standing alone, no duplicate numbers and no gaps.
 * Every file is read and checked before zd connects, so a broken folder
 * sends nothing to the database; every problem is reported, the lowest
 * patch number first.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/logging.h"
#include "common/rules.h"

#include "folder.h"
#include "output.h"

/* how many of a folder's problems are reported one by one */
#define ZD_MAX_PROBLEMS_SHOWN	10

static bool check_directory(const char *path, const char *what);
static char *read_patch_file(const char *path);
static void report_problems(ZdFolderProblems *problems, const char *dir);

/*
 * Read and check the whole folder.  On error, says which files are wrong and
 * returns false.
 */
bool
CliReadFolder(const char *dir, CliFolder *folder)
{
	char	   *resolved;
	char	  **builds;
	char	  **rollbacks;
	char	  **verifies;
	int			nbuilds;
	int			nrollbacks;
	int			nverifies;
	ZdFolderProblems problems = {0};
	int			i;

	if (!check_directory(dir, "migrations folder"))
		return false;
	resolved = realpath(dir, NULL);
	if (resolved == NULL)
	{
		CliError("could not resolve path \"%s\": %m", dir);
		return false;
	}
	folder->path = resolved;

	if (!CliListPatchFiles(folder->path, "build", true, &builds, &nbuilds) ||
		!CliListPatchFiles(folder->path, "rollback", false, &rollbacks, &nrollbacks) ||
		!CliListPatchFiles(folder->path, "verify", false, &verifies, &nverifies))
		return false;

	/* the names first, then the files of the patches they allow */
	ZdCheckFolderNames(&problems, builds, nbuilds, rollbacks, nrollbacks,
					   verifies, nverifies);
	folder->npatches = 0;
	folder->patches = pg_malloc0(sizeof(CliFolderPatch) * Max(nbuilds, 1));
	for (i = 0; i < nbuilds; i++)
	{
		CliFolderPatch *patch = &folder->patches[folder->npatches];

		if (!ZdParsePatchFileName(builds[i], &patch->number, &patch->name) ||
			!ZdHasFileName(rollbacks, nrollbacks, builds[i]))
			continue;
		patch->file = builds[i];
		patch->build_sql = read_patch_file(psprintf("%s/build/%s",
													folder->path, patch->file));
		if (patch->build_sql == NULL)
			return false;
		patch->rollback_sql = read_patch_file(psprintf("%s/rollback/%s",
													   folder->path, patch->file));
		if (patch->rollback_sql == NULL)
			return false;
		/* irreversible: registered without rollback */
		ZdApplyRollbackMarker(&problems, patch->number, patch->file,
							  &patch->rollback_sql);
		if (ZdHasFileName(verifies, nverifies, patch->file))
		{
			patch->verify_sql = read_patch_file(psprintf("%s/verify/%s",
														 folder->path, patch->file));
			if (patch->verify_sql == NULL)
				return false;
		}
		folder->npatches++;
	}

	if (problems.n > 0)
	{
		report_problems(&problems, folder->path);
		return false;
	}
	return true;
}

/*
 * The files of dir/part, whatever their names (the rules check those), in
 * *files.  Dot files are ignored; anything but a regular file is an error.
 * A part that is not required may be missing.
 */
bool
CliListPatchFiles(const char *dir, const char *part, bool required,
				  char ***files, int *n)
{
	char	   *path = psprintf("%s/%s", dir, part);
	struct stat st;
	DIR		   *d;
	struct dirent *de;
	int			allocated = 16;

	*n = 0;
	*files = pg_malloc(sizeof(char *) * allocated);
	if (!required && stat(path, &st) != 0 && errno == ENOENT)
		return true;
	if (!check_directory(path, psprintf("%s folder", part)))
		return false;

	d = opendir(path);
	if (d == NULL)
	{
		CliError("could not open directory \"%s\": %m", path);
		return false;
	}
	while (errno = 0, (de = readdir(d)) != NULL)
	{
		char	   *full;

		if (de->d_name[0] == '.')
			continue;
		full = psprintf("%s/%s", path, de->d_name);
		if (stat(full, &st) != 0 || !S_ISREG(st.st_mode))
		{
			CliError("\"%s\" is not a regular file", full);
			CliErrorHint("A migrations folder holds only NNNNN_name.sql files in build/, rollback/ and verify/.");
			closedir(d);
			return false;
		}
		if (*n == allocated)
		{
			allocated *= 2;
			*files = pg_realloc(*files, sizeof(char *) * allocated);
		}
		(*files)[(*n)++] = pg_strdup(de->d_name);
	}
	if (errno != 0)
	{
		CliError("could not read directory \"%s\": %m", path);
		closedir(d);
		return false;
	}
	closedir(d);
	return true;
}

/* the folder's patch with this number, or NULL */
const CliFolderPatch *
CliFindFolderPatch(const CliFolder *folder, int number)
{
	int			i;

	for (i = 0; folder != NULL && i < folder->npatches; i++)
		if (folder->patches[i].number == number)
			return &folder->patches[i];
	return NULL;
}

static bool
check_directory(const char *path, const char *what)
{
	struct stat st;

	if (stat(path, &st) != 0)
	{
		if (errno == ENOENT)
		{
			CliError("%s \"%s\" does not exist", what, path);
			CliErrorHint("Pass the migrations folder, which holds build/ and rollback/, with -C DIR; \"zd new NAME\" starts one.");
		}
		else
			CliError("could not stat \"%s\": %m", path);
		return false;
	}
	if (!S_ISDIR(st.st_mode))
	{
		CliError("%s \"%s\" is not a directory", what, path);
		CliErrorHint("Pass the migrations folder, which holds build/ and rollback/, with -C DIR.");
		return false;
	}
	return true;
}

/* the whole file as a string, or NULL after an error */
static char *
read_patch_file(const char *path)
{
	int			fd;
	struct stat st;
	char	   *buf;
	size_t		len = 0;

	fd = open(path, O_RDONLY | PG_BINARY, 0);
	if (fd < 0)
	{
		CliError("could not open file \"%s\" for reading: %m", path);
		return NULL;
	}
	if (fstat(fd, &st) != 0)
	{
		CliError("could not stat file \"%s\": %m", path);
		close(fd);
		return NULL;
	}
	if (st.st_size > 1024 * 1024 * 1024 - 1)
	{
		CliError("patch file \"%s\" is too large", path);
		close(fd);
		return NULL;
	}
	buf = pg_malloc(st.st_size + 1);
	while (len < (size_t) st.st_size)
	{
		ssize_t		n = read(fd, buf + len, st.st_size - len);

		if (n < 0)
		{
			CliError("could not read file \"%s\": %m", path);
			close(fd);
			return NULL;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';

	if (memchr(buf, '\0', len) != NULL)
	{
		CliError("patch file \"%s\" contains a zero byte", path);
		CliErrorHint("Patch files are text in the database's encoding.");
		return NULL;
	}
	return buf;
}

/* every problem, lowest number first, up to ZD_MAX_PROBLEMS_SHOWN */
static void
report_problems(ZdFolderProblems *problems, const char *dir)
{
	int			i;

	ZdSortFolderProblems(problems);
	for (i = 0; i < problems->n && i < ZD_MAX_PROBLEMS_SHOWN; i++)
	{
		char	   *message;
		char	   *detail;
		char	   *hint;

		ZdDescribeFolderProblem(&problems->items[i], dir,
								"Nothing was sent to the database.",
								&message, &detail, &hint);
		CliError("%s", message);
		CliErrorDetail("%s", detail);
		CliErrorHint("%s", hint);
	}
	if (problems->n > ZD_MAX_PROBLEMS_SHOWN)
		CliError("%d more problems in \"%s\"",
				 problems->n - ZD_MAX_PROBLEMS_SHOWN, dir);
}
