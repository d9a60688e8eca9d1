# End to end as a newcomer sets it up (issue 11 item 4): the README's setup
# followed step by step -- settings in postgresql.conf, a database that is
# not postgres, the extension in a schema of its own, a login role that is
# only a member of zerodown_deployer plus the privileges the README says a
# deployer needs -- then that role, never a superuser, runs a release with
# the zd client: it registers a folder, aligns up and down, expands a table,
# backfills it outside a transaction, and deploys the backfill and the
# contract through the worker.  Patches call zd_* functions unqualified.

use strict;
use warnings;

use File::Basename qw(dirname);
use File::Path qw(make_path);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# the zd built in this tree, before any other on PATH
$ENV{PATH} = "$ENV{TESTDIR}/src/zd:$ENV{PATH}"
  if defined $ENV{TESTDIR} && -x "$ENV{TESTDIR}/src/zd/zd";

my $node = PostgreSQL::Test::Cluster->new('deployer_end_to_end');
$node->init;
# the README's postgresql.conf
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'zerodown'
zerodown.database = 'shop'
lc_messages = 'C'
});
$node->start;

# the README's setup, as a superuser, in the database deployed to
$node->safe_psql('postgres', 'CREATE DATABASE shop');
$node->safe_psql(
	'shop', q{
	CREATE SCHEMA tools;
	CREATE EXTENSION zerodown SCHEMA tools;
	GRANT USAGE ON SCHEMA tools TO zerodown_deployer;
	CREATE ROLE ci LOGIN;
	GRANT zerodown_deployer TO ci;
	GRANT CREATE ON SCHEMA public TO ci;
});
is( $node->safe_psql(
		'shop', q{SELECT rolsuper OR rolcreaterole OR rolcreatedb FROM pg_roles WHERE rolname = 'ci'}),
	'f', 'the deployer is a plain login role');

# zd as the deployer, never a superuser
my @conn = ('-h', $node->host, '-p', $node->port, '-d', 'shop', '-U', 'ci');

sub zd
{
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'zd', @_ ], '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

sub query
{
	my ($sql) = @_;
	return $node->safe_psql('shop', $sql);
}

my $dir = PostgreSQL::Test::Utils::tempdir;
my %files = (
	'build/00001_create_users.sql' => q{
CREATE TABLE users (
    id serial PRIMARY KEY,
    username varchar(20) NOT NULL,
    address_line_1 varchar(100),
    address_line_2 varchar(100));
INSERT INTO users (username, address_line_1, address_line_2)
SELECT 'user' || g, g || ' High Street', 'Flat ' || g FROM generate_series(1, 500) g;
},
	'rollback/00001_create_users.sql' => "DROP TABLE users;\n",
	'build/00002_expand_addresses.sql' => q{
CREATE TABLE addresses (
    id serial PRIMARY KEY,
    user_id integer NOT NULL REFERENCES users (id),
    address_line_1 varchar(100),
    address_line_2 varchar(100));
CREATE INDEX ON addresses (user_id, id);
SELECT zd_expand_table('users', 'addresses', 'user_id',
                       ARRAY['address_line_1', 'address_line_2']);
},
	'rollback/00002_expand_addresses.sql' => q{
SELECT zd_abort('users', 'addresses');
DROP TABLE addresses;
},
	'build/00003_backfill_addresses.sql' => q{-- zerodown:no-transaction
CALL zd_backfill('users', 'addresses', batch_size => 100);
},
	'rollback/00003_backfill_addresses.sql' => '',
	'build/00004_contract_addresses.sql' => q{
SELECT zd_contract('users', 'addresses');
},
	'rollback/00004_contract_addresses.sql' => '',);
foreach my $path (sort keys %files)
{
	make_path(dirname("$dir/$path"));
	append_to_file("$dir/$path", $files{$path});
}

my ($rc, $out, $err);

# up to 3: the client runs the backfill itself, outside a transaction
($rc, $out, $err) = zd(@conn, '-C', $dir, 'align', '3');
is($rc, 0, 'the deployer aligns up to 3 with zd') or diag("$out\n$err");
is(query('SELECT tools.zd_version()'), '3', 'the database stands at 3');
is(query('SELECT count(*) FROM addresses'), '500', 'the backfill filled every address');
is(query(q{SELECT state FROM zerodown.expansions ORDER BY id DESC LIMIT 1}),
	'backfilled', 'the expansion is backfilled');

# a version 2 write goes through the triggers
query(q{INSERT INTO addresses (user_id, address_line_1) VALUES (1, 'Elm Road')});
is(query(q{SELECT address_line_1 FROM users WHERE id = 1}), '1 High Street',
	'the parent keeps its primary (first) address');

# down to 1 (zd_abort and DROP TABLE in a rollback) and up again
($rc, $out, $err) = zd(@conn, '-C', $dir, 'align', '1');
is($rc, 0, 'the deployer aligns down to 1') or diag("$out\n$err");
is(query(q{SELECT tools.zd_version(), to_regclass('addresses') IS NULL}), '1|t',
	'the expansion is undone');
($rc, $out, $err) = zd(@conn, '-C', $dir, 'align', '2');
is($rc, 0, 'the deployer aligns up to 2 again') or diag("$out\n$err");

# the backfill and the contract, deployed through the worker
($rc, $out, $err) = zd(@conn, '-C', $dir, 'deploy', '4', '--wait', '--timeout=120');
is($rc, 0, 'the deployer deploys 3 and 4 through the worker') or diag("$out\n$err");
is(query('SELECT tools.zd_version()'), '4', 'the database stands at 4');
is( query(
		q{SELECT count(*) FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname LIKE 'address%' AND NOT attisdropped}
	),
	'0',
	'the contract dropped the old columns');
is(query(q{SELECT count(*) FROM addresses}), '500', 'every address is in the new table');
is(query(q{SELECT state, requested_by FROM zerodown.deployments}), 'done|ci',
	'the deployment is done, requested by the deployer');

# the contract is irreversible: the plan down is refused, nothing changes
($rc, $out, $err) = zd(@conn, '-C', $dir, 'plan', '2');
is($rc, 1, 'planning below the contract fails');
like($err, qr/cannot roll back patch 4: a contract is irreversible/, 'and says why');
is(query('SELECT tools.zd_version()'), '4', 'the database stays at 4');

# every step the client ran was run as the deployer
is( query(
		q{SELECT string_agg(DISTINCT role, ',') FROM zerodown.history WHERE deployment IS NULL}),
	'ci', 'the client ran every step as the deployer');
is(query(q{SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'users'::regclass}),
	'ci', 'the deployer owns what its patches created');

$node->stop;
done_testing();
