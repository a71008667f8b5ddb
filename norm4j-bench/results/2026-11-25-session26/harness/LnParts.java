import org.norm4j.kernels.*;
import java.util.*;
public class LnParts {
    public static void main(String[] a) {
        Parallel.setThreads(1);
        int rows = 4096, len = 768, n = rows * len;
        float[] x = new float[n], y = new float[n]; float[] pad = new float[Integer.parseInt(a[1])]; float[] g = new float[len]; float[] pad2 = new float[Integer.parseInt(a[1])]; float[] b = new float[len];
        Random rnd = new Random(1);
        for (int i = 0; i < n; i++) x[i] = rnd.nextFloat();
        Arrays.fill(g, 1.1f); Arrays.fill(b, 0.1f);
        double[] mean = new double[rows], inv = new double[rows];
        float[] c = new float[rows], invF = new float[rows], corr = new float[rows];
        float[] big = new float[1 << 24], big2 = new float[1 << 24];   // 64 MB: evicts the L3 between calls
        Loops l = Loops.get();
        String[] names = {"copy", "sum", "ln_affine", "ln_plain"}; int K = Integer.parseInt(a[0]);
        double[][] t = new double[4][15];
        for (int round = 0; round < 15; round++) {
            for (int k = 0; k < 4; k++) {
                if (k >= 2 && k != K) continue;
                double[] s = new double[20];
                for (int i = 0; i < 20; i++) {
                    System.arraycopy(big, 0, big2, 0, big.length);
                    long t0 = System.nanoTime();
                    switch (k) {
                        case 0 -> System.arraycopy(x, 0, y, 0, n);
                        case 1 -> { double z = l.sum(x, 0, n); if (z == 42) System.out.print(""); }
                        case 2 -> Normalization.normalizeRows(y, 0, x, 0, rows, len, 1e-5, mean, inv, c, invF, corr, g, b);
                        default -> Normalization.normalizeRows(y, 0, x, 0, rows, len, 1e-5, mean, inv, c, invF, corr, null, null);
                    }
                    s[i] = (System.nanoTime() - t0) / 1e6;
                }
                Arrays.sort(s);
                t[k][round] = s[10];
            }
        }
        for (int k = 0; k < 4; k++) {
            if (k >= 2 && k != K) continue;
            double[] m = Arrays.copyOfRange(t[k], 3, 15); Arrays.sort(m);
            System.out.printf("%-10s median %.3f ms (%.3f-%.3f)%n", names[k], m[6], m[0], m[11]);
        }
    }
}
