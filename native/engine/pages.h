/* pages.h: status texts, error pages and HTTP dates (pages.c). */
#ifndef TRESTY_ENGINE_PAGES_H
#define TRESTY_ENGINE_PAGES_H
#include <stddef.h>
#include <time.h>
const char *te_reason(int status);
/* nginx's page for status (494: the "Request Header Or Cookie Too Large" 400); returns its length */
int te_page(int status, char *buf, size_t cap);
/* whether nginx has a page for status (ngx_http_error_pages); others go out with no body */
int te_has_page(int status);
/* Date header value for now, cached per second */
const char *te_date(void);
void te_http_time(time_t t, char *buf, size_t cap);
#endif
