/* A plain TCP relay, the floor of what any forwarder costs per request on this
 * machine: each connection accepted on 127.0.0.1:PORT is joined to a new one to
 * 127.0.0.1:BACKEND_PORT, a thread per direction copying with read and write
 * (256 KiB at a time); no HTTP, no inspection. benches/relay.sh builds and runs it
 * with a forwarder's arguments, so that benches/forward_ab.sh can measure it.
 *
 *   cc -O2 -pthread benches/relay.c -o relay && ./relay PORT BACKEND_PORT
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

struct pair {
    int from, to;
};

/* With RELAY_SPLICE=1 in the environment the bytes go socket -> pipe -> socket with
 * splice(2) and are never copied into the process: the floor of a zero-copy forwarder. */
static int use_splice;

static int pump_splice(struct pair *p) {
    int pipe_fds[2];
    if (pipe(pipe_fds)) return -1;
    fcntl(pipe_fds[1], F_SETPIPE_SZ, 262144);
    for (int first = 1;; first = 0) {
        ssize_t n = splice(p->from, NULL, pipe_fds[1], NULL, 262144, SPLICE_F_MOVE);
        if (n < 0 && first && errno == EINVAL) {
            /* This kernel or socket cannot splice: copy instead. */
            close(pipe_fds[0]);
            close(pipe_fds[1]);
            return -1;
        }
        if (n <= 0) break;
        while (n > 0) {
            ssize_t w = splice(pipe_fds[0], NULL, p->to, NULL, (size_t)n, SPLICE_F_MOVE);
            if (w <= 0) goto out;
            n -= w;
        }
    }
out:
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return 0;
}

static void *pump(void *arg) {
    struct pair *p = arg;
    static __thread char buf[262144];
    if (use_splice && pump_splice(p) == 0) goto out;
    for (;;) {
        ssize_t n = read(p->from, buf, sizeof buf);
        if (n <= 0) break;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(p->to, buf + done, (size_t)(n - done));
            if (w <= 0) goto out;
            done += w;
        }
    }
out:
    shutdown(p->to, SHUT_WR);
    shutdown(p->from, SHUT_RD);
    free(p);
    return NULL;
}

static struct sockaddr_in loopback(int port) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static void start(int from, int to) {
    struct pair *p = malloc(sizeof *p);
    pthread_t t;
    if (!p) return;
    p->from = from;
    p->to = to;
    if (pthread_create(&t, NULL, pump, p) == 0) pthread_detach(t);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s PORT BACKEND_PORT\n", argv[0]);
        return 2;
    }
    use_splice = getenv("RELAY_SPLICE") && atoi(getenv("RELAY_SPLICE")) == 1;
    struct sockaddr_in listen_at = loopback(atoi(argv[1]));
    struct sockaddr_in backend = loopback(atoi(argv[2]));
    int one = 1;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(l, (struct sockaddr *)&listen_at, sizeof listen_at) || listen(l, 128)) {
        perror("relay: listen");
        return 1;
    }
    for (;;) {
        int c = accept(l, NULL, NULL);
        if (c < 0) continue;
        int b = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(b, (struct sockaddr *)&backend, sizeof backend)) {
            close(c);
            close(b);
            continue;
        }
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        /* The descriptors stay open until the process ends: fine for a bench. */
        start(c, b);
        start(b, c);
    }
}
