/* weft programs: a graph compiled for the devices of a runtime.
 *
 * Compiling schedules every op (a device the app pinned it to; else the
 * device that holds its weights; else the best-scored device that supports
 * the op with these exact operands; else the reference CPU), groups runs of
 * ops on one device into segments, inserts copies where data crosses devices
 * and plans memory: each device gets one arena in which intermediate tensors
 * share space by liveness. The plan is made once; executing again reuses it.
 *
 * Ownership: the app owns a program; it holds its own copy of the graph, its
 * arenas, and borrows the runtime and the buffers bound into the graph, which
 * must outlive it.
 *
 * Thread safety: one thread at a time per program. */
#ifndef WEFT_PROGRAM_H_
#define WEFT_PROGRAM_H_

#include <stddef.h>
#include <stdint.h>

#include "weft/export.h"
#include "weft/graph.h"
#include "weft/runtime.h"
#include "weft/status.h"

WEFT_EXTERN_C_BEGIN

typedef struct weft_program_s weft_program_t;

/* weft_compile_options_t.flags */
/* On a device failure or out-of-memory while executing, plan again without
 * that device and run once more (WEFT_STATUS_* of the first failure is kept
 * in the log). */
#define WEFT_COMPILE_FLAG_REPLAN_ON_FAILURE (1u << 0)
/* Log the placement and every copy at info level (also: WEFT_SCHED_DEBUG=1). */
#define WEFT_COMPILE_FLAG_DEBUG (1u << 1)

typedef struct weft_compile_options_t {
  uint32_t struct_size;            /* sizeof(weft_compile_options_t) */
  uint32_t flags;                  /* WEFT_COMPILE_FLAG_* */
  weft_device_t* const* devices;   /* devices ops may use; NULL: every preferred
                                      device of the runtime. The reference CPU is
                                      always allowed as the last resort. */
  size_t device_count;
} weft_compile_options_t;

WEFT_API void weft_compile_options_init(weft_compile_options_t* out_options);

/* Compiles `graph`. options may be NULL. Errors: UNSUPPORTED (an op pinned to
 * a device that cannot run it, naming both), RESOURCE_EXHAUSTED /
 * OUT_OF_MEMORY (an arena larger than a device can hold, naming the device
 * and sizes), INVALID_ARGUMENT. */
WEFT_API weft_status_t weft_graph_compile(weft_graph_t* graph,
                                          const weft_compile_options_t* options,
                                          weft_program_t** out_program);
/* Waits for work in flight, frees the arenas. NULL is a no-op. */
WEFT_API void weft_program_destroy(weft_program_t* program);

/* Copies `size` bytes (exactly the input's size) from `data` as the value of
 * input `tensor` for the following executions. */
WEFT_API weft_status_t weft_program_set_input(weft_program_t* program,
                                              const weft_tensor_t* tensor, const void* data,
                                              uint64_t size);

/* Runs the program and waits for it. Errors name the device and the op:
 * DEVICE_LOST, OUT_OF_MEMORY, FAILED_PRECONDITION (a bound buffer was
 * destroyed, an input never set), and whatever a plugin returns. */
WEFT_API weft_status_t weft_program_execute(weft_program_t* program);

/* Starts the program and returns; weft_program_wait completes it (and must be
 * called before the next execute, a read or destroy). */
WEFT_API weft_status_t weft_program_execute_async(weft_program_t* program);
WEFT_API weft_status_t weft_program_wait(weft_program_t* program);

/* Copies an output's (or a bound or input tensor's) value out, `size` being
 * exactly its element bytes, in its logical order, packed. */
WEFT_API weft_status_t weft_program_read(weft_program_t* program,
                                         const weft_tensor_t* tensor, void* dst,
                                         uint64_t size);

typedef struct weft_program_stats_t {
  size_t node_count;          /* ops run per execution */
  size_t segment_count;
  size_t copy_count;          /* cross-device copies per execution */
  size_t device_count;        /* devices with at least one segment */
  size_t in_place_count;      /* ops whose result shares its operand's memory */
  size_t shared_count;        /* reads of another device's memory made in place,
                                 without a copy (both devices unified) */
  uint64_t planned_bytes;     /* sum over devices of the arena sizes */
  uint64_t unplanned_bytes;   /* sum of every intermediate's size: the arena
                                 size without reuse */
} weft_program_stats_t;

WEFT_API void weft_program_stats_get(const weft_program_t* program,
                                     weft_program_stats_t* out_stats);

/* One step of the schedule: a segment on a device, or a copy between two. */
typedef struct weft_program_step_t {
  uint32_t kind;              /* 0 segment, 1 copy */
  uint32_t node_count;        /* segment: its ops */
  const char* device;         /* segment: device id; copy: target device id */
  const char* source_device;  /* copy: source device id; segment: NULL */
  const char* first_op;       /* segment: op name of its first node */
  const char* tensor;         /* copy: the tensor's name */
  uint64_t bytes;             /* copy: bytes moved */
} weft_program_step_t;

WEFT_API size_t weft_program_step_count(const weft_program_t* program);
/* Borrowed strings, valid while the program lives. */
WEFT_API weft_status_t weft_program_step_get(const weft_program_t* program, size_t index,
                                             weft_program_step_t* out_step);

WEFT_EXTERN_C_END

#endif /* WEFT_PROGRAM_H_ */
