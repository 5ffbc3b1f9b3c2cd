/* gzip_static.c: nginx's gzip_static for a file the engine serves (static.c), as
   src/phases/static.ts's gzipStatic: FILE.gz, a regular file, goes in FILE's place when the
   client takes gzip (`on`, by gzip's client rules) or to any client (`always`); with gzip_vary,
   `on` says Vary whenever FILE.gz is there (a directory too), served or not. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include "filters.h"

int te_gzip_static(te_conn *c, const te_loc *l, const char *file, char *gz, size_t cap, int *fd, struct stat *st, int *vary)
{
    int always = (l->gz_flags & TE_GZ_STATIC_ALWAYS) != 0;
    int ok = always ? 1 : te_gzip_client(c, l);
    *vary = 0;
    if (ok == 2) return TE_GZS_JS;
    if (!ok && !(l->gz_flags & TE_GZ_VARY)) return TE_GZS_PLAIN;
    int n = snprintf(gz, cap, "%s.gz", file);
    if (n < 0 || (size_t)n >= cap) return TE_GZS_JS;
    int f = open(gz, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (f < 0) return errno == ENOENT || errno == ENOTDIR ? TE_GZS_PLAIN : TE_GZS_JS; /* JS logs the others */
    if (fstat(f, st) < 0) {
        close(f);
        return TE_GZS_PLAIN;
    }
    /* Vary once FILE.gz opens, even as a directory (observed on nginx 1.22) */
    if (!always && (l->gz_flags & TE_GZ_VARY)) *vary = 1;
    if (!ok || !S_ISREG(st->st_mode)) {
        close(f);
        return TE_GZS_PLAIN;
    }
    *fd = f;
    return TE_GZS_GZ;
}
