package org.norm4j.bench;

import java.util.concurrent.TimeUnit;
import org.norm4j.nn.norm.LayerNorm;
import org.norm4j.nn.norm.RMSNorm;
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
 * LayerNorm and RMSNorm through the public API, normalized over every axis but the first (so
 * {@code 256x6x24x24} normalizes rows of 3456, {@code 4096x768} rows of 768), elementwise affine on,
 * default eps. Forward under {@code noGrad}; forward + backward into a leaf input and the affine
 * parameters. Byte model: forward 2·N·4, forward+backward 5·N·4.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx8g"})
public class RowNormBench {
    @Param({"256x6x24x24", "256x16x8x8", "256x120", "256x84", "256x64x28x28", "4096x768"})
    public String shape;

    /** norm4j's kernel threads ({@link org.norm4j.kernels.Parallel}); 2 is the machine's cores. */
    @Param({"1", "2"})
    public int threads;

    private LayerNorm ln;
    private RMSNorm rms;
    private Inputs.Operands io;

    @Setup(Level.Trial)
    public void setup() {
        org.norm4j.kernels.Parallel.setThreads(threads);
        int[] d = Inputs.dims(shape);
        ln = new LayerNorm(Inputs.trailing(d));
        rms = new RMSNorm(Inputs.trailing(d));
        io = new Inputs.Operands(d);
    }

    @Benchmark
    public void layerNormForward(Blackhole bh) {
        io.forward(ln, bh);
    }

    @Benchmark
    public void layerNormForwardBackward(Blackhole bh) {
        io.forwardBackward(ln, bh);
    }

    @Benchmark
    public void rmsNormForward(Blackhole bh) {
        io.forward(rms, bh);
    }

    @Benchmark
    public void rmsNormForwardBackward(Blackhole bh) {
        io.forwardBackward(rms, bh);
    }
}
