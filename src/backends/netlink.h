/* netlink.h -- the IR straight into the kernel: one nf_tables batch built
 * with libnftnl, sent with libmnl, and the running ruleset read back.
 *
 * The batch holds the same kernel objects `nft -f` makes of nft_emit()'s
 * text (tables, ct helper objects, chains, anonymous sets, rules, expression
 * for expression), so both ways of loading give one ruleset.  Only masqc's
 * own tables ("ip masqc", "ip6 masqc") are touched.
 *
 * Both the compiled batch and a kernel readback are an nl_ruleset, and
 * nl_render() turns either into the same normalised text: one line per
 * object, no handles, no counter values.  Right after a successful commit
 * the two renderings are byte-identical (the basis of `masqc diff`).
 *
 * Available when configure found libnftnl and libmnl (HAVE_NETLINK).
 */
#ifndef MASQC_NETLINK_H
#define MASQC_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include "../ir.h"
#include "../diag.h"

struct nl_batch;
struct nl_ruleset;

enum nl_build_flags {
	/* Sets (address, port, interface, state lists): by default a rule's
	 * list is an anonymous set, exactly as `nft -f` makes it, unless a
	 * table would hold more than 1024 of them; then lists go into a
	 * handful of keyed sets "masqc_listN", one per key type, whose
	 * elements are (list id . value), and each rule looks up its list's
	 * id with the packet's field (the kernel binds each anonymous set in
	 * time proportional to the whole batch and finds named sets by a
	 * linear search: thousands of either make a big load slow).  These
	 * force one form: anonymous, one shared named set per distinct list
	 * ("masqc_setN"), or keyed. */
	NL_BUILD_ANON_SETS = 1 << 0,
	NL_BUILD_SHARED_SETS = 1 << 1,
	NL_BUILD_KEYED_SETS = 1 << 2,
};

/* Builds the whole ruleset as one transaction: masqc's tables are removed
 * (if they exist) and re-created with their objects, chains, sets and
 * rules.  Each rule carries its source location in its userdata.  Returns
 * NULL when something cannot be expressed (errors queued at the IR node's
 * location, exactly where nft_emit() would have put them). */
struct nl_batch *nl_batch_build(const struct ir_ruleset *rs, unsigned flags,
				struct diag_queue *dq);
/* The same, keeping the nft text that the check (nft_emit(), run beside
 * the build in a thread of its own) writes with eo: *text (caller frees)
 * and *len, set only when a batch is returned. */
struct emit_opts;
struct nl_batch *nl_batch_build_text(const struct ir_ruleset *rs, unsigned flags,
				     struct diag_queue *dq, const struct emit_opts *eo,
				     char **text, size_t *len);
void nl_batch_free(struct nl_batch *b);

/* Sends the batch.  dry_run: the kernel checks every object and then
 * aborts the transaction (no NFNL_MSG_BATCH_END, as `nft -c` does); works
 * as unprivileged root of a user+net namespace (`unshare -rn`).
 * Returns 0, or -1 with located errors queued: the kernel kept the
 * ruleset it had, and each error names the source line of the object the
 * kernel refused (or the batch itself for socket trouble, loc_internal). */
int nl_batch_commit(struct nl_batch *b, bool dry_run, struct diag_queue *dq);

/* Statistics of a built batch (benchmarks, tests). */
size_t nl_batch_bytes(const struct nl_batch *b);
size_t nl_batch_messages(const struct nl_batch *b);

/* The objects the batch creates, for nl_render(). */
const struct nl_ruleset *nl_batch_ruleset(const struct nl_batch *b);

/* Reads masqc's own tables back from the running kernel (tables, ct
 * helper objects, chains, sets with their elements, rules with their
 * userdata).  A missing table is not an error (an empty ruleset comes
 * back).  Returns 0, or -errno with *out NULL. */
int nl_ruleset_read(struct nl_ruleset **out);
void nl_ruleset_free(struct nl_ruleset *rs);

enum nl_render_flags {
	NL_RENDER_LOCATIONS = 1 << 0,	/* "  # file:line" after each rule */
	/* every set written inside the rules that use it, named or not: a
	 * ruleset built with shared sets renders like one with anonymous sets */
	NL_RENDER_INLINE_SETS = 1 << 1,
	/* a big table's rules rendered by two threads (the same text; the
	 * second half is held twice for a moment) */
	NL_RENDER_THREADED = 1 << 2,
};

/* The normalised text of a ruleset, compiled or read back: per table a
 * header line, its objects, named sets, chains and rules (one line each,
 * anonymous sets written inside the rule that uses them, elements
 * sorted), without handles, set ids or counter values.  Caller frees. */
char *nl_render(const struct nl_ruleset *rs, unsigned flags);

/* The same text handed to out() in pieces of whole lines (about a MB
 * each; NL_RENDER_THREADED is ignored), for a rendering that goes to a
 * file without being held whole.  Once out() returns nonzero it is not
 * called again and that value is returned; 0 when all went out. */
int nl_render_stream(const struct nl_ruleset *rs, unsigned flags,
		     int (*out)(const char *s, size_t n, void *arg), void *arg);

#endif
