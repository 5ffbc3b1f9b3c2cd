/* pages.h: status texts, error pages and HTTP dates (pages.c). */
#ifndef TRESTY_ENGINE_PAGES_H
#define TRESTY_ENGINE_PAGES_H
#include <stddef.h>
#include <time.h>
const char *te_reason(int status);
/* The worker's name in the Server header and error pages: "tresty", or "tresty/VERSION"
   (server_tokens on at the http level); te_software_for: a location's (on: with the version) */
const char *te_software(void);
const char *te_software_for(int on);
void te_set_software(const char *name, size_t len, const char *full, size_t flen);
/* nginx's page for status (494-497: a 400 page that says why; 498: the 404 page) signed name
   (NULL: the worker's); returns its length */
int te_page(int status, const char *name, char *buf, size_t cap);
/* the status a status line carries: 494-497 go out as 400, as nginx sends them */
int te_wire_status(int status);
/* whether nginx has a page for status (ngx_http_error_pages); others go out with no body */
int te_has_page(int status);
/* Date header value for now, cached per second */
const char *te_date(void);
void te_http_time(time_t t, char *buf, size_t cap);
#endif
