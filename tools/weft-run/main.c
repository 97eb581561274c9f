/* weft-run: run a GGUF language model on a weft device and stream what it
 * generates.
 *
 *   weft-run [-m MODEL.gguf] (-p PROMPT | -t IDS | --chat) [-n N]
 *            [--device NAME] [--seed S] [--temp T] [--top-k K] [--top-p P]
 *            [--min-p P] [--repeat-penalty R] [--ctx N] [--batch N]
 *            [--kv f16|f32] [--ids]
 *
 * -p tokenizes the prompt as llama.cpp does by default (BOS when the GGUF
 * asks for it, special-token text parsed); -t takes token ids instead;
 * --chat formats with the model's chat template: with -p one user turn,
 * without it a conversation read line by line from stdin. Text is printed as
 * it comes (--ids prints token ids instead). The last line, on stderr, is a
 * summary: model, device, load time, prompt and generation speed, peak RSS.
 * Without -m the SmolLM2 test model is fetched (tools/models/fetch.py). */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "weft/llm.h"
#include "weft/runtime.h"
#include "weft/tokenizer.h"

typedef struct weft_run_args_t {
  const char* model;
  const char* prompt;
  const char* tokens;
  const char* device;
  bool chat;
  bool ids;
  uint32_t n_gen;
  uint32_t n_ctx;
  uint32_t n_batch;
  weft_dtype_t kv_dtype;
  weft_sampler_params_t sampler;
} weft_run_args_t;

typedef struct weft_run_stream_t {
  const weft_tokenizer_t* tokenizer; /* NULL: print ids */
  bool eog_seen;
  weft_session_t* session;
  const weft_model_t* model;
  int32_t* gen;        /* the ids generated in this turn */
  size_t gen_count;
  size_t gen_cap;
  char* reply;         /* the text generated in this turn (chat) */
  size_t reply_len;
  size_t reply_cap;
  uint32_t count;
} weft_run_stream_t;

typedef struct weft_run_stats_t {
  double prompt_s;
  double gen_s;
  uint64_t prompt_tokens;
  uint64_t gen_tokens;   /* tokens run after the first of each turn */
} weft_run_stats_t;

static double weft_run_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void weft_run_usage(FILE* f) {
  fprintf(f,
          "usage: weft-run [-m MODEL.gguf] (-p PROMPT | -t IDS | --chat) [-n N]\n"
          "                [--device NAME] [--seed S] [--temp T] [--top-k K] [--top-p P]\n"
          "                [--min-p P] [--repeat-penalty R] [--ctx N] [--batch N]\n"
          "                [--kv f16|f32] [--ids]\n"
          "  -p PROMPT         prompt text (with --chat: one user message)\n"
          "  -t IDS            prompt as token ids, comma- or space-separated\n"
          "  --chat            chat template; without -p, read user lines from stdin\n"
          "  -n N              tokens to generate per answer (default 128)\n"
          "  --temp T          0 for greedy (default 0.8); --seed S makes runs repeat\n"
          "  --ids             print token ids rather than text\n"
          "  without -m, the SmolLM2-135M test model is fetched (tools/models/fetch.py)\n");
}

static int weft_run_parse(int argc, char** argv, weft_run_args_t* a) {
  memset(a, 0, sizeof(*a));
  a->n_gen = 128;
  a->kv_dtype = WEFT_DTYPE_F16;
  weft_sampler_params_init(&a->sampler);
  for (int i = 1; i < argc; ++i) {
    const char* o = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
#define WEFT_RUN_VALUE()                                  \
  do {                                                    \
    if (!v) {                                             \
      fprintf(stderr, "weft-run: %s needs a value\n", o); \
      return 2;                                           \
    }                                                     \
    ++i;                                                  \
  } while (0)
    if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
      weft_run_usage(stdout);
      return 1;
    } else if (!strcmp(o, "-m") || !strcmp(o, "--model")) {
      WEFT_RUN_VALUE();
      a->model = v;
    } else if (!strcmp(o, "-p") || !strcmp(o, "--prompt")) {
      WEFT_RUN_VALUE();
      a->prompt = v;
    } else if (!strcmp(o, "-t") || !strcmp(o, "--tokens")) {
      WEFT_RUN_VALUE();
      a->tokens = v;
    } else if (!strcmp(o, "--chat")) {
      a->chat = true;
    } else if (!strcmp(o, "--ids")) {
      a->ids = true;
    } else if (!strcmp(o, "-n")) {
      WEFT_RUN_VALUE();
      a->n_gen = (uint32_t)strtoul(v, NULL, 10);
    } else if (!strcmp(o, "--device")) {
      WEFT_RUN_VALUE();
      a->device = v;
    } else if (!strcmp(o, "--seed")) {
      WEFT_RUN_VALUE();
      a->sampler.seed = strtoull(v, NULL, 10);
    } else if (!strcmp(o, "--temp")) {
      WEFT_RUN_VALUE();
      a->sampler.temperature = strtof(v, NULL);
    } else if (!strcmp(o, "--top-k")) {
      WEFT_RUN_VALUE();
      a->sampler.top_k = (int32_t)strtol(v, NULL, 10);
    } else if (!strcmp(o, "--top-p")) {
      WEFT_RUN_VALUE();
      a->sampler.top_p = strtof(v, NULL);
    } else if (!strcmp(o, "--min-p")) {
      WEFT_RUN_VALUE();
      a->sampler.min_p = strtof(v, NULL);
    } else if (!strcmp(o, "--repeat-penalty")) {
      WEFT_RUN_VALUE();
      a->sampler.repeat_penalty = strtof(v, NULL);
    } else if (!strcmp(o, "--ctx")) {
      WEFT_RUN_VALUE();
      a->n_ctx = (uint32_t)strtoul(v, NULL, 10);
    } else if (!strcmp(o, "--batch")) {
      WEFT_RUN_VALUE();
      a->n_batch = (uint32_t)strtoul(v, NULL, 10);
    } else if (!strcmp(o, "--kv")) {
      WEFT_RUN_VALUE();
      if (!strcmp(v, "f16")) {
        a->kv_dtype = WEFT_DTYPE_F16;
      } else if (!strcmp(v, "f32")) {
        a->kv_dtype = WEFT_DTYPE_F32;
      } else {
        fprintf(stderr, "weft-run: --kv %s: expected f16 or f32\n", v);
        return 2;
      }
    } else {
      fprintf(stderr, "weft-run: unknown option '%s'\n", o);
      weft_run_usage(stderr);
      return 2;
    }
#undef WEFT_RUN_VALUE
  }
  if (!a->prompt && !a->tokens && !a->chat) {
    fprintf(stderr, "weft-run: a prompt is required (-p PROMPT, -t IDS or --chat)\n");
    weft_run_usage(stderr);
    return 2;
  }
  if (a->tokens && (a->prompt || a->chat)) {
    fprintf(stderr, "weft-run: -t cannot be combined with -p or --chat\n");
    return 2;
  }
  return 0;
}

/* Runs fetch.py for the default model; returns a malloc'd path or NULL. */
static char* weft_run_default_model(void) {
  const char* candidates[] = {WEFT_RUN_FETCH_SOURCE, WEFT_RUN_FETCH_INSTALLED};
  for (size_t i = 0; i < 2; ++i) {
    if (access(candidates[i], R_OK) != 0) continue;
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "python3 '%s' smollm2", candidates[i]);
    FILE* p = popen(cmd, "r");
    if (!p) return NULL;
    char line[4096] = {0};
    char* got = fgets(line, sizeof(line), p);
    int rc = pclose(p);
    if (!got || rc != 0) {
      fprintf(stderr, "weft-run: %s failed; give the model with -m\n", cmd);
      return NULL;
    }
    line[strcspn(line, "\r\n")] = 0;
    return strdup(line);
  }
  fprintf(stderr, "weft-run: fetch.py not found (%s, %s); give the model with -m\n",
          WEFT_RUN_FETCH_SOURCE, WEFT_RUN_FETCH_INSTALLED);
  return NULL;
}

static int32_t* weft_run_ids_parse(const char* text, size_t* out_count) {
  size_t cap = strlen(text) / 2 + 1, n = 0;
  int32_t* ids = (int32_t*)malloc(cap * sizeof(int32_t));
  if (!ids) return NULL;
  const char* s = text;
  while (*s) {
    while (*s == ',' || *s == ' ' || *s == '\t' || *s == '\n') ++s;
    if (!*s) break;
    char* end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || errno != 0 || v < 0 || v > INT32_MAX || n >= cap) {
      fprintf(stderr, "weft-run: bad token id near '%.16s'\n", s);
      free(ids);
      return NULL;
    }
    ids[n++] = (int32_t)v;
    s = end;
  }
  *out_count = n;
  return ids;
}

static weft_status_t weft_run_encode(const weft_tokenizer_t* t, const char* text,
                                     int32_t** out_ids, size_t* out_count) {
  size_t len = strlen(text), need = 0;
  weft_status_t st = weft_tokenizer_encode(
      t, text, len, WEFT_TOKENIZE_ADD_SPECIAL | WEFT_TOKENIZE_PARSE_SPECIAL, NULL, 0, &need);
  if (st != WEFT_OK && weft_status_code(st) != WEFT_STATUS_OUT_OF_RANGE) return st;
  weft_status_free(st);
  int32_t* ids = (int32_t*)malloc((need ? need : 1) * sizeof(int32_t));
  if (!ids) return weft_status_make(WEFT_STATUS_OUT_OF_MEMORY, "%zu token ids", need);
  st = weft_tokenizer_encode(t, text, len,
                             WEFT_TOKENIZE_ADD_SPECIAL | WEFT_TOKENIZE_PARSE_SPECIAL, ids, need,
                             out_count);
  if (st != WEFT_OK) {
    free(ids);
    return st;
  }
  *out_ids = ids;
  return WEFT_OK;
}

static void weft_run_reply_append(weft_run_stream_t* st, const char* s, size_t n) {
  if (st->reply_len + n + 1 > st->reply_cap) {
    size_t cap = (st->reply_cap ? st->reply_cap * 2 : 256) + n;
    char* r = (char*)realloc(st->reply, cap);
    if (!r) return;
    st->reply = r;
    st->reply_cap = cap;
  }
  memcpy(st->reply + st->reply_len, s, n);
  st->reply_len += n;
  st->reply[st->reply_len] = 0;
}

static bool weft_run_on_token(void* user, int32_t token) {
  weft_run_stream_t* st = (weft_run_stream_t*)user;
  ++st->count;
  if (st->gen_count == st->gen_cap) {
    size_t cap = st->gen_cap ? st->gen_cap * 2 : 64;
    int32_t* g = (int32_t*)realloc(st->gen, cap * sizeof(int32_t));
    if (!g) return false;
    st->gen = g;
    st->gen_cap = cap;
  }
  st->gen[st->gen_count++] = token;
  if (weft_model_token_is_eog(st->model, token)) {
    st->eog_seen = true;
    return false;
  }
  if (!st->tokenizer) {
    printf("%s%d", st->count > 1 ? " " : "", token);
  } else {
    char piece[256];
    size_t n = 0;
    weft_status_t s = weft_tokenizer_token_to_piece(st->tokenizer, token, false, piece,
                                                    sizeof(piece), &n);
    if (s == WEFT_OK) {
      fwrite(piece, 1, n, stdout);
      weft_run_reply_append(st, piece, n);
    }
    weft_status_free(s);
  }
  fflush(stdout);
  return true;
}

/* Feeds `ids` and generates one answer, timing both. */
static weft_status_t weft_run_turn(weft_session_t* s, const weft_run_args_t* a,
                                   const int32_t* ids, size_t n, weft_run_stream_t* stream,
                                   weft_run_stats_t* stats) {
  double t0 = weft_run_now();
  WEFT_RETURN_IF_ERROR(weft_session_feed(s, ids, n));
  double t1 = weft_run_now();
  stats->prompt_s += t1 - t0;
  stats->prompt_tokens += n;
  uint32_t got = 0;
  stream->count = 0;
  stream->eog_seen = false;
  stream->reply_len = 0;
  stream->gen_count = 0;
  if (stream->reply) stream->reply[0] = 0;
  weft_status_t st = weft_session_generate(s, &a->sampler, a->n_gen, weft_run_on_token, stream,
                                           &got);
  /* The first token comes from the prompt's logits; each later one cost
   * one model run. */
  stats->gen_s += weft_run_now() - t1;
  stats->gen_tokens += got > 0 ? got - 1 : 0;
  printf("\n");
  fflush(stdout);
  return st;
}

/* Interactive or one-shot chat. The whole conversation is formatted and
 * tokenized each turn; the session keeps the longest prefix it already
 * holds (weft_session_truncate) and is fed the rest. */
static weft_status_t weft_run_chat(weft_session_t* s, const weft_tokenizer_t* t,
                                   const weft_run_args_t* a, weft_run_stream_t* stream,
                                   weft_run_stats_t* stats) {
  enum { kMaxMessages = 256 };
  weft_chat_message_t msgs[kMaxMessages];
  char* owned[kMaxMessages];
  size_t n_msgs = 0;
  int32_t* fed = NULL;  /* the ids the session holds, in order */
  size_t n_fed = 0;
  weft_status_t st = WEFT_OK;
  char line[8192];
  bool interactive = a->prompt == NULL;
  while (st == WEFT_OK && n_msgs + 2 <= kMaxMessages) {
    const char* user = a->prompt;
    if (interactive) {
      fprintf(stderr, "> ");
      if (!fgets(line, sizeof(line), stdin)) break;
      line[strcspn(line, "\r\n")] = 0;
      if (!line[0]) continue;
      user = line;
    } else if (n_msgs > 0) {
      break;
    }
    owned[n_msgs] = strdup(user);
    msgs[n_msgs].role = "user";
    msgs[n_msgs].content = owned[n_msgs] ? owned[n_msgs] : "";
    ++n_msgs;
    size_t len = 0;
    st = weft_tokenizer_chat_format(t, msgs, n_msgs, true, NULL, 0, &len);
    if (st != WEFT_OK && weft_status_code(st) != WEFT_STATUS_OUT_OF_RANGE) break;
    weft_status_free(st);
    st = WEFT_OK;
    char* text = (char*)malloc(len + 1);
    if (!text) {
      st = weft_status_make(WEFT_STATUS_OUT_OF_MEMORY, "chat: %zu bytes", len + 1);
      break;
    }
    st = weft_tokenizer_chat_format(t, msgs, n_msgs, true, text, len + 1, &len);
    int32_t* ids = NULL;
    size_t n_ids = 0;
    if (st == WEFT_OK) st = weft_run_encode(t, text, &ids, &n_ids);
    free(text);
    if (st != WEFT_OK) break;
    size_t common = 0;
    while (common < n_fed && common < n_ids && fed[common] == ids[common]) ++common;
    if (common == n_ids && common > 0) --common; /* run at least one token for logits */
    st = weft_session_truncate(s, (uint32_t)common);
    if (st == WEFT_OK) st = weft_run_turn(s, a, ids + common, n_ids - common, stream, stats);
    free(fed);
    fed = NULL;
    n_fed = 0;
    if (st == WEFT_OK) {
      /* The session now holds ids and the generated tokens. */
      size_t n_all = n_ids + stream->gen_count;
      fed = (int32_t*)malloc((n_all ? n_all : 1) * sizeof(int32_t));
      if (fed) {
        memcpy(fed, ids, n_ids * sizeof(int32_t));
        memcpy(fed + n_ids, stream->gen, stream->gen_count * sizeof(int32_t));
        n_fed = n_all;
      }
    }
    free(ids);
    if (st != WEFT_OK) break;
    owned[n_msgs] = strdup(stream->reply ? stream->reply : "");
    msgs[n_msgs].role = "assistant";
    msgs[n_msgs].content = owned[n_msgs] ? owned[n_msgs] : "";
    ++n_msgs;
  }
  for (size_t i = 0; i < n_msgs; ++i) free(owned[i]);
  free(fed);
  return st;
}

int main(int argc, char** argv) {
  weft_run_args_t a;
  int rc = weft_run_parse(argc, argv, &a);
  if (rc != 0) return rc == 1 ? 0 : rc;
  char* fetched = NULL;
  if (!a.model) {
    fetched = weft_run_default_model();
    if (!fetched) return 1;
    a.model = fetched;
  }

  weft_runtime_t* runtime = NULL;
  weft_model_t* model = NULL;
  weft_session_t* session = NULL;
  int32_t* ids = NULL;
  size_t n_ids = 0;
  weft_runtime_options_t ro;
  weft_runtime_options_init(&ro);
  weft_status_t status = weft_runtime_create(&ro, weft_allocator_system(), &runtime);
  weft_device_t* device = NULL;
  if (status == WEFT_OK) {
    if (a.device) {
      status = weft_runtime_device_find(runtime, a.device, &device);
    } else {
      device = weft_runtime_device_default(runtime);
    }
  }
  double t0 = weft_run_now();
  if (status == WEFT_OK) {
    weft_model_options_t mo;
    weft_model_options_init(&mo);
    mo.device = device;
    status = weft_model_load(runtime, a.model, &mo, &model);
  }
  double t_load = weft_run_now() - t0;
  const weft_tokenizer_t* tokenizer = NULL;
  if (status == WEFT_OK && (a.prompt || a.chat || !a.ids)) {
    weft_status_t ts = weft_model_tokenizer(model, &tokenizer);
    if (ts != WEFT_OK && (a.prompt || a.chat)) {
      status = ts;
    } else {
      weft_status_free(ts);
    }
  }
  if (status == WEFT_OK) {
    weft_session_options_t so;
    weft_session_options_init(&so);
    so.n_ctx = a.n_ctx;
    so.n_batch = a.n_batch;
    so.kv_dtype = a.kv_dtype;
    status = weft_session_create(model, &so, &session);
  }
  weft_run_stream_t stream;
  memset(&stream, 0, sizeof(stream));
  stream.model = model;
  stream.tokenizer = a.ids ? NULL : tokenizer;
  weft_run_stats_t stats;
  memset(&stats, 0, sizeof(stats));
  if (status == WEFT_OK) {
    if (a.chat) {
      status = weft_run_chat(session, tokenizer, &a, &stream, &stats);
    } else {
      if (a.tokens) {
        ids = weft_run_ids_parse(a.tokens, &n_ids);
        if (!ids || n_ids == 0) {
          status = weft_status_make(WEFT_STATUS_INVALID_ARGUMENT, "-t: no token ids in '%s'",
                                    a.tokens);
        }
      } else {
        status = weft_run_encode(tokenizer, a.prompt, &ids, &n_ids);
        if (status == WEFT_OK && stream.tokenizer) {
          fputs(a.prompt, stdout);
        }
      }
      if (status == WEFT_OK) status = weft_run_turn(session, &a, ids, n_ids, &stream, &stats);
    }
  }
  if (status == WEFT_OK) {
    weft_model_info_t info;
    weft_model_info_get(model, &info);
    weft_device_info_t di;
    weft_device_info_get(device, &di);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    fprintf(stderr,
            "model %s (%s) | device %s | load %.3f s | prompt %llu tokens, %.2f tok/s | "
            "generation %llu tokens, %.2f tok/s | peak RSS %.1f MiB\n",
            info.name[0] ? info.name : a.model, info.architecture, di.id, t_load,
            (unsigned long long)stats.prompt_tokens,
            stats.prompt_s > 0 ? (double)stats.prompt_tokens / stats.prompt_s : 0.0,
            (unsigned long long)stats.gen_tokens,
            stats.gen_s > 0 ? (double)stats.gen_tokens / stats.gen_s : 0.0,
            (double)ru.ru_maxrss / 1024.0);
  }
  weft_session_destroy(session);
  weft_model_destroy(model);
  weft_runtime_destroy(runtime);
  free(ids);
  free(fetched);
  free(stream.reply);
  free(stream.gen);
  if (status != WEFT_OK) {
    fprintf(stderr, "weft-run: %s\n", weft_status_message(status));
    weft_status_free(status);
    return 1;
  }
  return 0;
}
