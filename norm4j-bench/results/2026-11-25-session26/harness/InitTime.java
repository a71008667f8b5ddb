public class InitTime {
    public static void main(String[] a) throws Exception {
        long t0 = System.nanoTime();
        Class.forName("org.norm4j.kernels.vector.VectorLoops").getField("INSTANCE").get(null);
        System.out.printf("VectorLoops init %.1f ms, uptime %d%n", (System.nanoTime() - t0) / 1e6, java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime());
    }
}
