import org.norm4j.kernels.*;
import java.util.*;
public class LnBwdParts {
  public static void main(String[] a) {
    Parallel.setThreads(1);
    int rows = 256, len = 50176, n = rows * len;
    float[] x = new float[n], dy = new float[n], dx = new float[n];
    Random rnd = new Random(1);
    for (int i = 0; i < n; i++) { x[i] = rnd.nextFloat(); dy[i] = rnd.nextFloat()-0.5f; }
    float[] g = new float[len], fG = new float[len], fB = new float[len]; Arrays.fill(g, 1.1f);
    float[] c = new float[rows], inv = new float[rows], corr = new float[rows]; Arrays.fill(c, 0.5f); Arrays.fill(inv, 3.4f);
    float[] coef = {0.01f, 0.02f, 0.01f, 0.02f};
    float[] big = new float[1 << 24], big2 = new float[1 << 24];
    Loops l = Loops.get();
    String[] names = {"copy", "read2", "sumsP", "sumsP_noPart", "dxP", "sumsP+dxP", "sumsPnoPart+dxP"};
    int K = names.length; double[][] t = new double[K][12];
    double[] acc = new double[4];
    for (int round = 0; round < 12; round++) {
      for (int k = 0; k < K; k++) {
        double[] s = new double[7];
        for (int it = 0; it < 7; it++) {
          System.arraycopy(big, 0, big2, 0, big.length);
          long t0 = System.nanoTime();
          switch (k) {
            case 0 -> System.arraycopy(x, 0, dx, 0, n);
            case 1 -> { double z = l.sum(x, 0, n) + l.sum(dy, 0, n); if (z == 42) System.out.print(""); }
            case 2 -> { for (int r = 0; r < rows; r += 2) l.rowBackwardSumsPair(acc, fG, fB, dy, r*len, x, r*len, len, c, inv, corr, r, g); }
            case 3 -> { for (int r = 0; r < rows; r += 2) l.rowBackwardSumsPair(acc, null, null, dy, r*len, x, r*len, len, c, inv, corr, r, g); }
            case 4 -> { for (int r = 0; r < rows; r += 2) l.rowBackwardPair(dx, r*len, dy, r*len, x, r*len, len, inv, c, r, g, coef, true); }
            case 5 -> { for (int r = 0; r < rows; r += 2) { l.rowBackwardSumsPair(acc, fG, fB, dy, r*len, x, r*len, len, c, inv, corr, r, g); l.rowBackwardPair(dx, r*len, dy, r*len, x, r*len, len, inv, c, r, g, coef, true);} }
            default -> { for (int r = 0; r < rows; r += 2) { l.rowBackwardSumsPair(acc, null, null, dy, r*len, x, r*len, len, c, inv, corr, r, g); l.rowBackwardPair(dx, r*len, dy, r*len, x, r*len, len, inv, c, r, g, coef, true);} }
          }
          s[it] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(s); t[k][round] = s[3];
      }
    }
    for (int k = 0; k < K; k++) { double[] r = Arrays.copyOfRange(t[k], 2, 12); Arrays.sort(r); System.out.printf("%-18s %.2f (%.2f-%.2f)%n", names[k], r[5], r[0], r[9]); }
  }
}
