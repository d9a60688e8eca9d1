/*-------------------------------------------------------------------------
 *
 * cmd_new.c
 *	  zd new NAME: start a patch, build/NNNNN_NAME.sql and
 *	  rollback/NNNNN_NAME.sql, numbered after the highest build file.
 *
 * No connection: only the folder.  A file is never overwritten.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/rules.h"

#include "folder.h"
#include "output.h"
#include "zd.h"

static int	run_new(const CliOptions *options, int nargs, char **args);
static bool create_patch_file(const char *path, const char *text);

const CliCommand CliNewCommand = {
	.name = "new",
	.arguments = "NAME",
	.summary = "start patch NNNNN_NAME.sql in build/ and rollback/",
	.description =
	"Creates build/NNNNN_NAME.sql and rollback/NNNNN_NAME.sql, numbered one\n"
	"above the highest build file, each with a comment header, and prints\n"
	"their paths.  Never overwrites a file; needs no connection.  NAME is 1 to\n"
	"200 letters, digits, underscores or hyphens.",
	.options = 0,
	.run = run_new
};

static int
run_new(const CliOptions *options, int nargs, char **args)
{
	const char *dir = options->directory;
	const char *name;
	char	  **builds;
	int			nbuilds;
	int			highest = 0;
	int			i;
	char	   *file;
	char	   *build_dir;
	char	   *rollback_dir;
	char	   *build_path;
	char	   *rollback_path;
	struct stat st;

	if (nargs < 1)
		CliUsageError("new", "\"new\" needs the name of the patch");
	CliCheckArguments("new", nargs, args, 1);
	name = args[0];
	if (!ZdValidPatchName(name))
		CliUsageError("new", "invalid patch name \"%s\": use 1 to %d letters, digits, underscores or hyphens",
					  name, ZD_MAX_NAME_LEN);

	if (!CliListPatchFiles(dir, "build", false, &builds, &nbuilds))
		return ZD_EXIT_FAILURE;
	for (i = 0; i < nbuilds; i++)
	{
		int			number;
		char	   *ignored;

		if (!ZdParsePatchFileName(builds[i], &number, &ignored))
		{
			CliError("file name \"%s/build/%s\" is not NNNNN_name.sql", dir, builds[i]);
			CliErrorHint("Rename it, for example to \"00001_create_table_example_a.sql\", or remove it.");
			return ZD_EXIT_FAILURE;
		}
		highest = Max(highest, number);
	}
	if (highest == INT_MAX)
	{
		CliError("no patch number is left after %d in \"%s/build\"",
				 highest, dir);
		return ZD_EXIT_FAILURE;
	}

	file = psprintf("%05d_%s.sql", highest + 1, name);
	build_dir = psprintf("%s/build", dir);
	rollback_dir = psprintf("%s/rollback", dir);
	build_path = psprintf("%s/%s", build_dir, file);
	rollback_path = psprintf("%s/%s", rollback_dir, file);

	/* a clear message first; O_EXCL below closes the race */
	if (lstat(build_path, &st) == 0 || lstat(rollback_path, &st) == 0)
	{
		CliError("file \"%s\" already exists",
				 lstat(build_path, &st) == 0 ? build_path : rollback_path);
		CliErrorDetail("zd new never overwrites a file. Nothing was created.");
		CliErrorHint("Remove or rename the file, or number the patch by hand.");
		return ZD_EXIT_FAILURE;
	}

	if (pg_mkdir_p(build_dir, S_IRWXU | S_IRWXG | S_IRWXO) != 0)
	{
		CliError("could not create directory \"%s\": %m", build_dir);
		return ZD_EXIT_FAILURE;
	}
	if (pg_mkdir_p(rollback_dir, S_IRWXU | S_IRWXG | S_IRWXO) != 0)
	{
		CliError("could not create directory \"%s\": %m", rollback_dir);
		return ZD_EXIT_FAILURE;
	}

	if (!create_patch_file(build_path,
						   psprintf("-- build/%s: patch %d \"%s\"\n"
									"--\n"
									"-- The statements that build this patch.  zerodown runs them in one\n"
									"-- transaction, with lock_timeout set from zerodown.lock_timeout.  For\n"
									"-- statements that cannot run in a transaction (CREATE INDEX CONCURRENTLY,\n"
									"-- ...), make \"%s\" the very first line of this file.\n"
									"-- Once the patch is applied, leave this file as it is and make further\n"
									"-- changes in a new patch (zd new NAME).\n"
									"\n",
									file, highest + 1, name, ZD_NO_TRANSACTION_MARKER)))
		return ZD_EXIT_FAILURE;
	if (!create_patch_file(rollback_path,
						   psprintf("-- rollback/%s: undoes patch %d \"%s\"\n"
									"--\n"
									"-- The statements that undo build/%s,\n"
									"-- run when the database is aligned below patch %d.  A file without\n"
									"-- statements is a rollback that does nothing.  For a patch that cannot\n"
									"-- be undone, make \"%s\" the very first line\n"
									"-- of this file, followed only by comments that say why: aligning below\n"
									"-- it is then refused.\n"
									"\n",
									file, highest + 1, name, file, highest + 1,
									ZD_IRREVERSIBLE_MARKER)))
	{
		(void) unlink(build_path);
		return ZD_EXIT_FAILURE;
	}

	printf("%s\n%s\n", build_path, rollback_path);
	return ZD_EXIT_OK;
}

static bool
create_patch_file(const char *path, const char *text)
{
	int			fd;
	size_t		len = strlen(text);

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | PG_BINARY,
			  S_IRUSR | S_IWUSR | S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH);
	if (fd < 0)
	{
		CliError("could not create file \"%s\": %m", path);
		return false;
	}
	if (write(fd, text, len) != (ssize_t) len)
	{
		if (errno == 0)
			errno = ENOSPC;
		CliError("could not write file \"%s\": %m", path);
		close(fd);
		(void) unlink(path);
		return false;
	}
	if (close(fd) != 0)
	{
		CliError("could not close file \"%s\": %m", path);
		(void) unlink(path);
		return false;
	}
	return true;
}
