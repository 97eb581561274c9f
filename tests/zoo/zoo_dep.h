/* libweft-zoo-dep.so: the library libweft-zoo-missingdep.so needs. */
#ifndef WEFT_TESTS_ZOO_ZOO_DEP_H_
#define WEFT_TESTS_ZOO_ZOO_DEP_H_

__attribute__((visibility("default"))) int zoo_dep_answer(void);

#endif /* WEFT_TESTS_ZOO_ZOO_DEP_H_ */
