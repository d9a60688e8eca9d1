/*-------------------------------------------------------------------------
 *
 * zd.c
 *	  zd, the command-line client of zerodown: options and commands.
 *
 *	  zd [OPTION]... COMMAND [ARGS]
 *
 * zd reads a migrations folder on the client's disk, registers its patches
 * and aligns the database with them (align), shows what aligning would do
 * (plan), shows where the database stands (status), and starts a new patch
 * (new).  It exits with 0 on success, 1 when something failed (the folder,
 * the connection, a patch) and 2 on a usage error.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <limits.h>
#include <time.h>
#include <unistd.h>

#include "common/logging.h"
#include "common/pg_prng.h"
#include "getopt_long.h"

#include "folder.h"
#include "run.h"
#include "zd.h"

#ifndef ZD_VERSION
#error "ZD_VERSION must be defined by the Makefile, from zerodown.control"
#endif

/* long options without a short form */
#define OPTION_NO_REGISTER	1000
#define OPTION_HELP			1001

static const char *progname;

static void usage(void);
static void usage_error(const char *fmt,...) pg_attribute_printf(1, 2) pg_attribute_noreturn();
static bool valid_target(const char *target);

int
main(int argc, char **argv)
{
	static struct option long_options[] = {
		{"host", required_argument, NULL, 'h'},
		{"port", required_argument, NULL, 'p'},
		{"username", required_argument, NULL, 'U'},
		{"dbname", required_argument, NULL, 'd'},
		{"no-password", no_argument, NULL, 'w'},
		{"password", no_argument, NULL, 'W'},
		{"directory", required_argument, NULL, 'C'},
		{"no-register", no_argument, NULL, OPTION_NO_REGISTER},
		{"quiet", no_argument, NULL, 'q'},
		{"verbose", no_argument, NULL, 'v'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, OPTION_HELP},
		{NULL, 0, NULL, 0}
	};
	ZdOptions	options = {0};
	const char *command;
	int			nargs;
	int			c;

	pg_logging_init(argv[0]);
	progname = get_progname(argv[0]);
	set_pglocale_pgservice(argv[0], PG_TEXTDOMAIN("zd"));
	pg_prng_seed(&pg_global_prng_state,
				 (uint64) time(NULL) ^ ((uint64) getpid() << 32));

	options.directory = ".";
	options.register_patches = true;

	if (argc > 1 && strcmp(argv[1], "-?") == 0)
	{
		usage();
		exit(ZD_EXIT_OK);
	}

	while ((c = getopt_long(argc, argv, "h:p:U:d:wWC:qvV", long_options,
							NULL)) != -1)
	{
		switch (c)
		{
			case 'h':
				options.host = optarg;
				break;
			case 'p':
				options.port = optarg;
				break;
			case 'U':
				options.username = optarg;
				break;
			case 'd':
				options.dbname = optarg;
				break;
			case 'w':
				options.prompt = ZD_PROMPT_NEVER;
				break;
			case 'W':
				options.prompt = ZD_PROMPT_ALWAYS;
				break;
			case 'C':
				options.directory = optarg;
				break;
			case OPTION_NO_REGISTER:
				options.register_patches = false;
				break;
			case 'q':
				options.quiet = true;
				break;
			case 'v':
				options.verbose = true;
				break;
			case 'V':
				puts("zd (zerodown) " ZD_VERSION);
				exit(ZD_EXIT_OK);
			case OPTION_HELP:
				usage();
				exit(ZD_EXIT_OK);
			default:
				/* getopt_long already said what is wrong */
				usage_error(NULL);
		}
	}

	if (optind >= argc)
		usage_error("no command given");
	command = argv[optind];
	nargs = argc - optind - 1;

	if (strcmp(command, "align") == 0 || strcmp(command, "plan") == 0)
	{
		const char *target = nargs >= 1 ? argv[optind + 1] : NULL;

		if (nargs > 1)
			usage_error("too many arguments for \"%s\": \"%s\"", command,
						argv[optind + 2]);
		if (target != NULL && !valid_target(target))
			usage_error("invalid target \"%s\": a target is a patch number, 0 or more",
						target);
		if (strcmp(command, "align") == 0)
			return ZdAlign(&options, target);
		return ZdPlan(&options, target);
	}
	if (strcmp(command, "status") == 0)
	{
		if (nargs > 0)
			usage_error("too many arguments for \"status\": \"%s\"",
						argv[optind + 1]);
		return ZdStatus(&options);
	}
	if (strcmp(command, "new") == 0)
	{
		if (nargs < 1)
			usage_error("\"new\" needs the name of the patch");
		if (nargs > 1)
			usage_error("too many arguments for \"new\": \"%s\"",
						argv[optind + 2]);
		if (!ZdValidPatchName(argv[optind + 1]))
			usage_error("invalid patch name \"%s\": use 1 to 200 letters, digits, underscores or hyphens",
						argv[optind + 1]);
		return ZdNewPatch(options.directory, argv[optind + 1]);
	}
	usage_error("unknown command \"%s\"", command);
	return ZD_EXIT_USAGE;		/* keep compiler quiet */
}

static void
usage(void)
{
	printf("%s aligns a PostgreSQL database with the numbered patches of a migrations\n"
		   "folder, using the zerodown extension.\n\n", progname);
	printf("Usage:\n");
	printf("  %s [OPTION]... COMMAND [ARGS]\n\n", progname);
	printf("Commands:\n");
	printf("  align [TARGET]   register the folder's patches, then build or roll back,\n"
		   "                   one patch per transaction, until the database stands at\n"
		   "                   patch TARGET (default: the highest patch); a failure\n"
		   "                   leaves the database at the last good patch\n");
	printf("  plan [TARGET]    register the folder's patches and show the steps that\n"
		   "                   \"align TARGET\" would run, checked but not run;\n"
		   "                   registering changes no schema\n");
	printf("  status           show the patch the database stands at and every\n"
		   "                   registered patch, marking with \"!\" those changed since\n"
		   "                   they were applied\n");
	printf("  new NAME         create build/NNNNN_NAME.sql and rollback/NNNNN_NAME.sql,\n"
		   "                   numbered after the highest build file (no connection)\n");
	printf("\nOptions:\n");
	printf("  -C, --directory=DIR      migrations folder, holding build/, rollback/ and\n"
		   "                           verify/ (default: the current directory)\n");
	printf("      --no-register        align or plan with the patches the database already\n"
		   "                           has registered; the folder is not read\n");
	printf("  -q, --quiet              print only errors and the output of plan, status\n"
		   "                           and new\n");
	printf("  -v, --verbose            print more, including each statement of a patch\n"
		   "                           that runs outside a transaction\n");
	printf("  -V, --version            output version information, then exit\n");
	printf("  -?, --help               show this help, then exit\n");
	printf("\nConnection options:\n");
	printf("  -h, --host=HOSTNAME      database server host or socket directory\n");
	printf("  -p, --port=PORT          database server port\n");
	printf("  -U, --username=USERNAME  user name to connect as\n");
	printf("  -d, --dbname=DBNAME      database to connect to, or a connection string\n");
	printf("  -w, --no-password        never prompt for password\n");
	printf("  -W, --password           force password prompt\n");
	printf("\nThe libpq environment variables (PGHOST, PGPORT, PGUSER, PGDATABASE,\n"
		   "PGPASSWORD, ...) apply.  TARGET is a patch number: 0 rolls every patch back.\n"
		   "A patch file whose first line is \"-- zerodown:no-transaction\" runs statement\n"
		   "by statement outside a transaction (CREATE INDEX CONCURRENTLY, ...).\n");
	printf("\nExit status: 0 on success; 1 when the folder is invalid, the connection\n"
		   "fails or a patch fails; 2 on a usage error.\n");
}

/* report a usage error (fmt NULL: getopt_long reported it) and exit 2 */
static void
usage_error(const char *fmt,...)
{
	if (fmt != NULL)
	{
		va_list		ap;
		char		message[1024];

		va_start(ap, fmt);
		vsnprintf(message, sizeof(message), fmt, ap);
		va_end(ap);
		pg_log_error("%s", message);
	}
	fprintf(stderr, "Usage: %s [OPTION]... {align [TARGET] | plan [TARGET] | status | new NAME}\n",
			progname);
	fprintf(stderr, "Try \"%s --help\" for more information.\n", progname);
	exit(ZD_EXIT_USAGE);
}

/* a patch number: decimal digits only, 0 to INT_MAX */
static bool
valid_target(const char *target)
{
	const char *p;
	long		value = 0;

	if (*target == '\0')
		return false;
	for (p = target; *p; p++)
	{
		if (*p < '0' || *p > '9')
			return false;
		value = value * 10 + (*p - '0');
		if (value > INT_MAX)
			return false;
	}
	return true;
}
