package org.norm4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.norm4j.nn.Parameter;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.norm.Convention;
import org.norm4j.ops.CrossEntropy;
import org.norm4j.optim.SGD;
import org.norm4j.train.LeNet;

/** Array reuse: what is handed out when, zeros where promised, and training that does not notice. */
class WorkspaceTest {

    @Test
    void arraysComeBackOnlyWhenTheOutermostScopeCloses() {
        Workspace.clear();
        int n = Workspace.MIN_FLOATS;
        java.util.Set<float[]> lent = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        try (Workspace.Scope outer = Workspace.open()) {
            float[] first = Workspace.zeroed(n);
            java.util.Arrays.fill(first, 7f);
            lent.add(first);
            try (Workspace.Scope inner = Workspace.open()) {
                float[] second = Workspace.zeroed(n);
                assertTrue(lent.add(second), "a lent array is not handed out twice");
            }
            float[] third = Workspace.uninitialized(n);
            assertTrue(lent.add(third), "an inner scope's close recycles nothing");
        }
        try (Workspace.Scope next = Workspace.open()) {
            for (int i = 0; i < 3; i++) {
                float[] again = Workspace.zeroed(n);
                assertTrue(lent.contains(again), "the next step gets the arrays back");
                for (float v : again) assertEquals(0f, v, "zeroed means zero, also for a reused array");
            }
            assertFalse(lent.contains(Workspace.zeroed(n)), "a fourth is new");
        }
        assertFalse(lent.contains(Workspace.zeroed(n)), "outside a scope: fresh arrays");
        try (Workspace.Scope s = Workspace.open()) {
            Workspace.zeroed(n - 1)[0] = 1;
        }
        try (Workspace.Scope s = Workspace.open()) {
            assertEquals(0f, Workspace.zeroed(n - 1)[0], "small arrays are always fresh");
        }
        Workspace.clear();
    }

    @Test
    void trainingInScopesGivesTheSameBits() {
        float[] plain = train(false), scoped = train(true);
        assertArrayEquals(plain, scoped);
        Workspace.clear();
    }

    /** Four SGD steps of LeNet-BN on 64 random images; every parameter and buffer after them, then the eval logits. */
    private static float[] train(boolean scoped) {
        Sequential net = LeNet.build(LeNet.Norm.BATCH, Convention.PYTORCH, 3);
        net.train();
        SGD sgd = new SGD(net.parameters(), 1.0);
        Random r = new Random(8);
        float[] v = new float[64 * 28 * 28];
        for (int i = 0; i < v.length; i++) v[i] = r.nextFloat();
        Tensor x = Tensor.wrap(v, 64, 1, 28, 28);
        int[] labels = r.ints(64, 0, 10).toArray();
        for (int step = 0; step < 4; step++) {
            try (Workspace.Scope s = scoped ? Workspace.open() : null) {
                sgd.zeroGrad();
                CrossEntropy.forward(net.forward(x), labels).backward();
                sgd.step();
            }
        }
        List<Float> all = new ArrayList<>();
        for (Parameter p : net.parameters()) for (float f : p.data()) all.add(f);
        for (Tensor b : net.namedBuffers().values()) for (float f : b.data()) all.add(f);
        net.eval();
        for (float f : net.forward(x).toArray()) all.add(f);
        float[] out = new float[all.size()];
        for (int i = 0; i < out.length; i++) out[i] = all.get(i);
        return out;
    }
}
