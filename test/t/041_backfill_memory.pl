# zd_backfill runs in bounded memory: each batch's allocations go with the
# batch (issue 10 item 5: 0.1.0 kept ~550 bytes per batch for the whole
# call, 5.8 MB -> 83 MB over 140,000 batches).  The backend's memory is read
# twice while a backfill of one-row batches runs, with
# pg_log_backend_memory_contexts, and the growth per batch between the two
# readings is compared with what PostgreSQL itself keeps per COMMIT inside a
# procedure (~24 bytes in PostgreSQL 15, for a PL/pgSQL procedure too).

use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $rows = 60000;
my $first = 2000;
my $second = 22000;
my $max_bytes_per_batch = 64;

my $node = PostgreSQL::Test::Cluster->new('backfill_memory');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'zerodown'\nzerodown.database = 'postgres'\nlc_messages = 'C'\n");
$node->start;

$node->safe_psql('postgres', qq{
	CREATE EXTENSION zerodown;
	CREATE TABLE mem (id integer PRIMARY KEY, email text);
	INSERT INTO mem SELECT i, 'User' || i || '\@Example.org' FROM generate_series(1, $rows) i;
	SELECT zd_expand_column('mem', 'email', 'email_normalized', 'text', 'lower(email)', 'email_normalized');
});

# one row per batch, no pause: as many batches as the table has rows
my ($out, $err) = ('', '');
my $backfill = IPC::Run::start(
	[
		'psql', '-XAtq', '-v', 'ON_ERROR_STOP=0', '-d', $node->connstr('postgres'),
		'-c', "CALL zd_backfill('mem', 'email_normalized', 1, 0)"
	],
	'>', \$out, '2>', \$err);

# the bytes the backfill's backend uses, and the batches it has done then
sub reading
{
	my ($done) = @_;

	$node->poll_query_until('postgres',
		"SELECT rows_done >= $done AND backfill_pid IS NOT NULL FROM zerodown.expansion_status WHERE target = 'email_normalized'"
	) or die "the backfill did not reach $done rows";
	my $offset = -s $node->logfile;
	my ($pid, $batches) = split /\|/, $node->safe_psql('postgres', q{
		SELECT backfill_pid, batches FROM zerodown.expansion_status WHERE target = 'email_normalized'});
	$node->safe_psql('postgres', "SELECT pg_log_backend_memory_contexts($pid)");
	my $used;
	foreach my $try (1 .. 600)
	{
		my $log = slurp_file($node->logfile, $offset);
		if ($log =~ /\[$pid\][^\n]*LOG:\s+Grand total: \d+ bytes in \d+ blocks; \d+ free \(\d+ chunks\); (\d+) used/)
		{
			$used = $1;
			last;
		}
		usleep(100_000);
	}
	die "no memory report from pid $pid" unless defined $used;
	return ($used, $batches);
}

my ($used1, $batches1) = reading($first);
my ($used2, $batches2) = reading($second);
my $per_batch = ($used2 - $used1) / ($batches2 - $batches1);
diag(sprintf('backend memory: %d bytes after %d batches, %d bytes after %d batches: %.1f bytes per batch',
		$used1, $batches1, $used2, $batches2, $per_batch));
ok($batches2 - $batches1 >= ($second - $first) / 2, 'thousands of batches ran between the two readings');
cmp_ok($per_batch, '<', $max_bytes_per_batch,
	"the backfill keeps less than $max_bytes_per_batch bytes per batch");

# stop it (it resumes where it stands) and check it did not get in the way
my $pid = $node->safe_psql('postgres',
	"SELECT backfill_pid FROM zerodown.expansion_status WHERE target = 'email_normalized'");
$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)") if $pid ne '';
$backfill->finish;
is($node->safe_psql('postgres',
		"SELECT count(*) FROM mem WHERE email_normalized IS NOT NULL AND email_normalized <> lower(email)"),
	'0', 'every row the backfill filled is right');

$node->stop;
done_testing();
