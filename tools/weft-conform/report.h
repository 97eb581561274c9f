/* weft-conform's two renderings of a conformance report: an aligned text
 * matrix for people and one JSON document (schema in
 * tools/weft-conform/README.md). */
#ifndef WEFT_TOOLS_WEFT_CONFORM_REPORT_H_
#define WEFT_TOOLS_WEFT_CONFORM_REPORT_H_

#include <stdbool.h>
#include <stdio.h>

#include "cts.h"

/* verbose > 0 lists every combination even when an op is skipped whole. */
void conform_report_text(FILE* out, const cts_report_t* report, int verbose);

/* False when writing failed. */
bool conform_report_json(FILE* out, const cts_report_t* report);

#endif /* WEFT_TOOLS_WEFT_CONFORM_REPORT_H_ */
