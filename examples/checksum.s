# checksum.s - the 16-bit ones' complement sum of the input bytes (RFC 1071),
# written in the mnemonic syntax, with the loop in a bpf-to-bpf subprogram.
#
#   bee run examples/checksum.s --mem-hex "45 00 00 1c 00 00 40 00 40 11 00 00 0a 00 00 01 0a 00 00 02"
	call local sum16        # r1 = data, r2 = length pass straight on
	mov %r1, %r0            # fold the carries: sum = (sum & 0xffff) + (sum >> 16), twice
	rsh %r1, 16
	and %r0, 0xffff
	add %r0, %r1
	mov %r1, %r0
	rsh %r1, 16
	and %r0, 0xffff
	add %r0, %r1
	xor %r0, 0xffff         # ones' complement
	exit
sum16:                      # r0 = sum of big-endian 16-bit words of [r1, r1 + r2)
	mov %r0, 0
next:
	jlt %r2, 2, tail
	ldxh %r3, [%r1+0]
	be16 %r3
	add %r0, %r3
	add %r1, 2
	sub %r2, 2
	ja next
tail:
	jeq %r2, 0, out
	ldxb %r3, [%r1+0]       # an odd last byte is the high half of a word
	lsh %r3, 8
	add %r0, %r3
out:
	exit
