/* weft_model_load on small crafted GGUF files: each refusal names the
 * missing key, the unsupported architecture or the tensor and its shapes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "weft/llm.h"
#include "weft/runtime.h"

typedef struct gguf_writer_t {
  unsigned char buf[8192];
  size_t len;
} gguf_writer_t;

static void put(gguf_writer_t* w, const void* p, size_t n) {
  assert_true(w->len + n <= sizeof(w->buf));
  memcpy(w->buf + w->len, p, n);
  w->len += n;
}
static void put_u32(gguf_writer_t* w, uint32_t v) { put(w, &v, 4); }
static void put_u64(gguf_writer_t* w, uint64_t v) { put(w, &v, 8); }
static void put_str(gguf_writer_t* w, const char* s) {
  put_u64(w, strlen(s));
  put(w, s, strlen(s));
}
static void kv_str(gguf_writer_t* w, const char* k, const char* v) {
  put_str(w, k);
  put_u32(w, 8);  /* string */
  put_str(w, v);
}
static void kv_u32(gguf_writer_t* w, const char* k, uint32_t v) {
  put_str(w, k);
  put_u32(w, 4);  /* uint32 */
  put_u32(w, v);
}
static void kv_f32(gguf_writer_t* w, const char* k, float v) {
  put_str(w, k);
  put_u32(w, 6);  /* float32 */
  put(w, &v, 4);
}

typedef struct tensor_spec_t {
  const char* name;
  uint32_t n_dims;
  uint64_t ne[2];
} tensor_spec_t;

/* A GGUF v3 file: `arch`, the llama hyperparameters (all of them, or without
 * context_length), and f32 tensors filled with zeros. */
static void write_model(const char* path, const char* arch, bool all_keys,
                        const tensor_spec_t* tensors, size_t n_tensors) {
  gguf_writer_t w = {{0}, 0};
  put(&w, "GGUF", 4);
  put_u32(&w, 3);
  put_u64(&w, n_tensors);
  put_u64(&w, all_keys ? 8 : 1);
  kv_str(&w, "general.architecture", arch);
  if (all_keys) {
    kv_u32(&w, "llama.context_length", 32);
    kv_u32(&w, "llama.embedding_length", 8);
    kv_u32(&w, "llama.block_count", 1);
    kv_u32(&w, "llama.feed_forward_length", 16);
    kv_u32(&w, "llama.attention.head_count", 2);
    kv_u32(&w, "llama.attention.head_count_kv", 1);
    kv_f32(&w, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
  }
  uint64_t offset = 0;
  for (size_t i = 0; i < n_tensors; ++i) {
    put_str(&w, tensors[i].name);
    put_u32(&w, tensors[i].n_dims);
    uint64_t count = 1;
    for (uint32_t d = 0; d < tensors[i].n_dims; ++d) {
      put_u64(&w, tensors[i].ne[d]);
      count *= tensors[i].ne[d];
    }
    put_u32(&w, 0);  /* f32 */
    put_u64(&w, offset);
    offset += (count * 4 + 31) / 32 * 32;
  }
  while (w.len % 32) put(&w, "", 1);
  FILE* f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(w.buf, 1, w.len, f), w.len);
  static const unsigned char zeros[4096];
  assert_true(offset <= sizeof(zeros));
  if (offset) assert_int_equal(fwrite(zeros, 1, offset, f), offset);
  fclose(f);
}

static weft_status_t load(const char* path) {
  weft_runtime_options_t o;
  weft_runtime_options_init(&o);
  weft_runtime_t* rt = NULL;
  assert_null(weft_runtime_create(&o, weft_allocator_system(), &rt));
  weft_model_t* m = NULL;
  weft_status_t st = weft_model_load(rt, path, NULL, &m);
  weft_model_destroy(m);
  weft_runtime_destroy(rt);
  return st;
}

static void expect(weft_status_t st, weft_status_code_t code, const char* text) {
  assert_int_equal(weft_status_code(st), code);
  if (!strstr(weft_status_message(st), text)) {
    fail_msg("message '%s' lacks '%s'", weft_status_message(st), text);
  }
  weft_status_free(st);
}

static char g_path[64];

static void missing_key_is_named(void** state) {
  (void)state;
  tensor_spec_t t[1] = {{"token_embd.weight", 2, {8, 16}}};
  write_model(g_path, "llama", false, t, 1);
  expect(load(g_path), WEFT_STATUS_NOT_FOUND, "llama.context_length");
}

static void unknown_architecture_is_named(void** state) {
  (void)state;
  tensor_spec_t t[1] = {{"token_embd.weight", 2, {8, 16}}};
  write_model(g_path, "mamba", true, t, 1);
  expect(load(g_path), WEFT_STATUS_UNSUPPORTED, "'mamba'");
}

static void missing_tensor_is_named(void** state) {
  (void)state;
  tensor_spec_t t[1] = {{"token_embd.weight", 2, {8, 16}}};
  write_model(g_path, "llama", true, t, 1);
  expect(load(g_path), WEFT_STATUS_NOT_FOUND, "blk.0.attn_norm.weight");
}

static void wrong_shape_is_named(void** state) {
  (void)state;
  tensor_spec_t t[3] = {{"token_embd.weight", 2, {8, 16}},
                        {"blk.0.attn_norm.weight", 1, {8, 1}},
                        {"blk.0.attn_q.weight", 2, {8, 6}}};
  write_model(g_path, "llama", true, t, 3);
  expect(load(g_path), WEFT_STATUS_INVALID_ARGUMENT,
         "'blk.0.attn_q.weight': expected [8, 8], got [8, 6, 1, 1]");
}

int main(void) {
  snprintf(g_path, sizeof(g_path), "/tmp/weft-llm-model-test-%d.gguf", (int)getpid());
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(missing_key_is_named),
      cmocka_unit_test(unknown_architecture_is_named),
      cmocka_unit_test(missing_tensor_is_named),
      cmocka_unit_test(wrong_shape_is_named),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  unlink(g_path);
  return rc;
}
