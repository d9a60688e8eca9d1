/*-------------------------------------------------------------------------
 *
 * folder.c
 *	  The migrations folder on the client's disk.
 *
 * A folder holds build/NNNNN_name.sql, the matching rollback/NNNNN_name.sql
 * (an empty file is a rollback that does nothing) and, optionally,
 * verify/NNNNN_name.sql.  It is checked by the rules of the server's
 * zd_load: file names, a rollback for every build, nothing standing alone,
 * no duplicate numbers and no gaps.  Every file is read and checked before
 * zd connects, so a broken folder sends nothing to the database.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/logging.h"

#include "folder.h"
#include "zd.h"

#define ZD_MAX_NAME_LEN		200

/* the NNNNN_name.sql files of one part of the folder, sorted */
typedef struct FileList
{
	int			n;
	char	  **names;
} FileList;

static bool check_directory(const char *path, const char *what);
static bool list_patch_files(const char *dir, const char *part,
							 bool required, FileList *files);
static bool parse_file_name(const char *dir, const char *file,
							int *number, char **name);
static bool has_file(const FileList *files, const char *file);
static char *read_patch_file(const char *path);
static bool create_patch_file(const char *path, const char *text);
static int	compare_names(const void *a, const void *b);
static int	compare_patches(const void *a, const void *b);

/*
 * Read and check the whole folder.  On error, says which file is wrong and
 * returns false.
 */
bool
ZdReadFolder(const char *dir, ZdFolder *folder)
{
	char	   *resolved;
	FileList	builds;
	FileList	rollbacks;
	FileList	verifies;
	int			previous = 0;
	int			i;

	if (!check_directory(dir, "migrations folder"))
		return false;
	resolved = realpath(dir, NULL);
	if (resolved == NULL)
	{
		pg_log_error("could not resolve path \"%s\": %m", dir);
		return false;
	}
	folder->path = resolved;

	if (!list_patch_files(folder->path, "build", true, &builds) ||
		!list_patch_files(folder->path, "rollback", false, &rollbacks) ||
		!list_patch_files(folder->path, "verify", false, &verifies))
		return false;

	/* every build has its rollback, and nothing stands alone */
	folder->npatches = builds.n;
	folder->patches = pg_malloc0(sizeof(ZdFolderPatch) * Max(builds.n, 1));
	for (i = 0; i < builds.n; i++)
	{
		ZdFolderPatch *patch = &folder->patches[i];

		if (!has_file(&rollbacks, builds.names[i]))
		{
			pg_log_error("build file \"%s/build/%s\" has no rollback file",
						 folder->path, builds.names[i]);
			pg_log_error_detail("In a folder every build needs its rollback/%s. Nothing was sent to the database.",
								builds.names[i]);
			pg_log_error_hint("Write the statements that undo the build in rollback/%s; an empty file is a rollback that does nothing.",
							  builds.names[i]);
			return false;
		}
		(void) parse_file_name(folder->path, builds.names[i],
							   &patch->number, &patch->name);
		patch->file = builds.names[i];
	}
	for (i = 0; i < rollbacks.n; i++)
	{
		if (!has_file(&builds, rollbacks.names[i]))
		{
			pg_log_error("rollback file \"%s/rollback/%s\" has no build file",
						 folder->path, rollbacks.names[i]);
			pg_log_error_hint("Rename it to match its build file, or remove it.");
			return false;
		}
	}
	for (i = 0; i < verifies.n; i++)
	{
		if (!has_file(&builds, verifies.names[i]))
		{
			pg_log_error("verify file \"%s/verify/%s\" has no build file",
						 folder->path, verifies.names[i]);
			pg_log_error_hint("Rename it to match its build file, or remove it.");
			return false;
		}
	}

	/* numbers are unique and follow each other */
	qsort(folder->patches, folder->npatches, sizeof(ZdFolderPatch),
		  compare_patches);
	for (i = 0; i < folder->npatches; i++)
	{
		ZdFolderPatch *patch = &folder->patches[i];

		if (patch->number == previous)
		{
			pg_log_error("two build files in \"%s/build\" have number %d: \"%s\" and \"%s\"",
						 folder->path, patch->number,
						 folder->patches[i - 1].file, patch->file);
			pg_log_error_hint("Each patch has its own number: renumber one of them.");
			return false;
		}
		if (previous != 0 && patch->number != previous + 1)
		{
			pg_log_error("patch %d is missing from \"%s/build\"",
						 previous + 1, folder->path);
			pg_log_error_detail("The folder goes from patch %d to patch %d (\"%s\"). Nothing was sent to the database.",
								previous, patch->number, patch->file);
			pg_log_error_hint("Add the missing patch, or renumber the patches so that they follow each other.");
			return false;
		}
		previous = patch->number;
	}

	/* read everything */
	for (i = 0; i < folder->npatches; i++)
	{
		ZdFolderPatch *patch = &folder->patches[i];

		patch->build_sql = read_patch_file(psprintf("%s/build/%s",
													folder->path, patch->file));
		if (patch->build_sql == NULL)
			return false;
		patch->rollback_sql = read_patch_file(psprintf("%s/rollback/%s",
													   folder->path, patch->file));
		if (patch->rollback_sql == NULL)
			return false;
		if (has_file(&verifies, patch->file))
		{
			patch->verify_sql = read_patch_file(psprintf("%s/verify/%s",
														 folder->path, patch->file));
			if (patch->verify_sql == NULL)
				return false;
		}
	}
	return true;
}

/*
 * zd new NAME: build/NNNNN_NAME.sql and rollback/NNNNN_NAME.sql, numbered
 * one above the highest build file.  Never overwrites a file.  Returns the
 * exit code.
 */
int
ZdNewPatch(const char *dir, const char *name)
{
	FileList	builds;
	int			highest = 0;
	int			i;
	char	   *file;
	char	   *build_dir;
	char	   *rollback_dir;
	char	   *build_path;
	char	   *rollback_path;
	struct stat st;

	if (!list_patch_files(dir, "build", false, &builds))
		return ZD_EXIT_FAILURE;
	for (i = 0; i < builds.n; i++)
	{
		int			number;
		char	   *ignored;

		(void) parse_file_name(dir, builds.names[i], &number, &ignored);
		highest = Max(highest, number);
	}
	if (highest == INT_MAX)
	{
		pg_log_error("no patch number is left after %d in \"%s/build\"",
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
		pg_log_error("file \"%s\" already exists",
					 lstat(build_path, &st) == 0 ? build_path : rollback_path);
		pg_log_error_detail("zd new never overwrites a file. Nothing was created.");
		pg_log_error_hint("Remove or rename the file, or number the patch by hand.");
		return ZD_EXIT_FAILURE;
	}

	if (pg_mkdir_p(build_dir, S_IRWXU | S_IRWXG | S_IRWXO) != 0)
	{
		pg_log_error("could not create directory \"%s\": %m", build_dir);
		return ZD_EXIT_FAILURE;
	}
	if (pg_mkdir_p(rollback_dir, S_IRWXU | S_IRWXG | S_IRWXO) != 0)
	{
		pg_log_error("could not create directory \"%s\": %m", rollback_dir);
		return ZD_EXIT_FAILURE;
	}

	if (!create_patch_file(build_path,
						   psprintf("-- build/%s: patch %d \"%s\"\n"
									"--\n"
									"-- The statements that build this patch.  zerodown runs them in one\n"
									"-- transaction, with lock_timeout set from zerodown.lock_timeout.  For\n"
									"-- statements that cannot run in a transaction (CREATE INDEX CONCURRENTLY,\n"
									"-- ...), make \"-- zerodown:no-transaction\" the very first line of this file.\n"
									"-- Once the patch is applied, leave this file as it is and make further\n"
									"-- changes in a new patch (zd new NAME).\n"
									"\n",
									file, highest + 1, name)))
		return ZD_EXIT_FAILURE;
	if (!create_patch_file(rollback_path,
						   psprintf("-- rollback/%s: undoes patch %d \"%s\"\n"
									"--\n"
									"-- The statements that undo build/%s,\n"
									"-- run when the database is aligned below patch %d.  A file without\n"
									"-- statements is a rollback that does nothing.\n"
									"\n",
									file, highest + 1, name, file, highest + 1)))
	{
		(void) unlink(build_path);
		return ZD_EXIT_FAILURE;
	}

	printf("%s\n%s\n", build_path, rollback_path);
	return ZD_EXIT_OK;
}

/* letters, digits, underscores and hyphens, as the server accepts */
bool
ZdValidPatchName(const char *name)
{
	const char *p;

	if (*name == '\0' || strlen(name) > ZD_MAX_NAME_LEN)
		return false;
	for (p = name; *p; p++)
		if (!isalnum((unsigned char) *p) && *p != '_' && *p != '-')
			return false;
	return true;
}

static bool
check_directory(const char *path, const char *what)
{
	struct stat st;

	if (stat(path, &st) != 0)
	{
		if (errno == ENOENT)
		{
			pg_log_error("%s \"%s\" does not exist", what, path);
			pg_log_error_hint("Pass the migrations folder, which holds build/ and rollback/, with -C DIR; \"zd new NAME\" starts one.");
		}
		else
			pg_log_error("could not stat \"%s\": %m", path);
		return false;
	}
	if (!S_ISDIR(st.st_mode))
	{
		pg_log_error("%s \"%s\" is not a directory", what, path);
		pg_log_error_hint("Pass the migrations folder, which holds build/ and rollback/, with -C DIR.");
		return false;
	}
	return true;
}

/* the NNNNN_name.sql files of dir/part, sorted; dot files are ignored */
static bool
list_patch_files(const char *dir, const char *part, bool required,
				 FileList *files)
{
	char	   *path = psprintf("%s/%s", dir, part);
	struct stat st;
	DIR		   *d;
	struct dirent *de;
	int			allocated = 16;

	files->n = 0;
	files->names = NULL;
	if (!required && stat(path, &st) != 0 && errno == ENOENT)
		return true;
	if (!check_directory(path, psprintf("%s folder", part)))
		return false;

	d = opendir(path);
	if (d == NULL)
	{
		pg_log_error("could not open directory \"%s\": %m", path);
		return false;
	}
	files->names = pg_malloc(sizeof(char *) * allocated);
	while (errno = 0, (de = readdir(d)) != NULL)
	{
		char	   *full;
		int			number;
		char	   *name;

		if (de->d_name[0] == '.')
			continue;
		full = psprintf("%s/%s", path, de->d_name);
		if (stat(full, &st) != 0 || !S_ISREG(st.st_mode))
		{
			pg_log_error("\"%s\" is not a regular file", full);
			pg_log_error_hint("A migrations folder holds only NNNNN_name.sql files in build/, rollback/ and verify/.");
			closedir(d);
			return false;
		}
		if (!parse_file_name(path, de->d_name, &number, &name))
		{
			closedir(d);
			return false;
		}
		if (files->n == allocated)
		{
			allocated *= 2;
			files->names = pg_realloc(files->names, sizeof(char *) * allocated);
		}
		files->names[files->n++] = pg_strdup(de->d_name);
	}
	if (errno != 0)
	{
		pg_log_error("could not read directory \"%s\": %m", path);
		closedir(d);
		return false;
	}
	closedir(d);
	qsort(files->names, files->n, sizeof(char *), compare_names);
	return true;
}

/*
 * NNNNN_name.sql: a number of at least five digits, zero-padded to five, an
 * underscore, a patch name, ".sql".
 */
static bool
parse_file_name(const char *dir, const char *file, int *number, char **name)
{
	const char *p = file;
	size_t		len = strlen(file);
	long		value = 0;

	while (*p >= '0' && *p <= '9' && value <= INT_MAX)
		value = value * 10 + (*p++ - '0');

	if (p - file >= 5 && *p == '_' && len > 4 &&
		strcmp(file + len - 4, ".sql") == 0 && value > 0 && value <= INT_MAX &&
		strcmp(psprintf("%05ld", value), pnstrdup(file, p - file)) == 0)
	{
		*number = (int) value;
		*name = pnstrdup(p + 1, len - 4 - (p + 1 - file));
		if (ZdValidPatchName(*name))
			return true;
	}
	pg_log_error("file name \"%s/%s\" is not NNNNN_name.sql", dir, file);
	pg_log_error_detail("A patch file is named by its number, zero-padded to five digits and starting at 00001, an underscore, a name of letters, digits, underscores or hyphens, and \".sql\".");
	pg_log_error_hint("Rename it, for example to \"00001_create_table_example_a.sql\".");
	return false;
}

static bool
has_file(const FileList *files, const char *file)
{
	int			i;

	for (i = 0; i < files->n; i++)
		if (strcmp(files->names[i], file) == 0)
			return true;
	return false;
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
		pg_log_error("could not open file \"%s\" for reading: %m", path);
		return NULL;
	}
	if (fstat(fd, &st) != 0)
	{
		pg_log_error("could not stat file \"%s\": %m", path);
		close(fd);
		return NULL;
	}
	if (st.st_size > 1024 * 1024 * 1024 - 1)
	{
		pg_log_error("patch file \"%s\" is too large", path);
		close(fd);
		return NULL;
	}
	buf = pg_malloc(st.st_size + 1);
	while (len < (size_t) st.st_size)
	{
		ssize_t		n = read(fd, buf + len, st.st_size - len);

		if (n < 0)
		{
			pg_log_error("could not read file \"%s\": %m", path);
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
		pg_log_error("patch file \"%s\" contains a zero byte", path);
		pg_log_error_hint("Patch files are text in the database's encoding.");
		return NULL;
	}
	return buf;
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
		pg_log_error("could not create file \"%s\": %m", path);
		return false;
	}
	if (write(fd, text, len) != (ssize_t) len)
	{
		if (errno == 0)
			errno = ENOSPC;
		pg_log_error("could not write file \"%s\": %m", path);
		close(fd);
		(void) unlink(path);
		return false;
	}
	if (close(fd) != 0)
	{
		pg_log_error("could not close file \"%s\": %m", path);
		(void) unlink(path);
		return false;
	}
	return true;
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static int
compare_patches(const void *a, const void *b)
{
	int			na = ((const ZdFolderPatch *) a)->number;
	int			nb = ((const ZdFolderPatch *) b)->number;

	return (na > nb) - (na < nb);
}
