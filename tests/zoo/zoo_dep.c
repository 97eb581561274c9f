#include "zoo_dep.h"

int zoo_dep_answer(void) { return 42; }
