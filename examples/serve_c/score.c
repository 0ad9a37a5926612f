/* Score rows with a focal model exported by export_booster, in C: the plain
 * booster's C library gives the margin, focal_posterior.h the probabilities.
 * No Python and no focal_boost where it runs.
 *
 *   score MODEL GAMMA ALPHA < rows.csv > probabilities.csv
 *
 * MODEL is the exported booster (XGBoost .json/.ubj, or LightGBM .txt, as
 * built); GAMMA and ALPHA are the loss's per-class values, comma separated
 * (binary: negative,positive), from the booster's focal_boost_export entry.
 * rows.csv: one row per line, numbers separated by commas, an empty field for
 * a missing value. Out: one line per row, the class probabilities.
 *
 * Build against the booster's shared library (docs/deploy.md shows the
 * commands); -DFOCAL_LIGHTGBM selects LightGBM, XGBoost otherwise. The
 * Python wheels ship the libraries but not the headers, so the few C API
 * functions used are declared below, as in xgboost/c_api.h and
 * LightGBM/c_api.h; with the headers at hand, include them instead. */
#define _POSIX_C_SOURCE 200809L /* getline */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "focal_posterior.h"

#define MAX_CLASSES 64

static void fail(const char *what, const char *why) {
    fprintf(stderr, "score: %s: %s\n", what, why);
    exit(1);
}

#ifdef FOCAL_LIGHTGBM
typedef void *BoosterHandle;
int LGBM_BoosterCreateFromModelfile(const char *filename, int *out_num_iterations, BoosterHandle *out);
int LGBM_BoosterGetNumClasses(BoosterHandle handle, int *out_len);
int LGBM_BoosterPredictForMat(BoosterHandle handle, const void *data, int data_type, int32_t nrow, int32_t ncol,
                              int is_row_major, int predict_type, int start_iteration, int num_iteration,
                              const char *parameter, int64_t *out_len, double *out_result);
int LGBM_BoosterFree(BoosterHandle handle);
const char *LGBM_GetLastError(void);

/* The raw margins of n rows (row major, columns per row), margins per row in
 * *width: LightGBM's raw_score, every round of the exported booster. */
static double *margins(const char *path, const double *rows, size_t n, size_t columns, size_t *width) {
    BoosterHandle booster;
    int rounds, classes;
    int64_t length;
    if (LGBM_BoosterCreateFromModelfile(path, &rounds, &booster) != 0) fail(path, LGBM_GetLastError());
    if (LGBM_BoosterGetNumClasses(booster, &classes) != 0) fail(path, LGBM_GetLastError());
    double *out = malloc(sizeof(double) * n * (size_t)classes);
    if (!out) fail("memory", "out of memory");
    /* data_type 1: float64; is_row_major 1; predict_type 1: raw score; all rounds */
    if (LGBM_BoosterPredictForMat(booster, rows, 1, (int32_t)n, (int32_t)columns, 1, 1, 0, -1, "", &length, out) != 0)
        fail(path, LGBM_GetLastError());
    LGBM_BoosterFree(booster);
    *width = (size_t)classes;
    return out;
}
#else
typedef void *BoosterHandle;
typedef void *DMatrixHandle;
typedef uint64_t bst_ulong;
int XGBoosterCreate(const DMatrixHandle dmats[], bst_ulong len, BoosterHandle *out);
int XGBoosterLoadModel(BoosterHandle handle, const char *fname);
int XGDMatrixCreateFromMat(const float *data, bst_ulong nrow, bst_ulong ncol, float missing, DMatrixHandle *out);
int XGBoosterPredictFromDMatrix(BoosterHandle handle, DMatrixHandle dmat, const char *config,
                                const bst_ulong **out_shape, bst_ulong *out_dim, const float **out_result);
int XGDMatrixFree(DMatrixHandle handle);
int XGBoosterFree(BoosterHandle handle);
const char *XGBGetLastError(void);

/* The raw margins of n rows: XGBoost's output_margin, every round of the
 * exported booster (it holds the best rounds only). XGBoost splits float32
 * values, so the rows are rounded to float32 as its Python package does. */
static double *margins(const char *path, const double *rows, size_t n, size_t columns, size_t *width) {
    BoosterHandle booster;
    DMatrixHandle matrix;
    const bst_ulong *shape;
    bst_ulong dims;
    const float *result;
    float *values = malloc(sizeof(float) * (n * columns + 1));
    if (!values) fail("memory", "out of memory");
    for (size_t i = 0; i < n * columns; ++i) values[i] = (float)rows[i];
    if (XGBoosterCreate(NULL, 0, &booster) != 0 || XGBoosterLoadModel(booster, path) != 0)
        fail(path, XGBGetLastError());
    if (XGDMatrixCreateFromMat(values, n, columns, NAN, &matrix) != 0) fail("rows", XGBGetLastError());
    /* type 1: the margin; iteration_end 0: every round */
    const char *config = "{\"type\": 1, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, "
                         "\"strict_shape\": true}";
    if (XGBoosterPredictFromDMatrix(booster, matrix, config, &shape, &dims, &result) != 0)
        fail(path, XGBGetLastError());
    *width = (size_t)shape[dims - 1];
    double *out = malloc(sizeof(double) * n * *width);
    if (!out) fail("memory", "out of memory");
    for (size_t i = 0; i < n * *width; ++i) out[i] = result[i];
    XGDMatrixFree(matrix);
    XGBoosterFree(booster);
    free(values);
    return out;
}
#endif

/* Comma-separated numbers into values (at most limit); the count. */
static size_t parse_list(char *text, double *values, size_t limit, const char *what) {
    size_t count = 0;
    for (char *field = strtok(text, ","); field; field = strtok(NULL, ",")) {
        char *end;
        if (count == limit) fail(what, "too many values");
        values[count++] = strtod(field, &end);
        if (end == field || *end != '\0') fail(what, "not a number");
    }
    return count;
}

/* rows.csv from stdin: the rows, row major; their count in *n, columns in *columns. */
static double *read_rows(size_t *n, size_t *columns) {
    size_t capacity = 0, used = 0, length = 0;
    double *rows = NULL;
    char *line = NULL;
    *n = *columns = 0;
    while (getline(&line, &length, stdin) != -1) {
        line[strcspn(line, "\r\n")] = '\0';
        size_t fields = 1;
        for (char *c = line; *c; ++c) fields += *c == ',';
        if (*n == 0) *columns = fields;
        if (fields != *columns) fail("rows.csv", "rows of different lengths");
        if (used + fields > capacity) {
            capacity = 2 * (used + fields);
            rows = realloc(rows, sizeof(double) * capacity);
            if (!rows) fail("memory", "out of memory");
        }
        for (char *field = line, *next;; field = next + 1) {
            next = strchr(field, ',');
            if (next) *next = '\0';
            char *end;
            rows[used++] = *field ? strtod(field, &end) : NAN; /* an empty field is missing */
            if (*field && *end != '\0') fail("rows.csv", "not a number");
            if (!next) break;
        }
        ++*n;
    }
    free(line);
    return rows;
}

int main(int argc, char **argv) {
    double gamma[MAX_CLASSES], alpha[MAX_CLASSES], probabilities[MAX_CLASSES];
    size_t n, columns, width;
    if (argc != 4) {
        fprintf(stderr, "usage: %s MODEL GAMMA ALPHA < rows.csv\n", argv[0]);
        return 2;
    }
    size_t classes = parse_list(argv[2], gamma, MAX_CLASSES, "GAMMA");
    if (parse_list(argv[3], alpha, MAX_CLASSES, "ALPHA") != classes) fail("ALPHA", "not one value per class");
    double *rows = read_rows(&n, &columns);
    if (n == 0) return 0;
    double *margin = margins(argv[1], rows, n, columns, &width);
    if (width != (classes == 2 ? 1 : classes)) fail("GAMMA", "not one value per class of the model");
    for (size_t i = 0; i < n; ++i) {
        focal_posterior(margin + i * width, classes, gamma, alpha, probabilities);
        for (size_t k = 0; k < classes; ++k) printf(k ? ",%.17g" : "%.17g", probabilities[k]);
        putchar('\n');
    }
    free(margin);
    free(rows);
    return 0;
}
