/*
 * The focal posterior correction in Java with java.lang.Math alone: a model's
 * probabilities from its raw margin, as FocalBoostClassifier.predict_proba
 * computes them (docs/math.md, "Posterior correction"; docs/deploy.md).
 *
 * The margin comes from the exported booster in the Java scoring service:
 * XGBoost4J's Booster.predict(matrix, true) (output margin) or LightGBM's
 * raw score (C API predict_type 1). gamma and alpha hold one value per class
 * (binary: negative, then positive), from the booster's focal_boost_export
 * entry. With ONNX Runtime for Java no code is needed: the ONNX graph of
 * focal_boost.onnx.to_onnx has the correction inside.
 *
 *   java FocalPosterior GAMMA ALPHA < margins.csv > probabilities.csv
 */
public final class FocalPosterior {
    private FocalPosterior() {}

    /** log h_gamma(p) at p = sigmoid(s), stable for any finite s. */
    static double logH(double s, double gamma) {
        double a = Math.abs(s), t = Math.exp(-a), log1pT = Math.log1p(t), p, ell, logQ, ratio;
        if (s >= 0.0) {
            p = 1.0 / (1.0 + t);
            ell = log1pT;
            logQ = -(a + log1pT);
            ratio = t > 1e-300 ? log1pT * (1.0 + t) / t : 1.0; // ell / (1 - p)
        } else {
            p = t / (1.0 + t);
            ell = a + log1pT;
            logQ = -log1pT;
            ratio = ell * (1.0 + t);
        }
        return -ell - gamma * logQ - Math.log1p(gamma * p * ratio);
    }

    /** One row's class probabilities from its margin: one number for binary, one per class else. */
    public static double[] posterior(double[] margin, double[] gamma, double[] alpha) {
        int classes = gamma.length;
        double[] out = new double[classes];
        if (classes == 2) { // the posterior's log-odds, then the sigmoid
            double z = margin[0];
            double logit = (logH(z, gamma[1]) - Math.log(alpha[1])) - (logH(-z, gamma[0]) - Math.log(alpha[0]));
            double positive = logit >= 0 ? 1.0 / (1.0 + Math.exp(-logit)) : Math.exp(logit) / (1.0 + Math.exp(logit));
            out[0] = 1.0 - positive;
            out[1] = positive;
            return out;
        }
        double top = Double.NEGATIVE_INFINITY, total = 0.0;
        for (int k = 0; k < classes; ++k) { // class k against the rest
            double restTop = Double.NEGATIVE_INFINITY, rest = 0.0;
            for (int j = 0; j < classes; ++j) if (j != k) restTop = Math.max(restTop, margin[j]);
            for (int j = 0; j < classes; ++j) if (j != k) rest += Math.exp(margin[j] - restTop);
            out[k] = logH(margin[k] - restTop - Math.log(rest), gamma[k]) - Math.log(alpha[k]);
            top = Math.max(top, out[k]);
        }
        for (int k = 0; k < classes; ++k) total += (out[k] = Math.exp(out[k] - top));
        for (int k = 0; k < classes; ++k) out[k] /= total;
        return out;
    }

    private static double[] numbers(String text) {
        String[] fields = text.split(",");
        double[] values = new double[fields.length];
        for (int i = 0; i < fields.length; ++i) values[i] = Double.parseDouble(fields[i]);
        return values;
    }

    public static void main(String[] args) throws java.io.IOException {
        if (args.length != 2) {
            System.err.println("usage: java FocalPosterior GAMMA ALPHA < margins.csv");
            System.exit(2);
        }
        double[] gamma = numbers(args[0]), alpha = numbers(args[1]);
        if (alpha.length != gamma.length) {
            System.err.println("FocalPosterior: ALPHA: not one value per class");
            System.exit(1);
        }
        java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in));
        StringBuilder out = new StringBuilder();
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            double[] probabilities = posterior(numbers(line.trim()), gamma, alpha);
            for (int k = 0; k < probabilities.length; ++k) out.append(k == 0 ? "" : ",").append(probabilities[k]);
            out.append('\n');
        }
        System.out.print(out);
    }
}
