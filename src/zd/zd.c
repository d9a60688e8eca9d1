/*-------------------------------------------------------------------------
 *
 * zd.c
 *	  zd, the command-line client of zerodown: options, the command table,
 *	  and the help.
 *
 *	  zd [OPTION]... COMMAND [ARGS]
 *
 * zd reads a migrations folder on the client's disk, registers its patches
 * and aligns the database with them.  Each command lives in its own file
 * (cmd_*.c) and describes itself in a CliCommand entry; the table below
 * lists them, and main, "zd --help", "zd help COMMAND" and
 * "zd COMMAND --help" all read it.  zd connects, prompts for a password and
 * cancels on Ctrl-C the way PostgreSQL's own client programs do, with
 * libpgfeutils.  It exits with 0 on success, 1 when something failed (the
 * folder, the connection, a patch, a deployment, plan --strict findings,
 * Ctrl-C) and 2 on a usage error.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <limits.h>
#include <time.h>
#include <unistd.h>

#include "common/logging.h"
#include "common/pg_prng.h"
#include "fe_utils/cancel.h"
#include "fe_utils/option_utils.h"
#include "getopt_long.h"

#include "output.h"
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
#define OPTION_JSON			1006
#define OPTION_FORMAT		1007

/* an option that only some commands take (CliCommand.options) */
typedef struct CommandOption
{
	int			flag;			/* ZD_OPT_* */
	const char *name;			/* "--lock-plan" */
	int			needs;			/* a ZD_OPT_* it needs, or 0 */
	const char *help;			/* its line(s) in the help */
} CommandOption;

static void parse_options(int argc, char **argv, CliOptions *options,
						  int *given, bool *help);
static int	run_help(const CliOptions *options, int nargs, char **args);
static void usage(void);
static void command_usage(const CliCommand *command);
static void usage_line(FILE *out, const CliCommand *command);
static const CliCommand *find_command(const char *name);
static void check_command_options(const CliCommand *command, int given);
static char *commands_taking(int flag, const char *separator);

static const char *progname;

static const CliCommand help_command = {
	.name = "help",
	.arguments = "[COMMAND]",
	.summary = "show this help, or the help of one command",
	.description =
	"Shows the commands and options of zd, or with COMMAND what the command\n"
	"does and the options it takes (as \"zd COMMAND --help\" does).",
	.options = 0,
	.run = run_help
};

/* every command, in the order the help lists them */
static const CliCommand *const commands[] = {
	&CliAlignCommand,
	&CliPlanCommand,
	&CliCheckCommand,
	&CliDeployCommand,
	&CliStatusCommand,
	&CliGateCommand,
	&CliNewCommand,
	&help_command,
	NULL
};

static const CommandOption command_options[] = {
	{ZD_OPT_LOCK_PLAN, "--lock-plan", 0,
		"      --lock-plan          also run the steps in a transaction that is rolled\n"
		"                           back, and show how long each took and the locks it\n"
	"                           took (it takes them for real, briefly)\n"},
	{ZD_OPT_STRICT, "--strict", 0,
	"      --strict             exit 1 when there are lint findings\n"},
	{ZD_OPT_WAIT, "--wait", 0,
		"      --wait               wait for the deployment to end, printing each step\n"
		"                           as it starts and ends and the backfill's progress,\n"
	"                           with no transaction open meanwhile\n"},
	{ZD_OPT_TIMEOUT, "--timeout", ZD_OPT_WAIT,
		"      --timeout=SECONDS    with --wait, stop waiting after SECONDS and exit 1;\n"
	"                           the deployment goes on\n"},
	{ZD_OPT_JSON, "--json", 0,
		"      --json, --format=json\n"
		"                           print one JSON document on standard output instead\n"
		"                           of text (its keys are in the README); errors still\n"
	"                           go to standard error too\n"},
	{0, NULL, 0, NULL}
};

int
main(int argc, char **argv)
{
	CliOptions	options = {0};
	const CliCommand *command;
	bool		help = false;
	int			given = 0;		/* the ZD_OPT_* options given */
	int			code;

	pg_logging_init(argv[0]);
	progname = get_progname(argv[0]);
	set_pglocale_pgservice(argv[0], PG_TEXTDOMAIN("zd"));
	pg_prng_seed(&pg_global_prng_state,
				 (uint64) time(NULL) ^ ((uint64) getpid() << 32));

	parse_options(argc, argv, &options, &given, &help);

	if (optind >= argc)
	{
		if (help)
		{
			usage();
			exit(ZD_EXIT_OK);
		}
		CliUsageError(NULL, "no command given");
	}
	command = find_command(argv[optind]);
	if (command == NULL)
		CliUsageError(NULL, "unknown command \"%s\"", argv[optind]);
	if (help)
	{
		command_usage(command);
		exit(ZD_EXIT_OK);
	}
	check_command_options(command, given);

	/* Ctrl-C cancels the statement running on the server (session.c) */
	setup_cancel_handler(NULL);

	CliOutputBegin(command->name, options.json);
	code = command->run(&options, argc - optind - 1, argv + optind + 1);
	CliOutputEnd(code);
	return code;
}

/*
 * The options, wherever they stand on the command line (getopt_long
 * permutes): *given gets the ZD_OPT_* of those only some commands take,
 * *help whether --help or -? was given.  Usage errors exit.
 */
static void
parse_options(int argc, char **argv, CliOptions *options, int *given,
			  bool *help)
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
		{"echo", no_argument, NULL, 'e'},
		{"quiet", no_argument, NULL, 'q'},
		{"verbose", no_argument, NULL, 'v'},
		{"json", no_argument, NULL, OPTION_JSON},
		{"format", required_argument, NULL, OPTION_FORMAT},
		{"lock-plan", no_argument, NULL, OPTION_LOCK_PLAN},
		{"strict", no_argument, NULL, OPTION_STRICT},
		{"wait", no_argument, NULL, OPTION_WAIT},
		{"timeout", required_argument, NULL, OPTION_TIMEOUT},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, OPTION_HELP},
		{NULL, 0, NULL, 0}
	};
	int			c;
	int			i;

	options->directory = ".";
	options->register_patches = true;
	options->cparams.prompt_password = TRI_DEFAULT;

	/* -? anywhere before "--" asks for help, as --help does */
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "-?") == 0)
		{
			*help = true;
			argv[i] = "--help";
		}

	while ((c = getopt_long(argc, argv, "h:p:U:d:wWC:eqvV", long_options,
							NULL)) != -1)
	{
		switch (c)
		{
			case 'h':
				options->cparams.pghost = optarg;
				break;
			case 'p':
				options->cparams.pgport = optarg;
				break;
			case 'U':
				options->cparams.pguser = optarg;
				break;
			case 'd':
				options->cparams.dbname = optarg;
				break;
			case 'w':
				options->cparams.prompt_password = TRI_NO;
				break;
			case 'W':
				options->cparams.prompt_password = TRI_YES;
				break;
			case 'C':
				options->directory = optarg;
				options->directory_given = true;
				break;
			case OPTION_NO_REGISTER:
				options->register_patches = false;
				break;
			case 'e':
				options->echo = true;
				break;
			case 'q':
				options->quiet = true;
				break;
			case 'v':
				options->verbose = true;
				break;
			case OPTION_JSON:
				options->json = true;
				*given |= ZD_OPT_JSON;
				break;
			case OPTION_FORMAT:
				if (strcmp(optarg, "json") == 0)
				{
					options->json = true;
					*given |= ZD_OPT_JSON;
				}
				else if (strcmp(optarg, "text") == 0)
				{
					options->json = false;
					*given &= ~ZD_OPT_JSON;
				}
				else
					CliUsageError(NULL, "invalid value \"%s\" for option --format: the formats are text and json",
								  optarg);
				break;
			case OPTION_LOCK_PLAN:
				options->lock_plan = true;
				*given |= ZD_OPT_LOCK_PLAN;
				break;
			case OPTION_STRICT:
				options->strict = true;
				*given |= ZD_OPT_STRICT;
				break;
			case OPTION_WAIT:
				options->wait = true;
				*given |= ZD_OPT_WAIT;
				break;
			case OPTION_TIMEOUT:
				if (!option_parse_int(optarg, "--timeout", 1, INT_MAX,
									  &options->timeout))
					CliUsageError(NULL, NULL);
				*given |= ZD_OPT_TIMEOUT;
				break;
			case 'V':
				puts("zd (zerodown) " ZD_VERSION);
				exit(ZD_EXIT_OK);
			case OPTION_HELP:
				*help = true;
				break;
			default:
				/* getopt_long already said what is wrong */
				CliUsageError(NULL, NULL);
		}
	}

}

/*
 * Report a usage error (fmt NULL: already reported) and exit 2.  command is
 * NULL for the command line as a whole.
 */
void
CliUsageError(const char *command, const char *fmt,...)
{
	const CliCommand *entry = command ? find_command(command) : NULL;

	if (fmt != NULL)
	{
		va_list		ap;
		char		message[1024];

		va_start(ap, fmt);
		vsnprintf(message, sizeof(message), fmt, ap);
		va_end(ap);
		pg_log_error("%s", message);
	}
	if (entry != NULL)
	{
		usage_line(stderr, entry);
		fprintf(stderr, "Try \"%s %s --help\" for more information.\n",
				progname, entry->name);
	}
	else
	{
		fprintf(stderr, "Usage: %s [OPTION]... COMMAND [ARGS]\n", progname);
		fprintf(stderr, "Try \"%s --help\" for more information.\n", progname);
	}
	exit(ZD_EXIT_USAGE);
}

/*
 * A patch number: decimal digits only, 0 to INT_MAX.  Returns arg, or
 * exits with a usage error naming what it is ("target", "FROM").
 */
const char *
CliPatchNumberArgument(const char *command, const char *what, const char *arg)
{
	const char *p;
	long		value = 0;
	bool		valid = *arg != '\0';

	for (p = arg; valid && *p; p++)
	{
		valid = *p >= '0' && *p <= '9';
		value = value * 10 + (*p - '0');
		valid = valid && value <= INT_MAX;
	}
	if (!valid)
		CliUsageError(command, "invalid %s \"%s\": %s is a patch number, 0 or more",
					  what, arg,
					  strcmp(what, "target") == 0 ? "a target" : what);
	return arg;
}

/* at most max arguments */
void
CliCheckArguments(const char *command, int nargs, char **args, int max)
{
	if (nargs > max)
		CliUsageError(command, "too many arguments for \"%s\": \"%s\"",
					  command, args[max]);
}

/* zd help [COMMAND] */
static int
run_help(const CliOptions *options, int nargs, char **args)
{
	const CliCommand *command;

	CliCheckArguments("help", nargs, args, 1);
	if (nargs == 0)
	{
		usage();
		return ZD_EXIT_OK;
	}
	command = find_command(args[0]);
	if (command == NULL)
		CliUsageError("help", "unknown command \"%s\"", args[0]);
	command_usage(command);
	return ZD_EXIT_OK;
}

static const CliCommand *
find_command(const char *name)
{
	int			i;

	for (i = 0; commands[i] != NULL; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

/*
 * The options that belong to some commands only: refuse them elsewhere, so
 * that a mistyped command line does not silently do something else.
 */
static void
check_command_options(const CliCommand *command, int given)
{
	int			i;

	for (i = 0; command_options[i].flag != 0; i++)
	{
		const CommandOption *option = &command_options[i];

		if ((given & option->flag) == 0)
			continue;
		if ((command->options & option->flag) == 0)
		{
			char	   *where = commands_taking(option->flag, "\", \"");

			if (option->needs != 0)
			{
				int			j;

				for (j = 0; command_options[j].flag != option->needs; j++)
					;
				where = psprintf("%s %s", where, command_options[j].name);
			}
			CliUsageError(command->name, "option %s applies only to \"%s\"",
						  option->name, where);
		}
		if (option->needs != 0 && (given & option->needs) == 0)
		{
			int			j;

			for (j = 0; command_options[j].flag != option->needs; j++)
				;
			CliUsageError(command->name, "option %s needs %s", option->name,
						  command_options[j].name);
		}
	}
}

/* the names of the commands that take an option, joined by separator */
static char *
commands_taking(int flag, const char *separator)
{
	char	   *names = NULL;
	int			i;

	for (i = 0; commands[i] != NULL; i++)
	{
		if ((commands[i]->options & flag) == 0)
			continue;
		names = names ? psprintf("%s%s%s", names, separator, commands[i]->name) :
			pg_strdup(commands[i]->name);
	}
	return names ? names : pg_strdup("");
}

static void
usage_line(FILE *out, const CliCommand *command)
{
	fprintf(out, "Usage: %s [OPTION]... %s%s%s\n", progname, command->name,
			command->arguments[0] ? " " : "", command->arguments);
}

static void
usage(void)
{
	int			i;

	printf("%s aligns a PostgreSQL database with the numbered patches of a migrations\n"
		   "folder, using the zerodown extension.\n\n", progname);
	printf("Usage:\n");
	printf("  %s [OPTION]... COMMAND [ARGS]\n\n", progname);
	printf("Commands:\n");
	for (i = 0; commands[i] != NULL; i++)
	{
		char	   *synopsis = psprintf("%s%s%s", commands[i]->name,
										commands[i]->arguments[0] ? " " : "",
										commands[i]->arguments);

		if (strlen(synopsis) <= 18)
			printf("  %-18s %s\n", synopsis, commands[i]->summary);
		else
			printf("  %s\n  %-18s %s\n", synopsis, "", commands[i]->summary);
	}
	printf("\n\"%s help COMMAND\" or \"%s COMMAND --help\" says more about a command.\n",
		   progname, progname);
	printf("\nOptions:\n");
	printf("  -C, --directory=DIR      migrations folder, holding build/, rollback/ and\n"
		   "                           verify/ (default: the current directory)\n");
	printf("      --no-register        align, plan, check or deploy with the patches the\n"
		   "                           database already has registered; the folder is not\n"
		   "                           read\n");
	printf("  -e, --echo               show the commands sent to the server\n");
	printf("  -q, --quiet              print only errors, the id of a deployment and how\n"
		   "                           it ended (no progress), and the output of plan,\n"
		   "                           check, gate status, status and new\n");
	printf("  -v, --verbose            print more, including each statement of a patch\n"
		   "                           that runs outside a transaction\n");
	printf("  -V, --version            output version information, then exit\n");
	printf("  -?, --help               show this help, then exit\n");
	printf("\nOptions of some commands:\n");
	for (i = 0; command_options[i].flag != 0; i++)
		printf("%s%27s(%s)\n", command_options[i].help, "",
			   commands_taking(command_options[i].flag, ", "));
	printf("\nConnection options:\n");
	printf("  -h, --host=HOSTNAME      database server host or socket directory\n");
	printf("  -p, --port=PORT          database server port\n");
	printf("  -U, --username=USERNAME  user name to connect as\n");
	printf("  -d, --dbname=DBNAME      database to connect to, or a connection string\n");
	printf("  -w, --no-password        never prompt for password\n");
	printf("  -W, --password           force password prompt\n");
	printf("\nThe libpq environment variables (PGHOST, PGPORT, PGUSER, PGDATABASE,\n"
		   "PGPASSWORD, ...) apply.  TARGET, FROM and TO are patch numbers: 0 rolls every\n"
		   "patch back.  plan and check change no schema: registering changes no schema.\n"
		   "A patch file whose first line is \"-- zerodown:no-transaction\" runs statement\n"
		   "by statement outside a transaction (CREATE INDEX CONCURRENTLY, ...); a\n"
		   "rollback file whose first line is \"-- zerodown:irreversible\" declares its\n"
		   "patch irreversible.  Deployments run in the database named by\n"
		   "zerodown.database.  With zerodown.max_replica_lag or\n"
		   "zerodown.max_replica_lag_bytes set on the server,\n"
		   "align waits before each patch while a standby replays too far behind.\n"
		   "Ctrl-C cancels the statement running on the server.\n");
	printf("\nExit status: 0 on success; 1 when the folder is invalid, the connection\n"
		   "fails, a patch fails, a standby does not catch up within\n"
		   "zerodown.replica_lag_timeout, plan --strict finds something, check finds a\n"
		   "rollback that does not undo its build, the deployment waited for fails, is\n"
		   "cancelled or interrupted, or outlasts --timeout, or zd is interrupted\n"
		   "(Ctrl-C); 2 on a usage error.\n");
}

/* zd help COMMAND, zd COMMAND --help */
static void
command_usage(const CliCommand *command)
{
	int			i;
	bool		any = false;

	printf("%s %s: %s.\n\n", progname, command->name, command->summary);
	usage_line(stdout, command);
	printf("\n%s\n", command->description);
	for (i = 0; command_options[i].flag != 0; i++)
	{
		if ((command->options & command_options[i].flag) == 0)
			continue;
		if (!any)
			printf("\nOptions of %s:\n", command->name);
		any = true;
		printf("%s", command_options[i].help);
	}
	printf("\nThe connection options, -C, --no-register, -e, -q and -v apply as for\n"
		   "every command: see \"%s --help\".\n", progname);
}
