import org.norm4j.kernels.*;
import jdk.incubator.vector.*;
import java.util.*;
public class GnProto3 {
  static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  static double affineThenSum(float[] y, int yOff, float[] x, int xOff, int n, float center, float scale, float shift, int nextOff) {
    int bound = F.loopBound(n); FloatVector c = FloatVector.broadcast(F, center), s = FloatVector.broadcast(F, scale), sh = FloatVector.broadcast(F, shift);
    double sum = 0; int i = 0;
    while (i < bound) { int end = i + Math.min(512, bound - i); FloatVector acc = FloatVector.zero(F);
      for (; i < end; i += F.length()) { acc = acc.add(FloatVector.fromArray(F, x, nextOff + i)); FloatVector.fromArray(F, x, xOff + i).sub(c).mul(s).add(sh).intoArray(y, yOff + i); }
      sum += acc.reduceLanes(VectorOperators.ADD); }
    for (int j = i; j < n; j++) { sum += x[nextOff + j]; y[yOff + j] = (x[xOff + j] - center) * scale + shift; }
    return sum;
  }
  public static void main(String[] a) {
    int T = Integer.parseInt(a[0]); Parallel.setThreads(T);
    int A = 256, C = 64, B = 784, n = A * C * B;
    float[] x = new float[n], y = new float[n];
    Random rnd = new Random(1); for (int i = 0; i < n; i++) x[i] = rnd.nextFloat();
    float[] big = new float[1 << 24], big2 = new float[1 << 24];
    Loops l = Loops.get();
    int[] Gs = {Integer.parseInt(a[1]), Integer.parseInt(a[1])};
    String[] names = {"copy", "cur", "sum+shifted", "fused", "sumOnly", "fusedNoShifted"};
    int K = names.length; double[][] t = new double[K][12];
    float[] center = new float[A*C], scale = new float[A*C], shift = new float[A*C];
    for (int round = 0; round < 12; round++) {
      for (int k = 0; k < K; k++) {
        double[] s = new double[9];
        for (int it = 0; it < 9; it++) {
          System.arraycopy(big, 0, big2, 0, big.length);
          long t0 = System.nanoTime();
          if (k == 0) Parallel.forRange(n, 1<<16, (lo, hi) -> System.arraycopy(x, lo, y, lo, hi - lo));
          else {
            int G = Gs[0]; final int kk = k; double[] mean = new double[A*G], m2 = new double[A*G];
            if (k == 1) Normalization.statsThenApplyRows(mean, m2, y, x, A, C, B, G, p -> { center[p] = 0.5f; scale[p] = 3.4f; shift[p] = 0.1f; }, center, scale, shift);
            else {
              int cpg = C / G, len = cpg * B;
              Parallel.forRange(A * G, Parallel.grain(len, 1 << 16), (r0, r1) -> {
                double[] acc = new double[2];
                double sum = l.sum(x, r0 * len, len);
                for (int r = r0; r < r1; r++) {
                  float sh = (float) (sum / len); acc[0] = 0; acc[1] = 0; if (kk < 4) l.sumShifted(acc, x, r * len, len, sh);
                  mean[r] = sh + acc[0] / len; m2[r] = acc[1];
                  int aa = r / G, c0 = (r % G) * cpg; double next = 0;
                  for (int c = c0; c < c0 + cpg; c++) {
                    int p = aa * C + c, off = p * B;
                    center[p] = 0.5f; scale[p] = 3.4f; shift[p] = 0.1f;
                    if ((kk == 3 || kk == 5) && r + 1 < r1) next += affineThenSum(y, off, x, off, B, center[p], scale[p], shift[p], off + len);
                    else l.affine(y, off, x, off, B, center[p], scale[p], shift[p]);
                  }
                  sum = (kk == 3 || kk == 5) ? next : (r + 1 < r1 ? l.sum(x, (r + 1) * len, len) : 0);
                }
              });
            }
          }
          s[it] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(s); t[k][round] = s[4];
      }
    }
    for (int k = 0; k < K; k++) { double[] r = Arrays.copyOfRange(t[k], 2, 12); Arrays.sort(r); System.out.printf("T%d %-10s %.2f (%.2f-%.2f)%n", T, names[k], r[5], r[0], r[9]); }
  }
}
