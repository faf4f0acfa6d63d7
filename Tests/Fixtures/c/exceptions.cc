#include <cstdio>
#include <stdexcept>
#include <string>
static void thrower(int n) { if (n > 2) throw std::runtime_error("deep " + std::to_string(n)); thrower(n + 1); }
int main() {
    try { thrower(0); } catch (const std::exception &e) { std::printf("caught=%s\n", e.what()); }
    return 0;
}
