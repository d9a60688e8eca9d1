# Crashes lose nothing: the worker killed with SIGKILL (the postmaster then
# restarts every process: crash recovery), the worker terminated (SIGTERM,
# restarted after bgw_restart_time), and the server stopped in immediate mode
# then started, each in the middle of a deployment, leave the deployment
# marked interrupted with an error that says so, the history consistent with
# the schema (zd_version() = builds - rollbacks, the patch in progress rolled
# back), the gate open so that managed jobs start, and the worker back to run
# the next deployment.  A CREATE INDEX CONCURRENTLY patch interrupted the same
# way leaves nothing that stops it from being deployed again.
#
# A patch that must be in progress when the blow comes sleeps for ten
# minutes; the test polls pg_stat_activity until the worker is in that
# pg_sleep, never sleeps itself.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('worker_crash');
$node->init;

# PostgreSQL::Test::Cluster turns restart_after_crash off; a production
# server has it on.  zerodown.lock_timeout = 0: the CREATE INDEX CONCURRENTLY
# patch waits for an open transaction as long as it takes, instead of failing
# after a second.
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'zerodown'
zerodown.database = 'postgres'
zerodown.lock_timeout = 0
restart_after_crash = on
lc_messages = 'C'
});
$node->start;

sub query
{
	my ($sql) = @_;
	return $node->safe_psql('postgres', $sql);
}

# poll until $sql returns $expected (at most $seconds, 60 by default)
sub poll_ok
{
	my ($sql, $expected, $what, $seconds) = @_;
	local $PostgreSQL::Test::Utils::timeout_default = $seconds // 60;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	return ok($node->poll_query_until('postgres', $sql, $expected), $what);
}

sub worker_pid
{
	return query(
		q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'zerodown launcher'});
}

# the worker runs the pg_sleep of patch $n in deployment $id
sub wait_sleeping
{
	my ($id, $n) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	poll_ok(
		q{SELECT count(*) FROM pg_stat_activity
		   WHERE backend_type = 'zerodown launcher' AND wait_event = 'PgSleep'},
		'1', "deployment $id sleeps in patch $n");
	is(query("SELECT state FROM zerodown.deployments WHERE id = $id"),
		'applying', "deployment $id is applying");
}

# after the server or the worker came back: everything a crash must leave
sub check_after_crash
{
	my ($how, $id, $version, $absent, $old_worker) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;

	# (polls through the restart: connections fail until it is over)
	poll_ok(
		"SELECT count(*) FROM pg_stat_activity
		  WHERE backend_type = 'zerodown launcher' AND pid <> $old_worker",
		'1', "$how: a new worker is back");
	is( query(
			q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'zerodown launcher'}),
		'1', "$how: one worker runs");
	poll_ok(
		"SELECT state IN ('failed', 'interrupted') FROM zerodown.deployments WHERE id = $id",
		't', "$how: the deployment is settled");
	my ($state, $error, $to, $finished) = split /\|/, query(
		"SELECT state, error, to_version, finished_at IS NOT NULL
		   FROM zerodown.deployments WHERE id = $id");
	is($state, 'interrupted', "$how: the deployment is marked interrupted");
	like($error, qr/interrupted while applying/, "$how: the error says what happened");
	like($error, qr/stands at patch $version/, "$how: the error says where the database stands");
	is($to, $version, "$how: the deployment records the version reached");
	is($finished, 't', "$how: the deployment has ended");
	is( query(
			q{SELECT count(*) FROM zerodown.deployments
			   WHERE state IN ('queued', 'draining', 'applying')}),
		'0', "$how: no deployment is left running");
	is( query(
			q{SELECT zd_version(),
			         (SELECT count(*) FILTER (WHERE direction = 'build')
			                 - count(*) FILTER (WHERE direction = 'rollback')
			            FROM zerodown.history),
			         (SELECT string_agg(number::text, ' ' ORDER BY number) FROM zerodown.applied)}),
		"$version|$version|" . join(' ', 1 .. $version),
		"$how: the history matches the version");
	is(query("SELECT to_regclass('$absent') IS NULL"),
		't', "$how: the DDL of the patch in progress is gone");
	is(query('SELECT state, deployer, running_jobs, waiting_jobs FROM zd_gate_status()'),
		'open||0|0', "$how: the gate is open");

	# a managed job and a managed transaction start (with a gate timeout, so
	# that a closed gate fails instead of hanging the test)
	my ($ret, $out, $err) = $node->psql(
		'postgres', q{
		SET zerodown.gate_timeout = 5000;
		SELECT zd_job_begin('after_crash');
		SELECT job || ' ' || status FROM zerodown.gate_jobs;
		SELECT zd_job_end();
		SET zerodown.managed = on;
		SELECT 'managed transaction ran';},
		timeout => 60);
	is($ret, 0, "$how: a managed job and a managed transaction run");
	like($out, qr/after_crash running.*managed transaction ran/s,
		"$how: the job held the gate");
	return;
}

query('CREATE EXTENSION zerodown');
query(
	q{SELECT zd_register(1, 'base', 'CREATE TABLE base_t (id int);', 'DROP TABLE base_t;');
	  SELECT zd_register(2, 'sleep_kill', 'CREATE TABLE kill_t (id int); SELECT pg_sleep(600);', 'DROP TABLE kill_t;');});
poll_ok(
	q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'zerodown launcher'},
	'1', 'the worker is running');

#
# SIGKILL: the postmaster restarts every process
#
my $id = query('SELECT zd_deploy(2)');
wait_sleeping($id, 2);
is(query('SELECT zd_version()'), '1', 'patch 1 was committed before patch 2 began');
is(query('SELECT state FROM zd_gate_status()'), 'closed', 'the worker holds the gate');

# a job waiting at the gate when the blow comes
my $waiting = $node->background_psql('postgres', on_error_stop => 0);
$waiting->query_until(qr/waiting/, "\\echo waiting\nSELECT zd_job_begin('waiting');\n");
poll_ok(q{SELECT count(*) FROM zerodown.gate_jobs WHERE job = 'waiting' AND status = 'waiting'},
	'1', 'a job waits at the gate');

my $pid = worker_pid();
is(kill('KILL', $pid), 1, 'the worker is killed with SIGKILL');
check_after_crash('SIGKILL', $id, 1, 'kill_t', $pid);
eval { $waiting->quit };

query(q{SELECT zd_register(2, 'sleep_kill', 'CREATE TABLE kill_t (id int);', 'DROP TABLE kill_t;')});
$id = query('SELECT zd_deploy(2)');
is(query("SELECT zd_deploy_wait($id, 60000)"), 'done', 'SIGKILL: the next deployment succeeds');
is(query(q{SELECT zd_version(), to_regclass('kill_t') IS NOT NULL}), '2|t',
	'SIGKILL: the database stands at patch 2');

#
# SIGTERM: the worker stops, and the postmaster starts it again
#
query(
	q{SELECT zd_register(3, 'sleep_term', 'CREATE TABLE term_t (id int); SELECT pg_sleep(600);', 'DROP TABLE term_t;')});
$id = query('SELECT zd_deploy(3)');
wait_sleeping($id, 3);
$pid = worker_pid();
is(query("SELECT pg_terminate_backend($pid)"), 't', 'the worker is terminated');
check_after_crash('SIGTERM', $id, 2, 'term_t', $pid);

query(q{SELECT zd_register(3, 'sleep_term', 'CREATE TABLE term_t (id int);', 'DROP TABLE term_t;')});
$id = query('SELECT zd_deploy(3)');
is(query("SELECT zd_deploy_wait($id, 60000)"), 'done', 'SIGTERM: the next deployment succeeds');

#
# stop in immediate mode, then start
#
query(
	q{SELECT zd_register(4, 'sleep_stop', 'CREATE TABLE stop_t (id int); SELECT pg_sleep(600);', 'DROP TABLE stop_t;')});
$id = query('SELECT zd_deploy(4)');
wait_sleeping($id, 4);
$pid = worker_pid();
$node->stop('immediate');
$node->start;
check_after_crash('immediate stop', $id, 3, 'stop_t', $pid);

query(q{SELECT zd_register(4, 'sleep_stop', 'CREATE TABLE stop_t (id int);', 'DROP TABLE stop_t;')});
$id = query('SELECT zd_deploy(4)');
is(query("SELECT zd_deploy_wait($id, 60000)"), 'done', 'immediate stop: the next deployment succeeds');
is(query('SELECT zd_version()'), '4', 'the database stands at patch 4');

#
# SIGKILL while CREATE INDEX CONCURRENTLY waits for an old transaction: the
# deployment can be queued again and finishes
#
query(
	q{CREATE TABLE cic_t (id int, v int);
	  INSERT INTO cic_t SELECT i, i FROM generate_series(1, 1000) i;
	  SELECT zd_register(5, 'cic', E'-- zerodown:no-transaction\nCREATE INDEX CONCURRENTLY cic_v ON cic_t (v);',
	                     E'-- zerodown:no-transaction\nDROP INDEX CONCURRENTLY cic_v;');});
my $old = $node->background_psql('postgres', on_error_stop => 0);
$old->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM cic_t;');
$id = query('SELECT zd_deploy(5)');
poll_ok(
	q{SELECT count(*) FROM pg_stat_activity
	   WHERE backend_type = 'zerodown launcher' AND wait_event_type = 'Lock'},
	'1', 'CREATE INDEX CONCURRENTLY waits for the old transaction');
is(query(q{SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('cic_v')}),
	'f', 'the index is not valid yet');
$pid = worker_pid();
is(kill('KILL', $pid), 1, 'the worker is killed with SIGKILL');
check_after_crash('SIGKILL in CREATE INDEX CONCURRENTLY', $id, 4, 'no_such_table', $pid);
eval { $old->quit };

$id = query('SELECT zd_deploy(5)');
poll_ok(
	"SELECT state IN ('done', 'failed', 'cancelled', 'interrupted')
	   FROM zerodown.deployments WHERE id = $id",
	't', 'the deployment queued again ends');
is(query("SELECT state, error FROM zerodown.deployments WHERE id = $id"),
	'done|', 'the deployment queued again succeeds');
is(query(q{SELECT count(*) FROM pg_index WHERE NOT indisvalid}),
	'0', 'no invalid index is left');
is(query(q{SELECT zd_version(), (SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('cic_v'))}),
	'5|t', 'the database stands at patch 5 with a valid index');

ok(!$node->log_contains('terminated by signal 11'), 'no server process crashed on its own');

$node->stop;
done_testing();
