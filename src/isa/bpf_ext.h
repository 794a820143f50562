/*
 * bpf_ext.h - the one place that defines what the installed <linux/bpf.h>
 * lacks.
 *
 * The machines bee is built on ship the Linux 6.1 UAPI headers; the
 * instruction set has grown since (cpu v4 in 6.6, load-acquire and
 * store-release in 6.15).  Every later addition bee relies on is defined
 * here, guarded so that a newer header wins when it has the definition.
 */
#ifndef BEE_ISA_BPF_EXT_H
#define BEE_ISA_BPF_EXT_H

#include <linux/bpf.h>

/* Sign-extending loads: BPF_LDX | BPF_MEMSX | size (RFC 9669 section 5.2). */
#ifndef BPF_MEMSX
#define BPF_MEMSX 0x80
#endif

/* Atomic load-acquire / store-release, carried in the imm of a
 * BPF_STX | BPF_ATOMIC instruction (Linux 6.15). */
#ifndef BPF_LOAD_ACQ
#define BPF_LOAD_ACQ 0x100
#endif
#ifndef BPF_STORE_REL
#define BPF_STORE_REL 0x110
#endif

/* Largest instruction count the kernel accepts for a privileged program. */
#define BEE_MAX_INSNS 1000000

/* Kernel limits that the execution engines mirror. */
#define BEE_MAX_CALL_FRAMES 8   /* MAX_CALL_FRAMES in the kernel */
#define BEE_STACK_SIZE 512      /* MAX_BPF_STACK */

#endif
