/* aarch64 entry and trampoline: hands the initial stack pointer to C, and later, from a copy of
 * its own, runs the last system calls and jumps to the loader (see x86_64/start.S; the table is
 * struct rb_tramp in os/runbottle_os.h, at the offsets of os/trampoline_layout.h). */
#include "../trampoline_layout.h"
    .text
    .globl _start
    .type _start, %function
_start:
    mov x29, #0
    mov x30, #0
    mov x0, sp
    bl rb_main
    brk #0
    .size _start, . - _start

    .globl rb_trampoline, rb_trampoline_end
    .hidden rb_trampoline, rb_trampoline_end
rb_trampoline:
    mov x19, x0
    ldr x20, [x19, #RB_TRAMP_NCALLS]
    add x21, x19, #RB_TRAMP_CALLS
1:  cbz x20, 3f
    ldr x8, [x21, #RB_TRAMP_CALL_NR]
    ldp x0, x1, [x21, #RB_TRAMP_CALL_ARG0]
    ldp x2, x3, [x21, #RB_TRAMP_CALL_ARG2]
    ldp x4, x5, [x21, #RB_TRAMP_CALL_ARG4]
    svc #0
    ldr x9, [x21, #RB_TRAMP_CALL_FATAL]
    cbz x9, 2f
    cmn x0, #4095
    b.hs 4f
2:  add x21, x21, #RB_TRAMP_CALL_SIZE
    sub x20, x20, #1
    b 1b
    /* x0 = 0: no function for atexit, as the kernel starts a process. */
3:
#if RB_BENCH_STAGE == 6
    mov x8, #94                 /* exit_group(0): see RB_STAGE in os/runbottle_os.h */
    mov x0, #0
    svc #0
#endif
    /* The entry first: once sp moves up, the table is below it (see x86_64/start.S). */
    ldr x16, [x19, #RB_TRAMP_ENTRY]
    ldr x9, [x19, #RB_TRAMP_SP]
    mov sp, x9
    mov x0, #0
    mov x1, #0
    mov x2, #0
    mov x3, #0
    mov x4, #0
    mov x5, #0
    mov x19, #0
    mov x20, #0
    mov x21, #0
    mov x29, #0
    mov x30, #0
    br x16
4:  mov x8, #64                 /* write(2, msg, len) */
    mov x0, #2
    ldr x1, [x19, #RB_TRAMP_MSG]
    ldr x2, [x19, #RB_TRAMP_MSGLEN]
    svc #0
    mov x8, #94                 /* exit_group(126) */
    mov x0, #126
    svc #0
    brk #0
rb_trampoline_end:

/* The debugger rendezvous and its note: see x86_64/start.S. */
    .globl rb_debug_state
    .hidden rb_debug_state
    .type rb_debug_state, %function
rb_debug_state:
    ret
    .size rb_debug_state, . - rb_debug_state

#include "../runbottle_note.inc"

    .section .note.GNU-stack, "", %progbits
