/* Test runtime: a library that forgot to export libffi_init. */
int not_libffi_init(char *cfg, void *tq) {
  (void)cfg;
  (void)tq;
  return 0;
}
