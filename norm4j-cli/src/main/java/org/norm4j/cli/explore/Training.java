package org.norm4j.cli.explore;

import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import org.norm4j.data.DataLoader;
import org.norm4j.data.Dataset;
import org.norm4j.nn.Module;
import org.norm4j.optim.Optimizer;
import org.norm4j.train.PreciseBn;
import org.norm4j.train.Trainer;

/** Training and evaluation steps the explore subcommands share: an epoch behind a progress bar, test accuracy with and without precise BN. */
final class Training {
    private Training() {}

    /**
     * One epoch of {@link Trainer#trainEpoch} over {@code loader}'s order for {@code epoch}
     * (1-based), with a progress bar named {@code task} unless --no-progress; {@code also} hears
     * every batch too (after the optimizer step). Returns {mean training loss, training accuracy}.
     */
    static double[] epoch(Module model, DataLoader loader, Optimizer opt, int epoch, String task, ExploreOptions o, Trainer.Listener also) {
        try (ProgressBar bar = o.bar(task, loader.batchesPerEpoch())) {
            return Trainer.trainEpoch(model, loader, opt, epoch, new Trainer.Listener() {
                @Override
                public void batchDone(int e, int batch, int batches, double meanLoss, double imagesPerSecond) {
                    if (bar != null) {
                        bar.stepTo(batch);
                        bar.setExtraMessage(String.format(Locale.ROOT, "loss %.4f, %.0f img/s", meanLoss, imagesPerSecond));
                    }
                    if (also != null) also.batchDone(e, batch, batches, meanLoss, imagesPerSecond);
                }
            });
        }
    }

    /** Test accuracy in eval mode, with the running statistics as they are (what PyTorch's eval() uses). */
    static double accuracy(Module model, Dataset test) {
        return Trainer.accuracy(model, test, 1000);
    }

    /**
     * Test accuracy with every BN layer's statistics recomputed over the first {@code k} batches
     * of {@code loader}'s order for {@code epoch0} (0-based), weights frozen; the running
     * statistics are put back afterwards, so training goes on as if this had not happened.
     */
    static double preciseAccuracy(Module model, DataLoader loader, int epoch0, int k, Dataset test) {
        var saved = PreciseBn.snapshot(model);
        try {
            PreciseBn.recompute(model, loader, epoch0, k);
            return accuracy(model, test);
        } finally {
            PreciseBn.restore(saved);
        }
    }
}
