/* diag.h -- queued diagnostics, printed once, sorted, de-duplicated.
 *
 * Deep code queues a record and returns -1; the driver prints them all at
 * the end in the one format
 *     file:line:col: error: message
 *      source line
 *          ^~~~
 *     file:line:col: note: included from here      (include chain)
 * followed by any attached hint ("did you mean 'ACCEPT'?", "give -D EXTIP=ADDR").
 */
#ifndef MASQC_DIAG_H
#define MASQC_DIAG_H

#include <stdarg.h>
#include <stdio.h>
#include <stdbool.h>
#include "loc.h"

enum diag_level {
	DIAG_NOTE,
	DIAG_WARNING,
	DIAG_ERROR,
};

struct diag {
	enum diag_level level;
	struct loc loc;
	char *msg;
	char *hint;		/* may be NULL; printed as "file:l:c: note: <hint>" */
	unsigned seq;		/* queue order, for stable sorting */
};

struct diag_queue {
	struct diag *v;
	size_t n, cap;
	unsigned nerrors, nwarnings;
	bool werror;		/* --strict: warnings count as errors */
};

/* Queue a diagnostic. Always returns -1 so callers can `return diag_error(...)`. */
int diag_add(struct diag_queue *q, enum diag_level lvl, const struct loc *loc,
	     const char *hint, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The same with a va_list (for modules that wrap diag_add). */
int diag_vadd(struct diag_queue *q, enum diag_level lvl, const struct loc *loc,
	      const char *hint, const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
#define diag_error(q, loc, ...)   diag_add((q), DIAG_ERROR, (loc), NULL, __VA_ARGS__)
#define diag_warning(q, loc, ...) diag_add((q), DIAG_WARNING, (loc), NULL, __VA_ARGS__)
#define diag_note(q, loc, ...)    diag_add((q), DIAG_NOTE, (loc), NULL, __VA_ARGS__)

/* Print everything queued (sorted by file, line, col, seq; duplicates
 * removed), with source line and caret. color: ANSI colours.  With
 * diag_quiet set (masqc -q) the notes are left out; warnings and errors,
 * with their hints, are not. */
void diag_print(struct diag_queue *q, FILE *out, bool color);
extern bool diag_quiet;
bool diag_has_errors(const struct diag_queue *q);
/* Sorts the queue as diag_print does (file, line, column, queue order). */
void diag_sort(struct diag_queue *q);
void diag_queue_free(struct diag_queue *q);

#endif
