/* simhost: preloaded into IPv4-only jails (/etc/ld.so.preload inside the jail).
 * FreeBSD disables IPv6 in a jail that sets neither ip6 nor ip6.addr: socket(AF_INET6, ...)
 * fails with EPROTONOSUPPORT (sys/kern/uipc_socket.c socreate -> prison_check_af). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/socket.h>

int socket(int domain, int type, int protocol)
{
	static int (*real_socket)(int, int, int);
	if (domain == AF_INET6) {
		errno = EPROTONOSUPPORT;
		return -1;
	}
	if (!real_socket)
		real_socket = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
	return real_socket(domain, type, protocol);
}
