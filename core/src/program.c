/* Programs: the scheduler, the memory planner and the executor.
 *
 * Compiling a graph:
 *   1. liveness of ops: what an output depends on, plus every write into a
 *      bound tensor (a KV cache update is wanted even if nothing reads it);
 *   2. placement, op by op in creation order (a topological order, since an
 *      op only takes tensors that exist): the pinned device; else, for an op
 *      that writes into existing storage, that storage's device; else the
 *      device holding a bound operand (weights), if it supports the op; else
 *      the first allowed device, by score, that supports the op with these
 *      exact descriptors (op_query); else the reference CPU;
 *   3. segments: runs of consecutive ops on one device; a tensor read on a
 *      device other than its home gets a replica there, filled by a copy
 *      step before the segment that first needs it;
 *   4. memory: per device, every intermediate, input and replica gets a slot
 *      in one arena; slots whose lifetimes (positions of first write and
 *      last read) do not overlap share addresses (greedy, largest first);
 *   5. the ABI structs of every segment, built once and reused by each run.
 *
 * Executing: upload inputs; for each step, copy (waiting for the source
 * device's work and for the target device to be idle, then through host
 * memory) or submit the segment with an event; wait for every event. Each
 * device runs its segments in submission order; devices without the
 * WEFT_DEVICE_FLAG_ASYNC flag finish inside segment_submit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buffer_impl.h"
#include "cpu_ref/ops/kernels.h"
#include "device.h"
#include "env.h"
#include "event.h"
#include "graph_impl.h"
#include "logger.h"
#include "runtime_impl.h"
#include "util.h"
#include "weft/program.h"

#define WEFT_ARENA_ALIGNMENT 256u
#define WEFT_NONE UINT32_MAX

typedef struct weft_slot_t {
  uint32_t device;  /* plan device index */
  uint32_t root;    /* tensor id of the storage */
  uint32_t version; /* replicas: position of the root's last writer, else WEFT_NONE */
  uint32_t first;   /* positions in plan order, inclusive */
  uint32_t last;
  uint32_t replica;
  uint64_t size;
  uint64_t offset;  /* in the device's arena */
} weft_slot_t;

enum { WEFT_STEP_SEGMENT = 0, WEFT_STEP_COPY = 1 };

typedef struct weft_step_t {
  uint32_t kind;
  uint32_t device;       /* segment: its device; copy: target device */
  /* segment */
  uint32_t begin, end;   /* positions in plan order */
  weft_segment_t segment;
  weft_tensor_desc_t* descs;
  const weft_tensor_desc_t** desc_ptrs;
  weft_node_t* nodes;
  const weft_node_t** node_ptrs;
  weft_event_t* event;
  weft_prepared_segment_t* prepared; /* ABI 1.3: translated once by the plugin */
  /* copy */
  uint32_t source_device;
  uint32_t root;
  uint32_t slot;         /* the replica */
  uint64_t bytes;
} weft_step_t;

typedef struct weft_plan_device_t {
  weft_device_t* device;
  weft_buffer_t* arena;
  uint64_t arena_size;
  size_t last_segment; /* during a run: last submitted segment step + 1, 0: none */
} weft_plan_device_t;

typedef struct weft_plan_t {
  uint32_t* order;       /* live op tensor ids, in execution order */
  uint32_t order_count;
  uint32_t* node_device; /* per tensor id: plan device of its op, WEFT_NONE */
  uint32_t* home;        /* per root tensor id: plan device of its storage */
  uint32_t* home_slot;   /* per root tensor id: its slot, WEFT_NONE (bound) */
  weft_slot_t* slots;
  size_t slot_count, slot_capacity;
  weft_step_t* steps;
  size_t step_count, step_capacity;
  weft_plan_device_t* devices;
  size_t device_count, device_capacity;
  uint64_t unplanned_bytes;
  size_t copy_count, segment_count, in_place_count, shared_count;
  /* Buffers of one device wrapped for another that reads them in place
   * (both have unified memory): arenas and bound buffers. */
  struct weft_plan_alias_t {
    weft_buffer_t* source;
    uint32_t device;
    weft_buffer_t* alias;
    bool unmap_source; /* the plan mapped it, the plan unmaps it */
  }* aliases;
  size_t alias_count, alias_capacity;
} weft_plan_t;

struct weft_program_s {
  weft_runtime_t* runtime;
  weft_allocator_t allocator;
  weft_tensor_t* tensors; /* the graph's tensors, copied; pointers remapped */
  uint32_t tensor_count;
  uint64_t* serials;      /* per tensor: bound buffer serial, 0 */
  void** inputs;          /* per tensor: the app's value of an input, NULL until set */
  weft_device_t** allowed;
  size_t allowed_count;
  weft_device_t** excluded; /* devices a failure took out of the plan */
  size_t excluded_count, excluded_capacity;
  uint32_t flags;
  bool debug;
  bool in_flight;
  size_t started_steps; /* steps of the current run that were carried out or submitted */
  /* While planning: the op_query answers "supported" seen so far. Layers of a
   * model repeat the same ops with the same shapes, so most queries repeat. */
  struct weft_query_memo_t* memo;
  size_t memo_count, memo_capacity;
  weft_plan_t plan;
};

/* Everything an op_query answer depends on, zero-padded so that equal
 * questions compare equal byte for byte. */
typedef struct weft_query_key_t {
  const weft_device_t* device;
  uint32_t op;
  uint32_t params_size;
  uint64_t params[WEFT_TENSOR_PARAMS_CAP / 8];
  uint32_t present; /* bit i: operand slot i (WEFT_MAX_SRC is dst) */
  uint32_t dtype[WEFT_MAX_SRC + 1];
  int64_t ne[WEFT_MAX_SRC + 1][4];
  int64_t nb[WEFT_MAX_SRC + 1][4];
} weft_query_key_t;

struct weft_query_memo_t {
  uint64_t hash;
  weft_query_key_t key;
};

/* ---- helpers ---- */

static const weft_tensor_t* weft_program_root(const weft_program_t* program, uint32_t id,
                                              uint64_t* out_offset) {
  return weft__tensor_storage_root(&program->tensors[id], out_offset);
}

static uint64_t weft_root_bytes(const weft_tensor_t* root) {
  return weft__tensor_contiguous_bytes(root->dtype, root->ne);
}

static uint64_t weft_align_up(uint64_t value) {
  return (value + WEFT_ARENA_ALIGNMENT - 1) / WEFT_ARENA_ALIGNMENT * WEFT_ARENA_ALIGNMENT;
}

static weft_status_t weft_plan_device_index(weft_program_t* program, weft_device_t* device,
                                            uint32_t* out_index) {
  weft_plan_t* plan = &program->plan;
  for (size_t i = 0; i < plan->device_count; ++i) {
    if (plan->devices[i].device == device) {
      *out_index = (uint32_t)i;
      return WEFT_OK;
    }
  }
  WEFT_RETURN_IF_ERROR(weft__array_reserve_one(program->allocator, (void**)&plan->devices,
                                               &plan->device_capacity, plan->device_count,
                                               sizeof(weft_plan_device_t)));
  memset(&plan->devices[plan->device_count], 0, sizeof(weft_plan_device_t));
  plan->devices[plan->device_count].device = device;
  *out_index = (uint32_t)plan->device_count++;
  return WEFT_OK;
}

static bool weft_program_excluded(const weft_program_t* program, const weft_device_t* device) {
  for (size_t i = 0; i < program->excluded_count; ++i) {
    if (program->excluded[i] == device) return true;
  }
  return false;
}

static void weft_desc_fill(const weft_tensor_t* t, weft_tensor_desc_t* desc) {
  memset(desc, 0, sizeof(*desc));
  desc->struct_size = (uint32_t)sizeof(*desc);
  desc->dtype = t->dtype;
  memcpy(desc->ne, t->ne, sizeof(desc->ne));
  memcpy(desc->nb, t->nb, sizeof(desc->nb));
}

/* Asks `device` whether it runs the op that makes tensor `id`. */
static void weft_query_key_fill(const weft_device_t* device, const weft_tensor_t* t,
                                weft_query_key_t* key, uint64_t* out_hash) {
  memset(key, 0, sizeof(*key));
  key->device = device;
  key->op = t->op;
  key->params_size = t->params_size;
  memcpy(key->params, t->params, t->params_size);
  for (int i = 0; i <= WEFT_MAX_SRC; ++i) {
    const weft_tensor_t* operand = i < WEFT_MAX_SRC ? t->src[i] : t;
    if (!operand) continue;
    key->present |= 1u << i;
    key->dtype[i] = operand->dtype;
    memcpy(key->ne[i], operand->ne, sizeof(key->ne[i]));
    memcpy(key->nb[i], operand->nb, sizeof(key->nb[i]));
  }
  /* FNV-1a over 64-bit words: the key is zero-padded, so every word counts. */
  uint64_t hash = 1469598103934665603ull;
  const unsigned char* bytes = (const unsigned char*)key;
  for (size_t i = 0; i + 8 <= sizeof(*key); i += 8) {
    uint64_t word;
    memcpy(&word, bytes + i, 8);
    hash = (hash ^ word) * 1099511628211ull;
  }
  *out_hash = hash;
}

static bool weft_query_memo_find(const weft_program_t* program, const weft_query_key_t* key,
                                 uint64_t hash) {
  for (size_t i = 0; i < program->memo_count; ++i) {
    if (program->memo[i].hash == hash && memcmp(&program->memo[i].key, key, sizeof(*key)) == 0) {
      return true;
    }
  }
  return false;
}

static weft_status_t weft_program_query(weft_program_t* program, weft_device_t* device,
                                        uint32_t id, bool* out_supported, char* reason,
                                        size_t reason_cap) {
  *out_supported = false;
  reason[0] = '\0';
  const weft_tensor_t* t = &program->tensors[id];
  weft_query_key_t key;
  uint64_t hash = 0;
  weft_query_key_fill(device, t, &key, &hash);
  if (weft_query_memo_find(program, &key, hash)) {
    *out_supported = true;
    return WEFT_OK;
  }
  weft_tensor_desc_t descs[WEFT_MAX_SRC + 1];
  const weft_tensor_desc_t* ptrs[WEFT_MAX_SRC + 1];
  weft_node_t node;
  memset(&node, 0, sizeof(node));
  node.struct_size = (uint32_t)sizeof(node);
  node.op = t->op;
  uint32_t count = 0;
  for (int i = 0; i < WEFT_MAX_SRC; ++i) {
    node.src[i] = WEFT_NODE_NO_TENSOR;
    if (!t->src[i]) continue;
    weft_desc_fill(t->src[i], &descs[count]);
    ptrs[count] = &descs[count];
    node.src[i] = count++;
  }
  weft_desc_fill(t, &descs[count]);
  ptrs[count] = &descs[count];
  node.dst = count++;
  node.params = t->params_size ? t->params : NULL;
  node.params_size = t->params_size;
  if (!device->plugin->table.op_query) {
    snprintf(reason, reason_cap, "its plugin has no op_query");
    return WEFT_OK;
  }
  weft_op_support_t support;
  memset(&support, 0, sizeof(support));
  support.struct_size = (uint32_t)sizeof(support);
  pthread_mutex_lock(&device->lock);
  weft_status_t status = weft__device_ensure_open_locked(device);
  if (status == WEFT_OK) {
    status = device->plugin->table.op_query(device->opened, &node, ptrs, count, &support);
  }
  pthread_mutex_unlock(&device->lock);
  if (status != WEFT_OK) {
    /* A device that cannot answer is a device that cannot run it. */
    snprintf(reason, reason_cap, "%s", weft_status_message(status));
    weft_status_free(status);
    return WEFT_OK;
  }
  support.reason[sizeof(support.reason) - 1] = '\0';
  *out_supported = support.supported != 0;
  if (!support.supported) {
    snprintf(reason, reason_cap, "%s", support.reason);
    return WEFT_OK;
  }
  /* Remember the yes; a memo that cannot grow only costs a repeated query. */
  weft_status_t grown = weft__array_reserve_one(program->allocator, (void**)&program->memo,
                                                &program->memo_capacity, program->memo_count,
                                                sizeof(program->memo[0]));
  if (grown == WEFT_OK) {
    program->memo[program->memo_count].hash = hash;
    program->memo[program->memo_count].key = key;
    program->memo_count++;
  }
  weft_status_free(grown);
  return WEFT_OK;
}

static weft_device_t* weft_program_reference_device(const weft_program_t* program) {
  weft_device_t* device = NULL;
  weft_status_t status = weft_runtime_device_find(program->runtime, "cpu-ref:0", &device);
  weft_status_free(status);
  return device;
}

/* Ops whose result may share its first operand's memory (docs/ops.md, "In
 * place allowed"). */
static bool weft_op_in_place(uint32_t op) {
  switch (op) {
    case WEFT_OP_ADD: case WEFT_OP_MUL: case WEFT_OP_SCALE: case WEFT_OP_RMS_NORM:
    case WEFT_OP_ROPE: case WEFT_OP_SOFT_MAX: case WEFT_OP_GELU: case WEFT_OP_SILU:
    case WEFT_OP_SWIGLU: case WEFT_OP_GEGLU:
      return true;
    default:
      return false;
  }
}

/* Can plan device `device` read memory homed on `home` in place? Both must
 * have unified memory the host can map, `home`'s plugin must map buffers and
 * `device`'s plugin must wrap host memory (ABI 1.2). Then no copy is made. */
static bool weft_plan_can_share(const weft_program_t* program, uint32_t home, uint32_t device) {
  if (home == device) return false;
  const weft_device_t* h = program->plan.devices[home].device;
  const weft_device_t* d = program->plan.devices[device].device;
  const uint32_t need = WEFT_DEVICE_FLAG_UNIFIED_MEMORY | WEFT_DEVICE_FLAG_HOST_VISIBLE_LOCAL;
  return (h->caps.flags & need) == need && (d->caps.flags & need) == need &&
         h->plugin->table.buffer_map && d->plugin->table.buffer_import_host;
}

/* The buffer of `device` that wraps `source` (a buffer of another device),
 * made on first use. */
static weft_status_t weft_plan_alias(weft_program_t* program, weft_buffer_t* source,
                                     uint32_t device, weft_buffer_t** out_alias) {
  weft_plan_t* plan = &program->plan;
  for (size_t i = 0; i < plan->alias_count; ++i) {
    if (plan->aliases[i].source == source && plan->aliases[i].device == device) {
      *out_alias = plan->aliases[i].alias;
      return WEFT_OK;
    }
  }
  WEFT_RETURN_IF_ERROR(weft__array_reserve_one(program->allocator, (void**)&plan->aliases,
                                               &plan->alias_capacity, plan->alias_count,
                                               sizeof(plan->aliases[0])));
  bool was_mapped = source->mapped != 0;
  void* host = NULL;
  WEFT_RETURN_IF_ERROR(weft_buffer_map(source, &host));
  weft_buffer_t* alias = NULL;
  weft_status_t status = weft_buffer_wrap_host(plan->devices[device].device, host, source->size,
                                               &alias);
  if (status != WEFT_OK) {
    if (!was_mapped) weft_buffer_unmap(source);
    return weft_status_annotate(status, "sharing memory of %s with %s", source->device->id,
                                plan->devices[device].device->id);
  }
  plan->aliases[plan->alias_count].source = source;
  plan->aliases[plan->alias_count].device = device;
  plan->aliases[plan->alias_count].alias = alias;
  plan->aliases[plan->alias_count].unmap_source = !was_mapped;
  plan->alias_count++;
  *out_alias = alias;
  return WEFT_OK;
}

/* ---- placement ---- */

static weft_status_t weft_plan_place(weft_program_t* program, uint32_t id,
                                     weft_device_t** out_device) {
  const weft_tensor_t* t = &program->tensors[id];
  const char* op = weft_op_name(t->op);
  char reason[WEFT_REASON_CAP + 64];
  bool ok = false;
  *out_device = NULL;
  /* A write into existing storage runs where that storage is. */
  weft_device_t* forced = t->pin;
  const char* why = "pinned to";
  if (t->base) {
    const weft_tensor_t* root = weft_program_root(program, id, NULL);
    if (root->kind == WEFT_TENSOR_KIND_BOUND) {
      forced = root->buffer->device;
      why = "writes into a buffer on";
    } else if (program->plan.home[root->id] != WEFT_NONE) {
      forced = program->plan.devices[program->plan.home[root->id]].device;
      why = "writes into memory on";
    }
    if (t->pin && forced != t->pin) {
      return weft_status_make(WEFT_STATUS_UNSUPPORTED,
                              "%s '%s' is pinned to %s but writes into memory on %s", op,
                              t->name, t->pin->id, forced->id);
    }
  }
  if (forced) {
    WEFT_RETURN_IF_ERROR(weft_program_query(program, forced, id, &ok, reason, sizeof(reason)));
    if (!ok) {
      return weft_status_make(WEFT_STATUS_UNSUPPORTED,
                              "%s '%s' is %s %s, which cannot run it: %s", op, t->name, why,
                              forced->id, reason);
    }
    *out_device = forced;
    return WEFT_OK;
  }
  /* The device that holds a bound operand (weights), where allowed. */
  for (int i = 0; i < WEFT_MAX_SRC; ++i) {
    if (!t->src[i]) continue;
    const weft_tensor_t* root = weft__tensor_storage_root(t->src[i], NULL);
    if (root->kind != WEFT_TENSOR_KIND_BOUND) continue;
    weft_device_t* holder = root->buffer->device;
    bool allowed = !weft_program_excluded(program, holder);
    if (allowed && program->allowed) {
      allowed = false;
      for (size_t j = 0; j < program->allowed_count; ++j) {
        allowed = allowed || program->allowed[j] == holder;
      }
    }
    if (!allowed) continue;
    WEFT_RETURN_IF_ERROR(weft_program_query(program, holder, id, &ok, reason, sizeof(reason)));
    if (ok) {
      *out_device = holder;
      return WEFT_OK;
    }
  }
  /* The best allowed device that supports it. */
  size_t count = program->allowed ? program->allowed_count
                                  : weft_runtime_device_count(program->runtime);
  for (size_t i = 0; i < count; ++i) {
    weft_device_t* device = program->allowed ? program->allowed[i]
                                             : weft_runtime_device_get(program->runtime, i);
    if (!device || weft_program_excluded(program, device)) continue;
    if (!program->allowed && !device->preferred) continue;
    WEFT_RETURN_IF_ERROR(weft_program_query(program, device, id, &ok, reason, sizeof(reason)));
    if (ok) {
      *out_device = device;
      return WEFT_OK;
    }
  }
  weft_device_t* reference = weft_program_reference_device(program);
  if (reference) {
    WEFT_RETURN_IF_ERROR(weft_program_query(program, reference, id, &ok, reason, sizeof(reason)));
    if (ok) {
      *out_device = reference;
      return WEFT_OK;
    }
  }
  return weft_status_make(WEFT_STATUS_UNSUPPORTED, "%s '%s': no allowed device runs it%s%s",
                          op, t->name, reference ? "; the reference CPU says: " : "",
                          reference ? reason : "");
}

/* ---- plan building ---- */

static weft_status_t weft_plan_slot_add(weft_program_t* program, uint32_t device,
                                        uint32_t root, uint32_t version, uint32_t replica,
                                        uint32_t first, uint32_t* out_slot) {
  weft_plan_t* plan = &program->plan;
  WEFT_RETURN_IF_ERROR(weft__array_reserve_one(program->allocator, (void**)&plan->slots,
                                               &plan->slot_capacity, plan->slot_count,
                                               sizeof(weft_slot_t)));
  weft_slot_t* slot = &plan->slots[plan->slot_count];
  memset(slot, 0, sizeof(*slot));
  slot->device = device;
  slot->root = root;
  slot->version = version;
  slot->replica = replica;
  slot->first = first;
  slot->last = first;
  slot->size = weft_align_up(weft_root_bytes(&program->tensors[root]));
  plan->unplanned_bytes += slot->size;
  *out_slot = (uint32_t)plan->slot_count++;
  return WEFT_OK;
}

static weft_status_t weft_plan_step_add(weft_program_t* program, const weft_step_t* step) {
  weft_plan_t* plan = &program->plan;
  WEFT_RETURN_IF_ERROR(weft__array_reserve_one(program->allocator, (void**)&plan->steps,
                                               &plan->step_capacity, plan->step_count,
                                               sizeof(weft_step_t)));
  plan->steps[plan->step_count++] = *step;
  return WEFT_OK;
}

static void weft_slot_extend(weft_slot_t* slot, uint32_t position) {
  if (position > slot->last) slot->last = position;
  if (position < slot->first) slot->first = position;
}

/* Greedy offsets per device: largest slot first, at the lowest address that
 * no placed slot with an overlapping lifetime occupies. */
static weft_status_t weft_plan_assign_offsets(weft_program_t* program) {
  weft_plan_t* plan = &program->plan;
  if (plan->slot_count == 0) return WEFT_OK;
  uint32_t* by_size = NULL;
  size_t bytes = 0;
  if (weft__mul_overflows(plan->slot_count, sizeof(uint32_t), &bytes)) {
    return weft_status_make(WEFT_STATUS_OUT_OF_MEMORY, "too many slots");
  }
  WEFT_RETURN_IF_ERROR(weft__alloc(program->allocator, bytes, "the memory plan",
                                   (void**)&by_size));
  for (size_t i = 0; i < plan->slot_count; ++i) by_size[i] = (uint32_t)i;
  /* Insertion sort: stable, and slot counts are in the thousands at most. */
  for (size_t i = 1; i < plan->slot_count; ++i) {
    uint32_t key = by_size[i];
    size_t j = i;
    while (j > 0 && plan->slots[by_size[j - 1]].size < plan->slots[key].size) {
      by_size[j] = by_size[j - 1];
      --j;
    }
    by_size[j] = key;
  }
  /* Scratch: the placed slots that overlap the current one in time, by offset. */
  uint32_t* live = NULL;
  weft_status_t status = weft__alloc(program->allocator, bytes, "the memory plan", (void**)&live);
  if (status != WEFT_OK) {
    weft__free(program->allocator, by_size);
    return status;
  }
  for (size_t n = 0; n < plan->slot_count; ++n) {
    weft_slot_t* slot = &plan->slots[by_size[n]];
    size_t live_count = 0;
    for (size_t m = 0; m < n; ++m) {
      const weft_slot_t* other = &plan->slots[by_size[m]];
      if (other->device != slot->device) continue;
      if (other->last < slot->first || slot->last < other->first) continue;
      size_t at = live_count++;
      while (at > 0 && plan->slots[live[at - 1]].offset > other->offset) {
        live[at] = live[at - 1];
        --at;
      }
      live[at] = by_size[m];
    }
    /* The lowest gap that fits, scanning the neighbours in address order. */
    uint64_t offset = 0;
    for (size_t k = 0; k < live_count; ++k) {
      const weft_slot_t* other = &plan->slots[live[k]];
      if (offset + slot->size <= other->offset) break;
      if (other->offset + other->size > offset) offset = other->offset + other->size;
    }
    slot->offset = offset;
    weft_plan_device_t* device = &plan->devices[slot->device];
    if (offset + slot->size > device->arena_size) device->arena_size = offset + slot->size;
  }
  weft__free(program->allocator, live);
  weft__free(program->allocator, by_size);
  return WEFT_OK;
}

/* Where tensor `t`, read or written by an op on plan device `device`, lives:
 * the buffer and the byte offset of its element 0. */
static weft_status_t weft_plan_locate(weft_program_t* program, const weft_tensor_t* t,
                                      uint32_t device, uint32_t version_hint,
                                      weft_plugin_buffer_t** out_buffer, uint64_t* out_offset) {
  const weft_plan_t* plan = &program->plan;
  uint64_t offset = 0;
  const weft_tensor_t* root = weft__tensor_storage_root(t, &offset);
  uint32_t home = plan->home[root->id];
  if (home == device || weft_plan_can_share(program, home, device)) {
    weft_buffer_t* buffer = NULL;
    if (root->kind == WEFT_TENSOR_KIND_BOUND) {
      buffer = root->buffer;
      offset += root->buffer_offset;
    } else {
      buffer = plan->devices[home].arena;
      offset += plan->slots[plan->home_slot[root->id]].offset;
    }
    if (home != device) WEFT_RETURN_IF_ERROR(weft_plan_alias(program, buffer, device, &buffer));
    *out_buffer = buffer->handle;
    *out_offset = offset;
    return WEFT_OK;
  }
  /* A replica: the newest one made for this device at or before the hint. */
  const weft_slot_t* best = NULL;
  for (size_t i = 0; i < plan->slot_count; ++i) {
    const weft_slot_t* slot = &plan->slots[i];
    if (!slot->replica || slot->root != root->id || slot->device != device) continue;
    if (slot->first > version_hint) continue;
    if (!best || slot->first > best->first) best = slot;
  }
  *out_buffer = best ? plan->devices[device].arena->handle : NULL;
  *out_offset = best ? best->offset + offset : 0;
  return WEFT_OK;
}

static weft_status_t weft_plan_build_segments(weft_program_t* program) {
  weft_plan_t* plan = &program->plan;
  for (size_t s = 0; s < plan->step_count; ++s) {
    weft_step_t* step = &plan->steps[s];
    if (step->kind != WEFT_STEP_SEGMENT) continue;
    uint32_t node_count = step->end - step->begin;
    size_t desc_count = (size_t)node_count * (WEFT_MAX_SRC + 1);
    WEFT_RETURN_IF_ERROR(weft__alloc(program->allocator, desc_count * sizeof(weft_tensor_desc_t),
                                     "segment descriptors", (void**)&step->descs));
    WEFT_RETURN_IF_ERROR(weft__alloc(program->allocator, desc_count * sizeof(void*),
                                     "segment descriptors", (void**)&step->desc_ptrs));
    WEFT_RETURN_IF_ERROR(weft__alloc(program->allocator, node_count * sizeof(weft_node_t),
                                     "segment nodes", (void**)&step->nodes));
    WEFT_RETURN_IF_ERROR(weft__alloc(program->allocator, node_count * sizeof(void*),
                                     "segment nodes", (void**)&step->node_ptrs));
    WEFT_RETURN_IF_ERROR(weft__event_create(program->allocator, &step->event));
    uint32_t used = 0;
    for (uint32_t p = step->begin; p < step->end; ++p) {
      const weft_tensor_t* t = &program->tensors[plan->order[p]];
      weft_node_t* node = &step->nodes[p - step->begin];
      node->struct_size = (uint32_t)sizeof(*node);
      node->op = t->op;
      for (int i = 0; i <= WEFT_MAX_SRC; ++i) {
        const weft_tensor_t* operand = i < WEFT_MAX_SRC ? t->src[i] : t;
        if (i < WEFT_MAX_SRC) node->src[i] = WEFT_NODE_NO_TENSOR;
        if (!operand) continue;
        weft_tensor_desc_t* desc = &step->descs[used];
        weft_desc_fill(operand, desc);
        WEFT_RETURN_IF_ERROR(weft_plan_locate(program, operand, step->device, p,
                                              &desc->buffer, &desc->offset));
        step->desc_ptrs[used] = desc;
        if (i < WEFT_MAX_SRC) {
          node->src[i] = used;
        } else {
          node->dst = used;
        }
        ++used;
      }
      node->params = t->params_size ? t->params : NULL;
      node->params_size = t->params_size;
      step->node_ptrs[p - step->begin] = node;
    }
    step->segment.struct_size = (uint32_t)sizeof(step->segment);
    step->segment.tensor_count = used;
    step->segment.node_count = node_count;
    step->segment.tensors = step->desc_ptrs;
    step->segment.nodes = step->node_ptrs;
    /* Hand the segment over once where the plugin can keep it (ABI 1.3);
     * otherwise, or if it declines, it is submitted whole on every run. */
    weft_device_t* device = plan->devices[step->device].device;
    const weft_plugin_interface_t* table = &device->plugin->table;
    if (table->segment_prepare && table->segment_submit_prepared && table->segment_release) {
      pthread_mutex_lock(&device->lock);
      weft_status_t prepared = weft__device_ensure_open_locked(device);
      if (prepared == WEFT_OK) {
        prepared = table->segment_prepare(device->opened, &step->segment, &step->prepared);
      }
      pthread_mutex_unlock(&device->lock);
      if (prepared != WEFT_OK) {
        weft_status_code_t code = weft_status_code(prepared);
        step->prepared = NULL;
        if (code == WEFT_STATUS_UNSUPPORTED) {
          weft_status_free(prepared);
        } else {
          return weft_status_annotate(prepared, "device %s: preparing a segment of %u ops",
                                      device->id, node_count);
        }
      }
    }
  }
  return WEFT_OK;
}

static void weft_plan_free(weft_program_t* program) {
  weft_plan_t* plan = &program->plan;
  weft_allocator_t allocator = program->allocator;
  for (size_t s = 0; s < plan->step_count; ++s) {
    weft_step_t* step = &plan->steps[s];
    if (step->prepared) {
      /* Before the arenas it names go away. */
      weft_device_t* device = plan->devices[step->device].device;
      pthread_mutex_lock(&device->lock);
      if (device->opened) device->plugin->table.segment_release(device->opened, step->prepared);
      pthread_mutex_unlock(&device->lock);
      step->prepared = NULL;
    }
    weft__free(allocator, step->descs);
    weft__free(allocator, step->desc_ptrs);
    weft__free(allocator, step->nodes);
    weft__free(allocator, step->node_ptrs);
    weft__event_destroy(allocator, step->event);
  }
  for (size_t i = 0; i < plan->alias_count; ++i) {
    weft_buffer_destroy(plan->aliases[i].alias);
    if (plan->aliases[i].unmap_source) weft_buffer_unmap(plan->aliases[i].source);
  }
  weft__free(allocator, plan->aliases);
  for (size_t d = 0; d < plan->device_count; ++d) weft_buffer_destroy(plan->devices[d].arena);
  weft__free(allocator, plan->steps);
  weft__free(allocator, plan->slots);
  weft__free(allocator, plan->devices);
  weft__free(allocator, plan->order);
  weft__free(allocator, plan->node_device);
  weft__free(allocator, plan->home);
  weft__free(allocator, plan->home_slot);
  memset(plan, 0, sizeof(*plan));
}

static weft_status_t weft_plan_build(weft_program_t* program) {
  weft_plan_t* plan = &program->plan;
  weft_allocator_t allocator = program->allocator;
  uint32_t n = program->tensor_count;
  size_t bytes = (size_t)(n ? n : 1) * sizeof(uint32_t);
  bool* needed = NULL;
  uint32_t* last_writer = NULL; /* per root: position of its last writer so far */
  uint32_t* last_read = NULL;   /* per root: position of its last reader */
  uint32_t* position = NULL;    /* per op tensor: its position in the order */
  weft_status_t status = WEFT_OK;
  if ((status = weft__alloc(allocator, bytes, "the plan", (void**)&plan->order)) ||
      (status = weft__alloc(allocator, bytes, "the plan", (void**)&plan->node_device)) ||
      (status = weft__alloc(allocator, bytes, "the plan", (void**)&plan->home)) ||
      (status = weft__alloc(allocator, bytes, "the plan", (void**)&plan->home_slot)) ||
      (status = weft__alloc(allocator, bytes, "the plan", (void**)&last_writer)) ||
      (status = weft__alloc(allocator, bytes, "the plan", (void**)&last_read)) ||
      (status = weft__alloc(allocator, bytes, "the plan", (void**)&position)) ||
      (status = weft__alloc(allocator, n ? n : 1, "the plan", (void**)&needed))) {
    goto done;
  }
  for (uint32_t i = 0; i < n; ++i) {
    plan->node_device[i] = plan->home[i] = plan->home_slot[i] = last_writer[i] = WEFT_NONE;
    last_read[i] = position[i] = WEFT_NONE;
  }

  /* 1. Liveness, sweeping back over the topological order. */
  bool any_root = false;
  for (uint32_t i = 0; i < n; ++i) {
    const weft_tensor_t* t = &program->tensors[i];
    bool writes_bound = t->kind == WEFT_TENSOR_KIND_RESULT && t->base &&
                        weft__tensor_storage_root(t, NULL)->kind == WEFT_TENSOR_KIND_BOUND;
    if (t->output || writes_bound) needed[i] = any_root = true;
  }
  for (uint32_t i = n; i-- > 0;) {
    const weft_tensor_t* t = &program->tensors[i];
    if (!any_root && t->kind == WEFT_TENSOR_KIND_RESULT) needed[i] = true;
    if (!needed[i]) continue;
    for (int s = 0; s < WEFT_MAX_SRC; ++s) {
      if (t->src[s]) needed[t->src[s]->id] = true;
    }
    if (t->base) needed[t->base->id] = true;
  }
  for (uint32_t i = 0; i < n; ++i) {
    if (needed[i] && program->tensors[i].kind == WEFT_TENSOR_KIND_RESULT) {
      plan->order[plan->order_count++] = i;
    }
  }

  /* 2. Placement; homes of storage. */
  for (uint32_t p = 0; p < plan->order_count && status == WEFT_OK; ++p) {
    uint32_t id = plan->order[p];
    const weft_tensor_t* t = &program->tensors[id];
    weft_device_t* device = NULL;
    uint32_t index = 0;
    if ((status = weft_plan_place(program, id, &device)) != WEFT_OK ||
        (status = weft_plan_device_index(program, device, &index)) != WEFT_OK) {
      break;
    }
    plan->node_device[id] = index;
    const weft_tensor_t* root = weft__tensor_storage_root(t, NULL);
    if (plan->home[root->id] == WEFT_NONE) {
      if (root->kind == WEFT_TENSOR_KIND_BOUND) {
        status = weft_plan_device_index(program, root->buffer->device, &plan->home[root->id]);
      } else {
        plan->home[root->id] = index;
      }
    }
    /* Inputs live where they are first used; bound tensors where they are. */
    for (int s = 0; s < WEFT_MAX_SRC && status == WEFT_OK; ++s) {
      if (!t->src[s]) continue;
      const weft_tensor_t* src_root = weft__tensor_storage_root(t->src[s], NULL);
      if (plan->home[src_root->id] != WEFT_NONE) continue;
      if (src_root->kind == WEFT_TENSOR_KIND_BOUND) {
        status = weft_plan_device_index(program, src_root->buffer->device,
                                        &plan->home[src_root->id]);
      } else {
        plan->home[src_root->id] = index;
      }
    }
  }
  /* Outputs nobody reads and inputs nobody uses still need a home. */
  for (uint32_t i = 0; i < n && status == WEFT_OK; ++i) {
    const weft_tensor_t* t = &program->tensors[i];
    if (!t->output) continue;
    const weft_tensor_t* root = weft__tensor_storage_root(t, NULL);
    if (plan->home[root->id] != WEFT_NONE) continue;
    if (root->kind == WEFT_TENSOR_KIND_BOUND) {
      status = weft_plan_device_index(program, root->buffer->device, &plan->home[root->id]);
    } else if (root->kind == WEFT_TENSOR_KIND_INPUT) {
      weft_device_t* reference = weft_program_reference_device(program);
      if (!reference) {
        status = weft_status_make(WEFT_STATUS_UNAVAILABLE,
                                  "input '%s' is an output but no device can hold it",
                                  root->name);
      } else {
        status = weft_plan_device_index(program, reference, &plan->home[root->id]);
      }
    }
  }
  if (status != WEFT_OK) goto done;

  /* 3. Home slots (everything but bound storage), segments, replicas, copies.
   * An op that may run in place (docs/ops.md) takes over its first operand's
   * slot when that operand is an intermediate of the same shape, on the same
   * device, that nothing reads afterwards. */
  for (uint32_t p = 0; p < plan->order_count; ++p) {
    const weft_tensor_t* t = &program->tensors[plan->order[p]];
    position[t->id] = p;
    for (int s = 0; s < WEFT_MAX_SRC; ++s) {
      if (t->src[s]) last_read[weft__tensor_storage_root(t->src[s], NULL)->id] = p;
    }
    /* A later write into the storage counts as a use too. */
    if (t->base) last_read[weft__tensor_storage_root(t, NULL)->id] = p;
  }
  for (uint32_t i = 0; i < n && status == WEFT_OK; ++i) {
    const weft_tensor_t* t = &program->tensors[i];
    if (t->base || t->kind == WEFT_TENSOR_KIND_BOUND || plan->home[i] == WEFT_NONE) continue;
    uint32_t first = t->kind == WEFT_TENSOR_KIND_RESULT ? position[i] : 0;
    const weft_tensor_t* src0 = t->kind == WEFT_TENSOR_KIND_RESULT ? t->src[0] : NULL;
    if (src0 && weft_op_in_place(t->op) && src0->kind == WEFT_TENSOR_KIND_RESULT &&
        !src0->base && !src0->output && src0->dtype == t->dtype &&
        memcmp(src0->ne, t->ne, sizeof(t->ne)) == 0 && last_read[src0->id] == first &&
        plan->home[src0->id] == plan->home[i] && plan->home_slot[src0->id] != WEFT_NONE) {
      plan->home_slot[i] = plan->home_slot[src0->id];
      plan->unplanned_bytes += weft_align_up(weft_root_bytes(t));
      plan->in_place_count++;
      continue;
    }
    status = weft_plan_slot_add(program, plan->home[i], i, WEFT_NONE, 0, first,
                                &plan->home_slot[i]);
  }
  weft_step_t pending[64];
  uint32_t pending_count = 0;
  weft_step_t segment;
  memset(&segment, 0, sizeof(segment));
  segment.kind = WEFT_STEP_SEGMENT;
  segment.device = WEFT_NONE;
  for (uint32_t p = 0; p <= plan->order_count && status == WEFT_OK; ++p) {
    uint32_t device = p < plan->order_count ? plan->node_device[plan->order[p]] : WEFT_NONE;
    bool overflow = pending_count + WEFT_MAX_SRC > sizeof(pending) / sizeof(pending[0]);
    if (segment.device != WEFT_NONE && (device != segment.device || overflow)) {
      /* Close the segment: its copies first, then it. */
      for (uint32_t c = 0; c < pending_count && status == WEFT_OK; ++c) {
        status = weft_plan_step_add(program, &pending[c]);
      }
      segment.end = p;
      if (status == WEFT_OK) status = weft_plan_step_add(program, &segment);
      plan->copy_count += pending_count;
      plan->segment_count++;
      pending_count = 0;
      segment.device = WEFT_NONE;
    }
    if (p == plan->order_count || status != WEFT_OK) break;
    if (segment.device == WEFT_NONE) {
      segment.device = device;
      segment.begin = p;
    }
    const weft_tensor_t* t = &program->tensors[plan->order[p]];
    for (int s = 0; s <= WEFT_MAX_SRC && status == WEFT_OK; ++s) {
      /* Sources are read; the op's own storage (dst) is written here. */
      const weft_tensor_t* operand = s < WEFT_MAX_SRC ? t->src[s] : t;
      if (!operand) continue;
      const weft_tensor_t* root = weft__tensor_storage_root(operand, NULL);
      uint32_t home = plan->home[root->id];
      if (home == device || s == WEFT_MAX_SRC) {
        if (plan->home_slot[root->id] != WEFT_NONE) {
          weft_slot_extend(&plan->slots[plan->home_slot[root->id]], p);
        }
        continue;
      }
      /* Read on a device other than its home: in place where both devices
       * share memory, else a replica of this version, filled by a copy. */
      if (weft_plan_can_share(program, home, device)) {
        plan->shared_count++;
        if (plan->home_slot[root->id] != WEFT_NONE) {
          weft_slot_extend(&plan->slots[plan->home_slot[root->id]], p);
        }
        continue;
      }
      uint32_t version = last_writer[root->id];
      uint32_t slot = WEFT_NONE;
      for (size_t k = 0; k < plan->slot_count; ++k) {
        const weft_slot_t* candidate = &plan->slots[k];
        if (candidate->replica && candidate->root == root->id && candidate->device == device &&
            candidate->version == version) {
          slot = (uint32_t)k;
        }
      }
      if (slot == WEFT_NONE) {
        status = weft_plan_slot_add(program, device, root->id, version, 1, segment.begin, &slot);
        if (status != WEFT_OK) break;
        weft_step_t copy;
        memset(&copy, 0, sizeof(copy));
        copy.kind = WEFT_STEP_COPY;
        copy.device = device;
        copy.source_device = home;
        copy.root = root->id;
        copy.slot = slot;
        copy.bytes = weft_root_bytes(root);
        pending[pending_count++] = copy;
        /* The source must stay intact until the copy, which happens before
         * this segment starts. */
        if (plan->home_slot[root->id] != WEFT_NONE) {
          weft_slot_extend(&plan->slots[plan->home_slot[root->id]], segment.begin);
        }
      }
      weft_slot_extend(&plan->slots[slot], p);
    }
    const weft_tensor_t* written = weft__tensor_storage_root(t, NULL);
    last_writer[written->id] = p;
  }
  if (status != WEFT_OK) goto done;
  /* Outputs stay until the end. */
  for (uint32_t i = 0; i < n; ++i) {
    if (!program->tensors[i].output) continue;
    const weft_tensor_t* root = weft__tensor_storage_root(&program->tensors[i], NULL);
    if (plan->home_slot[root->id] != WEFT_NONE) {
      weft_slot_extend(&plan->slots[plan->home_slot[root->id]], plan->order_count);
    }
  }

  /* 4. Offsets and arenas. */
  if ((status = weft_plan_assign_offsets(program)) != WEFT_OK) goto done;
  for (size_t d = 0; d < plan->device_count && status == WEFT_OK; ++d) {
    weft_plan_device_t* device = &plan->devices[d];
    if (device->arena_size == 0) continue;
    status = weft_buffer_create(device->device, WEFT_MEMORY_TYPE_DEVICE_LOCAL,
                                device->arena_size, &device->arena);
    if (status != WEFT_OK) {
      status = weft_status_annotate(status, "the planned arena of %llu bytes on %s",
                                    (unsigned long long)device->arena_size,
                                    device->device->id);
    }
  }
  /* 5. The ABI structs. */
  if (status == WEFT_OK) status = weft_plan_build_segments(program);

done:
  weft__free(allocator, program->memo);
  program->memo = NULL;
  program->memo_count = program->memo_capacity = 0;
  weft__free(allocator, needed);
  weft__free(allocator, last_writer);
  weft__free(allocator, last_read);
  weft__free(allocator, position);
  if (status != WEFT_OK) weft_plan_free(program);
  return status;
}

static void weft_plan_log(const weft_program_t* program) {
  const weft_plan_t* plan = &program->plan;
  for (size_t s = 0; s < plan->step_count; ++s) {
    const weft_step_t* step = &plan->steps[s];
    if (step->kind == WEFT_STEP_COPY) {
      weft__log_always(program->runtime, "scheduler", "step %zu: copy '%s' (%llu bytes) %s -> %s",
                       s, program->tensors[step->root].name, (unsigned long long)step->bytes,
                       plan->devices[step->source_device].device->id,
                       plan->devices[step->device].device->id);
    } else {
      const weft_tensor_t* first = &program->tensors[plan->order[step->begin]];
      const weft_tensor_t* last = &program->tensors[plan->order[step->end - 1]];
      weft__log_always(program->runtime, "scheduler",
                       "step %zu: segment on %s: %u ops (%s '%s' .. %s '%s')", s,
                       plan->devices[step->device].device->id, step->end - step->begin,
                       weft_op_name(first->op), first->name, weft_op_name(last->op), last->name);
    }
  }
  for (size_t d = 0; d < plan->device_count; ++d) {
    weft__log_always(program->runtime, "scheduler", "arena on %s: %llu bytes",
                     plan->devices[d].device->id,
                     (unsigned long long)plan->devices[d].arena_size);
  }
}

/* ---- public: compile ---- */

void weft_compile_options_init(weft_compile_options_t* out_options) {
  if (!out_options) return;
  memset(out_options, 0, sizeof(*out_options));
  out_options->struct_size = (uint32_t)sizeof(*out_options);
}

void weft_program_destroy(weft_program_t* program) {
  if (!program) return;
  if (program->in_flight) weft_status_free(weft_program_wait(program));
  weft_allocator_t allocator = program->allocator;
  weft_plan_free(program);
  if (program->inputs) {
    for (uint32_t i = 0; i < program->tensor_count; ++i) weft__free(allocator, program->inputs[i]);
  }
  weft__free(allocator, program->inputs);
  weft__free(allocator, program->serials);
  weft__free(allocator, program->tensors);
  weft__free(allocator, program->allowed);
  weft__free(allocator, program->excluded);
  weft__free(allocator, program);
}

weft_status_t weft_graph_compile(weft_graph_t* graph, const weft_compile_options_t* options,
                                 weft_program_t** out_program) {
  if (out_program) *out_program = NULL;
  if (!graph || !out_program) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_graph_compile: graph and out_program must not be NULL");
  }
  weft_compile_options_t defaults;
  weft_compile_options_init(&defaults);
  if (!options) options = &defaults;
  if (options->struct_size < offsetof(weft_compile_options_t, device_count) + sizeof(size_t)) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_compile_options_t.struct_size is %u (call "
                            "weft_compile_options_init)",
                            options->struct_size);
  }
  weft_runtime_t* runtime = graph->runtime;
  weft_allocator_t allocator = runtime->allocator;
  if (graph->tensor_count > UINT32_MAX / 2) {
    return weft_status_make(WEFT_STATUS_RESOURCE_EXHAUSTED, "graph of %zu tensors",
                            graph->tensor_count);
  }
  weft_program_t* program = NULL;
  WEFT_RETURN_IF_ERROR(weft__alloc(allocator, sizeof(*program), "a program", (void**)&program));
  program->runtime = runtime;
  program->allocator = allocator;
  program->tensor_count = (uint32_t)graph->tensor_count;
  program->flags = options->flags;
  const char* debug = weft__env_get(runtime, "WEFT_SCHED_DEBUG");
  program->debug = (options->flags & WEFT_COMPILE_FLAG_DEBUG) ||
                   (debug && debug[0] && strcmp(debug, "0") != 0);
  size_t n = program->tensor_count ? program->tensor_count : 1;
  weft_status_t status = WEFT_OK;
  if ((status = weft__alloc(allocator, n * sizeof(weft_tensor_t), "the program's tensors",
                            (void**)&program->tensors)) ||
      (status = weft__alloc(allocator, n * sizeof(uint64_t), "the program's tensors",
                            (void**)&program->serials)) ||
      (status = weft__alloc(allocator, n * sizeof(void*), "the program's inputs",
                            (void**)&program->inputs))) {
    weft_program_destroy(program);
    return status;
  }
  for (uint32_t i = 0; i < program->tensor_count; ++i) {
    weft_tensor_t* copy = &program->tensors[i];
    *copy = *graph->tensors[i];
    copy->graph = NULL; /* the program does not depend on the graph */
    for (int s = 0; s < WEFT_MAX_SRC; ++s) {
      if (copy->src[s]) copy->src[s] = &program->tensors[copy->src[s]->id];
    }
    if (copy->base) copy->base = &program->tensors[copy->base->id];
    if (copy->kind == WEFT_TENSOR_KIND_BOUND) program->serials[i] = copy->buffer->serial;
  }
  if (options->devices && options->device_count > 0) {
    status = weft__alloc(allocator, options->device_count * sizeof(weft_device_t*),
                         "the allowed devices", (void**)&program->allowed);
    if (status == WEFT_OK) {
      for (size_t i = 0; i < options->device_count; ++i) {
        weft_device_t* device = options->devices[i];
        if (!device || device->runtime != runtime) {
          status = weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                                    "weft_graph_compile: options.devices[%zu] is %s", i,
                                    device ? "a device of another runtime" : "NULL");
          break;
        }
        program->allowed[i] = device;
      }
      program->allowed_count = options->device_count;
    }
  }
  if (status == WEFT_OK) status = weft_plan_build(program);
  if (status != WEFT_OK) {
    weft_program_destroy(program);
    return status;
  }
  if (program->debug) weft_plan_log(program);
  *out_program = program;
  return WEFT_OK;
}

/* ---- public: run ---- */

weft_status_t weft_program_set_input(weft_program_t* program, const weft_tensor_t* tensor,
                                     const void* data, uint64_t size) {
  if (!program || !tensor || !data) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_program_set_input: program, tensor and data must not be "
                            "NULL");
  }
  if (tensor->id >= program->tensor_count ||
      program->tensors[tensor->id].kind != WEFT_TENSOR_KIND_INPUT) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_program_set_input: '%s' is not an input of this program",
                            tensor->name);
  }
  const weft_tensor_t* input = &program->tensors[tensor->id];
  uint64_t bytes = weft_root_bytes(input);
  if (size != bytes) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_program_set_input: input '%s' holds %llu bytes, got %llu",
                            input->name, (unsigned long long)bytes, (unsigned long long)size);
  }
  if (!program->inputs[tensor->id]) {
    WEFT_RETURN_IF_ERROR(weft__alloc(program->allocator, (size_t)bytes, "an input's value",
                                     &program->inputs[tensor->id]));
  }
  memcpy(program->inputs[tensor->id], data, (size_t)bytes);
  return WEFT_OK;
}

/* The app buffer of a bound root, or the arena, holding `root` on `device`. */
static weft_buffer_t* weft_program_storage(const weft_program_t* program, uint32_t root,
                                           uint32_t device, uint64_t* out_offset) {
  const weft_plan_t* plan = &program->plan;
  const weft_tensor_t* t = &program->tensors[root];
  if (plan->home[root] == device && t->kind == WEFT_TENSOR_KIND_BOUND) {
    *out_offset = t->buffer_offset;
    return t->buffer;
  }
  *out_offset = plan->slots[plan->home_slot[root]].offset;
  return plan->devices[device].arena;
}

static uint32_t weft_program_wait_segment(weft_program_t* program, size_t segment_plus_one) {
  if (segment_plus_one == 0) return WEFT_STATUS_OK;
  return weft__event_wait(program->plan.steps[segment_plus_one - 1].event, UINT64_MAX);
}

static weft_status_t weft_program_check_ready(weft_program_t* program) {
  for (uint32_t i = 0; i < program->tensor_count; ++i) {
    const weft_tensor_t* t = &program->tensors[i];
    if (t->kind == WEFT_TENSOR_KIND_BOUND && program->plan.home[i] != WEFT_NONE &&
        !weft__buffer_serial_alive(program->runtime, program->serials[i])) {
      return weft_status_make(WEFT_STATUS_FAILED_PRECONDITION,
                              "bound tensor '%s' uses a buffer that was destroyed after the "
                              "graph was compiled",
                              t->name);
    }
    if (t->kind == WEFT_TENSOR_KIND_INPUT && program->plan.home_slot[i] != WEFT_NONE &&
        !program->inputs[i]) {
      return weft_status_make(WEFT_STATUS_FAILED_PRECONDITION,
                              "input '%s' has no value (weft_program_set_input)", t->name);
    }
  }
  return WEFT_OK;
}

/* Submits every step; copies and input uploads happen on this thread. */
static weft_status_t weft_program_start(weft_program_t* program, uint32_t* out_failed_device) {
  weft_plan_t* plan = &program->plan;
  *out_failed_device = WEFT_NONE;
  program->started_steps = 0;
  WEFT_RETURN_IF_ERROR(weft_program_check_ready(program));
  for (size_t s = 0; s < plan->step_count; ++s) {
    if (plan->steps[s].event) weft__event_reset(plan->steps[s].event);
  }
  for (size_t d = 0; d < plan->device_count; ++d) plan->devices[d].last_segment = 0;
  for (uint32_t i = 0; i < program->tensor_count; ++i) {
    const weft_tensor_t* t = &program->tensors[i];
    if (t->kind != WEFT_TENSOR_KIND_INPUT || plan->home_slot[i] == WEFT_NONE) continue;
    const weft_slot_t* slot = &plan->slots[plan->home_slot[i]];
    weft_status_t status = weft_buffer_write(plan->devices[slot->device].arena, slot->offset,
                                             program->inputs[i], weft_root_bytes(t));
    if (status != WEFT_OK) {
      *out_failed_device = slot->device;
      return weft_status_annotate(status, "uploading input '%s'", t->name);
    }
  }
  void* staging = NULL;
  uint64_t staging_size = 0;
  uint32_t previous_segment = WEFT_NONE;
  weft_status_t status = WEFT_OK;
  for (size_t s = 0; s < plan->step_count && status == WEFT_OK; ++s) {
    weft_step_t* step = &plan->steps[s];
    weft_plan_device_t* target = &plan->devices[step->device];
    program->started_steps = s + 1;
    if (step->kind == WEFT_STEP_COPY) {
      weft_plan_device_t* source = &plan->devices[step->source_device];
      size_t waited = source->last_segment;
      uint32_t code = weft_program_wait_segment(program, waited);
      if (code == WEFT_STATUS_OK) {
        waited = target->last_segment;
        code = weft_program_wait_segment(program, waited);
      }
      if (code != WEFT_STATUS_OK) {
        const weft_step_t* failed = &plan->steps[waited - 1];
        const weft_tensor_t* first = &program->tensors[plan->order[failed->begin]];
        *out_failed_device = failed->device;
        status = weft_status_make((weft_status_code_t)code,
                                  "device %s failed running the segment from %s '%s' (needed "
                                  "by the copy of '%s'): %s",
                                  plan->devices[failed->device].device->id,
                                  weft_op_name(first->op), first->name,
                                  program->tensors[step->root].name,
                                  weft_status_code_text((weft_status_code_t)code));
        break;
      }
      if (step->bytes > staging_size) {
        weft__free(program->allocator, staging);
        staging = NULL;
        staging_size = 0;
        status = weft__alloc(program->allocator, (size_t)step->bytes, "a copy's staging area",
                             &staging);
        if (status != WEFT_OK) break;
        staging_size = step->bytes;
      }
      uint64_t from = 0;
      weft_buffer_t* source_buffer =
          weft_program_storage(program, step->root, step->source_device, &from);
      status = weft_buffer_read(source_buffer, from, staging, step->bytes);
      if (status != WEFT_OK) {
        *out_failed_device = step->source_device;
      } else {
        status = weft_buffer_write(target->arena, plan->slots[step->slot].offset, staging,
                                   step->bytes);
        if (status != WEFT_OK) *out_failed_device = step->device;
      }
      if (status != WEFT_OK) {
        status = weft_status_annotate(status, "copying '%s' from %s to %s",
                                      program->tensors[step->root].name,
                                      source->device->id, target->device->id);
      }
      continue;
    }
    weft_device_t* device = target->device;
    /* Devices that read each other's memory in place are ordered by events:
     * a segment starts after the segment before it, if that ran elsewhere. */
    weft_event_t* wait = NULL;
    if (plan->shared_count > 0 && previous_segment != WEFT_NONE &&
        plan->steps[previous_segment].device != step->device) {
      wait = plan->steps[previous_segment].event;
    }
    previous_segment = (uint32_t)s;
    pthread_mutex_lock(&device->lock);
    status = weft__device_ensure_open_locked(device);
    if (status == WEFT_OK && step->prepared) {
      status = device->plugin->table.segment_submit_prepared(device->opened, step->prepared,
                                                             wait ? &wait : NULL, wait ? 1 : 0,
                                                             step->event);
    } else if (status == WEFT_OK) {
      status = device->plugin->table.segment_submit
                   ? device->plugin->table.segment_submit(device->opened, &step->segment,
                                                          wait ? &wait : NULL, wait ? 1 : 0,
                                                          step->event)
                   : weft_status_make(WEFT_STATUS_UNSUPPORTED,
                                      "its plugin cannot run segments");
    }
    pthread_mutex_unlock(&device->lock);
    target->last_segment = s + 1;
    if (status != WEFT_OK) {
      /* The host signals on the plugin's behalf (docs/abi.md). */
      weft__event_signal(step->event, (uint32_t)weft_status_code(status));
      *out_failed_device = step->device;
      const weft_tensor_t* first = &program->tensors[plan->order[step->begin]];
      status = weft_status_annotate(status, "device %s, segment from %s '%s'", device->id,
                                    weft_op_name(first->op), first->name);
    }
  }
  weft__free(program->allocator, staging);
  return status;
}

/* Waits for every segment; the first failure names its device and op. */
static weft_status_t weft_program_finish(weft_program_t* program, uint32_t* out_failed_device) {
  weft_plan_t* plan = &program->plan;
  weft_status_t status = WEFT_OK;
  /* Only what was submitted: a run that stopped early never signals the rest. */
  for (size_t s = 0; s < program->started_steps && s < plan->step_count; ++s) {
    weft_step_t* step = &plan->steps[s];
    if (step->kind != WEFT_STEP_SEGMENT) continue;
    uint32_t code = weft__event_wait(step->event, UINT64_MAX);
    if (code != WEFT_STATUS_OK && status == WEFT_OK) {
      const weft_tensor_t* first = &program->tensors[plan->order[step->begin]];
      *out_failed_device = step->device;
      status = weft_status_make((weft_status_code_t)code,
                                "device %s failed running the segment from %s '%s': %s",
                                plan->devices[step->device].device->id, weft_op_name(first->op),
                                first->name, weft_status_code_text((weft_status_code_t)code));
    }
  }
  return status;
}

static bool weft_program_replannable(weft_status_code_t code) {
  return code == WEFT_STATUS_DEVICE_LOST || code == WEFT_STATUS_UNAVAILABLE ||
         code == WEFT_STATUS_OUT_OF_MEMORY || code == WEFT_STATUS_RESOURCE_EXHAUSTED;
}

/* Runs once, and with WEFT_COMPILE_FLAG_REPLAN_ON_FAILURE again without a
 * device that failed, for as long as there is another device to fall back on. */
static weft_status_t weft_program_run(weft_program_t* program) {
  for (;;) {
    uint32_t failed = WEFT_NONE;
    weft_status_t status = weft_program_start(program, &failed);
    uint32_t failed_late = WEFT_NONE;
    weft_status_t finished = weft_program_finish(program, &failed_late);
    if (status == WEFT_OK) {
      status = finished;
      failed = failed_late;
    } else {
      weft_status_free(finished);
    }
    if (status == WEFT_OK) return WEFT_OK;
    if (!(program->flags & WEFT_COMPILE_FLAG_REPLAN_ON_FAILURE) || failed == WEFT_NONE ||
        !weft_program_replannable(weft_status_code(status))) {
      return status;
    }
    weft_device_t* device = program->plan.devices[failed].device;
    if (device == weft_program_reference_device(program)) return status;
    weft__log(program->runtime, WEFT_LOG_LEVEL_WARN, "scheduler",
              "%s; planning again without %s", weft_status_message(status), device->id);
    weft_status_t grown = weft__array_reserve_one(
        program->allocator, (void**)&program->excluded, &program->excluded_capacity,
        program->excluded_count, sizeof(weft_device_t*));
    if (grown != WEFT_OK) {
      weft_status_free(grown);
      return status;
    }
    program->excluded[program->excluded_count++] = device;
    weft_plan_free(program);
    weft_status_t replanned = weft_plan_build(program);
    if (replanned != WEFT_OK) {
      weft_status_free(status);
      return weft_status_annotate(replanned, "planning again without %s", device->id);
    }
    if (program->debug) weft_plan_log(program);
    weft_status_free(status);
  }
}

weft_status_t weft_program_execute(weft_program_t* program) {
  if (!program) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT, "weft_program_execute: NULL program");
  }
  if (program->in_flight) {
    return weft_status_make(WEFT_STATUS_FAILED_PRECONDITION,
                            "weft_program_execute: the program is running "
                            "(weft_program_wait first)");
  }
  if (!program->plan.order && program->tensor_count > 0) {
    return weft_status_make(WEFT_STATUS_FAILED_PRECONDITION,
                            "weft_program_execute: the program has no plan (an earlier "
                            "re-plan failed)");
  }
  return weft_program_run(program);
}

/* Asynchronous execution submits everything from this thread; segments on
 * asynchronous devices then run while the caller goes on, and wait collects
 * them. Copies between devices are made on this thread and so wait for their
 * source inside execute_async. */
weft_status_t weft_program_execute_async(weft_program_t* program) {
  if (!program) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_program_execute_async: NULL program");
  }
  if (program->in_flight) {
    return weft_status_make(WEFT_STATUS_FAILED_PRECONDITION,
                            "weft_program_execute_async: the program is running");
  }
  uint32_t failed = WEFT_NONE;
  weft_status_t status = weft_program_start(program, &failed);
  if (status != WEFT_OK) {
    uint32_t ignored = WEFT_NONE;
    weft_status_free(weft_program_finish(program, &ignored));
    return status;
  }
  program->in_flight = true;
  return WEFT_OK;
}

weft_status_t weft_program_wait(weft_program_t* program) {
  if (!program) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT, "weft_program_wait: NULL program");
  }
  if (!program->in_flight) return WEFT_OK;
  uint32_t failed = WEFT_NONE;
  weft_status_t status = weft_program_finish(program, &failed);
  program->in_flight = false;
  return status;
}

weft_status_t weft_program_read(weft_program_t* program, const weft_tensor_t* tensor, void* dst,
                                uint64_t size) {
  if (!program || !tensor || !dst) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_program_read: program, tensor and dst must not be NULL");
  }
  if (program->in_flight) {
    return weft_status_make(WEFT_STATUS_FAILED_PRECONDITION,
                            "weft_program_read: the program is running (weft_program_wait "
                            "first)");
  }
  if (tensor->id >= program->tensor_count) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_program_read: '%s' is not a tensor of this program",
                            tensor->name);
  }
  const weft_tensor_t* t = &program->tensors[tensor->id];
  uint64_t view_offset = 0;
  const weft_tensor_t* root = weft__tensor_storage_root(t, &view_offset);
  bool kept = t->output || root->kind == WEFT_TENSOR_KIND_BOUND ||
              root->kind == WEFT_TENSOR_KIND_INPUT || root->output;
  if (!kept || program->plan.home[root->id] == WEFT_NONE) {
    return weft_status_make(WEFT_STATUS_FAILED_PRECONDITION,
                            "weft_program_read: '%s' is not an output (its memory is reused; "
                            "mark it with weft_graph_output)",
                            t->name);
  }
  if (root->kind == WEFT_TENSOR_KIND_BOUND &&
      !weft__buffer_serial_alive(program->runtime, program->serials[root->id])) {
    return weft_status_make(WEFT_STATUS_FAILED_PRECONDITION,
                            "weft_program_read: '%s' uses a buffer that was destroyed", t->name);
  }
  uint64_t bytes = weft__tensor_contiguous_bytes(t->dtype, t->ne);
  if (size != bytes) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_program_read: '%s' holds %llu bytes, got a size of %llu",
                            t->name, (unsigned long long)bytes, (unsigned long long)size);
  }
  uint64_t base = 0;
  weft_buffer_t* buffer =
      weft_program_storage(program, root->id, program->plan.home[root->id], &base);
  if (!buffer) {
    return weft_status_make(WEFT_STATUS_FAILED_PRECONDITION,
                            "weft_program_read: '%s' has no memory in this plan", t->name);
  }
  if (weft__tensor_is_contiguous(t)) {
    return weft_buffer_read(buffer, base + view_offset, dst, bytes);
  }
  /* A strided view: read its extent, then gather in logical order. */
  uint32_t element = weft_dtype_block_bytes(t->dtype);
  if (weft_dtype_block_elements(t->dtype) != 1) {
    return weft_status_make(WEFT_STATUS_UNSUPPORTED,
                            "weft_program_read: '%s' is a strided view of %s blocks; cont it "
                            "in the graph",
                            t->name, weft__dtype_name(t->dtype));
  }
  uint64_t extent = weft__tensor_extent(t->dtype, t->ne, t->nb);
  unsigned char* region = NULL;
  WEFT_RETURN_IF_ERROR(weft__alloc(program->allocator, (size_t)extent, "a strided read",
                                   (void**)&region));
  weft_status_t status = weft_buffer_read(buffer, base + view_offset, region, extent);
  if (status == WEFT_OK) {
    unsigned char* out = (unsigned char*)dst;
    for (int64_t i3 = 0; i3 < t->ne[3]; ++i3)
      for (int64_t i2 = 0; i2 < t->ne[2]; ++i2)
        for (int64_t i1 = 0; i1 < t->ne[1]; ++i1)
          for (int64_t i0 = 0; i0 < t->ne[0]; ++i0) {
            memcpy(out, region + i0 * t->nb[0] + i1 * t->nb[1] + i2 * t->nb[2] + i3 * t->nb[3],
                   element);
            out += element;
          }
  }
  weft__free(program->allocator, region);
  return status;
}

/* ---- public: introspection ---- */

void weft_program_stats_get(const weft_program_t* program, weft_program_stats_t* out_stats) {
  if (!out_stats) return;
  memset(out_stats, 0, sizeof(*out_stats));
  if (!program) return;
  const weft_plan_t* plan = &program->plan;
  out_stats->node_count = plan->order_count;
  out_stats->segment_count = plan->segment_count;
  out_stats->copy_count = plan->copy_count;
  out_stats->in_place_count = plan->in_place_count;
  out_stats->shared_count = plan->shared_count;
  for (size_t d = 0; d < plan->device_count; ++d) {
    bool used = false;
    for (size_t s = 0; s < plan->step_count && !used; ++s) {
      used = plan->steps[s].kind == WEFT_STEP_SEGMENT && plan->steps[s].device == d;
    }
    if (used) out_stats->device_count++;
    out_stats->planned_bytes += plan->devices[d].arena_size;
  }
  out_stats->unplanned_bytes = plan->unplanned_bytes;
}

size_t weft_program_step_count(const weft_program_t* program) {
  return program ? program->plan.step_count : 0;
}

weft_status_t weft_program_step_get(const weft_program_t* program, size_t index,
                                    weft_program_step_t* out_step) {
  if (!program || !out_step || index >= program->plan.step_count) {
    return weft_status_make(WEFT_STATUS_OUT_OF_RANGE,
                            "weft_program_step_get: step %zu of %zu", index,
                            program ? program->plan.step_count : (size_t)0);
  }
  const weft_plan_t* plan = &program->plan;
  const weft_step_t* step = &plan->steps[index];
  memset(out_step, 0, sizeof(*out_step));
  out_step->kind = step->kind;
  out_step->device = plan->devices[step->device].device->id;
  if (step->kind == WEFT_STEP_COPY) {
    out_step->source_device = plan->devices[step->source_device].device->id;
    out_step->tensor = program->tensors[step->root].name;
    out_step->bytes = step->bytes;
  } else {
    out_step->node_count = step->end - step->begin;
    out_step->first_op = weft_op_name(program->tensors[plan->order[step->begin]].op);
  }
  return WEFT_OK;
}
