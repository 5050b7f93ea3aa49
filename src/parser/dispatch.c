/* dispatch.c -- routes each command of the stream to what it means for
 * the ruleset.
 *
 * A firewall script does more than call iptables: it loads modules, turns
 * on forwarding through /proc, prints messages, and pokes at the running
 * system.  Each of those is classified here:
 *
 *   iptables / ip6tables (-legacy, -nft)     -> ipt_command
 *   iptables-restore (< file, heredoc, file) -> iptsave_parse
 *   ipchains, ipfwadm (-wrapper), ipmasqadm,
 *   ipportfw, ipautofw                       -> the legacy parsers (legacy-parse.h)
 *   ipchains-restore                         -> ipchains_save_parse
 *   modprobe/insmod of ip_masq_ftp/_irc/...  -> ir_helper with nat (the 2.0/2.2 masq
 *                                               helpers did conntrack and NAT in one)
 *   modprobe/insmod of a conntrack helper    -> ir_helper (ports=, nat)
 *   modprobe of a table/match/target module  -> note: the kernel loads it itself
 *   echo/printf VALUE > /proc/sys/...,
 *   sysctl -w key=value                      -> ir_sysctl
 *   commands that only inspect or print      -> ignored (one note per name)
 *   anything else                            -> warning (error with --strict)
 *
 * Nothing is executed; a command whose output feeds a pipeline was only
 * used to compute a value, which the shell evaluator already handled.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "dialect.h"
#include "legacy-parse.h"
#include "../util.h"

struct range_vec {
	struct ir_range *v;
	size_t n, cap;
};

struct dispatch {
	struct parse_ctx *pc;
	int ret;
	VEC(char *) noted;		/* names already noted once */
	VEC(struct ir_helper *) explicit_ports;	/* helpers whose ports the script gave */
};

static bool noted_once(struct dispatch *d, const char *prefix, const char *name)
{
	char *key = xasprintf("%s:%s", prefix, name);

	for (size_t i = 0; i < d->noted.n; i++)
		if (!strcmp(d->noted.v[i], key)) {
			free(key);
			return true;
		}
	vec_push(&d->noted, key);
	return false;
}

static const char *base_name(const char *s)
{
	const char *sl = strrchr(s, '/');

	return sl ? sl + 1 : s;
}

static int unknown_word(struct parse_ctx *pc, const struct word *w)
{
	const char *name = w->var ? w->var : w->sym ? w->sym : "VALUE";
	char *hint = xasprintf("give -D %s=VALUE", name);

	diag_add(pc->dq, DIAG_ERROR, &w->loc, hint, "the value of $%s is only known when the script runs", name);
	free(hint);
	return -1;
}

/* ---- modules ------------------------------------------------------------ */

struct helper_def {
	const char *name;
	uint8_t l4proto;
	uint16_t port;
};

static const struct helper_def helper_defs[] = {
	{ "ftp", 6, 21 }, { "irc", 6, 6667 }, { "tftp", 17, 69 }, { "sip", 17, 5060 },
	{ "amanda", 17, 10080 }, { "pptp", 6, 1723 }, { "h323", 6, 1720 }, { "snmp", 17, 161 },
};

/* Table, match and target modules: iptables and the kernel load them on
 * demand, so an explicit modprobe changes nothing. */
static bool is_netfilter_module(const char *m)
{
	static const char *const exact[] = {
		"ip_tables", "ip6_tables", "x_tables", "ip_conntrack", "nf_conntrack",
		"nf_conntrack_ipv4", "nf_conntrack_ipv6", "nf_nat", "nf_nat_ipv4", "nf_nat_ipv6",
		"iptable_nat", "iptable_filter", "iptable_mangle", "iptable_raw", "ip_nat",
		"ipt_state", "nf_defrag_ipv4", "nf_defrag_ipv6", "nf_tables", "nf_log_ipv4",
		"nf_log_ipv6", "ipt_conntrack", "nfnetlink", "nfnetlink_log", "ipv6",
	};
	static const char *const prefix[] = {
		"ipt_", "ip6t_", "xt_", "iptable_", "ip6table_", "nft_", "nf_log_", "ebt_", "arpt_",
	};

	for (size_t i = 0; i < ARRAY_SIZE(exact); i++)
		if (!strcmp(exact[i], m))
			return true;
	for (size_t i = 0; i < ARRAY_SIZE(prefix); i++)
		if (!strncmp(prefix[i], m, strlen(prefix[i])))
			return true;
	return false;
}

/* ip_conntrack_ftp -> ftp, nat=false; nf_nat_ftp -> ftp, nat=true */
static const struct helper_def *helper_of(const char *m, bool *nat)
{
	static const char *const ct[] = { "ip_conntrack_", "nf_conntrack_" };
	static const char *const nt[] = { "ip_nat_", "nf_nat_" };
	const char *rest = NULL;

	*nat = false;
	for (size_t i = 0; i < 2 && !rest; i++)
		if (!strncmp(m, ct[i], strlen(ct[i])))
			rest = m + strlen(ct[i]);
	for (size_t i = 0; i < 2 && !rest; i++)
		if (!strncmp(m, nt[i], strlen(nt[i]))) {
			rest = m + strlen(nt[i]);
			*nat = true;
		}
	if (!rest)
		return NULL;
	if (!strcmp(rest, "snmp_basic"))
		rest = "snmp";
	for (size_t i = 0; i < ARRAY_SIZE(helper_defs); i++)
		if (!strcmp(helper_defs[i].name, rest))
			return &helper_defs[i];
	return NULL;
}

static bool helper_explicit(struct dispatch *d, const struct ir_helper *h)
{
	for (size_t i = 0; i < d->explicit_ports.n; i++)
		if (d->explicit_ports.v[i] == h)
			return true;
	return false;
}

/* ports=21,2121 (one or several ports= words) */
static int parse_ports(struct dispatch *d, const struct word *w, struct range_vec *ports)
{
	const char *s = w->text + strlen("ports=");

	for (;;) {
		char *end;
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || v == 0 || v > 65535 || (*end && *end != ','))
			return diag_error(d->pc->dq, &w->loc, "bad helper port list '%s' (ports=N[,N...])", w->text);
		vec_push(ports, ((struct ir_range){ (uint32_t)v, (uint32_t)v }));
		if (!*end)
			return 0;
		s = end + 1;
	}
}

/* The 2.0/2.2 masquerading helpers that have a conntrack helper today. */
static const struct helper_def *masq_helper_of(const char *m)
{
	static const char *const map[][2] = {
		{ "ip_masq_ftp", "ftp" }, { "ip_masq_irc", "irc" }, { "ip_masq_pptp", "pptp" },
		{ "ip_masq_h323", "h323" }, { "ip_masq_tftp", "tftp" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (!strcmp(map[i][0], m))
			for (size_t j = 0; j < ARRAY_SIZE(helper_defs); j++)
				if (!strcmp(helper_defs[j].name, map[i][1]))
					return &helper_defs[j];
	return NULL;
}

/* The other ip_masq_* modules: what they did and what replaces them. */
static void masq_module_obsolete(struct dispatch *d, const struct word *mw, const char *m)
{
	static const char *const builtin[] = { "ip_masq_portfw", "ip_masq_mfw", "ip_masq_autofw" };
	static const char *const gone[][2] = {
		{ "ip_masq_raudio", "RealAudio: nf_conntrack has no RealAudio helper; RealAudio/RealPlayer "
		  "later used RTSP over TCP 554, which works through NAT with modern clients (forward the "
		  "UDP data ports explicitly only for an old client)" },
		{ "ip_masq_quake", "Quake is plain UDP and works through masquerading without a helper" },
		{ "ip_masq_cuseeme", "CU-SeeMe is obsolete UDP video (ports 7648-7652); there is no helper, "
		  "forward the ports explicitly if it is still used" },
		{ "ip_masq_vdolive", "VDOLive is obsolete UDP video; there is no helper, forward the ports "
		  "explicitly if it is still used" },
		{ "ip_masq_ipsec", "IPsec ESP crosses NAT with NAT traversal today (UDP 4500 encapsulation, "
		  "RFC 3948), negotiated by the IKE daemons; no kernel helper is needed" },
		{ "ip_masq_icq", "ICQ: no helper exists; modern instant-messaging clients work through NAT" },
		{ "ip_masq_user", "the user-space control interface of 2.2 masquerading; it has no rule "
		  "meaning" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(builtin); i++)
		if (!strcmp(builtin[i], m)) {
			diag_note(d->pc->dq, &mw->loc, "%s (the kernel side of ipmasqadm %s) is built into the "
				  "masquerade lowering; nothing to load", m, m + 8);
			return;
		}
	for (size_t i = 0; i < ARRAY_SIZE(gone); i++)
		if (!strcmp(gone[i][0], m)) {
			if (!strcmp(m, "ip_masq_user"))
				diag_note(d->pc->dq, &mw->loc, "%s: %s; ignored", m, gone[i][1]);
			else
				diag_warning(d->pc->dq, &mw->loc, "%s: no modern kernel has this masquerading "
					     "helper; %s", m, gone[i][1]);
			return;
		}
	diag_warning(d->pc->dq, &mw->loc, "%s is a Linux 2.0/2.2 masquerading module without a known "
		     "modern equivalent; ignored (check what the protocol needs through NAT today)", m);
}

static int module_load(struct dispatch *d, const struct command *cmd, const struct word *mw,
		       const struct word *params, unsigned nparams)
{
	struct parse_ctx *pc = d->pc;
	char *m = xstrdup(base_name(mw->text));
	const struct helper_def *hd;
	bool nat;
	int ret = 0;

	/* insmod takes a file name; modprobe treats - and _ alike */
	static const char *const sufs[] = { ".ko.xz", ".ko.gz", ".ko.zst", ".ko", ".o" };

	for (size_t i = 0; i < ARRAY_SIZE(sufs); i++) {
		size_t n = strlen(m), k = strlen(sufs[i]);

		if (n > k && !strcmp(m + n - k, sufs[i])) {
			m[n - k] = '\0';
			break;
		}
	}
	for (char *c = m; *c; c++)
		if (*c == '-')
			*c = '_';

	hd = helper_of(m, &nat);
	if (!hd && (hd = masq_helper_of(m)) != NULL) {
		nat = true;
		if (!noted_once(d, "masqhelper", m))
			diag_note(pc->dq, &mw->loc, "%s was the Linux 2.0/2.2 masquerading helper for %s: "
				  "translated as the conntrack helper with NAT (the old module did both)",
				  m, hd->name);
	}
	if (hd) {
		struct range_vec ports = { 0 };
		struct ir_helper *h;

		for (unsigned i = 0; i < nparams; i++) {
			if (params[i].kind == WORD_UNKNOWN) {
				ret = unknown_word(pc, &params[i]);
				continue;
			}
			if (!strncmp(params[i].text, "ports=", 6))
				ret |= parse_ports(d, &params[i], &ports);
			else
				diag_note(pc->dq, &params[i].loc, "module parameter '%s' has no ruleset "
					  "equivalent; ignored", params[i].text);
		}
		for (h = pc->rs->helpers; h; h = h->next)
			if (!strcmp(h->name, hd->name))
				break;
		if (!h) {
			h = xzalloc(sizeof(*h));
			h->name = xstrdup(hd->name);
			h->l4proto = hd->l4proto;
			h->loc = cmd->loc;
			ir_add_helper(pc->rs, h);
		}
		if (nat)
			h->nat = true;
		if (ports.n) {
			if (helper_explicit(d, h)) {
				for (size_t i = 0; i < ports.n; i++) {
					bool dup = false;

					for (unsigned j = 0; j < h->nports; j++)
						dup |= h->ports[j].lo == ports.v[i].lo;
					if (!dup) {
						h->ports = xrealloc(h->ports, (h->nports + 1) * sizeof(*h->ports));
						h->ports[h->nports++] = ports.v[i];
					}
				}
				free(ports.v);
			} else {
				free(h->ports);
				h->ports = ports.v;
				h->nports = (unsigned)ports.n;
				vec_push(&d->explicit_ports, h);
			}
		} else {
			free(ports.v);
			if (!h->nports) {
				h->ports = xmalloc(sizeof(*h->ports));
				h->ports[0].lo = h->ports[0].hi = hd->port;
				h->nports = 1;
			}
		}
	} else if (!strncmp(m, "ip_masq_", 8)) {
		masq_module_obsolete(d, mw, m);
	} else if (is_netfilter_module(m)) {
		if (!noted_once(d, "mod", m))
			diag_note(pc->dq, &mw->loc, "module loading is not needed; the kernel loads %s on demand", m);
	} else {
		diag_warning(pc->dq, &mw->loc, "unknown kernel module '%s'; loading modules is not part of "
			     "the ruleset, ignored", m);
	}
	free(m);
	return ret;
}

static int cmd_modprobe(struct dispatch *d, const struct command *cmd, bool insmod)
{
	bool all = false, remove = false;
	unsigned i = 1;
	int ret = 0;

	for (; i < cmd->argc; i++) {
		const struct word *w = &cmd->argv[i];

		if (w->kind == WORD_UNKNOWN)
			return unknown_word(d->pc, w);
		if (w->text[0] != '-')
			break;
		if (!strcmp(w->text, "-a") || !strcmp(w->text, "--all"))
			all = true;
		else if (!strcmp(w->text, "-r") || !strcmp(w->text, "--remove"))
			remove = true;
		else if (!strcmp(w->text, "-o") || !strcmp(w->text, "-C") || !strcmp(w->text, "-d") ||
			 !strcmp(w->text, "-S"))
			i++;	/* options with an argument */
	}
	if (i >= cmd->argc) {
		diag_note(d->pc->dq, &cmd->loc, "%s without a module name; ignored", insmod ? "insmod" : "modprobe");
		return 0;
	}
	if (remove) {
		diag_note(d->pc->dq, &cmd->loc, "removing modules is not part of the ruleset; ignored");
		return 0;
	}
	if (all) {
		for (; i < cmd->argc; i++)
			ret |= module_load(d, cmd, &cmd->argv[i], NULL, 0);
		return ret;
	}
	return module_load(d, cmd, &cmd->argv[i], &cmd->argv[i + 1], cmd->argc - i - 1);
}

/* ---- sysctls ---------------------------------------------------------------- */

static bool sysctl_obsolete(const char *key)
{
	static const char *const gone[] = {
		"net.ipv4.ip_always_defrag", "net.ipv4.ip_masq_debug", "net.ipv4.ip_masq_udp_dloose",
		"net.ipv4.ip_fw_masq_timeouts", "net.ipv4.ip_autoconfig",
	};

	for (size_t i = 0; i < ARRAY_SIZE(gone); i++)
		if (!strcmp(gone[i], key))
			return true;
	return !strncmp(key, "net.ipv4.ip_masq_", 17) || !strncmp(key, "net.ipv4.ip_fw_", 15);
}

/* /proc/sys/net/ipv4/ip_forward -> net.ipv4.ip_forward; a component with a
 * dot in it (eth0.100) keeps the slash form, which sysctl.d also accepts. */
static char *sysctl_key(const char *path)
{
	const char *rel = path + strlen("/proc/sys/");
	char *k = xstrdup(rel);
	size_t n = strlen(k);

	while (n && k[n - 1] == '/')
		k[--n] = '\0';
	if (strchr(k, '.'))
		return k;
	for (char *c = k; *c; c++)
		if (*c == '/')
			*c = '.';
	return k;
}

static int sysctl_set(struct dispatch *d, const struct command *cmd, const char *key, const char *value,
		      const struct loc *loc)
{
	if (sysctl_obsolete(key)) {
		diag_note(d->pc->dq, loc, "obsolete Linux 2.0/2.2 setting %s dropped "
			  "(the kernel no longer has it)", key);
		return 0;
	}
	ir_add_sysctl(d->pc->rs, key, value, &cmd->loc);
	return 0;
}

/* echo [-n] [-e] VALUE... > /proc/sys/...; printf FORMAT [ARG] > ... */
static int cmd_echo(struct dispatch *d, const struct command *cmd, bool printf_)
{
	const struct word *t = &cmd->redir_target;
	struct strbuf sb = { 0 };
	unsigned i = 1;
	char *key;

	if (cmd->redir != REDIR_OUT && cmd->redir != REDIR_APPEND)
		return 0;	/* a message to the terminal */
	if (t->kind == WORD_UNKNOWN)
		return unknown_word(d->pc, t);
	if (strncmp(t->text, "/proc/sys/", 10) != 0) {
		if (!noted_once(d, "file", t->text))
			diag_note(d->pc->dq, &t->loc, "writing to %s is not part of the ruleset; ignored", t->text);
		return 0;
	}
	for (; i < cmd->argc; i++) {
		const struct word *w = &cmd->argv[i];

		if (w->kind == WORD_UNKNOWN) {
			sb_free(&sb);
			return unknown_word(d->pc, w);
		}
		if (!printf_ && sb.len == 0 && w->text[0] == '-' && strspn(w->text + 1, "neE") == strlen(w->text + 1) &&
		    w->text[1])
			continue;
		if (printf_ && i == 1 && strchr(w->text, '%') && i + 1 < cmd->argc)
			continue;	/* a format with arguments: the value is the argument */
		if (sb.len)
			sb_addc(&sb, ' ');
		sb_add(&sb, w->text);
		if (printf_)
			break;
	}
	/* printf's "\n" and echo -e escapes are not part of the value */
	while (sb.len >= 2 && sb.buf[sb.len - 2] == '\\' && sb.buf[sb.len - 1] == 'n') {
		sb.len -= 2;
		sb.buf[sb.len] = '\0';
	}
	key = sysctl_key(t->text);
	sysctl_set(d, cmd, key, sb_str(&sb), &t->loc);
	free(key);
	sb_free(&sb);
	return 0;
}

/* sysctl [-w] [-q] key=value ... */
static int cmd_sysctl(struct dispatch *d, const struct command *cmd)
{
	bool any = false;

	for (unsigned i = 1; i < cmd->argc; i++) {
		const struct word *w = &cmd->argv[i];
		const char *eq;
		char *key;

		if (w->kind == WORD_UNKNOWN)
			return unknown_word(d->pc, w);
		if (w->text[0] == '-')
			continue;
		eq = strchr(w->text, '=');
		if (!eq)
			continue;
		key = xstrndup(w->text, (size_t)(eq - w->text));
		for (char *c = key; *c; c++)
			if (*c == '/')
				*c = '.';
		sysctl_set(d, cmd, key, eq + 1, &w->loc);
		free(key);
		any = true;
	}
	if (!any)
		diag_note(d->pc->dq, &cmd->loc, "sysctl without key=value only reads settings; ignored");
	return 0;
}

/* ---- iptables-restore ------------------------------------------------------------ */

static int cmd_restore(struct dispatch *d, const struct command *cmd, enum ir_family fam, bool chains)
{
	struct parse_ctx *pc = d->pc;
	const struct word *file = NULL;
	struct src_file *f;
	bool noflush = false;
	int r;

	for (unsigned i = 1; i < cmd->argc; i++) {
		const struct word *w = &cmd->argv[i];

		if (w->kind == WORD_UNKNOWN)
			return unknown_word(pc, w);
		if (!strcmp(w->text, "-n") || !strcmp(w->text, "--noflush"))
			noflush = true;
		else if (!strcmp(w->text, "-t") || !strcmp(w->text, "--test"))
			return diag_note(pc->dq, &w->loc, "iptables-restore --test loads nothing; ignored"), 0;
		else if (w->text[0] != '-')
			file = w;
		else if (!strcmp(w->text, "-T") || !strcmp(w->text, "--table") || !strcmp(w->text, "-M") ||
			 !strcmp(w->text, "-w") || !strcmp(w->text, "-W"))
			i++;
	}
	if (cmd->heredoc) {
		f = source_add(pc->ss, "<here-document>", cmd->heredoc, strlen(cmd->heredoc), &cmd->loc);
	} else {
		if (!file && cmd->redir == REDIR_IN)
			file = &cmd->redir_target;
		if (!file)
			return diag_error(pc->dq, &cmd->loc, "%s reads its rules from standard "
					  "input here; give the file with '< FILE'", base_name(cmd->argv[0].text));
		if (file->kind == WORD_UNKNOWN)
			return unknown_word(pc, file);
		f = source_load(pc->ss, file->text, &cmd->loc);
		if (!f && file->text[0] != '/' && cmd->loc.file) {
			/* relative to the script that runs it */
			const char *sp = cmd->loc.file->path, *sl = strrchr(sp, '/');

			if (sl) {
				char *alt = xasprintf("%.*s/%s", (int)(sl - sp), sp, file->text);

				f = source_load(pc->ss, alt, &cmd->loc);
				free(alt);
			}
		}
		if (!f)
			return diag_error(pc->dq, &file->loc, "cannot read %s: %s", file->text, strerror(errno));
	}
	if (chains)
		return ipchains_save_parse(pc, f);
	pc->noflush = noflush;
	r = iptsave_parse(pc, f, fam);
	pc->noflush = false;
	return r;
}

/* ---- the router ---------------------------------------------------------------------- */

static const char *const ignored_cmds[] = {
	"depmod", "lsmod", "rmmod", "route", "ifconfig", "ip", "sleep", "logger", "grep", "egrep",
	"fgrep", "awk", "sed", "cut", "cat", "touch", "rm", "mkdir", "true", "false", ":", "test",
	"[", "date", "hostname", "uname", "chmod", "chown", "ln", "cp", "mv", "ps", "head", "tail",
	"tr", "wc", "sort", "uniq", "basename", "dirname", "expr", "id", "whoami", "which",
	"type", "wait", "clear", "tee", "read", "iptables-save", "ip6tables-save", "netstat",
	"ipchains-save",
	"ping", "arp", "env", "usleep", "stty", "tput", "setterm", "dmesg", "pidof", "killall5",
};

static bool is_ipt(const char *b, enum ir_family *fam)
{
	static const char *const v4[] = { "iptables", "iptables-legacy", "iptables-nft" };
	static const char *const v6[] = { "ip6tables", "ip6tables-legacy", "ip6tables-nft" };

	for (size_t i = 0; i < 3; i++) {
		if (!strcmp(b, v4[i])) {
			*fam = IR_FAM_IPV4;
			return true;
		}
		if (!strcmp(b, v6[i])) {
			*fam = IR_FAM_IPV6;
			return true;
		}
	}
	return false;
}

static bool is_restore(const char *b, enum ir_family *fam)
{
	static const char *const v4[] = { "iptables-restore", "iptables-legacy-restore", "iptables-nft-restore" };
	static const char *const v6[] = { "ip6tables-restore", "ip6tables-legacy-restore", "ip6tables-nft-restore" };

	for (size_t i = 0; i < 3; i++) {
		if (!strcmp(b, v4[i])) {
			*fam = IR_FAM_IPV4;
			return true;
		}
		if (!strcmp(b, v6[i])) {
			*fam = IR_FAM_IPV6;
			return true;
		}
	}
	return false;
}

static bool is_legacy(const char *b)
{
	static const char *const tools[] = {
		"ipchains", "ipfwadm", "ipfwadm-wrapper", "ipmasqadm", "ipportfw", "ipautofw",
	};

	for (size_t i = 0; i < ARRAY_SIZE(tools); i++)
		if (!strcmp(tools[i], b))
			return true;
	return false;
}

static int dispatch_one(struct dispatch *d, const struct command *cmd)
{
	struct parse_ctx *pc = d->pc;
	const struct word *w0;
	enum ir_family fam;
	const char *b;

	if (!cmd->argc)
		return 0;
	w0 = &cmd->argv[0];
	if (w0->kind == WORD_UNKNOWN) {
		if (cmd->in_pipeline)
			return 0;
		return unknown_word(pc, w0);
	}
	b = base_name(w0->text);
	if (w0->text[0] == '-' && !cmd->in_pipeline) {
		/* `$IPTABLES -A ...` with IPTABLES unset: the rule would be lost */
		diag_add(pc->dq, DIAG_ERROR, &w0->loc, "give -D IPTABLES=/sbin/iptables (or set the variable)",
			 "'%s' is not a command: the command name is missing (an unset variable such as "
			 "$IPTABLES?)", w0->text);
		return -1;
	}
	if (is_ipt(b, &fam)) {
		if (cmd->in_pipeline) {
			diag_note(pc->dq, &cmd->loc, "%s in a pipeline only prints; ignored", b);
			return 0;
		}
		return ipt_command(pc, cmd, fam);
	}
	if (is_restore(b, &fam))
		return cmd_restore(d, cmd, fam, false);
	if (is_legacy(b)) {
		if (cmd->in_pipeline) {
			diag_note(pc->dq, &cmd->loc, "%s in a pipeline only prints; ignored", b);
			return 0;
		}
		if (!strcmp(b, "ipchains"))
			return ipchains_command(pc, cmd);
		if (!strcmp(b, "ipfwadm") || !strcmp(b, "ipfwadm-wrapper"))
			return ipfwadm_command(pc, cmd);
		return ipmasqadm_command(pc, cmd);
	}
	if (!strcmp(b, "ipchains-restore"))
		return cmd_restore(d, cmd, IR_FAM_IPV4, true);
	if (cmd->in_pipeline)
		return 0;
	if (!strcmp(b, "echo") || !strcmp(b, "printf"))
		return cmd_echo(d, cmd, b[0] == 'p');
	if (!strcmp(b, "modprobe") || !strcmp(b, "insmod"))
		return cmd_modprobe(d, cmd, b[0] == 'i');
	if (!strcmp(b, "sysctl"))
		return cmd_sysctl(d, cmd);
	for (size_t i = 0; i < ARRAY_SIZE(ignored_cmds); i++)
		if (!strcmp(ignored_cmds[i], b)) {
			if (!noted_once(d, "cmd", b))
				diag_note(pc->dq, &w0->loc, "%s is not part of the ruleset; ignored", b);
			return 0;
		}
	if (pc->strict)
		return diag_error(pc->dq, &w0->loc, "unknown command '%s'", b);
	diag_warning(pc->dq, &w0->loc, "unknown command '%s' ignored", b);
	return 0;
}

struct dispatcher {
	struct dispatch d;
};

struct dispatcher *dispatcher_new(struct parse_ctx *pc)
{
	struct dispatcher *dp = xzalloc(sizeof(*dp));

	dp->d.pc = pc;
	return dp;
}

void dispatcher_run(struct dispatcher *dp, const struct command *c)
{
	if (dispatch_one(&dp->d, c))
		dp->d.ret = -1;
}

void dispatcher_sink(void *dp, const struct command *c)
{
	dispatcher_run(dp, c);
}

int dispatcher_free(struct dispatcher *dp)
{
	int ret = dp->d.ret;

	for (size_t i = 0; i < dp->d.noted.n; i++)
		free(dp->d.noted.v[i]);
	vec_free(&dp->d.noted);
	vec_free(&dp->d.explicit_ports);
	free(dp);
	return ret;
}

int dispatch_commands(struct parse_ctx *pc, const struct cmd_stream *cs)
{
	struct dispatcher *dp = dispatcher_new(pc);

	for (const struct command *c = cs->head; c; c = c->next)
		dispatcher_run(dp, c);
	return dispatcher_free(dp);
}
