/* iptc.c -- the libiptc backend (iptc.h).
 *
 * Encoding.  ipt.c has decided every rule and written it as the words of
 * an iptables command line ("-p tcp -m tcp --dport 22 -j ACCEPT").  Those
 * words are turned into x_tables entries by iptables' own extension
 * modules through libxtables, the way iptables-restore does: each `-m`
 * loads the match, its options go to the extension's parser, the target
 * likewise.  Encoding the ~45 matches and targets ipt.c uses by hand from
 * linux/netfilter/xt_*.h would be a second copy of iptables' extension
 * layer, and the hard part of it is exactly what libxtables gets right:
 * which revision of each match or target the running kernel has (mark v1,
 * conntrack v3, multiport v1, SNAT/DNAT, NOTRACK as an alias of CT ...).
 * With the same modules, `iptables-legacy-save` after our commit lists
 * what it lists after `iptables-legacy-restore` of `masqc compile -t
 * iptables`.  Reading back uses the modules' save functions, so `masqc
 * diff` compares text the same code printed on both sides.
 *
 * libxtables keeps global state for one protocol family per process (an
 * extension registers only the family the process was initialised for),
 * so every piece of work that needs it -- encoding, rendering -- runs in a
 * child process, one per family, that sends its results back through a
 * pipe as records.  The parent never initialises libxtables; it commits
 * with libiptc alone.  The child is a fork, so the locations it refers to
 * are the parent's own pointers.
 *
 * Committing: see iptc.h (one iptc_commit per table, snapshots, restore).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xtables.h>
#include <libiptc/libiptc.h>
#include <libiptc/libip6tc.h>

#include "backend.h"
#include "iptc.h"
#include "../util.h"

/* ---- the encoded ruleset ---------------------------------------------------- */

struct iptc_rule {
	const struct ipt_doc_line *line;
	void *entry;			/* struct ipt_entry / ip6t_entry */
	size_t len;
	char *text;			/* as the save functions print it */
};

struct iptc_table {
	enum ir_family fam;
	const struct ipt_doc_table *doc;
	VEC(struct iptc_rule) rules;
};

struct iptc_set {
	struct ipt_doc doc[2];		/* IPv4, IPv6 */
	bool has[2];
	VEC(struct iptc_table) tables;
};

static const char *fam_word(enum ir_family f)
{
	return f == IR_FAM_IPV6 ? "ip6" : "ip";
}

/* ---- per family: libip4tc or libip6tc ----------------------------------------- */

struct fam_ops {
	const struct xtc_ops *x;	/* commit, init, free, builtin, chains, policy */
	const void *(*first_rule)(const char *chain, struct xtc_handle *h);
	const void *(*next_rule)(const void *prev, struct xtc_handle *h);
	const char *(*get_target)(const void *e, struct xtc_handle *h);
	int (*append)(const char *chain, const void *e, struct xtc_handle *h);
	int (*delete_chain)(const char *chain, struct xtc_handle *h);
	size_t entry_size;		/* sizeof the fixed header */
	uint8_t nfproto;
};

static const void *first4(const char *c, struct xtc_handle *h) { return iptc_first_rule(c, h); }
static const void *next4(const void *p, struct xtc_handle *h) { return iptc_next_rule(p, h); }
static const char *target4(const void *e, struct xtc_handle *h) { return iptc_get_target(e, h); }
static int append4(const char *c, const void *e, struct xtc_handle *h) { return iptc_append_entry(c, e, h); }
static int delete4(const char *c, struct xtc_handle *h) { return iptc_delete_chain(c, h); }
static const void *first6(const char *c, struct xtc_handle *h) { return ip6tc_first_rule(c, h); }
static const void *next6(const void *p, struct xtc_handle *h) { return ip6tc_next_rule(p, h); }
static const char *target6(const void *e, struct xtc_handle *h) { return ip6tc_get_target(e, h); }
static int append6(const char *c, const void *e, struct xtc_handle *h) { return ip6tc_append_entry(c, e, h); }
static int delete6(const char *c, struct xtc_handle *h) { return ip6tc_delete_chain(c, h); }

static const struct fam_ops fam4 = {
	&iptc_ops, first4, next4, target4, append4, delete4, sizeof(struct ipt_entry), NFPROTO_IPV4,
};
static const struct fam_ops fam6 = {
	&ip6tc_ops, first6, next6, target6, append6, delete6, sizeof(struct ip6t_entry), NFPROTO_IPV6,
};

static const struct fam_ops *fops(enum ir_family f)
{
	return f == IR_FAM_IPV6 ? &fam6 : &fam4;
}

/* The fields both entry layouts have, after their ip header. */
static uint16_t e_target_offset(enum ir_family f, const void *e)
{
	return f == IR_FAM_IPV6 ? ((const struct ip6t_entry *)e)->target_offset :
				  ((const struct ipt_entry *)e)->target_offset;
}

static uint16_t e_next_offset(enum ir_family f, const void *e)
{
	return f == IR_FAM_IPV6 ? ((const struct ip6t_entry *)e)->next_offset :
				  ((const struct ipt_entry *)e)->next_offset;
}

static struct xt_entry_target *e_target(enum ir_family f, void *e)
{
	return (struct xt_entry_target *)((char *)e + e_target_offset(f, e));
}

static bool std_verdict(const char *label)
{
	return !strcmp(label, "ACCEPT") || !strcmp(label, "DROP") || !strcmp(label, "RETURN") ||
	       !strcmp(label, "QUEUE");
}

/* ---- records between a child and the parent -------------------------------------- */

/* REC_DIAG: a struct loc (its file pointer is the parent's) then the
 * message, for errors found in a child that the parent queues as they are. */
enum rec_kind { REC_ENTRY, REC_TEXT, REC_ERROR, REC_CHAIN, REC_RULE, REC_DIAG };

struct rec_hdr {
	uint32_t kind;
	uint32_t idx;			/* encoding: the line; REC_ERROR reading back: errno */
	uint32_t len;			/* of the data that follows */
	uint64_t ptr;			/* REC_ERROR: the location (the parent's pointer) */
};

static int rec_fd = -1;

static void rec_write(enum rec_kind k, uint32_t idx, const void *data, size_t len, const void *ptr)
{
	struct rec_hdr h = { k, idx, (uint32_t)len, (uint64_t)(uintptr_t)ptr };
	const char *p = (const char *)&h;
	size_t n = sizeof(h);

	for (int part = 0; part < 2; part++) {
		while (n > 0) {
			ssize_t w = write(rec_fd, p, n);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				_exit(4);
			p += w;
			n -= (size_t)w;
		}
		p = data;
		n = len;
	}
}

struct rec {
	struct rec_hdr h;
	const char *data;
};
typedef VEC(struct rec) recvec;

/* Runs fn in a child with libxtables initialised for fam (if
 * needs_xtables); the child's records land in *buf (parsed into recs,
 * pointing into *buf).  Returns 0; 1 when the child stopped at an error
 * it sent as a REC_ERROR; -1 when it died without saying why (*why). */
static int child_run(enum ir_family fam, bool needs_xtables, void (*fn)(void *ctx), void *ctx,
		     char **buf, recvec *recs, char *why, size_t whylen);

/* ---- encoding (in the child) --------------------------------------------------- */

static struct option enc_orig_opts[] = {
	{ .name = "source", .has_arg = 1, .val = 's' },
	{ .name = "destination", .has_arg = 1, .val = 'd' },
	{ .name = "in-interface", .has_arg = 1, .val = 'i' },
	{ .name = "out-interface", .has_arg = 1, .val = 'o' },
	{ .name = "protocol", .has_arg = 1, .val = 'p' },
	{ .name = "fragment", .has_arg = 0, .val = 'f' },
	{ .name = "match", .has_arg = 1, .val = 'm' },
	{ .name = "jump", .has_arg = 1, .val = 'j' },
	{ .name = "goto", .has_arg = 1, .val = 'g' },
	{ NULL },
};

static uint32_t cur_idx;
static const void *cur_loc;

static void xt_exit_err(enum xtables_exittype status, const char *msg, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

/* libxtables' error exit: the message becomes an error at the rule. */
static void xt_exit_err(enum xtables_exittype status, const char *msg, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, msg);
	n = vsnprintf(buf, sizeof(buf), msg, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	rec_write(REC_ERROR, cur_idx, buf, (size_t)n, cur_loc);
	(void)status;
	_exit(3);
}

static uint8_t cur_nfproto;

/* Which revision of a match or target the kernel has, as libxtables'
 * xtables_compatible_revision() asks it -- except that without the
 * privilege to ask (a compile or a compiled-vs-compiled diff as a normal
 * user) it assumes the newest silently instead of warning once per
 * extension: nothing is committed then. */
static int compat_rev(const char *name, uint8_t rev, int opt)
{
	struct xt_get_revision r;
	socklen_t len = sizeof(r);
	bool v6 = cur_nfproto == NFPROTO_IPV6;
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW), got;

	if (fd < 0)
		return 1;
	xtables_load_ko(xtables_modprobe_program, true);
	memset(&r, 0, sizeof(r));
	snprintf(r.name, sizeof(r.name), "%s", name);
	r.revision = rev;
	got = getsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, opt, &r, &len);
	close(fd);
	if (got >= 0)
		return 1;
	if (errno == ENOENT || errno == EPROTONOSUPPORT)
		return 0;
	if (errno == ENOPROTOOPT)
		return rev == 0;	/* a kernel that cannot tell has revision 0 */
	return 1;
}

static struct xtables_globals xg = {
	.option_offset = 0,
	.program_name = "masqc",
	.program_version = PACKAGE_VERSION,
	.orig_opts = enc_orig_opts,
	.opts = enc_orig_opts,
	.exit_err = xt_exit_err,
	.compat_rev = compat_rev,
};

static int proto_number(const char *s)
{
	char *end;
	unsigned long n = strtoul(s, &end, 10);

	if (*s && !*end && n < 256)
		return (int)n;
	for (unsigned p = 0; p < 256; p++) {
		const char *name = ipt_proto_name((uint8_t)p);

		if (name && !strcmp(name, s))
			return (int)p;
	}
	xt_exit_err(PARAMETER_PROBLEM, "unknown protocol '%s'", s);
}

/* "a/len" into address and mask (af bytes each). */
static void parse_prefix(int af, const char *s, void *addr, void *mask)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *sl = strchr(s, '/');
	unsigned bits = af == AF_INET6 ? 128 : 32, len = bits;
	size_t n = sl ? (size_t)(sl - s) : strlen(s);
	unsigned char *m = mask, *a = addr;

	if (n >= sizeof(buf))
		xt_exit_err(PARAMETER_PROBLEM, "bad address '%s'", s);
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(af, buf, addr) != 1)
		xt_exit_err(PARAMETER_PROBLEM, "bad address '%s'", s);
	if (sl)
		len = (unsigned)strtoul(sl + 1, NULL, 10);
	if (len > bits)
		xt_exit_err(PARAMETER_PROBLEM, "bad prefix length in '%s'", s);
	for (unsigned i = 0; i < bits / 8; i++) {
		unsigned b = len > i * 8 ? len - i * 8 : 0;

		m[i] = b >= 8 ? 0xff : (unsigned char)(0xff << (8 - b));
		a[i] &= m[i];
	}
}

union fw {
	struct ipt_entry e4;
	struct ip6t_entry e6;
};

/* The ip header fields of an entry, and their invert flags, for both
 * families (ipt_ip and ip6t_ip6 name and place them apart). */
struct ip_fields {
	int af;
	void *src, *smsk, *dst, *dmsk;
	char *in, *out;
	unsigned char *inm, *outm;
	uint16_t *proto;
	uint8_t *flags, *invflags;
	void *hdr;		/* the ipt_ip / ip6t_ip6 itself (extensions' save) */
	uint8_t f_proto;	/* the flag a protocol sets (IPv6 only) */
	uint8_t f_goto;
	uint8_t inv_src, inv_dst, inv_in, inv_out, inv_proto;
};

static struct ip_fields ip_fields_of(enum ir_family fam, union fw *fw)
{
	if (fam == IR_FAM_IPV6) {
		struct ip6t_ip6 *h = &fw->e6.ipv6;

		return (struct ip_fields){ AF_INET6, &h->src, &h->smsk, &h->dst, &h->dmsk,
			h->iniface, h->outiface, h->iniface_mask, h->outiface_mask,
			&h->proto, &h->flags, &h->invflags, h, IP6T_F_PROTO, IP6T_F_GOTO,
			IP6T_INV_SRCIP, IP6T_INV_DSTIP, IP6T_INV_VIA_IN, IP6T_INV_VIA_OUT,
			IP6T_INV_PROTO };
	}
	return (struct ip_fields){ AF_INET, &fw->e4.ip.src, &fw->e4.ip.smsk, &fw->e4.ip.dst,
		&fw->e4.ip.dmsk, fw->e4.ip.iniface, fw->e4.ip.outiface, fw->e4.ip.iniface_mask,
		fw->e4.ip.outiface_mask, &fw->e4.ip.proto, &fw->e4.ip.flags, &fw->e4.ip.invflags,
		&fw->e4.ip, 0, IPT_F_GOTO, IPT_INV_SRCIP, IPT_INV_DSTIP, IPT_INV_VIA_IN,
		IPT_INV_VIA_OUT, IPT_INV_PROTO };
}

/* The ip header options of one line. */
static void enc_builtin(enum ir_family fam, union fw *fw, int c, const char *arg, bool inv)
{
	struct ip_fields f = ip_fields_of(fam, fw);

	switch (c) {
	case 's':
		parse_prefix(f.af, arg, f.src, f.smsk);
		*f.invflags |= inv ? f.inv_src : 0;
		break;
	case 'd':
		parse_prefix(f.af, arg, f.dst, f.dmsk);
		*f.invflags |= inv ? f.inv_dst : 0;
		break;
	case 'i':
		xtables_parse_interface(arg, f.in, f.inm);
		*f.invflags |= inv ? f.inv_in : 0;
		break;
	case 'o':
		xtables_parse_interface(arg, f.out, f.outm);
		*f.invflags |= inv ? f.inv_out : 0;
		break;
	case 'p':
		*f.proto = (uint16_t)proto_number(arg);
		if (*f.proto)
			*f.flags |= f.f_proto;
		*f.invflags |= inv ? f.inv_proto : 0;
		break;
	case 'f':
		if (fam == IR_FAM_IPV6)
			xt_exit_err(PARAMETER_PROBLEM, "-f does not exist in ip6tables");
		fw->e4.ip.flags |= IPT_F_FRAG;
		fw->e4.ip.invflags |= inv ? IPT_INV_FRAG : 0;
		break;
	}
}

static void enc_match(const char *name, struct xtables_rule_match **matches)
{
	struct xtables_match *m = xtables_find_match(name, XTF_LOAD_MUST_SUCCEED, matches);
	size_t size = XT_ALIGN(sizeof(struct xt_entry_match)) + m->size;
	struct option *opts = xt_params->opts;

	m->m = xtables_calloc(1, size);
	m->m->u.match_size = (uint16_t)size;
	strcpy(m->m->u.user.name, m->real_name ? m->real_name : m->name);
	m->m->u.user.revision = m->revision;
	m->mflags = 0;
	if (m->udata_size) {
		free(m->udata);
		m->udata = xtables_calloc(1, m->udata_size);
	}
	if (m->init)
		m->init(m->m);
	if (m == m->next)
		return;		/* a clone: its options are merged already */
	if (m->x6_options)
		opts = xtables_options_xfrm(xt_params->orig_opts, opts, m->x6_options, &m->option_offset);
	else if (m->extra_opts)
		opts = xtables_merge_options(xt_params->orig_opts, opts, m->extra_opts, &m->option_offset);
	if (!opts)
		xt_exit_err(OTHER_PROBLEM, "out of memory");
	xt_params->opts = opts;
}

static struct xtables_target *enc_target(const char *name)
{
	struct xtables_target *t = xtables_find_target(name, XTF_TRY_LOAD);
	struct option *opts = xt_params->opts;
	size_t size;

	if (!t)
		xt_exit_err(PARAMETER_PROBLEM, "no chain or target '%s' here", name);
	size = XT_ALIGN(sizeof(struct xt_entry_target)) + t->size;
	t->t = xtables_calloc(1, size);
	t->t->u.target_size = (uint16_t)size;
	strcpy(t->t->u.user.name, t->real_name ? t->real_name : name);
	t->t->u.user.revision = t->revision;
	t->tflags = 0;
	if (t->udata_size) {
		free(t->udata);
		t->udata = xtables_calloc(1, t->udata_size);
	}
	if (t->init)
		t->init(t->t);
	if (t->x6_options)
		opts = xtables_options_xfrm(xt_params->orig_opts, opts, t->x6_options, &t->option_offset);
	else if (t->extra_opts)
		opts = xtables_merge_options(xt_params->orig_opts, opts, t->extra_opts, &t->option_offset);
	if (!opts)
		xt_exit_err(OTHER_PROBLEM, "out of memory");
	xt_params->opts = opts;
	return t;
}

static bool doc_has_chain(const struct ipt_doc_table *t, const char *name)
{
	for (size_t i = 0; i < t->chains.n; i++)
		if (!strcmp(t->chains.v[i].name, name))
			return true;
	return false;
}

/* One line's words into one entry (malloc'd, *len bytes); *label is the
 * standard target's label (verdict or chain, "" for none) or NULL for an
 * extension target. */
static void *enc_line(enum ir_family fam, const struct ipt_doc_table *t, const struct ipt_doc_line *l,
		      size_t *len, const char **label)
{
	char **argv = xzalloc((l->argc + 2) * sizeof(*argv));
	struct xtables_rule_match *matches = NULL;
	struct xtables_target *target = NULL;
	struct xt_standard_target std;
	union fw fw;
	bool inv = false;
	size_t hdr = fops(fam)->entry_size, size;
	const struct xt_entry_target *tgt;
	char *e;
	int c;

	memset(&fw, 0, sizeof(fw));
	memset(&std, 0, sizeof(std));
	std.target.u.target_size = XT_ALIGN(sizeof(std));
	*label = "";
	argv[0] = (char *)"masqc";
	for (unsigned i = 0; i < l->argc; i++)
		argv[i + 1] = l->argv[i];
	optind = 0;
	opterr = 0;
	while ((c = getopt_long((int)l->argc + 1, argv, "-:s:d:i:o:p:fm:j:g:", xt_params->opts,
				NULL)) != -1) {
		switch (c) {
		case 1:
			if (strcmp(optarg, "!") != 0)
				xt_exit_err(PARAMETER_PROBLEM, "unexpected word '%s'", optarg);
			inv = true;
			continue;
		case 's': case 'd': case 'i': case 'o': case 'p': case 'f':
			enc_builtin(fam, &fw, c, optarg, inv);
			break;
		case 'm':
			enc_match(optarg, &matches);
			break;
		case 'g':
			if (fam == IR_FAM_IPV6)
				fw.e6.ipv6.flags |= IP6T_F_GOTO;
			else
				fw.e4.ip.flags |= IPT_F_GOTO;
			/* fall through */
		case 'j':
			if (std_verdict(optarg) || doc_has_chain(t, optarg)) {
				*label = optarg;
				snprintf(std.target.u.user.name, sizeof(std.target.u.user.name), "%s", optarg);
			} else {
				target = enc_target(optarg);
				*label = NULL;
			}
			break;
		case ':':
			xt_exit_err(PARAMETER_PROBLEM, "option '%s' needs a value", argv[optind - 1]);
		case '?':
			xt_exit_err(PARAMETER_PROBLEM, "unknown option '%s'", argv[optind - 1]);
		default: {
			bool done = false;

			if (target && c >= (int)target->option_offset &&
			    c < (int)target->option_offset + 256) {
				xtables_option_tpcall((unsigned)c, argv, inv, target, &fw);
				done = true;
			}
			for (struct xtables_rule_match *mp = matches; mp && !done; mp = mp->next) {
				struct xtables_match *m = mp->match;

				if (mp->completed || c < (int)m->option_offset ||
				    c >= (int)m->option_offset + 256)
					continue;
				xtables_option_mpcall((unsigned)c, argv, inv, m, &fw);
				done = true;
			}
			if (!done)
				xt_exit_err(PARAMETER_PROBLEM, "option '%s' belongs to no match or target",
					    argv[optind - 1]);
		}
		}
		inv = false;
	}
	for (struct xtables_rule_match *mp = matches; mp; mp = mp->next)
		xtables_option_mfcall(mp->match);
	if (target)
		xtables_option_tfcall(target);

	tgt = target ? target->t : &std.target;
	size = hdr;
	for (struct xtables_rule_match *mp = matches; mp; mp = mp->next)
		size += mp->match->m->u.match_size;
	e = xzalloc(size + tgt->u.target_size);
	memcpy(e, &fw, hdr);
	if (fam == IR_FAM_IPV6) {
		((struct ip6t_entry *)e)->target_offset = (uint16_t)size;
		((struct ip6t_entry *)e)->next_offset = (uint16_t)(size + tgt->u.target_size);
	} else {
		((struct ipt_entry *)e)->target_offset = (uint16_t)size;
		((struct ipt_entry *)e)->next_offset = (uint16_t)(size + tgt->u.target_size);
	}
	size = hdr;
	for (struct xtables_rule_match *mp = matches; mp; mp = mp->next) {
		memcpy(e + size, mp->match->m, mp->match->m->u.match_size);
		size += mp->match->m->u.match_size;
	}
	memcpy(e + size, tgt, tgt->u.target_size);
	*len = size + tgt->u.target_size;

	xtables_rule_matches_free(&matches);
	if (target) {
		free(target->t);
		target->t = NULL;
	}
	/* the merged option table goes; it is made again for the next line */
	xtables_free_opts(1);
	xt_params->opts = xt_params->orig_opts;
	free(argv);
	return e;
}

/* ---- rendering (in a child) -------------------------------------------------- */

static void save_addr(int af, char letter, const void *addr, const void *mask, bool inv)
{
	char buf[INET6_ADDRSTRLEN];
	const unsigned char *m = mask;
	unsigned n = af == AF_INET6 ? 16 : 4, bits = 0;
	bool any = false, cidr = true;

	for (unsigned i = 0; i < n; i++)
		any |= m[i] != 0;
	if (!any && !inv)
		return;
	for (unsigned i = 0; i < n * 8; i++) {
		bool set = m[i / 8] & (0x80 >> (i % 8));

		if (set && bits != i)
			cidr = false;
		bits += set;
	}
	inet_ntop(af, addr, buf, sizeof(buf));
	printf("%s -%c %s", inv ? " !" : "", letter, buf);
	if (cidr) {
		printf("/%u", bits);
	} else {
		inet_ntop(af, mask, buf, sizeof(buf));
		printf("/%s", buf);
	}
}

static void save_iface(char letter, const char *iface, bool inv)
{
	if (iface[0])
		printf("%s -%c %s", inv ? " !" : "", letter, iface);
}

static void save_proto(unsigned proto, bool inv)
{
	const char *name;

	if (!proto)
		return;
	name = ipt_proto_name((uint8_t)proto);
	if (name)
		printf("%s -p %s", inv ? " !" : "", name);
	else
		printf("%s -p %u", inv ? " !" : "", proto);
}

static void save_match(const struct xt_entry_match *em, const void *ip)
{
	struct xtables_match *m = xtables_find_match(em->u.user.name, XTF_TRY_LOAD, NULL), *mr;

	if (!m) {
		printf(" -m %s [no extension]", em->u.user.name);
		return;
	}
	mr = xtables_find_match_revision(em->u.user.name, XTF_TRY_LOAD, m, em->u.user.revision);
	printf(" -m %s", (mr ? mr : m)->alias ? (mr ? mr : m)->alias(em) : em->u.user.name);
	if (mr && mr->save)
		mr->save(ip, em);
	else if (m->save)
		printf(" [unsupported revision]");
}

/* One entry as iptables-save prints it after "-A chain"; label: the
 * standard target's verdict or chain ("" none), NULL: an extension. */
static void save_entry(enum ir_family fam, const void *e, const char *label)
{
	/* only read here; ip_fields_of serves the encoder too */
	struct ip_fields f = ip_fields_of(fam, (union fw *)(uintptr_t)e);
	const void *ip = f.hdr;
	const char *p = e, *end;
	const struct xt_entry_target *t = e_target(fam, (void *)e);
	bool go = *f.flags & f.f_goto;

	save_addr(f.af, 's', f.src, f.smsk, *f.invflags & f.inv_src);
	save_addr(f.af, 'd', f.dst, f.dmsk, *f.invflags & f.inv_dst);
	save_iface('i', f.in, *f.invflags & f.inv_in);
	save_iface('o', f.out, *f.invflags & f.inv_out);
	if (!f.f_proto || (*f.flags & f.f_proto))
		save_proto(*f.proto, *f.invflags & f.inv_proto);
	if (fam == IR_FAM_IPV4 && (*f.flags & IPT_F_FRAG))
		printf("%s -f", *f.invflags & IPT_INV_FRAG ? " !" : "");
	end = p + e_target_offset(fam, e);
	for (p += fops(fam)->entry_size; p < end;) {
		const struct xt_entry_match *m = (const void *)p;

		if (m->u.match_size == 0)
			break;
		save_match(m, ip);
		p += m->u.match_size;
	}
	if (label) {
		if (*label)
			printf(" -%c %s", go ? 'g' : 'j', label);
		return;
	}
	{
		struct xtables_target *x = xtables_find_target(t->u.user.name, XTF_TRY_LOAD), *xr;

		if (!x) {
			printf(" -j %s [no extension]", t->u.user.name);
			return;
		}
		xr = xtables_find_target_revision(t->u.user.name, XTF_TRY_LOAD, x, t->u.user.revision);
		printf(" -j %s", (xr ? xr : x)->alias ? (xr ? xr : x)->alias(t) : t->u.user.name);
		if (xr && xr->save)
			xr->save(ip, t);
		else if (x->save)
			printf(" [unsupported revision]");
	}
}

/* save_entry() into a string: the save functions print to stdout. */
static char *save_entry_text(enum ir_family fam, const void *e, const char *label)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *mem = open_memstream(&buf, &n), *old = stdout;

	if (!mem)
		xt_exit_err(OTHER_PROBLEM, "out of memory");
	stdout = mem;
	save_entry(fam, e, label);
	fflush(mem);
	stdout = old;
	fclose(mem);
	return buf;
}

/* ---- the child process ---------------------------------------------------------- */

static int child_run(enum ir_family fam, bool needs_xtables, void (*fn)(void *ctx), void *ctx,
		     char **buf, recvec *recs, char *why, size_t whylen)
{
	int pfd[2], status;
	pid_t pid;
	struct strbuf sb = { 0 };
	char tmp[65536];
	ssize_t n;
	size_t off, total;

	*buf = NULL;
	recs->n = 0;
	/* close-on-exec: a modprobe libxtables runs must not hold the pipe */
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		close(pfd[0]);
		rec_fd = pfd[1];
		signal(SIGPIPE, SIG_DFL);
		cur_nfproto = fops(fam)->nfproto;
		if (needs_xtables && xtables_init_all(&xg, fops(fam)->nfproto) < 0)
			xt_exit_err(OTHER_PROBLEM, "cannot initialise libxtables");
		fn(ctx);
		fflush(NULL);
		_exit(0);
	}
	close(pfd[1]);
	for (;;) {
		n = read(pfd[0], tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		sb_addn(&sb, tmp, (size_t)n);
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	total = sb.len;
	*buf = sb_steal(&sb);
	for (off = 0; off + sizeof(struct rec_hdr) <= total;) {
		struct rec r;

		memcpy(&r.h, *buf + off, sizeof(r.h));
		off += sizeof(r.h);
		if (r.h.len > total - off)
			break;
		r.data = *buf + off;
		off += r.h.len;
		vec_push(recs, r);
	}
	if (WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 3))
		return WEXITSTATUS(status) ? 1 : 0;
	if (WIFEXITED(status))
		snprintf(why, whylen, "the %s helper process failed (exit %d)", fam_word(fam),
			 WEXITSTATUS(status));
	else
		snprintf(why, whylen, "the %s helper process died (signal %d)", fam_word(fam),
			 WTERMSIG(status));
	return -1;
}

/* ---- building ----------------------------------------------------------------- */

struct enc_ctx {
	const struct iptc_set *s;
	enum ir_family fam;
};

/* The location of a line: its own, or that of the IR rule it expands. */
static const struct loc *line_loc(const struct ipt_doc_table *t, size_t i)
{
	for (size_t j = i + 1; j-- > 0;)
		if (t->lines.v[j].loc)
			return t->lines.v[j].loc;
	return NULL;
}

static void enc_child(void *p)
{
	const struct enc_ctx *c = p;
	const struct ipt_doc *d = &c->s->doc[c->fam == IR_FAM_IPV6];
	uint32_t k = 0;

	for (size_t ti = 0; ti < d->tables.n; ti++) {
		const struct ipt_doc_table *t = &d->tables.v[ti];

		for (size_t i = 0; i < t->lines.n; i++, k++) {
			const struct ipt_doc_line *l = &t->lines.v[i];
			const char *label;
			size_t len;
			void *e;
			char *text;

			if (!l->chain)
				continue;
			cur_idx = k;
			cur_loc = line_loc(t, i);
			e = enc_line(c->fam, t, l, &len, &label);
			rec_write(REC_ENTRY, k, e, len, NULL);
			text = save_entry_text(c->fam, e, label);
			rec_write(REC_TEXT, k, text, strlen(text), NULL);
			free(text);
			free(e);
		}
	}
}

static bool ruleset_has_family(const struct ir_ruleset *rs, enum ir_family f)
{
	for (const struct ir_table *t = rs->tables; t; t = t->next)
		if (t->family == f)
			return true;
	return false;
}

static void child_errors(const recvec *recs, struct diag_queue *dq)
{
	for (size_t i = 0; i < recs->n; i++)
		if (recs->v[i].h.kind == REC_ERROR) {
			const struct loc *loc = (const struct loc *)(uintptr_t)recs->v[i].h.ptr;

			diag_error(dq, loc ? loc : &loc_internal, "iptables-legacy: %.*s",
				   (int)recs->v[i].h.len, recs->v[i].data);
		}
}

struct iptc_set *iptc_set_build(const struct ir_ruleset *rs, struct diag_queue *dq)
{
	struct iptc_set *s = xzalloc(sizeof(*s));
	char why[256];

	for (int f = 0; f < 2; f++) {
		enum ir_family fam = f ? IR_FAM_IPV6 : IR_FAM_IPV4;
		struct enc_ctx ctx = { s, fam };
		recvec recs = { 0 };
		char *buf;
		int r;

		if (f && !ruleset_has_family(rs, fam))
			continue;
		if (ipt_build(rs, fam, dq, &s->doc[f]) < 0)
			goto fail;
		s->has[f] = true;
		for (size_t ti = 0; ti < s->doc[f].tables.n; ti++) {
			struct iptc_table t = { .fam = fam, .doc = &s->doc[f].tables.v[ti] };

			/* the tables commit_real() walks; the parser knows no others */
			if (!ipt_table_builtins(t.doc->name)) {
				diag_error(dq, &loc_internal, "iptables-legacy: table %s is not one "
					   "of filter, nat, mangle, raw", t.doc->name);
				goto fail;
			}
			vec_push(&s->tables, t);
		}
		r = child_run(fam, true, enc_child, &ctx, &buf, &recs, why, sizeof(why));
		if (r != 0) {
			child_errors(&recs, dq);
			if (r < 0)
				diag_error(dq, &loc_internal, "iptables-legacy: cannot encode the %s rules: %s",
					   fam_word(fam), why);
			free(buf);
			vec_free(&recs);
			goto fail;
		}
		/* records come in line order: walk the tables alongside */
		{
			size_t ri = 0;
			uint32_t k = 0;

			for (size_t ti = 0; ti < s->tables.n; ti++) {
				struct iptc_table *t = &s->tables.v[ti];

				if (t->fam != fam)
					continue;
				for (size_t i = 0; i < t->doc->lines.n; i++, k++) {
					struct iptc_rule rr = { .line = &t->doc->lines.v[i] };

					if (!rr.line->chain)
						continue;
					if (ri + 1 >= recs.n || recs.v[ri].h.idx != k ||
					    recs.v[ri].h.kind != REC_ENTRY || recs.v[ri + 1].h.kind != REC_TEXT) {
						diag_error(dq, &loc_internal, "iptables-legacy: the %s encoder "
							   "lost track of the rules", fam_word(fam));
						free(buf);
						vec_free(&recs);
						goto fail;
					}
					rr.len = recs.v[ri].h.len;
					rr.entry = xmalloc(rr.len);
					memcpy(rr.entry, recs.v[ri].data, rr.len);
					rr.text = xstrndup(recs.v[ri + 1].data, recs.v[ri + 1].h.len);
					ri += 2;
					vec_push(&t->rules, rr);
				}
			}
		}
		free(buf);
		vec_free(&recs);
	}
	return s;
fail:
	iptc_set_free(s);
	return NULL;
}

void iptc_set_free(struct iptc_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->tables.n; i++) {
		for (size_t j = 0; j < s->tables.v[i].rules.n; j++) {
			free(s->tables.v[i].rules.v[j].entry);
			free(s->tables.v[i].rules.v[j].text);
		}
		vec_free(&s->tables.v[i].rules);
	}
	vec_free(&s->tables);
	for (int f = 0; f < 2; f++)
		if (s->has[f])
			ipt_doc_free(&s->doc[f]);
	free(s);
}

unsigned long iptc_set_rules(const struct iptc_set *s)
{
	unsigned long n = 0;

	for (size_t i = 0; i < s->tables.n; i++)
		n += s->tables.v[i].rules.n;
	return n;
}

/* ---- the normalised text ----------------------------------------------------------- */

/* One table of a rendering, compiled or read back. */
struct rtable {
	enum ir_family fam;
	const char *name;
	VEC(struct ipt_doc_chain) chains;	/* user chains (policy NULL) and built-ins */
	struct rrule {
		const char *chain;
		const char *text;
		const struct loc *loc;
		size_t seq;
	} *rules;
	size_t nrules;
};

static int chain_rank(const char *table, const char *name)
{
	const char *const *b = ipt_table_builtins(table);

	for (int i = 0; b && b[i]; i++)
		if (!strcmp(b[i], name))
			return i;
	return 100;
}

/* Built-ins in hook order, then user chains by name (table: the name). */
static int chain_name_cmp(const char *table, const char *x, const char *y)
{
	int rx = chain_rank(table, x), ry = chain_rank(table, y);

	return rx != ry ? rx - ry : strcmp(x, y);
}

static int chain_cmp(const void *a, const void *b, void *table)
{
	const struct ipt_doc_chain *x = a, *y = b;

	return chain_name_cmp(table, x->name, y->name);
}

/* By chain, then in the order the rules came (seq). */
static int rule_cmp(const void *a, const void *b, void *table)
{
	const struct rrule *x = a, *y = b;
	int c = x->chain == y->chain ? 0 : chain_name_cmp(table, x->chain, y->chain);

	return c ? c : x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void render_table(struct rtable *rt, bool locations, struct strbuf *sb)
{
	if (rt->chains.n)	/* qsort_r(NULL, 0, ...) is undefined */
		qsort_r(rt->chains.v, rt->chains.n, sizeof(*rt->chains.v), chain_cmp,
			(void *)rt->name);
	if (rt->nrules)
		qsort_r(rt->rules, rt->nrules, sizeof(*rt->rules), rule_cmp, (void *)rt->name);
	sb_addf(sb, "*%s %s\n", fam_word(rt->fam), rt->name);
	for (size_t i = 0; i < rt->chains.n; i++)
		sb_addf(sb, ":%s %s\n", rt->chains.v[i].name,
			rt->chains.v[i].policy ? rt->chains.v[i].policy : "-");
	for (size_t i = 0; i < rt->nrules; i++) {
		sb_addf(sb, "-A %s%s", rt->rules[i].chain, rt->rules[i].text);
		if (locations && rt->rules[i].loc && rt->rules[i].loc->file)
			sb_addf(sb, "  # %s:%u", rt->rules[i].loc->file->path, rt->rules[i].loc->line);
		sb_addc(sb, '\n');
	}
	sb_add(sb, "COMMIT\n");
}

/* The built-ins of t with the policies of the doc (ACCEPT if undeclared). */
static void compiled_chains(const struct ipt_doc_table *t, struct rtable *rt)
{
	const char *const *b = ipt_table_builtins(t->name);

	for (int i = 0; b && b[i]; i++) {
		struct ipt_doc_chain c = { (char *)b[i], "ACCEPT" };

		for (size_t j = 0; j < t->chains.n; j++)
			if (!strcmp(t->chains.v[j].name, b[i]) && t->chains.v[j].policy)
				c.policy = t->chains.v[j].policy;
		vec_push(&rt->chains, c);
	}
	for (size_t j = 0; j < t->chains.n; j++)
		if (!t->chains.v[j].policy)
			vec_push(&rt->chains, t->chains.v[j]);
}

char *iptc_set_render(const struct iptc_set *s, bool locations)
{
	struct strbuf sb = { 0 };

	for (size_t i = 0; i < s->tables.n; i++) {
		const struct iptc_table *t = &s->tables.v[i];
		struct rtable rt = { .fam = t->fam, .name = t->doc->name };
		const struct loc *last = NULL;
		size_t k = 0;

		compiled_chains(t->doc, &rt);
		rt.rules = xzalloc((t->rules.n + 1) * sizeof(*rt.rules));
		for (size_t j = 0; j < t->doc->lines.n; j++) {
			const struct ipt_doc_line *l = &t->doc->lines.v[j];

			if (l->loc)
				last = l->loc;
			if (!l->chain)
				continue;
			rt.rules[k] = (struct rrule){ l->chain, t->rules.v[k].text, last, k };
			k++;
		}
		rt.nrules = k;
		render_table(&rt, locations, &sb);
		free(rt.rules);
		vec_free(&rt.chains);
	}
	return sb_steal(&sb);
}

/* ---- ownership ---------------------------------------------------------------------- */

char *iptc_set_owned(const struct iptc_set *s)
{
	struct strbuf sb = { 0 };

	for (size_t i = 0; i < s->tables.n; i++) {
		const struct iptc_table *t = &s->tables.v[i];

		sb_addf(&sb, "%s %s\n", fam_word(t->fam), t->doc->name);
		for (size_t j = 0; j < t->doc->chains.n; j++)
			if (!t->doc->chains.v[j].policy)
				sb_addf(&sb, "%s %s %s\n", fam_word(t->fam), t->doc->name,
					t->doc->chains.v[j].name);
	}
	return sb_steal(&sb);
}

/* Does prev (owned text) name table (chain NULL) or its user chain? */
static bool owned_has(const char *prev, enum ir_family fam, const char *table, const char *chain)
{
	char *want = chain ? xasprintf("%s %s %s\n", fam_word(fam), table, chain) :
			     xasprintf("%s %s\n", fam_word(fam), table);
	size_t n = strlen(want);
	bool found = false;

	for (const char *p = prev; p && *p && !found;) {
		const char *nl = strchr(p, '\n');

		found = !strncmp(p, want, n);
		p = nl ? nl + 1 : NULL;
	}
	free(want);
	return found;
}

/* Every table s writes or prev names, for one family, in the order
 * filter nat mangle raw. */
static size_t tables_of(const struct iptc_set *s, const char *prev, enum ir_family fam,
			const char **out)
{
	static const char *const names[] = { "filter", "nat", "mangle", "raw" };
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		bool in = owned_has(prev, fam, names[i], NULL);

		for (size_t j = 0; s && j < s->tables.n && !in; j++)
			in = s->tables.v[j].fam == fam && !strcmp(s->tables.v[j].doc->name, names[i]);
		if (in)
			out[n++] = names[i];
	}
	return n;
}

static const struct iptc_table *set_table(const struct iptc_set *s, enum ir_family fam,
					  const char *name)
{
	for (size_t j = 0; s && j < s->tables.n; j++)
		if (s->tables.v[j].fam == fam && !strcmp(s->tables.v[j].doc->name, name))
			return &s->tables.v[j];
	return NULL;
}

/* Is user chain `chain` of this table masqc's (in s, or in prev)? */
static bool chain_owned(const struct iptc_set *s, const char *prev, enum ir_family fam,
			const char *table, const char *chain)
{
	const struct iptc_table *t = set_table(s, fam, table);

	if (t && doc_has_chain(t->doc, chain))
		return true;
	return owned_has(prev, fam, table, chain);
}

/* ---- committing ----------------------------------------------------------------------- */

/* What one table should hold in the chains masqc owns. */
struct want_chain {
	const char *name;
	const char *policy;		/* NULL: a user chain */
	VEC(const void *) entries;
};

struct want {
	enum ir_family fam;
	const char *table;
	VEC(struct want_chain) chains;
	VEC(void *) owned_copies;	/* entries copied from a snapshot */
};

static void want_free(struct want *w)
{
	for (size_t i = 0; i < w->chains.n; i++)
		vec_free(&w->chains.v[i].entries);
	vec_free(&w->chains);
	for (size_t i = 0; i < w->owned_copies.n; i++)
		free(w->owned_copies.v[i]);
	vec_free(&w->owned_copies);
}

static struct want_chain *want_chain(struct want *w, const char *name, const char *policy)
{
	struct want_chain c = { .name = name, .policy = policy };

	for (size_t i = 0; i < w->chains.n; i++)
		if (!strcmp(w->chains.v[i].name, name))
			return &w->chains.v[i];
	vec_push(&w->chains, c);
	return &w->chains.v[w->chains.n - 1];
}

/* The table as s wants it (s NULL or without the table: empty), with only
 * its first `limit` rules. */
static void want_from_set(const struct iptc_set *s, enum ir_family fam, const char *table,
			  size_t limit, struct want *w)
{
	const struct iptc_table *t = set_table(s, fam, table);
	const char *const *b = ipt_table_builtins(table);
	size_t k = 0;

	memset(w, 0, sizeof(*w));
	w->fam = fam;
	w->table = table;
	for (int i = 0; b && b[i]; i++)
		want_chain(w, b[i], "ACCEPT");
	if (!t)
		return;
	for (size_t j = 0; j < t->doc->chains.n; j++)
		want_chain(w, t->doc->chains.v[j].name, NULL)->policy = t->doc->chains.v[j].policy;
	for (size_t j = 0; j < t->doc->lines.n; j++) {
		const struct ipt_doc_line *l = &t->doc->lines.v[j];

		if (!l->chain)
			continue;
		if (k == limit)
			break;
		vec_push(&want_chain(w, l->chain, NULL)->entries, t->rules.v[k].entry);
		k++;
	}
}

/* The owned part of a table as it is in h now: the snapshot to put back
 * if a later table fails.  Jumps are rewritten to name their chain (the
 * kernel's copy holds an offset), so libiptc can append them again. */
static void want_from_handle(const struct fam_ops *ops, struct xtc_handle *h,
			     const struct iptc_set *s, const char *prev, enum ir_family fam,
			     const char *table, struct want *w)
{
	memset(w, 0, sizeof(*w));
	w->fam = fam;
	w->table = table;
	for (const char *c = ops->x->first_chain(h); c; c = ops->x->next_chain(h)) {
		struct want_chain *wc;
		bool builtin = ops->x->builtin(c, h);

		if (!builtin && !chain_owned(s, prev, fam, table, c))
			continue;
		wc = want_chain(w, xstrdup(c), NULL);
		vec_push(&w->owned_copies, (void *)wc->name);
		if (builtin) {
			struct xt_counters cnt;
			const char *pol = ops->x->get_policy(c, &cnt, h);

			wc->policy = pol && !strcmp(pol, "DROP") ? "DROP" : "ACCEPT";
		}
	}
	for (size_t i = 0; i < w->chains.n; i++) {
		struct want_chain *wc = &w->chains.v[i];

		for (const void *e = ops->first_rule(wc->name, h); e; e = ops->next_rule(e, h)) {
			size_t len = e_next_offset(fam, e);
			char *copy = xmalloc(len);
			struct xt_entry_target *t;
			const char *label = ops->get_target(e, h);

			memcpy(copy, e, len);
			t = e_target(fam, copy);
			if (!t->u.user.name[0] && label)
				snprintf(t->u.user.name, sizeof(t->u.user.name), "%s", label);
			vec_push(&w->owned_copies, copy);
			vec_push(&wc->entries, copy);
		}
	}
}

static bool want_has(const struct want *w, const char *chain)
{
	for (size_t i = 0; i < w->chains.n; i++)
		if (!strcmp(w->chains.v[i].name, chain))
			return true;
	return false;
}

/* Makes the owned part of h what w says (not committed).  -1 with a
 * message in err. */
static int table_apply(const struct fam_ops *ops, struct xtc_handle *h, const struct want *w,
		       const struct iptc_set *s, const char *prev, char *err, size_t errlen)
{
	VEC(char *) existing = { 0 };
	int rc = -1;

	for (const char *c = ops->x->first_chain(h); c; c = ops->x->next_chain(h))
		vec_push(&existing, xstrdup(c));
	/* flush everything masqc owns first: no rule of ours references
	 * anything while chains are deleted */
	for (size_t i = 0; i < existing.n; i++) {
		const char *c = existing.v[i];

		if (!ops->x->builtin(c, h) && !want_has(w, c) &&
		    !chain_owned(s, prev, w->fam, w->table, c))
			continue;	/* a foreign chain */
		if (!ops->x->flush_entries(c, h)) {
			snprintf(err, errlen, "flushing %s: %s", c, ops->x->strerror(errno));
			goto out;
		}
	}
	for (size_t i = 0; i < existing.n; i++) {
		const char *c = existing.v[i];

		if (ops->x->builtin(c, h) || want_has(w, c) ||
		    !chain_owned(s, prev, w->fam, w->table, c))
			continue;
		if (!ops->delete_chain(c, h)) {
			snprintf(err, errlen, "deleting chain %s, which masqc created: %s%s", c,
				 ops->x->strerror(errno), errno == EMLINK || errno == EBUSY ?
				 " (another chain still jumps to it)" : "");
			goto out;
		}
	}
	for (size_t i = 0; i < w->chains.n; i++) {
		const struct want_chain *wc = &w->chains.v[i];

		if (!ops->x->is_chain(wc->name, h) && !ops->x->create_chain(wc->name, h)) {
			snprintf(err, errlen, "creating chain %s: %s", wc->name, ops->x->strerror(errno));
			goto out;
		}
	}
	for (size_t i = 0; i < w->chains.n; i++) {
		const struct want_chain *wc = &w->chains.v[i];

		if (wc->policy && !ops->x->set_policy(wc->name, wc->policy, NULL, h)) {
			snprintf(err, errlen, "policy of %s: %s", wc->name, ops->x->strerror(errno));
			goto out;
		}
		for (size_t j = 0; j < wc->entries.n; j++)
			if (!ops->append(wc->name, wc->entries.v[j], h)) {
				snprintf(err, errlen, "rule %zu of %s: %s", j + 1, wc->name,
					 ops->x->strerror(errno));
				goto out;
			}
	}
	rc = 0;
out:
	for (size_t i = 0; i < existing.n; i++)
		free(existing.v[i]);
	vec_free(&existing);
	return rc;
}

/* MASQC_TEST_IPTC_FAIL_TABLE=ip6 raw (tests only): that table gets one
 * more rule whose target the kernel does not know, so its commit fails
 * in the kernel after the tables before it were committed. */
static bool test_fail_table(enum ir_family fam, const char *table)
{
	const char *e = getenv("MASQC_TEST_IPTC_FAIL_TABLE");
	char *want = xasprintf("%s %s", fam_word(fam), table);
	bool r = e && !strcmp(e, want);

	free(want);
	return r;
}

static int append_bogus(const struct fam_ops *ops, enum ir_family fam, struct xtc_handle *h,
			const char *chain)
{
	size_t hdr = ops->entry_size, tsz = XT_ALIGN(sizeof(struct xt_entry_target)) + 8;
	char *e = xzalloc(hdr + tsz);
	struct xt_entry_target *t = (void *)(e + hdr);
	int r;

	if (fam == IR_FAM_IPV6) {
		((struct ip6t_entry *)e)->target_offset = (uint16_t)hdr;
		((struct ip6t_entry *)e)->next_offset = (uint16_t)(hdr + tsz);
	} else {
		((struct ipt_entry *)e)->target_offset = (uint16_t)hdr;
		((struct ipt_entry *)e)->next_offset = (uint16_t)(hdr + tsz);
	}
	t->u.target_size = (uint16_t)tsz;
	strcpy(t->u.user.name, "MASQC_NOSUCH");
	r = ops->append(chain, e, h);
	free(e);
	return r;
}

/* iptables-legacy's own lock, so an `iptables` command run meanwhile
 * waits instead of committing a table read before ours (that would make
 * one of the two commits fail with EAGAIN).  Waits as long as masqc's own
 * lock does (MASQC_LOCK_WAIT, default 30 s); -1 when it stays taken.  No
 * lock file at all (no /run) is no reason to stop: -2. */
static int xt_lock(void)
{
	const char *w = getenv("MASQC_LOCK_WAIT");
	long tenths = (w && *w ? atol(w) : 30) * 10;
	int fd = open("/run/xtables.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0)
		return -2;
	for (long i = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; i++) {
		if (errno != EWOULDBLOCK || i >= tenths) {
			close(fd);
			return -1;
		}
		usleep(100000);
	}
	return fd;
}

static void load_ko_child(void *p)
{
	(void)p;
	xtables_load_ko(xtables_modprobe_program, true);
}

static struct xtc_handle *table_open(enum ir_family fam, const char *table)
{
	const struct fam_ops *ops = fops(fam);
	struct xtc_handle *h = ops->x->init(table);

	if (!h && errno != EPERM && errno != EACCES) {
		/* ip_tables / ip6_tables is not loaded yet: iptables asks
		 * modprobe, and so do we (libxtables knows the module, in a
		 * child: this process keeps no libxtables state) */
		int e = errno;
		recvec recs = { 0 };
		char *buf = NULL, why[256];

		child_run(fam, true, load_ko_child, NULL, &buf, &recs, why, sizeof(why));
		free(buf);
		vec_free(&recs);
		h = ops->x->init(table);
		if (!h)
			errno = errno ? errno : e;
	}
	return h;
}

/* ---- which rule the kernel refuses ------------------------------------------------
 *
 * The kernel takes or refuses a table as a whole (EINVAL, ENOENT, ...) and
 * libiptc cannot say which entry it was.  To name the script line anyway,
 * a child makes a network namespace of its own and commits the table
 * there with its first k rules, bisecting k: the shortest prefix the
 * kernel refuses ends with the culprit.  log2(rules) commits, only after
 * a failure, never in the real namespace. */

struct locate_ctx {
	const struct iptc_set *s;
	enum ir_family fam;
	const char *table;
};

/* 0, or -errno: the table with its first n rules committed here. */
static int try_prefix(const struct locate_ctx *c, size_t n)
{
	const struct fam_ops *ops = fops(c->fam);
	struct xtc_handle *h = table_open(c->fam, c->table);
	struct want w;
	char err[512];
	int r = 0;

	if (!h)
		return -(errno ? errno : EIO);
	want_from_set(c->s, c->fam, c->table, n, &w);
	if (table_apply(ops, h, &w, c->s, NULL, err, sizeof(err)) < 0 || !ops->x->commit(h))
		r = -(errno ? errno : EIO);
	want_free(&w);
	ops->x->free(h);
	return r;
}

static void locate_child(void *p)
{
	const struct locate_ctx *c = p;
	const struct iptc_table *t = set_table(c->s, c->fam, c->table);
	size_t lo = 0, hi, j;
	int e;
	char *msg;

	if (!t || unshare(CLONE_NEWNET) < 0)
		_exit(0);
	hi = t->rules.n;
	e = try_prefix(c, hi);
	/* not refused here (it depended on the real namespace), or not
	 * because of a rule: nothing to name */
	if (e == 0 || try_prefix(c, 0) < 0)
		_exit(0);
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		int r = try_prefix(c, mid);

		if (r < 0) {
			hi = mid;
			e = r;
		} else {
			lo = mid;
		}
	}
	j = (size_t)(t->rules.v[hi - 1].line - t->doc->lines.v);
	msg = xasprintf("iptables-legacy: the kernel refuses this rule (table %s %s, -A %s%s): %s",
			fam_word(c->fam), c->table, t->rules.v[hi - 1].line->chain,
			t->rules.v[hi - 1].line->text, fops(c->fam)->x->strerror(-e));
	rec_write(REC_ERROR, 0, msg, strlen(msg), line_loc(t->doc, j));
	_exit(3);
}

static void locate_refusal(const struct iptc_set *s, enum ir_family fam, const char *table,
			   struct diag_queue *dq)
{
	struct locate_ctx c = { s, fam, table };
	recvec recs = { 0 };
	char *buf, why[256];

	if (child_run(fam, false, locate_child, &c, &buf, &recs, why, sizeof(why)) > 0)
		for (size_t i = 0; i < recs.n; i++)
			if (recs.v[i].h.kind == REC_ERROR) {
				const struct loc *loc = (const void *)(uintptr_t)recs.v[i].h.ptr;

				diag_error(dq, loc ? loc : &loc_internal, "%.*s",
					   (int)recs.v[i].h.len, recs.v[i].data);
			}
	free(buf);
	vec_free(&recs);
}

struct done_table {
	enum ir_family fam;
	const char *table;
	struct want snap;
};

static int commit_real(const struct iptc_set *s, const char *prev, bool lock_xt,
		       struct diag_queue *dq)
{
	VEC(struct done_table) done = { 0 };
	int lock = lock_xt ? xt_lock() : -2, rc = 0;

	if (lock == -1)
		return diag_error(dq, &loc_internal, "iptables-legacy: /run/xtables.lock is held "
				  "by another program (an iptables command?); nothing was changed");

	for (int f = 0; f < 2 && rc == 0; f++) {
		enum ir_family fam = f ? IR_FAM_IPV6 : IR_FAM_IPV4;
		const struct fam_ops *ops = fops(fam);
		const char *tables[4];
		size_t nt = tables_of(s, prev, fam, tables);

		for (size_t i = 0; i < nt && rc == 0; i++) {
			struct xtc_handle *h = table_open(fam, tables[i]);
			struct done_table d = { .fam = fam, .table = tables[i] };
			struct want w;
			char err[512];

			if (!h) {
				rc = diag_error(dq, &loc_internal, "iptables-legacy: cannot open "
						"table %s %s: %s", fam_word(fam), tables[i],
						ops->x->strerror(errno));
				break;
			}
			want_from_handle(ops, h, s, prev, fam, tables[i], &d.snap);
			want_from_set(s, fam, tables[i], SIZE_MAX, &w);
			if (table_apply(ops, h, &w, s, prev, err, sizeof(err)) < 0) {
				rc = diag_error(dq, &loc_internal, "iptables-legacy: table %s %s: %s",
						fam_word(fam), tables[i], err);
			} else if (test_fail_table(fam, tables[i]) &&
				   !append_bogus(ops, fam, h, ipt_table_builtins(tables[i])[0])) {
				rc = diag_error(dq, &loc_internal, "iptables-legacy: test hook: %s",
						ops->x->strerror(errno));
			} else if (!ops->x->commit(h)) {
				int e = errno;

				rc = diag_error(dq, &loc_internal, "iptables-legacy: the kernel refused "
						"table %s %s: %s", fam_word(fam), tables[i],
						ops->x->strerror(e));
				if (e != EAGAIN && e != EPERM)
					locate_refusal(s, fam, tables[i], dq);
			}
			want_free(&w);
			ops->x->free(h);
			if (rc == 0)
				vec_push(&done, d);
			else
				want_free(&d.snap);
		}
	}
	/* a table failed: put back the ones committed before it, newest first */
	for (size_t i = done.n; rc < 0 && i-- > 0;) {
		struct done_table *d = &done.v[i];
		const struct fam_ops *ops = fops(d->fam);
		struct xtc_handle *h = table_open(d->fam, d->table);
		char err[512] = "";

		if (!h || table_apply(ops, h, &d->snap, s, prev, err, sizeof(err)) < 0 ||
		    !ops->x->commit(h)) {
			diag_error(dq, &loc_internal, "iptables-legacy: the ruleset is partly applied: "
				   "table %s %s could not be put back (%s); it holds the new rules",
				   fam_word(d->fam), d->table, err[0] ? err : ops->x->strerror(errno));
		}
		if (h)
			ops->x->free(h);
	}
	for (size_t i = 0; i < done.n; i++)
		want_free(&done.v[i].snap);
	vec_free(&done);
	if (lock >= 0)
		close(lock);
	return rc;
}

struct dry_ctx {
	const struct iptc_set *s;
};

static void dry_child(void *p)
{
	const struct dry_ctx *c = p;
	struct diag_queue dq = { 0 };

	if (unshare(CLONE_NEWNET) < 0) {
		char msg[128];
		int n = snprintf(msg, sizeof(msg), "cannot make a network namespace to check in: %s",
				 strerror(errno));

		rec_write(REC_ERROR, 0, msg, (size_t)n, NULL);
		_exit(3);
	}
	/* a namespace of our own: nobody else's iptables to wait for */
	if (commit_real(c->s, NULL, false, &dq) < 0) {
		for (size_t i = 0; i < dq.n; i++) {
			struct strbuf sb = { 0 };

			sb_addn(&sb, (const char *)&dq.v[i].loc, sizeof(dq.v[i].loc));
			sb_add(&sb, dq.v[i].msg);
			rec_write(REC_DIAG, 0, sb.buf, sb.len, NULL);
			sb_free(&sb);
		}
		_exit(3);
	}
	_exit(0);
}

int iptc_set_commit(const struct iptc_set *s, const char *prev_owned, bool dry_run,
		    struct diag_queue *dq)
{
	struct dry_ctx ctx = { s };
	recvec recs = { 0 };
	char *buf, why[256];
	int r;

	if (!dry_run)
		return commit_real(s, prev_owned, true, dq);
	r = child_run(IR_FAM_IPV4, false, dry_child, &ctx, &buf, &recs, why, sizeof(why));
	for (size_t i = 0; i < recs.n; i++) {
		struct loc loc = loc_internal;
		const char *msg = recs.v[i].data;
		size_t len = recs.v[i].h.len;

		if (recs.v[i].h.kind == REC_DIAG && len >= sizeof(loc)) {
			memcpy(&loc, msg, sizeof(loc));
			msg += sizeof(loc);
			len -= sizeof(loc);
		}
		diag_error(dq, &loc, "%.*s", (int)len, msg);
	}
	if (r < 0)
		diag_error(dq, &loc_internal, "iptables-legacy: check: %s", why);
	free(buf);
	vec_free(&recs);
	return r == 0 ? 0 : -1;
}

/* ---- reading back ------------------------------------------------------------------------ */

struct run_ctx {
	const struct iptc_set *s;
	const char *prev;
	enum ir_family fam;
};

/* Records: REC_CHAIN "fam table chain policy" and REC_RULE "chain\ttext",
 * idx = the table's number in this child's order. */
static void run_child(void *p)
{
	const struct run_ctx *c = p;
	enum ir_family fam = c->fam;
	const struct fam_ops *ops = fops(fam);
	const char *tables[4];
	size_t nt = tables_of(c->s, c->prev, fam, tables);

	for (size_t i = 0; i < nt; i++) {
		struct xtc_handle *h = ops->x->init(tables[i]);
		char *line;

		if (!h && errno == ENOENT)
			continue;	/* no such table in this kernel: nothing of ours */
		if (!h) {
			char *msg = xasprintf("cannot read table %s %s: %s", fam_word(fam), tables[i],
					      ops->x->strerror(errno));

			rec_write(REC_ERROR, (uint32_t)errno, msg, strlen(msg), NULL);
			_exit(3);
		}
		for (const char *ch = ops->x->first_chain(h); ch; ch = ops->x->next_chain(h)) {
			bool builtin = ops->x->builtin(ch, h);
			struct xt_counters cnt;
			const char *pol = builtin ? ops->x->get_policy(ch, &cnt, h) : "-";

			if (!builtin && !chain_owned(c->s, c->prev, fam, tables[i], ch))
				continue;
			line = xasprintf("%s\t%s\t%s", tables[i], ch, pol ? pol : "-");
			rec_write(REC_CHAIN, (uint32_t)fam, line, strlen(line), NULL);
			free(line);
			for (const void *e = ops->first_rule(ch, h); e; e = ops->next_rule(e, h)) {
				const struct xt_entry_target *t = e_target(fam, (void *)e);
				const char *label = t->u.user.name[0] ? NULL : ops->get_target(e, h);
				char *text = save_entry_text(fam, e, label ? label : NULL);

				line = xasprintf("%s\t%s\t%s", tables[i], ch, text);
				rec_write(REC_RULE, (uint32_t)fam, line, strlen(line), NULL);
				free(line);
				free(text);
			}
		}
		ops->x->free(h);
	}
}

int iptc_render_running(const struct iptc_set *s, const char *prev_owned, char **out)
{
	struct run_ctx ctx = { s, prev_owned, IR_FAM_IPV4 };
	struct strbuf sb = { 0 };
	char why[256];

	*out = NULL;
	for (int f = 0; f < 2; f++) {
		enum ir_family fam = f ? IR_FAM_IPV6 : IR_FAM_IPV4;
		const char *tables[4];
		size_t nt = tables_of(s, prev_owned, fam, tables);
		recvec recs = { 0 };
		char *buf;
		int r;

		if (nt == 0)
			continue;
		ctx.fam = fam;
		r = child_run(fam, true, run_child, &ctx, &buf, &recs, why, sizeof(why));
		if (r != 0) {
			int err = EIO;

			for (size_t i = 0; i < recs.n; i++)
				if (recs.v[i].h.kind == REC_ERROR) {
					fprintf(stderr, "masqc: iptables-legacy: %.*s\n",
						(int)recs.v[i].h.len, recs.v[i].data);
					err = recs.v[i].h.idx ? (int)recs.v[i].h.idx : EIO;
				}
			if (r < 0)
				fprintf(stderr, "masqc: iptables-legacy: %s\n", why);
			free(buf);
			vec_free(&recs);
			sb_free(&sb);
			return -err;
		}
		for (size_t i = 0; i < nt; i++) {
			struct rtable rt = { .fam = fam, .name = tables[i] };
			size_t tl = strlen(tables[i]), n = 0;
			VEC(char *) strs = { 0 };

			rt.rules = xzalloc((recs.n + 1) * sizeof(*rt.rules));
			for (size_t k = 0; k < recs.n; k++) {
				const struct rec *rc = &recs.v[k];
				char *line, *tab1, *tab2;

				if (rc->h.len <= tl || memcmp(rc->data, tables[i], tl) || rc->data[tl] != '\t')
					continue;
				line = xstrndup(rc->data + tl + 1, rc->h.len - tl - 1);
				vec_push(&strs, line);
				tab1 = strchr(line, '\t');
				if (!tab1)
					continue;
				*tab1 = '\0';
				tab2 = tab1 + 1;
				if (rc->h.kind == REC_CHAIN) {
					struct ipt_doc_chain ch = { line, strcmp(tab2, "-") ? tab2 : NULL };

					vec_push(&rt.chains, ch);
				} else if (rc->h.kind == REC_RULE) {
					rt.rules[n] = (struct rrule){ line, tab2, NULL, n };
					n++;
				}
			}
			rt.nrules = n;
			if (rt.chains.n)
				render_table(&rt, false, &sb);
			for (size_t k = 0; k < strs.n; k++)
				free(strs.v[k]);
			vec_free(&strs);
			vec_free(&rt.chains);
			free(rt.rules);
		}
		free(buf);
		vec_free(&recs);
	}
	*out = sb_steal(&sb);
	return 0;
}
