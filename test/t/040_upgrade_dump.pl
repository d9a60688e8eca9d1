# Upgrading and dumping: what a user who installed release 0.1.0 yesterday
# has in the database must survive "ALTER EXTENSION zerodown UPDATE" and a
# pg_dump / restore, and keep working.
#
# The database is built with the 0.1.0 script (CREATE EXTENSION ... VERSION
# '0.1.0'): patches registered and applied, history, a placeholder value, an
# expansion whose backfill has not run, and a deployment still queued (the
# server is not preloaded while 0.1.0 is in use, so nothing runs it yet; the
# row is the one zd_deploy writes).  Then the extension is updated, and the
# server restarted with zerodown preloaded: the rows are all there, the
# queued deployment runs, the expansion's triggers still mirror writes, its
# backfill and contract work.  Last, pg_dump of that database is restored into
# another one, which must stand at the same version with the same history and
# align down and up again.

use strict;
use warnings;

use File::Basename qw(dirname);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my ($version) = slurp_file(dirname(__FILE__) . '/../../zerodown.control')
  =~ /^default_version = '([^']+)'/m;

my $node = PostgreSQL::Test::Cluster->new('upgrade_dump');
$node->init;
$node->append_conf('postgresql.conf', qq{
lc_messages = 'C'
zerodown.database = 'app'
});
$node->start;

sub query
{
	my ($sql, $db) = @_;
	return $node->safe_psql($db // 'app', $sql);
}

# what 0.1.0's tables hold, column by column as 0.1.0 defined them, so that
# columns a later release adds do not count as a change
my %kept = (
	patches => q{SELECT string_agg(concat_ws('|', number, name, build_sql, rollback_sql,
			verify_sql, build_transactional, rollback_transactional, checksum, source), E'\n'
			ORDER BY number) FROM zerodown.patches},
	applied => q{SELECT string_agg(concat_ws('|', number, name, checksum, applied_at,
			applied_by), E'\n' ORDER BY number) FROM zerodown.applied},
	history => q{SELECT string_agg(concat_ws('|', id, number, direction, checksum,
			started_at, attempts, outcome, role), E'\n' ORDER BY id) FROM zerodown.history},
	vars => q{SELECT string_agg(concat_ws('|', name, value), E'\n' ORDER BY name)
			FROM zerodown.vars},
	deployments => q{SELECT string_agg(concat_ws('|', id, target, state, requested_by),
			E'\n' ORDER BY id) FROM zerodown.deployments},
	expansions => q{SELECT string_agg(concat_ws('|', id, kind, relid, target,
			old_columns, new_columns, up, down, triggers, watermark, state), E'\n' ORDER BY id)
			FROM zerodown.expansions},);

sub snapshot
{
	my ($db) = @_;
	return { map { $_ => query($kept{$_}, $db) } keys %kept };
}

#
# release 0.1.0, as a user had it
#
$node->safe_psql('postgres', 'CREATE DATABASE app');
query(q{CREATE EXTENSION zerodown VERSION '0.1.0'});
is(query(q{SELECT extversion FROM pg_extension WHERE extname = 'zerodown'}),
	'0.1.0', 'release 0.1.0 installs from its own script');

query(q{
	CREATE ROLE app_reader;
	SELECT zd_set_var('reader', 'app_reader');
	SELECT zd_register(1, 'users',
		'CREATE TABLE users (id bigint PRIMARY KEY, email text);
		 INSERT INTO users SELECT g, ''u'' || g || ''@example.com'' FROM generate_series(1, 500) g;',
		'DROP TABLE users;');
	SELECT zd_register(2, 'grant_reader', 'GRANT SELECT ON users TO ${reader};',
		'REVOKE SELECT ON users FROM ${reader};');
	SELECT zd_register(3, 'orders', 'CREATE TABLE orders (id int, user_id bigint);',
		'DROP TABLE orders;');
	SELECT zd_align(2);
	SELECT zd_expand_column('users', 'email', 'email_address', 'text', 'email', 'email_address');
	INSERT INTO zerodown.deployments (target) VALUES (3);
});
is(query('SELECT zd_version()'), '2', '0.1.0 stands at patch 2');
is( query(q{SELECT state FROM zerodown.expansions}),
	'expanded', 'an expansion is active, its backfill not run');
my $before = snapshot('app');

#
# the upgrade
#
query('ALTER EXTENSION zerodown UPDATE');
is(query(q{SELECT extversion FROM pg_extension WHERE extname = 'zerodown'}),
	$version, "ALTER EXTENSION UPDATE reaches $version");
my $after = snapshot('app');
is($after->{$_}, $before->{$_}, "zerodown.$_ is kept by the upgrade")
  for sort keys %kept;

# a fresh install is the same extension as an upgraded one
$node->safe_psql('postgres', 'CREATE DATABASE fresh');
query('CREATE EXTENSION zerodown', 'fresh');
my $objects = q{
	SELECT string_agg(pg_describe_object(classid, objid, objsubid), E'\n'
	                  ORDER BY pg_describe_object(classid, objid, objsubid))
	  FROM pg_depend
	 WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
	   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'zerodown')};
is(query($objects), query($objects, 'fresh'),
	'the upgraded extension has the objects of a fresh install');
my $functions = q{
	SELECT string_agg(p.oid::regprocedure || ' ' || pg_get_function_result(p.oid) || ' '
	                  || p.prosecdef || ' ' || coalesce(array_to_string(p.proconfig, ','), '')
	                  || ' ' || coalesce(array_to_string(p.proacl, ','), ''),
	                  E'\n' ORDER BY p.oid::regprocedure::text)
	  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
	 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
	   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'zerodown')};
is(query($functions), query($functions, 'fresh'),
	'its functions have the signatures, settings and grants of a fresh install');
my $tables = q{
	SELECT string_agg(c.relname || ' ' || coalesce(array_to_string(c.relacl, ','), ''),
	                  E'\n' ORDER BY c.relname)
	  FROM pg_class c WHERE c.relnamespace = 'zerodown'::regnamespace};
is(query($tables), query($tables, 'fresh'),
	'its tables, views and sequences have the grants of a fresh install');
$node->safe_psql('postgres', 'DROP DATABASE fresh');

#
# the new library preloaded: the queued deployment runs, the expansion works
#
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'zerodown'\n");
$node->restart;
ok( $node->poll_query_until(
		'app', q{SELECT state FROM zerodown.deployments WHERE target = 3}, 'done'),
	'the deployment queued under 0.1.0 runs after the upgrade');
is(query('SELECT zd_version()'), '3', 'the database stands at patch 3');

query(q{UPDATE users SET email = 'new@example.com' WHERE id = 7});
is(query(q{SELECT email_address FROM users WHERE id = 7}),
	'new@example.com', 'the expansion made under 0.1.0 still mirrors writes');
query(q{CALL zd_backfill('users', 'email_address')});
is( query(q{SELECT count(*) FROM users WHERE email_address IS DISTINCT FROM email}),
	'0', 'its backfill runs after the upgrade');

#
# pg_dump and restore
#
my $dump = $node->basedir . '/app.dump';
$node->command_ok(
	[ 'pg_dump', '-Fc', '-d', $node->connstr('app'), '-f', $dump ],
	'pg_dump of a database with zerodown');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok(
	[ 'pg_restore', '--exit-on-error', '-d', $node->connstr('restored'), $dump ],
	'pg_restore into another database');
my $dumped = snapshot('app');
my $restored = snapshot('restored');
is($restored->{$_}, $dumped->{$_}, "zerodown.$_ is restored")
  for sort keys %kept;
is(query('SELECT zd_version()', 'restored'), '3', 'the restored database stands at patch 3');
is( query(
		q{SELECT count(*) FROM pg_trigger WHERE tgrelid = 'users'::regclass AND NOT tgisinternal},
		'restored'),
	query(
		q{SELECT count(*) FROM pg_trigger WHERE tgrelid = 'users'::regclass AND NOT tgisinternal}
	),
	'the dual-write triggers are restored');
query(q{UPDATE users SET email = 'restored@example.com' WHERE id = 8}, 'restored');
is(query(q{SELECT email_address FROM users WHERE id = 8}, 'restored'),
	'restored@example.com', 'they mirror writes in the restored database');
query('SELECT zd_align(1)', 'restored');
is( query(q{SELECT zd_version(), to_regclass('orders') IS NULL}, 'restored'),
	'1|t', 'the restored database rolls back with the restored patches');
query('SELECT zd_align(3)', 'restored');
is(query('SELECT zd_version()', 'restored'), '3', 'and builds up again');

$node->stop;
done_testing();
