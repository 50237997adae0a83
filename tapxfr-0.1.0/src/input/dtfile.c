#include "config.h"

#include "input/dtfile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <fstrm.h>

#include "codec/frame.h"
#include "log.h"

static enum filein_status read_batch(struct filein *fi)
{
    struct dtfile *f = fi->data;

    for (int i = 0; i < DTFILE_BATCH && !stage_full(fi->stage); i++) {
        const uint8_t *data;
        size_t len;
        fstrm_res res = fstrm_reader_read(f->reader, &data, &len);

        if (res == fstrm_res_success) {
            dtin_frame(&f->in, data, len);
            continue;
        }
        if (res == fstrm_res_stop)
            log_debug("%s: end of file", f->in.name);
        else
            log_warnx("%s: read error; stopped after %llu frames", f->in.name,
                      (unsigned long long)f->in.st.frames);
        return FILEIN_END;
    }
    return FILEIN_MORE;
}

static void on_file_done(struct filein *fi)
{
    struct dtfile *f = fi->data;

    if (f->on_done)
        f->on_done(f);
}

/* libfstrm says only that it failed; the usual cause is the file. */
static void open_error(const char *path, char *errbuf, size_t errlen)
{
    FILE *probe = fopen(path, "rb");

    snprintf(errbuf, errlen, "cannot read dnstap file %s: %s", path,
             probe ? "not a Frame Streams file of protobuf:dnstap.Dnstap" : strerror(errno));
    if (probe)
        fclose(probe);
}

int dtfile_init(struct dtfile *f, uv_loop_t *loop, struct stage *stage, const char *path,
                size_t max_frame, uint32_t types, char *errbuf, size_t errlen)
{
    struct fstrm_file_options *fopt = fstrm_file_options_init();
    struct fstrm_reader_options *ropt = fstrm_reader_options_init();
    size_t file_max = max_frame > (1u << 20) ? max_frame : (1u << 20);
    int rc = 0;

    memset(f, 0, sizeof(*f));
    f->path = path;
    dtin_init(&f->in, stage, "dnstap-file", path, types);
    if (!fopt || !ropt) {
        snprintf(errbuf, errlen, "out of memory");
        rc = -ENOMEM;
        goto out;
    }
    fstrm_file_options_set_file_path(fopt, path);
    fstrm_reader_options_add_content_type(ropt, FS_CONTENT_TYPE, strlen(FS_CONTENT_TYPE));
    fstrm_reader_options_set_max_frame_size(ropt, file_max);
    f->reader = fstrm_file_reader_init(fopt, ropt);
    if (!f->reader || fstrm_reader_open(f->reader) != fstrm_res_success) {
        open_error(path, errbuf, errlen);
        rc = -EINVAL;
        goto out;
    }
    filein_init(&f->file, loop, stage, read_batch, f);
    f->file.on_done = on_file_done;
out:
    fstrm_file_options_destroy(&fopt);
    fstrm_reader_options_destroy(&ropt);
    if (rc < 0) {
        if (f->reader)
            fstrm_reader_destroy(&f->reader);
        dtin_close(&f->in);
    }
    return rc;
}

void dtfile_start(struct dtfile *f)
{
    filein_resume(&f->file);
}

void dtfile_resume(struct dtfile *f)
{
    filein_resume(&f->file);
}

static void on_file_closed(struct filein *fi)
{
    struct dtfile *f = fi->data;

    fstrm_reader_destroy(&f->reader);
    dtin_close(&f->in);
    if (f->on_closed)
        f->on_closed(f);
}

void dtfile_close(struct dtfile *f, void (*cb)(struct dtfile *f))
{
    f->on_closed = cb;
    filein_close(&f->file, on_file_closed);
}
