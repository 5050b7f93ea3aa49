/* textdiff.h -- line diff of two renderings, unified or JSON.
 *
 * Lines are compared without their trailing "  # file:line" (so a rule
 * that only moved in its script, or came from a renamed file, is the same
 * rule), and printed with it, so each changed rule names the source line
 * it came from: the old side's for removed lines, the new side's for added
 * ones and for context.
 */
#ifndef MASQC_TEXTDIFF_H
#define MASQC_TEXTDIFF_H

#include <stdbool.h>
#include <stdio.h>

struct text_diff_opts {
	const char *old_label, *new_label;	/* "---" / "+++" names */
	bool json;
	unsigned context;			/* lines around a change (unified) */
};

struct text_diff_stats {
	unsigned long added, removed;
};

/* Writes the difference of old and new to out (nothing at all when they
 * are the same, unless json).  Returns 0 same, 1 different. */
int text_diff(const char *old, const char *new, const struct text_diff_opts *o,
	      FILE *out, struct text_diff_stats *st);

#endif
