/*
 * counter.c - load counter.bpf.o, feed its XDP program a stream of IPv4
 * packets (TCP, UDP, ICMP) through BPF_PROG_TEST_RUN, then walk the hash
 * map from the host and print the packets counted per protocol.
 *
 * Usage: counter [interp|jit]   (default: both engines)
 */
#include "example.h"

static const char *proto_name(uint32_t p)
{
	return p == 1 ? "ICMP" : p == 6 ? "TCP" : p == 17 ? "UDP" : "other";
}

static int count_on(enum bee_engine engine)
{
	static const uint8_t stream[] = {6, 17, 6, 1, 6, 17, 47, 6};
	struct bee *b = example_bee(engine);
	struct bee_object *obj = example_open("counter", NULL);
	int rc = 1;
	if (!b || !obj || example_load(obj, b))
		goto out;
	int prog = bee_program_fd(bee_object_find_program_by_name(obj, "count_proto"));
	int map = bee_object_map_fd(bee_object_find_map_by_name(obj, "proto_count"));
	for (size_t i = 0; i < sizeof(stream); i++) {
		uint8_t pkt[64] = {0};
		pkt[12] = 0x08;             /* ETH_P_IP */
		pkt[14] = 0x45;             /* IPv4, 20-byte header */
		pkt[14 + 9] = stream[i];    /* protocol */
		struct bee_test_run_opts o = {.sz = sizeof(o), .data_in = pkt,
					      .data_size_in = sizeof(pkt)};
		if (bee_prog_test_run(b, prog, &o) || o.retval != 2 /* XDP_PASS */)
			goto out;
	}
	printf("[%s] %zu packets, per protocol:\n", example_engine_name(engine), sizeof(stream));
	uint32_t key, next;
	uint64_t total = 0;
	void *prev = NULL;
	while (!bee_map_get_next_key(b, map, prev, &next)) {
		uint64_t n = 0;
		if (!bee_map_lookup(b, map, &next, &n)) {
			printf("  protocol %3u %-5s %llu\n", next, proto_name(next), (unsigned long long)n);
			total += n;
		}
		key = next;
		prev = &key;
	}
	rc = total == sizeof(stream) ? 0 : 1;
out:
	bee_object_close(obj);
	bee_free(b);
	return rc;
}

int main(int argc, char **argv)
{
	return example_main(argc, argv, count_on);
}
