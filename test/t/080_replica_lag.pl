# The replica-lag brake against a real streaming standby whose replay is
# held back (pg_wal_replay_pause, recovery_min_apply_delay) and then let go:
# zd_backfill waits before its next batch, a worker deployment before its
# next step and zd align before its next patch, each says so
# (pg_stat_activity, zerodown.expansion_status, NOTICEs, zd's output), and
# each goes on when the standby catches up.  Also: the timeout fails the
# work at the last good point, cancel and terminate end a wait, a standby
# named in zerodown.replica_lag_ignore, a disconnected standby, a logical
# walsender and a cascaded standby are not waited for, and the functions
# refuse to run on a standby.
#
# As the product is used: the limits are in postgresql.conf, the work runs
# as a deployer that is not superuser, in a database that is not postgres.

use strict;
use warnings;

use File::Basename qw(dirname);
use File::Path qw(make_path);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# the zd built in this tree, before any other on PATH
$ENV{PATH} = "$ENV{TESTDIR}/src/zd:$ENV{PATH}"
  if defined $ENV{TESTDIR} && -x "$ENV{TESTDIR}/src/zd/zd";

my $db = 'lagdb';

my $primary = PostgreSQL::Test::Cluster->new('lag_primary');
$primary->init(allows_streaming => 'logical');
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'zerodown'
zerodown.database = '$db'
max_connections = 20
lc_messages = 'C'
# no WAL but the test's own: the standby is paused and the limits are small
autovacuum = off
});
$primary->start;
$primary->safe_psql('postgres', "CREATE DATABASE $db");
$primary->safe_psql($db, q{
	CREATE EXTENSION zerodown;
	CREATE ROLE deployer LOGIN IN ROLE zerodown_deployer;
	CREATE SCHEMA app AUTHORIZATION deployer;
});
$primary->poll_query_until($db,
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'zerodown launcher' AND datname = '$db'")
  or die 'the worker did not start';

# the standby, streaming; wal_receiver_status_interval stays at its default
# (10 s): the brake's no-op WAL records make the standby answer sooner
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('lag_standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;
catch_up();

is($primary->safe_psql($db,
		'SELECT application_name || \'|\' || state || \'|\' || over_limit || \'|\' || ignored FROM zd_replica_lag()'),
	'lag_standby|streaming|false|false', 'zd_replica_lag lists the streaming standby, under no limit');

# the deployer's statements and commands
sub query
{
	my ($sql) = @_;
	return $primary->safe_psql($db, $sql);
}

sub deployer_connstr
{
	return $primary->connstr($db) . ' user=deployer';
}

# start psql as the deployer in the background; returns the harness and
# references to its stdout and stderr
sub start_psql
{
	my ($sql) = @_;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', deployer_connstr(), '-c', $sql ],
		'>', \$out, '2>', \$err);
	return ($h, \$out, \$err);
}

# start zd as the deployer in the background
sub start_zd
{
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[ 'zd', '-h', $primary->host, '-p', $primary->port, '-U', 'deployer', '-d', $db, @_ ],
		'>', \$out, '2>', \$err);
	return ($h, \$out, \$err);
}

sub finish
{
	my ($h) = @_;
	$h->finish;
	return $h->result(0);
}

sub set_conf
{
	my ($node, $settings) = @_;
	$node->append_conf('postgresql.conf', $settings);
	$node->reload;
}

# the standby has replayed all the WAL, and the primary knows it (each poll
# writes a little WAL, which the standby answers)
sub catch_up
{
	my $lsn = $primary->lsn('write');
	$standby->poll_query_until('postgres', "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn")
	  or die 'the standby did not catch up';
	$primary->poll_query_until('postgres', qq{
		SELECT pg_logical_emit_message(false, 'test', 'catch up') IS NOT NULL
		   AND replay_lsn >= '$lsn'::pg_lsn FROM pg_stat_replication WHERE application_name = 'lag_standby'})
	  or die 'the primary did not see the standby catch up';
}

sub pause_replay
{
	catch_up();
	$standby->safe_psql('postgres', 'SELECT pg_wal_replay_pause()');
	$standby->poll_query_until('postgres',
		"SELECT pg_get_wal_replay_pause_state() = 'paused'")
	  or die 'replay did not pause';
}

sub resume_replay
{
	$standby->safe_psql('postgres', 'SELECT pg_wal_replay_resume()');
}

# a migrations folder from path => text
sub folder
{
	my (%files) = @_;
	my $dir = PostgreSQL::Test::Utils::tempdir;
	foreach my $path (sort keys %files)
	{
		make_path(dirname("$dir/$path"));
		append_to_file("$dir/$path", $files{$path});
	}
	return $dir;
}

# the backfill's line in pg_stat_activity while it waits, with its wait event
my $backfill_waits = q{
	SELECT count(*) = 1 FROM pg_stat_activity
	 WHERE usename = 'deployer' AND wait_event_type = 'Extension' AND wait_event = 'Extension'
	   AND query LIKE 'zerodown: backfill of app.lag_users% (%): waiting for the standbys: standby "lag_standby" (pid %) is % behind (%)'};

# three tables of 30000 users, each with an expansion to backfill
foreach my $t ('lag_users', 'lag_users2', 'lag_users3')
{
	query(qq{
		SET ROLE deployer;
		CREATE TABLE app.$t (id integer PRIMARY KEY, email text);
		INSERT INTO app.$t SELECT i, 'User' || i || '\@Example.org' FROM generate_series(1, 30000) i;
	});
}
query(q{
	SET ROLE deployer;
	SELECT zd_expand_column('app.lag_users', 'email', 'email_lower', 'text', 'lower(email)', 'email');
	SELECT zd_expand_column('app.lag_users2', 'email', 'email_upper', 'text', 'upper(email)', 'email');
	SELECT zd_expand_column('app.lag_users3', 'email', 'email_reversed', 'text', 'reverse(email)', 'reverse(email_reversed)');
});

#
# 1. The size limit: a backfill waits while replay is paused, says so, holds
#    still, and goes on when replay resumes.
#
set_conf($primary, "zerodown.max_replica_lag_bytes = '2MB'\n");
pause_replay();
my ($h, $out, $err) = start_psql("CALL zd_backfill('app.lag_users', 'email_lower', 1000)");
ok($primary->poll_query_until($db, $backfill_waits), 'the backfill waits, and pg_stat_activity says why');
ok($primary->poll_query_until($db, q{
	SELECT waiting_for LIKE 'standby "lag_standby" (pid %) is % s and % behind (zerodown.max_replica_lag_bytes is 2MB)'
	   AND waiting_since IS NOT NULL AND backfill_pid IS NOT NULL
	  FROM zerodown.expansion_status WHERE target = 'email_lower'}),
	'zerodown.expansion_status says what the backfill waits for');
my $held = query("SELECT rows_done FROM zerodown.expansions WHERE target = 'email_lower'");
ok($held < 30000, "the backfill stopped part way ($held of 30000 rows)");
is(query(q{SELECT over_limit AND lag_bytes > 2 * 1024 * 1024 FROM zd_replica_lag() WHERE application_name = 'lag_standby'}),
	't', 'zd_replica_lag shows the standby over the size limit');
# it holds still while replay is paused: wait until it has waited past a
# NOTICE interval (the standby cannot catch up meanwhile)
ok($primary->poll_query_until($db, q{
	SELECT now() - waiting_since > interval '6 s' FROM zerodown.expansion_status WHERE target = 'email_lower'}),
	'the backfill is still waiting six seconds later');
is(query("SELECT rows_done || '|' || state FROM zerodown.expansions WHERE target = 'email_lower'"),
	"$held|expanded", 'no batch ran while the standby was behind');
resume_replay();
is(finish($h), 0, 'the backfill goes on when replay resumes, and ends');
like($$err, qr/NOTICE:  backfill of app\.lag_users \(email_lower\) waits for the standbys: standby "lag_standby" \(pid \d+\) is [\d.]+ s and [\d.]+ \S+ behind \(zerodown\.max_replica_lag_bytes is 2MB\)/,
	'a NOTICE says the backfill waits, for which standby and why');
like($$err, qr/NOTICE:  backfill of app\.lag_users \(email_lower\) has waited \d+ s for the standbys/,
	'a NOTICE every few seconds while it waits');
like($$err, qr/NOTICE:  backfill of app\.lag_users \(email_lower\) goes on after waiting [\d.]+ s for the standbys/,
	'a NOTICE when it goes on');
like($$err, qr/backfill of app\.lag_users \(email_lower\) done: .*; waited [\d.]+ s for lagging standbys/,
	'the last NOTICE counts the time waited');
is(query(q{SELECT state || '|' || rows_done || '|' || (waiting_for IS NULL) FROM zerodown.expansion_status WHERE target = 'email_lower'}),
	'backfilled|30000|true', 'the backfill is done and waits for nothing');
catch_up();
is($standby->safe_psql($db, 'SELECT count(*) FROM app.lag_users WHERE email_lower = lower(email)'),
	'30000', 'the standby replayed every batch');

#
# 2. The time limit: the standby's replay is delayed by an hour (it stops at
#    the backfill's first commit); replay_lag stays small and stale, but the
#    brake sees the replay position stand still and waits; lifting the delay
#    lets it go on.
#
set_conf($primary, "zerodown.max_replica_lag_bytes = 0\nzerodown.max_replica_lag = '2s'\n");
catch_up();
set_conf($standby, "recovery_min_apply_delay = '1h'\n");
$standby->poll_query_until('postgres', "SELECT current_setting('recovery_min_apply_delay') = '1h'")
  or die 'the delay is not set';
($h, $out, $err) = start_psql("CALL zd_backfill('app.lag_users2', 'email_upper', 500, 100)");
ok($primary->poll_query_until($db, q{
	SELECT waiting_for LIKE 'standby "lag_standby" (pid %) is % behind (zerodown.max_replica_lag is 2s)'
	  FROM zerodown.expansion_status WHERE target = 'email_upper'}),
	'the backfill waits for a standby that stopped replaying, on the time limit');
ok($primary->poll_query_until($db, $backfill_waits), 'pg_stat_activity says why');
ok(query("SELECT rows_done < 30000 FROM zerodown.expansions WHERE target = 'email_upper'") eq 't',
	'the backfill stopped part way');
is(query(q{SELECT over_limit AND lag > interval '2 s' FROM zd_replica_lag() WHERE application_name = 'lag_standby'}),
	't', 'zd_replica_lag shows a time lag over the limit');
set_conf($standby, "recovery_min_apply_delay = 0\n");
is(finish($h), 0, 'the backfill goes on when the delay is lifted, and ends');
like($$err, qr/waits for the standbys: standby "lag_standby" \(pid \d+\) is [\d.]+ s and .* behind \(zerodown\.max_replica_lag is 2s\)/,
	'its NOTICE names the time limit');
is(query("SELECT state FROM zerodown.expansions WHERE target = 'email_upper'"),
	'backfilled', 'the backfill is done');

#
# 3. A worker deployment waits before its next step, and goes on.
#
# the patches of sections 3 to 5: a big one writes some 7 MB of WAL
my $big = "SELECT g AS id, repeat('x', 100) AS pad FROM generate_series(1, 50000) g";
my @patches = (
	[ 1, 'big', "CREATE TABLE app.big AS $big", 'DROP TABLE app.big' ],
	[ 2, 'after_big', 'CREATE TABLE app.after_big (id integer)', 'DROP TABLE app.after_big' ],
	[ 3, 'last', 'CREATE TABLE app.last (id integer)', 'DROP TABLE app.last' ],
	[ 4, 'big_again', "CREATE TABLE app.big_again AS $big", 'DROP TABLE app.big_again' ],
	[ 5, 'never', 'CREATE TABLE app.never (id integer)', 'DROP TABLE app.never' ],
	[ 6, 'wide', "-- zerodown:no-transaction\nCREATE TABLE app.wide AS $big", 'DROP TABLE app.wide' ],
	[ 7, 'index', "-- zerodown:no-transaction\nCREATE INDEX CONCURRENTLY wide_id ON app.wide (id)",
		"-- zerodown:no-transaction\nDROP INDEX CONCURRENTLY app.wide_id" ],
	[ 8, 'wider', "CREATE TABLE app.wider AS $big", 'DROP TABLE app.wider' ],
	[ 9, 'after_wider', 'CREATE TABLE app.after_wider (id integer)', 'DROP TABLE app.after_wider' ],
	[ 10, 'widest', "CREATE TABLE app.widest AS $big", 'DROP TABLE app.widest' ],
	[ 11, 'not_this', 'CREATE TABLE app.not_this (id integer)', 'DROP TABLE app.not_this' ]);

sub register
{
	my ($number) = @_;
	register_patch($patches[ $number - 1 ]);
}

sub register_patch
{
	my ($p) = @_;
	query("SET ROLE deployer; SELECT zd_register($p->[0], '$p->[1]', \$p\$$p->[2]\$p\$, \$p\$$p->[3]\$p\$)");
}

set_conf($primary, "zerodown.max_replica_lag = 0\nzerodown.max_replica_lag_bytes = '2MB'\n");
register($_) foreach (1 .. 3);
pause_replay();
my $id = query('SET ROLE deployer; SELECT zd_deploy(3)');
ok($primary->poll_query_until($db, qq{
	SELECT count(*) = 1 FROM pg_stat_activity
	 WHERE backend_type = 'zerodown launcher' AND wait_event_type = 'Extension'
	   AND query LIKE 'zerodown: deployment $id at patch 1: waiting for the standbys: standby "lag_standby" %'}),
	'the worker waits after patch 1, and pg_stat_activity says why');
is(query("SELECT zd_version() || '|' || state FROM zerodown.deployments WHERE id = $id"),
	'1|applying', 'the deployment stands at patch 1 while the standby is behind');
resume_replay();
ok($primary->poll_query_until($db,
		"SELECT state IN ('done', 'failed', 'interrupted') FROM zerodown.deployments WHERE id = $id"),
	'the deployment ends');
is(query("SELECT state || '|' || to_version || '|' || coalesce(error, '') FROM zerodown.deployments WHERE id = $id"),
	'done|3|', 'the deployment went on when the standby caught up');
is(query('SELECT state FROM zd_gate_status()'), 'open', 'the gate is open again');

#
# 4. The timeout: the deployment fails before its next step, at the last
#    good patch, and says why.
#
set_conf($primary, "zerodown.replica_lag_timeout = '2s'\n");
register($_) foreach (4 .. 5);
pause_replay();
$id = query('SET ROLE deployer; SELECT zd_deploy(5)');
ok($primary->poll_query_until($db,
		"SELECT state IN ('done', 'failed', 'interrupted') FROM zerodown.deployments WHERE id = $id"),
	'the deployment ends');
like(query("SELECT state || '|' || to_version || '|' || error FROM zerodown.deployments WHERE id = $id"),
	qr/^failed\|4\|standbys did not catch up within zerodown\.replica_lag_timeout \(2s\)\nDETAIL: Still behind: standby "lag_standby" .*Nothing after the wait ran \(deployment \d+ at patch 4\)\.\nHINT: /s,
	'the deployment failed at patch 4 when the standby did not catch up in time, and says why');
is(query("SELECT to_regclass('app.never') IS NULL"), 't', 'patch 5 did not run');
is(query('SELECT state FROM zd_gate_status()'), 'open', 'the gate is open again');
resume_replay();
set_conf($primary, "zerodown.replica_lag_timeout = '5min'\n");

#
# 5. zd align: zd waits before the step it runs itself (a no-transaction
#    patch), and zd_align_each before each patch of a run of ordinary ones.
#
my %files;
foreach my $p (@patches)
{
	my $file = sprintf('%05d_%s.sql', $p->[0], $p->[1]);
	$files{"build/$file"} = $p->[2];
	$files{"rollback/$file"} = $p->[3];
}
my $dir = folder(%files);

($h, $out, $err) = start_zd('--help');
finish($h);
like($$out, qr/align waits before each patch while a standby replays too far behind/,
	'zd --help says that align waits for lagging standbys');

# 5a. zd's own wait, before the no-transaction patch 7
pause_replay();
($h, $out, $err) = start_zd('-C', $dir, 'align', '7');
ok($primary->poll_query_until($db, q{
	SELECT count(*) = 1 FROM pg_stat_activity
	 WHERE wait_event_type = 'Extension'
	   AND query LIKE 'zerodown: zd_wait_for_replicas: waiting for the standbys: standby "lag_standby" %'}),
	'zd waits before its next step, and pg_stat_activity says why');
is(query('SELECT zd_version()'), '6', 'the database stands at patch 6 while the standby is behind');
resume_replay();
is(finish($h), 0, 'zd align goes on when the standby catches up, and ends');
like($$out, qr/^  waited +[\d.]+ s for lagging standbys\n  built +00007_index/m,
	'zd prints how long it waited, before the patch it held back');
like($$err, qr/NOTICE:  zd_wait_for_replicas waits for the standbys: standby "lag_standby"/,
	'zd shows the NOTICE that says why');
is(query('SELECT zd_version()'), '7', 'the database stands at patch 7');

# 5b. zd_align_each's wait, between patches 8 and 9 of one run
pause_replay();
($h, $out, $err) = start_zd('-C', $dir, 'align', '9');
ok($primary->poll_query_until($db, q{
	SELECT count(*) = 1 FROM pg_stat_activity
	 WHERE wait_event_type = 'Extension'
	   AND query LIKE 'zerodown: zd_align_each to patch 9: waiting for the standbys: standby "lag_standby" %'}),
	'zd_align_each waits between two patches, and pg_stat_activity says why');
is(query('SELECT zd_version()'), '8', 'the database stands at patch 8 while the standby is behind');
resume_replay();
is(finish($h), 0, 'zd align goes on, and ends');
like($$err, qr/NOTICE:  zd_align_each to patch 9 waits for the standbys: standby "lag_standby"/,
	'zd shows the NOTICE that says why');
is(query('SELECT zd_version()'), '9', 'the database stands at patch 9');

# 5c. the timeout: zd fails at the last good patch, with the reason
set_conf($primary, "zerodown.replica_lag_timeout = '2s'\n");
pause_replay();
($h, $out, $err) = start_zd('-C', $dir, 'align', '11');
is(finish($h), 1, 'zd align fails when the standby does not catch up in time');
like($$err, qr/standbys did not catch up within zerodown\.replica_lag_timeout \(2s\)/,
	'zd says why');
is(query('SELECT zd_version()'), '10', 'the database stands at the last good patch');
resume_replay();
set_conf($primary, "zerodown.replica_lag_timeout = '5min'\n");

#
# 6. Cancel and terminate end a wait at once; the batches before it stay
#    done, and the next call goes on from there.
#
pause_replay();
($h, $out, $err) = start_psql("CALL zd_backfill('app.lag_users3', 'email_reversed', 1000)");
ok($primary->poll_query_until($db, $backfill_waits), 'the backfill waits');
my $done = query("SELECT rows_done FROM zerodown.expansions WHERE target = 'email_reversed'");
query(q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE usename = 'deployer' AND query LIKE 'zerodown: backfill%'});
isnt(finish($h), 0, 'a cancelled backfill ends with an error');
like($$err, qr/canceling statement due to user request/, 'it was cancelled while it waited');
is(query("SELECT state || '|' || rows_done || '|' || (backfill_pid IS NULL) || '|' || (waiting_for IS NULL) FROM zerodown.expansion_status WHERE target = 'email_reversed'"),
	"expanded|$done|true|true", 'the batches before the wait stay done, and nothing shows as waiting');
($h, $out, $err) = start_psql("CALL zd_backfill('app.lag_users3', 'email_reversed', 1000)");
ok($primary->poll_query_until($db, $backfill_waits), 'called again, the backfill waits again');
query(q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'deployer' AND query LIKE 'zerodown: backfill%'});
isnt(finish($h), 0, 'a terminated backfill ends');
like($$err, qr/terminating connection due to administrator command/, 'it was terminated while it waited');
resume_replay();
($h, $out, $err) = start_psql("CALL zd_backfill('app.lag_users3', 'email_reversed', 1000)");
is(finish($h), 0, 'called again with the standby replaying, the backfill ends');
is(query("SELECT state FROM zerodown.expansions WHERE target = 'email_reversed'"),
	'backfilled', 'the backfill is done');

#
# 6b. A DBA lets a waiting deployment go on: a standby named in
#     zerodown.replica_lag_ignore (postgresql.conf, reload) reaches the
#     waiting worker at once.
#
register_patch([ 12, 'big_last', "CREATE TABLE app.big_last AS $big", 'DROP TABLE app.big_last' ]);
register_patch([ 13, 'after_ignore', 'CREATE TABLE app.after_ignore (id integer)', 'DROP TABLE app.after_ignore' ]);
pause_replay();
$id = query('SET ROLE deployer; SELECT zd_deploy(13)');
ok($primary->poll_query_until($db, qq{
	SELECT count(*) = 1 FROM pg_stat_activity
	 WHERE backend_type = 'zerodown launcher' AND wait_event_type = 'Extension'
	   AND query LIKE 'zerodown: deployment $id at patch 12: waiting for the standbys: %'}),
	'the worker waits after patch 12');
set_conf($primary, "zerodown.replica_lag_ignore = 'lag_standby'\n");
ok($primary->poll_query_until($db,
		"SELECT state IN ('done', 'failed', 'interrupted') FROM zerodown.deployments WHERE id = $id"),
	'the deployment ends');
is(query("SELECT state || '|' || to_version FROM zerodown.deployments WHERE id = $id"),
	'done|13', 'the deployment went on once the standby was ignored');
is($standby->safe_psql('postgres', 'SELECT pg_get_wal_replay_pause_state()'),
	'paused', 'while the standby was still paused');
set_conf($primary, "zerodown.replica_lag_ignore = ''\n");
resume_replay();

#
# 7. What is not waited for: a standby named in zerodown.replica_lag_ignore,
#    a logical walsender, a cascaded standby, a disconnected standby.
#
pause_replay();
set_conf($primary, "zerodown.replica_lag_ignore = 'lag_standby'\n");
query('CREATE TABLE app.ignored AS SELECT g FROM generate_series(1, 200000) g');
is(query(q{SELECT over_limit || '|' || ignored || '|' || (lag_bytes > 2 * 1024 * 1024) FROM zd_replica_lag()}),
	'false|true|true', 'a standby in zerodown.replica_lag_ignore is listed as ignored and under no limit');
is(query(q{SET ROLE deployer; SELECT zd_wait_for_replicas() = interval '0'}),
	't', 'zd_wait_for_replicas does not wait for it');
set_conf($primary, "zerodown.replica_lag_ignore = ''\n");
resume_replay();
catch_up();

# a logical walsender (pg_recvlogical) is no standby
$primary->safe_psql($db, "SELECT pg_create_logical_replication_slot('lag_logical', 'test_decoding')");
my $recvlogical = IPC::Run::start(
	[ 'pg_recvlogical', '-d', $primary->connstr($db), '--slot', 'lag_logical', '--start', '-f', '/dev/null' ],
	'>', \my $rl_out, '2>', \my $rl_err);
ok($primary->poll_query_until($db, 'SELECT count(*) = 2 FROM pg_stat_replication'),
	'a logical walsender streams beside the standby');
is(query('SELECT string_agg(application_name, \',\') FROM zd_replica_lag()'),
	'lag_standby', 'zd_replica_lag lists only the physical standby');
$recvlogical->kill_kill;
$primary->poll_query_until($db, 'SELECT count(*) = 1 FROM pg_stat_replication');
$primary->safe_psql($db, "SELECT pg_drop_replication_slot('lag_logical')");

# a cascaded standby streams from the standby: the primary does not see it
$standby->backup('cascade');
my $cascade = PostgreSQL::Test::Cluster->new('lag_cascade');
$cascade->init_from_backup($standby, 'cascade', has_streaming => 1);
$cascade->start;
ok($standby->poll_query_until('postgres', 'SELECT count(*) = 1 FROM pg_stat_replication'),
	'the cascaded standby streams from the standby');
is(query('SELECT string_agg(application_name, \',\') FROM zd_replica_lag()'),
	'lag_standby', 'the primary sees only its own standby');

# the functions refuse to run on a standby
my ($rc, $stdout, $stderr) = $standby->psql($db, 'SELECT zd_wait_for_replicas()',
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($stderr, qr/ERROR:  55000: cannot wait for standbys on a standby\nDETAIL:  This server is in recovery.*\nHINT:  Call it on the primary/s,
	'zd_wait_for_replicas on a standby: 55000, with a hint');
($rc, $stdout, $stderr) = $standby->psql($db, 'SELECT * FROM zd_replica_lag()',
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($stderr, qr/ERROR:  55000: cannot measure replica lag on a standby/,
	'zd_replica_lag on a standby: 55000');
$cascade->stop;

# a disconnected standby is not waited for
$standby->stop;
$primary->poll_query_until($db, 'SELECT count(*) = 0 FROM pg_stat_replication');
query('CREATE TABLE app.alone AS SELECT g FROM generate_series(1, 50000) g');
is(query('SELECT count(*) FROM zd_replica_lag()'), '0', 'a disconnected standby is not listed');
is(query(q{SET ROLE deployer; SELECT zd_wait_for_replicas() = interval '0'}),
	't', 'zd_wait_for_replicas does not wait for a disconnected standby');
$standby->start;
catch_up();
is($standby->safe_psql($db, 'SELECT count(*) FROM app.alone'), '50000',
	'the standby catches up when it comes back');

$standby->stop;
$primary->stop;
done_testing();
