/* Pins the plugin ABI: the size and alignment of every ABI struct, the offset
 * and size of every member, every enum value and every constant. A change
 * that would break already-built plugins fails the build here.
 *
 * The numbers are written out by hand (docs/abi.md quotes them) and must
 * never be regenerated from the headers: when one fails, the header is what
 * changed. The only legal way to grow is to append: add the new member's pin
 * and raise the struct's size, leaving every existing line as it is.
 *
 * LP64 layouts (x86-64 and AArch64 Linux agree); other data models are not
 * pinned. */
#include <limits.h>
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "weft/abi.h"

#define WEFT_PIN_SIZE(type, size, align)                                     \
  _Static_assert(sizeof(type) == (size), #type ": sizeof changed");          \
  _Static_assert(alignof(type) == (align), #type ": alignment changed")

#define WEFT_PIN(type, member, offset, size)                                 \
  _Static_assert(offsetof(type, member) == (offset),                         \
                 #type "." #member ": offset changed");                      \
  _Static_assert(sizeof(((type*)0)->member) == (size),                       \
                 #type "." #member ": size changed")

#define WEFT_PIN_VALUE(name, value) \
  _Static_assert((name) == (value), #name " changed")

#if UINTPTR_MAX == 0xFFFFFFFFFFFFFFFFu && ULONG_MAX == 0xFFFFFFFFFFFFFFFFu
#define WEFT_ABI_LAYOUT_PINNED 1

/* ---- ext.h ---- */
WEFT_PIN_SIZE(weft_ext_header_t, 16, 8);
WEFT_PIN(weft_ext_header_t, struct_size, 0, 4);
WEFT_PIN(weft_ext_header_t, type, 4, 4);
WEFT_PIN(weft_ext_header_t, next, 8, 8);

/* ---- device.h ---- */
WEFT_PIN_SIZE(weft_device_caps_t, 664, 8);
WEFT_PIN(weft_device_caps_t, struct_size, 0, 4);
WEFT_PIN(weft_device_caps_t, type, 4, 4);
WEFT_PIN(weft_device_caps_t, next, 8, 8);
WEFT_PIN(weft_device_caps_t, name, 16, 128);
WEFT_PIN(weft_device_caps_t, vendor, 144, 64);
WEFT_PIN(weft_device_caps_t, driver, 208, 64);
WEFT_PIN(weft_device_caps_t, stable_id, 272, 64);
WEFT_PIN(weft_device_caps_t, uuid, 336, 16);
WEFT_PIN(weft_device_caps_t, flags, 352, 4);
WEFT_PIN(weft_device_caps_t, vendor_id, 356, 4);
WEFT_PIN(weft_device_caps_t, device_id, 360, 4);
WEFT_PIN(weft_device_caps_t, compute_units, 364, 4);
WEFT_PIN(weft_device_caps_t, memory_total, 368, 8);
WEFT_PIN(weft_device_caps_t, memory_free, 376, 8);
WEFT_PIN(weft_device_caps_t, dtypes, 384, 8);
WEFT_PIN(weft_device_caps_t, features, 392, 8);
WEFT_PIN(weft_device_caps_t, features_text, 400, 256);
WEFT_PIN(weft_device_caps_t, score, 656, 4);
WEFT_PIN(weft_device_caps_t, reserved0, 660, 4);

WEFT_PIN_SIZE(weft_buffer_params_t, 32, 8);
WEFT_PIN(weft_buffer_params_t, struct_size, 0, 4);
WEFT_PIN(weft_buffer_params_t, memory_type, 4, 4);
WEFT_PIN(weft_buffer_params_t, next, 8, 8);
WEFT_PIN(weft_buffer_params_t, size, 16, 8);
WEFT_PIN(weft_buffer_params_t, alignment, 24, 8);

/* ---- graph.h ---- */
WEFT_PIN_SIZE(weft_tensor_desc_t, 88, 8);
WEFT_PIN(weft_tensor_desc_t, struct_size, 0, 4);
WEFT_PIN(weft_tensor_desc_t, dtype, 4, 4);
WEFT_PIN(weft_tensor_desc_t, ne, 8, 32);
WEFT_PIN(weft_tensor_desc_t, nb, 40, 32);
WEFT_PIN(weft_tensor_desc_t, buffer, 72, 8);
WEFT_PIN(weft_tensor_desc_t, offset, 80, 8);

WEFT_PIN_SIZE(weft_node_t, 56, 8);
WEFT_PIN(weft_node_t, struct_size, 0, 4);
WEFT_PIN(weft_node_t, op, 4, 4);
WEFT_PIN(weft_node_t, src, 8, 32);
WEFT_PIN(weft_node_t, dst, 40, 4);
WEFT_PIN(weft_node_t, params_size, 44, 4);
WEFT_PIN(weft_node_t, params, 48, 8);

WEFT_PIN_SIZE(weft_segment_t, 32, 8);
WEFT_PIN(weft_segment_t, struct_size, 0, 4);
WEFT_PIN(weft_segment_t, tensor_count, 4, 4);
WEFT_PIN(weft_segment_t, node_count, 8, 4);
WEFT_PIN(weft_segment_t, reserved0, 12, 4);
WEFT_PIN(weft_segment_t, tensors, 16, 8);
WEFT_PIN(weft_segment_t, nodes, 24, 8);

/* ---- host.h ---- */
WEFT_PIN_SIZE(weft_host_services_t, 96, 8);
WEFT_PIN(weft_host_services_t, struct_size, 0, 4);
WEFT_PIN(weft_host_services_t, abi_version, 4, 4);
WEFT_PIN(weft_host_services_t, host_ctx, 8, 8);
/* ABI 1.0 */
WEFT_PIN(weft_host_services_t, alloc, 16, 8);
WEFT_PIN(weft_host_services_t, free, 24, 8);
WEFT_PIN(weft_host_services_t, log, 32, 8);
WEFT_PIN(weft_host_services_t, status_make, 40, 8);
WEFT_PIN(weft_host_services_t, status_code, 48, 8);
WEFT_PIN(weft_host_services_t, status_message, 56, 8);
WEFT_PIN(weft_host_services_t, status_free, 64, 8);
WEFT_PIN(weft_host_services_t, event_signal, 72, 8);
WEFT_PIN(weft_host_services_t, event_wait, 80, 8);
/* ABI 1.1 */
WEFT_PIN(weft_host_services_t, env_get, 88, 8);

/* ---- plugin.h ---- */
/* Frozen across every major (docs/abi.md section 2). */
WEFT_PIN_SIZE(weft_negotiation_t, 280, 8);
WEFT_PIN(weft_negotiation_t, struct_size, 0, 4);
WEFT_PIN(weft_negotiation_t, host_version, 4, 4);
WEFT_PIN(weft_negotiation_t, host_min_version, 8, 4);
WEFT_PIN(weft_negotiation_t, plugin_version, 12, 4);
WEFT_PIN(weft_negotiation_t, plugin, 16, 8);
WEFT_PIN(weft_negotiation_t, refusal, 24, 256);

WEFT_PIN_SIZE(weft_plugin_info_t, 64, 8);
WEFT_PIN(weft_plugin_info_t, struct_size, 0, 4);
WEFT_PIN(weft_plugin_info_t, abi_version, 4, 4);
WEFT_PIN(weft_plugin_info_t, name, 8, 8);
WEFT_PIN(weft_plugin_info_t, family, 16, 8);
WEFT_PIN(weft_plugin_info_t, version, 24, 8);
WEFT_PIN(weft_plugin_info_t, description, 32, 8);
WEFT_PIN(weft_plugin_info_t, built_for, 40, 8);
WEFT_PIN(weft_plugin_info_t, min_driver, 48, 8);
WEFT_PIN(weft_plugin_info_t, variant_score, 56, 4);
WEFT_PIN(weft_plugin_info_t, reserved0, 60, 4);

WEFT_PIN_SIZE(weft_probe_result_t, 272, 4);
WEFT_PIN(weft_probe_result_t, struct_size, 0, 4);
WEFT_PIN(weft_probe_result_t, available, 4, 4);
WEFT_PIN(weft_probe_result_t, device_count, 8, 4);
WEFT_PIN(weft_probe_result_t, variant_score, 12, 4);
WEFT_PIN(weft_probe_result_t, reason, 16, 256);

WEFT_PIN_SIZE(weft_op_support_t, 264, 4);
WEFT_PIN(weft_op_support_t, struct_size, 0, 4);
WEFT_PIN(weft_op_support_t, supported, 4, 4);
WEFT_PIN(weft_op_support_t, reason, 8, 256);

WEFT_PIN_SIZE(weft_plugin_interface_t, 200, 8);
WEFT_PIN(weft_plugin_interface_t, struct_size, 0, 4);
WEFT_PIN(weft_plugin_interface_t, reserved0, 4, 4);
WEFT_PIN(weft_plugin_interface_t, info, 8, 8);
/* ABI 1.0: the table ends at 160 bytes. */
WEFT_PIN(weft_plugin_interface_t, probe, 16, 8);
WEFT_PIN(weft_plugin_interface_t, instance_create, 24, 8);
WEFT_PIN(weft_plugin_interface_t, instance_destroy, 32, 8);
WEFT_PIN(weft_plugin_interface_t, device_count, 40, 8);
WEFT_PIN(weft_plugin_interface_t, device_query_caps, 48, 8);
WEFT_PIN(weft_plugin_interface_t, device_open, 56, 8);
WEFT_PIN(weft_plugin_interface_t, device_close, 64, 8);
WEFT_PIN(weft_plugin_interface_t, buffer_allocate, 72, 8);
WEFT_PIN(weft_plugin_interface_t, buffer_free, 80, 8);
WEFT_PIN(weft_plugin_interface_t, buffer_map, 88, 8);
WEFT_PIN(weft_plugin_interface_t, buffer_unmap, 96, 8);
WEFT_PIN(weft_plugin_interface_t, buffer_upload, 104, 8);
WEFT_PIN(weft_plugin_interface_t, buffer_download, 112, 8);
WEFT_PIN(weft_plugin_interface_t, buffer_copy, 120, 8);
WEFT_PIN(weft_plugin_interface_t, buffer_fill, 128, 8);
WEFT_PIN(weft_plugin_interface_t, op_query, 136, 8);
WEFT_PIN(weft_plugin_interface_t, segment_submit, 144, 8);
WEFT_PIN(weft_plugin_interface_t, synchronize, 152, 8);
/* ABI 1.1 */
WEFT_PIN(weft_plugin_interface_t, device_memory_query, 160, 8);
/* ABI 1.2 */
WEFT_PIN(weft_plugin_interface_t, buffer_import_host, 168, 8);
/* ABI 1.3 */
WEFT_PIN(weft_plugin_interface_t, segment_prepare, 176, 8);
WEFT_PIN(weft_plugin_interface_t, segment_submit_prepared, 184, 8);
WEFT_PIN(weft_plugin_interface_t, segment_release, 192, 8);

/* ---- op.h parameter structs ---- */
WEFT_PIN_SIZE(weft_op_scale_params_t, 12, 4);
WEFT_PIN(weft_op_scale_params_t, struct_size, 0, 4);
WEFT_PIN(weft_op_scale_params_t, scale, 4, 4);
WEFT_PIN(weft_op_scale_params_t, bias, 8, 4);

WEFT_PIN_SIZE(weft_op_rms_norm_params_t, 8, 4);
WEFT_PIN(weft_op_rms_norm_params_t, struct_size, 0, 4);
WEFT_PIN(weft_op_rms_norm_params_t, eps, 4, 4);

WEFT_PIN_SIZE(weft_op_rope_params_t, 20, 4);
WEFT_PIN(weft_op_rope_params_t, struct_size, 0, 4);
WEFT_PIN(weft_op_rope_params_t, mode, 4, 4);
WEFT_PIN(weft_op_rope_params_t, n_dims, 8, 4);
WEFT_PIN(weft_op_rope_params_t, freq_base, 12, 4);
WEFT_PIN(weft_op_rope_params_t, freq_scale, 16, 4);

WEFT_PIN_SIZE(weft_op_soft_max_params_t, 8, 4);
WEFT_PIN(weft_op_soft_max_params_t, struct_size, 0, 4);
WEFT_PIN(weft_op_soft_max_params_t, scale, 4, 4);

WEFT_PIN_SIZE(weft_op_gelu_params_t, 8, 4);
WEFT_PIN(weft_op_gelu_params_t, struct_size, 0, 4);
WEFT_PIN(weft_op_gelu_params_t, mode, 4, 4);

WEFT_PIN_SIZE(weft_op_flash_attn_params_t, 16, 4);
WEFT_PIN(weft_op_flash_attn_params_t, struct_size, 0, 4);
WEFT_PIN(weft_op_flash_attn_params_t, scale, 4, 4);
WEFT_PIN(weft_op_flash_attn_params_t, logit_softcap, 8, 4);
WEFT_PIN(weft_op_flash_attn_params_t, sliding_window, 12, 4);

WEFT_PIN_SIZE(weft_op_concat_params_t, 8, 4);
WEFT_PIN(weft_op_concat_params_t, struct_size, 0, 4);
WEFT_PIN(weft_op_concat_params_t, dim, 4, 4);

/* Handles are one pointer wide on both sides of the boundary. */
WEFT_PIN_SIZE(weft_status_t, 8, 8);
WEFT_PIN_SIZE(weft_plugin_negotiate_fn, 8, 8);
#else
#define WEFT_ABI_LAYOUT_PINNED 0
#endif /* LP64 */

/* ---- values, on every data model ---- */

/* version.h */
WEFT_PIN_VALUE(WEFT_ABI_VERSION_MAJOR, 1);
WEFT_PIN_VALUE(WEFT_ABI_VERSION_MINOR, 3);
WEFT_PIN_VALUE(WEFT_ABI_VERSION, 0x00010003u);
WEFT_PIN_VALUE(WEFT_ABI_MAKE_VERSION(2, 3), 0x00020003u);
WEFT_PIN_VALUE(WEFT_ABI_VERSION_MAJOR_OF(0x00020003u), 2);
WEFT_PIN_VALUE(WEFT_ABI_VERSION_MINOR_OF(0x00020003u), 3);

/* status.h: values are fixed forever. */
WEFT_PIN_VALUE(WEFT_STATUS_OK, 0);
WEFT_PIN_VALUE(WEFT_STATUS_CANCELLED, 1);
WEFT_PIN_VALUE(WEFT_STATUS_UNKNOWN, 2);
WEFT_PIN_VALUE(WEFT_STATUS_INVALID_ARGUMENT, 3);
WEFT_PIN_VALUE(WEFT_STATUS_DEADLINE_EXCEEDED, 4);
WEFT_PIN_VALUE(WEFT_STATUS_NOT_FOUND, 5);
WEFT_PIN_VALUE(WEFT_STATUS_ALREADY_EXISTS, 6);
WEFT_PIN_VALUE(WEFT_STATUS_PERMISSION_DENIED, 7);
WEFT_PIN_VALUE(WEFT_STATUS_RESOURCE_EXHAUSTED, 8);
WEFT_PIN_VALUE(WEFT_STATUS_FAILED_PRECONDITION, 9);
WEFT_PIN_VALUE(WEFT_STATUS_ABORTED, 10);
WEFT_PIN_VALUE(WEFT_STATUS_OUT_OF_RANGE, 11);
WEFT_PIN_VALUE(WEFT_STATUS_UNIMPLEMENTED, 12);
WEFT_PIN_VALUE(WEFT_STATUS_INTERNAL, 13);
WEFT_PIN_VALUE(WEFT_STATUS_UNAVAILABLE, 14);
WEFT_PIN_VALUE(WEFT_STATUS_DATA_LOSS, 15);
WEFT_PIN_VALUE(WEFT_STATUS_OUT_OF_MEMORY, 16);
WEFT_PIN_VALUE(WEFT_STATUS_INCOMPATIBLE, 17);
WEFT_PIN_VALUE(WEFT_STATUS_UNSUPPORTED, 18);
WEFT_PIN_VALUE(WEFT_STATUS_DEVICE_LOST, 19);
WEFT_PIN_VALUE(WEFT_STATUS_IO_ERROR, 20);
WEFT_PIN_VALUE(WEFT_STATUS_CODE_COUNT_, 21);

/* host.h */
WEFT_PIN_VALUE(WEFT_LOG_LEVEL_ERROR, 0);
WEFT_PIN_VALUE(WEFT_LOG_LEVEL_WARN, 1);
WEFT_PIN_VALUE(WEFT_LOG_LEVEL_INFO, 2);
WEFT_PIN_VALUE(WEFT_LOG_LEVEL_DEBUG, 3);

/* device.h */
WEFT_PIN_VALUE(WEFT_DEVICE_TYPE_CPU, 0);
WEFT_PIN_VALUE(WEFT_DEVICE_TYPE_GPU, 1);
WEFT_PIN_VALUE(WEFT_DEVICE_TYPE_INTEGRATED_GPU, 2);
WEFT_PIN_VALUE(WEFT_DEVICE_TYPE_ACCELERATOR, 3);
WEFT_PIN_VALUE(WEFT_DEVICE_TYPE_VIRTUAL, 4);
WEFT_PIN_VALUE(WEFT_DEVICE_FLAG_HAS_UUID, 0x1u);
WEFT_PIN_VALUE(WEFT_DEVICE_FLAG_UNIFIED_MEMORY, 0x2u);
WEFT_PIN_VALUE(WEFT_DEVICE_FLAG_HOST_VISIBLE_LOCAL, 0x4u);
WEFT_PIN_VALUE(WEFT_DEVICE_FLAG_ASYNC, 0x8u);
WEFT_PIN_VALUE(WEFT_DEVICE_FEATURE_FP16_ARITH, 0x1ull);
WEFT_PIN_VALUE(WEFT_DEVICE_FEATURE_BF16_ARITH, 0x2ull);
WEFT_PIN_VALUE(WEFT_DEVICE_FEATURE_INT8_DOT, 0x4ull);
WEFT_PIN_VALUE(WEFT_DEVICE_FEATURE_SUBGROUPS, 0x8ull);
WEFT_PIN_VALUE(WEFT_DEVICE_FEATURE_COOP_MATRIX, 0x10ull);
WEFT_PIN_VALUE(WEFT_DEVICE_FEATURE_INT8_MATMUL, 0x20ull);
WEFT_PIN_VALUE(WEFT_DEVICE_NAME_CAP, 128);
WEFT_PIN_VALUE(WEFT_DEVICE_TEXT_CAP, 64);
WEFT_PIN_VALUE(WEFT_DEVICE_FEATURES_TEXT_CAP, 256);
WEFT_PIN_VALUE(WEFT_MEMORY_TYPE_DEVICE_LOCAL, 0);
WEFT_PIN_VALUE(WEFT_MEMORY_TYPE_HOST_VISIBLE, 1);

/* graph.h */
WEFT_PIN_VALUE(WEFT_MAX_DIMS, 4);
WEFT_PIN_VALUE(WEFT_MAX_SRC, 8);
WEFT_PIN_VALUE(WEFT_NODE_NO_TENSOR, 0xFFFFFFFFu);

/* plugin.h */
WEFT_PIN_VALUE(WEFT_REASON_CAP, 256);

/* dtype.h: the GGUF ggml_type ids (GGUF specification). */
WEFT_PIN_VALUE(WEFT_DTYPE_F32, 0);
WEFT_PIN_VALUE(WEFT_DTYPE_F16, 1);
WEFT_PIN_VALUE(WEFT_DTYPE_Q4_0, 2);
WEFT_PIN_VALUE(WEFT_DTYPE_Q4_1, 3);
WEFT_PIN_VALUE(WEFT_DTYPE_Q5_0, 6);
WEFT_PIN_VALUE(WEFT_DTYPE_Q5_1, 7);
WEFT_PIN_VALUE(WEFT_DTYPE_Q8_0, 8);
WEFT_PIN_VALUE(WEFT_DTYPE_Q8_1, 9);
WEFT_PIN_VALUE(WEFT_DTYPE_Q2_K, 10);
WEFT_PIN_VALUE(WEFT_DTYPE_Q3_K, 11);
WEFT_PIN_VALUE(WEFT_DTYPE_Q4_K, 12);
WEFT_PIN_VALUE(WEFT_DTYPE_Q5_K, 13);
WEFT_PIN_VALUE(WEFT_DTYPE_Q6_K, 14);
WEFT_PIN_VALUE(WEFT_DTYPE_Q8_K, 15);
WEFT_PIN_VALUE(WEFT_DTYPE_I8, 24);
WEFT_PIN_VALUE(WEFT_DTYPE_I16, 25);
WEFT_PIN_VALUE(WEFT_DTYPE_I32, 26);
WEFT_PIN_VALUE(WEFT_DTYPE_I64, 27);
WEFT_PIN_VALUE(WEFT_DTYPE_F64, 28);
WEFT_PIN_VALUE(WEFT_DTYPE_BF16, 30);
WEFT_PIN_VALUE(WEFT_DTYPE_LIMIT_, 64);

/* op.h: op set version 1; ids never renumbered. */
WEFT_PIN_VALUE(WEFT_OP_NONE, 0);
WEFT_PIN_VALUE(WEFT_OP_GET_ROWS, 1);
WEFT_PIN_VALUE(WEFT_OP_MUL_MAT, 2);
WEFT_PIN_VALUE(WEFT_OP_ADD, 3);
WEFT_PIN_VALUE(WEFT_OP_MUL, 4);
WEFT_PIN_VALUE(WEFT_OP_SCALE, 5);
WEFT_PIN_VALUE(WEFT_OP_RMS_NORM, 6);
WEFT_PIN_VALUE(WEFT_OP_ROPE, 7);
WEFT_PIN_VALUE(WEFT_OP_SOFT_MAX, 8);
WEFT_PIN_VALUE(WEFT_OP_GELU, 9);
WEFT_PIN_VALUE(WEFT_OP_SILU, 10);
WEFT_PIN_VALUE(WEFT_OP_SWIGLU, 11);
WEFT_PIN_VALUE(WEFT_OP_GEGLU, 12);
WEFT_PIN_VALUE(WEFT_OP_CPY, 13);
WEFT_PIN_VALUE(WEFT_OP_CONT, 14);
WEFT_PIN_VALUE(WEFT_OP_SET_ROWS, 15);
WEFT_PIN_VALUE(WEFT_OP_FLASH_ATTN, 16);
WEFT_PIN_VALUE(WEFT_OP_ARGMAX, 17);
WEFT_PIN_VALUE(WEFT_OP_CONCAT, 18);
WEFT_PIN_VALUE(WEFT_OP_COUNT_, 19);
WEFT_PIN_VALUE(WEFT_ROPE_MODE_NORMAL, 0);
WEFT_PIN_VALUE(WEFT_ROPE_MODE_NEOX, 1);
WEFT_PIN_VALUE(WEFT_GELU_MODE_TANH, 0);
WEFT_PIN_VALUE(WEFT_GELU_MODE_ERF, 1);

/* ---- run-time checks: what _Static_assert cannot reach ---- */

static void test_layout_pinned_for_this_target(void** state) {
  (void)state;
  if (!WEFT_ABI_LAYOUT_PINNED) {
    /* The values above still held; only the layout pins were compiled out. */
    skip();
  }
}

static void test_entry_symbol_name(void** state) {
  (void)state;
  assert_string_equal(WEFT_PLUGIN_ENTRY_SYMBOL, "weft_plugin_negotiate");
}

/* Block sizes are the GGUF block layouts (GGUF specification, ggml block_*
 * structs): weights map straight from the file. */
static void test_dtype_blocks(void** state) {
  (void)state;
  static const struct {
    uint32_t dtype, elements, bytes;
  } expected[] = {
      {WEFT_DTYPE_F32, 1, 4},     {WEFT_DTYPE_F16, 1, 2},
      {WEFT_DTYPE_BF16, 1, 2},    {WEFT_DTYPE_I8, 1, 1},
      {WEFT_DTYPE_I16, 1, 2},     {WEFT_DTYPE_I32, 1, 4},
      {WEFT_DTYPE_I64, 1, 8},     {WEFT_DTYPE_F64, 1, 8},
      {WEFT_DTYPE_Q4_0, 32, 18},  {WEFT_DTYPE_Q4_1, 32, 20},
      {WEFT_DTYPE_Q5_0, 32, 22},  {WEFT_DTYPE_Q5_1, 32, 24},
      {WEFT_DTYPE_Q8_0, 32, 34},  {WEFT_DTYPE_Q8_1, 32, 36},
      {WEFT_DTYPE_Q2_K, 256, 84}, {WEFT_DTYPE_Q3_K, 256, 110},
      {WEFT_DTYPE_Q4_K, 256, 144}, {WEFT_DTYPE_Q5_K, 256, 176},
      {WEFT_DTYPE_Q6_K, 256, 210}, {WEFT_DTYPE_Q8_K, 256, 292},
  };
  for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); ++i) {
    assert_int_equal(weft_dtype_block_elements(expected[i].dtype),
                     expected[i].elements);
    assert_int_equal(weft_dtype_block_bytes(expected[i].dtype),
                     expected[i].bytes);
  }
  /* Reserved ids are not types. */
  const uint32_t reserved[] = {4, 5, 16, 17, 23, 29, 31, 63, 64, 1000};
  for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); ++i) {
    assert_int_equal(weft_dtype_block_elements(reserved[i]), 0);
    assert_int_equal(weft_dtype_block_bytes(reserved[i]), 0);
  }
  assert_int_equal(WEFT_DTYPE_BIT(WEFT_DTYPE_BF16), 1ull << 30);
}

/* weft_plugin_negotiate_default, which every plugin uses: the contract of docs/abi.md section 2. */
static void test_negotiate_default(void** state) {
  (void)state;
  static const weft_plugin_interface_t table = {
      .struct_size = sizeof(weft_plugin_interface_t)};
  weft_negotiation_t n = {.struct_size = sizeof(n),
                          .host_version = WEFT_ABI_MAKE_VERSION(1, 7),
                          .host_min_version = WEFT_ABI_MAKE_VERSION(1, 0)};
  assert_int_equal(weft_plugin_negotiate_default(&n, &table), 0);
  assert_int_equal(n.plugin_version, WEFT_ABI_VERSION); /* min(1.7, ours) */
  assert_ptr_equal(n.plugin, &table);

  weft_negotiation_t older = {.struct_size = sizeof(older),
                              .host_version = WEFT_ABI_MAKE_VERSION(1, 0),
                              .host_min_version = WEFT_ABI_MAKE_VERSION(1, 0)};
  assert_int_equal(weft_plugin_negotiate_default(&older, &table), 0);
  assert_int_equal(older.plugin_version, WEFT_ABI_MAKE_VERSION(1, 0));

  weft_negotiation_t other = {.struct_size = sizeof(other),
                              .host_version = WEFT_ABI_MAKE_VERSION(2, 0),
                              .host_min_version = WEFT_ABI_MAKE_VERSION(2, 0)};
  assert_int_not_equal(weft_plugin_negotiate_default(&other, &table), 0);
  assert_null(other.plugin);
  assert_int_equal(other.plugin_version, 0);
  assert_string_equal(other.refusal, "host speaks another ABI major");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_layout_pinned_for_this_target),
      cmocka_unit_test(test_entry_symbol_name),
      cmocka_unit_test(test_dtype_blocks),
      cmocka_unit_test(test_negotiate_default),
  };
  return cmocka_run_group_tests_name("abi/layout", tests, NULL, NULL);
}
