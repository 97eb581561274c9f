/* Writes the seed corpus of the GGUF fuzzer into a directory: valid files of
 * versions 2 and 3 from tests/gguf/gguf_builder.c, with several alignments,
 * a tokenizer, every value type and tensors of several types. */
#include <stdio.h>
#include <string.h>

#include "gguf_builder.h"
#include "weft/abi/dtype.h"

static int write_seed(const char* dir, const char* name, const gguf_bytes_t* file) {
  char path[4096];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  FILE* out = fopen(path, "wb");
  if (!out) {
    fprintf(stderr, "gguf_seeds: cannot write '%s'\n", path);
    return 1;
  }
  size_t written = fwrite(file->data, 1, file->size, out);
  int closed = fclose(out);
  if (written != file->size || closed != 0) {
    fprintf(stderr, "gguf_seeds: short write to '%s'\n", path);
    return 1;
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: gguf_seeds <directory>\n");
    return 2;
  }
  const char* dir = argv[1];
  int failures = 0;
  gguf_bytes_t file;

  gguf_build_everything(3, 32, &file);
  failures += write_seed(dir, "everything-v3.gguf", &file);
  gguf_bytes_free(&file);
  gguf_build_everything(2, 32, &file);
  failures += write_seed(dir, "everything-v2.gguf", &file);
  gguf_bytes_free(&file);
  gguf_build_everything(3, 8, &file);
  failures += write_seed(dir, "everything-align8.gguf", &file);
  gguf_bytes_free(&file);

  /* Small files reach the deeper checks in fewer mutations. */
  gguf_builder_t b;
  gguf_builder_init(&b, 3);
  gguf_kv_string(&b, "general.architecture", "llama", 5);
  gguf_kv_u32(&b, "llama.block_count", 1);
  const int64_t ne_q[2] = {32, 2};
  const int64_t ne_f[1] = {4};
  gguf_tensor(&b, "a", WEFT_DTYPE_Q4_0, 2, ne_q, 1);
  gguf_tensor(&b, "b", WEFT_DTYPE_F32, 1, ne_f, 2);
  gguf_builder_finish(&b, true, &file);
  gguf_builder_free(&b);
  failures += write_seed(dir, "two-tensors.gguf", &file);
  gguf_bytes_free(&file);

  gguf_builder_init(&b, 3);
  static const char* const tokens[3] = {"<s>", "a", "bc"};
  const float scores[3] = {0.0f, -1.0f, -2.0f};
  gguf_kv_string_array(&b, "tokenizer.ggml.tokens", 3, tokens, NULL);
  gguf_kv_array(&b, "tokenizer.ggml.scores", 6, 4, 3, scores);
  gguf_kv_bool(&b, "tokenizer.ggml.add_bos_token", true);
  gguf_builder_finish(&b, false, &file);
  gguf_builder_free(&b);
  failures += write_seed(dir, "tokenizer-only.gguf", &file);
  gguf_bytes_free(&file);

  gguf_builder_init(&b, 3);
  gguf_kv_alignment(&b, 64);
  const int64_t ne_k[1] = {256};
  gguf_tensor(&b, "k", WEFT_DTYPE_Q6_K, 1, ne_k, 3);
  gguf_builder_finish(&b, true, &file);
  gguf_builder_free(&b);
  failures += write_seed(dir, "align64-q6k.gguf", &file);
  gguf_bytes_free(&file);

  gguf_builder_init(&b, 2);
  gguf_builder_finish(&b, false, &file);
  gguf_builder_free(&b);
  failures += write_seed(dir, "header-only.gguf", &file);
  gguf_bytes_free(&file);
  return failures ? 1 : 0;
}
