/*
 * libxlsxwriter peer for Strata's streaming .xlsx writer benchmark.
 *
 * Build:  cc -O2 libxlsxwriter_peer.c -lxlsxwriter -o /tmp/lxw_peer
 *         (pkg-config name: xlsxwriter, i.e. `pkg-config --cflags --libs xlsxwriter`)
 * Usage:  lxw_peer OUT.xlsx [N]          (N defaults to 1000000)
 *
 * Measures: wall time of creating the workbook (constant_memory mode),
 * generating the shared benchmark workload (bold header + N data rows; the
 * row definitions are listed at the top of run_peers.sh) and writing it, up
 * to and including workbook_close(). Prints one JSON line on stdout.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include <xlsxwriter.h>

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Proleptic Gregorian date from days since 1970-01-01 (H. Hinnant's algorithm). */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

static lxw_datetime datetime_from_epoch_seconds(int64_t s)
{
    lxw_datetime dt;
    int64_t days = s / 86400, rem = s % 86400;
    civil_from_days(days, &dt.year, &dt.month, &dt.day);
    dt.hour = (int)(rem / 3600);
    dt.min = (int)(rem % 3600 / 60);
    dt.sec = (double)(rem % 60);
    return dt;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s OUT.xlsx [N]\n", argv[0]);
        return 2;
    }
    const char *path = argv[1];
    char *end = NULL;
    long long n = argc == 3 ? strtoll(argv[2], &end, 10) : 1000000;
    if (argc == 3 && (*end != '\0' || n < 0 || n > 1048575)) {
        fprintf(stderr, "bad N: %s (0..1048575)\n", argv[2]);
        return 2;
    }

    static const char *headers[10] = {"id", "name", "qty", "price", "ratio",
                                      "created", "updated", "active", "big", "note"};
    const int64_t epoch_2020 = 1577836800; /* 2020-01-01T00:00:00Z */
    char name[96], note[96];

    double t0 = now_seconds();

    lxw_workbook_options options = {0};
    options.constant_memory = LXW_TRUE;
    lxw_workbook *wb = workbook_new_opt(path, &options);
    if (!wb) {
        fprintf(stderr, "workbook_new_opt failed for %s\n", path);
        return 1;
    }
    lxw_worksheet *ws = workbook_add_worksheet(wb, NULL);
    lxw_format *bold = workbook_add_format(wb);
    format_set_bold(bold);
    lxw_format *date_fmt = workbook_add_format(wb);
    format_set_num_format(date_fmt, "yyyy-mm-dd");
    lxw_format *ts_fmt = workbook_add_format(wb);
    format_set_num_format(ts_fmt, "yyyy-mm-dd hh:mm:ss");

    for (lxw_col_t c = 0; c < 10; c++)
        worksheet_write_string(ws, 0, c, headers[c], bold);

    for (long long i = 0; i < n; i++) {
        lxw_row_t r = (lxw_row_t)(i + 1);
        snprintf(name, sizeof name, "member-%lld 김민준 café", i);
        snprintf(note, sizeof note, "order #%lld <ok> & done", i);
        lxw_datetime created = datetime_from_epoch_seconds(epoch_2020 + (i % 2000) * 86400);
        lxw_datetime updated = datetime_from_epoch_seconds(epoch_2020 + (i * 37) % 157680000);

        worksheet_write_number(ws, r, 0, (double)(i + 1), NULL);
        worksheet_write_string(ws, r, 1, name, NULL);
        worksheet_write_number(ws, r, 2, (double)((i * 7919) % 1000), NULL);
        worksheet_write_number(ws, r, 3, (double)((i * 104729) % 1000000) / 100.0, NULL);
        worksheet_write_number(ws, r, 4, (double)(i % 1000) / 7.0, NULL);
        worksheet_write_datetime(ws, r, 5, &created, date_fmt);
        worksheet_write_datetime(ws, r, 6, &updated, ts_fmt);
        worksheet_write_boolean(ws, r, 7, i % 3 == 0, NULL);
        worksheet_write_number(ws, r, 8, (double)(i * 1000003), NULL);
        worksheet_write_string(ws, r, 9, note, NULL);
    }

    lxw_error err = workbook_close(wb);
    double secs = now_seconds() - t0;
    if (err != LXW_NO_ERROR) {
        fprintf(stderr, "workbook_close failed: %s\n", lxw_strerror(err));
        return 1;
    }

    struct stat st;
    long long bytes = stat(path, &st) == 0 ? (long long)st.st_size : -1;
    printf("{\"peer\": \"libxlsxwriter\", \"rows\": %lld, \"seconds\": %.6f, "
           "\"rows_per_s\": %.1f, \"bytes\": %lld}\n",
           n, secs, secs > 0 ? (double)n / secs : 0.0, bytes);
    return 0;
}
