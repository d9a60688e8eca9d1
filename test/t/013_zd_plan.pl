# zd plan: lint findings, --strict, --lock-plan.

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

my $node = zd_node('zd_plan');
my @conn = ('-h', $node->host, '-p', $node->port);
my ($rc, $out, $err);

#
# plan: lint findings, --strict, --lock-plan
#
new_db('lint');
my %lint = (
	'build/00001_create_users.sql' =>
	  "CREATE TABLE users (id int PRIMARY KEY, email text);\nINSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 100) g;\n",
	'rollback/00001_create_users.sql' => "DROP TABLE users;\n",
	'build/00002_index_email.sql' =>
	  "-- an index on a table that exists\nCREATE INDEX users_email_idx ON users (email);\n",
	'rollback/00002_index_email.sql' => "DROP INDEX users_email_idx;\n",
	'build/00003_add_name.sql' => "ALTER TABLE users ADD COLUMN name text;\n",
	'rollback/00003_add_name.sql' => "ALTER TABLE users DROP COLUMN name;\n");
my $lint = folder(%lint);
my @lint = (@conn, '-d', 'lint', '-C', $lint);

($rc, $out, $err) = zd(@lint, 'align', '1');
is($rc, 0, 'lint: align 1 exits 0');

($rc, $out, $err) = zd(@lint, 'plan');
is($rc, 0, 'plan with a lint finding exits 0: findings are advice');
like($out, qr/^zd: lint findings \(1\)/m, 'plan prints the findings under a heading');
like(
	$out,
	qr/^  \Q$lint\E\/build\/00002_index_email\.sql, line 2: require-concurrent-index-creation$/m,
	'the finding names the file, the line and the rule');
like($out, qr/^\s+CREATE INDEX on existing table "users" takes a SHARE lock that blocks writes/m,
	'the finding says what would hurt');
like($out, qr/^\s+statement: CREATE INDEX users_email_idx ON users \(email\)$/m,
	'the finding shows the statement');
like($out, qr/^\s+hint: Use CREATE INDEX CONCURRENTLY in a patch marked "-- zerodown:no-transaction"/m,
	'the finding gives the safe recipe');
unlike($out, qr/lock plan/, 'no lock plan without --lock-plan');

($rc, $out, $err) = zd(@lint, 'plan', '--strict');
is($rc, 1, 'plan --strict with a finding exits 1');
like($out, qr/require-concurrent-index-creation/, 'plan --strict still prints the finding');
like($err, qr/^zd: error: 1 lint finding, and --strict makes findings an error$/m,
	'plan --strict says why it failed');

($rc, $out, $err) = zd(@lint, 'plan', '3', '--lock-plan');
is($rc, 0, 'plan --lock-plan exits 0');
like($out, qr/^zd: lock plan, measured by running the steps in a transaction that was rolled back:$/m,
	'plan --lock-plan prints the lock plan under a heading');
like($out, qr/^\s+1\s+00002\s+index_email\s+build\s+\d+\.\d ms\s+SHARE on (public\.)?users$/m,
	'the lock plan shows the SHARE lock of CREATE INDEX and its duration');
like($out, qr/^\s+2\s+00003\s+add_name\s+build\s+\d+\.\d ms\s+ACCESS EXCLUSIVE on (public\.)?users$/m,
	'the lock plan shows the ACCESS EXCLUSIVE lock of ALTER TABLE ADD COLUMN');
is(query('lint', 'SELECT zd_version()'), '1', 'the dry run applied nothing');
is( query('lint',
		"SELECT count(*) FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'name'"),
	'0',
	'the dry run left no column behind');

# the CONCURRENTLY rewrite has no finding
{
	my $concurrent = folder(%lint,
		'build/00002_index_email.sql' =>
		  "-- zerodown:no-transaction\nCREATE INDEX CONCURRENTLY users_email_idx ON users (email);\n",
		'rollback/00002_index_email.sql' =>
		  "-- zerodown:no-transaction\nDROP INDEX CONCURRENTLY users_email_idx;\n");

	($rc, $out, $err) = zd(@conn, '-d', 'lint', '-C', $concurrent, 'plan', '--strict');
	is($rc, 0, 'plan --strict of the CONCURRENTLY rewrite exits 0');
	like($out, qr/^zd: lint findings: none$/m, 'the CONCURRENTLY rewrite has no finding');
	unlike($out, qr/require-concurrent-index-creation/, 'no rule fires');

	($rc, $out, $err) = zd(@conn, '-d', 'lint', '-C', $concurrent, 'plan', '--lock-plan');
	is($rc, 0, 'plan --lock-plan with a no-transaction patch exits 0');
	like($out, qr/^\s+1\s+00002\s+index_email\s+build\s+-\s+not run: no-transaction patch$/m,
		'the dry run does not run a no-transaction patch');
	like($out, qr/the 1 step after it was not run/, 'and says the step after it was not run');
}

# a step that fails in the dry run fails the plan
{
	my $broken = folder(%lint,
		'build/00003_add_name.sql' => "ALTER TABLE no_such_table ADD COLUMN name text;\n");

	($rc, $out, $err) = zd(@conn, '-d', 'lint', '-C', $broken, 'plan', '--lock-plan');
	is($rc, 1, 'plan --lock-plan with a failing step exits 1');
	like($out, qr/^\s+2\s+00003\s+add_name\s+build\s+-\s+failed: .*"no_such_table" does not exist/m,
		'the lock plan shows the failure');
	like($err, qr/^zd: error: the dry run failed at step 2: .*"no_such_table" does not exist/m,
		'the error names the step');
}

$node->stop;
done_testing();
