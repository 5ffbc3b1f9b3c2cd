/* The pause a spinning loop makes between polls: tells the core a spin-wait runs (x86 `pause`,
   arm64 `yield`), so the sibling hyperthread and the memory bus are not hammered. */
#ifndef TR_PAUSE_H
#define TR_PAUSE_H

static inline void tr_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

#endif
