/* replay.c: runs a fuzz target without libFuzzer, over a corpus.
 *
 * Linked with one fuzz_<target>.c, this main() calls
 * LLVMFuzzerTestOneInput() once on the empty input and once per file in
 * the directories (or files) named on the command line, or, without
 * arguments, in the colon-separated list in $FUZZ_CORPUS. Each input is
 * copied into an allocation of exactly its size, so AddressSanitizer
 * catches a read past its end as libFuzzer would. Files are taken in name
 * order, so a failure is reproducible from the count printed.
 *
 * Exit status: 0 when every input ran (an invariant that fails aborts
 * the process instead), 1 when a path cannot be read, or when no input
 * was found at all, which would otherwise pass a test that tested
 * nothing. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path, unsigned long *count)
{
    FILE *f = NULL;
    uint8_t *buf = NULL;
    struct stat st;
    size_t len;
    int rc = -1;

    f = fopen(path, "rb");
    if (!f || fstat(fileno(f), &st) < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        goto out;
    }
    len = (size_t)st.st_size;
    /* At least one byte, so that an empty input is not a NULL pointer. */
    buf = malloc(len ? len : 1);
    if (!buf) {
        fprintf(stderr, "replay: %s: out of memory\n", path);
        goto out;
    }
    if (len && fread(buf, 1, len, f) != len) {
        fprintf(stderr, "replay: %s: short read\n", path);
        goto out;
    }
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    LLVMFuzzerTestOneInput(buf, len);
    (*count)++;
    rc = 0;
out:
    free(buf);
    if (f)
        fclose(f);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, unsigned long *count)
{
    DIR *d;
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    d = opendir(dir);
    if (!d) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue; /* ".", "..", and hidden files such as .gitignore */
        if (n == cap) {
            char **p;
            cap = cap ? 2 * cap : 64;
            p = realloc(names, cap * sizeof(*names));
            if (!p) {
                rc = -1;
                goto out;
            }
            names = p;
        }
        names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2);
        if (!names[n]) {
            rc = -1;
            goto out;
        }
        sprintf(names[n], "%s/%s", dir, e->d_name);
        n++;
    }
    qsort(names, n, sizeof(*names), by_name);
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct stat st;

        if (stat(names[i], &st) == 0 && S_ISDIR(st.st_mode))
            continue;
        rc = run_file(names[i], count);
    }
out:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return rc;
}

static int run_path(const char *path, unsigned long *count)
{
    struct stat st;

    if (stat(path, &st) < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return S_ISDIR(st.st_mode) ? run_dir(path, count) : run_file(path, count);
}

int main(int argc, char **argv)
{
    static const uint8_t empty[1];
    unsigned long count = 0;
    char *list = NULL, *save = NULL, *p;
    int rc = 0, paths = 0;

    LLVMFuzzerTestOneInput(empty, 0);
    if (argc > 1) {
        for (int i = 1; i < argc && rc == 0; i++, paths++)
            rc = run_path(argv[i], &count);
    } else if (getenv("FUZZ_CORPUS")) {
        list = strdup(getenv("FUZZ_CORPUS"));
        if (!list)
            return 1;
        for (p = strtok_r(list, ":", &save); p && rc == 0;
             p = strtok_r(NULL, ":", &save), paths++)
            rc = run_path(p, &count);
        free(list);
    } else {
        fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE... "
                        "(or FUZZ_CORPUS=dir:dir)\n", argv[0]);
        return 1;
    }
    if (rc != 0)
        return 1;
    printf("%s: %lu inputs from %d path%s\n", argv[0], count, paths,
           paths == 1 ? "" : "s");
    if (count == 0) {
        fprintf(stderr, "replay: no input found\n");
        return 1;
    }
    return 0;
}
