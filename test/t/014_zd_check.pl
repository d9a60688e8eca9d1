# zd check: does each rollback undo its build?

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

my $node = zd_node('zd_check');
my @conn = ('-h', $node->host, '-p', $node->port);
my ($rc, $out, $err);

#
# check: does each rollback undo its build?
#
new_db('checks');
{
	my $example = dirname(__FILE__) . '/../../examples/dbalign';

	($rc, $out, $err) = zd(@conn, '-d', 'checks', '-C', $example, 'check');
	is($rc, 0, 'check of examples/dbalign exits 0');
	like($out, qr/^zd: checking patches 1 to 3: /m, 'check says what it checks');
	is(scalar(() = $out =~ /^  0000[123]\s+\S+\s+ok$/mg), 3, 'every patch is ok');
	like($out, qr/^zd: every patch passes the check$/m, 'check says all passed');
	is(query('checks', 'SELECT zd_version()'), '0', 'check applied nothing');
	is(query('checks', "SELECT to_regclass('example_a') IS NULL"),
		't', 'check left no table behind');

	($rc, $out, $err) = zd(@conn, '-d', 'checks', '-C', $example, 'check', '1', '2');
	is($rc, 0, 'check FROM TO exits 0');
	like($out, qr/^zd: checking patch 2: /m, 'check 1 2 checks patch 2 only');
	is(scalar(() = $out =~ /^  0000\d\s/mg), 1, 'one patch is listed');
}

new_db('checkfail');
{
	my $forgetful = folder(
		'build/00001_create_t.sql' => "CREATE TABLE t (id int, v int);\n",
		'rollback/00001_create_t.sql' => "DROP TABLE t;\n",
		'build/00002_index_v.sql' => "CREATE INDEX t_v_idx ON t (v);\n",
		'rollback/00002_index_v.sql' => "-- forgets to drop the index\n",
		'build/00003_add_w.sql' => "ALTER TABLE t ADD COLUMN w int;\n",
		'rollback/00003_add_w.sql' => "ALTER TABLE t DROP COLUMN w;\n");

	($rc, $out, $err) = zd(@conn, '-d', 'checkfail', '-C', $forgetful, 'check');
	is($rc, 1, 'check of a rollback that forgets an index exits 1');
	like($out, qr/^  00001\s+create_t\s+ok$/m, 'patch 1 is ok');
	like($out, qr/^  00002\s+index_v\s+rollback does not undo the build\n\s+left behind: index CREATE INDEX t_v_idx ON public\.t USING btree \(v\)$/m,
		'patch 2 prints what its rollback left behind, indented under it');
	like($out, qr/^  00003\s+add_w\s+ok$/m, 'patch 3 is ok');
	like($err, qr/^zd: error: 1 of 3 patches checked failed the check$/m,
		'check says how many failed');
	like($err, qr/hint: Make each rollback undo exactly what its build does/,
		'check hints at the fix');
	is(query('checkfail', "SELECT to_regclass('t') IS NULL"), 't',
		'check left nothing behind');
}

#
# FROM at or above the highest patch (issue 11 item 11): nothing to check,
# said before anything is printed about patches that do not exist
#
new_db('checkrange');
{
	my $example = dirname(__FILE__) . '/../../examples/dbalign';

	($rc, $out, $err) = zd(@conn, '-d', 'checkrange', '-C', $example, 'check', '3');
	is($rc, 0, 'check FROM the highest patch exits 0');
	like($out, qr/^zd: nothing to check: patch 3 is the highest patch$/m,
		'check FROM the highest patch says there is nothing to check');
	unlike($out, qr/checking patches 4 to 3/, 'check does not announce patches 4 to 3');

	($rc, $out, $err) = zd(@conn, '-d', 'checkrange', '-C', $example, 'check', '5');
	is($rc, 1, 'check FROM above the highest patch exits 1');
	unlike($out, qr/checking/, 'check FROM above the highest patch announces nothing');
	like($err, qr/^zd: error: FROM \(5\) is above the highest patch, 3$/m,
		'check FROM above the highest patch says so');
	like($err, qr/^zd: hint: Give a FROM below 3\.$/m, 'and what to give');
}

$node->stop;
done_testing();
