/* ipchains.c -- the ipchains 1.3.x command line (Linux 2.2), and the
 * ipchains-save format.
 *
 * The reference is ipchains 1.3.9 (ipchains.c, ipchains.8; see
 * ../shared/docs/legacy-semantics.md, source key U) and the 2.2 kernel's
 * ip_fw.c (K22).  The tool is reproduced decision by decision:
 *
 *  - getopt_long in RETURN_IN_ORDER mode: short options may be clustered
 *    (-vL), long options may be abbreviated to any unique prefix ("you only
 *    need to use enough letters"), an exact long name wins, and a prefix
 *    shared by options with different meanings is ambiguous (`--dest` is:
 *    --destination and --destination-port), exactly as glibc decides.
 *  - several options consume the words after them by hand, as ipchains.c
 *    does: -s/-d take `[!] port[:port]` when the next word does not start
 *    with '-' or '!'; -D/-I take a rule number, -R requires one; -j
 *    REDIRECT takes a port; -o an optional size; -t and -S more values.
 *  - `!` is a word of its own before an option or inside -p/-s/-d/-i/
 *    --sport/--dport/--icmp-type; set_option() refuses it where the kernel
 *    has no inverse flag (-b, -j, -l ...).
 *  - the legal-option table (commands_v_options) is copied, so `-F input
 *    -s x` fails like it did.
 *  - targets and policies are NOT abbreviated: ipchains passes the label to
 *    the kernel, whose find_special() uses strcmp against ACCEPT, DENY,
 *    REJECT, MASQ, REDIRECT and RETURN; anything else is a user chain
 *    (find_label, strcmp too).  `-j accept` or `-j ACC` therefore failed
 *    with "No chain by that name"; masqc says so at the word, with the
 *    target that was meant.  Chain names are case-sensitive for the same
 *    reason (input, forward, output) and at most 8 characters
 *    (IP_FW_MAX_LABEL_LENGTH).
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "legacy-parse.h"
#include "../util.h"

/* commands, in the tool's bit order (cmdflags[]) */
enum {
	C_INSERT, C_DELETE, C_DELETE_NUM, C_REPLACE, C_APPEND, C_LIST, C_FLUSH, C_ZERO,
	C_NEW, C_DELCHAIN, C_POLICY, C_MASQ, C_SETMASQ, C_CHECK, C__N
};
#define CB(x) (1u << (x))
static const char cmd_chars[] = "IDDRALFZNXPMSC";

/* options, in the tool's bit order (optflags[]) */
enum {
	O_NUMERIC, O_SOURCE, O_DEST, O_PROTO, O_JUMP, O_SYN, O_BIDIR, O_VERBOSE, O_LOG,
	O_EXACT, O_TOS, O_IFACE, O_FRAG, O_MARK, O_SPORT, O_DPORT, O_NETLINK, O_LINENUM, O__N
};
static const char *const opt_names[O__N] = {
	"-n", "-s", "-d", "-p", "-j", "-y", "-b", "-v", "-l", "-x", "-t", "-i", "-f", "-m",
	"--sport", "--dport", "-o", "--line-numbers",
};
/* which options take a `!' (inverse_for_options[]) */
static const bool opt_invertible[O__N] = {
	[O_SOURCE] = true, [O_DEST] = true, [O_PROTO] = true, [O_SYN] = true,
	[O_IFACE] = true, [O_FRAG] = true, [O_SPORT] = true, [O_DPORT] = true,
};
/* commands_v_options[]: '+' compulsory, 'x' illegal, ' ' optional */
static const char cmd_opts[C__N][O__N + 1] = {
	[C_INSERT]     = "x        x       x",
	[C_DELETE]     = "x        x       x",
	[C_DELETE_NUM] = "xxxxxxx xxxxxxxxxx",
	[C_REPLACE]    = "x     x  x       x",
	[C_APPEND]     = "x        x       x",
	[C_LIST]       = " xxxxxx x xxxxxxx ",
	[C_FLUSH]      = "xxxxxxx xxxxxxxxxx",
	[C_ZERO]       = "xxxxxxx xxxxxxxxxx",
	[C_NEW]        = "xxxxxxx xxxxxxxxxx",
	[C_DELCHAIN]   = "xxxxxxx xxxxxxxxxx",
	[C_POLICY]     = "xxxxxxx xxxxxxxxxx",
	[C_MASQ]       = "xxxxxxxxxxxxxxxxxx",
	[C_SETMASQ]    = "xxxxxxx xxxxxxxxxx",
	[C_CHECK]      = "x+++x   xxx+ x  xx",
};

struct long_opt {
	const char *name;
	int has_arg;	/* 0 none, 1 required, 2 optional (only as --name=arg) */
	char code;
};

/* ipchains.c opts[]; '1' and '2' are the source/destination port options */
static const struct long_opt long_opts[] = {
	{ "append", 1, 'A' }, { "delete", 1, 'D' }, { "insert", 1, 'I' }, { "replace", 1, 'R' },
	{ "list", 2, 'L' }, { "flush", 2, 'F' }, { "zero", 2, 'Z' }, { "check", 1, 'C' },
	{ "new-chain", 1, 'N' }, { "delete-chain", 1, 'X' }, { "policy", 1, 'P' },
	{ "masquerading", 0, 'M' }, { "set", 1, 'S' }, { "bidirectional", 0, 'b' },
	{ "source", 1, 's' }, { "destination", 1, 'd' }, { "src", 1, 's' }, { "dst", 1, 'd' },
	{ "source-port", 1, '1' }, { "destination-port", 1, '2' }, { "icmp-type", 1, '1' },
	{ "sport", 1, '1' }, { "dport", 1, '2' }, { "protocol", 1, 'p' }, { "interface", 1, 'i' },
	{ "jump", 1, 'j' }, { "TOS", 1, 't' }, { "mark", 1, 'm' }, { "numeric", 0, 'n' },
	{ "log", 0, 'l' }, { "output", 2, 'o' }, { "verbose", 0, 'v' }, { "exact", 0, 'x' },
	{ "fragments", 0, 'f' }, { "syn", 0, 'y' }, { "version", 0, 'V' }, { "help", 0, 'h' },
	{ "line-numbers", 0, '3' }, { "no-warnings", 0, 'W' },
};

/* getopt string "-A:C:D:R:I:L::F::Z::N:X::P:MS:Vh::o::p:s:d:j:i:fbvm:nlt:xy" */
static int short_arg(char ch)
{
	static const char spec[] = "A:C:D:R:I:L::F::Z::N:X::P:MS:Vh::o::p:s:d:j:i:fbvm:nlt:xy";

	for (const char *s = spec; *s; s++) {
		if (*s == ':')
			continue;
		if (*s == ch)
			return s[1] != ':' ? 0 : s[2] == ':' ? 2 : 1;
	}
	return -1;
}

/* ipchains -h icmp (icmp_codes[]); code_max 0xFFFF = any code */
struct icmp_name {
	const char *name;
	uint8_t type;
	uint16_t code_min, code_max;
};

static const struct icmp_name icmp_names[] = {
	{ "echo-reply", 0, 0, 0xFFFF }, { "pong", 0, 0, 0xFFFF },
	{ "destination-unreachable", 3, 0, 0xFFFF },
	{ "network-unreachable", 3, 0, 0 }, { "host-unreachable", 3, 1, 1 },
	{ "protocol-unreachable", 3, 2, 2 }, { "port-unreachable", 3, 3, 3 },
	{ "fragmentation-needed", 3, 4, 4 }, { "source-route-failed", 3, 5, 5 },
	{ "network-unknown", 3, 6, 6 }, { "host-unknown", 3, 7, 7 },
	{ "network-prohibited", 3, 9, 9 }, { "host-prohibited", 3, 10, 10 },
	{ "TOS-network-unreachable", 3, 11, 11 }, { "TOS-host-unreachable", 3, 12, 12 },
	{ "communication-prohibited", 3, 13, 13 }, { "host-precedence-violation", 3, 14, 14 },
	{ "precedence-cutoff", 3, 15, 15 },
	{ "source-quench", 4, 0, 0xFFFF },
	{ "redirect", 5, 0, 0xFFFF }, { "network-redirect", 5, 0, 0 },
	{ "host-redirect", 5, 1, 1 }, { "TOS-network-redirect", 5, 2, 2 },
	{ "TOS-host-redirect", 5, 3, 3 },
	{ "echo-request", 8, 0, 0xFFFF }, { "ping", 8, 0, 0xFFFF },
	{ "router-advertisement", 9, 0, 0xFFFF }, { "router-solicitation", 10, 0, 0xFFFF },
	{ "time-exceeded", 11, 0, 0xFFFF }, { "ttl-exceeded", 11, 0, 0xFFFF },
	{ "ttl-zero-during-transit", 11, 0, 0 }, { "ttl-zero-during-reassembly", 11, 1, 1 },
	{ "parameter-problem", 12, 0, 0xFFFF }, { "ip-header-bad", 12, 0, 0 },
	{ "required-option-missing", 12, 1, 1 },
	{ "timestamp-request", 13, 0, 0xFFFF }, { "timestamp-reply", 14, 0, 0xFFFF },
	{ "address-mask-request", 17, 0, 0xFFFF }, { "address-mask-reply", 18, 0, 0xFFFF },
};

static const char *const targets[] = { "ACCEPT", "DENY", "REJECT", "MASQ", "REDIRECT", "RETURN" };
static const enum lg_target target_kinds[] = {
	LG_T_ACCEPT, LG_T_DENY, LG_T_REJECT, LG_T_MASQ, LG_T_REDIRECT, LG_T_RETURN,
};

#define MAX_SUB 16

struct chp {
	struct lgp p;
	unsigned argi;
	unsigned cmd;			/* CB(C_*) bits */
	const struct word *cmd_w;
	unsigned opts, inv;		/* CB(O_*) bits */
	const struct word *opt_w[O__N];
	bool invert;
	const struct word *inv_w;
	bool help;			/* -h / -V: the tool printed and exited */
	const struct word *chain_w, *rulenum_w, *policy_w;
	unsigned rulenum;
	const struct word *proto_w, *src_w, *dst_w, *sport_w, *dport_w, *iface_w;
	const struct word *jump_w, *rport_w, *mark_w, *outsize_w, *tos_w[2], *timeout_w[3];
	struct word sub[MAX_SUB];
	unsigned nsub;
	uint32_t proto;
};

/* ---- words ------------------------------------------------------------------- */

static const struct word *sub_word(struct chp *c, const struct word *w, size_t off)
{
	if (c->nsub == MAX_SUB)
		return w;
	c->sub[c->nsub] = lgp_subword(w, off);
	return &c->sub[c->nsub++];
}

/* The word at argi+k when ipchains.c would take it as an argument: it
 * exists and does not start with '-' or '!'. */
static const struct word *peek_arg(struct chp *c, unsigned k)
{
	const struct word *w;

	if (c->argi + k >= c->p.cmd->argc)
		return NULL;
	w = &c->p.cmd->argv[c->argi + k];
	if (w->kind == WORD_LITERAL && (w->text[0] == '-' || w->text[0] == '!'))
		return NULL;
	return w;
}

static const struct word *take_arg(struct chp *c)
{
	const struct word *w = peek_arg(c, 0);

	if (w)
		c->argi++;
	return w;
}

static bool is_bang(const struct word *w)
{
	return w && w->kind == WORD_LITERAL && !strcmp(w->text, "!");
}

/* ---- getopt-level checks ---------------------------------------------------------- */

static int add_command(struct chp *c, unsigned newcmd, unsigned others, const struct word *w)
{
	if (c->invert)
		return lgp_err(&c->p, &c->inv_w->loc, NULL, "unexpected '!' before a command");
	if (c->cmd & ~others) {
		unsigned old = c->cmd & ~others;
		unsigned i = 0;

		while (!(old & 1u << i))
			i++;
		return lgp_err(&c->p, &w->loc, "one command per ipchains call",
			       "can't use -%c with -%c", cmd_chars[newcmd], cmd_chars[i]);
	}
	c->cmd |= CB(newcmd);
	if (!c->cmd_w)
		c->cmd_w = w;
	return 0;
}

static int set_option(struct chp *c, unsigned o, const struct word *w)
{
	if (c->opts & CB(o))
		return lgp_err(&c->p, &w->loc, c->opt_w[o] ? "the first one is earlier on the line" : NULL,
			       "multiple %s flags not allowed", opt_names[o]);
	c->opts |= CB(o);
	c->opt_w[o] = w;
	if (c->invert) {
		if (!opt_invertible[o])
			return lgp_err(&c->p, &c->inv_w->loc, NULL, "cannot have ! before %s", opt_names[o]);
		c->inv |= CB(o);
		c->invert = false;
	}
	return 0;
}

static bool check_inverse(struct chp *c, const struct word *w)
{
	if (!is_bang(w))
		return false;
	if (c->invert) {
		lgp_err(&c->p, &w->loc, NULL, "multiple '!' flags not allowed");
		return false;
	}
	c->invert = true;
	c->inv_w = w;
	return true;
}

/* `-p ! tcp`: the `!` was the option's argument; the value is the next word */
static const struct word *arg_after_bang(struct chp *c, const struct word *optw, const struct word *arg)
{
	if (!check_inverse(c, arg))
		return c->p.err ? NULL : arg;
	if (c->argi >= c->p.cmd->argc) {
		lgp_err(&c->p, &arg->loc, NULL, "'%s !' needs a value after the '!'", optw->text);
		return NULL;
	}
	return &c->p.cmd->argv[c->argi++];
}

/* -s/-d ADDR [[!] PORT]: ports follow the address when the next word (after
 * an optional `!`) is not an option. */
static int addr_and_ports(struct chp *c, unsigned o, unsigned po, const struct word *optw,
			  const struct word *arg, const struct word **addr_w, const struct word **port_w)
{
	const struct word *a = arg_after_bang(c, optw, arg);
	bool bang;

	if (!a || set_option(c, o, optw))
		return -1;
	*addr_w = a;
	bang = c->argi < c->p.cmd->argc && is_bang(&c->p.cmd->argv[c->argi]);
	if (peek_arg(c, bang ? 1 : 0)) {
		if (bang) {
			c->invert = true;
			c->inv_w = &c->p.cmd->argv[c->argi];
			c->argi++;
		}
		*port_w = take_arg(c);
		return set_option(c, po, *port_w);
	}
	return 0;
}

static int opt_handle(struct chp *c, char code, const struct word *w, const struct word *arg)
{
	struct lgp *p = &c->p;

	switch (code) {
	case 'A':
		c->chain_w = arg;
		return add_command(c, C_APPEND, 0, w);
	case 'C':
		c->chain_w = arg;
		return add_command(c, C_CHECK, 0, w);
	case 'D':
		c->chain_w = arg;
		if (add_command(c, C_DELETE, 0, w))
			return -1;
		if (peek_arg(c, 0)) {
			c->rulenum_w = take_arg(c);
			c->cmd = CB(C_DELETE_NUM);
		}
		return 0;
	case 'R':
		c->chain_w = arg;
		if (add_command(c, C_REPLACE, 0, w))
			return -1;
		c->rulenum_w = take_arg(c);
		if (!c->rulenum_w)
			return lgp_err(p, &w->loc, "e.g. -R input 3 ...", "-R requires a rule number");
		return 0;
	case 'I':
		c->chain_w = arg;
		if (add_command(c, C_INSERT, 0, w))
			return -1;
		c->rulenum_w = take_arg(c);
		return 0;
	case 'L':
		if (add_command(c, C_LIST, CB(C_ZERO) | CB(C_MASQ), w))
			return -1;
		c->chain_w = arg ? arg : take_arg(c);
		if ((c->cmd & CB(C_ZERO)) && c->chain_w)
			return lgp_err(p, &c->chain_w->loc, NULL, "-L with -Z does not allow a chain to be specified");
		return 0;
	case 'F':
		c->chain_w = arg ? arg : take_arg(c);
		return add_command(c, C_FLUSH, 0, w);
	case 'Z':
		if (add_command(c, C_ZERO, CB(C_LIST), w))
			return -1;
		if (!c->chain_w)
			c->chain_w = arg ? arg : take_arg(c);
		if ((c->cmd & CB(C_LIST)) && c->chain_w)
			return lgp_err(p, &c->chain_w->loc, NULL, "-L with -Z does not allow a chain to be specified");
		return 0;
	case 'N':
		c->chain_w = arg;
		return add_command(c, C_NEW, 0, w);
	case 'X':
		c->chain_w = arg ? arg : take_arg(c);
		return add_command(c, C_DELCHAIN, 0, w);
	case 'P':
		c->chain_w = arg;
		if (add_command(c, C_POLICY, 0, w))
			return -1;
		c->policy_w = take_arg(c);
		if (!c->policy_w)
			return lgp_err(p, &w->loc, "e.g. -P forward DENY", "-P requires a chain and a policy");
		return 0;
	case 'M':
		return add_command(c, C_MASQ, CB(C_LIST) | CB(C_SETMASQ), w);
	case 'S':
		if (add_command(c, C_SETMASQ, CB(C_MASQ), w))
			return -1;
		c->timeout_w[0] = arg;
		if (!peek_arg(c, 0) || !peek_arg(c, 1))
			return lgp_err(p, &w->loc, "e.g. -M -S 7200 10 160 (tcp tcpfin udp, seconds)",
				       "-S requires 3 timeout values");
		c->timeout_w[1] = take_arg(c);
		c->timeout_w[2] = take_arg(c);
		return 0;
	case 'V':
		diag_add(p->pc->dq, DIAG_WARNING, &w->loc, "-V ADDRESS is ipfwadm's option; ipchains has "
			 "no interface-by-address test (use -i NAME)",
			 "ipchains -V prints its version and exits: this command changed nothing");
		c->help = true;
		return 0;
	case 'h':
		diag_note(p->pc->dq, &w->loc, "ipchains -h prints help and exits; nothing to translate");
		c->help = true;
		return 0;
	case 'p':
		arg = arg_after_bang(c, w, arg);
		if (!arg || set_option(c, O_PROTO, w))
			return -1;
		c->proto_w = arg;
		return 0;
	case 's':
		return addr_and_ports(c, O_SOURCE, O_SPORT, w, arg, &c->src_w, &c->sport_w);
	case 'd':
		return addr_and_ports(c, O_DEST, O_DPORT, w, arg, &c->dst_w, &c->dport_w);
	case '1':
	case '2':
		arg = arg_after_bang(c, w, arg);
		if (!arg || set_option(c, code == '1' ? O_SPORT : O_DPORT, w))
			return -1;
		*(code == '1' ? &c->sport_w : &c->dport_w) = arg;
		return 0;
	case 'j':
		if (set_option(c, O_JUMP, w))
			return -1;
		c->jump_w = arg;
		if (arg->kind == WORD_LITERAL && !strcmp(arg->text, "REDIRECT"))
			c->rport_w = take_arg(c);
		return 0;
	case 'i':
		arg = arg_after_bang(c, w, arg);
		if (!arg || set_option(c, O_IFACE, w))
			return -1;
		c->iface_w = arg;
		return 0;
	case 'f':
		return set_option(c, O_FRAG, w);
	case 'b':
		return set_option(c, O_BIDIR, w);
	case 'v':
		return set_option(c, O_VERBOSE, w);
	case 'n':
		return set_option(c, O_NUMERIC, w);
	case 'l':
		return set_option(c, O_LOG, w);
	case 'x':
		return set_option(c, O_EXACT, w);
	case 'y':
		return set_option(c, O_SYN, w);
	case 'm':
		if (set_option(c, O_MARK, w))
			return -1;
		c->mark_w = arg;
		return 0;
	case 'o':
		if (set_option(c, O_NETLINK, w))
			return -1;
		c->outsize_w = arg ? arg : take_arg(c);
		return 0;
	case 't':
		if (set_option(c, O_TOS, w))
			return -1;
		c->tos_w[0] = arg;
		c->tos_w[1] = take_arg(c);
		if (!c->tos_w[1])
			return lgp_err(p, &w->loc, "e.g. -t 0x01 0x10 (and-mask xor-mask, hexadecimal)",
				       "-t requires 2 hexbyte arguments");
		return 0;
	case '3':
	case 'W':
		if (c->invert)
			return lgp_err(p, &c->inv_w->loc, NULL, "cannot have ! before %s", w->text);
		if (code == '3')
			return set_option(c, O_LINENUM, w);
		return 0;
	}
	return lgp_err(p, &w->loc, NULL, "unknown option '%s'", w->text);
}

static int long_option(struct chp *c, const struct word *w)
{
	const char *name = w->text + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct long_opt *hit = NULL;
	const struct word *arg = NULL;
	struct strbuf cands = { 0 };
	bool ambiguous = false, exact = false;

	for (size_t i = 0; i < ARRAY_SIZE(long_opts); i++)
		if (strlen(long_opts[i].name) == len && !strncmp(long_opts[i].name, name, len)) {
			hit = &long_opts[i];
			exact = true;
			break;
		}
	for (size_t i = 0; !exact && i < ARRAY_SIZE(long_opts); i++) {
		const struct long_opt *o = &long_opts[i];

		if (strncmp(o->name, name, len))
			continue;
		sb_addf(&cands, "%s--%s", cands.len ? ", " : "", o->name);
		if (!hit)
			hit = o;
		else if (hit->code != o->code || hit->has_arg != o->has_arg)
			ambiguous = true;
	}
	if (!hit || ambiguous) {
		const char *names[ARRAY_SIZE(long_opts)];
		char *want = xstrndup(name, len), *hint = NULL;
		const char *sug;

		for (size_t i = 0; i < ARRAY_SIZE(long_opts); i++) {
			names[i] = long_opts[i].name;
			if (!hit && !strcasecmp(names[i], want))
				hint = xasprintf("did you mean '--%s'? (long options are case-sensitive)", names[i]);
		}
		sug = suggest(want, names, ARRAY_SIZE(long_opts));
		if (!hint && sug && !ambiguous)
			hint = xasprintf("did you mean '--%s'?", sug);
		if (ambiguous)
			lgp_err(&c->p, &w->loc, "give enough letters to tell them apart",
				"option '--%s' is ambiguous: %s", want, sb_str(&cands));
		else
			lgp_err(&c->p, &w->loc, hint, "unknown option '--%s'", want);
		free(want);
		free(hint);
		sb_free(&cands);
		return -1;
	}
	sb_free(&cands);
	if (eq) {
		if (hit->has_arg == 0)
			return lgp_err(&c->p, &w->loc, NULL, "option '--%s' doesn't allow an argument", hit->name);
		arg = sub_word(c, w, (size_t)(eq - w->text) + 1);
	} else if (hit->has_arg == 1) {
		if (c->argi >= c->p.cmd->argc)
			return lgp_err(&c->p, &w->loc, NULL, "option '--%s' requires an argument", hit->name);
		arg = &c->p.cmd->argv[c->argi++];
	}
	return opt_handle(c, hit->code, w, arg);
}

static const char *short_hint(char ch)
{
	switch (ch) {
	case 'k':
		return "ipchains dropped -k (ACK); the man page says to use '! -y'";
	case 'w':
	case 'W':
		return "-W NAME is ipfwadm's interface option; ipchains uses -i NAME";
	case 'a':
		return "ipchains appends with -A CHAIN (ipfwadm's -a policy does not exist here)";
	case 'e':
		return "ipfwadm's -e is ipchains' -v";
	case 'r':
		return "ipfwadm's -r port is ipchains' -j REDIRECT port";
	case 'S':
	case 'D':
		return NULL;
	default:
		return "ipchains' short options are -A -D -R -I -L -F -Z -C -N -X -P -M -S -h -p -s -d -j -i "
		       "-f -b -v -n -l -o -m -t -x -y";
	}
}

static int short_cluster(struct chp *c, const struct word *w)
{
	const char *t = w->text;

	for (size_t i = 1; t[i] && !c->p.err && !c->help; i++) {
		int kind = short_arg(t[i]);
		const struct word *optw = i == 1 && !t[2] ? w : sub_word(c, w, i);
		const struct word *arg = NULL;

		if (kind < 0)
			return lgp_err(&c->p, &optw->loc, short_hint(t[i]), "unknown option '-%c'", t[i]);
		if (kind == 1 || kind == 2) {
			if (t[i + 1]) {
				arg = sub_word(c, w, i + 1);
			} else if (kind == 1) {
				if (c->argi >= c->p.cmd->argc)
					return lgp_err(&c->p, &w->loc, NULL, "option '-%c' requires an argument", t[i]);
				arg = &c->p.cmd->argv[c->argi++];
				if (t[i] != 'm' && arg->kind == WORD_LITERAL && arg->text[0] == '-' && arg->text[1])
					return lgp_err(&c->p, &arg->loc, "is the variable that should come before it "
						       "empty or unset?", "-%c takes '%s' as its value, which is an "
						       "option", t[i], arg->text);
			}
			if (opt_handle(c, t[i], optw, arg))
				return -1;
			c->invert = c->p.err ? c->invert : false;
			return 0;
		}
		if (opt_handle(c, t[i], optw, NULL))
			return -1;
		if (t[i] != 'V' && t[i] != 'h')
			c->invert = false;
	}
	return c->p.err;
}

static int parse_argv(struct chp *c)
{
	const struct command *cmd = c->p.cmd;

	c->argi = 1;
	while (c->argi < cmd->argc && !c->p.err && !c->help) {
		const struct word *w = &cmd->argv[c->argi++];
		const char *t = w->text;

		if (w->kind == WORD_UNKNOWN)
			return lgp_literal(&c->p, w);
		if (w->kind == WORD_IFADDR)
			return lgp_err(&c->p, &w->loc, "an address goes after -s or -d",
				       "unexpected interface address here");
		if (!strcmp(t, "!")) {
			if (c->invert)
				return lgp_err(&c->p, &w->loc, NULL, "multiple consecutive ! not allowed");
			c->invert = true;
			c->inv_w = w;
			continue;
		}
		if (t[0] == '-' && t[1] == '-' && t[2]) {
			if (long_option(c, w))
				return -1;
			c->invert = false;
		} else if (t[0] == '-' && t[1] && t[1] != '-') {
			if (short_cluster(c, w))
				return -1;
		} else {
			const char *hint = NULL;

			const struct word *prev = c->argi >= 2 ? &cmd->argv[c->argi - 2] : NULL;

			if (t[0] == '/')
				hint = "a mask belongs to the address: write ADDR/MASK without a blank";
			else if (prev && prev->kind == WORD_LITERAL && strstr(prev->text, ":-"))
				hint = "a blank is missing before the option glued to the port range";
			else if (strchr(t, ',') || isdigit((unsigned char)t[0]))
				hint = "ipchains takes ONE port or range per side, right after the address "
				       "(-d ADDR PORT) or with --dport; lists need one rule per port";
			return lgp_err(&c->p, &w->loc, hint, "unexpected argument '%s'", t);
		}
	}
	if (c->p.err)
		return -1;
	if (c->invert && !c->help)
		return lgp_err(&c->p, &c->inv_w->loc, NULL, "nothing appropriate following !");
	return 0;
}

/* ---- values ---------------------------------------------------------------------- */

static int cmd_index(unsigned cmd)
{
	for (int i = 0; i < C__N; i++)
		if (cmd & CB(i))
			return i;
	return -1;
}

/* generic_opt_check(): an option is legal if any of the commands allows it */
static int opts_check(struct chp *c)
{
	for (unsigned o = 0; o < O__N; o++) {
		int legal = 0;

		for (unsigned k = 0; k < C__N; k++) {
			if (!(c->cmd & CB(k)))
				continue;
			if (!(c->opts & CB(o))) {
				if (cmd_opts[k][o] == '+')
					return lgp_err(&c->p, &c->cmd_w->loc, NULL, "you need to supply the %s "
						       "option for -%c", opt_names[o], cmd_chars[k]);
			} else if (cmd_opts[k][o] != 'x') {
				legal = 1;
			} else if (legal == 0) {
				legal = -1;
			}
		}
		if (legal == -1)
			return lgp_err(&c->p, &c->opt_w[o]->loc, NULL, "illegal option %s with -%c",
				       opt_names[o], cmd_chars[cmd_index(c->cmd)]);
	}
	return 0;
}

static const char *const builtin_chains[] = { "input", "forward", "output" };

static int chain_check(struct chp *c, const struct word *w, bool creating)
{
	if (lgp_literal(&c->p, w))
		return -1;
	if (strlen(w->text) > 8)
		return lgp_err(&c->p, &w->loc, "ipchains chain names have at most 8 characters "
			       "(IP_FW_MAX_LABEL_LENGTH)", "chain name '%s' too long", w->text);
	if (!w->text[0])
		return lgp_err(&c->p, &w->loc, NULL, "empty chain name (an unset variable?)");
	for (size_t i = 0; i < ARRAY_SIZE(builtin_chains); i++)
		if (!strcasecmp(w->text, builtin_chains[i]) && strcmp(w->text, builtin_chains[i])) {
			char *hint = xasprintf("did you mean '%s'?", builtin_chains[i]);

			if (creating) {
				diag_add(c->p.pc->dq, DIAG_WARNING, &w->loc, hint, "'%s' is a new user chain, "
					 "not the builtin %s (ipchains chain names are case-sensitive)",
					 w->text, builtin_chains[i]);
				free(hint);
				return 0;
			}
			lgp_err(&c->p, &w->loc, hint, "ipchains would fail here: no chain '%s' (chain "
				"names are case-sensitive; the builtin chains are input, forward and "
				"output)", w->text);
			free(hint);
			return -1;
		}
	return 0;
}

static enum lg_chain_kind chain_kind(const char *name)
{
	if (!strcmp(name, "input"))
		return LG_CH_INPUT;
	if (!strcmp(name, "forward"))
		return LG_CH_FORWARD;
	if (!strcmp(name, "output"))
		return LG_CH_OUTPUT;
	return LG_CH_USER;
}

static int ports_one(struct chp *c, const struct word *w, const char *s, size_t n, uint32_t *port)
{
	uint8_t proto = (uint8_t)c->proto;

	if (proto != 1 && proto != 6 && proto != 17)
		return lgp_err(&c->p, &w->loc, "give -p tcp, -p udp or -p icmp", "ports need a protocol "
			       "with ports (tcp, udp, or icmp for types and codes)");
	if (lgp_port(s, n, proto, port))
		return 0;
	if (proto == 1)
		return lgp_err(&c->p, &w->loc, "ICMP types given as ports are numbers; names go alone "
			       "after -s or with --icmp-type", "invalid ICMP type '%.*s'", (int)n, s);
	return lgp_err(&c->p, &w->loc, "ports are numbers 0-65535 or service names such as 'www'",
		       "invalid port/service '%.*s'", (int)n, s);
}

/* parse_ports(): port, lo:hi, :hi, lo: */
static int ports_parse(struct chp *c, const struct word *w, bool neg, struct lg_ports *out)
{
	const char *s = w->text, *colon;
	uint32_t lo = 0, hi = 65535;

	if (lgp_literal(&c->p, w))
		return -1;
	colon = strchr(s, ':');
	if (!colon) {
		if (ports_one(c, w, s, strlen(s), &lo))
			return -1;
		hi = lo;
	} else {
		if (colon > s && ports_one(c, w, s, (size_t)(colon - s), &lo))
			return -1;
		if (colon[1] && ports_one(c, w, colon + 1, strlen(colon + 1), &hi))
			return -1;
	}
	if (lo > hi)
		return lgp_err(&c->p, &w->loc, "write the range low:high",
			       "port range '%s' never matches (%u > %u): ipchains accepted it, the kernel "
			       "never matched it", s, lo, hi);
	out->v = xmalloc(sizeof(*out->v));
	out->v[0].lo = lo;
	out->v[0].hi = hi;
	out->n = 1;
	out->neg = neg;
	out->loc = w->loc;
	return 0;
}

/* parse_icmp(): a name (unique case-insensitive prefix) sets type and code;
 * otherwise numbers: source "port" = type, destination "port" = code. */
static int icmp_parse(struct chp *c, struct lg_rule *r)
{
	const struct word *sw = c->sport_w, *dw = c->dport_w;
	const struct icmp_name *hit = NULL;

	if (sw && lgp_literal(&c->p, sw))
		return -1;
	if (sw && sw->text[0]) {
		size_t n = strlen(sw->text);

		for (size_t i = 0; i < ARRAY_SIZE(icmp_names); i++) {
			if (strncasecmp(icmp_names[i].name, sw->text, n))
				continue;
			if (hit)
				return lgp_err(&c->p, &sw->loc, "give more letters", "ambiguous ICMP '%s': "
					       "'%s' or '%s'?", sw->text, hit->name, icmp_names[i].name);
			hit = &icmp_names[i];
		}
	}
	if (hit) {
		if (dw)
			return lgp_err(&c->p, &dw->loc, NULL, "can't use ICMP name and destination port "
				       "(ICMP code) together");
		if (c->inv & (CB(O_SPORT) | CB(O_DPORT)))
			return lgp_err(&c->p, &sw->loc, "use the type number to invert it",
				       "can't invert named ICMP types");
		r->sport.v = xmalloc(sizeof(*r->sport.v));
		r->sport.v[0].lo = r->sport.v[0].hi = hit->type;
		r->sport.n = 1;
		r->sport.loc = sw->loc;
		if (hit->code_max != 0xFFFF) {
			r->dport.v = xmalloc(sizeof(*r->dport.v));
			r->dport.v[0].lo = hit->code_min;
			r->dport.v[0].hi = hit->code_max;
			r->dport.n = 1;
			r->dport.loc = sw->loc;
		}
		return 0;
	}
	if (sw && !strchr(sw->text, ':') && !lgp_port(sw->text, strlen(sw->text), 1, &(uint32_t){ 0 })) {
		const char *names[ARRAY_SIZE(icmp_names)];
		const char *sug;
		char *hint;

		for (size_t i = 0; i < ARRAY_SIZE(icmp_names); i++)
			names[i] = icmp_names[i].name;
		sug = suggest(sw->text, names, ARRAY_SIZE(names));
		hint = sug ? xasprintf("did you mean '%s'? (ipchains -h icmp lists the names)", sug) :
			     xstrdup("ipchains -h icmp lists the names");
		lgp_err(&c->p, &sw->loc, hint, "unknown ICMP type '%s'", sw->text);
		free(hint);
		return -1;
	}
	if (sw && ports_parse(c, sw, c->inv & CB(O_SPORT), &r->sport))
		return -1;
	if (dw && ports_parse(c, dw, c->inv & CB(O_DPORT), &r->dport))
		return -1;
	if (dw && !sw)
		diag_add(c->p.pc->dq, DIAG_WARNING, &dw->loc, "the ICMP type goes after -s (or --icmp-type)",
			 "for ICMP the port after -d is the ICMP code: this matches code %s of any type",
			 dw->text);
	return 0;
}

static int target_parse(struct chp *c, struct lg_rule *r)
{
	const struct word *w = c->jump_w;
	const char *t = w->text;
	size_t n = strlen(t);

	if (lgp_literal(&c->p, w))
		return -1;
	r->target_loc = w->loc;
	if (!n)
		return lgp_err(&c->p, &w->loc, NULL, "invalid target name (too short)");
	for (size_t i = 0; i < ARRAY_SIZE(targets); i++)
		if (!strcmp(t, targets[i])) {
			r->target = target_kinds[i];
			return 0;
		}
	for (size_t i = 0; i < ARRAY_SIZE(targets); i++)
		if (!strncasecmp(t, targets[i], n)) {
			char *hint = xasprintf("did you mean '%s'?", targets[i]);

			lgp_err(&c->p, &w->loc, hint, "ipchains would fail here: '%s' is no target and no "
				"chain (the kernel knows ACCEPT DENY REJECT MASQ REDIRECT RETURN exactly as "
				"written, in full and in upper case; anything else names a user chain)", t);
			free(hint);
			return -1;
		}
	if (!strcmp(t, "MASQUERADE") || !strcmp(t, "DROP"))
		return lgp_err(&c->p, &w->loc, !strcmp(t, "DROP") ? "ipchains' drop target is DENY" :
			       "ipchains' masquerade target is MASQ",
			       "'%s' is an iptables target; ipchains would look for a chain of that name", t);
	if (n > 8)
		return lgp_err(&c->p, &w->loc, "ipchains chain names have at most 8 characters",
			       "invalid target name '%s' (8 chars max)", t);
	for (const char *s = t; *s; s++)
		if (isspace((unsigned char)*s))
			return lgp_err(&c->p, &w->loc, NULL, "invalid target name '%s'", t);
	r->target = LG_T_JUMP;
	r->jump = xstrdup(t);
	return 0;
}

/* check_tos(): bit 0 must stay untouched and at most one TOS bit set (RFC 1349) */
static int tos_parse(struct chp *c, struct lg_rule *r)
{
	uint32_t v[2];
	unsigned bits = 0, set;

	for (int i = 0; i < 2; i++) {
		if (lgp_literal(&c->p, c->tos_w[i]))
			return -1;
		if (!lgp_uint(c->tos_w[i]->text, 16, 255, &v[i]))
			return lgp_err(&c->p, &c->tos_w[i]->loc, "a hexadecimal byte such as 0x01 or 10",
				       "invalid hexbyte '%s'", c->tos_w[i]->text);
	}
	if (!(v[0] & 1) || (v[1] & 1))
		return lgp_err(&c->p, &c->opt_w[O_TOS]->loc, "keep bit 0 in the and-mask (odd value) and "
			       "out of the xor-mask (even value)", "TOS manipulation cannot alter bit 0 "
			       "(RFC 1349)");
	for (set = (~v[0] & v[1]) & 0x0E; set; set >>= 1)
		bits += set & 1;
	if (bits > 1)
		return lgp_err(&c->p, &c->opt_w[O_TOS]->loc, NULL, "TOS manipulation cannot set multiple TOS "
			       "bits (RFC 1349)");
	r->has_tos = true;
	r->tos_and = (uint8_t)v[0];
	r->tos_xor = (uint8_t)v[1];
	r->tos_loc = loc_span(c->opt_w[O_TOS]->loc, c->tos_w[1]->loc);
	return 0;
}

static int mark_parse(struct chp *c, struct lg_rule *r)
{
	const struct word *w = c->mark_w;
	const char *s = w->text;
	bool rel = *s == '+' || *s == '-';
	uint32_t v;

	if (lgp_literal(&c->p, w))
		return -1;
	if (!lgp_uint(s + rel, 0, UINT32_MAX, &v))
		return lgp_err(&c->p, &w->loc, "a number, or +N / -N to add or subtract",
			       "bad value '%s' for -m", s);
	r->has_mark = true;
	r->mark_relative = rel;
	r->mark = *s == '-' ? -(int64_t)v : (int64_t)v;
	r->mark_loc = loc_span(c->opt_w[O_MARK]->loc, w->loc);
	return 0;
}

static int proto_parse(struct chp *c, struct lg_rule *r)
{
	const struct word *w = c->proto_w;

	if (!w)
		return 0;
	if (lgp_literal(&c->p, w))
		return -1;
	if (!lgp_proto(w->text, &c->proto)) {
		static const char *const common[] = { "tcp", "udp", "icmp", "all" };
		const char *sug = suggest(w->text, common, ARRAY_SIZE(common));
		char *hint = sug ? xasprintf("did you mean '%s'?", sug) : NULL;

		lgp_err(&c->p, &w->loc, hint, "unknown protocol '%s' specified", w->text);
		free(hint);
		return -1;
	}
	r->proto = (uint8_t)c->proto;
	r->proto_neg = c->inv & CB(O_PROTO);
	r->proto_loc = loc_span(c->opt_w[O_PROTO]->loc, w->loc);
	if (r->proto == 0 && r->proto_neg)
		return lgp_err(&c->p, &r->proto_loc, NULL, "rule would never match protocol");
	return 0;
}

static int iface_parse(struct chp *c, struct lg_rule *r)
{
	const struct word *w = c->iface_w;

	if (!w)
		return 0;
	if (lgp_literal(&c->p, w))
		return -1;
	if (strlen(w->text) > 16)
		return lgp_err(&c->p, &w->loc, NULL, "interface name '%s' must be shorter than IFNAMSIZ (16)",
			       w->text);
	r->iface_loc = loc_span(c->opt_w[O_IFACE]->loc, w->loc);
	r->iface_neg = c->inv & CB(O_IFACE);
	if (w->text[0])		/* "" is the wildcard that matches every interface */
		r->iface = xstrdup(w->text);
	if (strchr(w->text, ':'))
		diag_add(c->p.pc->dq, DIAG_WARNING, &w->loc, "name the device (eth0) and test the alias "
			 "address with -d",
			 "'%s' is an alias label; on current kernels packets never carry it as their "
			 "interface name", w->text);
	return 0;
}

static int rule_build(struct chp *c, const char *chain, struct lg_rule **out)
{
	struct lg_rule *r = xzalloc(sizeof(*r));
	bool has_ports;

	*out = r;
	r->loc = c->p.cmd->loc;
	r->tool = LG_IPCHAINS;
	r->src.af = r->dst.af = 4;
	if (proto_parse(c, r) || iface_parse(c, r))
		return -1;
	if (c->src_w && lgp_addr(&c->p, c->src_w, &r->src, true))
		return -1;
	if (c->dst_w && lgp_addr(&c->p, c->dst_w, &r->dst, true))
		return -1;
	r->src_neg = c->inv & CB(O_SOURCE);
	r->dst_neg = c->inv & CB(O_DEST);
	if (c->src_w)
		r->src.loc = loc_span(c->opt_w[O_SOURCE]->loc, c->src_w->loc);
	if (c->dst_w)
		r->dst.loc = loc_span(c->opt_w[O_DEST]->loc, c->dst_w->loc);

	has_ports = c->sport_w || c->dport_w;
	for (int i = 0; i < 2; i++) {
		const struct word *pw = i ? c->dport_w : c->sport_w;

		if (pw && pw->kind == WORD_LITERAL && pw->text[0] == '/')
			return lgp_err(&c->p, &pw->loc, "write the mask right after the address, without a "
				       "blank (ADDR/32)", "'%s' stands apart from the address, so ipchains "
				       "reads it as a port", pw->text);
	}
	if (has_ports && (c->proto == 0 || r->proto_neg))
		return lgp_err(&c->p, &(c->sport_w ? c->sport_w : c->dport_w)->loc,
			       "add -p tcp or -p udp (or -p icmp for types)",
			       "no ports allowed without specific protocol");
	if (c->proto == 1) {
		if (icmp_parse(c, r))
			return -1;
	} else {
		if (c->sport_w && ports_parse(c, c->sport_w, c->inv & CB(O_SPORT), &r->sport))
			return -1;
		if (c->dport_w && ports_parse(c, c->dport_w, c->inv & CB(O_DPORT), &r->dport))
			return -1;
	}
	if (c->opts & CB(O_SYN)) {
		if (c->proto != 6 || r->proto_neg)
			return lgp_err(&c->p, &c->opt_w[O_SYN]->loc, "add -p tcp", "-y only allowed with TCP "
				       "protocol");
		r->syn = c->inv & CB(O_SYN) ? LG_NOT : LG_YES;
	}
	if (c->opts & CB(O_FRAG)) {
		r->frag = c->inv & CB(O_FRAG) ? LG_NOT : LG_YES;
		if (r->frag == LG_YES && has_ports)
			return lgp_err(&c->p, &c->opt_w[O_FRAG]->loc, "a non-first fragment has no ports to "
				       "test", "no ports allowed with -f");
		if (r->frag == LG_YES && r->syn != LG_ANY)
			return lgp_err(&c->p, &c->opt_w[O_FRAG]->loc, NULL, "-y not allowed with -f");
	}
	r->bidir = c->opts & CB(O_BIDIR);
	if (c->opts & CB(O_LOG)) {
		r->log = true;
		r->log_loc = c->opt_w[O_LOG]->loc;
	}
	if ((c->opts & CB(O_TOS)) && tos_parse(c, r))
		return -1;
	if ((c->opts & CB(O_MARK)) && mark_parse(c, r))
		return -1;
	if (c->opts & CB(O_NETLINK)) {
		uint32_t size = 65535;

		if (c->outsize_w && (lgp_literal(&c->p, c->outsize_w) ||
				     !lgp_uint(c->outsize_w->text, 10, 65535, &size)))
			return lgp_err(&c->p, &c->outsize_w->loc, NULL, "-o argument must be 0-65535, not '%s'",
				       c->outsize_w->text);
		r->has_netlink = true;
		r->netlink_size = size;
	}
	if (!c->jump_w)
		return 0;	/* LG_T_NONE: counters only */
	if (target_parse(c, r))
		return -1;
	if (r->target == LG_T_REDIRECT) {
		uint32_t port = 0;

		if ((c->proto != 6 && c->proto != 17) || r->proto_neg)
			return lgp_err(&c->p, &c->jump_w->loc, "add -p tcp or -p udp",
				       "redirecting only allowed with TCP or UDP");
		if (c->rport_w && (lgp_literal(&c->p, c->rport_w) ||
				   !lgp_port(c->rport_w->text, strlen(c->rport_w->text), (uint8_t)c->proto, &port)))
			return lgp_err(&c->p, &c->rport_w->loc, NULL, "invalid port/service '%s' specified",
				       c->rport_w->text);
		r->redirect_port = (uint16_t)port;
		if (c->rport_w)
			r->target_loc = loc_span(c->jump_w->loc, c->rport_w->loc);
	}
	if (chain && r->target == LG_T_MASQ && (!strcmp(chain, "input") || !strcmp(chain, "output")))
		return lgp_err(&c->p, &c->jump_w->loc, "MASQ belongs in the forward chain (or a user chain "
			       "called from it)", "masquerading not allowed for input and output chains");
	if (chain && r->target == LG_T_REDIRECT && (!strcmp(chain, "output") || !strcmp(chain, "forward")))
		return lgp_err(&c->p, &c->jump_w->loc, "REDIRECT belongs in the input chain (or a user "
			       "chain called from it)", "redirect not allowed for output and forward chains");
	if (chain && r->target == LG_T_JUMP && !strcmp(chain, r->jump))
		return lgp_err(&c->p, &c->jump_w->loc, NULL, "a chain cannot jump to itself (the kernel "
			       "refuses the loop)");
	return 0;
}

static int policy_parse(struct chp *c, struct lg_cmd *lc)
{
	const struct word *w = c->policy_w;
	const char *chain = c->chain_w->text;

	if (lgp_literal(&c->p, w))
		return -1;
	lc->policy_loc = w->loc;
	if (!strcmp(w->text, "MASQ")) {
		if (strcmp(chain, "forward"))
			return lgp_err(&c->p, &w->loc, NULL, "'-P MASQ' only valid for 'forward' chain");
		lc->policy = LG_T_MASQ;
		return 0;
	}
	if (chain_kind(chain) == LG_CH_USER)
		return lgp_err(&c->p, &c->chain_w->loc, "a user chain ends by returning to its caller",
			       "can only set policy in built-in chains");
	for (size_t i = 0; i < 3; i++)
		if (!strcmp(w->text, targets[i])) {
			lc->policy = target_kinds[i];
			return 0;
		}
	{
		static const char *const pols[] = { "ACCEPT", "DENY", "REJECT", "MASQ" };
		const char *sug = NULL;
		char *hint;

		for (size_t i = 0; i < ARRAY_SIZE(pols) && !sug; i++)
			if (!strncasecmp(w->text, pols[i], strlen(w->text)) && w->text[0])
				sug = pols[i];
		if (!sug && !strcmp(w->text, "DROP"))
			sug = "DENY";
		if (!sug)
			sug = suggest(w->text, pols, ARRAY_SIZE(pols));
		hint = sug ? xasprintf("did you mean '%s'?", sug) :
			     xstrdup("a policy is ACCEPT, DENY, REJECT (or MASQ for forward)");
		lgp_err(&c->p, &w->loc, hint, "invalid policy '%s' for -P (policies are written in "
			"upper case: ACCEPT, DENY, REJECT)", w->text);
		free(hint);
		return -1;
	}
}

static int timeouts_parse(struct chp *c, struct lg_cmd *lc)
{
	for (int i = 0; i < 3; i++) {
		const struct word *w = c->timeout_w[i];
		uint32_t v;

		if (lgp_literal(&c->p, w))
			return -1;
		if (!lgp_uint(w->text, 10, INT_MAX / 100, &v))
			return lgp_err(&c->p, &w->loc, "seconds; 0 keeps the current value",
				       "invalid timeout value '%s' specified", w->text);
		lc->timeouts[i] = v;
	}
	return 0;
}

static int rulenum_parse(struct chp *c, struct lg_cmd *lc)
{
	uint32_t v;

	if (!c->rulenum_w)
		return 0;
	if (lgp_literal(&c->p, c->rulenum_w))
		return -1;
	if (!lgp_uint(c->rulenum_w->text, 10, INT_MAX, &v) || v == 0)
		return lgp_err(&c->p, &c->rulenum_w->loc, "rules are numbered from 1",
			       "invalid rule number '%s'", c->rulenum_w->text);
	lc->num = v;
	return 0;
}

static struct lg_cmd *cmd_make(struct chp *c, enum lg_op op)
{
	struct lg_cmd *lc = lgp_cmd_new(LG_IPCHAINS, op, &c->p.cmd->loc);

	if (c->chain_w) {
		lc->chain = xstrdup(c->chain_w->text);
		lc->chain_loc = c->chain_w->loc;
		lc->chain_kind = chain_kind(lc->chain);
	}
	return lc;
}

static int build(struct chp *c, struct lgp_out *out)
{
	struct lg_cmd *lc;
	unsigned cmd = c->cmd;
	enum lg_op op;
	bool rule = false;

	if (cmd == CB(C_MASQ))
		return lgp_err(&c->p, &c->cmd_w->loc, "-M -L lists, -M -S sets the timeouts",
			       "-M requires -L or -S");
	if (opts_check(c))
		return -1;
	if (c->chain_w && chain_check(c, c->chain_w, cmd == CB(C_NEW)))
		return -1;
	switch (cmd) {
	case CB(C_APPEND): op = LG_OP_APPEND; rule = true; break;
	case CB(C_INSERT): op = LG_OP_INSERT; rule = true; break;
	case CB(C_DELETE): op = LG_OP_DELETE; rule = true; break;
	case CB(C_REPLACE): op = LG_OP_REPLACE; rule = true; break;
	case CB(C_CHECK): op = LG_OP_LIST; rule = true; break;
	case CB(C_DELETE_NUM): op = LG_OP_DELETE_NUM; break;
	case CB(C_FLUSH): op = LG_OP_FLUSH; break;
	case CB(C_ZERO): op = LG_OP_ZERO; break;
	case CB(C_NEW): op = LG_OP_NEW_CHAIN; break;
	case CB(C_DELCHAIN): op = LG_OP_DELETE_CHAIN; break;
	case CB(C_POLICY): op = LG_OP_POLICY; break;
	case CB(C_LIST) | CB(C_MASQ): op = LG_OP_MASQ_LIST; break;
	case CB(C_SETMASQ):
	case CB(C_SETMASQ) | CB(C_MASQ): op = LG_OP_MASQ_TIMEOUTS; break;
	default: op = LG_OP_LIST; break;	/* -L, -L -Z */
	}
	if (cmd == CB(C_NEW)) {
		for (size_t i = 0; i < ARRAY_SIZE(targets); i++)
			if (!strcmp(c->chain_w->text, targets[i]))
				return lgp_err(&c->p, &c->chain_w->loc, NULL, "ipchains would fail here: a chain "
					       "cannot be named like the target %s", targets[i]);
		if (chain_kind(c->chain_w->text) != LG_CH_USER)
			return lgp_err(&c->p, &c->chain_w->loc, NULL, "ipchains would fail here: %s is a "
				       "builtin chain", c->chain_w->text);
	}
	if (cmd == CB(C_DELCHAIN) && c->chain_w && chain_kind(c->chain_w->text) != LG_CH_USER)
		return lgp_err(&c->p, &c->chain_w->loc, NULL, "ipchains would fail here: the builtin chain "
			       "%s cannot be deleted", c->chain_w->text);
	lc = cmd_make(c, op);
	out->v[out->n++] = lc;
	if (cmd == CB(C_CHECK))
		lc->op = LG_OP_LIST;
	if (rule && rule_build(c, lc->chain, &lc->rule))
		return -1;
	if (cmd == CB(C_CHECK)) {
		lg_rule_free(lc->rule);
		lc->rule = NULL;
	}
	if (cmd == CB(C_INSERT) && !c->rulenum_w)
		lc->num = 1;
	if (rulenum_parse(c, lc))
		return -1;
	if (op == LG_OP_POLICY && policy_parse(c, lc))
		return -1;
	if (op == LG_OP_MASQ_TIMEOUTS && timeouts_parse(c, lc))
		return -1;
	return 0;
}

void lgp_out_free(struct lgp_out *o)
{
	for (unsigned i = 0; i < o->n; i++)
		lg_cmd_free(o->v[i]);
	o->n = 0;
}

int ipchains_parse(struct parse_ctx *pc, const struct command *cmd, struct lgp_out *out)
{
	struct chp c;

	memset(&c, 0, sizeof(c));
	memset(out, 0, sizeof(*out));
	lgp_init(&c.p, pc, cmd);
	if (parse_argv(&c))
		return -1;
	if (c.help)
		return 0;
	if (!c.cmd)
		return lgp_err(&c.p, &cmd->loc, "e.g. ipchains -A input ... to append a rule",
			       "ipchains: no command specified");
	if (build(&c, out)) {
		lgp_out_free(out);
		return -1;
	}
	return 0;
}

static int apply_all(struct parse_ctx *pc, struct lgp_out *out)
{
	int r = 0;

	for (unsigned i = 0; i < out->n; i++) {
		if (lg_apply(pc, out->v[i]))
			r = -1;
		out->v[i]->rule = NULL;	/* lg_apply took it */
	}
	lgp_out_free(out);
	return r;
}

int ipchains_command(struct parse_ctx *pc, const struct command *cmd)
{
	struct lgp_out out;

	if (ipchains_parse(pc, cmd, &out))
		return -1;
	return apply_all(pc, &out);
}

int ipfwadm_command(struct parse_ctx *pc, const struct command *cmd)
{
	struct lgp_out out;

	if (ipfwadm_parse(pc, cmd, &out))
		return -1;
	return apply_all(pc, &out);
}

/* ---- ipchains-save / ipchains-restore ---------------------------------------------- */

static bool save_policy_word(const char *s, size_t n)
{
	static const char *const pols[] = { "ACCEPT", "DENY", "REJECT", "MASQ", "-" };

	for (size_t i = 0; i < ARRAY_SIZE(pols); i++)
		if (strlen(pols[i]) == n && !strncmp(pols[i], s, n))
			return true;
	return false;
}

bool ipchains_save_detect(const struct src_file *f)
{
	for (unsigned l = 1; l <= f->nlines; l++) {
		size_t len, i = 0, n;
		const char *s = src_line(f, l, &len);

		while (i < len && isspace((unsigned char)s[i]))
			i++;
		if (i == len || s[i] == '#')
			continue;
		if (s[i] != ':')
			return false;
		s += i + 1;
		len -= i + 1;
		for (n = 0; n < len && !isspace((unsigned char)s[n]); n++)
			;
		if (n == 0 || n > 8)
			return false;
		for (i = n; i < len && isspace((unsigned char)s[i]); i++)
			;
		for (n = 0; i + n < len && !isspace((unsigned char)s[i + n]); n++)
			;
		return save_policy_word(s + i, n);
	}
	return false;
}

/* Splits one line into words with their real locations (no quoting in
 * this format) and runs it as `ipchains WORDS...`. */
static int save_line(struct parse_ctx *pc, const struct src_file *f, size_t line_off, const char *s,
		     size_t len)
{
	VEC(struct word) v = { 0 };
	struct command cmd = { 0 };
	int r;

	vec_push(&v, ((struct word){ .kind = WORD_LITERAL, .text = xstrdup("ipchains") }));
	for (size_t i = 0; i < len;) {
		size_t j;

		while (i < len && isspace((unsigned char)s[i]))
			i++;
		if (i == len)
			break;
		for (j = i; j < len && !isspace((unsigned char)s[j]); j++)
			;
		{
			struct word w = { .kind = WORD_LITERAL, .text = xstrndup(s + i, j - i) };

			w.loc = loc_at(f, line_off + i);
			w.loc.len = (unsigned)(j - i);
			vec_push(&v, w);
		}
		i = j;
	}
	v.v[0].loc = v.n > 1 ? v.v[1].loc : loc_at(f, line_off);
	cmd.argv = v.v;
	cmd.argc = (unsigned)v.n;
	cmd.loc = v.n > 1 ? loc_span(v.v[1].loc, v.v[v.n - 1].loc) : v.v[0].loc;
	r = ipchains_command(pc, &cmd);
	for (size_t i = 0; i < v.n; i++)
		free(v.v[i].text);
	vec_free(&v);
	return r;
}

/* ":name POLICY" creates a user chain (policy "-") or sets a builtin's
 * policy, as ipchains-restore did with -N / -P. */
static int save_chain_line(struct parse_ctx *pc, const struct src_file *f, size_t off, const char *s,
			   size_t len)
{
	size_t i = 1, n;
	struct lg_cmd *c;
	struct lgp p;
	struct command fake = { 0 };
	char *name, *pol;
	int r;

	fake.loc = loc_at(f, off);
	fake.loc.len = (unsigned)len;
	lgp_init(&p, pc, &fake);
	p.prog = "ipchains-restore";
	for (n = 0; i + n < len && !isspace((unsigned char)s[i + n]); n++)
		;
	name = xstrndup(s + 1, n);
	i += n;
	while (i < len && isspace((unsigned char)s[i]))
		i++;
	for (n = 0; i + n < len && !isspace((unsigned char)s[i + n]); n++)
		;
	pol = xstrndup(s + i, n);
	if (!*name || strlen(name) > 8 || !save_policy_word(pol, strlen(pol))) {
		r = lgp_err(&p, &fake.loc, "the format is ':CHAIN POLICY' (POLICY '-' for a user chain)",
			    "bad chain line in ipchains-save input");
		goto out;
	}
	if (chain_kind(name) == LG_CH_USER) {
		c = lgp_cmd_new(LG_IPCHAINS, LG_OP_NEW_CHAIN, &fake.loc);
		if (strcmp(pol, "-"))
			diag_add(pc->dq, DIAG_WARNING, &fake.loc, NULL, "user chain %s cannot have a policy; "
				 "'%s' ignored", name, pol);
	} else {
		c = lgp_cmd_new(LG_IPCHAINS, LG_OP_POLICY, &fake.loc);
		if (!strcmp(pol, "-") || (!strcmp(pol, "MASQ") && strcmp(name, "forward"))) {
			lg_cmd_free(c);
			r = lgp_err(&p, &fake.loc, NULL, "invalid policy '%s' for the builtin chain %s", pol, name);
			goto out;
		}
		c->policy = !strcmp(pol, "ACCEPT") ? LG_T_ACCEPT : !strcmp(pol, "DENY") ? LG_T_DENY :
			    !strcmp(pol, "REJECT") ? LG_T_REJECT : LG_T_MASQ;
		c->policy_loc = loc_at(f, off + i);
		c->policy_loc.len = (unsigned)n;
	}
	c->chain = name;
	name = NULL;
	c->chain_kind = chain_kind(c->chain);
	c->chain_loc = loc_at(f, off + 1);
	c->chain_loc.len = (unsigned)strlen(c->chain);
	r = lg_apply(pc, c);
	c->rule = NULL;
	lg_cmd_free(c);
out:
	free(name);
	free(pol);
	return r;
}

int ipchains_save_parse(struct parse_ctx *pc, const struct src_file *f)
{
	int ret = 0;

	for (unsigned l = 1; l <= f->nlines; l++) {
		size_t len, i = 0;
		const char *s = src_line(f, l, &len);

		while (i < len && isspace((unsigned char)s[i]))
			i++;
		if (i == len || s[i] == '#')
			continue;
		if (s[i] == ':')
			ret |= save_chain_line(pc, f, f->line_off[l - 1] + i, s + i, len - i);
		else
			ret |= save_line(pc, f, f->line_off[l - 1] + i, s + i, len - i);
	}
	return ret ? -1 : 0;
}
