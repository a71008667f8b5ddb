package org.norm4j.bench;

import java.util.concurrent.TimeUnit;
import org.norm4j.autograd.Autograd;
import org.norm4j.nn.norm.BatchNorm;
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
 * BatchNorm through the public API, PyTorch convention: training forward (batch statistics and the
 * running-average update, nothing recorded), inference forward (running statistics), and training
 * forward + backward ({@code y.backward(dy)} into a leaf input, gamma and beta). Each call runs
 * in a {@code Workspace} scope as a training step does (its output and gradients reuse the previous
 * call's arrays); the gradients are cleared before each call, as the PyTorch side sets them to
 * None, so the leaf input's gradient is assigned into the storage kept from the first call. On 1
 * and 2 of norm4j's threads.
 *
 * <p>Byte model (docs/benchmarks.md): forward 2·N·4 (read x, write y), forward+backward 5·N·4
 * (and read dy, read x, write dx).
 */
@SuppressWarnings("try")   // the noGrad() scope is used for its effect only
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx8g"})
public class BatchNormBench {
    @Param({"256x6x24x24", "256x16x8x8", "256x120", "256x84", "256x64x28x28", "256x28x28x64/cl", "4096x768"})
    public String shape;

    /** norm4j's kernel threads ({@link org.norm4j.kernels.Parallel}); 2 is the machine's cores. */
    @Param({"1", "2"})
    public int threads;

    private BatchNorm train;
    private BatchNorm eval;
    private Inputs.Operands io;

    @Setup(Level.Trial)
    public void setup() {
        org.norm4j.kernels.Parallel.setThreads(threads);
        int[] d = Inputs.dims(shape);
        train = Inputs.batchNorm(shape);
        eval = Inputs.batchNorm(shape);
        try (var g = Autograd.noGrad()) {
            eval.forward(Inputs.tensor(d, 3, 0.5f));   // running statistics that are not the initial ones
        }
        eval.eval();
        io = new Inputs.Operands(d);
    }

    @Benchmark
    public void trainForward(Blackhole bh) {
        io.forward(train, bh);
    }

    @Benchmark
    public void evalForward(Blackhole bh) {
        io.forward(eval, bh);
    }

    @Benchmark
    public void trainForwardBackward(Blackhole bh) {
        io.forwardBackward(train, bh);
    }
}
