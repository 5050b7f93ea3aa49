/* test-shell.c -- unit tests of the shell front end (lexer, grammar,
 * evaluator) on in-memory scripts.  TAP output. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "util.h"
#include "loc.h"
#include "diag.h"
#include "parser/shell.h"

struct run {
	struct source_set ss;
	struct diag_queue dq;
	struct cmd_stream cs;
	struct src_file *f;
	int rc;
	char *text;		/* the command stream, one line per command */
};

static void word_dump(struct strbuf *sb, const struct word *w)
{
	switch (w->kind) {
	case WORD_LITERAL:
		sb_add(sb, w->text);
		break;
	case WORD_IFADDR:
		sb_addf(sb, "<if:%s>%s", w->sym, w->text);
		break;
	case WORD_UNKNOWN:
		sb_addf(sb, "<?:%s>", w->sym);
		break;
	}
}

static void run_file(struct run *r, struct src_file *f, const char *const *defs,
		     unsigned ndefs, unsigned bound)
{
	struct shell_opts so = { .defines = defs, .ndefines = ndefs, .loop_bound = bound };
	struct strbuf sb = { 0 };
	const struct command *c;

	r->f = f;
	cmd_stream_init(&r->cs);
	r->rc = shell_eval(&r->ss, f, &so, &r->dq, &r->cs);
	for (c = r->cs.head; c; c = c->next) {
		unsigned i;

		for (i = 0; i < c->argc; i++) {
			if (i)
				sb_addc(&sb, '|');
			word_dump(&sb, &c->argv[i]);
		}
		if (c->redir != REDIR_NONE) {
			sb_add(&sb, c->redir == REDIR_IN ? " <" : c->redir == REDIR_OUT ? " >" : " >>");
			word_dump(&sb, &c->redir_target);
		}
		if (c->in_pipeline)
			sb_add(&sb, " (pipe)");
		sb_addc(&sb, '\n');
	}
	r->text = sb_steal(&sb);
}

static void run_opts(struct run *r, const char *script, const char *const *defs,
		     unsigned ndefs, unsigned bound)
{
	memset(r, 0, sizeof(*r));
	run_file(r, source_add(&r->ss, "t.sh", script, strlen(script), NULL), defs, ndefs, bound);
}

static void run(struct run *r, const char *script)
{
	run_opts(r, script, NULL, 0, 0);
}

static void done(struct run *r)
{
	free(r->text);
	cmd_stream_free(&r->cs);
	diag_queue_free(&r->dq);
	source_set_free(&r->ss);
}

/* Is there a diagnostic of this level at line:col whose text contains s? */
static bool has_diag(const struct run *r, enum diag_level lvl, unsigned line,
		     unsigned col, const char *s)
{
	size_t i;

	for (i = 0; i < r->dq.n; i++) {
		const struct diag *d = &r->dq.v[i];

		if (d->level == lvl && (!line || d->loc.line == line) &&
		    (!col || d->loc.col == col) && strstr(d->msg, s))
			return true;
	}
	return false;
}

static void expect(const char *script, const char *want, const char *desc)
{
	struct run r;

	run(&r, script);
	is_str(r.text, want, "%s", desc);
	done(&r);
}

static void test_lexer(void)
{
	struct run r;
	const struct command *c;

	run(&r, "# comment\n  iptables  -A  'IN'\"PUT\" \\\n  -j ACCEPT # tail\n");
	c = r.cs.head;
	ok(c && c->argc == 5, "one command of five words over a continuation");
	ok(c && c->loc.line == 2 && c->loc.col == 3 && c->loc.len == 8, "command location");
	ok(c && c->argv[2].loc.col == 17 && c->argv[2].loc.len == 9, "quoted word location spans the quotes");
	ok(c && c->argv[3].loc.line == 3 && c->argv[3].loc.col == 3, "word after a continuation");
	done(&r);
	expect("echo if then; if true; then echo fi; fi\n", "echo|if|then\necho|fi\n",
	       "keywords only in command position");
	expect("echo a#b #c\necho x;echo y&&echo z||echo w\n", "echo|a#b\necho|x\necho|y\necho|z\n",
	       "comments and operators");
}

static void test_quoting(void)
{
	expect("A='a  b'\necho $A \"$A\" 'x y' a\\ b \"\\$A\" ''\n",
	       "echo|a|b|a  b|x y|a b|$A|\n", "quoting and word splitting");
	expect("A=1 B=2; C=\"$A$B\"\necho $C ${C}x\n", "echo|12|12x\n", "several assignments on a line");
	expect("X=1 env; echo \"[$X]\"\n", "env\necho|[]\n", "prefix assignment does not stick");
}

static void test_expansions(void)
{
	expect("echo ${U:-d} ${U-e} ${U:=f} $U\nE=\necho \"${E:-g}\" \"${E-h}\" ${#U} ${E:+no}${U:+yes}\n",
	       "echo|d|e|f|f\necho|g||1|yes\n", "parameter operators");
	expect("P=/usr/sbin/iptables\necho ${P##*/} ${P%/*} ${P#/} ${P%%/*}x\n",
	       "echo|iptables|/usr/sbin|usr/sbin/iptables|x\n", "prefix and suffix removal");
	expect("set -- a 'b c'\necho $# \"$@\"\nfor x in \"$@\"; do echo $x; done\necho $*\n",
	       "echo|2|a|b c\necho|a\necho|b|c\necho|a|b|c\n", "positional parameters");
	expect("false; echo $?; true; echo $?\necho $0\n", "echo|1\necho|0\necho|t.sh\n", "$? and $0");
	expect("A=3\necho $((1 + 2 * 3)) $(( (A + 1) * 2 )) $((A % 2)) $((A > 2 && 1)) $((-A / 2))\n",
	       "echo|7|8|1|1|-1\n", "arithmetic");
	expect("p=6000\nwhile [ $p -le 6002 ]; do echo $p; p=`expr $p + 1`; done\n"
	       "echo `expr 7 % 3` `expr 2 \\* 3` `expr a = a` `expr 5`\n",
	       "echo|6000\necho|6001\necho|6002\necho|1|6|1|5\n", "expr arithmetic (old counting loops)");
	expect("A=1; shift; echo $#\nexport B=2 C; readonly D=4; unset A; echo $A$B$D\n",
	       "echo|0\necho|24\n", "export readonly unset shift");
}

static void test_control(void)
{
	expect("A=2\nif [ $A -eq 1 ]; then echo one\nelif [ $A -eq 2 -a -n \"$A\" ]; then echo two\n"
	       "else echo other\nfi\n", "echo|two\n", "if/elif/else");
	expect("[ \"a\" != \"b\" ] && echo ne || echo eq\n! [ -z x ] && echo nz\n"
	       "test 3 -lt 4 -o 1 = 2 && echo lt\n", "echo|ne\necho|nz\necho|lt\n", "test, && || !");
	expect("[ -f /proc/net/ip_fwchains ] && echo f\n[ -L /x ] || echo notlink\n",
	       "echo|f\necho|notlink\n", "file test policy");
	expect("for i in 1 2 3; do [ $i = 2 ] && continue; echo $i; done\n"
	       "i=0; while true; do i=$((i+1)); [ $i -gt 2 ] && break; done; echo $i\n"
	       "until [ $i -eq 0 ]; do i=$((i-1)); done; echo $i\n",
	       "echo|1\necho|3\necho|3\necho|0\n", "for while until break continue");
	expect("case ab in a?) echo q;; *) echo star;; esac\ncase x.c in *.h|*.c) echo c ;; esac\n"
	       "case '*' in \"*\") echo lit ;; esac\ncase z in [a-y]) echo no;; [!a-y]) echo yes\nesac\n",
	       "echo|q\necho|c\necho|lit\necho|yes\n", "case patterns");
	expect("f() { echo \"f $# $1 $2\"; return 3; echo no; }\nf a 'b c'; echo $?\n"
	       "function g { local X=in; echo $X; }\nX=out; g; echo $X\n",
	       "echo|f 2 a b c\necho|3\necho|in\necho|out\n", "functions, arguments, return, local");
	expect("A=1; ( A=2; echo $A ); echo $A\n{ echo g; } > /tmp/x\n", "echo|2\necho|1\necho|g\n",
	       "subshell does not leak; group");
	expect("echo a; exit 0\necho b\n", "echo|a\n", "exit stops evaluation");
}

static void test_bound(void)
{
	struct run r;

	run_opts(&r, "while true; do echo x; done\n", NULL, 0, 3);
	ok(r.rc == -1 && has_diag(&r, DIAG_ERROR, 1, 1, "still running after 3"),
	   "loop bound is an error at the loop");
	done(&r);
}

static void test_system(void)
{
	struct run r;
	static const char ifcfg[] =
		"EXTIF=\"eth0\"\nAWK=/bin/awk\nIFCONFIG=/sbin/ifconfig\nIPTABLES=/usr/local/sbin/iptables\n"
		"EXTIP=\"`$IFCONFIG $EXTIF | $AWK \\\n"
		" /$EXTIF/'{next}//{split($0,a,\":\");split(a[2],a,\" \");print a[1];exit}'`\"\n"
		"$IPTABLES -t nat -A POSTROUTING -o $EXTIF -j SNAT --to $EXTIP\n";
	const struct command *c;

	run(&r, ifcfg);
	is_str(r.text, "/usr/local/sbin/iptables|-t|nat|-A|POSTROUTING|-o|eth0|-j|SNAT|--to|<if:eth0>\n",
	       "ifconfig|awk idiom is the address of the interface");
	c = r.cs.head;
	ok(c && c->argv[10].loc.line == 7 && c->argv[10].loc.col == 56 && c->argv[10].var &&
	   !strcmp(c->argv[10].var, "EXTIP"), "expansion location and variable");
	ok(c && c->argv[0].loc.col == 1 && c->argv[0].loc.len == 9, "command name location is $IPTABLES");
	done(&r);

	expect("IF=ppp0\nA=$(ip -4 addr show dev $IF | grep inet | cut -d' ' -f6 | cut -d/ -f1)\n"
	       "B=`/sbin/ip addr list eth1 | awk '/inet /{print $2}'`\niptables -s $A/32 -d $B\n",
	       "iptables|-s|<if:ppp0>/32|-d|<if:eth1>\n", "ip addr show variants");

	run(&r, "EXTIP=`curl -s ifconfig.me`\niptables -d $EXTIP\nif [ -z \"$EXTIP\" ]; then echo empty; fi\n");
	is_str(r.text, "iptables|-d|<?:EXTIP>\necho|empty\n", "unknown substitution: WORD_UNKNOWN, empty in tests");
	ok(has_diag(&r, DIAG_NOTE, 1, 7, "not run"), "unknown substitution noted at its location");
	done(&r);

	{
		static const char *const defs[] = { "EXTIP=1.2.3.4" };

		run_opts(&r, "EXTIP=`curl -s ifconfig.me`\niptables -d $EXTIP\n", defs, 1, 0);
		is_str(r.text, "iptables|-d|1.2.3.4\n", "-D overrides the script's assignment");
		done(&r);
	}
	run(&r, "if [ -z \"`lsmod | grep ip_tables`\" ]; then modprobe ip_tables; fi\n"
	    "IPT=`which iptables`; $IPT -L\n");
	is_str(r.text, "modprobe|ip_tables\niptables|-L\n", "lsmod is empty, which names the tool");
	done(&r);

	run(&r, "case \"$1\" in\n  start)\n    echo starting\n    ;;\n  stop) echo stopping ;;\n"
	    "  *) echo usage; exit 1\nesac\n");
	is_str(r.text, "echo|starting\n", "init script takes the start branch");
	done(&r);

	run(&r, "iptables -s $NET -j ACCEPT\necho $NET2\n");
	ok(has_diag(&r, DIAG_NOTE, 1, 13, "variable NET is not set") &&
	   !has_diag(&r, DIAG_NOTE, 2, 0, "NET2"), "unset variable note in commands, not echo");
	done(&r);
}

static void test_redirs(void)
{
	expect("echo 1 > /proc/sys/net/ipv4/ip_forward\necho 2 >>/var/log/x 2>&1\n"
	       "modprobe x >/dev/null 2>/dev/null\nsort < in\nlsmod | grep -q ipchains\n",
	       "echo|1 >/proc/sys/net/ipv4/ip_forward\necho|2 >>/var/log/x\nmodprobe|x\nsort <in\n"
	       "lsmod (pipe)\ngrep|-q|ipchains (pipe)\n", "redirections and pipelines");
}

static void test_heredoc(void)
{
	struct run r;

	run(&r, "N=lan\ncat <<EOF >/tmp/f; echo after\nnet $N\n  x\nEOF\ncat <<-'E'\n\t$N\n\tE\necho end\n");
	is_str(r.text, "cat >/tmp/f\necho|after\ncat\necho|end\n", "here-documents are consumed");
	ok(r.cs.head && r.cs.head->heredoc && !strcmp(r.cs.head->heredoc, "net lan\n  x\n"),
	   "unquoted body is expanded");
	ok(r.cs.head && r.cs.head->next && r.cs.head->next->next &&
	   !strcmp(r.cs.head->next->next->heredoc, "$N\n"), "<<- strips tabs, quoted body is literal");
	done(&r);
}

static void test_errors(void)
{
	struct run r;

	run(&r, "echo \"abc\nif true; then\n  echo x\n");
	ok(r.rc == -1 && has_diag(&r, DIAG_ERROR, 1, 6, "unterminated double quote"),
	   "unterminated double quote located at the quote");
	done(&r);
	run(&r, "echo a\nif true; then\n  echo x\n\necho b\n");
	ok(has_diag(&r, DIAG_ERROR, 0, 0, "'fi' expected to close 'if' at line 2"),
	   "missing fi names the if");
	done(&r);
	run(&r, "echo a\necho )\necho b\n");
	is_str(r.text, "echo|a\necho|b\n", "evaluation continues after a syntax error");
	ok(has_diag(&r, DIAG_ERROR, 2, 6, "unexpected ')'"), "syntax error located");
	done(&r);
	expect("echo `echo $(echo a)` $(echo \"$(echo b)\")\n", "echo|a|b\n",
	       "backquotes and $() nest");
}

static void test_source(void)
{
	char dir[] = "/tmp/masqc-test-XXXXXX";
	char *p1, *p2, *p3;
	FILE *fp;
	struct run r;
	struct src_file *f;

	if (!mkdtemp(dir)) {
		ok(false, "mkdtemp");
		return;
	}
	p1 = xasprintf("%s/main.sh", dir);
	p2 = xasprintf("%s/conf.sh", dir);
	p3 = xasprintf("%s/lib.sh", dir);
	fp = fopen(p1, "w");
	fputs("X=main\n. ./conf.sh\nsource lib.sh\niptables -i $EXTIF\n. missing.sh\n"
	      ". /nonexistent/etc/sysconfig/network\n", fp);
	fclose(fp);
	fp = fopen(p2, "w");
	fputs("EXTIF=eth9\n", fp);
	fclose(fp);
	fp = fopen(p3, "w");
	fputs("echo lib $X\nreturn\necho not\n", fp);
	fclose(fp);
	memset(&r, 0, sizeof(r));
	f = source_load(&r.ss, p1, NULL);
	run_file(&r, f, NULL, 0, 0);
	is_str(r.text, "echo|lib|main\niptables|-i|eth9\n", "sourced files, return from a sourced file");
	ok(has_diag(&r, DIAG_ERROR, 5, 3, "cannot read"), "missing sourced file is a located error");
	ok(has_diag(&r, DIAG_WARNING, 6, 3, "continuing without it"),
	   "missing system file (absolute path) is a located warning");
	ok(r.ss.head && r.ss.head->next && r.ss.head->next->included_from &&
	   r.ss.head->next->included_from->line == 2, "include chain recorded");
	done(&r);
	unlink(p1);
	unlink(p2);
	unlink(p3);
	rmdir(dir);
	free(p1);
	free(p2);
	free(p3);
}

int main(void)
{
	test_lexer();
	test_quoting();
	test_expansions();
	test_control();
	test_bound();
	test_system();
	test_redirs();
	test_heredoc();
	test_errors();
	test_source();
	return done_testing();
}
