#include <pthread.h>
#include <stdio.h>
static __thread int tls = 5;
static void *work(void *arg) { tls += (int)(long)arg; return (void *)(long)tls; }
int main(void)
{
    pthread_t t[4];
    long sum = 0;
    for (long i = 0; i < 4; i++) pthread_create(&t[i], 0, work, (void *)i);
    for (int i = 0; i < 4; i++) { void *r; pthread_join(t[i], &r); sum += (long)r; }
    printf("threads=%ld main_tls=%d\n", sum, tls);
    return 0;
}
