/* Corpus: .kconfig externs: LINUX_KERNEL_VERSION from the open options,
 * CONFIG_ values given by the host, a weak unknown one reading 0. */
// corpus: kconfig externs (LINUX_KERNEL_VERSION, int/bool/tristate CONFIG_, weak), version section
// open: kern_version=0x050a11 kconfig=CONFIG_BEE_NUM=42;CONFIG_BEE_ON=y;CONFIG_BEE_MOD=m;CONFIG_BEE_STR="hi";CONFIG_BEE_LETTER=m
// run: prog=kversion ctx=u32:0 ret=0x050a11
// run: prog=kvalues ctx=u32:0 ret=42102
// run: prog=kstring ctx=u32:0 ret=0x68696d
#include "bee_bpf.h"

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_BEE_NUM __kconfig;
extern bool CONFIG_BEE_ON __kconfig;
extern enum libbpf_tristate CONFIG_BEE_MOD __kconfig;
extern char CONFIG_BEE_STR[8] __kconfig;
extern char CONFIG_BEE_LETTER __kconfig;
extern int CONFIG_BEE_ABSENT __kconfig __weak;

SEC("syscall")
int kversion(void *ctx)
{
	return (int)LINUX_KERNEL_VERSION;
}

SEC("syscall")
int kvalues(void *ctx)
{
	return CONFIG_BEE_NUM * 1000 + CONFIG_BEE_ON * 100 + CONFIG_BEE_MOD + CONFIG_BEE_ABSENT;
}

/* a string and a char holding the letter of its y/n/m value */
SEC("syscall")
int kstring(void *ctx)
{
	return CONFIG_BEE_STR[0] << 16 | CONFIG_BEE_STR[1] << 8 | CONFIG_BEE_LETTER;
}

char LICENSE[] SEC("license") = "GPL";
__u32 _version SEC("version") = 0x050a11;
