# pg_cron and the gate: a deployment scheduled with pg_cron
# (cron.schedule(..., 'SELECT zd_deploy(3)')) is run by the worker, and the
# jobs of a managed role (ALTER ROLE ... SET zerodown.managed = on) respect
# the gate without any change to the jobs: while a session holds the gate
# closed, such a job waits at it, and it runs when the gate opens.
#
# pg_cron 1.4 runs jobs on minute boundaries, so everything is set up before
# the next minute: the gate is closed first, then both jobs are scheduled
# every minute; the test polls (up to 90 s) until they have fired, checks the
# managed job waits, opens the gate, and unschedules both.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('pg_cron');
$node->init;
my $host = $node->host;
$node->append_conf(
	'postgresql.conf', qq{
shared_preload_libraries = 'zerodown,pg_cron'
zerodown.database = 'postgres'
cron.database_name = 'postgres'
cron.host = '$host'
lc_messages = 'C'
});
$node->start;

sub query
{
	my ($sql) = @_;
	return $node->safe_psql('postgres', $sql);
}

# poll until $sql returns $expected (at most $seconds, 90 by default)
sub poll_ok
{
	my ($sql, $expected, $what, $seconds) = @_;
	local $PostgreSQL::Test::Utils::timeout_default = $seconds // 90;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	return ok($node->poll_query_until('postgres', $sql, $expected), $what);
}

query(
	q{CREATE EXTENSION pg_cron;
	  CREATE EXTENSION zerodown;
	  SELECT zd_register(1, 'cron_a', 'CREATE TABLE cron_a (id int);', 'DROP TABLE cron_a;');
	  SELECT zd_register(2, 'cron_b', 'CREATE TABLE cron_b (id int);', 'DROP TABLE cron_b;');
	  SELECT zd_register(3, 'cron_c', 'ALTER TABLE cron_a ADD COLUMN note text;', 'ALTER TABLE cron_a DROP COLUMN note;');
	  CREATE ROLE cronrole LOGIN IN ROLE zerodown_job;
	  ALTER ROLE cronrole SET zerodown.managed = on;
	  CREATE TABLE cron_log (id serial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp(),
	                         managed text DEFAULT current_setting('zerodown.managed'));
	  GRANT INSERT ON cron_log TO cronrole;
	  GRANT USAGE ON SEQUENCE cron_log_id_seq TO cronrole;});
poll_ok(
	q{SELECT count(*) FROM pg_stat_activity
	   WHERE backend_type IN ('zerodown launcher', 'pg_cron launcher')},
	'2', 'the zerodown worker and the pg_cron launcher run');

# a deployment done from outside holds the gate closed
my $gate = $node->background_psql('postgres');
is($gate->query_safe('SELECT zd_gate_close(0)'), 't', 'a session closes the gate');

# the jobs, unchanged: one deploys, the other is run by the managed role
my $deploy_job = query(q{SELECT cron.schedule('deploy', '* * * * *', 'SELECT zd_deploy(3)')});
my $managed_job = query(
	q{SELECT cron.schedule_in_database('managed_job', '* * * * *',
	                                   'INSERT INTO cron_log DEFAULT VALUES',
	                                   'postgres', 'cronrole')});

# the minute comes: the deployment is queued by pg_cron, and the managed job
# waits at the gate
poll_ok(q{SELECT count(*) > 0 FROM zerodown.deployments WHERE target = 3},
	't', 'pg_cron queued the deployment');
query("SELECT cron.unschedule($deploy_job)");
poll_ok(
	q{SELECT count(*) FROM pg_stat_activity
	   WHERE usename = 'cronrole' AND wait_event_type = 'Lock'},
	'1', 'the managed cron job waits for a lock', 30);
is( query(
		q{SELECT job, status, role FROM zerodown.gate_jobs WHERE role = 'cronrole'}),
	'managed transaction|waiting|cronrole',
	'the managed cron job waits at the gate');
is(query("SELECT status FROM cron.job_run_details WHERE jobid = $managed_job"),
	'running', 'pg_cron sees the job running');
is(query('SELECT count(*) FROM cron_log'), '0', 'the job has not run yet');
poll_ok(q{SELECT string_agg(state, ' ') FROM zerodown.deployments WHERE target = 3},
	'draining', 'the deployment waits for the gate too', 30);
is( query(
		"SELECT status FROM cron.job_run_details WHERE jobid = $deploy_job ORDER BY runid LIMIT 1"),
	'succeeded', 'the deploying cron job ended at once');

# the gate opens: the job runs, and the deployment too
my $opened = $gate->query_safe('SELECT clock_timestamp(); SELECT zd_gate_open();');
$opened =~ s/^\s+|\s+$//g;
poll_ok(q{SELECT count(*) FROM cron_log}, '1', 'the managed job ran once the gate opened', 30);
is( query("SELECT at >= '$opened', managed FROM cron_log"),
	't|on', 'it ran after the gate opened, as a managed transaction');
poll_ok(
	"SELECT status FROM cron.job_run_details WHERE jobid = $managed_job ORDER BY runid LIMIT 1",
	'succeeded', 'pg_cron records the managed job as succeeded', 30);
query("SELECT cron.unschedule($managed_job)");

poll_ok(
	q{SELECT string_agg(state, ' ') FROM zerodown.deployments WHERE target = 3},
	'done', 'the deployment scheduled with pg_cron is done', 30);
is( query(
		q{SELECT requested_by, from_version, to_version, error IS NULL
		    FROM zerodown.deployments WHERE target = 3}),
	'postgres|0|3|t', 'it was requested by the cron job and went from 0 to 3');
is(query('SELECT zd_version()'), '3', 'the database stands at patch 3');
is(query('SELECT state, running_jobs, waiting_jobs FROM zd_gate_status()'),
	'open|0|0', 'the gate is open');

$gate->quit;
$node->stop;
done_testing();
