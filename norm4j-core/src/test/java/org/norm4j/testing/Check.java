package org.norm4j.testing;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Array comparison that says what went wrong: on failure, the label, the first differing elements
 * and the maximum difference. Tolerance: |got − want| ≤ atol + rtol·|want| per element.
 */
public final class Check {
    private Check() {}

    public static double close(String label, float[] got, double[] want, double atol, double rtol) {
        if (got.length != want.length) fail(label + ": length " + got.length + ", expected " + want.length);
        double maxDiff = 0;
        int firstBad = -1, bad = 0;
        for (int i = 0; i < got.length; i++) {
            double d = Math.abs(got[i] - want[i]);
            if (!(d <= atol + rtol * Math.abs(want[i]))) {   // NaN fails
                if (firstBad < 0) firstBad = i;
                bad++;
            }
            if (d > maxDiff || Double.isNaN(d)) maxDiff = Double.isNaN(d) ? Double.NaN : Math.max(maxDiff, d);
        }
        if (bad > 0) {
            StringBuilder sb = new StringBuilder(label + ": " + bad + " of " + got.length + " elements differ (atol " + atol
                    + ", rtol " + rtol + "), max |diff| " + maxDiff + "; first:");
            for (int i = firstBad, shown = 0; i < got.length && shown < 5; i++) {
                double d = Math.abs(got[i] - want[i]);
                if (!(d <= atol + rtol * Math.abs(want[i]))) {
                    sb.append(String.format(" [%d] got %.9g want %.9g", i, got[i], want[i]));
                    shown++;
                }
            }
            fail(sb.toString());
        }
        return maxDiff;
    }

    public static double close(String label, float[] got, float[] want, double atol, double rtol) {
        return close(label, got, toDouble(want), atol, rtol);
    }

    public static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) d[i] = v[i];
        return d;
    }

    public static float[] toFloat(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return f;
    }
}
