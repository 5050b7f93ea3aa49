/* test-ipt.c -- the iptables dialect, iptables-save parsing, ir.c and
 * ir_resolve, checked on the IR they build and on the diagnostics (with
 * columns) they queue.  TAP output.
 *
 * Each case is one or more command lines; a line is split into words at
 * blanks (double quotes group) with real source locations, so error
 * columns are checked exactly as a user would see them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../src/parser/dialect.h"
#include "../../src/util.h"

static unsigned ntest, nfail;

static void ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	ntest++;
	if (!cond)
		nfail++;
	printf("%s %u - ", cond ? "ok" : "not ok", ntest);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* ---- fixture ----------------------------------------------------------- */

struct fx {
	struct ir_ruleset *rs;
	struct diag_queue dq;
	struct source_set ss;
	struct parse_ctx pc;
};

static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	f->rs = ir_ruleset_new();
	f->pc.rs = f->rs;
	f->pc.dq = &f->dq;
	f->pc.ss = &f->ss;
}

static void fx_free(struct fx *f)
{
	ir_ruleset_free(f->rs);
	diag_queue_free(&f->dq);
	source_set_free(&f->ss);
}

/* Parses one command line; returns ipt_command's / dispatch's result. */
static int fx_run(struct fx *f, const char *line)
{
	struct src_file *sf = source_add(&f->ss, "t.sh", line, strlen(line), NULL);
	VEC(struct word) w = { 0 };
	struct command cmd = { 0 };
	struct cmd_stream cs;
	const char *s = sf->text;
	int r;

	while (*s) {
		struct strbuf sb = { 0 };
		const char *start;
		bool q = false;
		struct word wd = { 0 };

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
		/* $NAME stands for a value only known at run time; @IF for the
		 * address of interface IF (with an optional literal suffix) */
		if (wd.text[0] == '$') {
			wd.kind = WORD_UNKNOWN;
			wd.var = xstrdup(wd.text + 1);
			wd.sym = xstrdup(wd.text + 1);
			wd.text[0] = '\0';
		} else if (wd.text[0] == '@') {
			char *suf = strpbrk(wd.text, "/:");

			wd.kind = WORD_IFADDR;
			wd.sym = suf ? xstrndup(wd.text + 1, (size_t)(suf - wd.text - 1)) : xstrdup(wd.text + 1);
			wd.var = xstrdup("EXTIP");
			memmove(wd.text, suf ? suf : "", strlen(suf ? suf : "") + 1);
		}
		vec_push(&w, wd);
	}
	cmd.argv = w.v;
	cmd.argc = (unsigned)w.n;
	cmd.loc = (struct loc){ sf, 1, 1, (unsigned)strlen(line) };
	cmd.next = NULL;
	cs.head = &cmd;
	cs.tail = &cmd.next;
	r = dispatch_commands(&f->pc, &cs);
	for (size_t i = 0; i < w.n; i++) {
		free(w.v[i].text);
		free(w.v[i].sym);
		free(w.v[i].var);
	}
	vec_free(&w);
	return r;
}

static const struct diag *fx_find(const struct fx *f, enum diag_level lvl, const char *needle)
{
	for (size_t i = 0; i < f->dq.n; i++)
		if (f->dq.v[i].level == lvl && strstr(f->dq.v[i].msg, needle))
			return &f->dq.v[i];
	return NULL;
}

static unsigned fx_errors(const struct fx *f)
{
	unsigned n = 0;

	for (size_t i = 0; i < f->dq.n; i++)
		n += f->dq.v[i].level == DIAG_ERROR;
	return n;
}

static void fx_dump(const struct fx *f)
{
	for (size_t i = 0; i < f->dq.n; i++)
		printf("# %u:%u: %s%s%s\n", f->dq.v[i].loc.line, f->dq.v[i].loc.col, f->dq.v[i].msg,
		       f->dq.v[i].hint ? " -- " : "", f->dq.v[i].hint ? f->dq.v[i].hint : "");
}

static struct ir_chain *chain(struct fx *f, enum ir_family fam, const char *t, const char *c)
{
	struct ir_table *tb = ir_table_find(f->rs, fam, t);

	return tb ? ir_chain_find(tb, c) : NULL;
}

static struct ir_rule *rule1(struct fx *f, const char *t, const char *c)
{
	struct ir_chain *ch = chain(f, IR_FAM_IPV4, t, c);

	return ch ? ch->rules_tail : NULL;
}

static const struct ir_match *nth_match(const struct ir_rule *r, unsigned n)
{
	const struct ir_match *m = r ? r->matches : NULL;

	while (m && n--)
		m = m->next;
	return m;
}

/* Runs one line expecting success; returns the last rule of t/c. */
static struct ir_rule *good(struct fx *f, const char *line, const char *t, const char *c)
{
	int r = fx_run(f, line);

	if (r || fx_errors(f)) {
		printf("# unexpected failure for: %s\n", line);
		fx_dump(f);
	}
	return rule1(f, t, c);
}

/* Expects an error containing msg at column col (0 = any). */
static void bad(const char *line, const char *msg, unsigned col)
{
	struct fx f;
	const struct diag *d;
	int r;

	fx_init(&f);
	fx_run(&f, "iptables -N known");
	r = fx_run(&f, line);
	d = fx_find(&f, DIAG_ERROR, msg);
	ok(r == -1 && d && (!col || d->loc.col == col), "error '%s' at col %u: %s", msg, col, line);
	if (!(r == -1 && d && (!col || d->loc.col == col)))
		fx_dump(&f);
	fx_free(&f);
}

/* ---- cases ------------------------------------------------------------------ */

static void test_ir_tables(void)
{
	struct ir_ruleset *rs = ir_ruleset_new();
	struct ir_table *t;
	const char *order[8];
	unsigned n = 0;

	ir_table_get(rs, IR_FAM_IPV6, "filter");
	ir_table_get(rs, IR_FAM_IPV4, "raw");
	ir_table_get(rs, IR_FAM_IPV4, "nat");
	ir_table_get(rs, IR_FAM_IPV4, "filter");
	ok(ir_table_get(rs, IR_FAM_IPV4, "bogus") == NULL, "unknown table -> NULL");
	for (t = rs->tables; t && n < 8; t = t->next)
		order[n++] = t->name;
	ok(n == 4 && !strcmp(order[0], "filter") && !strcmp(order[1], "nat") && !strcmp(order[2], "raw") &&
	   rs->tables->next->next->next->family == IR_FAM_IPV6, "tables in canonical order");
	t = ir_table_get(rs, IR_FAM_IPV4, "nat");
	ok(t->chains && !strcmp(t->chains->name, "PREROUTING") && t->chains->priority == -100 &&
	   t->chains->type == IR_CHAIN_NAT && !strcmp(t->chains_tail->name, "POSTROUTING") &&
	   t->chains_tail->priority == 100, "nat builtins, hooks and priorities");
	t = ir_table_get(rs, IR_FAM_IPV4, "mangle");
	ok(ir_chain_find(t, "OUTPUT")->type == IR_CHAIN_ROUTE && ir_chain_find(t, "FORWARD")->priority == -150,
	   "mangle OUTPUT is type route");
	{
		struct ir_chain *c = ir_chain_new_user(t, "x", NULL);
		struct ir_rule *a = ir_rule_new(NULL), *b = ir_rule_new(NULL), *d = ir_rule_new(NULL);

		ir_chain_insert(c, a, 0);
		ir_chain_insert(c, b, 0);
		ir_chain_insert(c, d, 1);
		ok(c->nrules == 3 && c->rules == d && ir_chain_nth(c, 2) == a && c->rules_tail == b,
		   "insert at 1 and append");
		ir_rule_unlink(c, a);
		ir_rule_free(a);
		ok(c->nrules == 2 && d->next == b && b->prev == d, "unlink");
		ir_chain_rename(c, "y");
		ok(!ir_chain_find(t, "x") && ir_chain_find(t, "y") == c, "rename re-keys the index");
		ir_chain_delete(c);
		ok(!ir_chain_find(t, "y"), "delete");
	}
	/* many chains: the index grows */
	{
		char name[32];
		bool all = true;

		for (int i = 0; i < 3000; i++) {
			snprintf(name, sizeof(name), "c%d", i);
			ir_chain_new_user(t, name, NULL);
		}
		for (int i = 0; i < 3000; i += 7) {
			snprintf(name, sizeof(name), "c%d", i);
			all &= ir_chain_find(t, name) && !strcmp(ir_chain_find(t, name)->name, name);
		}
		ok(all, "3000 chains found by hash");
	}
	ir_add_sysctl(rs, "net.ipv4.ip_forward", "0", NULL);
	ir_add_sysctl(rs, "net.ipv4.ip_forward", "1", NULL);
	ok(rs->sysctls == rs->sysctls_tail && !strcmp(rs->sysctls->value, "1"), "sysctl: last write wins");
	ir_ruleset_free(rs);
}

static void test_basic(void)
{
	struct fx f;
	struct ir_rule *r;
	const struct ir_match *m;

	fx_init(&f);
	r = good(&f, "iptables -A INPUT -p tcp --dport 22 -j ACCEPT", "filter", "INPUT");
	m = nth_match(r, 1);
	ok(r && r->matches->kind == IR_M_PROTO && r->matches->u.proto == 6 && m && m->kind == IR_M_DPORT &&
	   !strcmp(m->module, "tcp") && m->u.ports.n == 1 && m->u.ports.v[0].lo == 22 &&
	   m->l4proto == 6 && r->verdict.kind == IR_V_ACCEPT, "-p tcp --dport 22 -j ACCEPT");
	ok(m && m->loc.col == 26 && m->loc.len == 10, "--dport loc spans option and value (col %u len %u)",
	   m ? m->loc.col : 0, m ? m->loc.len : 0);
	ok(r && r->verdict.loc.col == 37 && r->loc.col == 1, "verdict loc at -j");

	r = good(&f, "iptables -A INPUT -s ! 10.0.0.0/8 -j DROP", "filter", "INPUT");
	ok(r && r->matches->kind == IR_M_SADDR && r->matches->neg && r->matches->u.addrs.v[0].plen == 8,
	   "old-style -s ! x");
	ok(fx_find(&f, DIAG_NOTE, "1.2/1.3 form") != NULL, "old-style negation noted");
	r = good(&f, "iptables -A INPUT ! -s 192.168.1.77/24 -j DROP", "filter", "INPUT");
	ok(r && r->matches->neg && r->matches->u.addrs.v[0].lo[3] == 0 && r->matches->u.addrs.v[0].lo[2] == 1,
	   "! -s, address masked");
	r = good(&f, "iptables -A INPUT -s 1.2.3.4,5.6.7.0/255.255.255.0 -d 0/0 -j ACCEPT", "filter", "INPUT");
	ok(r && r->matches->u.addrs.n == 2 && r->matches->u.addrs.v[1].plen == 24 &&
	   nth_match(r, 1) == NULL, "address list, dotted mask, -d 0/0 is no test");
	r = good(&f, "iptables -A INPUT ! -d 0/0 -j ACCEPT", "filter", "INPUT");
	ok(r && r->matches && r->matches->neg && r->matches->u.addrs.v[0].plen == 0,
	   "! -d 0/0 stays (it matches nothing)");
	bad("iptables -A INPUT ! -s 1.2.3.4,5.6.7.8 -j DROP", "each negated", 24);
	r = good(&f, "iptables -A FORWARD -i eth+ -o ppp0 -f -j ACCEPT", "filter", "FORWARD");
	ok(r && r->matches->kind == IR_M_IIF && !strcmp(r->matches->u.ifaces.v[0], "eth+") &&
	   nth_match(r, 2)->kind == IR_M_FRAG, "-i eth+ -o -f");
	r = good(&f, "iptables --append INPUT --proto udp --sport=domain --destination-port 1024: -j ACCEPT",
		 "filter", "INPUT");
	m = nth_match(r, 1);
	ok(r && m && m->kind == IR_M_SPORT && m->u.ports.v[0].lo == 53 && nth_match(r, 2)->u.ports.v[0].lo == 1024 &&
	   nth_match(r, 2)->u.ports.v[0].hi == 65535, "--proto prefix, --sport=domain, --destination-port 1024:");
	r = good(&f, "iptables -A INPUT -p TCP --dp :1023 -j ACCEPT", "filter", "INPUT");
	ok(r && nth_match(r, 1)->u.ports.v[0].lo == 0 && nth_match(r, 1)->u.ports.v[0].hi == 1023,
	   "-p TCP and --dp prefix of --dport");
	r = good(&f, "iptables -A INPUT -p tcp --syn -j DROP", "filter", "INPUT");
	ok(r && nth_match(r, 1)->kind == IR_M_TCPFLAGS && nth_match(r, 1)->u.tcpflags.mask == 0x17 &&
	   nth_match(r, 1)->u.tcpflags.cmp == 2, "--syn");
	r = good(&f, "iptables -A INPUT -p tcp ! --tcp-flags SYN,ACK,FIN ALL -j DROP", "filter", "INPUT");
	ok(r && nth_match(r, 1)->neg && nth_match(r, 1)->u.tcpflags.mask == 0x13 &&
	   nth_match(r, 1)->u.tcpflags.cmp == 0xff, "! --tcp-flags mask comp");
	r = good(&f, "iptables -A INPUT -p icmp --icmp-type echo-request -j ACCEPT", "filter", "INPUT");
	ok(r && nth_match(r, 1)->kind == IR_M_ICMP && nth_match(r, 1)->u.icmp.type == 8 &&
	   nth_match(r, 1)->u.icmp.code == -1 && !strcmp(nth_match(r, 1)->module, "icmp"), "--icmp-type name");
	r = good(&f, "iptables -A INPUT -p icmp --icmp-type 3/4 -j ACCEPT", "filter", "INPUT");
	ok(r && nth_match(r, 1)->u.icmp.type == 3 && nth_match(r, 1)->u.icmp.code == 4, "--icmp-type 3/4");
	r = good(&f, "iptables -A INPUT -p icmp --icmp-type any -j ACCEPT", "filter", "INPUT");
	ok(r && nth_match(r, 1)->kind == IR_M_ICMP_ANY, "--icmp-type any");
	r = good(&f, "iptables -A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT", "filter", "INPUT");
	ok(r && r->matches->kind == IR_M_CTSTATE &&
	   r->matches->u.bits == (IR_CT_ESTABLISHED | IR_CT_RELATED) && !strcmp(r->matches->module, "state"),
	   "-m state");
	r = good(&f, "iptables -A INPUT -m conntrack --ctstate NEW,DNAT --ctdir REPLY -j ACCEPT", "filter", "INPUT");
	ok(r && r->matches->u.bits == (IR_CT_NEW | IR_CT_DNAT) && nth_match(r, 1)->kind == IR_M_CTDIR &&
	   r->matches->module_seq == nth_match(r, 1)->module_seq, "-m conntrack, same module_seq");
	r = good(&f, "iptables -A INPUT -p udp -m multiport --dports 53,1000:1010,ntp -j ACCEPT", "filter", "INPUT");
	m = nth_match(r, 1);
	ok(r && m->kind == IR_M_DPORT && m->u.ports.n == 3 && m->u.ports.v[1].hi == 1010 &&
	   m->u.ports.v[2].lo == 123 && !strcmp(m->module, "multiport"), "multiport with range and name");
	r = good(&f, "iptables -A INPUT -m limit --limit 5/min --limit-burst 10 -j LOG --log-prefix \"IN: \" "
		 "--log-level info --log-tcp-options", "filter", "INPUT");
	ok(r && r->matches->kind == IR_M_LIMIT && r->matches->u.limit.rate == 5 &&
	   r->matches->u.limit.unit == IR_PER_MINUTE && r->matches->u.limit.burst == 10 &&
	   r->stmts && r->stmts->kind == IR_S_LOG && !strcmp(r->stmts->u.log.prefix, "IN: ") &&
	   r->stmts->u.log.level == 6 && r->stmts->u.log.flags == IR_LOG_TCPOPT &&
	   r->verdict.kind == IR_V_NONE, "limit + LOG");
	r = good(&f, "iptables -A INPUT -j LOG", "filter", "INPUT");
	ok(r && r->stmts && r->stmts->u.log.level == -1, "LOG default level");
	r = good(&f, "iptables -A INPUT -m mac --mac-source 00:11:22:aa:bb:CC -m mark ! --mark 0x10/0xff -j DROP",
		 "filter", "INPUT");
	ok(r && r->matches->u.mac[5] == 0xcc && nth_match(r, 1)->kind == IR_M_MARK && nth_match(r, 1)->neg &&
	   nth_match(r, 1)->u.markmask.value == 0x10 && nth_match(r, 1)->u.markmask.mask == 0xff, "mac, ! mark");
	r = good(&f, "iptables -A INPUT -m mark --mark 1 -m connmark --mark 2 -j ACCEPT", "filter", "INPUT");
	ok(r && r->matches->kind == IR_M_MARK && nth_match(r, 1)->kind == IR_M_CONNMARK &&
	   nth_match(r, 1)->u.markmask.value == 2, "--mark goes to the newest module");
	r = good(&f, "iptables -A INPUT -m tos --tos Minimize-Delay -m dscp --dscp-class AF21 -m length --length 0:128 "
		 "-m ttl --ttl-lt 5 -j ACCEPT", "filter", "INPUT");
	ok(r && r->matches->u.markmask.value == 0x10 && r->matches->u.markmask.mask == 0x3f &&
	   nth_match(r, 1)->u.num == 18 && nth_match(r, 2)->u.range.hi == 128 &&
	   nth_match(r, 3)->u.ttl.op == IR_TTL_LT, "tos dscp length ttl");
	r = good(&f, "iptables -A INPUT -m iprange --src-range 10.0.0.1-10.0.0.9 -m comment --comment \"hi there\" "
		 "-m addrtype --dst-type LOCAL,BROADCAST --limit-iface-in -m pkttype --pkt-type broadcast "
		 "-m helper --helper ftp -j ACCEPT", "filter", "INPUT");
	ok(r && r->matches->kind == IR_M_SADDR && r->matches->u.addrs.v[0].kind == IR_ADDR_RANGE &&
	   r->matches->u.addrs.v[0].hi[3] == 9 && !strcmp(nth_match(r, 1)->u.str, "hi there") &&
	   nth_match(r, 2)->u.addrtype.dst == (IR_AT_LOCAL | IR_AT_BROADCAST) &&
	   nth_match(r, 2)->u.addrtype.limit_in && nth_match(r, 3)->u.num == IR_PKT_BROADCAST &&
	   !strcmp(nth_match(r, 4)->u.str, "ftp"), "iprange comment addrtype pkttype helper");
	r = good(&f, "iptables -A OUTPUT -m owner --uid-owner 1000-1999 --gid-owner 5 -j ACCEPT", "filter", "OUTPUT");
	ok(r && r->matches->u.owner.has_uid && r->matches->u.owner.uid.hi == 1999 &&
	   r->matches->u.owner.gid.lo == 5, "owner");
	r = good(&f, "iptables -A INPUT -p tcp -j REJECT --reject-with tcp-reset", "filter", "INPUT");
	ok(r && r->verdict.kind == IR_V_REJECT && r->verdict.u.reject == IR_REJ_TCP_RESET, "REJECT tcp-reset");
	r = good(&f, "iptables -A INPUT -j REJECT --reject-with port-unreach", "filter", "INPUT");
	ok(r && r->verdict.u.reject == IR_REJ_PORT_UNREACH, "REJECT alias port-unreach");
	r = good(&f, "iptables -A INPUT -j REJECT", "filter", "INPUT");
	ok(r && r->verdict.u.reject == IR_REJ_DEFAULT, "REJECT default");
	r = good(&f, "iptables -A INPUT -j ULOG --ulog-nlgroup 2 --ulog-prefix x", "filter", "INPUT");
	ok(r && r->stmts->kind == IR_S_NFLOG && r->stmts->u.nflog.group == 2 &&
	   fx_find(&f, DIAG_NOTE, "ULOG"), "ULOG -> NFLOG with a note");
	r = good(&f, "iptables -A INPUT -j NFLOG --nflog-group 5 --nflog-size 128 --nflog-threshold 3", "filter", "INPUT");
	ok(r && r->stmts->u.nflog.group == 5 && r->stmts->u.nflog.snaplen == 128 &&
	   r->stmts->u.nflog.threshold == 3, "NFLOG");
	fx_free(&f);
}

static void test_nat_mangle(void)
{
	struct fx f;
	struct ir_rule *r;

	fx_init(&f);
	r = good(&f, "iptables -t nat -A POSTROUTING -o ppp0 -j MASQUERADE", "nat", "POSTROUTING");
	ok(r && r->verdict.kind == IR_V_MASQUERADE && !r->verdict.u.nat.has_port, "MASQUERADE");
	r = good(&f, "iptables -t nat -A POSTROUTING -p tcp -o ppp0 -j MASQUERADE --to-ports 1024-2000 --random",
		 "nat", "POSTROUTING");
	ok(r && r->verdict.u.nat.has_port && r->verdict.u.nat.port_hi == 2000 &&
	   r->verdict.u.nat.flags == IR_NAT_RANDOM, "MASQUERADE --to-ports --random");
	r = good(&f, "iptables -t nat -A POSTROUTING -o eth0 -j SNAT --to 1.2.3.4-1.2.3.8", "nat", "POSTROUTING");
	ok(r && r->verdict.kind == IR_V_SNAT && r->verdict.u.nat.addr.kind == IR_ADDR_RANGE &&
	   r->verdict.u.nat.addr.hi[3] == 8, "SNAT --to range (prefix of --to-source)");
	r = good(&f, "iptables -t nat -A PREROUTING -p tcp --dport 80 -j DNAT --to-destination 192.168.1.2:8080",
		 "nat", "PREROUTING");
	ok(r && r->verdict.kind == IR_V_DNAT && r->verdict.u.nat.has_addr && r->verdict.u.nat.port_lo == 8080 &&
	   r->verdict.u.nat.addr.plen == 32, "DNAT addr:port");
	r = good(&f, "iptables -t nat -A PREROUTING -p tcp -j REDIRECT --to-ports 3128", "nat", "PREROUTING");
	ok(r && r->verdict.kind == IR_V_REDIRECT && r->verdict.u.nat.port_lo == 3128, "REDIRECT");
	r = good(&f, "iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu",
		 "mangle", "FORWARD");
	ok(r && r->stmts && r->stmts->kind == IR_S_TCPMSS && r->stmts->u.num == 0, "TCPMSS clamp");
	r = good(&f, "iptables -t mangle -A PREROUTING -j MARK --set-mark 0x1/0xf", "mangle", "PREROUTING");
	ok(r && r->stmts->kind == IR_S_MARK && r->stmts->u.setmark.value == 1 && r->stmts->u.setmark.mask == 0xf,
	   "MARK --set-mark v/m");
	r = good(&f, "iptables -t mangle -A PREROUTING -j CONNMARK --restore-mark --nfmask 0xff", "mangle", "PREROUTING");
	ok(r && r->stmts->kind == IR_S_CONNMARK && r->stmts->u.setmark.op == IR_MARK_RESTORE &&
	   r->stmts->u.setmark.nfmask == 0xff && r->stmts->u.setmark.ctmask == 0xffffffff, "CONNMARK restore");
	r = good(&f, "iptables -t mangle -A OUTPUT -j TOS --set-tos Maximize-Throughput", "mangle", "OUTPUT");
	ok(r && r->stmts->kind == IR_S_TOS && r->stmts->u.setmark.value == 8, "TOS");
	r = good(&f, "iptables -t mangle -A OUTPUT -j DSCP --set-dscp-class EF", "mangle", "OUTPUT");
	ok(r && r->stmts->u.num == 46, "DSCP class");
	r = good(&f, "iptables -t mangle -A PREROUTING -j TTL --ttl-inc 1", "mangle", "PREROUTING");
	ok(r && r->stmts->kind == IR_S_TTL && r->stmts->u.ttl.op == IR_TTL_INC, "TTL");
	r = good(&f, "iptables -t raw -A PREROUTING -j NOTRACK", "raw", "PREROUTING");
	ok(r && r->stmts->kind == IR_S_NOTRACK, "NOTRACK");
	r = good(&f, "iptables -t raw -A PREROUTING -p tcp --dport 21 -j CT --helper ftp", "raw", "PREROUTING");
	ok(r && r->stmts->kind == IR_S_CT_HELPER && !strcmp(r->stmts->u.str, "ftp"), "CT --helper");
	fx_free(&f);
}

static void test_commands(void)
{
	struct fx f;
	struct ir_chain *c;

	fx_init(&f);
	fx_run(&f, "iptables -N blk");
	fx_run(&f, "iptables -A blk -s 10.0.0.1 -j DROP");
	fx_run(&f, "iptables -A blk -s 10.0.0.2 -j DROP");
	fx_run(&f, "iptables -I blk -s 10.0.0.3 -j DROP");
	fx_run(&f, "iptables -I blk 2 -s 10.0.0.4 -j DROP");
	c = chain(&f, IR_FAM_IPV4, "filter", "blk");
	ok(c && c->nrules == 4 && c->rules->matches->u.addrs.v[0].lo[3] == 3 &&
	   c->rules->next->matches->u.addrs.v[0].lo[3] == 4, "-I and -I 2");
	fx_run(&f, "iptables -D blk -s 10.0.0.1 -j DROP");
	fx_run(&f, "iptables -D blk 1");
	ok(c->nrules == 2 && c->rules->matches->u.addrs.v[0].lo[3] == 4, "-D by spec and by number");
	fx_run(&f, "iptables -R blk 1 -s 10.0.0.5 -j ACCEPT");
	ok(c->rules->verdict.kind == IR_V_ACCEPT && c->nrules == 2, "-R");
	fx_run(&f, "iptables -A INPUT -j blk");
	ok(c->refs == 1 && rule1(&f, "filter", "INPUT")->verdict.kind == IR_V_JUMP, "jump counts a reference");
	fx_run(&f, "iptables -E blk blocked");
	ok(!chain(&f, IR_FAM_IPV4, "filter", "blk") && chain(&f, IR_FAM_IPV4, "filter", "blocked") == c &&
	   !strcmp(rule1(&f, "filter", "INPUT")->verdict.u.chain.name, "blocked"), "-E renames jumps too");
	fx_run(&f, "iptables -P INPUT DROP");
	ok(chain(&f, IR_FAM_IPV4, "filter", "INPUT")->policy == IR_POLICY_DROP, "-P");
	ok(fx_errors(&f) == 0, "no errors so far");
	fx_run(&f, "iptables -F");
	fx_run(&f, "iptables -X");
	ok(!chain(&f, IR_FAM_IPV4, "filter", "blocked") && chain(&f, IR_FAM_IPV4, "filter", "INPUT")->nrules == 0,
	   "-F then -X");
	fx_run(&f, "iptables -L -n -v");
	fx_run(&f, "iptables -Z");
	ok(fx_errors(&f) == 0 && fx_find(&f, DIAG_NOTE, "listing"), "-L noted");
	ok(ir_resolve(f.rs, &f.dq) == 0, "resolve ok");
	fx_free(&f);
}

static void test_ip6(void)
{
	struct fx f;
	struct ir_rule *r;
	struct ir_chain *c;

	fx_init(&f);
	fx_run(&f, "ip6tables -A INPUT -s 2001:db8::1/32 -p icmpv6 --icmpv6-type echo-request -j ACCEPT");
	c = chain(&f, IR_FAM_IPV6, "filter", "INPUT");
	r = c ? c->rules : NULL;
	ok(r && r->matches->u.addrs.v[0].af == 6 && r->matches->u.addrs.v[0].plen == 32 &&
	   r->matches->u.addrs.v[0].lo[4] == 0 && nth_match(r, 2)->u.icmp.type == 128 &&
	   !strcmp(nth_match(r, 2)->module, "icmp6"), "ip6tables icmpv6");
	fx_run(&f, "ip6tables -A INPUT -j REJECT --reject-with icmp6-adm-prohibited");
	ok(c->rules_tail->verdict.u.reject == IR_REJ6_ADM_PROHIB, "icmp6 reject");
	fx_run(&f, "ip6tables -A INPUT -m hl --hl-eq 255 -j ACCEPT");
	ok(c->rules_tail->matches->kind == IR_M_TTL, "hl");
	ok(fx_errors(&f) == 0, "ip6 without errors");
	fx_free(&f);
}

static void test_errors(void)
{
	bad("iptables -A INPUT -m string --string foo -j DROP", "not supported: -m string", 19);
	bad("iptables -A INPUT -m recent --set", "not supported: -m recent", 19);
	bad("iptables -A INPUT -j QUEUE", "not supported: -j QUEUE", 19);
	bad("iptables -A INPUT -j ACCPET", "unknown target or chain 'ACCPET'", 22);
	bad("iptables -A INPUT -j knwon", "unknown target or chain", 22);
	bad("iptables -A INPTU -j ACCEPT", "no chain 'INPTU'", 13);
	bad("iptables -A INPUT -p tcp --dprot 22", "unknown option '--dprot'", 26);
	bad("iptables -A INPUT --d 1.2.3.4", "is ambiguous", 19);
	bad("iptables -A INPUT -s www.example.com", "hostnames are resolved", 22);
	bad("iptables -A INPUT -s $EXTIP -j DROP", "the value of $EXTIP", 22);
	bad("iptables -A INPUT -p tcp --dport 30:20", "min > max", 34);
	bad("iptables -A INPUT --dport 22 -j ACCEPT", "unknown option '--dport'", 19);
	bad("iptables -A INPUT -m tcp --dport 22", "-m tcp needs -p tcp", 19);
	bad("iptables -A INPUT -m multiport --dports 1,2", "-m multiport needs -p", 19);
	bad("iptables -A INPUT -j MASQUERADE", "only valid in the nat table", 19);
	bad("iptables -t nat -A PREROUTING -j MASQUERADE", "not valid in chain PREROUTING", 31);
	bad("iptables -t nat -A POSTROUTING -j DNAT --to-destination 1.2.3.4", "not valid in chain POSTROUTING", 32);
	bad("iptables -t nat -A PREROUTING -j DNAT --to-destination 1.2.3.4:80", "needs -p tcp", 56);
	bad("iptables -t mangle -A PREROUTING -j REJECT", "only valid in INPUT, FORWARD and OUTPUT", 34);
	bad("iptables -A INPUT -j REJECT --reject-with tcp-reset", "only works on TCP", 19);
	bad("iptables -A INPUT -j REJECT --reject-with icmp-foo", "unknown --reject-with", 43);
	bad("iptables -P known DROP", "only be set on a builtin chain", 13);
	bad("iptables -P INPUT REJECT", "not REJECT", 19);
	bad("iptables -t nat -P PREROUTING DROP", "not for filtering", 31);
	bad("iptables -N known", "already exists", 13);
	bad("iptables -D INPUT -s 1.1.1.1 -j DROP", "no such rule", 1);
	bad("iptables -D INPUT 3", "no rule 3", 19);
	bad("iptables -A INPUT -s 1.1.1.1 -s 2.2.2.2", "multiple -s", 30);
	bad("iptables -A INPUT -p tcp --syn --tcp-flags SYN SYN", "only one of --syn", 32);
	bad("iptables -A OUTPUT -m owner --uid-owner www-data -j DROP", "numeric uid", 41);
	bad("iptables -A INPUT -m owner --uid-owner 0 -j DROP", "only valid in OUTPUT", 28);
	bad("iptables -A INPUT -m conntrack --ctorigsrc 1.2.3.4", "not supported: -m conntrack --ctorigsrc", 32);
	bad("iptables -t raw -A PREROUTING -j CT --zone 1", "not supported: -j CT --zone", 37);
	bad("iptables -A INPUT -j NOTRACK", "only valid in the raw table", 19);
	bad("iptables -t mangle -A FORWARD -p tcp -j TCPMSS --clamp-mss-to-pmtu", "only works on SYN", 38);
	bad("iptables -A INPUT -m foo", "unknown match", 19);
	bad("iptables -t filtr -A INPUT", "unknown table", 13);
	bad("iptables -A INPUT -p tcp --dport 22 -j", "needs an argument", 37);
	bad("iptables -A INPUT -s 1.2.3.4/255.0.255.0", "non-contiguous", 22);
	bad("iptables -A INPUT -j DROP !", "inverts nothing", 27);
	bad("iptables -A INPUT -i @eth0", "address of interface eth0", 22);
	bad("-A INPUT -j ACCEPT", "command name is missing", 1);
	{
		struct fx f;

		fx_init(&f);
		ok(fx_run(&f, "iptables -X gone") == 0 && fx_run(&f, "iptables -t mangle -F gone") == 0 &&
		   fx_run(&f, "iptables -D INPUT -o eth0 -j gone") == 0 && fx_errors(&f) == 0 &&
		   fx_find(&f, DIAG_WARNING, "nothing to remove"), "cleanup of missing chains warns");
		fx_free(&f);
	}
	{
		struct fx f;

		fx_init(&f);
		fx_run(&f, "iptables -N a");
		fx_run(&f, "iptables -A INPUT -j a");
		fx_run(&f, "iptables -X a");
		ok(fx_find(&f, DIAG_ERROR, "still referenced") != NULL, "-X of a referenced chain");
		fx_free(&f);
	}
}

static void test_resolve(void)
{
	struct fx f;
	struct ir_rule *r;

	fx_init(&f);
	fx_run(&f, "iptables -t nat -A POSTROUTING -o eth0 -j SNAT --to-source @eth0");
	ok(ir_resolve(f.rs, &f.dq) == 0 && (r = rule1(&f, "nat", "POSTROUTING")) &&
	   r->verdict.kind == IR_V_MASQUERADE && fx_find(&f, DIAG_NOTE, "MASQUERADE"),
	   "SNAT to own -o address -> MASQUERADE");
	fx_free(&f);

	fx_init(&f);
	fx_run(&f, "iptables -A INPUT -d @eth0 -j ACCEPT");
	ok(fx_errors(&f) == 0 && ir_resolve(f.rs, &f.dq) == -1 &&
	   fx_find(&f, DIAG_ERROR, "address of interface eth0"), "ifaddr in a match -> error in resolve");
	fx_free(&f);

	fx_init(&f);
	fx_run(&f, "iptables -N a");
	fx_run(&f, "iptables -N b");
	fx_run(&f, "iptables -A a -j b");
	fx_run(&f, "iptables -A b -j a");
	ok(ir_resolve(f.rs, &f.dq) == -1 && fx_find(&f, DIAG_ERROR, "jump loop"), "jump loop detected");
	ok(chain(&f, IR_FAM_IPV4, "filter", "a")->refs == 1, "refs recomputed");
	fx_free(&f);
}

static void test_dispatch(void)
{
	struct fx f;
	struct ir_helper *h;
	struct ir_sysctl *s;

	fx_init(&f);
	fx_run(&f, "modprobe ip_conntrack_ftp ports=21,2121");
	fx_run(&f, "insmod ip_nat_ftp");
	fx_run(&f, "modprobe -a nf_conntrack_irc ip_tables iptable_nat");
	fx_run(&f, "modprobe nf_conntrack_tftp");
	fx_run(&f, "modprobe ip_tables");
	fx_run(&f, "modprobe ip_masq_ftp");
	fx_run(&f, "modprobe bogus_mod");
	h = f.rs->helpers;
	ok(h && !strcmp(h->name, "ftp") && h->nat && h->nports == 2 && h->ports[1].lo == 2121 && h->l4proto == 6,
	   "ftp helper with ports, nat merged");
	ok(h && h->next && !strcmp(h->next->name, "irc") && h->next->ports[0].lo == 6667 &&
	   h->next->next && h->next->next->l4proto == 17 && h->next->next->ports[0].lo == 69, "irc, tftp defaults");
	{
		unsigned notes = 0;

		for (size_t i = 0; i < f.dq.n; i++)
			notes += !!strstr(f.dq.v[i].msg, "ip_tables on demand");
		/* once per name within one command stream; each fx_run is its own stream */
		ok(notes == 2, "module note once per name and stream");
	}
	ok(fx_find(&f, DIAG_NOTE, "ip_masq_ftp") && fx_find(&f, DIAG_WARNING, "bogus_mod"),
	   "2.2 masq helper noted (it becomes an ftp helper), unknown module warned");

	{
		struct src_file *sf = source_add(&f.ss, "e.sh", "echo 1 > /proc/sys/net/ipv4/ip_forward", 38, NULL);
		struct word argv[2] = {
			{ WORD_LITERAL, (char *)"echo", NULL, NULL, { sf, 1, 1, 4 } },
			{ WORD_LITERAL, (char *)"1", NULL, NULL, { sf, 1, 6, 1 } },
		};
		struct command c = { argv, 2, { sf, 1, 1, 38 }, REDIR_OUT,
				     { WORD_LITERAL, (char *)"/proc/sys/net/ipv4/ip_forward", NULL, NULL,
				       { sf, 1, 10, 29 } }, NULL, false, NULL };
		struct command c2 = c, c3 = c;
		struct cmd_stream cs = { .head = &c, .tail = &c3.next };

		c2.redir_target.text = (char *)"/proc/sys/net/ipv4/ip_always_defrag";
		c3.redir_target.text = (char *)"/proc/sys/net/ipv4/conf/*/rp_filter";
		c.next = &c2;
		c2.next = &c3;
		dispatch_commands(&f.pc, &cs);
	}
	s = f.rs->sysctls;
	ok(s && !strcmp(s->key, "net.ipv4.ip_forward") && !strcmp(s->value, "1") && s->next &&
	   !strcmp(s->next->key, "net.ipv4.conf.*.rp_filter") && !s->next->next &&
	   fx_find(&f, DIAG_NOTE, "ip_always_defrag"), "sysctls: forward, glob; obsolete dropped");
	fx_run(&f, "ifconfig eth0 up");
	fx_run(&f, "ifconfig eth1 up");
	fx_run(&f, "frobnicate x");
	ok(fx_find(&f, DIAG_NOTE, "ifconfig is not part") && fx_find(&f, DIAG_WARNING, "unknown command 'frobnicate'"),
	   "ignored and unknown commands");
	f.pc.strict = true;
	ok(fx_run(&f, "frobnicate y") == -1, "unknown command is an error with strict");
	fx_free(&f);
}

static void test_iptsave(void)
{
	static const char dump[] =
		"# Generated by iptables-save\n"
		"*nat\n"
		":PREROUTING ACCEPT [0:0]\n"
		":POSTROUTING ACCEPT [0:0]\n"
		"-A POSTROUTING -o eth0 -j MASQUERADE\n"
		"COMMIT\n"
		"*filter\n"
		":INPUT DROP [10:200]\n"
		":FORWARD ACCEPT [0:0]\n"
		":tcp_in - [0:0]\n"
		"-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT\n"
		"-A INPUT -p tcp -j tcp_in\n"
		"[3:120] -A tcp_in -p tcp -m tcp --dport 22 -m comment --comment \"ssh \\\"in\\\"\" -j ACCEPT\n"
		"COMMIT\n";
	struct fx f;
	struct src_file *sf;
	struct ir_chain *c;

	fx_init(&f);
	sf = source_add(&f.ss, "dump", dump, strlen(dump), NULL);
	ok(iptsave_detect(sf), "detect dump");
	ok(iptsave_parse(&f.pc, sf, IR_FAM_IPV4) == 0 && fx_errors(&f) == 0, "parse dump");
	c = chain(&f, IR_FAM_IPV4, "filter", "INPUT");
	ok(c && c->policy == IR_POLICY_DROP && c->nrules == 2 && c->policy_loc.line == 8, "policy and rules");
	c = chain(&f, IR_FAM_IPV4, "filter", "tcp_in");
	ok(c && c->nrules == 1 && !strcmp(nth_match(c->rules, 2)->u.str, "ssh \"in\"") &&
	   nth_match(c->rules, 1)->loc.line == 13 && nth_match(c->rules, 1)->loc.col == 33,
	   "quotes, counters prefix, locations (%u:%u)", c ? nth_match(c->rules, 1)->loc.line : 0,
	   c ? nth_match(c->rules, 1)->loc.col : 0);
	ok(iptsave_guess_family(sf) == IR_FAM_IPV4, "guess ipv4");
	fx_free(&f);

	fx_init(&f);
	sf = source_add(&f.ss, "d2", "*filter\n-A INPUT -j ACCEPT\n", 26, NULL);
	ok(iptsave_parse(&f.pc, sf, IR_FAM_IPV4) == -1 && fx_find(&f, DIAG_ERROR, "no COMMIT"), "missing COMMIT");
	fx_free(&f);

	fx_init(&f);
	sf = source_add(&f.ss, "d3", "*filter\n-A INPUT -s 2001:db8::/32 -j ACCEPT\nCOMMIT\n", 50, NULL);
	ok(iptsave_guess_family(sf) == IR_FAM_IPV6, "guess ipv6");
	ok(!iptsave_detect(source_add(&f.ss, "sh", "#!/bin/sh\niptables -F\n", 22, NULL)), "a script is not a dump");
	fx_free(&f);
}

/* 100k rules through the save-format parser (the same ipt_command path a
 * script takes); must stay linear.  Timing is printed, never asserted. */
static void test_perf(void)
{
	struct fx f;
	struct ir_chain *c;
	struct strbuf sb = { 0 };
	struct src_file *sf;

	fx_init(&f);
	sb_add(&sb, "*filter\n:blk - [0:0]\n");
	for (int i = 0; i < 100000; i++)
		sb_addf(&sb, "-A %s -s 10.%d.%d.0/24 -p tcp -m multiport --dports %d,%d -m state --state NEW "
			"-j %s\n", i % 3 ? "INPUT" : "blk", (i >> 8) & 255, i & 255, 1 + i % 60000, 2 + i % 60000,
			(i % 3 && !(i % 5)) ? "blk" : "ACCEPT");
	sb_add(&sb, "COMMIT\n");
	sf = source_add(&f.ss, "big", sb_str(&sb), sb.len, NULL);
	sb_free(&sb);
	ok(iptsave_parse(&f.pc, sf, IR_FAM_IPV4) == 0, "100k-rule dump parses");
	c = chain(&f, IR_FAM_IPV4, "filter", "INPUT");
	ok(c && c->nrules == 66666 && fx_errors(&f) == 0, "100k rules (%u in INPUT)", c ? c->nrules : 0);
	fx_free(&f);
}

int main(int argc, char **argv)
{
	test_ir_tables();
	test_basic();
	test_nat_mangle();
	test_commands();
	test_ip6();
	test_errors();
	test_resolve();
	test_dispatch();
	test_iptsave();
	if (argc < 2 || strcmp(argv[1], "--quick"))
		test_perf();
	printf("1..%u\n", ntest);
	return nfail ? 1 : 0;
}
