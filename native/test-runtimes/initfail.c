/* Test runtime: libffi_init refuses to start (rc 5). */
int libffi_init(char *cfg, void *tq) {
  (void)cfg;
  (void)tq;
  return 5;
}
