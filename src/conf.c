/* conf.c -- masqc.conf (conf.h; the format is in man/masqc.conf.5).
 *
 * One directive per line, words separated by blanks, '#' starts a comment.
 * Errors are located like script errors (file:line:col, caret), because a
 * boot that ends locked down has to say exactly which line did it.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

const char *conf_path(void)
{
	const char *e = getenv("MASQC_CONF");

	return e && *e ? e : CONF_PATH_DEFAULT;
}

struct conf_word {
	const char *s;
	size_t len;
	struct loc loc;
};

static const char *const directives[] = {
	"arg", "backend", "define", "dialect", "ipv6-save", "legacy-generation",
	"lockdown-allow", "lockdown-output", "script", "strict",
};

static bool word_is(const struct conf_word *w, const char *s)
{
	return strlen(s) == w->len && !memcmp(w->s, s, w->len);
}

static char *word_dup(const struct conf_word *w)
{
	return xstrndup(w->s, w->len);
}

static int want_words(struct diag_queue *dq, const struct conf_word *w, unsigned n, unsigned lo, unsigned hi)
{
	if (n - 1 < lo)
		return diag_error(dq, &w[0].loc, "'%.*s' wants %s", (int)w[0].len, w[0].s,
				  lo == 1 ? "a value" : "more words");
	if (n - 1 > hi)
		return diag_error(dq, &w[hi + 1].loc, "unexpected '%.*s' after '%.*s'",
				  (int)w[hi + 1].len, w[hi + 1].s, (int)w[0].len, w[0].s);
	return 0;
}

static int yes_no(struct diag_queue *dq, const struct conf_word *w, bool *out)
{
	if (word_is(w, "yes") || word_is(w, "true") || word_is(w, "1"))
		*out = true;
	else if (word_is(w, "no") || word_is(w, "false") || word_is(w, "0"))
		*out = false;
	else
		return diag_error(dq, &w->loc, "'%.*s' is not yes or no", (int)w->len, w->s);
	return 0;
}

static int parse_ports(struct diag_queue *dq, const struct conf_word *w, struct lockdown_allow *a)
{
	char *s = word_dup(w), *end, *dash = strchr(s, '-');
	unsigned long lo, hi;

	lo = strtoul(s, &end, 10);
	if (end == s || (dash ? end != dash : *end != '\0'))
		goto bad;
	hi = lo;
	if (dash) {
		hi = strtoul(dash + 1, &end, 10);
		if (end == dash + 1 || *end)
			goto bad;
	}
	if (lo == 0 || hi > 65535 || lo > hi)
		goto bad;
	a->port_lo = (uint16_t)lo;
	a->port_hi = (uint16_t)hi;
	free(s);
	return 0;
bad:
	free(s);
	return diag_error(dq, &w->loc, "'%.*s' is not a port or port range (1-65535, e.g. 22 or 60000-61000)",
			  (int)w->len, w->s);
}

static int parse_prefix(struct diag_queue *dq, const struct conf_word *w, struct lockdown_allow *a)
{
	char *s = word_dup(w), *slash = strchr(s, '/'), *end;
	unsigned long plen;
	unsigned max;

	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, s, a->addr) == 1) {
		a->af = 4, max = 32;
	} else if (inet_pton(AF_INET6, s, a->addr) == 1) {
		a->af = 6, max = 128;
	} else {
		free(s);
		return diag_error(dq, &w->loc, "'%.*s' is not an address or prefix (e.g. 192.168.1.0/24)",
				  (int)w->len, w->s);
	}
	plen = max;
	if (slash) {
		plen = strtoul(slash + 1, &end, 10);
		if (end == slash + 1 || *end || plen > max) {
			free(s);
			return diag_error(dq, &w->loc, "bad prefix length in '%.*s' (0 to %u)",
					  (int)w->len, w->s, max);
		}
	}
	a->plen = (uint8_t)plen;
	/* mask the host bits: the rule compares the masked address */
	for (unsigned i = (unsigned)plen; i < max; i++)
		a->addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	free(s);
	return 0;
}

/* lockdown-allow tcp|udp PORT[-PORT] [from PREFIX] [on IFACE]
 * lockdown-allow icmp [from PREFIX] [on IFACE] */
static int parse_allow(struct diag_queue *dq, const struct conf_word *w, unsigned n, struct masqc_conf *c)
{
	struct lockdown_allow a = { 0 };
	unsigned i = 2;

	if (n < 2)
		return diag_error(dq, &w[0].loc, "lockdown-allow wants tcp, udp or icmp");
	if (word_is(&w[1], "tcp"))
		a.proto = IPPROTO_TCP;
	else if (word_is(&w[1], "udp"))
		a.proto = IPPROTO_UDP;
	else if (word_is(&w[1], "icmp"))
		a.proto = IPPROTO_ICMP;
	else
		return diag_error(dq, &w[1].loc, "lockdown-allow: '%.*s' is not tcp, udp or icmp",
				  (int)w[1].len, w[1].s);
	if (a.proto != IPPROTO_ICMP) {
		if (n < 3)
			return diag_error(dq, &w[1].loc, "lockdown-allow %.*s wants a port (e.g. 22)",
					  (int)w[1].len, w[1].s);
		if (parse_ports(dq, &w[2], &a) < 0)
			return -1;
		i = 3;
	}
	for (; i < n; i += 2) {
		if (i + 1 >= n)
			return diag_error(dq, &w[i].loc, "'%.*s' wants a value", (int)w[i].len, w[i].s);
		if (word_is(&w[i], "from")) {
			if (parse_prefix(dq, &w[i + 1], &a) < 0)
				return -1;
		} else if (word_is(&w[i], "on")) {
			if (w[i + 1].len >= sizeof(a.iface))
				return diag_error(dq, &w[i + 1].loc, "interface name longer than 15 characters");
			memcpy(a.iface, w[i + 1].s, w[i + 1].len);
		} else {
			return diag_error(dq, &w[i].loc, "expected 'from PREFIX' or 'on INTERFACE', not '%.*s'",
					  (int)w[i].len, w[i].s);
		}
	}
	if (c->allow.n >= 200)
		return diag_error(dq, &w[0].loc, "more than 200 lockdown-allow lines");
	vec_push(&c->allow, a);
	return 0;
}

static char *script_path(const char *conf, const struct conf_word *w)
{
	const char *slash = strrchr(conf, '/');

	if (w->s[0] == '/' || !slash)
		return word_dup(w);
	return xasprintf("%.*s/%.*s", (int)(slash - conf), conf, (int)w->len, w->s);
}

static int parse_line(const char *path, struct diag_queue *dq, struct conf_word *w, unsigned n,
		      struct masqc_conf *c)
{
	if (word_is(&w[0], "script")) {
		if (want_words(dq, w, n, 1, 1) < 0)
			return -1;
		vec_push(&c->scripts, script_path(path, &w[1]));
	} else if (word_is(&w[0], "define")) {
		/* the rest of the line: a value may hold blanks */
		const char *s = w[1].s, *e = w[n - 1].s + w[n - 1].len;

		if (n < 2)
			return diag_error(dq, &w[0].loc, "define wants NAME=VALUE");
		if (!memchr(w[1].s, '=', w[1].len) || w[1].s[0] == '=')
			return diag_error(dq, &w[1].loc, "define wants NAME=VALUE, not '%.*s'",
					  (int)w[1].len, w[1].s);
		vec_push(&c->defines, xstrndup(s, (size_t)(e - s)));
	} else if (word_is(&w[0], "arg")) {
		if (want_words(dq, w, n, 1, 1) < 0)
			return -1;
		vec_push(&c->args, word_dup(&w[1]));
	} else if (word_is(&w[0], "dialect")) {
		if (want_words(dq, w, n, 1, 1) < 0)
			return -1;
		if (word_is(&w[1], "auto"))
			c->co.dialect = DIALECT_AUTO;
		else if (word_is(&w[1], "shell"))
			c->co.dialect = DIALECT_SHELL;
		else if (word_is(&w[1], "iptables-save"))
			c->co.dialect = DIALECT_SAVE;
		else
			return diag_error(dq, &w[1].loc, "dialect is auto, shell or iptables-save");
	} else if (word_is(&w[0], "backend")) {
		char *v;
		int bad;

		if (want_words(dq, w, n, 1, 1) < 0)
			return -1;
		v = word_dup(&w[1]);
		bad = kernel_backend_parse(v, &c->co.backend);
		free(v);
		if (bad)
			return diag_error(dq, &w[1].loc, "backend is nft or iptables-legacy");
	} else if (word_is(&w[0], "ipv6-save")) {
		if (want_words(dq, w, n, 1, 1) < 0 || yes_no(dq, &w[1], &c->co.ipv6_save) < 0)
			return -1;
	} else if (word_is(&w[0], "strict")) {
		if (want_words(dq, w, n, 1, 1) < 0 || yes_no(dq, &w[1], &c->co.strict) < 0)
			return -1;
	} else if (word_is(&w[0], "legacy-generation")) {
		if (want_words(dq, w, n, 1, 1) < 0)
			return -1;
		if (word_is(&w[1], "2.0"))
			c->co.legacy_gen = LG_GEN_20;
		else if (word_is(&w[1], "2.2"))
			c->co.legacy_gen = LG_GEN_22;
		else if (word_is(&w[1], "2.4"))
			c->co.legacy_gen = LG_GEN_24;
		else if (word_is(&w[1], "auto"))
			c->co.legacy_gen = LG_GEN_AUTO;
		else
			return diag_error(dq, &w[1].loc, "legacy-generation is 2.0, 2.2, 2.4 or auto");
	} else if (word_is(&w[0], "lockdown-allow")) {
		return parse_allow(dq, w, n, c);
	} else if (word_is(&w[0], "lockdown-output")) {
		if (want_words(dq, w, n, 1, 1) < 0)
			return -1;
		if (word_is(&w[1], "accept"))
			c->lockdown.output_accept = true;
		else if (word_is(&w[1], "drop"))
			c->lockdown.output_accept = false;
		else
			return diag_error(dq, &w[1].loc, "lockdown-output is accept or drop");
	} else {
		char *d = word_dup(&w[0]);
		const char *s = suggest(d, directives, ARRAY_SIZE(directives));
		char *hint = s ? xasprintf("did you mean '%s'?", s) : NULL;

		diag_add(dq, DIAG_ERROR, &w[0].loc, hint, "unknown directive '%s'", d);
		free(hint);
		free(d);
		return -1;
	}
	return 0;
}

int conf_load(const char *path, struct source_set *ss, struct diag_queue *dq,
	      struct masqc_conf *c)
{
	struct src_file *f = source_load(ss, path, NULL);
	int ret = 0;

	memset(c, 0, sizeof(*c));
	if (!f) {
		diag_error(dq, &loc_internal, "cannot read %s: %s", path, strerror(errno));
		return -2;
	}
	for (unsigned ln = 1; ln <= f->nlines; ln++) {
		size_t len, off = f->line_off[ln - 1];
		const char *s = src_line(f, ln, &len);
		struct conf_word w[32];
		unsigned n = 0;

		for (size_t i = 0; i < len;) {
			size_t j;

			if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r') {
				i++;
				continue;
			}
			if (s[i] == '#')
				break;
			for (j = i; j < len && s[j] != ' ' && s[j] != '\t' && s[j] != '\r'; j++)
				;
			if (n == ARRAY_SIZE(w)) {
				diag_error(dq, &w[n - 1].loc, "too many words on one line");
				ret = -1;
				break;
			}
			w[n].s = s + i;
			w[n].len = j - i;
			w[n].loc = loc_at(f, off + i);
			w[n].loc.len = (unsigned)(j - i);
			n++;
			i = j;
		}
		if (n && parse_line(path, dq, w, n, c) < 0)
			ret = -1;
	}
	if (c->scripts.n == 0) {
		struct loc l = loc_at(f, 0);

		diag_error(dq, &l, "no 'script' line: nothing to load (the machine would stay locked down)");
		ret = -1;
	}
	c->co.scripts = (const char *const *)c->scripts.v;
	c->co.nscripts = (unsigned)c->scripts.n;
	c->co.defines = (const char *const *)c->defines.v;
	c->co.ndefines = (unsigned)c->defines.n;
	c->co.args = (const char *const *)c->args.v;
	c->co.nargs = (unsigned)c->args.n;
	c->lockdown.allow = c->allow.v;
	c->lockdown.nallow = (unsigned)c->allow.n;
	return ret;
}

void conf_free(struct masqc_conf *c)
{
	for (size_t i = 0; i < c->scripts.n; i++)
		free(c->scripts.v[i]);
	for (size_t i = 0; i < c->defines.n; i++)
		free(c->defines.v[i]);
	for (size_t i = 0; i < c->args.n; i++)
		free(c->args.v[i]);
	vec_free(&c->scripts);
	vec_free(&c->defines);
	vec_free(&c->args);
	vec_free(&c->allow);
}
