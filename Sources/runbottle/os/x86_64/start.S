/* x86-64 entry and trampoline: hands the initial stack pointer to C, and later, from a copy in
 * anonymous memory, runs the last system calls and jumps to the loader. */
#include "../trampoline_layout.h"
    .text
    .globl _start
    .type _start, @function
_start:
    xor %ebp, %ebp
    mov %rsp, %rdi
    and $-16, %rsp
    call rb_main
    ud2
    .size _start, . - _start

/* rb_trampoline(table): position-independent, copied into a page of its own (a memfd's, see
 * os/trampoline.c) because it unmaps runbottle's own image. The table (struct rb_tramp in
 * os/runbottle_os.h, at the offsets of os/trampoline_layout.h) lists system calls run in order;
 * a failing call marked fatal writes the table's message and exits 126. Then the stack pointer
 * is set and the loader entered with every other register cleared, as the kernel starts a
 * process (rdx = 0: no atexit function for the x86-64 ABI). */
    .globl rb_trampoline, rb_trampoline_end
    .hidden rb_trampoline, rb_trampoline_end
rb_trampoline:
    mov %rdi, %rbx
    mov RB_TRAMP_NCALLS(%rbx), %r12
    lea RB_TRAMP_CALLS(%rbx), %r13
1:  test %r12, %r12
    jz 3f
    mov RB_TRAMP_CALL_NR(%r13), %rax
    mov RB_TRAMP_CALL_ARG0(%r13), %rdi
    mov RB_TRAMP_CALL_ARG0+8(%r13), %rsi
    mov RB_TRAMP_CALL_ARG2(%r13), %rdx
    mov RB_TRAMP_CALL_ARG2+8(%r13), %r10
    mov RB_TRAMP_CALL_ARG4(%r13), %r8
    mov RB_TRAMP_CALL_ARG4+8(%r13), %r9
    syscall
    cmpq $0, RB_TRAMP_CALL_FATAL(%r13)
    je 2f
    cmp $-4095, %rax
    jae 4f
2:  add $RB_TRAMP_CALL_SIZE, %r13
    dec %r12
    jmp 1b
3:
#if RB_BENCH_STAGE == 6
    mov $231, %eax              /* exit_group(0): see RB_STAGE in os/runbottle_os.h */
    xor %edi, %edi
    syscall
#endif
    /* The entry first: once rsp moves up, the table is below it, where a signal frame may land. */
    mov RB_TRAMP_ENTRY(%rbx), %rcx
    mov RB_TRAMP_SP(%rbx), %rsp
    xor %eax, %eax
    xor %ebx, %ebx
    xor %edx, %edx
    xor %esi, %esi
    xor %edi, %edi
    xor %ebp, %ebp
    xor %r8d, %r8d
    xor %r9d, %r9d
    xor %r10d, %r10d
    xor %r11d, %r11d
    xor %r12d, %r12d
    xor %r13d, %r13d
    xor %r14d, %r14d
    xor %r15d, %r15d
    jmp *%rcx
4:  mov $1, %eax                /* write(2, msg, len) */
    mov $2, %edi
    mov RB_TRAMP_MSG(%rbx), %rsi
    mov RB_TRAMP_MSGLEN(%rbx), %rdx
    syscall
    mov $231, %eax              /* exit_group(126) */
    mov $126, %edi
    syscall
    ud2
rb_trampoline_end:

/* The debugger rendezvous (runbottle(8), DEBUGGING): called once the program and its loader are
 * mapped and the program's auxv is installed, just before runbottle unmaps itself. A debugger
 * saw runbottle's auxv at the exec stop; stopping here it can read the program's. The note
 * (os/runbottle_note.inc) gives its offset from the entry point: no symbols needed. */
    .globl rb_debug_state
    .hidden rb_debug_state
    .type rb_debug_state, @function
rb_debug_state:
    ret
    .size rb_debug_state, . - rb_debug_state

#include "../runbottle_note.inc"

    .section .note.GNU-stack, "", @progbits
