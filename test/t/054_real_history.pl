# A years-long history, as public projects have them (issue 11): the 300
# up/down pairs of test/fixtures/history_registry (written by
# test/fixtures/make_history.pl), aligned up and down with the zd client by
# a deployer that is not a superuser.  The history has what real ones have:
# statements in DO blocks (an enum created there and used by the next
# statement), enum values added and removed, functions replaced by newer
# versions, BEGIN; ... COMMIT; around files written for other tools, CRLF
# line ends, files without a final newline, an old rollback with a missing
# ";" (patch 17), a rollback that refuses (160) and one that does nothing
# (255).
#
# - From an empty database to the top: every patch builds; the broken old
#   rollback is a warning, not a refusal (item 6).
# - Down to 161 and up again; down past 160 stops there, saying where.
# - Down from 150 to 17 on a second database; below 17 is refused before
#   anything runs, and the database stays where it is.
# - zd_check finds every rollback of 18..80 undoes its build.

use strict;
use warnings;

use File::Basename qw(dirname);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

# the zd built in this tree, before any other on PATH
$ENV{PATH} = "$ENV{TESTDIR}/src/zd:$ENV{PATH}"
  if defined $ENV{TESTDIR} && -x "$ENV{TESTDIR}/src/zd/zd";
our $history = dirname(__FILE__) . '/../fixtures/history_registry';
ok(-d "$history/build", 'the history is there');

my $node = PostgreSQL::Test::Cluster->new('real_history');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'zerodown'
zerodown.database = 'registry'
lc_messages = 'C'
fsync = off
});
$node->start;
foreach my $db (qw(registry registry_dev))
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION zerodown');
}
$node->safe_psql('postgres', 'CREATE ROLE ci LOGIN IN ROLE zerodown_deployer');
$node->safe_psql($_, 'GRANT CREATE ON SCHEMA public TO ci') foreach qw(registry registry_dev);

sub zd
{
	my ($db, @args) = @_;
	my ($out, $err) = ('', '');
	my $start = time;
	IPC::Run::run(
		[ 'zd', '-h', $node->host, '-p', $node->port, '-U', 'ci', '-d', $db, '-C', $history, @args ],
		'>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err, time - $start);
}

sub version
{
	my ($db) = @_;
	return $node->safe_psql($db, 'SELECT zd_version()');
}

my ($rc, $out, $err, $secs);

# an empty database to the top
($rc, $out, $err, $secs) = zd('registry', 'align');
is($rc, 0, 'the whole history builds from an empty database') or diag("$out\n$err");
is(version('registry'), '300', 'the database stands at 300');
like("$out$err", qr/the rollback of patch 17 "index_crates_and_versions" cannot run: syntax error at or near "DROP" at line 2/,
	'the broken old rollback is a warning');
note(sprintf('300 patches registered and built with zd align in %.2f s', $secs));
is( $node->safe_psql(
		'registry',
		q{SELECT count(*) FROM pg_type WHERE typname = 'channel_type'}),
	'1', 'the enum created in a DO block is there');
is( $node->safe_psql(
		'registry', q{SELECT count(*) FROM zerodown.history WHERE direction = 'build'}),
	'300', 'every build is in the history');

# down to 161, through 139 rollbacks, and up again
($rc, $out, $err, $secs) = zd('registry', 'align', '161');
is($rc, 0, 'down to 161') or diag("$out\n$err");
is(version('registry'), '161', 'the database stands at 161');
note(sprintf('139 rollbacks with zd align in %.2f s', $secs));

# past the refusing rollback: it stops there, and says where
($rc, $out, $err) = zd('registry', 'align', '100');
is($rc, 1, 'down past patch 160 fails');
like($err, qr/migration 160 \(merge_duplicate_users\) is irreversible/, 'with the rollback\'s own message');
like($err, qr/rollback\/00160_merge_duplicate_users\.sql, line 2/, 'naming its file and line');
is(version('registry'), '160', 'the database stands at 160, the last good patch');

($rc, $out, $err, $secs) = zd('registry', 'align');
is($rc, 0, 'and up to the top again') or diag("$out\n$err");
is(version('registry'), '300', 'the database stands at 300 again');

# a second database: down to 17, not below
($rc, $out, $err) = zd('registry_dev', 'align', '150');
is($rc, 0, 'a second database up to 150') or diag("$out\n$err");
($rc, $out, $err, $secs) = zd('registry_dev', 'align', '17');
is($rc, 0, 'down to 17') or diag("$out\n$err");
is(version('registry_dev'), '17', 'the database stands at 17');
note(sprintf('133 rollbacks with zd align in %.2f s', $secs));
($rc, $out, $err) = zd('registry_dev', 'align', '10');
is($rc, 1, 'below 17 is refused');
like($err, qr/syntax error at or near "DROP" at line 2 of .*rollback\/00017_index_crates_and_versions\.sql/,
	'the broken rollback is named, with its line');
is(version('registry_dev'), '17', 'nothing ran: the database stays at 17');

# the team fixes the old rollback: an applied patch's rollback that could
# not run may be replaced, and the database goes below it
my $fixed = PostgreSQL::Test::Utils::tempdir;
system('cp', '-R', "$history/build", "$history/rollback", $fixed) == 0
  or die "could not copy the history";
my $file = "$fixed/rollback/00017_index_crates_and_versions.sql";
my $text = slurp_file($file);
$text =~ s/index_crates_user_id\n/index_crates_user_id;\n/;
open(my $fh, '>', $file) or die "could not write $file: $!";
print $fh $text;
close($fh);
{
	local $history = $fixed;
	($rc, $out, $err) = zd('registry_dev', 'align', '10');
}
is($rc, 0, 'with the rollback fixed, the database goes below 17') or diag("$out\n$err");
is(version('registry_dev'), '10', 'it stands at 10');
is( $node->safe_psql(
		'registry_dev', q{SELECT number, outcome FROM zerodown.history WHERE outcome = 'repaired'}),
	'17|repaired', 'the history says the rollback of 17 was replaced');
{
	local $history = $fixed;
	($rc, $out, $err) = zd('registry_dev', 'align', '17');
}
is($rc, 0, 'and up to 17 again') or diag("$out\n$err");

# every rollback of 18..80 undoes its build
my $start = time;
is( $node->safe_psql(
		'registry_dev',
		q{SELECT string_agg(number || ' ' || result, ', ' ORDER BY number)
		    FROM zd_check(17, 80) WHERE result <> 'ok'},
		extra_params => [ '-U', 'ci' ]),
	'', 'zd_check finds that every rollback of 18..80 undoes its build');
note(sprintf('zd_check of 63 patches in %.2f s', time - $start));
is(version('registry_dev'), '17', 'and changes nothing');

$node->stop;
done_testing();
