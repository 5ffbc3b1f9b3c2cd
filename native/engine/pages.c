/* pages.c: nginx's status lines and error pages (with "tresty" where nginx prints its name),
   and the Date header, for the answers the engine writes itself. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "pages.h"

const char *te_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Moved Temporarily";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Time-out";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Request Entity Too Large";
    case 414: return "Request-URI Too Large";
    case 415: return "Unsupported Media Type";
    case 416: return "Requested Range Not Satisfiable";
    case 421: return "Misdirected Request";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Temporarily Unavailable";
    case 504: return "Gateway Time-out";
    case 505: return "HTTP Version Not Supported";
    case 507: return "Insufficient Storage";
    default: return "";
    }
}

int te_has_page(int status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308
           || (status >= 400 && status <= 416 && status != 407) || status == 421 || status == 429
           || (status >= 494 && status <= 498) || (status >= 500 && status <= 505) || status == 507;
}

/* nginx's own 49x codes, sent as 400 with a page that says why (observed on nginx 1.22) */
static const char *own_line(int status)
{
    switch (status) {
    case 494: return "Request Header Or Cookie Too Large";
    case 495: return "The SSL certificate error";
    case 496: return "No required SSL certificate was sent";
    case 497: return "The plain HTTP request was sent to HTTPS port";
    default: return NULL;
    }
}

int te_wire_status(int status)
{
    return own_line(status) ? 400 : status;
}

/* server_tokens: set once by JS at start (setSoftware), before the engine answers anything: the
   worker's name (the http level's) and the one with the version (a location's `on`) */
static char software[64] = "tresty";
static char software_full[64] = "tresty";

const char *te_software(void)
{
    return software;
}

const char *te_software_for(int on)
{
    return on ? software_full : "tresty";
}

static void keep(char *dst, size_t cap, const char *name, size_t len)
{
    if (len >= cap) len = cap - 1;
    memcpy(dst, name, len);
    dst[len] = 0;
}

void te_set_software(const char *name, size_t len, const char *full, size_t flen)
{
    keep(software, sizeof software, name, len);
    keep(software_full, sizeof software_full, full, flen);
}

int te_page(int status, const char *name, char *buf, size_t cap)
{
    char tail[128];
    snprintf(tail, sizeof tail, "<hr><center>%s</center>\r\n</body>\r\n</html>\r\n", name ? name : software);
    const char *own = own_line(status);
    if (own)
        return snprintf(buf, cap,
                        "<html>\r\n<head><title>400 %s</title></head>\r\n<body>\r\n"
                        "<center><h1>400 Bad Request</h1></center>\r\n<center>%s</center>\r\n%s",
                        own, own, tail);
    /* 498 keeps its status line but nginx's table has the 404 page in its slot */
    if (status == 498) status = 404;
    /* nginx's 401 page says "Authorization Required" where its status line says "Unauthorized",
       its 302 page "Found" where the line says "Moved Temporarily" */
    const char *r = status == 401 ? "Authorization Required" : status == 302 ? "Found" : te_reason(status);
    return snprintf(buf, cap, "<html>\r\n<head><title>%d%s%s</title></head>\r\n<body>\r\n<center><h1>%d%s%s</h1></center>\r\n%s",
                    status, *r ? " " : "", r, status, *r ? " " : "", r, tail);
}

const char *te_date(void)
{
    static char buf[40];
    static time_t last = -1;
    time_t now = time(NULL);
    if (now != last) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        last = now;
    }
    return buf;
}

/* Last-Modified of static files: the files of a site share few mtimes, so the last one is kept. */
void te_http_time(time_t t, char *buf, size_t cap)
{
    static time_t last = -1;
    static char text[40];
    if (t != last) {
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        last = t;
    }
    snprintf(buf, cap, "%s", text);
}
