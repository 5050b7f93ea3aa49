/* dialect.h -- from the command stream (or an iptables-save dump) to the IR. */
#ifndef MASQC_DIALECT_H
#define MASQC_DIALECT_H

#include <stdbool.h>
#include "cmd.h"
#include "../diag.h"
#include "../ir.h"

struct lg_state;

struct parse_ctx {
	struct ir_ruleset *rs;
	struct diag_queue *dq;
	struct source_set *ss;
	bool strict;		/* unknown commands are errors, not warnings */
	struct lg_state *legacy;	/* the 2.0/2.2 model (legacy.h); NULL until used */
	bool noflush;		/* iptsave_parse: iptables-restore -n (keep what the tables hold) */
};

/* Routes each command by the basename of argv[0]: iptables, ip6tables
 * (and -legacy/-nft variants), modprobe/insmod (helpers), echo/printf with a
 * redirection to /proc/sys/... (sysctls), known no-ops (echo, printf, depmod,
 * lsmod, route, ifconfig, ip, sleep, logger, ...), and warns about anything
 * else.  Returns 0 or -1 (errors queued). */
int dispatch_commands(struct parse_ctx *pc, const struct cmd_stream *cs);

/* The same one command at a time (for cmd_stream.sink): the dispatcher
 * keeps what it must remember across commands (notes already given,
 * helper ports).  dispatcher_free() returns -1 if any command failed. */
struct dispatcher;
struct dispatcher *dispatcher_new(struct parse_ctx *pc);
void dispatcher_run(struct dispatcher *d, const struct command *c);
void dispatcher_sink(void *dispatcher, const struct command *c);	/* for cmd_stream.sink */
int dispatcher_free(struct dispatcher *d);

/* One iptables/ip6tables command line (argv[0] is the program). */
int ipt_command(struct parse_ctx *pc, const struct command *cmd, enum ir_family fam);

/* iptables-save / iptables-restore format. */
bool iptsave_detect(const struct src_file *f);
int iptsave_parse(struct parse_ctx *pc, const struct src_file *f, enum ir_family fam);
/* For a dump given without saying which: IPv6 if a rule names ICMPv6, HL,
 * or an address with ':' in -s/-d; otherwise IPv4. */
enum ir_family iptsave_guess_family(const struct src_file *f);

/* Post-parse pass: resolves jump targets (sets ir_verdict.u.chain.target and
 * ir_chain.refs), detects jump loops, and handles interface-address values
 * (IR_ADDR_IFADDR): SNAT to the address of the rule's own -o interface
 * becomes MASQUERADE with a note; anywhere else it is an error with a
 * "give -D VAR=ADDRESS" hint. Returns 0 or -1. */
int ir_resolve(struct ir_ruleset *rs, struct diag_queue *dq);

#endif
