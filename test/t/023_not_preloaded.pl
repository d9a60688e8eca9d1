# Without shared_preload_libraries the extension still installs and aligns;
# what needs the background worker (zd_deploy, zd_deploy_wait) fails with
# SQLSTATE 55000 (object not in prerequisite state) and a hint to set
# shared_preload_libraries, before anything is queued.  Named jobs still hold
# the gate; closing it is refused, since a managed session that never loaded
# the library could not be held by it.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename qw(dirname);

my $node = PostgreSQL::Test::Cluster->new('not_preloaded');
$node->init;
$node->append_conf('postgresql.conf', "lc_messages = 'C'\n");
$node->start;

sub query
{
	my ($sql) = @_;
	return $node->safe_psql('postgres', $sql);
}

# run $sql expecting an error: returns (sqlstate, the whole stderr)
sub fails
{
	my ($sql) = @_;
	my ($out, $err) = ('', '');
	$node->psql('postgres', "\\set VERBOSITY verbose\n$sql",
		stdout => \$out, stderr => \$err, timeout => 60);
	my $state = $err =~ /ERROR:  ([0-9A-Z]{5}):/ ? $1 : "no error ($out)";
	return ($state, $err);
}

is(query(q{SHOW shared_preload_libraries}), '', 'zerodown is not preloaded');
is( query(
		q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'zerodown launcher'}),
	'0', 'no worker runs');

query('CREATE EXTENSION zerodown');
my ($version) = slurp_file(dirname(__FILE__) . '/../../zerodown.control')
  =~ /^default_version = '([^']+)'/m;
is(query(q{SELECT extversion FROM pg_extension WHERE extname = 'zerodown'}),
	$version, 'CREATE EXTENSION works');
query(
	q{SELECT zd_register(1, 'np_a', 'CREATE TABLE np_a (id int);', 'DROP TABLE np_a;');
	  SELECT zd_register(2, 'np_b', 'CREATE TABLE np_b (id int);', 'DROP TABLE np_b;');});
is(query('SELECT zd_align(2)'), '2', 'zd_align works');
is(query(q{SELECT zd_version(), to_regclass('np_b') IS NOT NULL}), '2|t',
	'the database stands at patch 2');
is(query('SELECT zd_align(1)'), '1', 'zd_align rolls back');

my ($state, $err) = fails('SELECT zd_deploy(2)');
is($state, '55000', 'zd_deploy without the worker');
like($err, qr/ERROR:  55000: zd_deploy needs zerodown in shared_preload_libraries/,
	'the error says zd_deploy needs the library preloaded');
like($err, qr/HINT:  .*shared_preload_libraries/, 'the hint names shared_preload_libraries');
is(query('SELECT count(*) FROM zerodown.deployments'), '0', 'nothing was queued');

($state, $err) = fails('SELECT zd_deploy_wait(1, 1000)');
is($state, '55000', 'zd_deploy_wait without the worker');
like($err, qr/HINT:  .*shared_preload_libraries/, 'its hint names shared_preload_libraries');

# named jobs still hold the gate (they load the library)
is( query(
		q{SELECT zd_job_begin('np_job');
		  SELECT running_jobs FROM zd_gate_status();
		  SELECT zd_job_end();}),
	"\n1\n", 'a named job holds the gate without the worker');

# closing the gate is refused: a managed session that never loaded the
# library could not be held by it, so a closed gate would be a false promise
($state, $err) = fails('SELECT zd_gate_close(0)');
is($state, '55000', 'closing the gate without preloading is refused');
like($err, qr/HINT:  .*shared_preload_libraries/, 'its hint names shared_preload_libraries');
is(query('SELECT state FROM zd_gate_status()'), 'open', 'the gate stays open');

$node->stop;
done_testing();
