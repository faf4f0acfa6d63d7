int in_library(int);
int main(int argc, char **argv) { int r = in_library(argc > 1); return r + 1; }
