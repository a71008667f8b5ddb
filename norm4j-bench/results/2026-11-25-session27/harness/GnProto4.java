import org.norm4j.kernels.*;
import java.util.*;
public class GnProto4 {
  public static void main(String[] a) {
    int T = Integer.parseInt(a[0]); Parallel.setThreads(T); int G = Integer.parseInt(a[1]);
    int A = 256, C = 64, B = 784, n = A * C * B;
    float[] x = new float[n], y = new float[n];
    Random rnd = new Random(1); for (int i = 0; i < n; i++) x[i] = rnd.nextFloat();
    float[] big = new float[1 << 24], big2 = new float[1 << 24];
    Loops l = Loops.get();
    String[] names = {"copy", "statsThenApplyRows", "fusedHead", "fusedPrevMean", "fusedNoHeadConst"};
    int K = names.length; double[][] t = new double[K][12];
    float[] center = new float[A*C], scale = new float[A*C], shift = new float[A*C];
    for (int round = 0; round < 12; round++) {
      for (int k = 0; k < K; k++) {
        double[] s = new double[9];
        for (int it = 0; it < 9; it++) {
          System.arraycopy(big, 0, big2, 0, big.length);
          long t0 = System.nanoTime();
          double[] mean = new double[A*G], m2 = new double[A*G];
          final int kk = k;
          if (k == 0) Parallel.forRange(n, 1<<16, (lo, hi) -> System.arraycopy(x, lo, y, lo, hi - lo));
          else if (k == 1) Normalization.statsThenApplyRows(mean, m2, y, x, A, C, B, G, p -> { center[p] = 0.5f; scale[p] = 3.4f; shift[p] = 0.1f; }, center, scale, shift);
          else {
            int cpg = C / G, len = cpg * B;
            Parallel.forRange(A * G, Parallel.grain(len, 1 << 16), (r0, r1) -> {
              double[] acc = new double[2];
              float sh = x[r0 * len];
              l.sumShifted(acc, x, r0 * len, len, sh);
              for (int r = r0; r < r1; r++) {
                double mu = sh + acc[0] / len; mean[r] = mu; m2[r] = acc[1] - acc[0] * acc[0] / len;
                int p0 = (r / G) * C + (r % G) * cpg;
                for (int p = p0; p < p0 + cpg; p++) { center[p] = 0.5f; scale[p] = 3.4f; shift[p] = 0.1f; }
                if (r + 1 < r1) {
                  if (kk == 2) { double hs = 0; for (int i = 0; i < 16; i++) hs += x[(r + 1) * len + i]; sh = (float) (hs / 16); }
                  else if (kk == 3) sh = (float) mu;
                  else sh = 0.5f;
                  acc[0] = 0; acc[1] = 0;
                  l.affineRunsThenSumShifted(y, x, r * len, cpg, B, center, scale, shift, p0, (r + 1) * len, sh, acc);
                } else for (int p = p0; p < p0 + cpg; p++) l.affine(y, p * B, x, p * B, B, center[p], scale[p], shift[p]);
              }
            });
          }
          s[it] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(s); t[k][round] = s[4];
      }
    }
    for (int k = 0; k < K; k++) { double[] r = Arrays.copyOfRange(t[k], 2, 12); Arrays.sort(r); System.out.printf("G=%d T%d %-20s %.2f (%.2f-%.2f)%n", G, T, names[k], r[5], r[0], r[9]); }
  }
}
