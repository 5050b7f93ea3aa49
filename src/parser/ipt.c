/* ipt.c -- the iptables / ip6tables dialect.
 *
 * One command line becomes one change to the IR, the way iptables 1.8 would
 * have changed the kernel's table:
 *
 *  - Options are resolved like getopt_long inside iptables: the global
 *    options first, then the options of every loaded extension, the most
 *    recently loaded first (xtables_merge_options puts a new module's
 *    options right after the globals, so `-m mark --mark 1 -m connmark
 *    --mark 2` gives the second --mark to connmark).  An exact name wins,
 *    otherwise a unique prefix; an option nobody knows loads the implicit
 *    protocol match (`-p tcp --dport 22` is `-p tcp -m tcp --dport 22`)
 *    and is tried again.
 *  - `!` before an option inverts it (iptables 1.4+); `-s ! x` (the 1.2/1.3
 *    form, rejected by 1.8) is accepted too, with a note, because the
 *    scripts this tool reads were written for those versions.
 *  - Each match and target is a small module below: an option table, a
 *    parse hook that turns one option into IR, and a final check.  A match
 *    or target masqc does not model is a located "not supported" error,
 *    never a rule silently dropped.
 *  - Checks iptables (or the kernel, at load) would make are made here, at
 *    the word that causes them: target/table/hook combinations, -p needed
 *    by port matches, missing chains, -D of a rule that does not exist.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dialect.h"
#include "../util.h"

#ifndef IPPROTO_UDPLITE
#define IPPROTO_UDPLITE 136
#endif

struct ipt_parse;
struct ipt_inst;

enum opt_arg { ARG_NONE, ARG_ONE, ARG_TWO, ARG_OPTIONAL };

struct ipt_opt {
	const char *name;	/* long name without the dashes */
	int id;
	enum opt_arg arg;
	char shortopt;		/* globals only */
};

/* One match or target module. */
struct ipt_ext {
	const char *name;
	const struct ipt_opt *opts;
	/* one option; arg/arg2 NULL when the option takes none */
	int (*parse)(struct ipt_parse *p, struct ipt_inst *in, int id, bool inv,
		     const struct word *opt, const struct word *arg, const struct word *arg2);
	int (*final)(struct ipt_parse *p, struct ipt_inst *in);
	unsigned fams;		/* bit 0 ipv4, bit 1 ipv6 */
};

#define FAM4 1u
#define FAM6 2u
#define FAMB 3u

struct ipt_inst {
	const struct ipt_ext *ext;
	bool is_target;
	unsigned seq;
	uint64_t seen;		/* option ids used (bit per id) */
	struct loc loc;		/* the -m / -j word and the module name */
	struct ir_match *m;	/* the match this instance accumulates into, if any */
	struct ir_stmt *s;
	bool inv_any, inv_all;
	char modname[16];	/* what iptables-save prints for it */
};

enum ipt_cmd {
	CMD_NONE, CMD_APPEND, CMD_INSERT, CMD_DELETE, CMD_REPLACE, CMD_NEW,
	CMD_DELETE_CHAIN, CMD_FLUSH, CMD_ZERO, CMD_POLICY, CMD_RENAME,
	CMD_LIST, CMD_CHECK, CMD_HELP,
};

#define MAX_INST 32

struct ipt_parse {
	struct parse_ctx *pc;
	const struct command *cmd;
	enum ir_family fam;
	const char *prog;
	int err;
	unsigned argi;

	enum ipt_cmd cmd_kind;
	struct loc cmd_loc;
	const struct word *chain_w, *chain2_w, *target_w;	/* -P/-E second argument */
	unsigned rulenum;
	const struct word *rulenum_w;
	const char *table;
	struct loc table_loc;

	struct ir_rule *rule;
	bool has_rule_opts;
	const struct word *first_rule_opt;
	uint8_t proto;
	bool proto_set, proto_neg;
	struct loc proto_loc;
	bool seen_s, seen_d, seen_i, seen_o, seen_f;
	struct ipt_inst inst[MAX_INST];
	unsigned ninst;
	struct ipt_inst *target;
	unsigned next_seq;
	bool skip;		/* -6 given to iptables or -4 to ip6tables */
	bool cleanup_missing;	/* -D/-F/-X/-Z of a chain that does not exist (warned) */
};

/* ---- diagnostics and words ------------------------------------------------ */

static int perr(struct ipt_parse *p, const struct loc *loc, const char *hint,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int perr(struct ipt_parse *p, const struct loc *loc, const char *hint, const char *fmt, ...)
{
	struct strbuf sb = { 0 };
	va_list ap;

	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	diag_add(p->pc->dq, DIAG_ERROR, loc ? loc : &p->cmd->loc, hint, "%s", sb_str(&sb));
	sb_free(&sb);
	p->err = -1;
	return -1;
}

static struct loc span(const struct word *a, const struct word *b)
{
	if (!b)
		return a->loc;
	return loc_span(a->loc, b->loc);
}

/* A word whose value only exists on the running system cannot become part
 * of a rule; say which -D would fix it. */
static int word_unknown(struct ipt_parse *p, const struct word *w)
{
	const char *name = w->var ? w->var : w->sym;
	char *hint;

	if (!name)
		name = "VALUE";
	hint = xasprintf("give -D %s=VALUE", name);
	if (w->var || (w->sym && !strchr(w->sym, ' ')))
		diag_add(p->pc->dq, DIAG_ERROR, &w->loc, hint,
			 "the value of $%s is only known when the script runs", name);
	else
		diag_add(p->pc->dq, DIAG_ERROR, &w->loc, hint,
			 "this value (%s) is only known when the script runs", name);
	free(hint);
	p->err = -1;
	return -1;
}

/* The argument of an option that needs a literal value. */
static int want_literal(struct ipt_parse *p, const struct word *w)
{
	switch (w->kind) {
	case WORD_LITERAL:
		return 0;
	case WORD_UNKNOWN:
		return word_unknown(p, w);
	case WORD_IFADDR: {
		char *hint = xasprintf("give -D %s=ADDRESS", w->var ? w->var : "VAR");
		diag_add(p->pc->dq, DIAG_ERROR, &w->loc, hint,
			 "the address of interface %s is only known when the script runs, "
			 "and cannot be used here", w->sym ? w->sym : "?");
		free(hint);
		p->err = -1;
		return -1;
	}
	}
	return -1;
}

/* ---- numbers ------------------------------------------------------------- */

static bool parse_uint(const char *s, int base, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end || v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool parse_uint_n(const char *s, size_t n, int base, uint32_t max, uint32_t *out)
{
	char buf[64];

	if (n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return parse_uint(buf, base, max, out);
}

/* value[/mask], as xtables_parse_val_mask: any base, mask defaults to all ones */
static int parse_valmask(struct ipt_parse *p, const struct word *w, uint32_t max,
			 uint32_t *val, uint32_t *mask)
{
	const char *s = w->text, *sl = strchr(s, '/');

	*mask = max;
	if (!parse_uint_n(s, sl ? (size_t)(sl - s) : strlen(s), 0, max, val) ||
	    (sl && !parse_uint(sl + 1, 0, max, mask)))
		return perr(p, &w->loc, NULL, "bad value/mask '%s' (expected a number, optionally /mask)", s);
	return 0;
}

/* ---- names ----------------------------------------------------------------- */

struct name_num {
	const char *name;
	uint32_t num;
};

static const struct name_num protocols[] = {
	{ "all", 0 }, { "icmp", 1 }, { "igmp", 2 }, { "tcp", 6 }, { "udp", 17 },
	{ "ipv6", 41 }, { "gre", 47 }, { "esp", 50 }, { "ah", 51 },
	{ "icmpv6", 58 }, { "ipv6-icmp", 58 }, { "mh", 135 }, { "ipv6-mh", 135 },
	{ "sctp", 132 }, { "udplite", 136 }, { "dccp", 33 },
	/* the rest of Debian's /etc/protocols, which iptables also accepts */
	{ "ip", 0 }, { "ggp", 3 }, { "ipencap", 4 }, { "st", 5 }, { "egp", 8 }, { "igp", 9 },
	{ "pup", 12 }, { "hmp", 20 }, { "xns-idp", 22 }, { "rdp", 27 }, { "iso-tp4", 29 },
	{ "xtp", 36 }, { "ddp", 37 }, { "idpr-cmtp", 38 }, { "ipv6-route", 43 },
	{ "ipv6-frag", 44 }, { "idrp", 45 }, { "rsvp", 46 }, { "ipv6-crypt", 50 },
	{ "ipv6-auth", 51 }, { "skip", 57 }, { "ipv6-nonxt", 59 }, { "ipv6-opts", 60 },
	{ "rspf", 73 }, { "vmtp", 81 }, { "eigrp", 88 }, { "ospf", 89 }, { "ax.25", 93 },
	{ "ipip", 94 }, { "etherip", 97 }, { "encap", 98 }, { "pim", 103 }, { "ipcomp", 108 },
	{ "vrrp", 112 }, { "l2tp", 115 }, { "isis", 124 }, { "fc", 133 }, { "mpls-in-ip", 137 },
	{ "manet", 138 }, { "hip", 139 }, { "shim6", 140 }, { "wesp", 141 }, { "rohc", 142 },
	{ "ethernet", 143 },
};

static const char *proto_name(uint8_t proto)
{
	for (unsigned i = 0; i < ARRAY_SIZE(protocols); i++)
		if (protocols[i].num == proto)
			return protocols[i].name;
	return NULL;
}

/* A fixed service table: the translation must not depend on the build
 * host's /etc/services.  Names as in Debian's netbase; numbers identical for
 * tcp and udp except where noted in the protocol-specific entries below. */
static const struct name_num services[] = {
	{ "echo", 7 }, { "discard", 9 }, { "daytime", 13 }, { "chargen", 19 },
	{ "ftp-data", 20 }, { "ftp", 21 }, { "ssh", 22 }, { "telnet", 23 },
	{ "smtp", 25 }, { "time", 37 }, { "nameserver", 42 }, { "whois", 43 },
	{ "nicname", 43 }, { "tacacs", 49 }, { "domain", 53 }, { "bootps", 67 },
	{ "bootpc", 68 }, { "tftp", 69 }, { "gopher", 70 }, { "finger", 79 },
	{ "http", 80 }, { "www", 80 }, { "www-http", 80 }, { "kerberos", 88 },
	{ "pop2", 109 }, { "pop3", 110 }, { "pop-3", 110 }, { "sunrpc", 111 },
	{ "portmapper", 111 }, { "auth", 113 }, { "ident", 113 }, { "sftp", 115 },
	{ "nntp", 119 }, { "ntp", 123 }, { "epmap", 135 }, { "loc-srv", 135 },
	{ "netbios-ns", 137 }, { "netbios-dgm", 138 }, { "netbios-ssn", 139 },
	{ "imap", 143 }, { "imap2", 143 }, { "snmp", 161 }, { "snmp-trap", 162 },
	{ "xdmcp", 177 }, { "bgp", 179 }, { "irc", 194 }, { "ldap", 389 },
	{ "https", 443 }, { "microsoft-ds", 445 }, { "kpasswd", 464 },
	{ "submissions", 465 }, { "urd", 465 }, { "ssmtp", 465 }, { "smtps", 465 },
	{ "isakmp", 500 }, { "exec", 512 }, { "biff", 512 }, { "login", 513 },
	{ "who", 513 }, { "shell", 514 }, { "syslog", 514 }, { "printer", 515 },
	{ "talk", 517 }, { "ntalk", 518 }, { "route", 520 }, { "router", 520 },
	{ "timed", 525 }, { "uucp", 540 }, { "klogin", 543 }, { "kshell", 544 },
	{ "submission", 587 }, { "ipp", 631 }, { "ldaps", 636 }, { "rsync", 873 },
	{ "ftps-data", 989 }, { "ftps", 990 }, { "telnets", 992 }, { "imaps", 993 },
	{ "pop3s", 995 }, { "socks", 1080 }, { "openvpn", 1194 },
	{ "ms-sql-s", 1433 }, { "ms-sql-m", 1434 }, { "l2tp", 1701 },
	{ "pptp", 1723 }, { "radius", 1812 }, { "radius-acct", 1813 },
	{ "nfs", 2049 }, { "cvspserver", 2401 }, { "squid", 3128 },
	{ "mysql", 3306 }, { "ms-wbt-server", 3389 }, { "svn", 3690 },
	{ "sip", 5060 }, { "sip-tls", 5061 }, { "xmpp-client", 5222 },
	{ "xmpp-server", 5269 }, { "postgresql", 5432 }, { "x11", 6000 },
	{ "ircd", 6667 }, { "http-alt", 8080 }, { "webcache", 8080 },
};

static bool service_lookup(const char *s, size_t n, uint32_t *port)
{
	for (unsigned i = 0; i < ARRAY_SIZE(services); i++)
		if (strlen(services[i].name) == n && strncasecmp(services[i].name, s, n) == 0) {
			*port = services[i].num;
			return true;
		}
	return false;
}

static bool port_one(const char *s, size_t n, uint32_t *port)
{
	return parse_uint_n(s, n, 10, 65535, port) || (n && service_lookup(s, n, port));
}

/* lo:hi, :hi, lo:, or one port; lo > hi is an error as in iptables 1.8 */
static int parse_portrange(struct ipt_parse *p, const struct word *w, const char *s, size_t n,
			   struct ir_range *r, char sep)
{
	const char *c = memchr(s, sep, n);
	uint32_t lo = 0, hi = 65535;

	if (!c) {
		if (!port_one(s, n, &lo))
			goto bad;
		r->lo = r->hi = lo;
		return 0;
	}
	if (c > s && !port_one(s, (size_t)(c - s), &lo))
		goto bad;
	if (c + 1 < s + n && !port_one(c + 1, (size_t)(s + n - c - 1), &hi))
		goto bad;
	if (lo > hi)
		return perr(p, &w->loc, NULL, "invalid port range '%.*s' (min > max)", (int)n, s);
	r->lo = lo;
	r->hi = hi;
	return 0;
bad:
	return perr(p, &w->loc, "ports are numbers 0-65535, ranges lo:hi, or service names like 'ssh'",
		    "invalid port or service '%.*s'", (int)n, s);
}

/* ---- addresses ----------------------------------------------------------------- */

/* xtables' numeric IPv4 form: 1 to 4 dotted decimal bytes, missing trailing
 * bytes are zero ("10/8", "0/0", "192.168.1/24" all appear in old scripts). */
static bool ipv4_parse(const char *s, size_t n, uint8_t out[4])
{
	unsigned part = 0;

	memset(out, 0, 4);
	if (n == 0)
		return false;
	while (n) {
		uint32_t v = 0;
		size_t k = 0;

		while (k < n && isdigit((unsigned char)s[k])) {
			v = v * 10 + (uint32_t)(s[k] - '0');
			if (v > 255 || ++k > 3)
				return false;
		}
		if (k == 0 || part == 4)
			return false;
		out[part++] = (uint8_t)v;
		s += k;
		n -= k;
		if (n) {
			if (*s != '.' || n == 1)
				return false;
			s++;
			n--;
		}
	}
	return true;
}

static bool ipv6_parse(const char *s, size_t n, uint8_t out[16])
{
	char buf[INET6_ADDRSTRLEN + 8];

	if (n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return inet_pton(AF_INET6, buf, out) == 1;
}

static bool addr_parse_one(enum ir_family fam, const char *s, size_t n, uint8_t out[16])
{
	memset(out, 0, 16);
	return fam == IR_FAM_IPV4 ? ipv4_parse(s, n, out) : ipv6_parse(s, n, out);
}

static bool looks_like_hostname(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (isalpha((unsigned char)s[i]) && s[i] != ':')
			return !memchr(s, ':', n);
	return false;
}

static void addr_mask(struct ir_addr *a)
{
	unsigned bytes = a->af == 4 ? 4 : 16;

	for (unsigned i = 0; i < bytes; i++) {
		int bits = (int)a->plen - (int)(i * 8);
		uint8_t m = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));

		a->lo[i] &= m;
	}
}

static int addr_error(struct ipt_parse *p, const struct word *w, const char *s, size_t n)
{
	if (looks_like_hostname(s, n))
		return perr(p, &w->loc, "hostnames are looked up once, when the rule is loaded; "
			    "a ruleset compiled ahead of time cannot do that",
			    "hostnames are resolved by iptables at load time; write the address "
			    "instead of '%.*s'", (int)n, s);
	return perr(p, &w->loc, NULL, "invalid %s address '%.*s'",
		    p->fam == IR_FAM_IPV4 ? "IPv4" : "IPv6", (int)n, s);
}

/* One address with an optional /plen or /dotted-mask; masked to the prefix
 * like iptables does (-s 192.168.1.5/24 is 192.168.1.0/24). */
static int parse_prefix(struct ipt_parse *p, const struct word *w, const char *s, size_t n,
			struct ir_addr *a)
{
	const char *sl = memchr(s, '/', n);
	size_t alen = sl ? (size_t)(sl - s) : n;
	unsigned maxlen = p->fam == IR_FAM_IPV4 ? 32 : 128;

	memset(a, 0, sizeof(*a));
	a->kind = IR_ADDR_PREFIX;
	a->af = p->fam == IR_FAM_IPV4 ? 4 : 6;
	a->loc = w->loc;
	if (!addr_parse_one(p->fam, s, alen, a->lo))
		return addr_error(p, w, s, alen);
	a->plen = (uint8_t)maxlen;
	if (sl) {
		const char *m = sl + 1;
		size_t mlen = n - alen - 1;
		uint32_t plen;
		uint8_t mask[16];

		if (parse_uint_n(m, mlen, 10, maxlen, &plen)) {
			a->plen = (uint8_t)plen;
		} else if (p->fam == IR_FAM_IPV4 && memchr(m, '.', mlen) && ipv4_parse(m, mlen, mask)) {
			uint32_t mv = (uint32_t)mask[0] << 24 | (uint32_t)mask[1] << 16 |
				      (uint32_t)mask[2] << 8 | mask[3];
			unsigned bits = 0;

			while (bits < 32 && (mv & (0x80000000u >> bits)))
				bits++;
			if (bits < 32 && (mv << bits) != 0)
				return perr(p, &w->loc, "nftables and masqc only express prefix masks",
					    "not supported: non-contiguous netmask '%.*s'", (int)mlen, m);
			a->plen = (uint8_t)bits;
		} else {
			return perr(p, &w->loc, NULL, "invalid netmask '%.*s'", (int)mlen, m);
		}
	}
	addr_mask(a);
	return 0;
}

/* The symbolic "address of interface X" (ifconfig | awk idiom). */
static int parse_ifaddr(struct ipt_parse *p, const struct word *w, struct ir_addr *a)
{
	unsigned maxlen = p->fam == IR_FAM_IPV4 ? 32 : 128;
	uint32_t plen = maxlen;

	memset(a, 0, sizeof(*a));
	a->kind = IR_ADDR_IFADDR;
	a->af = p->fam == IR_FAM_IPV4 ? 4 : 6;
	a->loc = w->loc;
	if (w->text[0]) {
		if (w->text[0] != '/' || !parse_uint(w->text + 1, 10, maxlen, &plen) || plen != maxlen)
			return perr(p, &w->loc, NULL,
				    "not supported: '%s' after the address of interface %s "
				    "(give -D %s=ADDRESS to use a fixed address)",
				    w->text, w->sym ? w->sym : "?", w->var ? w->var : "VAR");
	}
	a->plen = (uint8_t)plen;
	a->ifname = xstrdup(w->sym ? w->sym : "");
	a->var = w->var ? xstrdup(w->var) : NULL;
	return 0;
}

static int parse_addr_list(struct ipt_parse *p, const struct word *w, struct ir_match *m)
{
	const char *s = w->text;
	VEC(struct ir_addr) v = { 0 };

	if (w->kind == WORD_IFADDR) {
		struct ir_addr a;

		if (parse_ifaddr(p, w, &a))
			return -1;
		vec_push(&v, a);
	} else {
		if (want_literal(p, w))
			return -1;
		for (;;) {
			const char *c = strchr(s, ',');
			size_t n = c ? (size_t)(c - s) : strlen(s);
			struct ir_addr a;

			if (parse_prefix(p, w, s, n, &a)) {
				free(v.v);
				return -1;
			}
			vec_push(&v, a);
			if (!c)
				break;
			s = c + 1;
		}
	}
	vec_shrink(&v);
	m->u.addrs.v = v.v;
	m->u.addrs.n = (unsigned)v.n;
	return 0;
}

/* iptables stores -s 0/0 as "any address": no test at all (iptables-save
 * leaves it out).  A negated list, though, becomes one rule per address,
 * each negated, and together they match every packet -- almost certainly
 * not what the script meant, so say so instead of guessing. */
static int addr_match_normalize(struct ipt_parse *p, struct ir_match *m,
				const struct word *opt, const struct word *arg)
{
	const struct ir_addr *a = m->u.addrs.v;

	if (m->neg && m->u.addrs.n > 1)
		return perr(p, &arg->loc, "write the rules the script meant, e.g. one ACCEPT rule per address followed by the negated action",
			    "'! %s a,b' makes iptables add one rule per address, each negated; "
			    "together they match every packet", opt->text);
	if (!m->neg && m->u.addrs.n == 1 && a->kind == IR_ADDR_PREFIX && a->plen == 0)
		ir_match_remove(p->rule, m);
	return 0;
}

/* a-b (iprange, NAT); one address is a range of one */
static int parse_addr_range(struct ipt_parse *p, const struct word *w, const char *s, size_t n,
			    struct ir_addr *a)
{
	const char *dash = memchr(s, '-', n);
	size_t l1 = dash ? (size_t)(dash - s) : n;

	memset(a, 0, sizeof(*a));
	a->af = p->fam == IR_FAM_IPV4 ? 4 : 6;
	a->loc = w->loc;
	if (!addr_parse_one(p->fam, s, l1, a->lo))
		return addr_error(p, w, s, l1);
	if (!dash) {
		a->kind = IR_ADDR_PREFIX;
		a->plen = p->fam == IR_FAM_IPV4 ? 32 : 128;
		return 0;
	}
	a->kind = IR_ADDR_RANGE;
	if (!addr_parse_one(p->fam, dash + 1, n - l1 - 1, a->hi))
		return addr_error(p, w, dash + 1, n - l1 - 1);
	if (memcmp(a->lo, a->hi, 16) > 0)
		return perr(p, &w->loc, NULL, "invalid address range '%.*s' (first > last)", (int)n, s);
	return 0;
}

/* ---- rule construction helpers -------------------------------------------- */

static struct ir_match *match_add(struct ipt_parse *p, struct ipt_inst *in, enum ir_match_kind k,
				  bool inv, const struct word *opt, const struct word *arg)
{
	struct loc l = span(opt, arg);
	struct ir_match *m = ir_match_new(p->rule, k, &l);

	m->neg = inv;
	if (in) {
		snprintf(m->module, sizeof(m->module), "%s", in->modname);
		m->module_seq = in->seq;
	}
	m->l4proto = p->proto;
	return m;
}

static bool has_seen(struct ipt_inst *in, int id)
{
	return in->seen & (1ull << id);
}

/* ---- match: tcp / udp / sctp / dccp / udplite ports, tcp flags -------------------- */

enum { O_SPORT = 1, O_DPORT, O_TCPFLAGS, O_SYN, O_TCPOPT };

static const struct ipt_opt tcp_opts[] = {
	{ "source-port", O_SPORT, ARG_ONE, 0 }, { "sport", O_SPORT, ARG_ONE, 0 },
	{ "destination-port", O_DPORT, ARG_ONE, 0 }, { "dport", O_DPORT, ARG_ONE, 0 },
	{ "tcp-flags", O_TCPFLAGS, ARG_TWO, 0 }, { "syn", O_SYN, ARG_NONE, 0 },
	{ "tcp-option", O_TCPOPT, ARG_ONE, 0 }, { NULL, 0, ARG_NONE, 0 },
};

static const struct ipt_opt udp_opts[] = {
	{ "source-port", O_SPORT, ARG_ONE, 0 }, { "sport", O_SPORT, ARG_ONE, 0 },
	{ "destination-port", O_DPORT, ARG_ONE, 0 }, { "dport", O_DPORT, ARG_ONE, 0 },
	{ NULL, 0, ARG_NONE, 0 },
};

static const struct name_num tcp_flag_names[] = {
	{ "FIN", IR_TCP_FIN }, { "SYN", IR_TCP_SYN }, { "RST", IR_TCP_RST },
	{ "PSH", IR_TCP_PSH }, { "ACK", IR_TCP_ACK }, { "URG", IR_TCP_URG },
	{ "ECE", IR_TCP_ECE }, { "CWR", IR_TCP_CWR }, { "ALL", 0xff }, { "NONE", 0 },
};

static int parse_tcp_flags(struct ipt_parse *p, const struct word *w, uint8_t *out)
{
	const char *s = w->text;

	*out = 0;
	for (;;) {
		const char *c = strchr(s, ',');
		size_t n = c ? (size_t)(c - s) : strlen(s);
		unsigned i;

		for (i = 0; i < ARRAY_SIZE(tcp_flag_names); i++)
			if (strlen(tcp_flag_names[i].name) == n &&
			    strncasecmp(tcp_flag_names[i].name, s, n) == 0)
				break;
		if (i == ARRAY_SIZE(tcp_flag_names))
			return perr(p, &w->loc, "flags are FIN SYN RST PSH ACK URG ECE CWR ALL NONE, comma-separated",
				    "unknown TCP flag '%.*s'", (int)n, s);
		*out |= (uint8_t)tcp_flag_names[i].num;
		if (!c)
			return 0;
		s = c + 1;
	}
}

static int ports_match(struct ipt_parse *p, struct ipt_inst *in, enum ir_match_kind k, bool inv,
		       const struct word *opt, const struct word *arg)
{
	struct ir_match *m;
	struct ir_range r;

	if (parse_portrange(p, arg, arg->text, strlen(arg->text), &r, ':'))
		return -1;
	m = match_add(p, in, k, inv, opt, arg);
	m->u.ports.v = xmalloc(sizeof(r));
	m->u.ports.v[0] = r;
	m->u.ports.n = 1;
	return 0;
}

static int l4_parse(struct ipt_parse *p, struct ipt_inst *in, int id, bool inv,
		    const struct word *opt, const struct word *arg, const struct word *arg2)
{
	struct ir_match *m;
	uint32_t v;

	switch (id) {
	case O_SPORT:
		return ports_match(p, in, IR_M_SPORT, inv, opt, arg);
	case O_DPORT:
		return ports_match(p, in, IR_M_DPORT, inv, opt, arg);
	case O_TCPFLAGS:
	case O_SYN:
		if (has_seen(in, O_TCPFLAGS) || has_seen(in, O_SYN))
			return perr(p, &opt->loc, NULL, "only one of --syn or --tcp-flags is allowed");
		m = match_add(p, in, IR_M_TCPFLAGS, inv, opt, arg2);
		if (id == O_SYN) {
			m->u.tcpflags.mask = IR_TCP_SYN | IR_TCP_RST | IR_TCP_ACK | IR_TCP_FIN;
			m->u.tcpflags.cmp = IR_TCP_SYN;
			return 0;
		}
		if (parse_tcp_flags(p, arg, &m->u.tcpflags.mask) ||
		    parse_tcp_flags(p, arg2, &m->u.tcpflags.cmp))
			return -1;
		return 0;
	case O_TCPOPT:
		if (!parse_uint(arg->text, 10, 255, &v))
			return perr(p, &arg->loc, NULL, "--tcp-option needs a TCP option number 0-255");
		m = match_add(p, in, IR_M_TCPOPTION, inv, opt, arg);
		m->u.num = v;
		return 0;
	}
	return 0;
}

/* The kernel refuses -m tcp unless the rule also says -p tcp (xt_tcpudp). */
static int l4_final(struct ipt_parse *p, struct ipt_inst *in)
{
	const char *want = in->ext->name;

	if (!p->proto_set || p->proto_neg || !proto_name(p->proto) ||
	    strcmp(proto_name(p->proto), want) != 0)
		return perr(p, &in->loc, NULL, "-m %s needs -p %s in the same rule (the kernel refuses it otherwise)",
			    want, want);
	return 0;
}

/* ---- match: icmp / icmp6 ------------------------------------------------------------ */

struct icmp_name {
	const char *name;
	int type, code;		/* code -1: any */
};

static const struct icmp_name icmp_names[] = {
	{ "any", -1, -1 },
	{ "echo-reply", 0, -1 }, { "pong", 0, -1 },
	{ "destination-unreachable", 3, -1 },
	{ "network-unreachable", 3, 0 }, { "host-unreachable", 3, 1 },
	{ "protocol-unreachable", 3, 2 }, { "port-unreachable", 3, 3 },
	{ "fragmentation-needed", 3, 4 }, { "source-route-failed", 3, 5 },
	{ "network-unknown", 3, 6 }, { "host-unknown", 3, 7 },
	{ "network-prohibited", 3, 9 }, { "host-prohibited", 3, 10 },
	{ "TOS-network-unreachable", 3, 11 }, { "TOS-host-unreachable", 3, 12 },
	{ "communication-prohibited", 3, 13 }, { "host-precedence-violation", 3, 14 },
	{ "precedence-cutoff", 3, 15 },
	{ "source-quench", 4, -1 },
	{ "redirect", 5, -1 }, { "network-redirect", 5, 0 }, { "host-redirect", 5, 1 },
	{ "TOS-network-redirect", 5, 2 }, { "TOS-host-redirect", 5, 3 },
	{ "echo-request", 8, -1 }, { "ping", 8, -1 },
	{ "router-advertisement", 9, -1 }, { "router-solicitation", 10, -1 },
	{ "time-exceeded", 11, -1 }, { "ttl-exceeded", 11, -1 },
	{ "ttl-zero-during-transit", 11, 0 }, { "ttl-zero-during-reassembly", 11, 1 },
	{ "parameter-problem", 12, -1 }, { "ip-header-bad", 12, 0 },
	{ "required-option-missing", 12, 1 },
	{ "timestamp-request", 13, -1 }, { "timestamp-reply", 14, -1 },
	{ "address-mask-request", 17, -1 }, { "address-mask-reply", 18, -1 },
};

static const struct icmp_name icmp6_names[] = {
	{ "destination-unreachable", 1, -1 }, { "no-route", 1, 0 },
	{ "communication-prohibited", 1, 1 }, { "beyond-scope", 1, 2 },
	{ "address-unreachable", 1, 3 }, { "port-unreachable", 1, 4 },
	{ "failed-policy", 1, 5 }, { "reject-route", 1, 6 },
	{ "packet-too-big", 2, -1 },
	{ "time-exceeded", 3, -1 }, { "ttl-exceeded", 3, -1 },
	{ "ttl-zero-during-transit", 3, 0 }, { "ttl-zero-during-reassembly", 3, 1 },
	{ "parameter-problem", 4, -1 }, { "bad-header", 4, 0 },
	{ "unknown-header-type", 4, 1 }, { "unknown-option", 4, 2 },
	{ "echo-request", 128, -1 }, { "ping", 128, -1 },
	{ "echo-reply", 129, -1 }, { "pong", 129, -1 },
	{ "router-solicitation", 133, -1 }, { "router-advertisement", 134, -1 },
	{ "neighbour-solicitation", 135, -1 }, { "neighbor-solicitation", 135, -1 },
	{ "neighbour-advertisement", 136, -1 }, { "neighbor-advertisement", 136, -1 },
	{ "redirect", 137, -1 },
};

enum { O_ICMPTYPE = 1 };
static const struct ipt_opt icmp_opts[] = {
	{ "icmp-type", O_ICMPTYPE, ARG_ONE, 0 }, { NULL, 0, ARG_NONE, 0 },
};
static const struct ipt_opt icmp6_opts[] = {
	{ "icmpv6-type", O_ICMPTYPE, ARG_ONE, 0 }, { NULL, 0, ARG_NONE, 0 },
};

/* Names match case-insensitively by unique prefix, exact name first, as
 * libxt_icmp does. */
static int icmp_parse(struct ipt_parse *p, struct ipt_inst *in, int id, bool inv,
		      const struct word *opt, const struct word *arg, const struct word *arg2)
{
	bool v6 = strcmp(in->ext->name, "icmp6") == 0;
	const struct icmp_name *tab = v6 ? icmp6_names : icmp_names;
	size_t ntab = v6 ? ARRAY_SIZE(icmp6_names) : ARRAY_SIZE(icmp_names);
	const char *s = arg->text;
	size_t n = strlen(s);
	const struct icmp_name *hit = NULL;
	struct ir_match *m;
	int type, code = -1;

	for (size_t i = 0; i < ntab; i++)
		if (strcasecmp(tab[i].name, s) == 0) {
			hit = &tab[i];
			break;
		}
	for (size_t i = 0; !hit && n && i < ntab; i++) {
		if (strncasecmp(tab[i].name, s, n) != 0)
			continue;
		for (size_t j = i + 1; j < ntab; j++)
			if (strncasecmp(tab[j].name, s, n) == 0 &&
			    (tab[j].type != tab[i].type || tab[j].code != tab[i].code))
				return perr(p, &arg->loc, NULL, "ambiguous ICMP type '%s': '%s' or '%s'?",
					    s, tab[i].name, tab[j].name);
		hit = &tab[i];
	}
	if (hit) {
		type = hit->type;
		code = hit->code;
	} else {
		const char *sl = strchr(s, '/');
		uint32_t t, c;

		if (!parse_uint_n(s, sl ? (size_t)(sl - s) : n, 10, 255, &t) ||
		    (sl && !parse_uint(sl + 1, 10, 255, &c))) {
			const char *cands[ARRAY_SIZE(icmp_names)];
			const char *sug;
			char *hint = NULL;

			for (size_t i = 0; i < ntab; i++)
				cands[i] = tab[i].name;
			sug = suggest(s, cands, ntab);
			if (sug)
				hint = xasprintf("did you mean '%s'?", sug);
			perr(p, &arg->loc, hint, "invalid ICMP%s type '%s'", v6 ? "v6" : "", s);
			free(hint);
			return -1;
		}
		type = (int)t;
		code = sl ? (int)c : -1;
	}
	if (type < 0) {		/* "any" */
		m = match_add(p, in, IR_M_ICMP_ANY, inv, opt, arg);
		return 0;
	}
	m = match_add(p, in, IR_M_ICMP, inv, opt, arg);
	m->u.icmp.type = type;
	m->u.icmp.code = code;
	return 0;
}

static int icmp_final(struct ipt_parse *p, struct ipt_inst *in)
{
	bool v6 = strcmp(in->ext->name, "icmp6") == 0;
	uint8_t want = v6 ? 58 : 1;

	if (!p->proto_set || p->proto_neg || p->proto != want)
		return perr(p, &in->loc, NULL, "-m %s needs -p %s in the same rule",
			    in->ext->name, v6 ? "icmpv6" : "icmp");
	return 0;
}

/* ---- match: state / conntrack -------------------------------------------------------- */

static const struct name_num ct_states[] = {
	{ "INVALID", IR_CT_INVALID }, { "ESTABLISHED", IR_CT_ESTABLISHED },
	{ "RELATED", IR_CT_RELATED }, { "NEW", IR_CT_NEW },
	{ "UNTRACKED", IR_CT_UNTRACKED }, { "SNAT", IR_CT_SNAT }, { "DNAT", IR_CT_DNAT },
};

static const struct name_num ct_statuses[] = {
	{ "NONE", 0 }, { "EXPECTED", IR_CTS_EXPECTED }, { "SEEN_REPLY", IR_CTS_SEEN_REPLY },
	{ "ASSURED", IR_CTS_ASSURED }, { "CONFIRMED", IR_CTS_CONFIRMED },
};

static int parse_name_list(struct ipt_parse *p, const struct word *w, const struct name_num *tab,
			   size_t ntab, const char *what, uint32_t *out)
{
	const char *s = w->text;

	*out = 0;
	for (;;) {
		const char *c = strchr(s, ',');
		size_t n = c ? (size_t)(c - s) : strlen(s);
		size_t i;

		for (i = 0; i < ntab; i++)
			if (strlen(tab[i].name) == n && strncasecmp(tab[i].name, s, n) == 0)
				break;
		if (i == ntab) {
			struct strbuf sb = { 0 };

			for (i = 0; i < ntab; i++)
				sb_addf(&sb, "%s%s", i ? " " : "", tab[i].name);
			perr(p, &w->loc, sb_str(&sb), "unknown %s '%.*s'", what, (int)n, s);
			sb_free(&sb);
			return -1;
		}
		*out |= tab[i].num;
		if (!c)
			return 0;
		s = c + 1;
	}
}

enum { O_STATE = 1 };
static const struct ipt_opt state_opts[] = {
	{ "state", O_STATE, ARG_ONE, 0 }, { NULL, 0, ARG_NONE, 0 },
};

static int state_parse(struct ipt_parse *p, struct ipt_inst *in, int id, bool inv,
		       const struct word *opt, const struct word *arg, const struct word *arg2)
{
	uint32_t bits;
	struct ir_match *m;

	/* the state match knows only the first five */
	if (parse_name_list(p, arg, ct_states, 5, "state", &bits))
		return -1;
	m = match_add(p, in, IR_M_CTSTATE, inv, opt, arg);
	m->u.bits = bits;
	return 0;
}

static int state_final(struct ipt_parse *p, struct ipt_inst *in)
{
	if (!has_seen(in, O_STATE))
		return perr(p, &in->loc, NULL, "-m state needs --state");
	return 0;
}

enum { O_CTSTATE = 1, O_CTSTATUS, O_CTDIR, O_CT_UNSUP };
static const struct ipt_opt conntrack_opts[] = {
	{ "ctstate", O_CTSTATE, ARG_ONE, 0 }, { "ctstatus", O_CTSTATUS, ARG_ONE, 0 },
	{ "ctdir", O_CTDIR, ARG_ONE, 0 },
	{ "ctproto", O_CT_UNSUP, ARG_ONE, 0 }, { "ctorigsrc", O_CT_UNSUP, ARG_ONE, 0 },
	{ "ctorigdst", O_CT_UNSUP, ARG_ONE, 0 }, { "ctreplsrc", O_CT_UNSUP, ARG_ONE, 0 },
	{ "ctrepldst", O_CT_UNSUP, ARG_ONE, 0 }, { "ctorigsrcport", O_CT_UNSUP, ARG_ONE, 0 },
	{ "ctorigdstport", O_CT_UNSUP, ARG_ONE, 0 }, { "ctreplsrcport", O_CT_UNSUP, ARG_ONE, 0 },
	{ "ctrepldstport", O_CT_UNSUP, ARG_ONE, 0 }, { "ctexpire", O_CT_UNSUP, ARG_ONE, 0 },
	{ NULL, 0, ARG_NONE, 0 },
};

static int conntrack_parse(struct ipt_parse *p, struct ipt_inst *in, int id, bool inv,
			   const struct word *opt, const struct word *arg, const struct word *arg2)
{
	struct ir_match *m;
	uint32_t bits;

	switch (id) {
	case O_CTSTATE:
		if (parse_name_list(p, arg, ct_states, ARRAY_SIZE(ct_states), "conntrack state", &bits))
			return -1;
		m = match_add(p, in, IR_M_CTSTATE, inv, opt, arg);
		m->u.bits = bits;
		return 0;
	case O_CTSTATUS:
		if (parse_name_list(p, arg, ct_statuses, ARRAY_SIZE(ct_statuses), "conntrack status", &bits))
			return -1;
		m = match_add(p, in, IR_M_CTSTATUS, inv, opt, arg);
		m->u.bits = bits;
		return 0;
	case O_CTDIR:
		if (strcasecmp(arg->text, "ORIGINAL") == 0)
			bits = 0;
		else if (strcasecmp(arg->text, "REPLY") == 0)
			bits = 1;
		else
			return perr(p, &arg->loc, NULL, "--ctdir takes ORIGINAL or REPLY, not '%s'", arg->text);
		m = match_add(p, in, IR_M_CTDIR, inv, opt, arg);
		m->u.num = bits;
		return 0;
	case O_CT_UNSUP:
		return perr(p, &opt->loc, "masqc supports --ctstate, --ctstatus and --ctdir; see docs/iptables.md",
			    "not supported: -m conntrack %s", opt->text);
	}
	return 0;
}

/* ---- match: multiport ------------------------------------------------------------------- */

enum { O_MP_SPORTS = 1, O_MP_DPORTS, O_MP_PORTS };
static const struct ipt_opt multiport_opts[] = {
	{ "source-ports", O_MP_SPORTS, ARG_ONE, 0 }, { "sports", O_MP_SPORTS, ARG_ONE, 0 },
	{ "destination-ports", O_MP_DPORTS, ARG_ONE, 0 }, { "dports", O_MP_DPORTS, ARG_ONE, 0 },
	{ "ports", O_MP_PORTS, ARG_ONE, 0 }, { NULL, 0, ARG_NONE, 0 },
};

static int multiport_parse(struct ipt_parse *p, struct ipt_inst *in, int id, bool inv,
			   const struct word *opt, const struct word *arg, const struct word *arg2)
{
	static const enum ir_match_kind kinds[] = { IR_M_PORT, IR_M_SPORT, IR_M_DPORT, IR_M_PORT };
	VEC(struct ir_range) v = { 0 };
	const char *s = arg->text;
	unsigned slots = 0;
	struct ir_match *m;

	if (in->m)
		return perr(p, &opt->loc, NULL, "-m multiport takes only one of --sports, --dports, --ports");
	for (;;) {
		const char *c = strchr(s, ',');
		size_t n = c ? (size_t)(c - s) : strlen(s);
		struct ir_range r;

		if (parse_portrange(p, arg, s, n, &r, ':')) {
			free(v.v);
			return -1;
		}
		vec_push(&v, r);
		slots += r.lo == r.hi ? 1 : 2;	/* a range takes two of the 15 slots */
		if (!c)
			break;
		s = c + 1;
	}
	if (slots > 15) {
		free(v.v);
		return perr(p, &arg->loc, NULL, "too many ports for -m multiport (at most 15, a range counts twice)");
	}
	m = match_add(p, in, kinds[id], inv, opt, arg);
	vec_shrink(&v);
	m->u.ports.v = v.v;
	m->u.ports.n = (unsigned)v.n;
	in->m = m;
	return 0;
}

static int multiport_final(struct ipt_parse *p, struct ipt_inst *in)
{
	switch (p->proto_set && !p->proto_neg ? p->proto : 0) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case 132:	/* sctp */
	case 33:	/* dccp */
		break;
	default:
		return perr(p, &in->loc, NULL, "-m multiport needs -p tcp, udp, udplite, sctp or dccp");
	}
	if (!in->m)
		return perr(p, &in->loc, NULL, "-m multiport needs --sports, --dports or --ports");
	return 0;
}

/* ---- match: limit ------------------------------------------------------------------------ */

enum { O_LIMIT = 1, O_BURST };
static const struct ipt_opt limit_opts[] = {
	{ "limit", O_LIMIT, ARG_ONE, 0 }, { "limit-burst", O_BURST, ARG_ONE, 0 },
	{ NULL, 0, ARG_NONE, 0 },
};

static struct ir_match *limit_get(struct ipt_parse *p, struct ipt_inst *in, const struct word *opt)
{
	if (!in->m) {
		in->m = match_add(p, in, IR_M_LIMIT, false, opt, NULL);
		in->m->u.limit.rate = 3;	/* iptables' default: 3/hour, burst 5 */
		in->m->u.limit.unit = IR_PER_HOUR;
		in->m->u.limit.burst = 5;
	}
	return in->m;
}

static int limit_parse(struct ipt_parse *p, struct ipt_inst *in, int id, bool inv,
		       const struct word *opt, const struct word *arg, const struct word *arg2)
{
	struct ir_match *m;
	uint32_t v;

	if (inv)
		return perr(p, &opt->loc, NULL, "-m limit cannot be inverted");
	m = limit_get(p, in, opt);
	if (id == O_BURST) {
		if (!parse_uint(arg->text, 10, 10000, &v))
			return perr(p, &arg->loc, NULL, "bad --limit-burst '%s' (0-10000)", arg->text);
		m->u.limit.burst = v;
		return 0;
	}
	{
		static const struct { const char *name; enum ir_time_unit u; } units[] = {
			{ "second", IR_PER_SECOND }, { "minute", IR_PER_MINUTE },
			{ "hour", IR_PER_HOUR }, { "day", IR_PER_DAY },
		};
		const char *sl = strchr(arg->text, '/');
		enum ir_time_unit u = IR_PER_SECOND;

		if (!parse_uint_n(arg->text, sl ? (size_t)(sl - arg->text) : strlen(arg->text), 10,
				  UINT32_MAX, &v) || v == 0)
			return perr(p, &arg->loc, "write N/second, N/minute, N/hour or N/day",
				    "bad rate '%s'", arg->text);
		if (sl) {
			size_t n = strlen(sl + 1);
			unsigned i;

			/* iptables accepts any prefix of the unit: s, sec, m, min, h, d */
			for (i = 0; i < ARRAY_SIZE(units); i++)
				if (n && strncasecmp(sl + 1, units[i].name, n) == 0)
					break;
			if (i == ARRAY_SIZE(units))
				return perr(p, &arg->loc, "write N/second, N/minute, N/hour or N/day",
					    "bad rate unit '%s'", sl + 1);
			u = units[i].u;
		}
		m->u.limit.rate = v;
		m->u.limit.unit = u;
		m->loc = span(opt, arg);
	}
	return 0;
}

static int limit_final(struct ipt_parse *p, struct ipt_inst *in)
{
	limit_get(p, in, p->cmd->argv);
	if (!in->seen)
		in->m->loc = in->loc;
	return 0;
}

/* ---- match: mac, mark, connmark, tos, dscp, length, ttl, hl -------------------------- */

enum { O_MAC = 1 };
static const struct ipt_opt mac_opts[] = {
	{ "mac-source", O_MAC, ARG_ONE, 0 }, { NULL, 0, ARG_NONE, 0 },
};

static int mac_parse(struct ipt_parse *p, struct ipt_inst *in, int id, bool inv,
		     const struct word *opt, const struct word *arg, const struct word *arg2)
{
	unsigned b[6];
	int n = 0;
	struct ir_match *m;

	if (strlen(arg->text) != 17 ||
	    sscanf(arg->text, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &n) != 6 ||
	    n != 17)
		return perr(p, &arg->loc, NULL, "bad MAC address '%s' (expected XX:XX:XX:XX:XX:XX)", arg->text);
	m = match_add(p, in, IR_M_MAC, inv, opt, arg);
	for (int i = 0; i < 6; i++)
		m->u.mac[i] = (uint8_t)b[i];
	return 0;
}

enum { O_MARK = 1 };
static const struct ipt_opt mark_opts[] = {
	{ "mark", O_MARK, ARG_ONE, 0 }, { NULL, 0, ARG_NONE, 0 },
};

static int mark_parse(struct ipt_parse *p, struct ipt_inst *in, int id, bool inv,
		      const struct word *opt, const struct word *arg, const struct word *arg2)
{
	uint32_t v, msk;
	struct ir_match *m;

	if (parse_valmask(p, arg, UINT32_MAX, &v, &msk))
		return -1;
	m = match_add(p, in, strcmp(in->ext->name, "connmark") == 0 ? IR_M_CONNMARK : IR_M_MARK,
		      inv, opt, arg);
	m->u.markmask.value = v & msk;
	m->u.markmask.mask = msk;
	return 0;
}

static const struct name_num tos_names[] = {
	{ "Minimize-Delay", 0x10 }, { "Maximize-Throughput", 0x08 },
	{ "Maximize-Reliability", 0x04 }, { "Minimize-Cost", 0x02 },
	{ "Normal-Service", 0x00 },
};

/* libxt_tos: a symbolic name compares under mask 0x3f, a number under 0xff */
static int parse_tos_value(struct ipt_parse *p, const struct word *w, uint32_t *v, uint32_t *msk)
{
	for (unsigned i = 0; i < ARRAY_SIZE(tos_names); i++)
		if (strcasecmp(tos_names[i].name, w->text) == 0) {
			*v = tos_names[i].num;
			*msk = 0x3f;
			return 0;
		}
	if (parse_valmask(p, w, 0xff, v, msk))
		return -1;
	return 0;
}

enum { O_TOS = 1 };
static const struct ipt_opt tos_opts[] = {
	{ "tos", O_TOS, ARG_ONE, 0 }, { NULL, 0, ARG_NONE, 0 },
};

static int tos_parse(struct ipt_parse *p, struct ipt_inst *in, int id, bool inv,
		     const struct word *opt, const struct word *arg, const struct word *arg2)
{
	uint32_t v, msk;
	struct ir_match *m;

	if (parse_tos_value(p, arg, &v, &msk))
		return -1;
	m = match_add(p, in, IR_M_TOS, inv, opt, arg);
	m->u.markmask.value = v & msk;
	m->u.markmask.mask = msk;
	return 0;
}

static const struct name_num dscp_classes[] = {
	{ "CS0", 0 }, { "CS1", 8 }, { "CS2", 16 }, { "CS3", 24 }, { "CS4", 32 },
	{ "CS5", 40 }, { "CS6", 48 }, { "CS7", 56 }, { "BE", 0 },
	{ "AF11", 10 }, { "AF12", 12 }, { "AF13", 14 }, { "AF21", 18 }, { "AF22", 20 },
	{ "AF23", 22 }, { "AF31", 26 }, { "AF32", 28 }, { "AF33", 30 }, { "AF41", 34 },
	{ "AF42", 36 }, { "AF43", 38 }, { "EF", 46 },
};

static int parse_dscp(struct ipt_parse *p, const struct word *w, bool cls, uint32_t *v)
{
	if (!cls) {
		if (!parse_uint(w->text, 0, 63, v))
			return perr(p, &w->loc, NULL, "bad DSCP value '%s' (0-63)", w->text);
		return 0;
	}
	for (unsigned i = 0; i < ARRAY_SIZE(dscp_classes); i++)
		if (strcasecmp(dscp_classes[i].name, w->text) == 0) {
			*v = dscp_classes[i].num;
			return 0;
		}
	return perr(p, &w->loc, "classes are CS0-CS7, BE, AF11-AF43, EF", "unknown DSCP class '%s'", w->text);
}

enum { O_DSCP = 1, O_DSCP_CLASS };
static const struct ipt_opt dscp_opts[] = {
	{ "dscp", O_DSCP, ARG_ONE, 0 }, { "dscp-class", O_DSCP_CLASS, ARG_ONE, 0 },
	{ NULL, 0, ARG_NONE, 0 },
};

static int dscp_parse(struct ipt_parse *p, struct ipt_inst *in, int id, bool inv,
		      const struct word *opt, const struct word *arg, const struct word *arg2)
{
	uint32_t v;
	struct ir_match *m;

	if (in->seen)
		return perr(p, &opt->loc, NULL, "-m dscp takes only one of --dscp and --dscp-class");
	if (parse_dscp(p, arg, id == O_DSCP_CLASS, &v))
		return -1;
	m = match_add(p, in, IR_M_DSCP, inv, opt, arg);
	m->u.num = v;
	return 0;
}

static int parse_range16(struct ipt_parse *p, const struct word *w, uint32_t max, struct ir_range *r)
{
	const char *c = strchr(w->text, ':');
	uint32_t lo, hi;

	if (!c) {
		if (!parse_uint(w->text, 10, max, &lo))
			goto bad;
		r->lo = r->hi = lo;
		return 0;
	}
	/* ":64" and "1000:" as xtables' range parser allows */
	lo = 0;
	hi = max;
	if ((c > w->text && !parse_uint_n(w->text, (size_t)(c - w->text), 10, max, &lo)) ||
	    (c[1] && !parse_uint(c + 1, 10, max, &hi)) || lo > hi)
		goto bad;
	r->lo = lo;
	r->hi = hi;
	return 0;
bad:
	return perr(p, &w->loc, NULL, "bad value or range '%s' (N or LO:HI, at most %u)", w->text, max);
}

enum { O_LENGTH = 1 };
static const struct ipt_opt length_opts[] = {
	{ "length", O_LENGTH, ARG_ONE, 0 }, { NULL, 0, ARG_NONE, 0 },
};

static int length_parse(struct ipt_parse *p, struct ipt_inst *in, int id, bool inv,
			const struct word *opt, const struct word *arg, const struct word *arg2)
{
	struct ir_range r;
	struct ir_match *m;

	if (parse_range16(p, arg, 65535, &r))
		return -1;
	m = match_add(p, in, strcmp(in->ext->name, "tcpmss") == 0 ? IR_M_TCPMSS : IR_M_LENGTH,
		      inv, opt, arg);
	m->u.range = r;
	return 0;
}

enum { O_TTL_EQ = 1, O_TTL_LT, O_TTL_GT };
static const struct ipt_opt ttl_opts[] = {
	{ "ttl-eq", O_TTL_EQ, ARG_ONE, 0 }, { "ttl-lt", O_TTL_LT, ARG_ONE, 0 },
	{ "ttl-gt", O_TTL_GT, ARG_ONE, 0 }, { NULL, 0, ARG_NONE, 0 },
};
static const struct ipt_opt hl_opts[] = {
	{ "hl-eq", O_TTL_EQ, ARG_ONE, 0 }, { "hl-lt", O_TTL_LT, ARG_ONE, 0 },
	{ "hl-gt", O_TTL_GT, ARG_ONE, 0 }, { NULL, 0, ARG_NONE, 0 },
};

static int ttl_parse(struct ipt_parse *p, struct ipt_inst *in, int id, bool inv,
		     const struct word *opt, const struct word *arg, const struct word *arg2)
{
	uint32_t v;
	struct ir_match *m;

	if (in->seen)
		return perr(p, &opt->loc, NULL, "-m %s takes only one comparison", in->ext->name);
	if (inv && id != O_TTL_EQ)
		return perr(p, &opt->loc, NULL, "only the equality comparison can be inverted");
	if (!parse_uint(arg->text, 10, 255, &v))
		return perr(p, &arg->loc, NULL, "bad value '%s' (0-255)", arg->text);
	m = match_add(p, in, IR_M_TTL, inv, opt, arg);
	m->u.ttl.op = id == O_TTL_EQ ? IR_TTL_EQ : id == O_TTL_LT ? IR_TTL_LT : IR_TTL_GT;
	m->u.ttl.value = (uint8_t)v;
	return 0;
}

/* ---- match: iprange, comment, addrtype, owner, tcpmss, pkttype, helper ------------------ */

enum { O_SRC_RANGE = 1, O_DST_RANGE };
static const struct ipt_opt iprange_opts[] = {
	{ "src-range", O_SRC_RANGE, ARG_ONE, 0 }, { "dst-range", O_DST_RANGE, ARG_ONE, 0 },
	{ NULL, 0, ARG_NONE, 0 },
};

static int iprange_parse(struct ipt_parse *p, struct ipt_inst *in, int id, bool inv,
			 const struct word *opt, const struct word *arg, const struct word *arg2)
{
	struct ir_addr a;
	struct ir_match *m;

	if (parse_addr_range(p, arg, arg->text, strlen(arg->text), &a))
		return -1;
	if (a.kind == IR_ADDR_PREFIX) {	/* one address: a range of one, as iprange stores it */
		a.kind = IR_ADDR_RANGE;
		memcpy(a.hi, a.lo, 16);
	}
	m = match_add(p, in, id == O_SRC_RANGE ? IR_M_SADDR : IR_M_DADDR, inv, opt, arg);
	m->u.addrs.v = xmalloc(sizeof(a));
	m->u.addrs.v[0] = a;
	m->u.addrs.n = 1;
	return 0;
}

enum { O_COMMENT = 1 };
static const struct ipt_opt comment_opts[] = {
	{ "comment", O_COMMENT, ARG_ONE, 0 }, { NULL, 0, ARG_NONE, 0 },
};

static int comment_parse(struct ipt_parse *p, struct ipt_inst *in, int id, bool inv,
			 const struct word *opt, const struct word *arg, const struct word *arg2)
{
	struct ir_match *m;

	if (inv)
		return perr(p, &opt->loc, NULL, "a comment cannot be inverted");
	if (strlen(arg->text) > 255)
		return perr(p, &arg->loc, NULL, "comment is longer than 255 characters");
	m = match_add(p, in, IR_M_COMMENT, false, opt, arg);
	m->u.str = xstrdup(arg->text);
	return 0;
}

static const struct name_num addrtypes[] = {
	{ "UNSPEC", IR_AT_UNSPEC }, { "UNICAST", IR_AT_UNICAST }, { "LOCAL", IR_AT_LOCAL },
	{ "BROADCAST", IR_AT_BROADCAST }, { "ANYCAST", IR_AT_ANYCAST },
	{ "MULTICAST", IR_AT_MULTICAST }, { "BLACKHOLE", IR_AT_BLACKHOLE },
	{ "UNREACHABLE", IR_AT_UNREACHABLE }, { "PROHIBIT", IR_AT_PROHIBIT },
	{ "THROW", IR_AT_THROW }, { "NAT", IR_AT_NAT }, { "XRESOLVE", IR_AT_XRESOLVE },
};

enum { O_SRC_TYPE = 1, O_DST_TYPE, O_LIMIT_IN, O_LIMIT_OUT };
static const struct ipt_opt addrtype_opts[] = {
	{ "src-type", O_SRC_TYPE, ARG_ONE, 0 }, { "dst-type", O_DST_TYPE, ARG_ONE, 0 },
	{ "limit-iface-in", O_LIMIT_IN, ARG_NONE, 0 }, { "limit-iface-out", O_LIMIT_OUT, ARG_NONE, 0 },
	{ NULL, 0, ARG_NONE, 0 },
};

static int addrtype_parse(struct ipt_parse *p, struct ipt_inst *in, int id, bool inv,
			  const struct word *opt, const struct word *arg, const struct word *arg2)
{
	uint32_t bits;

	if (!in->m)
		in->m = match_add(p, in, IR_M_ADDRTYPE, false, opt, arg);
	else
		in->m->loc = loc_span(in->m->loc, span(opt, arg));
	switch (id) {
	case O_SRC_TYPE:
	case O_DST_TYPE:
		if (parse_name_list(p, arg, addrtypes, ARRAY_SIZE(addrtypes), "address type", &bits))
			return -1;
		if (id == O_SRC_TYPE) {
			in->m->u.addrtype.src = bits;
			in->m->u.addrtype.src_neg = inv;
		} else {
			in->m->u.addrtype.dst = bits;
			in->m->u.addrtype.dst_neg = inv;
		}
		return 0;
	case O_LIMIT_IN:
	case O_LIMIT_OUT:
		if (inv)
			return perr(p, &opt->loc, NULL, "%s cannot be inverted", opt->text);
		if (id == O_LIMIT_IN)
			in->m->u.addrtype.limit_in = true;
		else
			in->m->u.addrtype.limit_out = true;
		if (in->m->u.addrtype.limit_in && in->m->u.addrtype.limit_out)
			return perr(p, &opt->loc, NULL, "--limit-iface-in and --limit-iface-out are exclusive");
		return 0;
	}
	return 0;
}

static int addrtype_final(struct ipt_parse *p, struct ipt_inst *in)
{
	if (!in->m || (!has_seen(in, O_SRC_TYPE) && !has_seen(in, O_DST_TYPE)))
		return perr(p, &in->loc, NULL, "-m addrtype needs --src-type or --dst-type");
	return 0;
}

enum { O_UID = 1, O_GID, O_SOCKET };
static const struct ipt_opt owner_opts[] = {
	{ "uid-owner", O_UID, ARG_ONE, 0 }, { "gid-owner", O_GID, ARG_ONE, 0 },
	{ "socket-exists", O_SOCKET, ARG_NONE, 0 },
	{ "pid-owner", 10, ARG_ONE, 0 }, { "sid-owner", 10, ARG_ONE, 0 },
	{ "cmd-owner", 10, ARG_ONE, 0 }, { "suppl-groups", 10, ARG_NONE, 0 },
	{ NULL, 0, ARG_NONE, 0 },
};

static int owner_parse(struct ipt_parse *p, struct ipt_inst *in, int id, bool inv,
		       const struct word *opt, const struct word *arg, const struct word *arg2)
{
	struct ir_range r;
	const char *dash;
	uint32_t lo, hi;

	if (id == 10)
		return perr(p, &opt->loc, "the kernel dropped it in 2.6.14; masqc supports --uid-owner, "
			    "--gid-owner and --socket-exists", "not supported: -m owner %s", opt->text);
	if (!in->m) {
		in->m = match_add(p, in, IR_M_OWNER, inv, opt, arg);
		in->inv_all = inv;
	} else {
		if (inv != in->inv_all)
			return perr(p, &opt->loc, "split it into two rules or two -m owner",
				    "not supported: -m owner with some options inverted and others not");
		in->m->loc = loc_span(in->m->loc, span(opt, arg));
	}
	if (id == O_SOCKET) {
		in->m->u.owner.socket_exists = true;
		return 0;
	}
	dash = strchr(arg->text, '-');
	if (!parse_uint_n(arg->text, dash ? (size_t)(dash - arg->text) : strlen(arg->text), 10,
			  UINT32_MAX - 1, &lo) ||
	    (dash && !parse_uint(dash + 1, 10, UINT32_MAX - 1, &hi))) {
		return perr(p, &arg->loc, "masqc does not read /etc/passwd or /etc/group of the build host",
			    "write the numeric %s instead of '%s'", id == O_UID ? "uid" : "gid", arg->text);
	}
	r.lo = lo;
	r.hi = dash ? hi : lo;
	if (id == O_UID) {
		in->m->u.owner.has_uid = true;
		in->m->u.owner.uid = r;
	} else {
		in->m->u.owner.has_gid = true;
		in->m->u.owner.gid = r;
	}
	return 0;
}

enum { O_MSS = 1 };
static const struct ipt_opt tcpmss_match_opts[] = {
	{ "mss", O_MSS, ARG_ONE, 0 }, { NULL, 0, ARG_NONE, 0 },
};

static int tcpmss_match_final(struct ipt_parse *p, struct ipt_inst *in)
{
	if (!p->proto_set || p->proto_neg || p->proto != IPPROTO_TCP)
		return perr(p, &in->loc, NULL, "-m tcpmss needs -p tcp");
	if (!in->seen)
		return perr(p, &in->loc, NULL, "-m tcpmss needs --mss");
	return 0;
}

enum { O_PKTTYPE = 1 };
static const struct ipt_opt pkttype_opts[] = {
	{ "pkt-type", O_PKTTYPE, ARG_ONE, 0 }, { NULL, 0, ARG_NONE, 0 },
};

static int pkttype_parse(struct ipt_parse *p, struct ipt_inst *in, int id, bool inv,
			 const struct word *opt, const struct word *arg, const struct word *arg2)
{
	static const struct name_num types[] = {
		{ "unicast", IR_PKT_UNICAST }, { "host", IR_PKT_UNICAST },
		{ "broadcast", IR_PKT_BROADCAST }, { "multicast", IR_PKT_MULTICAST },
	};
	struct ir_match *m;

	for (unsigned i = 0; i < ARRAY_SIZE(types); i++)
		if (strcasecmp(types[i].name, arg->text) == 0) {
			m = match_add(p, in, IR_M_PKTTYPE, inv, opt, arg);
			m->u.num = types[i].num;
			return 0;
		}
	return perr(p, &arg->loc, "packet types are unicast, broadcast and multicast",
		    "unknown packet type '%s'", arg->text);
}

enum { O_HELPER = 1 };
static const struct ipt_opt helper_opts[] = {
	{ "helper", O_HELPER, ARG_ONE, 0 }, { NULL, 0, ARG_NONE, 0 },
};

static int helper_parse(struct ipt_parse *p, struct ipt_inst *in, int id, bool inv,
			const struct word *opt, const struct word *arg, const struct word *arg2)
{
	struct ir_match *m = match_add(p, in, IR_M_HELPER, inv, opt, arg);

	m->u.str = xstrdup(arg->text);
	return 0;
}

static int need_one_opt(struct ipt_parse *p, struct ipt_inst *in)
{
	if (!in->seen)
		return perr(p, &in->loc, NULL, "-m %s needs one of its options", in->ext->name);
	return 0;
}

static const struct ipt_ext matches[] = {
	{ "tcp", tcp_opts, l4_parse, l4_final, FAMB },
	{ "udp", udp_opts, l4_parse, l4_final, FAMB },
	{ "udplite", udp_opts, l4_parse, l4_final, FAMB },
	{ "sctp", udp_opts, l4_parse, l4_final, FAMB },
	{ "dccp", udp_opts, l4_parse, l4_final, FAMB },
	{ "icmp", icmp_opts, icmp_parse, icmp_final, FAM4 },
	{ "icmp6", icmp6_opts, icmp_parse, icmp_final, FAM6 },
	{ "state", state_opts, state_parse, state_final, FAMB },
	{ "conntrack", conntrack_opts, conntrack_parse, need_one_opt, FAMB },
	{ "multiport", multiport_opts, multiport_parse, multiport_final, FAMB },
	{ "limit", limit_opts, limit_parse, limit_final, FAMB },
	{ "mac", mac_opts, mac_parse, need_one_opt, FAMB },
	{ "mark", mark_opts, mark_parse, need_one_opt, FAMB },
	{ "connmark", mark_opts, mark_parse, need_one_opt, FAMB },
	{ "tos", tos_opts, tos_parse, need_one_opt, FAM4 },
	{ "dscp", dscp_opts, dscp_parse, need_one_opt, FAMB },
	{ "length", length_opts, length_parse, need_one_opt, FAMB },
	{ "ttl", ttl_opts, ttl_parse, need_one_opt, FAM4 },
	{ "hl", hl_opts, ttl_parse, need_one_opt, FAM6 },
	{ "iprange", iprange_opts, iprange_parse, need_one_opt, FAMB },
	{ "comment", comment_opts, comment_parse, need_one_opt, FAMB },
	{ "addrtype", addrtype_opts, addrtype_parse, addrtype_final, FAMB },
	{ "owner", owner_opts, owner_parse, need_one_opt, FAMB },
	{ "tcpmss", tcpmss_match_opts, length_parse, tcpmss_match_final, FAMB },
	{ "pkttype", pkttype_opts, pkttype_parse, need_one_opt, FAMB },
	{ "helper", helper_opts, helper_parse, need_one_opt, FAMB },
};

/* Real iptables extensions masqc has no faithful form for: a located
 * "not supported" error rather than "unknown". Listed in docs/iptables.md. */
static const char *const unsupported_matches[] = {
	"string", "recent", "u32", "set", "hashlimit", "time", "connlimit", "quota",
	"statistic", "policy", "physdev", "realm", "ipv4options", "ipv6header", "frag",
	"rt", "hbh", "dst", "mh", "ah", "esp", "ecn", "connbytes", "connlabel", "cpu",
	"devgroup", "bpf", "cgroup", "cluster", "condition", "geoip", "ipvs", "l2tp",
	"nfacct", "osf", "rateest", "socket", "state2", "tcpmss2", "unclean", "account",
	"random", "nth", "psd", "ipp2p", "layer7", "fuzzy", "iplimit", "pool", "eui64",
	"srh", "ttlx", "sctp2", "mport",
};

/* ---- targets --------------------------------------------------------------------------- */

static int verdict_set(struct ipt_parse *p, enum ir_verdict_kind k)
{
	p->rule->verdict.kind = k;
	p->rule->verdict.loc = p->target->loc;
	return 0;
}

/* REJECT */
struct reject_name {
	const char *name, *alias;
	enum ir_reject r;
};

static const struct reject_name reject4[] = {
	{ "icmp-net-unreachable", "net-unreach", IR_REJ_NET_UNREACH },
	{ "icmp-host-unreachable", "host-unreach", IR_REJ_HOST_UNREACH },
	{ "icmp-proto-unreachable", "proto-unreach", IR_REJ_PROTO_UNREACH },
	{ "icmp-port-unreachable", "port-unreach", IR_REJ_PORT_UNREACH },
	{ "icmp-net-prohibited", "net-prohib", IR_REJ_NET_PROHIB },
	{ "icmp-host-prohibited", "host-prohib", IR_REJ_HOST_PROHIB },
	{ "tcp-reset", "tcp-rst", IR_REJ_TCP_RESET },
	{ "icmp-admin-prohibited", "admin-prohib", IR_REJ_ADMIN_PROHIB },
};

static const struct reject_name reject6[] = {
	{ "icmp6-no-route", "no-route", IR_REJ6_NO_ROUTE },
	{ "icmp6-adm-prohibited", "adm-prohibited", IR_REJ6_ADM_PROHIB },
	{ "icmp6-addr-unreachable", "addr-unreach", IR_REJ6_ADDR_UNREACH },
	{ "icmp6-port-unreachable", "port-unreach", IR_REJ6_PORT_UNREACH },
	{ "icmp6-policy-fail", "policy-fail", IR_REJ6_POLICY_FAIL },
	{ "icmp6-reject-route", "reject-route", IR_REJ6_REJECT_ROUTE },
	{ "tcp-reset", "tcp-rst", IR_REJ_TCP_RESET },
};

enum { O_REJECT_WITH = 1 };
static const struct ipt_opt reject_opts[] = {
	{ "reject-with", O_REJECT_WITH, ARG_ONE, 0 }, { NULL, 0, ARG_NONE, 0 },
};

static int reject_parse(struct ipt_parse *p, struct ipt_inst *in, int id, bool inv,
			const struct word *opt, const struct word *arg, const struct word *arg2)
{
	const struct reject_name *tab = p->fam == IR_FAM_IPV4 ? reject4 : reject6;
	size_t n = p->fam == IR_FAM_IPV4 ? ARRAY_SIZE(reject4) : ARRAY_SIZE(reject6);
	size_t len = strlen(arg->text);

	/* libxt_REJECT compares the argument as a prefix of name or alias */
	for (size_t i = 0; len && i < n; i++)
		if (strncasecmp(tab[i].name, arg->text, len) == 0 ||
		    strncasecmp(tab[i].alias, arg->text, len) == 0) {
			p->rule->verdict.u.reject = tab[i].r;
			p->rule->verdict.loc = loc_span(in->loc, span(opt, arg));
			return 0;
		}
	if (strncasecmp(arg->text, "icmp-echo-reply", len) == 0 || strcasecmp(arg->text, "echoreply") == 0)
		return perr(p, &arg->loc, NULL, "not supported: --reject-with %s (removed from the kernel)", arg->text);
	{
		const char *cands[2 * ARRAY_SIZE(reject4)];
		const char *sug;
		char *hint = NULL;

		for (size_t i = 0; i < n; i++) {
			cands[2 * i] = tab[i].name;
			cands[2 * i + 1] = tab[i].alias;
		}
		sug = suggest(arg->text, cands, 2 * n);
		if (sug)
			hint = xasprintf("did you mean '%s'?", sug);
		perr(p, &arg->loc, hint, "unknown --reject-with type '%s'", arg->text);
		free(hint);
	}
	return -1;
}

static int reject_final(struct ipt_parse *p, struct ipt_inst *in)
{
	if (p->rule->verdict.u.reject == IR_REJ_TCP_RESET &&
	    (!p->proto_set || p->proto_neg || p->proto != IPPROTO_TCP))
		return perr(p, &in->loc, "add -p tcp", "--reject-with tcp-reset only works on TCP packets "
			    "(the kernel refuses it without -p tcp)");
	return 0;
}

/* LOG */
enum { O_LOG_PREFIX = 1, O_LOG_LEVEL, O_LOG_TCPSEQ, O_LOG_TCPOPT, O_LOG_IPOPT, O_LOG_UID, O_LOG_MAC };
static const struct ipt_opt log_opts[] = {
	{ "log-prefix", O_LOG_PREFIX, ARG_ONE, 0 }, { "log-level", O_LOG_LEVEL, ARG_ONE, 0 },
	{ "log-tcp-sequence", O_LOG_TCPSEQ, ARG_NONE, 0 },
	{ "log-tcp-options", O_LOG_TCPOPT, ARG_NONE, 0 },
	{ "log-ip-options", O_LOG_IPOPT, ARG_NONE, 0 },
	{ "log-uid", O_LOG_UID, ARG_NONE, 0 }, { "log-macdecode", O_LOG_MAC, ARG_NONE, 0 },
	{ NULL, 0, ARG_NONE, 0 },
};

static const struct name_num log_levels[] = {
	{ "emerg", 0 }, { "panic", 0 }, { "alert", 1 }, { "crit", 2 }, { "err", 3 },
	{ "error", 3 }, { "warning", 4 }, { "warn", 4 }, { "notice", 5 }, { "info", 6 },
	{ "debug", 7 },
};

static struct ir_stmt *target_stmt(struct ipt_parse *p, struct ipt_inst *in, enum ir_stmt_kind k)
{
	if (!in->s)
		in->s = ir_stmt_new(p->rule, k, &in->loc);
	return in->s;
}

static int log_parse(struct ipt_parse *p, struct ipt_inst *in, int id, bool inv,
		     const struct word *opt, const struct word *arg, const struct word *arg2)
{
	struct ir_stmt *s = target_stmt(p, in, IR_S_LOG);
	uint32_t v;

	s->loc = loc_span(s->loc, span(opt, arg));
	switch (id) {
	case O_LOG_PREFIX:
		if (strlen(arg->text) > 29)
			return perr(p, &arg->loc, "the kernel keeps at most 29 characters",
				    "--log-prefix is longer than 29 characters");
		free(s->u.log.prefix);
		s->u.log.prefix = xstrdup(arg->text);
		return 0;
	case O_LOG_LEVEL:
		if (parse_uint(arg->text, 10, 7, &v)) {
			s->u.log.level = (int)v;
			return 0;
		}
		for (unsigned i = 0; i < ARRAY_SIZE(log_levels); i++)
			if (strcasecmp(log_levels[i].name, arg->text) == 0) {
				s->u.log.level = (int)log_levels[i].num;
				return 0;
			}
		return perr(p, &arg->loc, "levels are 0-7 or emerg alert crit err warning notice info debug",
			    "unknown log level '%s'", arg->text);
	case O_LOG_TCPSEQ:
		s->u.log.flags |= IR_LOG_TCPSEQ;
		return 0;
	case O_LOG_TCPOPT:
		s->u.log.flags |= IR_LOG_TCPOPT;
		return 0;
	case O_LOG_IPOPT:
		s->u.log.flags |= IR_LOG_IPOPT;
		return 0;
	case O_LOG_UID:
		s->u.log.flags |= IR_LOG_UID;
		return 0;
	case O_LOG_MAC:
		s->u.log.flags |= IR_LOG_MACDECODE;
		return 0;
	}
	return 0;
}

static int log_final(struct ipt_parse *p, struct ipt_inst *in)
{
	if (!in->s) {
		target_stmt(p, in, IR_S_LOG);
		in->s->u.log.level = -1;
	} else if (!has_seen(in, O_LOG_LEVEL)) {
		in->s->u.log.level = -1;
	}
	return 0;
}

/* NFLOG and ULOG */
enum { O_NFLOG_GROUP = 1, O_NFLOG_PREFIX, O_NFLOG_RANGE, O_NFLOG_THRESHOLD,
       O_ULOG_GROUP, O_ULOG_PREFIX, O_ULOG_RANGE, O_ULOG_THRESHOLD };
static const struct ipt_opt nflog_opts[] = {
	{ "nflog-group", O_NFLOG_GROUP, ARG_ONE, 0 }, { "nflog-prefix", O_NFLOG_PREFIX, ARG_ONE, 0 },
	{ "nflog-range", O_NFLOG_RANGE, ARG_ONE, 0 }, { "nflog-size", O_NFLOG_RANGE, ARG_ONE, 0 },
	{ "nflog-threshold", O_NFLOG_THRESHOLD, ARG_ONE, 0 }, { NULL, 0, ARG_NONE, 0 },
};
static const struct ipt_opt ulog_opts[] = {
	{ "ulog-nlgroup", O_ULOG_GROUP, ARG_ONE, 0 }, { "ulog-prefix", O_ULOG_PREFIX, ARG_ONE, 0 },
	{ "ulog-cprange", O_ULOG_RANGE, ARG_ONE, 0 }, { "ulog-qthreshold", O_ULOG_THRESHOLD, ARG_ONE, 0 },
	{ NULL, 0, ARG_NONE, 0 },
};

static int nflog_parse(struct ipt_parse *p, struct ipt_inst *in, int id, bool inv,
		       const struct word *opt, const struct word *arg, const struct word *arg2)
{
	struct ir_stmt *s = target_stmt(p, in, IR_S_NFLOG);
	uint32_t v;

	s->loc = loc_span(s->loc, span(opt, arg));
	switch (id) {
	case O_NFLOG_PREFIX:
	case O_ULOG_PREFIX:
		if (strlen(arg->text) > (id == O_ULOG_PREFIX ? 31u : 63u))
			return perr(p, &arg->loc, NULL, "%s is too long", opt->text);
		free(s->u.nflog.prefix);
		s->u.nflog.prefix = xstrdup(arg->text);
		return 0;
	case O_NFLOG_GROUP:
		if (!parse_uint(arg->text, 0, 65535, &v))
			return perr(p, &arg->loc, NULL, "bad --nflog-group '%s' (0-65535)", arg->text);
		s->u.nflog.group = (uint16_t)v;
		return 0;
	case O_ULOG_GROUP:
		/* ULOG netlink groups were 1..32; NFLOG groups are numbers */
		if (!parse_uint(arg->text, 10, 32, &v) || v == 0)
			return perr(p, &arg->loc, NULL, "bad --ulog-nlgroup '%s' (1-32)", arg->text);
		s->u.nflog.group = (uint16_t)v;
		return 0;
	case O_NFLOG_RANGE:
	case O_ULOG_RANGE:
		if (!parse_uint(arg->text, 0, UINT32_MAX, &v))
			return perr(p, &arg->loc, NULL, "bad %s '%s'", opt->text, arg->text);
		s->u.nflog.snaplen = v;
		return 0;
	case O_NFLOG_THRESHOLD:
	case O_ULOG_THRESHOLD:
		if (!parse_uint(arg->text, 0, 65535, &v) || v == 0)
			return perr(p, &arg->loc, NULL, "bad %s '%s'", opt->text, arg->text);
		s->u.nflog.threshold = (uint16_t)v;
		return 0;
	}
	return 0;
}

static int nflog_final(struct ipt_parse *p, struct ipt_inst *in)
{
	bool ulog = strcmp(in->ext->name, "ULOG") == 0;
	struct ir_stmt *s = target_stmt(p, in, IR_S_NFLOG);

	if (ulog) {
		if (!has_seen(in, O_ULOG_GROUP))
			s->u.nflog.group = 1;	/* ULOG's default netlink group */
		if (!has_seen(in, O_ULOG_THRESHOLD))
			s->u.nflog.threshold = 1;
		diag_note(p->pc->dq, &in->loc,
			  "ULOG was removed from the kernel in 3.17; translated to NFLOG group %u "
			  "(point ulogd at its NFLOG input)", s->u.nflog.group);
	}
	return 0;
}

/* NAT targets */
enum { O_TO_PORTS = 1, O_RANDOM, O_RANDOM_FULLY, O_PERSISTENT, O_TO_SOURCE, O_TO_DEST };
static const struct ipt_opt masq_opts[] = {
	{ "to-ports", O_TO_PORTS, ARG_ONE, 0 }, { "random", O_RANDOM, ARG_NONE, 0 },
	{ "random-fully", O_RANDOM_FULLY, ARG_NONE, 0 }, { NULL, 0, ARG_NONE, 0 },
};
static const struct ipt_opt snat_opts[] = {
	{ "to-source", O_TO_SOURCE, ARG_ONE, 0 }, { "random", O_RANDOM, ARG_NONE, 0 },
	{ "random-fully", O_RANDOM_FULLY, ARG_NONE, 0 }, { "persistent", O_PERSISTENT, ARG_NONE, 0 },
	{ NULL, 0, ARG_NONE, 0 },
};
static const struct ipt_opt dnat_opts[] = {
	{ "to-destination", O_TO_DEST, ARG_ONE, 0 }, { "random", O_RANDOM, ARG_NONE, 0 },
	{ "persistent", O_PERSISTENT, ARG_NONE, 0 }, { NULL, 0, ARG_NONE, 0 },
};

static bool proto_has_ports(const struct ipt_parse *p)
{
	if (!p->proto_set || p->proto_neg)
		return false;
	switch (p->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case 132:
	case 33:
		return true;
	default:
		return false;
	}
}

static int nat_ports(struct ipt_parse *p, const struct word *w, const char *s, struct ir_nat *nat)
{
	struct ir_range r;

	if (!proto_has_ports(p))
		return perr(p, &w->loc, "add -p tcp or -p udp",
			    "a port in a NAT target needs -p tcp, udp, sctp or dccp");
	if (parse_portrange(p, w, s, strlen(s), &r, '-'))
		return -1;
	nat->has_port = true;
	nat->port_lo = (uint16_t)r.lo;
	nat->port_hi = (uint16_t)r.hi;
	return 0;
}

/* [addr[-addr]][:port[-port]]; IPv6 addresses in brackets when a port follows */
static int nat_to(struct ipt_parse *p, const struct word *w, struct ir_nat *nat)
{
	const char *s = w->text, *ports = NULL;
	size_t alen;

	if (nat->has_addr || nat->has_port)
		return perr(p, &w->loc, NULL, "only one --to-source/--to-destination is allowed in one rule");
	if (w->kind == WORD_IFADDR) {
		/* the address of an interface, maybe followed by :ports */
		memset(&nat->addr, 0, sizeof(nat->addr));
		nat->addr.kind = IR_ADDR_IFADDR;
		nat->addr.af = p->fam == IR_FAM_IPV4 ? 4 : 6;
		nat->addr.plen = p->fam == IR_FAM_IPV4 ? 32 : 128;
		nat->addr.loc = w->loc;
		nat->addr.ifname = xstrdup(w->sym ? w->sym : "");
		nat->addr.var = w->var ? xstrdup(w->var) : NULL;
		nat->has_addr = true;
		if (!*s)
			return 0;
		if (*s != ':')
			return perr(p, &w->loc, NULL, "not supported: '%s' after the address of interface %s",
				    s, w->sym ? w->sym : "?");
		return nat_ports(p, w, s + 1, nat);
	}
	if (want_literal(p, w))
		return -1;
	if (p->fam == IR_FAM_IPV6 && *s == '[') {
		const char *rb = strchr(s, ']');

		if (!rb)
			return perr(p, &w->loc, NULL, "missing ']' in '%s'", s);
		if (rb[1] == ':')
			ports = rb + 2;
		else if (rb[1])
			return perr(p, &w->loc, NULL, "bad NAT address '%s'", s);
		s++;
		alen = (size_t)(rb - s);
	} else if (p->fam == IR_FAM_IPV6) {
		alen = strlen(s);
	} else {
		const char *c = strchr(s, ':');

		alen = c ? (size_t)(c - s) : strlen(s);
		if (c)
			ports = c + 1;
	}
	if (alen) {
		if (parse_addr_range(p, w, s, alen, &nat->addr))
			return -1;
		nat->has_addr = true;
	}
	if (ports)
		return nat_ports(p, w, ports, nat);
	if (!alen)
		return perr(p, &w->loc, NULL, "empty NAT address");
	return 0;
}

static int nat_parse(struct ipt_parse *p, struct ipt_inst *in, int id, bool inv,
		     const struct word *opt, const struct word *arg, const struct word *arg2)
{
	struct ir_nat *nat = &p->rule->verdict.u.nat;

	p->rule->verdict.loc = loc_span(p->rule->verdict.loc, span(opt, arg));
	switch (id) {
	case O_TO_PORTS:
		if (want_literal(p, arg))
			return -1;
		return nat_ports(p, arg, arg->text, nat);
	case O_TO_SOURCE:
	case O_TO_DEST:
		return nat_to(p, arg, nat);
	case O_RANDOM:
		nat->flags |= IR_NAT_RANDOM;
		return 0;
	case O_RANDOM_FULLY:
		nat->flags |= IR_NAT_FULLY_RANDOM;
		return 0;
	case O_PERSISTENT:
		nat->flags |= IR_NAT_PERSISTENT;
		return 0;
	}
	return 0;
}

/* TCPMSS */
enum { O_SET_MSS = 1, O_CLAMP };
static const struct ipt_opt tcpmss_opts[] = {
	{ "set-mss", O_SET_MSS, ARG_ONE, 0 }, { "clamp-mss-to-pmtu", O_CLAMP, ARG_NONE, 0 },
	{ NULL, 0, ARG_NONE, 0 },
};

static int tcpmss_parse(struct ipt_parse *p, struct ipt_inst *in, int id, bool inv,
			const struct word *opt, const struct word *arg, const struct word *arg2)
{
	struct ir_stmt *s;
	uint32_t v = 0;

	if (in->s)
		return perr(p, &opt->loc, NULL, "TCPMSS takes only one of --set-mss and --clamp-mss-to-pmtu");
	if (id == O_SET_MSS && (!parse_uint(arg->text, 10, 65535 - 40, &v) || v == 0))
		return perr(p, &arg->loc, NULL, "bad --set-mss '%s'", arg->text);
	s = target_stmt(p, in, IR_S_TCPMSS);
	s->loc = loc_span(s->loc, span(opt, arg));
	s->u.num = v;
	return 0;
}

static bool rule_has_syn_check(const struct ir_rule *r)
{
	for (const struct ir_match *m = r->matches; m; m = m->next)
		if (m->kind == IR_M_TCPFLAGS && !m->neg && (m->u.tcpflags.mask & IR_TCP_SYN) &&
		    (m->u.tcpflags.cmp & IR_TCP_SYN))
			return true;
	return false;
}

static int tcpmss_final(struct ipt_parse *p, struct ipt_inst *in)
{
	if (!in->s)
		return perr(p, &in->loc, NULL, "TCPMSS needs --set-mss or --clamp-mss-to-pmtu");
	if (!p->proto_set || p->proto_neg || p->proto != IPPROTO_TCP)
		return perr(p, &in->loc, "add -p tcp --tcp-flags SYN,RST SYN", "TCPMSS needs -p tcp");
	if (!rule_has_syn_check(p->rule))
		return perr(p, &in->loc, "add --tcp-flags SYN,RST SYN",
			    "TCPMSS only works on SYN packets (the kernel refuses the rule otherwise)");
	return 0;
}

/* MARK and CONNMARK */
enum { O_SET_MARK = 1, O_SET_XMARK, O_AND_MARK, O_OR_MARK, O_XOR_MARK,
       O_SAVE_MARK, O_RESTORE_MARK, O_NFMASK, O_CTMASK, O_MASK };
static const struct ipt_opt markt_opts[] = {
	{ "set-mark", O_SET_MARK, ARG_ONE, 0 }, { "set-xmark", O_SET_XMARK, ARG_ONE, 0 },
	{ "and-mark", O_AND_MARK, ARG_ONE, 0 }, { "or-mark", O_OR_MARK, ARG_ONE, 0 },
	{ "xor-mark", O_XOR_MARK, ARG_ONE, 0 }, { NULL, 0, ARG_NONE, 0 },
};
static const struct ipt_opt connmarkt_opts[] = {
	{ "set-mark", O_SET_MARK, ARG_ONE, 0 }, { "set-xmark", O_SET_XMARK, ARG_ONE, 0 },
	{ "and-mark", O_AND_MARK, ARG_ONE, 0 }, { "or-mark", O_OR_MARK, ARG_ONE, 0 },
	{ "xor-mark", O_XOR_MARK, ARG_ONE, 0 }, { "save-mark", O_SAVE_MARK, ARG_NONE, 0 },
	{ "restore-mark", O_RESTORE_MARK, ARG_NONE, 0 }, { "nfmask", O_NFMASK, ARG_ONE, 0 },
	{ "ctmask", O_CTMASK, ARG_ONE, 0 }, { "mask", O_MASK, ARG_ONE, 0 },
	{ NULL, 0, ARG_NONE, 0 },
};

static int mark_op(struct ipt_parse *p, struct ir_stmt *s, int id, const struct word *arg, uint32_t max)
{
	uint32_t v, msk;

	switch (id) {
	case O_SET_MARK:
		if (parse_valmask(p, arg, max, &v, &msk))
			return -1;
		/* --set-mark v/m clears m and ORs v: as xmark the mask is m|v */
		s->u.setmark.op = IR_MARK_SET;
		s->u.setmark.value = v;
		s->u.setmark.mask = msk | v;
		return 0;
	case O_SET_XMARK:
		if (parse_valmask(p, arg, max, &v, &msk))
			return -1;
		s->u.setmark.op = IR_MARK_SET;
		s->u.setmark.value = v;
		s->u.setmark.mask = msk;
		return 0;
	case O_AND_MARK:
	case O_OR_MARK:
	case O_XOR_MARK:
		if (!parse_uint(arg->text, 0, max, &v))
			return perr(p, &arg->loc, NULL, "bad value '%s'", arg->text);
		s->u.setmark.op = id == O_AND_MARK ? IR_MARK_AND : id == O_OR_MARK ? IR_MARK_OR : IR_MARK_XOR;
		s->u.setmark.value = v;
		s->u.setmark.mask = max;
		return 0;
	}
	return 0;
}

static int markt_parse(struct ipt_parse *p, struct ipt_inst *in, int id, bool inv,
		       const struct word *opt, const struct word *arg, const struct word *arg2)
{
	bool conn = strcmp(in->ext->name, "CONNMARK") == 0;
	bool had = in->s != NULL;
	struct ir_stmt *s = target_stmt(p, in, conn ? IR_S_CONNMARK : IR_S_MARK);
	uint32_t v;

	s->loc = loc_span(s->loc, span(opt, arg));
	if (!had) {
		s->u.setmark.nfmask = UINT32_MAX;
		s->u.setmark.ctmask = UINT32_MAX;
	}
	switch (id) {
	case O_NFMASK:
	case O_CTMASK:
	case O_MASK:
		if (!parse_uint(arg->text, 0, UINT32_MAX, &v))
			return perr(p, &arg->loc, NULL, "bad mask '%s'", arg->text);
		if (id != O_CTMASK)
			s->u.setmark.nfmask = v;
		if (id != O_NFMASK)
			s->u.setmark.ctmask = v;
		return 0;
	default:
		break;
	}
	if (in->inv_any)
		return perr(p, &opt->loc, NULL, "%s takes only one action", in->ext->name);
	in->inv_any = true;	/* reused: "an action was given" */
	if (id == O_SAVE_MARK || id == O_RESTORE_MARK) {
		s->u.setmark.op = id == O_SAVE_MARK ? IR_MARK_SAVE : IR_MARK_RESTORE;
		return 0;
	}
	return mark_op(p, s, id, arg, UINT32_MAX);
}

static int markt_final(struct ipt_parse *p, struct ipt_inst *in)
{
	if (!in->inv_any)
		return perr(p, &in->loc, NULL, "%s needs an action such as --set-mark", in->ext->name);
	if ((has_seen(in, O_NFMASK) || has_seen(in, O_CTMASK) || has_seen(in, O_MASK)) &&
	    in->s->u.setmark.op != IR_MARK_SAVE && in->s->u.setmark.op != IR_MARK_RESTORE)
		return perr(p, &in->loc, NULL, "--nfmask/--ctmask/--mask go with --save-mark or --restore-mark");
	return 0;
}

/* TOS target */
enum { O_SET_TOS = 1, O_AND_TOS, O_OR_TOS, O_XOR_TOS };
static const struct ipt_opt tost_opts[] = {
	{ "set-tos", O_SET_TOS, ARG_ONE, 0 }, { "and-tos", O_AND_TOS, ARG_ONE, 0 },
	{ "or-tos", O_OR_TOS, ARG_ONE, 0 }, { "xor-tos", O_XOR_TOS, ARG_ONE, 0 },
	{ NULL, 0, ARG_NONE, 0 },
};

static int tost_parse(struct ipt_parse *p, struct ipt_inst *in, int id, bool inv,
		      const struct word *opt, const struct word *arg, const struct word *arg2)
{
	struct ir_stmt *s;
	uint32_t v, msk;

	if (in->s)
		return perr(p, &opt->loc, NULL, "TOS takes only one action");
	s = target_stmt(p, in, IR_S_TOS);
	s->loc = loc_span(s->loc, span(opt, arg));
	s->u.setmark.op = IR_MARK_SET;
	if (id == O_SET_TOS) {
		if (parse_tos_value(p, arg, &v, &msk))
			return -1;
		s->u.setmark.value = v;
		s->u.setmark.mask = msk;
		return 0;
	}
	if (!parse_uint(arg->text, 0, 255, &v))
		return perr(p, &arg->loc, NULL, "bad TOS bits '%s'", arg->text);
	switch (id) {	/* all three are xor-with-mask forms, as libxt_TOS prints them */
	case O_AND_TOS:
		s->u.setmark.value = 0;
		s->u.setmark.mask = ~v & 0xff;
		break;
	case O_OR_TOS:
		s->u.setmark.value = v;
		s->u.setmark.mask = v;
		break;
	case O_XOR_TOS:
		s->u.setmark.value = v;
		s->u.setmark.mask = 0;
		break;
	}
	return 0;
}

/* DSCP target */
enum { O_SET_DSCP = 1, O_SET_DSCP_CLASS };
static const struct ipt_opt dscpt_opts[] = {
	{ "set-dscp", O_SET_DSCP, ARG_ONE, 0 }, { "set-dscp-class", O_SET_DSCP_CLASS, ARG_ONE, 0 },
	{ NULL, 0, ARG_NONE, 0 },
};

static int dscpt_parse(struct ipt_parse *p, struct ipt_inst *in, int id, bool inv,
		       const struct word *opt, const struct word *arg, const struct word *arg2)
{
	uint32_t v;

	if (in->s)
		return perr(p, &opt->loc, NULL, "DSCP takes only one of --set-dscp and --set-dscp-class");
	if (parse_dscp(p, arg, id == O_SET_DSCP_CLASS, &v))
		return -1;
	target_stmt(p, in, IR_S_DSCP)->u.num = v;
	in->s->loc = loc_span(in->s->loc, span(opt, arg));
	return 0;
}

/* TTL / HL target */
enum { O_TTL_SET = 1, O_TTL_INC, O_TTL_DEC };
static const struct ipt_opt ttlt_opts[] = {
	{ "ttl-set", O_TTL_SET, ARG_ONE, 0 }, { "ttl-inc", O_TTL_INC, ARG_ONE, 0 },
	{ "ttl-dec", O_TTL_DEC, ARG_ONE, 0 }, { NULL, 0, ARG_NONE, 0 },
};
static const struct ipt_opt hlt_opts[] = {
	{ "hl-set", O_TTL_SET, ARG_ONE, 0 }, { "hl-inc", O_TTL_INC, ARG_ONE, 0 },
	{ "hl-dec", O_TTL_DEC, ARG_ONE, 0 }, { NULL, 0, ARG_NONE, 0 },
};

static int ttlt_parse(struct ipt_parse *p, struct ipt_inst *in, int id, bool inv,
		      const struct word *opt, const struct word *arg, const struct word *arg2)
{
	uint32_t v;
	struct ir_stmt *s;

	if (in->s)
		return perr(p, &opt->loc, NULL, "%s takes only one action", in->ext->name);
	if (!parse_uint(arg->text, 10, 255, &v) || (id != O_TTL_SET && v == 0))
		return perr(p, &arg->loc, NULL, "bad value '%s'", arg->text);
	s = target_stmt(p, in, IR_S_TTL);
	s->loc = loc_span(s->loc, span(opt, arg));
	s->u.ttl.op = id == O_TTL_SET ? IR_TTL_SET : id == O_TTL_INC ? IR_TTL_INC : IR_TTL_DEC;
	s->u.ttl.value = (uint8_t)v;
	return 0;
}

static int need_stmt(struct ipt_parse *p, struct ipt_inst *in)
{
	if (!in->s)
		return perr(p, &in->loc, NULL, "%s needs one of its options", in->ext->name);
	return 0;
}

/* CT */
enum { O_CT_HELPER = 1, O_CT_NOTRACK, O_CT_OTHER };
static const struct ipt_opt ct_opts[] = {
	{ "helper", O_CT_HELPER, ARG_ONE, 0 }, { "notrack", O_CT_NOTRACK, ARG_NONE, 0 },
	{ "ctevents", O_CT_OTHER, ARG_ONE, 0 }, { "expevents", O_CT_OTHER, ARG_ONE, 0 },
	{ "zone", O_CT_OTHER, ARG_ONE, 0 }, { "zone-orig", O_CT_OTHER, ARG_ONE, 0 },
	{ "zone-reply", O_CT_OTHER, ARG_ONE, 0 }, { "timeout", O_CT_OTHER, ARG_ONE, 0 },
	{ NULL, 0, ARG_NONE, 0 },
};

static int ct_parse(struct ipt_parse *p, struct ipt_inst *in, int id, bool inv,
		    const struct word *opt, const struct word *arg, const struct word *arg2)
{
	if (id == O_CT_OTHER)
		return perr(p, &opt->loc, "masqc supports CT --helper and CT --notrack; see docs/iptables.md",
			    "not supported: -j CT %s", opt->text);
	if (in->s)
		return perr(p, &opt->loc, NULL, "CT: use only one of --helper and --notrack");
	if (id == O_CT_NOTRACK) {
		target_stmt(p, in, IR_S_NOTRACK);
	} else {
		target_stmt(p, in, IR_S_CT_HELPER)->u.str = xstrdup(arg->text);
	}
	in->s->loc = loc_span(in->s->loc, span(opt, arg));
	return 0;
}

static int notrack_final(struct ipt_parse *p, struct ipt_inst *in)
{
	target_stmt(p, in, IR_S_NOTRACK);
	return 0;
}

static int nat_final(struct ipt_parse *p, struct ipt_inst *in);

static const struct ipt_opt no_opts[] = { { NULL, 0, ARG_NONE, 0 } };

static const struct ipt_ext targets[] = {
	{ "REJECT", reject_opts, reject_parse, reject_final, FAMB },
	{ "LOG", log_opts, log_parse, log_final, FAMB },
	{ "NFLOG", nflog_opts, nflog_parse, nflog_final, FAMB },
	{ "ULOG", ulog_opts, nflog_parse, nflog_final, FAM4 },
	{ "MASQUERADE", masq_opts, nat_parse, nat_final, FAMB },
	{ "SNAT", snat_opts, nat_parse, nat_final, FAMB },
	{ "DNAT", dnat_opts, nat_parse, nat_final, FAMB },
	{ "REDIRECT", masq_opts, nat_parse, nat_final, FAMB },
	{ "TCPMSS", tcpmss_opts, tcpmss_parse, tcpmss_final, FAMB },
	{ "MARK", markt_opts, markt_parse, markt_final, FAMB },
	{ "CONNMARK", connmarkt_opts, markt_parse, markt_final, FAMB },
	{ "TOS", tost_opts, tost_parse, need_stmt, FAM4 },
	{ "DSCP", dscpt_opts, dscpt_parse, need_stmt, FAMB },
	{ "TTL", ttlt_opts, ttlt_parse, need_stmt, FAM4 },
	{ "HL", hlt_opts, ttlt_parse, need_stmt, FAM6 },
	{ "NOTRACK", no_opts, NULL, notrack_final, FAMB },
	{ "CT", ct_opts, ct_parse, need_stmt, FAMB },
	{ "ACCEPT", no_opts, NULL, NULL, FAMB },
	{ "DROP", no_opts, NULL, NULL, FAMB },
	{ "RETURN", no_opts, NULL, NULL, FAMB },
};

/* the pseudo-module of a jump to a user chain */
static const struct ipt_ext chain_ext = { "", no_opts, NULL, NULL, FAMB };

static const char *const unsupported_targets[] = {
	"QUEUE", "NFQUEUE", "TPROXY", "CLASSIFY", "SET", "CHECKSUM", "CLUSTERIP", "TEE",
	"IDLETIMER", "LED", "SECMARK", "CONNSECMARK", "AUDIT", "SYNPROXY", "NETMAP",
	"TRACE", "RATEEST", "NFLOGX", "ECN", "MIRROR", "SAME", "IPV4OPTSSTRIP", "TARPIT",
	"DELUDE", "CHAOS", "ROUTE", "XOR", "IMQ", "ACCOUNT", "DNPT", "SNPT", "MASQ", "REDIR",
};

/* Which table/hook a target may live in; the kernel enforces this at load
 * time with EINVAL, which masqc turns into an error at the -j word. */
static int target_place_check(struct ipt_parse *p, struct ir_chain *c)
{
	const char *t = p->target ? p->target->ext->name : NULL;
	enum ir_hook h = c->hook;
	bool user = !c->builtin;
	const char *tab = p->table;

	if (!t)
		return 0;
	if (!strcmp(t, "MASQUERADE") || !strcmp(t, "SNAT") || !strcmp(t, "DNAT") || !strcmp(t, "REDIRECT")) {
		bool ok;

		if (strcmp(tab, "nat") != 0)
			return perr(p, &p->target->loc, "NAT targets live in the nat table: add -t nat",
				    "-j %s is only valid in the nat table", t);
		if (t[0] == 'M')
			ok = user || h == IR_HOOK_POSTROUTING;
		else if (t[0] == 'S')
			ok = user || h == IR_HOOK_POSTROUTING || h == IR_HOOK_INPUT;
		else
			ok = user || h == IR_HOOK_PREROUTING || h == IR_HOOK_OUTPUT;
		if (!ok)
			return perr(p, &p->target->loc, NULL, "-j %s is not valid in chain %s (%s)", t, c->name,
				    t[0] == 'M' ? "only POSTROUTING" : t[0] == 'S' ? "only POSTROUTING and INPUT" :
				    "only PREROUTING and OUTPUT");
	} else if (!strcmp(t, "REJECT")) {
		if (!user && h != IR_HOOK_INPUT && h != IR_HOOK_FORWARD && h != IR_HOOK_OUTPUT)
			return perr(p, &p->target->loc, NULL,
				    "-j REJECT is only valid in INPUT, FORWARD and OUTPUT (and user chains)");
	} else if (!strcmp(t, "TOS") || !strcmp(t, "DSCP") || !strcmp(t, "TTL") || !strcmp(t, "HL")) {
		if (strcmp(tab, "mangle") != 0)
			return perr(p, &p->target->loc, "add -t mangle", "-j %s is only valid in the mangle table", t);
	} else if (!strcmp(t, "NOTRACK") || !strcmp(t, "CT")) {
		if (strcmp(tab, "raw") != 0)
			return perr(p, &p->target->loc, "add -t raw", "-j %s is only valid in the raw table", t);
	} else if (!strcmp(t, "TCPMSS")) {
		if (p->target->s && p->target->s->u.num == 0 && !user && h != IR_HOOK_FORWARD &&
		    h != IR_HOOK_OUTPUT && h != IR_HOOK_POSTROUTING)
			return perr(p, &p->target->loc, NULL, "--clamp-mss-to-pmtu is only valid in FORWARD, "
				    "OUTPUT and POSTROUTING");
	}
	return 0;
}

static int nat_final(struct ipt_parse *p, struct ipt_inst *in)
{
	const char *t = in->ext->name;
	struct ir_nat *nat = &p->rule->verdict.u.nat;

	if (!strcmp(t, "SNAT") && !has_seen(in, O_TO_SOURCE))
		return perr(p, &in->loc, NULL, "SNAT needs --to-source");
	if (!strcmp(t, "DNAT") && !has_seen(in, O_TO_DEST))
		return perr(p, &in->loc, NULL, "DNAT needs --to-destination");
	(void)nat;
	return 0;
}

/* ---- the global options ------------------------------------------------------------------ */

enum {
	G_APPEND = 1, G_CHECK, G_DELETE, G_INSERT, G_REPLACE, G_LIST, G_LIST_RULES, G_FLUSH,
	G_ZERO, G_NEW, G_DELCHAIN, G_POLICY, G_RENAME, G_PROTO, G_SRC, G_DST, G_IN, G_OUT,
	G_JUMP, G_GOTO, G_MATCH, G_TABLE, G_FRAG, G_VERBOSE, G_NUMERIC, G_EXACT, G_LINENUM,
	G_MODPROBE, G_COUNTERS, G_VERSION, G_HELP, G_IPV4, G_IPV6, G_WAIT, G_WAITINT,
};

static const struct ipt_opt global_opts[] = {
	{ "append", G_APPEND, ARG_ONE, 'A' }, { "check", G_CHECK, ARG_ONE, 'C' },
	{ "delete", G_DELETE, ARG_ONE, 'D' }, { "insert", G_INSERT, ARG_ONE, 'I' },
	{ "replace", G_REPLACE, ARG_ONE, 'R' }, { "list", G_LIST, ARG_OPTIONAL, 'L' },
	{ "list-rules", G_LIST_RULES, ARG_OPTIONAL, 'S' }, { "flush", G_FLUSH, ARG_OPTIONAL, 'F' },
	{ "zero", G_ZERO, ARG_OPTIONAL, 'Z' }, { "new-chain", G_NEW, ARG_ONE, 'N' },
	{ "delete-chain", G_DELCHAIN, ARG_OPTIONAL, 'X' }, { "policy", G_POLICY, ARG_ONE, 'P' },
	{ "rename-chain", G_RENAME, ARG_ONE, 'E' }, { "protocol", G_PROTO, ARG_ONE, 'p' },
	{ "source", G_SRC, ARG_ONE, 's' }, { "src", G_SRC, ARG_ONE, 0 },
	{ "destination", G_DST, ARG_ONE, 'd' }, { "dst", G_DST, ARG_ONE, 0 },
	{ "in-interface", G_IN, ARG_ONE, 'i' }, { "out-interface", G_OUT, ARG_ONE, 'o' },
	{ "jump", G_JUMP, ARG_ONE, 'j' }, { "goto", G_GOTO, ARG_ONE, 'g' },
	{ "match", G_MATCH, ARG_ONE, 'm' }, { "table", G_TABLE, ARG_ONE, 't' },
	{ "fragment", G_FRAG, ARG_NONE, 'f' }, { "fragments", G_FRAG, ARG_NONE, 0 },
	{ "verbose", G_VERBOSE, ARG_NONE, 'v' },
	{ "numeric", G_NUMERIC, ARG_NONE, 'n' }, { "exact", G_EXACT, ARG_NONE, 'x' },
	{ "line-numbers", G_LINENUM, ARG_NONE, 0 }, { "modprobe", G_MODPROBE, ARG_ONE, 0 },
	{ "set-counters", G_COUNTERS, ARG_TWO, 'c' }, { "version", G_VERSION, ARG_NONE, 'V' },
	{ "help", G_HELP, ARG_NONE, 'h' }, { "ipv4", G_IPV4, ARG_NONE, '4' },
	{ "ipv6", G_IPV6, ARG_NONE, '6' }, { "wait", G_WAIT, ARG_OPTIONAL, 'w' },
	{ "wait-interval", G_WAITINT, ARG_ONE, 'W' }, { NULL, 0, ARG_NONE, 0 },
};

/* ---- option lookup (getopt_long's rules) ---------------------------------------------------- */

struct opt_hit {
	const struct ipt_opt *opt;
	struct ipt_inst *inst;	/* NULL: global */
};

/* The options visible now: globals, then the newest module first. */
static unsigned opt_scope(struct ipt_parse *p, struct opt_hit *out, unsigned max)
{
	unsigned n = 0;

	for (const struct ipt_opt *o = global_opts; o->name && n < max; o++)
		out[n++] = (struct opt_hit){ o, NULL };
	for (unsigned i = p->ninst; i-- > 0;)
		for (const struct ipt_opt *o = p->inst[i].ext->opts; o->name && n < max; o++)
			out[n++] = (struct opt_hit){ o, &p->inst[i] };
	return n;
}

/* 0 found, 1 unknown, -1 ambiguous (error queued) */
static int opt_lookup(struct ipt_parse *p, const struct word *w, const char *name, size_t len,
		      struct opt_hit *hit)
{
	struct opt_hit scope[512];
	unsigned n, nprefix = 0, first = 0;

	/* the exact name, in opt_scope's order, without building the scope:
	 * it is what every well-written option takes */
	for (const struct ipt_opt *o = global_opts; o->name; o++)
		if (o->name[0] == name[0] && !strncmp(o->name, name, len) && !o->name[len]) {
			*hit = (struct opt_hit){ o, NULL };
			return 0;
		}
	for (unsigned i = p->ninst; i-- > 0;)
		for (const struct ipt_opt *o = p->inst[i].ext->opts; o->name; o++)
			if (o->name[0] == name[0] && !strncmp(o->name, name, len) &&
			    !o->name[len]) {
				*hit = (struct opt_hit){ o, &p->inst[i] };
				return 0;
			}
	/* an abbreviation (getopt_long's rules) */
	n = opt_scope(p, scope, ARRAY_SIZE(scope));
	for (unsigned i = 0; i < n; i++) {
		if (strncmp(scope[i].opt->name, name, len) != 0)
			continue;
		/* getopt_long: prefixes naming the same option are not ambiguous */
		if (nprefix && scope[first].inst == scope[i].inst && scope[first].opt->id == scope[i].opt->id)
			continue;
		if (!nprefix)
			first = i;
		nprefix++;
	}
	if (nprefix == 1) {
		*hit = scope[first];
		return 0;
	}
	if (nprefix > 1) {
		struct strbuf sb = { 0 };

		sb_add(&sb, "possibilities:");
		for (unsigned i = 0; i < n; i++)
			if (strncmp(scope[i].opt->name, name, len) == 0)
				sb_addf(&sb, " --%s", scope[i].opt->name);
		perr(p, &w->loc, sb_str(&sb), "option '--%.*s' is ambiguous", (int)len, name);
		sb_free(&sb);
		return -1;
	}
	return 1;
}

static int opt_unknown(struct ipt_parse *p, const struct word *w, const char *name, size_t len)
{
	struct opt_hit scope[512];
	unsigned n = opt_scope(p, scope, ARRAY_SIZE(scope));
	const char *cands[512];
	char *want = xstrndup(name, len);
	const char *sug;
	char *hint = NULL;

	for (unsigned i = 0; i < n; i++)
		cands[i] = scope[i].opt->name;
	sug = suggest(want, cands, n);
	if (sug)
		hint = xasprintf("did you mean '--%s'?", sug);
	else if (!p->proto_set && (!strcmp(want, "dport") || !strcmp(want, "sport") ||
				   !strcmp(want, "syn") || !strcmp(want, "icmp-type")))
		hint = xasprintf("--%s needs -p tcp/udp (or -p icmp) before it", want);
	perr(p, &w->loc, hint, "unknown option '--%s'", want);
	free(hint);
	free(want);
	return -1;
}

/* ---- loading modules ------------------------------------------------------------------------ */

static const struct ipt_ext *ext_find(const struct ipt_ext *tab, size_t n, const char *name, bool ci)
{
	for (size_t i = 0; i < n; i++)
		if (ci ? !strcasecmp(tab[i].name, name) : !strcmp(tab[i].name, name))
			return &tab[i];
	return NULL;
}

static struct ipt_inst *inst_add(struct ipt_parse *p, const struct ipt_ext *ext, const struct loc *loc,
				 bool target)
{
	struct ipt_inst *in;

	if (p->ninst == MAX_INST) {
		perr(p, loc, NULL, "too many -m options in one rule");
		return NULL;
	}
	in = &p->inst[p->ninst++];
	memset(in, 0, sizeof(*in));
	in->ext = ext;
	in->is_target = target;
	in->seq = ++p->next_seq;
	in->loc = *loc;
	snprintf(in->modname, sizeof(in->modname), "%s", ext->name);
	return in;
}

static int load_match(struct ipt_parse *p, const struct word *opt, const struct word *arg)
{
	char name[32];
	const struct ipt_ext *ext;
	struct loc l = span(opt, arg);

	if (want_literal(p, arg))
		return -1;
	snprintf(name, sizeof(name), "%s", arg->text);
	for (char *c = name; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (!strcmp(name, "icmpv6") || !strcmp(name, "ipv6-icmp"))
		snprintf(name, sizeof(name), "icmp6");
	ext = ext_find(matches, ARRAY_SIZE(matches), name, false);
	if (ext && !(ext->fams & (p->fam == IR_FAM_IPV4 ? FAM4 : FAM6)))
		return perr(p, &l, NULL, "-m %s is not available in %s", name,
			    p->fam == IR_FAM_IPV4 ? "iptables" : "ip6tables");
	if (!ext) {
		for (size_t i = 0; i < ARRAY_SIZE(unsupported_matches); i++)
			if (!strcmp(unsupported_matches[i], name))
				return perr(p, &l, "see docs/iptables.md for what masqc supports",
					    "not supported: -m %s (no faithful translation)", name);
		{
			const char *cands[ARRAY_SIZE(matches)];
			const char *sug;
			char *hint = NULL;

			for (size_t i = 0; i < ARRAY_SIZE(matches); i++)
				cands[i] = matches[i].name;
			sug = suggest(name, cands, ARRAY_SIZE(matches));
			if (sug)
				hint = xasprintf("did you mean '%s'?", sug);
			perr(p, &l, hint, "unknown match '-m %s'", arg->text);
			free(hint);
			return -1;
		}
	}
	return inst_add(p, ext, &l, false) ? 0 : -1;
}

/* -p tcp with a tcp option and no -m tcp: iptables loads the protocol's
 * match on its own; iptables-save then prints `-m tcp`. */
static struct ipt_inst *load_implicit(struct ipt_parse *p)
{
	const char *name;
	const struct ipt_ext *ext;

	if (!p->proto_set || !(name = proto_name(p->proto)))
		return NULL;
	if (!strcmp(name, "icmpv6") || !strcmp(name, "ipv6-icmp"))
		name = "icmp6";
	ext = ext_find(matches, ARRAY_SIZE(matches), name, false);
	if (!ext || !(ext->fams & (p->fam == IR_FAM_IPV4 ? FAM4 : FAM6)))
		return NULL;
	for (unsigned i = 0; i < p->ninst; i++)
		if (p->inst[i].ext == ext)
			return NULL;	/* already loaded: the option is really unknown */
	return inst_add(p, ext, &p->proto_loc, false);
}

static struct ir_chain *find_chain(struct ipt_parse *p, const char *name)
{
	struct ir_table *t = ir_table_get(p->pc->rs, p->fam, p->table);

	return t ? ir_chain_find(t, name) : NULL;
}

enum chain_err { CE_NO_CHAIN, CE_NO_GOTO, CE_UNKNOWN, CE_UNKNOWN_CASE };

static int chain_hint_error(struct ipt_parse *p, const struct word *w, bool with_targets,
			    enum chain_err ce, const char *name)
{
	struct ir_table *t = ir_table_get(p->pc->rs, p->fam, p->table);
	VEC(const char *) c = { 0 };
	const char *sug;
	char *hint = NULL;

	for (struct ir_chain *ch = t->chains; ch; ch = ch->next)
		vec_push(&c, ch->name);
	if (with_targets)
		for (size_t i = 0; i < ARRAY_SIZE(targets); i++)
			vec_push(&c, targets[i].name);
	sug = suggest(name, c.v, c.n);
	if (sug)
		hint = xasprintf("did you mean '%s'?", sug);
	else if (!with_targets)
		hint = xasprintf("create it first with -N %s%s%s", name,
				 strcmp(p->table, "filter") ? " -t " : "",
				 strcmp(p->table, "filter") ? p->table : "");
	switch (ce) {
	case CE_NO_CHAIN:
		diag_add(p->pc->dq, DIAG_ERROR, &w->loc, hint, "no chain '%s' in table %s", name, p->table);
		break;
	case CE_NO_GOTO:
		diag_add(p->pc->dq, DIAG_ERROR, &w->loc, hint, "-g %s: no such chain in table %s",
			 name, p->table);
		break;
	case CE_UNKNOWN:
		diag_add(p->pc->dq, DIAG_ERROR, &w->loc, hint, "unknown target or chain '%s' in table %s",
			 name, p->table);
		break;
	case CE_UNKNOWN_CASE:
		diag_add(p->pc->dq, DIAG_ERROR, &w->loc, hint, "unknown target or chain '%s' in table %s "
			 "(target names are case-sensitive)", name, p->table);
		break;
	}
	free(hint);
	vec_free(&c);
	p->err = -1;
	return -1;
}

static int load_target(struct ipt_parse *p, const struct word *opt, const struct word *arg, bool go)
{
	const struct ipt_ext *ext;
	struct loc l = span(opt, arg);
	const char *name = arg->text;
	struct ir_chain *c;
	struct ipt_inst *in;

	if (want_literal(p, arg))
		return -1;
	if (p->target)
		return perr(p, &opt->loc, NULL, "only one -j or -g is allowed in one rule");
	if (!*name)
		return perr(p, &l, NULL, "empty target name");
	ext = go ? NULL : ext_find(targets, ARRAY_SIZE(targets), name, false);
	if (ext && !(ext->fams & (p->fam == IR_FAM_IPV4 ? FAM4 : FAM6)))
		return perr(p, &l, p->fam == IR_FAM_IPV6 && !strcmp(name, "TTL") ? "ip6tables calls it -j HL" : NULL,
			    "-j %s is not available in %s", name,
			    p->fam == IR_FAM_IPV4 ? "iptables" : "ip6tables");
	if (ext) {
		in = inst_add(p, ext, &l, true);
		if (!in)
			return -1;
		p->target = in;
		p->rule->verdict.loc = l;
		if (!strcmp(name, "ACCEPT"))
			return verdict_set(p, IR_V_ACCEPT);
		if (!strcmp(name, "DROP"))
			return verdict_set(p, IR_V_DROP);
		if (!strcmp(name, "RETURN"))
			return verdict_set(p, IR_V_RETURN);
		if (!strcmp(name, "REJECT")) {
			verdict_set(p, IR_V_REJECT);
			p->rule->verdict.u.reject = IR_REJ_DEFAULT;
			return 0;
		}
		if (!strcmp(name, "MASQUERADE"))
			return verdict_set(p, IR_V_MASQUERADE);
		if (!strcmp(name, "SNAT"))
			return verdict_set(p, IR_V_SNAT);
		if (!strcmp(name, "DNAT"))
			return verdict_set(p, IR_V_DNAT);
		if (!strcmp(name, "REDIRECT"))
			return verdict_set(p, IR_V_REDIRECT);
		return 0;	/* statement targets: verdict stays NONE */
	}
	c = find_chain(p, name);
	if (c) {
		if (c->builtin)
			return perr(p, &l, NULL, "cannot jump to the builtin chain %s", name);
		in = inst_add(p, &chain_ext, &l, true);
		if (!in)
			return -1;
		p->target = in;
		p->rule->verdict.kind = go ? IR_V_GOTO : IR_V_JUMP;
		p->rule->verdict.loc = l;
		p->rule->verdict.u.chain.name = xstrdup(name);
		p->rule->verdict.u.chain.target = c;
		return 0;
	}
	if (p->cmd_kind == CMD_DELETE && !ext_find(targets, ARRAY_SIZE(targets), name, true)) {
		diag_warning(p->pc->dq, &arg->loc, "iptables would fail here: no chain '%s' in table %s, "
			     "so no rule jumps to it (nothing to remove; ignored)", name, p->table);
		p->cleanup_missing = true;
		return 0;
	}
	if (go)
		return chain_hint_error(p, arg, false, CE_NO_GOTO, name);
	for (size_t i = 0; i < ARRAY_SIZE(unsupported_targets); i++)
		if (!strcmp(unsupported_targets[i], name))
			return perr(p, &l, "see docs/iptables.md for what masqc supports",
				    "not supported: -j %s (no faithful translation)", name);
	if (ext_find(targets, ARRAY_SIZE(targets), name, true) || !strcasecmp(name, "accept"))
		return chain_hint_error(p, arg, true, CE_UNKNOWN_CASE, name);
	return chain_hint_error(p, arg, true, CE_UNKNOWN, name);
}

/* ---- the command line --------------------------------------------------------------------------- */

static const struct word *next_arg(struct ipt_parse *p)
{
	if (p->argi >= p->cmd->argc)
		return NULL;
	return &p->cmd->argv[p->argi++];
}

/* An optional argument: the next word if it does not look like an option. */
static const struct word *next_optional(struct ipt_parse *p)
{
	const struct word *w;

	if (p->argi >= p->cmd->argc)
		return NULL;
	w = &p->cmd->argv[p->argi];
	if (w->kind == WORD_LITERAL && (w->text[0] == '-' || !strcmp(w->text, "!")))
		return NULL;
	p->argi++;
	return w;
}

static int set_command(struct ipt_parse *p, enum ipt_cmd k, const struct word *opt)
{
	if (p->cmd_kind != CMD_NONE &&
	    !((p->cmd_kind == CMD_LIST && k == CMD_ZERO) || (p->cmd_kind == CMD_ZERO && k == CMD_LIST)))
		return perr(p, &opt->loc, NULL, "only one command (-A, -I, -D, -N, ...) at a time");
	if (p->cmd_kind == CMD_NONE || k == CMD_LIST)
		p->cmd_kind = k;
	p->cmd_loc = opt->loc;
	return 0;
}

static int parse_proto(struct ipt_parse *p, const struct word *opt, const struct word *arg, bool inv)
{
	char name[32];
	uint32_t v;
	unsigned i;

	if (p->proto_set)
		return perr(p, &opt->loc, NULL, "multiple -p flags not allowed");
	if (want_literal(p, arg))
		return -1;
	snprintf(name, sizeof(name), "%s", arg->text);
	for (char *c = name; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (parse_uint(name, 10, 255, &v)) {
		p->proto = (uint8_t)v;
	} else {
		for (i = 0; i < ARRAY_SIZE(protocols); i++)
			if (!strcmp(protocols[i].name, name))
				break;
		if (i == ARRAY_SIZE(protocols)) {
			const char *cands[ARRAY_SIZE(protocols)];
			const char *sug;
			char *hint = NULL;

			for (i = 0; i < ARRAY_SIZE(protocols); i++)
				cands[i] = protocols[i].name;
			sug = suggest(name, cands, ARRAY_SIZE(protocols));
			if (sug)
				hint = xasprintf("did you mean '%s'?", sug);
			perr(p, &arg->loc, hint, "unknown protocol '%s'", arg->text);
			free(hint);
			return -1;
		}
		p->proto = (uint8_t)protocols[i].num;
	}
	if (p->fam == IR_FAM_IPV4 && p->proto == 58)
		return perr(p, &arg->loc, "use -p icmp", "-p %s is for ip6tables", arg->text);
	if (p->fam == IR_FAM_IPV6 && p->proto == 1)
		return perr(p, &arg->loc, "use -p icmpv6", "-p icmp is for iptables; ip6tables says -p icmpv6");
	p->proto_set = true;
	p->proto_neg = inv;
	p->proto_loc = span(opt, arg);
	if (p->proto == 0) {
		if (inv)
			return perr(p, &p->proto_loc, NULL, "! -p all would match nothing");
		return 0;
	}
	{
		struct ir_match *m = match_add(p, NULL, IR_M_PROTO, inv, opt, arg);

		m->u.proto = p->proto;
		m->l4proto = p->proto;
	}
	return 0;
}

static int parse_iface(struct ipt_parse *p, const struct word *opt, const struct word *arg, bool inv,
		       enum ir_match_kind k)
{
	struct ir_match *m;

	if (want_literal(p, arg))
		return -1;
	if (!arg->text[0] || strlen(arg->text) > 15)
		return perr(p, &arg->loc, NULL, "interface name '%s' must be 1 to 15 characters", arg->text);
	for (const char *c = arg->text; *c; c++)
		if (*c == '/' || isspace((unsigned char)*c) || (*c == '+' && c[1]))
			return perr(p, &arg->loc, NULL, "invalid interface name '%s'", arg->text);
	m = match_add(p, NULL, k, inv, opt, arg);
	m->u.ifaces.v = xmalloc(sizeof(char *));
	m->u.ifaces.v[0] = xstrdup(arg->text);
	m->u.ifaces.n = 1;
	return 0;
}

static int rule_opt(struct ipt_parse *p, const struct word *opt)
{
	if (!p->first_rule_opt)
		p->first_rule_opt = opt;
	p->has_rule_opts = true;
	return 0;
}

/* A global option that takes part in a rule or selects the command. */
static int do_global(struct ipt_parse *p, int id, bool inv, const struct word *opt,
		     const struct word *arg, const struct word *arg2)
{
	struct ir_match *m;
	const struct word *w;

	switch (id) {
	case G_APPEND: case G_CHECK: case G_DELETE: case G_INSERT: case G_REPLACE:
	case G_NEW: case G_POLICY: case G_RENAME:
		if (inv)
			return perr(p, &opt->loc, NULL, "'!' cannot go before a command");
		if (want_literal(p, arg))
			return -1;
		if (set_command(p, id == G_APPEND ? CMD_APPEND : id == G_CHECK ? CMD_CHECK :
				id == G_DELETE ? CMD_DELETE : id == G_INSERT ? CMD_INSERT :
				id == G_REPLACE ? CMD_REPLACE : id == G_NEW ? CMD_NEW :
				id == G_POLICY ? CMD_POLICY : CMD_RENAME, opt))
			return -1;
		p->chain_w = arg;
		if (id == G_POLICY || id == G_RENAME) {
			p->chain2_w = next_optional(p);
			if (!p->chain2_w)
				return perr(p, &opt->loc, NULL, "%s needs two arguments", opt->text);
			if (want_literal(p, p->chain2_w))
				return -1;
		} else if (id == G_INSERT || id == G_DELETE || id == G_REPLACE) {
			uint32_t n;

			w = p->argi < p->cmd->argc ? &p->cmd->argv[p->argi] : NULL;
			if (w && w->kind == WORD_LITERAL && parse_uint(w->text, 10, INT_MAX, &n)) {
				p->argi++;
				if (n == 0)
					return perr(p, &w->loc, NULL, "rule numbers start at 1");
				p->rulenum = n;
				p->rulenum_w = w;
			} else if (w && w->kind == WORD_UNKNOWN && id != G_DELETE) {
				return word_unknown(p, w);
			} else if (id == G_REPLACE) {
				return perr(p, &opt->loc, NULL, "-R needs a rule number");
			}
		}
		return 0;
	case G_LIST: case G_LIST_RULES: case G_FLUSH: case G_ZERO: case G_DELCHAIN:
		if (inv)
			return perr(p, &opt->loc, NULL, "'!' cannot go before a command");
		if (set_command(p, id == G_LIST || id == G_LIST_RULES ? CMD_LIST : id == G_FLUSH ? CMD_FLUSH :
				id == G_ZERO ? CMD_ZERO : CMD_DELETE_CHAIN, opt))
			return -1;
		if (arg) {
			if (want_literal(p, arg))
				return -1;
			p->chain_w = arg;
			if (id != G_FLUSH && id != G_DELCHAIN)
				next_optional(p);	/* -L chain [n], -Z chain [n] */
		}
		return 0;
	case G_PROTO:
		rule_opt(p, opt);
		return parse_proto(p, opt, arg, inv);
	case G_SRC:
	case G_DST:
		rule_opt(p, opt);
		if (id == G_SRC ? p->seen_s : p->seen_d)
			return perr(p, &opt->loc, NULL, "multiple %s flags not allowed", id == G_SRC ? "-s" : "-d");
		*(id == G_SRC ? &p->seen_s : &p->seen_d) = true;
		m = match_add(p, NULL, id == G_SRC ? IR_M_SADDR : IR_M_DADDR, inv, opt, arg);
		if (parse_addr_list(p, arg, m))
			return -1;
		return addr_match_normalize(p, m, opt, arg);
	case G_IN:
	case G_OUT:
		rule_opt(p, opt);
		if (id == G_IN ? p->seen_i : p->seen_o)
			return perr(p, &opt->loc, NULL, "multiple %s flags not allowed", id == G_IN ? "-i" : "-o");
		*(id == G_IN ? &p->seen_i : &p->seen_o) = true;
		return parse_iface(p, opt, arg, inv, id == G_IN ? IR_M_IIF : IR_M_OIF);
	case G_FRAG:
		rule_opt(p, opt);
		if (p->fam == IR_FAM_IPV6)
			return perr(p, &opt->loc, "use -m frag (not supported by masqc)", "ip6tables has no -f");
		if (p->seen_f)
			return perr(p, &opt->loc, NULL, "multiple -f flags not allowed");
		p->seen_f = true;
		match_add(p, NULL, IR_M_FRAG, inv, opt, NULL);
		return 0;
	case G_JUMP:
	case G_GOTO:
		rule_opt(p, opt);
		if (inv)
			return perr(p, &opt->loc, NULL, "a target cannot be inverted");
		return load_target(p, opt, arg, id == G_GOTO);
	case G_MATCH:
		rule_opt(p, opt);
		if (inv)
			return perr(p, &opt->loc, NULL, "'!' goes before a match's options, not before -m");
		return load_match(p, opt, arg);
	case G_TABLE:
		if (inv)
			return perr(p, &opt->loc, NULL, "'!' cannot go before -t");
		if (want_literal(p, arg))
			return -1;
		if (strcmp(arg->text, "filter") && strcmp(arg->text, "nat") && strcmp(arg->text, "mangle") &&
		    strcmp(arg->text, "raw")) {
			static const char *const tabs[] = { "filter", "nat", "mangle", "raw" };
			const char *sug = suggest(arg->text, tabs, 4);
			char *hint = sug ? xasprintf("did you mean '%s'?", sug) : NULL;

			if (!strcmp(arg->text, "security"))
				perr(p, &arg->loc, NULL, "not supported: -t security");
			else
				perr(p, &arg->loc, hint, "unknown table '%s' (filter, nat, mangle, raw)", arg->text);
			free(hint);
			return -1;
		}
		p->table = arg->text;
		p->table_loc = span(opt, arg);
		return 0;
	case G_COUNTERS:
		rule_opt(p, opt);
		diag_note(p->pc->dq, &opt->loc, "-c sets packet/byte counters; counters start at zero "
			  "in the new ruleset");
		return 0;
	case G_IPV4:
		if (p->fam == IR_FAM_IPV6)
			p->skip = true;
		return 0;
	case G_IPV6:
		if (p->fam == IR_FAM_IPV4)
			p->skip = true;
		return 0;
	case G_HELP:
	case G_VERSION:
		p->cmd_kind = CMD_HELP;
		return 0;
	case G_WAIT:
	case G_WAITINT:
	case G_VERBOSE:
	case G_NUMERIC:
	case G_EXACT:
	case G_LINENUM:
	case G_MODPROBE:
		return 0;
	}
	return 0;
}

/* Takes the arguments opt wants; `-s ! x` (old inner `!`) sets *inv. */
static int take_args(struct ipt_parse *p, const struct word *optw, const struct ipt_opt *o,
		     const char *inline_arg, struct word *tmp, bool *inv,
		     const struct word **a1, const struct word **a2)
{
	*a1 = *a2 = NULL;
	if (o->arg == ARG_NONE) {
		if (inline_arg)
			return perr(p, &optw->loc, NULL, "option --%s takes no argument", o->name);
		return 0;
	}
	if (o->arg == ARG_OPTIONAL) {
		if (inline_arg) {
			*tmp = *optw;
			tmp->text = (char *)inline_arg;
			*a1 = tmp;
		} else {
			*a1 = next_optional(p);
		}
		return 0;
	}
	if (inline_arg) {
		*tmp = *optw;
		tmp->text = (char *)inline_arg;
		*a1 = tmp;
	} else {
		*a1 = next_arg(p);
		if (*a1 && (*a1)->kind == WORD_LITERAL && !strcmp((*a1)->text, "!") && p->argi < p->cmd->argc &&
		    o->shortopt != 'j' && o->shortopt != 'g' && o->shortopt != 'm' && o->shortopt != 't' &&
		    (o->id != G_APPEND || o->shortopt == 0)) {
			if (*inv)
				return perr(p, &(*a1)->loc, NULL, "multiple '!' flags not allowed");
			*inv = true;
			diag_note(p->pc->dq, &(*a1)->loc, "'%s ! value' is the iptables 1.2/1.3 form "
				  "(iptables 1.8 rejects it); read as '! %s value'", optw->text, optw->text);
			*a1 = next_arg(p);
		}
	}
	if (!*a1)
		return perr(p, &optw->loc, NULL, "option '%s' needs an argument", optw->text);
	if (o->arg == ARG_TWO) {
		*a2 = next_arg(p);
		if (!*a2)
			return perr(p, &optw->loc, NULL, "option '%s' needs two arguments", optw->text);
	}
	return 0;
}

static int ext_option(struct ipt_parse *p, struct ipt_inst *in, const struct ipt_opt *o, bool inv,
		      const struct word *optw, const struct word *a1, const struct word *a2)
{
	/* NAT targets take the address of an interface; they check words themselves */
	if (a1 && in->ext->parse != nat_parse && want_literal(p, a1))
		return -1;
	if (a2 && want_literal(p, a2))
		return -1;
	if (has_seen(in, o->id) && strcmp(in->ext->name, "LOG") && strcmp(in->ext->name, "CONNMARK"))
		return perr(p, &optw->loc, NULL, "option '%s' given twice", optw->text);
	if (!in->ext->parse)
		return 0;
	{
		int r = in->ext->parse(p, in, o->id, inv, optw, a1, a2);

		in->seen |= 1ull << o->id;
		return r;
	}
}

static const struct ipt_opt *short_opt(char c)
{
	for (const struct ipt_opt *o = global_opts; o->name; o++)
		if (o->shortopt == c)
			return o;
	return NULL;
}

static int parse_argv(struct ipt_parse *p)
{
	bool inv = false;
	const struct word *invw = NULL;

	p->argi = 1;
	while (p->argi < p->cmd->argc && !p->err) {
		const struct word *w = &p->cmd->argv[p->argi++];
		const char *t = w->text;
		const struct word *a1, *a2;
		struct word tmp;

		if (w->kind == WORD_UNKNOWN)
			return word_unknown(p, w);
		if (w->kind != WORD_LITERAL)
			return perr(p, &w->loc, NULL, "unexpected interface address here");
		if (!strcmp(t, "!")) {
			if (inv)
				return perr(p, &w->loc, NULL, "multiple '!' flags not allowed");
			inv = true;
			invw = w;
			continue;
		}
		if (t[0] == '-' && t[1] == '-' && t[2]) {
			const char *name = t + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			struct opt_hit hit;
			int r = opt_lookup(p, w, name, len, &hit);

			if (r == 1 && load_implicit(p))
				r = opt_lookup(p, w, name, len, &hit);
			if (r < 0)
				return -1;
			if (r == 1)
				return opt_unknown(p, w, name, len);
			if (take_args(p, w, hit.opt, eq ? eq + 1 : NULL, &tmp, &inv, &a1, &a2))
				return -1;
			if (hit.inst) {
				rule_opt(p, w);
				if (ext_option(p, hit.inst, hit.opt, inv, w, a1, a2))
					return -1;
			} else if (do_global(p, hit.opt->id, inv, w, a1, a2)) {
				return -1;
			}
		} else if (t[0] == '-' && t[1] && t[1] != '-') {
			/* a cluster of short options; one taking an argument ends it */
			for (const char *c = t + 1; *c; c++) {
				const struct ipt_opt *o = short_opt(*c);
				const char *rest = c[1] ? c + 1 : NULL;

				if (!o) {
					char *hint;

					hint = xasprintf("iptables' short options are -A -C -D -I -R -L -S -F -Z -N -X "
							 "-P -E -p -s -d -i -o -j -g -m -t -f -c -v -n -x -w -4 -6");
					perr(p, &w->loc, hint, "unknown option '-%c'", *c);
					free(hint);
					return -1;
				}
				if (o->arg == ARG_NONE || (o->arg == ARG_OPTIONAL && !rest)) {
					a1 = o->arg == ARG_OPTIONAL ? next_optional(p) : NULL;
					if (do_global(p, o->id, inv, w, a1, NULL))
						return -1;
					if (o->arg == ARG_OPTIONAL)
						break;
					continue;
				}
				if (take_args(p, w, o, rest, &tmp, &inv, &a1, &a2))
					return -1;
				if (do_global(p, o->id, inv, w, a1, a2))
					return -1;
				break;
			}
		} else {
			return perr(p, &w->loc, NULL, "unexpected argument '%s'", t);
		}
		inv = false;
		invw = NULL;
	}
	if (inv && !p->err)
		return perr(p, &invw->loc, NULL, "'!' at the end of the command inverts nothing");
	return p->err;
}

/* ---- applying the command ------------------------------------------------------------------- */

static int finish_rule(struct ipt_parse *p, struct ir_chain *c)
{
	for (unsigned i = 0; i < p->ninst && !p->err; i++)
		if (p->inst[i].ext->final && p->inst[i].ext->final(p, &p->inst[i]))
			return -1;
	if (p->err)
		return -1;
	if (c && target_place_check(p, c))
		return -1;
	/* owner only exists for locally generated packets */
	for (struct ir_match *m = p->rule->matches; m && c; m = m->next)
		if (m->kind == IR_M_OWNER && c->builtin && c->hook != IR_HOOK_OUTPUT &&
		    c->hook != IR_HOOK_POSTROUTING)
			return perr(p, &m->loc, NULL, "-m owner is only valid in OUTPUT and POSTROUTING");
	return 0;
}

static bool cmd_is_cleanup(const struct ipt_parse *p)
{
	switch (p->cmd_kind) {
	case CMD_DELETE:
	case CMD_DELETE_CHAIN:
	case CMD_FLUSH:
	case CMD_ZERO:
		return true;
	case CMD_NONE: case CMD_APPEND: case CMD_INSERT: case CMD_REPLACE: case CMD_NEW:
	case CMD_POLICY: case CMD_RENAME: case CMD_LIST: case CMD_CHECK: case CMD_HELP:
		return false;
	}
	return false;
}

/* Removing from a chain that does not exist fails in iptables and changes
 * nothing; scripts do it on purpose to clean up before (re)creating
 * (`iptables -F X 2>/dev/null`), so that is a warning, not an error. */
static struct ir_chain *need_chain(struct ipt_parse *p, const struct word *w)
{
	struct ir_chain *c = find_chain(p, w->text);

	if (!c && cmd_is_cleanup(p)) {
		diag_warning(p->pc->dq, &w->loc, "iptables would fail here: no chain '%s' in table %s "
			     "(nothing to remove; ignored)", w->text, p->table);
		p->cleanup_missing = true;
	} else if (!c) {
		chain_hint_error(p, w, false, CE_NO_CHAIN, w->text);
	}
	return c;
}

static void chain_touch(struct ir_chain *c, const struct loc *loc)
{
	if (c->builtin && !c->loc.file)
		c->loc = *loc;
}

static int cmd_rule(struct ipt_parse *p)
{
	struct ir_chain *c = need_chain(p, p->chain_w);
	struct ir_rule *old;

	if (!c)
		return p->cleanup_missing ? 0 : -1;
	if (p->cleanup_missing)
		return 0;
	if (finish_rule(p, c))
		return -1;
	switch (p->cmd_kind) {
	case CMD_APPEND:
		chain_touch(c, &p->cmd->loc);
		ir_chain_insert(c, p->rule, 0);
		p->rule = NULL;
		return 0;
	case CMD_INSERT:
		if (p->rulenum > c->nrules + 1)
			return perr(p, &p->rulenum_w->loc, NULL, "iptables would fail here: chain %s has only %u "
				    "rule%s, cannot insert at %u", c->name, c->nrules, c->nrules == 1 ? "" : "s",
				    p->rulenum);
		chain_touch(c, &p->cmd->loc);
		ir_chain_insert(c, p->rule, p->rulenum ? p->rulenum : 1);
		p->rule = NULL;
		return 0;
	case CMD_REPLACE:
		old = ir_chain_nth(c, p->rulenum);
		if (!old)
			return perr(p, &p->rulenum_w->loc, NULL, "iptables would fail here: no rule %u in chain %s",
				    p->rulenum, c->name);
		ir_rule_unlink(c, old);
		ir_rule_free(old);
		ir_chain_insert(c, p->rule, p->rulenum);
		p->rule = NULL;
		return 0;
	case CMD_DELETE:
		for (old = c->rules; old; old = old->next)
			if (ir_rule_equal(old, p->rule))
				break;
		if (!old)
			return perr(p, &p->cmd->loc, "the rule must match an earlier one option for option",
				    "iptables would fail here: no such rule in chain %s", c->name);
		ir_rule_unlink(c, old);
		ir_rule_free(old);
		return 0;
	case CMD_CHECK:
		diag_note(p->pc->dq, &p->cmd_loc, "-C only tests for a rule; nothing to translate");
		return 0;
	case CMD_NONE: case CMD_NEW: case CMD_DELETE_CHAIN: case CMD_FLUSH: case CMD_ZERO:
	case CMD_POLICY: case CMD_RENAME: case CMD_LIST: case CMD_HELP:
		break;
	}
	return 0;
}

static bool valid_chain_name(const char *s)
{
	if (!*s || strlen(s) > 28 || *s == '-' || *s == '!')
		return false;
	for (; *s; s++)
		if (isspace((unsigned char)*s))
			return false;
	return true;
}

static int cmd_new(struct ipt_parse *p)
{
	struct ir_table *t = ir_table_get(p->pc->rs, p->fam, p->table);
	const char *name = p->chain_w->text;
	struct ir_chain *c = ir_chain_find(t, name);

	if (c)
		return perr(p, &p->chain_w->loc, c->loc.file ? "it was created here" : NULL,
			    "iptables would fail here: chain %s already exists in table %s", name, p->table);
	if (!valid_chain_name(name))
		return perr(p, &p->chain_w->loc, NULL, "invalid chain name '%s' (1-28 characters, no "
			    "blanks, not starting with '-' or '!')", name);
	if (ext_find(targets, ARRAY_SIZE(targets), name, false))
		return perr(p, &p->chain_w->loc, NULL, "a chain cannot be named like the target %s", name);
	ir_chain_new_user(t, name, &p->cmd->loc);
	return 0;
}

static int chain_deletable(struct ipt_parse *p, struct ir_chain *c, const struct loc *loc)
{
	if (c->builtin)
		return perr(p, loc, NULL, "iptables would fail here: cannot delete the builtin chain %s", c->name);
	if (c->refs)
		return perr(p, loc, "remove the rules that jump to it first",
			    "iptables would fail here: chain %s is still referenced by %u rule%s",
			    c->name, c->refs, c->refs == 1 ? "" : "s");
	if (c->nrules)
		return perr(p, loc, "flush it first with -F",
			    "iptables would fail here: chain %s is not empty", c->name);
	return 0;
}

static int cmd_delete_chain(struct ipt_parse *p)
{
	struct ir_table *t = ir_table_get(p->pc->rs, p->fam, p->table);

	if (p->chain_w) {
		struct ir_chain *c = need_chain(p, p->chain_w);

		if (!c)
			return p->cleanup_missing ? 0 : -1;
		if (chain_deletable(p, c, &p->chain_w->loc))
			return -1;
		ir_chain_delete(c);
		return 0;
	}
	for (struct ir_chain *c = t->chains; c; c = c->next)
		if (!c->builtin && chain_deletable(p, c, &p->cmd->loc))
			return -1;
	for (struct ir_chain *c = t->chains, *n; c; c = n) {
		n = c->next;
		if (!c->builtin)
			ir_chain_delete(c);
	}
	return 0;
}

static int cmd_flush(struct ipt_parse *p)
{
	struct ir_table *t = ir_table_get(p->pc->rs, p->fam, p->table);

	if (p->chain_w) {
		struct ir_chain *c = need_chain(p, p->chain_w);

		if (!c)
			return p->cleanup_missing ? 0 : -1;
		ir_chain_flush(c);
		return 0;
	}
	for (struct ir_chain *c = t->chains; c; c = c->next)
		ir_chain_flush(c);
	return 0;
}

static int cmd_policy(struct ipt_parse *p)
{
	struct ir_chain *c = need_chain(p, p->chain_w);
	const char *pol = p->chain2_w->text;

	if (!c)
		return -1;
	if (!c->builtin)
		return perr(p, &p->chain_w->loc, NULL, "a policy can only be set on a builtin chain, not %s", c->name);
	if (!strcmp(pol, "ACCEPT")) {
		c->policy = IR_POLICY_ACCEPT;
	} else if (!strcmp(pol, "DROP")) {
		if (!strcmp(p->table, "nat"))
			return perr(p, &p->chain2_w->loc, "filter in the filter table instead",
				    "the nat table is not for filtering: iptables refuses a DROP policy there");
		c->policy = IR_POLICY_DROP;
	} else {
		static const char *const pols[] = { "ACCEPT", "DROP" };
		const char *sug = suggest(pol, pols, 2);
		char *hint = xasprintf("%s%s%s", sug ? "did you mean '" : "a policy is ACCEPT or DROP",
				       sug ? sug : "", sug ? "'?" : "");

		if (!strcmp(pol, "REJECT"))
			perr(p, &p->chain2_w->loc, "use -P DROP and a final -j REJECT rule",
			     "a policy can only be ACCEPT or DROP, not REJECT");
		else
			perr(p, &p->chain2_w->loc, hint, "bad policy '%s'", pol);
		free(hint);
		return -1;
	}
	c->policy_loc = p->cmd->loc;
	chain_touch(c, &p->cmd->loc);
	return 0;
}

static int cmd_rename(struct ipt_parse *p)
{
	struct ir_table *t = ir_table_get(p->pc->rs, p->fam, p->table);
	struct ir_chain *c = need_chain(p, p->chain_w);
	const char *nn = p->chain2_w->text;

	if (!c)
		return -1;
	if (c->builtin)
		return perr(p, &p->chain_w->loc, NULL, "cannot rename the builtin chain %s", c->name);
	if (ir_chain_find(t, nn))
		return perr(p, &p->chain2_w->loc, NULL, "iptables would fail here: chain %s already exists", nn);
	if (!valid_chain_name(nn) || ext_find(targets, ARRAY_SIZE(targets), nn, false))
		return perr(p, &p->chain2_w->loc, NULL, "invalid chain name '%s'", nn);
	/* jumps follow the chain, so their names change with it */
	for (struct ir_chain *ch = t->chains; ch; ch = ch->next)
		for (struct ir_rule *r = ch->rules; r; r = r->next)
			if ((r->verdict.kind == IR_V_JUMP || r->verdict.kind == IR_V_GOTO) &&
			    r->verdict.u.chain.target == c) {
				free(r->verdict.u.chain.name);
				r->verdict.u.chain.name = xstrdup(nn);
			}
	ir_chain_rename(c, nn);
	return 0;
}

static void ipt_parse_cleanup(struct ipt_parse *p)
{
	ir_rule_free(p->rule);
	p->rule = NULL;
}

int ipt_command(struct parse_ctx *pc, const struct command *cmd, enum ir_family fam)
{
	struct ipt_parse p;
	const char *prog = cmd->argc ? cmd->argv[0].text : "iptables";
	int r = 0;

	memset(&p, 0, sizeof(p));
	p.pc = pc;
	p.cmd = cmd;
	p.fam = fam;
	p.prog = strrchr(prog, '/') ? strrchr(prog, '/') + 1 : prog;
	p.table = "filter";
	p.rule = ir_rule_new(&cmd->loc);

	if (parse_argv(&p)) {
		ipt_parse_cleanup(&p);
		return -1;
	}
	if (p.skip) {
		diag_note(pc->dq, &cmd->loc, "%s skips a command marked for the other IP version",
			  p.prog);
		ipt_parse_cleanup(&p);
		return 0;
	}
	ir_table_get(pc->rs, fam, p.table);
	if (p.has_rule_opts && p.cmd_kind != CMD_APPEND && p.cmd_kind != CMD_INSERT &&
	    p.cmd_kind != CMD_REPLACE && p.cmd_kind != CMD_CHECK &&
	    !(p.cmd_kind == CMD_DELETE && !p.rulenum) && p.cmd_kind != CMD_HELP) {
		r = perr(&p, &p.first_rule_opt->loc, NULL, "%s is not valid with this command",
			 p.first_rule_opt->text);
		ipt_parse_cleanup(&p);
		return r;
	}
	switch (p.cmd_kind) {
	case CMD_NONE:
		r = perr(&p, &cmd->loc, "e.g. -A INPUT ... to append a rule", "%s: no command given", p.prog);
		break;
	case CMD_APPEND:
	case CMD_INSERT:
	case CMD_REPLACE:
	case CMD_CHECK:
		r = cmd_rule(&p);
		break;
	case CMD_DELETE:
		if (p.rulenum) {
			struct ir_chain *c = need_chain(&p, p.chain_w);
			struct ir_rule *old = c ? ir_chain_nth(c, p.rulenum) : NULL;

			if (!c) {
				r = p.cleanup_missing ? 0 : -1;
			} else if (!old) {
				r = perr(&p, &p.rulenum_w->loc, NULL,
					 "iptables would fail here: no rule %u in chain %s", p.rulenum, c->name);
			} else {
				ir_rule_unlink(c, old);
				ir_rule_free(old);
			}
		} else {
			r = cmd_rule(&p);
		}
		break;
	case CMD_NEW:
		r = cmd_new(&p);
		break;
	case CMD_DELETE_CHAIN:
		r = cmd_delete_chain(&p);
		break;
	case CMD_FLUSH:
		r = cmd_flush(&p);
		break;
	case CMD_ZERO:
		diag_note(pc->dq, &p.cmd_loc, "-Z zeroes counters; the new ruleset starts at zero anyway");
		if (p.chain_w && !need_chain(&p, p.chain_w) && !p.cleanup_missing)
			r = -1;
		break;
	case CMD_POLICY:
		r = cmd_policy(&p);
		break;
	case CMD_RENAME:
		r = cmd_rename(&p);
		break;
	case CMD_LIST:
		diag_note(pc->dq, &p.cmd_loc, "listing the ruleset is not part of it; ignored");
		break;
	case CMD_HELP:
		diag_note(pc->dq, &cmd->loc, "%s prints help or its version here; ignored", p.prog);
		break;
	}
	ipt_parse_cleanup(&p);
	return r ? -1 : p.err;
}
