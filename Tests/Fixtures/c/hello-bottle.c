#include <stdio.h>
int main(void) { puts("hello from a bottle"); return 0; }
