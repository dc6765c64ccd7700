"""Multi-call entry: bin/NAME -> module function."""
import simlib

TABLE = {
    'uname': ('cmd_basic', 'uname'), 'freebsd-version': ('cmd_basic', 'freebsd_version'),
    'sysctl': ('cmd_basic', 'sysctl'), 'kldload': ('cmd_basic', 'kldload'),
    'kldstat': ('cmd_basic', 'kldstat'), 'sysrc': ('cmd_sysrc', 'sysrc'),
    'chflags': ('cmd_basic', 'chflags'), 'route': ('cmd_basic', 'route'),
    'sha256': ('cmd_basic', 'sha256'), 'stat': ('cmd_basic', 'stat'),
    'sed': ('cmd_basic', 'sed'), 'tar': ('cmd_basic', 'tar'), 'fetch': ('cmd_fetch', 'fetch'),
    'mktemp': ('cmd_basic', 'mktemp'), 'mount': ('cmd_basic', 'mount'), 'umount': ('cmd_basic', 'umount'),
    'ifconfig': ('cmd_net', 'ifconfig'), 'pfctl': ('cmd_net', 'pfctl'),
    'jail': ('cmd_jail', 'jail'), 'jls': ('cmd_jail', 'jls'), 'jexec': ('cmd_jail', 'jexec'),
    'service': ('cmd_svc', 'service'), 'daemon': ('cmd_svc', 'daemon'), 'pkg': ('cmd_svc', 'pkg'),
    'newsyslog': ('cmd_newsyslog', 'newsyslog'), 'lockf': ('cmd_lockf', 'lockf'),
    'pw': ('cmd_pw', 'pw'),
}


def main(prog):
    mod, fn = TABLE[prog]
    m = __import__(mod)
    simlib.run_main(prog, getattr(m, fn))
