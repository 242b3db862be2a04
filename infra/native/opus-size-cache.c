/*
 * libtapedeck-opus-size-cache.so: preloaded into every pipeline host (LD_PRELOAD, set by
 * pipelines/supervisor.ts), it answers opus_decoder_get_size() from a cache.
 *
 * Why: GStreamer's opusdec decodes every packet with opus_multistream_decode(), and libopus 1.3.1
 * (Debian bookworm's libopus0) works out the per-stream decoder offsets on each call with
 * opus_decoder_get_size(2) and opus_decoder_get_size(1). Debian builds libopus with custom modes,
 * where that size goes through opus_custom_mode_create(), which starts by probing the CPU with
 * CPUID. On a virtual machine CPUID traps to the hypervisor: under perf, the two instructions
 * after those CPUIDs held a quarter of the composite's audio threads' samples, 4% of a 9-host
 * composite's CPU (README, Measured).
 *
 * The answer depends on the channel count only (1 or 2: the sizes of libopus's own decoder
 * structures), so the first answer per count is kept and returned from then on. The real function
 * is found in libopus itself (dlopen RTLD_NOLOAD: it is loaded, since only its code calls this),
 * never RTLD_NEXT, which cannot see a library GStreamer loaded with RTLD_LOCAL. If it cannot be
 * found the process aborts with a message: a wrong size here would corrupt memory.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*get_size_fn)(int channels);
int opus_decoder_get_size(int channels);

static void die(const char *why) {
  static const char prefix[] = "libtapedeck-opus-size-cache: ";
  (void)!write(2, prefix, sizeof prefix - 1);
  (void)!write(2, why, strlen(why));
  (void)!write(2, "\n", 1);
  abort();
}

static get_size_fn real_get_size(void) {
  static get_size_fn real;
  get_size_fn f = __atomic_load_n(&real, __ATOMIC_ACQUIRE);
  if (f) return f;
  void *lib = dlopen("libopus.so.0", RTLD_LAZY | RTLD_NOLOAD);
  if (!lib) die("libopus.so.0 is not loaded");
  f = (get_size_fn)dlsym(lib, "opus_decoder_get_size");
  dlclose(lib);
  if (!f || f == (get_size_fn)opus_decoder_get_size) die("libopus.so.0 has no opus_decoder_get_size of its own");
  __atomic_store_n(&real, f, __ATOMIC_RELEASE);
  return f;
}

int opus_decoder_get_size(int channels) {
  static int cached[3];
  /* libopus answers 0 for any other count; so do we, without asking it. */
  if (channels < 1 || channels > 2) return 0;
  int size = __atomic_load_n(&cached[channels], __ATOMIC_RELAXED);
  if (size) return size;
  size = real_get_size()(channels);
  __atomic_store_n(&cached[channels], size, __ATOMIC_RELAXED);
  return size;
}
