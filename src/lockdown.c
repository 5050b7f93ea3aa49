/* lockdown.c -- `table inet masqc_lockdown` (lockdown.h).
 *
 * The table, in nft words:
 *
 *   table inet masqc_lockdown {
 *     chain input { type filter hook input priority 0; policy drop;
 *       iifname "lo" accept
 *       ct state established,related accept
 *       icmpv6 type 133-136 accept          # router/neighbour discovery
 *       [iifname IF] [ip saddr P] tcp dport N accept     # lockdown-allow
 *     }
 *     chain forward { ... policy drop; ct state established,related accept }
 *     chain output { ... policy drop|accept; oifname "lo" accept;
 *       ct state established,related accept; icmpv6 type 133-136 accept }
 *   }
 *
 * Priority 0 on purpose: after conntrack (-200), so `ct state` sees the
 * packet's state.  Any base chain's drop is final in nf_tables, so while
 * the lockdown is in, the machine is at most as open as the lockdown,
 * whatever other tables say; `masqc load` removes it only after the real
 * ruleset is committed.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>

#include "lockdown.h"

struct lbatch {
	struct mnl_nlmsg_batch *b;
	char *buf;
	uint32_t seq;
};

static void lb_next(struct lbatch *lb)
{
	mnl_nlmsg_batch_next(lb->b);
}

static void lb_table(struct lbatch *lb, uint16_t type, uint16_t flags)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	nftnl_table_set_str(t, NFTNL_TABLE_NAME, LOCKDOWN_TABLE);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(lb->b), type, NFPROTO_INET,
				    flags, lb->seq++);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	lb_next(lb);
}

static void lb_chain(struct lbatch *lb, const char *name, uint32_t hook, uint32_t policy)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, LOCKDOWN_TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, policy);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(lb->b), NFT_MSG_NEWCHAIN,
				    NFPROTO_INET, NLM_F_CREATE, lb->seq++);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	lb_next(lb);
}

static void x_meta(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, e);
}

static void x_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	nftnl_rule_add_expr(r, e);
}

static void x_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, e);
}

static void x_mask(struct nftnl_rule *r, const void *mask, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");
	uint8_t zero[16] = { 0 };

	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	nftnl_rule_add_expr(r, e);
}

static void x_accept(struct nftnl_rule *r)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT);
	nftnl_rule_add_expr(r, e);
}

static void x_ifname(struct nftnl_rule *r, uint32_t key, const char *name)
{
	char buf[16] = { 0 };
	size_t n = strnlen(name, sizeof(buf) - 1);

	memcpy(buf, name, n);
	x_meta(r, key);
	x_cmp(r, NFT_CMP_EQ, buf, sizeof(buf));
}

static void x_l4proto(struct nftnl_rule *r, uint8_t proto)
{
	x_meta(r, NFT_META_L4PROTO);
	x_cmp(r, NFT_CMP_EQ, &proto, 1);
}

static void x_ct_established(struct nftnl_rule *r)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");
	uint32_t mask = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED);
	uint32_t zero = 0;

	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, e);
	x_mask(r, &mask, 4);
	x_cmp(r, NFT_CMP_NEQ, &zero, 4);
}

/* icmpv6 type 133-136: router solicitation/advertisement, neighbour
 * solicitation/advertisement -- without them IPv6 cannot even reach the
 * exceptions. */
static void x_nd(struct nftnl_rule *r)
{
	uint8_t nfp = NFPROTO_IPV6, lo = 133, hi = 136;

	x_meta(r, NFT_META_NFPROTO);
	x_cmp(r, NFT_CMP_EQ, &nfp, 1);
	x_l4proto(r, IPPROTO_ICMPV6);
	x_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
	x_cmp(r, NFT_CMP_GTE, &lo, 1);
	x_cmp(r, NFT_CMP_LTE, &hi, 1);
}

static void x_source(struct nftnl_rule *r, const struct lockdown_allow *a)
{
	uint8_t nfp = a->af == 4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
	uint32_t len = a->af == 4 ? 4 : 16, off = a->af == 4 ? 12 : 8;
	uint8_t mask[16] = { 0 };

	x_meta(r, NFT_META_NFPROTO);
	x_cmp(r, NFT_CMP_EQ, &nfp, 1);
	if (a->plen == 0)
		return;
	for (unsigned i = 0; i < a->plen; i++)
		mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	x_payload(r, NFT_PAYLOAD_NETWORK_HEADER, off, len);
	if (a->plen < len * 8)
		x_mask(r, mask, len);
	x_cmp(r, NFT_CMP_EQ, a->addr, len);
}

typedef void (*rule_fn)(struct nftnl_rule *r, const void *arg);

static void lb_rule(struct lbatch *lb, const char *chain, rule_fn fn, const void *arg)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, LOCKDOWN_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	fn(r, arg);
	x_accept(r);
	nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(lb->b), NFT_MSG_NEWRULE,
				    NFPROTO_INET, NLM_F_CREATE | NLM_F_APPEND, lb->seq++);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	lb_next(lb);
}

static void r_iif_lo(struct nftnl_rule *r, const void *arg) { x_ifname(r, NFT_META_IIFNAME, "lo"); }
static void r_oif_lo(struct nftnl_rule *r, const void *arg) { x_ifname(r, NFT_META_OIFNAME, "lo"); }
static void r_est(struct nftnl_rule *r, const void *arg) { x_ct_established(r); }
static void r_nd(struct nftnl_rule *r, const void *arg) { x_nd(r); }

struct allow_arg {
	const struct lockdown_allow *a;
	uint8_t l4;	/* for icmp without a source: IPPROTO_ICMP or IPPROTO_ICMPV6 */
};

static void r_allow(struct nftnl_rule *r, const void *arg)
{
	const struct allow_arg *aa = arg;
	const struct lockdown_allow *a = aa->a;

	if (a->iface[0])
		x_ifname(r, NFT_META_IIFNAME, a->iface);
	if (a->af)
		x_source(r, a);
	x_l4proto(r, aa->l4);
	if (a->proto != IPPROTO_ICMP && (a->port_lo || a->port_hi != 0)) {
		uint16_t lo = htons(a->port_lo), hi = htons(a->port_hi);

		x_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
		if (a->port_lo == a->port_hi) {
			x_cmp(r, NFT_CMP_EQ, &lo, 2);
		} else {
			x_cmp(r, NFT_CMP_GTE, &lo, 2);
			x_cmp(r, NFT_CMP_LTE, &hi, 2);
		}
	}
}

static int lb_open(struct lbatch *lb)
{
	size_t sz = 1 << 16;

	/* zeroed: attribute padding is sent as is */
	lb->buf = calloc(2, sz);
	if (!lb->buf)
		return -ENOMEM;
	lb->b = mnl_nlmsg_batch_start(lb->buf, sz);
	lb->seq = (uint32_t)time(NULL);
	nftnl_batch_begin(mnl_nlmsg_batch_current(lb->b), lb->seq++);
	lb_next(lb);
	/* `table x; delete table x`: replaces a lockdown already there,
	 * and removing an absent one is no error */
	lb_table(lb, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	lb_table(lb, NFT_MSG_DELTABLE, 0);
	return 0;
}

/* Sends and collects the kernel's verdict: without NLM_F_ACK only
 * failures come back, and nfnetlink processed the whole batch before
 * sendto() returned. */
static int lb_send(struct lbatch *lb, char *err, unsigned errlen)
{
	struct mnl_socket *nl;
	static char rbuf[1 << 14];
	int ret = 0;
	ssize_t n;

	nftnl_batch_end(mnl_nlmsg_batch_current(lb->b), lb->seq++);
	lb_next(lb);
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open a netfilter netlink socket: %s", strerror(errno));
		goto out;
	}
	if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(lb->b), mnl_nlmsg_batch_size(lb->b)) < 0) {
		ret = -errno;
		snprintf(err, errlen, "sending the lockdown table failed: %s", strerror(errno));
		goto out;
	}
	while ((n = recv(mnl_socket_get_fd(nl), rbuf, sizeof(rbuf), MSG_DONTWAIT)) > 0) {
		int len = (int)n;

		for (struct nlmsghdr *h = (struct nlmsghdr *)rbuf; mnl_nlmsg_ok(h, len);
		     h = mnl_nlmsg_next(h, &len)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

			if (h->nlmsg_type == NLMSG_ERROR && e->error && !ret) {
				ret = e->error;
				snprintf(err, errlen, "the kernel refused the lockdown table: %s",
					 strerror(-e->error));
			}
		}
	}
out:
	if (nl)
		mnl_socket_close(nl);
	mnl_nlmsg_batch_stop(lb->b);
	free(lb->buf);
	return ret;
}

int lockdown_install(const struct lockdown *l, char *err, unsigned errlen)
{
	struct lbatch lb;
	int ret = lb_open(&lb);

	if (ret < 0) {
		snprintf(err, errlen, "out of memory");
		return ret;
	}
	lb_table(&lb, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	lb_chain(&lb, "input", NF_INET_LOCAL_IN, NF_DROP);
	lb_chain(&lb, "forward", NF_INET_FORWARD, NF_DROP);
	lb_chain(&lb, "output", NF_INET_LOCAL_OUT, l->output_accept ? NF_ACCEPT : NF_DROP);
	lb_rule(&lb, "input", r_iif_lo, NULL);
	lb_rule(&lb, "input", r_est, NULL);
	lb_rule(&lb, "input", r_nd, NULL);
	for (unsigned i = 0; i < l->nallow; i++) {
		const struct lockdown_allow *a = &l->allow[i];
		struct allow_arg aa = { a, a->proto };

		if (a->proto == IPPROTO_ICMP && a->af == 6)
			aa.l4 = IPPROTO_ICMPV6;
		lb_rule(&lb, "input", r_allow, &aa);
		if (a->proto == IPPROTO_ICMP && a->af == 0) {
			aa.l4 = IPPROTO_ICMPV6;
			lb_rule(&lb, "input", r_allow, &aa);
		}
	}
	lb_rule(&lb, "forward", r_est, NULL);
	lb_rule(&lb, "output", r_oif_lo, NULL);
	lb_rule(&lb, "output", r_est, NULL);
	lb_rule(&lb, "output", r_nd, NULL);
	return lb_send(&lb, err, errlen);
}

int lockdown_remove(char *err, unsigned errlen)
{
	struct lbatch lb;
	int ret = lb_open(&lb);

	if (ret < 0) {
		snprintf(err, errlen, "out of memory");
		return ret;
	}
	return lb_send(&lb, err, errlen);
}
