# Where make install puts zd, and how to run it (issue 11 item 2).  zd goes
# into PostgreSQL's bindir (pg_config --bindir), which is not on PATH on
# most systems (Debian: /usr/lib/postgresql/15/bin): make install says
# where it went and, when that directory is not on PATH, how to run it.
# Before, it said nothing, and neither did the README.

use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;

my $tree = $ENV{TESTDIR} // '.';
my $pg_config = `pg_config --bindir`;
chomp $pg_config;
my $bindir = $pg_config;
$pg_config = "$bindir/pg_config";
ok(-x $pg_config, 'pg_config is found');

sub install
{
	my ($path) = @_;
	my $destdir = PostgreSQL::Test::Utils::tempdir;
	my ($out, $err) = ('', '');
	local $ENV{PATH} = $path;
	IPC::Run::run(
		[ 'make', '-s', '-C', $tree, 'zd-install', "PG_CONFIG=$pg_config", "DESTDIR=$destdir" ],
		'>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err, $destdir);
}

# PATH without PostgreSQL's bindir, as a login shell has it
my $plain_path = join(':', grep { $_ ne $bindir } split(/:/, $ENV{PATH}));
my ($rc, $out, $err, $destdir) = install($plain_path);
is($rc, 0, 'make zd-install succeeds') or diag("$out\n$err");
ok(-x "$destdir$bindir/zd", 'zd is installed into pg_config --bindir');
like($out, qr/^zd installed as \Q$destdir$bindir\E\/zd$/m, 'make install says where zd went');
like($out, qr/\Q$bindir\E is not on PATH; add it \(export PATH=\Q$bindir\E:\$PATH\)/,
	'and how to put it on PATH');
like($out, qr/ln -s \Q$bindir\E\/zd \/usr\/local\/bin\/zd/, 'or to link it');

# with the bindir on PATH, nothing more to say
($rc, $out, $err, $destdir) = install("$bindir:$plain_path");
is($rc, 0, 'make zd-install succeeds with the bindir on PATH');
unlike($out, qr/not on PATH/, 'and gives no PATH advice then');

done_testing();
