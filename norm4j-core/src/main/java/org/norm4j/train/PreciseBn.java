package org.norm4j.train;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.norm4j.autograd.Autograd;
import org.norm4j.data.DataLoader;
import org.norm4j.nn.Module;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.tensor.Tensor;

/**
 * Precise batch normalization: recompute every BN layer's population statistics as the cumulative
 * average over K training batches with the weights frozen (no gradients, batch statistics
 * normalizing, as in training). The plain running averages trail weights that still move — at
 * momentum 0.1 they cover the last 10–20 steps — and inference with them swings; the recomputed
 * statistics belong to the weights as they are. Works for any convention and stored form
 * (var, inv_std, log10 std): each layer folds the batches in with its own variance estimator.
 * The idea is the BN paper's population statistics, as detectron2/fvcore's {@code update_bn_stats}.
 */
public final class PreciseBn {
    private PreciseBn() {}

    /** Every BatchNorm's running state in {@code model}, copied. */
    public static Map<BatchNorm, BatchNorm.RunningState> snapshot(Module model) {
        Map<BatchNorm, BatchNorm.RunningState> s = new IdentityHashMap<>();
        for (BatchNorm bn : batchNorms(model)) s.put(bn, bn.runningState());
        return s;
    }

    public static void restore(Map<BatchNorm, BatchNorm.RunningState> snapshot) {
        snapshot.forEach(BatchNorm::restoreRunningState);
    }

    /**
     * Recomputes the population statistics over the first {@code k} of {@code batches}. On any
     * failure every layer's running statistics are restored before the exception propagates.
     * BN layers normalize with batch statistics while estimating whatever their mode; the module's
     * mode and switches are not touched, and numBatchesTracked is left as it was.
     *
     * @return the number of batches averaged (fewer than k if {@code batches} ran out)
     */
    public static int recompute(Module model, Iterable<Tensor> batches, int k) {
        if (k < 1) throw new IllegalArgumentException("precise BN: the number of batches must be at least 1, got " + k);
        List<BatchNorm> bns = batchNorms(model);
        Map<BatchNorm, BatchNorm.RunningState> before = snapshot(model);
        int used = 0;
        try (var g = Autograd.noGrad()) {
            for (BatchNorm bn : bns) bn.beginPopulationEstimate();
            for (Tensor x : batches) {
                if (used == k) break;
                model.forward(x);
                used++;
            }
            if (used == 0) throw new IllegalArgumentException("precise BN: no batches to recompute the statistics from");
        } catch (RuntimeException | Error e) {
            restore(before);
            throw e;
        } finally {
            for (BatchNorm bn : bns) bn.endPopulationEstimate();
        }
        return used;
    }

    /** Recomputes over the first {@code k} batches of {@code loader}'s order for {@code epoch} (0-based). */
    public static int recompute(Module model, DataLoader loader, int epoch, int k) {
        return recompute(model, () -> new Iterator<Tensor>() {
            private final Iterator<DataLoader.Batch> batches = loader.epoch(epoch).iterator();

            @Override
            public boolean hasNext() {
                return batches.hasNext();
            }

            @Override
            public Tensor next() {
                return batches.next().x();
            }
        }, k);
    }

    static List<BatchNorm> batchNorms(Module model) {
        List<BatchNorm> bns = new ArrayList<>();
        for (Module m : model.modules()) if (m instanceof BatchNorm bn && bn.runningMean() != null) bns.add(bn);
        return bns;
    }
}
