/* test-split: device enumeration and capabilities, the per-device worker and
 * its queue, op support, submission and synchronisation. See split.h. */
#define _POSIX_C_SOURCE 200809L /* strnlen under -std=c11 */
#include <stdio.h>
#include <string.h>

#include "cpu_ref/ops/kernels.h"
#include "split.h"

/* Longest message the node checks write; the ABI's reason is shorter and cut. */
#define WEFT_SPLIT_ERROR_CAP 512
/* A node's parameter struct is a few words; more is a corrupt node. */
#define WEFT_SPLIT_PARAMS_MAX 65536u

static void weft_split_text_set(char* dst, size_t cap, const char* src) {
  size_t length = strlen(src);
  if (length >= cap) length = cap - 1;
  memcpy(dst, src, length);
  dst[length] = '\0';
}

/* ---- enumeration ---- */

uint32_t weft_split_device_count(weft_plugin_instance_t* instance) {
  return instance->config.device_count;
}

weft_status_t weft_split_device_query_caps(weft_plugin_instance_t* instance, uint32_t index,
                                           weft_device_caps_t* inout_caps) {
  const weft_host_services_t* host = instance->host;
  if (index >= instance->config.device_count) {
    return WEFT_SPLIT_STATUS(host, WEFT_STATUS_OUT_OF_RANGE,
                             "test-split: device index %u out of range (%u devices)", index,
                             instance->config.device_count);
  }
  if (inout_caps == NULL) {
    return WEFT_SPLIT_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                             "test-split: device_query_caps called without caps");
  }
  weft_device_caps_t caps;
  memset(&caps, 0, sizeof(caps));
  caps.struct_size = (uint32_t)sizeof(caps);
  caps.type = WEFT_DEVICE_TYPE_ACCELERATOR;
  snprintf(caps.name, sizeof(caps.name), "weft test-split device %u", index);
  weft_split_text_set(caps.vendor, sizeof(caps.vendor), "weft");
  weft_split_text_set(caps.driver, sizeof(caps.driver),
                      WEFT_SPLIT_PLUGIN_NAME " " WEFT_SPLIT_PLUGIN_VERSION);
  /* Distinct ids and UUIDs: the registry must see separate physical devices,
   * each with its own memory. */
  snprintf(caps.stable_id, sizeof(caps.stable_id), "test-split:%u", index);
  static const uint8_t uuid_prefix[15] = {'w', 'e', 'f', 't', '-', 't', 'e', 's',
                                          't', '-', 's', 'p', 'l', 'i', 't'};
  memcpy(caps.uuid, uuid_prefix, sizeof(uuid_prefix));
  caps.uuid[15] = (uint8_t)index;
  /* Neither UNIFIED_MEMORY nor HOST_VISIBLE_LOCAL: a discrete device;
   * unless configured to behave like an integrated GPU. */
  caps.flags = WEFT_DEVICE_FLAG_HAS_UUID | WEFT_DEVICE_FLAG_ASYNC;
  if (instance->config.unified) {
    caps.flags |= WEFT_DEVICE_FLAG_UNIFIED_MEMORY | WEFT_DEVICE_FLAG_HOST_VISIBLE_LOCAL;
  }
  caps.compute_units = 1;
  caps.memory_total = instance->config.memory_total;
  /* Queried before any buffer exists; device_memory_query gives live values. */
  caps.memory_free = instance->config.memory_total;
  caps.dtypes = WEFT_DTYPE_BIT(WEFT_DTYPE_F32) | WEFT_DTYPE_BIT(WEFT_DTYPE_F16) |
                WEFT_DTYPE_BIT(WEFT_DTYPE_BF16) | WEFT_DTYPE_BIT(WEFT_DTYPE_Q4_0) |
                WEFT_DTYPE_BIT(WEFT_DTYPE_Q4_1) | WEFT_DTYPE_BIT(WEFT_DTYPE_Q5_0) |
                WEFT_DTYPE_BIT(WEFT_DTYPE_Q5_1) | WEFT_DTYPE_BIT(WEFT_DTYPE_Q8_0) |
                WEFT_DTYPE_BIT(WEFT_DTYPE_Q4_K) | WEFT_DTYPE_BIT(WEFT_DTYPE_Q6_K) |
                WEFT_DTYPE_BIT(WEFT_DTYPE_I32);
  caps.features = 0;
  weft_split_text_set(caps.features_text, sizeof(caps.features_text),
                      instance->config.unified ? "reference-kernels async-queue unified-memory"
                                               : "reference-kernels async-queue separate-memory");
  /* The accelerator band (docs/abi.md section 12); device 0 is preferred. */
  caps.score = 700 - (int32_t)index;
  weft_device_caps_write(inout_caps, &caps);
  return WEFT_OK;
}

/* ---- the queue ---- */

void weft_split_device_drain(weft_plugin_device_t* device) {
  pthread_mutex_lock(&device->lock);
  while (device->head != NULL || device->busy) {
    pthread_cond_wait(&device->idle, &device->lock);
  }
  pthread_mutex_unlock(&device->lock);
}

weft_status_t weft_split_device_check_alive(weft_plugin_device_t* device, const char* what) {
  pthread_mutex_lock(&device->lock);
  bool lost = device->lost;
  pthread_mutex_unlock(&device->lock);
  if (!lost) return WEFT_OK;
  return WEFT_SPLIT_STATUS(device->host, WEFT_STATUS_DEVICE_LOST,
                           "%s %s: the device was lost (failure injected by %s=%llu)",
                           device->id, what, WEFT_SPLIT_ENV_FAIL_AFTER,
                           (unsigned long long)device->instance->config.fail_after);
}

/* Keeps the first asynchronous failure for the next synchronize; takes
 * ownership of `status`. */
static void weft_split_device_async_error(weft_plugin_device_t* device, weft_status_t status) {
  const weft_host_services_t* host = device->host;
  host->log(host->host_ctx, WEFT_LOG_LEVEL_WARN, "%s", host->status_message(host->host_ctx, status));
  pthread_mutex_lock(&device->lock);
  if (device->async_error == WEFT_OK) {
    device->async_error = status;
    status = WEFT_OK;
  }
  pthread_mutex_unlock(&device->lock);
  if (status != WEFT_OK) host->status_free(host->host_ctx, status);
}

/* ---- tensors and nodes as the kernels see them ---- */

/* A buffer handle is usable here only if it is a live test-split buffer of
 * this very device: each device has its own memory. */
static bool weft_split_buffer_resolve(void* ctx, const weft_plugin_buffer_t* buffer,
                                      void** out_data, uint64_t* out_size, char* error,
                                      size_t error_cap) {
  const weft_plugin_device_t* device = (const weft_plugin_device_t*)ctx;
  if (buffer->magic != WEFT_SPLIT_BUFFER_MAGIC) {
    snprintf(error, error_cap,
             "buffer %p is not a test-split buffer (another plugin's handle, or a freed one)",
             (const void*)buffer);
    return false;
  }
  if (buffer->owner != device) {
    snprintf(error, error_cap,
             "buffer %p belongs to %s, not to %s (each device has its own memory)",
             (const void*)buffer, buffer->owner->id, device->id);
    return false;
  }
  *out_data = buffer->data;
  *out_size = buffer->size;
  return true;
}

/* Builds the kernels' node and checks that this device runs it. Returns
 * WEFT_STATUS_OK, or UNSUPPORTED (an op this device leaves to others, or one
 * the kernels refuse) or INVALID_ARGUMENT (a malformed node or tensor) with
 * the reason in `error`. */
static uint32_t weft_split_node_bind(weft_plugin_device_t* device, const weft_node_t* node,
                                     const weft_tensor_desc_t* const* tensors,
                                     uint32_t tensor_count, bool bind,
                                     weft_cpu_ref_tensor_t storage[WEFT_MAX_SRC + 1],
                                     weft_cpu_ref_node_t* out, char* error, size_t error_cap) {
  memset(out, 0, sizeof(*out));
  if (node == NULL || !WEFT_ABI_HAS_MEMBER(node, weft_node_t, params)) {
    snprintf(error, error_cap, "node is missing or smaller than ABI 1.0's");
    return WEFT_STATUS_INVALID_ARGUMENT;
  }
  if (node->op < WEFT_SPLIT_OP_LIMIT &&
      (device->instance->config.disabled_ops & ((uint64_t)1 << node->op)) != 0) {
    snprintf(error, error_cap, "%s: disabled in test-split (%s)", weft_op_name(node->op),
             WEFT_SPLIT_ENV_UNSUPPORTED);
    return WEFT_STATUS_UNSUPPORTED;
  }
  if (!weft__cpu_ref_node_from_abi(node, tensors, tensor_count,
                                   bind ? weft_split_buffer_resolve : NULL, device, storage,
                                   out, error, error_cap)) {
    return WEFT_STATUS_INVALID_ARGUMENT;
  }
  if (!weft__cpu_ref_node_check(out, error, error_cap)) return WEFT_STATUS_UNSUPPORTED;
  return WEFT_STATUS_OK;
}

weft_status_t weft_split_device_op_query(weft_plugin_device_t* device, const weft_node_t* node,
                                         const weft_tensor_desc_t* const* tensors,
                                         uint32_t tensor_count, weft_op_support_t* out_support) {
  const weft_host_services_t* host = device->host;
  if (out_support == NULL || !WEFT_ABI_HAS_MEMBER(out_support, weft_op_support_t, reason)) {
    return WEFT_SPLIT_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                             "%s op_query: the answer struct is missing or too small",
                             device->id);
  }
  if (tensors == NULL && tensor_count > 0) {
    return WEFT_SPLIT_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                             "%s op_query: %u tensors but no tensor array", device->id,
                             tensor_count);
  }
  /* A question about capability: buffers play no part (they may be NULL). */
  weft_cpu_ref_tensor_t storage[WEFT_MAX_SRC + 1];
  weft_cpu_ref_node_t ref;
  char reason[WEFT_SPLIT_ERROR_CAP];
  bool supported = weft_split_node_bind(device, node, tensors, tensor_count, false, storage,
                                        &ref, reason, sizeof(reason)) == WEFT_STATUS_OK;
  out_support->supported = supported ? 1u : 0u;
  size_t length = supported ? 0 : strnlen(reason, sizeof(out_support->reason) - 1);
  memcpy(out_support->reason, reason, length);
  out_support->reason[length] = '\0';
  return WEFT_OK;
}

/* ---- the worker ---- */

/* Runs one node of a job; returns the outcome code, with a status for
 * synchronize when it failed. */
static uint32_t weft_split_node_run(weft_plugin_device_t* device, const weft_split_job_t* job,
                                    uint32_t n) {
  const weft_host_services_t* host = device->host;
  weft_plugin_instance_t* instance = device->instance;
  uint64_t number = atomic_fetch_add(&instance->nodes_started, 1) + 1;
  if (instance->config.fail_after != 0 && number == instance->config.fail_after) {
    pthread_mutex_lock(&device->lock);
    device->lost = true;
    pthread_mutex_unlock(&device->lock);
    weft_split_device_async_error(
        device, WEFT_SPLIT_STATUS(host, WEFT_STATUS_DEVICE_LOST,
                                  "%s: device lost at node %u (%s) of segment %llu: node %llu "
                                  "of the instance, as %s=%llu asks",
                                  device->id, n, weft_op_name(job->nodes[n]->op),
                                  (unsigned long long)job->sequence, (unsigned long long)number,
                                  WEFT_SPLIT_ENV_FAIL_AFTER,
                                  (unsigned long long)instance->config.fail_after));
    return WEFT_STATUS_DEVICE_LOST;
  }
  weft_cpu_ref_tensor_t storage[WEFT_MAX_SRC + 1];
  weft_cpu_ref_node_t ref;
  char error[WEFT_SPLIT_ERROR_CAP];
  uint32_t code = weft_split_node_bind(device, job->nodes[n], job->tensors, job->tensor_count,
                                       true, storage, &ref, error, sizeof(error));
  if (code != WEFT_STATUS_OK) {
    weft_split_device_async_error(
        device, WEFT_SPLIT_STATUS(host, code, "%s: segment %llu node %u: %s", device->id,
                                  (unsigned long long)job->sequence, n, error));
    return code;
  }
  size_t scratch_size = weft__cpu_ref_node_scratch_size(&ref);
  void* scratch = NULL;
  if (scratch_size > 0) {
    scratch = scratch_size == SIZE_MAX ? NULL : host->alloc(host->host_ctx, scratch_size, 64);
    if (scratch == NULL) {
      weft_split_device_async_error(
          device, WEFT_SPLIT_STATUS(host, WEFT_STATUS_OUT_OF_MEMORY,
                                    "%s: segment %llu node %u (%s): out of memory for %zu bytes "
                                    "of scratch",
                                    device->id, (unsigned long long)job->sequence, n,
                                    weft_op_name(ref.op), scratch_size));
      return WEFT_STATUS_OUT_OF_MEMORY;
    }
  }
  bool ran = weft__cpu_ref_node_run(&ref, scratch, scratch_size, error, sizeof(error));
  host->free(host->host_ctx, scratch);
  if (!ran) {
    weft_split_device_async_error(
        device, WEFT_SPLIT_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                                  "%s: segment %llu node %u: %s", device->id,
                                  (unsigned long long)job->sequence, n, error));
    return WEFT_STATUS_INVALID_ARGUMENT;
  }
  return WEFT_STATUS_OK;
}

static void weft_split_job_run(weft_plugin_device_t* device, const weft_split_job_t* job) {
  const weft_host_services_t* host = device->host;
  /* Every event is waited for, even after one failed, so that nothing
   * queued behind this job starts before its producers are done. */
  uint32_t code = WEFT_STATUS_OK;
  for (uint32_t i = 0; i < job->wait_count; ++i) {
    uint32_t waited = host->event_wait(host->host_ctx, job->waits[i], UINT64_MAX);
    if (code == WEFT_STATUS_OK) code = waited;
  }
  if (code == WEFT_STATUS_OK) {
    pthread_mutex_lock(&device->lock);
    if (device->lost) code = WEFT_STATUS_DEVICE_LOST;
    pthread_mutex_unlock(&device->lock);
  }
  for (uint32_t n = 0; code == WEFT_STATUS_OK && n < job->node_count; ++n) {
    code = weft_split_node_run(device, job, n);
  }
  if (job->signal != NULL) host->event_signal(host->host_ctx, job->signal, code);
}

static void* weft_split_worker_main(void* argument) {
  weft_plugin_device_t* device = argument;
  const weft_host_services_t* host = device->host;
  pthread_mutex_lock(&device->lock);
  for (;;) {
    while (device->head == NULL && !device->stopping) {
      pthread_cond_wait(&device->work, &device->lock);
    }
    weft_split_job_t* job = device->head;
    if (job == NULL) break; /* stopping, and the queue is empty */
    device->head = job->next;
    if (device->head == NULL) device->tail = NULL;
    device->busy = true;
    pthread_mutex_unlock(&device->lock);

    weft_split_job_run(device, job);
    host->free(host->host_ctx, job);

    pthread_mutex_lock(&device->lock);
    device->busy = false;
    if (device->head == NULL) pthread_cond_broadcast(&device->idle);
  }
  pthread_mutex_unlock(&device->lock);
  return NULL;
}

/* ---- open and close ---- */

weft_status_t weft_split_device_open(weft_plugin_instance_t* instance, uint32_t index,
                                     weft_plugin_device_t** out_device) {
  const weft_host_services_t* host = instance->host;
  if (out_device == NULL) {
    return WEFT_SPLIT_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                             "test-split: device_open called without out_device");
  }
  *out_device = NULL;
  if (index >= instance->config.device_count) {
    return WEFT_SPLIT_STATUS(host, WEFT_STATUS_OUT_OF_RANGE,
                             "test-split: device index %u out of range (%u devices)", index,
                             instance->config.device_count);
  }
  weft_plugin_device_t* device = host->alloc(host->host_ctx, sizeof(*device), 0);
  if (device == NULL) {
    return WEFT_SPLIT_STATUS(host, WEFT_STATUS_OUT_OF_MEMORY,
                             "test-split: out of memory opening device %u (%zu bytes)", index,
                             sizeof(*device));
  }
  memset(device, 0, sizeof(*device));
  device->instance = instance;
  device->host = host;
  device->index = index;
  snprintf(device->id, sizeof(device->id), "%s:%u", WEFT_SPLIT_PLUGIN_NAME, index);

  int made = 0; /* how many of mutex, work, idle were initialised */
  weft_status_t status = WEFT_OK;
  if (pthread_mutex_init(&device->lock, NULL) == 0) {
    made = 1;
    if (pthread_cond_init(&device->work, NULL) == 0) {
      made = 2;
      if (pthread_cond_init(&device->idle, NULL) == 0) made = 3;
    }
  }
  if (made < 3) {
    status = WEFT_SPLIT_STATUS(host, WEFT_STATUS_RESOURCE_EXHAUSTED,
                               "%s: cannot initialise the queue's mutex and conditions",
                               device->id);
  }
  if (status == WEFT_OK) {
    /* One device, one memory: a second open of the same index would give the
     * host two views of one device with two separate memories. */
    pthread_mutex_lock(&instance->lock);
    if (instance->open[index] != NULL) {
      status = WEFT_SPLIT_STATUS(host, WEFT_STATUS_FAILED_PRECONDITION,
                                 "%s is already open", device->id);
    } else {
      int error = pthread_create(&device->worker, NULL, weft_split_worker_main, device);
      if (error != 0) {
        status = WEFT_SPLIT_STATUS(host, WEFT_STATUS_RESOURCE_EXHAUSTED,
                                   "%s: cannot start its worker thread (error %d)",
                                   device->id, error);
      } else {
        instance->open[index] = device;
      }
    }
    pthread_mutex_unlock(&instance->lock);
  }
  if (status != WEFT_OK) {
    if (made >= 3) pthread_cond_destroy(&device->idle);
    if (made >= 2) pthread_cond_destroy(&device->work);
    if (made >= 1) pthread_mutex_destroy(&device->lock);
    host->free(host->host_ctx, device);
    return status;
  }
  *out_device = device;
  return WEFT_OK;
}

void weft_split_device_close(weft_plugin_device_t* device) {
  if (device == NULL) return;
  weft_plugin_instance_t* instance = device->instance;
  const weft_host_services_t* host = device->host;
  /* The worker finishes the queue, then exits. */
  pthread_mutex_lock(&device->lock);
  device->stopping = true;
  pthread_cond_broadcast(&device->work);
  pthread_mutex_unlock(&device->lock);
  pthread_join(device->worker, NULL);

  while (device->buffers != NULL) weft_split_buffer_release(device, device->buffers);
  if (device->async_error != WEFT_OK) host->status_free(host->host_ctx, device->async_error);
  pthread_mutex_lock(&instance->lock);
  if (instance->open[device->index] == device) instance->open[device->index] = NULL;
  pthread_mutex_unlock(&instance->lock);
  pthread_cond_destroy(&device->idle);
  pthread_cond_destroy(&device->work);
  pthread_mutex_destroy(&device->lock);
  host->free(host->host_ctx, device);
}

/* ---- submission ---- */

static bool weft_split_size_add(size_t* total, size_t count, size_t element) {
  size_t bytes = 0;
  if (__builtin_mul_overflow(count, element, &bytes)) return false;
  bytes = (bytes + 15u) & ~(size_t)15u;
  if (bytes < count * element) return false; /* rounding wrapped */
  return !__builtin_add_overflow(*total, bytes, total);
}

/* Copies what the worker needs into one allocation: the host's structs live
 * only for the call. Descriptors and nodes keep the writer's struct_size
 * (capped at ours), so the size rule applies to the copies as it did to the
 * originals. */
static weft_status_t weft_split_job_create(weft_plugin_device_t* device,
                                           const weft_segment_t* segment,
                                           weft_event_t* const* waits, uint32_t wait_count,
                                           weft_event_t* signal, weft_split_job_t** out_job) {
  const weft_host_services_t* host = device->host;
  size_t total = 0;
  size_t params_total = 0;
  bool fits = weft_split_size_add(&total, 1, sizeof(weft_split_job_t)) &&
              weft_split_size_add(&total, segment->tensor_count, sizeof(weft_tensor_desc_t)) &&
              weft_split_size_add(&total, segment->tensor_count, sizeof(weft_tensor_desc_t*)) &&
              weft_split_size_add(&total, segment->node_count, sizeof(weft_node_t)) &&
              weft_split_size_add(&total, segment->node_count, sizeof(weft_node_t*)) &&
              weft_split_size_add(&total, wait_count, sizeof(weft_event_t*));
  for (uint32_t n = 0; fits && n < segment->node_count; ++n) {
    const weft_node_t* node = segment->nodes[n];
    if (node->params != NULL) fits = weft_split_size_add(&params_total, 1, node->params_size);
  }
  if (!fits || __builtin_add_overflow(total, params_total, &total)) {
    return WEFT_SPLIT_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                             "%s segment_submit: a segment of %u tensors, %u nodes and %u "
                             "waits is too large to copy",
                             device->id, segment->tensor_count, segment->node_count,
                             wait_count);
  }
  char* block = host->alloc(host->host_ctx, total, 16);
  if (block == NULL) {
    return WEFT_SPLIT_STATUS(host, WEFT_STATUS_OUT_OF_MEMORY,
                             "%s segment_submit: out of memory copying a segment of %u nodes "
                             "(%zu bytes)",
                             device->id, segment->node_count, total);
  }
  memset(block, 0, total);
  size_t at = 0;
  weft_split_job_t* job = (weft_split_job_t*)block;
  weft_split_size_add(&at, 1, sizeof(weft_split_job_t));
  weft_tensor_desc_t* descs = (weft_tensor_desc_t*)(block + at);
  weft_split_size_add(&at, segment->tensor_count, sizeof(weft_tensor_desc_t));
  job->tensors = (const weft_tensor_desc_t**)(block + at);
  weft_split_size_add(&at, segment->tensor_count, sizeof(weft_tensor_desc_t*));
  weft_node_t* nodes = (weft_node_t*)(block + at);
  weft_split_size_add(&at, segment->node_count, sizeof(weft_node_t));
  job->nodes = (const weft_node_t**)(block + at);
  weft_split_size_add(&at, segment->node_count, sizeof(weft_node_t*));
  job->waits = (weft_event_t**)(block + at);
  weft_split_size_add(&at, wait_count, sizeof(weft_event_t*));

  for (uint32_t t = 0; t < segment->tensor_count; ++t) {
    const weft_tensor_desc_t* desc = segment->tensors[t];
    if (desc == NULL) continue; /* unused by every node (checked before) */
    size_t size = desc->struct_size < sizeof(*desc) ? desc->struct_size : sizeof(*desc);
    memcpy(&descs[t], desc, size);
    descs[t].struct_size = (uint32_t)size;
    job->tensors[t] = &descs[t];
  }
  for (uint32_t n = 0; n < segment->node_count; ++n) {
    const weft_node_t* node = segment->nodes[n];
    size_t size = node->struct_size < sizeof(*node) ? node->struct_size : sizeof(*node);
    memcpy(&nodes[n], node, size);
    nodes[n].struct_size = (uint32_t)size;
    if (node->params != NULL) {
      void* params = block + at;
      memcpy(params, node->params, node->params_size);
      nodes[n].params = params;
      weft_split_size_add(&at, 1, node->params_size);
    }
    job->nodes[n] = &nodes[n];
  }
  for (uint32_t i = 0; i < wait_count; ++i) job->waits[i] = waits[i];
  job->tensor_count = segment->tensor_count;
  job->node_count = segment->node_count;
  job->wait_count = wait_count;
  job->signal = signal;
  *out_job = job;
  return WEFT_OK;
}

weft_status_t weft_split_device_segment_submit(weft_plugin_device_t* device,
                                               const weft_segment_t* segment,
                                               weft_event_t* const* waits, uint32_t wait_count,
                                               weft_event_t* signal) {
  const weft_host_services_t* host = device->host;
  if (segment == NULL || !WEFT_ABI_HAS_MEMBER(segment, weft_segment_t, nodes) ||
      (segment->node_count > 0 && (segment->nodes == NULL || segment->tensors == NULL)) ||
      (segment->tensor_count > 0 && segment->tensors == NULL) ||
      (wait_count > 0 && waits == NULL)) {
    return WEFT_SPLIT_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                             "%s segment_submit: the segment is missing or smaller than ABI "
                             "1.0's, or lacks its node, tensor or wait array",
                             device->id);
  }
  for (uint32_t i = 0; i < wait_count; ++i) {
    if (waits[i] == NULL) {
      return WEFT_SPLIT_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                               "%s segment_submit: wait event %u of %u is NULL", device->id, i,
                               wait_count);
    }
  }
  weft_status_t status = weft_split_device_check_alive(device, "segment_submit");
  if (status != WEFT_OK) return status;
  /* Everything that can be known now is checked now, so that the caller gets
   * the message; what fails later reaches it only as the event's code. */
  for (uint32_t n = 0; n < segment->node_count; ++n) {
    const weft_node_t* node = segment->nodes[n];
    weft_cpu_ref_tensor_t storage[WEFT_MAX_SRC + 1];
    weft_cpu_ref_node_t ref;
    char error[WEFT_SPLIT_ERROR_CAP];
    uint32_t code = weft_split_node_bind(device, node, segment->tensors, segment->tensor_count,
                                         true, storage, &ref, error, sizeof(error));
    if (code == WEFT_STATUS_OK && node->params != NULL &&
        node->params_size > WEFT_SPLIT_PARAMS_MAX) {
      snprintf(error, sizeof(error), "%s: params_size %u is larger than %u bytes",
               weft_op_name(node->op), node->params_size, WEFT_SPLIT_PARAMS_MAX);
      code = WEFT_STATUS_INVALID_ARGUMENT;
    }
    if (code != WEFT_STATUS_OK) {
      return WEFT_SPLIT_STATUS(host, code, "%s: segment node %u: %s", device->id, n, error);
    }
  }
  weft_split_job_t* job = NULL;
  status = weft_split_job_create(device, segment, waits, wait_count, signal, &job);
  if (status != WEFT_OK) return status;
  job->sequence = device->submitted++;
  pthread_mutex_lock(&device->lock);
  if (device->tail != NULL) {
    device->tail->next = job;
  } else {
    device->head = job;
  }
  device->tail = job;
  pthread_cond_signal(&device->work);
  pthread_mutex_unlock(&device->lock);
  return WEFT_OK;
}

weft_status_t weft_split_device_synchronize(weft_plugin_device_t* device) {
  weft_split_device_drain(device);
  pthread_mutex_lock(&device->lock);
  weft_status_t status = device->async_error;
  device->async_error = WEFT_OK;
  bool lost = device->lost;
  pthread_mutex_unlock(&device->lock);
  if (status == WEFT_OK && lost) status = weft_split_device_check_alive(device, "synchronize");
  return status;
}

weft_status_t weft_split_device_memory_query(weft_plugin_device_t* device, uint64_t* out_free,
                                             uint64_t* out_total) {
  if (out_free == NULL || out_total == NULL) {
    return WEFT_SPLIT_STATUS(device->host, WEFT_STATUS_INVALID_ARGUMENT,
                             "%s device_memory_query called without %s", device->id,
                             out_free == NULL ? "out_free" : "out_total");
  }
  *out_total = device->instance->config.memory_total;
  *out_free = *out_total - device->memory_used;
  return WEFT_OK;
}
