package org.norm4j.bench;

import java.lang.management.ManagementFactory;
import java.util.function.Supplier;
import org.norm4j.kernels.Parallel;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.nn.norm.GroupNorm;
import org.norm4j.nn.norm.InstanceNorm;
import org.norm4j.nn.norm.LayerNorm;
import org.norm4j.nn.norm.RMSNorm;

/**
 * Bytes a call allocates on the calling thread, one thread, after a warm-up long enough for the
 * JIT (until then the vector kernels box their vectors): batch norm's kernels
 * ({@link BatchNormKernels}) and the modules as the JMH benchmarks call them
 * ({@link Inputs.Operands}, in a {@code Workspace} scope). The figure JMH's gc profiler gives as
 * gc.alloc.rate.norm, without a fork per row. Run as {@code java --add-modules
 * jdk.incubator.vector -Xmx8g -cp norm4j-bench/target/benchmarks.jar
 * org.norm4j.bench.AllocationPerCall 256x28x28x64/cl 4096x768 …}.
 */
public final class AllocationPerCall {
    private AllocationPerCall() {}

    private static final com.sun.management.ThreadMXBean MX = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    public static void main(String[] args) {
        Parallel.setThreads(1);   // every task on this thread, so its counter sees them
        for (String shape : args) {
            int[] d = Inputs.dims(shape);
            BatchNormKernels k = new BatchNormKernels(shape);
            Inputs.Operands io = new Inputs.Operands(d);
            BatchNorm bn = Inputs.batchNorm(shape);
            report(shape, "kernel.bn_stats", k::stats);
            report(shape, "kernel.bn_train_fwd", k::trainForward);
            report(shape, "kernel.bn_bwd", k::backward);
            report(shape, "bn.train_fwd", () -> io.forward(bn));
            report(shape, "bn.train_fwd_bwd", () -> io.forwardBackward(bn));
            if (Inputs.channelsLast(shape)) continue;
            LayerNorm ln = new LayerNorm(Inputs.trailing(d));
            RMSNorm rms = new RMSNorm(Inputs.trailing(d));
            report(shape, "ln.fwd", () -> io.forward(ln));
            report(shape, "ln.fwd_bwd", () -> io.forwardBackward(ln));
            report(shape, "rms.fwd", () -> io.forward(rms));
            report(shape, "rms.fwd_bwd", () -> io.forwardBackward(rms));
            if (d.length != 4) continue;
            GroupNorm gn = new GroupNorm(d[1] / 2, d[1]);
            InstanceNorm in = new InstanceNorm(d[1]);
            report(shape, "gn.fwd", () -> io.forward(gn));
            report(shape, "gn.fwd_bwd", () -> io.forwardBackward(gn));
            report(shape, "in.fwd", () -> io.forward(in));
            report(shape, "in.fwd_bwd", () -> io.forwardBackward(in));
        }
    }

    /** Warm-up of at least 200 calls and 2 s, then the mean of 20 calls' allocated bytes. */
    private static void report(String shape, String op, Supplier<Object> call) {
        long until = System.nanoTime() + 2_000_000_000L;
        for (int i = 0; i < 200 || System.nanoTime() < until; i++) call.get();
        long id = Thread.currentThread().getId(), before = MX.getThreadAllocatedBytes(id);
        int calls = 20;
        for (int i = 0; i < calls; i++) call.get();
        double kb = (MX.getThreadAllocatedBytes(id) - before) / 1024.0 / calls;
        System.out.printf("%-18s %-20s %10.1f KB/call%n", shape, op, kb);
    }
}
