/* Unicode helpers of the tokenizer: UTF-8 as llama.cpp reads it, the letter,
 * number and white-space classes of the GPT-2 pre-tokenizer pattern, and the
 * GPT-2 byte-to-unicode table. */
#include <stddef.h>
#include <stdint.h>

#include "tokenizer_impl.h"
#include "tokenizer_unicode_tables.h"

static bool weft_unicode_in_ranges(const uint32_t (*ranges)[2], size_t count, uint32_t cpt) {
  size_t lo = 0, hi = count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (cpt < ranges[mid][0]) {
      hi = mid;
    } else if (cpt > ranges[mid][1]) {
      lo = mid + 1;
    } else {
      return true;
    }
  }
  return false;
}

/* Python's str.isspace / the White_Space property, which \s of the
 * pre-tokenizer pattern means. */
static bool weft_unicode_is_whitespace(uint32_t cpt) {
  return (cpt >= 0x09 && cpt <= 0x0D) || cpt == 0x20 || cpt == 0x85 || cpt == 0xA0 ||
         cpt == 0x1680 || (cpt >= 0x2000 && cpt <= 0x200A) || cpt == 0x2028 || cpt == 0x2029 ||
         cpt == 0x202F || cpt == 0x205F || cpt == 0x3000;
}

uint32_t weft__unicode_flags(uint32_t cpt) {
  uint32_t flags = 0;
  if (cpt < 0x80) {
    if ((cpt >= 'a' && cpt <= 'z') || (cpt >= 'A' && cpt <= 'Z')) {
      flags |= WEFT__CPT_LETTER;
    } else if (cpt >= '0' && cpt <= '9') {
      flags |= WEFT__CPT_NUMBER;
    }
  } else {
    if (weft_unicode_in_ranges(
            weft__unicode_letter_ranges,
            sizeof(weft__unicode_letter_ranges) / sizeof(weft__unicode_letter_ranges[0]), cpt)) {
      flags |= WEFT__CPT_LETTER;
    } else if (weft_unicode_in_ranges(
                   weft__unicode_number_ranges,
                   sizeof(weft__unicode_number_ranges) / sizeof(weft__unicode_number_ranges[0]),
                   cpt)) {
      flags |= WEFT__CPT_NUMBER;
    }
  }
  if (weft_unicode_is_whitespace(cpt)) {
    flags |= WEFT__CPT_WHITESPACE;
  }
  return flags;
}

size_t weft__utf8_length(uint8_t byte) {
  static const uint8_t lengths[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return lengths[byte >> 4];
}

/* Checks the lead byte's bit pattern and that the continuation bytes are
 * 10xxxxxx, nothing more (overlong forms and surrogates pass), as llama.cpp
 * does. */
uint32_t weft__utf8_decode(const char* text, size_t length, size_t* offset) {
  const uint8_t* s = (const uint8_t*)text + *offset;
  size_t left = length - *offset;
  uint8_t b0 = s[0];
  if (!(b0 & 0x80)) {
    *offset += 1;
    return b0;
  }
  size_t n = 0;
  uint32_t cpt = 0;
  if (!(b0 & 0x40)) {
    n = 0;
  } else if (!(b0 & 0x20)) {
    n = 2;
    cpt = b0 & 0x1Fu;
  } else if (!(b0 & 0x10)) {
    n = 3;
    cpt = b0 & 0x0Fu;
  } else if (!(b0 & 0x08)) {
    n = 4;
    cpt = b0 & 0x07u;
  }
  if (n == 0 || left < n) {
    *offset += 1;
    return 0xFFFD;
  }
  for (size_t i = 1; i < n; ++i) {
    if ((s[i] & 0xC0) != 0x80) {
      *offset += 1;
      return 0xFFFD;
    }
    cpt = (cpt << 6) | (s[i] & 0x3Fu);
  }
  *offset += n;
  return cpt;
}

size_t weft__utf8_encode(uint32_t cpt, char* out) {
  uint8_t* o = (uint8_t*)out;
  if (cpt > 0x10FFFF) {
    cpt = 0xFFFD;
  }
  if (cpt < 0x80) {
    o[0] = (uint8_t)cpt;
    return 1;
  }
  if (cpt < 0x800) {
    o[0] = (uint8_t)(0xC0 | (cpt >> 6));
    o[1] = (uint8_t)(0x80 | (cpt & 0x3F));
    return 2;
  }
  if (cpt < 0x10000) {
    o[0] = (uint8_t)(0xE0 | (cpt >> 12));
    o[1] = (uint8_t)(0x80 | ((cpt >> 6) & 0x3F));
    o[2] = (uint8_t)(0x80 | (cpt & 0x3F));
    return 3;
  }
  o[0] = (uint8_t)(0xF0 | (cpt >> 18));
  o[1] = (uint8_t)(0x80 | ((cpt >> 12) & 0x3F));
  o[2] = (uint8_t)(0x80 | ((cpt >> 6) & 0x3F));
  o[3] = (uint8_t)(0x80 | (cpt & 0x3F));
  return 4;
}

/* GPT-2 (openai/gpt-2 encoder.py, bytes_to_unicode): the printable bytes
 * '!'..'~', 0xA1..0xAC and 0xAE..0xFF stand for themselves; the other 68
 * bytes take the code points from U+0100 on, in byte order. */
static bool weft_unicode_byte_is_printable(uint32_t b) {
  return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

uint32_t weft__byte_to_cpt(uint8_t byte) {
  if (weft_unicode_byte_is_printable(byte)) {
    return byte;
  }
  uint32_t n = 0;
  for (uint32_t b = 0; b < byte; ++b) {
    n += weft_unicode_byte_is_printable(b) ? 0u : 1u;
  }
  return 0x100 + n;
}

int weft__cpt_to_byte(uint32_t cpt) {
  if (cpt < 0x100) {
    return weft_unicode_byte_is_printable(cpt) ? (int)cpt : -1;
  }
  if (cpt >= 0x100 + 68) {
    return -1;
  }
  uint32_t n = cpt - 0x100;
  for (uint32_t b = 0; b < 256; ++b) {
    if (!weft_unicode_byte_is_printable(b)) {
      if (n == 0) {
        return (int)b;
      }
      --n;
    }
  }
  return -1;
}
