/* legacy-parse.c -- what ipchains, ipfwadm and ipmasqadm parse alike.
 *
 * The old tools read addresses with getnetbyname()/gethostbyname(), so a
 * short form like "10/8" or "192.168.1/24" went through inet_aton(): the
 * LAST number fills the remaining bytes ("192.168.1" is 192.168.0.1, not
 * 192.168.1.0 as iptables reads it).  That is reproduced here, with a
 * warning whenever it differs from the reading a script writer most likely
 * had in mind.  Hostnames were resolved when the command ran; a compiler
 * cannot do that, so they are errors asking for the address.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "legacy-parse.h"
#include "../util.h"

void lgp_init(struct lgp *p, struct parse_ctx *pc, const struct command *cmd)
{
	const char *a0 = cmd->argc ? cmd->argv[0].text : "";
	const char *sl = strrchr(a0, '/');

	memset(p, 0, sizeof(*p));
	p->pc = pc;
	p->cmd = cmd;
	p->prog = sl ? sl + 1 : a0;
}

int lgp_err(struct lgp *p, const struct loc *loc, const char *hint, const char *fmt, ...)
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

int lgp_literal(struct lgp *p, const struct word *w)
{
	const char *name;
	char *hint;

	switch (w->kind) {
	case WORD_LITERAL:
		return 0;
	case WORD_UNKNOWN:
		name = w->var ? w->var : w->sym ? w->sym : "VALUE";
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
	case WORD_IFADDR:
		hint = xasprintf("give -D %s=ADDRESS", w->var ? w->var : "VAR");
		diag_add(p->pc->dq, DIAG_ERROR, &w->loc, hint,
			 "the address of interface %s is only known when the script runs, "
			 "and cannot be used here", w->sym ? w->sym : "?");
		free(hint);
		p->err = -1;
		return -1;
	}
	return -1;
}

bool lgp_uint(const char *s, int base, uint32_t max, uint32_t *out)
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

static bool uint_n(const char *s, size_t n, uint32_t max, uint32_t *out)
{
	char buf[32];

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return lgp_uint(buf, 10, max, out);
}

struct word lgp_subword(const struct word *w, size_t off)
{
	struct word s = *w;

	s.text = w->text + off;
	/* only move the caret when the word stands literally in the source */
	if (w->loc.len == strlen(w->text) && off < w->loc.len) {
		s.loc.col += (unsigned)off;
		s.loc.len -= (unsigned)off;
	}
	return s;
}

struct lg_cmd *lgp_cmd_new(enum lg_tool tool, enum lg_op op, const struct loc *loc)
{
	struct lg_cmd *c = xzalloc(sizeof(*c));

	c->tool = tool;
	c->op = op;
	c->loc = *loc;
	return c;
}

/* ---- names ---------------------------------------------------------------- */

struct name_num {
	const char *name;
	uint32_t num;
};

/* Debian's /etc/protocols plus the names every libc knew; fixed, so the
 * translation does not depend on the build host. */
static const struct name_num protocols[] = {
	{ "all", 0 }, { "ip", 0 }, { "icmp", 1 }, { "igmp", 2 }, { "ggp", 3 },
	{ "ipencap", 4 }, { "st", 5 }, { "tcp", 6 }, { "egp", 8 }, { "igp", 9 },
	{ "pup", 12 }, { "udp", 17 }, { "hmp", 20 }, { "xns-idp", 22 }, { "rdp", 27 },
	{ "iso-tp4", 29 }, { "dccp", 33 }, { "xtp", 36 }, { "ddp", 37 }, { "idpr-cmtp", 38 },
	{ "ipv6", 41 }, { "ipv6-route", 43 }, { "ipv6-frag", 44 }, { "idrp", 45 },
	{ "rsvp", 46 }, { "gre", 47 }, { "esp", 50 }, { "ah", 51 }, { "ipv6-crypt", 50 },
	{ "ipv6-auth", 51 }, { "skip", 57 }, { "ipv6-icmp", 58 }, { "ipv6-nonxt", 59 },
	{ "ipv6-opts", 60 }, { "rspf", 73 }, { "vmtp", 81 }, { "eigrp", 88 }, { "ospf", 89 },
	{ "ax.25", 93 }, { "ipip", 94 }, { "etherip", 97 }, { "encap", 98 }, { "pim", 103 },
	{ "ipcomp", 108 }, { "vrrp", 112 }, { "l2tp", 115 }, { "isis", 124 }, { "sctp", 132 },
	{ "fc", 133 }, { "udplite", 136 },
};

bool lgp_proto(const char *s, uint32_t *proto)
{
	if (lgp_uint(s, 10, 255, proto))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(protocols); i++)
		if (!strcasecmp(protocols[i].name, s)) {
			*proto = protocols[i].num;
			return true;
		}
	return false;
}

const char *lgp_proto_name(uint32_t proto)
{
	for (size_t i = 0; i < ARRAY_SIZE(protocols); i++)
		if (protocols[i].num == proto)
			return protocols[i].name;
	return NULL;
}

/* The services the old HOWTO scripts name (netbase numbering). */
static const struct name_num services[] = {
	{ "echo", 7 }, { "discard", 9 }, { "systat", 11 }, { "daytime", 13 }, { "netstat", 15 },
	{ "chargen", 19 }, { "ftp-data", 20 }, { "ftp", 21 }, { "ssh", 22 }, { "telnet", 23 },
	{ "smtp", 25 }, { "mail", 25 }, { "time", 37 }, { "nameserver", 42 }, { "whois", 43 },
	{ "nicname", 43 }, { "tacacs", 49 }, { "domain", 53 }, { "bootps", 67 },
	{ "bootpc", 68 }, { "tftp", 69 }, { "gopher", 70 }, { "finger", 79 }, { "http", 80 },
	{ "www", 80 }, { "www-http", 80 }, { "kerberos", 88 }, { "pop2", 109 }, { "pop-2", 109 },
	{ "pop3", 110 }, { "pop-3", 110 }, { "sunrpc", 111 }, { "portmapper", 111 },
	{ "auth", 113 }, { "ident", 113 }, { "sftp", 115 }, { "nntp", 119 }, { "ntp", 123 },
	{ "netbios-ns", 137 }, { "netbios-dgm", 138 }, { "netbios-ssn", 139 },
	{ "imap", 143 }, { "imap2", 143 }, { "snmp", 161 }, { "snmp-trap", 162 },
	{ "xdmcp", 177 }, { "bgp", 179 }, { "irc", 194 }, { "imap3", 220 }, { "ldap", 389 },
	{ "https", 443 }, { "microsoft-ds", 445 }, { "ssmtp", 465 }, { "smtps", 465 },
	{ "isakmp", 500 }, { "exec", 512 }, { "biff", 512 }, { "login", 513 }, { "who", 513 },
	{ "shell", 514 }, { "syslog", 514 }, { "printer", 515 }, { "talk", 517 },
	{ "ntalk", 518 }, { "route", 520 }, { "router", 520 }, { "timed", 525 },
	{ "uucp", 540 }, { "klogin", 543 }, { "kshell", 544 }, { "ipp", 631 },
	{ "ldaps", 636 }, { "rsync", 873 }, { "imaps", 993 }, { "pop3s", 995 },
	{ "socks", 1080 }, { "pptp", 1723 }, { "nfs", 2049 }, { "cvspserver", 2401 },
	{ "squid", 3128 }, { "mysql", 3306 }, { "x11", 6000 }, { "ircd", 6667 },
	{ "webcache", 8080 }, { "http-alt", 8080 },
};

bool lgp_port(const char *s, size_t n, uint8_t proto, uint32_t *port)
{
	if (uint_n(s, n, 65535, port))
		return true;
	if (proto != 6 && proto != 17)
		return false;	/* ICMP types must be numeric; others have no ports */
	for (size_t i = 0; i < ARRAY_SIZE(services); i++)
		if (strlen(services[i].name) == n && !strncmp(services[i].name, s, n)) {
			*port = services[i].num;
			return true;
		}
	return false;
}

/* ---- addresses ---------------------------------------------------------------- */

/* dotted_to_addr() of the old tools: exactly four decimal bytes. */
static bool dotted4(const char *s, size_t n, uint32_t *out)
{
	uint32_t v = 0, b;
	unsigned parts = 0;

	while (n) {
		const char *dot = memchr(s, '.', n);
		size_t k = dot ? (size_t)(dot - s) : n;

		if (parts == 4 || !uint_n(s, k, 255, &b))
			return false;
		v = v << 8 | b;
		parts++;
		if (!dot)
			break;
		n -= k + 1;
		s = dot + 1;
		if (!n)
			return false;
	}
	if (parts != 4)
		return false;
	*out = v;
	return true;
}

/* inet_aton's short forms (decimal): a, a.b (b: 24 bits), a.b.c (c: 16
 * bits).  *zero_fill gets the reading iptables would give (missing bytes
 * zero) so the caller can warn when the two differ. */
static bool aton_short(const char *s, size_t n, uint32_t *out, uint32_t *zero_fill)
{
	uint32_t part[3], v;
	unsigned np = 0;

	while (n) {
		const char *dot = memchr(s, '.', n);
		size_t k = dot ? (size_t)(dot - s) : n;

		if (np == 3 || !uint_n(s, k, 0xffffffffu, &part[np]))
			return false;
		np++;
		if (!dot)
			break;
		n -= k + 1;
		s = dot + 1;
		if (!n)
			return false;
	}
	switch (np) {
	case 1:
		v = part[0];
		*zero_fill = part[0] <= 255 ? part[0] << 24 : part[0];
		break;
	case 2:
		if (part[0] > 255 || part[1] > 0xffffff)
			return false;
		v = part[0] << 24 | part[1];
		*zero_fill = part[1] <= 255 ? (part[0] << 24 | part[1] << 16) : v;
		break;
	case 3:
		if (part[0] > 255 || part[1] > 255 || part[2] > 0xffff)
			return false;
		v = part[0] << 24 | part[1] << 16 | part[2];
		*zero_fill = part[2] <= 255 ? (v & 0xffff0000u) | part[2] << 8 : v;
		break;
	default:
		return false;
	}
	*out = v;
	return true;
}

static void addr_set(struct ir_addr *a, uint32_t v, unsigned plen)
{
	uint32_t m = plen ? 0xffffffffu << (32 - plen) : 0;

	v &= m;
	a->lo[0] = (uint8_t)(v >> 24);
	a->lo[1] = (uint8_t)(v >> 16);
	a->lo[2] = (uint8_t)(v >> 8);
	a->lo[3] = (uint8_t)v;
	a->plen = (uint8_t)plen;
}

static bool looks_like_name(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (isalpha((unsigned char)s[i]) || s[i] == '-' || s[i] == '_')
			return true;
	return false;
}

static int addr_ifaddr(struct lgp *p, const struct word *w, struct ir_addr *a)
{
	uint32_t plen = 32;

	if (w->text[0] && (w->text[0] != '/' || !lgp_uint(w->text + 1, 10, 32, &plen) || plen != 32))
		return lgp_err(p, &w->loc, NULL, "not supported: '%s' after the address of interface %s "
			       "(give -D %s=ADDRESS to use a fixed address)", w->text,
			       w->sym ? w->sym : "?", w->var ? w->var : "VAR");
	a->kind = IR_ADDR_IFADDR;
	a->plen = 32;
	a->ifname = xstrdup(w->sym ? w->sym : "");
	a->var = w->var ? xstrdup(w->var) : NULL;
	return 0;
}

int lgp_addr(struct lgp *p, const struct word *w, struct ir_addr *a, bool allow_ifaddr)
{
	const char *s = w->text, *sl;
	size_t alen;
	unsigned plen = 32;
	uint32_t v, zf;

	memset(a, 0, sizeof(*a));
	a->kind = IR_ADDR_PREFIX;
	a->af = 4;
	a->loc = w->loc;
	if (w->kind == WORD_IFADDR && allow_ifaddr)
		return addr_ifaddr(p, w, a);
	if (lgp_literal(p, w))
		return -1;
	if (!*s)
		return lgp_err(p, &w->loc, NULL, "empty address (an unset variable?)");
	sl = strrchr(s, '/');
	alen = sl ? (size_t)(sl - s) : strlen(s);
	if (sl) {
		const char *m = sl + 1;
		uint32_t mv, bits;

		if (dotted4(m, strlen(m), &mv)) {
			for (bits = 0; bits < 32 && (mv & (0x80000000u >> bits)); bits++)
				;
			if (bits < 32 && (mv << bits) != 0)
				return lgp_err(p, &w->loc, "nftables and masqc only express prefix masks",
					       "not supported: non-contiguous netmask '%s'", m);
			plen = bits;
		} else if (lgp_uint(m, 10, 32, &bits)) {
			plen = bits;
		} else {
			return lgp_err(p, &w->loc, "a mask is a bit count (24) or dotted (255.255.255.0)",
				       "invalid mask '%s'", m);
		}
	}
	if (alen == 0) {
		char *hint = w->var ? xasprintf("give -D %s=ADDRESS", w->var) :
				      xstrdup("is a variable before it empty or unset?");

		lgp_err(p, &w->loc, hint, "no address before '%s'", s);
		free(hint);
		return -1;
	}
	/* "if a null mask is given, the name is ignored, like in any/0" */
	if (plen == 0) {
		addr_set(a, 0, 0);
		return 0;
	}
	if (dotted4(s, alen, &v)) {
		addr_set(a, v, plen);
		return 0;
	}
	if (aton_short(s, alen, &v, &zf)) {
		uint32_t m = 0xffffffffu << (32 - plen);

		if ((v & m) != (zf & m))
			diag_add(p->pc->dq, DIAG_WARNING, &w->loc, "write the four bytes (a.b.c.d) to say "
				 "which one is meant",
				 "%s read '%.*s' like inet_aton: the last number fills the remaining "
				 "bytes, so it is %u.%u.%u.%u (not %u.%u.%u.%u); kept as %s read it",
				 p->prog, (int)alen, s, v >> 24, v >> 16 & 255, v >> 8 & 255, v & 255,
				 zf >> 24, zf >> 16 & 255, zf >> 8 & 255, zf & 255, p->prog);
		addr_set(a, v, plen);
		return 0;
	}
	if (looks_like_name(s, alen)) {
		char *hint = w->var ? xasprintf("give -D %s=ADDRESS (the value the script sets looks like a "
						"placeholder or a host name)", w->var) :
				      xstrdup("write the address itself");

		lgp_err(p, &w->loc, hint, "%s looked up '%.*s' when the command ran; a ruleset compiled "
			"ahead of time cannot, so the address is needed", p->prog, (int)alen, s);
		free(hint);
		return -1;
	}
	if (memchr(s, ':', alen) && strspn(s, "0123456789:") == alen)
		return lgp_err(p, &w->loc, "is the variable that should give the address empty or unset?",
			       "invalid address '%.*s' (a port range where the address belongs)", (int)alen, s);
	return lgp_err(p, &w->loc, NULL, "invalid address '%.*s'", (int)alen, s);
}
