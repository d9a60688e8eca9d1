# A newcomer's first day, as issue 11 found it (items 1 and 3): what the
# messages tell a user to do works, and what does nothing says so.
#
# - zd_deploy from a database the worker does not serve: the hint's command
#   (ALTER SYSTEM SET zerodown.database, then a restart) is run as written,
#   and the deployment then runs.  Before, the hint first said to deploy
#   from the other database, whose patches are not this one's.
# - without shared_preload_libraries: SET zerodown.managed = on (and ALTER
#   ROLE ... SET) is refused with SQLSTATE 55000, a role's setting that
#   arrives when the library loads warns, and postgresql.conf's
#   zerodown.database is not reported invalid in every session.  Before,
#   the setting read "on" and did nothing.
# - the role zerodown_deployer is cluster-wide: DROP EXTENSION in one
#   database leaves it to the others; the README's steps drop it.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# run $sql expecting an error: returns (sqlstate, the whole stderr)
sub fails
{
	my ($node, $db, $sql, %opts) = @_;
	my ($out, $err) = ('', '');
	$node->psql($db, "\\set VERBOSITY verbose\n$sql",
		stdout => \$out, stderr => \$err, timeout => 60, %opts);
	my $state = $err =~ /ERROR:  ([0-9A-Z]{5}):/ ? $1 : "no error ($out)";
	return ($state, $err);
}

# ---------- item 1: the hint of zd_deploy, followed as written ----------

my $node = PostgreSQL::Test::Cluster->new('first_day');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'zerodown'\nlc_messages = 'C'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE shop');
$node->safe_psql(
	'shop', q{
	CREATE EXTENSION zerodown;
	SELECT zd_register(1, 'orders', 'CREATE TABLE orders (id int);', 'DROP TABLE orders;');
});

my ($state, $err) = fails($node, 'shop', 'SELECT zd_deploy(1)');
is($state, '55000', 'zd_deploy from a database the worker does not serve');
like($err, qr/the zerodown worker serves database "postgres", not "shop"/,
	'the error names both databases');
unlike($err, qr/Deploy from database/i,
	'the hint does not send the user to another database, whose patches are not these');
my ($command) = $err =~ /(ALTER SYSTEM SET zerodown\.database = [^;]+;)/;
ok(defined $command, 'the hint gives the command to run')
  or diag($err);
$command //= 'SELECT 1';
$node->safe_psql('postgres', $command);
$node->restart;
my $id = $node->safe_psql('shop', 'SELECT zd_deploy(1)');
ok( $node->poll_query_until(
		'shop', "SELECT state FROM zerodown.deployments WHERE id = $id", 'done'),
	'after the hint\'s command and a restart, the worker runs the deployment');
is($node->safe_psql('shop', 'SELECT zd_version()'), '1', 'the database stands at patch 1');

# ---------- item 3: the role outlives DROP EXTENSION, and how to drop it ----------

$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->safe_psql(
	'other', q{
	CREATE SCHEMA tools;
	CREATE EXTENSION zerodown SCHEMA tools;
	GRANT USAGE ON SCHEMA tools TO zerodown_deployer;
	CREATE ROLE ci LOGIN IN ROLE zerodown_deployer;
});
$node->safe_psql('shop', 'DROP TABLE orders; DROP EXTENSION zerodown');
is( $node->safe_psql(
		'shop', q{SELECT count(*) FROM pg_roles WHERE rolname = 'zerodown_deployer'}),
	'1',
	'DROP EXTENSION leaves the role zerodown_deployer: it is cluster-wide');
is( $node->safe_psql(
		'other', q{SELECT tools.zd_version()}, extra_params => [ '-U', 'ci' ]),
	'0', 'the other database\'s deployers still deploy');

# the README's steps: drop the extension in every database, what was granted
# to the role there, then the role
($state, $err) = fails($node, 'postgres', 'DROP ROLE zerodown_deployer');
is($state, '2BP01', 'the role cannot be dropped while a database uses it');
$node->safe_psql('other', 'DROP EXTENSION zerodown; DROP OWNED BY zerodown_deployer');
$node->safe_psql('postgres', 'DROP ROLE zerodown_deployer');
is( $node->safe_psql(
		'postgres', q{SELECT count(*) FROM pg_roles WHERE rolname IN ('zerodown_deployer', 'ci')}),
	'1', 'the README\'s steps drop the role; its members stay');
$node->safe_psql('other', 'CREATE EXTENSION zerodown SCHEMA tools');
is( $node->safe_psql(
		'postgres', q{SELECT count(*) FROM pg_roles WHERE rolname = 'zerodown_deployer'}),
	'1', 'CREATE EXTENSION creates it again');
$node->stop;

# ---------- item 3: zerodown.managed without shared_preload_libraries ----------

my $np = PostgreSQL::Test::Cluster->new('first_day_not_preloaded');
$np->init;
# the README's settings, but the library is not preloaded
$np->append_conf('postgresql.conf',
	"zerodown.database = 'shop'\nlc_messages = 'C'\n");
$np->start;
$np->safe_psql('postgres', 'CREATE DATABASE shop');
$np->safe_psql('shop', 'CREATE EXTENSION zerodown; CREATE ROLE etl LOGIN IN ROLE zerodown_job');

my ($out, $stderr) = ('', '');
$np->psql('shop', q{SELECT zd_job_begin('first'); SELECT zd_job_end();},
	stdout => \$out, stderr => \$stderr);
unlike($stderr, qr/invalid configuration parameter name "zerodown\.database"/,
	'postgresql.conf\'s zerodown.database is not reported invalid when the library loads');

($state, $err) = fails($np, 'shop',
	q{SELECT zd_job_begin('load'); SELECT zd_job_end(); SET zerodown.managed = on});
is($state, '55000', 'SET zerodown.managed = on without preloading is refused');
like($err, qr/zerodown\.managed needs zerodown in shared_preload_libraries/,
	'the error says why');
like($err, qr/HINT:  Add zerodown to shared_preload_libraries/, 'the hint says what to do');

($state, $err) = fails($np, 'shop',
	q{SELECT zd_job_begin('load'); SELECT zd_job_end(); ALTER ROLE etl SET zerodown.managed = on});
is($state, '55000', 'ALTER ROLE ... SET zerodown.managed = on is refused too');

# a session that never loaded the library keeps the value as a placeholder:
# the session that later loads it is warned, not silently unmanaged
$np->safe_psql('shop', 'ALTER ROLE etl SET zerodown.managed = on');
($out, $stderr) = ('', '');
$np->psql('shop', q{SELECT zd_job_begin('etl'); SELECT zd_job_end();},
	stdout => \$out, stderr => \$stderr, extra_params => [ '-U', 'etl' ]);
like($stderr,
	qr/WARNING:  zerodown\.managed is on, but zerodown is not in shared_preload_libraries/,
	'a managed role\'s session is warned that it is not held by the gate');
$np->stop;

done_testing();
