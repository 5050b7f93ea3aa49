/* legacy.c -- the 2.0/2.2 firewall model and its faithful lowering.
 *
 * Two halves:
 *
 * 1. The model (lg_apply, lg_apply_forward): the chains of the old kernel
 *    -- input, forward, output, the two ipfwadm accounting lists, ipchains
 *    user chains -- and the ipmasqadm/ipportfw/ipautofw lists, edited
 *    command by command exactly as the tools did (-A -I -D -R -F -N -X -P;
 *    errors where the kernel refused: -D of a rule that is not there, -X of
 *    a chain still jumped to, a jump to a chain that does not exist).
 *
 * 2. The lowering (lg_lower): the final model becomes IR chains in the
 *    custom table "legacy" (nft chains legacy_*), following
 *    ../shared/docs/legacy-semantics.md section 2.  The short of it, with
 *    the reasons in docs/legacy.md:
 *
 *      legacy_acct_in   filter prerouting  -160   ipfwadm -A in: counters only
 *      legacy_input     filter prerouting  -150   sees every incoming packet
 *                                                 before de-masquerading (-100)
 *      legacy_nat_pre   nat    prerouting  dstnat REDIRECT, portfw, mfw, autofw
 *      legacy_forward   filter forward     0      skips what 2.x never showed
 *                                                 the forward chain, then rules
 *      legacy_autofw    filter forward     10     autofw control ports record
 *                                                 the inside host (maps)
 *      legacy_nat_post  nat    postrouting srcnat MASQ
 *      legacy_output    filter postrouting srcnat+10  sees masqueraded sources
 *      legacy_acct_out  filter postrouting srcnat+20  ipfwadm -A out
 *
 *    masqc's own state lives in the conntrack mark, which no legacy
 *    construct can read or write (ipchains -m sets the packet fwmark), so
 *    it can never collide with a script's marks and never changes what
 *    policy routing or tc see:
 *      0x80000000  this connection was masqueraded (a forward MASQ verdict)
 *      0x40000000  this connection was created by a port forward
 *                  (portfw/mfw/autofw)
 *      0x3fff0000  id of the REDIRECT rule the first packet matched
 *
 *    A user chain is written once per calling context (input, forward,
 *    output) when what it does depends on the context -- -i is the incoming
 *    interface from input and the outgoing one from forward/output, REJECT
 *    sends a different ICMP type, MASQ and REDIRECT only act in one
 *    builtin -- and once, under its own name, when every context gives the
 *    same rules.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "legacy.h"
#include "parser/dialect.h"
#include "util.h"

#define LG_CT_MASQ	0x80000000u
#define LG_CT_FWD	0x40000000u
#define LG_CT_REDIR	0x3fff0000u
#define LG_REDIR_SHIFT	16
#define LG_REDIR_MAX	(LG_CT_REDIR >> LG_REDIR_SHIFT)

#define LG_TABLE	"legacy"

enum { P_ICMP = 1, P_TCP = 6, P_UDP = 17 };

struct lg_chain {
	char *name;			/* ipchains name; accounting: acct_in / acct_out */
	enum lg_chain_kind kind;
	struct loc loc;
	struct lg_rule *rules, *tail;
	unsigned nrules;
	enum lg_target policy;		/* builtins */
	struct loc policy_loc;
	bool policy_set;
	unsigned refs;			/* jumps to it */
	struct lg_chain *next;
	/* lowering scratch */
	unsigned ctx_mask;		/* contexts that reach it (1 << enum lctx) */
	int mark;			/* DFS state */
	bool unreached;			/* no builtin leads to it */
	char *irname[3];		/* IR chain per context */
};

typedef VEC(struct lg_chain *) chain_vec;

struct lg_bind {
	char *addr;
	char *ifname;
};

struct lg_state {
	struct lg_chain *chains, *chains_tail;	/* the five builtins first */
	struct lg_forward *fws, *fws_tail;
	bool seen[2];				/* LG_IPFWADM, LG_IPCHAINS */
	struct loc seen_loc[2];
	bool has_timeouts;
	uint32_t timeouts[3];
	struct loc timeouts_loc;
	VEC(struct lg_bind) binds;
	bool noted_zero, noted_list;
	bool any;
};

/* ---- small helpers ---------------------------------------------------------- */

static const char *const builtin_names[] = {
	[LG_CH_INPUT] = "input", [LG_CH_FORWARD] = "forward", [LG_CH_OUTPUT] = "output",
	[LG_CH_ACCT_IN] = "acct_in", [LG_CH_ACCT_OUT] = "acct_out",
};

static const char *target_name(enum lg_target t)
{
	switch (t) {
	case LG_T_NONE: return "(none)";
	case LG_T_ACCEPT: return "ACCEPT";
	case LG_T_DENY: return "DENY";
	case LG_T_REJECT: return "REJECT";
	case LG_T_MASQ: return "MASQ";
	case LG_T_REDIRECT: return "REDIRECT";
	case LG_T_RETURN: return "RETURN";
	case LG_T_JUMP: return "jump";
	}
	return "?";
}

static const char *tool_name(enum lg_tool t)
{
	return t == LG_IPFWADM ? "ipfwadm" : "ipchains";
}

static void addr_copy(struct ir_addr *d, const struct ir_addr *s)
{
	*d = *s;
	d->ifname = s->ifname ? xstrdup(s->ifname) : NULL;
	d->var = s->var ? xstrdup(s->var) : NULL;
}

static void addr_clear(struct ir_addr *a)
{
	free(a->ifname);
	free(a->var);
	a->ifname = a->var = NULL;
}

static void ports_copy(struct lg_ports *d, const struct lg_ports *s)
{
	*d = *s;
	d->v = NULL;
	if (s->n) {
		d->v = xmalloc(s->n * sizeof(*d->v));
		memcpy(d->v, s->v, s->n * sizeof(*d->v));
	}
}

/* ---- state ------------------------------------------------------------------- */

static struct lg_chain *chain_add(struct lg_state *st, const char *name, enum lg_chain_kind kind,
				  const struct loc *loc)
{
	struct lg_chain *c = xzalloc(sizeof(*c));

	c->name = xstrdup(name);
	c->kind = kind;
	c->loc = loc ? *loc : loc_internal;
	c->policy = LG_T_ACCEPT;
	c->policy_loc = loc_internal;
	if (st->chains_tail)
		st->chains_tail->next = c;
	else
		st->chains = c;
	st->chains_tail = c;
	return c;
}

struct lg_state *lg_state_get(struct parse_ctx *pc)
{
	struct lg_state *st = pc->legacy;

	if (st)
		return st;
	st = xzalloc(sizeof(*st));
	for (int k = LG_CH_INPUT; k <= LG_CH_ACCT_OUT; k++)
		chain_add(st, builtin_names[k], (enum lg_chain_kind)k, NULL);
	pc->legacy = st;
	return st;
}

void lg_rule_free(struct lg_rule *r)
{
	if (!r)
		return;
	addr_clear(&r->src);
	addr_clear(&r->dst);
	free(r->sport.v);
	free(r->dport.v);
	free(r->iface);
	free(r->jump);
	free(r);
}

void lg_cmd_free(struct lg_cmd *c)
{
	if (!c)
		return;
	lg_rule_free(c->rule);
	free(c->chain);
	free(c);
}

static void fw_free(struct lg_forward *f)
{
	addr_clear(&f->laddr);
	addr_clear(&f->raddr);
	free(f);
}

static void chain_free_rules(struct lg_chain *c)
{
	for (struct lg_rule *r = c->rules, *n; r; r = n) {
		n = r->next;
		lg_rule_free(r);
	}
	c->rules = c->tail = NULL;
	c->nrules = 0;
}

void lg_state_free(struct lg_state *st)
{
	if (!st)
		return;
	for (struct lg_chain *c = st->chains, *n; c; c = n) {
		n = c->next;
		chain_free_rules(c);
		for (int i = 0; i < 3; i++)
			free(c->irname[i]);
		free(c->name);
		free(c);
	}
	for (struct lg_forward *f = st->fws, *n; f; f = n) {
		n = f->next;
		fw_free(f);
	}
	for (size_t i = 0; i < st->binds.n; i++) {
		free(st->binds.v[i].addr);
		free(st->binds.v[i].ifname);
	}
	vec_free(&st->binds);
	free(st);
}

void lg_define(struct parse_ctx *pc, const char *nv)
{
	static const char pfx[] = "MASQC_VIA_";
	const char *eq = strchr(nv, '=');
	struct lg_state *st;
	struct lg_bind b;
	char *addr;

	if (!eq || strncmp(nv, pfx, sizeof(pfx) - 1) != 0)
		return;
	addr = xstrndup(nv + sizeof(pfx) - 1, (size_t)(eq - nv) - (sizeof(pfx) - 1));
	for (char *p = addr; *p; p++)
		if (*p == '_')
			*p = '.';
	st = lg_state_get(pc);
	b.addr = addr;
	b.ifname = xstrdup(eq + 1);
	/* -D wins over bindings the script made: first in the list */
	vec_push(&st->binds, b);
	memmove(&st->binds.v[1], &st->binds.v[0], (st->binds.n - 1) * sizeof(b));
	st->binds.v[0] = b;
}

void lg_bind_via(struct parse_ctx *pc, const char *addr, const char *ifname)
{
	struct lg_state *st = lg_state_get(pc);
	struct lg_bind b = { xstrdup(addr), xstrdup(ifname) };

	vec_push(&st->binds, b);	/* after any -D binding (lg_define) */
}

/* ---- rule comparison (-D by spec) ----------------------------------------------- */

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool addr_eq(const struct ir_addr *a, const struct ir_addr *b)
{
	if (a->kind != b->kind || a->plen != b->plen)
		return false;
	if (a->kind == IR_ADDR_IFADDR)
		return str_eq(a->ifname, b->ifname);
	return memcmp(a->lo, b->lo, 16) == 0 &&
	       (a->kind != IR_ADDR_RANGE || memcmp(a->hi, b->hi, 16) == 0);
}

static bool ports_eq(const struct lg_ports *a, const struct lg_ports *b)
{
	return a->n == b->n && a->neg == b->neg &&
	       (a->n == 0 || memcmp(a->v, b->v, a->n * sizeof(*a->v)) == 0);
}

static bool rule_eq(const struct lg_rule *a, const struct lg_rule *b)
{
	return a->proto == b->proto && a->proto_neg == b->proto_neg &&
	       addr_eq(&a->src, &b->src) && addr_eq(&a->dst, &b->dst) &&
	       a->src_neg == b->src_neg && a->dst_neg == b->dst_neg &&
	       ports_eq(&a->sport, &b->sport) && ports_eq(&a->dport, &b->dport) &&
	       str_eq(a->iface, b->iface) && a->iface_neg == b->iface_neg &&
	       a->iface_by_addr == b->iface_by_addr && a->frag == b->frag &&
	       a->syn == b->syn && a->ack == b->ack && a->bidir == b->bidir &&
	       a->log == b->log && a->has_tos == b->has_tos &&
	       (!a->has_tos || (a->tos_and == b->tos_and && a->tos_xor == b->tos_xor)) &&
	       a->has_mark == b->has_mark &&
	       (!a->has_mark || (a->mark_relative == b->mark_relative && a->mark == b->mark)) &&
	       a->has_netlink == b->has_netlink &&
	       (!a->has_netlink || a->netlink_size == b->netlink_size) &&
	       a->target == b->target && str_eq(a->jump, b->jump) &&
	       a->redirect_port == b->redirect_port;
}

/* ipchains -b: the second rule has source and destination swapped, and
 * the ports too unless the protocol is ICMP (where they are type/code). */
static struct lg_rule *rule_swapped(const struct lg_rule *r)
{
	struct lg_rule *s = xmalloc(sizeof(*s));

	*s = *r;
	s->next = NULL;
	addr_copy(&s->src, &r->dst);
	addr_copy(&s->dst, &r->src);
	s->src_neg = r->dst_neg;
	s->dst_neg = r->src_neg;
	if (r->proto == P_ICMP) {
		ports_copy(&s->sport, &r->sport);
		ports_copy(&s->dport, &r->dport);
	} else {
		ports_copy(&s->sport, &r->dport);
		ports_copy(&s->dport, &r->sport);
	}
	s->iface = r->iface ? xstrdup(r->iface) : NULL;
	s->jump = r->jump ? xstrdup(r->jump) : NULL;
	s->bidir = false;
	return s;
}

/* ---- chain list editing ------------------------------------------------------------ */

static struct lg_chain *chain_by_kind(struct lg_state *st, enum lg_chain_kind k)
{
	for (struct lg_chain *c = st->chains; c; c = c->next)
		if (c->kind == k)
			return c;
	return NULL;
}

static struct lg_chain *chain_by_name(struct lg_state *st, const char *name)
{
	for (struct lg_chain *c = st->chains; c; c = c->next)
		if (c->kind != LG_CH_ACCT_IN && c->kind != LG_CH_ACCT_OUT && !strcmp(c->name, name))
			return c;
	return NULL;
}

static int no_such_chain(struct parse_ctx *pc, struct lg_state *st, const char *name,
			 const struct loc *loc)
{
	VEC(const char *) names = { 0 };
	const char *sug;
	char *hint = NULL;

	for (struct lg_chain *c = st->chains; c; c = c->next)
		if (c->kind != LG_CH_ACCT_IN && c->kind != LG_CH_ACCT_OUT)
			vec_push(&names, c->name);
	sug = suggest(name, names.v, names.n);
	if (sug)
		hint = xasprintf("did you mean '%s'?", sug);
	diag_add(pc->dq, DIAG_ERROR, loc, hint, "no chain '%s' (create it with -N first; "
		 "ipchains refused this too)", name);
	free(hint);
	vec_free(&names);
	return -1;
}

static void rule_ref(struct lg_state *st, const struct lg_rule *r, int delta)
{
	struct lg_chain *t;

	if (r->target != LG_T_JUMP || !r->jump || !(t = chain_by_name(st, r->jump)))
		return;
	if (delta < 0 && t->refs)
		t->refs--;
	else if (delta > 0)
		t->refs++;
}

/* pos 1-based; 0 or nrules+1 = append */
static void chain_insert(struct lg_state *st, struct lg_chain *c, struct lg_rule *r, unsigned pos)
{
	r->next = NULL;
	if (pos == 0 || pos > c->nrules) {
		if (c->tail)
			c->tail->next = r;
		else
			c->rules = r;
		c->tail = r;
	} else if (pos == 1) {
		r->next = c->rules;
		c->rules = r;
	} else {
		struct lg_rule *p = c->rules;

		for (unsigned i = 2; i < pos; i++)
			p = p->next;
		r->next = p->next;
		p->next = r;
	}
	c->nrules++;
	rule_ref(st, r, +1);
}

/* Unlinks the pos-th rule (1-based) and returns it. */
static struct lg_rule *chain_take(struct lg_state *st, struct lg_chain *c, unsigned pos)
{
	struct lg_rule **pp = &c->rules, *prev = NULL, *r;

	for (unsigned i = 1; i < pos; i++) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	r = *pp;
	*pp = r->next;
	if (c->tail == r)
		c->tail = prev;
	r->next = NULL;
	c->nrules--;
	rule_ref(st, r, -1);
	return r;
}

static unsigned chain_find_rule(const struct lg_chain *c, const struct lg_rule *r)
{
	unsigned i = 1;

	for (const struct lg_rule *x = c->rules; x; x = x->next, i++)
		if (rule_eq(x, r))
			return i;
	return 0;
}

static void chain_flush(struct lg_state *st, struct lg_chain *c)
{
	for (struct lg_rule *r = c->rules; r; r = r->next)
		rule_ref(st, r, -1);
	chain_free_rules(c);
}

static void chain_unlink(struct lg_state *st, struct lg_chain *c)
{
	struct lg_chain **pp = &st->chains, *prev = NULL;

	while (*pp != c) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	*pp = c->next;
	if (st->chains_tail == c)
		st->chains_tail = prev;
	chain_free_rules(c);
	free(c->name);
	free(c);
}

/* ---- lg_apply ------------------------------------------------------------------------ */

/* A rule as the chain it is added to allows it (checks the kernel made at
 * insert time). */
static int rule_check(struct parse_ctx *pc, struct lg_state *st, const struct lg_chain *c,
		      const struct lg_rule *r)
{
	if (r->target == LG_T_JUMP) {
		struct lg_chain *t;

		if (!r->jump)
			return diag_error(pc->dq, &r->target_loc, "internal error: jump without a chain");
		t = chain_by_name(st, r->jump);
		if (!t)
			return no_such_chain(pc, st, r->jump, &r->target_loc);
		if (t->kind != LG_CH_USER)
			return diag_error(pc->dq, &r->target_loc, "cannot jump to the builtin "
					  "chain %s (ipchains jumps only to user chains)", r->jump);
	}
	if ((c->kind == LG_CH_ACCT_IN || c->kind == LG_CH_ACCT_OUT) && r->target != LG_T_NONE)
		return diag_error(pc->dq, &r->target_loc, "accounting rules count only; "
				  "they have no %s", target_name(r->target));
	return 0;
}

static int apply_rule_op(struct parse_ctx *pc, struct lg_state *st, struct lg_chain *c,
			 struct lg_cmd *cmd)
{
	struct lg_rule *r = cmd->rule, *sw = NULL;
	bool two = r->bidir && r->tool == LG_IPCHAINS;
	unsigned pos;

	cmd->rule = NULL;
	if (cmd->op != LG_OP_DELETE && rule_check(pc, st, c, r) < 0) {
		lg_rule_free(r);
		return -1;
	}
	if (two) {
		r->bidir = false;
		sw = rule_swapped(r);
	}
	switch (cmd->op) {
	case LG_OP_APPEND:
		chain_insert(st, c, r, 0);
		if (sw)
			chain_insert(st, c, sw, 0);
		return 0;
	case LG_OP_INSERT:
		pos = cmd->num ? cmd->num : 1;
		if (pos > c->nrules + 1) {
			diag_error(pc->dq, &cmd->loc, "cannot insert at position %u: chain %s has "
				   "%u rule%s", pos, c->name, c->nrules, c->nrules == 1 ? "" : "s");
			lg_rule_free(r);
			lg_rule_free(sw);
			return -1;
		}
		/* -I n -b inserts both at n: the swapped rule ends up first */
		chain_insert(st, c, r, pos);
		if (sw)
			chain_insert(st, c, sw, pos);
		return 0;
	case LG_OP_DELETE: {
		int ret = 0;

		for (struct lg_rule *x = r; x; x = x == r ? sw : NULL) {
			pos = chain_find_rule(c, x);
			if (!pos) {
				ret = diag_error(pc->dq, &cmd->loc, "no such rule in chain %s to "
						 "delete (%s refused this: it compares every option)",
						 c->name, tool_name(r->tool));
				continue;
			}
			lg_rule_free(chain_take(st, c, pos));
		}
		lg_rule_free(r);
		lg_rule_free(sw);
		return ret;
	}
	case LG_OP_REPLACE:
		if (sw) {
			diag_error(pc->dq, &cmd->loc, "-R cannot be combined with -b (two rules "
				   "would replace one)");
			lg_rule_free(r);
			lg_rule_free(sw);
			return -1;
		}
		if (cmd->num == 0 || cmd->num > c->nrules) {
			diag_error(pc->dq, &cmd->loc, "no rule %u in chain %s (it has %u)",
				   cmd->num, c->name, c->nrules);
			lg_rule_free(r);
			return -1;
		}
		lg_rule_free(chain_take(st, c, cmd->num));
		chain_insert(st, c, r, cmd->num);
		return 0;
	case LG_OP_DELETE_NUM: case LG_OP_FLUSH: case LG_OP_ZERO: case LG_OP_NEW_CHAIN:
	case LG_OP_DELETE_CHAIN: case LG_OP_POLICY: case LG_OP_LIST: case LG_OP_MASQ_TIMEOUTS:
	case LG_OP_MASQ_LIST:
		break;
	}
	lg_rule_free(r);
	lg_rule_free(sw);
	return diag_error(pc->dq, &cmd->loc, "internal error: not a rule operation");
}

static int delete_chain(struct parse_ctx *pc, struct lg_state *st, struct lg_chain *c,
			const struct loc *loc)
{
	if (c->kind != LG_CH_USER)
		return diag_error(pc->dq, loc, "cannot delete the builtin chain %s", c->name);
	if (c->refs)
		return diag_error(pc->dq, loc, "cannot delete chain %s: %u rule%s still jump%s "
				  "to it (ipchains refused this too; flush those chains first)",
				  c->name, c->refs, c->refs == 1 ? "" : "s", c->refs == 1 ? "s" : "");
	if (c->nrules)
		return diag_error(pc->dq, loc, "cannot delete chain %s: it still has %u "
				  "rule%s (flush it with -F first)", c->name, c->nrules,
				  c->nrules == 1 ? "" : "s");
	chain_unlink(st, c);
	return 0;
}

static int set_policy(struct parse_ctx *pc, struct lg_chain *c, struct lg_cmd *cmd)
{
	switch (c->kind) {
	case LG_CH_INPUT: case LG_CH_FORWARD: case LG_CH_OUTPUT:
		break;
	case LG_CH_ACCT_IN: case LG_CH_ACCT_OUT: case LG_CH_USER:
		return diag_error(pc->dq, &cmd->loc, "only the builtin chains input, forward and "
				  "output have a policy (not %s)", c->name);
	}
	switch (cmd->policy) {
	case LG_T_ACCEPT: case LG_T_DENY: case LG_T_REJECT:
		break;
	case LG_T_MASQ:
		if (c->kind != LG_CH_FORWARD)
			return diag_error(pc->dq, &cmd->policy_loc, "a MASQ policy is only "
					  "possible on the forward chain");
		break;
	case LG_T_REDIRECT:
		if (c->kind != LG_CH_INPUT)
			return diag_error(pc->dq, &cmd->policy_loc, "a REDIRECT policy is only "
					  "possible on the input chain");
		break;
	case LG_T_NONE: case LG_T_RETURN: case LG_T_JUMP:
		return diag_error(pc->dq, &cmd->policy_loc, "%s is not a policy (ACCEPT, DENY, "
				  "REJECT%s)", target_name(cmd->policy),
				  c->kind == LG_CH_FORWARD ? " or MASQ" : "");
	}
	c->policy = cmd->policy;
	c->policy_loc = cmd->policy_loc.file ? cmd->policy_loc : cmd->loc;
	c->policy_set = true;
	return 0;
}

static bool op_takes_all(enum lg_op op)
{
	switch (op) {
	case LG_OP_FLUSH: case LG_OP_ZERO: case LG_OP_DELETE_CHAIN: case LG_OP_LIST:
	case LG_OP_MASQ_TIMEOUTS: case LG_OP_MASQ_LIST: case LG_OP_NEW_CHAIN:
		return true;
	case LG_OP_APPEND: case LG_OP_INSERT: case LG_OP_DELETE: case LG_OP_DELETE_NUM:
	case LG_OP_REPLACE: case LG_OP_POLICY:
		return false;
	}
	return false;
}

/* The chain a command names (see struct lg_cmd); NULL with *all = every
 * chain; NULL and -1 in *err when the name is unknown. */
static struct lg_chain *cmd_chain(struct parse_ctx *pc, struct lg_state *st,
				  const struct lg_cmd *cmd, bool *all, int *err)
{
	struct lg_chain *c;

	*all = false;
	*err = 0;
	if (cmd->chain) {
		c = chain_by_name(st, cmd->chain);
		if (!c && cmd->op != LG_OP_NEW_CHAIN)
			*err = no_such_chain(pc, st, cmd->chain,
					     cmd->chain_loc.file ? &cmd->chain_loc : &cmd->loc);
		return c;
	}
	if (cmd->tool == LG_IPFWADM) {
		c = chain_by_kind(st, cmd->chain_kind);
		if (!c)
			*err = diag_error(pc->dq, &cmd->loc, "internal error: no such ipfwadm list");
		return c;
	}
	if (!op_takes_all(cmd->op))
		*err = diag_error(pc->dq, &cmd->loc, "this command needs a chain name");
	*all = true;
	return NULL;
}

static void seen_tool(struct parse_ctx *pc, struct lg_state *st, enum lg_tool t,
		      const struct loc *loc)
{
	enum lg_tool other = t == LG_IPFWADM ? LG_IPCHAINS : LG_IPFWADM;

	if (!st->seen[t]) {
		st->seen[t] = true;
		st->seen_loc[t] = *loc;
		if (st->seen[other])
			diag_warning(pc->dq, loc, "this script uses both ipfwadm and ipchains; no "
				     "kernel had both, so masqc lowers both into one model of the "
				     "input/forward/output chains (see docs/legacy.md)");
	}
	st->any = true;
}

int lg_apply(struct parse_ctx *pc, struct lg_cmd *cmd)
{
	struct lg_state *st = lg_state_get(pc);
	struct lg_chain *c;
	bool all;
	int err;

	seen_tool(pc, st, cmd->tool, &cmd->loc);
	c = cmd_chain(pc, st, cmd, &all, &err);
	if (err < 0 || (!c && !all && cmd->op != LG_OP_NEW_CHAIN)) {
		lg_rule_free(cmd->rule);
		cmd->rule = NULL;
		return -1;
	}
	switch (cmd->op) {
	case LG_OP_APPEND:
	case LG_OP_INSERT:
	case LG_OP_DELETE:
	case LG_OP_REPLACE:
		if (!cmd->rule)
			return diag_error(pc->dq, &cmd->loc, "internal error: no rule");
		return apply_rule_op(pc, st, c, cmd);
	case LG_OP_DELETE_NUM:
		if (cmd->num == 0 || cmd->num > c->nrules)
			return diag_error(pc->dq, &cmd->loc, "no rule %u in chain %s (it has %u)",
					  cmd->num, c->name, c->nrules);
		lg_rule_free(chain_take(st, c, cmd->num));
		return 0;
	case LG_OP_FLUSH:
		if (c) {
			chain_flush(st, c);
		} else {
			for (c = st->chains; c; c = c->next)
				if (c->kind != LG_CH_ACCT_IN && c->kind != LG_CH_ACCT_OUT)
					chain_flush(st, c);
		}
		return 0;
	case LG_OP_ZERO:
		if (!st->noted_zero)
			diag_note(pc->dq, &cmd->loc, "zeroing counters changes nothing in a "
				  "compiled ruleset (its counters start at zero)");
		st->noted_zero = true;
		return 0;
	case LG_OP_LIST:
	case LG_OP_MASQ_LIST:
		if (!st->noted_list)
			diag_note(pc->dq, &cmd->loc, "listing commands are ignored");
		st->noted_list = true;
		return 0;
	case LG_OP_NEW_CHAIN:
		if (!cmd->chain)
			return diag_error(pc->dq, &cmd->loc, "-N needs a chain name");
		if (c)
			return diag_error(pc->dq, cmd->chain_loc.file ? &cmd->chain_loc : &cmd->loc,
					  "chain %s already exists", cmd->chain);
		chain_add(st, cmd->chain, LG_CH_USER,
			  cmd->chain_loc.file ? &cmd->chain_loc : &cmd->loc);
		return 0;
	case LG_OP_DELETE_CHAIN:
		if (c)
			return delete_chain(pc, st, c, &cmd->loc);
		err = 0;
		for (struct lg_chain *x = st->chains, *n; x; x = n) {
			n = x->next;
			if (x->kind == LG_CH_USER && delete_chain(pc, st, x, &cmd->loc) < 0)
				err = -1;
		}
		return err;
	case LG_OP_POLICY:
		return set_policy(pc, c, cmd);
	case LG_OP_MASQ_TIMEOUTS:
		for (int i = 0; i < 3; i++)
			if (cmd->timeouts[i])
				st->timeouts[i] = cmd->timeouts[i];
		st->has_timeouts = true;
		st->timeouts_loc = cmd->loc;
		return 0;
	}
	return diag_error(pc->dq, &cmd->loc, "internal error: unknown legacy operation");
}

/* ---- lg_apply_forward ------------------------------------------------------------------ */

static bool fw_same(const struct lg_forward *a, const struct lg_forward *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case LG_FW_PORTFW:
		return a->proto == b->proto && addr_eq(&a->laddr, &b->laddr) &&
		       a->lport == b->lport && addr_eq(&a->raddr, &b->raddr) &&
		       a->rport == b->rport;
	case LG_FW_MFW:
		return a->fwmark == b->fwmark && addr_eq(&a->raddr, &b->raddr) &&
		       a->rport == b->rport;
	case LG_FW_AUTOFW:
		/* ip_autofw_del compares the control port and the host
		 * (-h) too, as the script gave them: a -D must repeat them */
		return a->proto == b->proto && a->ports.lo == b->ports.lo &&
		       a->ports.hi == b->ports.hi && a->ctlproto == b->ctlproto &&
		       a->ctlport == b->ctlport && a->autofw_static == b->autofw_static &&
		       (!a->autofw_static || addr_eq(&a->raddr, &b->raddr));
	}
	return false;
}

/* Delete matches on what the user gave: a portfw -d without -R removes
 * every entry of that local address and port. */
static bool fw_del_match(const struct lg_forward *e, const struct lg_forward *d)
{
	if (e->kind != d->kind)
		return false;
	if (e->kind == LG_FW_PORTFW && d->raddr.plen == 0 && d->rport == 0)
		return e->proto == d->proto && addr_eq(&e->laddr, &d->laddr) && e->lport == d->lport;
	if (e->kind == LG_FW_MFW && d->raddr.plen == 0)
		return e->fwmark == d->fwmark;
	return fw_same(e, d);
}

int lg_apply_forward(struct parse_ctx *pc, struct lg_forward *fw)
{
	struct lg_state *st = lg_state_get(pc);
	struct lg_forward **pp;
	bool found = false;

	st->any = true;
	fw->next = NULL;
	if (fw->edit) {
		/* ip_masq_mfw.c __mfw_edithost: every entry of the mark whose
		 * address and port match (an address or port not given matches
		 * any) takes the new preference; none: -ESRCH */
		for (struct lg_forward *e = st->fws; e; e = e->next)
			if (e->kind == fw->kind && e->fwmark == fw->fwmark &&
			    (fw->raddr.plen == 0 || addr_eq(&e->raddr, &fw->raddr)) &&
			    (fw->rport == 0 || e->rport == fw->rport)) {
				e->pref = fw->pref;
				found = true;
			}
		if (!found) {
			diag_error(pc->dq, &fw->loc, "no such forwarding entry to change");
			fw_free(fw);
			return -1;
		}
		fw_free(fw);
		return 0;
	}
	if (fw->flush || !fw->add) {
		for (pp = &st->fws; *pp;) {
			struct lg_forward *e = *pp;

			if (fw->flush ? e->kind == fw->kind : fw_del_match(e, fw)) {
				*pp = e->next;
				fw_free(e);
				found = true;
			} else {
				pp = &e->next;
			}
		}
		st->fws_tail = NULL;
		for (struct lg_forward *e = st->fws; e; e = e->next)
			st->fws_tail = e;
		if (!fw->flush && !found) {
			diag_error(pc->dq, &fw->loc, "no such forwarding entry to delete");
			fw_free(fw);
			return -1;
		}
		fw_free(fw);
		return 0;
	}
	for (struct lg_forward *e = st->fws; e; e = e->next) {
		if (!fw_same(e, fw))
			continue;
		if (fw->kind == LG_FW_PORTFW) {
			/* ip_masq_portfw.c ip_portfw_add: an existing entry
			 * only takes the new preference */
			diag_note(pc->dq, &fw->loc, "this port forward exists already; as in 2.2, "
				  "adding it again only sets its preference to %u", fw->pref);
			e->pref = fw->pref;
			fw_free(fw);
			return 0;
		}
		if (fw->kind == LG_FW_MFW)
			break;	/* mfw_addhost adds a second entry for the same host */
		diag_error(pc->dq, &fw->loc, "this forwarding entry already exists "
			   "(the kernel refused duplicates)");
		fw_free(fw);
		return -1;
	}
	if (st->fws_tail)
		st->fws_tail->next = fw;
	else
		st->fws = fw;
	st->fws_tail = fw;
	return 0;
}

/* ==== lowering ============================================================================ */

enum lctx { CTX_IN, CTX_FWD, CTX_OUT, CTX_ACCT_IN, CTX_ACCT_OUT };

static const char *const ctx_suffix[] = { "in", "fwd", "out" };

struct lower {
	struct parse_ctx *pc;
	struct lg_state *st;
	enum lg_generation gen;
	struct ir_table *t;
	struct ir_chain *nat_pre, *nat_post;
	struct ir_chain *autofw;	/* legacy_autofw: control-port triggers */
	unsigned autofw_maps;		/* dynamic autofw entries lowered so far */
	bool frag_noted;	/* the ipfwadm fragment rules were explained once */
	bool masq;		/* some MASQ verdict or policy exists */
	bool fwd;		/* some port forward exists */
	struct loc masq_loc, fwd_loc;	/* the first of each: the cause of the rules they add */
	unsigned redir_next;
	bool redir_noted;
	int err;
};

static int lerr(struct lower *L)
{
	L->err = -1;
	return -1;
}

static const char *gen_name(enum lg_generation g)
{
	switch (g) {
	case LG_GEN_20: return "2.0";
	case LG_GEN_22: return "2.2";
	case LG_GEN_24: return "2.4";
	case LG_GEN_AUTO: return "auto";
	}
	return "?";
}

/* ---- match building -------------------------------------------------------------------- */

static void m_proto(struct ir_rule *r, uint8_t p, bool neg, const struct loc *loc)
{
	struct ir_match *m = ir_match_new(r, IR_M_PROTO, loc);

	m->u.proto = p;
	m->neg = neg;
}

static void m_frag(struct ir_rule *r, bool frag, const struct loc *loc)
{
	/* IR_M_FRAG neg = "not a non-first fragment" */
	ir_match_new(r, IR_M_FRAG, loc)->neg = !frag;
}

static void m_ctmark(struct ir_rule *r, uint32_t mask, uint32_t value, bool neg)
{
	struct ir_match *m = ir_match_new(r, IR_M_CONNMARK, &r->loc);

	m->u.markmask.mask = mask;
	m->u.markmask.value = value;
	m->neg = neg;
}

static void m_ctdir(struct ir_rule *r, bool reply)
{
	ir_match_new(r, IR_M_CTDIR, &r->loc)->u.num = reply;
}

static void m_iface(struct ir_rule *r, bool out, const char *name, bool neg, const struct loc *loc)
{
	struct ir_match *m = ir_match_new(r, out ? IR_M_OIF : IR_M_IIF, loc);

	m->neg = neg;
	m->u.ifaces.n = 1;
	m->u.ifaces.v = xmalloc(sizeof(char *));
	m->u.ifaces.v[0] = xstrdup(name);
}

static void m_addr(struct ir_rule *r, bool dst, const struct ir_addr *a, bool neg)
{
	struct ir_match *m = ir_match_new(r, dst ? IR_M_DADDR : IR_M_SADDR, &a->loc);

	m->neg = neg;
	m->u.addrs.n = 1;
	m->u.addrs.v = xzalloc(sizeof(struct ir_addr));
	addr_copy(&m->u.addrs.v[0], a);
	if (!m->loc.file)
		m->loc = r->loc;
}

static void s_ctmark_or(struct ir_rule *r, uint32_t bits, const struct loc *loc)
{
	struct ir_stmt *s = ir_stmt_new(r, IR_S_CONNMARK, loc);

	s->u.setmark.op = IR_MARK_OR;
	s->u.setmark.value = bits;
}

/* Ports after an address (ipfwadm lists, ipchains one range), or ICMP
 * types/codes.  The full range 0:65535 is a protocol-only test that
 * fragments pass too; ipchains `! 0:65535` is "fragments only" (pitfall 18:
 * port_match() answers before applying the inversion). */
static int lower_ports(struct lower *L, struct ir_rule *r, const struct lg_rule *lr,
		       const struct lg_ports *p, bool src)
{
	bool full = p->n == 1 && p->v[0].lo == 0 && p->v[0].hi == 65535;
	enum ir_match_kind k;
	struct ir_match *m;
	const struct loc *loc = p->loc.file ? &p->loc : &lr->loc;

	if (p->n == 0)
		return 0;
	if (lr->proto_neg || (lr->proto != P_TCP && lr->proto != P_UDP && lr->proto != P_ICMP))
		return diag_error(L->pc->dq, loc, "ports need -p tcp, udp or icmp"), lerr(L);
	if (full) {
		if (p->neg)
			m_frag(r, true, loc);
		return 0;
	}
	if (lr->proto == P_ICMP)
		k = src ? IR_M_ICMP_TYPES : IR_M_ICMP_CODES;
	else
		k = src ? IR_M_SPORT : IR_M_DPORT;
	m = ir_match_new(r, k, loc);
	m->neg = p->neg;
	m->l4proto = lr->proto;
	m->u.ports.n = p->n;
	m->u.ports.v = xmalloc(p->n * sizeof(*p->v));
	memcpy(m->u.ports.v, p->v, p->n * sizeof(*p->v));
	return 0;
}

/* ipfwadm -V ADDR: the interface whose primary address is ADDR.  Only a
 * -D MASQC_VIA_a_b_c_d=IFACE says which one that is (pitfall 14). */
static const char *via_iface(struct lower *L, const struct lg_rule *lr)
{
	char *var;

	for (size_t i = 0; i < L->st->binds.n; i++)
		if (!strcmp(L->st->binds.v[i].addr, lr->iface))
			return L->st->binds.v[i].ifname;
	var = xasprintf("MASQC_VIA_%s", lr->iface);
	for (char *p = var; *p; p++)
		if (*p == '.')
			*p = '_';
	{
		char *hint = xasprintf("give -D %s=IFACE (the interface whose address is %s when "
				       "the firewall is loaded)", var, lr->iface);

		diag_add(L->pc->dq, DIAG_ERROR, lr->iface_loc.file ? &lr->iface_loc : &lr->loc, hint,
			 "-V %s names an interface by its address; nftables matches interfaces "
			 "by name, and masqc cannot know which interface has %s", lr->iface,
			 lr->iface);
		free(hint);
	}
	free(var);
	lerr(L);
	return NULL;
}

static int lower_iface(struct lower *L, struct ir_rule *r, const struct lg_rule *lr,
		       enum lctx ctx)
{
	const char *name = lr->iface;
	const struct loc *loc = lr->iface_loc.file ? &lr->iface_loc : &lr->loc;
	bool out = ctx == CTX_FWD || ctx == CTX_OUT || ctx == CTX_ACCT_OUT;

	if (!name || !*name)
		return 0;
	if (lr->iface_by_addr && !(name = via_iface(L, lr)))
		return -1;
	if (strchr(name, ':')) {
		char *parent = xstrndup(name, (size_t)(strchr(name, ':') - name));
		char *hint = xasprintf("name the device (%s); if the rule was about the alias "
				       "address, add -%c with that address", parent,
				       lr->tool == LG_IPFWADM ? (out ? 'S' : 'D') : (out ? 's' : 'd'));

		diag_add(L->pc->dq, DIAG_ERROR, loc, hint, "'%s' is an IP alias label; Linux 2.0 "
			 "treated aliases as devices, but today packets pass through %s and "
			 "iifname/oifname \"%s\" never matches (pitfall 20)", name, parent, name);
		free(hint);
		free(parent);
		return lerr(L);
	}
	m_iface(r, out, name, lr->iface_neg, loc);
	return 0;
}

/* -y / -k (pitfall 12).  which: 0 = the rule as one, 1 = the non-TCP copy,
 * 2 = the TCP copy of a split rule. */
static bool syn_split(const struct lg_rule *lr)
{
	if (lr->syn == LG_ANY && lr->ack == LG_ANY)
		return false;
	if (lr->tool == LG_IPFWADM)
		/* the flags are ignored (the rule matches) for non-TCP packets */
		return lr->proto == 0;
	/* ipchains: -y fails on non-TCP packets; ! -y passes them */
	return lr->proto == 0 && lr->syn == LG_NOT;
}

static void lower_tcpflags(struct ir_rule *r, const struct lg_rule *lr)
{
	struct ir_match *m;

	if (lr->syn != LG_ANY) {
		m = ir_match_new(r, IR_M_TCPFLAGS, &lr->loc);
		m->l4proto = P_TCP;
		m->u.tcpflags.mask = IR_TCP_SYN | IR_TCP_ACK |
				     (lr->tool == LG_IPCHAINS ? IR_TCP_RST : 0);
		m->u.tcpflags.cmp = IR_TCP_SYN;
		m->neg = lr->syn == LG_NOT;
		if (lr->tool == LG_IPCHAINS)
			m_frag(r, false, &lr->loc);	/* a fragment never passes a SYN test */
	}
	if (lr->ack != LG_ANY) {
		m = ir_match_new(r, IR_M_TCPFLAGS, &lr->loc);
		m->l4proto = P_TCP;
		m->u.tcpflags.mask = IR_TCP_ACK;
		m->u.tcpflags.cmp = IR_TCP_ACK;
		m->neg = lr->ack == LG_NOT;
	}
}

/* ---- statements -------------------------------------------------------------------- */

static void lower_stmts(struct lower *L, struct ir_rule *r, const struct lg_rule *lr,
			const char *chain)
{
	struct ir_stmt *s;

	if (lr->log) {
		s = ir_stmt_new(r, IR_S_LOG, lr->log_loc.file ? &lr->log_loc : &lr->loc);
		s->u.log.level = -1;
		s->u.log.prefix = xasprintf("%s %s ", chain, target_name(lr->target));
	}
	if (lr->has_tos) {
		uint8_t and = lr->tos_and, xor = lr->tos_xor;
		const struct loc *loc = lr->tos_loc.file ? &lr->tos_loc : &lr->loc;

		/* bits 0x03 are ECN today: 0x02 was RFC 1349 "minimize cost",
		 * 0x01 had to stay untouched (pitfall 8) */
		if ((and & 0x03) != 0x03 || (xor & 0x03)) {
			diag_warning(L->pc->dq, loc, "TOS bits 0x03 are ECN bits today; this -t "
				     "change of them (0x%02x/0x%02x) is left out, only the DSCP "
				     "bits are changed", and, xor);
			and |= 0x03;
			xor &= 0xfc;
		}
		if (and != 0xff || xor) {
			s = ir_stmt_new(r, IR_S_TOS, loc);
			s->u.setmark.op = IR_MARK_SET;
			s->u.setmark.mask = (uint8_t)~and;
			s->u.setmark.value = xor;
		}
	}
	if (lr->has_mark) {
		const struct loc *loc = lr->mark_loc.file ? &lr->mark_loc : &lr->loc;

		if (lr->mark_relative) {
			diag_error(L->pc->dq, loc, "a relative mark (-m %+" PRId64 ") has no "
				   "nftables form: nft sets marks to constants or combines them "
				   "with and/or/xor, never adds (legacy-semantics pitfall 9)",
				   lr->mark);
			lerr(L);
		} else if (lr->mark < 0 || lr->mark > 0xffffffffLL) {
			diag_error(L->pc->dq, loc, "mark %" PRId64 " does not fit in 32 bits",
				   lr->mark);
			lerr(L);
		} else {
			s = ir_stmt_new(r, IR_S_MARK, loc);
			s->u.setmark.op = IR_MARK_SET;
			s->u.setmark.mask = 0xffffffffu;
			s->u.setmark.value = (uint32_t)lr->mark;
		}
	}
	if (lr->has_netlink) {
		s = ir_stmt_new(r, IR_S_NFLOG, &lr->loc);
		s->u.nflog.group = 0;
		s->u.nflog.snaplen = lr->netlink_size;
		diag_warning(L->pc->dq, &lr->loc, "-o (copy to the netlink device) becomes "
			     "nflog group 0%s; read it with ulogd or `nft monitor`-style tools",
			     lr->netlink_size ? " with that snaplen" : "");
	}
}

/* ---- verdicts ------------------------------------------------------------------------- */

static void v_reject(struct lower *L, struct ir_rule *r, const struct loc *loc, enum lctx ctx)
{
	if (ctx == CTX_OUT) {
		diag_warning(L->pc->dq, loc, "REJECT in the output chain becomes DROP: the "
			     "output chain runs in nftables postrouting (to see masqueraded "
			     "sources), where reject is impossible");
		r->verdict.kind = IR_V_DROP;
		return;
	}
	r->verdict.kind = IR_V_REJECT;
	/* 2.0/2.2: port-unreachable from input, host-unreachable from forward;
	 * the 2.4 compatibility layer: port-unreachable everywhere */
	r->verdict.u.reject = (ctx == CTX_IN || L->gen == LG_GEN_24) ? IR_REJ_PORT_UNREACH
								     : IR_REJ_HOST_UNREACH;
}

static void redirect_nat(struct lower *L, const struct lg_rule *lr, unsigned id)
{
	static const uint8_t both[] = { P_TCP, P_UDP };
	const uint8_t *protos = both;
	unsigned np = 2;

	if (lr->proto == P_TCP || lr->proto == P_UDP) {
		protos = &lr->proto;
		np = 1;
	} else {
		diag_note(L->pc->dq, &lr->target_loc, "REDIRECT acts on TCP and UDP; other "
			  "packets this rule matches are just accepted");
	}
	for (unsigned i = 0; i < np; i++) {
		struct ir_rule *n = ir_rule_new(&lr->loc);

		n->verdict.loc = lr->target_loc.file ? lr->target_loc : lr->loc;
		m_ctmark(n, LG_CT_REDIR, id << LG_REDIR_SHIFT, false);
		m_proto(n, protos[i], false, &lr->loc);
		n->verdict.kind = IR_V_REDIRECT;
		if (lr->redirect_port) {
			n->verdict.u.nat.has_port = true;
			n->verdict.u.nat.port_lo = n->verdict.u.nat.port_hi = lr->redirect_port;
		}
		ir_chain_insert(L->nat_pre, n, 0);
	}
}

/* Fills r's verdict; may add statements (marks) first. */
static int lower_verdict(struct lower *L, struct ir_rule *r, const struct lg_rule *lr,
			 enum lctx ctx, struct lg_chain *caller)
{
	const struct loc *tl = lr->target_loc.file ? &lr->target_loc : &lr->loc;
	enum lg_target t = lr->target;

	r->verdict.loc = *tl;
	/* RETURN from a builtin is its policy (which nft can only say for
	 * accept/drop) */
	if (t == LG_T_RETURN && caller && caller->kind != LG_CH_USER)
		t = caller->policy;
	switch (t) {
	case LG_T_NONE:
		r->verdict.kind = IR_V_NONE;
		return 0;
	case LG_T_ACCEPT:
		r->verdict.kind = IR_V_ACCEPT;
		return 0;
	case LG_T_DENY:
		r->verdict.kind = IR_V_DROP;
		return 0;
	case LG_T_REJECT:
		v_reject(L, r, tl, ctx);
		return 0;
	case LG_T_RETURN:
		r->verdict.kind = IR_V_RETURN;
		return 0;
	case LG_T_JUMP: {
		struct lg_chain *to = chain_by_name(L->st, lr->jump);

		if (!to || !to->irname[ctx])
			return diag_error(L->pc->dq, tl, "internal error: chain %s not lowered",
					  lr->jump), lerr(L);
		r->verdict.kind = IR_V_JUMP;
		r->verdict.u.chain.name = xstrdup(to->irname[ctx]);
		return 0;
	}
	case LG_T_MASQ:
		if (ctx != CTX_FWD) {
			diag_warning(L->pc->dq, tl, "MASQ reached from the %s chain only accepts "
				     "(masquerading happens on the forward path)",
				     ctx == CTX_IN ? "input" : "output");
			r->verdict.kind = IR_V_ACCEPT;
			return 0;
		}
		s_ctmark_or(r, LG_CT_MASQ, tl);
		r->verdict.kind = IR_V_ACCEPT;
		return 0;
	case LG_T_REDIRECT: {
		unsigned id;
		struct ir_stmt *s;

		if (ctx != CTX_IN) {
			diag_warning(L->pc->dq, tl, "REDIRECT reached from the %s chain only "
				     "accepts (redirection happens on the input path)",
				     ctx == CTX_FWD ? "forward" : "output");
			r->verdict.kind = IR_V_ACCEPT;
			return 0;
		}
		if (L->redir_next >= LG_REDIR_MAX)
			return diag_error(L->pc->dq, tl, "more than %u REDIRECT rules",
					  LG_REDIR_MAX), lerr(L);
		id = ++L->redir_next;
		s = ir_stmt_new(r, IR_S_CONNMARK, tl);
		s->u.setmark.op = IR_MARK_SET;
		s->u.setmark.mask = LG_CT_REDIR;
		s->u.setmark.value = id << LG_REDIR_SHIFT;
		r->verdict.kind = IR_V_ACCEPT;
		redirect_nat(L, lr, id);
		if (!L->redir_noted) {
			if (L->gen == LG_GEN_24)
				diag_note(L->pc->dq, tl, "REDIRECT becomes nftables redirect, which "
					  "rewrites the destination to this host like the 2.4 "
					  "compatibility layer did");
			else
				diag_warning(L->pc->dq, tl, "REDIRECT becomes nftables redirect: the "
					     "destination is rewritten to this host (2.4 behaviour); "
					     "in %s the proxy saw the original destination with "
					     "getsockname(), now it must ask SO_ORIGINAL_DST "
					     "(legacy-semantics pitfall 19)", gen_name(L->gen));
			L->redir_noted = true;
		}
		return 0;
	}
	}
	return 0;
}

/* ---- one legacy rule -> IR rules ------------------------------------------------------- */

/* A reply of a port-forwarded connection accepted without MASQ left the
 * 2.2 box with the inside source address and never reached the client:
 * "you must create firewall rules that must match desired forwarding as-is
 * the connection had been outgoing" (ipmasqadm(8)).  nft would un-DNAT it
 * anyway, so such replies are dropped instead of accepted. */
static struct ir_rule *fwd_reply_guard(const struct ir_rule *r)
{
	struct ir_rule *g = ir_rule_clone(r);

	m_ctdir(g, true);
	m_ctmark(g, LG_CT_FWD, LG_CT_FWD, false);
	g->verdict.kind = IR_V_DROP;
	return g;
}

/* 2.2 decided MASQ per packet (pitfall 4): a packet of a connection that
 * was not masqueraded -- the SYN-ACK of an inbound connection, a later
 * packet of a connection its first packet did not masquerade -- left with
 * a masqueraded source and was useless to the peer.  nft NAT binds at the
 * first packet, so it would go out untranslated: dropped instead.  Port
 * forward replies are the exception: MASQ is what makes them work. */
static struct ir_rule *masq_late_guard(const struct ir_rule *r)
{
	struct ir_rule *g = ir_rule_clone(r);
	struct ir_match *m;

	/* the copy keeps the rule's side effects but not the MASQ bit */
	for (struct ir_stmt **pp = &g->stmts; *pp; pp = &(*pp)->next) {
		struct ir_stmt *s = *pp;

		if (s->kind == IR_S_CONNMARK && s->u.setmark.op == IR_MARK_OR &&
		    s->u.setmark.value == LG_CT_MASQ) {
			struct ir_rule *bin = ir_rule_new(NULL);

			*pp = s->next;
			s->next = NULL;
			bin->stmts = s;
			ir_rule_free(bin);
			break;
		}
	}
	m = ir_match_new(g, IR_M_CTSTATE, &r->loc);
	m->u.bits = IR_CT_NEW;
	m->neg = true;
	m->module_seq = 201;
	m = ir_match_new(g, IR_M_CTSTATE, &r->loc);
	m->u.bits = IR_CT_SNAT;
	m->neg = true;
	m->module_seq = 202;
	m_ctmark(g, LG_CT_FWD, 0, false);
	g->verdict.kind = IR_V_DROP;
	return g;
}

static int lower_one(struct lower *L, struct ir_chain *out, const struct lg_rule *lr,
		     enum lctx ctx, struct lg_chain *caller, bool swap, int split)
{
	struct ir_rule *r = ir_rule_new(&lr->loc);
	const struct ir_addr *src = swap ? &lr->dst : &lr->src, *dst = swap ? &lr->src : &lr->dst;
	bool sneg = swap ? lr->dst_neg : lr->src_neg, dneg = swap ? lr->src_neg : lr->dst_neg;
	bool icmp = lr->proto == P_ICMP;
	const struct lg_ports *sp = swap && !icmp ? &lr->dport : &lr->sport;
	const struct lg_ports *dp = swap && !icmp ? &lr->sport : &lr->dport;
	const char *cname = caller ? caller->name : "?";
	int ret = 0;

	if (lr->proto)
		m_proto(r, lr->proto, lr->proto_neg, lr->proto_loc.file ? &lr->proto_loc : &lr->loc);
	if (split == 1)
		m_proto(r, P_TCP, true, &lr->loc);
	ret |= lower_iface(L, r, lr, ctx);
	if (src->plen || src->kind != IR_ADDR_PREFIX || sneg)
		m_addr(r, false, src, sneg);
	if (dst->plen || dst->kind != IR_ADDR_PREFIX || dneg)
		m_addr(r, true, dst, dneg);
	ret |= lower_ports(L, r, lr, sp, true);
	ret |= lower_ports(L, r, lr, dp, false);
	if (lr->frag != LG_ANY)
		m_frag(r, lr->frag == LG_YES, &lr->loc);
	if (split != 1 && (lr->syn != LG_ANY || lr->ack != LG_ANY) &&
	    (lr->proto == P_TCP || lr->proto == 0)) {
		if (lr->proto == 0)
			m_proto(r, P_TCP, false, &lr->loc);
		lower_tcpflags(r, lr);
	}
	lower_stmts(L, r, lr, cname);
	ret |= lower_verdict(L, r, lr, ctx, caller);
	if (ret < 0) {
		ir_rule_free(r);
		return -1;
	}
	if (ctx == CTX_FWD && L->fwd && r->verdict.kind == IR_V_ACCEPT && lr->target != LG_T_MASQ)
		ir_chain_insert(out, fwd_reply_guard(r), 0);
	if (ctx == CTX_FWD && lr->target == LG_T_MASQ)
		ir_chain_insert(out, masq_late_guard(r), 0);
	ir_chain_insert(out, r, 0);
	return 0;
}

static int lower_rule_as(struct lower *L, struct ir_chain *out, const struct lg_rule *lr,
			 enum lctx ctx, struct lg_chain *caller)
{
	int ret = 0;

	if (lr->proto != 0 && lr->proto != P_TCP && (lr->syn != LG_ANY || lr->ack != LG_ANY)) {
		if (lr->tool == LG_IPCHAINS && !lr->proto_neg && lr->syn == LG_YES) {
			/* 2.2: a non-TCP packet never passes -y */
			diag_warning(L->pc->dq, &lr->loc, "-y with a protocol other than tcp never "
				     "matches; the rule is left out");
			return 0;
		}
		diag_note(L->pc->dq, &lr->loc, "-y/-k test TCP flags; %s passed them for other "
			  "protocols, so they are left out here", tool_name(lr->tool));
	}
	for (int swap = 0; swap <= (lr->bidir ? 1 : 0); swap++) {
		if (syn_split(lr)) {
			ret |= lower_one(L, out, lr, ctx, caller, swap, 1);
			ret |= lower_one(L, out, lr, ctx, caller, swap, 2);
		} else {
			ret |= lower_one(L, out, lr, ctx, caller, swap, 0);
		}
	}
	if (lr->bidir && (ctx == CTX_ACCT_IN || ctx == CTX_ACCT_OUT))
		diag_note(L->pc->dq, &lr->loc, "-b becomes two counter rules; a packet that "
			  "matches both directions is counted twice (ipfwadm counted it once)");
	return ret;
}

/* 2.x masqueraded only TCP, UDP and ICMP and dropped anything else a MASQ
 * verdict caught (pitfall 5): a MASQ rule for every protocol becomes one
 * copy per masqueradable protocol and a DROP copy after them.  (The drop
 * lives here, in the forward chain, because a nat chain may not drop in
 * iptables.) */
static int lower_rule(struct lower *L, struct ir_chain *out, const struct lg_rule *lr,
		      enum lctx ctx, struct lg_chain *caller)
{
	static const uint8_t pp[] = { P_TCP, P_UDP, P_ICMP };
	bool masq = ctx == CTX_FWD && (lr->target == LG_T_MASQ ||
				      (lr->target == LG_T_RETURN && caller &&
				       caller->kind != LG_CH_USER && caller->policy == LG_T_MASQ));
	struct lg_rule tmp;
	int ret = 0;

	if (!masq || (!lr->proto_neg && (lr->proto == P_TCP || lr->proto == P_UDP ||
					  lr->proto == P_ICMP)))
		return lower_rule_as(L, out, lr, ctx, caller);
	tmp = *lr;
	tmp.target = LG_T_MASQ;
	if (lr->proto == 0 && !lr->proto_neg) {
		for (unsigned i = 0; i < ARRAY_SIZE(pp); i++) {
			tmp.proto = pp[i];
			ret |= lower_rule_as(L, out, &tmp, ctx, caller);
		}
		tmp.proto = 0;
	} else {
		diag_note(L->pc->dq, &lr->target_loc, "2.x masqueraded only TCP, UDP and ICMP; "
			  "this MASQ rule drops the packets it matches, as 2.x did");
	}
	tmp.target = LG_T_DENY;
	ret |= lower_rule_as(L, out, &tmp, ctx, caller);
	return ret;
}

/* ---- chains ------------------------------------------------------------------------------- */

static struct lg_rule *policy_rule(const struct lg_chain *c)
{
	struct lg_rule *r = xzalloc(sizeof(*r));

	r->loc = c->policy_loc;
	r->target = c->policy;
	r->target_loc = c->policy_loc;
	r->tool = LG_IPCHAINS;
	return r;
}

/* ipfwadm: non-first TCP/UDP/ICMP fragments pass -I/-F/-O unexamined. */
static void ipfwadm_frag_rules(struct lower *L, struct ir_chain *ch)
{
	static const uint8_t protos[] = { P_TCP, P_UDP, P_ICMP };

	if (!L->st->seen[LG_IPFWADM])
		return;
	if (!L->frag_noted) {
		/* these rules have no line of their own: say why they exist */
		diag_note(L->pc->dq, &L->st->seen_loc[LG_IPFWADM],
			  "ipfwadm (Linux 2.0) let non-first TCP/UDP/ICMP fragments pass the input, "
			  "forward and output firewalls unexamined: masqc adds rules that accept them "
			  "first in each of those chains");
		L->frag_noted = true;
	}
	for (unsigned i = 0; i < ARRAY_SIZE(protos); i++) {
		struct ir_rule *r = ir_rule_new(&L->st->seen_loc[LG_IPFWADM]);

		m_frag(r, true, &r->loc);
		m_proto(r, protos[i], false, &r->loc);
		r->verdict.kind = IR_V_ACCEPT;
		ir_chain_insert(ch, r, 0);
	}
}

/* What 2.x never showed the forward chain (legacy-semantics 1.2 steps 4-5). */
static void forward_skips(struct lower *L, struct ir_chain *ch)
{
	const struct loc *loc = L->masq ? &L->masq_loc : &L->fwd_loc;
	struct ir_rule *r;

	if (L->masq) {
		/* replies of masqueraded connections (demasqueraded in 2.x) */
		r = ir_rule_new(loc);
		m_ctdir(r, true);
		m_ctmark(r, LG_CT_MASQ | LG_CT_FWD, LG_CT_MASQ, false);
		r->verdict.kind = IR_V_ACCEPT;
		ir_chain_insert(ch, r, 0);
		/* connections a helper (ip_masq_ftp ...) opened towards a
		 * masqueraded host: demasqueraded in 2.x */
		r = ir_rule_new(loc);
		m_ctdir(r, false);
		ir_match_new(r, IR_M_CTSTATE, loc)->u.bits = IR_CT_DNAT;
		m_ctmark(r, LG_CT_MASQ | LG_CT_FWD, LG_CT_MASQ, false);
		r->verdict.kind = IR_V_ACCEPT;
		ir_chain_insert(ch, r, 0);
	}
	if (L->fwd) {
		/* the incoming side of port forwards (reverse-masqueraded in 2.x) */
		r = ir_rule_new(&L->fwd_loc);
		m_ctdir(r, false);
		m_ctmark(r, LG_CT_FWD, LG_CT_FWD, false);
		r->verdict.kind = IR_V_ACCEPT;
		ir_chain_insert(ch, r, 0);
	}
	if (!L->masq && !L->fwd)
		return;
	/* ICMP errors about masqueraded or forwarded connections */
	r = ir_rule_new(loc);
	m_proto(r, P_ICMP, false, loc);
	ir_match_new(r, IR_M_CTSTATE, loc)->u.bits = IR_CT_RELATED;
	m_ctmark(r, LG_CT_MASQ | LG_CT_FWD, 0, true);
	r->verdict.kind = IR_V_ACCEPT;
	ir_chain_insert(ch, r, 0);
}

static int lower_chain_rules(struct lower *L, struct ir_chain *out, struct lg_chain *c,
			     enum lctx ctx)
{
	int ret = 0;

	for (const struct lg_rule *lr = c->rules; lr; lr = lr->next)
		ret |= lower_rule(L, out, lr, ctx, c);
	return ret;
}

static bool chain_lists_equal(const struct ir_chain *a, const struct ir_chain *b)
{
	const struct ir_rule *x = a->rules, *y = b->rules;

	if (a->nrules != b->nrules)
		return false;
	for (; x && y; x = x->next, y = y->next)
		if (!ir_rule_equal(x, y))
			return false;
	return true;
}

static char *unique_name(struct lower *L, const char *base)
{
	char *n = xstrdup(base);

	while (ir_chain_find(L->t, n)) {
		char *m = xasprintf("%s_", n);

		free(n);
		n = m;
	}
	return n;
}

static bool reserved_name(const char *n)
{
	static const char *const r[] = {
		"input", "forward", "output", "acct_in", "acct_out", "nat_pre", "nat_post", "autofw",
	};

	for (unsigned i = 0; i < ARRAY_SIZE(r); i++)
		if (!strcmp(n, r[i]))
			return true;
	return false;
}

/* Writes user chain c once per context that reaches it, then keeps one
 * copy under the plain name when all copies are the same. */
static int lower_user_chain(struct lower *L, struct lg_chain *c)
{
	struct ir_chain *copy[3] = { NULL, NULL, NULL };
	unsigned mask = c->ctx_mask;
	char *base = reserved_name(c->name) ? xasprintf("u_%s", c->name) : xstrdup(c->name);
	bool same = true;
	int ret = 0, first = -1;

	if (c->unreached)
		diag_note(L->pc->dq, &c->loc, "no builtin chain leads to chain %s; it is written "
			  "as if called from input", c->name);
	for (int k = CTX_IN; k <= CTX_OUT; k++) {
		char *n;

		if (!(mask & (1u << k)))
			continue;
		n = xasprintf("%s.%s", base, ctx_suffix[k]);
		free(c->irname[k]);
		c->irname[k] = unique_name(L, n);
		free(n);
		copy[k] = ir_chain_new_user(L->t, c->irname[k], &c->loc);
		ret |= lower_chain_rules(L, copy[k], c, (enum lctx)k);
		if (first < 0)
			first = k;
		else if (!chain_lists_equal(copy[first], copy[k]))
			same = false;
	}
	if (same) {
		char *n = NULL;

		for (int k = CTX_OUT; k >= CTX_IN; k--) {
			if (!copy[k])
				continue;
			if (k != first) {
				ir_chain_delete(copy[k]);
				continue;
			}
			n = unique_name(L, base);
			ir_chain_rename(copy[k], n);
		}
		for (int k = CTX_IN; k <= CTX_OUT; k++) {
			if (!copy[k])
				continue;
			free(c->irname[k]);
			c->irname[k] = xstrdup(n);
		}
		free(n);
	}
	free(base);
	return ret;
}

/* Contexts reaching each user chain; loops are refused like the kernel's
 * loop detection would have dropped the packet (nft refuses them). */
static int mark_contexts(struct lower *L, struct lg_chain *c, unsigned ctxbit)
{
	int ret = 0;

	if (c->mark == 1)
		return 0;	/* loop: reported by order_chains */
	if ((c->ctx_mask & ctxbit) && c->kind == LG_CH_USER)
		return 0;
	if (c->kind == LG_CH_USER)
		c->ctx_mask |= ctxbit;
	c->mark = 1;
	for (const struct lg_rule *r = c->rules; r; r = r->next) {
		struct lg_chain *t;

		if (r->target == LG_T_JUMP && (t = chain_by_name(L->st, r->jump)))
			ret |= mark_contexts(L, t, ctxbit);
	}
	c->mark = 0;
	return ret;
}

/* Post-order: callees are lowered before their callers, so a jump can
 * name the callee's copy for its context. */
static int order_chains(struct lower *L, struct lg_chain *c, chain_vec *order)
{
	int ret = 0;

	if (c->mark == 2)
		return 0;
	c->mark = 1;
	for (const struct lg_rule *r = c->rules; r; r = r->next) {
		struct lg_chain *t;

		if (r->target != LG_T_JUMP || !(t = chain_by_name(L->st, r->jump)))
			continue;
		if (t->mark == 1) {
			diag_error(L->pc->dq, &r->target_loc, "jump loop: %s jumps to %s, which "
				   "leads back to %s (2.2 dropped such packets at run time; "
				   "nftables refuses the ruleset)", c->name, t->name, c->name);
			ret = lerr(L);
			continue;
		}
		ret |= order_chains(L, t, order);
	}
	c->mark = 2;
	if (c->kind == LG_CH_USER)
		vec_push(order, c);
	return ret;
}

static enum ir_policy base_policy(enum lg_target t)
{
	return t == LG_T_ACCEPT || t == LG_T_MASQ || t == LG_T_REDIRECT ? IR_POLICY_ACCEPT
									 : IR_POLICY_DROP;
}

static bool chain_used(const struct lg_chain *c)
{
	return c->nrules || c->policy != LG_T_ACCEPT;
}

/* The last rule matches everything and ends the chain: a policy after it
 * is never reached. */
static bool ends_unconditionally(const struct ir_chain *ch)
{
	const struct ir_rule *r = ch->rules_tail;

	if (!r || r->matches)
		return false;
	switch (r->verdict.kind) {
	case IR_V_ACCEPT: case IR_V_DROP: case IR_V_REJECT:
		return true;
	case IR_V_NONE: case IR_V_RETURN: case IR_V_JUMP: case IR_V_GOTO:
	case IR_V_MASQUERADE: case IR_V_SNAT: case IR_V_DNAT: case IR_V_REDIRECT:
		return false;
	}
	return false;
}

static int lower_builtin(struct lower *L, struct ir_chain *ch, struct lg_chain *c, enum lctx ctx)
{
	int ret = 0;

	if (!chain_used(c) && !(ctx == CTX_FWD && L->fwd))
		return 0;
	ch->policy = base_policy(c->policy);
	ch->policy_loc = c->policy_loc;
	if (ctx == CTX_FWD)
		forward_skips(L, ch);
	if (ctx == CTX_IN || ctx == CTX_FWD || ctx == CTX_OUT)
		ipfwadm_frag_rules(L, ch);
	ret |= lower_chain_rules(L, ch, c, ctx);
	/* policies nft cannot say (REJECT, MASQ, REDIRECT), and the port
	 * forward reply rule before an ACCEPT policy */
	if (ctx <= CTX_OUT && (c->policy != LG_T_ACCEPT || (ctx == CTX_FWD && L->fwd)) &&
	    c->policy != LG_T_DENY && !ends_unconditionally(ch)) {
		struct lg_rule *pr = policy_rule(c);

		ret |= lower_rule(L, ch, pr, ctx, NULL);
		/* the policy's own accept is the chain policy: drop the rule */
		if (c->policy == LG_T_ACCEPT && ch->rules_tail &&
		    ch->rules_tail->verdict.kind == IR_V_ACCEPT) {
			struct ir_rule *last = ch->rules_tail;

			ir_rule_unlink(ch, last);
			ir_rule_free(last);
		}
		lg_rule_free(pr);
	}
	return ret;
}

static bool any_target(const struct lg_state *st, enum lg_target t, struct loc *where)
{
	for (const struct lg_chain *c = st->chains; c; c = c->next) {
		if (c->policy == t) {
			*where = c->policy_loc;
			return true;
		}
		for (const struct lg_rule *r = c->rules; r; r = r->next)
			if (r->target == t) {
				*where = r->target_loc.file ? r->target_loc : r->loc;
				return true;
			}
	}
	return false;
}

/* ---- masquerading, port forwards, timeouts ------------------------------------------------- */

/* Linux 2.x gave the connections a masquerading helper opened (FTP data,
 * IRC DCC) a masquerade port of its own, from the same range as every
 * masqueraded connection.  Today the helper sets up their NAT itself, keeping
 * the client's port when it is free: the masquerade rule's port range never
 * applies to them.  A script that accepts only that range (replies to ports
 * 61000:65095 in its input chain, as the "stronger" HOWTO scripts do) refuses
 * them -- less permissive than 2.x, never more; say so where the helper is
 * loaded. */
static void masq_helper_ports_24(struct lower *L)
{
	uint16_t lo = 61000;

	for (const struct ir_helper *h = L->pc->rs->helpers; h; h = h->next)
		diag_add(L->pc->dq, DIAG_WARNING, &h->loc,
			 "a rule that accepts that port range does not match them; accept "
			 "ct state related (or the helper's ports) as well",
			 "connections the %s helper opens for masqueraded hosts keep their own "
			 "source port, not one of the masquerade range %u-%u",
			 h->name, lo, lo + 4095);
}

/* The helper view of the input and output chains (2.0/2.2).
 *
 * 2.x gave a helper's connection (FTP data, IRC DCC) its own masquerade
 * port from the generation's range; today the helper's NAT keeps the
 * inside host's port.  The packets of such a connection on the outside
 * carry that port on the gateway's side: as destination port when they
 * come in (active FTP: the server's connection, original direction,
 * DNATed; passive FTP: the server's answers, reply direction, of a
 * SNATed connection) and as source port when they leave.  The kernel
 * marks these connections "expected", and they inherit the ct mark of
 * the connection that opened them, so the masquerade bit says whose they
 * are.
 *
 * Those packets go (goto) to a copy of the chain in which each test of
 * that port reads as 2.x would have answered it for a port of the range:
 * a test that holds for the whole range is dropped, a rule whose test
 * holds for none of it is left out, and a test that holds for part of it
 * -- where 2.x's answer depended on the port it picked -- is read the less
 * permissive way: an ACCEPT rule is left out, a DENY/REJECT rule matches.
 * Rules with other targets keep testing the real port.  The copy ends like
 * the chain, with its policy. */
static bool range_covers(const struct ir_match *m, uint32_t lo, uint32_t hi, bool *some)
{
	/* *some: the match holds for some port of lo..hi; returns: for all */
	uint64_t in = 0, width = hi - lo + 1;

	for (unsigned i = 0; i < m->u.ports.n; i++) {
		uint32_t a = m->u.ports.v[i].lo > lo ? m->u.ports.v[i].lo : lo;
		uint32_t b = m->u.ports.v[i].hi < hi ? m->u.ports.v[i].hi : hi;

		if (a <= b)
			in += b - a + 1;	/* ranges of one match do not overlap */
	}
	if (in > width)
		in = width;
	if (m->neg)
		in = width - in;
	*some = in > 0;
	return in == width;
}

/* The copy of r for the view, or NULL when it can never match there;
 * *changed: some test was read differently. */
static struct ir_rule *helper_view_rule(struct lower *L, const struct ir_rule *r,
					enum ir_match_kind kind, uint32_t lo, uint32_t hi,
					bool *changed)
{
	struct ir_rule *c = ir_rule_clone(r);
	bool restrictive = c->verdict.kind == IR_V_DROP || c->verdict.kind == IR_V_REJECT;

	for (struct ir_match *m = c->matches, *next; m; m = next) {
		bool some, all;

		next = m->next;
		if (m->kind != kind || (m->l4proto != P_TCP && m->l4proto != P_UDP))
			continue;
		all = range_covers(m, lo, hi, &some);
		if (!some || (!all && c->verdict.kind == IR_V_ACCEPT)) {
			*changed = true;
			ir_rule_free(c);
			return NULL;
		}
		if (all || restrictive) {
			*changed = true;
			ir_match_remove(c, m);
		} else {
			diag_warning(L->pc->dq, &m->loc, "for connections a masquerading helper "
				     "opened, this rule tests the real port: 2.x tested one of the "
				     "masquerade range %u-%u, which this test covers only in part, and "
				     "the rule neither accepts nor denies", lo, hi);
		}
	}
	return c;
}

static bool helper_view(struct lower *L, struct ir_chain *ch, bool out)
{
	enum ir_match_kind kind = out ? IR_M_SPORT : IR_M_DPORT;
	uint32_t lo = L->gen == LG_GEN_20 ? 60000 : 61000, hi = lo + 4095;
	const struct loc *loc = &L->pc->rs->helpers->loc;
	char *name = xasprintf("%s.helper", ch->name);
	struct ir_chain *view;
	bool changed = false;

	if (ir_chain_find(L->t, name)) {
		free(name);
		return false;
	}
	view = ir_chain_new_user(L->t, name, loc);
	for (const struct ir_rule *r = ch->rules; r; r = r->next) {
		struct ir_rule *c = helper_view_rule(L, r, kind, lo, hi, &changed);

		if (c)
			ir_chain_insert(view, c, 0);
	}
	if (!changed) {
		ir_chain_delete(view);
		free(name);
		return false;
	}
	/* in: (original, DNAT) and (reply, SNAT); out: the other two */
	for (int i = 1; i >= 0; i--) {
		bool reply = (i == 1) != out;
		struct ir_rule *d = ir_rule_new(loc);

		m_ctdir(d, reply);
		ir_match_new(d, IR_M_CTSTATUS, loc)->u.bits = IR_CTS_EXPECTED;
		ir_match_new(d, IR_M_CTSTATE, loc)->u.bits = (i == 1) ? IR_CT_SNAT : IR_CT_DNAT;
		m_ctmark(d, LG_CT_MASQ, LG_CT_MASQ, false);
		d->verdict.kind = IR_V_GOTO;
		d->verdict.loc = *loc;
		d->verdict.u.chain.name = xstrdup(name);
		ir_chain_insert(ch, d, 1);
	}
	free(name);
	return true;
}

static void masq_helper_ports(struct lower *L, struct ir_chain *input, struct ir_chain *output)
{
	uint16_t lo = L->gen == LG_GEN_20 ? 60000 : 61000;

	if (!L->pc->rs->helpers)
		return;
	if (L->gen == LG_GEN_24) {
		masq_helper_ports_24(L);
		return;
	}
	/* no test of those ports: 2.x's choice of port made no difference */
	if (!(helper_view(L, input, false) | helper_view(L, output, true)))
		return;
	for (const struct ir_helper *h = L->pc->rs->helpers; h; h = h->next)
		diag_add(L->pc->dq, DIAG_WARNING, &h->loc,
			 "a rule that tests only part of that range is read the less permissive "
			 "way: ACCEPT does not match, DENY and REJECT do",
			 "connections the %s helper opens for masqueraded hosts keep the inside "
			 "host's port, where Linux %s gave them one of the masquerade range %u-%u; "
			 "the input and output chains test them as if their port on the gateway's "
			 "side were in that range", h->name, L->gen == LG_GEN_20 ? "2.0" : "2.2",
			 lo, lo + 4095);
}

static void masq_rules(struct lower *L)
{
	static const uint8_t pp[] = { P_TCP, P_UDP };
	struct ir_rule *r;
	const struct loc *loc = &L->masq_loc;
	uint16_t lo = L->gen == LG_GEN_20 ? 60000 : 61000;

	/* only TCP, UDP and ICMP get here (see lower_rule); the generation's source port range (pitfall 6) */
	for (unsigned i = 0; i < ARRAY_SIZE(pp); i++) {
		r = ir_rule_new(loc);
		m_ctmark(r, LG_CT_MASQ, LG_CT_MASQ, false);
		m_proto(r, pp[i], false, loc);
		r->verdict.kind = IR_V_MASQUERADE;
		r->verdict.u.nat.has_port = true;
		r->verdict.u.nat.port_lo = lo;
		r->verdict.u.nat.port_hi = (uint16_t)(lo + 4095);
		ir_chain_insert(L->nat_post, r, 0);
	}
	r = ir_rule_new(loc);
	m_ctmark(r, LG_CT_MASQ, LG_CT_MASQ, false);
	r->verdict.kind = IR_V_MASQUERADE;
	ir_chain_insert(L->nat_post, r, 0);
}

static void dnat_to(struct ir_rule *r, const struct ir_addr *a, uint16_t port)
{
	r->verdict.kind = IR_V_DNAT;
	r->verdict.u.nat.has_addr = true;
	addr_copy(&r->verdict.u.nat.addr, a);
	r->verdict.u.nat.addr.plen = 32;
	if (port) {
		r->verdict.u.nat.has_port = true;
		r->verdict.u.nat.port_lo = r->verdict.u.nat.port_hi = port;
	}
}

static bool fw_key_eq(const struct lg_forward *a, const struct lg_forward *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == LG_FW_PORTFW)
		return a->proto == b->proto && addr_eq(&a->laddr, &b->laddr) && a->lport == b->lport;
	if (a->kind == LG_FW_MFW)
		return a->fwmark == b->fwmark;
	return false;
}

static void fw_dport(struct ir_rule *r, uint8_t proto, uint32_t lo, uint32_t hi,
		     const struct loc *loc)
{
	struct ir_match *m;

	m_proto(r, proto, false, loc);	/* iptables wants -p before --dport */
	m = ir_match_new(r, IR_M_DPORT, loc);

	m->l4proto = proto;
	m->u.ports.n = 1;
	m->u.ports.v = xmalloc(sizeof(struct ir_range));
	m->u.ports.v[0].lo = lo;
	m->u.ports.v[0].hi = hi;
}

/* Load sharing among several entries for one key (portfw: local address
 * and port; mfw: mark), ip_masq_portfw.c / ip_masq_mfw.c of 2.2: the
 * entry at the head of the list takes `pref` new connections, then goes
 * to the tail.  portfw adds at the head (the last -a is served first),
 * mfw -A at the tail (script order).  mfw pref 0 never rotates: once such
 * an entry reaches the head it takes every later connection.
 * Makes r's DNAT the rotation, or returns the one target it amounts to;
 * NULL after an error. */
#define RR_MAX_PERIOD 4096

static const struct lg_forward *fw_share(struct lower *L, const struct lg_forward *f,
					 struct ir_rule *r, bool quiet)
{
	VEC(const struct lg_forward *) v = { 0 };
	const struct lg_forward *one = NULL;
	unsigned period = 0;

	for (const struct lg_forward *e = f; e; e = e->next)
		if (e == f || fw_key_eq(e, f))
			vec_push(&v, e);
	if (v.n == 1) {
		one = f;
		goto out;
	}
	if (f->kind == LG_FW_PORTFW)
		for (size_t i = 0; i < v.n / 2; i++) {
			const struct lg_forward *t = v.v[i];

			v.v[i] = v.v[v.n - 1 - i];
			v.v[v.n - 1 - i] = t;
		}
	for (size_t i = 0; i < v.n; i++) {
		if (v.v[i]->pref == 0) {
			/* mfw: the rotation stops here for good */
			if (i > 0 && !quiet)
				diag_warning(L->pc->dq, &v.v[i]->loc, "an mfw entry with preference 0 "
					     "takes every connection once the rotation reaches it; "
					     "masqc sends them all to it from the start (2.2 gave "
					     "the %zu entr%s before it their turn once first)", i,
					     i == 1 ? "y" : "ies");
			one = v.v[i];
			goto out;
		}
		if ((v.v[i]->rport != 0) != (v.v[0]->rport != 0)) {
			if (!quiet)
				diag_add(L->pc->dq, DIAG_ERROR, &v.v[i]->loc, "give every entry of this mark a "
				 "port, or none", "masqc cannot share one mark's connections among "
				 "targets with and without a port");
			lerr(L);
			goto out;
		}
		period += v.v[i]->pref;
	}
	if (period > RR_MAX_PERIOD) {
		if (!quiet)
			diag_add(L->pc->dq, DIAG_ERROR, &f->loc, "smaller preferences keep the rotation the "
			 "same in proportion", "the preferences of the entries for this %s add up to "
			 "%u; masqc writes one slot per connection of the rotation and allows %u",
			 f->kind == LG_FW_MFW ? "mark" : "address and port", period, RR_MAX_PERIOD);
		lerr(L);
		goto out;
	}
	r->verdict.kind = IR_V_DNAT;
	r->verdict.u.nat.nrr = (unsigned)v.n;
	r->verdict.u.nat.rr = xzalloc(v.n * sizeof(struct ir_nat_target));
	for (size_t i = 0; i < v.n; i++) {
		addr_copy(&r->verdict.u.nat.rr[i].addr, &v.v[i]->raddr);
		r->verdict.u.nat.rr[i].addr.plen = 32;
		r->verdict.u.nat.rr[i].port = v.v[i]->rport;
		r->verdict.u.nat.rr[i].weight = v.v[i]->pref;
	}
	if (!quiet && f->kind == LG_FW_MFW && v.v[0]->rport)
		diag_warning(L->pc->dq, &f->loc, "with a port, a mark's forward is written once for "
			     "tcp and once for udp, each counting its own connections; 2.2 took "
			     "the turns of both protocols together");
	if (!quiet)
		diag_note(L->pc->dq, &f->loc, "%zu targets share this %s's new connections in turn, "
		  "each as many in a row as its preference (%s): a counter in the rule (nft "
		  "numgen, iptables -m statistic --mode nth)", v.n,
		  f->kind == LG_FW_MFW ? "mark" : "address and port",
		  f->kind == LG_FW_MFW ? "-A order" : "the last -a first, as 2.2 kept them");
out:
	vec_free(&v);
	return one;
}

static void fw_dnat(struct lower *L, const struct lg_forward *f, struct ir_rule *r, bool quiet)
{
	const struct lg_forward *one = fw_share(L, f, r, quiet);

	if (one)
		dnat_to(r, &one->raddr, one->rport);
}

/* ipmasqadm autofw / ipautofw with a control port (-c PROTO PORT), after
 * Linux 2.2 net/ipv4/ip_masq_autofw.c (2.0: ip_masq.c, the same code):
 *
 *  - every masqueraded packet (ip_fw_masquerade -> autofw_out_update) to
 *    the control port records its inside source as the entry's host
 *    (`where`, last one wins) and, with the timer (no -u), restarts a 15 s
 *    timer;
 *  - every TCP/UDP packet to the gateway on the range that no masquerade
 *    entry knows (ip_fw_demasquerade -> autofw_in_create) is forwarded to
 *    `where`.  The range is looked up with reqact = 0 in both callers, so
 *    the ACTIVE and SECURE tests of ip_autofw_check_range never apply: any
 *    outside host gets in, not only the server the inside host contacted
 *    (the help text's "secure mode" was never enforced);
 *  - when the timer runs out, secure mode (the default; -i and -h clear it)
 *    sets `where` to 0; insecure mode keeps it;
 *  - while `where` is 0 (nothing recorded yet, or the window closed in
 *    secure mode) the packet is rewritten to 0.0.0.0, which routing refuses
 *    as a martian: it is dropped, and the gateway's own servers on those
 *    ports are unreachable.  The masquerade entry made for it stays: later
 *    packets of that flow (outside address and port, gateway address and
 *    port) find it first and are dropped too, even once a host is
 *    recorded, until it expires -- udp: the udp masquerade timeout after
 *    the flow's last packet; tcp (2.2): its state's timeout, at most 2 min
 *    (TIME_WAIT) for a flow whose packets all come from outside; tcp (2.0):
 *    the tcp timeout;
 *  - -h HOST with -c: `where` starts as HOST (and SECURE is cleared).
 *
 * Here: a map of one element, key `ct l3proto` (one value in the table),
 * the recorded host as data, elements expiring after 15 s in secure mode
 * with the timer (flags timeout) and never otherwise.  The trigger runs in
 * its own forward chain after the forward emulation (priority 10), on
 * packets it let through of connections it masqueraded, before the output
 * chain as in 2.2; delete + add replaces the host and restarts the
 * timeout (an `update` would keep the first host).  In nat prerouting, like
 * a static range: the DNAT to the map's address unless the flow is in the
 * set of refused flows, then a drop that puts the flow into that set (or
 * restarts its timeout) -- for when the map is empty, and for the refused
 * flows.  2.x searched the entries newest first (ip_autofw_add
 * pushes at the head); the rules here follow the script's order, as the
 * static ranges do, which differs only for overlapping ranges. */
static int autofw_dynamic(struct lower *L, struct lg_forward *f)
{
	static const enum ir_dynset_op ops[] = { IR_DYNSET_DELETE, IR_DYNSET_ADD };
	bool secure = !f->autofw_insecure, timer = !f->autofw_notimer;
	struct ir_rule *r;
	struct ir_map *map, *refused = NULL;
	struct ir_match *m;
	char *name, *rname = NULL;

	if (f->proto != P_TCP && f->proto != P_UDP)
		return diag_error(L->pc->dq, &f->loc, "autofw is for tcp or udp only");
	if (f->ctlproto != P_TCP && f->ctlproto != P_UDP)
		return diag_error(L->pc->dq, &f->loc, "the autofw control port is tcp or udp only");
	name = xasprintf("autofw_%u", ++L->autofw_maps);
	map = ir_map_new(L->t, name, IR_MAPKEY_L3PROTO, secure && timer ? 15000 : 0, &f->loc);
	if (!map) {
		free(name);
		return diag_error(L->pc->dq, &f->loc, "internal error: autofw map exists");
	}
	if (f->autofw_static) {
		ir_map_add_elem(map, ir_map_key_value(IR_MAPKEY_L3PROTO, IR_FAM_IPV4), &f->raddr);
	} else {
		/* the flows 2.x refused while no host was recorded; with -h
		 * a host always is */
		uint32_t tout;

		if (f->proto == P_UDP)
			tout = L->st->timeouts[2] ? L->st->timeouts[2] : 300;
		else if (L->gen == LG_GEN_20)
			tout = L->st->timeouts[0] ? L->st->timeouts[0] : 15 * 60;
		else
			tout = 2 * 60;
		rname = xasprintf("%s_refused", name);
		refused = ir_map_new(L->t, rname, IR_MAPKEY_FLOW, tout * 1000, &f->loc);
		if (!refused) {
			free(name);
			free(rname);
			return diag_error(L->pc->dq, &f->loc, "internal error: autofw set exists");
		}
		refused->data = IR_MAPDATA_NONE;
	}

	/* the trigger: a packet ip_fw_masquerade saw (a forward MASQ verdict)
	 * going to the control port.  Those are the original direction of a
	 * masqueraded connection -- not of one a helper opened towards the
	 * inside host, which 2.x de-masqueraded -- and the reply direction of
	 * a DNATed one: the replies of port forwards (and of the helpers'
	 * connections), which needed MASQ.  A port forward is DNATed too. */
	for (int reply = 0; reply < 2; reply++) {
		r = ir_rule_new(&f->loc);
		m_ctdir(r, reply);
		if (reply)
			m_ctmark(r, LG_CT_MASQ, LG_CT_MASQ, false);
		else
			m_ctmark(r, LG_CT_MASQ | LG_CT_FWD, LG_CT_MASQ, false);
		m = ir_match_new(r, IR_M_CTSTATE, &f->loc);
		m->u.bits = IR_CT_DNAT;
		m->neg = !reply;
		fw_dport(r, f->ctlproto, f->ctlport, f->ctlport, &f->loc);
		for (unsigned i = 0; i < ARRAY_SIZE(ops); i++) {
			struct ir_stmt *s = ir_stmt_new(r, IR_S_DYNSET, &f->loc);

			s->u.dynset.op = ops[i];
			s->u.dynset.map = xstrdup(name);
			s->u.dynset.key = IR_MAPKEY_L3PROTO;
			s->u.dynset.data = IR_MAPDATA_SADDR;
		}
		ir_chain_insert(L->autofw, r, 0);
	}

	/* nat prerouting: the DNAT, then the drop for when the map is empty */
	for (int dnat = 1; dnat >= 0; dnat--) {
		r = ir_rule_new(&f->loc);
		m_iface(r, false, "lo", true, &f->loc);
		m = ir_match_new(r, IR_M_ADDRTYPE, &f->loc);
		m->u.addrtype.dst = IR_AT_LOCAL;
		fw_dport(r, f->proto, f->ports.lo, f->ports.hi, &f->loc);
		if (dnat && refused) {
			m = ir_match_new(r, IR_M_SET, &f->loc);
			m->neg = true;
			m->l4proto = f->proto;
			m->u.set.name = xstrdup(rname);
			m->u.set.key = IR_MAPKEY_FLOW;
		} else if (refused) {
			struct ir_stmt *s = ir_stmt_new(r, IR_S_DYNSET, &f->loc);

			s->u.dynset.op = IR_DYNSET_UPDATE;
			s->u.dynset.map = xstrdup(rname);
			s->u.dynset.key = IR_MAPKEY_FLOW;
			s->u.dynset.data = IR_MAPDATA_NONE;
			s->u.dynset.l4proto = f->proto;
		}
		if (dnat) {
			s_ctmark_or(r, LG_CT_FWD, &f->loc);
			r->verdict.kind = IR_V_DNAT;
			r->verdict.loc = f->loc;
			r->verdict.u.nat.addr_map = xstrdup(name);
			r->verdict.u.nat.addr_map_key = IR_MAPKEY_L3PROTO;
		} else {
			r->verdict.kind = IR_V_DROP;
		}
		ir_chain_insert(L->nat_pre, r, 0);
	}
	if (refused && f->proto == P_TCP)
		diag_add(L->pc->dq, DIAG_WARNING, &f->loc, "never shorter than 2.x's: a refused flow "
			 "is never let through earlier than it was", "a tcp flow to %u-%u refused "
			 "while no host was recorded stays refused until %u s after its last packet; "
			 "%s", f->ports.lo, f->ports.hi, refused->timeout_ms / 1000,
			 L->gen == LG_GEN_20 ? "2.0 forgot it at once after a RST from outside" :
			 "2.2 followed its tcp state (1 min after a SYN, at most 2 min)");
	free(name);
	free(rname);
	return 0;
}

static int forward_rules(struct lower *L)
{
	int ret = 0;

	for (struct lg_forward *f = L->st->fws; f; f = f->next) {
		struct ir_rule *r;
		bool dup = false;

		for (struct lg_forward *e = L->st->fws; e != f; e = e->next)
			if (fw_key_eq(e, f))
				dup = true;
		if (dup)
			continue;	/* part of the first entry's rotation (fw_share) */
		switch (f->kind) {
		case LG_FW_PORTFW:
			if (f->proto != P_TCP && f->proto != P_UDP) {
				ret = diag_error(L->pc->dq, &f->loc, "port forwarding is for tcp "
						 "or udp only");
				continue;
			}
			r = ir_rule_new(&f->loc);
			/* never for connections from the firewall itself */
			m_iface(r, false, "lo", true, &f->loc);
			m_addr(r, true, &f->laddr, false);
			fw_dport(r, f->proto, f->lport, f->lport, &f->loc);
			s_ctmark_or(r, LG_CT_FWD, &f->loc);
			fw_dnat(L, f, r, false);
			ir_chain_insert(L->nat_pre, r, 0);
			break;
		case LG_FW_MFW: {
			static const uint8_t pp[] = { P_TCP, P_UDP };

			/* the fwmark of the connection's first packet, set by
			 * an input rule (-m), which runs before this chain */
			for (unsigned i = 0; i < (f->rport ? 2u : 1u); i++) {
				struct ir_match *m;

				r = ir_rule_new(&f->loc);
				m = ir_match_new(r, IR_M_MARK, &f->loc);
				m->u.markmask.mask = 0xffffffffu;
				m->u.markmask.value = f->fwmark;
				ir_match_new(r, IR_M_CTSTATE, &f->loc)->u.bits = IR_CT_NEW;
				if (f->rport)
					m_proto(r, pp[i], false, &f->loc);
				s_ctmark_or(r, LG_CT_FWD, &f->loc);
				fw_dnat(L, f, r, i > 0);
				ir_chain_insert(L->nat_pre, r, 0);
			}
			break;
		}
		case LG_FW_AUTOFW: {
			struct ir_match *m;

			if (f->ctlport) {
				ret |= autofw_dynamic(L, f);
				continue;
			}
			if (f->proto != P_TCP && f->proto != P_UDP) {
				ret = diag_error(L->pc->dq, &f->loc, "autofw is for tcp or udp only");
				continue;
			}
			r = ir_rule_new(&f->loc);
			m_iface(r, false, "lo", true, &f->loc);
			m = ir_match_new(r, IR_M_ADDRTYPE, &f->loc);
			m->u.addrtype.dst = IR_AT_LOCAL;
			fw_dport(r, f->proto, f->ports.lo, f->ports.hi, &f->loc);
			s_ctmark_or(r, LG_CT_FWD, &f->loc);
			dnat_to(r, &f->raddr, 0);
			ir_chain_insert(L->nat_pre, r, 0);
			break;
		}
		}
	}
	if (L->fwd && !L->masq)
		diag_warning(L->pc->dq, &L->st->fws->loc, "no MASQ rule or policy exists, so "
			     "replies of forwarded connections are dropped, as in 2.2, where "
			     "they left with the inside address (ipmasqadm(8): the forward "
			     "chain must masquerade them)");
	return ret;
}

static void timeouts(struct lower *L)
{
	static const char *const keys[3][2] = {
		{ "net.netfilter.nf_conntrack_tcp_timeout_established", NULL },
		{ "net.netfilter.nf_conntrack_tcp_timeout_fin_wait", NULL },
		{ "net.netfilter.nf_conntrack_udp_timeout", "net.netfilter.nf_conntrack_udp_timeout_stream" },
	};
	struct lg_state *st = L->st;

	if (!st->has_timeouts)
		return;
	if (L->gen == LG_GEN_24) {
		diag_note(L->pc->dq, &st->timeouts_loc, "masquerading timeouts are ignored: the "
			  "2.4 compatibility layer ignored them too");
		return;
	}
	for (int i = 0; i < 3; i++) {
		char v[16];

		if (!st->timeouts[i])
			continue;
		snprintf(v, sizeof(v), "%" PRIu32, st->timeouts[i]);
		for (int j = 0; j < 2 && keys[i][j]; j++)
			ir_add_sysctl(L->pc->rs, keys[i][j], v, &st->timeouts_loc);
	}
	diag_note(L->pc->dq, &st->timeouts_loc, "masquerading timeouts become conntrack "
		  "sysctls, which apply to every tracked connection, not only masqueraded ones");
}

/* ---- lg_lower ----------------------------------------------------------------------------- */

static struct ir_chain *base(struct lower *L, const char *name, enum ir_hook hook,
			     enum ir_chain_type type, int prio)
{
	return ir_chain_new_base(L->t, name, hook, type, prio, IR_POLICY_ACCEPT, &loc_internal);
}

static void drop_if_empty(struct ir_chain *c)
{
	if (c && !c->nrules && c->policy == IR_POLICY_ACCEPT)
		ir_chain_delete(c);
}

int lg_lower(struct parse_ctx *pc, enum lg_generation gen)
{
	struct lg_state *st = pc->legacy;
	struct lower L = { .pc = pc, .st = st };
	struct ir_chain *acct_in, *input, *forward, *output, *acct_out;
	chain_vec order = { 0 };

	if (!st || !st->any)
		return 0;
	if (gen == LG_GEN_AUTO)
		gen = st->seen[LG_IPCHAINS] ? LG_GEN_22 : LG_GEN_20;
	L.gen = gen;
	L.masq = any_target(st, LG_T_MASQ, &L.masq_loc);
	L.fwd = st->fws != NULL;
	if (L.fwd)
		L.fwd_loc = st->fws->loc;
	L.t = ir_table_get_custom(pc->rs, IR_FAM_IPV4, LG_TABLE);
	if (!L.t)
		return diag_error(pc->dq, &loc_internal, "internal error: no legacy table");
	/* hook order, so the listing reads like the packet's path */
	acct_in = base(&L, "acct_in", IR_HOOK_PREROUTING, IR_CHAIN_FILTER, -160);
	input = base(&L, "input", IR_HOOK_PREROUTING, IR_CHAIN_FILTER, -150);
	L.nat_pre = base(&L, "nat_pre", IR_HOOK_PREROUTING, IR_CHAIN_NAT, -100);
	forward = base(&L, "forward", IR_HOOK_FORWARD, IR_CHAIN_FILTER, 0);
	L.autofw = base(&L, "autofw", IR_HOOK_FORWARD, IR_CHAIN_FILTER, 10);
	L.nat_post = base(&L, "nat_post", IR_HOOK_POSTROUTING, IR_CHAIN_NAT, 100);
	output = base(&L, "output", IR_HOOK_POSTROUTING, IR_CHAIN_FILTER, 110);
	acct_out = base(&L, "acct_out", IR_HOOK_POSTROUTING, IR_CHAIN_FILTER, 120);

	for (struct lg_chain *c = st->chains; c; c = c->next)
		c->mark = 0;
	mark_contexts(&L, chain_by_kind(st, LG_CH_INPUT), 1u << CTX_IN);
	mark_contexts(&L, chain_by_kind(st, LG_CH_FORWARD), 1u << CTX_FWD);
	mark_contexts(&L, chain_by_kind(st, LG_CH_OUTPUT), 1u << CTX_OUT);
	for (struct lg_chain *c = st->chains; c; c = c->next)
		c->unreached = c->kind == LG_CH_USER && !c->ctx_mask;
	for (struct lg_chain *c = st->chains; c; c = c->next)
		if (c->unreached)
			mark_contexts(&L, c, 1u << CTX_IN);
	for (struct lg_chain *c = st->chains; c; c = c->next)
		c->mark = 0;
	for (struct lg_chain *c = st->chains; c; c = c->next)
		order_chains(&L, c, &order);
	if (L.err == 0) {
		for (size_t i = 0; i < order.n; i++)
			lower_user_chain(&L, order.v[i]);
		lower_builtin(&L, acct_in, chain_by_kind(st, LG_CH_ACCT_IN), CTX_ACCT_IN);
		lower_builtin(&L, input, chain_by_kind(st, LG_CH_INPUT), CTX_IN);
		lower_builtin(&L, forward, chain_by_kind(st, LG_CH_FORWARD), CTX_FWD);
		lower_builtin(&L, output, chain_by_kind(st, LG_CH_OUTPUT), CTX_OUT);
		lower_builtin(&L, acct_out, chain_by_kind(st, LG_CH_ACCT_OUT), CTX_ACCT_OUT);
		if (L.masq) {
			masq_rules(&L);
			masq_helper_ports(&L, input, output);
		}
		forward_rules(&L);
		timeouts(&L);
	}
	vec_free(&order);
	drop_if_empty(acct_in);
	drop_if_empty(input);
	drop_if_empty(L.nat_pre);
	drop_if_empty(forward);
	drop_if_empty(L.autofw);
	drop_if_empty(L.nat_post);
	drop_if_empty(output);
	drop_if_empty(acct_out);
	return L.err;
}
