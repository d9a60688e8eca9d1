# A backfill runs as a step of a worker deployment: a no-transaction patch
# that CALLs zd_backfill, whose batches commit inside the worker's top-level
# statement.  The deployment does not depend on the client that queued it.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('worker_backfill');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'zerodown'\nzerodown.database = 'postgres'\nlc_messages = 'C'\n");
$node->start;

$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'zerodown launcher'")
  or die 'the worker did not start';

$node->safe_psql('postgres', q{
	CREATE EXTENSION zerodown;
	CREATE TABLE bu (id integer PRIMARY KEY, email text);
	INSERT INTO bu SELECT i, 'User' || i || '@Example.org' FROM generate_series(1, 20000) i;
	SELECT zd_register(1, 'expand_email',
		$$SELECT zd_expand_column('bu', 'email', 'email_normalized', 'text', 'lower(email)', 'email_normalized')$$,
		$$SELECT zd_abort('bu', 'email_normalized')$$);
	SELECT zd_register(2, 'backfill_email',
		E'-- zerodown:no-transaction\nCALL zd_backfill(''bu'', ''email_normalized'', 5000);', '');
});

# the client queues the deployment and goes away
my $id = $node->safe_psql('postgres', 'SELECT zd_deploy(2)');
ok($node->poll_query_until('postgres',
		"SELECT state IN ('done', 'failed', 'interrupted') FROM zerodown.deployments WHERE id = $id"),
	'the deployment ends');
is($node->safe_psql('postgres', "SELECT state || '|' || coalesce(error, '') FROM zerodown.deployments WHERE id = $id"),
	'done|', 'the deployment with a backfill step is done');
is($node->safe_psql('postgres', 'SELECT zd_version()'), '2', 'the database stands at patch 2');
is($node->safe_psql('postgres',
		'SELECT count(*) FILTER (WHERE email_normalized = lower(email)) || \'/\' || count(*) FROM bu'),
	'20000/20000', 'every existing row was backfilled');
is($node->safe_psql('postgres', "SELECT state FROM zerodown.expansions WHERE target = 'email_normalized'"),
	'backfilled', 'the expansion is recorded as backfilled');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM zerodown.history WHERE deployment = $id AND number = 2 AND direction = 'build'"),
	'1', 'the backfill step is in the history of the deployment');
is($node->safe_psql('postgres', 'SELECT state FROM zd_gate_status()'), 'open', 'the gate is open again');

$node->stop;
done_testing();
