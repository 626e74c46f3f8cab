/* fuzz_common.h -- helpers shared by the libFuzzer harnesses in this folder (header only: each
 * harness is one translation unit linked on its own).
 *
 * CHECK(cond, fmt, ...) aborts with a message when a property does not hold; libFuzzer reports the
 * abort as a crash and saves the input. Define FUZZ_NAME before including.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, FUZZ_NAME ": check failed: %s: ", #cond);                              \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Copies text with every JSON number token "-0" written as "0". Negative zero is encoded as -0 (as
 * Go's protojson does), but jansson reads the JSON number -0 as the integer 0, and protobuf-c does
 * not pack a proto3 float/double that == 0: the sign of a zero does not survive those round trips
 * (it does through the string "-0"). A known limitation, not a broken property. Caller frees
 * with free(). */
static inline char *fuzz_without_negative_zero(const char *text)
{
    size_t n = strlen(text), o = 0;
    char *out = malloc(n + 1);
    if (!out)
        abort();
    for (size_t i = 0; i < n; i++) {
        char prev = i > 0 ? text[i - 1] : '\0', next = i + 2 < n ? text[i + 2] : '\0';
        if (text[i] == '-' && text[i + 1] == '0' && (prev == ':' || prev == '[' || prev == ',') &&
            (next == ',' || next == ']' || next == '}'))
            continue;
        out[o++] = text[i];
    }
    out[o] = '\0';
    return out;
}

/* true when JSON texts a and b are equal up to the sign of zeros. */
static inline bool fuzz_same_but_zero_sign(const char *a, const char *b)
{
    char *na = fuzz_without_negative_zero(a), *nb = fuzz_without_negative_zero(b);
    bool same = strcmp(na, nb) == 0;
    free(na);
    free(nb);
    return same;
}

#endif /* FUZZ_COMMON_H */
