/*
 * route.h: the native routes, built by JS at conf load (src/http/native-plan.ts) for the locations
 * that need nothing from JS: static files from `root`, `return` with a constant text, and the
 * error pages of both. The engine finds the location as nginx does (exact, longest prefix, `^~`);
 * when the answer could depend on a regex location or on anything JS does, the request goes to JS.
 *
 * The plan is a flat list of u32 words and strings (u32 length, bytes, padded to 4):
 *   u32 version (1)
 *   u32 ntypes, then ntypes x (str ext, str type)          lower-case extensions, sorted
 *   u32 nlocs, then per location (its id is its index):
 *     u32 kind (TE_K_*), u32 action (TE_ACT_*), str pattern, u32 has_regex_children,
 *     u32 nchildren, nchildren x u32 child id (prefixes longest first),
 *     str root, u32 nindex, nindex x str, str default_type, u32 flags (TE_LF_*),
 *     u32 return code, str return text, u32 keepalive_timeout ms,
 *     str add_header lines for nginx's status list (all, `always` too, in order), str the `always`
 *     ones for other statuses ("Name: v\r\n"...),
 *     then the filters (src/http/native-plan-extras.ts): u32 gzip flags (TE_GZ_*), u32 gzip_min_length,
 *     u32 gzip_comp_level, str gzip_types ("type\n"...), str charset, str charset_types ("type\n"...), u32 expires
 *     (TE_EXP_*), i32 its seconds, u32 ntry, ntry x u32 (0 `$uri`, 1 `$uri/`), u32 try_files
 *     `=CODE` (0: none), str its URI fallback
 *   u32 nservers, then per server: u32 defaults id, u32 has_regex, u32 ntop, ntop x u32 id, str name
 */
#ifndef TRESTY_ENGINE_ROUTE_H
#define TRESTY_ENGINE_ROUTE_H
#include <stdint.h>

enum te_kind { TE_K_PREFIX = 0, TE_K_EXACT = 1, TE_K_NOREGEX = 2 };
enum te_action { TE_ACT_JS = 0, TE_ACT_STATIC = 1, TE_ACT_RETURN = 2 };
#define TE_LF_LOG 1      /* access_log is on: report a LOG record */
#define TE_LF_SENDFILE 2 /* sendfile on */
#define TE_LF_HAS_TEXT 4 /* return has a text (a body, or the Location of a redirect) */
#define TE_LF_NOETAG 8     /* etag off */
#define TE_LF_IMS_OFF 16   /* if_modified_since off */
#define TE_LF_IMS_BEFORE 32 /* if_modified_since before */
#define TE_LF_TOKENS 64     /* server_tokens on: the Server header and pages name the version */
#define TE_GZ_ON 1          /* gzip on */
#define TE_GZ_VARY 2        /* gzip_vary on */
#define TE_GZ_V10 4         /* gzip_http_version 1.0 */
#define TE_GZ_MSIE6 8       /* gzip_disable msie6 */
#define TE_GZ_PROXIED_OFF 16 /* gzip_proxied off: a request with Via is never compressed */
#define TE_GZ_STATIC 32     /* gzip_static on (or always) */
#define TE_GZ_STATIC_ALWAYS 64 /* gzip_static always */
enum te_expires { TE_EXP_NONE = 0, TE_EXP_EPOCH = 1, TE_EXP_MAX = 2, TE_EXP_AFTER = 3 };

typedef struct te_str { const char *p; uint32_t n; } te_str;

typedef struct te_loc {
    uint32_t id, kind, action, has_regex, nchildren, nindex, flags, code, keepalive;
    te_str pattern, root, default_type, text, hdr_listed, hdr_always;
    uint32_t gz_flags, gz_min, gz_level, expires, ntry, try_code;
    int32_t expires_sec;
    uint32_t max_body; /* client_max_body_size, capped at 4G-1; 0: no limit */
    te_str gz_types, charset, charset_types, try_uri;
    const uint32_t *try_args;
    const uint32_t *children;
    te_str *index;
} te_loc;

typedef struct te_server {
    uint32_t defaults, has_regex, ntop;
    const uint32_t *top;
    te_str name; /* its first server_name, for error log lines */
} te_server;

struct te_routes {
    char *blob; /* the plan as given (strings point into it) */
    uint32_t ntypes;
    te_str *ext, *type;
    uint32_t nlocs;
    te_loc *locs;
    uint32_t nservers;
    te_server *servers;
};

struct te_routes *te_routes_parse(const char *plan, uint32_t len);
void te_routes_free(struct te_routes *r);
/* The location serving path on server s; NULL when only JS can tell (a regex could match). */
const te_loc *te_route_find(const struct te_routes *r, uint32_t s, const char *path, uint32_t len);
/* The MIME type of a file name, or NULL */
const te_str *te_mime(const struct te_routes *r, const char *name, uint32_t len);
#endif
