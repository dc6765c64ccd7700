"""lockf(1) of FreeBSD 14 (usr.bin/lockf): run a command while holding an flock(2) lock."""
import errno
import fcntl
import os
import signal
import sys
import time

import simlib
from simlib import Exit, die

EX_USAGE, EX_UNAVAILABLE, EX_SOFTWARE, EX_OSERR, EX_CANTCREAT, EX_TEMPFAIL = 64, 69, 70, 71, 73, 75


def lockf(argv):
    prog = 'lockf'

    def usage():
        sys.stderr.write('usage: lockf [-knsw] [-t seconds] file command [arguments]\n')
        raise Exit(EX_USAGE)
    try:
        opts, rest = simlib.getopt_bsd(prog, argv, 'knst:w', lambda: None)
    except Exit:
        usage()
    d = dict(opts)
    wait = -1.0
    if 't' in d:
        try:
            wait = float(int(d['t']))
        except ValueError:
            die(prog, 'invalid timeout "%s"' % d['t'], EX_USAGE)
        if wait < 0:
            die(prog, 'invalid timeout "%s"' % d['t'], EX_USAGE)
    if len(rest) < 2:
        usage()
    name, cmd = rest[0], rest[1:]
    flags = os.O_WRONLY if 'w' in d else os.O_RDONLY
    if 'n' not in d:
        flags |= os.O_CREAT
    try:
        fd = os.open(name, flags | os.O_CLOEXEC, 0o666)
    except OSError as e:
        if 'n' in d and e.errno == errno.ENOENT:
            die(prog, 'cannot open %s: %s' % (name, e.strerror), EX_UNAVAILABLE)
        die(prog, 'cannot open %s: %s' % (name, e.strerror), EX_CANTCREAT)
    # -t 0: fail at once; -t N: give up after N seconds; none: wait as long as it takes
    deadline = None if wait < 0 else time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if deadline is not None and time.monotonic() >= deadline:
                if 's' not in d:
                    simlib.warnx(prog, '%s: already locked' % name)
                raise Exit(EX_TEMPFAIL)
            time.sleep(0.05)

    def cleanup():
        if 'k' not in d:
            try:
                os.unlink(name)
            except OSError:
                pass

    def killed(sig, _frame):
        cleanup()
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        # the child does not hold the lock: it ends with lockf (O_CLOEXEC closes fd on exec)
        try:
            os.execvp(cmd[0], cmd)
        except OSError as e:
            sys.stderr.write('lockf: %s: %s\n' % (cmd[0], e.strerror))
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGQUIT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, killed)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
        except OSError:
            raise Exit(EX_OSERR)
    cleanup()
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else EX_SOFTWARE
