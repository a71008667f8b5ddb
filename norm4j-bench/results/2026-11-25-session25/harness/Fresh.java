import java.util.*;
public class Fresh {
    static double sink;
    public static void main(String[] a) {
        int kb = Integer.parseInt(a[0]);
        StringBuilder sb = new StringBuilder();
        for (int round = 0; round < 40; round++) {
            long t0 = System.nanoTime();
            for (int k = 0; k < 10; k++) { double[] d = new double[kb * 128]; d[k] = k; sink += d[d.length / 2]; }
            sb.append(String.format("%.2f ", (System.nanoTime() - t0) / 1e7));
        }
        System.out.println(sb);
    }
}
