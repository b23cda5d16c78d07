/* What the fuzz targets share: an input cut into the words a command
 * line or an environment is made of. */
#ifndef CPMP_FUZZ_WORDS_H
#define CPMP_FUZZ_WORDS_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The input as NUL-separated words, NULL-terminated like argv: *count
 * words in one malloc'ed block (free it), or NULL when memory runs out. */
static char **
fuzz_words(const uint8_t *data, size_t size, int *count)
{
    size_t i, n = 1;
    char **words, *text;
    int w = 0;

    for (i = 0; i < size; i++) {
        n += data[i] == '\0';
    }
    words = malloc((n + 1) * sizeof(*words) + size + 1);
    if (words == NULL) {
        return NULL;
    }
    text = (char *)(words + n + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    words[w++] = text;
    for (i = 0; i < size; i++) {
        if (text[i] == '\0') {
            words[w++] = text + i + 1;
        }
    }
    words[w] = NULL;
    *count = w;
    return words;
}

#endif
