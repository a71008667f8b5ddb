package org.norm4j.nn.norm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.norm4j.autograd.Autograd;
import org.norm4j.nn.Module;
import org.norm4j.tensor.Tensor;

/** Each caller mistake is a clear error naming the layer, expected and actual; no state changes. */
class BadInputTest {

    /** Every parameter and buffer value, and the batch counter, of a module. */
    static Map<String, String> snapshot(Module m) {
        Map<String, String> s = new LinkedHashMap<>();
        m.namedParameters().forEach((k, v) -> s.put(k, java.util.Arrays.toString(v.toArray())));
        m.namedBuffers().forEach((k, v) -> s.put(k, java.util.Arrays.toString(v.toArray())));
        if (m instanceof BatchNorm bn) s.put("numBatchesTracked", String.valueOf(bn.numBatchesTracked()));
        return s;
    }

    static void refused(Module m, Class<? extends Throwable> type, Executable call, String... mustMention) {
        Map<String, String> before = snapshot(m);
        Throwable e = assertThrows(type, call);
        for (String s : mustMention) {
            assertTrue(e.getMessage().contains(s), "message should mention '" + s + "': " + e.getMessage());
        }
        assertEquals(before, snapshot(m), "state unchanged after: " + e.getMessage());
    }

    static BatchNorm trainedBn() {
        BatchNorm bn = BatchNorm.of(Convention.PYTORCH, 3);
        bn.forward(Tensor.of(new float[] {1, 2, 3, 4, 5, 7, 0, 1, 1}, 3, 3));
        return bn;
    }

    @Test
    void batchNormWrongFeatureCount() {
        BatchNorm bn = trainedBn();
        refused(bn, IllegalArgumentException.class, () -> bn.forward(Tensor.zeros(8, 32, 5, 5)),
                "BatchNorm(numFeatures=3", "32 features at axis 1", "expected 3", "[8, 32, 5, 5]");
    }

    @Test
    void batchNormWrongRank() {
        BatchNorm bn = trainedBn();
        refused(bn, IllegalArgumentException.class, () -> bn.forward(Tensor.zeros(3)), "BatchNorm", "rank 2 to 5", "[3]");
        BatchNorm k = BatchNorm.builder(Convention.PYTORCH, 3).axis(3).build();
        refused(k, IllegalArgumentException.class, () -> k.forward(Tensor.zeros(2, 3)), "axis 3", "[2, 3]");
    }

    @Test
    void batchNormOneValuePerChannelInTraining() {
        BatchNorm bn = trainedBn();
        refused(bn, IllegalArgumentException.class, () -> bn.forward(Tensor.zeros(1, 3, 1, 1)),
                "BatchNorm", "more than 1 value per channel", "[1, 3, 1, 1]");
        bn.eval();
        bn.forward(Tensor.zeros(1, 3));   // inference with one sample is fine
    }

    @Test
    void copyFromWithWrongSize() {
        BatchNorm bn = trainedBn();
        refused(bn, IllegalArgumentException.class, () -> bn.weight().copyFrom(new float[4]),
                "BatchNorm(numFeatures=3, convention=PYTORCH).weight", "4 values", "expected 3");
        refused(bn, IllegalArgumentException.class, () -> bn.runningVar().copyFrom(Tensor.zeros(3, 1)),
                "runningVar", "[3, 1]", "expected [3]");
    }

    @Test
    void nonFiniteStatisticsWhenAskedToCheck() {
        BatchNorm bn = BatchNorm.builder(Convention.PYTORCH, 2).checkFinite(true).build();
        bn.forward(Tensor.of(new float[] {1, 2, 3, 4}, 2, 2));
        refused(bn, IllegalArgumentException.class, () -> bn.forward(Tensor.of(new float[] {1, Float.NaN, 3, 4}, 2, 2)),
                "non-finite", "feature 1");
    }

    @Test
    void inPlaceOnlyForInference() {
        BatchNorm bn = BatchNorm.builder(Convention.PUZZLELIB, 2).inplace(true).build();
        refused(bn, IllegalStateException.class, () -> bn.forward(Tensor.zeros(2, 2)), "in-place", "inference");
        bn.eval();
        refused(bn, IllegalStateException.class, () -> bn.forward(Tensor.zeros(2, 2)), "Autograd.noGrad()");
        try (var g = Autograd.noGrad()) {
            bn.forward(Tensor.zeros(2, 2));
        }
    }

    @Test
    void familyShapeErrors() {
        LayerNorm ln = new LayerNorm(4, 5);
        refused(ln, IllegalArgumentException.class, () -> ln.forward(Tensor.zeros(2, 5, 4)), "LayerNorm", "[4, 5]", "[2, 5, 4]");
        GroupNorm gn = new GroupNorm(2, 4);
        refused(gn, IllegalArgumentException.class, () -> gn.forward(Tensor.zeros(2, 6, 3)), "GroupNorm", "6 channels", "expected 4");
        InstanceNorm in = new InstanceNorm(3, 1e-5, 0.1, true, true);
        refused(in, IllegalArgumentException.class, () -> in.forward(Tensor.zeros(2, 3)), "more than 1 spatial element");
        refused(in, IllegalArgumentException.class, () -> in.forward(Tensor.zeros(2, 4, 5)), "4 channels", "expected 3");
        RMSNorm rms = new RMSNorm(8);
        refused(rms, IllegalArgumentException.class, () -> rms.forward(Tensor.zeros(8)), "RMSNorm", "[8]");
        assertThrows(IllegalArgumentException.class, () -> new GroupNorm(3, 4), "4 channels in 3 groups");
    }

    @Test
    void builderRejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> BatchNorm.builder(Convention.PYTORCH, 0));
        assertThrows(IllegalArgumentException.class, () -> BatchNorm.builder(Convention.PYTORCH, 3).eps(-1));
        assertThrows(IllegalArgumentException.class, () -> BatchNorm.builder(Convention.PYTORCH, 3).momentum(1.5));
        assertThrows(IllegalArgumentException.class, () -> BatchNorm.builder(Convention.PYTORCH, 3).axis(7));
    }
}
