#define _GNU_SOURCE
// A no-op Lambda custom runtime in C for the Runtime API benchmark (Benchmarks/runtime-api.sh): one keep-alive
// connection to AWS_LAMBDA_RUNTIME_API; for each event, GET /next, read it, POST `{}` as the response.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static char buffer[1 << 16];
static size_t held = 0;

static int fill(int fd) {
    ssize_t count = read(fd, buffer + held, sizeof buffer - held);
    if (count <= 0) exit(1);
    held += (size_t)count;
    return 0;
}

// Reads one response: its headers (the request id into `id`) and its body, dropped.
static void response(int fd, char *id) {
    char *end;
    while (!(end = memmem(buffer, held, "\r\n\r\n", 4))) fill(fd);
    size_t head = (size_t)(end - buffer) + 4;
    long length = 0;
    for (char *line = buffer; line < end; line = strstr(line, "\r\n") + 2) {
        if (strncasecmp(line, "Content-Length:", 15) == 0) length = strtol(line + 15, NULL, 10);
        if (id && strncasecmp(line, "Lambda-Runtime-Aws-Request-Id:", 30) == 0) {
            char *value = line + 30;
            while (*value == ' ') value++;
            size_t n = strcspn(value, "\r");
            memcpy(id, value, n);
            id[n] = 0;
        }
    }
    while (held < head + (size_t)length) fill(fd);
    memmove(buffer, buffer + head + length, held - head - (size_t)length);
    held -= head + (size_t)length;
}

int main(void) {
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    if (!api) return 2;
    char host[64];
    snprintf(host, sizeof host, "%s", api);
    char *colon = strchr(host, ':');
    *colon = 0;
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    inet_pton(AF_INET, host, &address.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) return 3;
    char id[128], request[512];
    for (;;) {
        int n = snprintf(request, sizeof request, "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: %s\r\n\r\n", api);
        if (write(fd, request, (size_t)n) != n) return 4;
        response(fd, id);
        n = snprintf(request, sizeof request,
                     "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: %s\r\nContent-Length: 2\r\n\r\n{}",
                     id, api);
        if (write(fd, request, (size_t)n) != n) return 4;
        response(fd, NULL);
    }
}
