package org.norm4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;
import org.norm4j.tensor.Rng;

class DataLoaderTest {
    private static final int H = 2, W = 3;

    /** n images of 2x3 whose every pixel is the image's index; label = index mod 10. */
    private static Dataset indexed(int n) {
        float[] x = new float[n * H * W];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            Arrays.fill(x, i * H * W, (i + 1) * H * W, i);
            y[i] = i % 10;
        }
        return new Dataset("indexed", x, y, H, W, FashionMnist.CLASSES);
    }

    /** The item indices served in one epoch, checking that each batch is self-consistent. */
    private static List<Integer> served(DataLoader loader, int epoch) {
        List<Integer> items = new ArrayList<>();
        for (DataLoader.Batch b : loader.epoch(epoch)) {
            int[] s = b.x().shape();
            assertArrayEquals(new int[] {b.size(), 1, H, W}, s);
            float[] x = b.x().data();
            for (int k = 0; k < b.size(); k++) {
                int item = (int) x[k * H * W];
                for (int p = 0; p < H * W; p++) assertEquals(item, x[k * H * W + p], "pixel " + p + " of row " + k);
                assertEquals(item % 10, b.y()[k], "label of item " + item);
                items.add(item);
            }
        }
        return items;
    }

    @Test
    void everyIndexOncePerEpoch() {
        DataLoader loader = new DataLoader(indexed(103), 10, true, 42);
        for (int e = 0; e < 4; e++) {
            List<Integer> items = served(loader, e);
            assertEquals(103, items.size());
            boolean[] seen = new boolean[103];
            for (int i : items) {
                assertFalse(seen[i], "item " + i + " twice in epoch " + e);
                seen[i] = true;
            }
            int[] order = loader.order(e);
            for (int i = 0; i < 103; i++) assertEquals(order[i], items.get(i), "position " + i);
        }
    }

    @Test
    void orderDependsOnlyOnSeedAndEpoch() {
        Dataset d = indexed(500);
        DataLoader a = new DataLoader(d, 32, true, 7);
        DataLoader b = new DataLoader(d, 32, true, 7); // a "resumed" run
        assertArrayEquals(a.order(3), b.order(3), "same (seed, epoch)");
        assertEquals(served(a, 3), served(b, 3));
        assertEquals(served(a, 3), served(a, 3), "iterating an epoch again");
        assertFalse(Arrays.equals(a.order(3), a.order(4)), "different epoch");
        assertFalse(Arrays.equals(a.order(3), new DataLoader(d, 32, true, 8).order(3)), "different seed");
        int[] identity = new int[500];
        Arrays.setAll(identity, i -> i);
        assertFalse(Arrays.equals(a.order(0), identity), "shuffled");
        assertArrayEquals(identity, new DataLoader(d, 32, false, 7).order(5), "no shuffle");
    }

    @Test
    void orderIsTheDocumentedFisherYates() {
        // Pins the resume contract: a change of shuffle would reorder every saved run.
        long seed = 123;
        int epoch = 2, n = 50;
        int[] expected = new int[n];
        Arrays.setAll(expected, i -> i);
        Rng rng = new Rng(Rng.streamSeed(seed, DataLoader.SHUFFLE, epoch));
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = expected[i];
            expected[i] = expected[j];
            expected[j] = t;
        }
        assertArrayEquals(expected, new DataLoader(indexed(n), 8, true, seed).order(epoch));
    }

    /** Seed 0's first shuffle once drew from new Rng(0), the very stream that initialized the weights. */
    @Test
    void shuffleStreamsAreNotTheInitStream() {
        for (long seed : new long[] {0, 1, 2}) {
            for (int epoch = 0; epoch < 3; epoch++) {
                Rng init = new Rng(seed), shuffle = new Rng(Rng.streamSeed(seed, DataLoader.SHUFFLE, epoch));
                boolean same = true;
                for (int i = 0; i < 8; i++) same &= init.nextInt(1 << 30) == shuffle.nextInt(1 << 30);
                assertFalse(same, "seed " + seed + ", epoch " + epoch + ": shuffle stream equals the init stream");
            }
        }
    }

    @Test
    void lastPartialBatchIsKeptUnlessDropLast() {
        Dataset d = indexed(103);
        DataLoader keep = new DataLoader(d, 10, true, 1);
        assertEquals(11, keep.batchesPerEpoch());
        List<Integer> sizes = new ArrayList<>();
        for (DataLoader.Batch b : keep.epoch(0)) sizes.add(b.size());
        assertEquals(11, sizes.size());
        assertEquals(3, sizes.get(10));
        assertTrue(sizes.subList(0, 10).stream().allMatch(s -> s == 10));

        DataLoader drop = new DataLoader(d, 10, true, 1, true);
        assertEquals(10, drop.batchesPerEpoch());
        List<Integer> items = served(drop, 0);
        assertEquals(100, items.size());
        assertEquals(100, items.stream().distinct().count());
        assertEquals(Arrays.stream(keep.order(0)).limit(100).boxed().toList(), items, "same order, tail dropped");

        assertEquals(1, new DataLoader(d, 1000, false, 0).batchesPerEpoch(), "one batch larger than the set");
        assertEquals(0, new DataLoader(d, 1000, false, 0, true).batchesPerEpoch());
        assertEquals(103, new DataLoader(d, 1, false, 0).batchesPerEpoch());
        assertEquals(10, new DataLoader(indexed(100), 10, false, 0).batchesPerEpoch(), "exact multiple");
    }

    @Test
    void limitedDataset() {
        Dataset d = indexed(103).limit(25);
        DataLoader loader = new DataLoader(d, 10, true, 3);
        assertEquals(3, loader.batchesPerEpoch());
        List<Integer> items = served(loader, 0);
        assertEquals(25, items.size());
        assertTrue(items.stream().allMatch(i -> i < 25), "only the first 25 items");
        assertEquals(25, items.stream().distinct().count());
    }

    @Test
    void batchesOwnTheirArrays() {
        DataLoader loader = new DataLoader(indexed(40), 8, true, 9);
        Iterator<DataLoader.Batch> it = loader.epoch(0).iterator();
        DataLoader.Batch first = it.next();
        float[] firstX = first.x().toArray();
        int[] firstY = first.y().clone();
        while (it.hasNext()) it.next();
        assertArrayEquals(firstX, first.x().data(), "a kept batch does not change");
        assertArrayEquals(firstY, first.y());
        assertThrows(NoSuchElementException.class, it::next);
    }

    @Test
    void emptyDatasetHasNoBatches() {
        DataLoader loader = new DataLoader(indexed(5).limit(0), 4, true, 0);
        assertEquals(0, loader.batchesPerEpoch());
        assertFalse(loader.epoch(0).iterator().hasNext());
    }

    @Test
    void badArgumentsAreRejected() {
        Dataset d = indexed(5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new DataLoader(d, 0, true, 0));
        assertTrue(e.getMessage().contains("batchSize 0"), e.getMessage());
        DataLoader loader = new DataLoader(d, 2, true, 0);
        assertThrows(IllegalArgumentException.class, () -> loader.epoch(-1));
        assertThrows(IllegalArgumentException.class, () -> loader.order(-1));
    }
}
