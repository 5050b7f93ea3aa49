/* legacy.h -- the 2.0/2.2 firewall model (ipfwadm, ipchains, ipmasqadm,
 * ipportfw, ipautofw) between their command-line parsers and the lowering
 * into the IR.
 *
 * The old tools edited kernel chains command by command (-A, -I, -D, -R,
 * -F, -P ...).  Their parsers (src/parser/ipchains.c, ipfwadm.c,
 * ipmasqadm.c) turn each command line into a struct lg_cmd and hand it to
 * lg_apply(), which replays the edit on a model of the legacy chains kept in
 * struct lg_state.  Only when every script has been read does lg_lower()
 * turn the final legacy ruleset into IR chains, because a faithful lowering
 * needs the whole picture: which user chains are reached from input and
 * which from forward/output (a chain using -i is cloned per context), which
 * MASQ rules exist (port-forward replies need one), which marks are free
 * for masqc's own bookkeeping.  See docs/legacy.md and
 * ../shared/docs/legacy-semantics.md.
 */
#ifndef MASQC_LEGACY_H
#define MASQC_LEGACY_H

#include <stdbool.h>
#include <stdint.h>
#include "ir.h"
#include "diag.h"

enum lg_tool {
	LG_IPFWADM,	/* Linux 2.0 */
	LG_IPCHAINS,	/* Linux 2.2 */
};

/* Which kernel's behaviour is reproduced where they differ (REJECT ICMP
 * type, masquerade port range, input before/after routing, REDIRECT).
 * LG_GEN_AUTO: 2.0 for ipfwadm, 2.2 for ipchains. */
enum lg_generation { LG_GEN_AUTO, LG_GEN_20, LG_GEN_22, LG_GEN_24 };

enum lg_chain_kind {
	LG_CH_INPUT,	/* ipchains input, ipfwadm -I */
	LG_CH_FORWARD,	/* ipchains forward, ipfwadm -F */
	LG_CH_OUTPUT,	/* ipchains output, ipfwadm -O */
	LG_CH_ACCT_IN,	/* ipfwadm -A in (and the "in" half of -A both) */
	LG_CH_ACCT_OUT,	/* ipfwadm -A out */
	LG_CH_USER,	/* ipchains user chain */
};

enum lg_target {
	LG_T_NONE,	/* no target: count only (ipchains rule without -j; ipfwadm accounting) */
	LG_T_ACCEPT,
	LG_T_DENY,
	LG_T_REJECT,
	LG_T_MASQ,	/* ipchains -j MASQ; ipfwadm accept + -m, or policy masquerade */
	LG_T_REDIRECT,	/* ipchains -j REDIRECT [port]; ipfwadm accept + -r [port] */
	LG_T_RETURN,
	LG_T_JUMP,	/* ipchains user chain */
};

enum lg_tri { LG_ANY = 0, LG_YES, LG_NOT };	/* a flag absent / given / given with ! */

struct lg_ports {
	struct ir_range *v;	/* ipchains: at most one range; ipfwadm: up to 10 ports
				 * (source + destination together), a range only first */
	unsigned n;
	bool neg;		/* ipchains `!` before the port spec */
	struct loc loc;
};

struct lg_rule {
	struct loc loc;			/* the whole command */
	enum lg_tool tool;
	/* -p / -P */
	uint8_t proto;			/* 0 = all */
	bool proto_neg;
	struct loc proto_loc;
	/* -s / -S, -d / -D: address and mask; plen 0 = any */
	struct ir_addr src, dst;	/* IR_ADDR_PREFIX or IR_ADDR_IFADDR */
	bool src_neg, dst_neg;
	/* ports after the address or --sport/--dport; for ICMP: sport = types,
	 * dport = codes (ipchains) */
	struct lg_ports sport, dport;
	/* -i / -W (interface name, '+' wildcard) or -V (an interface address) */
	char *iface;			/* NULL = any */
	bool iface_neg;
	bool iface_by_addr;		/* ipfwadm -V: iface holds an address text */
	struct loc iface_loc;
	enum lg_tri frag;		/* -f */
	enum lg_tri syn;		/* -y: ipfwadm SYN&!ACK, ipchains SYN&!ACK&!RST */
	enum lg_tri ack;		/* ipfwadm -k */
	bool bidir;			/* -b */
	bool log;			/* -l (ipchains), -o (ipfwadm) */
	struct loc log_loc;
	bool has_tos;			/* -t and xor */
	uint8_t tos_and, tos_xor;
	struct loc tos_loc;
	bool has_mark;			/* ipchains -m [+-]N */
	bool mark_relative;		/* +N / -N: fwmark += N */
	int64_t mark;			/* absolute value, or signed delta */
	struct loc mark_loc;
	bool has_netlink;		/* ipchains -o [size] */
	uint32_t netlink_size;
	enum lg_target target;
	struct loc target_loc;
	char *jump;			/* LG_T_JUMP: chain name */
	uint16_t redirect_port;		/* LG_T_REDIRECT: 0 = keep the destination port */
	struct lg_rule *next;
};

enum lg_op {
	LG_OP_APPEND, LG_OP_INSERT, LG_OP_DELETE, LG_OP_DELETE_NUM, LG_OP_REPLACE,
	LG_OP_FLUSH, LG_OP_ZERO, LG_OP_NEW_CHAIN, LG_OP_DELETE_CHAIN, LG_OP_POLICY,
	LG_OP_LIST,			/* -L, -C (check), ipfwadm -l: noted, ignored */
	LG_OP_MASQ_TIMEOUTS,		/* ipchains -M -S / ipfwadm -M -s */
	LG_OP_MASQ_LIST,		/* -M -L: noted, ignored */
};

/* Which chain a command names (lg_apply):
 *  - chain != NULL: an ipchains chain name as written ("input", "forward",
 *    "output" are the builtins; anything else a user chain); chain_kind is
 *    then ignored;
 *  - chain == NULL and tool == LG_IPFWADM: chain_kind (-I/-F/-O/-A in/out);
 *  - chain == NULL and tool == LG_IPCHAINS: every chain (-F, -Z, -L with no
 *    chain; -X with no chain deletes every user chain). */
struct lg_cmd {
	enum lg_op op;
	enum lg_tool tool;
	struct loc loc;
	enum lg_chain_kind chain_kind;
	char *chain;			/* ipchains chain name as written (input, forward, user...) */
	struct loc chain_loc;
	unsigned num;			/* -I n, -D n, -R n (1-based; 0 = not given) */
	struct lg_rule *rule;		/* APPEND/INSERT/DELETE/REPLACE (owned by the cmd until applied) */
	enum lg_target policy;		/* POLICY: ACCEPT, DENY, REJECT, MASQ (ipfwadm masquerade) */
	struct loc policy_loc;
	uint32_t timeouts[3];		/* MASQ_TIMEOUTS: tcp, tcpfin, udp seconds (0 = keep) */
};

enum lg_fw_kind {
	LG_FW_PORTFW,	/* ipmasqadm portfw / ipportfw: laddr:lport -> raddr:rport */
	LG_FW_MFW,	/* ipmasqadm mfw: fwmark -> raddr[:rport] */
	LG_FW_AUTOFW,	/* ipmasqadm autofw / ipautofw */
};

struct lg_forward {
	enum lg_fw_kind kind;
	struct loc loc;
	uint8_t proto;			/* IPPROTO_TCP / IPPROTO_UDP */
	struct ir_addr laddr;		/* PORTFW: the firewall's own address (or IFADDR) */
	uint16_t lport;
	uint32_t fwmark;		/* MFW */
	struct ir_addr raddr;
	uint16_t rport;			/* 0 = keep (mfw) */
	unsigned pref;			/* -p pref: weight among entries with the same key */
	/* AUTOFW: ports lo..hi opened towards host (static, -h) or towards the
	 * masqueraded host that last used ctlproto/ctlport */
	struct ir_range ports;
	bool autofw_static;
	uint8_t ctlproto;
	uint16_t ctlport;
	bool autofw_notimer;		/* AUTOFW -u: no 15 s window after the control port */
	bool autofw_insecure;		/* AUTOFW -i: any host may use the ports once triggered */
	bool add;			/* true: -a/-A/-I; false: -d/-D (delete) */
	bool edit;			/* mfw -E: set pref of the matching entries */
	bool flush;			/* -f/-F/-C: flush all of this kind */
	struct lg_forward *next;
};

struct lg_state;

/* The state hangs off struct parse_ctx (created on first use). */
struct parse_ctx;
struct lg_state *lg_state_get(struct parse_ctx *pc);
void lg_state_free(struct lg_state *st);

/* Replays one edit on the legacy model; takes ownership of cmd->rule.
 * Errors (e.g. -D of a rule that does not exist) are queued. Returns 0/-1. */
int lg_apply(struct parse_ctx *pc, struct lg_cmd *cmd);
int lg_apply_forward(struct parse_ctx *pc, struct lg_forward *fw);	/* takes ownership */

/* A -D NAME=VALUE of the command line that the lowering reads:
 * MASQC_VIA_a_b_c_d=IFACE names the interface whose primary address is
 * a.b.c.d (ipfwadm -V a.b.c.d; docs/legacy.md).  Other names are ignored.
 * Call before lg_lower(). */
void lg_define(struct parse_ctx *pc, const char *name_eq_value);
/* Records that the interface ifname has the address addr (dotted quad),
 * e.g. from an ipfwadm rule giving both -W ifname and -V addr: other -V addr
 * rules then lower to ifname.  A -D binding for the same address wins. */
void lg_bind_via(struct parse_ctx *pc, const char *addr, const char *ifname);

/* Lowers the whole legacy model into pc->rs (new tables/chains, see
 * docs/legacy.md); a no-op when no legacy command was seen. */
int lg_lower(struct parse_ctx *pc, enum lg_generation gen);

void lg_rule_free(struct lg_rule *r);
void lg_cmd_free(struct lg_cmd *c);	/* frees c->rule too if still owned */

#endif
