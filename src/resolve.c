/* resolve.c -- the pass between the dialect parsers and the backends.
 *
 * 1. Jumps: every -j/-g to a user chain gets its ir_chain pointer, and every
 *    chain its reference count, recomputed from scratch so the result does
 *    not depend on what a parser kept up to date.
 * 2. Loops: the kernel refuses a ruleset whose jumps form a cycle (ELOOP at
 *    load time); masqc says so at the jump that closes the cycle.
 * 3. Interface addresses: `EXTIP=$(ifconfig eth0 | awk ...)` has no value at
 *    compile time.  The one place it has an exact run-time equivalent is
 *    `-o eth0 -j SNAT --to-source <address of eth0>`, which is what
 *    MASQUERADE does (and MASQUERADE follows address changes too).  Anywhere
 *    else the rule would depend on a value masqc cannot know: an error that
 *    says which -D would give it.
 */
#include <stdlib.h>
#include <string.h>
#include "parser/dialect.h"
#include "util.h"

static int resolve_jumps(struct ir_table *t, struct diag_queue *dq)
{
	int ret = 0;

	for (struct ir_chain *c = t->chains; c; c = c->next)
		c->refs = 0;
	for (struct ir_chain *c = t->chains; c; c = c->next) {
		for (struct ir_rule *r = c->rules; r; r = r->next) {
			struct ir_chain *to;

			if (!ir_verdict_is_chain(r->verdict.kind))
				continue;
			to = ir_chain_find(t, r->verdict.u.chain.name);
			r->verdict.u.chain.target = to;
			if (to && !to->builtin) {
				to->refs++;
				continue;
			}
			{
				VEC(const char *) names = { 0 };
				const char *sug;
				char *hint = NULL;

				for (struct ir_chain *x = t->chains; x; x = x->next)
					if (!x->builtin)
						vec_push(&names, x->name);
				sug = suggest(r->verdict.u.chain.name, names.v, names.n);
				if (sug)
					hint = xasprintf("did you mean '%s'?", sug);
				diag_add(dq, DIAG_ERROR, &r->verdict.loc, hint, to ? "cannot jump to the builtin "
					 "chain %s" : "no chain '%s' in table %s", r->verdict.u.chain.name, t->name);
				free(hint);
				vec_free(&names);
				r->verdict.u.chain.target = NULL;
				ret = -1;
			}
		}
	}
	return ret;
}

/* Depth-first search; state 1 = on the current path, 2 = done.  Chains
 * are numbered through a pointer-sorted table so thousands of user chains
 * stay O(n log n). */
struct chain_slot {
	const struct ir_chain *c;
	size_t idx;
};

struct loop_ctx {
	struct diag_queue *dq;
	struct ir_chain **chains;
	struct chain_slot *sorted;
	unsigned char *state;
	size_t n;
	int ret;
};

static int slot_cmp(const void *a, const void *b)
{
	const struct chain_slot *x = a, *y = b;

	return x->c < y->c ? -1 : x->c > y->c;
}

static size_t chain_index(const struct loop_ctx *lc, const struct ir_chain *c)
{
	struct chain_slot key = { c, 0 };
	const struct chain_slot *hit = bsearch(&key, lc->sorted, lc->n, sizeof(key), slot_cmp);

	return hit ? hit->idx : 0;
}

static void loop_visit(struct loop_ctx *lc, size_t i)
{
	lc->state[i] = 1;
	for (struct ir_rule *r = lc->chains[i]->rules; r; r = r->next) {
		struct ir_chain *to;
		size_t j;

		if (!ir_verdict_is_chain(r->verdict.kind) || !(to = r->verdict.u.chain.target))
			continue;
		j = chain_index(lc, to);
		if (lc->state[j] == 1) {
			diag_add(lc->dq, DIAG_ERROR, &r->verdict.loc, NULL,
				 "jump loop: %s jumps to %s, which leads back to %s (the kernel refuses loops)",
				 lc->chains[i]->name, to->name, lc->chains[i]->name);
			lc->ret = -1;
		} else if (lc->state[j] == 0) {
			loop_visit(lc, j);
		}
	}
	lc->state[i] = 2;
}

static int check_loops(struct ir_table *t, struct diag_queue *dq)
{
	struct loop_ctx lc = { .dq = dq };
	size_t cap = 0;

	for (struct ir_chain *c = t->chains; c; c = c->next)
		cap++;
	if (!cap)
		return 0;
	lc.chains = xmalloc(cap * sizeof(*lc.chains));
	lc.sorted = xmalloc(cap * sizeof(*lc.sorted));
	lc.state = xzalloc(cap);
	for (struct ir_chain *c = t->chains; c; c = c->next) {
		lc.sorted[lc.n] = (struct chain_slot){ c, lc.n };
		lc.chains[lc.n++] = c;
	}
	qsort(lc.sorted, lc.n, sizeof(*lc.sorted), slot_cmp);
	for (size_t i = 0; i < lc.n; i++)
		if (!lc.state[i])
			loop_visit(&lc, i);
	free(lc.chains);
	free(lc.sorted);
	free(lc.state);
	return lc.ret;
}

static const char *rule_oif(const struct ir_rule *r)
{
	for (const struct ir_match *m = r->matches; m; m = m->next)
		if (m->kind == IR_M_OIF && !m->neg && m->u.ifaces.n == 1)
			return m->u.ifaces.v[0];
	return NULL;
}

static int ifaddr_error(struct diag_queue *dq, const struct ir_addr *a, const char *where)
{
	char *hint = a->var ? xasprintf("give -D %s=ADDRESS (the address %s has when the "
					"firewall is loaded)", a->var, a->ifname ? a->ifname : "the interface")
			    : xasprintf("give -D VAR=ADDRESS for the variable holding the address of %s",
					a->ifname ? a->ifname : "the interface");

	diag_add(dq, DIAG_ERROR, &a->loc, hint, "the address of interface %s is only known when the "
		 "script runs; masqc cannot put it %s", a->ifname ? a->ifname : "?", where);
	free(hint);
	return -1;
}

static int resolve_ifaddr(struct ir_rule *r, struct diag_queue *dq)
{
	int ret = 0;

	for (struct ir_match *m = r->matches; m; m = m->next) {
		if (m->kind != IR_M_SADDR && m->kind != IR_M_DADDR)
			continue;
		for (unsigned i = 0; i < m->u.addrs.n; i++)
			if (m->u.addrs.v[i].kind == IR_ADDR_IFADDR)
				ret |= ifaddr_error(dq, &m->u.addrs.v[i], "in a match");
	}
	switch (r->verdict.kind) {
	case IR_V_SNAT: {
		struct ir_nat *nat = &r->verdict.u.nat;
		const char *oif = rule_oif(r);

		if (!nat->has_addr || nat->addr.kind != IR_ADDR_IFADDR)
			break;
		if (!oif || !nat->addr.ifname || strcmp(oif, nat->addr.ifname) != 0 ||
		    (nat->flags & IR_NAT_PERSISTENT)) {
			ret |= ifaddr_error(dq, &nat->addr, oif ? "in SNAT for a different -o interface" :
					    "in SNAT without -o of that interface");
			break;
		}
		diag_note(dq, &r->verdict.loc, "SNAT to the address of %s on packets leaving %s is "
			  "MASQUERADE (which also follows address changes)", oif, oif);
		free(nat->addr.ifname);
		free(nat->addr.var);
		memset(&nat->addr, 0, sizeof(nat->addr));
		nat->has_addr = false;
		r->verdict.kind = IR_V_MASQUERADE;
		break;
	}
	case IR_V_DNAT:
		if (r->verdict.u.nat.has_addr && r->verdict.u.nat.addr.kind == IR_ADDR_IFADDR)
			ret |= ifaddr_error(dq, &r->verdict.u.nat.addr, "in DNAT");
		break;
	case IR_V_NONE:
	case IR_V_ACCEPT:
	case IR_V_DROP:
	case IR_V_REJECT:
	case IR_V_RETURN:
	case IR_V_JUMP:
	case IR_V_GOTO:
	case IR_V_MASQUERADE:
	case IR_V_REDIRECT:
		break;
	}
	return ret;
}

int ir_resolve(struct ir_ruleset *rs, struct diag_queue *dq)
{
	int ret = 0;

	for (struct ir_table *t = rs->tables; t; t = t->next) {
		ret |= resolve_jumps(t, dq);
		ret |= check_loops(t, dq);
		for (struct ir_chain *c = t->chains; c; c = c->next)
			for (struct ir_rule *r = c->rules; r; r = r->next)
				ret |= resolve_ifaddr(r, dq);
	}
	return ret ? -1 : 0;
}
