# The background worker runs queued deployments behind the deployment gate
# (seed 000): it drains the running managed jobs while new ones queue, applies
# the patches in the clean gap, records every step and state, and opens the
# gate so that the queued jobs start at once.  Also: the drain timeout, a
# no-transaction patch (CREATE INDEX CONCURRENTLY), a second deployment
# queued behind a running one, cancelling, zd_deploy_wait, what the worker
# shows in pg_stat_activity, and the errors of bad input.
#
# Waiting is done by polling, never by a fixed sleep.  A patch that must stay
# in progress while the test looks waits for an advisory lock the test holds
# (SET LOCAL lock_timeout = 0 lifts zerodown.lock_timeout for that patch).

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('worker_deploy');
$node->init;
# restart_after_crash: should a server process crash, the server comes back
# and the rest of the file still runs (the crash itself is a failure, checked
# at the end)
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'zerodown'
zerodown.database = 'postgres'
restart_after_crash = on
lc_messages = 'C'
});
$node->start;

# a query in the postgres database
sub query
{
	my ($sql, $db) = @_;
	return $node->safe_psql($db // 'postgres', $sql);
}

# poll until $sql returns $expected (at most $seconds, 60 by default)
sub poll_ok
{
	my ($sql, $expected, $what, $seconds) = @_;
	local $PostgreSQL::Test::Utils::timeout_default = $seconds // 60;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	return ok($node->poll_query_until('postgres', $sql, $expected), $what);
}

# run $sql expecting an error: returns (sqlstate, the whole stderr)
sub fails
{
	my ($sql, $db) = @_;
	my ($out, $err) = ('', '');
	$node->psql($db // 'postgres', "\\set VERBOSITY verbose\n$sql",
		stdout => \$out, stderr => \$err);
	my $state = $err =~ /ERROR:  ([0-9A-Z]{5}):/ ? $1 : "no error ($out)";
	return ($state, $err);
}

sub state_of
{
	my ($id) = @_;
	return query("SELECT state FROM zerodown.deployments WHERE id = $id");
}

# wait until deployment $id has ended (done, failed, cancelled or
# interrupted), then check that it ended in $state
sub wait_end
{
	my ($id, $state) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	poll_ok(
		"SELECT state IN ('done', 'failed', 'cancelled', 'interrupted')
		   FROM zerodown.deployments WHERE id = $id",
		't', "deployment $id ends");
	return is(state_of($id), $state, "deployment $id ends $state");
}

sub wait_state
{
	my ($id, $state, $seconds) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	return poll_ok("SELECT state FROM zerodown.deployments WHERE id = $id",
		$state, "deployment $id reaches state $state", $seconds);
}

my $gate_sql =
  'SELECT state, deployer, deployment, running_jobs, waiting_jobs FROM zd_gate_status()';

#
# the worker runs, found by its backend_type
#
poll_ok(
	q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'zerodown launcher'},
	'1', 'the worker is running');
is( query(
		q{SELECT application_name, datname FROM pg_stat_activity
		   WHERE backend_type = 'zerodown launcher'}),
	'zerodown worker|postgres',
	'the worker reports its application name and serves zerodown.database');

query('CREATE EXTENSION zerodown; CREATE TABLE app_t (who text);');
query(
	q{SELECT zd_register(1, 'seed',
		'SET LOCAL lock_timeout = 0; SELECT pg_advisory_xact_lock(4242); CREATE TABLE seed_t (id int);',
		'DROP TABLE seed_t;');
	  SELECT zd_register(2, 'queued', 'CREATE TABLE queued_t (id int);', 'DROP TABLE queued_t;');
	  SELECT zd_register(3, 'waited', 'CREATE TABLE waited_t (id int);', 'DROP TABLE waited_t;');
	  SELECT zd_register(4, 'drained', 'CREATE TABLE drained_t (id int);', 'DROP TABLE drained_t;');
	  SELECT zd_register(5, 'sleepy', 'CREATE TABLE sleepy_t (id int); SELECT pg_sleep(60);', 'DROP TABLE sleepy_t;');});

#
# seed 000: job A runs; a deployment is requested and drains; job B is
# requested and waits; A ends and the deployment runs; the deployment ends
# and B starts
#
my $ctl = $node->background_psql('postgres');
$ctl->query_safe('SELECT pg_advisory_lock(4242)');    # holds patch 1 in progress

my $listen = $node->background_psql('postgres');
$listen->query_safe('LISTEN zerodown_deployment');

# a managed session, set up while the gate is open
my $managed = $node->background_psql('postgres');
my $m_pid = $managed->query_safe('SET zerodown.managed = on; SELECT pg_backend_pid()');

my $job_a = $node->background_psql('postgres');
$job_a->query_safe(q{SELECT zd_job_begin('a')});

# queued until the requesting transaction commits
my $queued = query(
	q{BEGIN;
	  SELECT zd_deploy(1) AS id \gset
	  SELECT :id || ' ' || state FROM zerodown.deployments WHERE id = :id;
	  COMMIT;});
my ($id1, $first_state) = split / /, $queued;
is($first_state, 'queued', 'a deployment is queued by zd_deploy');

wait_state($id1, 'draining');
poll_ok($gate_sql, "closing|zerodown worker|$id1|1|0",
	'draining: the worker closes the gate and waits for job a');
is(query(q{SELECT job, status FROM zerodown.gate_jobs ORDER BY pid}),
	'a|running', 'job a is running');
is(query("SELECT zd_deploy_wait($id1, 100)"),
	'draining', 'zd_deploy_wait returns the current state when its timeout runs out');

my $job_b = $node->background_psql('postgres');
my $b_pid = $job_b->query_safe('SELECT pg_backend_pid()');
$job_b->query_until(qr/b_waiting/,
	"\\echo b_waiting\nSELECT zd_job_begin('b');\n\\echo b_started\n");
poll_ok(
	"SELECT wait_event_type FROM pg_stat_activity WHERE pid = $b_pid",
	'Lock', 'job b waits for a lock');
is(query(q{SELECT job, status FROM zerodown.gate_jobs ORDER BY job}),
	"a|running\nb|waiting", 'job b waits at the gate');
is(state_of($id1), 'draining', 'the deployment still drains while job a runs');

$job_a->query_safe('SELECT zd_job_end()');
wait_state($id1, 'applying');
is(query($gate_sql), "closed|zerodown worker|$id1|0|1",
	'applying: the worker holds the gate, job b waits');
is(query(q{SELECT job, status FROM zerodown.gate_jobs ORDER BY job}),
	'b|waiting', 'job b still waits while the deployment applies');
is(query(q{SELECT to_regclass('seed_t') IS NULL}), 't', 'patch 1 is in progress');
is( query(
		"SELECT gate_closed_at IS NOT NULL AND started_at <= gate_closed_at
		   FROM zerodown.deployments WHERE id = $id1"),
	't', 'the deployment records when it closed the gate');

# a managed transaction started now waits behind the deployment; a session
# that is not managed is never held by the gate
$managed->query_until(qr/m_waiting/,
	"\\echo m_waiting\nINSERT INTO app_t VALUES ('managed');\n\\echo m_done\n");
poll_ok(
	"SELECT wait_event_type FROM pg_stat_activity WHERE pid = $m_pid",
	'Lock', 'the managed transaction waits for a lock');
is( query(
		"SELECT job, status FROM zerodown.gate_jobs WHERE pid = $m_pid"),
	'managed transaction|waiting', 'the managed transaction waits at the gate');
is(query(q{INSERT INTO app_t VALUES ('not managed'); SELECT string_agg(who, ',') FROM app_t}),
	'not managed', 'a session that is not managed writes while the deployment applies');

# the worker shows what it does
poll_ok(
	q{SELECT count(*) FROM pg_stat_activity
	   WHERE backend_type = 'zerodown launcher' AND query LIKE 'zerodown:%patch 1 %'},
	'1', 'the worker shows patch 1 in pg_stat_activity');
like(
	query(q{SELECT query FROM pg_stat_activity WHERE backend_type = 'zerodown launcher'}),
	qr/^zerodown: deployment $id1: applying patch 1 "seed"/,
	'pg_stat_activity names the deployment and the patch it applies');

# a second deployment while one runs is queued, and can be cancelled
my $id2 = query('SELECT zd_deploy(2)');
my $id3 = query('SELECT zd_deploy(2)');
is(state_of($id2), 'queued', 'a second deployment waits in the queue');
is(query("SELECT zd_deploy_cancel($id3)"), 't', 'a queued deployment is cancelled');
is( query("SELECT state, finished_at IS NOT NULL FROM zerodown.deployments WHERE id = $id3"),
	'cancelled|t', 'the cancelled deployment is final');
my ($state, $err) = fails("SELECT zd_deploy_cancel($id1)");
is($state, '55000', 'a running deployment cannot be cancelled');
like($err, qr/deployment $id1 is applying and cannot be cancelled/,
	'the error says why');
($state) = fails("SELECT zd_deploy_cancel($id3)");
is($state, '55000', 'a cancelled deployment cannot be cancelled again');
($state) = fails('SELECT zd_deploy_cancel(987654)');
is($state, '42704', 'cancelling a deployment that does not exist');

# the deployment ends: job b starts at once
$ctl->query_safe('SELECT pg_advisory_unlock(4242)');
wait_end($id1, 'done');
ok($job_b->query_until(qr/b_started/, ''), 'job b starts when the deployment ends');
ok($managed->query_until(qr/m_done/, ''), 'the managed transaction runs when the deployment ends');
is(query(q{SELECT string_agg(who, ',' ORDER BY who) FROM app_t}),
	'managed,not managed', 'the managed transaction wrote');
is(query(q{SELECT job, status FROM zerodown.gate_jobs ORDER BY job}),
	'b|running', 'job b runs');
is( query(
		"SELECT from_version, to_version, error IS NULL,
		        requested_at <= started_at AND started_at <= gate_closed_at
		        AND gate_closed_at <= finished_at
		   FROM zerodown.deployments WHERE id = $id1"),
	'0|1|t|t', 'the deployment went from 0 to 1, in order, without error');
is( query(
		"SELECT string_agg(format('%s %s %s', number, direction, outcome), ', ' ORDER BY id)
		   FROM zerodown.history WHERE deployment = $id1"),
	'1 build done', 'the history records the step under the deployment');

# the queued deployment runs after the first, once job b has ended
wait_state($id2, 'draining');    # the queued deployment now waits for job b
$job_b->query_safe('SELECT zd_job_end()');
wait_end($id2, 'done');
is( query(
		"SELECT d2.from_version, d2.to_version, d2.started_at >= d1.finished_at
		   FROM zerodown.deployments d1, zerodown.deployments d2
		  WHERE d1.id = $id1 AND d2.id = $id2"),
	'1|2|t', 'the second deployment ran after the first');
is(query('SELECT zd_version()'), '2', 'the database stands at patch 2');
is(query($gate_sql), 'open|||0|0', 'the gate is open');

# every change of state was notified, in order
my $notes = $listen->query_safe('SELECT 1');
my %seen;
push @{ $seen{$1} }, $2
  while $notes =~ /payload "(\d+) (\w+)"/g;
is(join(' ', @{ $seen{$id1} // [] }),
	'draining applying done', "deployment $id1 notified each state");
is(join(' ', @{ $seen{$id2} // [] }),
	'draining applying done', "deployment $id2 notified each state");

#
# zd_deploy_wait waits for the end
#
($state) = fails('SELECT zd_deploy_wait(zd_deploy(3), 1000)');
is($state, '25001', 'zd_deploy_wait refuses a deployment its own transaction queued');
# a managed transaction running when the deployment starts holds it draining
my $running = $node->background_psql('postgres');
$running->query_safe('SET zerodown.managed = on; BEGIN; SELECT count(*) FROM app_t;');
my $id4 = query('SELECT zd_deploy(3)');
wait_state($id4, 'draining');
poll_ok('SELECT state, running_jobs FROM zd_gate_status()',
	'closing|1', 'the gate is closing while the managed transaction runs');
is(query("SELECT zd_deploy_wait($id4, 200)"), 'draining',
	'the deployment still drains while the managed transaction runs');
$running->query_safe('COMMIT');
is(query("SELECT zd_deploy_wait($id4, 60000)"), 'done', 'zd_deploy_wait returns done');
is(query('SELECT zd_version()'), '3', 'the database stands at patch 3');
is(query("SELECT zd_deploy_wait($id4)"), 'done', 'waiting for an ended deployment returns at once');

#
# drain timeout: a job that never ends makes the deployment fail, the gate
# opens again and nothing changes
#
query(q{ALTER SYSTEM SET zerodown.drain_timeout = '1s'; SELECT pg_reload_conf();});
poll_ok('SHOW zerodown.drain_timeout', '1s', 'zerodown.drain_timeout is reloaded');
my $forever = $node->background_psql('postgres');
$forever->query_safe(q{SELECT zd_job_begin('never_ends')});
my $id5 = query('SELECT zd_deploy(4)');
wait_end($id5, 'failed');
($state, my $error, my $to, my $closed) = split /\|/, query(
	"SELECT state, error, to_version, gate_closed_at IS NULL
	   FROM zerodown.deployments WHERE id = $id5");
like($error, qr/could not close the deployment gate within 1000 ms/,
	'the deployment failed on the drain timeout');
like($error, qr/\(never_ends, since/, 'the error names the job that did not end');
is($to, '3', 'the deployment ended at patch 3');
is($closed, 't', 'the gate was never closed');
is(query('SELECT zd_version()'), '3', 'nothing was applied');
is(query(q{SELECT to_regclass('drained_t') IS NULL}), 't', 'patch 4 did not run');
is(query("SELECT count(*) FROM zerodown.history WHERE deployment = $id5"),
	'0', 'no step was recorded');
is(query($gate_sql), 'open|||1|0', 'the gate is open again and the job runs on');
is(query("SELECT zd_deploy_wait($id5, 1000)"), 'failed', 'zd_deploy_wait returns failed');
$forever->query_safe('SELECT zd_job_end()');
query(q{ALTER SYSTEM RESET zerodown.drain_timeout; SELECT pg_reload_conf();});
poll_ok('SHOW zerodown.drain_timeout', '10min', 'zerodown.drain_timeout is reset');

#
# the worker's activity while a patch sleeps; a cancelled patch fails the
# deployment at the last good patch
#
my $id6 = query('SELECT zd_deploy(5)');
poll_ok(
	q{SELECT count(*) FROM pg_stat_activity
	   WHERE backend_type = 'zerodown launcher' AND wait_event = 'PgSleep'},
	'1', 'the worker runs the pg_sleep patch');
like(
	query(q{SELECT query FROM pg_stat_activity WHERE backend_type = 'zerodown launcher'}),
	qr/^zerodown: deployment $id6: applying patch 5 "sleepy"/,
	'pg_stat_activity shows the deployment applying the sleeping patch');
is(state_of($id6), 'applying', 'the deployment is applying');
is(query('SELECT zd_version()'), '4', 'patch 4 was committed before patch 5 began');
query(q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity
	     WHERE backend_type = 'zerodown launcher'});
wait_end($id6, 'failed');
like(query("SELECT error FROM zerodown.deployments WHERE id = $id6"),
	qr/patch 5 "sleepy" failed: canceling statement due to user request/,
	'the error names the patch that failed');
is(query("SELECT to_version FROM zerodown.deployments WHERE id = $id6"),
	'4', 'the deployment stopped at the last good patch');
is(query(q{SELECT zd_version(), to_regclass('sleepy_t') IS NULL}),
	'4|t', 'patch 5 was rolled back');
is(query($gate_sql), 'open|||0|0', 'the gate is open after the failure');
poll_ok(
	q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'zerodown launcher'},
	'1', 'the worker survives the cancel');

#
# a failing unique CREATE INDEX CONCURRENTLY leaves no invalid index behind;
# a no-transaction patch runs through the worker
#
query(
	q{CREATE TABLE cic_t (id int, v int, dup int);
	  INSERT INTO cic_t SELECT i, i, i % 10 FROM generate_series(1, 1000) i;
	  SELECT zd_register(5, 'sleepy', 'CREATE TABLE sleepy_t (id int);', 'DROP TABLE sleepy_t;');
	  SELECT zd_register(6, 'cic', E'-- zerodown:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY cic_v ON cic_t (dup);',
	                     E'-- zerodown:no-transaction\nDROP INDEX CONCURRENTLY cic_v;');});

my $id7 = query('SELECT zd_deploy(6)');
wait_end($id7, 'failed');
like(query("SELECT error FROM zerodown.deployments WHERE id = $id7"),
	qr/patch 6 "cic" failed: could not create unique index "cic_v"/,
	'the failing unique index fails the deployment');
is(query(q{SELECT count(*) FROM pg_index WHERE NOT indisvalid}),
	'0', 'no invalid index is left behind');
is(query(q{SELECT to_regclass('cic_v') IS NULL, zd_version()}),
	't|5', 'the index is gone and the database stands at patch 5');
is(query($gate_sql), 'open|||0|0', 'the gate is open');

# the patch, fixed, registered again (it was never applied); held at the
# gate by a job, so that zd_deploy_wait sees it before it runs
query(
	q{SELECT zd_register(6, 'cic', E'-- zerodown:no-transaction\nCREATE INDEX CONCURRENTLY cic_v ON cic_t (v);',
	                     E'-- zerodown:no-transaction\nDROP INDEX CONCURRENTLY cic_v;');});
my $hold = $node->background_psql('postgres');
$hold->query_safe(q{SELECT zd_job_begin('hold')});
my $id8 = query('SELECT zd_deploy(6)');
wait_state($id8, 'draining');
($state, $err) = fails("SELECT zd_deploy_wait($id8, 1000)");
is($state, '55000', 'zd_deploy_wait refuses to wait in SQL for a no-transaction patch');
like($err, qr/patch 6 runs outside a transaction/, 'the error names the patch');
$hold->query_safe('SELECT zd_job_end()');
wait_end($id8, 'done');
is(query(q{SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('cic_v')}),
	't', 'CREATE INDEX CONCURRENTLY built a valid index');
is( query(
		"SELECT string_agg(format('%s %s', number, direction), ', ' ORDER BY id)
		   FROM zerodown.history WHERE deployment = $id8"),
	'6 build', 'the step is recorded');
is(query('SELECT zd_version()'), '6', 'the database stands at patch 6');

#
# bad input
#
my $count = query('SELECT count(*) FROM zerodown.deployments');
($state, $err) = fails('SELECT zd_deploy(99)');
is($state, '22023', 'a target that does not exist is refused at zd_deploy');
like($err, qr/target patch 99 does not exist/, 'the error names the target');
($state) = fails('SELECT zd_deploy(-1)');
is($state, '22023', 'a negative target is refused');
is(query('SELECT count(*) FROM zerodown.deployments'), $count, 'nothing was queued');

query('CREATE DATABASE otherdb');
query(q{CREATE EXTENSION zerodown;
	    SELECT zd_register(1, 'other', 'CREATE TABLE other_t (id int);', 'DROP TABLE other_t;');},
	'otherdb');
($state, $err) = fails('SELECT zd_deploy(1)', 'otherdb');
is($state, '55000', 'zd_deploy from another database than zerodown.database');
like($err, qr/the zerodown worker serves database "postgres", not "otherdb"/,
	'the error names both databases');
like($err, qr/HINT:  .*zerodown\.database/, 'the hint names zerodown.database');
is(query('SELECT count(*) FROM zerodown.deployments', 'otherdb'), '0',
	'nothing was queued in the other database');

($state, $err) = fails('SELECT zd_deploy_wait(1, -1)');
is($state, '22023', 'zd_deploy_wait with a negative timeout');
($state) = fails('SELECT zd_gate_close(-1)');
is($state, '22023', 'zd_gate_close with a negative timeout');
($state) = fails('SET zerodown.gate_timeout = -1');
is($state, '22023', 'a negative zerodown.gate_timeout is refused');
($state) = fails('ALTER SYSTEM SET zerodown.drain_timeout = -1');
is($state, '22023', 'a negative zerodown.drain_timeout is refused');
($state) = fails('SELECT zd_deploy_wait(NULL)');
is($state, '22004', 'zd_deploy_wait without an id');
($state) = fails('SELECT zd_deploy_wait(987654)');
is($state, '42704', 'zd_deploy_wait for a deployment that does not exist');
($state, $err) = fails('SELECT zd_job_end()');
is($state, '55000', 'zd_job_end without zd_job_begin');
like($err, qr/no managed job is running in this session/, 'the error says so');
($state) = fails("SELECT zd_deploy_cancel($id1)");
is($state, '55000', 'a deployment that is done cannot be cancelled');

query('CREATE ROLE app LOGIN');
($state) = fails('SET ROLE app; SELECT zd_deploy(6)');
is($state, '42501', 'a role that is not a deployer cannot deploy');

#
# nothing is left running, and nothing crashed
#
is( query(
		q{SELECT count(*) FROM zerodown.deployments
		   WHERE state IN ('queued', 'draining', 'applying')}),
	'0', 'no deployment is left queued or running');
is(query($gate_sql), 'open|||0|0', 'the gate is open at the end');

ok(!$node->log_contains('terminated by signal'), 'no server process crashed');

# (a session that a crash ended cannot quit cleanly)
eval { $_->quit } for ($ctl, $listen, $job_a, $job_b, $managed, $running, $forever, $hold);
$node->stop;
done_testing();
