package org.norm4j.bench;

import java.util.concurrent.TimeUnit;
import org.norm4j.nn.norm.GroupNorm;
import org.norm4j.nn.norm.InstanceNorm;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/**
 * GroupNorm (C/2 groups of 2 channels, affine) and InstanceNorm (PyTorch's defaults: no affine, no
 * running statistics) through the public API on channels-first images. Forward under
 * {@code noGrad}; forward + backward into a leaf input. Byte model: forward 2·N·4,
 * forward+backward 5·N·4.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx8g"})
public class GroupInstanceNormBench {
    @Param({"256x6x24x24", "256x16x8x8", "256x64x28x28"})
    public String shape;

    /** norm4j's kernel threads ({@link org.norm4j.kernels.Parallel}); 2 is the machine's cores. */
    @Param({"1", "2"})
    public int threads;

    private GroupNorm gn;
    private InstanceNorm in;
    private Inputs.Operands io;

    @Setup(Level.Trial)
    public void setup() {
        org.norm4j.kernels.Parallel.setThreads(threads);
        int[] d = Inputs.dims(shape);
        gn = new GroupNorm(d[1] / 2, d[1]);
        in = new InstanceNorm(d[1]);
        io = new Inputs.Operands(d);
    }

    @Benchmark
    public void groupNormForward(Blackhole bh) {
        io.forward(gn, bh);
    }

    @Benchmark
    public void groupNormForwardBackward(Blackhole bh) {
        io.forwardBackward(gn, bh);
    }

    @Benchmark
    public void instanceNormForward(Blackhole bh) {
        io.forward(in, bh);
    }

    @Benchmark
    public void instanceNormForwardBackward(Blackhole bh) {
        io.forwardBackward(in, bh);
    }
}
