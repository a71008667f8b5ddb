package org.norm4j.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.norm4j.nn.Parameter;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.norm.Convention;
import org.norm4j.ops.CrossEntropy;
import org.norm4j.optim.SGD;
import org.norm4j.tensor.Tensor;
import org.norm4j.tensor.Workspace;
import org.norm4j.train.LeNet;

/** A few SGD steps of LeNet-BN on random images, reduced to every number they leave behind, for bit-for-bit comparisons. */
public final class LeNetSteps {
    private LeNetSteps() {}

    /**
     * {@code steps} SGD steps (lr 1.0, batch 64, model seed {@code seed}), each in a
     * {@link Workspace} scope if {@code scoped}; then every parameter, every buffer and the logits
     * of a last training-mode forward, in one array.
     */
    public static float[] run(long seed, int steps, boolean scoped) {
        Sequential net = LeNet.build(LeNet.Norm.BATCH, Convention.PYTORCH, seed);
        net.train();
        SGD sgd = new SGD(net.parameters(), 1.0);
        Random r = new Random(3);
        float[] v = new float[64 * 28 * 28];
        for (int i = 0; i < v.length; i++) v[i] = r.nextFloat();
        Tensor x = Tensor.wrap(v, 64, 1, 28, 28);
        int[] labels = r.ints(64, 0, 10).toArray();
        for (int step = 0; step < steps; step++) {
            try (Workspace.Scope s = scoped ? Workspace.open() : null) {
                sgd.zeroGrad();
                CrossEntropy.forward(net.forward(x), labels).backward();
                sgd.step();
            }
        }
        List<Float> all = new ArrayList<>();
        for (float f : net.forward(x).toArray()) all.add(f);
        for (Parameter p : net.parameters()) for (float f : p.data()) all.add(f);
        for (Tensor b : net.namedBuffers().values()) for (float f : b.data()) all.add(f);
        float[] out = new float[all.size()];
        for (int i = 0; i < out.length; i++) out[i] = all.get(i);
        return out;
    }
}
