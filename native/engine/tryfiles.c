/* tryfiles.c: nginx's try_files phase for the shapes of a stock conf (src/phases/try_files.ts
   does the whole of it): `$uri` must be a file, `$uri/` a directory (the URI then stays $uri:
   nginx drops the slash it added); the first that exists wins. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "tryfiles.h"

int te_try_files(const te_loc *l, const char *uri, uint32_t ulen, char *out, uint32_t cap, uint32_t *olen)
{
    if (l->ntry == 0) return TE_TRY_NONE;
    for (uint32_t i = 0; i < l->ntry; i++) {
        int dir = l->try_args[i] == 1;
        /* `$uri/` tests $uri as a directory; the URI stays $uri (its added slash is dropped) */
        char file[4096];
        int k = snprintf(file, sizeof file, "%.*s%.*s", (int)l->root.n, l->root.p, (int)ulen, uri);
        if (k < 0 || (size_t)k >= sizeof file) return TE_TRY_JS;
        struct stat st;
        if (stat(file, &st) != 0 || (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))) continue;
        return TE_TRY_FOUND;
    }
    if (l->try_code) return TE_TRY_CODE;
    if (l->try_uri.n > cap) return TE_TRY_JS;
    memcpy(out, l->try_uri.p, l->try_uri.n);
    *olen = l->try_uri.n;
    return TE_TRY_REDIRECT;
}
