# The folder is the truth (issue 11 item 5): a patch whose file left the
# folder, and that is not applied, is unregistered when zd registers the
# folder, so align never builds it; zd status compares the database with
# the folder, as sqitch status does: what is in the folder and not applied,
# what is applied and not in the folder, what changed, and drift.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use Cwd qw(getcwd);
use File::Path qw(remove_tree);
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ZdClient;

my $node = zd_node('zd_status');
my @conn = ('-h', $node->host, '-p', $node->port);
my ($rc, $out, $err);

my %three = (
	'build/00001_create_a.sql' => "CREATE TABLE a (id int);\n",
	'rollback/00001_create_a.sql' => "DROP TABLE a;\n",
	'build/00002_create_b.sql' => "CREATE TABLE b (id int);\n",
	'rollback/00002_create_b.sql' => "DROP TABLE b;\n",
	'build/00003_create_c.sql' => "CREATE TABLE c (id int);\n",
	'rollback/00003_create_c.sql' => "DROP TABLE c;\n");

#
# a registered patch whose file was deleted is not built: it is unregistered
#
new_db('deleted');
{
	my $dir = folder(%three);
	my @zd = (@conn, '-d', 'deleted', '-C', $dir);

	($rc, $out, $err) = zd(@zd, 'align', '2');
	is($rc, 0, 'align 2 exits 0');
	is(query('deleted', 'SELECT string_agg(number::text, \',\' ORDER BY number) FROM zerodown.patches'),
		'1,2,3', 'patch 3 is registered, not applied');

	unlink "$dir/build/00003_create_c.sql", "$dir/rollback/00003_create_c.sql";
	($rc, $out, $err) = zd(@zd, 'align');
	is($rc, 0, 'align after deleting patch 3 exits 0');
	like($out, qr/^zd: unregistered patch 3 "create_c": it is not applied, and its file is no longer in "\Q$dir\E"$/m,
		'align says it unregistered patch 3, and why');
	like($out, qr/^zd: database already at patch 2$/m, 'align builds nothing');
	is(query('deleted', "SELECT to_regclass('c') IS NULL"), 't', 'the deleted patch was not built');
	is(query('deleted', 'SELECT string_agg(number::text, \',\' ORDER BY number) FROM zerodown.patches'),
		'1,2', 'patch 3 is no longer registered');

	# plan, check and deploy register too: plan unregisters as well
	query('deleted', "SELECT zd_register(3, 'create_c', 'CREATE TABLE c (id int)', 'DROP TABLE c')");
	($rc, $out, $err) = zd(@zd, 'plan');
	is($rc, 0, 'plan exits 0');
	like($out, qr/^zd: unregistered patch 3 "create_c"/m, 'plan unregisters a patch not in the folder');
	like($out, qr/^zd: database already at patch 2, nothing to do$/m, 'plan plans nothing');

	# an applied patch whose file left the folder stays registered
	unlink "$dir/build/00002_create_b.sql", "$dir/rollback/00002_create_b.sql";
	($rc, $out, $err) = zd(@zd, 'align', '1');
	is($rc, 0, 'align 1 with applied patch 2 no longer in the folder exits 0');
	like($out, qr/rolled back\s+00002_create_b/, 'it rolls patch 2 back with its registered rollback');
	is(query('deleted', 'SELECT string_agg(number::text, \',\' ORDER BY number) FROM zerodown.patches'),
		'1,2', 'patch 2 was registered during the rollback');
	($rc, $out, $err) = zd(@zd, 'align');
	like($out, qr/^zd: unregistered patch 2 "create_b"/m,
		'once rolled back, the next align unregisters it');
	is(query('deleted', 'SELECT string_agg(number::text, \',\' ORDER BY number) FROM zerodown.patches'),
		'1', 'only patch 1 is registered');

	# --no-register leaves the registry alone
	query('deleted', "SELECT zd_register(2, 'create_b', 'CREATE TABLE b (id int)', 'DROP TABLE b')");
	($rc, $out, $err) = zd(@zd, '--no-register', 'plan');
	is($rc, 0, 'plan --no-register exits 0');
	like($out, qr/plan to patch 2/, 'plan --no-register plans with what is registered');
	is(query('deleted', 'SELECT count(*) FROM zerodown.patches'), '2', 'nothing was unregistered');
}

#
# zd status against the folder
#
new_db('compare');
{
	my $applied = folder(%three);
	($rc, $out, $err) = zd(@conn, '-d', 'compare', '-C', $applied, 'align');
	is($rc, 0, 'align 3 exits 0');

	# the folder as it is now: 1 as applied, 2 changed, 3 deleted, 4 new; and
	# 5 registered by hand, not applied, not in the folder
	my $dir = folder(%three,
		'build/00002_create_b.sql' => "CREATE TABLE b (id bigint);\n",
		'build/00004_create_d.sql' => "-- zerodown:no-transaction\nCREATE TABLE d (id int);\n",
		'rollback/00004_create_d.sql' => "-- zerodown:irreversible\n-- d stays\n");
	unlink "$dir/build/00003_create_c.sql", "$dir/rollback/00003_create_c.sql";
	rename "$dir/build/00004_create_d.sql", "$dir/build/00003_create_d.sql";
	rename "$dir/rollback/00004_create_d.sql", "$dir/rollback/00003_create_d.sql";
	# the folder: 1 same, 2 changed, 3 another patch than the applied one
	# (renamed), so the applied 3 counts as changed; 4 new
	append_to_file("$dir/build/00004_create_e.sql", "CREATE TABLE e (id int);\n");
	append_to_file("$dir/rollback/00004_create_e.sql", "DROP TABLE e;\n");
	query('compare',
		"SELECT zd_register(5, 'create_f', 'CREATE TABLE f (id int)', 'DROP TABLE f')");

	($rc, $out, $err) = zd(@conn, '-d', 'compare', '-C', $dir, 'status');
	is($rc, 0, 'status with a folder exits 0');
	like($out, qr/^zd: database at patch 3$/m, 'status says where the database stands');
	like($out, qr/^zd: folder "\Q$dir\E": patches 1 to 4$/m, 'status names the folder and its patches');
	like($out, qr/^\s+patch\s+name\s+applied\s+applied at\s+drift\s+reversible\s+transactional\s+folder$/m,
		'the table has a folder column');
	like($out, qr/^\s+00001\s+create_a\s+yes\s+\S+ \S+\s+no\s+yes\s+yes\s+same$/m,
		'patch 1 is the same in the folder');
	like($out, qr/^\s+00002\s+create_b\s+yes\s+\S+ \S+\s+no\s+yes\s+yes\s+changed$/m,
		'patch 2 changed in the folder');
	like($out, qr/^\s+00003\s+create_c\s+yes\s+\S+ \S+\s+no\s+yes\s+yes\s+changed$/m,
		'patch 3 is another patch in the folder');
	like($out, qr/^\s+00004\s+create_e\s+no\s+-\s+-\s+yes\s+yes\s+new$/m,
		'patch 4 is in the folder only');
	like($out, qr/^\s+00005\s+create_f\s+no\s+-\s+no\s+yes\s+yes\s+missing$/m,
		'patch 5 is registered and not in the folder');
	like($out, qr/^zd: in the folder and not applied: patch 4 \("zd align" builds it\)$/m,
		'status lists what is in the folder and not applied');
	like($out, qr/^zd: registered, not applied and not in the folder: patch 5 \(the next align, plan, check or deploy unregisters it\)$/m,
		'status lists what is registered and not in the folder');
	like($err, qr/^zd: warning: the folder's files of applied patches 2 to 3 differ from what was applied$/m,
		'status warns that applied patches changed in the folder');

	# an applied patch no longer in the folder, and drift
	my $short = folder(%three);
	unlink "$short/build/00003_create_c.sql", "$short/rollback/00003_create_c.sql";
	my $checksum = query('compare', 'SELECT checksum FROM zerodown.patches WHERE number = 1');
	query('compare', "UPDATE zerodown.patches SET checksum = 'changed' WHERE number = 1");
	($rc, $out, $err) = zd(@conn, '-d', 'compare', '-C', $short, 'status');
	is($rc, 0, 'status with an applied patch not in the folder exits 0');
	like($out, qr/^\s+00003\s+create_c\s+yes\s.*\s+missing$/m, 'patch 3 is missing from the folder');
	like($out, qr/^zd: applied and not in the folder: patch 3$/m,
		'status lists what is applied and not in the folder');
	like($out, qr/^  ! 00001\s+create_a\s.*DRIFT/m, 'status marks drift');
	like($err, qr/^zd: warning: applied patch 3 is no longer in the folder$/m,
		'status warns about the applied patch not in the folder');
	like($err, qr/^zd: warning: patch 1 "create_a" has changed since it was applied$/m,
		'status warns about drift');

	# --json: the same, for CI
	($rc, $out, $err) = zd(@conn, '-d', 'compare', '-C', $dir, '--json', 'status');
	is($rc, 0, 'status --json exits 0');
	my $doc = eval { JSON::PP::decode_json($out) };
	ok(defined $doc, 'status --json prints one JSON document') or diag($@);
	is($doc->{command}, 'status', 'the document names the command');
	is($doc->{database_at}, 3, 'the document says where the database stands');
	is($doc->{folder}, $dir, 'the document names the folder');
	is_deeply($doc->{pending}, [4], 'pending: in the folder, not applied');
	is_deeply($doc->{applied_not_in_folder}, [], 'applied_not_in_folder');
	is_deeply($doc->{registered_not_in_folder}, [5], 'registered_not_in_folder');
	is_deeply($doc->{changed_in_folder}, [ 2, 3 ], 'changed_in_folder');
	is_deeply($doc->{drift}, [1], 'drift');
	is_deeply(
		[ map { "$_->{number} $_->{folder}" } @{ $doc->{patches} } ],
		[ '1 same', '2 changed', '3 changed', '4 new', '5 missing' ],
		'each patch says how it compares with the folder');
	is_deeply($doc->{patches}[3],
		{ number => 4, name => 'create_e', registered => JSON::PP::false,
		  applied => JSON::PP::false, applied_at => undef, drift => JSON::PP::false,
		  reversible => JSON::PP::true, transactional => JSON::PP::true, folder => 'new' },
		'a patch in the folder only has every key');
	query('compare', "UPDATE zerodown.patches SET checksum = '$checksum' WHERE number = 1");

	# run inside the folder, status compares with it without -C
	my $cwd = getcwd();
	chdir $short;
	($rc, $out, $err) = zd(@conn, '-d', 'compare', 'status');
	chdir $cwd;
	is($rc, 0, 'status inside the folder exits 0');
	like($out, qr/^zd: folder "\Q$short\E": patches 1 to 2$/m,
		'status compares with the current directory when it holds build/');

	# a broken folder: the database is shown, the folder's problem reported
	my $broken = folder('build/00001_create_a.sql' => "CREATE TABLE a (id int);\n");
	($rc, $out, $err) = zd(@conn, '-d', 'compare', '-C', $broken, 'status');
	is($rc, 1, 'status with a broken folder exits 1');
	like($err, qr/build file ".*00001_create_a\.sql" has no rollback file/,
		'status reports the folder\'s problem');
	like($out, qr/^zd: database at patch 3$/m, 'status still shows the database');
	unlike($out, qr/folder/, 'status shows no comparison');
}

$node->stop;
done_testing();
