# zd align, and the plan and status it shares a node with: connection
# failures, invalid folders, aligning up and down, patches outside a
# transaction (CREATE INDEX CONCURRENTLY), failing patches, the align lock.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use File::Basename qw(dirname);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ZdClient;

my $node = zd_node('zd_align');
my @conn = ('-h', $node->host, '-p', $node->port);
my ($rc, $out, $err);

# the folder of seed 002's DbAlign example, with a verify
my %dbalign = (
	'build/00001_create_table_example_a.sql' =>
	  "CREATE TABLE example_a (example_column_1 char(1));\n",
	'rollback/00001_create_table_example_a.sql' => "DROP TABLE example_a;\n",
	'build/00002_create_table_example_b.sql' =>
	  "CREATE TABLE example_b (example_column_1 char(1));\n",
	'rollback/00002_create_table_example_b.sql' => "DROP TABLE example_b;\n",
	'build/00003_alter_table_example_a.sql' =>
	  "ALTER TABLE example_a ADD COLUMN example_column_2 char(1);\n",
	'rollback/00003_alter_table_example_a.sql' =>
	  "ALTER TABLE example_a DROP COLUMN example_column_2;\n",
	'verify/00003_alter_table_example_a.sql' =>
	  "SELECT count(*) = 1 FROM pg_attribute WHERE attrelid = 'example_a'::regclass AND attname = 'example_column_2';\n"
);

#
# connection failures
#
($rc, $out, $err) =
  zd('-h', $node->host, '-p', PostgreSQL::Test::Cluster::get_free_port(),
	'-d', 'postgres', 'status');
is($rc, 1, 'bad port: exit 1');
like(
	$err,
	qr/^zd: error: connection to server .* failed: .*\S/,
	'bad port: clear message');

($rc, $out, $err) = zd(@conn, '-d', 'postgres', 'status');
is($rc, 1, 'database without the extension: exit 1');
like($err, qr/extension "zerodown" is not installed in database "postgres"/,
	'database without the extension: says so');

#
# an invalid folder: errors name the file, nothing is sent
#
new_db('folders');
foreach my $case (
	[
		{
			'build/00001_a.sql' => "SELECT 1;\n",
			'rollback/00001_a.sql' => '',
			'build/00002_b.sql' => "SELECT 2;\n"
		},
		qr/build file ".*\/build\/00002_b\.sql" has no rollback file/,
		'missing rollback'
	],
	[
		{
			'build/00001_a.sql' => "SELECT 1;\n",
			'rollback/00001_a.sql' => '',
			'build/00003_c.sql' => "SELECT 3;\n",
			'rollback/00003_c.sql' => ''
		},
		qr/patch 2 is missing from ".*\/build"/,
		'gap'
	],
	[
		{
			'build/00001_a.sql' => "SELECT 1;\n",
			'rollback/00001_a.sql' => '',
			'build/0002_b.sql' => "SELECT 2;\n"
		},
		qr/file name ".*\/build\/0002_b\.sql" is not NNNNN_name\.sql/,
		'bad file name'
	],
	[
		{
			'build/00001_a.sql' => "SELECT 1;\n",
			'rollback/00001_a.sql' => '',
			'build/00001_b.sql' => "SELECT 1;\n",
			'rollback/00001_b.sql' => ''
		},
		qr/two build files in ".*\/build" have number 1/,
		'duplicate number'
	],
	[
		{
			'build/00001_a.sql' => "SELECT 1;\n",
			'rollback/00001_a.sql' => '',
			'verify/00002_b.sql' => "SELECT true;\n"
		},
		qr/verify file ".*\/verify\/00002_b\.sql" has no build file/,
		'orphan verify'
	])
{
	my ($files, $message, $what) = @$case;
	my $dir = folder(%$files);

	foreach my $command ('align', 'plan')
	{
		($rc, $out, $err) = zd(@conn, '-d', 'folders', '-C', $dir, $command);
		is($rc, 1, "$what: $command exits 1");
		like($err, $message, "$what: $command names the file");
	}
}
($rc, $out, $err) =
  zd(@conn, '-d', 'folders', '-C', '/nonexistent/zd-folder', 'align');
is($rc, 1, 'missing folder: exit 1');
like($err, qr/migrations folder "\/nonexistent\/zd-folder" does not exist/,
	'missing folder: says so');
is(query('folders', 'SELECT count(*) FROM zerodown.patches'),
	'0', 'an invalid folder registers nothing');

#
# plan, align up, again, status, down, up
#
new_db('basic');
my $dbalign = folder(%dbalign);
my @basic = (@conn, '-d', 'basic', '-C', $dbalign);

($rc, $out, $err) = zd(@basic, 'plan');
is($rc, 0, 'plan exits 0');
like(
	$out,
	qr/^\s+1\s+00001\s+create_table_example_a\s+build\s+yes\s+1\s+\Q$dbalign\E\/build\/00001_create_table_example_a\.sql$/m,
	'plan shows step 1 with its file');
like($out, qr/^\s+3\s+00003\s+alter_table_example_a\s+build\s+yes\s+2\s/m,
	'plan counts the verify of step 3');
is(query('basic', 'SELECT count(*) FROM zerodown.patches'),
	'3', 'plan registered the folder');
is( query('basic', "SELECT source FROM zerodown.patches WHERE number = 1"),
	$dbalign, 'the source is the folder\'s absolute path');
is(query('basic', 'SELECT zd_version()'), '0', 'plan applied nothing');
is(query('basic', "SELECT to_regclass('example_a') IS NULL"),
	't', 'plan changed no schema');

($rc, $out, $err) = zd(@basic, 'align', '2');
is($rc, 0, 'align 2 exits 0');
like(
	$out,
	qr/^  built\s+00001_create_table_example_a\s+\d+ ms\n  built\s+00002_create_table_example_b\s+\d+ ms\nzd: database at patch 2$/m,
	'align 2 prints one line per step and where it ends');
is(query('basic', 'SELECT zd_version()'), '2', 'database at patch 2');

($rc, $out, $err) = zd(@basic, 'align');
is($rc, 0, 'align to the highest exits 0');
like($out, qr/built\s+00003_alter_table_example_a.*\nzd: database at patch 3$/m,
	'align builds patch 3');
is( query(
		'basic',
		"SELECT count(*) FROM pg_attribute WHERE attrelid = 'example_a'::regclass AND attname = 'example_column_2'"
	),
	'1',
	'patch 3 is built');

($rc, $out, $err) = zd(@basic, 'align');
is($rc, 0, 'second align exits 0');
is($out, "zd: database already at patch 3\n", 'second align does nothing');

($rc, $out, $err) = zd(@conn, '-d', 'basic', 'status');
is($rc, 0, 'status exits 0');
like($out, qr/^zd: database at patch 3$/m, 'status prints the version');
like(
	$out,
	qr/^\s+00001\s+create_table_example_a\s+yes\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\S*\s+no\s+yes\s+yes$/m,
	'status lists an applied patch');
is(scalar(() = $out =~ /^\s+0000\d\s/mg), 3, 'status lists the three patches');

($rc, $out, $err) = zd(@basic, 'plan', '0');
is($rc, 0, 'plan 0 exits 0');
like(
	$out,
	qr/^\s+1\s+00003\s.*rollback.*\n\s+2\s+00002\s.*rollback.*\n\s+3\s+00001\s.*rollback/m,
	'plan 0 rolls back 3, 2, 1');
is(query('basic', 'SELECT zd_version()'), '3', 'plan 0 ran nothing');

($rc, $out, $err) = zd(@basic, 'align', '0');
is($rc, 0, 'align 0 exits 0');
like(
	$out,
	qr/^  rolled back\s+00003\S+\s+\d+ ms\n  rolled back\s+00002\S+\s+\d+ ms\n  rolled back\s+00001\S+\s+\d+ ms\nzd: database at patch 0$/m,
	'align 0 rolls back 3, 2, 1');
is(query('basic', "SELECT to_regclass('example_a') IS NULL AND to_regclass('example_b') IS NULL"),
	't', 'align 0 dropped the tables');

($rc, $out, $err) = zd(@basic, '-q', 'align');
is($rc, 0, 'align up again exits 0');
is($out, '', '--quiet prints nothing on success');
is(query('basic', 'SELECT zd_version()'), '3', 'database at patch 3 again');

($rc, $out, $err) =
  zd(@conn, '-d', 'basic', '-C', '/nonexistent/zd-folder', '--no-register',
	'plan', '1');
is($rc, 0, 'plan --no-register does not read the folder');
like($out, qr/rollback.*\n.*rollback/, 'plan --no-register uses the registered patches');

{
	local $ENV{PGHOST} = $node->host;
	local $ENV{PGPORT} = $node->port;
	local $ENV{PGDATABASE} = 'basic';
	($rc, $out, $err) = zd('status');
	is($rc, 0, 'status with PGHOST, PGPORT and PGDATABASE');
	like($out, qr/database at patch 3/, 'the environment names the database');
}
($rc, $out, $err) = zd('-d', $node->connstr('basic'), 'status');
is($rc, 0, 'status with a connection string in -d');
like($out, qr/database at patch 3/, 'the connection string names the database');

# an applied patch whose text changed in the folder: refused, nothing registered
{
	my $changed = folder(%dbalign,
		'build/00002_create_table_example_b.sql' =>
		  "CREATE TABLE example_b (example_column_1 char(2));\n");

	($rc, $out, $err) = zd(@conn, '-d', 'basic', '-C', $changed, 'align');
	is($rc, 1, 'a changed applied patch: exit 1');
	like($err, qr/patch 2 "create_table_example_b" is applied and cannot be changed/,
		'a changed applied patch: the server\'s message');
	like($err, qr/While registering .*build\/00002_create_table_example_b\.sql/,
		'a changed applied patch: names the file');
	like($err, qr/^zd: database at patch 3$/m, 'a changed applied patch: says where the database is');
}

# drift: an applied patch whose registered text changed
{
	my $checksum = query('basic', 'SELECT checksum FROM zerodown.patches WHERE number = 1');

	query('basic', "UPDATE zerodown.patches SET checksum = 'changed' WHERE number = 1");
	($rc, $out, $err) = zd(@conn, '-d', 'basic', 'status');
	is($rc, 0, 'status with drift exits 0');
	like($out, qr/^  ! 00001\s+create_table_example_a\s.*DRIFT/m,
		'status marks the drifted patch');
	like($err, qr/warning: patch 1 "create_table_example_a" has changed since it was applied/,
		'status warns about drift');
	query('basic', "UPDATE zerodown.patches SET checksum = '$checksum' WHERE number = 1");
}

#
# a patch that runs outside a transaction: CREATE INDEX CONCURRENTLY
#
new_db('cic');
my $cic = folder(
	'build/00001_create_t.sql' =>
	  "CREATE TABLE t (id int PRIMARY KEY, v int);\nINSERT INTO t SELECT g, g % 10 FROM generate_series(1, 1000) g;\n",
	'rollback/00001_create_t.sql' => "DROP TABLE t;\n",
	'build/00002_index_t_v.sql' =>
	  "-- zerodown:no-transaction\n-- built without blocking writes\nCREATE INDEX CONCURRENTLY t_v_idx ON t (v);\n",
	'rollback/00002_index_t_v.sql' =>
	  "-- zerodown:no-transaction\nDROP INDEX CONCURRENTLY t_v_idx;\n",
	'verify/00002_index_t_v.sql' =>
	  "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_v_idx'::regclass;\n",
	'build/00003_add_w.sql' => "ALTER TABLE t ADD COLUMN w int;\n",
	'rollback/00003_add_w.sql' => "ALTER TABLE t DROP COLUMN w;\n");
my @cic = (@conn, '-d', 'cic', '-C', $cic);
my $index_state =
  "SELECT coalesce((SELECT indisvalid::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 't_v_idx'), 'none')";

($rc, $out, $err) = zd(@cic, 'plan');
is($rc, 0, 'plan with a no-transaction patch exits 0');
like($out, qr/^\s+2\s+00002\s+index_t_v\s+build\s+no\s+2\s/m,
	'plan shows the patch runs outside a transaction');

($rc, $out, $err) = zd(@cic, '-v', 'align');
is($rc, 0, 'align through a no-transaction patch exits 0');
like($out, qr/built\s+00002_index_t_v\s+\d+ ms  \(outside a transaction\)/,
	'the step says it ran outside a transaction');
like($out, qr/line 3:\n\s+CREATE INDEX CONCURRENTLY t_v_idx ON t \(v\)/,
	'--verbose prints the statement and its line');
like($out, qr/zd: database at patch 3$/m, 'database at patch 3');
is(query('cic', $index_state), 'true', 'the index exists and is valid');
is( query('cic', "SELECT string_agg(number || ' ' || direction, ', ' ORDER BY id) FROM zerodown.history"),
	'1 build, 2 build, 3 build',
	'every step is in the history');

($rc, $out, $err) = zd(@cic, 'align', '0');
is($rc, 0, 'align 0 through a no-transaction rollback exits 0');
like($out, qr/rolled back\s+00002_index_t_v.*\(outside a transaction\)/,
	'the rollback ran outside a transaction');
is(query('cic', $index_state), 'none', 'the index is gone');
is(query('cic', 'SELECT zd_version()'), '0', 'database at patch 0');

($rc, $out, $err) = zd(@cic, 'align');
is($rc, 0, 'align up again exits 0');
is(query('cic', $index_state), 'true', 'the index is back');

# a lock the no-transaction patch cannot get: retried, then reported
($rc, $out, $err) = zd(@cic, 'align', '1');
is($rc, 0, 'align 1 exits 0');
{
	my $holder = $node->background_psql('cic');
	$holder->query_safe('BEGIN');
	$holder->query_safe('LOCK TABLE t IN ACCESS EXCLUSIVE MODE');

	local $ENV{PGOPTIONS} =
	  '-c zerodown.lock_timeout=100 -c zerodown.lock_retries=1 -c zerodown.lock_retry_delay=50';
	($rc, $out, $err) = zd(@cic, 'align');
	is($rc, 1, 'a lock timeout after the retries: exit 1');
	like($err, qr/patch 2 "index_t_v" could not get its locks \(attempt 1 of 2\), retrying in \d+ ms/,
		'the lock timeout is retried');
	like($err, qr/patch 2 "index_t_v" failed: canceling statement due to lock timeout/,
		'the lock timeout is reported');
	like($err, qr/build\/00002_index_t_v\.sql, line 3: .* It was tried 2 times\./,
		'the report names the file, the line and the attempts');
	like($err, qr/hint: Raise zerodown\.lock_timeout or zerodown\.lock_retries/,
		'the hint names the settings');
	like($err, qr/^zd: database at patch 1$/m, 'the database stays at patch 1');

	$holder->query_safe('COMMIT');
	$holder->quit;
}
is(query('cic', 'SELECT count(*) FROM pg_index WHERE NOT indisvalid'),
	'0', 'no invalid index after the lock timeouts');
($rc, $out, $err) = zd(@cic, 'align');
is($rc, 0, 'align once the lock is free exits 0');
is(query('cic', $index_state), 'true', 'the index is built');

#
# a failing no-transaction patch: no invalid index stays behind
#
new_db('cicfail');
my $cicfail = folder(
	'build/00001_create_t.sql' =>
	  "CREATE TABLE t (id int PRIMARY KEY, v int);\nINSERT INTO t SELECT g, g % 10 FROM generate_series(1, 100) g;\n",
	'rollback/00001_create_t.sql' => "DROP TABLE t;\n",
	'build/00002_unique_v.sql' =>
	  "-- zerodown:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY t_v_key ON t (v);\n",
	'rollback/00002_unique_v.sql' =>
	  "-- zerodown:no-transaction\nDROP INDEX CONCURRENTLY t_v_key;\n",
	'build/00003_add_w.sql' => "ALTER TABLE t ADD COLUMN w int;\n",
	'rollback/00003_add_w.sql' => "ALTER TABLE t DROP COLUMN w;\n");

($rc, $out, $err) = zd(@conn, '-d', 'cicfail', '-C', $cicfail, 'align');
is($rc, 1, 'a failing CREATE UNIQUE INDEX CONCURRENTLY: exit 1');
like($out, qr/built\s+00001_create_t/, 'patch 1 was built');
unlike($out, qr/00003_add_w/, 'patch 3 was not run');
like($err, qr/patch 2 "unique_v" failed: could not create unique index "t_v_key"/,
	'the error names the patch');
like($err, qr/\Q$cicfail\E\/build\/00002_unique_v\.sql, line 2: CREATE UNIQUE INDEX CONCURRENTLY/,
	'the error names the file and the line');
like($err, qr/Key \(v\)=\(\d+\) is duplicated/, 'the server\'s detail is shown');
like($err, qr/dropped invalid index "public\.t_v_key"/, 'zd says it dropped the invalid index');
like($err, qr/^zd: database at patch 1$/m, 'zd says where the database stands');
is(query('cicfail', 'SELECT count(*) FROM pg_index WHERE NOT indisvalid'),
	'0', 'no invalid index is left');
is(query('cicfail', "SELECT to_regclass('t_v_key') IS NULL"), 't', 'the index is gone');
is(query('cicfail', 'SELECT zd_version()'), '1', 'the database stays at patch 1');

# an application's own CREATE INDEX CONCURRENTLY, started while a patch
# runs and still building when it fails, is none of zd's business (issue 13
# item 2): zd drops the index the failed statement names, not every index
# that became invalid during the step (DROP INDEX CONCURRENTLY would wait
# for the application's build to end, then drop its index)
new_db('appindex');
{
	my $dir = folder(
		'build/00001_create_t.sql' =>
		  "CREATE TABLE t (id int PRIMARY KEY, v int);\nINSERT INTO t SELECT g, g % 10 FROM generate_series(1, 100) g;\n",
		'rollback/00001_create_t.sql' => "DROP TABLE t;\n",
		'build/00002_index_missing.sql' =>
		  "-- zerodown:no-transaction\nSELECT pg_advisory_lock(4243);\nSELECT pg_advisory_unlock(4243);\n"
		  . "CREATE INDEX CONCURRENTLY missing_v_idx ON no_such_table (v);\n",
		'rollback/00002_index_missing.sql' =>
		  "-- zerodown:no-transaction\nDROP INDEX CONCURRENTLY missing_v_idx;\n");
	($rc, $out, $err) = zd(@conn, '-d', 'appindex', '-C', $dir, 'align', '1');
	is($rc, 0, 'appindex: align 1 exits 0');

	# the step starts, and waits for a lock the test holds
	my $holder = $node->background_psql('appindex');
	$holder->query_safe('SELECT pg_advisory_lock(4243)');
	my ($out2, $err2) = ('', '');
	my $run;
	{
		local $ENV{PGOPTIONS} = '-c zerodown.lock_timeout=0';
		$run = IPC::Run::start([ 'zd', @conn, '-d', 'appindex', '-C', $dir, 'align' ],
			'>', \$out2, '2>', \$err2,
			IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
	}
	ok( $node->poll_query_until('appindex',
			"SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'zd'"
			  . " AND wait_event_type = 'Lock' AND wait_event = 'advisory'"),
		'the patch runs, waiting for the lock');

	# meanwhile the application builds an index, which stays invalid while
	# an old snapshot lives
	my $snapshot = $node->background_psql('appindex');
	$snapshot->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
	$snapshot->query_safe('SELECT count(*) FROM t');
	my $app = $node->background_psql('appindex');
	$app->query_until(qr/building/,
		"\\echo building\nCREATE INDEX CONCURRENTLY app_v_idx ON t (v);\n");
	ok( $node->poll_query_until('appindex',
			"SELECT count(*) = 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
			  . " WHERE c.relname = 'app_v_idx' AND NOT i.indisvalid"),
		'the application\'s index is being built, invalid');

	# the patch goes on, and its CREATE INDEX CONCURRENTLY fails
	$holder->query_safe('SELECT pg_advisory_unlock(4243)');
	ok( $node->poll_query_until('appindex',
			"SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = 'zd'"),
		'zd ends while the application\'s index is still being built');
	$snapshot->query_safe('COMMIT');
	$run->finish;
	is($? >> 8, 1, 'the failing patch exits 1');
	like($err2, qr/relation "no_such_table" does not exist/, 'zd reports the failure');
	unlike($err2, qr/app_v_idx/, 'zd does not touch the application\'s index');
	$app->quit;
	$snapshot->quit;
	$holder->quit;
	is( query('appindex',
			"SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
			  . " WHERE c.relname = 'app_v_idx'"),
		't', 'the application\'s index is built and valid');
}

# a failing statement of several lines is shown whole (issue 11 item 11),
# not by its first line
new_db('cicfail_lines');
{
	my $lines = folder(
		'build/00001_create_t.sql' =>
		  "CREATE TABLE t (id int PRIMARY KEY, v int);\nINSERT INTO t SELECT g, g % 10 FROM generate_series(1, 100) g;\n",
		'rollback/00001_create_t.sql' => "DROP TABLE t;\n",
		'build/00002_unique_v.sql' =>
		  "-- zerodown:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY t_v_key\n    ON t (v)\n    WHERE v IS NOT NULL;\n",
		'rollback/00002_unique_v.sql' =>
		  "-- zerodown:no-transaction\nDROP INDEX CONCURRENTLY t_v_key;\n");

	($rc, $out, $err) = zd(@conn, '-d', 'cicfail_lines', '-C', $lines, 'align');
	is($rc, 1, 'a failing statement of three lines: exit 1');
	like(
		$err,
		qr/^zd: detail: \Q$lines\E\/build\/00002_unique_v\.sql, line 2:\n    CREATE UNIQUE INDEX CONCURRENTLY t_v_key\n        ON t \(v\)\n        WHERE v IS NOT NULL\n/m,
		'the detail shows the whole statement, each line indented');
}

#
# a failing ordinary patch: the database stays at the last good patch
#
new_db('fail');
my $fail = folder(%dbalign,
	'build/00003_alter_table_example_a.sql' =>
	  "SELECT 1;\n\nINSERT INTO no_such_table VALUES (1);\n",
	'verify/00003_alter_table_example_a.sql' => "SELECT true;\n");

($rc, $out, $err) = zd(@conn, '-d', 'fail', '-C', $fail, 'align');
is($rc, 1, 'a failing patch: exit 1');
like($out, qr/built\s+00001\S+\s+\d+ ms\n  built\s+00002\S+\s+\d+ ms\n\z/,
	'patches 1 and 2 were built');
like($err, qr/^zd: error: patch 3 "alter_table_example_a" failed: relation "no_such_table" does not exist$/m,
	'the error names the patch and the server\'s message');
like($err, qr/^zd: detail: \Q$fail\E\/build\/00003_alter_table_example_a\.sql, line 3: INSERT INTO no_such_table/m,
	'the error names the file and the line');
like($err, qr/^zd: hint: /m, 'the hint is shown');
like($err, qr/^zd: database at patch 2$/m, 'zd says where the database stands');
is(query('fail', 'SELECT zd_version()'), '2', 'the database is at the last good patch');


# deploy serves one database: zerodown.database
($rc, $out, $err) = zd(@basic, 'deploy');
is($rc, 1, 'deploy from a database the worker does not serve exits 1');
like($err, qr/the zerodown worker serves database "postgres", not "basic"/,
	'deploy says which database the worker serves');

#
# a run waits for another holder of the align lock
#
{
	my $holder = $node->background_psql('basic');
	$holder->query_safe('SELECT pg_advisory_lock(2053468783, 2)');

	delete local $ENV{PGAPPNAME};
	my ($wout, $werr) = ('', '');
	my $run = IPC::Run::start([ 'zd', @basic, 'align', '1' ],
		'>', \$wout, '2>', \$werr);
	ok( $node->poll_query_until(
			'basic',
			"SELECT count(*) = 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
			  . " WHERE l.locktype = 'advisory' AND NOT l.granted AND a.application_name = 'zd'"
		),
		'zd waits for the align lock, as application "zd"');
	is(query('basic', 'SELECT zd_version()'), '3', 'nothing ran while waiting');

	$holder->query_safe('SELECT pg_advisory_unlock(2053468783, 2)');
	$run->finish;
	is($? >> 8, 0, 'zd goes on once the lock is free');
	like($werr, qr/waiting for another deployment/, 'zd said it was waiting');
	like($wout, qr/zd: database at patch 1$/m, 'zd aligned after waiting');
	$holder->quit;
}

$node->stop;
done_testing();
