/* test-legacy-lower.c -- the legacy model (lg_apply) and its lowering
 * (lg_lower) on hand-built ipchains/ipfwadm commands.
 *
 * TAP.  Each case replays a few commands, lowers them, runs ir_resolve and
 * the nft backend, and looks for the key lines of docs/legacy.md in the
 * text.  With a directory argument every nft text (and the iptables-restore
 * text, when the backend accepts the case) is also written there as
 * NAME.nft / NAME.ipt, for tests/legacy-kernel.sh to load into a
 * throwaway network namespace.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/ir.h"
#include "../../src/legacy.h"
#include "../../src/util.h"
#include "../../src/parser/dialect.h"
#include "../../src/backends/backend.h"
#include "unit.h"

static const char *outdir;
static struct src_file script = { .path = (char *)"rc.firewall" };
static unsigned line_no;

static struct loc at(void)
{
	struct loc l = { &script, ++line_no, 1, 1 };

	return l;
}

/* ---- a run: one parse_ctx -------------------------------------------------- */

struct run {
	struct parse_ctx pc;
	struct diag_queue dq;
	char *nft, *ipt;
	int lower_rc;
};

static void run_init(struct run *R)
{
	memset(R, 0, sizeof(*R));
	R->pc.rs = ir_ruleset_new();
	R->pc.dq = &R->dq;
}

static bool has_diag(const struct run *R, enum diag_level lvl, const char *needle)
{
	for (size_t i = 0; i < R->dq.n; i++)
		if (R->dq.v[i].level == lvl && strstr(R->dq.v[i].msg, needle))
			return true;
	return false;
}

static void dump_diags(const struct run *R)
{
	for (size_t i = 0; i < R->dq.n; i++)
		printf("#   diag %d: %s\n", R->dq.v[i].level, R->dq.v[i].msg);
}

static char *emit_text(struct run *R, bool nft)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct emit_opts eo = { .locations = false };
	int rc;

	rc = nft ? nft_emit(R->pc.rs, f, &eo, &R->dq) : ipt_emit(R->pc.rs, IR_FAM_IPV4, f, &eo, &R->dq);
	fclose(f);
	if (rc < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void write_out(const char *name, const char *ext, const char *text)
{
	char path[512];
	FILE *f;

	if (!outdir || !text)
		return;
	snprintf(path, sizeof(path), "%s/%s.%s", outdir, name, ext);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* Lower, resolve, emit nft (and iptables, kept only if it worked). */
static void run_lower(struct run *R, const char *name, enum lg_generation gen)
{
	struct diag_queue scratch = { 0 };
	struct diag_queue *keep = R->pc.dq;

	R->lower_rc = lg_lower(&R->pc, gen);
	ir_resolve(R->pc.rs, &R->dq);
	if (!diag_has_errors(&R->dq))
		R->nft = emit_text(R, true);
	/* the iptables backend's errors are its own business here */
	R->pc.dq = &scratch;
	{
		struct diag_queue *dq = &scratch;
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		struct emit_opts eo = { .locations = false };

		if (ipt_emit(R->pc.rs, IR_FAM_IPV4, f, &eo, dq) == 0) {
			fclose(f);
			R->ipt = buf;
		} else {
			fclose(f);
			free(buf);
		}
	}
	R->pc.dq = keep;
	diag_queue_free(&scratch);
	write_out(name, "nft", R->nft);
	write_out(name, "ipt", R->ipt);
}

static void run_free(struct run *R)
{
	lg_state_free(R->pc.legacy);
	ir_ruleset_free(R->pc.rs);
	diag_queue_free(&R->dq);
	free(R->nft);
	free(R->ipt);
}

static bool text_has(const char *text, const char *needle)
{
	return text && strstr(text, needle);
}

static void want(const struct run *R, const char *needle, const char *what)
{
	if (!ok(text_has(R->nft, needle), "%s: has '%s'", what, needle)) {
		printf("# ---- nft text:\n");
		for (const char *p = R->nft ? R->nft : "(none)\n"; *p;) {
			const char *e = strchr(p, '\n');
			size_t n = e ? (size_t)(e - p) : strlen(p);

			printf("# %.*s\n", (int)n, p);
			p += n + (e ? 1 : 0);
		}
		dump_diags(R);
	}
}

static void want_not(const struct run *R, const char *needle, const char *what)
{
	ok(R->nft && !strstr(R->nft, needle), "%s: no '%s'", what, needle);
}

/* ---- building commands -------------------------------------------------------- */

static void addr(struct ir_addr *a, const char *s)
{
	char buf[64], *slash;

	snprintf(buf, sizeof(buf), "%s", s);
	memset(a, 0, sizeof(*a));
	a->af = 4;
	a->plen = 32;
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		a->plen = (uint8_t)atoi(slash + 1);
	}
	inet_pton(AF_INET, buf, a->lo);
	a->loc = at();
}

static struct lg_rule *rule(enum lg_tool tool, enum lg_target t)
{
	struct lg_rule *r = xzalloc(sizeof(*r));

	r->loc = at();
	r->tool = tool;
	r->target = t;
	r->target_loc = r->loc;
	return r;
}

static void ports(struct lg_ports *p, uint32_t lo, uint32_t hi, bool neg)
{
	p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
	p->v[p->n].lo = lo;
	p->v[p->n].hi = hi;
	p->n++;
	p->neg = neg;
	p->loc = at();
}

static void iface(struct lg_rule *r, const char *name)
{
	r->iface = xstrdup(name);
	r->iface_loc = at();
}

static struct lg_cmd *cmd(enum lg_tool tool, enum lg_op op, const char *chain,
			  enum lg_chain_kind kind)
{
	struct lg_cmd *c = xzalloc(sizeof(*c));

	c->op = op;
	c->tool = tool;
	c->loc = at();
	c->chain = chain ? xstrdup(chain) : NULL;
	c->chain_loc = c->loc;
	c->chain_kind = kind;
	return c;
}

static int apply(struct run *R, struct lg_cmd *c)
{
	int rc = lg_apply(&R->pc, c);

	lg_cmd_free(c);
	return rc;
}

/* ipchains -A chain rule */
static int chains_add(struct run *R, const char *chain, struct lg_rule *r)
{
	struct lg_cmd *c = cmd(LG_IPCHAINS, LG_OP_APPEND, chain, LG_CH_USER);

	c->rule = r;
	return apply(R, c);
}

static int chains_policy(struct run *R, const char *chain, enum lg_target p)
{
	struct lg_cmd *c = cmd(LG_IPCHAINS, LG_OP_POLICY, chain, LG_CH_USER);

	c->policy = p;
	c->policy_loc = c->loc;
	return apply(R, c);
}

static int chains_new(struct run *R, const char *chain)
{
	return apply(R, cmd(LG_IPCHAINS, LG_OP_NEW_CHAIN, chain, LG_CH_USER));
}

static struct lg_rule *jump_rule(const char *to)
{
	struct lg_rule *r = rule(LG_IPCHAINS, LG_T_JUMP);

	r->jump = xstrdup(to);
	return r;
}

static int fwadm_add(struct run *R, enum lg_chain_kind k, struct lg_rule *r)
{
	struct lg_cmd *c = cmd(LG_IPFWADM, LG_OP_APPEND, NULL, k);

	c->rule = r;
	return apply(R, c);
}

/* ---- cases ----------------------------------------------------------------------- */

static void case_masq(void)
{
	struct run R;
	struct lg_rule *r;

	run_init(&R);
	chains_policy(&R, "forward", LG_T_DENY);
	r = rule(LG_IPCHAINS, LG_T_MASQ);
	addr(&r->src, "192.168.1.0/24");
	chains_add(&R, "forward", r);
	run_lower(&R, "masq", LG_GEN_AUTO);
	want(&R, "chain legacy_forward {", "masq");
	want(&R, "type filter hook forward priority filter; policy drop;", "masq");
	want(&R, "ct direction reply ct mark & 0xc0000000 == 0x80000000 counter accept", "masq reply skip");
	want(&R, "meta l4proto tcp ip saddr 192.168.1.0/24 counter ct mark set ct mark | 0x80000000 accept", "masq verdict");
	want(&R, "type nat hook postrouting priority srcnat; policy accept;", "masq nat");
	want(&R, "meta l4proto udp ip saddr 192.168.1.0/24 counter ct mark set ct mark | 0x80000000 accept",
	     "masq per protocol");
	want(&R, "ip saddr 192.168.1.0/24 counter drop", "masq drops other protocols");
	want(&R, "meta l4proto tcp ip saddr 192.168.1.0/24 ct state != new ct status & snat == 0 "
	     "ct mark & 0x40000000 == 0x0 counter drop", "MASQ on a packet of a connection not masqueraded");
	want(&R, "ct mark & 0x80000000 == 0x80000000 meta l4proto tcp counter masquerade to :61000-65095",
	     "masq 2.2 port range");
	want_not(&R, "legacy_input", "masq: empty input not written");
	ok(R.ipt != NULL, "masq: iptables can express it");
	ok(text_has(R.ipt, "-A FORWARD -s 192.168.1.0/24 -p tcp -j CONNMARK --set-xmark 0x80000000/0x80000000"),
	   "masq: iptables FORWARD rule");
	run_free(&R);

	run_init(&R);
	r = rule(LG_IPFWADM, LG_T_MASQ);
	addr(&r->src, "10.0.0.0/8");
	fwadm_add(&R, LG_CH_FORWARD, r);
	run_lower(&R, "masq20", LG_GEN_AUTO);
	want(&R, "masquerade to :60000-64095", "ipfwadm 2.0 port range");
	want(&R, "ip frag-off & 0x1fff != 0 meta l4proto tcp counter accept", "ipfwadm fragments pass");
	run_free(&R);
}

static void case_reject_iface(void)
{
	struct run R;
	struct lg_rule *r;

	for (int g = 0; g < 2; g++) {
		run_init(&R);
		r = rule(LG_IPCHAINS, LG_T_REJECT);
		iface(r, "eth0");
		chains_add(&R, "input", r);
		r = rule(LG_IPCHAINS, LG_T_REJECT);
		iface(r, "ppp+");
		chains_add(&R, "forward", r);
		r = rule(LG_IPCHAINS, LG_T_REJECT);
		iface(r, "eth1");
		chains_add(&R, "output", r);
		run_lower(&R, g ? "reject24" : "reject22", g ? LG_GEN_24 : LG_GEN_AUTO);
		want(&R, "type filter hook prerouting priority mangle; policy accept;", "input hook");
		want(&R, "iifname \"eth0\" counter reject with icmp type port-unreachable", "input -i is iifname");
		want(&R, g ? "oifname \"ppp*\" counter reject with icmp type port-unreachable"
		     : "oifname \"ppp*\" counter reject with icmp type host-unreachable",
		     "forward -i is oifname, reject type by generation");
		want(&R, "type filter hook postrouting priority srcnat + 10; policy accept;", "output hook");
		want(&R, "oifname \"eth1\" counter drop", "output REJECT is a drop");
		ok(has_diag(&R, DIAG_WARNING, "REJECT in the output chain becomes DROP"),
		   "output REJECT warns");
		ok(text_has(R.ipt, "-A PREROUTING -i eth0 -j MARK --set-xmark 0x80000000/0x80000000") &&
		   text_has(R.ipt, "-A INPUT -m mark --mark 0x80000000/0x80000000 -j REJECT --reject-with "
			    "icmp-port-unreachable"), "iptables: input REJECT deferred to filter by a mark");
		run_free(&R);
	}
}

static void case_user_chains(void)
{
	struct run R;
	struct lg_rule *r;

	run_init(&R);
	chains_new(&R, "ifchk");
	chains_new(&R, "plain");
	r = rule(LG_IPCHAINS, LG_T_DENY);
	iface(r, "eth0");
	chains_add(&R, "ifchk", r);
	r = rule(LG_IPCHAINS, LG_T_ACCEPT);
	r->proto = 6;
	ports(&r->dport, 22, 22, false);
	chains_add(&R, "plain", r);
	r = jump_rule("ifchk");
	r->log = true;
	r->log_loc = r->loc;
	chains_add(&R, "input", r);
	chains_add(&R, "forward", jump_rule("ifchk"));
	chains_add(&R, "input", jump_rule("plain"));
	chains_add(&R, "forward", jump_rule("plain"));
	run_lower(&R, "userchains", LG_GEN_AUTO);
	want(&R, "chain legacy_ifchk.in {", "clone for input");
	want(&R, "chain legacy_ifchk.fwd {", "clone for forward");
	want(&R, "iifname \"eth0\" counter drop", "input clone: iifname");
	want(&R, "oifname \"eth0\" counter drop", "forward clone: oifname");
	want(&R, "chain legacy_plain {", "same rules: one chain");
	want_not(&R, "legacy_plain.in", "no clone when equal");
	want(&R, "counter log prefix \"input jump \" jump legacy_ifchk.in", "log on a jump rule");
	want(&R, "jump legacy_ifchk.fwd", "forward jumps to its clone");
	run_free(&R);
}

static void case_syn_ports(void)
{
	struct run R;
	struct lg_rule *r;

	run_init(&R);
	r = rule(LG_IPCHAINS, LG_T_DENY);
	r->proto = 6;
	r->syn = LG_YES;
	chains_add(&R, "input", r);
	r = rule(LG_IPCHAINS, LG_T_ACCEPT);
	r->proto = 6;
	ports(&r->sport, 0, 65535, false);
	chains_add(&R, "input", r);
	r = rule(LG_IPCHAINS, LG_T_DENY);
	r->proto = 17;
	ports(&r->dport, 0, 65535, true);
	chains_add(&R, "input", r);
	r = rule(LG_IPCHAINS, LG_T_ACCEPT);
	r->proto = 1;
	ports(&r->sport, 3, 3, false);
	ports(&r->dport, 3, 3, false);
	chains_add(&R, "input", r);
	run_lower(&R, "synports", LG_GEN_AUTO);
	want(&R, "tcp flags & (syn|rst|ack) == syn ip frag-off & 0x1fff == 0 counter drop", "ipchains -y");
	want(&R, "meta l4proto tcp counter accept", "0:65535 is protocol only");
	want(&R, "meta l4proto udp ip frag-off & 0x1fff != 0 counter drop", "! 0:65535 is fragments only");
	want(&R, "icmp type 3 icmp code 3 counter accept", "ICMP type/code via ports");
	run_free(&R);

	run_init(&R);
	r = rule(LG_IPFWADM, LG_T_ACCEPT);
	r->syn = LG_YES;
	addr(&r->dst, "10.1.1.1");
	fwadm_add(&R, LG_CH_INPUT, r);
	r = rule(LG_IPFWADM, LG_T_ACCEPT);
	r->proto = 17;
	ports(&r->dport, 53, 53, false);
	ports(&r->dport, 1024, 1024, false);
	r->bidir = true;
	addr(&r->src, "10.0.0.1");
	fwadm_add(&R, LG_CH_INPUT, r);
	r = rule(LG_IPFWADM, LG_T_ACCEPT);
	r->proto = 1;
	ports(&r->sport, 0, 0, false);
	ports(&r->sport, 8, 8, false);
	fwadm_add(&R, LG_CH_INPUT, r);
	run_lower(&R, "fwadmsyn", LG_GEN_AUTO);
	want(&R, "meta l4proto != tcp ip daddr 10.1.1.1 counter accept", "ipfwadm -P all -y: non-TCP copy");
	want(&R, "ip daddr 10.1.1.1 tcp flags & (syn|ack) == syn counter accept", "ipfwadm -y: SYN and not ACK");
	want(&R, "ip saddr 10.0.0.1 udp dport { 53, 1024 } counter accept", "port list");
	want(&R, "ip daddr 10.0.0.1 udp sport { 53, 1024 } counter accept", "-b swapped copy");
	want(&R, "icmp type { 0, 8 } counter accept", "ipfwadm ICMP types");
	run_free(&R);
}

static void case_model(void)
{
	struct run R;
	struct lg_rule *r;
	struct lg_cmd *c;

	run_init(&R);
	chains_new(&R, "good");
	ok(chains_add(&R, "input", jump_rule("godo")) < 0, "jump to unknown chain refused");
	ok(R.dq.n && R.dq.v[R.dq.n - 1].hint && strstr(R.dq.v[R.dq.n - 1].hint, "good"),
	   "did you mean 'good'");
	chains_add(&R, "input", jump_rule("good"));
	c = cmd(LG_IPCHAINS, LG_OP_DELETE_CHAIN, "good", LG_CH_USER);
	ok(apply(&R, c) < 0 && has_diag(&R, DIAG_ERROR, "still jump"), "-X of a referenced chain refused");
	/* -D by spec */
	r = rule(LG_IPCHAINS, LG_T_DENY);
	addr(&r->src, "1.2.3.4");
	chains_add(&R, "forward", r);
	c = cmd(LG_IPCHAINS, LG_OP_DELETE, "forward", LG_CH_USER);
	c->rule = rule(LG_IPCHAINS, LG_T_DENY);
	addr(&c->rule->src, "1.2.3.5");
	ok(apply(&R, c) < 0, "-D of a rule that is not there refused");
	c = cmd(LG_IPCHAINS, LG_OP_DELETE, "forward", LG_CH_USER);
	c->rule = rule(LG_IPCHAINS, LG_T_DENY);
	addr(&c->rule->src, "1.2.3.4");
	ok(apply(&R, c) == 0, "-D by spec finds the rule");
	/* -F all, then -X all works */
	ok(apply(&R, cmd(LG_IPCHAINS, LG_OP_FLUSH, NULL, LG_CH_INPUT)) == 0, "-F all");
	ok(apply(&R, cmd(LG_IPCHAINS, LG_OP_DELETE_CHAIN, NULL, LG_CH_INPUT)) == 0, "-X all");
	/* -I 1 -b: the swapped rule first */
	c = cmd(LG_IPCHAINS, LG_OP_INSERT, "input", LG_CH_USER);
	c->rule = rule(LG_IPCHAINS, LG_T_ACCEPT);
	c->rule->bidir = true;
	addr(&c->rule->src, "10.0.0.1");
	apply(&R, c);
	c = cmd(LG_IPCHAINS, LG_OP_INSERT, "input", LG_CH_USER);
	c->num = 9;
	c->rule = rule(LG_IPCHAINS, LG_T_ACCEPT);
	ok(apply(&R, c) < 0, "-I past the end refused");
	/* relative mark */
	r = rule(LG_IPCHAINS, LG_T_ACCEPT);
	r->has_mark = true;
	r->mark_relative = true;
	r->mark = 1;
	r->mark_loc = r->loc;
	chains_add(&R, "input", r);
	run_lower(&R, "model", LG_GEN_AUTO);
	ok(has_diag(&R, DIAG_ERROR, "relative mark"), "relative mark is an error");
	run_free(&R);

	/* the -b order and absolute marks, without the error */
	run_init(&R);
	c = cmd(LG_IPCHAINS, LG_OP_INSERT, "input", LG_CH_USER);
	c->rule = rule(LG_IPCHAINS, LG_T_ACCEPT);
	c->rule->bidir = true;
	addr(&c->rule->src, "10.0.0.1");
	apply(&R, c);
	r = rule(LG_IPCHAINS, LG_T_NONE);
	r->has_mark = true;
	r->mark = 5;
	r->has_tos = true;
	r->tos_and = 0x01;
	r->tos_xor = 0x10;
	chains_add(&R, "input", r);
	run_lower(&R, "bidir", LG_GEN_AUTO);
	ok(R.nft && strstr(R.nft, "ip daddr 10.0.0.1") && strstr(R.nft, "ip saddr 10.0.0.1") &&
	   strstr(R.nft, "ip daddr 10.0.0.1") < strstr(R.nft, "ip saddr 10.0.0.1"),
	   "-I -b: swapped rule first");
	want(&R, "counter ip dscp set 0x04 meta mark set 0x5", "TOS and mark on a rule with no target");
	ok(has_diag(&R, DIAG_WARNING, "ECN"), "TOS bit 0x02 change warned");
	run_free(&R);
}

static void case_forwards(void)
{
	struct run R;
	struct lg_rule *r;
	struct lg_forward *f;

	run_init(&R);
	f = xzalloc(sizeof(*f));
	f->kind = LG_FW_PORTFW;
	f->loc = at();
	f->proto = 6;
	addr(&f->laddr, "198.51.100.1");
	f->lport = 80;
	addr(&f->raddr, "192.168.1.10");
	f->rport = 8080;
	f->add = true;
	ok(lg_apply_forward(&R.pc, f) == 0, "portfw added");
	r = rule(LG_IPCHAINS, LG_T_MASQ);
	addr(&r->src, "192.168.1.0/24");
	chains_add(&R, "forward", r);
	r = rule(LG_IPCHAINS, LG_T_ACCEPT);
	chains_add(&R, "forward", r);
	r = rule(LG_IPCHAINS, LG_T_REDIRECT);
	r->proto = 6;
	ports(&r->dport, 80, 80, false);
	r->redirect_port = 3128;
	chains_add(&R, "input", r);
	run_lower(&R, "portfw", LG_GEN_AUTO);
	want(&R, "iifname != \"lo\" ip daddr 198.51.100.1 tcp dport 80 counter ct mark set ct mark | "
	     "0x40000000 dnat to 192.168.1.10:8080", "portfw dnat");
	want(&R, "ct direction original ct mark & 0x40000000 == 0x40000000 counter accept",
	     "portfw skips forward");
	want(&R, "ct direction reply ct mark & 0x40000000 == 0x40000000 counter drop",
	     "portfw replies need MASQ");
	want(&R, "tcp dport 80 counter ct mark set ct mark & 0xc000ffff ^ 0x10000 accept", "REDIRECT marks");
	want(&R, "ct mark & 0x3fff0000 == 0x10000 meta l4proto tcp counter redirect to :3128",
	     "REDIRECT in nat prerouting");
	ok(has_diag(&R, DIAG_WARNING, "SO_ORIGINAL_DST"), "REDIRECT 2.2 warning");
	run_free(&R);
}

static struct lg_forward *mfw(unsigned mark, const char *host, uint16_t port, unsigned pref)
{
	struct lg_forward *f = xzalloc(sizeof(*f));

	f->kind = LG_FW_MFW;
	f->loc = at();
	f->fwmark = mark;
	addr(&f->raddr, host);
	f->rport = port;
	f->pref = pref;
	f->add = true;
	return f;
}

/* ipmasqadm load sharing: the order and weights 2.2 used, pref 0, mixed ports. */
static void case_load_share(void)
{
	struct run R;
	struct lg_forward *f;
	const char *hosts[] = { "192.168.1.10", "192.168.1.11" };

	run_init(&R);
	for (int i = 0; i < 2; i++) {
		f = xzalloc(sizeof(*f));
		f->kind = LG_FW_PORTFW;
		f->loc = at();
		f->proto = 6;
		addr(&f->laddr, "198.51.100.1");
		f->lport = 80;
		addr(&f->raddr, hosts[i]);
		f->rport = 80;
		f->pref = (unsigned)(3 - i);
		f->add = true;
		lg_apply_forward(&R.pc, f);
	}
	lg_apply_forward(&R.pc, mfw(5, "192.168.1.20", 0, 1));
	lg_apply_forward(&R.pc, mfw(5, "192.168.1.21", 0, 2));
	run_lower(&R, "share", LG_GEN_AUTO);
	want(&R, "dnat ip to numgen inc mod 5 map { 0 : 192.168.1.11 . 80, 1 : 192.168.1.11 . 80, "
	     "2 : 192.168.1.10 . 80, 3 : 192.168.1.10 . 80, 4 : 192.168.1.10 . 80 }",
	     "portfw: the last added first, each its pref in a row");
	want(&R, "meta mark 0x5 ct state new counter ct mark set ct mark | 0x40000000 dnat to "
	     "numgen inc mod 3 map { 0 : 192.168.1.20, 1 : 192.168.1.21, 2 : 192.168.1.21 }",
	     "mfw: -A order, no port");
	ok(has_diag(&R, DIAG_NOTE, "share this mark's new connections"), "load sharing noted");
	ok(!has_diag(&R, DIAG_WARNING, "once for tcp and once for udp"), "mfw without a port: one counter");
	run_free(&R);

	run_init(&R);
	lg_apply_forward(&R.pc, mfw(5, "192.168.1.20", 0, 1));
	lg_apply_forward(&R.pc, mfw(5, "192.168.1.21", 0, 0));
	lg_apply_forward(&R.pc, mfw(5, "192.168.1.22", 0, 1));
	run_lower(&R, "share-pref0", LG_GEN_AUTO);
	want(&R, "dnat to 192.168.1.21", "mfw pref 0: that entry keeps every connection");
	ok(has_diag(&R, DIAG_WARNING, "preference 0"), "mfw pref 0 warned");
	run_free(&R);

	/* mfw -E sets the preference of the matching entries; none: error */
	run_init(&R);
	lg_apply_forward(&R.pc, mfw(5, "192.168.1.20", 0, 1));
	lg_apply_forward(&R.pc, mfw(5, "192.168.1.21", 0, 1));
	f = mfw(5, "192.168.1.20", 0, 3);
	f->add = false;
	f->edit = true;
	ok(lg_apply_forward(&R.pc, f) == 0, "mfw -E of an entry");
	run_lower(&R, "share-edit", LG_GEN_AUTO);
	want(&R, "numgen inc mod 4 map { 0 : 192.168.1.20, 1 : 192.168.1.20, 2 : 192.168.1.20, "
	     "3 : 192.168.1.21 }", "mfw -E: the new preference");
	run_free(&R);
	run_init(&R);
	lg_apply_forward(&R.pc, mfw(5, "192.168.1.20", 0, 1));
	f = mfw(6, "192.168.1.20", 0, 3);
	f->add = false;
	f->edit = true;
	ok(lg_apply_forward(&R.pc, f) != 0 && has_diag(&R, DIAG_ERROR, "no such forwarding entry"),
	   "mfw -E of no entry refused");
	run_free(&R);

	run_init(&R);
	lg_apply_forward(&R.pc, mfw(5, "192.168.1.20", 25, 1));
	lg_apply_forward(&R.pc, mfw(5, "192.168.1.21", 0, 1));
	run_lower(&R, "share-mixed", LG_GEN_AUTO);
	ok(R.lower_rc != 0 || diag_has_errors(&R.dq), "mfw mixed ports: lowering fails");
	ok(has_diag(&R, DIAG_ERROR, "with and without a port"), "mfw mixed ports refused");
	run_free(&R);
}

/* The helper view (2.0/2.2): a helper's connections are tested as if
 * their gateway-side port were one of the masquerade range. */
static void helper_view_case(enum lg_generation gen, const char *name)
{
	struct run R;
	struct lg_rule *r;
	struct ir_helper *h = xzalloc(sizeof(*h));

	run_init(&R);
	h->name = xstrdup("ftp");
	h->l4proto = 6;
	h->ports = xzalloc(sizeof(*h->ports));
	h->ports[0].lo = h->ports[0].hi = 21;
	h->nports = 1;
	h->nat = true;
	h->loc = at();
	ir_add_helper(R.pc.rs, h);
	r = rule(LG_IPCHAINS, LG_T_MASQ);
	chains_add(&R, "forward", r);
	r = rule(LG_IPCHAINS, LG_T_ACCEPT);	/* whole range: always */
	r->proto = 6;
	ports(&r->dport, 60000, 65535, false);
	chains_add(&R, "input", r);
	r = rule(LG_IPCHAINS, LG_T_ACCEPT);	/* part of it: ACCEPT never */
	r->proto = 6;
	ports(&r->dport, 61000, 62000, false);
	chains_add(&R, "input", r);
	r = rule(LG_IPCHAINS, LG_T_DENY);	/* part of it: DENY always */
	r->proto = 17;
	ports(&r->dport, 64000, 64100, false);
	chains_add(&R, "input", r);
	r = rule(LG_IPCHAINS, LG_T_NONE);	/* part of it, no verdict: real port, warned */
	r->proto = 6;
	ports(&r->dport, 62000, 63000, false);
	chains_add(&R, "input", r);
	r = rule(LG_IPCHAINS, LG_T_ACCEPT);	/* none of it: never */
	r->proto = 17;
	ports(&r->dport, 53, 53, false);
	chains_add(&R, "input", r);
	r = rule(LG_IPCHAINS, LG_T_ACCEPT);	/* sport in output: whole range */
	r->proto = 6;
	ports(&r->sport, 0, 1023, true);
	chains_add(&R, "output", r);
	run_lower(&R, name, gen);
	if (gen == LG_GEN_24) {
		want_not(&R, ".helper", "2.4: helpers kept ports there too, no view");
		ok(has_diag(&R, DIAG_WARNING, "keep their own source port"), "2.4: warned");
		run_free(&R);
		return;
	}
	want(&R, "ct direction original ct status & expected != 0 ct status & dnat != 0 "
	     "ct mark & 0x80000000 == 0x80000000 counter goto legacy_input.helper", "input dispatch in");
	want(&R, "ct direction reply ct status & expected != 0 ct status & snat != 0 "
	     "ct mark & 0x80000000 == 0x80000000 counter goto legacy_input.helper", "input dispatch reply");
	want(&R, "ct direction reply ct status & expected != 0 ct status & dnat != 0 "
	     "ct mark & 0x80000000 == 0x80000000 counter goto legacy_output.helper", "output dispatch");
	want(&R, "chain legacy_input.helper {\n\t\tmeta l4proto tcp counter accept\n"
	     "\t\tmeta l4proto udp counter drop\n\t\ttcp dport 62000-63000 counter\n\t}",
	     "view: all -> test dropped, part ACCEPT and none left out, part DENY matches, "
	     "part with no verdict keeps the real port");
	want(&R, "chain legacy_output.helper {\n\t\tmeta l4proto tcp counter accept\n\t}",
	     "output view: sport");
	ok(has_diag(&R, DIAG_WARNING, "as if their port on the gateway's side"), "view warned");
	ok(has_diag(&R, DIAG_WARNING, "this rule tests the real port"),
	   "a partial test kept in the view is warned");
	run_free(&R);
}

static void case_helper_view(void)
{
	helper_view_case(LG_GEN_22, "helperview22");
	helper_view_case(LG_GEN_24, "helperview24");
}

static void case_fwadm_misc(void)
{
	struct run R;
	struct lg_rule *r;
	struct lg_cmd *c;

	run_init(&R);
	r = rule(LG_IPFWADM, LG_T_NONE);
	addr(&r->src, "10.0.0.0/8");
	fwadm_add(&R, LG_CH_ACCT_IN, r);
	r = rule(LG_IPFWADM, LG_T_NONE);
	iface(r, "eth0");
	fwadm_add(&R, LG_CH_ACCT_OUT, r);
	r = rule(LG_IPFWADM, LG_T_ACCEPT);
	iface(r, "10.0.0.1");
	r->iface_by_addr = true;
	fwadm_add(&R, LG_CH_OUTPUT, r);
	c = cmd(LG_IPFWADM, LG_OP_MASQ_TIMEOUTS, NULL, LG_CH_FORWARD);
	c->timeouts[0] = 7200;
	c->timeouts[2] = 60;
	apply(&R, c);
	run_lower(&R, "novia", LG_GEN_AUTO);
	ok(has_diag(&R, DIAG_ERROR, "-V 10.0.0.1"), "-V without a binding is an error");
	{
		const struct diag *e = NULL;

		for (size_t i = 0; i < R.dq.n && !e; i++)
			if (R.dq.v[i].level == DIAG_ERROR)
				e = &R.dq.v[i];
		ok(e && e->hint && strstr(e->hint, "MASQC_VIA_10_0_0_1"), "-V hint names the -D");
	}
	run_free(&R);

	run_init(&R);
	lg_define(&R.pc, "MASQC_VIA_10_0_0_1=eth1");
	r = rule(LG_IPFWADM, LG_T_NONE);
	addr(&r->src, "10.0.0.0/8");
	fwadm_add(&R, LG_CH_ACCT_IN, r);
	r = rule(LG_IPFWADM, LG_T_NONE);
	iface(r, "eth0");
	fwadm_add(&R, LG_CH_ACCT_OUT, r);
	r = rule(LG_IPFWADM, LG_T_ACCEPT);
	iface(r, "10.0.0.1");
	r->iface_by_addr = true;
	fwadm_add(&R, LG_CH_OUTPUT, r);
	c = cmd(LG_IPFWADM, LG_OP_MASQ_TIMEOUTS, NULL, LG_CH_FORWARD);
	c->timeouts[0] = 7200;
	c->timeouts[2] = 60;
	apply(&R, c);
	c = cmd(LG_IPFWADM, LG_OP_POLICY, NULL, LG_CH_OUTPUT);
	c->policy = LG_T_DENY;
	apply(&R, c);
	run_lower(&R, "fwadm", LG_GEN_AUTO);
	want(&R, "type filter hook prerouting priority -160; policy accept;", "acct in before input");
	want(&R, "ip saddr 10.0.0.0/8 counter", "accounting counts");
	want_not(&R, "ip saddr 10.0.0.0/8 counter accept", "accounting has no verdict");
	want(&R, "type filter hook postrouting priority srcnat + 20; policy accept;", "acct out after output");
	want(&R, "oifname \"eth1\" counter accept", "-V resolved through -D");
	{
		bool found = false;

		for (const struct ir_sysctl *s = R.pc.rs->sysctls; s; s = s->next)
			if (!strcmp(s->key, "net.netfilter.nf_conntrack_tcp_timeout_established") &&
			    !strcmp(s->value, "7200"))
				found = true;
		ok(found, "-M -s tcp timeout becomes a sysctl");
	}
	run_free(&R);
}

/* ipmasqadm autofw -r udp 6970 7170 -c tcp 7070 [-u] [-i] [-h HOST] */
static struct lg_forward *autofw_entry(bool notimer, bool insecure, const char *host)
{
	struct lg_forward *f = xzalloc(sizeof(*f));

	f->kind = LG_FW_AUTOFW;
	f->loc = at();
	f->proto = 17;
	f->ports.lo = 6970;
	f->ports.hi = 7170;
	f->ctlproto = 6;
	f->ctlport = 7070;
	f->autofw_notimer = notimer;
	f->autofw_insecure = insecure || host;
	if (host) {
		addr(&f->raddr, host);
		f->autofw_static = true;
	}
	f->add = true;
	return f;
}

static const struct ir_rule *find_rule(const struct run *R, const char *chain,
				       bool (*pred)(const struct ir_rule *))
{
	for (const struct ir_table *t = R->pc.rs->tables; t; t = t->next)
		for (const struct ir_chain *c = t->chains; c; c = c->next)
			if (!strcmp(c->name, chain))
				for (const struct ir_rule *r = c->rules; r; r = r->next)
					if (pred(r))
						return r;
	return NULL;
}

static bool is_map_dnat(const struct ir_rule *r)
{
	return r->verdict.kind == IR_V_DNAT && r->verdict.u.nat.addr_map;
}

static bool is_dynset(const struct ir_rule *r)
{
	return r->stmts && r->stmts->kind == IR_S_DYNSET;
}

static void case_autofw(void)
{
	static const struct { const char *name; bool notimer, insecure; const char *host; } v[] = {
		{ "autofw", false, false, NULL },
		{ "autofw_u", true, false, NULL },
		{ "autofw_i", false, true, NULL },
		{ "autofw_h", false, false, "192.168.0.21" },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(v); i++) {
		struct run R;
		struct lg_rule *r;
		bool window = !v[i].notimer && !v[i].insecure && !v[i].host;

		run_init(&R);
		r = rule(LG_IPCHAINS, LG_T_MASQ);
		addr(&r->src, "192.168.0.0/24");
		chains_add(&R, "forward", r);
		ok(lg_apply_forward(&R.pc, autofw_entry(v[i].notimer, v[i].insecure, v[i].host)) == 0,
		   "%s: added", v[i].name);
		run_lower(&R, v[i].name, LG_GEN_AUTO);
		ok(R.lower_rc == 0 && R.nft, "%s: lowered and written", v[i].name);
		want(&R, "map legacy_autofw_1 {\n\t\ttype nf_proto : ipv4_addr\n", v[i].name);
		if (window) {
			want(&R, "map legacy_autofw_1 {\n\t\ttype nf_proto : ipv4_addr\n\t\tflags dynamic,timeout\n"
			     "\t\ttimeout 15s\n", "secure mode with the timer: 15 s");
		} else {
			want(&R, "map legacy_autofw_1 {\n\t\ttype nf_proto : ipv4_addr\n\t\tflags dynamic\n\t",
			     "no window: the host is kept");
		}
		if (v[i].host)
			want(&R, "elements = { ipv4 : 192.168.0.21 }", "-h is the first host");
		else
			want_not(&R, "elements", "no host before the control port");
		want(&R, "type filter hook forward priority 10; policy accept;", "trigger after the forward emulation");
		want(&R, "ct direction original ct mark & 0xc0000000 == 0x80000000 ct status & dnat == 0 "
		     "tcp dport 7070 counter delete @legacy_autofw_1 { ct l3proto : ip saddr } "
		     "add @legacy_autofw_1 { ct l3proto : ip saddr }\n", "masqueraded control packet records its source");
		want(&R, "ct direction reply ct mark & 0x80000000 == 0x80000000 ct status & dnat != 0 "
		     "tcp dport 7070 counter delete @legacy_autofw_1 { ct l3proto : ip saddr } "
		     "add @legacy_autofw_1 { ct l3proto : ip saddr }\n",
		     "so does a masqueraded reply of a forwarded connection");
		if (v[i].host) {
			want(&R, "iifname != \"lo\" fib daddr type local udp dport 6970-7170 counter ct mark set "
			     "ct mark | 0x40000000 dnat to ct l3proto map @legacy_autofw_1\n\t\tiifname != \"lo\" "
			     "fib daddr type local udp dport 6970-7170 counter drop\n",
			     "range: DNAT to the host, else dropped");
			want_not(&R, "refused", "a host from the start: no refused flows");
		} else {
			want(&R, "set legacy_autofw_1_refused {\n\t\ttype ipv4_addr . inet_service . ipv4_addr . "
			     "inet_service\n\t\tflags dynamic,timeout\n\t\ttimeout 300s\n",
			     "refused udp flows are remembered for the udp masquerade timeout");
			want(&R, "iifname != \"lo\" fib daddr type local udp dport 6970-7170 ip saddr . udp sport . "
			     "ip daddr . udp dport != @legacy_autofw_1_refused counter ct mark set ct mark | "
			     "0x40000000 dnat to ct l3proto map @legacy_autofw_1\n\t\tiifname != \"lo\" fib "
			     "daddr type local udp dport 6970-7170 counter update @legacy_autofw_1_refused { "
			     "ip saddr . udp sport . ip daddr . udp dport } drop\n",
			     "range: DNAT to the host unless refused before, else dropped and remembered");
		}
		want(&R, "ct direction original ct mark & 0x40000000 == 0x40000000 counter accept",
		     "forwarded like a port forward");
		ok(!R.ipt, "%s: the iptables backend refuses it", v[i].name);
		ok(!has_diag(&R, DIAG_WARNING, "refused while no host"),
		   "%s: udp: no approximation to warn about", v[i].name);
		{
			const struct ir_rule *d = find_rule(&R, "nat_pre", is_map_dnat);
			const struct ir_rule *u = find_rule(&R, "autofw", is_dynset);
			struct ir_rule *dc = d ? ir_rule_clone(d) : NULL, *uc = u ? ir_rule_clone(u) : NULL;

			ok(dc && ir_rule_equal(dc, d), "%s: a cloned map DNAT equals its original", v[i].name);
			ok(uc && ir_rule_equal(uc, u), "%s: a cloned map update equals its original", v[i].name);
			if (dc && uc) {
				free(dc->verdict.u.nat.addr_map);
				dc->verdict.u.nat.addr_map = xstrdup("other");
				uc->stmts->next->u.dynset.op = IR_DYNSET_UPDATE;
				ok(!ir_rule_equal(dc, d), "%s: another map is another DNAT", v[i].name);
				ok(!ir_rule_equal(uc, u), "%s: update is not add", v[i].name);
			}
			ir_rule_free(dc);
			ir_rule_free(uc);
		}
		run_free(&R);
	}
	/* a user chain called autofw does not meet masqc's own */
	{
		struct run R;
		struct lg_rule *r;

		run_init(&R);
		chains_new(&R, "autofw");
		r = rule(LG_IPCHAINS, LG_T_ACCEPT);
		r->proto = 6;
		ports(&r->dport, 22, 22, false);
		chains_add(&R, "autofw", r);
		chains_add(&R, "forward", jump_rule("autofw"));
		r = rule(LG_IPCHAINS, LG_T_MASQ);
		addr(&r->src, "192.168.0.0/24");
		chains_add(&R, "forward", r);
		ok(lg_apply_forward(&R.pc, autofw_entry(false, false, NULL)) == 0, "autofw added");
		run_lower(&R, "autofw_userchain", LG_GEN_AUTO);
		want(&R, "jump legacy_u_autofw", "user chain autofw is u_autofw");
		want(&R, "chain legacy_autofw {\n\t\ttype filter hook forward priority 10;", "masqc's own autofw chain");
		run_free(&R);
	}
	/* -D must repeat the control port, as ip_autofw_del compared it */
	{
		struct run R;
		struct lg_forward *d;

		run_init(&R);
		ok(lg_apply_forward(&R.pc, autofw_entry(false, false, NULL)) == 0, "autofw -A -c");
		d = autofw_entry(false, false, NULL);
		d->add = false;
		d->ctlproto = 0;
		d->ctlport = 0;
		ok(lg_apply_forward(&R.pc, d) < 0 && has_diag(&R, DIAG_ERROR, "no such forwarding entry"),
		   "autofw -D without the -c of the entry: no such entry (2.2: EINVAL)");
		d = autofw_entry(false, false, NULL);
		d->add = false;
		ok(lg_apply_forward(&R.pc, d) == 0, "autofw -D with the same -c deletes it");
		run_lower(&R, "autofw_deleted", LG_GEN_22);
		ok(!R.nft || !strstr(R.nft, "autofw_1"), "nothing left of the deleted entry");
		run_free(&R);
	}
	/* a tcp range: refused flows for 2 min in 2.2 (at most its state's
	 * timeout), the tcp timeout in 2.0; either way a warning */
	for (int gen = 0; gen < 2; gen++) {
		struct run R;
		struct lg_forward *f = autofw_entry(false, false, NULL);

		run_init(&R);
		f->proto = 6;
		f->ports.lo = 6000;
		f->ports.hi = 6100;
		f->ctlport = 23;
		ok(lg_apply_forward(&R.pc, f) == 0, "tcp autofw added");
		run_lower(&R, gen ? "autofw_tcp20" : "autofw_tcp22", gen ? LG_GEN_20 : LG_GEN_22);
		want(&R, gen ? "flags dynamic,timeout\n\t\ttimeout 900s\n" : "flags dynamic,timeout\n\t\ttimeout 120s\n",
		     gen ? "2.0: refused tcp flows for the tcp timeout" : "2.2: refused tcp flows for 2 min");
		want(&R, "ip saddr . tcp sport . ip daddr . tcp dport != @legacy_autofw_1_refused", "tcp flow key");
		ok(has_diag(&R, DIAG_WARNING, "refused while no host was recorded"),
		   "tcp: the refusal time is warned as an approximation");
		run_free(&R);
	}
}

int main(int argc, char **argv)
{
	if (argc > 1)
		outdir = argv[1];
	case_masq();
	case_reject_iface();
	case_user_chains();
	case_syn_ports();
	case_model();
	case_forwards();
	case_load_share();
	case_helper_view();
	case_autofw();
	case_fwadm_misc();
	return done_testing();
}
