# The rules of a migrations folder, shared by zd's reader and the server's
# zd_load (src/common/rules.c): a rollback file that starts with
# "-- zerodown:irreversible" declares its patch irreversible, so that a real
# history with "not reversible" migrations can be laid out honestly, and
# aligning below it is refused as for zd_register with a NULL rollback; when
# a folder has several problems, the one with the lowest number comes first.
# The fixtures are under test/fixtures/history_*.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use File::Copy qw(copy);
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ZdClient;

my $node = zd_node('zd_folder');
my @conn = ('-h', $node->host, '-p', $node->port);
my ($rc, $out, $err);

my $history = fixture('history_irreversible');
my $errors = fixture('history_errors');

#
# an irreversible patch in the folder: built, and never rolled back
#
new_db('irreversible');
{
	my @zd = (@conn, '-d', 'irreversible', '-C', $history);

	($rc, $out, $err) = zd(@zd, 'align');
	is($rc, 0, 'align through an irreversible patch exits 0') or diag($err);
	like($out, qr/built\s+00003_lowercase_emails/, 'the irreversible patch is built');
	is(query('irreversible', 'SELECT zd_version()'), '4', 'the database is at patch 4');
	is(query('irreversible', 'SELECT string_agg(email, \',\' ORDER BY id) FROM accounts'),
		'ada@example.org,grace@example.org', 'the data migration ran');
	is( query('irreversible',
			'SELECT string_agg(number || \':\' || reversible, \',\' ORDER BY number) FROM zerodown.status'),
		'1:true,2:true,3:false,4:true',
		'patch 3 is registered irreversible: without rollback');
	is(query('irreversible', 'SELECT rollback_sql IS NULL FROM zerodown.patches WHERE number = 3'),
		't', 'its rollback is NULL, as zd_register with NULL records it');

	($rc, $out, $err) = zd(@zd, 'status');
	like($out, qr/^\s+00003\s+lowercase_emails\s+yes\s+\S+ \S+\s+no\s+no\s+yes\s+same$/m,
		'status shows patch 3 irreversible, and the same as the folder');

	# down to 3 is fine; below 3 is refused before anything runs
	($rc, $out, $err) = zd(@zd, 'align', '3');
	is($rc, 0, 'align 3 exits 0');
	($rc, $out, $err) = zd(@zd, 'align', '1');
	is($rc, 1, 'align below the irreversible patch exits 1');
	like($err, qr/^zd: error: patch 3 "lowercase_emails" is irreversible$/m,
		'zd says the patch is irreversible');
	like($err, qr/cannot go below it to patch 1\. Nothing was run\./,
		'zd says nothing was run');
	is(query('irreversible', 'SELECT zd_version()'), '3', 'the database stays at patch 3');
	($rc, $out, $err) = zd(@zd, 'plan', '0');
	is($rc, 1, 'plan below the irreversible patch exits 1');
	like($err, qr/patch 3 "lowercase_emails" is irreversible/, 'plan says why');

	# check: an irreversible patch passes, there is nothing to check
	($rc, $out, $err) = zd(@conn, '-d', new_db('irreversible_check'), '-C', $history, 'check');
	is($rc, 0, 'check of a folder with an irreversible patch exits 0') or diag($err);
	like($out, qr/^  00003\s+lowercase_emails\s+irreversible$/m, 'check calls it irreversible');
	like($out, qr/every patch passes the check \(1 irreversible: no rollback to check\)/,
		'check counts it');
}

#
# the server's reader follows the same rule
#
new_db('irreversible_load');
{
	is( query('irreversible_load',
			"SELECT string_agg(number || ' ' || action, ',' ORDER BY number) FROM zd_load('$history')"),
		'1 registered,2 registered,3 registered,4 registered',
		'zd_load registers the folder');
	is( query('irreversible_load',
			'SELECT string_agg(number || \':\' || reversible, \',\' ORDER BY number) FROM zerodown.status'),
		'1:true,2:true,3:false,4:true',
		'zd_load registers patch 3 without rollback');
	is( query('irreversible_load',
			'SELECT string_agg(checksum, \',\' ORDER BY number) FROM zerodown.patches'),
		query('irreversible', 'SELECT string_agg(checksum, \',\' ORDER BY number) FROM zerodown.patches'),
		'zd_load and zd register the same texts: the same checksums');
	query('irreversible_load', 'SELECT zd_align(4)');
	my ($code, $stdout, $stderr) = $node->psql('irreversible_load', 'SELECT zd_align(2)');
	like($stderr, qr/patch 3 "lowercase_emails" is irreversible/,
		'zd_align refuses to go below it');
}

#
# a marker followed by statements is refused by both readers: the
# statements would be a rollback that never runs
#
new_db('marker_text');
{
	my $dir = folder(
		'build/00001_create_t.sql' => "CREATE TABLE t (id int);\n",
		'rollback/00001_create_t.sql' =>
		  "-- zerodown:irreversible\n/* a comment is fine */\n-- so is this\nDROP TABLE t;\n");

	($rc, $out, $err) = zd(@conn, '-d', 'marker_text', '-C', $dir, 'align');
	is($rc, 1, 'a marker followed by a statement: zd exits 1');
	like($err, qr/^zd: error: rollback file ".*\/rollback\/00001_create_t\.sql" declares its patch irreversible but holds statements$/m,
		'zd names the file');
	like($err, qr/^zd: hint: Remove the statements to keep the patch irreversible/m,
		'zd says what to do');
	is(query('marker_text', 'SELECT count(*) FROM zerodown.patches'), '0', 'nothing was registered');

	my ($code, $stdout, $stderr) = $node->psql('marker_text', "SELECT * FROM zd_load('$dir')");
	like($stderr, qr/ERROR:  rollback file ".*\/rollback\/00001_create_t\.sql" declares its patch irreversible but holds statements/,
		'zd_load refuses it too');

	# comments only after the marker: irreversible
	my $ok = folder(
		'build/00001_create_t.sql' => "CREATE TABLE t (id int);\n",
		'rollback/00001_create_t.sql' =>
		  "\n  -- zerodown:irreversible\n/* why:\n   /* nested */ the data is gone */\n-- done\n");
	($rc, $out, $err) = zd(@conn, '-d', 'marker_text', '-C', $ok, 'align');
	is($rc, 0, 'a marker followed by comments only: zd exits 0') or diag($err);
	is(query('marker_text', 'SELECT reversible FROM zerodown.status WHERE number = 1'),
		'f', 'the patch is irreversible');
}

#
# several problems: the lowest number first, in zd (all of them) and in
# zd_load (the lowest)
#
new_db('errors');
{
	($rc, $out, $err) = zd(@conn, '-d', 'errors', '-C', $errors, 'plan');
	is($rc, 1, 'a folder with several problems: exit 1');
	my @errors = $err =~ /^zd: error: (.*)$/mg;
	is(scalar(@errors), 6, 'zd reports each problem') or diag($err);
	like($errors[0], qr/^build file ".*\/build\/00002_create_e2\.sql" has no rollback file$/,
		'first: patch 2, the lowest');
	like($errors[1], qr/^rollback file ".*\/rollback\/00004_create_e4\.sql" declares its patch irreversible but holds statements$/,
		'then patch 4');
	like($errors[2], qr/^file name ".*\/build\/6_create_e6\.sql" is not NNNNN_name\.sql$/,
		'then patch 6: the bad file name');
	like($errors[3], qr/^rollback file ".*\/rollback\/00006_create_e6\.sql" has no build file$/,
		'then patch 6: the rollback without its build');
	like($errors[4], qr/^patch 6 is missing from ".*\/build"$/, 'then patch 6: the gap');
	like($errors[5], qr/^patch 8 is missing from ".*\/build"$/, 'last: patch 8');
	like($err, qr/detail: The folder goes from patch 7 to patch 9\. Nothing was sent to the database\./,
		'the gap says where the folder goes');
	is(query('errors', 'SELECT count(*) FROM zerodown.patches'), '0', 'nothing was registered');

	my ($code, $stdout, $stderr) = $node->psql('errors', "SELECT * FROM zd_load('$errors')");
	like($stderr, qr/ERROR:  build file ".*\/build\/00002_create_e2\.sql" has no rollback file/,
		'zd_load reports the lowest problem');

	($rc, $out, $err) = zd(@conn, '-d', 'errors', '-C', $errors, '--json', 'plan');
	my $doc = eval { JSON::PP::decode_json($out) };
	ok(defined $doc, 'plan --json of a broken folder prints one JSON document') or diag($@);
	is(scalar(@{ $doc->{errors} }), 6, 'the document lists each problem');
	like($doc->{errors}[0]{message}, qr/00002_create_e2\.sql" has no rollback file/,
		'the lowest first');
	like($doc->{errors}[0]{hint}, qr/-- zerodown:irreversible/,
		'with its hint, which names the marker');
	ok(!$doc->{ok}, 'the document says it failed');
}

$node->stop;
done_testing();
