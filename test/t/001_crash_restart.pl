# Crashes lose nothing: a backend killed, or the server stopped in immediate
# mode, while zd_align is in the middle of a patch leaves the database at the
# patch it stood at before the call, with its history untouched, the DDL of
# every patch of the call gone, the gate open and the worker back, and
# zd_align works afterwards.
#
# Patch 3 does some DDL, then sleeps for a minute.  A background psql runs
# zd_align(3); once pg_stat_activity shows that backend in the pg_sleep (we
# poll, never sleep), the backend is killed with SIGKILL (the postmaster then
# restarts every process: crash recovery), or the node is stopped with
# "immediate" and started again (crash recovery at startup).  The first call
# goes from patch 2 to 3; the second from 1 to 3, so patch 2 has been built
# and recorded in the same transaction when the crash comes.

use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('crash_restart');
$node->init;

# PostgreSQL::Test::Cluster turns restart_after_crash off; a production
# server has it on, and the first case needs it
$node->append_conf(
	'postgresql.conf', qq{
shared_preload_libraries = 'zerodown'
restart_after_crash = on
lc_messages = 'C'
});
$node->start;

my $timeout = IPC::Run::timer($PostgreSQL::Test::Utils::timeout_default);

sub query
{
	my ($sql) = @_;
	return $node->safe_psql('postgres', $sql);
}

# patch 3: DDL, then a long pause while its transaction is open
my $ddl_3 = "CREATE TABLE crash_c (id int);\n"
  . "INSERT INTO crash_c VALUES (1);\n"
  . "ALTER TABLE crash_a ADD COLUMN flag boolean;\n";
my $slow_build_3 = $ddl_3 . "SELECT pg_sleep(60);\n";
my $rollback_3 = "ALTER TABLE crash_a DROP COLUMN flag;\nDROP TABLE crash_c;\n";

sub register_3
{
	my ($build) = @_;
	return query("SELECT zd_register(3, 'add_crash_c', \$zd\$$build\$zd\$, "
		  . "\$zd\$$rollback_3\$zd\$)");
}

# every row of the history, in order, with every column that a step sets
my $history_sql = q{
SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s', id, number, name, direction,
                         checksum, started_at, attempts, outcome), E'\n' ORDER BY id)
  FROM zerodown.history};

query('CREATE EXTENSION zerodown');
is( query(
		q{SELECT zd_register(1, 'create_crash_a', 'CREATE TABLE crash_a (id int PRIMARY KEY);', 'DROP TABLE crash_a;')}
	),
	'registered',
	'patch 1 registered');
is( query(
		q{SELECT zd_register(2, 'add_crash_a_note', 'ALTER TABLE crash_a ADD COLUMN note text;', 'ALTER TABLE crash_a DROP COLUMN note;')}
	),
	'registered',
	'patch 2 registered');
is(register_3($slow_build_3), 'registered', 'patch 3, with its pg_sleep, registered');
is(query('SELECT zd_align(2)'), '2', 'aligned to patch 2');

# the worker serves the database "postgres" (zerodown.database)
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'zerodown launcher'"
	),
	'the zerodown launcher runs');

#
# Start zd_align(3) in a background psql, the database standing at patch
# $from, and wait until it sleeps inside patch 3, after the patch's DDL.
# Returns the psql handle, its stderr and the pid of its backend.
#
sub start_slow_align
{
	my ($from) = @_;
	my ($in, $out, $err) = ('', '', '');
	my $psql = IPC::Run::start(
		[
			'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-f', '-', '-d',
			$node->connstr('postgres')
		],
		'<', \$in, '>', \$out, '2>', \$err, $timeout);

	$in .= "SELECT pg_backend_pid();\n";
	ok(pump_until($psql, $timeout, \$out, qr/^\d+\n/m),
		'background session connected');
	my ($pid) = $out =~ /^(\d+)$/m;

	$in .= "SELECT zd_align(3);\n";
	$psql->pump_nb;
	ok( $node->poll_query_until(
			'postgres',
			"SELECT wait_event = 'PgSleep' FROM pg_stat_activity WHERE pid = $pid"
		),
		'zd_align(3) reached the pg_sleep of patch 3');
	like(
		query("SELECT query FROM pg_stat_activity WHERE pid = $pid"),
		qr/^zerodown: building patch 3 "add_crash_c" \(aligning $from to 3\)/,
		'pg_stat_activity shows the patch being built');
	is( query(
			"SELECT count(*) FROM pg_locks WHERE pid = $pid AND locktype = 'advisory' "
			  . "AND classid = x'7A65726F'::int AND objid = 2 AND objsubid = 2 AND granted"
		),
		'1',
		'the backend holds the align lock');

	return ($psql, \$err, $pid);
}

#
# What a crash during patch 3 must leave: the worker back, the database at
# patch $from, the history as it was, none of the DDL of the patches after
# $from, the gate open and no zerodown lock held.
#
sub check_nothing_of_the_call
{
	my ($case, $from, $history_before) = @_;

	ok( $node->poll_query_until(
			'postgres',
			"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'zerodown launcher'"
		),
		"$case: the zerodown launcher is back");
	is(query('SELECT zd_version()'), $from, "$case: zd_version() is $from");
	is( query(
			'SELECT string_agg(number::text, \' \' ORDER BY number) FROM zerodown.applied'),
		join(' ', 1 .. $from),
		"$case: the applied patches are those up to $from");
	is(query($history_sql), $history_before,
		"$case: zerodown.history has exactly the rows it had before");
	is( query(
			q{SELECT string_agg(attname, ' ' ORDER BY attnum) FROM pg_attribute
			   WHERE attrelid = 'crash_a'::regclass AND attnum > 0 AND NOT attisdropped}
		),
		$from >= 2 ? 'id note' : 'id',
		"$case: crash_a has the columns of patch $from");
	is(query(q{SELECT to_regclass('crash_c') IS NULL}),
		't', "$case: none of patch 3's DDL is there");
	is(query('SELECT state FROM zd_gate_status()'), 'open', "$case: the gate is open");
	is( query(
			"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = x'7A65726F'::int"
		),
		'0',
		"$case: no zerodown lock is held");
	return;
}

#
# Case 1: the backend running zd_align(3) is killed with SIGKILL.
#
my $history_before = query($history_sql);
my @rows = split /\n/, $history_before;
is(scalar @rows, 2, 'the history has the two builds');

# a second session whose end tells that the postmaster noticed the crash and
# began restarting (as in PostgreSQL's 013_crash_restart.pl)
my ($mon_in, $mon_out, $mon_err) = ('', '', '');
my $monitor = IPC::Run::start(
	[
		'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-f', '-', '-d',
		$node->connstr('postgres')
	],
	'<', \$mon_in, '>', \$mon_out, '2>', \$mon_err, $timeout);
$mon_in .= "SELECT 'monitor connected';\nSELECT pg_sleep(3600);\n";
ok(pump_until($monitor, $timeout, \$mon_out, qr/monitor connected/m),
	'monitor session connected');

my ($psql, $psql_err, $pid) = start_slow_align(2);
my $log_offset = -s $node->logfile;

is(kill('KILL', $pid), 1, 'the backend running zd_align(3) killed with SIGKILL');
ok( pump_until(
		$psql, $timeout, $psql_err,
		qr/server closed the connection unexpectedly|connection to server was lost/m),
	'the psql running zd_align(3) lost its connection');
$psql->kill_kill;
ok( pump_until(
		$monitor,
		$timeout,
		\$mon_err,
		qr/terminating connection because of crash of another server process|server closed the connection unexpectedly|connection to server was lost/m
	),
	'the postmaster restarted every backend');
$monitor->kill_kill;

ok($node->poll_query_until('postgres', 'SELECT 1', '1'),
	'the server accepts connections again after the crash');
my $log = slurp_file($node->logfile, $log_offset);
like($log, qr/server process \(PID $pid\) was terminated by signal 9/,
	'the postmaster saw the backend die');
like($log, qr/all server processes terminated; reinitializing/,
	'the postmaster went through crash recovery');

check_nothing_of_the_call('after SIGKILL', 2, $history_before);

# zd_align works afterwards: patch 3 never applied may be replaced
is(register_3($ddl_3), 'replaced', 'patch 3 replaced by a version without pg_sleep');
is(query('SELECT zd_align(3)'), '3', 'zd_align(3) reaches patch 3');
is( query(
		q{SELECT (SELECT count(*) FROM crash_c) || ' ' ||
		         (SELECT count(*) FROM zerodown.history WHERE number = 3 AND direction = 'build')}
	),
	'1 1',
	'patch 3 ran once, and is in the history once');
is(query('SELECT zd_align(2)'), '2', 'zd_align(2) rolls patch 3 back');
is(query(q{SELECT to_regclass('crash_c') IS NULL}), 't', 'patch 3 rolled back');

#
# Case 2: the server is stopped in immediate mode and started again, while
# zd_align goes from patch 1 to 3: patch 2 is built and recorded, patch 3
# sleeps.
#
is(register_3($slow_build_3), 'replaced', 'patch 3 has its pg_sleep again');
is(query('SELECT zd_align(1)'), '1', 'zd_align(1) rolls patch 2 back');
$history_before = query($history_sql);
@rows = split /\n/, $history_before;
is(scalar @rows, 5, 'the history has five steps');

($psql, $psql_err, $pid) = start_slow_align(1);
$log_offset = -s $node->logfile;

$node->stop('immediate');
ok( pump_until(
		$psql,
		$timeout,
		$psql_err,
		qr/terminating connection due to immediate shutdown command|server closed the connection unexpectedly|connection to server was lost/m
	),
	'the psql running zd_align(3) lost its connection');
$psql->kill_kill;
$node->start;

$log = slurp_file($node->logfile, $log_offset);
like($log, qr/database system was (interrupted|not properly shut down)/,
	'the server went through crash recovery at startup');

check_nothing_of_the_call('after stop immediate', 1, $history_before);

is(query('SELECT zd_align(1)'), '1', 'zd_align(1) has nothing to do');
is(register_3($ddl_3), 'replaced', 'patch 3 replaced by a version without pg_sleep');
is(query('SELECT zd_align(3)'), '3', 'zd_align(3) reaches patch 3');
is( query(
		q{SELECT string_agg(format('%s %s %s', number, direction, outcome), ', ' ORDER BY id)
		    FROM zerodown.history}
	),
	'1 build done, 2 build done, 3 build done, 3 rollback done, 2 rollback done, '
	  . '2 build done, 3 build done',
	'the history tells the whole story, and nothing of the interrupted calls');

$node->stop;
done_testing();
