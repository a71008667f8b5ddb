package org.norm4j.nn.norm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.norm4j.autograd.Autograd;
import org.norm4j.nn.Sequential;
import org.norm4j.ops.CrossEntropy;
import org.norm4j.optim.SGD;
import org.norm4j.tensor.Tensor;
import org.norm4j.testing.Check;
import org.norm4j.train.LeNet;

/**
 * Threads: eval-mode forwards of one model from 8 threads at once give, bit for bit, what one
 * thread gives, and change no state; a training-mode batch norm forward while another thread runs
 * one is refused with an IllegalStateException that changes nothing, and the updates that were
 * accepted are all there (none lost to a race).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ConcurrencyTest {
    static final int THREADS = 8;

    /** Runs {@code perThread(t)} on THREADS threads released together; returns their results in thread order. */
    static <T> List<T> together(int threads, java.util.function.IntFunction<T> perThread) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CyclicBarrier start = new CyclicBarrier(threads);
            List<Future<T>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                futures.add(pool.submit(() -> {
                    start.await();
                    return perThread.apply(id);
                }));
            }
            List<T> out = new ArrayList<>();
            for (Future<T> f : futures) out.add(f.get(100, TimeUnit.SECONDS));
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    static Tensor images(Random rnd, int n) {
        float[] v = new float[n * 28 * 28];
        for (int i = 0; i < v.length; i++) v[i] = rnd.nextFloat();
        return Tensor.of(v, n, 1, 28, 28);
    }

    /** Bitwise equality, reporting the first differing element. */
    static void sameBits(String label, float[] want, float[] got) {
        assertEquals(want.length, got.length, label + " length");
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
                throw new AssertionError(label + ": element " + i + " is " + got[i] + ", one thread gave " + want[i]);
            }
        }
    }

    @Test
    void evalForwardOfLeNetFromEightThreadsEqualsOneThread() throws Exception {
        Sequential model = LeNet.build(LeNet.Norm.BATCH, Convention.PYTORCH, 11);
        Random rnd = new Random(5);
        SGD opt = new SGD(model.parameters(), 0.5);
        for (int step = 0; step < 3; step++) {   // running statistics and weights away from their initial values
            int[] labels = new int[16];
            for (int i = 0; i < labels.length; i++) labels[i] = rnd.nextInt(10);
            opt.zeroGrad();
            CrossEntropy.forward(model.forward(images(rnd, 16)), labels).backward();
            opt.step();
        }
        model.eval();
        int perThread = 4;
        Tensor[][] inputs = new Tensor[THREADS][perThread];
        float[][][] want = new float[THREADS][perThread][];
        for (int t = 0; t < THREADS; t++) {
            for (int k = 0; k < perThread; k++) {
                inputs[t][k] = images(rnd, 1 + rnd.nextInt(40));
                want[t][k] = model.forward(inputs[t][k]).toArray();   // one thread, gradients recorded
            }
        }
        Map<String, String> before = BadInputTest.snapshot(model);
        List<float[][]> got = together(THREADS, t -> {
            float[][] out = new float[2 * perThread][];
            for (int k = 0; k < perThread; k++) {
                out[k] = model.forward(inputs[t][k]).toArray();
                try (var g = Autograd.noGrad()) {
                    out[perThread + k] = model.forward(inputs[t][k]).toArray();
                }
            }
            return out;
        });
        for (int t = 0; t < THREADS; t++) {
            for (int k = 0; k < perThread; k++) {
                sameBits("thread " + t + " batch " + k, want[t][k], got.get(t)[k]);
                sameBits("thread " + t + " batch " + k + " without gradients", want[t][k], got.get(t)[perThread + k]);
            }
        }
        assertEquals(before, BadInputTest.snapshot(model), "eval-mode forwards change no parameter or buffer");
    }

    @Test
    void evalForwardOfOneBatchNormFromEightThreadsEqualsOneThread() throws Exception {
        Random rnd = new Random(8);
        for (Convention conv : Convention.values()) {
            int c = 5;
            BatchNorm bn = BatchNorm.of(conv, c);
            for (int step = 0; step < 3; step++) {
                Tensor x = Tensor.of(NormPropertyTest.gaussian(rnd, 6 * c * 7), conv.axis() == 1 ? new int[] {6, c, 7} : new int[] {6, 7, c})
                        .requiresGrad(true);
                bn.forward(x).backward(Tensor.full(1f, x.shape()));   // DL4J updates in backward
            }
            bn.eval();
            Tensor[] inputs = new Tensor[THREADS];
            float[][] want = new float[THREADS][];
            for (int t = 0; t < THREADS; t++) {
                int n = 1 + rnd.nextInt(300);
                inputs[t] = Tensor.of(NormPropertyTest.gaussian(rnd, n * c), n, c);   // rank 2: the feature axis is 1 = -1
                want[t] = bn.forward(inputs[t]).toArray();
            }
            Map<String, String> before = BadInputTest.snapshot(bn);
            List<float[][]> got = together(THREADS, t -> {
                float[][] out = new float[50][];
                for (int k = 0; k < out.length; k++) out[k] = bn.forward(inputs[t]).toArray();
                return out;
            });
            for (int t = 0; t < THREADS; t++) {
                for (float[] o : got.get(t)) sameBits(conv + " thread " + t, want[t], o);
            }
            assertEquals(before, BadInputTest.snapshot(bn), conv + ": eval-mode forwards change no state");
        }
    }

    /** A tensor whose first data() read (the statistics, inside the forward) waits for a signal. */
    static final class HeldTensor extends Tensor {
        final CountDownLatch reading = new CountDownLatch(1), release = new CountDownLatch(1);

        HeldTensor(float[] data, int... shape) {
            super(data, shape);
        }

        @Override
        public float[] data() {
            if (reading.getCount() > 0) {
                reading.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return super.data();
        }
    }

    @Test
    void trainingForwardWhileAnotherThreadTrainsIsRefusedAndChangesNothing() throws Exception {
        BatchNorm bn = BatchNorm.of(Convention.PYTORCH, 3);
        bn.forward(Tensor.of(new float[] {1, 2, 3, 4, 5, 7, 0, 1, 1}, 3, 3));
        HeldTensor held = new HeldTensor(new float[] {2, 0, 1, 5, 1, 1}, 2, 3);
        ExecutorService other = Executors.newSingleThreadExecutor();
        try {
            Future<Tensor> first = other.submit(() -> bn.forward(held));
            assertTrue(held.reading.await(30, TimeUnit.SECONDS), "the other thread is inside its training forward");
            BadInputTest.refused(bn, IllegalStateException.class, () -> bn.forward(Tensor.of(new float[] {1, 1, 1, 2, 2, 2}, 2, 3)),
                    "BatchNorm(numFeatures=3, convention=PYTORCH) is being trained from another thread", "one thread");
            held.release.countDown();
            first.get(30, TimeUnit.SECONDS);
        } finally {
            held.release.countDown();
            other.shutdownNow();
        }
        assertEquals(2, bn.numBatchesTracked(), "the held forward's update went in, the refused one's did not");
        bn.forward(Tensor.of(new float[] {1, 1, 1, 2, 2, 2}, 2, 3));   // the guard is released
        assertEquals(3, bn.numBatchesTracked());
    }

    /**
     * Two threads training one layer flat out: some forwards are refused, and every accepted one
     * is in the running mean (a cumulative average: it must equal the mean of the accepted
     * batches' means, whatever the order).
     */
    @Test
    void trainingFromTwoThreadsLosesNoAcceptedUpdate() throws Exception {
        int c = 16;
        BatchNorm bn = BatchNorm.builder(Convention.PYTORCH, c).momentum(null).build();   // cumulative average
        Tensor[] x = new Tensor[2];
        for (int t = 0; t < 2; t++) {
            float[] v = new float[64 * c * 64];
            java.util.Arrays.fill(v, t == 0 ? -1f : 3f);
            for (int i = 0; i < v.length; i += 2) v[i] += 1;   // batch mean per channel: -0.5 and 3.5
            x[t] = Tensor.of(v, 64, c, 64);
        }
        List<int[]> counts = together(2, t -> {
            int ok = 0, refused = 0;
            long until = System.nanoTime() + 3_000_000_000L;
            for (int k = 0; k < 400 && (refused == 0 || k < 40) && System.nanoTime() < until; k++) {
                try (var g = Autograd.noGrad()) {
                    bn.forward(x[t]);
                    ok++;
                } catch (IllegalStateException e) {
                    assertTrue(e.getMessage().contains("is being trained from another thread"), e.getMessage());
                    refused++;
                }
            }
            return new int[] {ok, refused};
        });
        int ok0 = counts.get(0)[0], ok1 = counts.get(1)[0], refused = counts.get(0)[1] + counts.get(1)[1];
        assertTrue(refused > 0, "two threads training at once were never refused: " + ok0 + " and " + ok1 + " forwards accepted");
        assertEquals(ok0 + ok1, bn.numBatchesTracked(), "every accepted forward counted once");
        double want = (ok0 * -0.5 + ok1 * 3.5) / (ok0 + ok1);
        double[] expected = new double[c];
        java.util.Arrays.fill(expected, want);
        Check.close("running mean = mean of the accepted batches", bn.runningMean().toArray(), expected, 1e-5, 1e-5);
    }
}
