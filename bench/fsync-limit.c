// Copied from the project's shared benchmark helpers (shared/bench/fsync-limit.c), unchanged below
// this line, so a clone has it; laforge-bench ingest compiles and runs it.
// fsync-limit.c - the raw limit for a durable append-only log on this disk: append + fdatasync rates.
// Build: cc -O2 -o fsync-limit fsync-limit.c
// Usage: ./fsync-limit <dir> <mode> [seconds]   (e.g. syncN:1000 = 1000 events of 600 B, then one fdatasync)
//   mode = seq      : 1 GiB sequential write (1 MiB writes) + fdatasync, MB/s
//          sync1    : O_APPEND write(600B)+fdatasync per event, events/s
//          syncN:<n>: O_APPEND n x write(600B) then one fdatasync, events/s
//          batchw:<n>: O_APPEND one write(n*600B) then one fdatasync, events/s
//          over1    : pwrite(600B) into pre-written+synced file, fdatasync each (no size change)
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}
static void die(const char *m) { perror(m); exit(1); }

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage\n"); return 2; }
    const char *dir = argv[1], *mode = argv[2];
    double secs = argc > 3 ? atof(argv[3]) : 5.0;
    char path[512];
    snprintf(path, sizeof path, "%s/disk_bench_%s_%d.dat", dir, mode, getpid());
    for (char *p = path + strlen(dir); *p; p++) if (*p == ':') *p = '_';
    char ev[600];
    memset(ev, 'x', sizeof ev);
    ev[0] = '{'; ev[598] = '}'; ev[599] = '\n';

    if (!strcmp(mode, "seq")) {
        size_t chunk = 1 << 20, total = (size_t)1 << 30;
        char *buf = aligned_alloc(4096, chunk);
        memset(buf, 'a', chunk);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) die("open");
        double t0 = now();
        for (size_t w = 0; w < total; w += chunk)
            if (write(fd, buf, chunk) != (ssize_t)chunk) die("write");
        double t1 = now();
        if (fdatasync(fd)) die("fdatasync");
        double t2 = now();
        printf("seq: %.1f MB/s incl fdatasync (buffered-only %.1f MB/s, fdatasync took %.2fs)\n",
               total / 1e6 / (t2 - t0), total / 1e6 / (t1 - t0), t2 - t1);
        close(fd); unlink(path);
        return 0;
    }
    if (!strcmp(mode, "over1")) {
        size_t prealloc = 64 << 20;
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) die("open");
        char *z = calloc(1, 1 << 20);
        for (size_t w = 0; w < prealloc; w += 1 << 20) if (write(fd, z, 1 << 20) != 1 << 20) die("write");
        if (fsync(fd)) die("fsync");
        long n = 0; off_t off = 0;
        double t0 = now(), t;
        do {
            if (pwrite(fd, ev, sizeof ev, off) != sizeof ev) die("pwrite");
            if (fdatasync(fd)) die("fdatasync");
            off += sizeof ev; if (off + 600 > (off_t)prealloc) off = 0;
            n++; t = now();
        } while (t - t0 < secs);
        printf("over1: %.0f events/s (%.3f ms per write+fdatasync)\n", n / (t - t0), 1000 * (t - t0) / n);
        close(fd); unlink(path);
        return 0;
    }
    int group = 1, onewrite = 0;
    if (!strcmp(mode, "sync1")) group = 1;
    else if (!strncmp(mode, "batchw:", 7)) { group = atoi(mode + 7); onewrite = 1; }
    else if (!strncmp(mode, "syncN:", 6)) group = atoi(mode + 6);
    else { fprintf(stderr, "bad mode\n"); return 2; }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    if (fd < 0) die("open");
    long n = 0, syncs = 0;
    double t0 = now(), t;
    do {
        if (onewrite) {  // one write() of the whole pre-serialized batch
            static char *bb; if (!bb) { bb = malloc((size_t)group * 600); for (int i = 0; i < group; i++) memcpy(bb + (size_t)i * 600, ev, 600); }
            if (write(fd, bb, (size_t)group * 600) != (ssize_t)group * 600) die("write");
        } else
        for (int i = 0; i < group; i++)
            if (write(fd, ev, sizeof ev) != sizeof ev) die("write");
        if (fdatasync(fd)) die("fdatasync");
        n += group; syncs++;
        t = now();
    } while (t - t0 < secs);
    printf("append %s group=%d: %.0f events/s, %.0f fdatasync/s (%.3f ms per commit), %.1f MB/s\n",
           onewrite ? "one-write" : "per-event-write", group, n / (t - t0), syncs / (t - t0), 1000 * (t - t0) / syncs, n * 600.0 / 1e6 / (t - t0));
    close(fd); unlink(path);
    return 0;
}
