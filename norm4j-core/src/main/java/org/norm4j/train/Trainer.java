package org.norm4j.train;

import org.norm4j.autograd.Autograd;
import org.norm4j.data.DataLoader;
import org.norm4j.data.Dataset;
import org.norm4j.nn.Module;
import org.norm4j.ops.CrossEntropy;
import org.norm4j.optim.Optimizer;
import org.norm4j.tensor.Tensor;

/**
 * The training loop for classifiers with a cross-entropy loss, d2l's {@code train_ch6}: per batch
 * zeroGrad, forward, loss, backward, step; per epoch the mean training loss, training accuracy
 * (both over the batches as they were trained) and test accuracy in eval mode.
 */
public final class Trainer {
    private Trainer() {}

    /** One epoch's figures, the row of metrics.csv. */
    public record EpochResult(int epoch, double trainLoss, double trainAcc, double testAcc, double seconds) {}

    /** Progress callbacks; the default methods do nothing. */
    public interface Listener {
        default void batchDone(int epoch, int batch, int batches, double meanLoss, double imagesPerSecond) {}
    }

    /** Training stopped because the loss stopped being a number. */
    public static final class DivergedException extends IllegalStateException {
        public DivergedException(String message) {
            super(message);
        }
    }

    /**
     * Trains one epoch (1-based {@code epoch}, for messages) over {@code loader}'s order for that
     * epoch. A non-finite loss stops training with a {@link DivergedException} naming the epoch and
     * batch, before the optimizer step, so the parameters stay those of the last good step.
     */
    public static double[] trainEpoch(Module model, DataLoader loader, Optimizer optimizer, int epoch, Listener listener) {
        model.train();
        double lossSum = 0;
        long correct = 0, seen = 0;
        int batches = loader.batchesPerEpoch(), b = 0;
        long start = System.nanoTime();
        for (DataLoader.Batch batch : loader.epoch(epoch - 1)) {
            optimizer.zeroGrad();
            Tensor logits = model.forward(batch.x());
            Tensor loss = CrossEntropy.forward(logits, batch.y());
            double l = loss.item();
            if (!Double.isFinite(l)) {
                throw new DivergedException("training diverged: the loss became " + l + " at epoch " + epoch + ", batch " + (b + 1)
                        + " of " + batches + "; try a lower learning rate (--lr)");
            }
            loss.backward();
            optimizer.step();
            int n = batch.y().length;
            lossSum += l * n;
            correct += countCorrect(logits, batch.y());
            seen += n;
            b++;
            double secs = (System.nanoTime() - start) / 1e9;
            listener.batchDone(epoch, b, batches, lossSum / seen, seen / Math.max(secs, 1e-9));
        }
        return new double[] {lossSum / seen, (double) correct / seen};
    }

    /** Accuracy in eval mode without gradients; the module's mode is restored afterwards. */
    public static double accuracy(Module model, Dataset data, int batchSize) {
        int[][] cm = confusion(model, data, batchSize, data.classes().size());
        long correct = 0, total = 0;
        for (int i = 0; i < cm.length; i++) {
            for (int j = 0; j < cm.length; j++) {
                total += cm[i][j];
                if (i == j) correct += cm[i][j];
            }
        }
        return (double) correct / total;
    }

    /** Confusion matrix [true class][predicted class], in eval mode without gradients. */
    public static int[][] confusion(Module model, Dataset data, int batchSize, int classes) {
        boolean wasTraining = model.isTraining();
        model.eval();
        int[][] cm = new int[classes][classes];
        try (var g = Autograd.noGrad()) {
            DataLoader loader = new DataLoader(data, batchSize, false, 0);
            for (DataLoader.Batch batch : loader.epoch(0)) {
                Tensor logits = model.forward(batch.x());
                int[] pred = argmax(logits);
                for (int i = 0; i < pred.length; i++) cm[batch.y()[i]][pred[i]]++;
            }
        } finally {
            if (wasTraining) model.train();
        }
        return cm;
    }

    static int countCorrect(Tensor logits, int[] labels) {
        int[] pred = argmax(logits);
        int c = 0;
        for (int i = 0; i < pred.length; i++) if (pred[i] == labels[i]) c++;
        return c;
    }

    static int[] argmax(Tensor logits) {
        int n = logits.dim(0), k = logits.dim(1);
        float[] z = logits.data();
        int[] out = new int[n];
        for (int r = 0; r < n; r++) {
            int best = 0;
            for (int c = 1; c < k; c++) if (z[r * k + c] > z[r * k + best]) best = c;
            out[r] = best;
        }
        return out;
    }
}
