// The C/libbpf reference for the event path: loads bpf/tailcalls.bpf.o like `tailcalls load`,
// consumes the ring buffer with ring_buffer__poll and prints one JSON line per event to stdout.
// On SIGINT it prints `{"events":N,"cpu_us":M}` to stderr (CPU while streaming).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>
#include "../../bpf/tailcalls.h"

static volatile sig_atomic_t stop;
static long events;
static const char *names[] = {"prog1", "prog2", "prog3", "prog3_v2"};

static void on_signal(int sig) { (void)sig; stop = 1; }

static int on_event(void *ctx, void *data, size_t len)
{
	const struct event *e = data;
	struct timespec ts;
	struct tm tm;
	char buf[32];

	(void)ctx; (void)len;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	printf("{\"timestamp\":\"%s.%06ldZ\",\"level\":\"%s\",\"prog\":\"%s\",\"cpu_id\":%u,\"tgid\":%u,"
	       "\"per_event_count\":%u,\"total_count\":%u}\n", buf, ts.tv_nsec / 1000,
	       e->kind ? "ERROR" : "INFO", names[e->prog & 3], e->cpu_id, e->tgid, e->per_event_count, e->total_count);
	events++;
	return 0;
}

static long cpu_us(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000L + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj = bpf_object__open_file(argc > 1 ? argv[1] : "bpf/tailcalls.bpf.o", NULL);
	if (!obj || bpf_object__load(obj)) { fprintf(stderr, "load failed\n"); return 1; }
	int map = bpf_map__fd(bpf_object__find_map_by_name(obj, "TAIL_CALL_MAP"));
	__u32 k0 = 0, k1 = 1;
	int p2 = bpf_program__fd(bpf_object__find_program_by_name(obj, "prog2"));
	int p3 = bpf_program__fd(bpf_object__find_program_by_name(obj, "prog3"));
	bpf_map_update_elem(map, &k0, &p2, BPF_ANY);
	bpf_map_update_elem(map, &k1, &p3, BPF_ANY);
	struct bpf_link *link = bpf_program__attach(bpf_object__find_program_by_name(obj, "prog1"));
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(obj, "EVENTS")), on_event, NULL, NULL);
	if (!link || !rb) { fprintf(stderr, "attach failed\n"); return 1; }
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "Waiting for Ctrl-C...\n");
	long start = cpu_us();
	while (!stop)
		ring_buffer__poll(rb, 100);
	bpf_link__destroy(link);
	ring_buffer__consume(rb);
	fflush(stdout);
	fprintf(stderr, "{\"events\":%ld,\"cpu_us\":%ld}\n", events, cpu_us() - start);
	ring_buffer__free(rb);
	bpf_object__close(obj);
	return 0;
}
