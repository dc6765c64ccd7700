/* simhost ForceCommand (compiled at `up`; lib/session is the perl fallback with identical output):
 * append {"ts","t","pid","client","cmd"} to /var/db/simhost/commands.log, then exec
 * /bin/sh -c "$SSH_ORIGINAL_COMMAND" with a clean FreeBSD-like root environment. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

static void esc(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
		} else if (c == '\n') {
			fputs("\\n", f);
		} else if (c == '\r') {
			fputs("\\r", f);
		} else if (c == '\t') {
			fputs("\\t", f);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
		} else {
			fputc(c, f);
		}
	}
	fputc('"', f);
}

int main(void)
{
	const char *cmd = getenv("SSH_ORIGINAL_COMMAND");
	const char *sc = getenv("SSH_CLIENT");
	char client[64] = "";
	struct timespec ts;
	struct tm tm;
	char tbuf[32];
	int fd;

	if (sc) {
		char *sp;
		strncpy(client, sc, sizeof(client) - 1);
		if ((sp = strchr(client, ' ')) != NULL)
			*sp = '\0';
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm);
	fd = open("/var/db/simhost/commands.log", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		FILE *f;
		flock(fd, LOCK_EX);
		f = fdopen(fd, "a");
		if (f) {
			fprintf(f, "{\"ts\":\"%s.%03ldZ\",\"t\":%ld.%03ld,\"pid\":%d,\"client\":", tbuf,
			    ts.tv_nsec / 1000000, (long)ts.tv_sec, ts.tv_nsec / 1000000, (int)getpid());
			esc(f, sc ? client : NULL);
			fputs(",\"cmd\":", f);
			esc(f, cmd);
			fputs("}\n", f);
			fclose(f);
		}
	}
	{
		static const char *keep[] = { "SSH_CLIENT", "SSH_CONNECTION", "SSH_TTY", "TERM" };
		char *envp[16];
		int n = 0;
		size_t i;
		for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
			const char *v = getenv(keep[i]);
			char *e;
			if (v && asprintf(&e, "%s=%s", keep[i], v) > 0)
				envp[n++] = e;
		}
		envp[n++] = "PATH=/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin:/root/bin";
		envp[n++] = "HOME=/root";
		envp[n++] = "USER=root";
		envp[n++] = "LOGNAME=root";
		envp[n++] = "SHELL=/bin/sh";
		envp[n++] = "BLOCKSIZE=K";
		envp[n] = NULL;
		if (chdir("/root") != 0) {
			/* keep going from wherever sshd started us */
		}
		if (cmd && *cmd) {
			char *argv[] = { "sh", "-c", (char *)cmd, NULL };
			execve("/bin/sh", argv, envp);
		} else {
			char *argv[] = { "-sh", NULL };
			execve("/bin/sh", argv, envp);
		}
	}
	return 127;
}
