// A bounded exec storm for the benches: `storm N WORKERS [pids]` forks WORKERS processes that
// each fork+exec /bin/true until N execs were done in all. Cheaper than spawning from Node,
// so the exec source does not compete with the consumer being measured.
// With `pids`, every exec'd child's pid (= the tgid the BPF side reports) is printed on stdout,
// one a line, in writes of whole lines below PIPE_BUF (atomic on a pipe, so workers never
// interleave inside a line).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char out[4000];
static size_t used;

static void flush_pids(void)
{
	size_t off = 0;
	while (off < used) {
		ssize_t w = write(1, out + off, used - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	used = 0;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000;
	int workers = argc > 2 ? atoi(argv[2]) : 1;
	int pids = argc > 3 && strcmp(argv[3], "pids") == 0;
	char *const args[] = {"/bin/true", NULL};

	for (int w = 0; w < workers; w++) {
		if (fork() == 0) {
			long mine = n / workers + (w < n % workers);
			for (long i = 0; i < mine; i++) {
				pid_t p = fork();
				if (p == 0) {
					execv(args[0], args);
					_exit(127);
				}
				if (pids) {
					if (used > sizeof(out) - 16)
						flush_pids();
					used += (size_t)snprintf(out + used, sizeof(out) - used, "%d\n", (int)p);
				}
				waitpid(p, NULL, 0);
			}
			flush_pids();
			_exit(0);
		}
	}
	while (wait(NULL) > 0)
		;
	return 0;
}
