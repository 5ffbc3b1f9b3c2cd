/* Tiny parser for runtime cfg strings: "threads=4", "threads=4,top=10" or "4". */
#ifndef TRESTY_CFG_H
#define TRESTY_CFG_H

/* Value of integer key in cfg, or def when cfg is NULL, lacks the key, or the
 * value is not an integer in [min, max]. A bare number counts as key "threads". */
long tr_cfg_int(const char *cfg, const char *key, long def, long min, long max);

#endif
