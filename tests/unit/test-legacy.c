/* test-legacy.c -- the ipchains, ipfwadm and ipmasqadm/ipportfw/ipautofw
 * command-line parsers, checked on the struct lg_cmd / lg_forward values
 * they build (through the *_parse seam of legacy-parse.h, without applying
 * them) and on the diagnostics they queue, with columns.  TAP output.
 *
 * A line is split at blanks (double quotes group) with real locations;
 * $NAME stands for a value known only at run time, @IF for the address of
 * interface IF (with an optional literal suffix such as /32).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "../../src/parser/legacy-parse.h"
#include "../../src/util.h"

struct fx {
	struct ir_ruleset *rs;
	struct diag_queue dq;
	struct source_set ss;
	struct parse_ctx pc;
	struct command cmd;
	struct lgp_out out;
	struct lg_forward *fw;
	int r;
};

static void cmd_split(struct fx *f, const char *line)
{
	struct src_file *sf = source_add(&f->ss, "t.sh", line, strlen(line), NULL);
	VEC(struct word) w = { 0 };
	const char *s = sf->text;

	while (*s) {
		struct strbuf sb = { 0 };
		struct word wd = { 0 };
		const char *start;
		bool q = false;

		while (*s == ' ')
			s++;
		if (!*s)
			break;
		start = s;
		while (*s && (q || *s != ' ')) {
			if (*s == '"')
				q = !q;
			else
				sb_addc(&sb, *s);
			s++;
		}
		wd.kind = WORD_LITERAL;
		wd.text = sb_steal(&sb);
		wd.loc = (struct loc){ sf, 1, (unsigned)(start - sf->text) + 1, (unsigned)(s - start) };
		if (wd.text[0] == '$' && wd.text[1]) {
			wd.kind = WORD_UNKNOWN;
			wd.var = xstrdup(wd.text + 1);
			wd.sym = xstrdup(wd.text + 1);
			wd.text[0] = '\0';
		} else if (wd.text[0] == '@') {
			char *suf = strchr(wd.text, '/');

			wd.kind = WORD_IFADDR;
			wd.sym = suf ? xstrndup(wd.text + 1, (size_t)(suf - wd.text - 1)) : xstrdup(wd.text + 1);
			wd.var = xstrdup("EXTIP");
			memmove(wd.text, suf ? suf : "", strlen(suf ? suf : "") + 1);
		}
		vec_push(&w, wd);
	}
	f->cmd.argv = w.v;
	f->cmd.argc = (unsigned)w.n;
	f->cmd.loc = (struct loc){ sf, 1, 1, (unsigned)strlen(line) };
}

static void fx_free(struct fx *f)
{
	lgp_out_free(&f->out);
	if (f->fw) {
		free(f->fw->laddr.ifname);
		free(f->fw->laddr.var);
		free(f->fw->raddr.ifname);
		free(f->fw->raddr.var);
		free(f->fw);
	}
	for (unsigned i = 0; i < f->cmd.argc; i++) {
		free(f->cmd.argv[i].text);
		free(f->cmd.argv[i].sym);
		free(f->cmd.argv[i].var);
	}
	free(f->cmd.argv);
	ir_ruleset_free(f->rs);
	diag_queue_free(&f->dq);
	source_set_free(&f->ss);
	free(f);
}

static struct fx *run(const char *line)
{
	struct fx *f = xzalloc(sizeof(*f));
	const char *b;

	f->rs = ir_ruleset_new();
	f->pc.rs = f->rs;
	f->pc.dq = &f->dq;
	f->pc.ss = &f->ss;
	cmd_split(f, line);
	b = f->cmd.argv[0].text;
	if (!strcmp(b, "ipchains"))
		f->r = ipchains_parse(&f->pc, &f->cmd, &f->out);
	else if (!strcmp(b, "ipfwadm"))
		f->r = ipfwadm_parse(&f->pc, &f->cmd, &f->out);
	else
		f->r = ipmasqadm_parse(&f->pc, &f->cmd, &f->fw);
	return f;
}

static void dump(const struct fx *f)
{
	for (size_t i = 0; i < f->dq.n; i++)
		printf("#   %s %u:%u: %s%s%s\n", f->dq.v[i].level == DIAG_ERROR ? "error" :
		       f->dq.v[i].level == DIAG_WARNING ? "warning" : "note", f->dq.v[i].loc.line,
		       f->dq.v[i].loc.col, f->dq.v[i].msg, f->dq.v[i].hint ? " -- " : "",
		       f->dq.v[i].hint ? f->dq.v[i].hint : "");
}

static unsigned nerr(const struct fx *f)
{
	unsigned n = 0;

	for (size_t i = 0; i < f->dq.n; i++)
		n += f->dq.v[i].level == DIAG_ERROR;
	return n;
}

/* a line that must parse into n commands; returns the first rule (or NULL) */
static struct fx *good(const char *line, unsigned n)
{
	struct fx *f = run(line);
	bool okk = f->r == 0 && nerr(f) == 0 && f->out.n == n;

	ok(okk, "parses: %s", line);
	if (!okk)
		dump(f);
	return f;
}

static const struct lg_rule *R(const struct fx *f)
{
	static const struct lg_rule none;	/* so a failed parse reads as an empty rule */

	return f->out.n && f->out.v[0]->rule ? f->out.v[0]->rule : &none;
}

/* an error containing msg at column col (0: any column) */
static void bad(const char *line, const char *msg, unsigned col)
{
	struct fx *f = run(line);
	const struct diag *d = NULL;

	for (size_t i = 0; i < f->dq.n && !d; i++)
		if (f->dq.v[i].level == DIAG_ERROR && strstr(f->dq.v[i].msg, msg))
			d = &f->dq.v[i];
	ok(f->r == -1 && d && (!col || d->loc.col == col) && f->out.n == 0 && !f->fw,
	   "error '%s' at col %u: %s", msg, col, line);
	if (!(f->r == -1 && d && (!col || d->loc.col == col)))
		dump(f);
	fx_free(f);
}

/* a diagnostic of the level whose message or hint contains msg */
static bool has_diag(const struct fx *f, enum diag_level lvl, const char *msg)
{
	for (size_t i = 0; i < f->dq.n; i++)
		if (f->dq.v[i].level == lvl && (strstr(f->dq.v[i].msg, msg) ||
						(f->dq.v[i].hint && strstr(f->dq.v[i].hint, msg))))
			return true;
	return false;
}

static bool addr_is(const struct ir_addr *a, unsigned b0, unsigned b1, unsigned b2, unsigned b3, unsigned plen)
{
	return a->kind == IR_ADDR_PREFIX && a->lo[0] == b0 && a->lo[1] == b1 && a->lo[2] == b2 &&
	       a->lo[3] == b3 && a->plen == plen;
}

static bool ports_is(const struct lg_ports *p, unsigned n, ...)
{
	va_list ap;
	bool r = p->n == n;

	va_start(ap, n);
	for (unsigned i = 0; r && i < n; i++) {
		unsigned lo = va_arg(ap, unsigned), hi = va_arg(ap, unsigned);

		r = p->v[i].lo == lo && p->v[i].hi == hi;
	}
	va_end(ap);
	return r;
}

/* ---- ipchains -------------------------------------------------------------------- */

static void test_ipchains_rules(void)
{
	struct fx *f;
	const struct lg_rule *r;

	f = good("ipchains -A input -p tcp -s 10.0.0.0/8 ! 1024: -d ! 192.168.1.1 80 -j ACCEPT", 1);
	r = R(f);
	ok(f->out.v[0]->op == LG_OP_APPEND && !strcmp(f->out.v[0]->chain, "input") &&
	   f->out.v[0]->chain_kind == LG_CH_INPUT, "append to input");
	ok(r->proto == 6 && !r->proto_neg && addr_is(&r->src, 10, 0, 0, 0, 8) && !r->src_neg,
	   "tcp from 10/8");
	ok(r->sport.neg && ports_is(&r->sport, 1, 1024, 65535), "! 1024: is 1024-65535 inverted");
	ok(r->dst_neg && addr_is(&r->dst, 192, 168, 1, 1, 32) && !r->dport.neg && ports_is(&r->dport, 1, 80, 80),
	   "-d ! addr 80: address inverted, port not");
	ok(r->target == LG_T_ACCEPT && r->target_loc.col == 71, "ACCEPT located");
	fx_free(f);

	f = good("ipchains -A forward -s 192.168.1.0/255.255.255.0 -j MASQ", 1);
	ok(addr_is(&R(f)->src, 192, 168, 1, 0, 24) && R(f)->target == LG_T_MASQ, "dotted mask, MASQ in forward");
	fx_free(f);

	f = good("ipchains -A mine -s 0/0 -j MASQ", 1);
	ok(R(f)->target == LG_T_MASQ && f->out.v[0]->chain_kind == LG_CH_USER && R(f)->src.plen == 0,
	   "MASQ allowed in a user chain; 0/0 is any");
	fx_free(f);

	f = good("ipchains -A input -p tcp -d 0/0 80 -j REDIRECT 3128", 1);
	ok(R(f)->target == LG_T_REDIRECT && R(f)->redirect_port == 3128, "REDIRECT 3128");
	fx_free(f);
	f = good("ipchains -A input -p udp -j REDIRECT", 1);
	ok(R(f)->target == LG_T_REDIRECT && R(f)->redirect_port == 0, "REDIRECT without port keeps it");
	fx_free(f);

	f = good("ipchains -A input -p icmp --icmp-type port-unreachable -j DENY", 1);
	ok(ports_is(&R(f)->sport, 1, 3, 3) && ports_is(&R(f)->dport, 1, 3, 3), "port-unreachable = type 3 code 3");
	fx_free(f);
	f = good("ipchains -A input -p icmp -s 0/0 echo-request -j ACCEPT", 1);
	ok(ports_is(&R(f)->sport, 1, 8, 8) && R(f)->dport.n == 0, "echo-request after -s: type 8, any code");
	fx_free(f);
	f = good("ipchains -A input -p icmp -s 0/0 PONG -j ACCEPT", 1);
	ok(ports_is(&R(f)->sport, 1, 0, 0), "icmp names case-insensitive (pong = 0)");
	fx_free(f);
	f = good("ipchains -A input -p icmp -s 0/0 ttl-zero-during-r", 1);
	ok(ports_is(&R(f)->sport, 1, 11, 11) && ports_is(&R(f)->dport, 1, 1, 1), "icmp name prefix");
	fx_free(f);
	f = good("ipchains -A input -p icmp -s 0/0 3 -d 0/0 0:1 -j ACCEPT", 1);
	ok(ports_is(&R(f)->sport, 1, 3, 3) && ports_is(&R(f)->dport, 1, 0, 1), "numeric type and code range");
	fx_free(f);
	f = good("ipchains -A input -p icmp -d 0/0 8 -j ACCEPT", 1);
	ok(has_diag(f, DIAG_WARNING, "ICMP code"), "code without type warns");
	fx_free(f);

	f = good("ipchains -A input -i ! eth+ -j DENY", 1);
	ok(!strcmp(R(f)->iface, "eth+") && R(f)->iface_neg, "-i ! eth+");
	fx_free(f);
	f = good("ipchains -A input -p tcp ! -y -l -j ACCEPT", 1);
	ok(R(f)->syn == LG_NOT && R(f)->log, "! -y, -l");
	fx_free(f);
	f = good("ipchains -A input -p tcp --syn", 1);
	ok(R(f)->syn == LG_YES && R(f)->target == LG_T_NONE, "--syn, no target = count only");
	fx_free(f);
	f = good("ipchains -A input ! -f -j ACCEPT", 1);
	ok(R(f)->frag == LG_NOT, "! -f");
	fx_free(f);
	f = good("ipchains -A input -f -j DENY", 1);
	ok(R(f)->frag == LG_YES, "-f");
	fx_free(f);
	f = good("ipchains -A input -b -s 1.2.3.4 -d 5.6.7.8 -j ACCEPT", 1);
	ok(R(f)->bidir, "-b stays one rule with bidir");
	fx_free(f);
	f = good("ipchains -A input -t 0x01 0x10", 1);
	ok(R(f)->has_tos && R(f)->tos_and == 1 && R(f)->tos_xor == 0x10, "-t and xor (hex)");
	fx_free(f);
	f = good("ipchains -A input -m +1 -j ACCEPT", 1);
	ok(R(f)->has_mark && R(f)->mark_relative && R(f)->mark == 1, "-m +1 relative");
	fx_free(f);
	f = good("ipchains -A input -m -2", 1);
	ok(R(f)->has_mark && R(f)->mark_relative && R(f)->mark == -2, "-m -2 relative");
	fx_free(f);
	f = good("ipchains -A input -m 0x10", 1);
	ok(R(f)->has_mark && !R(f)->mark_relative && R(f)->mark == 16, "-m 0x10 absolute");
	fx_free(f);
	f = good("ipchains -A input -o 128 -j ACCEPT", 1);
	ok(R(f)->has_netlink && R(f)->netlink_size == 128, "-o size");
	fx_free(f);
	f = good("ipchains -A input -o -j ACCEPT", 1);
	ok(R(f)->has_netlink && R(f)->netlink_size == 65535, "-o without size");
	fx_free(f);
	f = good("ipchains -A input -j mychain", 1);
	ok(R(f)->target == LG_T_JUMP && !strcmp(R(f)->jump, "mychain"), "jump to a user chain");
	fx_free(f);
	f = good("ipchains -A input -p tcp -s 0/0 0:65535 -j ACCEPT", 1);
	ok(ports_is(&R(f)->sport, 1, 0, 65535), "explicit 0:65535 kept");
	fx_free(f);
	f = good("ipchains -A input -p tcp -s 0/0 :1023 -d 0/0 www -j DENY", 1);
	ok(ports_is(&R(f)->sport, 1, 0, 1023) && ports_is(&R(f)->dport, 1, 80, 80), ":hi and service name");
	fx_free(f);
	f = good("ipchains -A input -p ! tcp -j DENY", 1);
	ok(R(f)->proto == 6 && R(f)->proto_neg, "-p ! tcp");
	fx_free(f);
	f = good("ipchains -A input ! -p 47 -j DENY", 1);
	ok(R(f)->proto == 47 && R(f)->proto_neg, "! -p 47");
	fx_free(f);
	f = good("ipchains -A input -p tcp --sport ! 53 --dport 1024:", 1);
	ok(R(f)->sport.neg && ports_is(&R(f)->sport, 1, 53, 53) && ports_is(&R(f)->dport, 1, 1024, 65535),
	   "--sport ! 53 (1.3.9), --dport lo:");
	fx_free(f);
	f = good("ipchains -A input -s @ppp0 -j ACCEPT", 1);
	ok(R(f)->src.kind == IR_ADDR_IFADDR && !strcmp(R(f)->src.ifname, "ppp0"), "address of an interface");
	fx_free(f);
	f = good("ipchains -A input -s 192.168.1/24 -j ACCEPT", 1);
	ok(addr_is(&R(f)->src, 192, 168, 0, 0, 24) && has_diag(f, DIAG_WARNING, "inet_aton"),
	   "192.168.1/24 read like inet_aton (192.168.0.1), with a warning");
	fx_free(f);
	f = good("ipchains -A input -s 10/8 -j ACCEPT", 1);
	ok(addr_is(&R(f)->src, 0, 0, 0, 0, 8) && has_diag(f, DIAG_WARNING, "0.0.0.10"),
	   "10/8 is inet_aton's 0.0.0.10/8, with a warning");
	fx_free(f);
	f = good("ipchains -A input -s 127.0/8 -j ACCEPT", 1);
	ok(addr_is(&R(f)->src, 127, 0, 0, 0, 8) && !has_diag(f, DIAG_WARNING, "inet_aton"), "127.0/8 quietly");
	fx_free(f);
}

static void test_ipchains_commands(void)
{
	struct fx *f;

	f = good("ipchains -I input 3 -s 1.2.3.4", 1);
	ok(f->out.v[0]->op == LG_OP_INSERT && f->out.v[0]->num == 3, "-I chain n");
	fx_free(f);
	f = good("ipchains -I input -s 1.2.3.4", 1);
	ok(f->out.v[0]->num == 1, "-I without a number is 1");
	fx_free(f);
	f = good("ipchains -D input 2", 1);
	ok(f->out.v[0]->op == LG_OP_DELETE_NUM && f->out.v[0]->num == 2 && !f->out.v[0]->rule, "-D chain n");
	fx_free(f);
	f = good("ipchains -D input -s 1.2.3.4 -j DENY", 1);
	ok(f->out.v[0]->op == LG_OP_DELETE && f->out.v[0]->rule, "-D with a rule");
	fx_free(f);
	f = good("ipchains -R forward 1 -j DENY", 1);
	ok(f->out.v[0]->op == LG_OP_REPLACE && f->out.v[0]->num == 1, "-R chain n");
	fx_free(f);
	f = good("ipchains -F", 1);
	ok(f->out.v[0]->op == LG_OP_FLUSH && !f->out.v[0]->chain, "-F all chains");
	fx_free(f);
	f = good("ipchains -F forward", 1);
	ok(f->out.v[0]->op == LG_OP_FLUSH && !strcmp(f->out.v[0]->chain, "forward"), "-F forward");
	fx_free(f);
	f = good("ipchains -N acctin", 1);
	ok(f->out.v[0]->op == LG_OP_NEW_CHAIN && f->out.v[0]->chain_kind == LG_CH_USER, "-N");
	fx_free(f);
	f = good("ipchains -X", 1);
	ok(f->out.v[0]->op == LG_OP_DELETE_CHAIN && !f->out.v[0]->chain, "-X all");
	fx_free(f);
	f = good("ipchains -Z", 1);
	ok(f->out.v[0]->op == LG_OP_ZERO, "-Z");
	fx_free(f);
	f = good("ipchains -P forward MASQ", 1);
	ok(f->out.v[0]->op == LG_OP_POLICY && f->out.v[0]->policy == LG_T_MASQ, "-P forward MASQ");
	fx_free(f);
	f = good("ipchains -P input REJECT", 1);
	ok(f->out.v[0]->policy == LG_T_REJECT, "-P input REJECT");
	fx_free(f);
	f = good("ipchains -M -S 7200 10 160", 1);
	ok(f->out.v[0]->op == LG_OP_MASQ_TIMEOUTS && f->out.v[0]->timeouts[0] == 7200 &&
	   f->out.v[0]->timeouts[1] == 10 && f->out.v[0]->timeouts[2] == 160, "-M -S timeouts");
	fx_free(f);
	f = good("ipchains -M -L -n", 1);
	ok(f->out.v[0]->op == LG_OP_MASQ_LIST, "-M -L");
	fx_free(f);
	f = good("ipchains -nvL input", 1);
	ok(f->out.v[0]->op == LG_OP_LIST, "clustered -nvL");
	fx_free(f);
	f = good("ipchains -C input -p tcp -s 1.2.3.4 80 -d 5.6.7.8 25 -i eth0", 1);
	ok(f->out.v[0]->op == LG_OP_LIST && !f->out.v[0]->rule, "-C check is a list-like no-op");
	fx_free(f);
	f = good("ipchains -h icmp", 0);
	fx_free(f);
	f = good("ipchains --app input --proto tcp --dport 22 --jump ACCEPT", 1);
	ok(R(f)->proto == 6 && ports_is(&R(f)->dport, 1, 22, 22) && R(f)->target == LG_T_ACCEPT,
	   "long options by unique prefix");
	fx_free(f);
	f = good("ipchains --append=input --source=1.2.3.4", 1);
	fx_free(f);
	f = good("ipchains -Ainput -s1.2.3.4 -jDENY", 1);
	ok(addr_is(&R(f)->src, 1, 2, 3, 4, 32) && R(f)->target == LG_T_DENY, "attached arguments");
	fx_free(f);
}

static void test_ipchains_errors(void)
{
	bad("ipchains -A input -j MASQ", "masquerading not allowed for input", 22);
	bad("ipchains -A output -p tcp -j REDIRECT 3128", "redirect not allowed", 30);
	bad("ipchains -A input -p icmp -s 0/0 echo", "ambiguous ICMP 'echo'", 34);
	bad("ipchains -A input -p icmp -s 0/0 echo-requst", "unknown ICMP type", 34);
	bad("ipchains -A input -p icmp --icmp-type ping -d 0/0 3", "ICMP name and destination", 51);
	bad("ipchains -A input -p icmp --icmp-type ! ping", "can't invert named ICMP", 41);
	bad("ipchains -A input -p udp -y", "-y only allowed with TCP", 26);
	bad("ipchains -A input -f -p tcp -d 0/0 80", "no ports allowed with -f", 19);
	bad("ipchains -A input -s 1.2.3.4 80", "no ports allowed without specific protocol", 30);
	bad("ipchains -A input -j ACC", "'ACC' is no target", 22);
	bad("ipchains -A input -j accept", "'accept' is no target", 22);
	bad("ipchains -A input -j REDIR", "'REDIR' is no target", 22);
	bad("ipchains -A forward -j MASQUERADE", "iptables target", 24);
	bad("ipchains -P input deny", "invalid policy 'deny'", 19);
	bad("ipchains -P input MASQ", "only valid for 'forward'", 19);
	bad("ipchains -P mine ACCEPT", "only set policy in built-in", 13);
	bad("ipchains -A INPUT -j DENY", "no chain 'INPUT'", 13);
	bad("ipchains -N toolongname", "too long", 13);
	bad("ipchains -A input -s www.example.com -j DENY", "the address is needed", 22);
	bad("ipchains -A input -s 1.2.3.4/33", "invalid mask", 22);
	bad("ipchains -A input -s 1.2.3.4/255.0.255.0", "non-contiguous", 22);
	bad("ipchains --dest 1.2.3.4 -A input", "ambiguous", 10);
	bad("ipchains -A input --tos 0x01 0x10", "unknown option '--tos'", 19);
	bad("ipchains -F input -s 1.2.3.4", "illegal option -s", 19);
	bad("ipchains -A input ! -b", "cannot have ! before -b", 19);
	bad("ipchains -A input -s 1.2.3.4 -s 5.6.7.8", "multiple -s", 30);
	bad("ipchains -A input -p tcp -d 0/0 90:80", "never matches", 33);
	bad("ipchains -A input -t 0x00 0x10", "bit 0", 19);
	bad("ipchains -A input -t 0x01 0x06", "multiple TOS bits", 19);
	bad("ipchains -A input --delete-chain", "requires an argument", 19);
	bad("ipchains -A input -k", "unknown option '-k'", 19);
	bad("ipchains -A input -p tcp -d 0/0 80,443", "invalid port", 33);
	bad("ipchains -A input -s $NET -j DENY", "only known when the script runs", 22);
	bad("ipchains -A input -j DENY !", "nothing appropriate following !", 27);
	bad("ipchains -A input -s 1.2.3.4 /32", "stands apart from the address", 30);
	bad("ipchains -L -Z input", "does not allow a chain", 16);
	bad("ipchains -A input -I forward", "can't use -I with -A", 19);
	bad("ipchains -s 1.2.3.4", "no command specified", 1);
	bad("ipchains -X input", "cannot be deleted", 13);
	bad("ipchains -R input -j DENY", "requires a rule number", 10);
	bad("ipchains -M", "-M requires -L or -S", 10);
}

/* ---- ipfwadm --------------------------------------------------------------------- */

static void test_ipfwadm(void)
{
	struct fx *f;
	const struct lg_rule *r;

	f = good("ipfwadm -F -a m -S 192.168.1.0/24 -D 0.0.0.0/0", 1);
	ok(f->out.v[0]->op == LG_OP_APPEND && f->out.v[0]->chain_kind == LG_CH_FORWARD && !f->out.v[0]->chain &&
	   R(f)->target == LG_T_MASQ && addr_is(&R(f)->src, 192, 168, 1, 0, 24) && R(f)->tool == LG_IPFWADM,
	   "-a m is masquerade");
	fx_free(f);
	f = good("ipfwadm -F -a accept -m -S 10.0.0.0/8", 1);
	ok(R(f)->target == LG_T_MASQ, "accept -m is MASQ");
	fx_free(f);
	f = good("ipfwadm -I -a acc -P tcp -S 0/0 -D 1.2.3.4 25 53 80:90", 1);
	r = R(f);
	ok(r->target == LG_T_ACCEPT && r->proto == 6 && ports_is(&r->dport, 3, 80, 90, 25, 25, 53, 53),
	   "port list, the range moved first");
	fx_free(f);
	f = good("ipfwadm -I -a accept -P tcp -S 0/0 1 2 3 4 5 -D 0/0 6 7 8 9 10", 1);
	ok(R(f)->sport.n == 5 && R(f)->dport.n == 5, "ten ports");
	fx_free(f);
	bad("ipfwadm -I -a accept -P tcp -S 0/0 1 2 3 4 5 -D 0/0 6 7 8 9 10 11", "too many ports", 64);
	f = good("ipfwadm -I -a accept -P udp -S 0/0 1:2 3 4 5 6 7 8 9 10", 1);
	ok(ports_is(&R(f)->sport, 9, 1, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10), "a range counts 2");
	fx_free(f);
	bad("ipfwadm -I -a accept -P udp -S 0/0 1:2 3 4 5 6 7 8 9 10 11", "too many ports", 57);
	bad("ipfwadm -I -a accept -P udp -S 0/0 1:2 3:4", "multiple ranges", 40);
	bad("ipfwadm -O -a accept -P udp -S 0/0 -D 0/0 80 -r", "redirecting only allowed in combination with -I", 46);
	f = good("ipfwadm -I -a accept -P tcp -V 1.2.3.4 -S 0/0", 1);
	ok(R(f)->iface && !strcmp(R(f)->iface, "1.2.3.4") && R(f)->iface_by_addr, "-V address recorded");
	fx_free(f);
	f = good("ipfwadm -I -a accept -V @ppp0", 1);
	ok(R(f)->iface && !strcmp(R(f)->iface, "ppp0") && !R(f)->iface_by_addr, "-V of an interface's address");
	fx_free(f);
	f = good("ipfwadm -O -a deny -W eth1 -S 10.0.0.0/8", 1);
	ok(R(f)->iface && !strcmp(R(f)->iface, "eth1") && f->out.v[0]->chain_kind == LG_CH_OUTPUT &&
	   R(f)->target == LG_T_DENY, "-O -W");
	fx_free(f);
	f = good("ipfwadm -I -a accept -W eth1 -V 200.200.200.200 -P udp", 1);
	ok(!strcmp(R(f)->iface, "eth1") && !R(f)->iface_by_addr && has_diag(f, DIAG_WARNING, "assumed"),
	   "-W with -V: the name, the address assumed, warned");
	fx_free(f);
	bad("ipfwadm -I -a accept -V -S 0/0", "takes '-S' as its value", 25);
	bad("ipchains -A input -s /24 -j DENY", "no address before '/24'", 22);
	bad("ipportfw -A t10.1.2.3/2000 -R 10.0.0.2/2000", "unknown arguments", 13);
	bad("ipfwadm -0 -a accept", "unknown option '-0'", 9);
	{
		struct fx *g = run("ipfwadm -0 -a accept");

		ok(has_diag(g, DIAG_ERROR, "did you mean '-O'"), "-0 suggests -O");
		fx_free(g);
	}
	bad("ipfwadm -I -a accept -S 1.2.3.4 /32", "stands apart from the address", 33);
	f = good("ipfwadm -A in -a -P tcp -D 0/0 80", 1);
	ok(f->out.v[0]->chain_kind == LG_CH_ACCT_IN && R(f)->target == LG_T_NONE, "-A in");
	fx_free(f);
	f = good("ipfwadm -A -a -S 10.0.0.0/8", 2);
	ok(f->out.v[0]->chain_kind == LG_CH_ACCT_IN && f->out.v[1]->chain_kind == LG_CH_ACCT_OUT &&
	   f->out.v[1]->rule && f->out.v[1]->rule != f->out.v[0]->rule, "-A (both) gives two commands");
	fx_free(f);
	f = good("ipfwadm -A o -i -D 10.0.0.0/8", 1);
	ok(f->out.v[0]->chain_kind == LG_CH_ACCT_OUT && f->out.v[0]->op == LG_OP_INSERT, "-A o (prefix)");
	fx_free(f);
	f = good("ipfwadm -A -f", 2);
	ok(f->out.v[0]->op == LG_OP_FLUSH && f->out.v[1]->op == LG_OP_FLUSH, "-A -f flushes both lists");
	fx_free(f);
	f = good("ipfwadm -I -p deny", 1);
	ok(f->out.v[0]->op == LG_OP_POLICY && f->out.v[0]->policy == LG_T_DENY &&
	   f->out.v[0]->chain_kind == LG_CH_INPUT, "-I -p deny");
	fx_free(f);
	f = good("ipfwadm -F -p m", 1);
	ok(f->out.v[0]->policy == LG_T_MASQ, "-F -p m");
	fx_free(f);
	bad("ipfwadm -I -p m", "only allowed in combination with -F", 15);
	f = good("ipfwadm -M -s 7200 10 160", 1);
	ok(f->out.v[0]->op == LG_OP_MASQ_TIMEOUTS && f->out.v[0]->timeouts[2] == 160, "-M -s");
	fx_free(f);
	f = good("ipfwadm -M -l", 1);
	ok(f->out.v[0]->op == LG_OP_MASQ_LIST, "-M -l");
	fx_free(f);
	f = good("ipfwadm -P icmp -I -a accept -S 0/0 8 0", 1);
	ok(ports_is(&R(f)->sport, 2, 8, 8, 0, 0) && R(f)->proto == 1, "ICMP types after -S");
	fx_free(f);
	bad("ipfwadm -I -a accept -P icmp -D 0/0 8", "ICMP types only allowed with -S", 37);
	f = good("ipfwadm -I -a accept -P tcp -r 8080 -D 0/0 80", 1);
	ok(R(f)->target == LG_T_REDIRECT && R(f)->redirect_port == 8080, "accept -r port");
	fx_free(f);
	bad("ipfwadm -F -a accept -P tcp -r", "only allowed in combination with -I", 29);
	f = good("ipfwadm -I -a reject -y -o -P tcp -S 0/0 -D 172.16.174.30", 1);
	ok(R(f)->target == LG_T_REJECT && R(f)->syn == LG_YES && R(f)->log, "reject -y -o");
	fx_free(f);
	f = good("ipfwadm -I -a a -k -b -P tcp", 1);
	ok(R(f)->ack == LG_YES && R(f)->bidir, "-k -b");
	fx_free(f);
	bad("ipfwadm -F -a deny -m", "only allowed with policy accept", 20);
	bad("ipfwadm -I -a accept -W ppp+", "no interface wildcard", 25);
	bad("ipfwadm -I -a ACCEPT", "invalid policy 'ACCEPT'", 15);
	bad("ipfwadm -I -a", "policy required", 12);
	bad("ipfwadm -A -a deny", "no policy allowed", 15);
	bad("ipfwadm -I -a accept -S 0/0 80", "no ports allowed without specific protocol", 29);
	bad("ipfwadm -I -F -a accept", "multiple categories", 12);
	bad("ipfwadm -a accept", "missing -A, -F, -I, -O, or -M", 9);
	bad("ipfwadm -I -a accept -P xyz", "invalid protocol", 25);
	f = good("ipfwadm -F -a deny -t 0x01 0x10", 1);
	ok(!R(f)->has_tos && has_diag(f, DIAG_NOTE, "no effect"), "-t on deny dropped with a note");
	fx_free(f);
	f = good("ipfwadm -F -a accept -t 0x01 0x10", 1);
	ok(R(f)->has_tos && R(f)->tos_xor == 0x10, "-t on accept kept");
	fx_free(f);
	f = good("ipfwadm -Fa accept -Ptcp -S0/0", 1);
	ok(R(f)->proto == 6, "clustered/attached forms");
	fx_free(f);
	f = good("ipfwadm -F -l -n -x -e", 1);
	ok(f->out.v[0]->op == LG_OP_LIST, "-l with display flags");
	fx_free(f);
}

/* ---- ipmasqadm / ipportfw / ipautofw ------------------------------------------------ */

static void test_forwarding(void)
{
	struct fx *f;

	f = run("ipmasqadm portfw -a -P tcp -L 1.2.3.4 80 -R 192.168.1.2 8080 -p 5");
	ok(f->r == 0 && f->fw && f->fw->kind == LG_FW_PORTFW && f->fw->add && f->fw->proto == 6 &&
	   addr_is(&f->fw->laddr, 1, 2, 3, 4, 32) && f->fw->lport == 80 &&
	   addr_is(&f->fw->raddr, 192, 168, 1, 2, 32) && f->fw->rport == 8080 && f->fw->pref == 5,
	   "ipmasqadm portfw -a");
	fx_free(f);
	f = run("ipmasqadm portfw -a -P tcp -L @ppp0 www -R 10.0.0.2 www");
	ok(f->r == 0 && f->fw && f->fw->laddr.kind == IR_ADDR_IFADDR && f->fw->lport == 80 && f->fw->pref == 10,
	   "portfw on the address of ppp0, service names, default pref");
	fx_free(f);
	f = run("ipmasqadm portfw -f");
	ok(f->r == 0 && f->fw && f->fw->flush && f->fw->kind == LG_FW_PORTFW, "portfw -f");
	fx_free(f);
	f = run("ipmasqadm portfw -d -P udp -L 1.2.3.4 53");
	ok(f->r == 0 && f->fw && !f->fw->add && !f->fw->flush && f->fw->proto == 17, "portfw -d");
	fx_free(f);
	bad("ipmasqadm portfw -a -L 1.2.3.4 80 -R 10.0.0.2 80", "insufficient options", 18);
	bad("ipmasqadm portfw -a -P tcp -L 1.2.3.4 -R 10.0.0.2 80", "illegal local address/port", 28);
	bad("ipmasqadm portfw -a -P tcp -L gw.example.com 80 -R 10.0.0.2 80", "the address is needed", 31);
	f = run("ipmasqadm mfw -A -m 1 -r 192.168.1.2 80");
	ok(f->r == 0 && f->fw && f->fw->kind == LG_FW_MFW && f->fw->fwmark == 1 && f->fw->rport == 80, "mfw -A");
	fx_free(f);
	f = run("ipmasqadm mfw -I -m 3 -r 192.168.1.2");
	ok(f->r == 0 && f->fw && f->fw->add && f->fw->rport == 0, "mfw -I, port kept");
	fx_free(f);
	bad("ipmasqadm mfw -A -r 10.0.0.1", "insufficient options", 15);
	f = run("ipmasqadm autofw -A -r udp 6970 7170 -c tcp 7070");
	ok(f->r == 0 && f->fw && f->fw->kind == LG_FW_AUTOFW && f->fw->proto == 17 && f->fw->ports.lo == 6970 &&
	   f->fw->ports.hi == 7170 && f->fw->ctlproto == 6 && f->fw->ctlport == 7070 && !f->fw->autofw_static,
	   "autofw with a control port");
	fx_free(f);
	f = run("ipautofw -A -r tcp 6000 6100 -h 10.0.0.5 -u");
	ok(f->r == 0 && f->fw && f->fw->autofw_static && addr_is(&f->fw->raddr, 10, 0, 0, 5, 32) &&
	   f->fw->autofw_notimer, "ipautofw -h static, -u");
	fx_free(f);
	f = run("ipautofw -F");
	ok(f->r == 0 && f->fw && f->fw->flush, "ipautofw -F");
	fx_free(f);
	bad("ipautofw -A -r udp 7170 6970 -c tcp 7070", "illegal port numbers", 20);
	bad("ipautofw -X", "command must be either -A, -D, or -F", 10);
	f = run("ipportfw -A -t1.2.3.4/80 -R 10.0.0.2/8080");
	ok(f->r == 0 && f->fw && f->fw->lport == 80 && f->fw->rport == 8080 && f->fw->proto == 6 &&
	   addr_is(&f->fw->laddr, 1, 2, 3, 4, 32), "ipportfw -A -tADDR/PORT");
	fx_free(f);
	f = run("ipportfw -A -u @eth0/53 -R 10.0.0.2/53");
	ok(f->r == 0 && f->fw && f->fw->laddr.kind == IR_ADDR_IFADDR && f->fw->proto == 17, "ipportfw on $EXTIP/53");
	fx_free(f);
	bad("ipportfw -A -t 1.2.3.4/61000 -R 10.0.0.2/80", "illegal address/port", 16);
	bad("ipportfw -D -t 1.2.3.4/80 -R 10.0.0.2/80", "incompatible options", 30);
	bad("ipportfw -A -t 1.2.3.4/80 -R 10.0.0.2/80 -p 10", "unknown option '-p'", 42);
	f = run("ipportfw -C");
	ok(f->r == 0 && f->fw && f->fw->flush, "ipportfw -C");
	fx_free(f);
}

int main(void)
{
	test_ipchains_rules();
	test_ipchains_commands();
	test_ipchains_errors();
	test_ipfwadm();
	test_forwarding();
	return done_testing();
}
