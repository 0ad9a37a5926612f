/* The focal posterior correction in C99 with <math.h> alone: a model's
 * probabilities from its raw margin, as FocalBoostClassifier.predict_proba
 * computes them (docs/math.md, "Posterior correction"; docs/deploy.md).
 *
 *   eta_k  proportional to  h_{gamma_k}(p_k) / alpha_k,
 *   h_g(p) = p / ((1-p)^(g-1) ((1-p) - g p log p)),
 *
 * with p_k the sigmoid (binary) or the softmax (multiclass) of the margin.
 * gamma and alpha hold one value per class (binary: negative, then positive),
 * as model.loss_ resolves them: alpha None is all ones, a number a is
 * {1 - a, a}. Header only: include it in one C or C++ file. */
#ifndef FOCAL_POSTERIOR_H
#define FOCAL_POSTERIOR_H

#include <math.h>
#include <stddef.h>

/* log h_gamma(p) at p = sigmoid(s), stable for any finite s. */
static double focal_log_h(double s, double gamma) {
    double a = fabs(s), t = exp(-a), log1p_t = log1p(t), p, ell, log_q, ratio;
    if (s >= 0.0) {
        p = 1.0 / (1.0 + t);
        ell = log1p_t;
        log_q = -(a + log1p_t);
        ratio = t > 1e-300 ? log1p_t * (1.0 + t) / t : 1.0; /* ell / (1 - p) */
    } else {
        p = t / (1.0 + t);
        ell = a + log1p_t;
        log_q = -log1p_t;
        ratio = ell * (1.0 + t);
    }
    return -ell - gamma * log_q - log1p(gamma * p * ratio);
}

/* One row's class probabilities (n_classes of them, into out) from its
 * margin: one number for binary (n_classes == 2), n_classes numbers else. */
static void focal_posterior(const double *margin, size_t n_classes, const double *gamma,
                            const double *alpha, double *out) {
    if (n_classes == 2) { /* the posterior's log-odds, then the sigmoid */
        double z = margin[0];
        double logit = (focal_log_h(z, gamma[1]) - log(alpha[1])) - (focal_log_h(-z, gamma[0]) - log(alpha[0]));
        double positive = logit >= 0 ? 1.0 / (1.0 + exp(-logit)) : exp(logit) / (1.0 + exp(logit));
        out[0] = 1.0 - positive;
        out[1] = positive;
        return;
    }
    double top = -INFINITY, total = 0.0;
    for (size_t k = 0; k < n_classes; ++k) { /* class k against the rest */
        double rest_top = -INFINITY, rest = 0.0;
        for (size_t j = 0; j < n_classes; ++j)
            if (j != k && margin[j] > rest_top) rest_top = margin[j];
        for (size_t j = 0; j < n_classes; ++j)
            if (j != k) rest += exp(margin[j] - rest_top);
        double s = margin[k] - rest_top - log(rest);
        out[k] = focal_log_h(s, gamma[k]) - log(alpha[k]);
        if (out[k] > top) top = out[k];
    }
    for (size_t k = 0; k < n_classes; ++k) total += (out[k] = exp(out[k] - top));
    for (size_t k = 0; k < n_classes; ++k) out[k] /= total;
}

#endif
