/*
 * bee_core.h - CO-RE builtins for the test corpus, in the shapes of
 * libbpf's bpf_core_read.h (written for bee; no libbpf headers needed).
 *
 * A struct declared with __core has every member access recorded as a
 * CO-RE field relocation (clang's preserve_access_index); the macros
 * below ask clang for the other relocation kinds.  The second argument
 * of each builtin is the relocation kind as clang numbers it (llvm's
 * BPFCoreSharedInfo): field info 0..5, type id local/target 0/1, type
 * exists/size 0/1, enum value exists/value 0/1.
 */
#ifndef BEE_TESTS_OBJECTS_BEE_CORE_H
#define BEE_TESTS_OBJECTS_BEE_CORE_H

#define __core __attribute__((preserve_access_index))

#define bee_core_field_offset(f) __builtin_preserve_field_info(f, 0)
#define bee_core_field_size(f) __builtin_preserve_field_info(f, 1)
#define bee_core_field_exists(f) __builtin_preserve_field_info(f, 2)
#define bee_core_field_signed(f) __builtin_preserve_field_info(f, 3)
#define bee_core_field_lshift(f) __builtin_preserve_field_info(f, 4)
#define bee_core_field_rshift(f) __builtin_preserve_field_info(f, 5)

#define bee_core_type_id_local(T) __builtin_btf_type_id(*(T *)0, 0)
#define bee_core_type_id_target(T) __builtin_btf_type_id(*(T *)0, 1)
#define bee_core_type_exists(T) __builtin_preserve_type_info(*(T *)0, 0)
#define bee_core_type_size(T) __builtin_preserve_type_info(*(T *)0, 1)

#define bee_core_enum_exists(E, V) __builtin_preserve_enum_value(*(E *)V, 0)
#define bee_core_enum_value(E, V) __builtin_preserve_enum_value(*(E *)V, 1)

#endif
