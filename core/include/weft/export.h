/* The one export macro of libweft. Everything else has hidden visibility. */
#ifndef WEFT_EXPORT_H_
#define WEFT_EXPORT_H_

#if defined(WEFT_STATIC_DEFINE)
#define WEFT_API
#elif defined(_WIN32)
#if defined(WEFT_BUILDING_LIBRARY)
#define WEFT_API __declspec(dllexport)
#else
#define WEFT_API __declspec(dllimport)
#endif
#else
#define WEFT_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
#define WEFT_EXTERN_C_BEGIN extern "C" {
#define WEFT_EXTERN_C_END }
#else
#define WEFT_EXTERN_C_BEGIN
#define WEFT_EXTERN_C_END
#endif

#endif /* WEFT_EXPORT_H_ */
