/* iptc.h -- the IR into legacy iptables (x_tables) through libiptc, for
 * hosts that stay on iptables-legacy: `masqc apply --backend
 * iptables-legacy`.
 *
 * The rules are the ones ipt.c decides (struct ipt_doc); iptc.c encodes
 * each line into an x_tables entry and installs the tables with libip4tc /
 * libip6tc, one iptc_commit per table.
 *
 * Atomicity.  The kernel replaces one x_tables table at a time
 * (IPT_SO_SET_REPLACE): each table is atomic, the set of tables is not.
 * iptc_set_commit() commits the tables one after another (IPv4 filter,
 * nat, mangle, raw, then IPv6), each from a handle read just before, and
 * keeps a snapshot of what masqc owned in every table it has committed.
 * When a later table fails, the tables already committed are put back
 * from their snapshots (newest first), so the previous ruleset is whole
 * again; only if one of those restores fails too is the error "partly
 * applied", naming the table.  The kernel refuses a table as a whole; the
 * rule it refuses is then found by bisection in a throwaway namespace and
 * named at its source line.  Packets see each table switch on its own:
 * for the moments between two commits, a packet can meet the new filter
 * table and the old nat table.  Counters of the rules masqc writes start
 * from zero; a table put back gets the counters of the snapshot.
 *
 * Ownership.  x_tables tables are shared with whoever else runs
 * iptables-legacy.  In each table masqc writes ("ip filter", ...), masqc
 * owns the built-in chains (their rules are replaced, their policy is the
 * script's, ACCEPT when the script sets none) and the user chains it
 * creates.  Foreign user chains in those tables are left as they are
 * (rules, references and all; a jump to them from a built-in chain goes
 * with the built-in chain's rules), and tables masqc does not write are
 * never opened for writing.  What masqc owns is told by the caller as the
 * text iptc_set_owned() gave for the ruleset in the kernel ("ip filter" for
 * a table, "ip filter CHAIN" for a user chain); a chain masqc owned that
 * the new ruleset lacks is deleted (which fails, changing nothing, if a
 * foreign chain still jumps to it).
 *
 * Available when configure found libip4tc, libip6tc and libxtables
 * (HAVE_IPTC).
 */
#ifndef MASQC_IPTC_H
#define MASQC_IPTC_H

#include <stdbool.h>
#include "../ir.h"
#include "../diag.h"

struct iptc_set;

/* Decides (ipt.c) and encodes (libxtables) the IPv4 tables, and the IPv6
 * tables when the ruleset has any.  Needs no privileges; the kernel is
 * only asked which revision of each match and target it has.  Returns
 * NULL with errors queued at the rules' locations. */
struct iptc_set *iptc_set_build(const struct ir_ruleset *rs, struct diag_queue *dq);
void iptc_set_free(struct iptc_set *s);

/* The normalised text (`masqc diff`): per table "*ip filter", the chains
 * (":INPUT DROP", ":mychain -"; built-ins in hook order, then user chains
 * sorted), the rules as iptables-save prints them ("-A INPUT ...", with
 * "  # file:line" when locations), "COMMIT".  Caller frees. */
char *iptc_set_render(const struct iptc_set *s, bool locations);
unsigned long iptc_set_rules(const struct iptc_set *s);

/* What masqc owns once s is in the kernel (see Ownership).  Caller frees. */
char *iptc_set_owned(const struct iptc_set *s);

/* Installs s, replacing what prev_owned (NULL: nothing) says masqc
 * owned.  dry_run: the same in a new, empty network namespace that is
 * thrown away (libiptc has no check mode; needs CAP_SYS_ADMIN, e.g.
 * `unshare -rn`).  Returns 0, or -1 with errors queued: then every table
 * is as it was (unless a message says "partly applied"). */
int iptc_set_commit(const struct iptc_set *s, const char *prev_owned, bool dry_run,
		    struct diag_queue *dq);

/* The running kernel's side of iptc_set_render(): the tables s writes and
 * the ones prev_owned names, their built-in chains and the user chains of
 * s or prev_owned.  Returns 0 with *out set, or -errno. */
int iptc_render_running(const struct iptc_set *s, const char *prev_owned, char **out);

#endif
