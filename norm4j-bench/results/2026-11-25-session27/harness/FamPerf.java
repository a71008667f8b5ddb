package org.norm4j.bench;
import org.norm4j.kernels.Parallel;
public class FamPerf {
  public static void main(String[] a) {
    Parallel.setThreads(Integer.parseInt(a[0]));
    String shape = a[1], name = a[2]; double secs = Double.parseDouble(a[3]);
    KernelCopyRatio.Op op = null;
    for (KernelCopyRatio.Op o : KernelCopyRatio.familyOps(shape)) if (o.name().equals(name)) op = o;
    long end = System.nanoTime() + (long)(secs*1e9); int calls=0; long t0=System.nanoTime();
    double[] ts = new double[100000];
    while (System.nanoTime() < end) { long s=System.nanoTime(); op.body().get(); ts[calls++]=(System.nanoTime()-s)/1e6; }
    java.util.Arrays.sort(ts,0,calls);
    System.out.printf("%s %s calls %d median %.3f ms%n", shape, name, calls, ts[calls/2]);
  }
}
