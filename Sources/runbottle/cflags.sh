# The C core's compiler flags, sourced by every build of its C: runbottle (build.sh), the status
# canary (../canary/build.sh) and the fuzzers (Fuzz/run.sh), so that they cannot drift apart.
# RB_CFLAGS: the language and warnings, for all three.
RB_CFLAGS="-std=c11 -Wall -Wextra -Werror"
# RB_FREESTANDING: no libc, no runtime, nothing that needs a relocation or a thread pointer (fs
# is 0 when the kernel hands over control), for runbottle and the canary.
RB_FREESTANDING="-Os -ffreestanding -fno-builtin -fno-stack-protector \
-fno-asynchronous-unwind-tables -fPIE -fvisibility=hidden -fcf-protection=none -nostdlib \
-Wl,-z,noexecstack -Wl,--build-id=none -Wl,-z,norelro -Wl,-z,noseparate-code"
