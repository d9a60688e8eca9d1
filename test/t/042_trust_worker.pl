# Issue 10 through the background worker, for the parts that are not the
# worker's own (deployments as the requester, crash reporting):
#
# - a job whose name is longer than 63 bytes, in multibyte characters, holds
#   the gate while a deployment drains and times out: the deployment's
#   error lists the job's name cut on a character boundary (0.1.0 cut it
#   inside a character, so zerodown.deployments held invalid UTF-8 and a
#   pg_dump of the database no longer restored); the dump restores;
# - a no-transaction patch whose statement calls zd_align: the worker runs
#   it at top level, outside any zerodown function, and it is refused all
#   the same;
# - a patch whose text was changed behind zerodown's back is refused by
#   the worker too.

use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('trust_worker');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'zerodown'
zerodown.database = 'postgres'
zerodown.drain_timeout = '1s'
lc_messages = 'C'
});
$node->start;

sub query
{
	my ($sql, $db) = @_;
	return $node->safe_psql($db // 'postgres', $sql);
}

sub poll_ok
{
	my ($sql, $expected, $what) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	return ok($node->poll_query_until('postgres', $sql, $expected), $what);
}

$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'zerodown launcher'")
  or die 'the worker did not start';

query(q{
	CREATE EXTENSION zerodown;
	CREATE ROLE etl LOGIN;
	DO $$ BEGIN
		-- managed jobs are for members of zerodown_job (0.2.0)
		IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'zerodown_job') THEN
			GRANT zerodown_job TO etl;
		END IF;
	END $$;
	SELECT zd_register(1, 'create_table_tw', 'CREATE TABLE tw (id integer);', 'DROP TABLE tw;');
});

#
# the job's name in the deployment's error
#
my $name = ('é' x 10) . ('€' x 30);
my ($in, $out, $err) = ('', '', '');
my $h = IPC::Run::start(
	[ 'psql', '-XAtq', '-d', $node->connstr('postgres') . ' user=etl', '-f', '-' ],
	'<', \$in, '>', \$out, '2>', \$err);
$in .= "SELECT zd_job_begin('$name');\nSELECT 'holding';\n";
$h->pump until $out =~ /holding/;

my $id = query('SELECT zd_deploy(1)');
poll_ok("SELECT state FROM zerodown.deployments WHERE id = $id", 'failed',
	'the deployment times out while the job holds the gate');
$in .= "SELECT zd_job_end();\n\\q\n";
$h->finish;

my $error = query("SELECT error FROM zerodown.deployments WHERE id = $id");
like($error, qr/Jobs still running/, 'the error lists the jobs still running');
is(query(qq{SELECT convert_from(convert_to(error, 'UTF8'), 'UTF8') = error
	FROM zerodown.deployments WHERE id = $id}),
	't', 'the error is valid UTF-8');
like($error, qr/\Q${\(('é' x 10) . ('€' x 14))}\E[^€]/,
	'the job name is cut on a character boundary, at 62 bytes');

my $dump = $node->basedir . '/trust_worker.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('postgres') ],
	'pg_dump of the database');
query('CREATE DATABASE restored');
$node->command_ok(
	[ 'pg_restore', '--exit-on-error', '-d', $node->connstr('restored'), $dump ],
	'the dump restores');
is(query("SELECT error FROM zerodown.deployments WHERE id = $id", 'restored'),
	$error, 'with the deployment\'s error as it was');

#
# a no-transaction patch that calls zerodown back
#
query(q{SELECT zd_register(2, 'nested', E'-- zerodown:no-transaction\nSELECT zd_align(0);', '')});
$id = query('SELECT zd_deploy(2)');
poll_ok("SELECT state IN ('done', 'failed') FROM zerodown.deployments WHERE id = $id",
	't', 'the deployment ends');
like(query("SELECT state || ': ' || error FROM zerodown.deployments WHERE id = $id"),
	qr/^failed: .*zd_align cannot be called from inside a patch/s,
	'its statement calling zd_align is refused');
is(query('SELECT zd_version()'), '1', 'the database stands at patch 1, the one it reached');
is(query("SELECT to_regclass('tw') IS NOT NULL"), 't', 'patch 1 stays applied');

#
# a patch changed behind zerodown's back
#
query(q{SELECT zd_register(2, 'create_table_tw2', 'CREATE TABLE tw2 (id integer);', 'DROP TABLE tw2;')});
# zd_deploy checks the plan too, so the row is changed after it, before
# the worker sees the deployment
$id = query(q{
	BEGIN;
	SELECT zd_deploy(2);
	UPDATE zerodown.patches SET build_sql = 'CREATE TABLE tw_tampered (id integer);' WHERE number = 2;
	COMMIT;
});
poll_ok("SELECT state IN ('done', 'failed') FROM zerodown.deployments WHERE id = $id",
	't', 'the deployment of a changed patch ends');
like(query("SELECT state || ': ' || error FROM zerodown.deployments WHERE id = $id"),
	qr/^failed: patch 2 "create_table_tw2" does not match its checksum/,
	'the worker refuses it, naming the patch');
is(query("SELECT to_regclass('tw_tampered') IS NULL AND zd_version() = 1"), 't',
	'the changed text did not run');
is(query('SELECT state FROM zd_gate_status()'), 'open', 'the gate is open');

$node->stop;
done_testing();
