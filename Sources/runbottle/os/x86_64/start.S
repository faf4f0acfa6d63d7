/* SCAFFOLD (replaced by the runbottle work): exits 126. */
    .text
    .globl _start
_start:
    mov $60, %eax
    mov $126, %edi
    syscall
