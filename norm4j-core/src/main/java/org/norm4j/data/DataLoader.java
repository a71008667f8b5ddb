package org.norm4j.data;

import java.util.Iterator;
import java.util.NoSuchElementException;
import org.norm4j.kernels.Parallel;
import org.norm4j.tensor.Rng;
import org.norm4j.tensor.TorchGenerator;
import org.norm4j.tensor.Tensor;

/**
 * Mini-batches over a {@link Dataset}, like PyTorch's {@code DataLoader(dataset, batch_size,
 * shuffle, drop_last=False)}.
 *
 * <p>Determinism: the order of epoch {@code e} depends only on {@code (seed, e)}: a Fisher–Yates
 * shuffle of {@code 0..N-1} driven by {@code new Rng(Rng.streamSeed(seed, SHUFFLE, e))}, a stream
 * unrelated to {@code new Rng(seed)} (the weights' initialization; until 0.1 seed 0's first epoch
 * reused it, as {@code seed * 1_000_003 + e} was 0 there). A run resumed at epoch
 * {@code e} therefore sees the batches it would have seen, and iterating an epoch twice gives the
 * same batches. Without shuffling the order is {@code 0..N-1}. {@link #torchShuffled} gives
 * PyTorch's order instead: the {@code torch.randperm(N)} of each epoch for a
 * {@code torch.manual_seed(seed)} run (still a function of the seed and the epoch).
 *
 * <p>The last batch of an epoch holds the remaining {@code N mod batchSize} items unless
 * {@code dropLast}, which skips it (as PyTorch does).
 *
 * <p>Memory: every {@link Batch} gets freshly allocated arrays (about 800 KB for 256 images of
 * 28x28), so a batch stays valid for as long as it is referenced, and may be kept or handed to
 * another thread. Buffer reuse would save little against the work of one training step and would
 * make every batch silently change under a caller that keeps it. A batch's images are copied on
 * {@link Parallel}'s threads, in tasks of about 100 KB fixed by the image size (32 Fashion-MNIST
 * images): the same batch on any thread count.
 */
public final class DataLoader {
    /** The purpose tag of the shuffle streams ({@link Rng#streamSeed}). */
    public static final long SHUFFLE = 0x5348_5546_464C_45L;   // "SHUFFLE"
    /** Floats per task of a batch's gather: 100 KB, 32 Fashion-MNIST images (a batch of 256: eight tasks). */
    static final int GATHER_TASK_FLOATS = 32 * 28 * 28;
    /**
     * One mini-batch: {@code x} is {@code [b, 1, H, W]}, {@code y} its {@code b} labels. Both own
     * their arrays.
     */
    public record Batch(Tensor x, int[] y) {
        public int size() {
            return y.length;
        }
    }

    private final Dataset data;
    private final int batchSize;
    private final boolean shuffle;
    private final long seed;
    private final boolean dropLast;
    /** PyTorch's shuffle: the draws its generator took before the first epoch; −1 for norm4j's streams. */
    private final long torchDrawsBefore;

    /** {@code dropLast = false}, as PyTorch's default. */
    public DataLoader(Dataset data, int batchSize, boolean shuffle, long seed) {
        this(data, batchSize, shuffle, seed, false);
    }

    public DataLoader(Dataset data, int batchSize, boolean shuffle, long seed, boolean dropLast) {
        this(data, batchSize, shuffle, seed, dropLast, -1);
    }

    /**
     * PyTorch's order for {@code torch.manual_seed(seed)}: epoch e is the {@code torch.randperm(N)}
     * PyTorch draws after {@code drawsBefore} draws (the model's initialization, e.g.
     * {@code TorchGenerator.draws()} after {@code LeNet.buildTorchSeeded}) and e earlier epochs'
     * permutations (N − 1 draws each), as {@code tools/d2l_lenet_pytorch.py} shuffles. The order of an
     * epoch still depends on (seed, drawsBefore, e) alone.
     */
    public static DataLoader torchShuffled(Dataset data, int batchSize, long seed, long drawsBefore) {
        if (drawsBefore < 0) {
            throw new IllegalArgumentException("DataLoader(" + data.name() + "): drawsBefore " + drawsBefore + ", expected at least 0");
        }
        return new DataLoader(data, batchSize, true, seed, false, drawsBefore);
    }

    private DataLoader(Dataset data, int batchSize, boolean shuffle, long seed, boolean dropLast, long torchDrawsBefore) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("DataLoader(" + data.name() + "): batchSize " + batchSize
                    + ", expected at least 1");
        }
        this.data = data;
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.seed = seed;
        this.dropLast = dropLast;
        this.torchDrawsBefore = torchDrawsBefore;
    }

    public Dataset dataset() {
        return data;
    }

    public int batchSize() {
        return batchSize;
    }

    /** Batches in every epoch: {@code ceil(N / batchSize)}, or {@code floor} with dropLast. */
    public int batchesPerEpoch() {
        int n = data.size();
        return dropLast ? n / batchSize : (int) (((long) n + batchSize - 1) / batchSize);   // long: n + batchSize overflows int
    }

    /** The item indices of epoch {@code epoch} in the order they are served (all N, dropLast or not). */
    public int[] order(int epoch) {
        checkEpoch(epoch);
        int n = data.size();
        if (shuffle && torchDrawsBefore >= 0) {
            TorchGenerator gen = new TorchGenerator(seed);
            gen.skip(torchDrawsBefore + (long) epoch * Math.max(0, n - 1));
            return gen.randperm(n);
        }
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        if (shuffle) {
            Rng rng = new Rng(Rng.streamSeed(seed, SHUFFLE, epoch));
            for (int i = n - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        return order;
    }

    /** The batches of epoch {@code epoch} (0-based); each iteration yields the same batches. */
    public Iterable<Batch> epoch(int epoch) {
        checkEpoch(epoch); // now, rather than at the first next()
        return () -> new BatchIterator(order(epoch));
    }

    private void checkEpoch(int epoch) {
        if (epoch < 0) {
            throw new IllegalArgumentException("DataLoader(" + data.name() + "): epoch " + epoch + ", expected at least 0");
        }
    }

    private final class BatchIterator implements Iterator<Batch> {
        private final int[] order;
        private final int batches = batchesPerEpoch();
        private int next;

        BatchIterator(int[] order) {
            this.order = order;
        }

        @Override
        public boolean hasNext() {
            return next < batches;
        }

        @Override
        public Batch next() {
            if (!hasNext()) throw new NoSuchElementException("DataLoader(" + data.name() + "): epoch has "
                    + batches + " batches");
            int from = next * batchSize;
            int b = Math.min(batchSize, order.length - from);
            int pixels = data.height() * data.width();
            float[] images = data.images();
            int[] labels = data.labels();
            float[] x = new float[b * pixels]; // [b, 1, H, W]
            int[] y = new int[b];
            // the images' rows lie anywhere in the data set (memory, not cache): two threads fetch
            // them faster than one; each copy is the same wherever it runs
            Parallel.forRange(b, Parallel.grain(pixels, GATHER_TASK_FLOATS), (k0, k1) -> {
                for (int k = k0; k < k1; k++) {
                    int item = order[from + k];
                    System.arraycopy(images, item * pixels, x, k * pixels, pixels);
                    y[k] = labels[item];
                }
            });
            next++;
            return new Batch(Tensor.wrap(x, b, 1, data.height(), data.width()), y);
        }
    }
}
