/* libcap, the library (not a shelled-out setcap), for reading and setting file capabilities. */
#include <sys/capability.h>
