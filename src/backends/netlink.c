/* netlink.c -- masqc's ruleset as one nf_tables transaction, and back.
 *
 * Why a batch, and what is in it.  nf_tables applies a batch (messages
 * between NFNL_MSG_BATCH_BEGIN and NFNL_MSG_BATCH_END, sent in one
 * sendmsg) as one transaction: if any message fails, the kernel aborts
 * the whole batch and keeps the ruleset it had.  The batch here is:
 *
 *   for ip and ip6:  DESTROYTABLE masqc            (kernel >= 6.3), or
 *                    NEWTABLE masqc; DELTABLE masqc (the `table x; delete
 *                                                    table x` idiom of nft)
 *   for each family with content:
 *                    NEWTABLE masqc, NEWOBJ ct helper..., NEWCHAIN...,
 *                    then per rule: NEWSET + NEWSETELEM for each anonymous
 *                    set it uses, NEWRULE.  (Past 1024 lists in a table:
 *                    NEWSET + NEWSETELEM... for a handful of keyed sets
 *                    before the rules instead; see lookup_nl.)
 *
 * No other table is named, so docker/libvirt/firewalld tables are never
 * touched.  Each message has its own sequence number; the kernel answers
 * only failures (no NLM_F_ACK), with the sequence number of the message it
 * refused, which maps back to the object and so to the source line.
 *
 * Sameness with nft -f.  The objects are the ones nft 1.0.6 makes of
 * nft_emit()'s text, expression for expression: the same protocol
 * dependencies (`tcp dport` loads meta l4proto first), the same prefix
 * shortening (a /24 compares 3 bytes), the same merge of adjacent
 * transport header matches (`tcp sport 1 tcp dport 2` is one 4-byte
 * compare), the same anonymous sets (flags, key types, interval encoding,
 * userdata) -- so `nft list ruleset` after either load prints the same
 * text, and tests/netlink-equiv.sh proves it for every golden.  The rule's
 * source location travels in a private userdata TLV that nft ignores.
 *
 * Check mode.  As `nft -c` does, a dry run sends the batch without
 * NFNL_MSG_BATCH_END: the kernel builds and validates every object, then
 * aborts the transaction.  That needs CAP_NET_ADMIN in the network
 * namespace only, so it works in `unshare -rn`.
 *
 * Reading back.  nl_ruleset_read() dumps masqc's tables (rules chain by
 * chain) into the same libnftnl objects, except the rules, which stay the
 * kernel's messages; nl_render() prints a compiled batch and a readback
 * through one printer (a rule's message is written from its attributes
 * when every expression is of a shape whose text is known to be
 * libnftnl's, else parsed into an object first), so the two agree byte
 * for byte after a commit.
 * Attributes the kernel fills in by itself (log level 4 when none is
 * given) are set explicitly when building, so the compiled side already
 * looks like what the kernel will report.
 */
#include "config.h"

#include "netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>
#include <linux/netfilter/nf_log.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "../util.h"
#include "backend.h"

/* The rule's source location ("masqc:FILE:LINE") in a userdata TLV of our
 * own: nft parses only the types it knows (comment, ebtables policy) and
 * skips the rest, so `nft list ruleset` is not disturbed by it. */
#define NL_UDATA_RULE_LOC	0x6d
#define NL_LOC_PREFIX		"masqc:"

/* Not in the uapi headers of older systems; the kernel has it since 6.3
 * and answers EINVAL/EOPNOTSUPP before that. */
#define NL_MSG_DESTROYTABLE	26

#define NL_TABLE		"masqc"
/* past this many anonymous sets in a table, lists go into keyed sets
 * (lookup_nl, and "shared sets" below for why) */
#define NL_ANON_SETS_MAX	1024
/* where a keyed lookup's list id goes (see lookup_nl) */
#define NL_REG_LISTID		NFT_REG_1
#define NL_TCPOPT_MAXSEG	2

/* ---- the object store shared by batches and readbacks ---------------------------- */

struct nl_rule {
	struct nftnl_rule *r;	/* NULL: read back, kept as the kernel's message */
	struct loc loc;		/* built: the IR rule; read back: loc_internal */
	unsigned set0, nsets;	/* built: its anonymous sets in nl_table.sets */
	size_t raw;		/* read back: its message's offset in nl_table.raw */
};

struct nl_chain {
	struct nftnl_chain *c;
	struct loc loc;
};

struct nl_obj {
	struct nftnl_obj *o;
	struct loc loc;
};

struct nl_set {
	struct nftnl_set *s;
	struct loc loc;
};

struct nl_table {
	uint16_t family;
	struct nftnl_table *t;	/* NULL: the family's table is only removed */
	VEC(struct nl_obj) objs;
	VEC(struct nl_set) sets;
	VEC(struct nl_chain) chains;
	VEC(struct nl_rule) rules;
	struct strbuf raw;	/* read back: the rules' messages, one after another */
};

struct nl_ruleset {
	VEC(struct nl_table) tables;
};

static void nl_table_fini(struct nl_table *t)
{
	for (size_t i = 0; i < t->objs.n; i++)
		nftnl_obj_free(t->objs.v[i].o);
	for (size_t i = 0; i < t->sets.n; i++)
		nftnl_set_free(t->sets.v[i].s);
	for (size_t i = 0; i < t->chains.n; i++)
		nftnl_chain_free(t->chains.v[i].c);
	for (size_t i = 0; i < t->rules.n; i++)
		if (t->rules.v[i].r)
			nftnl_rule_free(t->rules.v[i].r);
	sb_free(&t->raw);
	vec_free(&t->objs);
	vec_free(&t->sets);
	vec_free(&t->chains);
	vec_free(&t->rules);
	if (t->t)
		nftnl_table_free(t->t);
}

static void nl_ruleset_fini(struct nl_ruleset *rs)
{
	for (size_t i = 0; i < rs->tables.n; i++)
		nl_table_fini(&rs->tables.v[i]);
	vec_free(&rs->tables);
}

void nl_ruleset_free(struct nl_ruleset *rs)
{
	if (!rs)
		return;
	nl_ruleset_fini(rs);
	free(rs);
}

static const char *nl_family_name(uint32_t f)
{
	switch (f) {
	case NFPROTO_IPV4: return "ip";
	case NFPROTO_IPV6: return "ip6";
	case NFPROTO_INET: return "inet";
	}
	return "?";
}

/* ---- rendering ------------------------------------------------------------------------ */

static void render_hex(struct strbuf *sb, const void *data, uint32_t len)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = data;
	char buf[2 * 64];

	while (len) {
		uint32_t n = len < 64 ? len : 64;

		for (uint32_t i = 0; i < n; i++) {
			buf[2 * i] = hex[p[i] >> 4];
			buf[2 * i + 1] = hex[p[i] & 15];
		}
		sb_addn(sb, buf, 2 * n);
		p += n;
		len -= n;
	}
}

/* A compiled batch names every anonymous set "__set%d" (the kernel numbers
 * them) and refers to it by transaction id; a readback has real names. */
static struct nftnl_set *table_set_find(const struct nl_table *t, const char *name,
					const struct nftnl_expr *lookup)
{
	if (nftnl_expr_is_set(lookup, NFTNL_EXPR_LOOKUP_SET_ID)) {
		uint32_t id = nftnl_expr_get_u32(lookup, NFTNL_EXPR_LOOKUP_SET_ID);

		for (size_t i = 0; i < t->sets.n; i++)
			if (nftnl_set_is_set(t->sets.v[i].s, NFTNL_SET_ID) &&
			    nftnl_set_get_u32(t->sets.v[i].s, NFTNL_SET_ID) == id)
				return t->sets.v[i].s;
	}
	for (size_t i = 0; i < t->sets.n; i++) {
		const char *n = nftnl_set_get_str(t->sets.v[i].s, NFTNL_SET_NAME);

		if (n && strcmp(n, name) == 0)
			return t->sets.v[i].s;
	}
	return NULL;
}

static int elem_line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct elem_lines {
	VEC(char *) v;
};

static int render_elem_cb(struct nftnl_set_elem *e, void *data)
{
	struct elem_lines *el = data;
	struct strbuf sb = { 0 };
	const void *p;
	uint32_t len;

	p = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
	if (p)
		render_hex(&sb, p, len);
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_KEY_END)) {
		p = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY_END, &len);
		sb_add(&sb, "-");
		render_hex(&sb, p, len);
	}
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
	    nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS))
		sb_addf(&sb, "/f%" PRIu32, nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS));
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN))
		sb_addf(&sb, ":%s", nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN));
	else if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_VERDICT))
		sb_addf(&sb, ":v%d", (int)nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_VERDICT));
	else if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_DATA)) {
		p = nftnl_set_elem_get(e, NFTNL_SET_ELEM_DATA, &len);
		sb_add(&sb, ":");
		render_hex(&sb, p, len);
	}
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_USERDATA)) {
		p = nftnl_set_elem_get(e, NFTNL_SET_ELEM_USERDATA, &len);
		sb_add(&sb, "/u");
		render_hex(&sb, p, len);
	}
	vec_push(&el->v, sb_steal(&sb));
	return 0;
}

/* The set's definition; elements sorted (the kernel lists an rbtree in
 * its own order). */
static void render_set_body(struct strbuf *sb, struct nftnl_set *s, unsigned flags)
{
	struct elem_lines el = { { 0 } };
	uint32_t sflags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
	const void *ud;
	uint32_t len;

	/* inline: whether the set has a name of its own does not matter */
	if (flags & NL_RENDER_INLINE_SETS)
		sflags &= ~(uint32_t)NFT_SET_ANONYMOUS;
	sb_addf(sb, "flags 0x%" PRIx32 " key %" PRIu32 "/%" PRIu32,
		sflags, nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE),
		nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN));
	if (nftnl_set_is_set(s, NFTNL_SET_DATA_TYPE))
		sb_addf(sb, " data %" PRIu32 "/%" PRIu32, nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE),
			nftnl_set_get_u32(s, NFTNL_SET_DATA_LEN));
	if (nftnl_set_is_set(s, NFTNL_SET_OBJ_TYPE))
		sb_addf(sb, " objtype %" PRIu32, nftnl_set_get_u32(s, NFTNL_SET_OBJ_TYPE));
	if (nftnl_set_is_set(s, NFTNL_SET_POLICY) && nftnl_set_get_u32(s, NFTNL_SET_POLICY))
		sb_addf(sb, " policy %" PRIu32, nftnl_set_get_u32(s, NFTNL_SET_POLICY));
	if (nftnl_set_is_set(s, NFTNL_SET_DESC_SIZE) && nftnl_set_get_u32(s, NFTNL_SET_DESC_SIZE))
		sb_addf(sb, " size %" PRIu32, nftnl_set_get_u32(s, NFTNL_SET_DESC_SIZE));
	if (nftnl_set_is_set(s, NFTNL_SET_TIMEOUT) && nftnl_set_get_u64(s, NFTNL_SET_TIMEOUT))
		sb_addf(sb, " timeout %" PRIu64 "ms", nftnl_set_get_u64(s, NFTNL_SET_TIMEOUT));
	if (nftnl_set_is_set(s, NFTNL_SET_DESC_CONCAT)) {
		const uint8_t *f = nftnl_set_get_data(s, NFTNL_SET_DESC_CONCAT, &len);

		sb_add(sb, " concat");
		for (uint32_t i = 0; i < len && f[i]; i++)
			sb_addf(sb, "%s%u", i ? "." : " ", f[i]);
	}
	ud = nftnl_set_get_data(s, NFTNL_SET_USERDATA, &len);
	if (ud && len) {
		sb_add(sb, " udata ");
		render_hex(sb, ud, len);
	}
	/* the elements of a set the packet path changes (flags eval) are
	 * state, like counters: what the rules learned, not what was loaded */
	if (!(sflags & NFT_SET_EVAL))
		nftnl_set_elem_foreach(s, render_elem_cb, &el);
	if (el.v.n)	/* qsort(NULL, 0, ...) is undefined (UBSan) */
		qsort(el.v.v, el.v.n, sizeof(el.v.v[0]), elem_line_cmp);
	sb_add(sb, " {");
	for (size_t i = 0; i < el.v.n; i++) {
		sb_addf(sb, "%s%s", i ? ", " : " ", el.v.v[i]);
		free(el.v.v[i]);
	}
	sb_add(sb, " }");
	vec_free(&el.v);
}

/* The lists of a keyed set (see lookup_nl), by id: each list's elements
 * without the id, in key order, as one string.  Built once per set and
 * rendering, so a rule costs its own list, not the whole set. */
struct keyed_index {
	const struct nftnl_set *s;
	char **by_id;		/* [id / 2] for odd ids */
	size_t n;
};

struct keyed_elem {
	const uint8_t *key;
	uint32_t len;
	bool end;
};

static int keyed_elem_cmp(const void *a, const void *b)
{
	const struct keyed_elem *x = a, *y = b;
	int d = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);

	return d ? d : (x->len > y->len) - (x->len < y->len);
}

static int keyed_collect_cb(struct nftnl_set_elem *e, void *data)
{
	VEC(struct keyed_elem) *v = data;
	uint32_t len = 0;
	const uint8_t *k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
	bool end = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
		   (nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END);

	if (k && len > 4)
		vec_push(v, ((struct keyed_elem){ k, len, end }));
	return 0;
}

static uint32_t key_id(const uint8_t *k)
{
	return (uint32_t)k[0] << 24 | (uint32_t)k[1] << 16 | (uint32_t)k[2] << 8 | k[3];
}

static void keyed_index_build(struct keyed_index *ki, struct nftnl_set *s)
{
	VEC(struct keyed_elem) v = { 0 };
	struct strbuf *lists;
	uint32_t max = 0;

	ki->s = s;
	nftnl_set_elem_foreach(s, keyed_collect_cb, &v);
	if (v.n)
		qsort(v.v, v.n, sizeof(v.v[0]), keyed_elem_cmp);
	for (size_t i = 0; i < v.n; i++)
		if (!v.v[i].end && key_id(v.v[i].key) > max)
			max = key_id(v.v[i].key);
	/* ids are odd and dense: anything else is not a list of ours */
	ki->n = max / 2 + 1 <= 2 * v.n + 1 ? max / 2 + 1 : 0;
	ki->by_id = xzalloc((ki->n + 1) * sizeof(*ki->by_id));
	lists = xzalloc((ki->n + 1) * sizeof(*lists));
	for (size_t i = 0; i < v.n; i++) {
		const struct keyed_elem *e = &v.v[i];
		uint32_t id = key_id(e->key);
		struct strbuf *sb;

		if (e->end || id % 2 == 0 || id / 2 >= ki->n)
			continue;
		sb = &lists[id / 2];
		sb_add(sb, sb->len ? ", " : " ");
		render_hex(sb, e->key + 4, e->len - 4);
		if (i + 1 < v.n && v.v[i + 1].end) {
			sb_add(sb, "-");
			render_hex(sb, v.v[i + 1].key + 4, v.v[i + 1].len - 4);
		}
	}
	for (size_t i = 0; i < ki->n; i++)
		ki->by_id[i] = sb_steal(&lists[i]);
	free(lists);
	vec_free(&v);
}

static void keyed_index_free(struct keyed_index *ki, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < ki[i].n; j++)
			free(ki[i].by_id[j]);
		free(ki[i].by_id);
	}
	free(ki);
}

static bool set_is_keyed(const struct nftnl_set *s)
{
	const char *n = nftnl_set_get_str(s, NFTNL_SET_NAME);

	return !(nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS) && n &&
	       !strncmp(n, "masqc_list", 10);
}

struct piece_cache;

struct render_rule_ctx {
	struct strbuf *sb;
	const struct nl_table *t;
	unsigned flags;
	struct keyed_index **ki;	/* per table, built on first use */
	size_t *nki;
	int64_t list_id;		/* of the keyed lookup ahead; -1 none */
	struct piece_cache *pc;		/* read-back rules: texts of expressions met */
	size_t *piece_end;		/* render_rule: where each expression's text ends */
	size_t npiece_end;
	size_t piece_from;		/* and where the first one starts */
};

static const char *keyed_list_text(struct render_rule_ctx *rc, struct nftnl_set *s, uint32_t id)
{
	struct keyed_index *ki = NULL;

	for (size_t i = 0; i < *rc->nki; i++)
		if ((*rc->ki)[i].s == s)
			ki = &(*rc->ki)[i];
	if (!ki) {
		*rc->ki = xrealloc(*rc->ki, (*rc->nki + 1) * sizeof(**rc->ki));
		ki = &(*rc->ki)[(*rc->nki)++];
		keyed_index_build(ki, s);
	}
	return id % 2 && id / 2 < ki->n ? ki->by_id[id / 2] : " ?";
}

static void render_lookup(struct render_rule_ctx *rc, struct nftnl_expr *e)
{
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
	struct nftnl_set *s = name ? table_set_find(rc->t, name, e) : NULL;

	sb_addf(rc->sb, "lookup reg %" PRIu32, nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SREG));
	if (nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG))
		sb_addf(rc->sb, " dreg %" PRIu32, nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_DREG));
	if (nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS) &&
	    nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS))
		sb_addf(rc->sb, " flags 0x%" PRIx32, nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS));
	/* anonymous sets are part of the rule; their names are arbitrary */
	if (s && rc->list_id >= 0 && set_is_keyed(s)) {
		/* the list, not its id: ids depend on the order of lists */
		sb_addf(rc->sb, " list key %" PRIu32 "/%" PRIu32 " flags 0x%" PRIx32 " {%s }",
			nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE), nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN),
			nftnl_set_get_u32(s, NFTNL_SET_FLAGS),
			keyed_list_text(rc, s, (uint32_t)rc->list_id));
		rc->list_id = -1;
	} else if (s && (nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS)) {
		sb_add(rc->sb, " anon ");
		render_set_body(rc->sb, s, rc->flags);
	} else if (s && (rc->flags & NL_RENDER_INLINE_SETS)) {
		sb_add(rc->sb, " anon ");
		render_set_body(rc->sb, s, rc->flags);
	} else {
		sb_addf(rc->sb, " set @%s", name ? name : "?");
	}
}

/* ---- the commonest expressions, formatted here ------------------------- */

/* payload loads, cmp, meta loads and immediates are nine in ten of a big
 * ruleset's expressions, and libnftnl's snprintf (a printf per field) is
 * half of a rendering's time.  The text must stay libnftnl's to the byte
 * (recorded generations hold a hash of it), so each shape (payload base,
 * cmp op, meta key, verdict; what the text's words depend on) is checked
 * against libnftnl the first time it is met in a process: a shape whose
 * text differs -- another libnftnl version -- is left to libnftnl.  The
 * names (meta keys, verdicts) are taken from libnftnl's own text.
 * MASQC_TEST_RENDER_LIBNFTNL=1 (tests): libnftnl for everything. */
enum fx_kind { FX_PAYLOAD, FX_CMP, FX_META, FX_IMM_DATA, FX_IMM_VERDICT, FX_KINDS };
#define FX_SHAPES 64
#define FX_NAME 24

static unsigned char fx_state[FX_KINDS][FX_SHAPES];	/* 0 unseen, 1 same, 2 differs */
static char fx_name[FX_KINDS][FX_SHAPES][FX_NAME];
static pthread_mutex_t fx_mu = PTHREAD_MUTEX_INITIALIZER;
static int fx_off = -1;

struct fx_buf {
	char *p;
	size_t n, cap;
	bool over;
};

static void fx_strn(struct fx_buf *b, const char *s, size_t n)
{
	if (b->n + n >= b->cap) {
		b->over = true;
		return;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void fx_str(struct fx_buf *b, const char *s)
{
	fx_strn(b, s, strlen(s));
}

/* a string literal: its length is known */
#define FX_LIT(b, lit) fx_strn((b), lit, sizeof(lit) - 1)

static void fx_u32(struct fx_buf *b, uint32_t v)
{
	char t[12];
	int i = sizeof(t) - 1;

	t[i] = '\0';
	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	fx_strn(b, t + i, sizeof(t) - 1 - (size_t)i);
}

/* "0x%.8x " per 32-bit word of the data, as libnftnl writes a value */
static void fx_words(struct fx_buf *b, const void *data, uint32_t len)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *d = data;

	for (uint32_t i = 0; i < (len + 3) / 4; i++) {
		uint32_t w = 0;
		char t[12] = "0x";

		memcpy(&w, d + 4 * i, len - 4 * i >= 4 ? 4 : len - 4 * i);
		for (int k = 0; k < 8; k++)
			t[2 + k] = hex[(w >> (28 - 4 * k)) & 0xf];
		t[10] = ' ';
		fx_strn(b, t, 11);
	}
}

static const char *const fx_cmp_ops[] = { "eq", "neq", "lt", "lte", "gt", "gte" };
static const char *const fx_bases[] = { "link", "network", "transport" };

/* A name between two words of libnftnl's text, into fx_name[k][shape]. */
static void fx_learn(enum fx_kind k, unsigned shape, const char *text, const char *before,
		     const char *after)
{
	const char *s = strstr(text, before), *e;

	if (!s)
		return;
	s += strlen(before);
	e = after ? strstr(s, after) : s + strcspn(s, " ");
	if (e && e > s && (size_t)(e - s) < FX_NAME) {
		memcpy(fx_name[k][shape], s, (size_t)(e - s));
		fx_name[k][shape][e - s] = '\0';
	}
}

/* What the text of a formatted expression depends on, from a libnftnl
 * object (fx_of_expr) or from the kernel's attributes (fx_of_raw). */
struct fx_vals {
	enum fx_kind k;
	unsigned shape;
	uint32_t reg;		/* payload/meta/immediate dreg, cmp sreg */
	uint32_t len, off;	/* payload */
	const void *data;	/* cmp, immediate data */
	uint32_t dlen;
	const char *chain;	/* immediate verdict: jump/goto target, or NULL */
};

static bool fx_of_expr(struct nftnl_expr *e, const char *name, struct fx_vals *v)
{
	memset(v, 0, sizeof(*v));
	if (!strcmp(name, "payload")) {
		uint32_t base = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE);

		if (nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_SREG) || base >= 3)
			return false;
		v->k = FX_PAYLOAD, v->shape = base;
		v->len = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN);
		v->off = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET);
		v->reg = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_DREG);
		return true;
	}
	if (!strcmp(name, "cmp")) {
		uint32_t op = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP);

		v->data = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &v->dlen);
		if (op >= 6 || !v->data)
			return false;
		v->k = FX_CMP, v->shape = op;
		v->reg = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_SREG);
		return true;
	}
	if (!strcmp(name, "meta")) {
		uint32_t key = nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY);

		if (nftnl_expr_is_set(e, NFTNL_EXPR_META_SREG) ||
		    !nftnl_expr_is_set(e, NFTNL_EXPR_META_DREG) || key >= FX_SHAPES)
			return false;
		v->k = FX_META, v->shape = key;
		v->reg = nftnl_expr_get_u32(e, NFTNL_EXPR_META_DREG);
		return true;
	}
	if (!strcmp(name, "immediate")) {
		v->reg = nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG);
		if (nftnl_expr_is_set(e, NFTNL_EXPR_IMM_DATA)) {
			v->data = nftnl_expr_get(e, NFTNL_EXPR_IMM_DATA, &v->dlen);
			v->k = FX_IMM_DATA, v->shape = 0;
			return v->data != NULL;
		}
		if (nftnl_expr_is_set(e, NFTNL_EXPR_IMM_VERDICT)) {
			int32_t vd = (int32_t)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT);

			if (vd < -16 || vd > 16)
				return false;
			v->k = FX_IMM_VERDICT, v->shape = (unsigned)(vd + 16);
			if (nftnl_expr_is_set(e, NFTNL_EXPR_IMM_CHAIN))
				v->chain = nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN);
			return true;
		}
	}
	return false;
}

/* Our text of v into b (learning: meta and verdict names not yet known,
 * so their texts stop short). */
static void fx_write(const struct fx_vals *v, struct fx_buf *b, bool learning)
{
	switch (v->k) {
	case FX_PAYLOAD:
		FX_LIT(b, "load ");
		fx_u32(b, v->len);
		FX_LIT(b, "b @ ");
		fx_str(b, fx_bases[v->shape]);
		FX_LIT(b, " header + ");
		fx_u32(b, v->off);
		FX_LIT(b, " => reg ");
		fx_u32(b, v->reg);
		FX_LIT(b, " ");
		return;
	case FX_CMP:
		fx_str(b, fx_cmp_ops[v->shape]);
		FX_LIT(b, " reg ");
		fx_u32(b, v->reg);
		FX_LIT(b, " ");
		fx_words(b, v->data, v->dlen);
		return;
	case FX_META:
		if (learning)
			return;
		FX_LIT(b, "load ");
		fx_str(b, fx_name[FX_META][v->shape]);
		FX_LIT(b, " => reg ");
		fx_u32(b, v->reg);
		FX_LIT(b, " ");
		return;
	case FX_IMM_DATA:
	case FX_IMM_VERDICT:
		FX_LIT(b, "reg ");
		fx_u32(b, v->reg);
		FX_LIT(b, " ");
		if (v->k == FX_IMM_DATA) {
			fx_words(b, v->data, v->dlen);
			return;
		}
		if (learning)
			return;
		fx_str(b, fx_name[FX_IMM_VERDICT][v->shape]);
		if (v->chain) {
			FX_LIT(b, " -> ");
			fx_str(b, v->chain);
		}
		FX_LIT(b, " ");
		return;
	case FX_KINDS:
		break;
	}
}

/* Our text of e into b; the kind and shape it is; false when not ours. */
static bool fx_format(struct nftnl_expr *e, const char *name, struct fx_buf *b, enum fx_kind *k,
		      unsigned *shape, bool learning)
{
	struct fx_vals v;

	if (!fx_of_expr(e, name, &v))
		return false;
	*k = v.k;
	*shape = v.shape;
	fx_write(&v, b, learning);
	return true;
}

/* The attributes nested in nest, by type up to max. */
static void raw_attrs(const struct nlattr *nest, const struct nlattr **tb, unsigned max)
{
	const struct nlattr *a;

	memset(tb, 0, (max + 1) * sizeof(*tb));
	if (!nest)
		return;
	mnl_attr_for_each_nested(a, nest) {
		uint16_t t = mnl_attr_get_type(a);

		if (t <= max)
			tb[t] = a;
	}
}

static bool raw_u32(const struct nlattr *a, uint32_t *v)
{
	if (!a || mnl_attr_get_payload_len(a) < sizeof(uint32_t))
		return false;
	*v = ntohl(mnl_attr_get_u32(a));
	return true;
}

/* The NFTA_DATA_VALUE in a data attribute, or NULL. */
static const void *raw_value(const struct nlattr *data, uint32_t *len)
{
	const struct nlattr *tb[NFTA_DATA_MAX + 1];

	raw_attrs(data, tb, NFTA_DATA_MAX);
	if (!tb[NFTA_DATA_VALUE])
		return NULL;
	*len = mnl_attr_get_payload_len(tb[NFTA_DATA_VALUE]);
	return mnl_attr_get_payload(tb[NFTA_DATA_VALUE]);
}

/* fx_of_expr from the kernel's attributes of an expression, read as
 * libnftnl reads them. */
static bool fx_of_raw(const char *name, const struct nlattr *data, struct fx_vals *v)
{
	const struct nlattr *tb[16];
	uint32_t x;

	memset(v, 0, sizeof(*v));
	raw_attrs(data, tb, 15);
	if (!strcmp(name, "payload")) {
		if (tb[NFTA_PAYLOAD_SREG] || !raw_u32(tb[NFTA_PAYLOAD_BASE], &x) || x >= 3 ||
		    !raw_u32(tb[NFTA_PAYLOAD_LEN], &v->len) ||
		    !raw_u32(tb[NFTA_PAYLOAD_OFFSET], &v->off) ||
		    !raw_u32(tb[NFTA_PAYLOAD_DREG], &v->reg))
			return false;
		v->k = FX_PAYLOAD, v->shape = x;
		return true;
	}
	if (!strcmp(name, "cmp")) {
		if (!raw_u32(tb[NFTA_CMP_OP], &x) || x >= 6 || !raw_u32(tb[NFTA_CMP_SREG], &v->reg) ||
		    !(v->data = raw_value(tb[NFTA_CMP_DATA], &v->dlen)))
			return false;
		v->k = FX_CMP, v->shape = x;
		return true;
	}
	if (!strcmp(name, "meta")) {
		if (tb[NFTA_META_SREG] || !raw_u32(tb[NFTA_META_DREG], &v->reg) ||
		    !raw_u32(tb[NFTA_META_KEY], &x) || x >= FX_SHAPES)
			return false;
		v->k = FX_META, v->shape = x;
		return true;
	}
	if (!strcmp(name, "immediate")) {
		const struct nlattr *dt[NFTA_DATA_MAX + 1], *vt[NFTA_VERDICT_MAX + 1];

		if (!raw_u32(tb[NFTA_IMMEDIATE_DREG], &v->reg))
			return false;
		raw_attrs(tb[NFTA_IMMEDIATE_DATA], dt, NFTA_DATA_MAX);
		if (dt[NFTA_DATA_VALUE]) {
			v->data = mnl_attr_get_payload(dt[NFTA_DATA_VALUE]);
			v->dlen = mnl_attr_get_payload_len(dt[NFTA_DATA_VALUE]);
			v->k = FX_IMM_DATA, v->shape = 0;
			return true;
		}
		raw_attrs(dt[NFTA_DATA_VERDICT], vt, NFTA_VERDICT_MAX);
		if (!raw_u32(vt[NFTA_VERDICT_CODE], &x) || (int32_t)x < -16 || (int32_t)x > 16)
			return false;
		v->k = FX_IMM_VERDICT, v->shape = (unsigned)((int32_t)x + 16);
		if (vt[NFTA_VERDICT_CHAIN]) {
			if (mnl_attr_validate(vt[NFTA_VERDICT_CHAIN], MNL_TYPE_NUL_STRING) < 0)
				return false;
			v->chain = mnl_attr_get_str(vt[NFTA_VERDICT_CHAIN]);
		}
		return true;
	}
	return false;
}

static bool fx_disabled(void)
{
	if (fx_off < 0) {
		const char *env = getenv("MASQC_TEST_RENDER_LIBNFTNL");

		fx_off = env && *env == '1';
	}
	return fx_off;
}

/* e's text (libnftnl's) into buf[size]. */
static void expr_text(struct nftnl_expr *e, const char *name, char *buf, size_t size)
{
	struct fx_buf b = { buf, 0, size, false };
	enum fx_kind k;
	unsigned shape;
	unsigned char st;

	buf[0] = '\0';
	if (fx_disabled() || !fx_format(e, name, &b, &k, &shape, true) || b.over)
		goto libnftnl;
	st = __atomic_load_n(&fx_state[k][shape], __ATOMIC_ACQUIRE);
	if (st == 1) {
		/* only meta loads and verdicts stop short when learning:
		 * the other texts are whole already */
		if (k != FX_META && k != FX_IMM_VERDICT)
			return;
		b.n = 0;
		buf[0] = '\0';
		if (fx_format(e, name, &b, &k, &shape, false) && !b.over)
			return;
		goto libnftnl;
	}
	if (st == 0) {
		/* the first of its shape: learn its names, compare the texts */
		char ref[1024];

		nftnl_expr_snprintf(ref, sizeof(ref), e, NFTNL_OUTPUT_DEFAULT, 0);
		pthread_mutex_lock(&fx_mu);
		if (fx_state[k][shape] == 0) {
			if (k == FX_META)
				fx_learn(k, shape, ref, "load ", " => reg ");
			else if (k == FX_IMM_VERDICT)
				fx_learn(k, shape, strchr(ref + 4, ' ') ? strchr(ref + 4, ' ') : ref, " ",
					 nftnl_expr_is_set(e, NFTNL_EXPR_IMM_CHAIN) ? " -> " : NULL);
			b.n = 0;
			buf[0] = '\0';
			__atomic_store_n(&fx_state[k][shape],
					 fx_format(e, name, &b, &k, &shape, false) && !b.over &&
					 !strcmp(buf, ref) ? 1 : 2, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&fx_mu);
		snprintf(buf, size, "%s", ref);
		return;
	}
libnftnl:
	nftnl_expr_snprintf(buf, size, e, NFTNL_OUTPUT_DEFAULT, 0);
}

static void render_expr(struct render_rule_ctx *rc, struct nftnl_expr *e)
{
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	char buf[1024];

	sb_add(rc->sb, " [");
	if (strcmp(name, "counter") == 0) {
		sb_add(rc->sb, "counter");	/* values change; the statement does not */
	} else if (strcmp(name, "lookup") == 0) {
		render_lookup(rc, e);
	} else if (strcmp(name, "dynset") == 0) {
		/* the kernel reports a timeout of 0 (the set's own) that nft
		 * does not send: the same statement either way */
		char *t;

		nftnl_expr_snprintf(buf, sizeof(buf), e, NFTNL_OUTPUT_DEFAULT, 0);
		if (nftnl_expr_is_set(e, NFTNL_EXPR_DYNSET_TIMEOUT) &&
		    nftnl_expr_get_u64(e, NFTNL_EXPR_DYNSET_TIMEOUT) == 0 &&
		    (t = strstr(buf, "timeout 0ms ")) != NULL)
			memmove(t, t + strlen("timeout 0ms "), strlen(t + strlen("timeout 0ms ")) + 1);
		sb_addf(rc->sb, "%s %s", name, buf);
	} else {
		expr_text(e, name, buf, sizeof(buf));
		sb_add(rc->sb, name);
		sb_addc(rc->sb, ' ');
		sb_add(rc->sb, buf);
	}
	sb_add(rc->sb, "]");
}

/* The immediate that loads a list id for a keyed lookup two expressions
 * later (lookup_nl): its id, or -1. */
static int64_t list_id_load(const struct render_rule_ctx *rc, struct nftnl_expr **ex, size_t n,
			    size_t i)
{
	const char *name;
	const void *d;
	uint32_t len = 0;
	struct nftnl_set *s;

	if (!(rc->flags & NL_RENDER_INLINE_SETS) || i + 2 >= n ||
	    strcmp(nftnl_expr_get_str(ex[i], NFTNL_EXPR_NAME), "immediate") ||
	    nftnl_expr_get_u32(ex[i], NFTNL_EXPR_IMM_DREG) != NL_REG_LISTID ||
	    !(d = nftnl_expr_get(ex[i], NFTNL_EXPR_IMM_DATA, &len)) || len != 4 ||
	    strcmp(nftnl_expr_get_str(ex[i + 2], NFTNL_EXPR_NAME), "lookup") ||
	    nftnl_expr_get_u32(ex[i + 2], NFTNL_EXPR_LOOKUP_SREG) != NL_REG_LISTID)
		return -1;
	name = nftnl_expr_get_str(ex[i + 2], NFTNL_EXPR_LOOKUP_SET);
	s = name ? table_set_find(rc->t, name, ex[i + 2]) : NULL;
	return s && set_is_keyed(s) ? (int64_t)key_id(d) : -1;
}

struct render_udata {
	struct strbuf *sb;
	unsigned flags;
};

static int render_rule_udata_cb(const struct nftnl_udata *attr, void *data)
{
	struct render_udata *ru = data;
	const char *v = nftnl_udata_get(attr);
	uint8_t len = nftnl_udata_len(attr);

	switch (nftnl_udata_type(attr)) {
	case NFTNL_UDATA_RULE_COMMENT:
		sb_addf(ru->sb, " comment \"%.*s\"", (int)strnlen(v, len), v);
		break;
	case NL_UDATA_RULE_LOC:
		if ((ru->flags & NL_RENDER_LOCATIONS) && len > strlen(NL_LOC_PREFIX) &&
		    strncmp(v, NL_LOC_PREFIX, strlen(NL_LOC_PREFIX)) == 0) {
			sb_add(ru->sb, "  # ");
			sb_addn(ru->sb, v + strlen(NL_LOC_PREFIX),
				strnlen(v, len) - strlen(NL_LOC_PREFIX));
		}
		break;
	default:
		sb_addf(ru->sb, " udata %u:", nftnl_udata_type(attr));
		render_hex(ru->sb, v, len);
		break;
	}
	return 0;
}

/* "rule FAMILY TABLE CHAIN:", what every rendered rule starts with */
static void render_rule_head(struct render_rule_ctx *rc, const char *chain)
{
	sb_add(rc->sb, "rule ");
	sb_add(rc->sb, nl_family_name(rc->t->family));
	sb_add(rc->sb, " " NL_TABLE " ");
	sb_add(rc->sb, chain);
	sb_addc(rc->sb, ':');
}

static void render_rule(struct render_rule_ctx *rc, struct nftnl_rule *r)
{
	struct strbuf *sb = rc->sb;
	struct render_udata ru = { sb, rc->flags };
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *few[32], **ex = few, *e;
	size_t n = 0, cap = sizeof(few) / sizeof(few[0]);
	const void *ud;
	uint32_t len;

	render_rule_head(rc, nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
	rc->piece_from = sb->len;
	while (it && (e = nftnl_expr_iter_next(it))) {
		if (n == cap) {
			struct nftnl_expr **more = xmalloc(2 * cap * sizeof(*more));

			memcpy(more, ex, n * sizeof(*ex));
			if (ex != few)
				free(ex);
			ex = more;
			cap *= 2;
		}
		ex[n++] = e;
	}
	if (it)
		nftnl_expr_iter_destroy(it);
	rc->list_id = -1;
	for (size_t i = 0; i < n; i++) {
		int64_t id = list_id_load(rc, ex, n, i);

		if (id >= 0)
			rc->list_id = id;	/* written with the lookup */
		else
			render_expr(rc, ex[i]);
		if (i < rc->npiece_end)
			rc->piece_end[i] = sb->len;
	}
	if (ex != few)
		free(ex);
	ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
	if (ud && len)
		nftnl_udata_parse(ud, len, render_rule_udata_cb, &ru);
	sb_addc(sb, '\n');
}

/* The text libnftnl gave an expression, by the expression's attributes:
 * an expression that names no set is written from its attributes alone,
 * so a log prefix, a reject or a nat statement met once in a read-back
 * ruleset is not parsed again.  Per rendering thread; bounded. */
#define PIECES_MAX (1u << 16)

struct piece {
	uint64_t h;
	uint32_t klen, tlen;
	char *key;		/* the NFTA_LIST_ELEM attribute, then the text */
};

struct piece_cache {
	struct piece *v;
	size_t n, cap;		/* cap: a power of two */
};

static uint64_t piece_hash(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static struct piece *piece_slot(struct piece_cache *pc, uint64_t h, const void *k, size_t klen)
{
	for (size_t i = h & (pc->cap - 1);; i = (i + 1) & (pc->cap - 1)) {
		struct piece *e = &pc->v[i];

		if (!e->key || (e->h == h && e->klen == klen && !memcmp(e->key, k, klen)))
			return e;
	}
}

static const struct piece *piece_get(struct piece_cache *pc, const void *k, size_t klen)
{
	const struct piece *e;

	if (!pc || !pc->n)
		return NULL;
	e = piece_slot(pc, piece_hash(k, klen), k, klen);
	return e->key ? e : NULL;
}

static void piece_put(struct piece_cache *pc, const void *k, size_t klen, const char *t,
		      size_t tlen)
{
	uint64_t h = piece_hash(k, klen);
	struct piece *e;

	if (pc->n >= PIECES_MAX)
		return;
	if (2 * (pc->n + 1) > pc->cap) {
		struct piece_cache big = { xzalloc(2 * (pc->cap ? pc->cap : 512) * sizeof(*big.v)), 0,
					   2 * (pc->cap ? pc->cap : 512) };

		for (size_t i = 0; i < pc->cap; i++)
			if (pc->v[i].key)
				*piece_slot(&big, pc->v[i].h, pc->v[i].key, pc->v[i].klen) = pc->v[i];
		big.n = pc->n;
		free(pc->v);
		*pc = big;
	}
	e = piece_slot(pc, h, k, klen);
	if (e->key)
		return;
	e->h = h;
	e->klen = (uint32_t)klen;
	e->tlen = (uint32_t)tlen;
	e->key = xmalloc(klen + tlen);
	memcpy(e->key, k, klen);
	memcpy(e->key + klen, t, tlen);
	pc->n++;
}

static void piece_cache_free(struct piece_cache *pc)
{
	for (size_t i = 0; i < pc->cap; i++)
		free(pc->v[i].key);
	free(pc->v);
}

/* A read-back rule from its message: false (nothing written) when one of
 * its expressions is neither of a shape whose text is known to be
 * libnftnl's (fx_state) nor met before (piece_cache), so that the caller
 * goes through libnftnl. */
static bool render_rule_raw(struct render_rule_ctx *rc, const struct nlmsghdr *nlh)
{
	struct strbuf *sb = rc->sb;
	struct render_udata ru = { sb, rc->flags };
	const struct nlattr *a, *chain = NULL, *exprs = NULL, *ud = NULL;
	size_t start = sb->len;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		switch (mnl_attr_get_type(a)) {
		case NFTA_RULE_CHAIN:
			chain = a;
			break;
		case NFTA_RULE_EXPRESSIONS:
			exprs = a;
			break;
		case NFTA_RULE_USERDATA:
			ud = a;
			break;
		}
	}
	if (!chain || mnl_attr_validate(chain, MNL_TYPE_NUL_STRING) < 0)
		return false;
	render_rule_head(rc, mnl_attr_get_str(chain));
	if (exprs) {
		mnl_attr_for_each_nested(a, exprs) {
			const struct nlattr *tb[NFTA_EXPR_MAX + 1];
			struct fx_vals v;
			const char *name;
			char buf[1024];
			struct fx_buf b = { buf, 0, sizeof(buf), false };

			raw_attrs(a, tb, NFTA_EXPR_MAX);
			if (mnl_attr_get_type(a) != NFTA_LIST_ELEM || !tb[NFTA_EXPR_NAME] ||
			    mnl_attr_validate(tb[NFTA_EXPR_NAME], MNL_TYPE_NUL_STRING) < 0)
				goto slow;
			name = mnl_attr_get_str(tb[NFTA_EXPR_NAME]);
			if (!strcmp(name, "counter")) {
				sb_add(sb, " [counter]");	/* as render_expr */
				continue;
			}
			if (!fx_of_raw(name, tb[NFTA_EXPR_DATA], &v) ||
			    __atomic_load_n(&fx_state[v.k][v.shape], __ATOMIC_ACQUIRE) != 1) {
				const struct piece *pe = piece_get(rc->pc, a, mnl_attr_get_len(a));

				if (!pe)
					goto slow;
				sb_addn(sb, pe->key + pe->klen, pe->tlen);
				continue;
			}
			buf[0] = '\0';
			fx_write(&v, &b, false);
			if (b.over)
				goto slow;
			sb_add(sb, " [");
			sb_add(sb, name);
			sb_addc(sb, ' ');
			sb_addn(sb, buf, b.n);
			sb_addc(sb, ']');
		}
	}
	if (ud && mnl_attr_get_payload_len(ud))
		nftnl_udata_parse(mnl_attr_get_payload(ud), mnl_attr_get_payload_len(ud),
				  render_rule_udata_cb, &ru);
	sb_addc(sb, '\n');
	return true;
slow:
	sb->len = start;
	sb->buf[start] = '\0';
	return false;
}

/* After render_rule of nlh's rule from start: each expression's text, by
 * its attributes, into the cache.  The object's expressions are the
 * message's, in order; a text after a keyed list id (which writes
 * nothing) or of a lookup depends on more than its own attributes. */
static void pieces_learn(struct render_rule_ctx *rc, const struct nlmsghdr *nlh,
			 const size_t *ends, size_t nends)
{
	const struct nlattr *a, *exprs = NULL;
	size_t i = 0, from = rc->piece_from;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == NFTA_RULE_EXPRESSIONS)
			exprs = a;
	if (!exprs)
		return;
	mnl_attr_for_each_nested(a, exprs) {
		const struct nlattr *tb[NFTA_EXPR_MAX + 1];
		const char *name;

		if (i >= nends)
			return;
		raw_attrs(a, tb, NFTA_EXPR_MAX);
		name = tb[NFTA_EXPR_NAME] ? mnl_attr_get_str(tb[NFTA_EXPR_NAME]) : NULL;
		/* a lookup's or dynset's text depends on its set, and a list id
		 * load before a lookup writes nothing: no piece from there on */
		if (!name || !strcmp(name, "lookup") || !strcmp(name, "dynset"))
			return;
		/* a counter is written as is, never looked up */
		if (strcmp(name, "counter") != 0 && ends[i] > from)
			piece_put(rc->pc, a, mnl_attr_get_len(a), rc->sb->buf + from, ends[i] - from);
		from = ends[i++];
	}
}

/* A built rule, or a read-back one: from its message when it can, else
 * parsed into a libnftnl object (which also teaches fx_state its shapes). */
static void render_rule_of(struct render_rule_ctx *rc, const struct nl_rule *nr)
{
	const struct nlmsghdr *nlh;
	struct nftnl_rule *r;

	if (nr->r) {
		render_rule(rc, nr->r);
		return;
	}
	nlh = (const struct nlmsghdr *)(const void *)(rc->t->raw.buf + nr->raw);
	if (render_rule_raw(rc, nlh))
		return;
	r = nftnl_rule_alloc();
	if (r && nftnl_rule_nlmsg_parse(nlh, r) == 0) {
		size_t ends[64];

		rc->piece_end = ends;
		rc->npiece_end = ARRAY_SIZE(ends);
		render_rule(rc, r);
		rc->piece_end = NULL;
		rc->npiece_end = 0;
		if (rc->pc)
			pieces_learn(rc, nlh, ends, ARRAY_SIZE(ends));
	} else {
		sb_add(rc->sb, "rule ? (a message libnftnl cannot read)\n");
	}
	if (r)
		nftnl_rule_free(r);
}

static void render_chain(struct strbuf *sb, const struct nl_table *t, struct nftnl_chain *c)
{
	sb_addf(sb, "chain %s %s %s", nl_family_name(t->family), NL_TABLE,
		nftnl_chain_get_str(c, NFTNL_CHAIN_NAME));
	if (nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM)) {
		sb_addf(sb, " { type %s hook %" PRIu32 " priority %d policy %s }",
			nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE),
			nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM),
			(int)nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO),
			nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) == NF_DROP ? "drop" : "accept");
	}
	sb_addc(sb, '\n');
}

static void render_obj(struct strbuf *sb, const struct nl_table *t, struct nftnl_obj *o)
{
	uint32_t type = nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE);

	sb_addf(sb, "obj %s %s %s type %" PRIu32, nl_family_name(t->family), NL_TABLE,
		nftnl_obj_get_str(o, NFTNL_OBJ_NAME), type);
	if (type == NFT_OBJECT_CT_HELPER)
		sb_addf(sb, " { helper \"%s\" l3proto %u l4proto %u }",
			nftnl_obj_get_str(o, NFTNL_OBJ_CT_HELPER_NAME),
			nftnl_obj_get_u16(o, NFTNL_OBJ_CT_HELPER_L3PROTO),
			nftnl_obj_get_u8(o, NFTNL_OBJ_CT_HELPER_L4PROTO));
	sb_addc(sb, '\n');
}

/* Where nl_render_stream() hands its text, a piece at a time. */
struct render_sink {
	int (*out)(const char *s, size_t n, void *arg);
	void *arg;
	int err;
};

#define RENDER_PIECE (1 << 20)

/* Hands sb's whole lines to the sink, if there is one. */
static void render_flush(struct strbuf *sb, struct render_sink *snk)
{
	if (!snk || !sb->len)
		return;
	if (!snk->err)
		snk->err = snk->out(sb->buf, sb->len, snk->arg);
	sb->len = 0;
	sb->buf[0] = '\0';
}

static void render_rules(struct strbuf *sb, const struct nl_table *t, unsigned flags,
			 size_t from, size_t to, struct render_sink *snk)
{
	struct keyed_index *ki = NULL;
	size_t nki = 0;
	struct piece_cache pc = { 0 };
	struct render_rule_ctx rc = { sb, t, flags, &ki, &nki, -1, &pc, NULL, 0, 0 };

	for (size_t j = from; j < to; j++) {
		render_rule_of(&rc, &t->rules.v[j]);
		if (snk && sb->len >= RENDER_PIECE)
			render_flush(sb, snk);
	}
	keyed_index_free(ki, nki);
	piece_cache_free(&pc);
}

/* Rendering only reads the objects, so a part of them can be rendered
 * by another thread into a buffer of its own. */
struct rules_part {
	const struct nl_table *t;
	unsigned flags;
	size_t from, to;
	struct strbuf sb;
};

static void *render_rules_part(void *arg)
{
	struct rules_part *p = arg;

	render_rules(&p->sb, p->t, p->flags, p->from, p->to, NULL);
	return NULL;
}

/* The rendering into sb; with a sink, handed to it in pieces of whole
 * lines (and not threaded). */
static void render_all(const struct nl_ruleset *rs, unsigned flags, struct strbuf *sb,
		       struct render_sink *snk)
{
	for (size_t i = 0; i < rs->tables.n; i++) {
		const struct nl_table *t = &rs->tables.v[i];

		if (!t->t)
			continue;
		sb_addf(sb, "table %s %s", nl_family_name(t->family), NL_TABLE);
		if (nftnl_table_is_set(t->t, NFTNL_TABLE_FLAGS) &&
		    nftnl_table_get_u32(t->t, NFTNL_TABLE_FLAGS))
			sb_addf(sb, " flags 0x%" PRIx32, nftnl_table_get_u32(t->t, NFTNL_TABLE_FLAGS));
		sb_addc(sb, '\n');
		for (size_t j = 0; j < t->objs.n; j++)
			render_obj(sb, t, t->objs.v[j].o);
		for (size_t j = 0; j < t->sets.n; j++) {
			struct nftnl_set *s = t->sets.v[j].s;

			if ((nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS) ||
			    (flags & NL_RENDER_INLINE_SETS))
				continue;
			sb_addf(sb, "set %s %s %s ", nl_family_name(t->family), NL_TABLE,
				nftnl_set_get_str(s, NFTNL_SET_NAME));
			render_set_body(sb, s, flags);
			sb_addc(sb, '\n');
		}
		for (size_t j = 0; j < t->chains.n; j++)
			render_chain(sb, t, t->chains.v[j].c);
		{
			struct rules_part tail = { .t = t, .flags = flags, .to = t->rules.n };
			size_t half = t->rules.n;
			pthread_t th;
			bool threaded = false;

			/* the second half of a big table in a thread of its own */
			if ((flags & NL_RENDER_THREADED) && !snk && t->rules.n >= 20000) {
				half = t->rules.n / 2;
				tail.from = half;
				threaded = pthread_create(&th, NULL, render_rules_part, &tail) == 0;
				if (!threaded)
					half = t->rules.n;
			}
			render_rules(sb, t, flags, 0, half, snk);
			if (threaded) {
				pthread_join(th, NULL);
				sb_addn(sb, sb_str(&tail.sb), tail.sb.len);
				sb_free(&tail.sb);
			}
		}
	}
}

char *nl_render(const struct nl_ruleset *rs, unsigned flags)
{
	struct strbuf sb = { 0 };

	render_all(rs, flags, &sb, NULL);
	return sb_steal(&sb);
}

int nl_render_stream(const struct nl_ruleset *rs, unsigned flags,
		     int (*out)(const char *s, size_t n, void *arg), void *arg)
{
	struct strbuf sb = { 0 };
	struct render_sink snk = { out, arg, 0 };

	render_all(rs, flags, &sb, &snk);
	render_flush(&sb, &snk);
	sb_free(&sb);
	return snk.err;
}

/* ---- reading the running ruleset ---------------------------------------------------- */

struct nl_sock {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
};

static int nl_sock_open(struct nl_sock *s)
{
	s->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!s->nl)
		return -errno;
	if (mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = -errno;

		mnl_socket_close(s->nl);
		s->nl = NULL;
		return err;
	}
	s->portid = mnl_socket_get_portid(s->nl);
	s->seq = (uint32_t)time(NULL);
	return 0;
}

static void nl_sock_close(struct nl_sock *s)
{
	if (s->nl)
		mnl_socket_close(s->nl);
	s->nl = NULL;
}

/* Sends one request and runs cb on every answer until the dump is done.
 * Returns 0 or -errno (ENOENT: the table does not exist). */
static int nl_talk(struct nl_sock *s, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	static char buf[1 << 17];
	uint32_t seq = nlh->nlmsg_seq;
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(s->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(s->nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)n, seq, s->portid, cb, data);
		if (ret < 0)
			return -errno;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

struct read_ctx {
	struct nl_table *t;
	int err;
};

static int read_obj_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *rc = data;
	struct nftnl_obj *o = nftnl_obj_alloc();

	if (!o || nftnl_obj_nlmsg_parse(nlh, o) < 0) {
		nftnl_obj_free(o);
		rc->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	if (strcmp(nftnl_obj_get_str(o, NFTNL_OBJ_TABLE), NL_TABLE) != 0) {
		nftnl_obj_free(o);
		return MNL_CB_OK;
	}
	vec_push(&rc->t->objs, ((struct nl_obj){ o, loc_internal }));
	return MNL_CB_OK;
}

static int read_chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *rc = data;
	struct nftnl_chain *c = nftnl_chain_alloc();

	if (!c || nftnl_chain_nlmsg_parse(nlh, c) < 0) {
		nftnl_chain_free(c);
		rc->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	if (strcmp(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), NL_TABLE) != 0) {
		nftnl_chain_free(c);
		return MNL_CB_OK;
	}
	vec_push(&rc->t->chains, ((struct nl_chain){ c, loc_internal }));
	return MNL_CB_OK;
}

static int read_set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *rc = data;
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s || nftnl_set_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		rc->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	if (strcmp(nftnl_set_get_str(s, NFTNL_SET_TABLE), NL_TABLE) != 0) {
		nftnl_set_free(s);
		return MNL_CB_OK;
	}
	vec_push(&rc->t->sets, ((struct nl_set){ s, loc_internal }));
	return MNL_CB_OK;
}

static int read_setelem_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_set *s = data;

	nftnl_set_elems_nlmsg_parse(nlh, s);
	return MNL_CB_OK;
}

/* A rule is kept as the kernel's message (render_rule_of parses it only
 * when it has to), or as a libnftnl object when the fast texts are off. */
static int read_rule_cb(const struct nlmsghdr *nlh, void *data)
{
	static const char pad[NLMSG_ALIGNTO];
	struct read_ctx *rc = data;
	const struct nlattr *a;
	const char *table = NULL;
	struct nftnl_rule *r;

	if (!fx_disabled()) {
		mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
			if (mnl_attr_get_type(a) == NFTA_RULE_TABLE &&
			    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
				table = mnl_attr_get_str(a);
		if (!table || strcmp(table, NL_TABLE) != 0)
			return MNL_CB_OK;
		vec_push(&rc->t->rules, ((struct nl_rule){ .loc = loc_internal,
							   .raw = rc->t->raw.len }));
		sb_addn(&rc->t->raw, (const char *)nlh, nlh->nlmsg_len);
		sb_addn(&rc->t->raw, pad, NLMSG_ALIGN(nlh->nlmsg_len) - nlh->nlmsg_len);
		return MNL_CB_OK;
	}
	r = nftnl_rule_alloc();
	if (!r || nftnl_rule_nlmsg_parse(nlh, r) < 0) {
		nftnl_rule_free(r);
		rc->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	if (strcmp(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), NL_TABLE) != 0) {
		nftnl_rule_free(r);
		return MNL_CB_OK;
	}
	vec_push(&rc->t->rules, ((struct nl_rule){ .r = r, .loc = loc_internal }));
	return MNL_CB_OK;
}

static int read_table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_table *t = data;

	nftnl_table_nlmsg_parse(nlh, t);
	return MNL_CB_OK;
}

static int read_family(struct nl_sock *s, uint16_t fam, struct nl_ruleset *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nl_table tab = { .family = fam };
	struct read_ctx rc = { &tab, 0 };
	struct nlmsghdr *nlh;
	int ret;

	tab.t = nftnl_table_alloc();
	nftnl_table_set_str(tab.t, NFTNL_TABLE_NAME, NL_TABLE);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, fam, NLM_F_ACK, ++s->seq);
	nftnl_table_nlmsg_build_payload(nlh, tab.t);
	ret = nl_talk(s, nlh, read_table_cb, tab.t);
	if (ret == -ENOENT) {
		nl_table_fini(&tab);
		return 0;
	}
	if (ret < 0)
		goto fail;

	{
		struct nftnl_obj *o = nftnl_obj_alloc();

		nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, NL_TABLE);
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETOBJ, fam, NLM_F_DUMP, ++s->seq);
		nftnl_obj_nlmsg_build_payload(nlh, o);
		nftnl_obj_free(o);
		if ((ret = nl_talk(s, nlh, read_obj_cb, &rc)) < 0)
			goto fail;
	}
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, fam, NLM_F_DUMP, ++s->seq);
	if ((ret = nl_talk(s, nlh, read_chain_cb, &rc)) < 0)
		goto fail;
	{
		struct nftnl_set *q = nftnl_set_alloc();

		nftnl_set_set_str(q, NFTNL_SET_TABLE, NL_TABLE);
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, fam, NLM_F_DUMP, ++s->seq);
		nftnl_set_nlmsg_build_payload(nlh, q);
		nftnl_set_free(q);
		if ((ret = nl_talk(s, nlh, read_set_cb, &rc)) < 0)
			goto fail;
	}
	for (size_t i = 0; i < tab.sets.n; i++) {
		struct nftnl_set *set = tab.sets.v[i].s;

		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, fam, NLM_F_DUMP, ++s->seq);
		nftnl_set_elems_nlmsg_build_payload(nlh, set);
		if ((ret = nl_talk(s, nlh, read_setelem_cb, set)) < 0)
			goto fail;
	}
	/* Rules chain by chain: a dump goes on where the last reply stopped
	 * by counting from the start again (the kernel keeps an index, not a
	 * position), so one dump of the whole table costs rules^2 / (rules
	 * per reply), and per chain only the sum of each chain's square. */
	for (size_t i = 0; i < tab.chains.n; i++) {
		struct nftnl_rule *q = nftnl_rule_alloc();

		nftnl_rule_set_str(q, NFTNL_RULE_TABLE, NL_TABLE);
		nftnl_rule_set_str(q, NFTNL_RULE_CHAIN,
				   nftnl_chain_get_str(tab.chains.v[i].c, NFTNL_CHAIN_NAME));
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, fam, NLM_F_DUMP, ++s->seq);
		nftnl_rule_nlmsg_build_payload(nlh, q);
		nftnl_rule_free(q);
		if ((ret = nl_talk(s, nlh, read_rule_cb, &rc)) < 0)
			goto fail;
	}
	if (rc.err) {
		ret = rc.err;
		goto fail;
	}
	vec_push(&out->tables, tab);
	return 0;
fail:
	nl_table_fini(&tab);
	return ret;
}

/* The generation id before and after: a ruleset changed between our
 * dumps is read again, so the result is one consistent snapshot. */
static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *tb[NFTA_GEN_MAX + 1] = { 0 };
	struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
	uint32_t *genid = data;
	struct nlattr *attr;

	mnl_attr_for_each(attr, nlh, sizeof(*nfg)) {
		if (mnl_attr_get_type(attr) <= NFTA_GEN_MAX)
			tb[mnl_attr_get_type(attr)] = attr;
	}
	if (tb[NFTA_GEN_ID])
		*genid = ntohl(mnl_attr_get_u32(tb[NFTA_GEN_ID]));
	return MNL_CB_OK;
}

static int read_genid(struct nl_sock *s, uint32_t *genid)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, ++s->seq);
	return nl_talk(s, nlh, gen_cb, genid);
}

int nl_ruleset_read(struct nl_ruleset **out)
{
	static const uint16_t fams[] = { NFPROTO_IPV4, NFPROTO_IPV6 };
	struct nl_sock s;
	int ret;

	*out = NULL;
	if ((ret = nl_sock_open(&s)) < 0)
		return ret;
	for (int attempt = 0; attempt < 8; attempt++) {
		struct nl_ruleset *rs = xzalloc(sizeof(*rs));
		uint32_t g0 = 0, g1 = 1;

		ret = read_genid(&s, &g0);
		for (size_t i = 0; ret == 0 && i < ARRAY_SIZE(fams); i++)
			ret = read_family(&s, fams[i], rs);
		if (ret == 0)
			ret = read_genid(&s, &g1);
		if (ret == 0 && g0 == g1) {
			*out = rs;
			break;
		}
		nl_ruleset_free(rs);
		if (ret < 0)
			break;
		ret = -EAGAIN;
	}
	nl_sock_close(&s);
	return ret;
}

/* ---- building: expressions ------------------------------------------------------------ */

/* nft's first 16-byte data register and its second 32-bit one (where a
 * concatenation's second field goes). */
#define NL_REG1		NFT_REG_1
#define NL_REG2		NFT_REG_2
#define NL_REG32_01	(NFT_REG32_00 + 1)

static struct nftnl_expr *x_new(const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (!e) {
		fprintf(stderr, "masqc: out of memory (nftnl expression %s)\n", name);
		abort();
	}
	return e;
}

static struct nftnl_expr *x_payload(uint32_t base, uint32_t off, uint32_t len, uint32_t dreg)
{
	struct nftnl_expr *e = x_new("payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	return e;
}

/* A checksummed write (IPv4 header fields): the kernel fixes the checksum
 * at offset 10 of the network header. */
static struct nftnl_expr *x_payload_write(uint32_t base, uint32_t off, uint32_t len, bool csum)
{
	struct nftnl_expr *e = x_new("payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_SREG, NL_REG1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	if (csum) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_CSUM_TYPE, NFT_PAYLOAD_CSUM_INET);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_CSUM_OFFSET, 10);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_FLAGS, 0);
	}
	return e;
}

static struct nftnl_expr *x_cmp(uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = x_new("cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NL_REG1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	return e;
}

static struct nftnl_expr *x_range(uint32_t op, const void *lo, const void *hi, uint32_t len)
{
	struct nftnl_expr *e = x_new("range");

	nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_SREG, NL_REG1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_RANGE_FROM_DATA, lo, len);
	nftnl_expr_set(e, NFTNL_EXPR_RANGE_TO_DATA, hi, len);
	return e;
}

static struct nftnl_expr *x_bitwise(const void *mask, const void *xor, uint32_t len)
{
	struct nftnl_expr *e = x_new("bitwise");

	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NL_REG1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NL_REG1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_OP, NFT_BITWISE_BOOL);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, xor, len);
	return e;
}

static struct nftnl_expr *x_meta(uint32_t key)
{
	struct nftnl_expr *e = x_new("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NL_REG1);
	return e;
}

static struct nftnl_expr *x_meta_set(uint32_t key)
{
	struct nftnl_expr *e = x_new("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, NL_REG1);
	return e;
}

static struct nftnl_expr *x_ct(uint32_t key)
{
	struct nftnl_expr *e = x_new("ct");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NL_REG1);
	return e;
}

static struct nftnl_expr *x_ct_set(uint32_t key)
{
	struct nftnl_expr *e = x_new("ct");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_SREG, NL_REG1);
	return e;
}

static struct nftnl_expr *x_imm_data(uint32_t dreg, const void *data, uint32_t len)
{
	struct nftnl_expr *e = x_new("immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, dreg);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
	return e;
}

static struct nftnl_expr *x_verdict(int verdict, const char *chain)
{
	struct nftnl_expr *e = x_new("immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	return e;
}

static struct nftnl_expr *x_exthdr_tcpopt(uint8_t type, uint32_t off, uint32_t len, uint32_t flags)
{
	struct nftnl_expr *e = x_new("exthdr");

	nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_DREG, NL_REG1);
	nftnl_expr_set_u8(e, NFTNL_EXPR_EXTHDR_TYPE, type);
	nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_OP, NFT_EXTHDR_OP_TCPOPT);
	if (flags)
		nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_FLAGS, flags);
	return e;
}

/* ---- building: one rule --------------------------------------------------------------- */

#define NLS_MAXE 8

/* One nft statement of the rule before linearisation.  Payload matches
 * against a constant are kept symbolic so that adjacent ones can be
 * merged the way nft 1.0.6 does it (payload_try_merge in nft's rule.c:
 * sorted by offset, joined while adjacent, same operator and at most 4
 * bytes together, except link layer). */
struct nls {
	struct nftnl_expr *e[NLS_MAXE];
	unsigned n;
	bool mergeable;		/* payload (eq|neq) constant */
	bool barrier;		/* a non-match statement: merges stop here */
	bool dead;
	uint32_t base, off, len, op;
	uint8_t val[16];
};

struct nl_elem {
	uint8_t lo[16], hi[16];
};

/* What nft 1.0.6 records of the set's key expression ("typeof" userdata):
 * its expression type and that type's own few numbers. */
enum { TY_PAYLOAD = 7, TY_META = 9, TY_CT = 12, TY_CONCAT = 13, TY_FIB = 26 };

struct set_typeof {
	uint32_t expr;		/* TY_* */
	uint32_t a, b;		/* payload: proto desc, field; meta: key; ct: key, dir;
				 * fib: result, flags */
	uint32_t len;		/* payload of integer type: its length in bits */
};

struct nl_set_build {
	struct set_typeof ty[2];	/* two for a concatenation */
	uint32_t key_type, key_len;
	bool interval, concat;
	uint32_t byteorder;	/* nft's key byteorder for the userdata: 1 host, 2 big */
	VEC(struct nl_elem) v;
};

struct share_ent {
	char *key;
	struct nftnl_set *set;
	uint32_t id;		/* keyed sets: the list's id */
	struct share_ent *next;
};

/* A keyed set: every list of one key type and length (and interval or
 * not) in one set, each element prefixed with its list's id. */
struct keyed_set {
	uint32_t key_type, key_len;
	bool interval;
	struct nftnl_set *s;
	uint32_t nlists, nelems;
};

static uint32_t str_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

struct nlc;

struct nlr {
	struct nlc *c;
	VEC(struct nls) s;
	uint8_t l4;		/* transport protocol known from an earlier match */
	bool ether;		/* meta iiftype ether known */
	VEC(struct nftnl_set *) sets;	/* anonymous sets this rule uses */
	const struct ir_chain *ch;	/* the rule's chain (its table's maps) */
};

struct nlc {
	const struct ir_ruleset *rs;
	struct diag_queue *dq;
	struct nl_batch *b;
	struct nl_table *t;
	enum ir_family fam;
	int err;
	uint32_t set_id;
	bool shared;			/* lists become shared named sets */
	bool keyed;			/* lists become ids in keyed sets */
	bool may_key;			/* too many anonymous sets: stop, build keyed */
	struct share_ent **share;	/* content -> set (or keyed list), per table */
	size_t nshare;
	unsigned nshared;
	VEC(struct keyed_set) keyed_sets;	/* per table */
};

struct nl_msgref {
	const char *what;	/* static text */
	const char *name;	/* object name or NULL (borrowed from the object) */
	struct loc loc;
};

struct nl_batch {
	struct nl_ruleset rs;
	/* the anonymous sets of each rule, in the order nft sends them:
	 * rule_sets[i] = index range into rs table sets, per table */
	bool destroy;			/* use NFT_MSG_DESTROYTABLE */
	unsigned flags;			/* NL_BUILD_* */
	struct strbuf wire;		/* the serialised batch (built at commit) */
	VEC(struct nl_msgref) refs;	/* per message: what it is, where it came from */
	size_t nmsgs;
	uint32_t seq0;
};

static struct nls *nls_new(struct nlr *r)
{
	struct nls z;

	memset(&z, 0, sizeof(z));

	vec_push(&r->s, z);
	return &r->s.v[r->s.n - 1];
}

static void nls_add(struct nls *s, struct nftnl_expr *e)
{
	if (s->n == NLS_MAXE) {
		fprintf(stderr, "masqc: internal error: statement too long\n");
		abort();
	}
	s->e[s->n++] = e;
}

/* A statement of one to three expressions. */
static struct nls *nls_exprs(struct nlr *r, struct nftnl_expr *a, struct nftnl_expr *b,
			     struct nftnl_expr *c)
{
	struct nls *s = nls_new(r);

	nls_add(s, a);
	if (b)
		nls_add(s, b);
	if (c)
		nls_add(s, c);
	return s;
}

static void nls_barrier(struct nlr *r, struct nftnl_expr *a, struct nftnl_expr *b,
			struct nftnl_expr *c)
{
	nls_exprs(r, a, b, c)->barrier = true;
}

static void nls_payload_cmp(struct nlr *r, uint32_t base, uint32_t off, uint32_t len,
			    uint32_t op, const void *val)
{
	struct nls *s = nls_new(r);

	s->mergeable = true;
	s->base = base;
	s->off = off;
	s->len = len;
	s->op = op;
	memcpy(s->val, val, len);
}

/* nft inserts `meta l4proto P` before the first match that needs the
 * transport header of P, unless an earlier match already established it. */
static void dep_l4(struct nlr *r, uint8_t proto)
{
	if (r->l4 == proto)
		return;
	nls_exprs(r, x_meta(NFT_META_L4PROTO), x_cmp(NFT_CMP_EQ, &proto, 1), NULL);
	r->l4 = proto;
}

static int nls_cmp(const void *a, const void *b)
{
	const struct nls *x = *(struct nls *const *)a, *y = *(struct nls *const *)b;

	if (x->base != y->base)
		return x->base < y->base ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

static void merge_run(struct nls **sa, unsigned n)
{
	struct nls *last;

	if (n < 2)
		return;
	qsort(sa, n, sizeof(sa[0]), nls_cmp);
	last = sa[0];
	for (unsigned i = 1; i < n; i++) {
		struct nls *this = sa[i];
		uint32_t total = last->len + this->len;

		if (last->base != this->base || last->off + last->len != this->off ||
		    last->op != this->op ||
		    (total > 4 && !(last->base == NFT_PAYLOAD_LL_HEADER && total <= 16))) {
			last = this;
			continue;
		}
		memcpy(last->val + last->len, this->val, this->len);
		last->len = total;
		this->dead = true;
	}
}

static void rule_merge(struct nlr *r)
{
	struct nls **sa = xmalloc((r->s.n + 1) * sizeof(*sa));
	unsigned n = 0;

	for (size_t i = 0; i < r->s.n; i++) {
		struct nls *s = &r->s.v[i];

		if (s->barrier) {
			merge_run(sa, n);
			n = 0;
		} else if (s->mergeable) {
			sa[n++] = s;
		}
	}
	merge_run(sa, n);
	free(sa);
}

/* ---- building: values --------------------------------------------------------------------- */

static uint32_t nl_nfproto(enum ir_family f)
{
	return f == IR_FAM_IPV6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
}

static unsigned addr_len(const struct nlc *c)
{
	return c->fam == IR_FAM_IPV6 ? 16 : 4;
}

static void be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* big-endian value + 1 over len bytes; false on overflow */
static bool be_inc(uint8_t *p, unsigned len)
{
	for (unsigned i = len; i-- > 0;)
		if (++p[i] != 0)
			return true;
	return false;
}

static bool be_is_zero(const uint8_t *p, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* The inclusive range an address covers, in network order. */
static void addr_bounds(const struct nlc *c, const struct ir_addr *a, uint8_t *lo, uint8_t *hi)
{
	unsigned len = addr_len(c);

	memcpy(lo, a->lo, len);
	if (a->kind == IR_ADDR_RANGE) {
		memcpy(hi, a->hi, len);
		return;
	}
	memcpy(hi, a->lo, len);
	for (unsigned bit = a->plen; bit < len * 8; bit++)
		hi[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
}

/* ---- building: anonymous sets ---------------------------------------------------------------- */

static void sb_elem_add(struct nl_set_build *sb, const uint8_t *lo, const uint8_t *hi)
{
	struct nl_elem el;

	memset(&el, 0, sizeof(el));
	memcpy(el.lo, lo, sb->key_len);
	memcpy(el.hi, hi, sb->key_len);
	vec_push(&sb->v, el);
}

static int elem_cmp_len;

static int elem_cmp(const void *a, const void *b)
{
	const struct nl_elem *x = a, *y = b;
	int d = memcmp(x->lo, y->lo, (size_t)elem_cmp_len);

	return d ? d : memcmp(x->hi, y->hi, (size_t)elem_cmp_len);
}

static struct nftnl_set_elem *elem_new(const uint8_t *key, uint32_t len, uint32_t flags)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, len);
	if (flags)
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, flags);
	return e;
}

/* The anonymous set of nft 1.0.6: name "__set%d" (the kernel picks the
 * number), flags anonymous|constant[|interval], the key type and length
 * of the matched field, userdata with the key's byte order, and for
 * interval sets the rbtree encoding: a closing element at 0 when the first
 * range does not start there, then each (merged) range as its start and
 * the end + 1 flagged NFT_SET_ELEM_INTERVAL_END (left out past the top). */
static struct nftnl_set *share_set(struct nlc *c, struct nftnl_set *s);

static void typeof_put(struct nftnl_udata_buf *ud, const struct set_typeof *ty)
{
	struct nftnl_udata *data;

	nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_TYPEOF_EXPR, ty->expr);
	data = nftnl_udata_nest_start(ud, NFTNL_UDATA_SET_TYPEOF_DATA);
	switch (ty->expr) {
	case TY_PAYLOAD:
		nftnl_udata_put_u32(ud, 0, ty->a);	/* proto desc */
		nftnl_udata_put_u32(ud, 1, ty->b);	/* field */
		if (ty->len)
			nftnl_udata_put_u32(ud, 4, ty->len);
		break;
	case TY_META:
		nftnl_udata_put_u32(ud, 0, ty->a);
		break;
	case TY_CT:
	case TY_FIB:
		nftnl_udata_put_u32(ud, 0, ty->a);
		nftnl_udata_put_u32(ud, 1, ty->b);
		break;
	}
	nftnl_udata_nest_end(ud, data);
}

/* The list's elements sorted, duplicates dropped and, for an interval
 * set, overlapping and adjacent ranges merged: inclusive [lo, hi] pairs. */
static void ranges_merge(struct nl_set_build *bs)
{
	uint32_t klen = bs->key_len;
	size_t n = 0;

	elem_cmp_len = (int)klen;
	if (bs->v.n)
		qsort(bs->v.v, bs->v.n, sizeof(bs->v.v[0]), elem_cmp);
	for (size_t i = 0; i < bs->v.n;) {
		struct nl_elem cur = bs->v.v[i];
		size_t j = i + 1;

		if (!bs->interval) {
			while (j < bs->v.n && memcmp(bs->v.v[j].lo, cur.lo, klen) == 0)
				j++;
		} else {
			for (; j < bs->v.n; j++) {
				uint8_t next[16];

				memcpy(next, cur.hi, klen);
				if (be_inc(next, klen) && memcmp(bs->v.v[j].lo, next, klen) > 0)
					break;
				if (memcmp(bs->v.v[j].hi, cur.hi, klen) > 0)
					memcpy(cur.hi, bs->v.v[j].hi, klen);
			}
		}
		bs->v.v[n++] = cur;
		i = j;
	}
	bs->v.n = n;
}

static struct nftnl_set *set_finish(struct nlr *r, struct nl_set_build *bs)
{
	struct nlc *c = r->c;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(64);
	uint32_t flags = NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | (bs->interval ? NFT_SET_INTERVAL : 0);
	uint32_t klen = bs->key_len;
	uint32_t size = 0;

	ranges_merge(bs);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NL_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, "__set%d");
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, nl_nfproto(c->fam));
	nftnl_set_set_u32(s, NFTNL_SET_ID, ++c->set_id);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, bs->key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, klen);
	/* no NFTA_SET_DESC_CONCAT: nft sends it only for interval
	 * concatenations, and the kernel wants NFT_SET_CONCAT with it */
	if (bs->interval) {
		uint8_t zero[16] = { 0 }, end[16];

		if (bs->v.n && !be_is_zero(bs->v.v[0].lo, klen)) {
			nftnl_set_elem_add(s, elem_new(zero, klen, NFT_SET_ELEM_INTERVAL_END));
			size++;
		}
		for (size_t i = 0; i < bs->v.n; i++) {
			memcpy(end, bs->v.v[i].hi, klen);
			nftnl_set_elem_add(s, elem_new(bs->v.v[i].lo, klen, 0));
			size += 2;
			if (be_inc(end, klen))
				nftnl_set_elem_add(s, elem_new(end, klen, NFT_SET_ELEM_INTERVAL_END));
		}
	} else {
		for (size_t i = 0; i < bs->v.n; i++) {
			nftnl_set_elem_add(s, elem_new(bs->v.v[i].lo, klen, 0));
			size++;
		}
	}
	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, size);
	nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, bs->concat ? 0 : bs->byteorder);
	if (bs->interval)
		nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_MERGE_ELEMENTS, 1);
	{
		struct nftnl_udata *nest = nftnl_udata_nest_start(ud, NFTNL_UDATA_SET_KEY_TYPEOF);

		if (bs->concat) {
			struct nftnl_udata *data, *comp;

			nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_TYPEOF_EXPR, TY_CONCAT);
			data = nftnl_udata_nest_start(ud, NFTNL_UDATA_SET_TYPEOF_DATA);
			for (uint8_t i = 0; i < 2; i++) {
				comp = nftnl_udata_nest_start(ud, i);
				typeof_put(ud, &bs->ty[i]);
				nftnl_udata_nest_end(ud, comp);
			}
			nftnl_udata_nest_end(ud, data);
		} else {
			typeof_put(ud, &bs->ty[0]);
		}
		nftnl_udata_nest_end(ud, nest);
	}
	nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
	nftnl_udata_buf_free(ud);
	vec_free(&bs->v);
	if (c->shared) {
		struct nftnl_set *old = share_set(c, s);

		if (old)
			return old;	/* s was freed; the set exists already */
	}
	vec_push(&r->sets, s);
	return s;
}

static struct nftnl_expr *x_lookup(struct nftnl_set *s, uint32_t sreg, bool inv)
{
	struct nftnl_expr *e = x_new("lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, nftnl_set_get_str(s, NFTNL_SET_NAME));
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, nftnl_set_get_u32(s, NFTNL_SET_ID));
	if (inv)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	return e;
}

/* ---- building: matches --------------------------------------------------------------------- */

/* nft's datatype numbers (set key types) and byte orders. */
enum {
	DT_INTEGER = 4, DT_IPADDR = 7, DT_IP6ADDR = 8, DT_INET_SERVICE = 13, DT_ICMP_TYPE = 14,
	DT_MARK = 19, DT_UID = 24, DT_GID = 25, DT_CT_STATE = 26, DT_ICMP6_TYPE = 29,
	DT_PKTTYPE = 31, DT_ICMP_CODE = 32, DT_ICMPV6_CODE = 33, DT_FIB_ADDR = 38,
	DT_IFNAME = 41,
};
enum { BO_HOST = 1, BO_BIG = 2 };

/* nft's protocol description numbers (enum proto_desc_id). */
static uint32_t proto_desc_id(uint8_t proto)
{
	switch (proto) {
	case 1: return 4;	/* icmp */
	case 6: return 8;	/* tcp */
	case 17: return 6;	/* udp */
	case 33: return 9;	/* dccp */
	case 58: return 14;	/* icmpv6 */
	case 132: return 10;	/* sctp */
	case 136: return 7;	/* udplite */
	}
	return 0;
}

static uint32_t cmp_op(bool neg)
{
	return neg ? NFT_CMP_NEQ : NFT_CMP_EQ;
}

/* ---- building: keyed sets ------------------------------------------------------------------ */

/* With thousands of lists in one batch, even named sets are slow: the
 * kernel finds a set by walking the table's list of sets (by name for
 * every rule that uses it and every element message, by transaction id
 * through the whole transaction), so N sets cost N x (rules + sets).
 * Past NL_ANON_SETS_MAX lists in a table the lists go into a constant
 * number of sets instead: one "keyed" set per key type, length and
 * interval-ness, "masqc_listN", whose elements are (list id . value).  A
 * rule loads its list's id with an immediate into the 32-bit register
 * NL_REG_LISTID, the packet field into the registers after it, and looks
 * the concatenation up:
 *
 *     tcp dport { 22, 443 }    ->   immediate reg 8 <id>
 *                                   payload load 2b @ transport + 2 => reg 9
 *                                   lookup reg 8 set masqc_list0
 *
 * which matches exactly when the field is in the rule's list.  A value
 * shorter than 4 bytes sits in its register zero-padded (nft_payload,
 * nft_meta clear the rest), so the elements are padded the same way.
 * Interval lists stay an rbtree of one key: id . lo starts a range and
 * (id . hi . padding) + 1 ends it; ids are odd, so when that + 1 carries
 * into the id it lands on an id no list has, and ranges of different
 * lists never touch.  Lists with the same elements share an id.  Element
 * lists of concatenations (icmp type . code) stay shared named sets. */
static struct nftnl_expr *x_dreg_set(struct nftnl_expr *e, uint32_t reg)
{
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (!strcmp(name, "payload"))
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, reg);
	else if (!strcmp(name, "meta"))
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, reg);
	else if (!strcmp(name, "ct"))
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, reg);
	else if (!strcmp(name, "fib"))
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, reg);
	else
		abort();	/* a list key nobody taught us to load */
	return e;
}

static uint32_t round4(uint32_t n)
{
	return (n + 3) & ~3u;
}

static struct keyed_set *keyed_set_of(struct nlc *c, const struct nl_set_build *bs)
{
	struct keyed_set *k;
	char name[32];

	for (size_t i = 0; i < c->keyed_sets.n; i++) {
		k = &c->keyed_sets.v[i];
		if (k->key_type == bs->key_type && k->key_len == bs->key_len &&
		    k->interval == bs->interval)
			return k;
	}
	vec_push(&c->keyed_sets, ((struct keyed_set){ bs->key_type, bs->key_len, bs->interval,
						      nftnl_set_alloc(), 0, 0 }));
	k = &c->keyed_sets.v[c->keyed_sets.n - 1];
	snprintf(name, sizeof(name), "masqc_list%zu", c->keyed_sets.n - 1);
	nftnl_set_set_str(k->s, NFTNL_SET_TABLE, NL_TABLE);
	nftnl_set_set_str(k->s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(k->s, NFTNL_SET_FAMILY, nl_nfproto(c->fam));
	nftnl_set_set_u32(k->s, NFTNL_SET_ID, ++c->set_id);
	nftnl_set_set_u32(k->s, NFTNL_SET_FLAGS,
			  NFT_SET_CONSTANT | (bs->interval ? NFT_SET_INTERVAL : 0));
	/* for nft's listing: a concatenation (mark . the field's type); an
	 * interval set of a concatenated type is a pipapo set to nft 1.0.6
	 * (it crashes listing ours), so those are plain integers */
	nftnl_set_set_u32(k->s, NFTNL_SET_KEY_TYPE,
			  bs->interval ? DT_INTEGER : (uint32_t)DT_MARK << 6 | bs->key_type);
	nftnl_set_set_u32(k->s, NFTNL_SET_KEY_LEN, 4 + round4(bs->key_len));
	vec_push(&c->t->sets, ((struct nl_set){ k->s, loc_internal }));
	return k;
}

static void keyed_elem(struct keyed_set *k, uint32_t id, const uint8_t *v, bool end)
{
	uint8_t key[4 + 16] = { 0 };
	uint32_t len = 4 + round4(k->key_len);

	be32(key, id);
	memcpy(key + 4, v, k->key_len);
	if (end && !be_inc(key, len))
		return;		/* cannot happen: ids stay far below the top */
	nftnl_set_elem_add(k->s, elem_new(key, len, end ? NFT_SET_ELEM_INTERVAL_END : 0));
	k->nelems++;
}

/* The list's id in its keyed set (adding the list when it is new). */
static uint32_t keyed_list(struct nlc *c, struct nl_set_build *bs, struct nftnl_set **set)
{
	struct strbuf key = { 0 };
	struct keyed_set *k;
	struct share_ent *e;
	uint32_t h, id;

	ranges_merge(bs);
	sb_addf(&key, "%" PRIu32 "/%" PRIu32 "/%d:", bs->key_type, bs->key_len, bs->interval);
	for (size_t i = 0; i < bs->v.n; i++) {
		render_hex(&key, bs->v.v[i].lo, bs->key_len);
		sb_addc(&key, '-');
		render_hex(&key, bs->v.v[i].hi, bs->key_len);
		sb_addc(&key, ',');
	}
	if (!c->share) {
		c->nshare = 1 << 12;
		c->share = xzalloc(c->nshare * sizeof(*c->share));
	}
	h = str_hash(sb_str(&key)) & (uint32_t)(c->nshare - 1);
	for (e = c->share[h]; e; e = e->next)
		if (strcmp(e->key, sb_str(&key)) == 0) {
			sb_free(&key);
			vec_free(&bs->v);
			*set = e->set;
			return e->id;
		}
	k = keyed_set_of(c, bs);
	id = 2 * k->nlists++ + 1;
	for (size_t i = 0; i < bs->v.n; i++) {
		keyed_elem(k, id, bs->v.v[i].lo, false);
		if (bs->interval)
			keyed_elem(k, id, bs->v.v[i].hi, true);
	}
	e = xmalloc(sizeof(*e));
	e->key = sb_steal(&key);
	e->set = k->s;
	e->id = id;
	e->next = c->share[h];
	c->share[h] = e;
	vec_free(&bs->v);
	*set = k->s;
	return id;
}

/* load (into NL_REG1) is in the list: the statement of the list's set. */
static void lookup_nl(struct nlr *r, struct nl_set_build *bs, struct nftnl_expr *load, bool inv)
{
	struct nftnl_set *s;

	if (r->c->keyed && !bs->concat) {
		uint8_t idb[4];
		uint32_t id = keyed_list(r->c, bs, &s);

		be32(idb, id);
		nls_exprs(r, x_imm_data(NL_REG_LISTID, idb, 4), x_dreg_set(load, NL_REG32_01),
			  x_lookup(s, NL_REG_LISTID, inv));
		return;
	}
	s = set_finish(r, bs);
	nls_exprs(r, load, x_lookup(s, NL_REG1, inv), NULL);
}

/* A payload field compared with a constant, a range or a set. */
struct field {
	uint32_t base, off, len;
	uint32_t key_type;
};

/* field == lo..hi (one value when equal) */
static void field_range(struct nlr *r, const struct field *f, const uint8_t *lo,
			const uint8_t *hi, bool neg)
{
	if (memcmp(lo, hi, f->len) == 0) {
		nls_payload_cmp(r, f->base, f->off, f->len, cmp_op(neg), lo);
		return;
	}
	if (neg) {
		nls_exprs(r, x_payload(f->base, f->off, f->len, NL_REG1),
			  x_range(NFT_RANGE_NEQ, lo, hi, f->len), NULL);
	} else {
		struct nls *s = nls_exprs(r, x_payload(f->base, f->off, f->len, NL_REG1),
					  x_cmp(NFT_CMP_GTE, lo, f->len), NULL);

		nls_add(s, x_cmp(NFT_CMP_LTE, hi, f->len));
	}
}

static void field_set(struct nlr *r, const struct field *f, struct nl_set_build *bs, bool neg)
{
	lookup_nl(r, bs, x_payload(f->base, f->off, f->len, NL_REG1), neg);
}

static void match_addrs_nl(struct nlr *r, const struct ir_match *m, uint32_t off)
{
	struct nlc *c = r->c;
	struct field f = { NFT_PAYLOAD_NETWORK_HEADER, off, addr_len(c),
			   c->fam == IR_FAM_IPV6 ? DT_IP6ADDR : DT_IPADDR };
	uint8_t lo[16], hi[16];

	if (m->u.addrs.n == 1) {
		const struct ir_addr *a = &m->u.addrs.v[0];

		if (a->kind == IR_ADDR_RANGE) {
			addr_bounds(c, a, lo, hi);
			field_range(r, &f, lo, hi, m->neg);
		} else if (a->plen % 8 == 0) {
			/* a byte-aligned prefix compares only its bytes */
			nls_payload_cmp(r, f.base, off, a->plen / 8 ? a->plen / 8u : f.len,
					cmp_op(m->neg), a->lo);
		} else {
			uint8_t mask[16] = { 0 }, zero[16] = { 0 };

			for (unsigned bit = 0; bit < a->plen; bit++)
				mask[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
			nls_exprs(r, x_payload(f.base, off, f.len, NL_REG1),
				  x_bitwise(mask, zero, f.len),
				  x_cmp(cmp_op(m->neg), a->lo, f.len));
		}
		return;
	}
	{
		struct nl_set_build bs = { .key_type = f.key_type, .key_len = f.len,
					   .byteorder = BO_BIG };

		bs.ty[0] = (struct set_typeof){ TY_PAYLOAD, c->fam == IR_FAM_IPV6 ? 13 : 12,
						c->fam == IR_FAM_IPV6 ? (off == 8 ? 8 : 9)
								      : (off == 12 ? 11 : 12), 0 };

		/* an interval set only when some element is a network or a range */
		for (unsigned i = 0; i < m->u.addrs.n; i++) {
			addr_bounds(c, &m->u.addrs.v[i], lo, hi);
			if (memcmp(lo, hi, f.len) != 0)
				bs.interval = true;
			sb_elem_add(&bs, lo, hi);
		}
		field_set(r, &f, &bs, m->neg);
	}
}

/* iptables' "eth+" is nft's "eth*": compare the prefix only. */
static void iface_key(const char *name, uint8_t *key, uint32_t *len)
{
	size_t n = strlen(name);

	memset(key, 0, 16);
	if (n && name[n - 1] == '+') {
		memcpy(key, name, n - 1 > 16 ? 16 : n - 1);
		*len = (uint32_t)(n - 1);
	} else {
		memcpy(key, name, n > 16 ? 16 : n);
		*len = 16;
	}
}

static int match_ifaces_nl(struct nlr *r, const struct ir_match *m, uint32_t key)
{
	uint8_t k[16];
	uint32_t len;

	if (m->u.ifaces.n == 1) {
		iface_key(m->u.ifaces.v[0], k, &len);
		nls_exprs(r, x_meta(key), x_cmp(cmp_op(m->neg), k, len), NULL);
		return 0;
	}
	{
		struct nl_set_build bs = { .key_type = DT_IFNAME, .key_len = 16,
					   .byteorder = BO_HOST };

		bs.ty[0] = (struct set_typeof){ TY_META, key, 0, 0 };

		for (unsigned i = 0; i < m->u.ifaces.n; i++) {
			iface_key(m->u.ifaces.v[i], k, &len);
			if (len != 16) {
				uint8_t hi[16];

				/* a wildcard is the range of every name it starts */
				memset(hi, 0, sizeof(hi));
				memcpy(hi, k, len);
				memset(hi + len, 0xff, 16 - len);
				bs.interval = true;
				sb_elem_add(&bs, k, hi);
			} else {
				sb_elem_add(&bs, k, k);
			}
		}
		lookup_nl(r, &bs, x_meta(key), m->neg);
	}
	return 0;
}

static void be_n(uint8_t *p, uint32_t v, uint32_t len)
{
	if (len == 1)
		p[0] = (uint8_t)v;
	else
		be16(p, v);
}

/* A transport header field (a port, an ICMP type or code) against one
 * value, a range or a list: field, the nft typeof field number for a set. */
static void values_field(struct nlr *r, uint8_t proto, const struct field *f, uint32_t tyfield,
			 const struct ir_range *v, unsigned n, bool neg)
{
	uint8_t lo[2], hi[2];

	dep_l4(r, proto);
	if (n == 1) {
		be_n(lo, v[0].lo, f->len);
		be_n(hi, v[0].hi, f->len);
		field_range(r, f, lo, hi, neg);
		return;
	}
	{
		struct nl_set_build bs = { .key_type = f->key_type, .key_len = f->len,
					   .byteorder = BO_BIG };

		bs.ty[0] = (struct set_typeof){ TY_PAYLOAD, proto_desc_id(proto), tyfield, 0 };
		for (unsigned i = 0; i < n; i++) {
			be_n(lo, v[i].lo, f->len);
			be_n(hi, v[i].hi, f->len);
			if (v[i].lo != v[i].hi)
				bs.interval = true;
			sb_elem_add(&bs, lo, hi);
		}
		field_set(r, f, &bs, neg);
	}
}

static void ports_field(struct nlr *r, uint8_t proto, uint32_t off, const struct ir_range *v,
			unsigned n, bool neg)
{
	struct field f = { NFT_PAYLOAD_TRANSPORT_HEADER, off, 2, DT_INET_SERVICE };

	values_field(r, proto, &f, off ? 2 : 1, v, n, neg);
}

/* Legacy ICMP type and code lists (ipfwadm/ipchains), by number. */
static void icmp_values(struct nlr *r, const struct ir_match *m, bool code)
{
	bool v6 = r->c->fam == IR_FAM_IPV6;
	struct field f = { NFT_PAYLOAD_TRANSPORT_HEADER, code ? 1 : 0, 1,
			   code ? (v6 ? DT_ICMPV6_CODE : DT_ICMP_CODE)
				: (v6 ? DT_ICMP6_TYPE : DT_ICMP_TYPE) };

	values_field(r, v6 ? 58 : 1, &f, code ? 2 : 1, m->u.ports.v, m->u.ports.n, m->neg);
}

static void match_anyport_nl(struct nlr *r, const struct ir_match *m, unsigned variant)
{
	if (m->neg || variant == 1) {
		ports_field(r, m->l4proto, 0, m->u.ports.v, m->u.ports.n, true);
		ports_field(r, m->l4proto, 2, m->u.ports.v, m->u.ports.n, m->neg);
	} else {
		ports_field(r, m->l4proto, 0, m->u.ports.v, m->u.ports.n, false);
	}
}

static void match_icmp_nl(struct nlr *r, const struct ir_match *m)
{
	uint8_t proto = r->c->fam == IR_FAM_IPV6 ? 58 : 1;
	uint8_t type = (uint8_t)m->u.icmp.type, code = (uint8_t)m->u.icmp.code;

	dep_l4(r, proto);
	if (m->u.icmp.code < 0) {
		nls_payload_cmp(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, cmp_op(m->neg), &type);
	} else if (!m->neg) {
		nls_payload_cmp(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NFT_CMP_EQ, &type);
		nls_payload_cmp(r, NFT_PAYLOAD_TRANSPORT_HEADER, 1, 1, NFT_CMP_EQ, &code);
	} else {
		/* type . code != { t . c }: a concatenation, each field in
		 * its own 32-bit register */
		struct nl_set_build bs = { .key_len = 8, .concat = true,
					   .byteorder = BO_BIG };
		uint8_t key[16] = { 0 };
		struct nftnl_set *s;
		struct nls *st;

		bs.key_type = proto == 58 ? (DT_ICMP6_TYPE << 6 | DT_ICMPV6_CODE)
					  : (DT_ICMP_TYPE << 6 | DT_ICMP_CODE);
		bs.ty[0] = (struct set_typeof){ TY_PAYLOAD, proto_desc_id(proto), 1, 0 };
		bs.ty[1] = (struct set_typeof){ TY_PAYLOAD, proto_desc_id(proto), 2, 0 };
		key[0] = type;
		key[4] = code;
		sb_elem_add(&bs, key, key);
		s = set_finish(r, &bs);
		st = nls_exprs(r, x_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NL_REG1),
			       x_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 1, 1, NL_REG32_01), NULL);
		nls_add(st, x_lookup(s, NL_REG1, true));
	}
}

/* (key & mask) != 0, or == 0 when negated: ct state new, ct status snat */
static void bits_test(struct nlr *r, struct nftnl_expr *load, uint32_t mask, bool neg)
{
	uint32_t zero = 0;

	nls_exprs(r, load, x_bitwise(&mask, &zero, 4),
		  x_cmp(neg ? NFT_CMP_EQ : NFT_CMP_NEQ, &zero, 4));
}

static uint32_t ct_state_bits(uint32_t ir)
{
	uint32_t k = 0;

	if (ir & IR_CT_INVALID)
		k |= NF_CT_STATE_INVALID_BIT;
	if (ir & IR_CT_ESTABLISHED)
		k |= NF_CT_STATE_BIT(IP_CT_ESTABLISHED);
	if (ir & IR_CT_RELATED)
		k |= NF_CT_STATE_BIT(IP_CT_RELATED);
	if (ir & IR_CT_NEW)
		k |= NF_CT_STATE_BIT(IP_CT_NEW);
	if (ir & IR_CT_UNTRACKED)
		k |= NF_CT_STATE_UNTRACKED_BIT;
	return k;
}

static void match_ctstate_nl(struct nlr *r, const struct ir_match *m)
{
	uint32_t st = m->u.bits & (IR_CT_INVALID | IR_CT_ESTABLISHED | IR_CT_RELATED |
				   IR_CT_NEW | IR_CT_UNTRACKED);
	uint32_t nat = m->u.bits & (IR_CT_SNAT | IR_CT_DNAT);

	if (nat) {
		uint32_t mask = ((nat & IR_CT_SNAT) ? IPS_SRC_NAT : 0) |
				((nat & IR_CT_DNAT) ? IPS_DST_NAT : 0);

		bits_test(r, x_ct(NFT_CT_STATUS), mask, m->neg);
		return;
	}
	if (__builtin_popcount(st) == 1) {
		uint32_t k = ct_state_bits(st);

		/* `ct state new` tests the bit; `ct state != new` compares */
		if (m->neg)
			nls_exprs(r, x_ct(NFT_CT_STATE), x_cmp(NFT_CMP_NEQ, &k, 4), NULL);
		else
			bits_test(r, x_ct(NFT_CT_STATE), k, false);
		return;
	}
	{
		struct nl_set_build bs = { .key_type = DT_CT_STATE, .key_len = 4,
					   .byteorder = BO_HOST };

		bs.ty[0] = (struct set_typeof){ TY_CT, NFT_CT_STATE, 0xffffffffu, 0 };

		for (uint32_t bit = 1; bit <= IR_CT_UNTRACKED; bit <<= 1) {
			uint32_t k = ct_state_bits(st & bit);

			if (k)
				sb_elem_add(&bs, (uint8_t *)&k, (uint8_t *)&k);
		}
		lookup_nl(r, &bs, x_ct(NFT_CT_STATE), m->neg);
	}
}

static uint32_t ct_status_bits(uint32_t ir)
{
	static const uint32_t map[] = { IPS_EXPECTED, IPS_SEEN_REPLY, IPS_ASSURED,
					IPS_CONFIRMED, IPS_SRC_NAT, IPS_DST_NAT };
	uint32_t k = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(map); i++)
		if (ir & (1u << i))
			k |= map[i];
	return k;
}

static void match_limit_nl(struct nlr *r, const struct ir_match *m)
{
	static const uint64_t unit[] = {
		[IR_PER_SECOND] = 1, [IR_PER_MINUTE] = 60, [IR_PER_HOUR] = 3600,
		[IR_PER_DAY] = 86400,
	};
	struct nftnl_expr *e = x_new("limit");

	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, m->u.limit.rate);
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, unit[m->u.limit.unit]);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, m->u.limit.burst);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, m->neg ? NFT_LIMIT_F_INV : 0);
	/* a stateful statement: nft does not merge payloads across it */
	nls_barrier(r, e, NULL, NULL);
}

static void match_markmask_nl(struct nlr *r, const struct ir_match *m, struct nftnl_expr *load)
{
	uint32_t v = m->u.markmask.value, mask = m->u.markmask.mask, zero = 0;

	if (mask == 0xffffffffu)
		nls_exprs(r, load, x_cmp(cmp_op(m->neg), &v, 4), NULL);
	else
		nls_exprs(r, load, x_bitwise(&mask, &zero, 4), x_cmp(cmp_op(m->neg), &v, 4));
}

/* A payload field under a mask compared with a constant (bits of a byte
 * or two: TOS, DSCP, frag-off). */
static void masked_payload(struct nlr *r, uint32_t off, uint32_t len, const uint8_t *mask,
			   const uint8_t *val, uint32_t op)
{
	uint8_t zero[4] = { 0 };

	nls_exprs(r, x_payload(NFT_PAYLOAD_NETWORK_HEADER, off, len, NL_REG1),
		  x_bitwise(mask, zero, len), x_cmp(op, val, len));
}

static void match_length_nl(struct nlr *r, const struct ir_match *m)
{
	struct field f = { NFT_PAYLOAD_NETWORK_HEADER, r->c->fam == IR_FAM_IPV6 ? 4 : 2, 2, 0 };
	struct ir_range rg = m->u.range;
	uint8_t lo[2], hi[2];

	if (r->c->fam == IR_FAM_IPV6) {
		rg.lo = rg.lo > 40 ? rg.lo - 40 : 0;
		rg.hi = rg.hi - 40 > 65535 ? 65535 : rg.hi - 40;
	}
	be16(lo, rg.lo);
	be16(hi, rg.hi);
	field_range(r, &f, lo, hi, m->neg);
}

static void match_ttl_nl(struct nlr *r, const struct ir_match *m)
{
	uint32_t off = r->c->fam == IR_FAM_IPV6 ? 7 : 8;
	uint8_t v = m->u.ttl.value;
	uint32_t op = NFT_CMP_EQ;

	switch (m->u.ttl.op) {
	case IR_TTL_EQ:
		nls_payload_cmp(r, NFT_PAYLOAD_NETWORK_HEADER, off, 1, cmp_op(m->neg), &v);
		return;
	case IR_TTL_LT:
		op = m->neg ? NFT_CMP_GTE : NFT_CMP_LT;
		break;
	case IR_TTL_GT:
		op = m->neg ? NFT_CMP_LTE : NFT_CMP_GT;
		break;
	}
	nls_exprs(r, x_payload(NFT_PAYLOAD_NETWORK_HEADER, off, 1, NL_REG1), x_cmp(op, &v, 1), NULL);
}

static void fib_one(struct nlr *r, const struct ir_match *m, uint32_t dirflag, uint32_t bits,
		    bool neg)
{
	uint32_t flags = dirflag | (m->u.addrtype.limit_in ? NFTA_FIB_F_IIF :
				    m->u.addrtype.limit_out ? NFTA_FIB_F_OIF : 0);
	struct nftnl_expr *e = x_new("fib");

	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NL_REG1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, flags);
	if (__builtin_popcount(bits) == 1) {
		uint32_t t = (uint32_t)__builtin_ctz(bits);

		nls_exprs(r, e, x_cmp(cmp_op(neg), &t, 4), NULL);
	} else {
		struct nl_set_build bs = { .key_type = DT_FIB_ADDR, .key_len = 4,
					   .byteorder = BO_HOST };

		bs.ty[0] = (struct set_typeof){ TY_FIB, NFT_FIB_RESULT_ADDRTYPE, flags, 0 };

		for (uint32_t t = 0; t < 12; t++)
			if (bits & (1u << t))
				sb_elem_add(&bs, (uint8_t *)&t, (uint8_t *)&t);
		lookup_nl(r, &bs, e, neg);
	}
}

/* meta skuid/skgid: host byte order; a range is compared after a
 * conversion to big endian, as nft does for ordered compares. */
static void meta_host_range(struct nlr *r, uint32_t key, const struct ir_range *rg, bool neg)
{
	if (rg->lo == rg->hi) {
		nls_exprs(r, x_meta(key), x_cmp(cmp_op(neg), &rg->lo, 4), NULL);
		return;
	}
	{
		struct nftnl_expr *bo = x_new("byteorder");
		uint8_t lo[4], hi[4];
		struct nls *s;

		nftnl_expr_set_u32(bo, NFTNL_EXPR_BYTEORDER_SREG, NL_REG1);
		nftnl_expr_set_u32(bo, NFTNL_EXPR_BYTEORDER_DREG, NL_REG1);
		nftnl_expr_set_u32(bo, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
		nftnl_expr_set_u32(bo, NFTNL_EXPR_BYTEORDER_LEN, 4);
		nftnl_expr_set_u32(bo, NFTNL_EXPR_BYTEORDER_SIZE, 4);
		be32(lo, rg->lo);
		be32(hi, rg->hi);
		if (neg) {
			nls_exprs(r, x_meta(key), bo, x_range(NFT_RANGE_NEQ, lo, hi, 4));
		} else {
			s = nls_exprs(r, x_meta(key), bo, x_cmp(NFT_CMP_GTE, lo, 4));
			nls_add(s, x_cmp(NFT_CMP_LTE, hi, 4));
		}
	}
}

static void match_owner_nl(struct nlr *r, const struct ir_match *m)
{
	if (m->u.owner.has_uid)
		meta_host_range(r, NFT_META_SKUID, &m->u.owner.uid, m->neg);
	if (m->u.owner.has_gid)
		meta_host_range(r, NFT_META_SKGID, &m->u.owner.gid, m->neg);
	if (m->u.owner.socket_exists && !m->u.owner.has_uid && !m->u.owner.has_gid) {
		/* `meta skuid >= 0`: an ordered compare, in big endian */
		struct nftnl_expr *bo = x_new("byteorder");
		uint8_t zero[4] = { 0 };

		nftnl_expr_set_u32(bo, NFTNL_EXPR_BYTEORDER_SREG, NL_REG1);
		nftnl_expr_set_u32(bo, NFTNL_EXPR_BYTEORDER_DREG, NL_REG1);
		nftnl_expr_set_u32(bo, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
		nftnl_expr_set_u32(bo, NFTNL_EXPR_BYTEORDER_LEN, 4);
		nftnl_expr_set_u32(bo, NFTNL_EXPR_BYTEORDER_SIZE, 4);
		nls_exprs(r, x_meta(NFT_META_SKUID), bo, x_cmp(NFT_CMP_GTE, zero, 4));
	}
}

static int match_set_nl(struct nlr *r, const struct ir_match *m);

static int match_one_nl(struct nlr *r, const struct ir_match *m, unsigned variant)
{
	struct nlc *c = r->c;
	bool v6 = c->fam == IR_FAM_IPV6;
	uint8_t b[16];

	switch (m->kind) {
	case IR_M_PROTO:
		nls_exprs(r, x_meta(NFT_META_L4PROTO), x_cmp(cmp_op(m->neg), &m->u.proto, 1), NULL);
		if (!m->neg)
			r->l4 = m->u.proto;
		break;
	case IR_M_SADDR:
		match_addrs_nl(r, m, v6 ? 8 : 12);
		break;
	case IR_M_DADDR:
		match_addrs_nl(r, m, v6 ? 24 : 16);
		break;
	case IR_M_IIF:
		return match_ifaces_nl(r, m, NFT_META_IIFNAME);
	case IR_M_OIF:
		return match_ifaces_nl(r, m, NFT_META_OIFNAME);
	case IR_M_SPORT:
		ports_field(r, m->l4proto, 0, m->u.ports.v, m->u.ports.n, m->neg);
		break;
	case IR_M_DPORT:
		ports_field(r, m->l4proto, 2, m->u.ports.v, m->u.ports.n, m->neg);
		break;
	case IR_M_PORT:
		match_anyport_nl(r, m, variant);
		break;
	case IR_M_TCPFLAGS: {
		uint8_t mask = m->u.tcpflags.mask, cmp = m->u.tcpflags.cmp, zero = 0;

		dep_l4(r, 6);
		nls_exprs(r, x_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1, NL_REG1),
			  x_bitwise(&mask, &zero, 1), x_cmp(cmp_op(m->neg), &cmp, 1));
		break;
	}
	case IR_M_TCPOPTION:
		/* nft adds no protocol dependency for TCP options: the kernel's
		 * exthdr expression fails on anything but TCP by itself */
		b[0] = m->neg ? 0 : 1;
		nls_exprs(r, x_exthdr_tcpopt((uint8_t)m->u.num, 0, 1, NFT_EXTHDR_F_PRESENT),
			  x_cmp(NFT_CMP_EQ, b, 1), NULL);
		break;
	case IR_M_ICMP:
		match_icmp_nl(r, m);
		break;
	case IR_M_ICMP_ANY:
		break;
	case IR_M_FRAG: {
		uint8_t mask[2] = { 0x1f, 0xff }, zero[2] = { 0, 0 };

		masked_payload(r, 6, 2, mask, zero, m->neg ? NFT_CMP_EQ : NFT_CMP_NEQ);
		break;
	}
	case IR_M_CTSTATE:
		match_ctstate_nl(r, m);
		break;
	case IR_M_CTSTATUS:
		bits_test(r, x_ct(NFT_CT_STATUS), ct_status_bits(m->u.bits), m->neg);
		break;
	case IR_M_CTDIR:
		b[0] = m->u.num ? IP_CT_DIR_REPLY : IP_CT_DIR_ORIGINAL;
		nls_exprs(r, x_ct(NFT_CT_DIRECTION), x_cmp(cmp_op(m->neg), b, 1), NULL);
		break;
	case IR_M_LIMIT:
		match_limit_nl(r, m);
		break;
	case IR_M_MAC: {
		uint16_t ether = 1;	/* ARPHRD_ETHER, host order */

		if (!r->ether) {
			nls_exprs(r, x_meta(NFT_META_IIFTYPE), x_cmp(NFT_CMP_EQ, &ether, 2), NULL);
			r->ether = true;
		}
		nls_payload_cmp(r, NFT_PAYLOAD_LL_HEADER, 6, 6, cmp_op(m->neg), m->u.mac);
		break;
	}
	case IR_M_MARK:
		match_markmask_nl(r, m, x_meta(NFT_META_MARK));
		break;
	case IR_M_CONNMARK:
		match_markmask_nl(r, m, x_ct(NFT_CT_MARK));
		break;
	case IR_M_TOS:
		if (v6) {
			/* @nh,4,8: the traffic class straddles two bytes */
			uint16_t mk = (uint16_t)((m->u.markmask.mask & 0xff) << 4);
			uint16_t vl = (uint16_t)((m->u.markmask.value & 0xff) << 4);
			uint8_t mask[2], val[2];

			be16(mask, mk);
			be16(val, vl);
			masked_payload(r, 0, 2, mask, val, cmp_op(m->neg));
		} else {
			uint8_t mask = (uint8_t)m->u.markmask.mask, val = (uint8_t)m->u.markmask.value;

			masked_payload(r, 1, 1, &mask, &val, cmp_op(m->neg));
		}
		break;
	case IR_M_DSCP:
		if (v6) {
			uint8_t mask[2], val[2];

			be16(mask, 0x0fc0);
			be16(val, (m->u.num & 0x3f) << 6);
			masked_payload(r, 0, 2, mask, val, cmp_op(m->neg));
		} else {
			uint8_t mask = 0xfc, val = (uint8_t)(m->u.num << 2);

			masked_payload(r, 1, 1, &mask, &val, cmp_op(m->neg));
		}
		break;
	case IR_M_LENGTH:
		match_length_nl(r, m);
		break;
	case IR_M_TTL:
		match_ttl_nl(r, m);
		break;
	case IR_M_COMMENT:
		break;
	case IR_M_ADDRTYPE:
		if (m->u.addrtype.src)
			fib_one(r, m, NFTA_FIB_F_SADDR, m->u.addrtype.src, m->u.addrtype.src_neg);
		if (m->u.addrtype.dst)
			fib_one(r, m, NFTA_FIB_F_DADDR, m->u.addrtype.dst, m->u.addrtype.dst_neg);
		break;
	case IR_M_OWNER:
		match_owner_nl(r, m);
		break;
	case IR_M_TCPMSS: {
		uint8_t lo[2], hi[2];
		struct nls *s;

		be16(lo, m->u.range.lo);
		be16(hi, m->u.range.hi);
		if (m->u.range.lo == m->u.range.hi) {
			nls_exprs(r, x_exthdr_tcpopt(NL_TCPOPT_MAXSEG, 2, 2, 0),
				  x_cmp(NFT_CMP_EQ, lo, 2), NULL);
		} else {
			s = nls_exprs(r, x_exthdr_tcpopt(NL_TCPOPT_MAXSEG, 2, 2, 0),
				      x_cmp(NFT_CMP_GTE, lo, 2), NULL);
			nls_add(s, x_cmp(NFT_CMP_LTE, hi, 2));
		}
		break;
	}
	case IR_M_PKTTYPE:
		b[0] = m->u.num == IR_PKT_BROADCAST ? 1 : m->u.num == IR_PKT_MULTICAST ? 2 : 0;
		nls_exprs(r, x_meta(NFT_META_PKTTYPE), x_cmp(cmp_op(m->neg), b, 1), NULL);
		break;
	case IR_M_HELPER: {
		size_t n = strlen(m->u.str);
		uint8_t name[16] = { 0 };

		memcpy(name, m->u.str, n > 15 ? 15 : n);
		nls_exprs(r, x_ct(NFT_CT_HELPER), x_cmp(cmp_op(m->neg), name, 16), NULL);
		break;
	}
	case IR_M_ICMP_TYPES:
		icmp_values(r, m, false);
		break;
	case IR_M_ICMP_CODES:
		icmp_values(r, m, true);
		break;
	case IR_M_SET:
		return match_set_nl(r, m);
	}
	return 0;
}

/* ---- building: statements and verdicts --------------------------------------------------- */

static void stmt_log_nl(struct nlr *r, const struct ir_stmt *s)
{
	struct nftnl_expr *e = x_new("log");
	uint32_t f = s->u.log.flags, kf = 0;

	if (s->u.log.prefix && s->u.log.prefix[0])
		nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, s->u.log.prefix);
	/* the kernel reports level 4 when none was given; say it here so the
	 * compiled rule renders like the one read back */
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_LEVEL,
			   s->u.log.level >= 0 && s->u.log.level <= 7 ? (uint32_t)s->u.log.level : 4);
	if (f & IR_LOG_TCPSEQ)
		kf |= NF_LOG_TCPSEQ;
	if (f & IR_LOG_TCPOPT)
		kf |= NF_LOG_TCPOPT;
	if (f & IR_LOG_IPOPT)
		kf |= NF_LOG_IPOPT;
	if (f & IR_LOG_UID)
		kf |= NF_LOG_UID;
	if (f & IR_LOG_MACDECODE)
		kf |= NF_LOG_MACDECODE;
	if (kf)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_FLAGS, kf);
	nls_barrier(r, e, NULL, NULL);
}

static void stmt_nflog_nl(struct nlr *r, const struct ir_stmt *s)
{
	struct nftnl_expr *e = x_new("log");

	if (s->u.nflog.prefix && s->u.nflog.prefix[0])
		nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, s->u.nflog.prefix);
	nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, s->u.nflog.group);
	if (s->u.nflog.snaplen)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_SNAPLEN, s->u.nflog.snaplen);
	if (s->u.nflog.threshold > 1)
		nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_QTHRESHOLD, s->u.nflog.threshold);
	nls_barrier(r, e, NULL, NULL);
}

/* key = (key & m) ^ x with constants, or a plain constant */
static void mark_set(struct nlr *r, bool ct, bool load, uint32_t m, uint32_t x)
{
	struct nftnl_expr *ld = ct ? x_ct(NFT_CT_MARK) : x_meta(NFT_META_MARK);
	struct nftnl_expr *st = ct ? x_ct_set(NFT_CT_MARK) : x_meta_set(NFT_META_MARK);

	if (!load) {
		nftnl_expr_free(ld);
		nls_barrier(r, x_imm_data(NL_REG1, &x, 4), st, NULL);
	} else {
		nls_barrier(r, ld, x_bitwise(&m, &x, 4), st);
	}
}

static int stmt_setmark_nl(struct nlr *r, const struct ir_stmt *s, bool ct)
{
	uint32_t v = s->u.setmark.value, mask = s->u.setmark.mask;

	switch (s->u.setmark.op) {
	case IR_MARK_SET:
		if (mask == 0xffffffffu)
			mark_set(r, ct, false, 0, v);
		else if (mask == 0)
			mark_set(r, ct, true, 0xffffffffu, v);
		else
			mark_set(r, ct, true, ~mask, v);
		break;
	case IR_MARK_AND:
		mark_set(r, ct, true, v, 0);
		break;
	case IR_MARK_OR:
		mark_set(r, ct, true, ~v, v);
		break;
	case IR_MARK_XOR:
		mark_set(r, ct, true, 0xffffffffu, v);
		break;
	case IR_MARK_SAVE:
	case IR_MARK_RESTORE: {
		bool save = s->u.setmark.op == IR_MARK_SAVE;
		uint32_t smask = save ? s->u.setmark.nfmask : s->u.setmark.ctmask, zero = 0;
		struct nftnl_expr *ld = save ? x_meta(NFT_META_MARK) : x_ct(NFT_CT_MARK);
		struct nftnl_expr *st = save ? x_ct_set(NFT_CT_MARK) : x_meta_set(NFT_META_MARK);

		if (smask != 0xffffffffu)
			nls_barrier(r, ld, x_bitwise(&smask, &zero, 4), st);
		else
			nls_barrier(r, ld, st, NULL);
		break;
	}
	}
	return 0;
}

/* A read-modify-write of header bits: load `len` bytes at off, keep
 * `keep`, set `set`, write back (with the IPv4 checksum fixed). */
static void header_rmw(struct nlr *r, uint32_t off, uint32_t len, const uint8_t *keep,
		       const uint8_t *set)
{
	bool v4 = r->c->fam == IR_FAM_IPV4;

	nls_barrier(r, x_payload(NFT_PAYLOAD_NETWORK_HEADER, off, len, NL_REG1),
		    x_bitwise(keep, set, len),
		    x_payload_write(NFT_PAYLOAD_NETWORK_HEADER, off, len, v4));
}

/* ip dscp set D: the DSCP bits of the TOS byte (IPv4, bits 8-13 of the
 * first 16-bit word) or of the traffic class (IPv6, bits 4-9). */
static void dscp_set(struct nlr *r, uint32_t dscp)
{
	uint8_t keep[2], set[2];

	if (r->c->fam == IR_FAM_IPV6) {
		be16(keep, (uint16_t)~0x0fc0);
		be16(set, (dscp & 0x3f) << 6);
	} else {
		be16(keep, 0xff03);
		be16(set, (dscp & 0x3f) << 2);
	}
	header_rmw(r, 0, 2, keep, set);
}

static void ecn_set(struct nlr *r, uint32_t ecn)
{
	uint8_t keep[2], set[2];

	if (r->c->fam == IR_FAM_IPV6) {
		be16(keep, (uint16_t)~0x0030);
		be16(set, (ecn & 3) << 4);
	} else {
		be16(keep, 0xfffc);
		be16(set, ecn & 3);
	}
	header_rmw(r, 0, 2, keep, set);
}

static int stmt_tos_nl(struct nlr *r, const struct ir_stmt *s, unsigned tosvar)
{
	uint8_t mask = s->u.setmark.mask & 0xff, val = s->u.setmark.value & 0xff, keep;
	bool any = false;

	switch (s->u.setmark.op) {
	case IR_MARK_SET:
	case IR_MARK_SAVE:
	case IR_MARK_RESTORE:
		break;
	case IR_MARK_AND:
		mask = (uint8_t)~val;
		val = 0;
		break;
	case IR_MARK_OR:
		mask = val;
		break;
	case IR_MARK_XOR:
		mask = 0;
		break;
	}
	keep = (uint8_t)(~mask & 0xfc);
	if (keep != 0xfc || (val & 0xfc)) {
		dscp_set(r, (uint8_t)((tosvar & keep) ^ (val & 0xfc)) >> 2);
		any = true;
	}
	if ((mask & 0x03) == 0x03)
		ecn_set(r, val & 0x03);
	else if (!any)
		return diag_error(r->c->dq, &s->loc, "this TOS statement changes nothing; the "
				  "netlink backend cannot write it (use `masqc compile`)");
	return 0;
}

static void stmt_ttl_nl(struct nlr *r, const struct ir_stmt *s)
{
	if (r->c->fam == IR_FAM_IPV6) {
		nls_barrier(r, x_imm_data(NL_REG1, &s->u.ttl.value, 1),
			    x_payload_write(NFT_PAYLOAD_NETWORK_HEADER, 7, 1, false), NULL);
	} else {
		/* a checksummed write must cover whole 16-bit words: ttl and
		 * protocol together, the protocol byte kept */
		uint8_t keep[2] = { 0x00, 0xff }, set[2] = { s->u.ttl.value, 0x00 };

		header_rmw(r, 8, 2, keep, set);
	}
}

static void stmt_tcpmss_nl(struct nlr *r, const struct ir_stmt *s)
{
	struct nftnl_expr *wr = x_new("exthdr");

	nftnl_expr_set_u32(wr, NFTNL_EXPR_EXTHDR_SREG, NL_REG1);
	nftnl_expr_set_u8(wr, NFTNL_EXPR_EXTHDR_TYPE, NL_TCPOPT_MAXSEG);
	nftnl_expr_set_u32(wr, NFTNL_EXPR_EXTHDR_OFFSET, 2);
	nftnl_expr_set_u32(wr, NFTNL_EXPR_EXTHDR_LEN, 2);
	nftnl_expr_set_u32(wr, NFTNL_EXPR_EXTHDR_OP, NFT_EXTHDR_OP_TCPOPT);
	if (s->u.num) {
		uint8_t v[2];

		be16(v, s->u.num);
		nls_barrier(r, x_imm_data(NL_REG1, v, 2), wr, NULL);
	} else {
		struct nftnl_expr *rt = x_new("rt"), *bo = x_new("byteorder");

		nftnl_expr_set_u32(rt, NFTNL_EXPR_RT_KEY, NFT_RT_TCPMSS);
		nftnl_expr_set_u32(rt, NFTNL_EXPR_RT_DREG, NL_REG1);
		nftnl_expr_set_u32(bo, NFTNL_EXPR_BYTEORDER_SREG, NL_REG1);
		nftnl_expr_set_u32(bo, NFTNL_EXPR_BYTEORDER_DREG, NL_REG1);
		nftnl_expr_set_u32(bo, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
		nftnl_expr_set_u32(bo, NFTNL_EXPR_BYTEORDER_LEN, 2);
		nftnl_expr_set_u32(bo, NFTNL_EXPR_BYTEORDER_SIZE, 2);
		nls_barrier(r, rt, bo, wr);
	}
}

static void objref_helper(struct nlr *r, const char *name)
{
	struct nftnl_expr *e = x_new("objref");

	nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_CT_HELPER);
	nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_IMM_NAME, name);
	nls_barrier(r, e, NULL, NULL);
}

/* The ct helper object of the table (created once, in first-use order as
 * nft_emit() lists them). */
static void helper_obj_need(struct nlc *c, const char *name, const char *type, uint8_t l4,
			    const struct loc *loc)
{
	struct nftnl_obj *o;

	for (size_t i = 0; i < c->t->objs.n; i++)
		if (strcmp(nftnl_obj_get_str(c->t->objs.v[i].o, NFTNL_OBJ_NAME), name) == 0)
			return;
	o = nftnl_obj_alloc();
	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, NL_TABLE);
	nftnl_obj_set_str(o, NFTNL_OBJ_NAME, name);
	nftnl_obj_set_u32(o, NFTNL_OBJ_FAMILY, nl_nfproto(c->fam));
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_CT_HELPER);
	nftnl_obj_set_str(o, NFTNL_OBJ_CT_HELPER_NAME, type);
	nftnl_obj_set_u16(o, NFTNL_OBJ_CT_HELPER_L3PROTO, (uint16_t)nl_nfproto(c->fam));
	nftnl_obj_set_u8(o, NFTNL_OBJ_CT_HELPER_L4PROTO, l4);
	vec_push(&c->t->objs, ((struct nl_obj){ o, *loc }));
}

static const char *l4_name(uint8_t p)
{
	return p == 6 ? "tcp" : p == 17 ? "udp" : "?";
}

static void stmt_ct_helper_nl(struct nlr *r, const struct ir_rule *ir, const struct ir_stmt *s)
{
	uint8_t l4 = 0;
	char *name;

	for (const struct ir_match *m = ir->matches; m; m = m->next)
		if (m->kind == IR_M_PROTO && !m->neg)
			l4 = m->u.proto;
	name = xasprintf("%s-%s", s->u.str, l4_name(l4));
	helper_obj_need(r->c, name, s->u.str, l4, &s->loc);
	objref_helper(r, name);
	free(name);
}

/* ---- named maps (struct ir_map) ----------------------------------------------------------- */

/* As nft 1.0.6 makes `map NAME { type nf_proto : ipv4_addr; flags
 * dynamic[,timeout]; [timeout T;] [elements = { ... }] }`: flags
 * map|eval[|timeout], the key and data types and lengths, its set id, the
 * default timeout, and userdata with the key byte order (0: nf_proto has
 * none), the data byte order (big endian) and "data is no interval".  And
 * `set NAME { type ipv4_addr . inet_service . ipv4_addr . inet_service;
 * flags dynamic[,timeout]; ... }`: flags eval[|timeout], the concatenated
 * key type (each type 6 bits, the first highest), each field in its own
 * 32-bit registers, userdata with byte order 0 and a typeof "concat" with
 * no fields. */
enum { DT_NFPROTO = 2, NL_MAP_KEY_LEN = 1, NL_TYPE_BITS = 6 };

static uint32_t map_key_type(const struct nlc *c, enum ir_map_key k)
{
	uint32_t a = c->fam == IR_FAM_IPV6 ? DT_IP6ADDR : DT_IPADDR;

	switch (k) {
	case IR_MAPKEY_L3PROTO:
		break;
	case IR_MAPKEY_FLOW:
		return ((((a << NL_TYPE_BITS) | DT_INET_SERVICE) << NL_TYPE_BITS | a) << NL_TYPE_BITS) |
		       DT_INET_SERVICE;
	}
	return DT_NFPROTO;
}

static uint32_t map_key_len(const struct nlc *c, enum ir_map_key k)
{
	switch (k) {
	case IR_MAPKEY_L3PROTO:
		break;
	case IR_MAPKEY_FLOW:
		return 2 * addr_len(c) + 2 * 4;
	}
	return NL_MAP_KEY_LEN;
}

static char *map_nl_name(const struct ir_table *t, const char *map)
{
	return xasprintf("%s_%s", t->name, map);
}

static void map_emit_nl(struct nlc *c, const struct ir_table *t, const struct ir_map *m)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(64);
	uint32_t alen = addr_len(c);
	char *name = map_nl_name(t, m->name);

	nftnl_set_set_str(s, NFTNL_SET_TABLE, NL_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, nl_nfproto(c->fam));
	nftnl_set_set_u32(s, NFTNL_SET_ID, ++c->set_id);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, (m->data != IR_MAPDATA_NONE ? NFT_SET_MAP : 0) |
			  NFT_SET_EVAL | (m->timeout_ms ? NFT_SET_TIMEOUT : 0));
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, map_key_type(c, m->key));
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, map_key_len(c, m->key));
	if (m->data != IR_MAPDATA_NONE) {
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, c->fam == IR_FAM_IPV6 ? DT_IP6ADDR : DT_IPADDR);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, alen);
	}
	if (m->timeout_ms)
		nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, m->timeout_ms);
	/* nft sends no size; the kernel gives a set the packet path fills
	 * 65535 (and reports it): said here, so the batch renders like it */
	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, 65535);
	nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, 0);
	if (m->data != IR_MAPDATA_NONE) {
		nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_DATABYTEORDER, BO_BIG);
		nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_DATA_INTERVAL, 0);
	}
	if (m->key == IR_MAPKEY_FLOW) {
		struct nftnl_udata *nest = nftnl_udata_nest_start(ud, NFTNL_UDATA_SET_KEY_TYPEOF);
		struct nftnl_udata *data;

		nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_TYPEOF_EXPR, TY_CONCAT);
		data = nftnl_udata_nest_start(ud, NFTNL_UDATA_SET_TYPEOF_DATA);
		nftnl_udata_nest_end(ud, data);
		nftnl_udata_nest_end(ud, nest);
	}
	nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
	nftnl_udata_buf_free(ud);
	for (const struct ir_map_elem *e = m->elems; e; e = e->next) {
		uint8_t key = (uint8_t)e->key, lo[16], hi[16];
		struct nftnl_set_elem *el = elem_new(&key, NL_MAP_KEY_LEN, 0);

		addr_bounds(c, &e->data, lo, hi);
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_DATA, lo, alen);
		nftnl_set_elem_add(s, el);
	}
	vec_push(&c->t->sets, ((struct nl_set){ s, m->loc }));
	free(name);
}

/* The map of this table named NAME (map_nl_name), for its set id. */
static struct nftnl_set *map_set_nl(struct nlc *c, const char *name)
{
	for (size_t i = 0; i < c->t->sets.n; i++) {
		struct nftnl_set *s = c->t->sets.v[i].s;

		if (!(nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS) &&
		    strcmp(nftnl_set_get_str(s, NFTNL_SET_NAME), name) == 0)
			return s;
	}
	return NULL;
}

/* The key into reg 1 onwards, as a statement of one to five
 * expressions, the last one `last` (a lookup, a dynset; may be NULL):
 * `ct l3proto`, or a flow's fields each in its own 32-bit registers. */
static void map_key_nl(struct nlr *r, enum ir_map_key k, uint8_t l4, struct nftnl_expr *data,
		       struct nftnl_expr *last, bool barrier)
{
	struct nls *s;

	switch (k) {
	case IR_MAPKEY_L3PROTO:
		s = nls_exprs(r, x_ct(NFT_CT_L3PROTOCOL), data, last);
		s->barrier = barrier;
		return;
	case IR_MAPKEY_FLOW: {
		uint32_t alen = addr_len(r->c), soff = r->c->fam == IR_FAM_IPV6 ? 8 : 12;
		uint32_t reg = NFT_REG32_00 + alen / 4;

		dep_l4(r, l4);
		s = nls_new(r);
		nls_add(s, x_payload(NFT_PAYLOAD_NETWORK_HEADER, soff, alen, NL_REG1));
		nls_add(s, x_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2, reg));
		nls_add(s, x_payload(NFT_PAYLOAD_NETWORK_HEADER, soff + alen, alen, reg + 1));
		nls_add(s, x_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, reg + 1 + alen / 4));
		if (last)
			nls_add(s, last);
		s->barrier = barrier;
		return;
	}
	}
}

/* KEY [!=] @set */
static int match_set_nl(struct nlr *r, const struct ir_match *m)
{
	char *name = map_nl_name(r->ch->table, m->u.set.name);
	struct nftnl_set *set = map_set_nl(r->c, name);
	struct nftnl_expr *e;

	if (!set) {
		free(name);
		return diag_error(r->c->dq, &m->loc, "internal error: no set %s", m->u.set.name);
	}
	e = x_new("lookup");
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NL_REG1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, name);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, nftnl_set_get_u32(set, NFTNL_SET_ID));
	if (m->neg)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	map_key_nl(r, (enum ir_map_key)m->u.set.key, m->l4proto, NULL, e, false);
	free(name);
	return 0;
}

/* add / update / delete @m { KEY : ip saddr }: key in reg 1, data in reg 2 */
static int stmt_dynset_nl(struct nlr *r, const struct ir_stmt *s)
{
	static const uint32_t ops[] = {
		[IR_DYNSET_ADD] = NFT_DYNSET_OP_ADD, [IR_DYNSET_UPDATE] = NFT_DYNSET_OP_UPDATE,
		[IR_DYNSET_DELETE] = NFT_DYNSET_OP_DELETE,
	};
	const struct ir_table *t = r->ch->table;
	char *name = map_nl_name(t, s->u.dynset.map);
	struct nftnl_set *set = map_set_nl(r->c, name);
	struct nftnl_expr *data = NULL, *e;

	if (!set) {
		free(name);
		return diag_error(r->c->dq, &s->loc, "internal error: no map %s", s->u.dynset.map);
	}
	switch (s->u.dynset.data) {
	case IR_MAPDATA_NONE:
		break;
	case IR_MAPDATA_SADDR:
		data = r->c->fam == IR_FAM_IPV6 ? x_payload(NFT_PAYLOAD_NETWORK_HEADER, 8, 16, NL_REG2)
						 : x_payload(NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NL_REG2);
		break;
	}
	e = x_new("dynset");
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NL_REG1);
	if (data)
		nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_DATA, NL_REG2);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, ops[s->u.dynset.op]);
	nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, name);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SET_ID, nftnl_set_get_u32(set, NFTNL_SET_ID));
	map_key_nl(r, s->u.dynset.key, s->u.dynset.l4proto, data, e, true);
	free(name);
	return 0;
}

/* dnat to KEY map @m: key in reg 1, looked up into reg 1, the address */
static int nat_map_nl(struct nlr *r, const struct ir_nat *n, const struct loc *loc)
{
	char *name = map_nl_name(r->ch->table, n->addr_map);
	struct nftnl_set *set = map_set_nl(r->c, name);
	struct nftnl_expr *e;

	if (!set || n->has_port) {
		free(name);
		r->c->err = -1;
		return diag_error(r->c->dq, loc, "internal error: NAT to map %s", n->addr_map);
	}
	e = x_new("lookup");
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NL_REG1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NL_REG1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, name);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, nftnl_set_get_u32(set, NFTNL_SET_ID));
	map_key_nl(r, n->addr_map_key, 0, e, NULL, true);
	free(name);
	return 0;
}

static int stmt_one_nl(struct nlr *r, const struct ir_rule *ir, const struct ir_stmt *s,
		       unsigned tosvar)
{
	switch (s->kind) {
	case IR_S_LOG:
		stmt_log_nl(r, s);
		break;
	case IR_S_NFLOG:
		stmt_nflog_nl(r, s);
		break;
	case IR_S_MARK:
		return stmt_setmark_nl(r, s, false);
	case IR_S_CONNMARK:
		return stmt_setmark_nl(r, s, true);
	case IR_S_TOS:
		return stmt_tos_nl(r, s, tosvar);
	case IR_S_DSCP:
		dscp_set(r, s->u.num);
		break;
	case IR_S_TTL:
		stmt_ttl_nl(r, s);
		break;
	case IR_S_TCPMSS:
		stmt_tcpmss_nl(r, s);
		break;
	case IR_S_NOTRACK:
		nls_barrier(r, x_new("notrack"), NULL, NULL);
		break;
	case IR_S_CT_HELPER:
		stmt_ct_helper_nl(r, ir, s);
		break;
	case IR_S_DYNSET:
		return stmt_dynset_nl(r, s);
	}
	return 0;
}

static int reject_code(const struct nlc *c, enum ir_reject rj, uint32_t *type, uint8_t *code)
{
	bool v6 = c->fam == IR_FAM_IPV6;

	*type = NFT_REJECT_ICMP_UNREACH;
	switch (rj) {
	case IR_REJ_DEFAULT:
		*code = v6 ? 4 : 3;
		return 0;
	case IR_REJ_TCP_RESET:
		*type = NFT_REJECT_TCP_RST;
		*code = 0;
		return 0;
	case IR_REJ_NET_UNREACH: *code = 0; return v6 ? -1 : 0;
	case IR_REJ_HOST_UNREACH: *code = 1; return v6 ? -1 : 0;
	case IR_REJ_PROTO_UNREACH: *code = 2; return v6 ? -1 : 0;
	case IR_REJ_PORT_UNREACH: *code = 3; return v6 ? -1 : 0;
	case IR_REJ_NET_PROHIB: *code = 9; return v6 ? -1 : 0;
	case IR_REJ_HOST_PROHIB: *code = 10; return v6 ? -1 : 0;
	case IR_REJ_ADMIN_PROHIB: *code = 13; return v6 ? -1 : 0;
	case IR_REJ6_NO_ROUTE: *code = 0; return v6 ? 0 : -1;
	case IR_REJ6_ADM_PROHIB: *code = 1; return v6 ? 0 : -1;
	case IR_REJ6_ADDR_UNREACH: *code = 3; return v6 ? 0 : -1;
	case IR_REJ6_PORT_UNREACH: *code = 4; return v6 ? 0 : -1;
	case IR_REJ6_POLICY_FAIL: *code = 5; return v6 ? 0 : -1;
	case IR_REJ6_REJECT_ROUTE: *code = 6; return v6 ? 0 : -1;
	}
	return -1;
}

static uint32_t nat_flags(uint32_t f)
{
	uint32_t k = 0;

	if (f & IR_NAT_RANDOM)
		k |= NF_NAT_RANGE_PROTO_RANDOM;
	if (f & IR_NAT_PERSISTENT)
		k |= NF_NAT_RANGE_PERSISTENT;
	if (f & IR_NAT_FULLY_RANDOM)
		k |= NF_NAT_RANGE_PROTO_RANDOM_FULLY;
	return k;
}

/* Port registers after `reg`: one when lo == hi, two otherwise. */
static void nat_ports(struct nlr *r, const struct ir_nat *n, uint32_t reg, uint32_t *pmin,
		      uint32_t *pmax)
{
	uint8_t p[2];

	be16(p, n->port_lo);
	nls_barrier(r, x_imm_data(reg, p, 2), NULL, NULL);
	*pmin = *pmax = reg;
	if (n->port_hi != n->port_lo) {
		be16(p, n->port_hi);
		nls_barrier(r, x_imm_data(reg + 1, p, 2), NULL, NULL);
		*pmax = reg + 1;
	}
}

static void verdict_nat_nl(struct nlr *r, const struct ir_verdict *v, uint32_t type)
{
	const struct ir_nat *n = &v->u.nat;
	struct nftnl_expr *e = x_new("nat");
	uint32_t reg = NL_REG1, flags = nat_flags(n->flags);

	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, type);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, nl_nfproto(r->c->fam));
	if (n->addr_map) {
		if (nat_map_nl(r, n, &v->loc) < 0) {
			nftnl_expr_free(e);
			return;
		}
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, reg);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MAX, reg);
		reg++;
		flags |= NF_NAT_RANGE_MAP_IPS;
	} else if (n->has_addr) {
		uint8_t lo[16], hi[16];

		addr_bounds(r->c, &n->addr, lo, hi);
		nls_barrier(r, x_imm_data(reg, lo, addr_len(r->c)), NULL, NULL);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, reg);
		if (memcmp(lo, hi, addr_len(r->c)) != 0) {
			nls_barrier(r, x_imm_data(reg + 1, hi, addr_len(r->c)), NULL, NULL);
			reg++;
		}
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MAX, reg);
		reg++;
		flags |= NF_NAT_RANGE_MAP_IPS;
	}
	if (n->has_port) {
		uint32_t pmin, pmax;

		nat_ports(r, n, reg, &pmin, &pmax);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, pmin);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MAX, pmax);
		flags |= NF_NAT_RANGE_PROTO_SPECIFIED;
	}
	if (flags)
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FLAGS, flags);
	nls_barrier(r, e, NULL, NULL);
}

/* Load-shared DNAT (struct ir_nat rr): what nft 1.0.6 makes of
 * `dnat [ip] to numgen inc mod W map { 0 : A [. port], ... }` -- an
 * anonymous constant map "__map%d" from integer (host byte order) to
 * ipv4_addr, or to the concatenation ipv4_addr . inet_service, one
 * element per slot; numgen into reg 1, the lookup's data back into reg 1
 * (the port, if any, in the next 32-bit register), and the nat. */
static void verdict_nat_rr_nl(struct nlr *r, const struct ir_verdict *v)
{
	const struct ir_nat *n = &v->u.nat;
	unsigned period = ir_nat_rr_period(n);
	bool ports = n->rr[0].port != 0;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(64);
	struct nftnl_expr *ng = x_new("numgen"), *lk, *e = x_new("nat");

	nftnl_set_set_str(s, NFTNL_SET_TABLE, NL_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, "__map%d");
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, nl_nfproto(r->c->fam));
	nftnl_set_set_u32(s, NFTNL_SET_ID, ++r->c->set_id);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | NFT_SET_MAP);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, DT_INTEGER);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 4);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, ports ? (DT_IPADDR << 6) | DT_INET_SERVICE : DT_IPADDR);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, ports ? 8 : 4);
	for (unsigned k = 0; k < period; k++) {
		const struct ir_nat_target *t = ir_nat_rr_slot(n, k);
		struct nftnl_set_elem *el = elem_new((const uint8_t *)&k, 4, 0);
		uint8_t data[8] = { 0 };

		memcpy(data, t->addr.lo, 4);
		data[4] = (uint8_t)(t->port >> 8);
		data[5] = (uint8_t)t->port;
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_DATA, data, ports ? 8 : 4);
		nftnl_set_elem_add(s, el);
	}
	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, period);
	nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, BO_HOST);
	nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_DATABYTEORDER, ports ? 0 : BO_BIG);
	nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_DATA_INTERVAL, 0);
	nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
	nftnl_udata_buf_free(ud);
	vec_push(&r->sets, s);

	nftnl_expr_set_u32(ng, NFTNL_EXPR_NG_DREG, NL_REG1);
	nftnl_expr_set_u32(ng, NFTNL_EXPR_NG_MODULUS, period);
	nftnl_expr_set_u32(ng, NFTNL_EXPR_NG_TYPE, NFT_NG_INCREMENTAL);
	nftnl_expr_set_u32(ng, NFTNL_EXPR_NG_OFFSET, 0);
	lk = x_lookup(s, NL_REG1, false);
	nftnl_expr_set_u32(lk, NFTNL_EXPR_LOOKUP_DREG, NL_REG1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, nl_nfproto(r->c->fam));
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NL_REG1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MAX, NL_REG1);
	if (ports) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NL_REG32_01);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MAX, NL_REG32_01);
	}
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FLAGS, NF_NAT_RANGE_MAP_IPS |
			   (ports ? NF_NAT_RANGE_PROTO_SPECIFIED : 0) | nat_flags(n->flags));
	nls_barrier(r, ng, lk, e);
}

static void verdict_masq_nl(struct nlr *r, const struct ir_verdict *v, bool redir)
{
	const struct ir_nat *n = &v->u.nat;
	struct nftnl_expr *e = x_new(redir ? "redir" : "masq");
	uint32_t flags = nat_flags(n->flags);

	if (n->has_port) {
		uint32_t pmin, pmax;

		nat_ports(r, n, NL_REG1, &pmin, &pmax);
		nftnl_expr_set_u32(e, redir ? NFTNL_EXPR_REDIR_REG_PROTO_MIN
				      : NFTNL_EXPR_MASQ_REG_PROTO_MIN, pmin);
		nftnl_expr_set_u32(e, redir ? NFTNL_EXPR_REDIR_REG_PROTO_MAX
				      : NFTNL_EXPR_MASQ_REG_PROTO_MAX, pmax);
		flags |= NF_NAT_RANGE_PROTO_SPECIFIED;
	}
	if (flags)
		nftnl_expr_set_u32(e, redir ? NFTNL_EXPR_REDIR_FLAGS : NFTNL_EXPR_MASQ_FLAGS, flags);
	nls_barrier(r, e, NULL, NULL);
}

static char *chain_nl_name(const struct ir_table *t, const char *chain)
{
	return xasprintf("%s_%s", t->name, chain);
}

static int verdict_one_nl(struct nlr *r, const struct ir_chain *ch, const struct ir_verdict *v)
{
	uint32_t type;
	uint8_t code;
	char *name;

	switch (v->kind) {
	case IR_V_NONE:
		break;
	case IR_V_ACCEPT:
		nls_barrier(r, x_verdict(NF_ACCEPT, NULL), NULL, NULL);
		break;
	case IR_V_DROP:
		nls_barrier(r, x_verdict(NF_DROP, NULL), NULL, NULL);
		break;
	case IR_V_RETURN:
		nls_barrier(r, x_verdict(NFT_RETURN, NULL), NULL, NULL);
		break;
	case IR_V_JUMP:
	case IR_V_GOTO:
		name = chain_nl_name(ch->table, v->u.chain.name);
		nls_barrier(r, x_verdict(v->kind == IR_V_JUMP ? NFT_JUMP : NFT_GOTO, name), NULL, NULL);
		free(name);
		break;
	case IR_V_REJECT: {
		struct nftnl_expr *e;

		if (reject_code(r->c, v->u.reject, &type, &code) < 0)
			return diag_error(r->c->dq, &v->loc, "this REJECT type does not exist for %s",
					  r->c->fam == IR_FAM_IPV6 ? "IPv6" : "IPv4");
		if (type == NFT_REJECT_TCP_RST)
			dep_l4(r, 6);
		e = x_new("reject");
		nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, type);
		nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, code);
		nls_barrier(r, e, NULL, NULL);
		break;
	}
	case IR_V_MASQUERADE:
		verdict_masq_nl(r, v, false);
		break;
	case IR_V_REDIRECT:
		verdict_masq_nl(r, v, true);
		break;
	case IR_V_SNAT:
		verdict_nat_nl(r, v, NFT_NAT_SNAT);
		break;
	case IR_V_DNAT:
		if (v->u.nat.nrr)
			verdict_nat_rr_nl(r, v);
		else
			verdict_nat_nl(r, v, NFT_NAT_DNAT);
		break;
	}
	return 0;
}

/* ---- building: rules and chains ----------------------------------------------------------- */

/* These mirror nft.c's decisions (which rule is written where, which
 * protocol match is implied by a later one) so that both backends write
 * the same rules. */
static bool nl_match_implies_proto(const struct ir_match *m, uint8_t proto)
{
	switch (m->kind) {
	case IR_M_SPORT:
	case IR_M_DPORT:
	case IR_M_PORT:
		return m->l4proto == proto &&
		       (proto == 6 || proto == 17 || proto == 33 || proto == 132 || proto == 136);
	case IR_M_TCPFLAGS:
	case IR_M_TCPOPTION:
	case IR_M_TCPMSS:
		return proto == 6 && !(m->kind == IR_M_TCPOPTION && m->neg);
	case IR_M_ICMP:
	case IR_M_ICMP_TYPES:
	case IR_M_ICMP_CODES:
		return proto == 1 || proto == 58;
	case IR_M_PROTO: case IR_M_SADDR: case IR_M_DADDR: case IR_M_IIF: case IR_M_OIF:
	case IR_M_ICMP_ANY: case IR_M_FRAG: case IR_M_CTSTATE: case IR_M_CTSTATUS:
	case IR_M_CTDIR: case IR_M_LIMIT: case IR_M_MAC: case IR_M_MARK: case IR_M_CONNMARK:
	case IR_M_TOS: case IR_M_DSCP: case IR_M_LENGTH: case IR_M_TTL: case IR_M_COMMENT:
	case IR_M_ADDRTYPE: case IR_M_OWNER: case IR_M_PKTTYPE: case IR_M_HELPER:
	case IR_M_SET:
		return false;
	}
	return false;
}

static bool nl_proto_redundant(const struct ir_match *pm)
{
	if (pm->neg)
		return false;
	for (const struct ir_match *m = pm->next; m; m = m->next)
		if (nl_match_implies_proto(m, pm->u.proto))
			return true;
	return false;
}

static bool nl_rule_has_ct_helper(const struct ir_rule *r)
{
	for (const struct ir_stmt *s = r->stmts; s; s = s->next)
		if (s->kind == IR_S_CT_HELPER)
			return true;
	return false;
}

static bool nl_rule_helper_movable(const struct ir_chain *ch, const struct ir_rule *r)
{
	if (!ch->builtin || ch->priority > -200 || r->verdict.kind != IR_V_NONE ||
	    (ch->hook != IR_HOOK_PREROUTING && ch->hook != IR_HOOK_OUTPUT))
		return false;
	for (const struct ir_stmt *s = r->stmts; s; s = s->next)
		if (s->kind != IR_S_CT_HELPER)
			return false;
	return true;
}

static bool nl_chain_emittable(const struct ir_chain *ch)
{
	if (!ch->builtin || ch->policy != IR_POLICY_ACCEPT)
		return true;
	for (const struct ir_rule *r = ch->rules; r; r = r->next)
		if (!(nl_rule_has_ct_helper(r) && nl_rule_helper_movable(ch, r)))
			return true;
	return false;
}

/* The DSCP bits a TOS statement keeps while setting others (nft.c). */
static uint8_t nl_rule_tos_keep(const struct ir_rule *r)
{
	uint8_t keep = 0;

	for (const struct ir_stmt *s = r->stmts; s; s = s->next) {
		uint8_t mask = s->u.setmark.mask & 0xff, val = s->u.setmark.value & 0xff, k;

		if (s->kind != IR_S_TOS)
			continue;
		switch (s->u.setmark.op) {
		case IR_MARK_SET: case IR_MARK_SAVE: case IR_MARK_RESTORE:
			break;
		case IR_MARK_AND:
			mask = (uint8_t)~val;
			break;
		case IR_MARK_OR:
			mask = val;
			break;
		case IR_MARK_XOR:
			mask = 0;
			break;
		}
		k = (uint8_t)(~mask & 0xfc);
		if (k != 0xfc)
			keep = k;
	}
	return keep;
}

/* The rule's userdata: its comment (as nft stores it) and its location. */
static void rule_udata(struct nftnl_rule *nr, const struct ir_rule *ir, const struct loc *loc)
{
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	struct strbuf txt = { 0 };

	for (const struct ir_match *m = ir->matches; m; m = m->next) {
		if (m->kind != IR_M_COMMENT || !m->u.str)
			continue;
		if (txt.len)
			sb_add(&txt, "; ");
		sb_add(&txt, m->u.str);
	}
	if (txt.len) {
		if (txt.len > 128) {
			txt.buf[128] = '\0';
			txt.len = 128;
		}
		for (char *p = txt.buf; *p; p++)
			if (*p == '"' || *p == '\n')
				*p = '\'';
		nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, txt.buf);
	}
	sb_free(&txt);
	if (loc->file) {
		char *where = xasprintf(NL_LOC_PREFIX "%s:%u", loc->file->path, loc->line);

		if (strlen(where) > 200)	/* a TLV holds 255 bytes */
			where[200] = '\0';
		nftnl_udata_put_strz(ud, NL_UDATA_RULE_LOC, where);
		free(where);
	}
	if (nftnl_udata_buf_len(ud))
		nftnl_rule_set_data(nr, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud),
				    nftnl_udata_buf_len(ud));
	nftnl_udata_buf_free(ud);
}

static void nlr_free(struct nlr *r)
{
	for (size_t i = 0; i < r->s.n; i++)
		for (unsigned j = 0; j < r->s.v[i].n; j++)
			nftnl_expr_free(r->s.v[i].e[j]);
	for (size_t i = 0; i < r->sets.n; i++)
		nftnl_set_free(r->sets.v[i]);
	vec_free(&r->s);
	vec_free(&r->sets);
}

/* Linearises the statements into a kernel rule and stores it (with its
 * anonymous sets) in the table; an empty rule is no rule, as in nft.c. */
static void nlr_commit(struct nlr *r, const char *chain, const struct ir_rule *ir,
		       const struct loc *loc)
{
	struct nl_table *t = r->c->t;
	struct nftnl_rule *nr;
	unsigned set0 = (unsigned)t->sets.n;

	if (!r->s.n) {
		nlr_free(r);
		return;
	}
	rule_merge(r);
	nr = nftnl_rule_alloc();
	nftnl_rule_set_str(nr, NFTNL_RULE_TABLE, NL_TABLE);
	nftnl_rule_set_str(nr, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(nr, NFTNL_RULE_FAMILY, nl_nfproto(r->c->fam));
	for (size_t i = 0; i < r->s.n; i++) {
		struct nls *s = &r->s.v[i];

		if (s->dead)
			continue;
		if (s->mergeable) {
			nftnl_rule_add_expr(nr, x_payload(s->base, s->off, s->len, NL_REG1));
			nftnl_rule_add_expr(nr, x_cmp(s->op, s->val, s->len));
		}
		for (unsigned j = 0; j < s->n; j++)
			nftnl_rule_add_expr(nr, s->e[j]);
		s->n = 0;	/* owned by the rule now */
	}
	if (ir)
		rule_udata(nr, ir, loc);
	for (size_t i = 0; i < r->sets.n; i++)
		vec_push(&t->sets, ((struct nl_set){ r->sets.v[i], *loc }));
	r->sets.n = 0;
	vec_push(&t->rules, ((struct nl_rule){ .r = nr, .loc = *loc, .set0 = set0,
					       .nsets = (unsigned)(t->sets.n - set0) }));
	nlr_free(r);
}

static int rule_variant_nl(struct nlc *c, const struct ir_chain *ch, const struct ir_rule *ir,
			   unsigned portvar, unsigned tosvar, uint8_t tos_keep, bool ct_new,
			   const char *chain)
{
	struct nlr r = { .c = c, .ch = ch };
	int err = 0;

	if (ct_new)
		bits_test(&r, x_ct(NFT_CT_STATE), NF_CT_STATE_BIT(IP_CT_NEW), false);
	for (const struct ir_match *m = ir->matches; m && !err; m = m->next) {
		if (m->kind == IR_M_PROTO && nl_proto_redundant(m))
			continue;
		err = match_one_nl(&r, m, portvar);
	}
	if (tos_keep) {
		if (c->fam == IR_FAM_IPV6) {
			uint8_t mask[2], val[2];

			be16(mask, (uint16_t)(tos_keep << 4));
			be16(val, (uint16_t)(tosvar << 4));
			masked_payload(&r, 0, 2, mask, val, NFT_CMP_EQ);
		} else {
			uint8_t v = (uint8_t)tosvar;

			masked_payload(&r, 1, 1, &tos_keep, &v, NFT_CMP_EQ);
		}
	}
	if (ir->counter)
		nls_barrier(&r, x_new("counter"), NULL, NULL);
	for (const struct ir_stmt *s = ir->stmts; s && !err; s = s->next)
		err = stmt_one_nl(&r, ir, s, tosvar);
	if (!err)
		err = verdict_one_nl(&r, ch, &ir->verdict);
	if (err) {
		nlr_free(&r);
		c->err = -1;
		return -1;
	}
	nlr_commit(&r, chain, ir, &ir->loc);
	return 0;
}

static void rule_emit_nl(struct nlc *c, const struct ir_chain *ch, const struct ir_rule *ir,
			 bool ct_new, const char *chain)
{
	unsigned nport = 1;
	uint8_t keep;

	if (!ct_new && nl_rule_has_ct_helper(ir) && (!ch->builtin || ch->priority <= -200))
		return;		/* written in helpers_raw_* (nft_emit refused the others) */
	for (const struct ir_match *m = ir->matches; m; m = m->next)
		if (m->kind == IR_M_PORT && !m->neg)
			nport = 2;
	keep = nl_rule_tos_keep(ir);
	for (unsigned pv = 0; pv < nport; pv++) {
		unsigned t = 0;

		do {
			rule_variant_nl(c, ch, ir, pv, t, keep, ct_new, chain);
			t = (t - keep) & keep;
		} while (t);
	}
}

static struct nftnl_chain *chain_new(struct nlc *c, const char *name)
{
	struct nftnl_chain *nc = nftnl_chain_alloc();

	nftnl_chain_set_str(nc, NFTNL_CHAIN_TABLE, NL_TABLE);
	nftnl_chain_set_str(nc, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_u32(nc, NFTNL_CHAIN_FAMILY, nl_nfproto(c->fam));
	return nc;
}

static uint32_t nl_hooknum(enum ir_hook h)
{
	switch (h) {
	case IR_HOOK_NONE:
	case IR_HOOK_PREROUTING: return NF_INET_PRE_ROUTING;
	case IR_HOOK_INPUT: return NF_INET_LOCAL_IN;
	case IR_HOOK_FORWARD: return NF_INET_FORWARD;
	case IR_HOOK_OUTPUT: return NF_INET_LOCAL_OUT;
	case IR_HOOK_POSTROUTING: return NF_INET_POST_ROUTING;
	}
	return NF_INET_PRE_ROUTING;
}

static const char *nl_chain_type(enum ir_chain_type t)
{
	switch (t) {
	case IR_CHAIN_FILTER: return "filter";
	case IR_CHAIN_NAT: return "nat";
	case IR_CHAIN_ROUTE: return "route";
	}
	return "filter";
}

static void chain_base(struct nftnl_chain *nc, const char *type, enum ir_hook hook, int prio,
		       enum ir_policy pol)
{
	nftnl_chain_set_u32(nc, NFTNL_CHAIN_HOOKNUM, nl_hooknum(hook));
	nftnl_chain_set_s32(nc, NFTNL_CHAIN_PRIO, prio);
	nftnl_chain_set_str(nc, NFTNL_CHAIN_TYPE, type);
	nftnl_chain_set_u32(nc, NFTNL_CHAIN_POLICY, pol == IR_POLICY_DROP ? NF_DROP : NF_ACCEPT);
}

static void chain_add(struct nlc *c, struct nftnl_chain *nc, const struct loc *loc)
{
	vec_push(&c->t->chains, ((struct nl_chain){ nc, *loc }));
}

static void helpers_module_chain_nl(struct nlc *c, const char *chain, enum ir_hook hook)
{
	struct nftnl_chain *nc = chain_new(c, chain);

	chain_base(nc, "filter", hook, 0, IR_POLICY_ACCEPT);
	chain_add(c, nc, &loc_internal);
	for (const struct ir_helper *h = c->rs->helpers; h; h = h->next) {
		struct nlr r = { .c = c };
		struct strbuf name = { 0 };

		sb_add(&name, h->name);
		for (unsigned i = 0; i < h->nports; i++) {
			sb_addf(&name, "-%" PRIu32, h->ports[i].lo);
			if (h->ports[i].hi != h->ports[i].lo)
				sb_addf(&name, "_%" PRIu32, h->ports[i].hi);
		}
		bits_test(&r, x_ct(NFT_CT_STATE), NF_CT_STATE_BIT(IP_CT_NEW), false);
		ports_field(&r, h->l4proto, 2, h->ports, h->nports, false);
		objref_helper(&r, sb_str(&name));
		helper_obj_need(c, sb_str(&name), h->name, h->l4proto, &h->loc);
		{
			/* the helper rule's location is the modprobe line */
			struct ir_rule fake = { .loc = h->loc };

			nlr_commit(&r, chain, &fake, &h->loc);
		}
		sb_free(&name);
	}
}

static bool nl_hook_moves_helpers(const struct nlc *c, enum ir_hook hook)
{
	for (const struct ir_table *t = c->rs->tables; t; t = t->next)
		if (t->family == c->fam)
			for (const struct ir_chain *ch = t->chains; ch; ch = ch->next)
				if (ch->hook == hook)
					for (const struct ir_rule *r = ch->rules; r; r = r->next)
						if (nl_rule_has_ct_helper(r) &&
						    nl_rule_helper_movable(ch, r))
							return true;
	return false;
}

static void helpers_raw_chain_nl(struct nlc *c, const char *chain, enum ir_hook hook)
{
	struct nftnl_chain *nc;

	if (!nl_hook_moves_helpers(c, hook))
		return;
	nc = chain_new(c, chain);
	chain_base(nc, "filter", hook, -150, IR_POLICY_ACCEPT);
	chain_add(c, nc, &loc_internal);
	for (const struct ir_table *t = c->rs->tables; t; t = t->next) {
		if (t->family != c->fam)
			continue;
		for (const struct ir_chain *ch = t->chains; ch; ch = ch->next) {
			if (ch->hook != hook)
				continue;
			for (const struct ir_rule *r = ch->rules; r; r = r->next)
				if (nl_rule_has_ct_helper(r) && nl_rule_helper_movable(ch, r))
					rule_emit_nl(c, ch, r, true, chain);
		}
	}
}

static void chain_emit_nl(struct nlc *c, const struct ir_chain *ch)
{
	char *name;
	struct nftnl_chain *nc;

	if (!nl_chain_emittable(ch))
		return;
	name = chain_nl_name(ch->table, ch->name);
	nc = chain_new(c, name);
	if (ch->builtin)
		chain_base(nc, nl_chain_type(ch->type), ch->hook, ch->priority, ch->policy);
	chain_add(c, nc, &ch->loc);
	free(name);
}

static void chain_rules_nl(struct nlc *c, const struct ir_chain *ch)
{
	char *name;

	if (!nl_chain_emittable(ch))
		return;
	name = chain_nl_name(ch->table, ch->name);
	for (const struct ir_rule *r = ch->rules; r; r = r->next) {
		/* the batch will be built again, keyed: no use going on */
		if (c->may_key && c->t->sets.n > NL_ANON_SETS_MAX)
			break;
		rule_emit_nl(c, ch, r, false, name);
	}
	free(name);
}

static bool nl_family_has_content(const struct ir_ruleset *rs, enum ir_family fam)
{
	for (const struct ir_table *t = rs->tables; t; t = t->next)
		if (t->family == fam)
			for (const struct ir_chain *ch = t->chains; ch; ch = ch->next)
				if (nl_chain_emittable(ch) || ch->rules)	/* also moved CT --helper rules */
					return true;
	return false;
}

/* All chains are created before the first rule (a rule may jump to a
 * chain defined after its own), in nft_emit()'s order. */
static void family_build(struct nlc *c, enum ir_family fam)
{
	struct nl_table tab = { .family = (uint16_t)nl_nfproto(fam) };
	struct nl_batch *b = c->b;

	vec_push(&b->rs.tables, tab);
	c->t = &b->rs.tables.v[b->rs.tables.n - 1];
	c->fam = fam;
	if (!nl_family_has_content(c->rs, fam) && !(fam == IR_FAM_IPV4 && c->rs->helpers))
		return;
	c->t->t = nftnl_table_alloc();
	nftnl_table_set_str(c->t->t, NFTNL_TABLE_NAME, NL_TABLE);
	nftnl_table_set_u32(c->t->t, NFTNL_TABLE_FAMILY, nl_nfproto(fam));
	if (c->rs->helpers) {
		helpers_module_chain_nl(c, "helpers_PREROUTING", IR_HOOK_PREROUTING);
		helpers_module_chain_nl(c, "helpers_OUTPUT", IR_HOOK_OUTPUT);
	}
	/* the raw helper chains hold rules only; their chains first */
	helpers_raw_chain_nl(c, "helpers_raw_PREROUTING", IR_HOOK_PREROUTING);
	helpers_raw_chain_nl(c, "helpers_raw_OUTPUT", IR_HOOK_OUTPUT);
	for (const struct ir_table *t = c->rs->tables; t; t = t->next)
		if (t->family == fam)
			for (const struct ir_chain *ch = t->chains; ch; ch = ch->next)
				chain_emit_nl(c, ch);
	for (const struct ir_table *t = c->rs->tables; t; t = t->next)
		if (t->family == fam)
			for (const struct ir_map *m = t->maps; m; m = m->next)
				map_emit_nl(c, t, m);
	for (const struct ir_table *t = c->rs->tables; t; t = t->next)
		if (t->family == fam)
			for (const struct ir_chain *ch = t->chains; ch; ch = ch->next)
				chain_rules_nl(c, ch);
}

/* ---- the batch ------------------------------------------------------------------------------- */

/* ---- shared sets ---------------------------------------------------------------------------- */

/* Each anonymous set a rule binds makes the kernel walk the whole
 * transaction (nft_set_trans_bind), so N sets in a batch of M messages
 * cost N x M: 18,000 port lists in a 100k-rule batch take a minute, for
 * nft -f as for us.  Named sets are not walked at bind time, but each is
 * still looked up by name in a linear list (for every rule and element
 * message that names it), so thousands of them still cost seconds: past
 * NL_ANON_SETS_MAX anonymous sets in a table, lists become keyed sets
 * (lookup_nl).  With NL_BUILD_SHARED_SETS (tests, comparisons) every
 * distinct element list becomes one named constant set "masqc_setN"
 * shared by all the rules that use it.  The kernel refuses element
 * changes to a constant set, so sharing cannot leak a change from one
 * rule to another. */

/* Finds the shared set with this content, or makes s that set. */
static struct nftnl_set *share_set(struct nlc *c, struct nftnl_set *s)
{
	struct strbuf key = { 0 };
	struct share_ent *e;
	uint32_t h;
	char name[32];

	if (!c->share) {
		c->nshare = 1 << 12;
		c->share = xzalloc(c->nshare * sizeof(*c->share));
	}
	render_set_body(&key, s, 0);
	h = str_hash(sb_str(&key)) & (uint32_t)(c->nshare - 1);
	for (e = c->share[h]; e; e = e->next)
		if (strcmp(e->key, sb_str(&key)) == 0) {
			sb_free(&key);
			nftnl_set_free(s);
			return e->set;
		}
	snprintf(name, sizeof(name), "masqc_set%u", c->nshared++);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS,
			  nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & ~(uint32_t)NFT_SET_ANONYMOUS);
	e = xmalloc(sizeof(*e));
	e->key = sb_steal(&key);
	e->set = s;
	e->next = c->share[h];
	c->share[h] = e;
	return NULL;
}

static void share_free(struct nlc *c)
{
	for (size_t i = 0; i < c->keyed_sets.n; i++)
		nftnl_set_set_u32(c->keyed_sets.v[i].s, NFTNL_SET_DESC_SIZE,
				  c->keyed_sets.v[i].nelems);
	vec_free(&c->keyed_sets);
	for (size_t i = 0; i < c->nshare; i++)
		while (c->share[i]) {
			struct share_ent *e = c->share[i];

			c->share[i] = e->next;
			free(e->key);
			free(e);
		}
	free(c->share);
	c->share = NULL;
	c->nshare = 0;
	c->nshared = 0;
}

static struct nl_batch *batch_build(const struct ir_ruleset *rs, unsigned flags, bool keyed,
				    struct diag_queue *dq, bool *too_many)
{
	struct nl_batch *b = xzalloc(sizeof(*b));
	struct nlc c = { .rs = rs, .dq = dq, .keyed = keyed,
			 .shared = !keyed && (flags & NL_BUILD_SHARED_SETS),
			 .may_key = !keyed && !(flags & (NL_BUILD_ANON_SETS | NL_BUILD_SHARED_SETS)) };

	b->destroy = true;
	b->flags = flags;
	c.b = b;
	family_build(&c, IR_FAM_IPV4);
	share_free(&c);
	family_build(&c, IR_FAM_IPV6);
	share_free(&c);
	if (c.err < 0) {
		nl_batch_free(b);
		return NULL;
	}
	*too_many = false;
	for (size_t i = 0; i < b->rs.tables.n; i++)
		if (b->rs.tables.v[i].sets.n > NL_ANON_SETS_MAX)
			*too_many = true;
	return b;
}

/* What nft_emit() cannot write, the batch cannot hold either: the text
 * backend finds and locates those errors (and its warnings), so both
 * backends refuse the same input with the same words.  It only reads
 * the IR, as the batch builder does, so it runs in a thread of its own
 * while the batch is built (at 100k rules each takes a few tenths of a
 * second), with its own diagnostics queue. */
struct emit_check {
	const struct ir_ruleset *rs;
	const struct emit_opts *eo;	/* with text: kept (nl_batch_build_text) */
	char *text;
	size_t len;
	bool keep;
	struct diag_queue dq;
	int err;
};

static void *emit_check_run(void *arg)
{
	struct emit_check *ec = arg;
	FILE *out = ec->keep ? open_memstream(&ec->text, &ec->len) : fopen("/dev/null", "w");

	if (!out) {
		ec->err = diag_error(&ec->dq, &loc_internal, "cannot open %s: %s",
				     ec->keep ? "a memory stream" : "/dev/null", strerror(errno));
		return NULL;
	}
	ec->err = nft_emit(ec->rs, out, ec->eo, &ec->dq);
	if (fclose(out) != 0 && ec->err >= 0)
		ec->err = diag_error(&ec->dq, &loc_internal, "cannot write the nft text: %s",
				     strerror(errno));
	return NULL;
}

/* Moves src's diagnostics to the end of dst. */
static void diag_append(struct diag_queue *dst, struct diag_queue *src)
{
	for (size_t i = 0; i < src->n; i++)
		diag_add(dst, src->v[i].level, &src->v[i].loc, src->v[i].hint, "%s", src->v[i].msg);
	diag_queue_free(src);
}

struct nl_batch *nl_batch_build(const struct ir_ruleset *rs, unsigned flags,
				struct diag_queue *dq)
{
	return nl_batch_build_text(rs, flags, dq, NULL, NULL, NULL);
}

/* The batch builder, in a thread of its own: its objects then come from
 * that thread's malloc arena, not interleaved with the IR's pages, so
 * that the IR, once freed, can go back to the system page by page
 * (apply frees it while the commit's wire buffer is built). */
struct batch_job {
	const struct ir_ruleset *rs;
	unsigned flags;
	struct diag_queue dq;
	struct nl_batch *b;
};

static void *batch_job_run(void *arg)
{
	struct batch_job *j = arg;
	bool keyed = j->flags & NL_BUILD_KEYED_SETS, too_many;

	j->b = batch_build(j->rs, j->flags, keyed, &j->dq, &too_many);
	/* too many anonymous sets: build again, keyed (see lookup_nl) */
	if (j->b && too_many && !keyed &&
	    !(j->flags & (NL_BUILD_ANON_SETS | NL_BUILD_SHARED_SETS))) {
		bool werror = j->dq.werror;

		nl_batch_free(j->b);
		diag_queue_free(&j->dq);
		j->dq = (struct diag_queue){ .werror = werror };
		j->b = batch_build(j->rs, j->flags, true, &j->dq, &too_many);
	}
	return NULL;
}

struct nl_batch *nl_batch_build_text(const struct ir_ruleset *rs, unsigned flags,
				     struct diag_queue *dq, const struct emit_opts *eo,
				     char **text, size_t *len)
{
	struct emit_check ec = { .rs = rs, .eo = eo, .keep = text != NULL,
				 .dq = { .werror = dq->werror } };
	struct batch_job j = { .rs = rs, .dq = { .werror = dq->werror } };
	struct nl_batch *b;
	pthread_t th;
	bool threaded;

	/* tests only: keyed sets whatever the size, so the lab can check
	 * their traffic in every scenario */
	{
		const char *e = getenv("MASQC_TEST_KEYED_SETS");

		if (e && *e == '1' && !(flags & (NL_BUILD_ANON_SETS | NL_BUILD_SHARED_SETS)))
			flags |= NL_BUILD_KEYED_SETS;
	}
	j.flags = flags;
	threaded = pthread_create(&th, NULL, batch_job_run, &j) == 0;
	emit_check_run(&ec);
	if (threaded)
		pthread_join(th, NULL);
	else
		batch_job_run(&j);
	/* what the check freed stays in this arena until someone trims
	 * (apply does, while it frees the IR): not here, on the way to
	 * the commit */
	b = j.b;
	diag_append(dq, &ec.dq);
	if (ec.err < 0) {
		/* the text backend's words, not the batch builder's */
		nl_batch_free(b);
		diag_queue_free(&j.dq);
		free(ec.text);
		return NULL;
	}
	diag_append(dq, &j.dq);
	if (!b) {
		free(ec.text);
		return NULL;
	}
	if (text) {
		*text = ec.text;
		*len = ec.len;
	}
	return b;
}

void nl_batch_free(struct nl_batch *b)
{
	if (!b)
		return;
	nl_ruleset_fini(&b->rs);
	free(b->wire.buf);
	vec_free(&b->refs);
	free(b);
}

const struct nl_ruleset *nl_batch_ruleset(const struct nl_batch *b)
{
	return &b->rs;
}

/* ---- serialising and sending ------------------------------------------------------------------ */

/* Room for the next message: a rule or a set is far below 64 KiB
 * (netlink attributes have 16-bit lengths); a set's elements are sized
 * by count. */
static char *wire_room(struct nl_batch *b, size_t need)
{
	struct strbuf *w = &b->wire;

	if (w->len + need > w->cap) {
		size_t cap = w->cap ? w->cap : 1 << 20;

		while (cap < w->len + need)
			cap *= 2;
		/* not zeroed: libmnl clears what it puts (headers, padding),
		 * and untouched room costs no memory */
		w->buf = xrealloc(w->buf, cap);
		w->cap = cap;
	}
	return w->buf + w->len;
}

static void wire_done(struct nl_batch *b, struct nlmsghdr *nlh)
{
	b->wire.len += NLMSG_ALIGN(nlh->nlmsg_len);
	b->nmsgs++;
}

static struct nlmsghdr *wire_msg(struct nl_batch *b, uint16_t type, uint16_t fam, uint16_t flags,
				 size_t need, const char *what, const char *name,
				 const struct loc *loc)
{
	char *p = wire_room(b, need);
	uint32_t seq = b->seq0 + 1 + (uint32_t)b->refs.n;

	vec_push(&b->refs, ((struct nl_msgref){ what, name, *loc }));
	return nftnl_nlmsg_build_hdr(p, type, fam, flags, seq);
}

static size_t set_elems_count(struct nftnl_set *s)
{
	size_t n = 0;
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);

	while (it && nftnl_set_elems_iter_next(it))
		n++;
	if (it)
		nftnl_set_elems_iter_destroy(it);
	return n;
}

/* A named set's elements: as many messages as they need (the element
 * list is one attribute, and attribute lengths are 16 bits). */
static void wire_elems(struct nl_batch *b, const struct nl_table *t, struct nftnl_set *s,
		       const char *what, const struct loc *loc)
{
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
	struct nlmsghdr *nlh;
	int more;

	if (!it) {
		fputs("masqc: out of memory (set element iterator)\n", stderr);
		abort();
	}
	do {
		nlh = wire_msg(b, NFT_MSG_NEWSETELEM, t->family, NLM_F_CREATE, (1 << 16) + 4096,
			       what, nftnl_set_get_str(s, NFTNL_SET_NAME), loc);
		more = nftnl_set_elems_nlmsg_build_payload_iter(nlh, it);
		wire_done(b, nlh);
	} while (more > 0);
	nftnl_set_elems_iter_destroy(it);
}

static void wire_table(struct nl_batch *b, const struct nl_table *t)
{
	static const size_t room = 1 << 16;
	struct nftnl_table *q = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	nftnl_table_set_str(q, NFTNL_TABLE_NAME, NL_TABLE);
	/* remove ours, whatever it holds */
	if (b->destroy) {
		nlh = wire_msg(b, NL_MSG_DESTROYTABLE, t->family, 0, room, "removing table", NULL,
			       &loc_internal);
		nftnl_table_nlmsg_build_payload(nlh, q);
		wire_done(b, nlh);
	} else {
		nlh = wire_msg(b, NFT_MSG_NEWTABLE, t->family, NLM_F_CREATE, room,
			       "removing table", NULL, &loc_internal);
		nftnl_table_nlmsg_build_payload(nlh, q);
		wire_done(b, nlh);
		nlh = wire_msg(b, NFT_MSG_DELTABLE, t->family, 0, room, "removing table", NULL,
			       &loc_internal);
		nftnl_table_nlmsg_build_payload(nlh, q);
		wire_done(b, nlh);
	}
	nftnl_table_free(q);
	if (!t->t)
		return;
	nlh = wire_msg(b, NFT_MSG_NEWTABLE, t->family, NLM_F_CREATE, room, "table", NULL,
		       &loc_internal);
	nftnl_table_nlmsg_build_payload(nlh, t->t);
	wire_done(b, nlh);
	for (size_t i = 0; i < t->objs.n; i++) {
		nlh = wire_msg(b, NFT_MSG_NEWOBJ, t->family, NLM_F_CREATE, room, "ct helper object",
			       nftnl_obj_get_str(t->objs.v[i].o, NFTNL_OBJ_NAME), &t->objs.v[i].loc);
		nftnl_obj_nlmsg_build_payload(nlh, t->objs.v[i].o);
		wire_done(b, nlh);
	}
	for (size_t i = 0; i < t->chains.n; i++) {
		nlh = wire_msg(b, NFT_MSG_NEWCHAIN, t->family, NLM_F_CREATE, room, "chain",
			       nftnl_chain_get_str(t->chains.v[i].c, NFTNL_CHAIN_NAME),
			       &t->chains.v[i].loc);
		nftnl_chain_nlmsg_build_payload(nlh, t->chains.v[i].c);
		wire_done(b, nlh);
	}
	for (size_t i = 0; i < t->sets.n; i++) {
		struct nftnl_set *s = t->sets.v[i].s;

		if (nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS)
			continue;
		nlh = wire_msg(b, NFT_MSG_NEWSET, t->family, NLM_F_CREATE, room, "set",
			       nftnl_set_get_str(s, NFTNL_SET_NAME), &t->sets.v[i].loc);
		nftnl_set_nlmsg_build_payload(nlh, s);
		wire_done(b, nlh);
		if (!set_elems_count(s))
			continue;	/* a map the packet path fills: nft sends none */
		wire_elems(b, t, s, "elements of set", &t->sets.v[i].loc);
	}
	for (size_t i = 0; i < t->rules.n; i++) {
		const struct nl_rule *r = &t->rules.v[i];

		for (unsigned k = 0; k < r->nsets; k++) {
			struct nftnl_set *s = t->sets.v[r->set0 + k].s;

			if (!(nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS))
				continue;	/* shared: sent before the rules */

			nlh = wire_msg(b, NFT_MSG_NEWSET, t->family, NLM_F_CREATE, room,
				       "anonymous set of the rule", NULL, &r->loc);
			nftnl_set_nlmsg_build_payload(nlh, s);
			wire_done(b, nlh);
			nlh = wire_msg(b, NFT_MSG_NEWSETELEM, t->family, NLM_F_CREATE,
				       4096 + 128 * set_elems_count(s),
				       "elements of the rule's set", NULL, &r->loc);
			nftnl_set_elems_nlmsg_build_payload(nlh, s);
			wire_done(b, nlh);
		}
		nlh = wire_msg(b, NFT_MSG_NEWRULE, t->family, NLM_F_CREATE | NLM_F_APPEND, room,
			       "rule", NULL, &r->loc);
		nftnl_rule_nlmsg_build_payload(nlh, r->r);
		wire_done(b, nlh);
	}
}

static void wire_build(struct nl_batch *b, bool dry_run)
{
	char *p;

	b->wire.len = 0;
	b->refs.n = 0;
	b->nmsgs = 0;
	b->seq0 = (uint32_t)time(NULL) << 8;
	p = wire_room(b, 4096);
	wire_done(b, nftnl_batch_begin(p, b->seq0));
	/* both families are always cleared: a stale ip6 table must not survive */
	for (size_t i = 0; i < b->rs.tables.n; i++)
		wire_table(b, &b->rs.tables.v[i]);
	/* check mode: no end message, so the kernel validates everything and
	 * then aborts the transaction (nft -c does the same) */
	if (!dry_run) {
		p = wire_room(b, 4096);
		wire_done(b, nftnl_batch_end(p, b->seq0 + 1 + (uint32_t)b->refs.n));
	}
}

size_t nl_batch_bytes(const struct nl_batch *b)
{
	if (!b->wire.len)
		wire_build((struct nl_batch *)b, false);
	return b->wire.len;
}

size_t nl_batch_messages(const struct nl_batch *b)
{
	if (!b->wire.len)
		wire_build((struct nl_batch *)b, false);
	return b->nmsgs;
}

struct nl_err {
	uint32_t seq;
	int err;
};

struct nl_errs {
	VEC(struct nl_err) e;
};

static const char *nl_err_hint(int err)
{
	switch (err) {
	case EPERM:
		return "loading rules needs CAP_NET_ADMIN: run as root, or try it in "
		       "`unshare -rn` (a private user and network namespace)";
	case EOPNOTSUPP:
	case ENOENT:
		return "the running kernel may lack this feature or its module (nf_tables "
		       "expression, conntrack helper); check `modprobe nft_<name>` / "
		       "`modprobe nf_conntrack_<helper>`";
	case EMSGSIZE:
	case ENOBUFS:
		return "the batch did not fit the netlink socket buffer; as root masqc "
		       "raises it, in a user namespace net.core.wmem_max limits it";
	}
	return NULL;
}

/* Reads what the kernel answered: with no NLM_F_ACK only failures come
 * back, and the batch was processed by the time sendmsg returned. */
static int read_errors(struct nl_sock *s, struct nl_errs *errs)
{
	static char buf[1 << 16];

	for (;;) {
		ssize_t n = recv(mnl_socket_get_fd(s->nl), buf, sizeof(buf), MSG_DONTWAIT);
		struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
		int len;

		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
		len = (int)n;
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nlmsgerr *e;

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			if (e->error)
				vec_push(&errs->e, ((struct nl_err){ nlh->nlmsg_seq, -e->error }));
		}
	}
}

static int nl_send(struct nl_batch *b, struct nl_sock *s, struct nl_errs *errs)
{
	int fd = mnl_socket_get_fd(s->nl);
	int size = b->wire.len > (size_t)INT32_MAX ? INT32_MAX : (int)b->wire.len;
	int rcv = 1 << 22;
	int cur = 0;
	socklen_t sl = sizeof(cur);

	/* one sendmsg is one transaction, and must fit the send buffer */
	getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &cur, &sl);
	if (cur < size + 4096) {
		int want = size + 4096;

		if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof(want)) < 0)
			setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want));
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (mnl_socket_sendto(s->nl, b->wire.buf, b->wire.len) < 0)
		return -errno;
	return read_errors(s, errs);
}

static const struct nl_msgref *ref_of(const struct nl_batch *b, uint32_t seq)
{
	if (seq <= b->seq0 || seq - b->seq0 - 1 >= b->refs.n)
		return NULL;
	return &b->refs.v[seq - b->seq0 - 1];
}

int nl_batch_commit(struct nl_batch *b, bool dry_run, struct diag_queue *dq)
{
	struct nl_errs ee = { { 0 } };
	struct nl_sock s;
	int ret;

	if ((ret = nl_sock_open(&s)) < 0) {
		diag_add(dq, DIAG_ERROR, &loc_internal, nl_err_hint(-ret),
			 "cannot open a netfilter netlink socket: %s", strerror(-ret));
		return -1;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		bool retry = false;

		ee.e.n = 0;
		wire_build(b, dry_run);
		ret = nl_send(b, &s, &ee);
		if (ret < 0)
			break;
		/* a kernel before 6.3 does not know DESTROYTABLE: the whole
		 * batch was refused, so it is safe to send it the old way */
		for (size_t i = 0; i < ee.e.n; i++) {
			const struct nl_msgref *ref = ref_of(b, ee.e.v[i].seq);

			if (b->destroy && ref && !strcmp(ref->what, "removing table") &&
			    (ee.e.v[i].err == EINVAL || ee.e.v[i].err == EOPNOTSUPP))
				retry = true;
		}
		if (!retry)
			break;
		b->destroy = false;
	}
	nl_sock_close(&s);
	if (ret < 0) {
		diag_add(dq, DIAG_ERROR, &loc_internal, nl_err_hint(-ret),
			 "sending the ruleset to the kernel failed: %s; nothing was changed",
			 strerror(-ret));
		vec_free(&ee.e);
		return -1;
	}
	for (size_t i = 0; i < ee.e.n; i++) {
		const struct nl_msgref *ref = ref_of(b, ee.e.v[i].seq);
		int e = ee.e.v[i].err;

		if (!ref)
			diag_add(dq, DIAG_ERROR, &loc_internal, nl_err_hint(e),
				 "the kernel refused the ruleset: %s; nothing was changed", strerror(e));
		else
			diag_add(dq, DIAG_ERROR, &ref->loc, nl_err_hint(e),
				 "the kernel refused the %s%s%s%s: %s; %s", ref->what,
				 ref->name ? " '" : "", ref->name ? ref->name : "",
				 ref->name ? "'" : "", strerror(e),
				 dry_run ? "the check failed" : "nothing was changed");
	}
	ret = ee.e.n ? -1 : 0;
	vec_free(&ee.e);
	return ret;
}
