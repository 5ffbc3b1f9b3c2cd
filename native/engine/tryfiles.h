/* tryfiles.h: try_files of a native location (`$uri`, `$uri/`, then `=CODE` or a URI). */
#ifndef TRESTY_ENGINE_TRYFILES_H
#define TRESTY_ENGINE_TRYFILES_H
#include <stdint.h>
#include "route.h"

enum te_try { TE_TRY_NONE = 0, TE_TRY_FOUND = 1, TE_TRY_CODE = 2, TE_TRY_REDIRECT = 3, TE_TRY_JS = -1 };
/* FOUND: the location serves the URI as it is; CODE: answer l->try_code; REDIRECT: an
   internal redirect to out; JS: a name too long for the engine; NONE: the location has none. */
int te_try_files(const te_loc *l, const char *uri, uint32_t ulen, char *out, uint32_t cap, uint32_t *olen);
#endif
