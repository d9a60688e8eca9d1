# zd deploy, zd gate status and the deployments in zd status, against a node
# whose zerodown worker serves the database "postgres".  zd deploy --wait
# listens for the worker's notifications with no transaction open, so that a
# no-transaction patch (CREATE INDEX CONCURRENTLY) never waits for zd.
# Waits are polls, never fixed sleeps.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use ZdClient qw(zd_node zd folder);

# restart_after_crash as in production: a crashing backend does not end the
# test file
my $node = zd_node('zd_deploy',
	"zerodown.database = 'postgres'\nrestart_after_crash = on\n");
$node->safe_psql('postgres', 'CREATE EXTENSION zerodown');
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'zerodown launcher'"
	),
	'the zerodown worker runs');

my @conn = ('-h', $node->host, '-p', $node->port, '-d', 'postgres');

sub query
{
	my ($sql) = @_;
	return $node->safe_psql('postgres', $sql);
}

# the id zd printed when it queued the deployment
sub deployment_id
{
	my ($out) = @_;
	my ($id) = $out =~ /^zd: deployment (\d+) queued/m;
	return $id // 0;
}

# poll until the deployment has ended
sub await_end
{
	my ($id) = @_;
	return $node->poll_query_until('postgres',
		"SELECT state IN ('done', 'failed', 'cancelled', 'interrupted') FROM zerodown.deployments WHERE id = $id"
	);
}

my ($rc, $out, $err, $id);

# what zd printed, when a test of its exit code fails
sub diag_output
{
	diag("stdout:\n$out\nstderr:\n$err");
}

#
# gate status: open, with a job, closing, closed
#
($rc, $out, $err) = zd(@conn, 'gate', 'status');
is($rc, 0, 'gate status exits 0')
  or diag_output();
like($out, qr/^zd: deployment gate open$/m, 'the gate is open');
like($out, qr/^\s+deployer:\s+-$/m, 'nobody holds it');
like($out, qr/^\s+running jobs:\s+0\n\s+waiting jobs:\s+0$/m, 'no job runs or waits');
like($out, qr/^\s+no managed jobs$/m, 'no job is listed');

{
	my $job = $node->background_psql('postgres');
	my $job_pid = $job->query_safe('SELECT pg_backend_pid()');
	$job->query_safe("SELECT zd_job_begin('nightly_etl')");

	($rc, $out, $err) = zd(@conn, 'gate', 'status');
	is($rc, 0, 'gate status with a job exits 0')
	  or diag_output();
	like($out, qr/^\s+running jobs:\s+1$/m, 'one job runs');
	like($out, qr/^\s+pid\s+job\s+status\s+since$/m, 'the jobs have a header');
	like($out, qr/^\s+$job_pid\s+nightly_etl\s+running\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/m,
		'the job is listed with its pid, name, status and start');

	my $closer = $node->background_psql('postgres');
	my $closer_pid = $closer->query_safe('SELECT pg_backend_pid()');
	$closer->query_until(qr/closing/, "\\echo closing\nSELECT zd_gate_close();\n");
	ok($node->poll_query_until('postgres', "SELECT state = 'closing' FROM zd_gate_status()"),
		'the gate is closing while the job runs');

	($rc, $out, $err) = zd(@conn, 'gate', 'status');
	is($rc, 0, 'gate status while closing exits 0')
	  or diag_output();
	like($out, qr/^zd: deployment gate closing$/m, 'the gate is closing');
	like($out, qr/^\s+deployer:\s+.*\(?pid $closer_pid\)?$/m, 'the deployer is named by its pid');

	$job->query_safe('SELECT zd_job_end()');
	ok($node->poll_query_until('postgres', "SELECT state = 'closed' FROM zd_gate_status()"),
		'the gate closes once the job ends');

	($rc, $out, $err) = zd(@conn, 'gate', 'status');
	is($rc, 0, 'gate status while closed exits 0')
	  or diag_output();
	like($out, qr/^zd: deployment gate closed$/m, 'the gate is closed');
	like($out, qr/^\s+running jobs:\s+0$/m, 'no job runs');

	$closer->query_safe('SELECT zd_gate_open()');
	($rc, $out, $err) = zd(@conn, 'gate', 'status');
	like($out, qr/^zd: deployment gate open$/m, 'the gate is open again');

	$closer->quit;
	$job->quit;
}

#
# ordinary patches: deploy --wait, a failing patch, deploy without --wait
#
my %plain = (
	'build/00001_create_a.sql' =>
	  "CREATE TABLE a (id int PRIMARY KEY, v int);\nINSERT INTO a SELECT g, g % 10 FROM generate_series(1, 100) g;\n",
	'rollback/00001_create_a.sql' => "DROP TABLE a;\n",
	'build/00002_add_w.sql' => "ALTER TABLE a ADD COLUMN w int;\n",
	'rollback/00002_add_w.sql' => "ALTER TABLE a DROP COLUMN w;\n");
my $plain = folder(%plain);

($rc, $out, $err) = zd(@conn, '-C', $plain, 'deploy', '2', '--wait');
$id = deployment_id($out);
is($rc, 0, 'deploy 2 --wait exits 0')
  or diag_output();
ok($id > 0, 'deploy prints the id of the deployment');
like($out, qr/^zd: deployment $id queued: from patch 0 to patch 2$/m,
	'deploy says where the deployment goes');
like(
	$out,
	qr/^zd: deployment $id: draining\nzd: deployment $id: applying\n(?:  .*\n)+zd: deployment $id done in \d+ ms: database at patch 2 \(from patch 0\)$/m,
	'deploy --wait prints each state, each step, then how it ended');
like(
	$out,
	qr/^  building     00001_create_a\n  built        00001_create_a\s+\d+ ms\n  building     00002_add_w\n  built        00002_add_w\s+\d+ ms\n/m,
	'deploy --wait shows each step as it starts and as it ends, in order');
is(query('SELECT zd_version()'), '2', 'the database is at patch 2');
is(query("SELECT state FROM zerodown.deployments WHERE id = $id"),
	'done', 'the deployment is done');

# a failing patch: the error with its DETAIL and HINT lines, exit 1
{
	my $failing = folder(%plain,
		'build/00003_insert.sql' => "SELECT 1;\nINSERT INTO no_such_table VALUES (1);\n",
		'rollback/00003_insert.sql' => '');

	($rc, $out, $err) = zd(@conn, '-C', $failing, 'deploy', '3', '--wait');
	$id = deployment_id($out);
	is($rc, 1, 'deploy --wait of a failing patch exits 1')
	  or diag_output();
	like($out, qr/^zd: deployment $id: applying$/m, 'the deployment was applying');
	like(
		$err,
		qr/^zd: error: deployment $id failed: patch 3 "insert" failed: relation "no_such_table" does not exist$/m,
		'the error names the patch and the server\'s message');
	like($err, qr/^zd: detail: .*line 2: INSERT INTO no_such_table/m,
		'the DETAIL line names the line');
	like($err, qr/^zd: hint: /m, 'the HINT line is shown');
	like($err, qr/^zd: database at patch 2 \(the deployment started at patch 2, toward patch 3\)$/m,
		'zd says where the database stands');
	is(query('SELECT zd_version()'), '2', 'the database stays at patch 2');
}

# without --wait: the id, at once
($rc, $out, $err) = zd(@conn, '-C', $plain, 'deploy', '1');
$id = deployment_id($out);
is($rc, 0, 'deploy without --wait exits 0')
  or diag_output();
like($out, qr/^zd: deployment $id queued: from patch 2 to patch 1$/m,
	'deploy without --wait prints the id');
unlike($out, qr/applying|done/, 'deploy without --wait does not wait');
ok(await_end($id), 'the deployment ends without zd');
is(query("SELECT state FROM zerodown.deployments WHERE id = $id"),
	'done', 'the deployment queued without --wait is done');
is(query('SELECT zd_version()'), '1', 'the database is at patch 1');

#
# --timeout: zd stops waiting, the deployment goes on
#
my %sleepy = (%plain,
	'build/00003_sleep.sql' => "SELECT pg_sleep(5);\n",
	'rollback/00003_sleep.sql' => '');
my $sleepy = folder(%sleepy);

($rc, $out, $err) = zd(@conn, '-C', $sleepy, 'deploy', '3', '--wait', '--timeout=1');
$id = deployment_id($out);
is($rc, 1, 'deploy --wait --timeout=1 of a patch that sleeps 5 s exits 1')
  or diag_output();
like($err, qr/^zd: error: gave up waiting for deployment $id after 1 s: it is applying$/m,
	'zd says it gave up waiting, and the state');
like($err, qr/^zd: detail: The deployment goes on in the background worker/m,
	'zd says the deployment goes on');
ok(await_end($id), 'the deployment ends after zd left');
is(query("SELECT state FROM zerodown.deployments WHERE id = $id"),
	'done', 'the deployment zd stopped waiting for is done');
is(query('SELECT zd_version()'), '3', 'the database is at patch 3');

#
# while zd waits, it holds no transaction and no snapshot
#
{
	my ($wout, $werr) = ('', '');
	my $slow = folder(%sleepy,
		'build/00004_sleep_again.sql' => "SELECT pg_sleep(3);\n",
		'rollback/00004_sleep_again.sql' => '');
	my $run = IPC::Run::start([ 'zd', @conn, '-C', $slow, 'deploy', '4', '--wait' ],
		'>', \$wout, '2>', \$werr);

	ok( $node->poll_query_until(
			'postgres',
			"SELECT count(*) = 1 FROM pg_stat_activity a"
			  . " WHERE a.application_name = 'zd' AND a.state = 'idle'"
			  . "  AND a.xact_start IS NULL AND a.backend_xmin IS NULL"
			  . "  AND EXISTS (SELECT FROM zerodown.deployments d WHERE d.state = 'applying')"
		),
		'zd waits idle, outside any transaction, while the deployment applies');

	# a worker that notifies more than zd knows: a state zd has no name
	# for is shown as it comes, a payload of several words only wakes zd
	query("SELECT pg_notify('zerodown_deployment', id || ' verifying'),"
		  . " pg_notify('zerodown_deployment', id || ' step 4 started')"
		  . " FROM zerodown.deployments WHERE state = 'applying'");
	$run->finish;
	is($? >> 8, 0, 'the deployment zd waited for is done');
	like($wout, qr/done in \d+ ms: database at patch 4/, 'zd printed the end');
	like($wout, qr/^zd: deployment \d+: verifying$/m, 'a state zd does not know is shown');
	unlike($wout, qr/^zd: deployment \d+: step/m, 'a payload of several words is not taken for a state');
}

#
# states zd learns by reading them, without a notification
#
($rc, $out, $err) = zd(@conn, '-C', $sleepy, 'deploy', '2', '--wait');
is($rc, 0, 'deploy 2 --wait rolls back to patch 2')
  or diag_output();
is(query('SELECT zd_version()'), '2', 'the database is at patch 2');

# cancelled: zd_deploy_cancel sends no notification
{
	my $holder = $node->background_psql('postgres');
	my ($wout, $werr) = ('', '');

	# a deployment that sleeps keeps the worker busy, so the next one queues
	my $busy = $holder->query_safe('SELECT zd_deploy(3)');
	ok( $node->poll_query_until('postgres',
			"SELECT state = 'applying' FROM zerodown.deployments WHERE id = $busy"),
		'a deployment that sleeps is applying');
	my $run = IPC::Run::start(
		[ 'zd', @conn, '--no-register', 'deploy', '4', '--wait' ],
		'>', \$wout, '2>', \$werr);
	ok( $node->poll_query_until('postgres',
			"SELECT count(*) = 1 FROM zerodown.deployments WHERE state = 'queued'"),
		'zd queued a deployment behind it');
	$holder->query_safe(
		"SELECT zd_deploy_cancel(id) FROM zerodown.deployments WHERE state = 'queued'");
	$run->finish;
	$id = deployment_id($wout);
	is($? >> 8, 1, 'a cancelled deployment: exit 1');
	like($werr, qr/^zd: error: deployment $id cancelled$/m, 'zd says it was cancelled');
	ok(await_end($busy), 'the deployment that sleeps ends');
	is(query('SELECT zd_version()'), '3', 'the database is at patch 3');
	$holder->quit;
}

# interrupted: the worker stops mid-deployment, and its successor settles it
{
	my ($wout, $werr) = ('', '');
	my $run = IPC::Run::start([ 'zd', @conn, '--no-register', 'deploy', '4', '--wait' ],
		'>', \$wout, '2>', \$werr);

	ok( $node->poll_query_until(
			'postgres',
			"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'zerodown launcher' AND wait_event = 'PgSleep'"
		),
		'the worker is applying a patch that sleeps');
	query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'zerodown launcher'");
	$run->finish;
	$id = deployment_id($wout);
	is($? >> 8, 1, 'an interrupted deployment: exit 1');
	like($werr, qr/^zd: error: deployment $id interrupted: the deployment was interrupted while applying/m,
		'zd says it was interrupted, with the worker\'s error');
	like($werr, qr/^zd: database at patch 3 \(the deployment started at patch 3, toward patch 4\)$/m,
		'zd says where the database stands');
	is(query('SELECT zd_version()'), '3', 'the database stays at patch 3');
}

#
# zd deploy 0 --wait rolls everything back
#
($rc, $out, $err) = zd(@conn, '-C', $sleepy, 'deploy', '0', '--wait');
$id = deployment_id($out);
is($rc, 0, 'deploy 0 --wait exits 0')
  or diag_output();
like($out, qr/^zd: deployment $id done in \d+ ms: database at patch 0 \(from patch 3\)$/m,
	'deploy 0 --wait says the database is at patch 0');
is(query('SELECT zd_version()'), '0', 'the database is at patch 0');
is(query("SELECT to_regclass('a') IS NULL"), 't', 'the table is gone');

#
# status: the latest deployments
#
($rc, $out, $err) = zd(@conn, 'status');
is($rc, 0, 'status exits 0')
  or diag_output();
like($out, qr/^zd: latest deployments$/m, 'status shows the latest deployments');
like($out, qr/^\s+id\s+target\s+state\s+from\s+to\s+requested at\s+finished at$/m,
	'the deployments have a header');
like($out, qr/^\s+$id\s+0\s+done\s+3\s+0\s+\d{4}-/m, 'the last deployment is listed');
like($out, qr/^\s+\d+\s+4\s+interrupted\s+3\s+3\s.*\n\s+error: the deployment was interrupted while applying/m,
	'an interrupted deployment shows the first line of its error');
like($out, qr/^\s+\d+\s+4\s+cancelled\s+\d+\s+-\s/m, 'the cancelled deployment is listed');
is(scalar(() = $out =~ /^\s+\d+\s+\d+\s+(?:done|failed|cancelled|interrupted)\s/mg),
	5, 'status shows the last 5 deployments');

#
# a no-transaction patch between two ordinary ones: CREATE INDEX
# CONCURRENTLY waits for every transaction holding a snapshot, zd's too
#
my %cic = (
	'build/00001_create_t.sql' =>
	  "CREATE TABLE t (id int PRIMARY KEY, v int);\nINSERT INTO t SELECT g, g % 10 FROM generate_series(1, 1000) g;\n",
	'rollback/00001_create_t.sql' => "DROP TABLE t;\n",
	'build/00002_index_t_v.sql' =>
	  "-- zerodown:no-transaction\nCREATE INDEX CONCURRENTLY t_v_idx ON t (v);\n",
	'rollback/00002_index_t_v.sql' =>
	  "-- zerodown:no-transaction\nDROP INDEX CONCURRENTLY t_v_idx;\n",
	'build/00003_add_w.sql' => "ALTER TABLE t ADD COLUMN w int;\n",
	'rollback/00003_add_w.sql' => "ALTER TABLE t DROP COLUMN w;\n");
my $cic = folder(%cic);
my $index_state =
  "SELECT coalesce((SELECT indisvalid::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 't_v_idx'), 'none')";

($rc, $out, $err) = zd(@conn, '-C', $cic, 'deploy', '3', '--wait');
$id = deployment_id($out);
is($rc, 0, 'deploy 3 --wait through CREATE INDEX CONCURRENTLY exits 0')
  or diag_output();
ok(await_end($id), 'the deployment through CREATE INDEX CONCURRENTLY has ended');
like($out, qr/^zd: deployment $id done in \d+ ms: database at patch 3 \(from patch 0\)$/m,
	'zd says the deployment is done');
is(query($index_state), 'true', 'the index exists and is valid');
is(query('SELECT zd_version()'), '3', 'zd_version() is 3');

($rc, $out, $err) = zd(@conn, '-C', $cic, 'deploy', '0', '--wait');
$id = deployment_id($out);
is($rc, 0, 'deploy 0 --wait through DROP INDEX CONCURRENTLY exits 0')
  or diag_output();
ok(await_end($id), 'the rollback through DROP INDEX CONCURRENTLY has ended');
is(query($index_state), 'none', 'the index is gone');
is(query('SELECT zd_version()'), '0', 'zd_version() is 0');

#
# what deploy --wait shows while the worker runs: each step as it starts and
# ends, and the progress of a backfill (a no-transaction step that CALLs
# zd_backfill, batches paused so that it lasts a few seconds)
#
query(q{CREATE TABLE bu (id integer PRIMARY KEY, email text);
	INSERT INTO bu SELECT i, 'User' || i || '@Example.org' FROM generate_series(1, 20000) i});
my %backfill = (
	'build/00001_add_note.sql' => "ALTER TABLE bu ADD COLUMN note text;\n",
	'rollback/00001_add_note.sql' => "ALTER TABLE bu DROP COLUMN note;\n",
	'build/00002_expand_email.sql' =>
	  "SELECT zd_expand_column('bu', 'email', 'email_normalized', 'text', 'lower(email)', 'email_normalized');\n",
	'rollback/00002_expand_email.sql' => "SELECT zd_abort('bu', 'email_normalized');\n",
	'build/00003_backfill_email.sql' =>
	  "-- zerodown:no-transaction\nCALL zd_backfill('bu', 'email_normalized', 500, 100);\n",
	'rollback/00003_backfill_email.sql' => '');
my $backfill = folder(%backfill);

($rc, $out, $err) = zd(@conn, '-C', $backfill, 'deploy', '3', '--wait');
$id = deployment_id($out);
is($rc, 0, 'deploy --wait of a backfill exits 0')
  or diag_output();
like(
	$out,
	qr/^zd: deployment $id: applying\n  building     00001_add_note\n  built        00001_add_note\s+\d+ ms\n  building     00002_expand_email\n  built        00002_expand_email\s+\d+ ms\n  building     00003_backfill_email\n/m,
	'deploy --wait shows the steps before the backfill as they start and end');
like(
	$out,
	qr/^  building     00003_backfill_email\n(?:\s+backfill of bu: \d+ of 20000 rows \([\d.]+%\).*\n)+  built        00003_backfill_email\s+\d+ ms\n/m,
	'deploy --wait shows the progress of the backfill between its start and its end');
like($out, qr/^zd: deployment $id done in \d+ ms: database at patch 3 \(from patch 0\)$/m,
	'deploy --wait ends with how the deployment ended');
is(query("SELECT count(*) FILTER (WHERE email_normalized = lower(email)) FROM bu"),
	'20000', 'the backfill filled every row');

# --quiet silences the progress only: the id and how it ended stay
($rc, $out, $err) = zd(@conn, '-q', '-C', $backfill, 'deploy', '1', '--wait');
$id = deployment_id($out);
is($rc, 0, 'deploy --wait --quiet exits 0')
  or diag_output();
like(
	$out,
	qr/\Azd: deployment $id queued: from patch 3 to patch 1\nzd: deployment $id done in \d+ ms: database at patch 1 \(from patch 3\)\n\z/,
	'deploy --wait --quiet prints the id and how it ended, and nothing else');

# --json: one document, with every state and every step
($rc, $out, $err) = zd(@conn, '--json', '-C', $backfill, 'deploy', '3', '--wait');
is($rc, 0, 'deploy --wait --json exits 0')
  or diag_output();
my $doc = eval { JSON::PP::decode_json($out) };
ok(defined $doc, 'deploy --json prints one JSON document') or diag($@);
is($doc->{command}, 'deploy', 'the document names the command');
ok($doc->{ok} && $doc->{exit_code} == 0, 'the document says it succeeded');
ok($doc->{id} > 0, 'the document has the id of the deployment');
is($doc->{state}, 'done', 'the document has the final state');
is_deeply($doc->{states}, [ 'queued', 'draining', 'applying', 'done' ],
	'the document lists every state, in order');
is($doc->{from}, 1, 'the document has where it started');
is($doc->{target}, 3, 'the document has the target');
is($doc->{database_at}, 3, 'the document has where the database stands');
is_deeply([ map { "$_->{number} $_->{direction} $_->{outcome}" } @{ $doc->{steps} } ],
	[ '2 build done', '3 build done' ], 'the document lists the steps, in order');
ok($doc->{waited}, 'the document says zd waited');

$node->stop;
done_testing();
