# zd new: numbering, headers, never overwriting; no connection.

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

my ($rc, $out, $err);

#
# zd new: numbering, headers, never overwriting; no connection
#
{
	my $dir = PostgreSQL::Test::Utils::tempdir . '/migrations';

	($rc, $out, $err) = zd('-C', $dir, 'new', 'create_orders');
	is($rc, 0, 'new in a missing folder exits 0');
	is( $out,
		"$dir/build/00001_create_orders.sql\n$dir/rollback/00001_create_orders.sql\n",
		'new prints the two paths of patch 00001');
	ok(-f "$dir/build/00001_create_orders.sql"
		  && -f "$dir/rollback/00001_create_orders.sql",
		'new creates build/ and rollback/ files');
	like(
		slurp_file("$dir/build/00001_create_orders.sql"),
		qr/^-- build\/00001_create_orders\.sql: patch 1 "create_orders"\n--.*zerodown:no-transaction/s,
		'the build file starts with a comment header');
	like(
		slurp_file("$dir/rollback/00001_create_orders.sql"),
		qr/^-- rollback\/00001_create_orders\.sql: undoes patch 1/,
		'the rollback file starts with a comment header');

	($rc, $out, $err) = zd('-C', $dir, 'new', 'add-index');
	is($rc, 0, 'second new exits 0');
	like($out, qr/build\/00002_add-index\.sql\n/,
		'second new is numbered 00002');

	append_to_file("$dir/rollback/00003_third.sql", "SELECT 'mine';\n");
	($rc, $out, $err) = zd('-C', $dir, 'new', 'third');
	is($rc, 1, 'new refusing to overwrite exits 1');
	like($err, qr/file ".*rollback\/00003_third\.sql" already exists/,
		'new names the file it will not overwrite');
	ok(!-e "$dir/build/00003_third.sql", 'new created nothing');
	is(slurp_file("$dir/rollback/00003_third.sql"),
		"SELECT 'mine';\n", 'the existing file is untouched');

	append_to_file("$dir/build/notes.txt", "x");
	($rc, $out, $err) = zd('-C', $dir, 'new', 'fourth');
	is($rc, 1, 'new in a folder with a stray file exits 1');
	like($err, qr/file name ".*build\/notes\.txt" is not NNNNN_name\.sql/,
		'new names the stray file');
}

done_testing();
