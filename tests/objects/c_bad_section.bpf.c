/* Corpus (refused): a program in a section no program type is known for. */
// corpus: an unknown SEC() name must be refused at load, naming the section
// refuse: bogus/thing
#include "bee_bpf.h"

SEC("bogus/thing")
int in_bogus(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
