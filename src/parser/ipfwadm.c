/* ipfwadm.c -- the ipfwadm 2.3.0 command line (Linux 2.0).
 *
 * Reproduces ipfwadm.c (source key U in legacy-semantics.md) decision by
 * decision:
 *
 *  - plain getopt("AFIMOadilzfs:p:chP:S:D:V:W:bekmnort:vxy"): no long
 *    options; short options may be clustered.
 *  - -A [in|out|both], -a/-i/-d [policy], -r [port] and -t and xor take
 *    the following words by hand when they do not start with '-'; -S and
 *    -D take every following word that does not start with '-' as a port
 *    (so `-S $ip /32`, with a blank, reads "/32" as a port).
 *  - policies, protocols and directions are matched as prefixes, first
 *    table entry wins (`strncmp("accept", s, strlen(s))`), case-sensitive:
 *    `-a m` is masquerade, `-P t` is tcp.
 *  - at most 10 ports on -S and -D together (IP_FW_MAX_PORTS), 9 with -r;
 *    a range counts as two; one range per side, anywhere in its list (the
 *    tool moved it to the front, where the kernel expects it; so does
 *    masqc).  ICMP types are -S "ports"; -D ports are refused for ICMP.
 *  - then the tool's own consistency checks, in its order, with its
 *    meaning and a located message.
 */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "legacy-parse.h"
#include "../util.h"

enum fw_chain { FC_NONE, FC_FWD, FC_IN, FC_OUT, FC_ACCT, FC_MASQ };

enum {
	FCMD_LIST = 1 << 0, FCMD_APPEND = 1 << 1, FCMD_DELETE = 1 << 2, FCMD_FLUSH = 1 << 3,
	FCMD_RESET = 1 << 4, FCMD_POLICY = 1 << 5, FCMD_CHECK = 1 << 6, FCMD_HELP = 1 << 7,
	FCMD_INSERT = 1 << 8, FCMD_TIMEOUT = 1 << 9,
};

/* options as check_option() letters */
static const char fw_opt_letters[] = "PSDVWbekmnortvxy";

enum fw_policy { FP_NONE, FP_ACCEPT, FP_DENY, FP_REJECT, FP_MASQ };

#define MAX_PORTS 10	/* IP_FW_MAX_PORTS */
#define MAX_SUB 16

struct fw_side {
	const struct word *addr_w;
	const struct word *port_w[MAX_PORTS + 2];
	unsigned nw;		/* words */
	unsigned nports;	/* as the kernel counts them: a range is 2 */
	const struct word *range_w;
};

struct fwp {
	struct lgp p;
	unsigned argi;
	enum fw_chain chain;
	const struct word *chain_w;
	int dir;		/* -A: 0 both, 1 in, 2 out */
	unsigned command;
	const struct word *cmd_w;
	unsigned opts;		/* bit per fw_opt_letters index */
	const struct word *opt_w[sizeof(fw_opt_letters)];
	enum fw_policy policy;
	const struct word *policy_w;
	bool masq_by_policy;
	uint32_t proto;		/* 0 all, 1, 6, 17 */
	const struct word *proto_w;
	struct fw_side src, dst;
	const struct word *via_w, *name_w, *rport_w, *tos_w[2], *timeout_w[3];
	struct word sub[MAX_SUB];
	unsigned nsub;
};

static unsigned opt_bit(char ch)
{
	const char *s = strchr(fw_opt_letters, ch);

	return s ? 1u << (s - fw_opt_letters) : 0;
}

static bool has(const struct fwp *f, char ch)
{
	return f->opts & opt_bit(ch);
}

static const struct word *optw(const struct fwp *f, char ch)
{
	const char *s = strchr(fw_opt_letters, ch);

	return s ? f->opt_w[s - fw_opt_letters] : NULL;
}

static const struct word *sub_word(struct fwp *f, const struct word *w, size_t off)
{
	if (f->nsub == MAX_SUB)
		return w;
	f->sub[f->nsub] = lgp_subword(w, off);
	return &f->sub[f->nsub++];
}

/* the next word when ipfwadm.c would take it: it exists and does not
 * start with '-' */
static const struct word *take_arg(struct fwp *f)
{
	const struct word *w;

	if (f->argi >= f->p.cmd->argc)
		return NULL;
	w = &f->p.cmd->argv[f->argi];
	if (w->kind == WORD_LITERAL && w->text[0] == '-')
		return NULL;
	f->argi++;
	return w;
}

static int check_option(struct fwp *f, char ch, const struct word *w)
{
	unsigned b = opt_bit(ch);

	if (f->opts & b)
		return lgp_err(&f->p, &w->loc, NULL, "multiple -%c options specified", ch);
	f->opts |= b;
	f->opt_w[strchr(fw_opt_letters, ch) - fw_opt_letters] = w;
	return 0;
}

static int set_chain(struct fwp *f, enum fw_chain ch, const struct word *w)
{
	if (f->chain != FC_NONE)
		return lgp_err(&f->p, &w->loc, "one of -A, -I, -O, -F or -M per call",
			       "multiple categories specified");
	f->chain = ch;
	f->chain_w = w;
	return 0;
}

static int set_command(struct fwp *f, unsigned cmd, unsigned also, const struct word *w)
{
	if (f->command & ~also)
		return lgp_err(&f->p, &w->loc, "one command per ipfwadm call", "multiple commands specified");
	f->command |= cmd;
	if (!f->cmd_w)
		f->cmd_w = w;
	return 0;
}

/* strncmp(name, s, strlen(s)) over a table, first hit wins */
static int prefix_pick(const char *s, const char *const *names, size_t n)
{
	size_t len = strlen(s);

	for (size_t i = 0; i < n; i++)
		if (!strncmp(names[i], s, len))
			return (int)i;
	return -1;
}

static int parse_policy(struct fwp *f, const struct word *w)
{
	static const char *const names[] = { "accept", "deny", "reject", "masquerade" };
	int i;

	if (lgp_literal(&f->p, w))
		return -1;
	i = prefix_pick(w->text, names, ARRAY_SIZE(names));
	if (i < 0) {
		char *lower = xstrdup(w->text), *hint;

		for (char *c = lower; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		i = prefix_pick(lower, names, ARRAY_SIZE(names));
		hint = i >= 0 ? xasprintf("did you mean '%s'? (ipfwadm policies are lower case)", names[i]) :
				xstrdup("policies are accept, deny, reject and masquerade (any prefix)");
		lgp_err(&f->p, &w->loc, hint, "invalid policy '%s' specified", w->text);
		free(hint);
		free(lower);
		return -1;
	}
	f->policy = (enum fw_policy)(FP_ACCEPT + i);
	f->policy_w = w;
	if (f->policy == FP_MASQ) {
		/* "for backwards compatibility, better use accept and -m" */
		if (check_option(f, 'm', w))
			return -1;
		f->masq_by_policy = true;
	}
	return 0;
}

static int parse_direction(struct fwp *f, const struct word *w)
{
	static const char *const names[] = { "in", "out", "both" };
	int i;

	if (lgp_literal(&f->p, w))
		return -1;
	i = prefix_pick(w->text, names, ARRAY_SIZE(names));
	if (i < 0)
		return lgp_err(&f->p, &w->loc, "the direction is in, out or both", "invalid direction '%s' "
			       "specified", w->text);
	f->dir = i == 2 ? 0 : i + 1;
	return 0;
}

static int store_port(struct fwp *f, struct fw_side *s, const struct word *w, char side)
{
	if (w->kind == WORD_LITERAL && w->text[0] == '/')
		return lgp_err(&f->p, &w->loc, "write the mask right after the address, without a blank "
			       "(ADDR/32)", "'%s' stands apart from the address, so ipfwadm reads it as a "
			       "port of -%c: invalid port/service", w->text, side);
	if (w->kind == WORD_LITERAL && strchr(w->text, ':')) {
		if (s->range_w)
			return lgp_err(&f->p, &w->loc, "one range per -S or -D; list single ports besides it",
				       "multiple ranges not allowed");
		s->range_w = w;
		s->nports += 2;
	} else {
		s->nports += 1;
	}
	if (f->src.nports + f->dst.nports > MAX_PORTS)
		return lgp_err(&f->p, &w->loc, "split the rule into several, each with at most 10 ports "
			       "(a range counts as 2)", "too many ports specified (maximum %d, source and "
			       "destination together)", MAX_PORTS);
	s->port_w[s->nw++] = w;
	return 0;
}

static int addr_opt(struct fwp *f, struct fw_side *s, char ch, const struct word *w, const struct word *arg)
{
	const struct word *pw;

	if (check_option(f, ch, w))
		return -1;
	s->addr_w = arg;
	while ((pw = take_arg(f)))
		if (store_port(f, s, pw, ch))
			return -1;
	return 0;
}

static int opt_handle(struct fwp *f, char ch, const struct word *w, const struct word *arg)
{
	struct lgp *p = &f->p;
	const struct word *a;

	switch (ch) {
	case 'A':
		if (set_chain(f, FC_ACCT, w))
			return -1;
		a = take_arg(f);
		return a ? parse_direction(f, a) : 0;
	case 'F':
		return set_chain(f, FC_FWD, w);
	case 'I':
		return set_chain(f, FC_IN, w);
	case 'M':
		return set_chain(f, FC_MASQ, w);
	case 'O':
		return set_chain(f, FC_OUT, w);
	case 'a':
	case 'd':
	case 'i':
		if (set_command(f, ch == 'a' ? FCMD_APPEND : ch == 'd' ? FCMD_DELETE : FCMD_INSERT, 0, w))
			return -1;
		a = take_arg(f);
		return a ? parse_policy(f, a) : 0;
	case 'l':
		return set_command(f, FCMD_LIST, FCMD_RESET, w);
	case 'z':
		return set_command(f, FCMD_RESET, FCMD_LIST, w);
	case 'f':
		return set_command(f, FCMD_FLUSH, 0, w);
	case 'p':
		if (set_command(f, FCMD_POLICY, 0, w))
			return -1;
		return parse_policy(f, arg);
	case 's':
		if (set_command(f, FCMD_TIMEOUT, 0, w))
			return -1;
		f->timeout_w[0] = arg;
		f->timeout_w[1] = take_arg(f);
		f->timeout_w[2] = f->timeout_w[1] ? take_arg(f) : NULL;
		if (!f->timeout_w[2])
			return lgp_err(p, &w->loc, "e.g. ipfwadm -M -s 7200 10 160 (tcp tcpfin udp, seconds)",
				       "-s requires 3 timeout values");
		return 0;
	case 'c':
		return set_command(f, FCMD_CHECK, 0, w);
	case 'h':
		diag_note(p->pc->dq, &w->loc, "ipfwadm -h prints help and exits; nothing to translate");
		f->command = FCMD_HELP;
		return 0;
	case 'P': {
		static const char *const names[] = { "all", "tcp", "udp", "icmp" };
		static const uint32_t nums[] = { 0, 6, 17, 1 };
		int i;

		if (check_option(f, 'P', w) || lgp_literal(p, arg))
			return -1;
		i = prefix_pick(arg->text, names, ARRAY_SIZE(names));
		if (i < 0)
			return lgp_err(p, &arg->loc, "ipfwadm knows tcp, udp, icmp and all (lower case)",
				       "invalid protocol '%s' specified", arg->text);
		f->proto = nums[i];
		f->proto_w = arg;
		return 0;
	}
	case 'S':
		return addr_opt(f, &f->src, 'S', w, arg);
	case 'D':
		return addr_opt(f, &f->dst, 'D', w, arg);
	case 'V':
		if (check_option(f, 'V', w))
			return -1;
		f->via_w = arg;
		return 0;
	case 'W':
		if (check_option(f, 'W', w))
			return -1;
		f->name_w = arg;
		return 0;
	case 'r':
		if (check_option(f, 'r', w))
			return -1;
		f->rport_w = take_arg(f);
		return 0;
	case 't':
		if (check_option(f, 't', w))
			return -1;
		f->tos_w[0] = arg;
		f->tos_w[1] = take_arg(f);
		if (!f->tos_w[1])
			return lgp_err(p, &w->loc, "e.g. -t 0x01 0x10 (and-mask xor-mask, hexadecimal)",
				       "-t requires 2 hexbyte arguments");
		return 0;
	case 'b': case 'e': case 'k': case 'm': case 'n': case 'o': case 'v': case 'x': case 'y':
		return check_option(f, ch, w);
	}
	return lgp_err(p, &w->loc, NULL, "unknown option '-%c'", ch);
}

/* getopt spec: which letters take an argument */
static int short_arg(char ch)
{
	static const char spec[] = "AFIMOadilzfs:p:chP:S:D:V:W:bekmnort:vxy";
	const char *s = strchr(spec, ch);

	if (!s || ch == ':')
		return -1;
	return s[1] == ':';
}

static int unknown_short(struct fwp *f, const struct word *w, char ch)
{
	static const char spec[] = "AFIMOadilzfs:p:chP:S:D:V:W:bekmnort:vxy";
	char *hint = NULL;
	char alt = 0;

	if (ch == '0')
		alt = 'O';
	else if (isalpha((unsigned char)ch) && strchr(spec, islower((unsigned char)ch) ?
						      toupper((unsigned char)ch) : tolower((unsigned char)ch)))
		alt = (char)(islower((unsigned char)ch) ? toupper((unsigned char)ch) : tolower((unsigned char)ch));
	if (alt == 'O' && ch == '0')
		hint = xstrdup("did you mean '-O' (the letter O, output firewall)?");
	else if (alt)
		hint = xasprintf("did you mean '-%c'? (ipfwadm options are case-sensitive)", alt);
	else if (ch == 'j' || ch == 's' || ch == 'd')
		hint = xstrdup("that is ipchains syntax; ipfwadm uses -a POLICY, -S ADDR [PORTS], -D ADDR [PORTS]");
	else
		hint = xstrdup("ipfwadm's options: categories -A -I -O -F -M; commands -a -i -d -l -z -f -p -s "
			       "-c -h; parameters -P -S -D -V -W; flags -b -e -k -m -n -o -r -t -v -x -y");
	lgp_err(&f->p, &w->loc, hint, "unknown option '-%c'", ch);
	free(hint);
	return -1;
}

static int parse_argv(struct fwp *f)
{
	const struct command *cmd = f->p.cmd;

	f->argi = 1;
	while (f->argi < cmd->argc && !f->p.err && f->command != FCMD_HELP) {
		const struct word *w = &cmd->argv[f->argi++];
		const char *t = w->text;

		if (w->kind == WORD_UNKNOWN)
			return lgp_literal(&f->p, w);
		if (w->kind != WORD_LITERAL || t[0] != '-' || !t[1]) {
			const char *hint = NULL;

			if (w->kind == WORD_LITERAL && t[0] == '/')
				hint = "write the mask right after the address, without a blank (ADDR/32)";
			else if (w->kind == WORD_LITERAL && !strcmp(t, "!"))
				hint = "ipfwadm has no '!' (that came with ipchains)";
			return lgp_err(&f->p, &w->loc, hint, "unknown argument '%s' on the command line",
				       w->kind == WORD_LITERAL ? t : w->sym ? w->sym : "?");
		}
		if (t[1] == '-')
			return lgp_err(&f->p, &w->loc, "ipfwadm has only one-letter options",
				       "unknown option '%s'", t);
		for (size_t i = 1; t[i] && !f->p.err; i++) {
			int kind = short_arg(t[i]);
			const struct word *ow = i == 1 && !t[2] ? w : sub_word(f, w, i);
			const struct word *arg = NULL;

			if (kind < 0)
				return unknown_short(f, ow, t[i]);
			if (kind == 1) {
				if (t[i + 1]) {
					arg = sub_word(f, w, i + 1);
				} else if (f->argi < cmd->argc) {
					arg = &cmd->argv[f->argi++];
					if (arg->kind == WORD_LITERAL && arg->text[0] == '-' && arg->text[1])
						return lgp_err(&f->p, &arg->loc, "is the variable that should come "
							       "before it empty or unset?", "-%c takes '%s' as its "
							       "value, which is an option", t[i], arg->text);
				} else {
					return lgp_err(&f->p, &ow->loc, NULL, "option '-%c' requires an argument", t[i]);
				}
				if (opt_handle(f, t[i], ow, arg))
					return -1;
				break;
			}
			if (opt_handle(f, t[i], ow, NULL))
				return -1;
		}
	}
	return f->p.err;
}

/* ---- the tool's checks, in its order ------------------------------------------------ */

static bool is_fw(const struct fwp *f)
{
	return f->chain == FC_IN || f->chain == FC_OUT || f->chain == FC_FWD;
}

static int opt_not_with(struct fwp *f, char ch, const char *what)
{
	return lgp_err(&f->p, &optw(f, ch)->loc, NULL, "no %s (-%c) allowed with this command", what, ch);
}

static int checks(struct fwp *f)
{
	struct lgp *p = &f->p;
	const unsigned edit = FCMD_INSERT | FCMD_APPEND | FCMD_DELETE;
	const unsigned show = FCMD_LIST | FCMD_FLUSH | FCMD_RESET | FCMD_POLICY;
	const struct loc *cl = f->chain_w ? &f->chain_w->loc : &p->cmd->loc;

	if (!f->command)
		return lgp_err(p, &p->cmd->loc, "e.g. ipfwadm -F -a accept ... to append a rule",
			       "no command specified");
	if (f->chain == FC_NONE)
		return lgp_err(p, &f->cmd_w->loc, "e.g. ipfwadm -I -a ... (-I input, -O output, -F forward, "
			       "-A accounting)", "missing -A, -F, -I, -O, or -M flag");
	if (!is_fw(f) && f->command == FCMD_CHECK)
		return lgp_err(p, cl, NULL, "specify either -F, -I, or -O for checking a packet");
	if (!is_fw(f) && f->command == FCMD_POLICY)
		return lgp_err(p, cl, NULL, "specify either -F, -I, or -O for changing the policy");
	if (is_fw(f) && !f->policy_w && (f->command & edit))
		return lgp_err(p, &f->cmd_w->loc, "give accept, deny, reject or masquerade after the command "
			       "(e.g. -a accept)", "policy required for firewall entries");
	if (!is_fw(f) && f->policy_w && f->command != FCMD_POLICY)
		return lgp_err(p, &f->policy_w->loc, "accounting rules only count", "no policy allowed with "
			       "non-firewall entries");
	if (f->chain == FC_MASQ && !(f->command & (FCMD_TIMEOUT | FCMD_LIST)))
		return lgp_err(p, cl, NULL, "-M only allowed in combination with -s or -l command");
	if (f->chain != FC_MASQ && (f->command & FCMD_TIMEOUT))
		return lgp_err(p, &f->cmd_w->loc, "ipfwadm -M -s tcp tcpfin udp",
			       "setting masquerading timeouts requires -M flag");
	if (has(f, 'b') && !(f->command & edit))
		return lgp_err(p, &optw(f, 'b')->loc, NULL, "bidirectional flag (-b) only allowed with "
			       "insert/append/delete");
	if (has(f, 'o') && !(f->command & edit))
		return lgp_err(p, &optw(f, 'o')->loc, NULL, "kernel print flag (-o) only allowed with "
			       "insert/append/delete");
	if (has(f, 'r') && !(f->command & edit))
		return lgp_err(p, &optw(f, 'r')->loc, NULL, "port redirection (-r) only allowed with "
			       "insert/append/delete");
	if (has(f, 't') && !(f->command & edit))
		return lgp_err(p, &optw(f, 't')->loc, NULL, "tos values (-t) only allowed with "
			       "insert/append/delete");
	if (has(f, 'P') && (f->command & show))
		return opt_not_with(f, 'P', "protocol");
	if (!has(f, 'P') && f->command == FCMD_CHECK)
		return lgp_err(p, &f->cmd_w->loc, NULL, "protocol (-P) required for this command");
	if (has(f, 'V') && (f->command & show))
		return opt_not_with(f, 'V', "interface address");
	if (has(f, 'W') && (f->command & show))
		return opt_not_with(f, 'W', "interface name");
	if (f->proto == 1 && f->dst.nw)
		return lgp_err(p, &f->dst.port_w[0]->loc, "give ICMP types after -S",
			       "ICMP types only allowed with -S, not with -D");
	if (f->proto == 0 && (f->src.nw || f->dst.nw))
		return lgp_err(p, &(f->src.nw ? f->src.port_w[0] : f->dst.port_w[0])->loc,
			       "add -P tcp or -P udp (or -P icmp for types)",
			       "no ports allowed without specific protocol");
	if (has(f, 'r') && f->chain != FC_IN)
		return lgp_err(p, &optw(f, 'r')->loc, NULL, "redirecting only allowed in combination with -I");
	if (f->proto == 1 && has(f, 'r'))
		return lgp_err(p, &optw(f, 'r')->loc, NULL, "redirecting not allowed with protocol ICMP");
	if (has(f, 'm') && f->chain != FC_FWD)
		return lgp_err(p, &optw(f, 'm')->loc, "masquerading is a forwarding decision (-F)",
			       "masquerading only allowed in combination with -F");
	if (f->proto == 1 && has(f, 'm'))
		return lgp_err(p, &optw(f, 'm')->loc, NULL, "masquerading not allowed with protocol ICMP");
	if (has(f, 'm') && !f->masq_by_policy && f->policy != FP_ACCEPT)
		return lgp_err(p, &optw(f, 'm')->loc, "use -a accept -m (or -a masquerade)",
			       "masquerading only allowed with policy accept");
	if (f->src.addr_w && (f->command & show))
		return opt_not_with(f, 'S', "source address");
	if (f->dst.addr_w && (f->command & show))
		return opt_not_with(f, 'D', "destination address");
	if (has(f, 'r') && f->src.nports + f->dst.nports >= MAX_PORTS)
		return lgp_err(p, &optw(f, 'r')->loc, "the redirect port takes the tenth slot",
			       "too many ports specified (maximum %d when using -r option)", MAX_PORTS - 1);
	return 0;
}

/* ---- the rule ---------------------------------------------------------------------------- */

static int port_one(struct fwp *f, const struct word *w, const char *s, size_t n, uint32_t *port)
{
	if (lgp_port(s, n, (uint8_t)f->proto, port))
		return 0;
	if (f->proto == 1)
		return lgp_err(&f->p, &w->loc, "ICMP types are numbers (8 echo-request, 0 echo-reply, "
			       "3 destination-unreachable, 11 time-exceeded)",
			       "invalid ICMP type '%.*s' specified", (int)n, s);
	return lgp_err(&f->p, &w->loc, "ports are numbers 0-65535 or service names such as 'www'",
		       "invalid port/service '%.*s' specified", (int)n, s);
}

static int side_ports(struct fwp *f, struct fw_side *s, struct lg_ports *out)
{
	unsigned k = 0;

	if (!s->nw)
		return 0;
	out->v = xzalloc((s->nw) * sizeof(*out->v));
	out->loc = loc_span(s->port_w[0]->loc, s->port_w[s->nw - 1]->loc);
	/* the range first, where the kernel looks for it (IP_FW_F_SRNG) */
	if (s->range_w) {
		const char *t = s->range_w->text, *c = strchr(t, ':');
		uint32_t lo, hi;

		if (port_one(f, s->range_w, t, (size_t)(c - t), &lo) ||
		    port_one(f, s->range_w, c + 1, strlen(c + 1), &hi))
			return -1;
		if (lo > hi)
			return lgp_err(&f->p, &s->range_w->loc, "write the range low:high",
				       "invalid range of ports (%u > %u)", lo, hi);
		out->v[k].lo = lo;
		out->v[k++].hi = hi;
	}
	for (unsigned i = 0; i < s->nw; i++) {
		const struct word *w = s->port_w[i];
		uint32_t v;

		if (w == s->range_w)
			continue;
		if (lgp_literal(&f->p, w) || port_one(f, w, w->text, strlen(w->text), &v))
			return -1;
		out->v[k].lo = out->v[k].hi = v;
		k++;
	}
	out->n = k;
	return 0;
}

static int iface_set(struct fwp *f, struct lg_rule *r)
{
	const struct word *nw = f->name_w, *vw = f->via_w;

	if (nw) {
		if (lgp_literal(&f->p, nw))
			return -1;
		if (strchr(nw->text, '+'))
			return lgp_err(&f->p, &nw->loc, "name each interface in its own rule (ipchains "
				       "brought the '+' wildcard)", "ipfwadm has no interface wildcard: '%s' "
				       "names an interface that cannot exist, so the rule never matched",
				       nw->text);
		if (strlen(nw->text) > 16)
			return lgp_err(&f->p, &nw->loc, NULL, "interface name '%s' is too long", nw->text);
		if (strchr(nw->text, ':'))
			diag_add(f->p.pc->dq, DIAG_WARNING, &nw->loc, "name the device (eth0) and test the "
				 "alias address with -D", "'%s' is an alias device of Linux 2.0; on current "
				 "kernels packets never carry it as their interface name", nw->text);
		if (nw->text[0])
			r->iface = xstrdup(nw->text);
		r->iface_loc = loc_span(optw(f, 'W')->loc, nw->loc);
	}
	if (!vw)
		return 0;
	if (vw->kind == WORD_IFADDR) {
		/* "the address of ppp0": the interface whose address it is */
		if (r->iface && strcmp(r->iface, vw->sym ? vw->sym : ""))
			return lgp_err(&f->p, &vw->loc, NULL, "-V names the address of %s but -W names %s: "
				       "the rule never matched", vw->sym, r->iface);
		if (!r->iface) {
			r->iface = xstrdup(vw->sym ? vw->sym : "");
			r->iface_loc = loc_span(optw(f, 'V')->loc, vw->loc);
			diag_note(f->p.pc->dq, &vw->loc, "-V gives the address of interface %s: matched as "
				  "interface %s", r->iface, r->iface);
		}
		return 0;
	}
	if (lgp_literal(&f->p, vw))
		return -1;
	{
		struct ir_addr a;

		if (lgp_addr(&f->p, vw, &a, false))
			return -1;
		if (a.plen != 32 || strchr(vw->text, '/'))
			return lgp_err(&f->p, &vw->loc, NULL, "-V takes one interface address, not a network");
	}
	if (r->iface) {
		/* the 2.0 kernel tested both; the address test is only kept as an
		 * assumption, since masqc cannot know interface addresses */
		diag_add(f->p.pc->dq, DIAG_WARNING, &vw->loc, "drop -V, or check that the address belongs to "
			 "the interface", "-V %s is assumed to be the address of %s (-W): the rule matches "
			 "by interface name only; had they disagreed, ipfwadm's rule never matched",
			 vw->text, r->iface);
		return 0;
	}
	r->iface = xstrdup(vw->text);
	r->iface_by_addr = true;
	r->iface_loc = loc_span(optw(f, 'V')->loc, vw->loc);
	return 0;
}

static int tos_set(struct fwp *f, struct lg_rule *r)
{
	uint32_t v[2];

	for (int i = 0; i < 2; i++) {
		if (lgp_literal(&f->p, f->tos_w[i]))
			return -1;
		if (!lgp_uint(f->tos_w[i]->text, 16, 255, &v[i]))
			return lgp_err(&f->p, &f->tos_w[i]->loc, "a hexadecimal byte such as 0x01 or 10",
				       "invalid hexbyte '%s' specified", f->tos_w[i]->text);
	}
	if (r->target != LG_T_ACCEPT && r->target != LG_T_MASQ && r->target != LG_T_REDIRECT) {
		diag_note(f->p.pc->dq, &optw(f, 't')->loc, "-t has no effect on %s (it changes accepted "
			  "packets only); dropped", f->chain == FC_ACCT ? "accounting rules" :
			  "rules that deny or reject");
		return 0;
	}
	r->has_tos = true;
	r->tos_and = (uint8_t)v[0];
	r->tos_xor = (uint8_t)v[1];
	r->tos_loc = loc_span(optw(f, 't')->loc, f->tos_w[1]->loc);
	return 0;
}

static int rule_build(struct fwp *f, struct lg_rule **out)
{
	struct lg_rule *r = xzalloc(sizeof(*r));

	*out = r;
	r->loc = f->p.cmd->loc;
	r->tool = LG_IPFWADM;
	r->proto = (uint8_t)f->proto;
	if (f->proto_w)
		r->proto_loc = loc_span(optw(f, 'P')->loc, f->proto_w->loc);
	r->src.af = r->dst.af = 4;
	if (f->src.addr_w && lgp_addr(&f->p, f->src.addr_w, &r->src, true))
		return -1;
	if (f->dst.addr_w && lgp_addr(&f->p, f->dst.addr_w, &r->dst, true))
		return -1;
	if (f->src.addr_w)
		r->src.loc = loc_span(optw(f, 'S')->loc, f->src.addr_w->loc);
	if (f->dst.addr_w)
		r->dst.loc = loc_span(optw(f, 'D')->loc, f->dst.addr_w->loc);
	if (side_ports(f, &f->src, &r->sport) || side_ports(f, &f->dst, &r->dport))
		return -1;
	if (iface_set(f, r))
		return -1;
	if (has(f, 'y'))
		r->syn = LG_YES;
	if (has(f, 'k'))
		r->ack = LG_YES;
	if ((has(f, 'y') || has(f, 'k')) && (f->proto == 1 || f->proto == 17)) {
		char ch = has(f, 'y') ? 'y' : 'k';

		diag_add(f->p.pc->dq, DIAG_WARNING, &optw(f, ch)->loc, "drop the flag or make the rule -P tcp",
			 "-%c only looks at TCP packets: this %s rule matches every %s packet as ipfwadm "
			 "ignored the flag", ch, f->proto == 1 ? "icmp" : "udp", f->proto == 1 ? "icmp" : "udp");
	}
	r->bidir = has(f, 'b');
	if (has(f, 'o')) {
		r->log = true;
		r->log_loc = optw(f, 'o')->loc;
	}
	switch (f->policy) {
	case FP_NONE:
		r->target = LG_T_NONE;
		break;
	case FP_ACCEPT:
		r->target = has(f, 'm') ? LG_T_MASQ : has(f, 'r') ? LG_T_REDIRECT : LG_T_ACCEPT;
		break;
	case FP_DENY:
		r->target = LG_T_DENY;
		break;
	case FP_REJECT:
		r->target = LG_T_REJECT;
		break;
	case FP_MASQ:
		r->target = LG_T_MASQ;
		break;
	}
	if (f->policy_w)
		r->target_loc = f->policy_w->loc;
	if (has(f, 'm') && !f->masq_by_policy)
		r->target_loc = loc_span(f->policy_w->loc, optw(f, 'm')->loc);
	if (has(f, 'r')) {
		uint32_t port = 0;

		if (r->target != LG_T_REDIRECT) {
			diag_add(f->p.pc->dq, DIAG_WARNING, &optw(f, 'r')->loc, NULL, "-r redirects accepted "
				 "packets only; it has no effect with this policy (dropped)");
		} else {
			if (f->rport_w && (lgp_literal(&f->p, f->rport_w) ||
					   port_one(f, f->rport_w, f->rport_w->text, strlen(f->rport_w->text), &port)))
				return -1;
			if (f->proto != 6 && f->proto != 17)
				diag_add(f->p.pc->dq, DIAG_WARNING, &optw(f, 'r')->loc, "add -P tcp or -P udp",
					 "-r without -P tcp or udp: only TCP and UDP packets can be redirected "
					 "to a local socket");
			r->redirect_port = (uint16_t)port;
			r->target_loc = loc_span(f->policy_w->loc, (f->rport_w ? f->rport_w : optw(f, 'r'))->loc);
		}
	}
	if (has(f, 't') && tos_set(f, r))
		return -1;
	return 0;
}

static struct lg_rule *rule_copy(const struct lg_rule *r)
{
	struct lg_rule *c = xmalloc(sizeof(*c));

	*c = *r;
	c->next = NULL;
	if (r->sport.n) {
		c->sport.v = xmalloc(r->sport.n * sizeof(*c->sport.v));
		memcpy(c->sport.v, r->sport.v, r->sport.n * sizeof(*c->sport.v));
	}
	if (r->dport.n) {
		c->dport.v = xmalloc(r->dport.n * sizeof(*c->dport.v));
		memcpy(c->dport.v, r->dport.v, r->dport.n * sizeof(*c->dport.v));
	}
	c->iface = r->iface ? xstrdup(r->iface) : NULL;
	c->jump = r->jump ? xstrdup(r->jump) : NULL;
	c->src.ifname = r->src.ifname ? xstrdup(r->src.ifname) : NULL;
	c->src.var = r->src.var ? xstrdup(r->src.var) : NULL;
	c->dst.ifname = r->dst.ifname ? xstrdup(r->dst.ifname) : NULL;
	c->dst.var = r->dst.var ? xstrdup(r->dst.var) : NULL;
	return c;
}

static enum lg_chain_kind chain_kind(const struct fwp *f, bool out_half)
{
	switch (f->chain) {
	case FC_IN:
		return LG_CH_INPUT;
	case FC_OUT:
		return LG_CH_OUTPUT;
	case FC_FWD:
		return LG_CH_FORWARD;
	case FC_ACCT:
		return (f->dir == 2 || (f->dir == 0 && out_half)) ? LG_CH_ACCT_OUT : LG_CH_ACCT_IN;
	case FC_MASQ:
	case FC_NONE:
		break;
	}
	return LG_CH_FORWARD;
}

static struct lg_cmd *cmd_add(struct fwp *f, struct lgp_out *out, enum lg_op op, bool out_half)
{
	struct lg_cmd *c = lgp_cmd_new(LG_IPFWADM, op, &f->p.cmd->loc);

	c->chain_kind = chain_kind(f, out_half);
	if (f->chain_w)
		c->chain_loc = f->chain_w->loc;
	out->v[out->n++] = c;
	return c;
}

static int build(struct fwp *f, struct lgp_out *out)
{
	bool both = f->chain == FC_ACCT && f->dir == 0;
	enum lg_op op;
	struct lg_cmd *c;

	switch (f->command) {
	case FCMD_APPEND:
	case FCMD_INSERT:
	case FCMD_DELETE:
		op = f->command == FCMD_APPEND ? LG_OP_APPEND : f->command == FCMD_INSERT ? LG_OP_INSERT :
		     LG_OP_DELETE;
		c = cmd_add(f, out, op, false);
		if (rule_build(f, &c->rule))
			return -1;
		if (op == LG_OP_INSERT)
			c->num = 1;
		if (both) {
			struct lg_cmd *c2 = cmd_add(f, out, op, true);

			c2->rule = rule_copy(c->rule);
			c2->num = c->num;
		}
		return 0;
	case FCMD_FLUSH:
		cmd_add(f, out, LG_OP_FLUSH, false);
		if (f->chain == FC_ACCT) {
			/* IP_ACCT_FLUSH empties the one accounting list, whatever the direction */
			out->v[0]->chain_kind = LG_CH_ACCT_IN;
			cmd_add(f, out, LG_OP_FLUSH, true)->chain_kind = LG_CH_ACCT_OUT;
		}
		return 0;
	case FCMD_RESET:
		cmd_add(f, out, LG_OP_ZERO, false);
		return 0;
	case FCMD_LIST:
	case FCMD_LIST | FCMD_RESET:
		cmd_add(f, out, f->chain == FC_MASQ ? LG_OP_MASQ_LIST : LG_OP_LIST, false);
		return 0;
	case FCMD_CHECK:
		cmd_add(f, out, LG_OP_LIST, false);
		return 0;
	case FCMD_POLICY:
		c = cmd_add(f, out, LG_OP_POLICY, false);
		c->policy_loc = f->policy_w->loc;
		c->policy = f->policy == FP_ACCEPT ? LG_T_ACCEPT : f->policy == FP_DENY ? LG_T_DENY :
			    f->policy == FP_REJECT ? LG_T_REJECT : LG_T_MASQ;
		return 0;
	case FCMD_TIMEOUT:
		c = cmd_add(f, out, LG_OP_MASQ_TIMEOUTS, false);
		for (int i = 0; i < 3; i++) {
			const struct word *w = f->timeout_w[i];
			uint32_t v;

			if (lgp_literal(&f->p, w))
				return -1;
			if (!lgp_uint(w->text, 10, INT_MAX / 100, &v))
				return lgp_err(&f->p, &w->loc, "seconds; 0 keeps the current value",
					       "invalid timeout value '%s' specified", w->text);
			c->timeouts[i] = v;
		}
		return 0;
	}
	return lgp_err(&f->p, &f->cmd_w->loc, "one command per ipfwadm call", "multiple commands specified");
}

int ipfwadm_parse(struct parse_ctx *pc, const struct command *cmd, struct lgp_out *out)
{
	struct fwp f;

	memset(&f, 0, sizeof(f));
	memset(out, 0, sizeof(*out));
	lgp_init(&f.p, pc, cmd);
	if (parse_argv(&f))
		return -1;
	if (f.command == FCMD_HELP)
		return 0;
	if (checks(&f) || build(&f, out)) {
		lgp_out_free(out);
		return -1;
	}
	return 0;
}
