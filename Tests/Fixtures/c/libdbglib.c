#include <stdlib.h>
#include <unistd.h>
int in_library(int wait) { if (wait) { sleep(30); return 0; } abort(); }
