/* Corpus (refused): a y/n/m value given for an int extern (libbpf's rule:
 * those values imply bool, tristate or char). */
// corpus: a kconfig value that does not suit its extern's type must be refused, naming both
// open: kconfig=CONFIG_BEE_COUNT=m
// refuse: CONFIG_BEE_COUNT
// refuse: value 'm' implies bool, tristate or char type
#include "bee_bpf.h"

extern int CONFIG_BEE_COUNT __kconfig;

SEC("syscall")
int typed_kconfig(void *ctx)
{
	return CONFIG_BEE_COUNT;
}

char LICENSE[] SEC("license") = "GPL";
