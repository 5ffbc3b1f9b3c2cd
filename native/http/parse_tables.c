/*
 * parse_tables.c: the byte classes the state machine (parse.c) scans with, one table lookup per
 * byte in its loops.
 */
#include "parse_int.h"

/* 1: a byte of a header name nginx takes as valid (letters, digits, '-'). */
const uint8_t trh_name_ok[256] = {
    ['-'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};

/* Classes of target bytes (U_*, parse_int.h): 0 plain, else a byte the path scan must look at. */
#define P U_PLAIN
#define B U_BAD /* nginx 1.22 refuses controls, DEL and spaces in the target */
#define S U_SP
#define L U_SLASH
#define D U_DOT
#define C U_PCT
#define H U_HASH
#define Q U_QUERY
#define R U_CR
#define N U_LF
const uint8_t trh_uri_class[256] = {
    B, B, B, B, B, B, B, B, B, B, N, B, B, R, B, B,
    B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, B,
    S, P, P, H, P, C, P, P, P, P, P, P, P, P, D, L,
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, Q,
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, B,
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,
};
#undef P
#undef B
#undef S
#undef L
#undef D
#undef C
#undef H
#undef Q
#undef R
#undef N

/* 1: a byte that ends or breaks a header value (NUL, LF, CR); everything else is value. */
const uint8_t trh_value_stop[256] = {[0] = 1, ['\n'] = 1, ['\r'] = 1};
