/* ir.h -- masqc's one intermediate representation.
 *
 * ruleset -> tables (family + iptables table name) -> chains (base chains
 * with hook/priority/policy, user chains) -> rules (ordered matches, ordered
 * non-terminal statements, one verdict).  Plus conntrack helper directives
 * and sysctls.  Every node carries the location of the source it came from;
 * synthesized nodes use loc_internal or the location of what caused them.
 *
 * The IR is semantic (what the packet must look like), with just enough
 * provenance (ir_match.module, ir_match.module_seq) for the iptables-restore
 * backend to print a rule the way iptables-save would.
 *
 * Lists stay lists: an address, port or interface list is one match; a
 * backend that cannot express a list (iptables: several -s) expands it.
 *
 * Ownership: everything hanging off an ir_ruleset is owned by it and freed
 * by ir_ruleset_free().  Strings are heap copies.
 */
#ifndef MASQC_IR_H
#define MASQC_IR_H

#include <stdbool.h>
#include <stdint.h>
#include "loc.h"

enum ir_family {
	IR_FAM_IPV4,	/* iptables; nft family ip  */
	IR_FAM_IPV6,	/* ip6tables; nft family ip6 */
};

/* ---- values ---------------------------------------------------------- */

enum ir_addr_kind {
	IR_ADDR_PREFIX,	/* a/plen; a is already masked to plen */
	IR_ADDR_RANGE,	/* lo-hi inclusive (iprange, NAT ranges) */
	IR_ADDR_IFADDR,	/* the address of interface ifname, known at run time only */
};

struct ir_addr {
	enum ir_addr_kind kind;
	uint8_t af;		/* 4 or 6 */
	uint8_t plen;		/* PREFIX: 0..32 / 0..128 */
	uint8_t lo[16];		/* network order; IPv4 uses the first 4 bytes */
	uint8_t hi[16];		/* RANGE only */
	char *ifname;		/* IFADDR only */
	char *var;		/* IFADDR: the shell variable it came through, or NULL */
	struct loc loc;
};

struct ir_range {		/* inclusive numeric range; lo == hi for one value */
	uint32_t lo, hi;
};

/* ---- matches ----------------------------------------------------------- */

enum ir_match_kind {
	IR_M_PROTO,	/* u.proto: IP protocol number (0 = all, never emitted) */
	IR_M_SADDR,	/* u.addrs */
	IR_M_DADDR,	/* u.addrs */
	IR_M_IIF,	/* u.ifaces: names; a trailing '+' is the iptables wildcard */
	IR_M_OIF,	/* u.ifaces */
	IR_M_SPORT,	/* u.ports; m->l4proto says tcp/udp/sctp/dccp/udplite */
	IR_M_DPORT,	/* u.ports */
	IR_M_PORT,	/* multiport --ports: sport OR dport in u.ports */
	IR_M_TCPFLAGS,	/* u.tcpflags: (flags & mask) == cmp  (--syn: mask SYN|RST|ACK|FIN, cmp SYN) */
	IR_M_TCPOPTION,	/* u.num: tcp option kind present */
	IR_M_ICMP,	/* u.icmp: type, code (-1 = any code); ICMPv6 in an IPv6 table */
	IR_M_ICMP_ANY,	/* --icmp-type any: just the protocol (kept for the iptables printer) */
	IR_M_FRAG,	/* -f: non-first fragment */
	IR_M_CTSTATE,	/* u.bits: IR_CT_* (state / conntrack --ctstate) */
	IR_M_CTSTATUS,	/* u.bits: IR_CTS_* */
	IR_M_CTDIR,	/* u.num: 0 original, 1 reply */
	IR_M_LIMIT,	/* u.limit */
	IR_M_MAC,	/* u.mac: source MAC */
	IR_M_MARK,	/* u.markmask: (meta mark & mask) == value */
	IR_M_CONNMARK,	/* u.markmask: (ct mark & mask) == value */
	IR_M_TOS,	/* u.markmask: (tos & mask) == value (8-bit) */
	IR_M_DSCP,	/* u.num: 6-bit value */
	IR_M_LENGTH,	/* u.range: total IP length */
	IR_M_TTL,	/* u.ttl: op + value (hop limit in IPv6) */
	IR_M_COMMENT,	/* u.str */
	IR_M_ADDRTYPE,	/* u.addrtype */
	IR_M_OWNER,	/* u.owner (OUTPUT/POSTROUTING only) */
	IR_M_TCPMSS,	/* u.range */
	IR_M_PKTTYPE,	/* u.num: IR_PKT_* */
	IR_M_HELPER,	/* u.str: conntrack helper name */
	IR_M_ICMP_TYPES,/* u.ports: ICMP type ranges/list (legacy ipfwadm/ipchains); ICMPv6 in IPv6 */
	IR_M_ICMP_CODES,/* u.ports: ICMP code ranges (ipchains "destination port" of ICMP) */
	IR_M_SET,	/* u.set: the packet's key is (neg: is not) in the named set
			 * (struct ir_map) of the rule's table; l4proto: of a flow key */
};

enum ir_ct_state {		/* bits */
	IR_CT_INVALID = 1 << 0,
	IR_CT_ESTABLISHED = 1 << 1,
	IR_CT_RELATED = 1 << 2,
	IR_CT_NEW = 1 << 3,
	IR_CT_UNTRACKED = 1 << 4,
	IR_CT_SNAT = 1 << 5,	/* conntrack --ctstate SNAT/DNAT are status tests */
	IR_CT_DNAT = 1 << 6,
};

enum ir_ct_status {		/* bits */
	IR_CTS_EXPECTED = 1 << 0,
	IR_CTS_SEEN_REPLY = 1 << 1,
	IR_CTS_ASSURED = 1 << 2,
	IR_CTS_CONFIRMED = 1 << 3,
	IR_CTS_SNAT = 1 << 4,
	IR_CTS_DNAT = 1 << 5,
};

enum ir_tcp_flag {
	IR_TCP_FIN = 0x01, IR_TCP_SYN = 0x02, IR_TCP_RST = 0x04, IR_TCP_PSH = 0x08,
	IR_TCP_ACK = 0x10, IR_TCP_URG = 0x20, IR_TCP_ECE = 0x40, IR_TCP_CWR = 0x80,
};

enum ir_time_unit { IR_PER_SECOND, IR_PER_MINUTE, IR_PER_HOUR, IR_PER_DAY };

enum ir_ttl_op { IR_TTL_EQ, IR_TTL_LT, IR_TTL_GT };

enum ir_pkttype { IR_PKT_UNICAST, IR_PKT_BROADCAST, IR_PKT_MULTICAST };

enum ir_addrtype {		/* bits, as in xt_addrtype */
	IR_AT_UNSPEC = 1 << 0, IR_AT_UNICAST = 1 << 1, IR_AT_LOCAL = 1 << 2,
	IR_AT_BROADCAST = 1 << 3, IR_AT_ANYCAST = 1 << 4, IR_AT_MULTICAST = 1 << 5,
	IR_AT_BLACKHOLE = 1 << 6, IR_AT_UNREACHABLE = 1 << 7, IR_AT_PROHIBIT = 1 << 8,
	IR_AT_THROW = 1 << 9, IR_AT_NAT = 1 << 10, IR_AT_XRESOLVE = 1 << 11,
};

struct ir_match {
	enum ir_match_kind kind;
	bool neg;		/* the whole match is negated (iptables `!`) */
	uint8_t l4proto;	/* for port / tcp / icmp matches: the protocol they apply to */
	char module[16];	/* iptables module that produced it ("" = built-in option
				 * like -s/-p; "tcp", "multiport", "state", "conntrack", ...) */
	unsigned module_seq;	/* matches from the same -m instance share this number */
	struct loc loc;		/* the option (and its argument) in the source */
	union {
		uint8_t proto;
		struct { struct ir_addr *v; unsigned n; } addrs;
		struct { char **v; unsigned n; } ifaces;
		struct { struct ir_range *v; unsigned n; } ports;
		struct { uint8_t mask, cmp; } tcpflags;
		struct { int type, code; } icmp;
		uint32_t bits;
		uint32_t num;
		struct { uint32_t rate; enum ir_time_unit unit; uint32_t burst; } limit;
		uint8_t mac[6];
		struct { uint32_t value, mask; } markmask;
		struct ir_range range;
		struct { enum ir_ttl_op op; uint8_t value; } ttl;
		char *str;
		struct { uint32_t src, dst; bool src_neg, dst_neg;
			 bool limit_in, limit_out; } addrtype;
		struct { bool has_uid, has_gid, socket_exists;
			 struct ir_range uid, gid; } owner;
		struct { char *name; int key; /* enum ir_map_key */ } set;
	} u;
	struct ir_match *next;
};

/* ---- statements (non-terminal) -------------------------------------------- */

enum ir_stmt_kind {
	IR_S_LOG,	/* u.log */
	IR_S_NFLOG,	/* u.nflog (NFLOG; ULOG is lowered here with a note) */
	IR_S_MARK,	/* u.setmark: meta mark */
	IR_S_CONNMARK,	/* u.setmark: ct mark; or save/restore */
	IR_S_TOS,	/* u.setmark on the 8-bit TOS: tos = (tos & ~mask) ^ value */
	IR_S_DSCP,	/* u.num */
	IR_S_TTL,	/* u.ttl */
	IR_S_TCPMSS,	/* u.num: MSS value; 0 = clamp to PMTU */
	IR_S_NOTRACK,	/* NOTRACK / CT --notrack */
	IR_S_CT_HELPER,	/* u.str: helper name (CT --helper) */
	IR_S_DYNSET,	/* u.dynset: add/update/delete an element of a named map */
};

enum ir_log_flags {
	IR_LOG_TCPSEQ = 1 << 0, IR_LOG_TCPOPT = 1 << 1, IR_LOG_IPOPT = 1 << 2,
	IR_LOG_UID = 1 << 3, IR_LOG_MACDECODE = 1 << 4,
};

enum ir_mark_op {
	IR_MARK_SET,	/* x = (x & ~mask) ^ value   (--set-xmark; --set-mark v/m) */
	IR_MARK_AND,	/* x &= value */
	IR_MARK_OR,	/* x |= value */
	IR_MARK_XOR,	/* x ^= value */
	IR_MARK_SAVE,	/* CONNMARK --save-mark: ct mark = meta mark (with masks) */
	IR_MARK_RESTORE,/* CONNMARK --restore-mark: meta mark = ct mark */
};

enum ir_ttl_mod { IR_TTL_SET, IR_TTL_INC, IR_TTL_DEC };

/* What a named map (struct ir_map) is keyed by, and what a packet path
 * update stores in it.  The key is an expression of the packet, evaluated
 * where the map is updated and where it is looked up. */
enum ir_map_key {
	IR_MAPKEY_L3PROTO,	/* ct l3proto: the connection's family -- one value in a
				 * table of one family, so the map holds one element:
				 * "the address last recorded" */
	IR_MAPKEY_FLOW,		/* saddr . sport . daddr . dport of a tcp or udp packet
				 * (the l4proto of the match / statement / set) */
};

enum ir_map_data {
	IR_MAPDATA_NONE,	/* a set: keys only */
	IR_MAPDATA_SADDR,	/* the packet's source address */
};

enum ir_dynset_op {
	IR_DYNSET_ADD,		/* add the element if the key is absent */
	IR_DYNSET_UPDATE,	/* add, or restart the timeout of the element there */
	IR_DYNSET_DELETE,	/* remove the element of this key */
};

struct ir_stmt {
	enum ir_stmt_kind kind;
	struct loc loc;
	union {
		struct { char *prefix; int level; /* -1 = default (warning) */
			 uint32_t flags; } log;
		struct { uint16_t group; char *prefix; uint32_t snaplen;
			 uint16_t threshold; } nflog;
		struct { enum ir_mark_op op; uint32_t value, mask;
			 uint32_t nfmask, ctmask; /* save/restore */ } setmark;
		uint32_t num;
		struct { enum ir_ttl_mod op; uint8_t value; } ttl;
		char *str;
		struct { enum ir_dynset_op op; char *map;	/* ir_map.name, same table */
			 enum ir_map_key key; enum ir_map_data data;
			 uint8_t l4proto; /* IR_MAPKEY_FLOW */ } dynset;
	} u;
	struct ir_stmt *next;
};

/* ---- verdicts ---------------------------------------------------------------- */

enum ir_verdict_kind {
	IR_V_NONE,	/* no target: the rule only counts / runs its statements */
	IR_V_ACCEPT,
	IR_V_DROP,
	IR_V_REJECT,	/* u.reject */
	IR_V_RETURN,
	IR_V_JUMP,	/* u.chain */
	IR_V_GOTO,	/* u.chain */
	IR_V_MASQUERADE,/* u.nat (ports only) */
	IR_V_SNAT,	/* u.nat */
	IR_V_DNAT,	/* u.nat */
	IR_V_REDIRECT,	/* u.nat (ports only) */
};

enum ir_reject {
	IR_REJ_DEFAULT,		/* iptables default: icmp port-unreachable / icmp6 port-unreachable */
	IR_REJ_NET_UNREACH, IR_REJ_HOST_UNREACH, IR_REJ_PORT_UNREACH,
	IR_REJ_PROTO_UNREACH, IR_REJ_NET_PROHIB, IR_REJ_HOST_PROHIB,
	IR_REJ_ADMIN_PROHIB, IR_REJ_TCP_RESET,
	/* ICMPv6 */
	IR_REJ6_NO_ROUTE, IR_REJ6_ADM_PROHIB, IR_REJ6_ADDR_UNREACH,
	IR_REJ6_PORT_UNREACH, IR_REJ6_POLICY_FAIL, IR_REJ6_REJECT_ROUTE,
};

enum ir_nat_flags {
	IR_NAT_RANDOM = 1 << 0, IR_NAT_PERSISTENT = 1 << 1, IR_NAT_FULLY_RANDOM = 1 << 2,
};

/* One target of a load-shared DNAT (see struct ir_nat). */
struct ir_nat_target {
	struct ir_addr addr;	/* one IPv4 address (PREFIX, plen 32) */
	uint16_t port;		/* 0: keep the packet's port */
	unsigned weight;	/* consecutive connections it takes, > 0 */
};

struct ir_nat {
	bool has_addr;
	struct ir_addr addr;	/* PREFIX with full plen (one address), RANGE, or IFADDR */
	char *addr_map;		/* DNAT/SNAT only, has_addr false: the address is the
				 * element of the named map addr_map (same table) for
				 * the key addr_map_key; no element: the rule does not
				 * match (nft: dnat to KEY map @m) */
	enum ir_map_key addr_map_key;
	bool has_port;
	uint16_t port_lo, port_hi;
	uint32_t flags;		/* IR_NAT_* */
	/* DNAT only, ipmasqadm portfw/mfw load sharing (-p pref): nrr >= 2
	 * targets taken in turn, in this order, target i for rr[i].weight
	 * consecutive connections counted by this rule; has_addr and
	 * has_port are false and addr/ports unused.  Every target has a port
	 * or none has. */
	unsigned nrr;
	struct ir_nat_target *rr;
};

/* Sum of the weights of a load-shared DNAT (the period of its counter). */
unsigned ir_nat_rr_period(const struct ir_nat *n);
/* The target of connection k (0-based, counted by the rule) of a period. */
const struct ir_nat_target *ir_nat_rr_slot(const struct ir_nat *n, unsigned k);

struct ir_chain;

struct ir_verdict {
	enum ir_verdict_kind kind;
	struct loc loc;		/* the -j/-g option and its argument */
	union {
		enum ir_reject reject;
		struct { char *name; struct ir_chain *target; /* set by ir_resolve */ } chain;
		struct ir_nat nat;
	} u;
};

/* ---- rules, chains, tables ------------------------------------------------ */

struct ir_rule {
	struct loc loc;		/* the whole command / save line */
	struct ir_match *matches;	/* in source order */
	struct ir_stmt *stmts;		/* in source order; run before the verdict */
	struct ir_verdict verdict;
	bool counter;		/* count packets/bytes (iptables always does) */
	struct ir_rule *prev, *next;
};

enum ir_hook {
	IR_HOOK_NONE,		/* user chain */
	IR_HOOK_PREROUTING, IR_HOOK_INPUT, IR_HOOK_FORWARD,
	IR_HOOK_OUTPUT, IR_HOOK_POSTROUTING,
};

enum ir_chain_type { IR_CHAIN_FILTER, IR_CHAIN_NAT, IR_CHAIN_ROUTE };

enum ir_policy { IR_POLICY_ACCEPT, IR_POLICY_DROP };

struct ir_table;

struct ir_chain {
	char *name;		/* iptables name: INPUT, POSTROUTING, or the user's */
	struct loc loc;		/* -N / first -P / first rule; internal for untouched builtins */
	bool builtin;
	enum ir_hook hook;	/* builtin only */
	enum ir_chain_type type;
	int priority;		/* nft priority number (e.g. -100 for dstnat) */
	enum ir_policy policy;
	struct loc policy_loc;	/* where -P set it; internal if never set */
	struct ir_rule *rules, *rules_tail;
	unsigned nrules;
	unsigned refs;		/* jumps/gotos to it (set by ir_resolve) */
	struct ir_table *table;
	struct ir_chain *next;
};

struct ir_table {
	enum ir_family family;
	char *name;		/* "filter", "nat", "mangle", "raw", or a custom name */
	bool custom;		/* not an iptables table: base chains with any hook, type
				 * and priority (ir_chain_new_base); e.g. "legacy" for the
				 * ipfwadm/ipchains emulation (docs/legacy.md) */
	struct ir_chain *chains, *chains_tail;	/* builtins first, in hook order, then user chains in creation order */
	struct ir_table *next;
	struct ir_chain_index *index;	/* private to ir.c: name -> chain hash for ir_chain_find */
	struct ir_map *maps, *maps_tail;	/* named maps, in creation order */
};

/* A named map of the table, written before its chains: key -> address,
 * changed from the packet path by IR_S_DYNSET statements, read by NAT
 * verdicts (ir_nat.addr_map).  nft: map NAME { type KEY : ADDR; flags
 * dynamic[,timeout]; [timeout T;] [elements = { ... }] }. */
struct ir_map_elem {
	uint32_t key;		/* IR_MAPKEY_L3PROTO: NFPROTO_IPV4 (2) / NFPROTO_IPV6 (10) */
	struct ir_addr data;	/* one address (PREFIX with full plen) */
	struct ir_map_elem *next;
};

struct ir_map {
	char *name;
	struct loc loc;		/* what asked for it */
	enum ir_map_key key;
	enum ir_map_data data;	/* IR_MAPDATA_NONE: a set (no elements here then);
				 * IR_MAPDATA_SADDR: addresses */
	uint32_t timeout_ms;	/* elements expire this long after they were added
				 * (0: never; flags timeout) */
	struct ir_map_elem *elems;	/* initial elements */
	struct ir_map *next;
};

/* modprobe ip_conntrack_ftp ports=21,2121 -> { "ftp", tcp, {21, 2121} } */
struct ir_helper {
	char *name;		/* kernel helper name: "ftp", "irc", "tftp", "sip", ... */
	uint8_t l4proto;	/* IPPROTO_TCP / IPPROTO_UDP */
	struct ir_range *ports;	/* default ports if the script gave none */
	unsigned nports;
	bool nat;		/* an ip_nat_* / nf_nat_* module was loaded too */
	struct loc loc;
	struct ir_helper *next;
};

/* echo 1 > /proc/sys/net/ipv4/ip_forward -> { "net.ipv4.ip_forward", "1" } */
struct ir_sysctl {
	char *key;		/* dotted form */
	char *value;
	struct loc loc;
	struct ir_sysctl *next;
};

struct ir_ruleset {
	struct ir_table *tables;	/* in order: ipv4 filter, nat, mangle, raw, then ipv6 ... */
	struct ir_helper *helpers, *helpers_tail;
	struct ir_sysctl *sysctls, *sysctls_tail;
};

/* ---- API (ir.c) -------------------------------------------------------------- */

struct ir_ruleset *ir_ruleset_new(void);
void ir_ruleset_free(struct ir_ruleset *rs);

/* Returns the table, creating it with its iptables builtin chains
 * (policy ACCEPT, internal locations) on first use; NULL if name is not
 * one of filter/nat/mangle/raw. */
struct ir_table *ir_table_get(struct ir_ruleset *rs, enum ir_family fam, const char *name);
struct ir_table *ir_table_find(const struct ir_ruleset *rs, enum ir_family fam, const char *name);
/* A custom table (ir_table.custom) with no builtin chains, created on first
 * use; kept after the iptables tables of the same family, in creation order.
 * NULL if name is one of the iptables tables. */
struct ir_table *ir_table_get_custom(struct ir_ruleset *rs, enum ir_family fam, const char *name);
struct ir_chain *ir_chain_find(const struct ir_table *t, const char *name);
/* A base chain (builtin = true) with any hook, type and priority, appended
 * to t's chain list. */
struct ir_chain *ir_chain_new_base(struct ir_table *t, const char *name, enum ir_hook hook,
				   enum ir_chain_type type, int priority, enum ir_policy policy,
				   const struct loc *loc);
struct ir_chain *ir_chain_new_user(struct ir_table *t, const char *name, const struct loc *loc);
void ir_chain_delete(struct ir_chain *c);		/* unlinks and frees */
void ir_chain_flush(struct ir_chain *c);
/* iptables -E: renames in place (position, rules and references kept). */
void ir_chain_rename(struct ir_chain *c, const char *name);

/* pos: 1-based insertion position (iptables -I n); 0 = append. */
void ir_chain_insert(struct ir_chain *c, struct ir_rule *r, unsigned pos);
struct ir_rule *ir_chain_nth(const struct ir_chain *c, unsigned pos);	/* 1-based */
void ir_rule_unlink(struct ir_chain *c, struct ir_rule *r);
/* Same matches, statements and verdict (locations ignored): iptables -D by spec. */
bool ir_rule_equal(const struct ir_rule *a, const struct ir_rule *b);

struct ir_rule *ir_rule_new(const struct loc *loc);
void ir_rule_free(struct ir_rule *r);
/* Frees every rule of rs (its chains stay, empty), calling tick() after
 * every `every` rules: for a caller that gives memory back as it goes
 * (heap_trim) while other threads allocate.  ir_ruleset_free() after. */
void ir_ruleset_free_rules(struct ir_ruleset *rs, unsigned every, void (*tick)(void));
/* Deep copy (matches, statements, verdict, locations); prev/next NULL. */
struct ir_rule *ir_rule_clone(const struct ir_rule *r);
struct ir_match *ir_match_new(struct ir_rule *r, enum ir_match_kind kind, const struct loc *loc);	/* appended */
/* Unlinks m from r and frees it. */
void ir_match_remove(struct ir_rule *r, struct ir_match *m);
struct ir_stmt *ir_stmt_new(struct ir_rule *r, enum ir_stmt_kind kind, const struct loc *loc);	/* appended */

/* A new named map of t (appended, data IR_MAPDATA_SADDR: addresses; set
 * ir_map.data to IR_MAPDATA_NONE for a set); NULL if t has one of that name. */
struct ir_map *ir_map_new(struct ir_table *t, const char *name, enum ir_map_key key,
			  uint32_t timeout_ms, const struct loc *loc);
struct ir_map *ir_map_find(const struct ir_table *t, const char *name);
/* Appends an initial element key : one address (copied). */
void ir_map_add_elem(struct ir_map *m, uint32_t key, const struct ir_addr *data);
/* The value of an ir_map_key for a table of family fam (the one element's key). */
uint32_t ir_map_key_value(enum ir_map_key k, enum ir_family fam);

void ir_add_helper(struct ir_ruleset *rs, struct ir_helper *h);
void ir_add_sysctl(struct ir_ruleset *rs, const char *key, const char *value, const struct loc *loc);

/* -j CHAIN / -g CHAIN: the verdict names a chain. */
bool ir_verdict_is_chain(enum ir_verdict_kind k);

/* Names for printing and diagnostics. */
const char *ir_hook_name(enum ir_hook h);	/* "prerouting", ... */
const char *ir_family_name(enum ir_family f);	/* "ip", "ip6" */

#endif
