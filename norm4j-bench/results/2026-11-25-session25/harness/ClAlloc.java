import org.norm4j.kernels.*;
import java.util.*;
public class ClAlloc {
    public static void main(String[] a) {
        Parallel.setThreads(1);
        var mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().getId();
        int C = 64, R = 256 * 784, n = R * C;
        float[] x = new float[n];
        Random rnd = new Random(1);
        for (int i = 0; i < n; i++) x[i] = 3 + rnd.nextFloat();
        double[] mean = new double[C], m2 = new double[C];
        StringBuilder sb = new StringBuilder();
        for (int round = 0; round < 30; round++) {
            long b0 = mx.getThreadAllocatedBytes(id), t0 = System.nanoTime();
            for (int k = 0; k < 10; k++) Normalization.collectStatsChannels(mean, m2, x, 0, R, C, 1);
            long t1 = System.nanoTime(), b1 = mx.getThreadAllocatedBytes(id);
            sb.append(String.format("%.1fms/%.0fKB ", (t1 - t0) / 1e7, (b1 - b0) / 10240.0));
        }
        System.out.println(sb);
    }
}
