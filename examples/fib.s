; fib.s - the n-th Fibonacci number, n read from the input memory.
;
;   bee run examples/fib.s --mem-hex 5a000000      # n = 90
;
; r1 points to the input memory, r2 holds its length (bee run --mem-hex).
	r0 = 0
	if r2 < 4 goto out          ; no input: return 0
	r6 = *(u32 *)(r1 +0)        ; n
	r7 = 0                      ; fib(i)
	r8 = 1                      ; fib(i + 1)
loop:
	if r6 == 0 goto done
	r9 = r7
	r9 += r8
	r7 = r8
	r8 = r9
	r6 += -1
	goto loop
done:
	r0 = r7
out:
	exit
