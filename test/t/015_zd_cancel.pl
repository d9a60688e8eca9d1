# Ctrl-C: zd cancels the statement it runs on the server, says so, and exits
# 1; the database stays at the last good patch.  Without a cancel handler,
# SIGINT kills zd and the server goes on running the statement (a patch
# waiting for a lock keeps waiting, holding its place in the lock queue).

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ZdClient;

my $node = zd_node('zd_cancel');
my @conn = ('-h', $node->host, '-p', $node->port, '-d', new_db('cancel'));

# patch 2 waits for an advisory lock the test holds; lock_timeout 0 lets it
# wait as long as it takes
my $dir = folder(
	'build/00001_create_t.sql' => "CREATE TABLE t (id int);\n",
	'rollback/00001_create_t.sql' => "DROP TABLE t;\n",
	'build/00002_wait.sql' =>
	  "INSERT INTO t VALUES (1);\nSELECT pg_advisory_xact_lock(4242);\n",
	'rollback/00002_wait.sql' => "DELETE FROM t;\n",
	'build/00003_more.sql' => "ALTER TABLE t ADD COLUMN v int;\n",
	'rollback/00003_more.sql' => "ALTER TABLE t DROP COLUMN v;\n",
	'build/00004_index.sql' =>
	  "-- zerodown:no-transaction\nSELECT pg_advisory_lock(4242);\nCREATE INDEX CONCURRENTLY t_id_idx ON t (id);\n",
	'rollback/00004_index.sql' =>
	  "-- zerodown:no-transaction\nDROP INDEX CONCURRENTLY t_id_idx;\n");
local $ENV{PGOPTIONS} = '-c zerodown.lock_timeout=0';

my $waiting =
  "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'zd'"
  . " AND wait_event_type = 'Lock' AND wait_event = 'advisory'";

# run zd until it waits for the lock, interrupt it, and return its exit
# status, stdout and stderr
sub interrupt
{
	my (@args) = @_;
	my ($out, $err) = ('', '');
	my $run = IPC::Run::start([ 'zd', @args ], '>', \$out, '2>', \$err,
		IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));

	ok($node->poll_query_until('cancel', "SELECT ($waiting) = 1"),
		"zd @args waits for the advisory lock");
	$run->signal('INT');
	$run->finish;
	return ($?, $out, $err);
}

my $holder = $node->background_psql('cancel');
$holder->query_safe('SELECT pg_advisory_lock(4242)');

#
# an ordinary patch (zd_align_each, in a transaction)
#
my ($status, $out, $err) = interrupt(@conn, '-C', $dir, 'align');
is($status & 127, 0, 'zd is not killed by SIGINT');
is($status >> 8, 1, 'zd exits 1');
like($err, qr/^zd: error: .*canceling statement due to user request/m,
	'zd reports the cancelled statement');
like($err, qr/zd was interrupted \(Ctrl-C\) and had the server cancel the statement/,
	'zd says it was interrupted and cancelled the statement');
like($err, qr/^zd: database at patch 1$/m, 'zd says where the database stands');
is($node->safe_psql('cancel', $waiting), '0',
	'no statement of zd waits for the lock any more');
is( $node->safe_psql('cancel',
		"SELECT count(*) FROM pg_stat_activity WHERE application_name = 'zd' AND state = 'active'"),
	'0',
	'the server runs no statement of zd any more');
is($node->safe_psql('cancel', 'SELECT zd_version()'), '1',
	'the database stays at patch 1');
is($node->safe_psql('cancel', 'SELECT count(*) FROM t'), '0',
	'the cancelled patch left nothing behind');

#
# a no-transaction patch: the statement running is cancelled, and the
# statements after it do not run
#
$holder->query_safe('SELECT pg_advisory_unlock(4242)');
my ($rc);
($rc, $out, $err) = zd(@conn, '-C', $dir, 'align', '3');
is($rc, 0, 'align 3 exits 0 with the lock free');
$holder->query_safe('SELECT pg_advisory_lock(4242)');

($status, $out, $err) = interrupt(@conn, '-C', $dir, 'align');
is($status, 1 << 8, 'zd exits 1 from a no-transaction patch');
like($err, qr/^zd: error: patch 4 "index" failed: canceling statement due to user request/m,
	'zd names the patch whose statement was cancelled');
like($err, qr/^zd: database at patch 3$/m, 'the database stays at patch 3');
is($node->safe_psql('cancel', $waiting), '0', 'nothing waits for the lock');
is($node->safe_psql('cancel', "SELECT to_regclass('t_id_idx') IS NULL"), 't',
	'the statement after the cancelled one did not run');

$holder->query_safe('SELECT pg_advisory_unlock(4242)');
$holder->quit;
($rc, $out, $err) = zd(@conn, '-C', $dir, 'align');
is($rc, 0, 'align goes on once the lock is free');
is($node->safe_psql('cancel', 'SELECT zd_version()'), '4', 'the database is at patch 4');

$node->stop;
done_testing();
