/* loc.h -- source files and locations.
 *
 * Every token, shell word, command and IR node carries a struct loc.
 * A source file knows the location of the `.`/`source` command that
 * included it, so a diagnostic can print the include chain.
 * Source files live in a source_set for the whole run; locations point
 * into it and are never freed separately.
 */
#ifndef MASQC_LOC_H
#define MASQC_LOC_H

#include <stddef.h>

struct src_file;

struct loc {
	const struct src_file *file;	/* NULL: internal (synthesized) */
	unsigned line;			/* 1-based; 0 = unknown */
	unsigned col;			/* 1-based byte column */
	unsigned len;			/* bytes underlined by the caret; >= 1 when known */
};

struct src_file {
	char *path;		/* as given / as resolved */
	char *text;		/* whole file, NUL-terminated */
	size_t len;
	size_t *line_off;	/* offset of the start of each line, 0-based index */
	size_t nlines;
	const struct loc *included_from; /* NULL for a top-level file; else &inc_loc */
	struct loc inc_loc;		/* the file's own copy of the including location */
	struct src_file *next;
};


struct source_set {
	struct src_file *head;
};

/* Adds a file read from disk; NULL + errno on failure. */
struct src_file *source_load(struct source_set *ss, const char *path,
			     const struct loc *included_from);
/* Adds a file from memory (unit tests, stdin). text is copied. */
struct src_file *source_add(struct source_set *ss, const char *name,
			    const char *text, size_t len,
			    const struct loc *included_from);
void source_set_free(struct source_set *ss);

/* The text of line n (1-based) without its newline; *len gets its length. */
const char *src_line(const struct src_file *f, unsigned n, size_t *len);

/* Location of byte offset off in f (len 1). */
struct loc loc_at(const struct src_file *f, size_t off);
/* Smallest location covering a and b when on the same line; else a. */
struct loc loc_span(struct loc a, struct loc b);

extern const struct loc loc_internal;

#endif
