# A job waiting at the closed gate must not hold up a CREATE INDEX
# CONCURRENTLY of the deployment it waits for.  The waiting statement holds a
# snapshot, and CREATE INDEX CONCURRENTLY waits for every older snapshot: the
# deployment would wait for the job that waits for the deployment (found by
# bench/underload).  While it waits at the gate, a READ COMMITTED job is
# skipped by those snapshot waits, as PostgreSQL skips a safe concurrent
# index build (a REPEATABLE READ one is not: its snapshot is used again after
# the wait).  Before the fix, the deadlock detector cancelled job B.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('gate_cic');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'zerodown'
zerodown.database = 'postgres'
zerodown.lock_timeout = '300ms'
zerodown.lock_retries = 2
zerodown.lock_retry_delay = '100ms'
lc_messages = 'C'
});
$node->start;
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'zerodown launcher'")
  or die 'the worker did not start';

$node->safe_psql('postgres', q{
	CREATE EXTENSION zerodown;
	CREATE TABLE t (id integer, v integer);
	INSERT INTO t SELECT i, i % 100 FROM generate_series(1, 10000) i;
	SELECT zd_register(1, 't_v', E'-- zerodown:no-transaction\nCREATE INDEX CONCURRENTLY t_v ON t (v);',
	                   E'-- zerodown:no-transaction\nDROP INDEX CONCURRENTLY t_v;');
});

# job A runs
my $job_a = $node->background_psql('postgres');
$job_a->query_safe(q{SELECT zd_job_begin('a')});

# the deployment closes the gate and waits for job A
my $id = $node->safe_psql('postgres', 'SELECT zd_deploy(1)');
ok($node->poll_query_until('postgres', "SELECT state = 'closing' FROM zd_gate_status()"),
	'the gate is closing while job A runs');

# job B asks to start and waits at the gate, inside its statement
my $job_b = $node->background_psql('postgres');
$job_b->query_until(qr/b_waiting/, q{
	\echo b_waiting
	SELECT zd_job_begin('b');
	SELECT 'b started';
});
ok($node->poll_query_until('postgres',
		"SELECT EXISTS (SELECT FROM zerodown.gate_jobs WHERE job = 'b' AND status = 'waiting')"),
	'job B waits at the gate');

# job A ends: the deployment builds the index while job B still waits
$job_a->query_safe('SELECT zd_job_end()');
ok($node->poll_query_until('postgres',
		"SELECT state IN ('done', 'failed') FROM zerodown.deployments WHERE id = $id"),
	'the deployment ends');
is($node->safe_psql('postgres', "SELECT state || '|' || coalesce(error, '') FROM zerodown.deployments WHERE id = $id"),
	'done|', 'the index is built while a job waits at the gate');
is($node->safe_psql('postgres', "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_v'::regclass"),
	't', 'the index is valid');
ok($node->poll_query_until('postgres',
		"SELECT EXISTS (SELECT FROM zerodown.gate_jobs WHERE job = 'b' AND status = 'running')"),
	'job B starts once the gate opens');
$job_b->query_safe('SELECT zd_job_end()');
$job_a->quit;
$job_b->quit;

$node->stop;
done_testing();
