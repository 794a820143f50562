/* Corpus (refused): a strong CONFIG_ extern nobody gives a value. */
// corpus: an unresolvable strong kconfig extern must be refused, naming it
// refuse: CONFIG_BEE_NOBODY_SETS_THIS
// refuse: value unknown
#include "bee_bpf.h"

extern int CONFIG_BEE_NOBODY_SETS_THIS __kconfig;

SEC("syscall")
int strong_kconfig(void *ctx)
{
	return CONFIG_BEE_NOBODY_SETS_THIS;
}

char LICENSE[] SEC("license") = "GPL";
