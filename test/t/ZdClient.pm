# Helpers for the TAP tests of the zd client (test/t/01*_zd_*.pl): a node
# with zerodown preloaded, zd run and its exit code and output captured,
# migrations folders written from a hash, and databases with the extension.
#
# zd is found on PATH: "make install" puts it in pg_config --bindir, which
# PGXS puts first in PATH for TAP tests; the zd built in this tree comes
# before any other.

package ZdClient;

use strict;
use warnings;

use Exporter 'import';
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;

our @EXPORT = qw(zd_node zd folder new_db query fixture);

$ENV{PATH} = "$ENV{TESTDIR}/src/zd:$ENV{PATH}"
  if defined $ENV{TESTDIR} && -x "$ENV{TESTDIR}/src/zd/zd";

# zd names itself "zd" in pg_stat_activity
delete $ENV{PGAPPNAME};

my $node;

# a started node with zerodown preloaded and messages in English; extra
# lines go to postgresql.conf
sub zd_node
{
	my ($name, $conf) = @_;
	$node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf',
		"shared_preload_libraries = 'zerodown'\nlc_messages = 'C'\n"
		  . ($conf // ''));
	$node->start;
	return $node;
}

# run zd; returns its exit code, stdout and stderr
sub zd
{
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'zd', @_ ], '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

# a migrations folder in a new temporary directory, from path => text
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

# a new database with the extension
sub new_db
{
	my ($db) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION zerodown');
	return $db;
}

sub query
{
	my ($db, $sql) = @_;
	return $node->safe_psql($db, $sql);
}

# the absolute path of a folder under test/fixtures
sub fixture
{
	my ($name) = @_;
	return abs_path(dirname(__FILE__) . "/../fixtures/$name");
}

1;
