package org.norm4j.nn.fuse;

import org.norm4j.nn.Conv2d;
import org.norm4j.nn.Linear;
import org.norm4j.nn.Module;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.nn.norm.Convention;
import org.norm4j.tensor.Rng;

/**
 * Lasagne's {@code batch_norm(layer)}: the layer loses its bias (BN's beta replaces it), its
 * nonlinearity moves after a new BatchNorm, so the block computes {@code act(BN(W x))} instead of
 * {@code BN(act(W x + b))} — the placement that folds for inference.
 */
public final class BatchNormHelper {
    private BatchNormHelper() {}

    /**
     * @param layer      a Linear or Conv2d (its weights are copied; the original is untouched)
     * @param activation the nonlinearity to apply after the BN, or null for none
     */
    public static Sequential batchNorm(Module layer, Module activation, Convention convention) {
        Module noBias;
        int features;
        if (layer instanceof Linear l) {
            Linear n = new Linear(l.inFeatures(), l.outFeatures(), false, new Rng(0));
            n.weight().copyFrom(l.weight());
            noBias = n;
            features = l.outFeatures();
        } else if (layer instanceof Conv2d c) {
            int[] ws = c.weight().shape();
            Conv2d n = new Conv2d(ws[1] * c.geometry().groups(), ws[0], ws[2], ws[3], c.geometry(), false, new Rng(0));
            n.weight().copyFrom(c.weight());
            noBias = n;
            features = c.outChannels();
        } else {
            throw new IllegalArgumentException("batchNorm(layer): expected a Linear or Conv2d, got " + layer.describe());
        }
        BatchNorm bn = BatchNorm.builder(convention, features).axis(1).build();
        return activation == null ? new Sequential(noBias, bn) : new Sequential(noBias, bn, activation);
    }
}
