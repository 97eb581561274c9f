/* A host app in under 100 lines: load a GGUF model with libweft, format one
 * chat turn with the model's template, and stream a greedy answer.
 *
 *   cc chat.c $(pkg-config --cflags --libs weft) -o chat
 *   ./chat MODEL.gguf "What is the capital of France?"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft/weft.h"

typedef struct app_t {
  const weft_tokenizer_t* tokenizer;
} app_t;

/* Prints each token as it comes; returning true keeps generating. */
static bool app_on_token(void* user, int32_t token) {
  const app_t* app = (const app_t*)user;
  char piece[256];
  size_t length = 0;
  if (weft_tokenizer_token_to_piece(app->tokenizer, token, false, piece, sizeof(piece),
                                    &length) == WEFT_OK) {
    fwrite(piece, 1, length, stdout);
    fflush(stdout);
  }
  return true;
}

static int app_fail(weft_status_t status) {
  fprintf(stderr, "chat: %s: %s\n", weft_status_code_name(weft_status_code(status)),
          weft_status_message(status));
  weft_status_free(status);
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s MODEL.gguf QUESTION\n", argv[0]);
    return 2;
  }
  weft_runtime_t* runtime = NULL;
  weft_model_t* model = NULL;
  weft_session_t* session = NULL;
  app_t app = {NULL};
  char text[4096];
  int32_t ids[1024];
  size_t text_length = 0, count = 0;
  uint32_t generated = 0;

  /* The runtime finds the plugins; the model maps the file, the session
   * holds the KV cache. NULL options mean the defaults (the best device). */
  weft_status_t status = weft_runtime_create(NULL, weft_allocator_system(), &runtime);
  if (status == WEFT_OK) status = weft_model_load(runtime, argv[1], NULL, &model);
  if (status == WEFT_OK) status = weft_model_tokenizer(model, &app.tokenizer);
  if (status == WEFT_OK) status = weft_session_create(model, NULL, &session);

  /* One user turn in the model's chat template, then its token ids. */
  weft_chat_message_t turn = {"user", argv[2]};
  if (status == WEFT_OK) {
    status = weft_tokenizer_chat_format(app.tokenizer, &turn, 1, true, text, sizeof(text),
                                        &text_length);
  }
  if (status == WEFT_OK) {
    status = weft_tokenizer_encode(app.tokenizer, text, text_length,
                                   WEFT_TOKENIZE_ADD_SPECIAL | WEFT_TOKENIZE_PARSE_SPECIAL, ids,
                                   sizeof(ids) / sizeof(ids[0]), &count);
  }

  /* Prompt in batches, then greedy decoding (NULL sampler parameters). */
  if (status == WEFT_OK) status = weft_session_feed(session, ids, count);
  if (status == WEFT_OK) {
    status = weft_session_generate(session, NULL, 128, app_on_token, &app, &generated);
  }
  printf("\n");

  int exit_code = status == WEFT_OK ? 0 : app_fail(status);
  weft_session_destroy(session);
  weft_model_destroy(model);
  weft_runtime_destroy(runtime);
  return exit_code;
}
