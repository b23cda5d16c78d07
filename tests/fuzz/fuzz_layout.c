/* Where cpmp's parts are, from the path of the launcher or the library
 * (common/layout.c): the path is the input; the layouts tried are this
 * build's. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cpmp_layout layout;
    char *path = malloc(size + 1);
    char dir[64];
    size_t room = size > 0 ? data[0] % sizeof(dir) : sizeof(dir);

    if (path == NULL) {
        return 0;
    }
    memcpy(path, data, size);
    path[size] = '\0';
    /* The directory part fits, and is the start of the path. */
    if (layout_dirname(path, dir, room) == 0
        && (strlen(dir) >= room || strncmp(dir, path, strlen(dir)) != 0)) {
        abort();
    }
    if (layout_find(path, &layout) == 0
        && (layout.pydir[0] != '/' || layout.python[0] != '/' || layout.preload[0] != '/')) {
        abort();
    }
    if (strlen(layout.problem) >= sizeof(layout.problem)) {
        abort();
    }
    free(path);
    return 0;
}
