// A bounded exec storm for the benches: `storm N WORKERS` forks WORKERS processes that
// each fork+exec /bin/true until N execs were done in all. Cheaper than spawning from Node,
// so the exec source does not compete with the consumer being measured.
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000;
	int workers = argc > 2 ? atoi(argv[2]) : 1;
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
				waitpid(p, NULL, 0);
			}
			_exit(0);
		}
	}
	while (wait(NULL) > 0)
		;
	return 0;
}
