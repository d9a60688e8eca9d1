# Both application versions write under load while the backfill runs, and
# afterwards the two shapes agree.
#
# Seed 004's users/addresses split (zd_expand_table) and an email column
# change (zd_expand_column) are expanded by a patch.  Then pgbench runs the
# version 1 writers (users' address columns, new users, accounts.email) and
# the version 2 writers (primary and extra addresses, accounts.
# email_normalized), several clients each, at the same time; meanwhile
# zd_backfill fills both expansions in batches with a pause, and its
# progress is watched in pg_stat_activity and zerodown.expansion_status.
# A version 1 and a version 2 writer of the same user can deadlock (each
# side's trigger locks the other side's row); PostgreSQL ends one of them
# and pgbench retries it (--max-tries), as an application would.
#
# Afterwards: every user's columns equal its primary address, every user
# with address values has an address row, every account's new column is
# computed from its old one, the backfill visited exactly the rows that
# existed at expand time; then the contract patch drops the old shape.

use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $users = 20000;
my $hot = 500;    # the writers pick users among the first $hot, so they meet
my $clients = 4;
my $seconds = 8;

my $node = PostgreSQL::Test::Cluster->new('dualwrite_load');
$node->init;
$node->append_conf(
	'postgresql.conf', qq{
shared_preload_libraries = 'zerodown'
lc_messages = 'C'
max_connections = 40
});
$node->start;

sub query
{
	my ($sql) = @_;
	return $node->safe_psql('postgres', $sql);
}

query('CREATE EXTENSION zerodown');

# version 1's schema, with data
query(
	qq{
CREATE TABLE users (id serial PRIMARY KEY, username varchar(20) NOT NULL,
                    address_line_1 varchar(100), address_line_2 varchar(100));
INSERT INTO users (username, address_line_1, address_line_2)
SELECT 'user' || i,
       CASE WHEN i % 3 <> 0 THEN i || ' Main St' END,
       CASE WHEN i % 5 = 0 THEN 'Apt ' || i END
  FROM generate_series(1, $users) i;
CREATE TABLE accounts (id integer PRIMARY KEY, email text);
INSERT INTO accounts SELECT i, 'User' || i || '\@Example.COM' FROM generate_series(1, $users) i;
});

# the expand patch, and its rollback
is( query(
		q{SELECT zd_register(1, 'expand_addresses_and_email',
$$CREATE TABLE addresses (
    id serial PRIMARY KEY,
    user_id integer NOT NULL REFERENCES users (id),
    address_line_1 varchar(100),
    address_line_2 varchar(100)
);
CREATE INDEX addresses_user_id ON addresses (user_id, id);
SELECT zd_expand_table('users', 'addresses', 'user_id', ARRAY['address_line_1', 'address_line_2']);
SELECT zd_expand_column('accounts', 'email', 'email_normalized', 'text', 'lower(email)', 'email_normalized');$$,
$$SELECT zd_abort('accounts', 'email_normalized');
SELECT zd_abort('users', 'addresses');
DROP TABLE addresses;$$)}),
	'registered',
	'the expand patch is registered');
is(query('SELECT zd_align(1)'), '1', 'the expand patch is applied');
is( query(q{SELECT string_agg(target || ':' || state || ':' || watermark, ' ' ORDER BY id) FROM zerodown.expansions}),
	"addresses:expanded:$users email_normalized:expanded:$users",
	'both expansions are recorded, with the highest key at expand time');

# the writers
my $dir = PostgreSQL::Test::Utils::tempdir;
my %scripts = (
	'v1_address.sql' => q{
\set uid random(1, :nusers)
\set n random(1, 1000000)
UPDATE users SET address_line_1 = 'v1 ' || :n || ' Side St' WHERE id = :uid;
},
	'v1_user.sql' => q{
\set n random(1, 1000000)
INSERT INTO users (username, address_line_1) VALUES ('new' || :n, 'v1 ' || :n || ' New St');
},
	'v1_email.sql' => q{
\set uid random(1, :nusers)
\set n random(1, 1000000)
UPDATE accounts SET email = 'V1.' || :n || '@Example.COM' WHERE id = :uid;
},
	'v2_primary.sql' => q{
\set uid random(1, :nusers)
\set n random(1, 1000000)
UPDATE addresses SET address_line_2 = 'v2 floor ' || :n
 WHERE id = (SELECT min(id) FROM addresses WHERE user_id = :uid);
},
	'v2_add.sql' => q{
\set uid random(1, :nusers)
\set n random(1, 1000000)
INSERT INTO addresses (user_id, address_line_1) VALUES (:uid, 'v2 ' || :n || ' Other Rd');
},
	'v2_remove.sql' => q{
\set uid random(1, :nusers)
DELETE FROM addresses
 WHERE id = (SELECT min(id) FROM addresses WHERE user_id = :uid)
   AND (SELECT count(*) FROM addresses WHERE user_id = :uid) > 1;
},
	'v2_email.sql' => q{
\set uid random(1, :nusers)
\set n random(1, 1000000)
UPDATE accounts SET email_normalized = 'v2.' || :n || '@example.com' WHERE id = :uid;
});
foreach my $name (keys %scripts)
{
	PostgreSQL::Test::Utils::append_to_file("$dir/$name", $scripts{$name});
}

sub pgbench
{
	my ($out, @files) = @_;
	return IPC::Run::start(
		[
			'pgbench', '-n', '-h', $node->host, '-p', $node->port,
			'-c', $clients, '-j', 2, '-T', $seconds,
			'--max-tries=50', '--failures-detailed',
			'-D', "nusers=$hot",
			(map { ('-f', "$dir/$_") } @files),
			'postgres'
		],
		'>', $out, '2>&1');
}

my ($v1_out, $v2_out, $bf_out) = ('', '', '');
my $v1 = pgbench(\$v1_out, 'v1_address.sql@5', 'v1_user.sql@1', 'v1_email.sql@4');
my $v2 = pgbench(\$v2_out, 'v2_primary.sql@4', 'v2_add.sql@2', 'v2_remove.sql@1',
	'v2_email.sql@4');

# let the writers start, then backfill both expansions with a pause
ok( $node->poll_query_until(
		'postgres',
		qq{SELECT count(*) >= 2 * $clients FROM pg_stat_activity
		    WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()}),
	'both versions\' pgbench clients are writing');
my $bf = IPC::Run::start(
	[
		'psql', '-X', '-v', 'ON_ERROR_STOP=1',
		'-h', $node->host, '-p', $node->port, '-d', 'postgres',
		'-c', q{CALL zd_backfill('users', 'addresses', batch_size => 500, pause_ms => 30)},
		'-c', q{CALL zd_backfill('accounts', 'email_normalized', batch_size => 500, pause_ms => 30)}
	],
	'>', \$bf_out, '2>&1');

# the backfill shows where it stands where a DBA looks
ok( $node->poll_query_until(
		'postgres',
		q{SELECT count(*) > 0 FROM pg_stat_activity
		   WHERE query LIKE 'zerodown: backfill of public.users (public.addresses): % of 20000 rows (%), % rows/s%'}),
	'pg_stat_activity shows the backfill\'s progress');
ok( $node->poll_query_until(
		'postgres',
		q{SELECT backfill_pid IS NOT NULL AND rows_done > 0 AND rows_total = 20000 AND rows_per_second > 0
		    FROM zerodown.expansion_status WHERE target = 'addresses'}),
	'zerodown.expansion_status shows rows done, total, rate and the backfill\'s pid');

$bf->finish;
is($?, 0, 'both backfills ran to the end under load');
$v1->finish;
$v2->finish;
like($v1_out, qr/number of failed transactions: 0 /, 'no version 1 transaction failed');
like($v2_out, qr/number of failed transactions: 0 /, 'no version 2 transaction failed');
my ($v1_tps) = $v1_out =~ /tps = ([\d.]+)/;
my ($v2_tps) = $v2_out =~ /tps = ([\d.]+)/;
my ($v1_retried) = $v1_out =~ /number of transactions retried: (\d+)/;
my ($v2_retried) = $v2_out =~ /number of transactions retried: (\d+)/;
note "version 1: $v1_tps tps, $v1_retried retried; version 2: $v2_tps tps, $v2_retried retried";
like($bf_out, qr/NOTICE:  backfilling public\.users \(public\.addresses\): 20000 rows to visit of 20000, in batches of 500/,
	'the backfill said what it would do');
like($bf_out, qr/NOTICE:  backfill of public\.accounts \(email_normalized\) done: 20000 rows visited/,
	'and that it was done');

# the two shapes agree
is( query(
		q{SELECT count(*) FROM users u
		   LEFT JOIN LATERAL (SELECT * FROM addresses a WHERE a.user_id = u.id ORDER BY a.id LIMIT 1) p ON true
		  WHERE (u.address_line_1, u.address_line_2) IS DISTINCT FROM (p.address_line_1, p.address_line_2)}),
	'0',
	'every user\'s columns equal its primary address');
is( query(
		q{SELECT count(*) FROM users u
		  WHERE (u.address_line_1 IS NOT NULL OR u.address_line_2 IS NOT NULL)
		    AND NOT EXISTS (SELECT FROM addresses a WHERE a.user_id = u.id)}),
	'0',
	'every user with an address has an address row');
is( query(q{SELECT count(*) FROM accounts WHERE email_normalized IS DISTINCT FROM lower(email)}),
	'0', 'every account\'s email_normalized is lower(email)');
ok(query(q{SELECT count(*) FROM users}) > $users, 'version 1 added users during the run');
is( query(
		q{SELECT string_agg(target || ':' || state || ':' || rows_done || '/' || rows_total, ' ' ORDER BY id)
		    FROM zerodown.expansion_status}),
	'addresses:backfilled:20000/20000 email_normalized:backfilled:20000/20000',
	'the backfills visited exactly the rows that existed at expand time');

# the contract patch
query(
	q{SELECT zd_register(2, 'contract_addresses_and_email',
$$SELECT zd_contract('users', 'addresses');
SELECT zd_contract('accounts', 'email_normalized');$$)});
is(query('SELECT zd_align(2)'), '2', 'the contract patch is applied');
is( query(
		q{SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
		   WHERE attrelid = 'users'::regclass AND attnum > 0 AND NOT attisdropped}),
	'id,username',
	'users has no address columns');
is( query(
		q{SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
		   WHERE attrelid = 'accounts'::regclass AND attnum > 0 AND NOT attisdropped}),
	'id,email_normalized',
	'accounts has only the new column');
is( query(
		q{SELECT count(*) FROM pg_trigger
		   WHERE tgrelid IN ('users'::regclass, 'addresses'::regclass, 'accounts'::regclass)
		     AND NOT tgisinternal}),
	'0',
	'no dual-write trigger is left');

# a backfill as a patch of its own: marked no-transaction, the zd client
# runs its CALL outside a transaction block, so it commits batch by batch
$node->safe_psql('postgres', 'CREATE DATABASE zdclient');
$node->safe_psql('zdclient',
	q{CREATE EXTENSION zerodown;
	  CREATE TABLE tags (id integer PRIMARY KEY, tag text);
	  INSERT INTO tags SELECT i, 'Tag' || i FROM generate_series(1, 2500) i;});
my $folder = PostgreSQL::Test::Utils::tempdir;
mkdir "$folder/build";
mkdir "$folder/rollback";
PostgreSQL::Test::Utils::append_to_file("$folder/build/00001_expand_tags.sql",
	"SELECT zd_expand_column('tags', 'tag', 'tag_lower', 'text', 'lower(tag)', 'upper(tag_lower)');\n");
PostgreSQL::Test::Utils::append_to_file("$folder/rollback/00001_expand_tags.sql",
	"SELECT zd_abort('tags', 'tag_lower');\n");
PostgreSQL::Test::Utils::append_to_file("$folder/build/00002_backfill_tags.sql",
	"-- zerodown:no-transaction\nCALL zd_backfill('tags', 'tag_lower', batch_size => 1000);\n");
PostgreSQL::Test::Utils::append_to_file("$folder/rollback/00002_backfill_tags.sql", "");
my ($zd_out, $zd_err) = ('', '');
IPC::Run::run(
	[
		'zd', '-h', $node->host, '-p', $node->port, '-d', 'zdclient',
		'-C', $folder, 'align', '2'
	],
	'>', \$zd_out, '2>', \$zd_err);
is($? >> 8, 0, 'zd aligns to the backfill patch') or diag($zd_out . $zd_err);
is( $node->safe_psql('zdclient',
		q{SELECT state || ' ' || rows_done || ' in ' || batches FROM zerodown.expansion_status WHERE target = 'tag_lower'}),
	'backfilled 2500 in 3',
	'the backfill patch ran outside a transaction, in three batches');

$node->stop;
done_testing();
