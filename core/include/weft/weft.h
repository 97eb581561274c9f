/* libweft: the host API in one include. */
#ifndef WEFT_H_
#define WEFT_H_

#include "weft/allocator.h"
#include "weft/buffer.h"
#include "weft/gguf.h"
#include "weft/graph.h"
#include "weft/llm.h"
#include "weft/log.h"
#include "weft/program.h"
#include "weft/runtime.h"
#include "weft/status.h"
#include "weft/tokenizer.h"
#include "weft/version.h"

#endif /* WEFT_H_ */
