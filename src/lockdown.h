/* lockdown.h -- the boot-time lockdown: a small table of its own,
 * `table inet masqc_lockdown`, that drops everything but loopback,
 * established/related traffic, IPv6 neighbour discovery and the
 * exceptions masqc.conf allows.  `masqc load` puts it in before compiling
 * and removes it only once the real ruleset is in the kernel, so a boot
 * with a broken script stays closed (fail-closed, like pf's block-all).
 *
 * Written with libnftnl directly (not through the IR): it must not depend
 * on the compiler that may be what failed.
 */
#ifndef MASQC_LOCKDOWN_H
#define MASQC_LOCKDOWN_H

#include <stdbool.h>
#include <stdint.h>

#define LOCKDOWN_TABLE "masqc_lockdown"

struct lockdown_allow {
	uint8_t proto;		/* IPPROTO_TCP, IPPROTO_UDP, or IPPROTO_ICMP (ICMP and ICMPv6) */
	uint16_t port_lo, port_hi;	/* tcp/udp destination ports; 0/0: any */
	uint8_t af;		/* 0: any source; 4 or 6: from addr/plen */
	uint8_t addr[16];
	uint8_t plen;
	char iface[16];		/* "" : any input interface */
};

struct lockdown {
	struct lockdown_allow *allow;
	unsigned nallow;
	bool output_accept;	/* lockdown-output accept */
};

/* Installs (or replaces) the lockdown table in one transaction.
 * Returns 0, or -errno with a message in err. */
int lockdown_install(const struct lockdown *l, char *err, unsigned errlen);
/* Removes it (no error when absent). */
int lockdown_remove(char *err, unsigned errlen);

#endif
