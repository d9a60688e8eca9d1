# The README's pg_cron recipe, as written, on a server that listens on a
# unix socket only (issue 11 item 3).  Before, the recipe did not say how
# pg_cron reaches the server, and its jobs failed with "connection failed"
# until cron.host was set (and then pg_hba.conf had to let the job's role
# in).  The recipe now runs jobs in background workers
# (cron.use_background_workers = on): no connection, no pg_hba.conf entry.
# A deployer that is not a superuser schedules the deployment; an ETL role
# made managed with ALTER ROLE ... SET zerodown.managed = on waits at the
# gate while a deployment holds it, and runs when it opens.
#
# pg_cron runs jobs on minute boundaries: the test polls (up to 90 s) until
# they have fired.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('pg_cron_recipe');
$node->init;
# the README's postgresql.conf for pg_cron, and nothing else: no cron.host,
# and the node listens on its unix socket only
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'zerodown, pg_cron'
zerodown.database = 'shop'
cron.database_name = 'shop'
cron.use_background_workers = on
lc_messages = 'C'
});
$node->start;
is($node->safe_psql('postgres', 'SHOW listen_addresses'), '',
	'the server listens on its unix socket only');

sub query
{
	my ($sql, @user) = @_;
	return $node->safe_psql('shop', $sql,
		@user ? (extra_params => [ '-U', $user[0] ]) : ());
}

sub poll_ok
{
	my ($sql, $expected, $what, $seconds) = @_;
	local $PostgreSQL::Test::Utils::timeout_default = $seconds // 90;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	return ok($node->poll_query_until('shop', $sql, $expected), $what);
}

# the README's setup: the extensions, a deployer, a managed ETL role
$node->safe_psql('postgres', 'CREATE DATABASE shop');
query(
	q{CREATE EXTENSION zerodown;
	  CREATE EXTENSION pg_cron;
	  CREATE ROLE ci LOGIN;
	  GRANT zerodown_deployer TO ci;
	  GRANT CREATE ON SCHEMA public TO ci;
	  GRANT USAGE ON SCHEMA cron TO ci;
	  CREATE ROLE etl LOGIN IN ROLE zerodown_job;
	  ALTER ROLE etl SET zerodown.managed = on;
	  CREATE TABLE etl_log (id serial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp(),
	                        managed text DEFAULT current_setting('zerodown.managed'));
	  GRANT INSERT ON etl_log TO etl;
	  GRANT USAGE ON SEQUENCE etl_log_id_seq TO etl;});
query(
	q{SELECT zd_register(1, 'orders', 'CREATE TABLE orders (id int);', 'DROP TABLE orders;');
	  SELECT zd_register(2, 'order_note', 'ALTER TABLE orders ADD COLUMN note text;',
	                     'ALTER TABLE orders DROP COLUMN note;');},
	'ci');

# a deployment done from outside holds the gate closed while the jobs fire
my $gate = $node->background_psql('shop');
is($gate->query_safe('SELECT zd_gate_close(0)'), 't', 'a session closes the gate');

# the recipe's jobs: the deployer schedules the deployment itself; the ETL
# job runs as the managed role
my $deploy_job =
  query(q{SELECT cron.schedule('deploy-2', '* * * * *', 'SELECT zd_deploy(2)')}, 'ci');
my $etl_job = query(
	q{SELECT cron.schedule_in_database('nightly-load', '* * * * *',
	                                   'INSERT INTO etl_log DEFAULT VALUES', 'shop', 'etl')});

poll_ok(q{SELECT count(*) > 0 FROM zerodown.deployments WHERE target = 2},
	't', 'pg_cron queued the deployment');
query("SELECT cron.unschedule($deploy_job)", 'ci');
is(query(q{SELECT requested_by FROM zerodown.deployments WHERE target = 2 LIMIT 1}),
	'ci', 'the deployment was requested by the deployer that scheduled it');
poll_ok(
	q{SELECT count(*) FROM zerodown.gate_jobs WHERE role = 'etl' AND status = 'waiting'},
	'1', 'the managed ETL job waits at the gate', 30);
is(query('SELECT count(*) FROM etl_log'), '0', 'the ETL job has not run yet');

# the gate opens: the ETL job runs, and the deployment too
$gate->query_safe('SELECT zd_gate_open()');
poll_ok(q{SELECT count(*) >= 1 FROM etl_log}, 't', 'the ETL job ran once the gate opened', 30);
query("SELECT cron.unschedule($etl_job)");
is(query(q{SELECT string_agg(DISTINCT managed, ',') FROM etl_log}), 'on',
	'as a managed transaction');
poll_ok(q{SELECT string_agg(state, ' ') FROM zerodown.deployments WHERE target = 2},
	'done', 'the deployment scheduled with pg_cron is done', 60);
is(query('SELECT zd_version()'), '2', 'the database stands at patch 2');

is( query(
		q{SELECT count(*) FROM cron.job_run_details
		   WHERE status <> 'succeeded' OR return_message ILIKE '%connection failed%'}),
	'0', 'every job succeeded: none failed to connect')
  or diag(query(q{SELECT jobid, status, return_message FROM cron.job_run_details}));

$gate->quit;
$node->stop;
done_testing();
