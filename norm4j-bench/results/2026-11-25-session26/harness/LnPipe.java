import jdk.incubator.vector.*;
import java.util.*;
public class LnPipe {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int CHUNK = 32 * F.length();
    static double sum(float[] x, int xOff, int n) {
        int bound = F.loopBound(n); double s = 0; int i = 0;
        while (i < bound) { int end = i + Math.min(CHUNK, bound - i); FloatVector acc = FloatVector.zero(F);
            for (; i < end; i += F.length()) acc = acc.add(FloatVector.fromArray(F, x, xOff + i));
            s += acc.reduceLanes(VectorOperators.ADD); }
        return s;
    }
    static void sumShifted(double[] acc, float[] x, int xOff, int n, float shift) {
        int bound = F.loopBound(n); FloatVector vShift = FloatVector.broadcast(F, shift); double s1 = 0, s2 = 0; int i = 0;
        while (i < bound) { int end = i + Math.min(CHUNK, bound - i); FloatVector a1 = FloatVector.zero(F), a2 = FloatVector.zero(F);
            for (; i < end; i += F.length()) { FloatVector d = FloatVector.fromArray(F, x, xOff + i).sub(vShift); a1 = a1.add(d); a2 = d.fma(d, a2); }
            s1 += a1.reduceLanes(VectorOperators.ADD); s2 += a2.reduceLanes(VectorOperators.ADD); }
        acc[0] += s1; acc[1] += s2;
    }
    static double applyThenSum(float[] y, int yOff, float[] x, int xOff, int n, float center, float invStd, float corr, float[] gamma, float[] beta, int nextOff) {
        int bound = F.loopBound(n);
        FloatVector vCenter = FloatVector.broadcast(F, center), vInvStd = FloatVector.broadcast(F, invStd), vCorr = FloatVector.broadcast(F, corr);
        double s = 0; int i = 0;
        while (i < bound) { int end = i + Math.min(CHUNK, bound - i); FloatVector acc = FloatVector.zero(F);
            for (; i < end; i += F.length()) {
                acc = acc.add(FloatVector.fromArray(F, x, nextOff + i));
                FloatVector.fromArray(F, x, xOff + i).sub(vCenter).mul(vInvStd).add(vCorr).mul(FloatVector.fromArray(F, gamma, i)).add(FloatVector.fromArray(F, beta, i)).intoArray(y, yOff + i);
            }
            s += acc.reduceLanes(VectorOperators.ADD); }
        return s;
    }
    /** row r's output, row r+1's shifted sums (into m), row r+2's sum (returned) */
    static double applyThenShiftedThenSum(float[] y, int yOff, float[] x, int xOff, int n, float center, float invStd, float corr, float[] gamma, float[] beta,
                                          int midOff, float shift, double[] m, int nextOff) {
        int bound = F.loopBound(n);
        FloatVector vCenter = FloatVector.broadcast(F, center), vInvStd = FloatVector.broadcast(F, invStd), vCorr = FloatVector.broadcast(F, corr);
        FloatVector vShift = FloatVector.broadcast(F, shift);
        double s = 0, s1 = 0, s2 = 0; int i = 0;
        while (i < bound) { int end = i + Math.min(CHUNK, bound - i); FloatVector acc = FloatVector.zero(F), a1 = acc, a2 = acc;
            for (; i < end; i += F.length()) {
                acc = acc.add(FloatVector.fromArray(F, x, nextOff + i));
                FloatVector d = FloatVector.fromArray(F, x, midOff + i).sub(vShift);
                a1 = a1.add(d); a2 = d.fma(d, a2);
                FloatVector.fromArray(F, x, xOff + i).sub(vCenter).mul(vInvStd).add(vCorr).mul(FloatVector.fromArray(F, gamma, i)).add(FloatVector.fromArray(F, beta, i)).intoArray(y, yOff + i);
            }
            s += acc.reduceLanes(VectorOperators.ADD); s1 += a1.reduceLanes(VectorOperators.ADD); s2 += a2.reduceLanes(VectorOperators.ADD); }
        m[0] += s1; m[1] += s2;
        return s;
    }
    static float[] c, inv, corr; static double[] mean;
    static void params(double[] acc, int r, int len, float shift) {
        double s1 = acc[0]; double mu = shift + s1 / len, m2 = Math.max(0, acc[1] - s1 * s1 / len);
        double iv = 1 / Math.sqrt(m2 / len + 1e-5);
        mean[r] = mu; c[r] = (float) mu; corr[r] = (float) ((c[r] - mu) * iv); inv[r] = (float) iv;
    }
    // the current scheme: sum of r+1 fused into r's output; r's shifted sums a pass of its own
    static void current(float[] y, float[] x, int rows, int len, float[] g, float[] b) {
        double[] acc = new double[2];
        double sum = sum(x, 0, len);
        for (int r = 0; r < rows; r++) {
            float shift = (float) (sum / len); acc[0] = 0; acc[1] = 0;
            sumShifted(acc, x, r * len, len, shift); params(acc, r, len, shift);
            if (r + 1 < rows) sum = applyThenSum(y, r * len, x, r * len, len, c[r], inv[r], corr[r], g, b, (r + 1) * len);
            else applyThenSum(y, r * len, x, r * len, len, c[r], inv[r], corr[r], g, b, r * len);
        }
    }
    // the pipeline: r's output, r+1's shifted sums, r+2's sum in one pass
    static void pipe(float[] y, float[] x, int rows, int len, float[] g, float[] b) {
        double[] acc = new double[2];
        double sum0 = sum(x, 0, len);
        float shift = (float) (sum0 / len);
        sumShifted(acc, x, 0, len, shift); params(acc, 0, len, shift);
        double sum1 = rows > 1 ? sum(x, len, len) : 0;
        for (int r = 0; r < rows; r++) {
            if (r + 1 < rows) {
                float sh = (float) (sum1 / len); acc[0] = 0; acc[1] = 0;
                int next = Math.min(r + 2, rows - 1) * len;
                sum1 = applyThenShiftedThenSum(y, r * len, x, r * len, len, c[r], inv[r], corr[r], g, b, (r + 1) * len, sh, acc, next);
                params(acc, r + 1, len, sh);
            } else applyThenSum(y, r * len, x, r * len, len, c[r], inv[r], corr[r], g, b, r * len);
        }
    }
    public static void main(String[] a) {
        int rows = 4096, len = 768, n = rows * len;
        float[] x = new float[n], y = new float[n], y2 = new float[n], g = new float[len], b = new float[len];
        Random rnd = new Random(1);
        for (int i = 0; i < n; i++) x[i] = rnd.nextFloat() + 3;
        for (int i = 0; i < len; i++) { g[i] = 1 + rnd.nextFloat(); b[i] = rnd.nextFloat(); }
        c = new float[rows]; inv = new float[rows]; corr = new float[rows]; mean = new double[rows];
        current(y, x, rows, len, g, b); pipe(y2, x, rows, len, g, b);
        System.out.println("same bits: " + Arrays.equals(y, y2));
        float[] big = new float[1 << 24], big2 = new float[1 << 24];
        String[] names = {"current", "pipe"};
        double[][] t = new double[2][15];
        for (int round = 0; round < 15; round++) {
            for (int k = 0; k < 2; k++) {
                double[] s = new double[20];
                for (int i = 0; i < 20; i++) {
                    System.arraycopy(big, 0, big2, 0, big.length);
                    long t0 = System.nanoTime();
                    if (k == 0) current(y, x, rows, len, g, b); else pipe(y, x, rows, len, g, b);
                    s[i] = (System.nanoTime() - t0) / 1e6;
                }
                Arrays.sort(s); t[k][round] = s[10];
            }
        }
        for (int k = 0; k < 2; k++) { double[] m = Arrays.copyOfRange(t[k], 3, 15); Arrays.sort(m);
            System.out.printf("%-8s median %.3f ms (%.3f-%.3f)%n", names[k], m[6], m[0], m[11]); }
    }
}
