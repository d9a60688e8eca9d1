# The zd client without a database: --version, --help, the help of each
# command, and usage errors (exit 2), which name what is wrong and print the
# usage line of the command.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use File::Basename qw(dirname);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ZdClient;
use JSON::PP;

my ($rc, $out, $err);

#
# --version, --help and usage errors
#
my $control = slurp_file(dirname(__FILE__) . '/../../zerodown.control');
my ($version) = $control =~ /^default_version = '([^']+)'/m;
($rc, $out, $err) = zd('--version');
is($rc, 0, '--version exits 0');
is($out, "zd (zerodown) $version\n",
	'--version prints the default_version of zerodown.control');

# the version lives only in zerodown.control: META.json says the same
my $meta = JSON::PP::decode_json(slurp_file(dirname(__FILE__) . '/../../META.json'));
is($meta->{version}, $version, 'META.json releases the default_version of zerodown.control');
is($meta->{provides}{zerodown}{version}, $version,
	'META.json provides the extension at that version');

($rc, $out, $err) = zd('--help');
is($rc, 0, '--help exits 0');
foreach my $word (
	'align [TARGET]', 'plan [TARGET]', 'check [FROM [TO]]',
	'deploy [TARGET]', 'gate status', 'status', 'new NAME',
	'--directory=DIR', '--no-register', '--quiet', '--verbose',
	'--lock-plan', '--strict', '--wait', '--timeout=SECONDS',
	'--host=HOSTNAME', '--port=PORT', '--username=USERNAME',
	'--dbname=DBNAME', '--no-password', '--password',
	'--version', '--help', 'registering changes no schema')
{
	like($out, qr/\Q$word\E/, "--help mentions $word");
}
($rc, $out, $err) = zd('-?');
is($rc, 0, '-? exits 0');
like($out, qr/^Usage:/m, '-? prints the help');

# each case: the arguments, the error, what it is, and the command whose
# usage line follows (undef: the usage of zd as a whole)
foreach my $case (
	[ [], qr/no command given/, 'no command', undef ],
	[ [ '--bogus', 'status' ], qr/unrecognized option/, 'unknown option', undef ],
	[ ['frobnicate'], qr/unknown command "frobnicate"/, 'unknown command', undef ],
	[ [ 'status', 'extra' ], qr/too many arguments/, 'extra argument', 'status' ],
	[ [ 'align', '1', '2' ], qr/too many arguments/, 'two targets', 'align' ],
	[ [ 'align', 'abc' ], qr/invalid target "abc"/, 'target not a number', 'align' ],
	[ [ 'plan', '3x' ], qr/invalid target "3x"/, 'target with a suffix', 'plan' ],
	[ [ 'align', '99999999999' ], qr/invalid target/, 'target too large', 'align' ],
	[ [ 'align', '-1' ], qr/invalid option/, 'negative target', undef ],
	[ ['new'], qr/needs the name of the patch/, 'new without a name', 'new' ],
	[ [ 'new', 'bad name' ], qr/invalid patch name "bad name"/,
		'new with a bad name', 'new' ],
	[ [ 'check', 'a' ], qr/invalid FROM "a"/, 'check with a bad FROM', 'check' ],
	[ [ 'check', '0', '2x' ], qr/invalid TO "2x"/, 'check with a bad TO', 'check' ],
	[ [ 'check', '1', '2', '3' ], qr/too many arguments for "check"/,
		'check with three arguments', 'check' ],
	[ [ 'check', '3', '1' ], qr/FROM \(3\) must be below TO \(1\)/,
		'check with FROM above TO', 'check' ],
	[ [ 'deploy', '1', '2' ], qr/too many arguments for "deploy"/,
		'deploy with two targets', 'deploy' ],
	[ [ 'deploy', 'x' ], qr/invalid target "x"/, 'deploy with a bad target', 'deploy' ],
	[ ['gate'], qr/"gate" needs a subcommand: status/, 'gate alone', 'gate' ],
	[ [ 'gate', 'open' ], qr/unknown subcommand "gate open"/,
		'gate with an unknown subcommand', 'gate' ],
	[ [ 'gate', 'status', 'x' ], qr/too many arguments for "gate status"/,
		'gate status with an argument', 'gate' ],
	[ [ '--wait', 'align' ], qr/option --wait applies only to "deploy"/,
		'--wait with align', 'align' ],
	[ [ 'plan', '--timeout=5' ], qr/option --timeout applies only to "deploy --wait"/,
		'--timeout with plan', 'plan' ],
	[ [ 'deploy', '--timeout=5' ], qr/option --timeout needs --wait/,
		'--timeout without --wait', 'deploy' ],
	[ [ 'deploy', '--wait', '--timeout=0' ], qr/--timeout must be in range 1\.\.\d+/,
		'a zero timeout', undef ],
	[ [ 'deploy', '--wait', '--timeout=soon' ],
		qr/invalid value "soon" for option --timeout/,
		'a timeout that is not a number', undef ],
	[ [ '--lock-plan', 'align' ], qr/option --lock-plan applies only to "plan"/,
		'--lock-plan with align', 'align' ],
	[ [ 'deploy', '--strict' ], qr/option --strict applies only to "plan"/,
		'--strict with deploy', 'deploy' ],
	[ [ 'gate', 'status', '--json' ],
		qr/option --json applies only to "align", "plan", "check", "deploy", "status"/,
		'--json with gate status', 'gate' ],
	[ [ 'status', '--format=yaml' ], qr/invalid value "yaml" for option --format/,
		'an unknown format', undef ],
	[ [ 'help', 'frobnicate' ], qr/unknown command "frobnicate"/,
		'help for an unknown command', 'help' ],
	[ [ '--wait', 'frobnicate' ], qr/unknown command "frobnicate"/,
		'an unknown command comes before its options', undef ])
{
	my ($args, $message, $what, $command) = @$case;
	($rc, $out, $err) = zd(@$args);
	is($rc, 2, "$what: exit 2");
	like($err, $message, "$what: says what is wrong");
	if (defined $command)
	{
		like($err, qr/^Usage: zd \[OPTION\]\.\.\. \Q$command\E\b.*\nTry "zd $command --help" for more information\.$/m,
			"$what: prints the usage of $command");
	}
	else
	{
		like($err, qr/^Usage: zd .*\nTry "zd --help" for more information\.$/m,
			"$what: prints the usage");
	}
}

#
# the help of each command: "zd help COMMAND", "zd COMMAND --help" and
# "zd COMMAND -?" print the same, with the options the command takes
#
my %command_options = (
	align => [ '--json' ],
	plan => [ '--lock-plan', '--strict', '--json' ],
	check => [ '--json' ],
	deploy => [ '--wait', '--timeout=SECONDS', '--json' ],
	status => [ '--json' ],
	gate => [],
	new => [],
	help => []);
my @all_options = ('--lock-plan', '--strict', '--wait', '--timeout=SECONDS', '--json');
foreach my $command (sort keys %command_options)
{
	my ($help_rc, $help_out) = zd('help', $command);
	is($help_rc, 0, "help $command exits 0");
	like($help_out, qr/^zd $command: \S.*\.\n\nUsage: zd \[OPTION\]\.\.\. $command\b/,
		"help $command starts with its summary and usage line");
	like($help_out, qr/see "zd --help"/, "help $command points to the common options");
	foreach my $option (@all_options)
	{
		if (grep { $_ eq $option } @{ $command_options{$command} })
		{
			like($help_out, qr/^\s+\Q$option\E/m, "help $command shows $option");
		}
		else
		{
			unlike($help_out, qr/^\s+\Q$option\E/m, "help $command does not show $option");
		}
	}
	($rc, $out, $err) = zd($command, '--help');
	is($rc, 0, "$command --help exits 0");
	is($out, $help_out, "$command --help prints what help $command prints");
	($rc, $out, $err) = zd('-C', '/nonexistent', $command, '-?');
	is($rc, 0, "$command -? exits 0");
	is($out, $help_out, "$command -? prints what help $command prints");
}
($rc, $out, $err) = zd('help');
is($rc, 0, 'help alone exits 0');
is($out, (zd('--help'))[1], 'help alone prints what --help prints');
like($out, qr/^  help \[COMMAND\]\s+\S/m, '--help lists help COMMAND');
like($out, qr/^\s+--json, --format=json$/m, '--help lists --json');
like($out, qr/^\s+-e, --echo\s/m, '--help lists --echo');

done_testing();
