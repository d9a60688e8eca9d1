# zerodown's settings written in postgresql.conf, as a DBA sets them, reach
# the server and the worker: the worker serves the database named by
# zerodown.database (not "postgres"), and zerodown.drain_timeout keeps its
# value from the start, without a reload.  Before the fix, the zerodown
# prefix was reserved before these settings were defined, so the server
# threw them away at start ("invalid configuration parameter name").

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('settings_from_conf');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'zerodown'
zerodown.database = 'shop'
zerodown.drain_timeout = '7s'
zerodown.lock_timeout = '3s'
lc_messages = 'C'
});
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE shop');

ok( $node->poll_query_until(
		'postgres',
		q{SELECT datname FROM pg_stat_activity WHERE backend_type = 'zerodown launcher'},
		'shop'),
	'the worker serves the database named in postgresql.conf');

is($node->safe_psql('shop', 'SHOW zerodown.drain_timeout'),
	'7s', 'zerodown.drain_timeout keeps its value from postgresql.conf');
is($node->safe_psql('shop', 'SHOW zerodown.database'),
	'shop', 'zerodown.database keeps its value from postgresql.conf');
is($node->safe_psql('shop', 'SHOW zerodown.lock_timeout'),
	'3s', 'zerodown.lock_timeout keeps its value from postgresql.conf');

my $log = slurp_file($node->logfile);
unlike($log, qr/invalid configuration parameter name "zerodown\./,
	'no zerodown setting is thrown away at start');

# a deployment queued in that database is run by the worker
$node->safe_psql('shop', q{
	CREATE EXTENSION zerodown;
	SELECT zd_register(1, 'orders', 'CREATE TABLE orders (id int);', 'DROP TABLE orders;');
});
my $id = $node->safe_psql('shop', 'SELECT zd_deploy(1)');
ok( $node->poll_query_until(
		'shop', "SELECT state FROM zerodown.deployments WHERE id = $id", 'done'),
	'the worker runs a deployment queued in that database');
is($node->safe_psql('shop', q{SELECT zd_version(), to_regclass('orders') IS NOT NULL}),
	'1|t', 'the deployment built patch 1');

$node->stop;
done_testing();
