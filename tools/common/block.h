/* A llama-style transformer block built with the public graph API, with
 * random weights: the demo graph of the main job, the planning benchmark's
 * model (N layers) and the executor's graph-level tests.
 *
 *   h   = x + Wo · attn(rope(Wq · n(x)), rope(Wk · n(x)), Wv · n(x))
 *   out = h + Wd · swiglu(Wg · n'(h), Wu · n'(h))
 * with n(x) = rms_norm(x) * g, causal attention with grouped kv heads. */
#ifndef WEFT_TOOLS_COMMON_BLOCK_H_
#define WEFT_TOOLS_COMMON_BLOCK_H_

#include <stdint.h>

#include "weft/weft.h"

typedef struct weft_block_config_t {
  int64_t embd;      /* model width */
  int64_t heads;     /* query heads */
  int64_t kv_heads;  /* key/value heads, dividing heads */
  int64_t ffn;       /* feed-forward width */
  int64_t tokens;    /* tokens processed at once */
  int32_t layers;    /* blocks stacked */
  uint64_t seed;
} weft_block_config_t;

typedef struct weft_block_t {
  weft_buffer_t* weights;     /* every layer's weights, f32; owned */
  weft_tensor_t* x;           /* input  f32 [embd, tokens] */
  weft_tensor_t* positions;   /* input  i32 [tokens] */
  weft_tensor_t* mask;        /* input  f32 [tokens, tokens], causal */
  weft_tensor_t* out;         /* output f32 [embd, tokens] (an output) */
} weft_block_t;

/* Allocates the weights on `device` (random, reproducible from seed) and
 * builds the layers into `graph`. Release with weft_block_deinit. */
weft_status_t weft_block_init(const weft_block_config_t* config, weft_device_t* device,
                              weft_graph_t* graph, weft_block_t* out_block);
void weft_block_deinit(weft_block_t* block);

/* Random input values, causal mask and positions 0..tokens-1 for a program
 * compiled from the block's graph. */
weft_status_t weft_block_inputs_set(const weft_block_config_t* config,
                                    const weft_block_t* block, weft_program_t* program,
                                    uint64_t seed);

#endif /* WEFT_TOOLS_COMMON_BLOCK_H_ */
