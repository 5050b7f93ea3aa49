/* ir.c -- construction, lookup and destruction of the IR.
 *
 * Tables are kept in one canonical order (ipv4 filter, nat, mangle, raw,
 * then ipv6 the same) whatever order a script touched them in, so every
 * backend's output is deterministic.  Builtin chains are created with the
 * table, in hook order, with the nft type/priority iptables-nft uses.
 *
 * Chains are looked up by name once per parsed rule; a per-table hash keeps
 * that O(1) so a 100k-rule script with thousands of user chains stays
 * linear.  Rules are a doubly linked list with a tail pointer: append is
 * O(1); -I n / -D n walk only to n.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ir.h"
#include "util.h"

/* ---- chain index ---------------------------------------------------------- */

struct ir_chain_index {
	struct ir_chain **slot;		/* open addressing; NULL = empty */
	size_t cap, n;			/* cap is a power of two */
	size_t tombs;
};

/* A deleted chain leaves a tombstone so probe chains stay intact. */
static struct ir_chain tombstone;

static size_t name_hash(const char *s)
{
	size_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static void index_put(struct ir_chain_index *ix, struct ir_chain *c);

static void index_grow(struct ir_chain_index *ix)
{
	struct ir_chain **old = ix->slot;
	size_t oldcap = ix->cap;

	ix->cap = oldcap ? oldcap * 2 : 16;
	ix->slot = xzalloc(ix->cap * sizeof(*ix->slot));
	ix->n = 0;
	ix->tombs = 0;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i] && old[i] != &tombstone)
			index_put(ix, old[i]);
	free(old);
}

static void index_put(struct ir_chain_index *ix, struct ir_chain *c)
{
	if ((ix->n + ix->tombs + 1) * 2 > ix->cap)
		index_grow(ix);
	size_t i = name_hash(c->name) & (ix->cap - 1);

	while (ix->slot[i] && ix->slot[i] != &tombstone)
		i = (i + 1) & (ix->cap - 1);
	if (ix->slot[i] == &tombstone)
		ix->tombs--;
	ix->slot[i] = c;
	ix->n++;
}

static size_t index_lookup(const struct ir_chain_index *ix, const char *name, bool *found)
{
	size_t i = name_hash(name) & (ix->cap - 1);

	*found = false;
	while (ix->slot[i]) {
		if (ix->slot[i] != &tombstone && strcmp(ix->slot[i]->name, name) == 0) {
			*found = true;
			return i;
		}
		i = (i + 1) & (ix->cap - 1);
	}
	return i;
}

static void index_del(struct ir_chain_index *ix, const struct ir_chain *c)
{
	bool found;
	size_t i;

	if (!ix || !ix->cap)
		return;
	i = index_lookup(ix, c->name, &found);
	if (found && ix->slot[i] == c) {
		ix->slot[i] = &tombstone;
		ix->n--;
		ix->tombs++;
	}
}

/* ---- ruleset ------------------------------------------------------------- */

struct ir_ruleset *ir_ruleset_new(void)
{
	return xzalloc(sizeof(struct ir_ruleset));
}

static void addr_free_contents(struct ir_addr *a)
{
	free(a->ifname);
	free(a->var);
	a->ifname = NULL;
	a->var = NULL;
}

static void match_free(struct ir_match *m)
{
	switch (m->kind) {
	case IR_M_SADDR:
	case IR_M_DADDR:
		for (unsigned i = 0; i < m->u.addrs.n; i++)
			addr_free_contents(&m->u.addrs.v[i]);
		free(m->u.addrs.v);
		break;
	case IR_M_IIF:
	case IR_M_OIF:
		for (unsigned i = 0; i < m->u.ifaces.n; i++)
			free(m->u.ifaces.v[i]);
		free(m->u.ifaces.v);
		break;
	case IR_M_SPORT:
	case IR_M_DPORT:
	case IR_M_PORT:
	case IR_M_ICMP_TYPES:
	case IR_M_ICMP_CODES:
		free(m->u.ports.v);
		break;
	case IR_M_COMMENT:
	case IR_M_HELPER:
		free(m->u.str);
		break;
	case IR_M_SET:
		free(m->u.set.name);
		break;
	case IR_M_PROTO:
	case IR_M_TCPFLAGS:
	case IR_M_TCPOPTION:
	case IR_M_ICMP:
	case IR_M_ICMP_ANY:
	case IR_M_FRAG:
	case IR_M_CTSTATE:
	case IR_M_CTSTATUS:
	case IR_M_CTDIR:
	case IR_M_LIMIT:
	case IR_M_MAC:
	case IR_M_MARK:
	case IR_M_CONNMARK:
	case IR_M_TOS:
	case IR_M_DSCP:
	case IR_M_LENGTH:
	case IR_M_TTL:
	case IR_M_ADDRTYPE:
	case IR_M_OWNER:
	case IR_M_TCPMSS:
	case IR_M_PKTTYPE:
		break;
	}
	free(m);
}

static void stmt_free(struct ir_stmt *s)
{
	switch (s->kind) {
	case IR_S_LOG:
		free(s->u.log.prefix);
		break;
	case IR_S_NFLOG:
		free(s->u.nflog.prefix);
		break;
	case IR_S_CT_HELPER:
		free(s->u.str);
		break;
	case IR_S_DYNSET:
		free(s->u.dynset.map);
		break;
	case IR_S_MARK:
	case IR_S_CONNMARK:
	case IR_S_TOS:
	case IR_S_DSCP:
	case IR_S_TTL:
	case IR_S_TCPMSS:
	case IR_S_NOTRACK:
		break;
	}
	free(s);
}

bool ir_verdict_is_chain(enum ir_verdict_kind k)
{
	switch (k) {
	case IR_V_JUMP:
	case IR_V_GOTO:
		return true;
	case IR_V_NONE:
	case IR_V_ACCEPT:
	case IR_V_DROP:
	case IR_V_REJECT:
	case IR_V_RETURN:
	case IR_V_MASQUERADE:
	case IR_V_SNAT:
	case IR_V_DNAT:
	case IR_V_REDIRECT:
		return false;
	}
	return false;
}

static bool verdict_is_nat(enum ir_verdict_kind k)
{
	switch (k) {
	case IR_V_MASQUERADE:
	case IR_V_SNAT:
	case IR_V_DNAT:
	case IR_V_REDIRECT:
		return true;
	case IR_V_NONE:
	case IR_V_ACCEPT:
	case IR_V_DROP:
	case IR_V_REJECT:
	case IR_V_RETURN:
	case IR_V_JUMP:
	case IR_V_GOTO:
		return false;
	}
	return false;
}

/* The named-map part of a NAT verdict (ir_nat.addr_map). */
static void nat_map_free(struct ir_nat *n)
{
	free(n->addr_map);
	n->addr_map = NULL;
}

static void nat_map_copy(struct ir_nat *d, const struct ir_nat *s)
{
	d->addr_map = s->addr_map ? xstrdup(s->addr_map) : NULL;
}

static bool nat_map_equal(const struct ir_nat *a, const struct ir_nat *b)
{
	if (!a->addr_map || !b->addr_map)
		return a->addr_map == b->addr_map;
	return strcmp(a->addr_map, b->addr_map) == 0 && a->addr_map_key == b->addr_map_key;
}

struct ir_rule *ir_rule_new(const struct loc *loc)
{
	struct ir_rule *r = xzalloc(sizeof(*r));

	r->loc = loc ? *loc : loc_internal;
	r->verdict.kind = IR_V_NONE;
	r->verdict.loc = r->loc;
	r->counter = true;
	return r;
}

void ir_rule_free(struct ir_rule *r)
{
	if (!r)
		return;
	for (struct ir_match *m = r->matches, *n; m; m = n) {
		n = m->next;
		match_free(m);
	}
	for (struct ir_stmt *s = r->stmts, *n; s; s = n) {
		n = s->next;
		stmt_free(s);
	}
	if (ir_verdict_is_chain(r->verdict.kind))
		free(r->verdict.u.chain.name);
	else if (verdict_is_nat(r->verdict.kind)) {
		addr_free_contents(&r->verdict.u.nat.addr);
		for (unsigned i = 0; i < r->verdict.u.nat.nrr; i++)
			addr_free_contents(&r->verdict.u.nat.rr[i].addr);
		free(r->verdict.u.nat.rr);
		nat_map_free(&r->verdict.u.nat);
	}
	free(r);
}

static void addr_copy(struct ir_addr *dst, const struct ir_addr *src)
{
	*dst = *src;
	dst->ifname = src->ifname ? xstrdup(src->ifname) : NULL;
	dst->var = src->var ? xstrdup(src->var) : NULL;
}

static void *mem_dup(const void *p, size_t n)
{
	void *q;

	if (!p || !n)
		return NULL;
	q = xmalloc(n);
	memcpy(q, p, n);
	return q;
}

static struct ir_match *match_clone(const struct ir_match *m)
{
	struct ir_match *c = mem_dup(m, sizeof(*m));

	c->next = NULL;
	switch (m->kind) {
	case IR_M_SADDR:
	case IR_M_DADDR:
		c->u.addrs.v = xzalloc((m->u.addrs.n ? m->u.addrs.n : 1) * sizeof(*c->u.addrs.v));
		for (unsigned i = 0; i < m->u.addrs.n; i++)
			addr_copy(&c->u.addrs.v[i], &m->u.addrs.v[i]);
		break;
	case IR_M_IIF:
	case IR_M_OIF:
		c->u.ifaces.v = xzalloc((m->u.ifaces.n ? m->u.ifaces.n : 1) * sizeof(char *));
		for (unsigned i = 0; i < m->u.ifaces.n; i++)
			c->u.ifaces.v[i] = xstrdup(m->u.ifaces.v[i]);
		break;
	case IR_M_SPORT:
	case IR_M_DPORT:
	case IR_M_PORT:
	case IR_M_ICMP_TYPES:
	case IR_M_ICMP_CODES:
		c->u.ports.v = mem_dup(m->u.ports.v, m->u.ports.n * sizeof(*m->u.ports.v));
		break;
	case IR_M_COMMENT:
	case IR_M_HELPER:
		c->u.str = m->u.str ? xstrdup(m->u.str) : NULL;
		break;
	case IR_M_SET:
		c->u.set.name = m->u.set.name ? xstrdup(m->u.set.name) : NULL;
		break;
	case IR_M_PROTO: case IR_M_TCPFLAGS: case IR_M_TCPOPTION: case IR_M_ICMP:
	case IR_M_ICMP_ANY: case IR_M_FRAG: case IR_M_CTSTATE: case IR_M_CTSTATUS:
	case IR_M_CTDIR: case IR_M_LIMIT: case IR_M_MAC: case IR_M_MARK: case IR_M_CONNMARK:
	case IR_M_TOS: case IR_M_DSCP: case IR_M_LENGTH: case IR_M_TTL: case IR_M_ADDRTYPE:
	case IR_M_OWNER: case IR_M_TCPMSS: case IR_M_PKTTYPE:
		break;
	}
	return c;
}

static struct ir_stmt *stmt_clone(const struct ir_stmt *s)
{
	struct ir_stmt *c = mem_dup(s, sizeof(*s));

	c->next = NULL;
	switch (s->kind) {
	case IR_S_LOG:
		c->u.log.prefix = s->u.log.prefix ? xstrdup(s->u.log.prefix) : NULL;
		break;
	case IR_S_NFLOG:
		c->u.nflog.prefix = s->u.nflog.prefix ? xstrdup(s->u.nflog.prefix) : NULL;
		break;
	case IR_S_CT_HELPER:
		c->u.str = s->u.str ? xstrdup(s->u.str) : NULL;
		break;
	case IR_S_DYNSET:
		c->u.dynset.map = s->u.dynset.map ? xstrdup(s->u.dynset.map) : NULL;
		break;
	case IR_S_MARK: case IR_S_CONNMARK: case IR_S_TOS: case IR_S_DSCP:
	case IR_S_TTL: case IR_S_TCPMSS: case IR_S_NOTRACK:
		break;
	}
	return c;
}

struct ir_rule *ir_rule_clone(const struct ir_rule *r)
{
	struct ir_rule *c = xzalloc(sizeof(*c));
	struct ir_match **mp = &c->matches;
	struct ir_stmt **sp = &c->stmts;

	c->loc = r->loc;
	c->counter = r->counter;
	for (const struct ir_match *m = r->matches; m; m = m->next) {
		*mp = match_clone(m);
		mp = &(*mp)->next;
	}
	for (const struct ir_stmt *s = r->stmts; s; s = s->next) {
		*sp = stmt_clone(s);
		sp = &(*sp)->next;
	}
	c->verdict = r->verdict;
	if (ir_verdict_is_chain(r->verdict.kind)) {
		c->verdict.u.chain.name = xstrdup(r->verdict.u.chain.name);
		c->verdict.u.chain.target = NULL;
	} else if (verdict_is_nat(r->verdict.kind)) {
		addr_copy(&c->verdict.u.nat.addr, &r->verdict.u.nat.addr);
		if (r->verdict.u.nat.nrr) {
			c->verdict.u.nat.rr = xzalloc(r->verdict.u.nat.nrr * sizeof(struct ir_nat_target));
			for (unsigned i = 0; i < r->verdict.u.nat.nrr; i++) {
				c->verdict.u.nat.rr[i] = r->verdict.u.nat.rr[i];
				addr_copy(&c->verdict.u.nat.rr[i].addr, &r->verdict.u.nat.rr[i].addr);
			}
		}
		nat_map_copy(&c->verdict.u.nat, &r->verdict.u.nat);
	}
	return c;
}

struct ir_match *ir_match_new(struct ir_rule *r, enum ir_match_kind kind, const struct loc *loc)
{
	struct ir_match *m = xzalloc(sizeof(*m)), **pp = &r->matches;

	m->kind = kind;
	m->loc = loc ? *loc : loc_internal;
	while (*pp)
		pp = &(*pp)->next;
	*pp = m;
	return m;
}

void ir_match_remove(struct ir_rule *r, struct ir_match *m)
{
	struct ir_match **pp;

	for (pp = &r->matches; *pp; pp = &(*pp)->next) {
		if (*pp == m) {
			*pp = m->next;
			m->next = NULL;
			match_free(m);
			return;
		}
	}
}

struct ir_stmt *ir_stmt_new(struct ir_rule *r, enum ir_stmt_kind kind, const struct loc *loc)
{
	struct ir_stmt *s = xzalloc(sizeof(*s)), **pp = &r->stmts;

	s->kind = kind;
	s->loc = loc ? *loc : loc_internal;
	while (*pp)
		pp = &(*pp)->next;
	*pp = s;
	return s;
}

/* Keeps ir_chain.refs meaningful while parsing (so -X of a referenced chain
 * can be refused); ir_resolve recomputes it from scratch afterwards. */
static void rule_ref(struct ir_rule *r, int delta)
{
	struct ir_chain *t;

	if (!ir_verdict_is_chain(r->verdict.kind))
		return;
	t = r->verdict.u.chain.target;
	if (!t)
		return;
	if (delta < 0 && t->refs > 0)
		t->refs--;
	else if (delta > 0)
		t->refs++;
}

static void chain_free(struct ir_chain *c)
{
	for (struct ir_rule *r = c->rules, *n; r; r = n) {
		n = r->next;
		rule_ref(r, -1);
		ir_rule_free(r);
	}
	free(c->name);
	free(c);
}

static void table_free(struct ir_table *t)
{
	/* References between chains of a dying table do not matter. */
	for (struct ir_chain *c = t->chains, *n; c; c = n) {
		n = c->next;
		for (struct ir_rule *r = c->rules; r; r = r->next)
			if (ir_verdict_is_chain(r->verdict.kind))
				r->verdict.u.chain.target = NULL;
	}
	for (struct ir_chain *c = t->chains, *n; c; c = n) {
		n = c->next;
		chain_free(c);
	}
	if (t->index) {
		free(t->index->slot);
		free(t->index);
	}
	for (struct ir_map *m = t->maps, *n; m; m = n) {
		n = m->next;
		for (struct ir_map_elem *e = m->elems, *en; e; e = en) {
			en = e->next;
			addr_free_contents(&e->data);
			free(e);
		}
		free(m->name);
		free(m);
	}
	free(t->name);
	free(t);
}

static int ptr_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;

	return x < y ? -1 : x > y;
}

void ir_ruleset_free_rules(struct ir_ruleset *rs, unsigned every, void (*tick)(void))
{
	VEC(struct ir_rule *) all = { 0 };

	for (struct ir_table *t = rs ? rs->tables : NULL; t; t = t->next)
		for (struct ir_chain *c = t->chains; c; c = c->next) {
			for (struct ir_rule *r = c->rules; r; r = r->next) {
				/* the whole ruleset goes: no reference counts to keep */
				if (ir_verdict_is_chain(r->verdict.kind))
					r->verdict.u.chain.target = NULL;
				vec_push(&all, r);
			}
			c->rules = c->rules_tail = NULL;
			c->nrules = 0;
		}
	/* in address order: the rules of all chains were made as the script
	 * went, so its pages empty one after the other and can be given back
	 * while the rest is freed */
	if (all.n)	/* qsort(NULL, 0, ...) is undefined */
		qsort(all.v, all.n, sizeof(*all.v), ptr_cmp);
	for (size_t i = 0; i < all.n; i++) {
		ir_rule_free(all.v[i]);
		if (tick && every && (i + 1) % every == 0)
			tick();
	}
	vec_free(&all);
}

void ir_ruleset_free(struct ir_ruleset *rs)
{
	if (!rs)
		return;
	for (struct ir_table *t = rs->tables, *n; t; t = n) {
		n = t->next;
		table_free(t);
	}
	for (struct ir_helper *h = rs->helpers, *n; h; h = n) {
		n = h->next;
		free(h->name);
		free(h->ports);
		free(h);
	}
	for (struct ir_sysctl *s = rs->sysctls, *n; s; s = n) {
		n = s->next;
		free(s->key);
		free(s->value);
		free(s);
	}
	free(rs);
}

/* ---- tables ---------------------------------------------------------------- */

struct builtin_def {
	const char *name;
	enum ir_hook hook;
	enum ir_chain_type type;
	int priority;
};

struct table_def {
	const char *name;
	const struct builtin_def *chains;
	unsigned nchains;
};

static const struct builtin_def filter_chains[] = {
	{ "INPUT", IR_HOOK_INPUT, IR_CHAIN_FILTER, 0 },
	{ "FORWARD", IR_HOOK_FORWARD, IR_CHAIN_FILTER, 0 },
	{ "OUTPUT", IR_HOOK_OUTPUT, IR_CHAIN_FILTER, 0 },
};
static const struct builtin_def nat_chains[] = {
	{ "PREROUTING", IR_HOOK_PREROUTING, IR_CHAIN_NAT, -100 },
	{ "INPUT", IR_HOOK_INPUT, IR_CHAIN_NAT, 100 },
	{ "OUTPUT", IR_HOOK_OUTPUT, IR_CHAIN_NAT, -100 },
	{ "POSTROUTING", IR_HOOK_POSTROUTING, IR_CHAIN_NAT, 100 },
};
static const struct builtin_def mangle_chains[] = {
	{ "PREROUTING", IR_HOOK_PREROUTING, IR_CHAIN_FILTER, -150 },
	{ "INPUT", IR_HOOK_INPUT, IR_CHAIN_FILTER, -150 },
	{ "FORWARD", IR_HOOK_FORWARD, IR_CHAIN_FILTER, -150 },
	/* mangle OUTPUT reroutes when the mark/tos changed: type route */
	{ "OUTPUT", IR_HOOK_OUTPUT, IR_CHAIN_ROUTE, -150 },
	{ "POSTROUTING", IR_HOOK_POSTROUTING, IR_CHAIN_FILTER, -150 },
};
static const struct builtin_def raw_chains[] = {
	{ "PREROUTING", IR_HOOK_PREROUTING, IR_CHAIN_FILTER, -300 },
	{ "OUTPUT", IR_HOOK_OUTPUT, IR_CHAIN_FILTER, -300 },
};

/* Index = canonical order within a family. */
static const struct table_def table_defs[] = {
	{ "filter", filter_chains, ARRAY_SIZE(filter_chains) },
	{ "nat", nat_chains, ARRAY_SIZE(nat_chains) },
	{ "mangle", mangle_chains, ARRAY_SIZE(mangle_chains) },
	{ "raw", raw_chains, ARRAY_SIZE(raw_chains) },
};

static int table_def_index(const char *name)
{
	for (unsigned i = 0; i < ARRAY_SIZE(table_defs); i++)
		if (strcmp(table_defs[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Custom tables come after the iptables ones of their family, in creation
 * order (the insertion below keeps equal ranks in arrival order). */
static unsigned table_rank(const struct ir_table *t)
{
	int di = t->custom ? -1 : table_def_index(t->name);

	return (t->family == IR_FAM_IPV6 ? 100u : 0u) + (di < 0 ? 50u : (unsigned)di);
}

static void table_link(struct ir_ruleset *rs, struct ir_table *t)
{
	struct ir_table **pp = &rs->tables;

	while (*pp && table_rank(*pp) <= table_rank(t))
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
}

struct ir_table *ir_table_find(const struct ir_ruleset *rs, enum ir_family fam, const char *name)
{
	for (struct ir_table *t = rs->tables; t; t = t->next)
		if (t->family == fam && strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

static void chain_link(struct ir_table *t, struct ir_chain *c)
{
	c->table = t;
	if (t->chains_tail)
		t->chains_tail->next = c;
	else
		t->chains = c;
	t->chains_tail = c;
	if (!t->index)
		t->index = xzalloc(sizeof(*t->index));
	index_put(t->index, c);
}

struct ir_table *ir_table_get(struct ir_ruleset *rs, enum ir_family fam, const char *name)
{
	struct ir_table *t;
	int di;

	t = ir_table_find(rs, fam, name);
	if (t)
		return t;
	di = table_def_index(name);
	if (di < 0)
		return NULL;
	t = xzalloc(sizeof(*t));
	t->family = fam;
	t->name = xstrdup(name);
	for (unsigned i = 0; i < table_defs[di].nchains; i++) {
		const struct builtin_def *b = &table_defs[di].chains[i];
		struct ir_chain *c = xzalloc(sizeof(*c));

		c->name = xstrdup(b->name);
		c->loc = loc_internal;
		c->builtin = true;
		c->hook = b->hook;
		c->type = b->type;
		c->priority = b->priority;
		c->policy = IR_POLICY_ACCEPT;
		c->policy_loc = loc_internal;
		chain_link(t, c);
	}
	table_link(rs, t);
	return t;
}

struct ir_table *ir_table_get_custom(struct ir_ruleset *rs, enum ir_family fam, const char *name)
{
	struct ir_table *t = ir_table_find(rs, fam, name);

	if (t)
		return t->custom ? t : NULL;
	if (table_def_index(name) >= 0)
		return NULL;
	t = xzalloc(sizeof(*t));
	t->family = fam;
	t->name = xstrdup(name);
	t->custom = true;
	table_link(rs, t);
	return t;
}

/* ---- chains ---------------------------------------------------------------- */

struct ir_chain *ir_chain_find(const struct ir_table *t, const char *name)
{
	bool found;
	size_t i;

	if (!t->index || !t->index->cap)
		return NULL;
	i = index_lookup(t->index, name, &found);
	return found ? t->index->slot[i] : NULL;
}

struct ir_chain *ir_chain_new_user(struct ir_table *t, const char *name, const struct loc *loc)
{
	struct ir_chain *c = xzalloc(sizeof(*c));

	c->name = xstrdup(name);
	c->loc = loc ? *loc : loc_internal;
	c->builtin = false;
	c->hook = IR_HOOK_NONE;
	c->type = IR_CHAIN_FILTER;
	c->policy = IR_POLICY_ACCEPT;
	c->policy_loc = loc_internal;
	chain_link(t, c);
	return c;
}

struct ir_chain *ir_chain_new_base(struct ir_table *t, const char *name, enum ir_hook hook,
				   enum ir_chain_type type, int priority, enum ir_policy policy,
				   const struct loc *loc)
{
	struct ir_chain *c = ir_chain_new_user(t, name, loc);

	c->builtin = true;
	c->hook = hook;
	c->type = type;
	c->priority = priority;
	c->policy = policy;
	return c;
}

void ir_chain_delete(struct ir_chain *c)
{
	struct ir_table *t = c->table;
	struct ir_chain **pp = &t->chains, *prev = NULL;

	while (*pp && *pp != c) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (*pp)
		*pp = c->next;
	if (t->chains_tail == c)
		t->chains_tail = prev;
	index_del(t->index, c);
	chain_free(c);
}

void ir_chain_flush(struct ir_chain *c)
{
	for (struct ir_rule *r = c->rules, *n; r; r = n) {
		n = r->next;
		rule_ref(r, -1);
		ir_rule_free(r);
	}
	c->rules = c->rules_tail = NULL;
	c->nrules = 0;
}

struct ir_rule *ir_chain_nth(const struct ir_chain *c, unsigned pos)
{
	struct ir_rule *r;

	if (pos == 0 || pos > c->nrules)
		return NULL;
	if (pos == c->nrules)
		return c->rules_tail;
	for (r = c->rules; r && --pos; r = r->next)
		;
	return r;
}

void ir_chain_insert(struct ir_chain *c, struct ir_rule *r, unsigned pos)
{
	struct ir_rule *at = NULL;

	if (pos != 0 && pos <= c->nrules)
		at = ir_chain_nth(c, pos);
	if (!at) {		/* append */
		r->prev = c->rules_tail;
		r->next = NULL;
		if (c->rules_tail)
			c->rules_tail->next = r;
		else
			c->rules = r;
		c->rules_tail = r;
	} else {		/* before at */
		r->next = at;
		r->prev = at->prev;
		if (at->prev)
			at->prev->next = r;
		else
			c->rules = r;
		at->prev = r;
	}
	c->nrules++;
	rule_ref(r, +1);
}

void ir_rule_unlink(struct ir_chain *c, struct ir_rule *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		c->rules = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		c->rules_tail = r->prev;
	r->prev = r->next = NULL;
	c->nrules--;
	rule_ref(r, -1);
}

/* ---- comparison (iptables -D by spec) --------------------------------------- */

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool addr_equal(const struct ir_addr *a, const struct ir_addr *b)
{
	if (a->kind != b->kind || a->af != b->af)
		return false;
	switch (a->kind) {
	case IR_ADDR_PREFIX:
		return a->plen == b->plen && memcmp(a->lo, b->lo, 16) == 0;
	case IR_ADDR_RANGE:
		return memcmp(a->lo, b->lo, 16) == 0 && memcmp(a->hi, b->hi, 16) == 0;
	case IR_ADDR_IFADDR:
		return a->plen == b->plen && str_eq(a->ifname, b->ifname);
	}
	return false;
}

static bool match_equal(const struct ir_match *a, const struct ir_match *b)
{
	if (a->kind != b->kind || a->neg != b->neg || a->l4proto != b->l4proto)
		return false;
	switch (a->kind) {
	case IR_M_PROTO:
		return a->u.proto == b->u.proto;
	case IR_M_SADDR:
	case IR_M_DADDR:
		if (a->u.addrs.n != b->u.addrs.n)
			return false;
		for (unsigned i = 0; i < a->u.addrs.n; i++)
			if (!addr_equal(&a->u.addrs.v[i], &b->u.addrs.v[i]))
				return false;
		return true;
	case IR_M_IIF:
	case IR_M_OIF:
		if (a->u.ifaces.n != b->u.ifaces.n)
			return false;
		for (unsigned i = 0; i < a->u.ifaces.n; i++)
			if (!str_eq(a->u.ifaces.v[i], b->u.ifaces.v[i]))
				return false;
		return true;
	case IR_M_SPORT:
	case IR_M_DPORT:
	case IR_M_PORT:
	case IR_M_ICMP_TYPES:
	case IR_M_ICMP_CODES:
		return a->u.ports.n == b->u.ports.n &&
		       memcmp(a->u.ports.v, b->u.ports.v, a->u.ports.n * sizeof(*a->u.ports.v)) == 0;
	case IR_M_TCPFLAGS:
		return a->u.tcpflags.mask == b->u.tcpflags.mask && a->u.tcpflags.cmp == b->u.tcpflags.cmp;
	case IR_M_ICMP:
		return a->u.icmp.type == b->u.icmp.type && a->u.icmp.code == b->u.icmp.code;
	case IR_M_ICMP_ANY:
	case IR_M_FRAG:
		return true;
	case IR_M_CTSTATE:
	case IR_M_CTSTATUS:
		return a->u.bits == b->u.bits;
	case IR_M_TCPOPTION:
	case IR_M_CTDIR:
	case IR_M_DSCP:
	case IR_M_PKTTYPE:
		return a->u.num == b->u.num;
	case IR_M_SET:
		return str_eq(a->u.set.name, b->u.set.name) && a->u.set.key == b->u.set.key;
	case IR_M_LIMIT:
		return a->u.limit.rate == b->u.limit.rate && a->u.limit.unit == b->u.limit.unit &&
		       a->u.limit.burst == b->u.limit.burst;
	case IR_M_MAC:
		return memcmp(a->u.mac, b->u.mac, 6) == 0;
	case IR_M_MARK:
	case IR_M_CONNMARK:
	case IR_M_TOS:
		return a->u.markmask.value == b->u.markmask.value &&
		       a->u.markmask.mask == b->u.markmask.mask;
	case IR_M_LENGTH:
	case IR_M_TCPMSS:
		return a->u.range.lo == b->u.range.lo && a->u.range.hi == b->u.range.hi;
	case IR_M_TTL:
		return a->u.ttl.op == b->u.ttl.op && a->u.ttl.value == b->u.ttl.value;
	case IR_M_COMMENT:
	case IR_M_HELPER:
		return str_eq(a->u.str, b->u.str);
	case IR_M_ADDRTYPE:
		return a->u.addrtype.src == b->u.addrtype.src && a->u.addrtype.dst == b->u.addrtype.dst &&
		       a->u.addrtype.src_neg == b->u.addrtype.src_neg &&
		       a->u.addrtype.dst_neg == b->u.addrtype.dst_neg &&
		       a->u.addrtype.limit_in == b->u.addrtype.limit_in &&
		       a->u.addrtype.limit_out == b->u.addrtype.limit_out;
	case IR_M_OWNER:
		return a->u.owner.has_uid == b->u.owner.has_uid && a->u.owner.has_gid == b->u.owner.has_gid &&
		       a->u.owner.socket_exists == b->u.owner.socket_exists &&
		       a->u.owner.uid.lo == b->u.owner.uid.lo && a->u.owner.uid.hi == b->u.owner.uid.hi &&
		       a->u.owner.gid.lo == b->u.owner.gid.lo && a->u.owner.gid.hi == b->u.owner.gid.hi;
	}
	return false;
}

static bool stmt_equal(const struct ir_stmt *a, const struct ir_stmt *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case IR_S_LOG:
		return str_eq(a->u.log.prefix, b->u.log.prefix) && a->u.log.level == b->u.log.level &&
		       a->u.log.flags == b->u.log.flags;
	case IR_S_NFLOG:
		return a->u.nflog.group == b->u.nflog.group && str_eq(a->u.nflog.prefix, b->u.nflog.prefix) &&
		       a->u.nflog.snaplen == b->u.nflog.snaplen &&
		       a->u.nflog.threshold == b->u.nflog.threshold;
	case IR_S_MARK:
	case IR_S_CONNMARK:
	case IR_S_TOS:
		return a->u.setmark.op == b->u.setmark.op && a->u.setmark.value == b->u.setmark.value &&
		       a->u.setmark.mask == b->u.setmark.mask && a->u.setmark.nfmask == b->u.setmark.nfmask &&
		       a->u.setmark.ctmask == b->u.setmark.ctmask;
	case IR_S_DSCP:
	case IR_S_TCPMSS:
		return a->u.num == b->u.num;
	case IR_S_TTL:
		return a->u.ttl.op == b->u.ttl.op && a->u.ttl.value == b->u.ttl.value;
	case IR_S_NOTRACK:
		return true;
	case IR_S_CT_HELPER:
		return str_eq(a->u.str, b->u.str);
	case IR_S_DYNSET:
		return a->u.dynset.op == b->u.dynset.op && str_eq(a->u.dynset.map, b->u.dynset.map) &&
		       a->u.dynset.key == b->u.dynset.key && a->u.dynset.data == b->u.dynset.data &&
		       a->u.dynset.l4proto == b->u.dynset.l4proto;
	}
	return false;
}

static bool verdict_equal(const struct ir_verdict *a, const struct ir_verdict *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case IR_V_NONE:
	case IR_V_ACCEPT:
	case IR_V_DROP:
	case IR_V_RETURN:
		return true;
	case IR_V_REJECT:
		return a->u.reject == b->u.reject;
	case IR_V_JUMP:
	case IR_V_GOTO:
		return str_eq(a->u.chain.name, b->u.chain.name);
	case IR_V_MASQUERADE:
	case IR_V_SNAT:
	case IR_V_DNAT:
	case IR_V_REDIRECT:
		if (a->u.nat.has_addr != b->u.nat.has_addr || a->u.nat.has_port != b->u.nat.has_port ||
		    a->u.nat.flags != b->u.nat.flags)
			return false;
		if (a->u.nat.has_addr && !addr_equal(&a->u.nat.addr, &b->u.nat.addr))
			return false;
		if (a->u.nat.nrr != b->u.nat.nrr)
			return false;
		for (unsigned i = 0; i < a->u.nat.nrr; i++)
			if (a->u.nat.rr[i].port != b->u.nat.rr[i].port ||
			    a->u.nat.rr[i].weight != b->u.nat.rr[i].weight ||
			    !addr_equal(&a->u.nat.rr[i].addr, &b->u.nat.rr[i].addr))
				return false;
		if (!nat_map_equal(&a->u.nat, &b->u.nat))
			return false;
		return !a->u.nat.has_port || (a->u.nat.port_lo == b->u.nat.port_lo &&
					      a->u.nat.port_hi == b->u.nat.port_hi);
	}
	return false;
}

unsigned ir_nat_rr_period(const struct ir_nat *n)
{
	unsigned w = 0;

	for (unsigned i = 0; i < n->nrr; i++)
		w += n->rr[i].weight;
	return w;
}

const struct ir_nat_target *ir_nat_rr_slot(const struct ir_nat *n, unsigned k)
{
	for (unsigned i = 0; i < n->nrr; i++) {
		if (k < n->rr[i].weight)
			return &n->rr[i];
		k -= n->rr[i].weight;
	}
	return NULL;
}

bool ir_rule_equal(const struct ir_rule *a, const struct ir_rule *b)
{
	const struct ir_match *ma = a->matches, *mb = b->matches;
	const struct ir_stmt *sa = a->stmts, *sb = b->stmts;

	for (; ma && mb; ma = ma->next, mb = mb->next)
		if (!match_equal(ma, mb))
			return false;
	if (ma || mb)
		return false;
	for (; sa && sb; sa = sa->next, sb = sb->next)
		if (!stmt_equal(sa, sb))
			return false;
	if (sa || sb)
		return false;
	return verdict_equal(&a->verdict, &b->verdict);
}

/* ---- helpers and sysctls ------------------------------------------------------ */

void ir_add_helper(struct ir_ruleset *rs, struct ir_helper *h)
{
	h->next = NULL;
	if (rs->helpers_tail)
		rs->helpers_tail->next = h;
	else
		rs->helpers = h;
	rs->helpers_tail = h;
}

void ir_add_sysctl(struct ir_ruleset *rs, const char *key, const char *value, const struct loc *loc)
{
	struct ir_sysctl *s;

	/* A later write to the same key wins, as it would on the running system. */
	for (s = rs->sysctls; s; s = s->next) {
		if (strcmp(s->key, key) == 0) {
			free(s->value);
			s->value = xstrdup(value);
			s->loc = loc ? *loc : loc_internal;
			return;
		}
	}
	s = xzalloc(sizeof(*s));
	s->key = xstrdup(key);
	s->value = xstrdup(value);
	s->loc = loc ? *loc : loc_internal;
	if (rs->sysctls_tail)
		rs->sysctls_tail->next = s;
	else
		rs->sysctls = s;
	rs->sysctls_tail = s;
}

/* ---- names ---------------------------------------------------------------------- */

const char *ir_hook_name(enum ir_hook h)
{
	switch (h) {
	case IR_HOOK_NONE:
		return "none";
	case IR_HOOK_PREROUTING:
		return "prerouting";
	case IR_HOOK_INPUT:
		return "input";
	case IR_HOOK_FORWARD:
		return "forward";
	case IR_HOOK_OUTPUT:
		return "output";
	case IR_HOOK_POSTROUTING:
		return "postrouting";
	}
	return "?";
}

const char *ir_family_name(enum ir_family f)
{
	switch (f) {
	case IR_FAM_IPV4:
		return "ip";
	case IR_FAM_IPV6:
		return "ip6";
	}
	return "?";
}

void ir_chain_rename(struct ir_chain *c, const char *name)
{
	index_del(c->table->index, c);
	free(c->name);
	c->name = xstrdup(name);
	index_put(c->table->index, c);
}

/* ---- named maps ------------------------------------------------------------------- */

struct ir_map *ir_map_find(const struct ir_table *t, const char *name)
{
	for (struct ir_map *m = t->maps; m; m = m->next)
		if (strcmp(m->name, name) == 0)
			return m;
	return NULL;
}

struct ir_map *ir_map_new(struct ir_table *t, const char *name, enum ir_map_key key,
			  uint32_t timeout_ms, const struct loc *loc)
{
	struct ir_map *m;

	if (ir_map_find(t, name))
		return NULL;
	m = xzalloc(sizeof(*m));
	m->name = xstrdup(name);
	m->loc = loc ? *loc : loc_internal;
	m->key = key;
	m->data = IR_MAPDATA_SADDR;
	m->timeout_ms = timeout_ms;
	if (t->maps_tail)
		t->maps_tail->next = m;
	else
		t->maps = m;
	t->maps_tail = m;
	return m;
}

void ir_map_add_elem(struct ir_map *m, uint32_t key, const struct ir_addr *data)
{
	struct ir_map_elem *e = xzalloc(sizeof(*e)), **pp = &m->elems;

	e->key = key;
	addr_copy(&e->data, data);
	while (*pp)
		pp = &(*pp)->next;
	*pp = e;
}

uint32_t ir_map_key_value(enum ir_map_key k, enum ir_family fam)
{
	switch (k) {
	case IR_MAPKEY_L3PROTO:
		return fam == IR_FAM_IPV6 ? 10 : 2;	/* NFPROTO_IPV6 / NFPROTO_IPV4 */
	case IR_MAPKEY_FLOW:
		break;	/* no single value */
	}
	return 0;
}
