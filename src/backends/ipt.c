/* ipt.c -- the IR as iptables-restore / ip6tables-restore text.
 *
 * Every rule is printed the way iptables-save 1.8.9 prints it, so that
 * `iptables-save` after loading our output equals `iptables-save` after
 * running the original script.  The format was taken from experiments with
 * iptables-legacy in a network namespace (docs/output.md lists them):
 *
 *  - built-in options in the fixed order -s -d -i -o -p -f, whatever the
 *    order on the command line;
 *  - then one `-m module` per match instance (ir_match.module_seq), in
 *    command-line order, each with its options in the module's own order
 *    (tcp: --sport --dport --tcp-option --tcp-flags); options without an
 *    explicit -m (-p tcp --dport) get the implicit `-m tcp`;
 *  - canonical values: addresses with /len, ports as numbers, marks as
 *    0x..., TOS as 0xVV/0xMM, limits as iptables' own rate rounding, ...;
 *  - strings quoted like xtables_save_string() (bare when only
 *    [A-Za-z0-9_-], else "..." with \", \\ and \' escaped).
 *
 * iptables has one target per rule.  A rule with statements and a verdict
 * (ipchains `-l -j DENY`, an nft-style IR) becomes one rule per statement
 * plus one for the verdict, all with the same matches -- which is only
 * faithful when no match is stateful (limit) and no statement changes what
 * a later copy tests (MARK then -m mark); both are refused.
 *
 * Address lists are expanded the way iptables itself does it for
 * `-s a,b -d c,d`: source outer, destination inner (a>c, a>d, b>c, b>d).
 *
 * Conntrack helpers (modprobe ip_conntrack_ftp ports=...) become
 * `-j CT --helper` rules in the raw table, before the script's own raw
 * rules: the script's rules might NOTRACK, which must win, and iptables
 * runs raw rules in order, so an earlier CT --helper is overwritten by a
 * later NOTRACK (both set the conntrack template).
 */
#include "backend.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../util.h"

struct ipt_ctx {
	struct diag_queue *dq;
	struct strbuf *sb;		/* the line being built, after "-A chain" */
	struct ipt_doc *doc;		/* where finished lines go */
	const struct loc *pending_loc;	/* for the next line: its IR rule starts there */
	enum ir_family fam;
	int err;
	/* a custom-table chain written into an iptables table (see
	 * "Custom tables" below) */
	const char *chain_name;		/* the -A name, if not the IR chain's */
	const char *ipt_table;		/* the iptables table being written */
	uint32_t rej_bit[IR_REJ6_REJECT_ROUTE + 1];	/* deferred REJECT marks, by kind */
};

static int ipt_error(struct ipt_ctx *c, const struct loc *loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int ipt_error(struct ipt_ctx *c, const struct loc *loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(c->dq, DIAG_ERROR, loc, NULL, fmt, ap);
	va_end(ap);
	c->err = -1;
	return -1;
}

/* ---- the document ------------------------------------------------------------
 *
 * ipt.c decides every rule once and records it in an ipt_doc: per table the
 * chain declarations and the rule lines, each line both as the text
 * iptables-save prints after "-A CHAIN" and as its words (quotes removed),
 * which is the form iptables' own extension parsers take (backends/iptc.c
 * encodes those words into x_tables entries).  ipt_emit() writes the text. */

static const char helpers_comment[] =
	"conntrack helpers (Linux >= 6.0 does not assign them by port)";

static void doc_table(struct ipt_ctx *c, const char *name)
{
	struct ipt_doc_table t = { .name = xstrdup(name) };

	vec_push(&c->doc->tables, t);
}

static struct ipt_doc_table *doc_cur(struct ipt_ctx *c)
{
	return &c->doc->tables.v[c->doc->tables.n - 1];
}

static void doc_chain(struct ipt_ctx *c, const char *name, const char *policy)
{
	struct ipt_doc_chain ch = { xstrdup(name), policy };

	vec_push(&doc_cur(c)->chains, ch);
}

static void doc_comment(struct ipt_ctx *c, const char *text)
{
	struct ipt_doc_line l = { .text = xstrdup(text) };

	vec_push(&doc_cur(c)->lines, l);
}

/* The inverse of ipt_string(): words separated by one space, a word in
 * "..." with \" \\ \' escaped.  ipt_string() is the only writer of quotes. */
static void doc_split(const char *s, struct ipt_doc_line *l)
{
	VEC(char *) w = { 0 };
	struct strbuf sb = { 0 };

	while (*s) {
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		sb.len = 0;
		sb_addn(&sb, "", 0);
		if (*s == '"') {
			for (s++; *s && *s != '"'; s++) {
				if (*s == '\\' && s[1])
					s++;
				sb_addc(&sb, *s);
			}
			if (*s == '"')
				s++;
		} else {
			while (*s && *s != ' ')
				sb_addc(&sb, *s++);
		}
		vec_push(&w, xstrdup(sb_str(&sb)));
	}
	sb_free(&sb);
	l->argv = w.v;
	l->argc = (unsigned)w.n;
}

/* Finishes the line built in c->sb as a rule of chain. */
static void doc_line(struct ipt_ctx *c, const char *chain)
{
	struct ipt_doc_line l = { .chain = xstrdup(chain) };

	/* the doc's own copy: it may outlive the IR (apply frees the IR
	 * before the commit, whose refusals are reported at these) */
	if (c->pending_loc) {
		struct loc *copy = xmalloc(sizeof(*copy));

		*copy = *c->pending_loc;
		l.loc = copy;
	}

	l.text = xstrdup(sb_str(c->sb));
	doc_split(l.text, &l);
	c->pending_loc = NULL;
	c->sb->len = 0;
	if (c->sb->buf)
		c->sb->buf[0] = '\0';
	vec_push(&doc_cur(c)->lines, l);
}

void ipt_doc_free(struct ipt_doc *d)
{
	for (size_t i = 0; i < d->tables.n; i++) {
		struct ipt_doc_table *t = &d->tables.v[i];

		for (size_t j = 0; j < t->chains.n; j++)
			free(t->chains.v[j].name);
		for (size_t j = 0; j < t->lines.n; j++) {
			struct ipt_doc_line *l = &t->lines.v[j];

			for (unsigned k = 0; k < l->argc; k++)
				free(l->argv[k]);
			free(l->argv);
			free(l->chain);
			free(l->text);
			free((struct loc *)l->loc);
		}
		vec_free(&t->chains);
		vec_free(&t->lines);
		free(t->name);
	}
	vec_free(&d->tables);
}

void ipt_doc_write(const struct ipt_doc *d, FILE *out, const struct emit_opts *o)
{
	for (size_t i = 0; i < d->tables.n; i++) {
		const struct ipt_doc_table *t = &d->tables.v[i];

		fprintf(out, "*%s\n", t->name);
		for (size_t j = 0; j < t->chains.n; j++)
			fprintf(out, ":%s %s [0:0]\n", t->chains.v[j].name,
				t->chains.v[j].policy ? t->chains.v[j].policy : "-");
		for (size_t j = 0; j < t->lines.n; j++) {
			const struct ipt_doc_line *l = &t->lines.v[j];

			if (!l->chain) {
				fprintf(out, "# %s\n", l->text);
				continue;
			}
			if (l->loc && o && o->locations)
				fprintf(out, "# %s:%u\n", l->loc->file->path, l->loc->line);
			fprintf(out, "-A %s%s\n", l->chain, l->text);
		}
		fputs("COMMIT\n", out);
	}
}

/* ---- values ---------------------------------------------------------------- */

/* As xtables_save_string(): leading space, then bare or quoted. */
static void ipt_string(struct strbuf *sb, const char *s)
{
	size_t n = strspn(s, "_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");

	sb_addc(sb, ' ');
	if (n > 0 && s[n] == '\0') {
		sb_add(sb, s);
		return;
	}
	sb_addc(sb, '"');
	for (const char *p = s; *p; p++) {
		if (*p == '"' || *p == '\\' || *p == '\'')
			sb_addc(sb, '\\');
		sb_addc(sb, *p);
	}
	sb_addc(sb, '"');
}

/* iptables-save names protocols from its own short list, then from
 * /etc/protocols.  This is Debian netbase's /etc/protocols (IANA keywords),
 * fixed here so the output does not depend on the build host. */
const char *ipt_proto_name(uint8_t p)
{
	static const struct { uint8_t n; const char *name; } t[] = {
		{ 1, "icmp" }, { 2, "igmp" }, { 3, "ggp" }, { 4, "ipencap" }, { 5, "st" },
		{ 6, "tcp" }, { 8, "egp" }, { 9, "igp" }, { 12, "pup" }, { 17, "udp" },
		{ 20, "hmp" }, { 22, "xns-idp" }, { 27, "rdp" }, { 29, "iso-tp4" },
		{ 33, "dccp" }, { 36, "xtp" }, { 37, "ddp" }, { 38, "idpr-cmtp" },
		{ 41, "ipv6" }, { 43, "ipv6-route" }, { 44, "ipv6-frag" }, { 45, "idrp" },
		{ 46, "rsvp" }, { 47, "gre" }, { 50, "esp" }, { 51, "ah" }, { 57, "skip" },
		{ 58, "ipv6-icmp" }, { 59, "ipv6-nonxt" }, { 60, "ipv6-opts" },
		{ 73, "rspf" }, { 81, "vmtp" }, { 88, "eigrp" }, { 89, "ospf" },
		{ 93, "ax.25" }, { 94, "ipip" }, { 97, "etherip" }, { 98, "encap" },
		{ 103, "pim" }, { 108, "ipcomp" }, { 112, "vrrp" }, { 115, "l2tp" },
		{ 124, "isis" }, { 132, "sctp" }, { 133, "fc" }, { 135, "mobility-header" },
		{ 136, "udplite" }, { 137, "mpls-in-ip" }, { 138, "manet" }, { 139, "hip" },
		{ 140, "shim6" }, { 141, "wesp" }, { 142, "rohc" }, { 143, "ethernet" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		if (t[i].n == p)
			return t[i].name;
	return NULL;
}

static void ipt_ip(struct strbuf *sb, const uint8_t *a, uint8_t af)
{
	char buf[INET6_ADDRSTRLEN];

	inet_ntop(af == 6 ? AF_INET6 : AF_INET, a, buf, sizeof(buf));
	sb_add(sb, buf);
}

static void ipt_range(struct strbuf *sb, const struct ir_range *r, char sep)
{
	if (r->lo == r->hi)
		sb_addf(sb, "%" PRIu32, r->lo);
	else
		sb_addf(sb, "%" PRIu32 "%c%" PRIu32, r->lo, sep, r->hi);
}

static const char *ipt_neg(bool neg)
{
	return neg ? " !" : "";
}

/* ---- match grouping -------------------------------------------------------- */

/* Built-in options of struct ipt_ip, printed before any -m. */
static bool match_builtin(const struct ir_match *m)
{
	switch (m->kind) {
	case IR_M_PROTO: case IR_M_IIF: case IR_M_OIF: case IR_M_FRAG:
		return true;
	case IR_M_SADDR: case IR_M_DADDR:
		/* a range is -m iprange */
		return m->u.addrs.n == 0 || m->u.addrs.v[0].kind != IR_ADDR_RANGE;
	case IR_M_SPORT: case IR_M_DPORT: case IR_M_PORT: case IR_M_TCPFLAGS:
	case IR_M_TCPOPTION: case IR_M_ICMP: case IR_M_ICMP_ANY: case IR_M_CTSTATE:
	case IR_M_CTSTATUS: case IR_M_CTDIR: case IR_M_LIMIT: case IR_M_MAC: case IR_M_MARK:
	case IR_M_CONNMARK: case IR_M_TOS: case IR_M_DSCP: case IR_M_LENGTH: case IR_M_TTL:
	case IR_M_COMMENT: case IR_M_ADDRTYPE: case IR_M_OWNER: case IR_M_TCPMSS:
	case IR_M_PKTTYPE: case IR_M_HELPER: case IR_M_ICMP_TYPES: case IR_M_ICMP_CODES:
	case IR_M_SET:
		return false;
	}
	return false;
}

static const char *l4_module(uint8_t p)
{
	switch (p) {
	case 6: return "tcp";
	case 17: return "udp";
	case 132: return "sctp";
	case 33: return "dccp";
	}
	return NULL;
}

/* The module that prints m: the one the parser recorded, else the module
 * iptables would use for that option. */
static const char *match_module(const struct ipt_ctx *c, const struct ir_match *m)
{
	bool v6 = c->fam == IR_FAM_IPV6;

	if (m->module[0])
		return m->module;
	switch (m->kind) {
	case IR_M_SPORT: case IR_M_DPORT: case IR_M_TCPFLAGS: case IR_M_TCPOPTION:
		return l4_module(m->kind == IR_M_SPORT || m->kind == IR_M_DPORT ? m->l4proto : 6);
	case IR_M_PORT: return "multiport";
	case IR_M_ICMP: case IR_M_ICMP_ANY: case IR_M_ICMP_TYPES: case IR_M_ICMP_CODES:
		return v6 ? "icmp6" : "icmp";
	case IR_M_CTSTATE: case IR_M_CTSTATUS: case IR_M_CTDIR: return "conntrack";
	case IR_M_LIMIT: return "limit";
	case IR_M_MAC: return "mac";
	case IR_M_MARK: return "mark";
	case IR_M_CONNMARK: return "connmark";
	case IR_M_TOS: return "tos";
	case IR_M_DSCP: return "dscp";
	case IR_M_LENGTH: return "length";
	case IR_M_TTL: return v6 ? "hl" : "ttl";
	case IR_M_COMMENT: return "comment";
	case IR_M_ADDRTYPE: return "addrtype";
	case IR_M_OWNER: return "owner";
	case IR_M_TCPMSS: return "tcpmss";
	case IR_M_PKTTYPE: return "pkttype";
	case IR_M_HELPER: return "helper";
	case IR_M_SET: return "set";	/* never written: ipt_refuse_maps */
	case IR_M_SADDR: case IR_M_DADDR: return "iprange";
	case IR_M_PROTO: case IR_M_IIF: case IR_M_OIF: case IR_M_FRAG:
		return "";
	}
	return NULL;
}

/* Option order inside one module instance, as its save function prints. */
static unsigned match_rank(const struct ir_match *m)
{
	switch (m->kind) {
	case IR_M_SPORT: return 0;
	case IR_M_DPORT: return 1;
	case IR_M_PORT: return 2;
	case IR_M_TCPOPTION: return 3;
	case IR_M_TCPFLAGS: return 4;
	case IR_M_SADDR: return 0;
	case IR_M_DADDR: return 1;
	case IR_M_CTSTATE: return 0;
	case IR_M_CTSTATUS: return 1;
	case IR_M_CTDIR: return 2;
	case IR_M_ICMP_TYPES: return 0;
	case IR_M_ICMP_CODES: return 1;	/* printed as the "/code" of --icmp-type */
	case IR_M_PROTO: case IR_M_IIF: case IR_M_OIF: case IR_M_ICMP: case IR_M_ICMP_ANY:
	case IR_M_FRAG: case IR_M_LIMIT: case IR_M_MAC: case IR_M_MARK: case IR_M_CONNMARK:
	case IR_M_TOS: case IR_M_DSCP: case IR_M_LENGTH: case IR_M_TTL: case IR_M_COMMENT:
	case IR_M_ADDRTYPE: case IR_M_OWNER: case IR_M_TCPMSS: case IR_M_PKTTYPE:
	case IR_M_HELPER: case IR_M_SET:
		return 0;
	}
	return 0;
}

/* ---- matches -------------------------------------------------------------------- */

static const char *const tcp_flag_names[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG" };

static void ipt_tcpflags(struct ipt_ctx *c, const struct ir_match *m, uint8_t f)
{
	bool first = true;

	if (f & 0xc0) {
		ipt_error(c, &m->loc, "TCP flags ECE/CWR cannot be matched by iptables --tcp-flags");
		return;
	}
	sb_addc(c->sb, ' ');
	if (!f) {
		sb_add(c->sb, "NONE");
		return;
	}
	for (unsigned i = 0; i < ARRAY_SIZE(tcp_flag_names); i++)
		if (f & (1u << i)) {
			sb_addf(c->sb, "%s%s", first ? "" : ",", tcp_flag_names[i]);
			first = false;
		}
}

static void ipt_port_opt(struct ipt_ctx *c, const struct ir_match *m, const char *opt)
{
	const struct ir_range *r = &m->u.ports.v[0];

	if (m->u.ports.n != 1) {
		ipt_error(c, &m->loc, "internal error: port list reached a single-port option");
		return;
	}
	/* the kernel default is 0:65535, which iptables-save leaves out */
	if (!m->neg && r->lo == 0 && r->hi == 65535)
		return;
	sb_addf(c->sb, "%s --%s ", ipt_neg(m->neg), opt);
	ipt_range(c->sb, r, ':');
}

static void ipt_multiport(struct ipt_ctx *c, const struct ir_match *m)
{
	const char *opt = m->kind == IR_M_SPORT ? "sports" : m->kind == IR_M_DPORT ? "dports" : "ports";
	unsigned slots = 0;

	for (unsigned i = 0; i < m->u.ports.n; i++)
		slots += m->u.ports.v[i].lo == m->u.ports.v[i].hi ? 1 : 2;
	if (slots > 15) {
		ipt_error(c, &m->loc, "multiport takes at most 15 ports (a range counts twice)");
		return;
	}
	sb_addf(c->sb, "%s --%s ", ipt_neg(m->neg), opt);
	for (unsigned i = 0; i < m->u.ports.n; i++) {
		if (i)
			sb_addc(c->sb, ',');
		ipt_range(c->sb, &m->u.ports.v[i], ':');
	}
}

static void ipt_bitnames(struct strbuf *sb, uint32_t bits, const char *const *names, unsigned n)
{
	bool first = true;

	sb_addc(sb, ' ');
	for (unsigned i = 0; i < n; i++)
		if (bits & (1u << i)) {
			sb_addf(sb, "%s%s", first ? "" : ",", names[i]);
			first = false;
		}
}

/* iptables' order: INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED[,SNAT,DNAT] */
static void ipt_ctstate(struct ipt_ctx *c, const struct ir_match *m, bool conntrack)
{
	static const struct { uint32_t bit; const char *name; } order[] = {
		{ IR_CT_INVALID, "INVALID" }, { IR_CT_NEW, "NEW" }, { IR_CT_RELATED, "RELATED" },
		{ IR_CT_ESTABLISHED, "ESTABLISHED" }, { IR_CT_UNTRACKED, "UNTRACKED" },
		{ IR_CT_SNAT, "SNAT" }, { IR_CT_DNAT, "DNAT" },
	};
	bool first = true;

	if (!conntrack && (m->u.bits & (IR_CT_SNAT | IR_CT_DNAT))) {
		ipt_error(c, &m->loc, "-m state has no SNAT/DNAT state (use -m conntrack)");
		return;
	}
	sb_addf(c->sb, "%s --%s ", ipt_neg(m->neg), conntrack ? "ctstate" : "state");
	for (size_t i = 0; i < ARRAY_SIZE(order); i++)
		if (m->u.bits & order[i].bit) {
			sb_addf(c->sb, "%s%s", first ? "" : ",", order[i].name);
			first = false;
		}
}

static const char *const ctstatus_names[] = { "EXPECTED", "SEEN_REPLY", "ASSURED", "CONFIRMED" };

/* xt_limit stores the period (XT_LIMIT_SCALE = 10000 per second) and
 * iptables-save prints it back in the largest unit that keeps it exact
 * enough, so "60/min" comes back as "1/sec".  Same arithmetic here. */
static void ipt_limit(struct ipt_ctx *c, const struct ir_match *m)
{
	static const struct { const char *name; uint32_t mult; } rates[] = {
		{ "day", 10000u * 24 * 60 * 60 }, { "hour", 10000u * 60 * 60 },
		{ "min", 10000u * 60 }, { "sec", 10000u },
	};
	static const uint32_t secs[] = {
		[IR_PER_SECOND] = 1, [IR_PER_MINUTE] = 60, [IR_PER_HOUR] = 3600, [IR_PER_DAY] = 86400,
	};
	uint64_t period;
	size_t i;

	if (m->neg || m->u.limit.rate == 0) {
		ipt_error(c, &m->loc, "this limit cannot be written for iptables");
		return;
	}
	period = 10000ull * secs[m->u.limit.unit] / m->u.limit.rate;
	if (period == 0 || period > UINT32_MAX) {
		ipt_error(c, &m->loc, "rate too fast or too slow for -m limit");
		return;
	}
	for (i = 1; i < ARRAY_SIZE(rates); i++)
		if (period > rates[i].mult || rates[i].mult / period < rates[i].mult % period)
			break;
	sb_addf(c->sb, " --limit %" PRIu64 "/%s", rates[i - 1].mult / period, rates[i - 1].name);
	if (m->u.limit.burst != 5)
		sb_addf(c->sb, " --limit-burst %" PRIu32, m->u.limit.burst);
}

static const char *const addrtype_names[] = {
	"UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST", "MULTICAST", "BLACKHOLE",
	"UNREACHABLE", "PROHIBIT", "THROW", "NAT", "XRESOLVE",
};

static void ipt_addrtype(struct ipt_ctx *c, const struct ir_match *m)
{
	if (m->u.addrtype.src) {
		sb_addf(c->sb, "%s --src-type", ipt_neg(m->u.addrtype.src_neg));
		ipt_bitnames(c->sb, m->u.addrtype.src, addrtype_names, ARRAY_SIZE(addrtype_names));
	}
	if (m->u.addrtype.dst) {
		sb_addf(c->sb, "%s --dst-type", ipt_neg(m->u.addrtype.dst_neg));
		ipt_bitnames(c->sb, m->u.addrtype.dst, addrtype_names, ARRAY_SIZE(addrtype_names));
	}
	if (m->u.addrtype.limit_in)
		sb_add(c->sb, " --limit-iface-in");
	if (m->u.addrtype.limit_out)
		sb_add(c->sb, " --limit-iface-out");
}

static void ipt_owner(struct ipt_ctx *c, const struct ir_match *m)
{
	unsigned n = m->u.owner.has_uid + m->u.owner.has_gid + m->u.owner.socket_exists;

	/* `! --uid-owner a ! --gid-owner b` negates each field, not the whole */
	if (m->neg && n > 1) {
		ipt_error(c, &m->loc, "a negated owner match with several fields cannot be "
			  "written for iptables (it negates each field separately)");
		return;
	}
	if (m->u.owner.socket_exists)
		sb_addf(c->sb, "%s --socket-exists", ipt_neg(m->neg));
	if (m->u.owner.has_uid) {
		sb_addf(c->sb, "%s --uid-owner ", ipt_neg(m->neg));
		ipt_range(c->sb, &m->u.owner.uid, '-');
	}
	if (m->u.owner.has_gid) {
		sb_addf(c->sb, "%s --gid-owner ", ipt_neg(m->neg));
		ipt_range(c->sb, &m->u.owner.gid, '-');
	}
}

static void ipt_ttl(struct ipt_ctx *c, const struct ir_match *m)
{
	const char *k = c->fam == IR_FAM_IPV6 ? "hl" : "ttl";
	enum ir_ttl_op op = m->u.ttl.op;
	unsigned v = m->u.ttl.value;
	bool neg = m->neg;

	/* only --ttl-eq can be negated; !(x < v) is x > v-1 */
	if (neg && op == IR_TTL_LT && v > 0) {
		op = IR_TTL_GT;
		v--;
		neg = false;
	} else if (neg && op == IR_TTL_GT && v < 255) {
		op = IR_TTL_LT;
		v++;
		neg = false;
	} else if (neg && op != IR_TTL_EQ) {
		ipt_error(c, &m->loc, "this negated %s comparison is constant", k);
		return;
	}
	sb_addf(c->sb, "%s --%s-%s %u", ipt_neg(neg), k,
		op == IR_TTL_EQ ? "eq" : op == IR_TTL_LT ? "lt" : "gt", v);
}

static void ipt_iprange(struct ipt_ctx *c, const struct ir_match *m)
{
	const struct ir_addr *a = &m->u.addrs.v[0];

	if (m->u.addrs.n != 1) {
		ipt_error(c, &m->loc, "iptables -m iprange takes one range per direction");
		return;
	}
	sb_addf(c->sb, "%s --%s-range ", ipt_neg(m->neg), m->kind == IR_M_SADDR ? "src" : "dst");
	ipt_ip(c->sb, a->lo, a->af);
	sb_addc(c->sb, '-');
	ipt_ip(c->sb, a->kind == IR_ADDR_RANGE ? a->hi : a->lo, a->af);
}

static void ipt_match(struct ipt_ctx *c, const struct ir_match *m, const char *mod)
{
	struct strbuf *sb = c->sb;
	bool multi = strcmp(mod, "multiport") == 0;

	switch (m->kind) {
	case IR_M_SPORT:
	case IR_M_DPORT:
		if (multi)
			ipt_multiport(c, m);
		else
			ipt_port_opt(c, m, m->kind == IR_M_SPORT ? "sport" : "dport");
		break;
	case IR_M_PORT:
		ipt_multiport(c, m);
		break;
	case IR_M_TCPFLAGS:
		sb_addf(sb, "%s --tcp-flags", ipt_neg(m->neg));
		ipt_tcpflags(c, m, m->u.tcpflags.mask);
		ipt_tcpflags(c, m, m->u.tcpflags.cmp);
		break;
	case IR_M_TCPOPTION:
		sb_addf(sb, "%s --tcp-option %" PRIu32, ipt_neg(m->neg), m->u.num);
		break;
	case IR_M_ICMP:
		sb_addf(sb, "%s --%s %d", ipt_neg(m->neg),
			c->fam == IR_FAM_IPV6 ? "icmpv6-type" : "icmp-type", m->u.icmp.type);
		if (m->u.icmp.code >= 0)
			sb_addf(sb, "/%d", m->u.icmp.code);
		break;
	case IR_M_ICMP_ANY:
		sb_addf(sb, "%s --%s any", ipt_neg(m->neg),
			c->fam == IR_FAM_IPV6 ? "icmpv6-type" : "icmp-type");
		break;
	case IR_M_ICMP_TYPES:
		/* a list or range arrives here one type at a time (ipt_rule
		 * expands it) */
		if (m->u.ports.n != 1 || m->u.ports.v[0].lo != m->u.ports.v[0].hi) {
			ipt_error(c, &m->loc, "internal error: ICMP type range reached --icmp-type");
			break;
		}
		sb_addf(sb, "%s --%s %" PRIu32, ipt_neg(m->neg),
			c->fam == IR_FAM_IPV6 ? "icmpv6-type" : "icmp-type", m->u.ports.v[0].lo);
		break;
	case IR_M_ICMP_CODES:
		/* follows the type in the same -m icmp (rank 1); a list or
		 * range arrives one code at a time (ipt_rule expands it) */
		if (m->neg || m->u.ports.n != 1 || m->u.ports.v[0].lo != m->u.ports.v[0].hi) {
			ipt_error(c, &m->loc, "iptables matches one ICMP code together with one "
				  "type (--icmp-type T/C); a negated code cannot be written");
			break;
		}
		sb_addf(sb, "/%" PRIu32, m->u.ports.v[0].lo);
		break;
	case IR_M_CTSTATE:
		ipt_ctstate(c, m, strcmp(mod, "state") != 0);
		break;
	case IR_M_CTSTATUS:
		if (m->u.bits & (IR_CTS_SNAT | IR_CTS_DNAT)) {
			ipt_error(c, &m->loc, "--ctstatus has no SNAT/DNAT bit (use --ctstate SNAT)");
			break;
		}
		sb_addf(sb, "%s --ctstatus", ipt_neg(m->neg));
		ipt_bitnames(sb, m->u.bits, ctstatus_names, ARRAY_SIZE(ctstatus_names));
		break;
	case IR_M_CTDIR:
		/* --ctdir takes no '!' */
		sb_addf(sb, " --ctdir %s", (m->u.num != 0) != m->neg ? "REPLY" : "ORIGINAL");
		break;
	case IR_M_LIMIT:
		ipt_limit(c, m);
		break;
	case IR_M_MAC:
		sb_addf(sb, "%s --mac-source %02x:%02x:%02x:%02x:%02x:%02x", ipt_neg(m->neg),
			m->u.mac[0], m->u.mac[1], m->u.mac[2], m->u.mac[3], m->u.mac[4], m->u.mac[5]);
		break;
	case IR_M_MARK:
	case IR_M_CONNMARK:
		sb_addf(sb, "%s --mark 0x%" PRIx32, ipt_neg(m->neg), m->u.markmask.value);
		if (m->u.markmask.mask != 0xffffffffu)
			sb_addf(sb, "/0x%" PRIx32, m->u.markmask.mask);
		break;
	case IR_M_TOS:
		sb_addf(sb, "%s --tos 0x%02" PRIx32 "/0x%02" PRIx32, ipt_neg(m->neg),
			m->u.markmask.value & 0xff, m->u.markmask.mask & 0xff);
		break;
	case IR_M_DSCP:
		sb_addf(sb, "%s --dscp 0x%02" PRIx32, ipt_neg(m->neg), m->u.num);
		break;
	case IR_M_LENGTH:
		sb_addf(sb, "%s --length ", ipt_neg(m->neg));
		ipt_range(sb, &m->u.range, ':');
		break;
	case IR_M_TTL:
		ipt_ttl(c, m);
		break;
	case IR_M_COMMENT:
		sb_add(sb, " --comment");
		ipt_string(sb, m->u.str);
		break;
	case IR_M_ADDRTYPE:
		ipt_addrtype(c, m);
		break;
	case IR_M_OWNER:
		ipt_owner(c, m);
		break;
	case IR_M_TCPMSS:
		sb_addf(sb, "%s --mss ", ipt_neg(m->neg));
		ipt_range(sb, &m->u.range, ':');
		break;
	case IR_M_PKTTYPE:
		sb_addf(sb, "%s --pkt-type %s", ipt_neg(m->neg),
			m->u.num == IR_PKT_BROADCAST ? "broadcast" :
			m->u.num == IR_PKT_MULTICAST ? "multicast" : "unicast");
		break;
	case IR_M_HELPER:
		sb_addf(sb, "%s --helper", ipt_neg(m->neg));
		ipt_string(sb, m->u.str);
		break;
	case IR_M_SET:
		break;		/* refused once per set: ipt_refuse_maps */
	case IR_M_SADDR:
	case IR_M_DADDR:
		ipt_iprange(c, m);
		break;
	case IR_M_PROTO:
	case IR_M_IIF:
	case IR_M_OIF:
	case IR_M_FRAG:
		break;		/* built-in, printed before the modules */
	}
}

/* ---- one printed rule ------------------------------------------------------------- */

/* What varies between the copies of one IR rule. */
struct ipt_pick {
	const struct ir_addr *saddr, *daddr;	/* the address of this copy, or NULL */
	const char *iif, *oif;
	struct ir_range port;			/* the element of port_m of this copy */
	const struct ir_match *port_m;		/* the expanded port or ICMP type list */
	struct ir_range code;			/* the element of code_m of this copy */
	const struct ir_match *code_m;		/* an expanded ICMP code list */
	unsigned rr;				/* load-shared DNAT: slot + 1 of this line */
};

static void ipt_addr_opt(struct ipt_ctx *c, const struct ir_match *m, const struct ir_addr *a,
			 const char *opt)
{
	if (a->kind == IR_ADDR_IFADDR) {
		ipt_error(c, &a->loc, "internal error: address of interface '%s' reached the "
			  "iptables backend unresolved", a->ifname);
		return;
	}
	if (a->plen == 0 && !m->neg)
		return;		/* 0/0: iptables-save prints nothing */
	sb_addf(c->sb, "%s -%s ", ipt_neg(m->neg), opt);
	ipt_ip(c->sb, a->lo, a->af);
	sb_addf(c->sb, "/%u", a->plen);
}

static void ipt_builtins(struct ipt_ctx *c, const struct ir_rule *r, const struct ipt_pick *pk)
{
	const struct ir_match *s = NULL, *d = NULL, *i = NULL, *o = NULL, *p = NULL, *f = NULL;

	for (const struct ir_match *m = r->matches; m; m = m->next) {
		if (!match_builtin(m))
			continue;
		switch (m->kind) {
		case IR_M_SADDR: s = m; break;
		case IR_M_DADDR: d = m; break;
		case IR_M_IIF: i = m; break;
		case IR_M_OIF: o = m; break;
		case IR_M_PROTO: p = m; break;
		case IR_M_FRAG: f = m; break;
		case IR_M_SPORT: case IR_M_DPORT: case IR_M_PORT: case IR_M_TCPFLAGS:
		case IR_M_TCPOPTION: case IR_M_ICMP: case IR_M_ICMP_ANY: case IR_M_CTSTATE:
		case IR_M_CTSTATUS: case IR_M_CTDIR: case IR_M_LIMIT: case IR_M_MAC:
		case IR_M_MARK: case IR_M_CONNMARK: case IR_M_TOS: case IR_M_DSCP:
		case IR_M_LENGTH: case IR_M_TTL: case IR_M_COMMENT: case IR_M_ADDRTYPE:
		case IR_M_OWNER: case IR_M_TCPMSS: case IR_M_PKTTYPE: case IR_M_HELPER:
		case IR_M_ICMP_TYPES: case IR_M_ICMP_CODES: case IR_M_SET:
			break;
		}
	}
	if (s)
		ipt_addr_opt(c, s, pk->saddr, "s");
	if (d)
		ipt_addr_opt(c, d, pk->daddr, "d");
	if (i)
		sb_addf(c->sb, "%s -i %s", ipt_neg(i->neg), pk->iif);
	if (o)
		sb_addf(c->sb, "%s -o %s", ipt_neg(o->neg), pk->oif);
	if (p && p->u.proto) {
		const char *name = ipt_proto_name(p->u.proto);

		if (name)
			sb_addf(c->sb, "%s -p %s", ipt_neg(p->neg), name);
		else
			sb_addf(c->sb, "%s -p %u", ipt_neg(p->neg), p->u.proto);
	}
	if (f) {
		if (c->fam == IR_FAM_IPV6)
			ipt_error(c, &f->loc, "-f does not exist in ip6tables (use -m frag)");
		else
			sb_addf(c->sb, "%s -f", ipt_neg(f->neg));
	}
}

static void ipt_modules(struct ipt_ctx *c, const struct ir_rule *r, const struct ipt_pick *pk)
{
	/* groups in order of first appearance; a group is (module_seq, module) */
	for (const struct ir_match *g = r->matches; g; g = g->next) {
		const char *mod;
		bool seen = false;

		if (match_builtin(g))
			continue;
		mod = match_module(c, g);
		if (!mod) {
			ipt_error(c, &g->loc, "port match for protocol %u has no iptables module",
				  g->l4proto);
			continue;
		}
		for (const struct ir_match *p = r->matches; p != g; p = p->next)
			if (!match_builtin(p) && p->module_seq == g->module_seq &&
			    match_module(c, p) && strcmp(match_module(c, p), mod) == 0)
				seen = true;
		if (seen)
			continue;
		sb_addf(c->sb, " -m %s", mod);
		for (unsigned rank = 0; rank <= 4; rank++)
			for (const struct ir_match *m = g; m; m = m->next) {
				const char *mm;

				if (match_builtin(m) || m->module_seq != g->module_seq ||
				    match_rank(m) != rank)
					continue;
				mm = match_module(c, m);
				if (!mm || strcmp(mm, mod) != 0)
					continue;
				if (m == pk->port_m || m == pk->code_m) {
					struct ir_match one = *m;

					one.u.ports.v = (struct ir_range *)(m == pk->port_m ?
									    &pk->port : &pk->code);
					one.u.ports.n = 1;
					ipt_match(c, &one, mod);
				} else {
					ipt_match(c, m, mod);
				}
			}
	}
}

/* ---- targets ------------------------------------------------------------------------- */

static const char *ipt_reject_name(const struct ipt_ctx *c, enum ir_reject rj)
{
	bool v6 = c->fam == IR_FAM_IPV6;

	switch (rj) {
	case IR_REJ_DEFAULT: return v6 ? "icmp6-port-unreachable" : "icmp-port-unreachable";
	case IR_REJ_TCP_RESET: return "tcp-reset";
	case IR_REJ_NET_UNREACH: return v6 ? NULL : "icmp-net-unreachable";
	case IR_REJ_HOST_UNREACH: return v6 ? NULL : "icmp-host-unreachable";
	case IR_REJ_PORT_UNREACH: return v6 ? NULL : "icmp-port-unreachable";
	case IR_REJ_PROTO_UNREACH: return v6 ? NULL : "icmp-proto-unreachable";
	case IR_REJ_NET_PROHIB: return v6 ? NULL : "icmp-net-prohibited";
	case IR_REJ_HOST_PROHIB: return v6 ? NULL : "icmp-host-prohibited";
	case IR_REJ_ADMIN_PROHIB: return v6 ? NULL : "icmp-admin-prohibited";
	case IR_REJ6_NO_ROUTE: return v6 ? "icmp6-no-route" : NULL;
	case IR_REJ6_ADM_PROHIB: return v6 ? "icmp6-adm-prohibited" : NULL;
	case IR_REJ6_ADDR_UNREACH: return v6 ? "icmp6-addr-unreachable" : NULL;
	case IR_REJ6_PORT_UNREACH: return v6 ? "icmp6-port-unreachable" : NULL;
	case IR_REJ6_POLICY_FAIL: return v6 ? "icmp6-policy-fail" : NULL;
	case IR_REJ6_REJECT_ROUTE: return v6 ? "icmp6-reject-route" : NULL;
	}
	return NULL;
}

static void ipt_nat_flags(struct strbuf *sb, uint32_t f, bool persistent_ok)
{
	if (f & IR_NAT_RANDOM)
		sb_add(sb, " --random");
	if (f & IR_NAT_FULLY_RANDOM)
		sb_add(sb, " --random-fully");
	if (persistent_ok && (f & IR_NAT_PERSISTENT))
		sb_add(sb, " --persistent");
}

static void ipt_nat_ports(struct strbuf *sb, const struct ir_nat *n)
{
	sb_addf(sb, "%u", n->port_lo);
	if (n->port_hi != n->port_lo)
		sb_addf(sb, "-%u", n->port_hi);
}

static void ipt_nat_to(struct ipt_ctx *c, const struct ir_verdict *v, const char *target,
		       const char *opt)
{
	const struct ir_nat *n = &v->u.nat;
	bool br = c->fam == IR_FAM_IPV6 && n->has_port;

	if (n->addr_map)
		return;		/* refused once per map: ipt_refuse_maps */
	sb_addf(c->sb, " -j %s --%s ", target, opt);
	if (n->has_addr) {
		const struct ir_addr *a = &n->addr;

		if (a->kind == IR_ADDR_IFADDR) {
			ipt_error(c, &a->loc, "internal error: address of interface '%s' reached "
				  "the iptables backend unresolved", a->ifname);
			return;
		}
		sb_add(c->sb, br ? "[" : "");
		ipt_ip(c->sb, a->lo, a->af);
		sb_add(c->sb, br ? "]" : "");
		if (a->kind == IR_ADDR_RANGE) {
			sb_add(c->sb, br ? "-[" : "-");
			ipt_ip(c->sb, a->hi, a->af);
			sb_add(c->sb, br ? "]" : "");
		}
	}
	if (n->has_port) {
		sb_addc(c->sb, ':');
		ipt_nat_ports(c->sb, n);
	}
	ipt_nat_flags(c->sb, n->flags, true);
}

static void ipt_verdict(struct ipt_ctx *c, const struct ir_verdict *v)
{
	const char *s;

	switch (v->kind) {
	case IR_V_NONE:
		break;
	case IR_V_ACCEPT:
		sb_add(c->sb, " -j ACCEPT");
		break;
	case IR_V_DROP:
		sb_add(c->sb, " -j DROP");
		break;
	case IR_V_RETURN:
		sb_add(c->sb, " -j RETURN");
		break;
	case IR_V_JUMP:
		sb_addf(c->sb, " -j %s", v->u.chain.name);
		break;
	case IR_V_GOTO:
		sb_addf(c->sb, " -g %s", v->u.chain.name);
		break;
	case IR_V_REJECT:
		if (c->ipt_table && strcmp(c->ipt_table, "filter") != 0) {
			/* iptables allows REJECT in the filter table only; mangle
			 * rejects were deferred by ipt_line, anything else drops */
			diag_warning(c->dq, &v->loc, "REJECT becomes DROP for iptables: this chain "
				     "runs in the %s table, where iptables has no REJECT "
				     "(nftables output can reject)", c->ipt_table);
			sb_add(c->sb, " -j DROP");
			break;
		}
		s = ipt_reject_name(c, v->u.reject);
		if (!s)
			ipt_error(c, &v->loc, "this REJECT type does not exist for %s",
				  c->fam == IR_FAM_IPV6 ? "IPv6" : "IPv4");
		else
			sb_addf(c->sb, " -j REJECT --reject-with %s", s);
		break;
	case IR_V_MASQUERADE:
	case IR_V_REDIRECT:
		sb_addf(c->sb, " -j %s", v->kind == IR_V_MASQUERADE ? "MASQUERADE" : "REDIRECT");
		if (v->u.nat.has_port) {
			sb_add(c->sb, " --to-ports ");
			ipt_nat_ports(c->sb, &v->u.nat);
		}
		ipt_nat_flags(c->sb, v->u.nat.flags, false);
		break;
	case IR_V_SNAT:
		ipt_nat_to(c, v, "SNAT", "to-source");
		break;
	case IR_V_DNAT:
		ipt_nat_to(c, v, "DNAT", "to-destination");
		break;
	}
}

/* (x & ~mask) ^ value pairs as --set-xmark prints them. */
static void ipt_xmark(const struct ir_stmt *s, uint32_t width_mask, uint32_t *val, uint32_t *mask)
{
	uint32_t v = s->u.setmark.value;

	switch (s->u.setmark.op) {
	case IR_MARK_SET:
		*val = v;
		*mask = s->u.setmark.mask;
		break;
	case IR_MARK_AND:
		*val = 0;
		*mask = ~v & width_mask;
		break;
	case IR_MARK_OR:
		*val = v;
		*mask = v;
		break;
	case IR_MARK_XOR:
	case IR_MARK_SAVE:
	case IR_MARK_RESTORE:
		*val = v;
		*mask = 0;
		break;
	}
}

static void ipt_stmt(struct ipt_ctx *c, const struct ir_stmt *s)
{
	struct strbuf *sb = c->sb;
	uint32_t v = 0, m = 0;

	switch (s->kind) {
	case IR_S_LOG: {
		uint32_t f = s->u.log.flags;

		sb_add(sb, " -j LOG");
		if (s->u.log.prefix && s->u.log.prefix[0]) {
			sb_add(sb, " --log-prefix");
			ipt_string(sb, s->u.log.prefix);
		}
		if (s->u.log.level >= 0 && s->u.log.level != 4)
			sb_addf(sb, " --log-level %d", s->u.log.level);
		if (f & IR_LOG_TCPSEQ)
			sb_add(sb, " --log-tcp-sequence");
		if (f & IR_LOG_TCPOPT)
			sb_add(sb, " --log-tcp-options");
		if (f & IR_LOG_IPOPT)
			sb_add(sb, " --log-ip-options");
		if (f & IR_LOG_UID)
			sb_add(sb, " --log-uid");
		if (f & IR_LOG_MACDECODE)
			sb_add(sb, " --log-macdecode");
		break;
	}
	case IR_S_NFLOG:
		sb_add(sb, " -j NFLOG");
		if (s->u.nflog.prefix && s->u.nflog.prefix[0]) {
			sb_add(sb, " --nflog-prefix");
			ipt_string(sb, s->u.nflog.prefix);
		}
		if (s->u.nflog.group)
			sb_addf(sb, " --nflog-group %u", s->u.nflog.group);
		if (s->u.nflog.snaplen)
			sb_addf(sb, " --nflog-size %" PRIu32, s->u.nflog.snaplen);
		if (s->u.nflog.threshold > 1)
			sb_addf(sb, " --nflog-threshold %u", s->u.nflog.threshold);
		break;
	case IR_S_MARK:
		if (s->u.setmark.op == IR_MARK_SAVE || s->u.setmark.op == IR_MARK_RESTORE) {
			ipt_error(c, &s->loc, "internal error: save/restore on MARK");
			break;
		}
		ipt_xmark(s, 0xffffffffu, &v, &m);
		sb_addf(sb, " -j MARK --set-xmark 0x%" PRIx32 "/0x%" PRIx32, v, m);
		break;
	case IR_S_CONNMARK:
		if (s->u.setmark.op == IR_MARK_SAVE || s->u.setmark.op == IR_MARK_RESTORE) {
			sb_addf(sb, " -j CONNMARK --%s-mark --nfmask 0x%" PRIx32 " --ctmask 0x%" PRIx32,
				s->u.setmark.op == IR_MARK_SAVE ? "save" : "restore",
				s->u.setmark.nfmask, s->u.setmark.ctmask);
			break;
		}
		ipt_xmark(s, 0xffffffffu, &v, &m);
		sb_addf(sb, " -j CONNMARK --set-xmark 0x%" PRIx32 "/0x%" PRIx32, v, m);
		break;
	case IR_S_TOS:
		if (c->ipt_table && strcmp(c->ipt_table, "mangle") != 0) {
			ipt_error(c, &s->loc, "a TOS change in this chain cannot be written for "
				  "iptables: the chain runs in the %s table and TOS works only in "
				  "mangle; use -t nft", c->ipt_table);
			break;
		}
		if (s->u.setmark.op == IR_MARK_SAVE || s->u.setmark.op == IR_MARK_RESTORE) {
			ipt_error(c, &s->loc, "internal error: save/restore on TOS");
			break;
		}
		ipt_xmark(s, 0xff, &v, &m);
		sb_addf(sb, " -j TOS --set-tos 0x%02" PRIx32 "/0x%02" PRIx32, v & 0xff, m & 0xff);
		break;
	case IR_S_DSCP:
		sb_addf(sb, " -j DSCP --set-dscp 0x%02" PRIx32, s->u.num);
		break;
	case IR_S_TTL:
		sb_addf(sb, " -j %s --%s-%s %u", c->fam == IR_FAM_IPV6 ? "HL" : "TTL",
			c->fam == IR_FAM_IPV6 ? "hl" : "ttl",
			s->u.ttl.op == IR_TTL_SET ? "set" : s->u.ttl.op == IR_TTL_INC ? "inc" : "dec",
			s->u.ttl.value);
		break;
	case IR_S_TCPMSS:
		if (s->u.num)
			sb_addf(sb, " -j TCPMSS --set-mss %" PRIu32, s->u.num);
		else
			sb_add(sb, " -j TCPMSS --clamp-mss-to-pmtu");
		break;
	case IR_S_NOTRACK:
		/* the spelling of 2.6-era scripts; CT --notrack saves differently */
		sb_add(sb, " -j NOTRACK");
		break;
	case IR_S_CT_HELPER:
		sb_add(sb, " -j CT --helper");
		ipt_string(sb, s->u.str);
		break;
	case IR_S_DYNSET:
		break;		/* refused once per map: ipt_refuse_maps */
	}
}

/* ---- rule expansion -------------------------------------------------------------- */

static void ipt_location(struct ipt_ctx *c, const struct loc *loc)
{
	if (loc->file)
		c->pending_loc = loc;
}

/* One line: -A chain, the matches of this copy, one target. */
/* Load-shared DNAT (struct ir_nat rr), slot k of the period W: one rule
 * per slot, each taking the first of every W - k connections that reach
 * it (-m statistic --mode nth --packet 0 matches the 1st, W-k+1st, ...),
 * so that the rules in order take connections 1, 2, ..., W of each
 * period exactly as nft's `numgen inc mod W` does; the last is
 * unconditional.  Every nth counter belongs to its rule, and a rule only
 * counts the connections the earlier ones left. */
static void ipt_rr_line(struct ipt_ctx *c, const struct ir_verdict *v, unsigned k)
{
	const struct ir_nat_target *t = ir_nat_rr_slot(&v->u.nat, k);
	unsigned period = ir_nat_rr_period(&v->u.nat);
	struct ir_verdict one = *v;

	if (k + 1 < period)
		sb_addf(c->sb, " -m statistic --mode nth --every %u --packet 0", period - k);
	memset(&one.u.nat, 0, sizeof(one.u.nat));
	one.u.nat.has_addr = true;
	one.u.nat.addr = t->addr;
	if (t->port) {
		one.u.nat.has_port = true;
		one.u.nat.port_lo = one.u.nat.port_hi = t->port;
	}
	one.u.nat.flags = v->u.nat.flags;
	ipt_verdict(c, &one);
}

static void ipt_line(struct ipt_ctx *c, const struct ir_chain *ch, const struct ir_rule *r,
		     const struct ipt_pick *pk, const struct ir_stmt *stmt)
{
	const char *name = c->chain_name ? c->chain_name : ch->name;

	if (!stmt && r->verdict.kind == IR_V_REJECT && c->ipt_table &&
	    !strcmp(c->ipt_table, "mangle") && r->verdict.u.reject <= IR_REJ6_REJECT_ROUTE &&
	    c->rej_bit[r->verdict.u.reject]) {
		/* a REJECT decided in mangle PREROUTING (the ipchains input
		 * chain): mark the packet and leave mangle; filter INPUT and
		 * FORWARD reject marked packets first thing (ipt_deferred) */
		ipt_builtins(c, r, pk);
		ipt_modules(c, r, pk);
		sb_addf(c->sb, " -j MARK --set-xmark 0x%" PRIx32 "/0x%" PRIx32,
			c->rej_bit[r->verdict.u.reject], c->rej_bit[r->verdict.u.reject]);
		doc_line(c, name);
		ipt_builtins(c, r, pk);
		ipt_modules(c, r, pk);
		sb_add(c->sb, " -j ACCEPT");
		doc_line(c, name);
		return;
	}
	ipt_builtins(c, r, pk);
	ipt_modules(c, r, pk);
	if (stmt)
		ipt_stmt(c, stmt);
	else if (pk->rr)
		ipt_rr_line(c, &r->verdict, pk->rr - 1);
	else
		ipt_verdict(c, &r->verdict);
	doc_line(c, name);
}

static bool stmt_changes_match(const struct ir_stmt *s, const struct ir_match *m)
{
	switch (s->kind) {
	case IR_S_MARK:
		return m->kind == IR_M_MARK ||
		       (m->kind == IR_M_CONNMARK && s->u.setmark.op == IR_MARK_RESTORE);
	case IR_S_CONNMARK:
		/* only --restore-mark writes the packet mark */
		return m->kind == IR_M_CONNMARK ||
		       (m->kind == IR_M_MARK && s->u.setmark.op == IR_MARK_RESTORE);
	case IR_S_TOS:
	case IR_S_DSCP:
		return m->kind == IR_M_TOS || m->kind == IR_M_DSCP;
	case IR_S_TTL:
		return m->kind == IR_M_TTL;
	case IR_S_TCPMSS:
		return m->kind == IR_M_TCPMSS;
	case IR_S_NOTRACK:
	case IR_S_CT_HELPER:
		return m->kind == IR_M_CTSTATE || m->kind == IR_M_HELPER;
	case IR_S_DYNSET:
		return false;
	case IR_S_LOG:
	case IR_S_NFLOG:
		return false;
	}
	return false;
}

/* Several targets in one rule: one line each (see the top of the file). */
static bool ipt_split_ok(struct ipt_ctx *c, const struct ir_rule *r)
{
	unsigned ntargets = (r->verdict.kind != IR_V_NONE);

	for (const struct ir_stmt *s = r->stmts; s; s = s->next)
		ntargets++;
	if (ntargets <= 1)
		return true;
	for (const struct ir_match *m = r->matches; m; m = m->next) {
		if (m->kind == IR_M_LIMIT)
			return ipt_error(c, &m->loc, "this rule needs one iptables rule per action, "
					 "and each copy of the limit would allow the full rate"), false;
		for (const struct ir_stmt *s = r->stmts; s; s = s->next)
			if (stmt_changes_match(s, m))
				return ipt_error(c, &s->loc, "this rule needs one iptables rule per "
						 "action, and this action changes what a later copy "
						 "matches"), false;
	}
	return true;
}

static void ipt_rule_targets(struct ipt_ctx *c, const struct ir_chain *ch,
			     const struct ir_rule *r, const struct ipt_pick *pk)
{
	for (const struct ir_stmt *s = r->stmts; s; s = s->next)
		ipt_line(c, ch, r, pk, s);
	if (r->verdict.kind == IR_V_DNAT && r->verdict.u.nat.nrr) {
		struct ipt_pick one = *pk;
		unsigned period = ir_nat_rr_period(&r->verdict.u.nat);

		for (one.rr = 1; one.rr <= period; one.rr++)
			ipt_line(c, ch, r, &one, NULL);
		return;
	}
	if (r->verdict.kind != IR_V_NONE || !r->stmts)
		ipt_line(c, ch, r, pk, NULL);
}

/* A list iptables cannot hold in one option; the caller checked negation. */
static const struct ir_match *find_list(const struct ir_rule *r, enum ir_match_kind k)
{
	for (const struct ir_match *m = r->matches; m; m = m->next)
		if (m->kind == k)
			return m;
	return NULL;
}

/* ICMP types and codes: --icmp-type takes one of each, so a list or a
 * range is written one value at a time (the copies are disjoint: a packet
 * has one type and one code, so it matches at most one copy). */
static bool icmp_list(const struct ir_match *m)
{
	return m && (m->kind == IR_M_ICMP_TYPES || m->kind == IR_M_ICMP_CODES);
}

static unsigned icmp_values(const struct ir_match *m)
{
	unsigned n = 0;

	for (unsigned i = 0; i < m->u.ports.n; i++)
		n += m->u.ports.v[i].hi - m->u.ports.v[i].lo + 1;
	return n;
}

/* Element z of an expanded list: a port range as it stands, an ICMP type
 * or code alone. */
static struct ir_range list_elem(const struct ir_match *m, unsigned z)
{
	if (icmp_list(m)) {
		for (unsigned i = 0; i < m->u.ports.n; i++) {
			unsigned w = m->u.ports.v[i].hi - m->u.ports.v[i].lo + 1;

			if (z < w)
				return (struct ir_range){ m->u.ports.v[i].lo + z, m->u.ports.v[i].lo + z };
			z -= w;
		}
	}
	return m->u.ports.v[z];
}

static bool ipt_lists_ok(struct ipt_ctx *c, const struct ir_rule *r, const struct ir_match **pm,
			 const struct ir_match **pc)
{
	*pm = *pc = NULL;
	for (const struct ir_match *m = r->matches; m; m = m->next) {
		unsigned n = 0;

		switch (m->kind) {
		case IR_M_SADDR: case IR_M_DADDR: n = m->u.addrs.n; break;
		case IR_M_IIF: case IR_M_OIF: n = m->u.ifaces.n; break;
		case IR_M_ICMP_CODES:
			n = icmp_values(m);
			if (n > 1 && !m->neg)
				*pc = m;
			break;
		case IR_M_ICMP_TYPES:
		case IR_M_SPORT: case IR_M_DPORT:
			if (m->kind != IR_M_ICMP_TYPES &&
			    strcmp(match_module(c, m) ? match_module(c, m) : "", "multiport") == 0)
				continue;
			n = icmp_list(m) ? icmp_values(m) : m->u.ports.n;
			if (n > 1) {
				if (*pm)
					return ipt_error(c, &m->loc, "two port lists in one rule "
							 "cannot be written for iptables"), false;
				*pm = m;
			}
			break;
		case IR_M_PROTO: case IR_M_PORT: case IR_M_TCPFLAGS: case IR_M_TCPOPTION:
		case IR_M_ICMP: case IR_M_ICMP_ANY: case IR_M_FRAG: case IR_M_CTSTATE:
		case IR_M_CTSTATUS: case IR_M_CTDIR: case IR_M_LIMIT: case IR_M_MAC:
		case IR_M_MARK: case IR_M_CONNMARK: case IR_M_TOS: case IR_M_DSCP:
		case IR_M_LENGTH: case IR_M_TTL: case IR_M_COMMENT: case IR_M_ADDRTYPE:
		case IR_M_OWNER: case IR_M_TCPMSS: case IR_M_PKTTYPE: case IR_M_HELPER:
		case IR_M_SET:
			continue;
		}
		if (n == 0)
			return ipt_error(c, &m->loc, "internal error: empty list"), false;
		/* !{a,b} is "neither": one iptables rule per element would be "not a
		 * OR not b" -- a different, more permissive rule for ACCEPT */
		if (n > 1 && m->neg && icmp_list(m))
			return ipt_error(c, &m->loc, "a negated list or range of ICMP %s cannot "
					 "be written for iptables: --icmp-type takes one type "
					 "(and code), and one rule per value would accept what "
					 "the others exclude; use the nft backend, or name the "
					 "accepted values", m->kind == IR_M_ICMP_TYPES ? "types" :
					 "codes"), false;
		if (n > 1 && m->neg)
			return ipt_error(c, &m->loc, "a negated list cannot be written for "
					 "iptables, which takes one value per option"), false;
		if (n > 1 && find_list(r, IR_M_LIMIT))
			return ipt_error(c, &m->loc, "this list needs one iptables rule per "
					 "element, and each copy of the limit would allow the "
					 "full rate"), false;
	}
	return true;
}

static unsigned list_n(const struct ir_match *m)
{
	if (!m)
		return 1;
	switch (m->kind) {
	case IR_M_SADDR: case IR_M_DADDR:
		return match_builtin(m) ? m->u.addrs.n : 1;
	case IR_M_IIF: case IR_M_OIF:
		return m->u.ifaces.n;
	case IR_M_SPORT: case IR_M_DPORT:
		return m->u.ports.n;
	case IR_M_ICMP_TYPES: case IR_M_ICMP_CODES:
		return icmp_values(m);
	case IR_M_PROTO: case IR_M_PORT: case IR_M_TCPFLAGS: case IR_M_TCPOPTION:
	case IR_M_ICMP: case IR_M_ICMP_ANY: case IR_M_FRAG: case IR_M_CTSTATE:
	case IR_M_CTSTATUS: case IR_M_CTDIR: case IR_M_LIMIT: case IR_M_MAC:
	case IR_M_MARK: case IR_M_CONNMARK: case IR_M_TOS: case IR_M_DSCP:
	case IR_M_LENGTH: case IR_M_TTL: case IR_M_COMMENT: case IR_M_ADDRTYPE:
	case IR_M_OWNER: case IR_M_TCPMSS: case IR_M_PKTTYPE: case IR_M_HELPER:
	case IR_M_SET:
		return 1;
	}
	return 1;
}

static void ipt_rule(struct ipt_ctx *c, const struct ir_chain *ch, const struct ir_rule *r)
{
	const struct ir_match *s = NULL, *d = NULL, *i = NULL, *o = NULL, *pm, *pc;
	struct ipt_pick pk = { 0 };

	if (!ipt_lists_ok(c, r, &pm, &pc) || !ipt_split_ok(c, r))
		return;
	for (const struct ir_match *m = r->matches; m; m = m->next) {
		if (m->kind == IR_M_SADDR && match_builtin(m))
			s = m;
		if (m->kind == IR_M_DADDR && match_builtin(m))
			d = m;
		if (m->kind == IR_M_IIF)
			i = m;
		if (m->kind == IR_M_OIF)
			o = m;
	}
	ipt_location(c, &r->loc);
	pk.port_m = pm;
	pk.code_m = pc;
	if (r->verdict.kind == IR_V_DNAT && r->verdict.u.nat.nrr &&
	    list_n(s) * list_n(d) * list_n(i) * list_n(o) * list_n(pm) * list_n(pc) > 1) {
		/* each copy would count its own connections */
		ipt_error(c, &r->verdict.loc, "a load-shared DNAT in a rule that needs several "
			  "iptables rules cannot be written for iptables");
		return;
	}
	/* iptables' own nesting: source outer, destination inner; interface,
	 * port and ICMP lists (from other dialects) innermost */
	for (unsigned a = 0; a < list_n(s); a++)
		for (unsigned b = 0; b < list_n(d); b++)
			for (unsigned x = 0; x < list_n(i); x++)
				for (unsigned y = 0; y < list_n(o); y++)
					for (unsigned z = 0; z < list_n(pm); z++)
						for (unsigned k = 0; k < list_n(pc); k++) {
							pk.saddr = s ? &s->u.addrs.v[a] : NULL;
							pk.daddr = d ? &d->u.addrs.v[b] : NULL;
							pk.iif = i ? i->u.ifaces.v[x] : NULL;
							pk.oif = o ? o->u.ifaces.v[y] : NULL;
							if (pm)
								pk.port = list_elem(pm, z);
							if (pc)
								pk.code = list_elem(pc, k);
							ipt_rule_targets(c, ch, r, &pk);
						}
}

/* ---- tables ------------------------------------------------------------------------ */

static void ipt_helpers(struct ipt_ctx *c, const struct ir_ruleset *rs, const char *chain)
{
	for (const struct ir_helper *h = rs->helpers; h; h = h->next) {
		const char *p = h->l4proto == 6 ? "tcp" : h->l4proto == 17 ? "udp" : NULL;

		if (!p) {
			ipt_error(c, &h->loc, "helper '%s' for protocol %u: only tcp and udp "
				  "helpers exist", h->name, h->l4proto);
			continue;
		}
		for (unsigned i = 0; i < h->nports; i++) {
			ipt_location(c, &h->loc);
			sb_addf(c->sb, " -p %s -m %s --dport ", p, p);
			ipt_range(c->sb, &h->ports[i], ':');
			sb_add(c->sb, " -j CT --helper");
			ipt_string(c->sb, h->name);
			doc_line(c, chain);
		}
	}
}

static void ipt_table(struct ipt_ctx *c, const struct ir_ruleset *rs, const struct ir_table *t,
		      bool helpers)
{
	doc_table(c, t->name);
	for (const struct ir_chain *ch = t->chains; ch; ch = ch->next) {
		if (strchr(ch->name, ' ') || strchr(ch->name, '\t') || strchr(ch->name, '\n')) {
			ipt_error(c, &ch->loc, "chain name '%s' contains white space", ch->name);
			continue;
		}
		doc_chain(c, ch->name, !ch->builtin ? NULL :
			  ch->policy == IR_POLICY_DROP ? "DROP" : "ACCEPT");
	}
	for (const struct ir_chain *ch = t->chains; ch; ch = ch->next) {
		if (helpers && ch->builtin && (ch->hook == IR_HOOK_PREROUTING ||
					       ch->hook == IR_HOOK_OUTPUT)) {
			doc_comment(c, helpers_comment);
			ipt_helpers(c, rs, ch->name);
		}
		for (const struct ir_rule *r = ch->rules; r; r = r->next)
			ipt_rule(c, ch, r);
	}
}

static void ipt_helper_rules(struct ipt_ctx *c, const struct ir_ruleset *rs)
{
	doc_comment(c, helpers_comment);
	ipt_helpers(c, rs, "PREROUTING");
	ipt_helpers(c, rs, "OUTPUT");
}

/* The script has no raw rules: a raw table just for the helpers. */
static void ipt_helper_table(struct ipt_ctx *c, const struct ir_ruleset *rs)
{
	doc_table(c, "raw");
	doc_chain(c, "PREROUTING", "ACCEPT");
	doc_chain(c, "OUTPUT", "ACCEPT");
	ipt_helper_rules(c, rs);
}

/* ---- custom tables ------------------------------------------------------------------
 *
 * A custom IR table (the ipfwadm/ipchains emulation, docs/legacy.md) has
 * base chains at hooks and priorities of its own.  Each goes into the
 * iptables builtin chain that runs at the same point, when there is one:
 *
 *   filter prerouting, priority -200..-150  -> mangle PREROUTING (-150)
 *   nat prerouting                          -> nat PREROUTING
 *   filter forward, priority 0              -> filter FORWARD
 *   nat postrouting                         -> nat POSTROUTING
 *   filter postrouting, priority 101..150   -> mangle POSTROUTING (-150),
 *        which runs BEFORE nat POSTROUTING: exact only when no rule there
 *        looks at the source address or port while the table masquerades,
 *        and only for the first such chain (a later one would have to run
 *        after the first one's ACCEPT);
 *   anything else                           -> located error.
 *
 * Several custom base chains can land in one builtin; they follow each
 * other in the custom table's order, after the iptables table's own rules.
 * A user chain goes into every iptables table whose chains reach it.
 * REJECT outside the filter table becomes DROP with a warning (iptables
 * refuses it there; DROP is never more permissive); TOS outside mangle is
 * an error. */

struct ipt_slot {
	const struct ir_chain *ch;	/* custom base chain */
	const char *table, *chain;	/* where it goes; table NULL = cannot */
};

static const char *const ipt_builtins_of[4][7] = {
	{ "filter", "INPUT", "FORWARD", "OUTPUT", NULL, NULL },
	{ "nat", "PREROUTING", "INPUT", "OUTPUT", "POSTROUTING", NULL },
	{ "mangle", "PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING" },
	{ "raw", "PREROUTING", "OUTPUT", NULL, NULL, NULL },
};

const char *const *ipt_table_builtins(const char *table)
{
	for (unsigned i = 0; i < ARRAY_SIZE(ipt_builtins_of); i++)
		if (!strcmp(ipt_builtins_of[i][0], table))
			return &ipt_builtins_of[i][1];
	return NULL;
}

static bool table_masquerades(const struct ir_table *t)
{
	for (const struct ir_chain *ch = t->chains; ch; ch = ch->next)
		if (ch->builtin && ch->type == IR_CHAIN_NAT && ch->hook == IR_HOOK_POSTROUTING &&
		    ch->nrules)
			return true;
	return false;
}

/* The first match of the chain (or a chain it jumps to) that tests the
 * source address or port, or NULL. */
static const struct ir_match *chain_source_match(const struct ir_table *t,
						 const struct ir_chain *ch, unsigned depth)
{
	if (depth > 64)
		return NULL;
	for (const struct ir_rule *r = ch->rules; r; r = r->next) {
		for (const struct ir_match *m = r->matches; m; m = m->next)
			if (m->kind == IR_M_SADDR || m->kind == IR_M_SPORT || m->kind == IR_M_PORT)
				return m;
		if (r->verdict.kind == IR_V_JUMP || r->verdict.kind == IR_V_GOTO) {
			const struct ir_chain *to = ir_chain_find(t, r->verdict.u.chain.name);
			const struct ir_match *m = to ? chain_source_match(t, to, depth + 1) : NULL;

			if (m)
				return m;
		}
	}
	return NULL;
}

static bool chain_in_use(const struct ir_chain *ch)
{
	return ch->nrules || ch->policy != IR_POLICY_ACCEPT;
}

static void custom_map(struct ipt_ctx *c, const struct ir_table *t, struct ipt_slot *sl,
		       bool *post_taken)
{
	const struct ir_chain *ch = sl->ch;
	bool nat = ch->type == IR_CHAIN_NAT;

	sl->table = sl->chain = NULL;
	switch (ch->hook) {
	case IR_HOOK_PREROUTING:
		if (nat) {
			sl->table = "nat";
			sl->chain = "PREROUTING";
		} else if (ch->priority >= -200 && ch->priority <= -150) {
			sl->table = "mangle";
			sl->chain = "PREROUTING";
		}
		break;
	case IR_HOOK_FORWARD:
		if (!nat && ch->priority == 0) {
			sl->table = "filter";
			sl->chain = "FORWARD";
		}
		break;
	case IR_HOOK_POSTROUTING:
		if (nat) {
			sl->table = "nat";
			sl->chain = "POSTROUTING";
		} else if (ch->priority > 100 && ch->priority <= 150) {
			const struct ir_match *m = table_masquerades(t) ? chain_source_match(t, ch, 0) : NULL;

			if (m) {
				ipt_error(c, &m->loc, "this rule tests the source after masquerading "
					  "(the ipchains output chain sees masqueraded packets); "
					  "iptables has no chain after nat POSTROUTING, so it "
					  "cannot be written for iptables; use -t nft");
				return;
			}
			if (*post_taken) {
				const struct loc *loc = ch->rules ? &ch->rules->loc : &ch->loc;

				ipt_error(c, loc, "these rules run after the output chain's verdict "
					  "(ipfwadm -A out counts what the output firewall let "
					  "through); iptables has no chain after that, so they "
					  "cannot be written for iptables; use -t nft");
				return;
			}
			*post_taken = true;
			sl->table = "mangle";
			sl->chain = "POSTROUTING";
		}
		break;
	case IR_HOOK_NONE:
	case IR_HOOK_INPUT:
	case IR_HOOK_OUTPUT:
		break;
	}
	if (!sl->table)
		ipt_error(c, ch->rules ? &ch->rules->loc : &ch->loc, "chain %s (%s hook %s, priority "
			  "%d) has no iptables equivalent; use -t nft", ch->name,
			  nat ? "nat" : "filter", ir_hook_name(ch->hook), ch->priority);
}

/* User chains of t reachable from the custom base chains in table tn. */
static void custom_reach(const struct ir_table *t, const struct ir_chain *ch, const char **seen_tab,
			 const struct ir_chain **seen, size_t n, const char *tn)
{
	for (const struct ir_rule *r = ch->rules; r; r = r->next) {
		const struct ir_chain *to;
		size_t i = 0;

		if (r->verdict.kind != IR_V_JUMP && r->verdict.kind != IR_V_GOTO)
			continue;
		to = ir_chain_find(t, r->verdict.u.chain.name);
		if (!to || to->builtin)
			continue;
		for (const struct ir_chain *x = t->chains; x && x != to; x = x->next)
			i++;
		if (i >= n || seen_tab[i] == tn)
			continue;
		seen[i] = to;
		seen_tab[i] = tn;
		custom_reach(t, to, seen_tab, seen, n, tn);
	}
}

/* The REJECTs marked in mangle PREROUTING, carried out where iptables
 * allows them.  A packet marked there is either delivered (INPUT) or
 * forwarded (FORWARD); the mark was set on the fields the input chain saw
 * (before DNAT), which is what 2.x decided on. */
static void ipt_deferred(struct ipt_ctx *c, const char *chain)
{
	for (unsigned k = 0; k <= IR_REJ6_REJECT_ROUTE; k++) {
		const char *s;

		if (!c->rej_bit[k])
			continue;
		s = ipt_reject_name(c, (enum ir_reject)k);
		sb_addf(c->sb, " -m mark --mark 0x%" PRIx32 "/0x%" PRIx32 " -j REJECT",
			c->rej_bit[k], c->rej_bit[k]);
		if (s)
			sb_addf(c->sb, " --reject-with %s", s);
		doc_line(c, chain);
	}
}

/* Mark bits a rule of the ruleset sets or tests. */
static uint32_t ruleset_mark_bits(const struct ir_ruleset *rs)
{
	uint32_t used = 0;

	for (const struct ir_table *t = rs->tables; t; t = t->next)
		for (const struct ir_chain *ch = t->chains; ch; ch = ch->next)
			for (const struct ir_rule *r = ch->rules; r; r = r->next) {
				for (const struct ir_match *m = r->matches; m; m = m->next)
					if (m->kind == IR_M_MARK)
						used |= m->u.markmask.mask;
				for (const struct ir_stmt *st = r->stmts; st; st = st->next)
					if (st->kind == IR_S_MARK || (st->kind == IR_S_CONNMARK &&
								     st->u.setmark.op == IR_MARK_RESTORE))
						used |= st->u.setmark.mask | st->u.setmark.value |
							st->u.setmark.nfmask;
			}
	return used;
}

/* One packet-mark bit per REJECT kind used in chains that go to mangle,
 * from bit 31 down, avoiding every bit the script's own marks touch. */
static void ipt_plan_rejects(struct ipt_ctx *c, const struct ir_ruleset *rs,
			     const struct ir_chain *const *mangle, size_t n)
{
	uint32_t used = ruleset_mark_bits(rs), bit = 0x80000000u;

	for (size_t i = 0; i < n; i++)
		for (const struct ir_rule *r = mangle[i]->rules; r; r = r->next) {
			enum ir_reject k = r->verdict.u.reject;

			if (r->verdict.kind != IR_V_REJECT || k > IR_REJ6_REJECT_ROUTE ||
			    c->rej_bit[k])
				continue;
			while (bit && (used & bit))
				bit >>= 1;
			if (!bit)
				return;	/* no free bit: ipt_verdict drops, with a warning */
			c->rej_bit[k] = bit;
			bit >>= 1;
		}
}

struct ipt_custom {
	const struct ir_table *t;
	struct ipt_slot *slots;
	size_t nslots;
	const char **user_tab;		/* per chain of t (by position): last table reaching it */
	const char ***user_in;		/* per iptables table index: per chain position, set? */
	size_t nchains;
};

static void ipt_merged_table(struct ipt_ctx *c, const struct ir_ruleset *rs, unsigned ti,
			     const struct ir_table *std, struct ipt_custom *cu, size_t ncu)
{
	const char *tn = ipt_builtins_of[ti][0];
	bool any = std != NULL;

	for (size_t k = 0; k < ncu; k++)
		for (size_t i = 0; i < cu[k].nslots; i++)
			if (cu[k].slots[i].table == tn)
				any = true;
	if (!any)
		return;
	doc_table(c, tn);
	/* builtins: the iptables table's policy, or DROP from a custom chain */
	for (unsigned b = 1; b < 6 && ipt_builtins_of[ti][b]; b++) {
		const char *bn = ipt_builtins_of[ti][b];
		const struct ir_chain *sc = std ? ir_chain_find(std, bn) : NULL;
		bool drop = sc && sc->policy == IR_POLICY_DROP;

		for (size_t k = 0; k < ncu; k++)
			for (size_t i = 0; i < cu[k].nslots; i++)
				if (cu[k].slots[i].table == tn && !strcmp(cu[k].slots[i].chain, bn) &&
				    cu[k].slots[i].ch->policy == IR_POLICY_DROP) {
					if (sc && chain_in_use(sc) && !drop)
						ipt_error(c, &cu[k].slots[i].ch->policy_loc, "the %s "
							  "policy DROP would also apply to the %s %s "
							  "rules of the iptables part of the script; "
							  "use -t nft", bn, tn, bn);
					drop = true;
				}
		doc_chain(c, bn, drop ? "DROP" : "ACCEPT");
	}
	if (std)
		for (const struct ir_chain *ch = std->chains; ch; ch = ch->next)
			if (!ch->builtin)
				doc_chain(c, ch->name, NULL);
	for (size_t k = 0; k < ncu; k++) {
		size_t i = 0;

		for (const struct ir_chain *ch = cu[k].t->chains; ch; ch = ch->next, i++)
			if (cu[k].user_in[ti][i])
				doc_chain(c, ch->name, NULL);
	}
	/* rules: each builtin's own rules, then the custom chains mapped to it */
	for (unsigned b = 1; b < 6 && ipt_builtins_of[ti][b]; b++) {
		const char *bn = ipt_builtins_of[ti][b];
		const struct ir_chain *sc = std ? ir_chain_find(std, bn) : NULL;

		if (ti == 0 && (!strcmp(bn, "INPUT") || !strcmp(bn, "FORWARD")))
			ipt_deferred(c, bn);

		if (sc)
			for (const struct ir_rule *r = sc->rules; r; r = r->next)
				ipt_rule(c, sc, r);
		for (size_t k = 0; k < ncu; k++)
			for (size_t i = 0; i < cu[k].nslots; i++) {
				const struct ipt_slot *sl = &cu[k].slots[i];

				if (sl->table != tn || strcmp(sl->chain, bn) != 0)
					continue;
				c->chain_name = bn;
				c->ipt_table = tn;
				for (const struct ir_rule *r = sl->ch->rules; r; r = r->next)
					ipt_rule(c, sl->ch, r);
				c->chain_name = NULL;
				c->ipt_table = NULL;
			}
	}
	if (std)
		for (const struct ir_chain *ch = std->chains; ch; ch = ch->next)
			if (!ch->builtin)
				for (const struct ir_rule *r = ch->rules; r; r = r->next)
					ipt_rule(c, ch, r);
	for (size_t k = 0; k < ncu; k++) {
		size_t i = 0;

		for (const struct ir_chain *ch = cu[k].t->chains; ch; ch = ch->next, i++) {
			if (!cu[k].user_in[ti][i])
				continue;
			c->ipt_table = tn;
			for (const struct ir_rule *r = ch->rules; r; r = r->next)
				ipt_rule(c, ch, r);
			c->ipt_table = NULL;
		}
	}
	if (rs->helpers && ti == 3)
		ipt_helper_rules(c, rs);
}

static void ipt_custom_free(struct ipt_custom *cu, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		free(cu[k].slots);
		free(cu[k].user_tab);
		for (unsigned ti = 0; ti < 4; ti++)
			free(cu[k].user_in[ti]);
		free(cu[k].user_in);
	}
	free(cu);
}

/* The whole family when it has custom tables. */
static void ipt_emit_merged(struct ipt_ctx *c, const struct ir_ruleset *rs)
{
	struct ipt_custom *cu = NULL;
	size_t ncu = 0;
	bool post_taken = false;

	for (const struct ir_table *t = rs->tables; t; t = t->next) {
		struct ipt_custom *x;
		size_t n = 0;

		if (t->family != c->fam || !t->custom)
			continue;
		cu = xrealloc(cu, (ncu + 1) * sizeof(*cu));
		x = &cu[ncu++];
		memset(x, 0, sizeof(*x));
		x->t = t;
		for (const struct ir_chain *ch = t->chains; ch; ch = ch->next)
			n++;
		x->nchains = n;
		x->slots = xzalloc((n ? n : 1) * sizeof(*x->slots));
		x->user_tab = xzalloc((n ? n : 1) * sizeof(*x->user_tab));
		x->user_in = xzalloc(4 * sizeof(*x->user_in));
		for (unsigned ti = 0; ti < 4; ti++)
			x->user_in[ti] = xzalloc((n ? n : 1) * sizeof(**x->user_in));
		for (const struct ir_chain *ch = t->chains; ch; ch = ch->next) {
			if (!ch->builtin || !chain_in_use(ch))
				continue;
			x->slots[x->nslots].ch = ch;
			custom_map(c, t, &x->slots[x->nslots], &post_taken);
			if (x->slots[x->nslots].table)
				x->nslots++;
		}
		for (unsigned ti = 0; ti < 4; ti++) {
			const struct ir_chain **seen = xzalloc((n ? n : 1) * sizeof(*seen));

			for (size_t i = 0; i < x->nslots; i++)
				if (!strcmp(x->slots[i].table, ipt_builtins_of[ti][0]))
					custom_reach(t, x->slots[i].ch, x->user_tab, seen, n,
						     ipt_builtins_of[ti][0]);
			for (size_t i = 0; i < n; i++)
				x->user_in[ti][i] = seen[i] ? ipt_builtins_of[ti][0] : NULL;
			free(seen);
		}
		/* REJECTs of chains that land in mangle PREROUTING */
		{
			const struct ir_chain **mg = xzalloc((n + 1) * sizeof(*mg));
			size_t nm = 0, i = 0;

			for (size_t k = 0; k < x->nslots; k++)
				if (!strcmp(x->slots[k].table, "mangle") &&
				    !strcmp(x->slots[k].chain, "PREROUTING"))
					mg[nm++] = x->slots[k].ch;
			for (const struct ir_chain *ch = t->chains; ch; ch = ch->next, i++)
				if (x->user_in[2][i])
					mg[nm++] = ch;
			ipt_plan_rejects(c, rs, mg, nm);
			free(mg);
		}
	}
	/* the order iptables-save prints */
	for (unsigned ti = 0; ti < 4; ti++) {
		const struct ir_table *std = ir_table_find(rs, c->fam, ipt_builtins_of[ti][0]);

		if (std && std->custom)
			std = NULL;
		if (ti == 3 && rs->helpers && !std) {
			/* helpers need a raw table even without raw rules */
			ipt_helper_table(c, rs);
			continue;
		}
		if (ti == 3 && std) {
			ipt_table(c, rs, std, rs->helpers != NULL);
			continue;
		}
		ipt_merged_table(c, rs, ti, std, cu, ncu);
	}
	ipt_custom_free(cu, ncu);
}

static bool has_custom(const struct ir_ruleset *rs, enum ir_family fam)
{
	for (const struct ir_table *t = rs->tables; t; t = t->next)
		if (t->family == fam && t->custom)
			return true;
	return false;
}

/* Helper modules (ip_conntrack_ftp, ...) are IPv4 modules; like the nft
 * backend, an IPv6 output carries helper assignments only when the script
 * also has IPv6 rules. */
static bool family_wants_helpers(const struct ir_ruleset *rs, enum ir_family fam)
{
	if (fam == IR_FAM_IPV4)
		return true;
	for (const struct ir_table *t = rs->tables; t; t = t->next)
		if (t->family == fam)
			return true;
	return false;
}

/* A named map that the packet path fills (struct ir_map) has no iptables
 * form: no target stores an address for a later DNAT to read (the recent
 * match keeps addresses, but only to test them, never to rewrite to).  One
 * error per map, at what asked for it; its rules are left out. */
static void ipt_refuse_maps(struct ipt_ctx *c, const struct ir_ruleset *rs)
{
	for (const struct ir_table *t = rs->tables; t; t = t->next) {
		if (t->family != c->fam)
			continue;
		for (const struct ir_map *m = t->maps; m; m = m->next) {
			diag_add(c->dq, DIAG_ERROR, &m->loc, "compile for nftables (-t nft, the "
				 "default, or masqc apply), which keeps the address in a dynamic map; "
				 "a forward to a fixed host (autofw -h HOST, no -c) works with iptables",
				 "iptables cannot forward to an address learned from the traffic "
				 "(here: the inside host that last used the control port); no "
				 "target records an address for a later DNAT");
			c->err = -1;
		}
	}
}

int ipt_build(const struct ir_ruleset *rs, enum ir_family fam, struct diag_queue *dq,
	      struct ipt_doc *doc)
{
	struct strbuf line = { 0 };
	struct ipt_ctx c = { .dq = dq, .sb = &line, .fam = fam, .doc = doc };
	bool raw_seen = false;
	bool helpers = rs->helpers && family_wants_helpers(rs, fam);

	memset(doc, 0, sizeof(*doc));
	doc->fam = fam;
	ipt_refuse_maps(&c, rs);
	if (c.err) {
		/* what else the map's rules need is moot */
		sb_free(&line);
		ipt_doc_free(doc);
		return c.err;
	}
	if (has_custom(rs, fam)) {
		ipt_emit_merged(&c, rs);
	} else {
		for (const struct ir_table *t = rs->tables; t; t = t->next) {
			if (t->family != fam)
				continue;
			if (strcmp(t->name, "raw") == 0)
				raw_seen = true;
			ipt_table(&c, rs, t, helpers && strcmp(t->name, "raw") == 0);
		}
		if (helpers && !raw_seen)
			ipt_helper_table(&c, rs);
	}
	sb_free(&line);
	if (c.err)
		ipt_doc_free(doc);
	return c.err;
}

int ipt_emit(const struct ir_ruleset *rs, enum ir_family fam, FILE *out,
	     const struct emit_opts *o, struct diag_queue *dq)
{
	struct ipt_doc doc;

	if (ipt_build(rs, fam, dq, &doc) < 0)
		return -1;
	fputs("# generated by masqc", out);
	if (o && o->ninputs) {
		fputs(" from", out);
		for (unsigned i = 0; i < o->ninputs; i++)
			fprintf(out, "%s %s", i ? "," : "", o->inputs[i]);
	}
	fputc('\n', out);
	ipt_doc_write(&doc, out, o);
	ipt_doc_free(&doc);
	return 0;
}
