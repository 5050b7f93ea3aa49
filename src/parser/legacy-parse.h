/* legacy-parse.h -- the command-line parsers of the 2.0/2.2 firewall tools
 * (ipchains, ipfwadm, ipmasqadm, ipportfw, ipautofw) and the ipchains-save
 * format, as seen by the dispatcher, the driver and the unit tests.
 *
 * Each parser turns one command line into struct lg_cmd / struct
 * lg_forward values (../legacy.h) and nothing else: replaying the edit on
 * the legacy chains is lg_apply()'s job, lowering lg_lower()'s.  The
 * *_parse() functions are the seam the unit tests use; the *_command()
 * functions parse and apply.
 *
 * Ownership (for the writer of legacy.c):
 *   - every struct lg_cmd is heap-allocated (xzalloc), as are its chain
 *     name and its rule; the caller hands it to lg_apply() and then calls
 *     lg_cmd_free(c), which must free c itself, c->chain and c->rule when
 *     it is still set (lg_apply() takes the rule: it sets c->rule = NULL or
 *     frees it; the *_command() functions also clear it after the call).
 *   - every struct lg_forward is heap-allocated and handed to
 *     lg_apply_forward(), which owns it from then on.
 *
 * What the parsers leave to the lowering, on purpose:
 *   - -b stays one rule with bidir = true.  ipchains expanded it in user
 *     space into two rules (ipchains.c append_entry/insert_entry/
 *     delete_entry): the second has source and destination (addresses,
 *     masks, their `!`) swapped and, unless the protocol is ICMP, the port
 *     specs and their `!` swapped too; -I n -b inserts both at n, so the
 *     swapped rule ends up FIRST.  ipfwadm -b is one kernel rule counted
 *     once.
 *   - ipfwadm -A both (the default direction) is emitted as TWO commands,
 *     one for LG_CH_ACCT_IN and one for LG_CH_ACCT_OUT, each with its own
 *     copy of the rule; -A in / -A out give one.  The 2.0 kernel kept a
 *     single accounting list whose rules carried a direction, and walked it
 *     for each direction, so two per-direction lists replay it exactly,
 *     except that -A both -d deletes from each list the first rule that
 *     compares equal, which could be an in-only rule written identically
 *     (counters only; noted nowhere).  -A -f flushes both lists (IP_ACCT_FLUSH
 *     ignores the direction), so it too gives two commands.
 *   - ports are kept as written: "no port spec" is n = 0, an explicit
 *     0:65535 is n = 1 {0, 65535} (the lowering needs to see `! 0:65535`
 *     and the fragment rule of ipchains, legacy-semantics.md pitfall 18).
 *   - ipchains ICMP: sport holds the type (range), dport the code (range);
 *     a name like port-unreachable sets both; a name that means "any code"
 *     leaves dport empty.  ipfwadm ICMP types are sport entries.
 *   - ipfwadm -t on deny/reject/accounting rules is dropped here with a note
 *     (the man page: "will have no effect"); kept on accept rules, where
 *     the 2.0 kernel applied it to accepted packets only.  ipchains -t is
 *     kept on every rule (2.2 applies it on every match).
 *   - ipfwadm -r on a deny/reject rule is dropped with a warning ("packets
 *     accepted by this rule will be redirected").
 *   - ipfwadm policies: accept+-m and "masquerade" give LG_T_MASQ,
 *     accept+-r gives LG_T_REDIRECT, accounting rules LG_T_NONE.
 *   - ipfwadm -V ADDR: iface holds the address text, iface_by_addr = true;
 *     resolving it to an interface (or failing with a -D hint) is the
 *     lowering's job.
 */
#ifndef MASQC_LEGACY_PARSE_H
#define MASQC_LEGACY_PARSE_H

#include <stdbool.h>
#include <stdint.h>
#include "dialect.h"
#include "../legacy.h"

#define LGP_MAX_CMDS 2

struct lgp_out {
	struct lg_cmd *v[LGP_MAX_CMDS];
	unsigned n;
};

/* One command line each (argv[0] is the program).  0 with out->n == 0 is a
 * command that changes nothing (help, version); -1 = errors queued, out
 * empty. */
int ipchains_parse(struct parse_ctx *pc, const struct command *cmd, struct lgp_out *out);
int ipfwadm_parse(struct parse_ctx *pc, const struct command *cmd, struct lgp_out *out);
/* ipmasqadm portfw|mfw|autofw, ipportfw, ipautofw.  *out NULL: nothing to
 * apply (list, help). */
int ipmasqadm_parse(struct parse_ctx *pc, const struct command *cmd, struct lg_forward **out);
void lgp_out_free(struct lgp_out *o);

/* Parse and lg_apply()/lg_apply_forward(). */
int ipchains_command(struct parse_ctx *pc, const struct command *cmd);
int ipfwadm_command(struct parse_ctx *pc, const struct command *cmd);
int ipmasqadm_command(struct parse_ctx *pc, const struct command *cmd);

/* ipchains-save output (":input ACCEPT", "-A input ...").  detect: the
 * first meaningful line is a ":chain POLICY" line of a builtin ipchains
 * chain (lower case) or a user chain with policy "-". */
bool ipchains_save_detect(const struct src_file *f);
int ipchains_save_parse(struct parse_ctx *pc, const struct src_file *f);

/* ---- helpers shared by the three parsers (legacy-parse.c) ---------------- */

struct lgp {
	struct parse_ctx *pc;
	const struct command *cmd;
	const char *prog;	/* basename of argv[0] */
	int err;
};

void lgp_init(struct lgp *p, struct parse_ctx *pc, const struct command *cmd);
int lgp_err(struct lgp *p, const struct loc *loc, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A word that must have a literal value (not $VAR known only at run time,
 * not the address of an interface). */
int lgp_literal(struct lgp *p, const struct word *w);
bool lgp_uint(const char *s, int base, uint32_t max, uint32_t *out);
/* addr[/mask] as the old tools read it (getnetbyname/gethostbyname:
 * inet_aton forms, dotted or bit-count masks, a zero mask ignores the
 * name); WORD_IFADDR becomes IR_ADDR_IFADDR when allow_ifaddr. */
int lgp_addr(struct lgp *p, const struct word *w, struct ir_addr *a, bool allow_ifaddr);
/* One port: a number, or a service name for tcp/udp (fixed table). */
bool lgp_port(const char *s, size_t n, uint8_t proto, uint32_t *port);
/* A protocol name from /etc/protocols (fixed table) or a number. */
bool lgp_proto(const char *s, uint32_t *proto);
const char *lgp_proto_name(uint32_t proto);
struct lg_cmd *lgp_cmd_new(enum lg_tool tool, enum lg_op op, const struct loc *loc);
/* A sub-word: the text from offset on, with its location moved along. */
struct word lgp_subword(const struct word *w, size_t off);

#endif
