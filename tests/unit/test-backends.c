/* test-backends.c -- nft and iptables-restore printers on hand-built IR.
 *
 * TAP.  Each case builds a small ruleset with the ir.h API, emits it in
 * both formats and compares with the expected text.  With a directory
 * argument the outputs are also written there (NAME.nft, NAME.ipt,
 * NAME.ipt6) so tests/backends-kernel.sh can load them into a throwaway
 * network namespace.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/ir.h"
#include "../../src/util.h"
#include "../../src/backends/backend.h"

static int ntests, nfailed;
static const char *outdir;

static struct src_file script = { .path = (char *)"rc.firewall" };

static struct loc at(unsigned line)
{
	struct loc l = { &script, line, 1, 1 };

	return l;
}

/* ---- IR construction helpers ---------------------------------------------- */

static struct ir_rule *rule(struct ir_chain *c, unsigned line)
{
	struct loc l = at(line);
	struct ir_rule *r = ir_rule_new(&l);

	ir_chain_insert(c, r, 0);
	return r;
}

static struct ir_match *match(struct ir_rule *r, enum ir_match_kind k, const char *mod,
			      unsigned seq)
{
	struct ir_match *m = ir_match_new(r, k, &r->loc);

	snprintf(m->module, sizeof(m->module), "%s", mod);
	m->module_seq = seq;
	return m;
}

static void proto(struct ir_rule *r, uint8_t p)
{
	match(r, IR_M_PROTO, "", 0)->u.proto = p;
}

static void parse_addr(struct ir_addr *a, const char *s)
{
	char buf[64], *slash, *dash;
	int af;

	snprintf(buf, sizeof(buf), "%s", s);
	memset(a, 0, sizeof(*a));
	a->af = strchr(buf, ':') ? 6 : 4;
	af = a->af == 6 ? AF_INET6 : AF_INET;
	slash = strchr(buf, '/');
	dash = strchr(buf, '-');
	a->kind = dash ? IR_ADDR_RANGE : IR_ADDR_PREFIX;
	a->plen = a->af == 6 ? 128 : 32;
	if (slash) {
		*slash = '\0';
		a->plen = (uint8_t)atoi(slash + 1);
	}
	if (dash) {
		*dash = '\0';
		inet_pton(af, dash + 1, a->hi);
	}
	inet_pton(af, buf, a->lo);
}

/* addrs: NULL-terminated list */
static struct ir_match *addrs(struct ir_rule *r, enum ir_match_kind k, int neg, ...)
{
	struct ir_match *m = match(r, k, "", 0);
	va_list ap;
	const char *s;

	m->neg = neg;
	va_start(ap, neg);
	while ((s = va_arg(ap, const char *))) {
		m->u.addrs.v = xrealloc(m->u.addrs.v, (m->u.addrs.n + 1) * sizeof(*m->u.addrs.v));
		parse_addr(&m->u.addrs.v[m->u.addrs.n++], s);
	}
	va_end(ap);
	return m;
}

static void iface(struct ir_rule *r, enum ir_match_kind k, bool neg, const char *name)
{
	struct ir_match *m = match(r, k, "", 0);

	m->neg = neg;
	m->u.ifaces.v = xmalloc(sizeof(char *));
	m->u.ifaces.v[0] = xstrdup(name);
	m->u.ifaces.n = 1;
}

/* ports: pairs lo,hi terminated by -1 */
static struct ir_match *ports(struct ir_rule *r, enum ir_match_kind k, uint8_t l4,
			      const char *mod, unsigned seq, int neg, ...)
{
	struct ir_match *m = match(r, k, mod, seq);
	va_list ap;
	int lo;

	m->neg = neg;
	m->l4proto = l4;
	va_start(ap, neg);
	while ((lo = va_arg(ap, int)) >= 0) {
		int hi = va_arg(ap, int);

		m->u.ports.v = xrealloc(m->u.ports.v, (m->u.ports.n + 1) * sizeof(*m->u.ports.v));
		m->u.ports.v[m->u.ports.n].lo = (uint32_t)lo;
		m->u.ports.v[m->u.ports.n++].hi = (uint32_t)hi;
	}
	va_end(ap);
	return m;
}

static void verdict(struct ir_rule *r, enum ir_verdict_kind k)
{
	r->verdict.kind = k;
}

static void jump(struct ir_rule *r, enum ir_verdict_kind k, const char *chain)
{
	r->verdict.kind = k;
	r->verdict.u.chain.name = xstrdup(chain);
}

static struct ir_stmt *log_stmt(struct ir_rule *r, const char *prefix, int level, uint32_t flags)
{
	struct ir_stmt *s = ir_stmt_new(r, IR_S_LOG, &r->loc);

	s->u.log.prefix = prefix ? xstrdup(prefix) : NULL;
	s->u.log.level = level;
	s->u.log.flags = flags;
	return s;
}

/* ---- checking ------------------------------------------------------------------ */

static char *emit_text(const struct ir_ruleset *rs, int which, int *rc, struct diag_queue *dq)
{
	static const char *const inputs[] = { "rc.firewall" };
	struct emit_opts o = { .locations = true, .inputs = inputs, .ninputs = 1 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (which == 0)
		*rc = nft_emit(rs, f, &o, dq);
	else if (which == 1)
		*rc = ipt_emit(rs, IR_FAM_IPV4, f, &o, dq);
	else if (which == 2)
		*rc = ipt_emit(rs, IR_FAM_IPV6, f, &o, dq);
	else {
		sysctl_emit(rs, f);
		*rc = 0;
	}
	fclose(f);
	return buf;
}

static void save(const char *name, const char *ext, const char *text)
{
	char path[512];
	FILE *f;

	if (!outdir)
		return;
	snprintf(path, sizeof(path), "%s/%s.%s", outdir, name, ext);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		return;
	}
	fputs(text, f);
	fclose(f);
}

static void ok(bool cond, const char *name, const char *what, const char *desc)
{
	ntests++;
	if (!cond)
		nfailed++;
	printf("%sok %d - %s: %s %s\n", cond ? "" : "not ", ntests, name, what, desc);
}

static void diag_text(const char *label, const char *s)
{
	printf("# %s:\n# ", label);
	for (; *s; s++) {
		putchar(*s);
		if (*s == '\n' && s[1])
			fputs("# ", stdout);
	}
	putchar('\n');
}

/* which: 0 nft, 1 iptables, 2 ip6tables, 3 sysctl; exp NULL = expect failure */
static void check(const struct ir_ruleset *rs, const char *name, int which, const char *exp)
{
	static const char *const what[] = { "nft", "iptables", "ip6tables", "sysctl" };
	static const char *const ext[] = { "nft", "ipt", "ipt6", "sysctl" };
	struct diag_queue dq = { 0 };
	int rc;
	char *got = emit_text(rs, which, &rc, &dq);

	if (!exp) {
		ok(rc == -1 && dq.nerrors > 0 && got[0] == '\0', name, what[which],
		   "refused with a located error");
		if (dq.n)
			printf("# %s\n", dq.v[0].msg);
	} else {
		ok(rc == 0 && strcmp(got, exp) == 0, name, what[which], "output");
		if (rc != 0 || strcmp(got, exp) != 0) {
			diag_text("expected", exp);
			diag_text("got", got);
			for (size_t i = 0; i < dq.n; i++)
				printf("# diag: %s\n", dq.v[i].msg);
		}
		save(name, ext[which], got);
	}
	free(got);
	diag_queue_free(&dq);
}

/* ---- cases ------------------------------------------------------------------------ */

static void case_filter(void)
{
	struct ir_ruleset *rs = ir_ruleset_new();
	struct ir_table *t = ir_table_get(rs, IR_FAM_IPV4, "filter");
	struct ir_chain *in = ir_chain_find(t, "INPUT");
	struct ir_chain *fw = ir_chain_find(t, "FORWARD");
	struct ir_chain *u;
	struct loc l10 = at(10);
	struct ir_rule *r;
	struct ir_match *m;

	in->policy = IR_POLICY_DROP;
	in->policy_loc = at(5);
	u = ir_chain_new_user(t, "reject-and-log-it", &l10);

	r = rule(in, 20);		/* -i eth+ -p tcp --dport 22 -j ACCEPT */
	iface(r, IR_M_IIF, false, "eth+");
	proto(r, 6);
	ports(r, IR_M_DPORT, 6, "", 0, false, 22, 22, -1);
	verdict(r, IR_V_ACCEPT);

	r = rule(in, 21);		/* -s a,b -d c,d -j ACCEPT */
	addrs(r, IR_M_SADDR, false, "1.2.3.4", "5.6.7.0/24", NULL);
	addrs(r, IR_M_DADDR, false, "9.9.9.9", "8.8.8.8", NULL);
	verdict(r, IR_V_ACCEPT);

	r = rule(in, 22);		/* -m state --state ESTABLISHED,RELATED */
	m = match(r, IR_M_CTSTATE, "state", 1);
	m->u.bits = IR_CT_ESTABLISHED | IR_CT_RELATED;
	verdict(r, IR_V_ACCEPT);

	r = rule(in, 23);		/* -p tcp -m multiport --dports 21,80,1024:65535 */
	proto(r, 6);
	ports(r, IR_M_DPORT, 6, "multiport", 1, false, 21, 21, 80, 80, 1024, 65535, -1);
	verdict(r, IR_V_ACCEPT);

	r = rule(in, 24);		/* -p icmp --icmp-type 8 -m limit --limit 3/min */
	proto(r, 1);
	m = match(r, IR_M_ICMP, "", 0);
	m->u.icmp.type = 8;
	m->u.icmp.code = -1;
	m = match(r, IR_M_LIMIT, "limit", 1);
	m->u.limit.rate = 3;
	m->u.limit.unit = IR_PER_MINUTE;
	m->u.limit.burst = 5;
	verdict(r, IR_V_ACCEPT);

	r = rule(in, 25);		/* -p tcp ! --syn -m state --state NEW -j DROP */
	proto(r, 6);
	m = match(r, IR_M_TCPFLAGS, "", 0);
	m->neg = true;
	m->u.tcpflags.mask = IR_TCP_FIN | IR_TCP_SYN | IR_TCP_RST | IR_TCP_ACK;
	m->u.tcpflags.cmp = IR_TCP_SYN;
	m = match(r, IR_M_CTSTATE, "state", 1);
	m->u.bits = IR_CT_NEW;
	verdict(r, IR_V_DROP);

	r = rule(in, 26);		/* -m comment --comment "ssh from lan" -j reject-and-log-it */
	m = match(r, IR_M_COMMENT, "comment", 1);
	m->u.str = xstrdup("ssh from lan");
	jump(r, IR_V_JUMP, "reject-and-log-it");

	r = rule(u, 30);		/* LOG + REJECT in one IR rule (ipchains -l) */
	log_stmt(r, "rejected: ", 4, 0);
	verdict(r, IR_V_REJECT);
	r->verdict.u.reject = IR_REJ_DEFAULT;

	r = rule(fw, 40);		/* -f -j DROP */
	match(r, IR_M_FRAG, "", 0);
	verdict(r, IR_V_DROP);

	check(rs, "filter", 0,
	      "#!/usr/sbin/nft -f\n"
	      "# generated by masqc from rc.firewall\n"
	      "\n"
	      "table ip masqc\n"
	      "delete table ip masqc\n"
	      "table ip masqc {\n"
	      "\tchain filter_INPUT {\n"
	      "\t\t# rc.firewall:5\n"
	      "\t\ttype filter hook input priority filter; policy drop;\n"
	      "\t\t# rc.firewall:20\n"
	      "\t\tiifname \"eth*\" tcp dport 22 counter accept\n"
	      "\t\t# rc.firewall:21\n"
	      "\t\tip saddr { 1.2.3.4, 5.6.7.0/24 } ip daddr { 9.9.9.9, 8.8.8.8 } counter accept\n"
	      "\t\t# rc.firewall:22\n"
	      "\t\tct state { established, related } counter accept\n"
	      "\t\t# rc.firewall:23\n"
	      "\t\ttcp dport { 21, 80, 1024-65535 } counter accept\n"
	      "\t\t# rc.firewall:24\n"
	      "\t\ticmp type 8 limit rate 3/minute burst 5 packets counter accept\n"
	      "\t\t# rc.firewall:25\n"
	      "\t\ttcp flags & (fin|syn|rst|ack) != syn ct state new counter drop\n"
	      "\t\t# rc.firewall:26\n"
	      "\t\tcounter jump filter_reject-and-log-it comment \"ssh from lan\"\n"
	      "\t}\n"
	      "\n"
	      "\tchain filter_FORWARD {\n"
	      "\t\ttype filter hook forward priority filter; policy accept;\n"
	      "\t\t# rc.firewall:40\n"
	      "\t\tip frag-off & 0x1fff != 0 counter drop\n"
	      "\t}\n"
	      "\n"
	      "\tchain filter_reject-and-log-it {\n"
	      "\t\t# rc.firewall:30\n"
	      "\t\tcounter log prefix \"rejected: \" reject with icmp type port-unreachable\n"
	      "\t}\n"
	      "}\n"
	      "\n"
	      "table ip6 masqc\n"
	      "delete table ip6 masqc\n");
	check(rs, "filter", 1,
	      "# generated by masqc from rc.firewall\n"
	      "*filter\n"
	      ":INPUT DROP [0:0]\n"
	      ":FORWARD ACCEPT [0:0]\n"
	      ":OUTPUT ACCEPT [0:0]\n"
	      ":reject-and-log-it - [0:0]\n"
	      "# rc.firewall:20\n"
	      "-A INPUT -i eth+ -p tcp -m tcp --dport 22 -j ACCEPT\n"
	      "# rc.firewall:21\n"
	      "-A INPUT -s 1.2.3.4/32 -d 9.9.9.9/32 -j ACCEPT\n"
	      "-A INPUT -s 1.2.3.4/32 -d 8.8.8.8/32 -j ACCEPT\n"
	      "-A INPUT -s 5.6.7.0/24 -d 9.9.9.9/32 -j ACCEPT\n"
	      "-A INPUT -s 5.6.7.0/24 -d 8.8.8.8/32 -j ACCEPT\n"
	      "# rc.firewall:22\n"
	      "-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT\n"
	      "# rc.firewall:23\n"
	      "-A INPUT -p tcp -m multiport --dports 21,80,1024:65535 -j ACCEPT\n"
	      "# rc.firewall:24\n"
	      "-A INPUT -p icmp -m icmp --icmp-type 8 -m limit --limit 3/min -j ACCEPT\n"
	      "# rc.firewall:25\n"
	      "-A INPUT -p tcp -m tcp ! --tcp-flags FIN,SYN,RST,ACK SYN -m state --state NEW -j DROP\n"
	      "# rc.firewall:26\n"
	      "-A INPUT -m comment --comment \"ssh from lan\" -j reject-and-log-it\n"
	      "# rc.firewall:40\n"
	      "-A FORWARD -f -j DROP\n"
	      "# rc.firewall:30\n"
	      "-A reject-and-log-it -j LOG --log-prefix \"rejected: \"\n"
	      "-A reject-and-log-it -j REJECT --reject-with icmp-port-unreachable\n"
	      "COMMIT\n");
	ir_ruleset_free(rs);
}

static void case_nat(void)
{
	struct ir_ruleset *rs = ir_ruleset_new();
	struct ir_table *t = ir_table_get(rs, IR_FAM_IPV4, "nat");
	struct ir_rule *r;

	r = rule(ir_chain_find(t, "POSTROUTING"), 50);	/* -o ppp0 -j MASQUERADE */
	iface(r, IR_M_OIF, false, "ppp0");
	verdict(r, IR_V_MASQUERADE);

	r = rule(ir_chain_find(t, "PREROUTING"), 51);	/* port forward */
	iface(r, IR_M_IIF, false, "ppp0");
	proto(r, 6);
	ports(r, IR_M_DPORT, 6, "tcp", 1, false, 80, 80, -1);
	verdict(r, IR_V_DNAT);
	r->verdict.u.nat.has_addr = true;
	parse_addr(&r->verdict.u.nat.addr, "192.168.1.10");
	r->verdict.u.nat.has_port = true;
	r->verdict.u.nat.port_lo = r->verdict.u.nat.port_hi = 8080;

	r = rule(ir_chain_find(t, "PREROUTING"), 52);	/* -p tcp -j REDIRECT --to-ports 3128 */
	proto(r, 6);
	verdict(r, IR_V_REDIRECT);
	r->verdict.u.nat.has_port = true;
	r->verdict.u.nat.port_lo = r->verdict.u.nat.port_hi = 3128;

	r = rule(ir_chain_find(t, "POSTROUTING"), 53);	/* SNAT range with ports */
	proto(r, 17);
	verdict(r, IR_V_SNAT);
	r->verdict.u.nat.has_addr = true;
	parse_addr(&r->verdict.u.nat.addr, "1.2.3.4-1.2.3.8");
	r->verdict.u.nat.has_port = true;
	r->verdict.u.nat.port_lo = 1000;
	r->verdict.u.nat.port_hi = 2000;
	r->verdict.u.nat.flags = IR_NAT_PERSISTENT;

	check(rs, "nat", 0,
	      "#!/usr/sbin/nft -f\n"
	      "# generated by masqc from rc.firewall\n"
	      "\n"
	      "table ip masqc\n"
	      "delete table ip masqc\n"
	      "table ip masqc {\n"
	      "\tchain nat_PREROUTING {\n"
	      "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
	      "\t\t# rc.firewall:51\n"
	      "\t\tiifname \"ppp0\" tcp dport 80 counter dnat to 192.168.1.10:8080\n"
	      "\t\t# rc.firewall:52\n"
	      "\t\tmeta l4proto tcp counter redirect to :3128\n"
	      "\t}\n"
	      "\n"
	      "\tchain nat_POSTROUTING {\n"
	      "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
	      "\t\t# rc.firewall:50\n"
	      "\t\toifname \"ppp0\" counter masquerade\n"
	      "\t\t# rc.firewall:53\n"
	      "\t\tmeta l4proto udp counter snat to 1.2.3.4-1.2.3.8:1000-2000 persistent\n"
	      "\t}\n"
	      "}\n"
	      "\n"
	      "table ip6 masqc\n"
	      "delete table ip6 masqc\n");
	check(rs, "nat", 1,
	      "# generated by masqc from rc.firewall\n"
	      "*nat\n"
	      ":PREROUTING ACCEPT [0:0]\n"
	      ":INPUT ACCEPT [0:0]\n"
	      ":OUTPUT ACCEPT [0:0]\n"
	      ":POSTROUTING ACCEPT [0:0]\n"
	      "# rc.firewall:51\n"
	      "-A PREROUTING -i ppp0 -p tcp -m tcp --dport 80 -j DNAT --to-destination 192.168.1.10:8080\n"
	      "# rc.firewall:52\n"
	      "-A PREROUTING -p tcp -j REDIRECT --to-ports 3128\n"
	      "# rc.firewall:50\n"
	      "-A POSTROUTING -o ppp0 -j MASQUERADE\n"
	      "# rc.firewall:53\n"
	      "-A POSTROUTING -p udp -j SNAT --to-source 1.2.3.4-1.2.3.8:1000-2000 --persistent\n"
	      "COMMIT\n");
	ir_ruleset_free(rs);
}

static void case_helpers(void)
{
	struct ir_ruleset *rs = ir_ruleset_new();
	struct ir_helper *h = xzalloc(sizeof(*h));
	struct loc l3 = at(3), l4 = at(4);

	h->name = xstrdup("ftp");
	h->l4proto = 6;
	h->nports = 2;
	h->ports = xmalloc(2 * sizeof(*h->ports));
	h->ports[0].lo = h->ports[0].hi = 21;
	h->ports[1].lo = h->ports[1].hi = 2121;
	h->loc = at(2);
	ir_add_helper(rs, h);
	ir_add_sysctl(rs, "net.ipv4.ip_forward", "1", &l3);
	ir_add_sysctl(rs, "net.ipv4.conf.all.rp_filter", "1", &l4);

	check(rs, "helpers", 0,
	      "#!/usr/sbin/nft -f\n"
	      "# generated by masqc from rc.firewall\n"
	      "#\n"
	      "# sysctls set by the script (not part of this ruleset; masqc writes them as a sysctl.d fragment):\n"
	      "# sysctl net.ipv4.ip_forward = 1   (rc.firewall:3)\n"
	      "# sysctl net.ipv4.conf.all.rp_filter = 1   (rc.firewall:4)\n"
	      "\n"
	      "table ip masqc\n"
	      "delete table ip masqc\n"
	      "table ip masqc {\n"
	      "\tct helper ftp-21-2121 {\n"
	      "\t\ttype \"ftp\" protocol tcp\n"
	      "\t\tl3proto ip\n"
	      "\t}\n"
	      "\n"
	      "\tchain helpers_PREROUTING {\n"
	      "\t\ttype filter hook prerouting priority filter; policy accept;\n"
	      "\t\t# rc.firewall:2\n"
	      "\t\tct state new tcp dport { 21, 2121 } ct helper set \"ftp-21-2121\"\n"
	      "\t}\n"
	      "\n"
	      "\tchain helpers_OUTPUT {\n"
	      "\t\ttype filter hook output priority filter; policy accept;\n"
	      "\t\t# rc.firewall:2\n"
	      "\t\tct state new tcp dport { 21, 2121 } ct helper set \"ftp-21-2121\"\n"
	      "\t}\n"
	      "}\n"
	      "\n"
	      "table ip6 masqc\n"
	      "delete table ip6 masqc\n");
	check(rs, "helpers", 1,
	      "# generated by masqc from rc.firewall\n"
	      "*raw\n"
	      ":PREROUTING ACCEPT [0:0]\n"
	      ":OUTPUT ACCEPT [0:0]\n"
	      "# conntrack helpers (Linux >= 6.0 does not assign them by port)\n"
	      "# rc.firewall:2\n"
	      "-A PREROUTING -p tcp -m tcp --dport 21 -j CT --helper ftp\n"
	      "# rc.firewall:2\n"
	      "-A PREROUTING -p tcp -m tcp --dport 2121 -j CT --helper ftp\n"
	      "# rc.firewall:2\n"
	      "-A OUTPUT -p tcp -m tcp --dport 21 -j CT --helper ftp\n"
	      "# rc.firewall:2\n"
	      "-A OUTPUT -p tcp -m tcp --dport 2121 -j CT --helper ftp\n"
	      "COMMIT\n");
	check(rs, "helpers", 3,
	      "# generated by masqc: sysctls set by the script (sysctl.d format)\n"
	      "# rc.firewall:3\n"
	      "net.ipv4.ip_forward = 1\n"
	      "# rc.firewall:4\n"
	      "net.ipv4.conf.all.rp_filter = 1\n");
	ir_ruleset_free(rs);
}

/* multiport --ports and a masked TOS set need several nft rules */
static void case_split(void)
{
	struct ir_ruleset *rs = ir_ruleset_new();
	struct ir_table *t = ir_table_get(rs, IR_FAM_IPV4, "mangle");
	struct ir_chain *pre = ir_chain_find(t, "PREROUTING");
	struct ir_rule *r;
	struct ir_stmt *s;

	r = rule(pre, 60);		/* -p tcp -m multiport --ports 21,22 -j MARK --set-mark 1 */
	proto(r, 6);
	ports(r, IR_M_PORT, 6, "multiport", 1, false, 21, 21, 22, 22, -1);
	s = ir_stmt_new(r, IR_S_MARK, &r->loc);
	s->u.setmark.op = IR_MARK_SET;
	s->u.setmark.value = 1;
	s->u.setmark.mask = 0xffffffff;

	r = rule(pre, 61);		/* -p tcp --dport 22 -j TOS --set-tos Minimize-Delay */
	proto(r, 6);
	ports(r, IR_M_DPORT, 6, "", 0, false, 22, 22, -1);
	s = ir_stmt_new(r, IR_S_TOS, &r->loc);
	s->u.setmark.op = IR_MARK_SET;
	s->u.setmark.value = 0x10;
	s->u.setmark.mask = 0x3f;

	check(rs, "split", 0,
	      "#!/usr/sbin/nft -f\n"
	      "# generated by masqc from rc.firewall\n"
	      "\n"
	      "table ip masqc\n"
	      "delete table ip masqc\n"
	      "table ip masqc {\n"
	      "\tchain mangle_PREROUTING {\n"
	      "\t\ttype filter hook prerouting priority mangle; policy accept;\n"
	      "\t\t# rc.firewall:60\n"
	      "\t\ttcp sport { 21, 22 } counter meta mark set 0x1\n"
	      "\t\t# rc.firewall:60\n"
	      "\t\ttcp sport != { 21, 22 } tcp dport { 21, 22 } counter meta mark set 0x1\n"
	      "\t\t# rc.firewall:61\n"
	      "\t\ttcp dport 22 @nh,8,8 & 0xc0 == 0x00 counter ip dscp set 0x04 ip ecn set 0\n"
	      "\t\t# rc.firewall:61\n"
	      "\t\ttcp dport 22 @nh,8,8 & 0xc0 == 0x40 counter ip dscp set 0x14 ip ecn set 0\n"
	      "\t\t# rc.firewall:61\n"
	      "\t\ttcp dport 22 @nh,8,8 & 0xc0 == 0x80 counter ip dscp set 0x24 ip ecn set 0\n"
	      "\t\t# rc.firewall:61\n"
	      "\t\ttcp dport 22 @nh,8,8 & 0xc0 == 0xc0 counter ip dscp set 0x34 ip ecn set 0\n"
	      "\t}\n"
	      "}\n"
	      "\n"
	      "table ip6 masqc\n"
	      "delete table ip6 masqc\n");
	check(rs, "split", 1,
	      "# generated by masqc from rc.firewall\n"
	      "*mangle\n"
	      ":PREROUTING ACCEPT [0:0]\n"
	      ":INPUT ACCEPT [0:0]\n"
	      ":FORWARD ACCEPT [0:0]\n"
	      ":OUTPUT ACCEPT [0:0]\n"
	      ":POSTROUTING ACCEPT [0:0]\n"
	      "# rc.firewall:60\n"
	      "-A PREROUTING -p tcp -m multiport --ports 21,22 -j MARK --set-xmark 0x1/0xffffffff\n"
	      "# rc.firewall:61\n"
	      "-A PREROUTING -p tcp -m tcp --dport 22 -j TOS --set-tos 0x10/0x3f\n"
	      "COMMIT\n");
	ir_ruleset_free(rs);
}

static void case_ipv6(void)
{
	struct ir_ruleset *rs = ir_ruleset_new();
	struct ir_table *t = ir_table_get(rs, IR_FAM_IPV6, "filter");
	struct ir_rule *r;
	struct ir_match *m;

	r = rule(ir_chain_find(t, "INPUT"), 70);	/* -p ipv6-icmp --icmpv6-type 128 */
	addrs(r, IR_M_SADDR, false, "2001:db8::1", "2001:db8:1::/48", NULL);
	proto(r, 58);
	m = match(r, IR_M_ICMP, "", 0);
	m->u.icmp.type = 128;
	m->u.icmp.code = -1;
	verdict(r, IR_V_ACCEPT);

	r = rule(ir_chain_find(t, "INPUT"), 71);	/* -p tcp -j REJECT --reject-with tcp-reset */
	proto(r, 6);
	verdict(r, IR_V_REJECT);
	r->verdict.u.reject = IR_REJ_TCP_RESET;

	r = rule(ir_chain_find(t, "INPUT"), 72);	/* -j REJECT (icmp6 port unreachable) */
	m = match(r, IR_M_TTL, "hl", 1);
	m->u.ttl.op = IR_TTL_LT;
	m->u.ttl.value = 5;
	verdict(r, IR_V_REJECT);

	check(rs, "ipv6", 0,
	      "#!/usr/sbin/nft -f\n"
	      "# generated by masqc from rc.firewall\n"
	      "\n"
	      "table ip masqc\n"
	      "delete table ip masqc\n"
	      "\n"
	      "table ip6 masqc\n"
	      "delete table ip6 masqc\n"
	      "table ip6 masqc {\n"
	      "\tchain filter_INPUT {\n"
	      "\t\ttype filter hook input priority filter; policy accept;\n"
	      "\t\t# rc.firewall:70\n"
	      "\t\tip6 saddr { 2001:db8::1, 2001:db8:1::/48 } icmpv6 type 128 counter accept\n"
	      "\t\t# rc.firewall:71\n"
	      "\t\tmeta l4proto tcp counter reject with tcp reset\n"
	      "\t\t# rc.firewall:72\n"
	      "\t\tip6 hoplimit < 5 counter reject with icmpv6 type port-unreachable\n"
	      "\t}\n"
	      "}\n");
	check(rs, "ipv6", 2,
	      "# generated by masqc from rc.firewall\n"
	      "*filter\n"
	      ":INPUT ACCEPT [0:0]\n"
	      ":FORWARD ACCEPT [0:0]\n"
	      ":OUTPUT ACCEPT [0:0]\n"
	      "# rc.firewall:70\n"
	      "-A INPUT -s 2001:db8::1/128 -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT\n"
	      "-A INPUT -s 2001:db8:1::/48 -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT\n"
	      "# rc.firewall:71\n"
	      "-A INPUT -p tcp -j REJECT --reject-with tcp-reset\n"
	      "# rc.firewall:72\n"
	      "-A INPUT -m hl --hl-lt 5 -j REJECT --reject-with icmp6-port-unreachable\n"
	      "COMMIT\n");
	ir_ruleset_free(rs);
}


/* Every match and statement kind once, for the kernel test: only checks
 * that both printers succeed; backends-kernel.sh loads the result. */
static void check_loads(const struct ir_ruleset *rs, const char *name, int which)
{
	static const char *const what[] = { "nft", "iptables", "ip6tables", "sysctl" };
	static const char *const ext[] = { "nft", "ipt", "ipt6", "sysctl" };
	struct diag_queue dq = { 0 };
	int rc;
	char *got = emit_text(rs, which, &rc, &dq);

	ok(rc == 0, name, what[which], "printed without error");
	for (size_t i = 0; i < dq.n; i++)
		printf("# diag: %s\n", dq.v[i].msg);
	save(name, ext[which], got);
	free(got);
	diag_queue_free(&dq);
}

static void case_wide(void)
{
	struct ir_ruleset *rs = ir_ruleset_new();
	struct ir_table *f = ir_table_get(rs, IR_FAM_IPV4, "filter");
	struct ir_table *mg = ir_table_get(rs, IR_FAM_IPV4, "mangle");
	struct ir_table *raw = ir_table_get(rs, IR_FAM_IPV4, "raw");
	struct ir_chain *in = ir_chain_find(f, "INPUT"), *out = ir_chain_find(f, "OUTPUT");
	struct ir_chain *mpre = ir_chain_find(mg, "PREROUTING"), *mfw = ir_chain_find(mg, "FORWARD");
	struct ir_rule *r;
	struct ir_match *m;
	struct ir_stmt *s;

	r = rule(in, 100);
	m = match(r, IR_M_CTSTATE, "conntrack", 1);
	m->u.bits = IR_CT_NEW | IR_CT_INVALID;
	m->neg = true;
	m = match(r, IR_M_CTSTATUS, "conntrack", 1);
	m->u.bits = IR_CTS_ASSURED | IR_CTS_SEEN_REPLY;
	m = match(r, IR_M_CTDIR, "conntrack", 1);
	m->u.num = 1;
	verdict(r, IR_V_ACCEPT);

	r = rule(in, 101);
	m = match(r, IR_M_MAC, "mac", 1);
	memcpy(m->u.mac, "\x00\x11\x22\xaa\xbb\xcc", 6);
	m = match(r, IR_M_MARK, "mark", 2);
	m->u.markmask.value = 1;
	m->u.markmask.mask = 0xff;
	m = match(r, IR_M_CONNMARK, "connmark", 3);
	m->neg = true;
	m->u.markmask.value = 7;
	m->u.markmask.mask = 0xffffffff;
	verdict(r, IR_V_ACCEPT);

	r = rule(in, 102);
	m = match(r, IR_M_TOS, "tos", 1);
	m->u.markmask.value = 0x10;
	m->u.markmask.mask = 0x3f;
	m = match(r, IR_M_DSCP, "dscp", 2);
	m->neg = true;
	m->u.num = 0x2e;
	m = match(r, IR_M_LENGTH, "length", 3);
	m->u.range.lo = 100;
	m->u.range.hi = 200;
	m = match(r, IR_M_TTL, "ttl", 4);
	m->neg = true;
	m->u.ttl.op = IR_TTL_EQ;
	m->u.ttl.value = 5;
	verdict(r, IR_V_DROP);

	r = rule(in, 103);
	m = addrs(r, IR_M_SADDR, false, "1.2.3.4-1.2.3.9", NULL);
	snprintf(m->module, sizeof(m->module), "iprange");
	m->module_seq = 1;
	m = addrs(r, IR_M_DADDR, true, "5.5.5.5-5.5.5.6", NULL);
	snprintf(m->module, sizeof(m->module), "iprange");
	m->module_seq = 1;
	m = match(r, IR_M_ADDRTYPE, "addrtype", 2);
	m->u.addrtype.dst = IR_AT_LOCAL | IR_AT_BROADCAST;
	m = match(r, IR_M_PKTTYPE, "pkttype", 3);
	m->u.num = IR_PKT_BROADCAST;
	m = match(r, IR_M_HELPER, "helper", 4);
	m->u.str = xstrdup("ftp");
	verdict(r, IR_V_ACCEPT);

	r = rule(in, 104);
	proto(r, 6);
	ports(r, IR_M_SPORT, 6, "tcp", 1, false, 1024, 65535, -1);
	ports(r, IR_M_DPORT, 6, "tcp", 1, true, 22, 22, -1);
	m = match(r, IR_M_TCPOPTION, "tcp", 1);
	m->u.num = 2;
	m = match(r, IR_M_TCPMSS, "tcpmss", 2);
	m->u.range.lo = 1000;
	m->u.range.hi = 1500;
	log_stmt(r, "a'b\"c", 7, IR_LOG_TCPSEQ | IR_LOG_TCPOPT | IR_LOG_IPOPT | IR_LOG_UID);
	s = ir_stmt_new(r, IR_S_NFLOG, &r->loc);
	s->u.nflog.group = 5;
	s->u.nflog.prefix = xstrdup("x y");
	s->u.nflog.snaplen = 100;
	s->u.nflog.threshold = 3;
	verdict(r, IR_V_DROP);

	r = rule(in, 105);
	proto(r, 17);
	ports(r, IR_M_SPORT, 17, "multiport", 1, true, 53, 53, 123, 123, -1);
	m = match(r, IR_M_LIMIT, "limit", 2);
	m->u.limit.rate = 60;
	m->u.limit.unit = IR_PER_MINUTE;
	m->u.limit.burst = 20;
	verdict(r, IR_V_REJECT);
	r->verdict.u.reject = IR_REJ_ADMIN_PROHIB;

	r = rule(in, 106);
	proto(r, 1);
	m = match(r, IR_M_ICMP, "icmp", 1);
	m->neg = true;
	m->u.icmp.type = 3;
	m->u.icmp.code = 4;
	verdict(r, IR_V_ACCEPT);

	r = rule(out, 110);
	m = match(r, IR_M_OWNER, "owner", 1);
	m->u.owner.has_uid = true;
	m->u.owner.uid.lo = m->u.owner.uid.hi = 1000;
	m->u.owner.has_gid = true;
	m->u.owner.gid.lo = 100;
	m->u.owner.gid.hi = 200;
	m = match(r, IR_M_ADDRTYPE, "addrtype", 2);
	m->u.addrtype.dst = IR_AT_LOCAL;
	m->u.addrtype.limit_out = true;
	verdict(r, IR_V_ACCEPT);

	r = rule(mpre, 120);
	s = ir_stmt_new(r, IR_S_MARK, &r->loc);
	s->u.setmark.op = IR_MARK_SET;
	s->u.setmark.value = 1;
	s->u.setmark.mask = 0xff;
	r = rule(mpre, 121);
	s = ir_stmt_new(r, IR_S_CONNMARK, &r->loc);
	s->u.setmark.op = IR_MARK_SAVE;
	s->u.setmark.nfmask = s->u.setmark.ctmask = 0xffffffff;
	r = rule(mpre, 122);
	s = ir_stmt_new(r, IR_S_CONNMARK, &r->loc);
	s->u.setmark.op = IR_MARK_RESTORE;
	s->u.setmark.nfmask = 0xffffffff;
	s->u.setmark.ctmask = 0xff;
	r = rule(mpre, 123);
	s = ir_stmt_new(r, IR_S_DSCP, &r->loc);
	s->u.num = 10;
	r = rule(mpre, 124);
	s = ir_stmt_new(r, IR_S_TTL, &r->loc);
	s->u.ttl.op = IR_TTL_SET;
	s->u.ttl.value = 64;
	r = rule(mpre, 125);
	s = ir_stmt_new(r, IR_S_TOS, &r->loc);
	s->u.setmark.op = IR_MARK_SET;
	s->u.setmark.value = 0x10;
	s->u.setmark.mask = 0xff;
	r = rule(mpre, 126);
	s = ir_stmt_new(r, IR_S_MARK, &r->loc);
	s->u.setmark.op = IR_MARK_OR;
	s->u.setmark.value = 0xf;

	r = rule(mfw, 130);
	proto(r, 6);
	m = match(r, IR_M_TCPFLAGS, "tcp", 1);
	m->u.tcpflags.mask = IR_TCP_SYN | IR_TCP_RST;
	m->u.tcpflags.cmp = IR_TCP_SYN;
	ir_stmt_new(r, IR_S_TCPMSS, &r->loc)->u.num = 0;

	r = rule(ir_chain_find(raw, "PREROUTING"), 140);
	proto(r, 6);
	ports(r, IR_M_DPORT, 6, "tcp", 1, false, 6667, 6667, -1);
	ir_stmt_new(r, IR_S_CT_HELPER, &r->loc)->u.str = xstrdup("irc");
	r = rule(ir_chain_find(raw, "OUTPUT"), 141);
	iface(r, IR_M_OIF, false, "lo");
	ir_stmt_new(r, IR_S_NOTRACK, &r->loc);

	check_loads(rs, "wide", 0);
	check_loads(rs, "wide", 1);
	ir_ruleset_free(rs);
}

/* what neither backend may accept */
static void case_errors(void)
{
	struct ir_ruleset *rs = ir_ruleset_new();
	struct ir_table *t = ir_table_get(rs, IR_FAM_IPV4, "filter");
	struct ir_rule *r = rule(ir_chain_find(t, "INPUT"), 80);
	struct ir_match *m = addrs(r, IR_M_DADDR, false, "1.2.3.4", NULL);

	/* an unresolved interface address is a bug of the resolve pass */
	m->u.addrs.v[0].kind = IR_ADDR_IFADDR;
	m->u.addrs.v[0].ifname = xstrdup("ppp0");
	verdict(r, IR_V_ACCEPT);
	check(rs, "ifaddr", 0, NULL);
	check(rs, "ifaddr", 1, NULL);
	ir_ruleset_free(rs);

	rs = ir_ruleset_new();
	t = ir_table_get(rs, IR_FAM_IPV4, "filter");
	r = rule(ir_chain_find(t, "INPUT"), 81);	/* ! -s a,b: "neither" */
	addrs(r, IR_M_SADDR, true, "1.2.3.4", "5.6.7.8", NULL);
	verdict(r, IR_V_ACCEPT);
	check(rs, "neglist", 1, NULL);
	ir_ruleset_free(rs);

	rs = ir_ruleset_new();
	t = ir_table_get(rs, IR_FAM_IPV4, "mangle");
	r = rule(ir_chain_find(t, "PREROUTING"), 82);	/* TTL --ttl-inc 1 */
	ir_stmt_new(r, IR_S_TTL, &r->loc)->u.ttl.op = IR_TTL_INC;
	check(rs, "ttlinc", 0, NULL);
	ir_ruleset_free(rs);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		outdir = argv[1];
	case_filter();
	case_nat();
	case_helpers();
	case_split();
	case_ipv6();
	case_wide();
	case_errors();
	printf("1..%d\n", ntests);
	return nfailed ? 1 : 0;
}
