import org.norm4j.kernels.*;
import java.util.*;
public class GnG {
  public static void main(String[] a) {
    int T = Integer.parseInt(a[0]); Parallel.setThreads(T);
    int A = 256, C = 64, B = 784, n = A * C * B;
    float[] x = new float[n], y = new float[n];
    Random rnd = new Random(1); for (int i = 0; i < n; i++) x[i] = rnd.nextFloat();
    float[] big = new float[1 << 24], big2 = new float[1 << 24];
    int[] Gs = {16, 8, 4, 2};
    int K = Gs.length; double[][] t = new double[K][10];
    float[] center = new float[A*C], scale = new float[A*C], shift = new float[A*C];
    for (int round = 0; round < 10; round++) {
      for (int k = 0; k < K; k++) {
        double[] s = new double[9];
        for (int it = 0; it < 9; it++) {
          System.arraycopy(big, 0, big2, 0, big.length);
          long t0 = System.nanoTime();
          int G = Gs[k]; double[] mean = new double[A*G], m2 = new double[A*G];
          Normalization.statsThenApplyRows(mean, m2, y, x, A, C, B, G, p -> { center[p] = 0.5f; scale[p] = 3.4f; shift[p] = 0.1f; }, center, scale, shift);
          s[it] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(s); t[k][round] = s[4];
      }
    }
    for (int k = 0; k < K; k++) { double[] r = Arrays.copyOfRange(t[k], 2, 10); Arrays.sort(r); System.out.printf("T%d G=%d %.2f (%.2f-%.2f)%n", T, Gs[k], r[4], r[0], r[7]); }
  }
}
