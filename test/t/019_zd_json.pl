# --json (issue 11 item 13): align, plan and check print one JSON document
# on stdout, success or not, with the keys the README documents; errors
# still go to stderr.  --echo shows the queries (on stderr with --json).
# status and deploy are in 017 and 011.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use File::Basename qw(dirname);
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ZdClient;

my $node = zd_node('zd_json');
my @conn = ('-h', $node->host, '-p', $node->port, '-d', new_db('json'));
my ($rc, $out, $err);

my %files = (
	'build/00001_create_users.sql' =>
	  "CREATE TABLE users (id int PRIMARY KEY, email text);\nINSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 100) g;\n",
	'rollback/00001_create_users.sql' => "DROP TABLE users;\n",
	'build/00002_index_email.sql' => "CREATE INDEX users_email_idx ON users (email);\n",
	'rollback/00002_index_email.sql' => "DROP INDEX users_email_idx;\n");
my $dir = folder(%files);

# the document, or undef after a failed test
sub document
{
	my ($what) = @_;
	my $doc = eval { JSON::PP::decode_json($out) };
	ok(defined $doc, "$what prints one JSON document") or diag("$@\nstdout: $out");
	return $doc // {};
}

sub common_keys
{
	my ($doc, $command, $code, $what) = @_;
	is($doc->{command}, $command, "$what: command");
	is($doc->{exit_code}, $code, "$what: exit_code");
	ok(($doc->{ok} ? 1 : 0) == ($code == 0 ? 1 : 0), "$what: ok");
	like($doc->{zd}, qr/^\d+\.\d+\.\d+$/, "$what: the version of zd");
	is(ref $doc->{$_}, 'ARRAY', "$what: $_ is an array") foreach qw(errors warnings notices);
}

#
# plan: steps and findings
#
($rc, $out, $err) = zd(@conn, '-C', $dir, '--json', 'plan');
is($rc, 0, 'plan --json exits 0');
my $doc = document('plan --json');
common_keys($doc, 'plan', 0, 'plan');
is($doc->{database_at}, 0, 'plan: database_at');
is($doc->{target}, 2, 'plan: target');
is($doc->{registered}, 2, 'plan: registered');
is_deeply($doc->{unregistered}, [], 'plan: unregistered');
is_deeply([ map { "$_->{step} $_->{number} $_->{name} $_->{direction} $_->{statements}" } @{ $doc->{steps} } ],
	[ '1 1 create_users build 2', '2 2 index_email build 1' ], 'plan: steps');
ok($doc->{steps}[0]{transactional} && $doc->{steps}[0]{file} =~ m{/build/00001_create_users\.sql$},
	'plan: a step is transactional and names its file');
is($doc->{lock_plan}, undef, 'plan: no lock plan without --lock-plan');
is_deeply($doc->{findings}, [], 'plan: no finding on a table that does not exist yet');
unlike($out, qr/^zd: /m, 'plan --json prints no text on stdout');

($rc, $out, $err) = zd(@conn, '-C', $dir, '--format=json', 'align', '1');
is($rc, 0, 'align --format=json exits 0');
$doc = document('align --format=json');
common_keys($doc, 'align', 0, 'align');
is($doc->{from}, 0, 'align: from');
is($doc->{target}, 1, 'align: target');
is($doc->{database_at}, 1, 'align: database_at');
is(scalar @{ $doc->{steps} }, 1, 'align: one step');
is_deeply(
	{ map { $_ => $doc->{steps}[0]{$_} } qw(number name direction attempts) },
	{ number => 1, name => 'create_users', direction => 'build', attempts => 1 },
	'align: the step');
like($doc->{steps}[0]{milliseconds}, qr/^\d+$/, 'align: the step\'s duration');

($rc, $out, $err) = zd(@conn, '-C', $dir, '--json', 'plan', '--lock-plan');
is($rc, 0, 'plan --json --lock-plan exits 0');
$doc = document('plan --json --lock-plan');
is(scalar @{ $doc->{findings} }, 1, 'plan: one finding');
is_deeply(
	{ map { $_ => $doc->{findings}[0]{$_} } qw(number direction line rule) },
	{ number => 2, direction => 'build', line => 1, rule => 'require-concurrent-index-creation' },
	'plan: the finding');
like($doc->{findings}[0]{hint}, qr/CREATE INDEX CONCURRENTLY/, 'plan: the finding\'s hint');
is(scalar @{ $doc->{lock_plan} }, 1, 'plan: the lock plan has the step');
is($doc->{lock_plan}[0]{result}, 'ok', 'plan: the step ran in the dry run');
is_deeply($doc->{lock_plan}[0]{locks}, [ grep { /^SHARE on/ } @{ $doc->{lock_plan}[0]{locks} } ],
	'plan: the locks are a list');
like(join(',', @{ $doc->{lock_plan}[0]{locks} }), qr/^SHARE on (public\.)?users$/,
	'plan: CREATE INDEX takes SHARE on users');

#
# check
#
($rc, $out, $err) = zd(@conn, '-C', $dir, '--json', 'check', '1', '2');
is($rc, 0, 'check --json exits 0');
$doc = document('check --json');
common_keys($doc, 'check', 0, 'check');
is($doc->{from}, 1, 'check: from');
is($doc->{to}, 2, 'check: to');
ok($doc->{passed}, 'check: passed');
is_deeply($doc->{patches},
	[ { number => 2, name => 'index_email', result => 'ok', passed => JSON::PP::true, differences => [] } ],
	'check: the patch');

#
# a failure is a document too: exit_code 1, the errors with their SQLSTATE
#
my $failing = folder(%files,
	'build/00003_fail.sql' => "SELECT 1;\nINSERT INTO no_such_table VALUES (1);\n",
	'rollback/00003_fail.sql' => '');
($rc, $out, $err) = zd(@conn, '-C', $failing, '--json', 'align');
is($rc, 1, 'a failing align --json exits 1');
$doc = document('a failing align --json');
common_keys($doc, 'align', 1, 'a failing align');
is($doc->{database_at}, 2, 'a failing align: where the database stands');
is(scalar @{ $doc->{steps} }, 1, 'a failing align: the step that was done');
like($doc->{errors}[0]{message}, qr/relation "no_such_table" does not exist/,
	'a failing align: the error');
is($doc->{errors}[0]{sqlstate}, '42P01', 'a failing align: its SQLSTATE');
like($err, qr/^zd: error: .*no_such_table/m, 'a failing align: the error on stderr too');

# a connection that fails still prints a document
($rc, $out, $err) = zd('-h', $node->host, '-p', PostgreSQL::Test::Cluster::get_free_port(),
	'-C', $dir, '--json', 'status');
is($rc, 1, 'status --json without a server exits 1');
$doc = document('status --json without a server');
common_keys($doc, 'status', 1, 'status without a server');
ok(@{ $doc->{errors} } >= 1, 'status without a server: an error');

#
# --echo: the queries, on stdout; on stderr with --json
#
($rc, $out, $err) = zd(@conn, '-e', 'status');
is($rc, 0, 'status --echo exits 0');
like($out, qr/^SELECT n\.nspname, e\.extversion FROM pg_catalog\.pg_extension e/m,
	'--echo shows the queries');
($rc, $out, $err) = zd(@conn, '-e', '--json', 'status');
is($rc, 0, 'status --echo --json exits 0');
document('status --echo --json');
like($err, qr/^SELECT n\.nspname, e\.extversion/m, '--echo --json shows the queries on stderr');

$node->stop;
done_testing();
