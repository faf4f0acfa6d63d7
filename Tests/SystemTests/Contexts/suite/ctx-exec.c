/* Puts the context suite's probe under a kernel restriction that no packaged tool applies,
 * then execs it: ctx-exec [--mdwe] [--mdwe-seccomp] -- PROGRAM ARGS...
 *   --mdwe          prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN), Linux 6.3+
 *   --mdwe-seccomp  the seccomp filter systemd installs for MemoryDenyWriteExecute=yes
 *                   (src/shared/seccomp-util.c seccomp_memory_deny_write_execute): mmap with
 *                   PROT_WRITE|PROT_EXEC, mprotect and pkey_mprotect with PROT_EXEC, and shmat
 *                   with SHM_EXEC fail with EPERM. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#endif
#define ARG_LO(n) (offsetof(struct seccomp_data, args) + 8 * (n))

static int mdwe_seccomp(void)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 0, 4),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(2)),
        BPF_STMT(BPF_ALU | BPF_AND | BPF_K, PROT_WRITE | PROT_EXEC),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PROT_WRITE | PROT_EXEC, 9, 8),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW), /* unreachable: keeps offsets plain */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mprotect, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pkey_mprotect, 1, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_shmat, 0, 4),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(2)),
        BPF_STMT(BPF_ALU | BPF_AND | BPF_K, PROT_EXEC | SHM_EXEC),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    };
    struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };
    if (geteuid() != 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

int main(int argc, char **argv)
{
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--mdwe") == 0) {
            if (prctl(PR_SET_MDWE, 1, 0, 0, 0) != 0) {
                perror("ctx-exec: prctl(PR_SET_MDWE)");
                return 125;
            }
        } else if (strcmp(argv[i], "--mdwe-seccomp") == 0) {
            if (mdwe_seccomp() != 0) {
                perror("ctx-exec: seccomp");
                return 125;
            }
        } else {
            fprintf(stderr, "ctx-exec: unknown option %s\n", argv[i]);
            return 125;
        }
    }
    if (i + 1 >= argc) {
        fprintf(stderr, "usage: ctx-exec [--mdwe] [--mdwe-seccomp] -- PROGRAM ARGS...\n");
        return 125;
    }
    execv(argv[i + 1], argv + i + 1);
    perror("ctx-exec: execv");
    return 127;
}
