/*-------------------------------------------------------------------------
 *
 * zd.c
 *	  zd, the command-line client of zerodown: options and commands.
 *
 *	  zd [OPTION]... COMMAND [ARGS]
 *
 * zd reads a migrations folder on the client's disk, registers its patches
 * and aligns the database with them (align), shows what aligning would do
 * and what in it would hurt a live database (plan), checks that each
 * rollback undoes its build (check), queues a deployment for the background
 * worker and waits for it (deploy), shows the deployment gate (gate status)
 * and where the database stands (status), and starts a new patch (new).  It
 * exits with 0 on success, 1 when something failed (the folder, the
 * connection, a patch, a deployment, plan --strict findings) and 2 on a
 * usage error.
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

#include "check.h"
#include "deploy.h"
#include "folder.h"
#include "gate.h"
#include "run.h"
#include "zd.h"

#ifndef ZD_VERSION
#error "ZD_VERSION must be defined by the Makefile, from zerodown.control"
#endif

/* long options without a short form */
#define OPTION_NO_REGISTER	1000
#define OPTION_HELP			1001
#define OPTION_LOCK_PLAN	1002
#define OPTION_STRICT		1003
#define OPTION_WAIT			1004
#define OPTION_TIMEOUT		1005

static const char *progname;

static void usage(void);
static void usage_error(const char *fmt,...) pg_attribute_printf(1, 2) pg_attribute_noreturn();
static bool valid_target(const char *target);
static bool known_command(const char *command);
static void check_command_options(const ZdOptions *options,
								  const char *command);
static const char *target_argument(const char *command, char **args,
								   int nargs, int i);

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
		{"lock-plan", no_argument, NULL, OPTION_LOCK_PLAN},
		{"strict", no_argument, NULL, OPTION_STRICT},
		{"wait", no_argument, NULL, OPTION_WAIT},
		{"timeout", required_argument, NULL, OPTION_TIMEOUT},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, OPTION_HELP},
		{NULL, 0, NULL, 0}
	};
	ZdOptions	options = {0};
	const char *command;
	char	  **args;
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
			case OPTION_LOCK_PLAN:
				options.lock_plan = true;
				break;
			case OPTION_STRICT:
				options.strict = true;
				break;
			case OPTION_WAIT:
				options.wait = true;
				break;
			case OPTION_TIMEOUT:
				if (!valid_target(optarg) || atoi(optarg) == 0)
					usage_error("invalid timeout \"%s\": a timeout is a number of seconds, 1 or more",
								optarg);
				options.timeout = atoi(optarg);
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
	args = argv + optind + 1;
	nargs = argc - optind - 1;
	if (!known_command(command))
		usage_error("unknown command \"%s\"", command);
	check_command_options(&options, command);

	if (strcmp(command, "align") == 0 || strcmp(command, "plan") == 0 ||
		strcmp(command, "deploy") == 0)
	{
		const char *target;

		if (nargs > 1)
			usage_error("too many arguments for \"%s\": \"%s\"", command,
						args[1]);
		target = target_argument(command, args, nargs, 0);
		if (strcmp(command, "align") == 0)
			return ZdAlign(&options, target);
		if (strcmp(command, "plan") == 0)
			return ZdPlan(&options, target);
		return ZdDeploy(&options, target);
	}
	if (strcmp(command, "check") == 0)
	{
		const char *from;
		const char *to;

		if (nargs > 2)
			usage_error("too many arguments for \"check\": \"%s\"", args[2]);
		from = target_argument(command, args, nargs, 0);
		to = target_argument(command, args, nargs, 1);
		if (to != NULL && atoi(from) >= atoi(to))
			usage_error("FROM (%s) must be below TO (%s): check checks patches FROM+1 to TO",
						from, to);
		return ZdCheck(&options, from, to);
	}
	if (strcmp(command, "gate") == 0)
	{
		if (nargs < 1)
			usage_error("\"gate\" needs a subcommand: status");
		if (strcmp(args[0], "status") != 0)
			usage_error("unknown subcommand \"gate %s\": the subcommand is status",
						args[0]);
		if (nargs > 1)
			usage_error("too many arguments for \"gate status\": \"%s\"",
						args[1]);
		return ZdGateStatus(&options);
	}
	if (strcmp(command, "status") == 0)
	{
		if (nargs > 0)
			usage_error("too many arguments for \"status\": \"%s\"", args[0]);
		return ZdStatus(&options);
	}
	if (strcmp(command, "new") == 0)
	{
		if (nargs < 1)
			usage_error("\"new\" needs the name of the patch");
		if (nargs > 1)
			usage_error("too many arguments for \"new\": \"%s\"", args[1]);
		if (!ZdValidPatchName(args[0]))
			usage_error("invalid patch name \"%s\": use 1 to 200 letters, digits, underscores or hyphens",
						args[0]);
		return ZdNewPatch(options.directory, args[0]);
	}
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
		   "                   \"align TARGET\" would run, checked but not run, then the\n"
		   "                   lint findings: statements that would hurt a live\n"
		   "                   database, each with its file, line and safe recipe;\n"
		   "                   registering changes no schema\n");
	printf("  check [FROM [TO]]\n"
		   "                   register the folder's patches, then build, roll back and\n"
		   "                   build again each patch FROM+1 to TO (default: 0 to the\n"
		   "                   highest patch) in a transaction that is rolled back, and\n"
		   "                   show what each rollback fails to undo\n");
	printf("  deploy [TARGET]  register the folder's patches and queue a deployment to\n"
		   "                   patch TARGET (default: the highest patch) for the\n"
		   "                   background worker, which closes the deployment gate and\n"
		   "                   commits patch by patch; print its id\n");
	printf("  gate status      show the deployment gate (open, closing or closed), who\n"
		   "                   holds it, and the managed jobs running or waiting at it\n");
	printf("  status           show the patch the database stands at, every registered\n"
		   "                   patch, marking with \"!\" those changed since they were\n"
		   "                   applied, and the latest deployments\n");
	printf("  new NAME         create build/NNNNN_NAME.sql and rollback/NNNNN_NAME.sql,\n"
		   "                   numbered after the highest build file (no connection)\n");
	printf("\nOptions:\n");
	printf("  -C, --directory=DIR      migrations folder, holding build/, rollback/ and\n"
		   "                           verify/ (default: the current directory)\n");
	printf("      --no-register        align, plan, check or deploy with the patches the\n"
		   "                           database already has registered; the folder is not\n"
		   "                           read\n");
	printf("  -q, --quiet              print only errors, the id of a deployment and the\n"
		   "                           output of plan, check, gate status, status and new\n");
	printf("  -v, --verbose            print more, including each statement of a patch\n"
		   "                           that runs outside a transaction\n");
	printf("  -V, --version            output version information, then exit\n");
	printf("  -?, --help               show this help, then exit\n");
	printf("\nOptions for plan:\n");
	printf("      --lock-plan          also run the steps in a transaction that is rolled\n"
		   "                           back, and show how long each took and the locks it\n"
		   "                           took (it takes them for real, briefly)\n");
	printf("      --strict             exit 1 when there are lint findings\n");
	printf("\nOptions for deploy:\n");
	printf("      --wait               wait for the deployment to end, printing each change\n"
		   "                           of its state, with no transaction open meanwhile\n");
	printf("      --timeout=SECONDS    with --wait, stop waiting after SECONDS and exit 1;\n"
		   "                           the deployment goes on\n");
	printf("\nConnection options:\n");
	printf("  -h, --host=HOSTNAME      database server host or socket directory\n");
	printf("  -p, --port=PORT          database server port\n");
	printf("  -U, --username=USERNAME  user name to connect as\n");
	printf("  -d, --dbname=DBNAME      database to connect to, or a connection string\n");
	printf("  -w, --no-password        never prompt for password\n");
	printf("  -W, --password           force password prompt\n");
	printf("\nThe libpq environment variables (PGHOST, PGPORT, PGUSER, PGDATABASE,\n"
		   "PGPASSWORD, ...) apply.  TARGET, FROM and TO are patch numbers: 0 rolls every\n"
		   "patch back.  A patch file whose first line is \"-- zerodown:no-transaction\"\n"
		   "runs statement by statement outside a transaction (CREATE INDEX\n"
		   "CONCURRENTLY, ...).  Deployments run in the database named by zerodown.database.\n"
		   "With zerodown.max_replica_lag or zerodown.max_replica_lag_bytes set on the\n"
		   "server, align waits before each patch while a standby replays too far behind.\n");
	printf("\nExit status: 0 on success; 1 when the folder is invalid, the connection\n"
		   "fails, a patch fails, a standby does not catch up within\n"
		   "zerodown.replica_lag_timeout, plan --strict finds something, check finds a\n"
		   "rollback that does not undo its build, or the deployment waited for fails,\n"
		   "is cancelled or interrupted, or outlasts --timeout; 2 on a usage error.\n");
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
	fprintf(stderr, "Usage: %s [OPTION]... {align [TARGET] | plan [TARGET] | check [FROM [TO]] | deploy [TARGET] | gate status | status | new NAME}\n",
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

static bool
known_command(const char *command)
{
	static const char *const commands[] = {
		"align", "plan", "check", "deploy", "gate", "status", "new", NULL
	};
	int			i;

	for (i = 0; commands[i] != NULL; i++)
		if (strcmp(command, commands[i]) == 0)
			return true;
	return false;
}

/*
 * The options that belong to one command only: refuse them elsewhere, so
 * that a mistyped command line does not silently do something else.
 */
static void
check_command_options(const ZdOptions *options, const char *command)
{
	bool		plan = strcmp(command, "plan") == 0;
	bool		deploy = strcmp(command, "deploy") == 0;

	if (options->lock_plan && !plan)
		usage_error("option --lock-plan applies only to \"plan\"");
	if (options->strict && !plan)
		usage_error("option --strict applies only to \"plan\"");
	if (options->wait && !deploy)
		usage_error("option --wait applies only to \"deploy\"");
	if (options->timeout > 0 && !deploy)
		usage_error("option --timeout applies only to \"deploy --wait\"");
	if (options->timeout > 0 && !options->wait)
		usage_error("option --timeout needs --wait");
}

/* argument i as a patch number, or NULL when it is not given */
static const char *
target_argument(const char *command, char **args, int nargs, int i)
{
	const char *what = "target";
	const char *subject = "a target";

	if (i >= nargs)
		return NULL;
	if (strcmp(command, "check") == 0)
		what = subject = i == 0 ? "FROM" : "TO";
	if (!valid_target(args[i]))
		usage_error("invalid %s \"%s\": %s is a patch number, 0 or more",
					what, args[i], subject);
	return args[i];
}
