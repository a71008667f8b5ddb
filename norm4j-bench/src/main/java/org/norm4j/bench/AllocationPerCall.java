package org.norm4j.bench;

import java.lang.management.ManagementFactory;
import java.util.function.Supplier;
import org.norm4j.kernels.Parallel;

/**
 * Bytes a call allocates on the calling thread, one thread, after a warm-up long enough for the
 * JIT (until then the vector kernels box their vectors): batch norm's statistics kernel, then
 * {@link KernelCopyRatio}'s calls (batch norm's kernels, {@link BatchNormKernels}, and the modules
 * as the JMH benchmarks call them, {@link Inputs.Operands}, in a {@code Workspace} scope; the
 * rest of the family's on channels-first shapes). The figure JMH's gc profiler gives as
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
            BatchNormKernels k = new BatchNormKernels(shape);
            report(shape, "kernel.bn_stats", k::stats);
            for (KernelCopyRatio.Op op : KernelCopyRatio.batchNormOps(shape, k)) report(shape, op.name(), op.body());
            if (Inputs.channelsLast(shape)) continue;
            for (KernelCopyRatio.Op op : KernelCopyRatio.familyOps(shape)) report(shape, op.name(), op.body());
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
