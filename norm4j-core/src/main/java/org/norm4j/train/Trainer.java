package org.norm4j.train;

import java.util.Map;
import org.norm4j.autograd.Autograd;
import org.norm4j.data.DataLoader;
import org.norm4j.data.Dataset;
import org.norm4j.nn.Module;
import org.norm4j.nn.Parameter;
import org.norm4j.nn.Sequential;
import org.norm4j.ops.CrossEntropy;
import org.norm4j.optim.Optimizer;
import org.norm4j.tensor.Tensor;
import org.norm4j.tensor.Workspace;

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
     * batch, before the optimizer step, so the parameters stay those of the last good step. A step
     * that leaves a parameter non-finite (a finite loss whose update overflows float) stops it
     * too, so that an epoch never ends with non-finite weights for its caller to checkpoint.
     */
    public static double[] trainEpoch(Module model, DataLoader loader, Optimizer optimizer, int epoch, Listener listener) {
        model.train();
        double lossSum = 0;
        long correct = 0, seen = 0;
        int batches = loader.batchesPerEpoch(), b = 0;
        java.util.List<Parameter> params = model.parameters();   // once: the names are built only for an error
        long start = System.nanoTime();
        for (DataLoader.Batch batch : loader.epoch(epoch - 1)) {
            double l;
            int right;
            // the step's activations and gradients are recycled for the next step (Workspace): nothing
            // made inside the scope is used after it
            try (Workspace.Scope scope = Workspace.open()) {
                optimizer.zeroGrad();
                Tensor logits = model.forward(batch.x());
                Tensor loss = CrossEntropy.forward(logits, batch.y());
                l = loss.item();
                if (!Double.isFinite(l)) {
                    throw new DivergedException("training diverged: the loss became " + l + " at epoch " + epoch + ", batch " + (b + 1)
                            + " of " + batches + "; try a lower learning rate (--lr)");
                }
                loss.backward();
                optimizer.step();
                right = countCorrect(logits, batch.y());
            }
            String bad = nonFinite(params, model);
            if (bad != null) {
                throw new DivergedException("training diverged: the update made " + bad + " non-finite at epoch " + epoch + ", batch "
                        + (b + 1) + " of " + batches + " (loss " + l + "); try a lower learning rate (--lr)");
            }
            int n = batch.y().length;
            lossSum += l * n;
            correct += right;
            seen += n;
            b++;
            double secs = (System.nanoTime() - start) / 1e9;
            listener.batchDone(epoch, b, batches, lossSum / seen, seen / Math.max(secs, 1e-9));
        }
        return new double[] {lossSum / seen, (double) correct / seen};
    }

    /**
     * A quick test that every value of the parameters is finite: each parameter's {@link
     * org.norm4j.kernels.Loops#sum} (2 µs for LeNet's 44 878 values, in a harness). A NaN or an
     * infinity makes the sum NaN or infinite, so true means all finite; false may also come from
     * finite values whose float partial sums overflow, so a false is checked value by value
     * ({@link #firstNonFinite}).
     */
    static boolean allFinite(java.util.List<Parameter> params) {
        org.norm4j.kernels.Loops l = org.norm4j.kernels.Loops.get();
        for (Parameter p : params) {
            float[] v = p.data();
            if (!Double.isFinite(l.sum(v, 0, v.length))) return false;
        }
        return true;
    }

    /** {@link #firstNonFinite}'s answer, asked only where {@link #allFinite} says false: what the step checks. */
    static String nonFinite(java.util.List<Parameter> params, Module model) {
        return allFinite(params) ? null : firstNonFinite(model);
    }

    /** "parameter 15.weight (Infinity at element 3)" for the first non-finite parameter value, or null. */
    static String firstNonFinite(Module model) {
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            float[] v = e.getValue().data();
            for (int i = 0; i < v.length; i++) {
                if (!Float.isFinite(v[i])) return "parameter " + e.getKey() + " (" + v[i] + " at element " + i + ")";
            }
        }
        return null;
    }

    /**
     * About how many bytes one training step over {@code batch} items of shape {@code itemShape}
     * keeps live at its peak: the input, every layer's output (the tape holds them all until
     * backward) and four buffers the size of the largest output (gradients and the backward's
     * temporaries; backward frees each gradient once it has passed it on). For LeNet that is 120 KB
     * per 28x28 image; the largest batch that trained in a 512 MB heap measured 122 KB per image.
     * Measured by running two items through the layers of a {@link Sequential} in eval mode
     * without gradients (the module's mode and state are left as they were); another module
     * counts its input and output only. Parameters, optimizer state and the data set are not
     * included.
     */
    public static long stepBytes(Module model, int[] itemShape, long batch) {
        int[] shape = new int[itemShape.length + 1];
        shape[0] = 2;   // two, not one: a batch norm without running statistics needs 2 values per channel
        System.arraycopy(itemShape, 0, shape, 1, itemShape.length);
        boolean wasTraining = model.isTraining();
        long floats = 0, largest = 0;
        model.eval();
        try (var g = Autograd.noGrad()) {
            Tensor x = Tensor.zeros(shape);
            floats += x.size();
            Iterable<Module> layers = model instanceof Sequential s ? s.layers() : java.util.List.of(model);
            for (Module m : layers) {
                x = m.forward(x);
                floats += x.size();
                largest = Math.max(largest, x.size());
            }
        } finally {
            if (wasTraining) model.train();
        }
        return (floats + 4 * largest) / 2 * Float.BYTES * batch;
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
                try (Workspace.Scope scope = Workspace.open()) {   // the batch's activations serve the next batch
                    int[] pred = argmax(model.forward(batch.x()));
                    for (int i = 0; i < pred.length; i++) cm[batch.y()[i]][pred[i]]++;
                }
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
