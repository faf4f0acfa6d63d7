/* The trampoline table's byte offsets, read by os/<arch>/start.S and asserted against struct
 * rb_tramp in os/runbottle_os.h: plain #defines, so the assembler can include this file. */
#ifndef RB_TRAMPOLINE_LAYOUT_H
#define RB_TRAMPOLINE_LAYOUT_H

#define RB_TRAMP_NCALLS      0
#define RB_TRAMP_MSG         8
#define RB_TRAMP_MSGLEN      16
#define RB_TRAMP_SP          24
#define RB_TRAMP_ENTRY       32
#define RB_TRAMP_CALLS       40
/* One call: the system call number, six arguments, and whether a failure is fatal. */
#define RB_TRAMP_CALL_NR     0
#define RB_TRAMP_CALL_ARG0   8
#define RB_TRAMP_CALL_ARG2   24
#define RB_TRAMP_CALL_ARG4   40
#define RB_TRAMP_CALL_FATAL  56
#define RB_TRAMP_CALL_SIZE   64

#endif
