import org.norm4j.kernels.*;
import java.util.*;
public class ClOnly {
    public static void main(String[] a) {
        Parallel.setThreads(Integer.parseInt(a[0]));
        int C = 64, A = 256, B = 784, n = A * C * B;
        float[] x = new float[n];
        Random rnd = new Random(1);
        for (int i = 0; i < n; i++) x[i] = 3 + rnd.nextFloat();
        double[] mean = new double[C], m2 = new double[C];
        long start = System.nanoTime();
        for (int round = 0; round < Integer.parseInt(a[1]); round++) {
            double[] s = new double[10];
            for (int k = 0; k < 10; k++) { long t0 = System.nanoTime(); Normalization.collectStatsChannels(mean, m2, x, 0, A * B, C, 1); s[k] = (System.nanoTime() - t0) / 1e6; }
            Arrays.sort(s);
            System.out.printf("%.2f@%d ", s[5], java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime());
        }
        System.out.println();
    }
}
