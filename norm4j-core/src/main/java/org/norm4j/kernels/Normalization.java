package org.norm4j.kernels;

import org.norm4j.tensor.Workspace;

/**
 * The normalization kernels, over one view of the input: {@code x[a, c, b]} with {@code A} = the
 * product of the axes before the feature axis, {@code C} the feature axis, {@code B} the product
 * of the axes after it; the run {@code (a, c)} is B contiguous floats at {@code (a·C + c)·B}.
 *
 * <p>Three phases, three families of functions:
 * <ul>
 *   <li>collect statistics: per channel over A×B ({@link #collectStatsChannels}, batch norm) or
 *       per contiguous row ({@link #collectStatsRows}: instance, group, layer norm);</li>
 *   <li>apply: {@code y = (x − center)·scale + shift} with per-run parameters
 *       ({@link #applyChannels}), or layer / RMS norm's statistics and per-element affine row by
 *       row ({@link #normalizeRows});</li>
 *   <li>backward: the sums Σdy and Σdy·(x − center), then
 *       {@code dx += coefDy·dy + coefX·(x − center) + coefK}: two passes over the tensor for the
 *       channels ({@link #backwardSumsChannels}, {@link #backwardChannels}), one row at a time for
 *       layer / RMS norm ({@link #backwardRows}).</li>
 * </ul>
 * Per-run parameters live at index {@code a·pStride + c}: {@code pStride = 0} shares them across
 * a (batch norm), {@code pStride = C} gives each (a, c) its own (instance and group norm).
 *
 * <p>Statistics are exact to float rounding for any mean: Σd and Σd² of d = x − shift, with a
 * shift near the mean rounded to float (so d is exact for x near the mean), give mean = shift +
 * Σd/n and m2 = Σd² − (Σd)²/n (the corrected two-pass algorithm). A channels-first channel takes
 * its shift from {@value #PILOT_RUNS} of its runs spread over the batch and is then read once, in
 * memory order: chunks of whole images ({@link #chunkImages}), each channel's runs added into the
 * chunk's partial, the partials in chunk order (a second pass only when that shift is over a
 * deviation from the channel's mean); the backward sums of batch norm go by the same chunks. A
 * row ({@link #collectStatsRows}) takes its shift from its head when short, from pilot blocks when
 * long ({@link #PILOT_ROW_LEN}), and is read from memory once (again, from cache, only when that
 * shift is over a deviation from the row's mean).
 * Channels-last input
 * (B = 1) is reduced in fixed chunks of rows, each read once with the shift taken from its first
 * {@value #FOLD_ROWS} rows (a second pass only when that shift is over a deviation from the
 * chunk's mean), and the chunks are merged with Chan's formula, so the result does not depend on
 * how the work is split. The "columns" sums are float over at most {@value #FOLD_ROWS} rows: they
 * overflow where |x − shift| exceeds about 1e19 (the channels-first sums are double).
 *
 * <p>Pure functions: no allocation beyond small per-task scratch (the channels-last reductions'
 * arrays are kept per thread, {@link ColumnWork}), no validation beyond asserts.
 * Large calls run on {@link Parallel}'s threads in tasks fixed by the shape (channels, chunks of
 * rows, row groups or images of about {@value #TASK_ELEMENTS} elements); a statistic is summed by
 * one task, or by fixed tasks whose partial sums are added in task order: the results are the same
 * bits on any number of threads.
 */
public final class Normalization {
    /** Rows per chunk in the channels-last reduction: fixed, so results never depend on threads. */
    static final int ROWS_PER_CHUNK = 256;
    /**
     * Rows a float "columns" accumulator takes before it is folded into double: each float sum has
     * at most this many terms (the vector twin's bound for its lanes, {@code VECTORS_PER_CHUNK}).
     */
    static final int FOLD_ROWS = 32;
    /**
     * Row groups of the layer/RMS norm backward sums: each group sums its rows' dGamma and dBeta
     * into its own partial, added in group order. Fixed, so results never depend on threads; it is
     * also the most threads that step uses.
     */
    static final int ROW_GROUPS = 8;
    /**
     * Row length from which the layer/RMS norm backward sums take rows in pairs
     * ({@link Loops#rowBackwardSumsPair}): there dGamma's and dBeta's float partials (8 bytes per
     * element together) no longer fit a 32 KB L1 and are re-read from L2 or beyond for every row.
     * [256, 64·28·28]'s backward measured 10-20% faster in pairs; rows of 768 no different. The
     * forward ({@link #normalizeRows}) pairs rows from the same length when gamma or beta is set
     * ({@link Loops#normalizeRowPair}), and the backward's dx pass with the sums
     * ({@link Loops#rowBackwardPair}): gamma and beta too are as long as a row.
     */
    static final int PAIR_ROWS_LEN = 4096;
    /** Elements per parallel task: enough that a task outweighs handing it to another thread. */
    static final long TASK_ELEMENTS = 1 << 16;
    /**
     * Elements per task of a pass that computes each element on its own (the channels-last apply
     * and dx, the activations), for a pass over {@code total} elements: an eighth of it, at least
     * 8192 and at most {@link #TASK_ELEMENTS}. The split changes no bit, so small tensors can take
     * finer tasks than the reductions' chunks allow: LeNet's batch norms of [256, 120] and
     * [256, 84] (their sigmoid fused) take four and three tasks, not one, between two matrix
     * products that use both threads; large ones keep tasks of {@link #TASK_ELEMENTS}.
     */
    static long elementwiseTask(long total) {
        return Math.min(TASK_ELEMENTS, Math.max(1 << 13, total / 8));
    }

    /** Rows of C per task of such a pass over A rows ({@link #elementwiseTask} of the A·C elements). */
    private static int elementwiseRows(int A, int C) {
        return Parallel.grain(C, elementwiseTask((long) A * C));
    }
    /**
     * Elements per call of {@link Loops#affineRows} in a channels-last apply: 16 KiB of output, so a
     * block's activation runs while the block is in L1.
     */
    static final int APPLY_BLOCK = 4096;

    private Normalization() {}

    private static Loops loops() {
        return Loops.get();
    }

    // ---- collect statistics --------------------------------------------------------------

    /** mean[c], m2[c] over all (a, b) of channel c; count = A·B. */
    public static void collectStatsChannels(double[] mean, double[] m2, float[] x, int xOff, int A, int C, int B) {
        Loops l = loops();
        if (B == 1) {
            collectStatsColumns(l, mean, m2, x, xOff, A, C);
            return;
        }
        // x read once, in memory order: tasks are chunks of whole images (contiguous), each
        // channel's shifted sums of a chunk added run by run into the chunk's partial, the
        // partials added in chunk order; chunks depend on the shape alone, so the sums are the
        // same bits on any number of threads (and channelSums' for one channel)
        float[] shift = new float[C];
        Parallel.forRange(C, Math.max(1, (C + 1) / 2), (c0, c1) -> pilotShifts(l, shift, x, xOff, A, C, B, c0, c1));   // two tasks
        double[] sums = chunkedChannelSums(A, C, B, (acc, off, c) -> l.sumShifted(acc, x, xOff + off, B, shift[c]));
        double[] acc = new double[2];
        for (int c = 0; c < C; c++) {
            acc[0] = sums[2 * c];
            acc[1] = sums[2 * c + 1];
            finishChannel(l, acc, shift[c], mean, m2, x, xOff, A, C, B, c);
        }
    }

    /** One run's pair of sums added into acc: the run at offset off (a·C + c)·B of channel c. */
    @FunctionalInterface
    public interface RunSums {
        void add(double[] acc, int off, int c);
    }

    /**
     * Each channel's pair of sums over its runs of channels-first [A, C, B], x read once in memory
     * order: tasks are chunks of whole images ({@link #chunkImages}), each run's sums added into
     * its chunk's partial in image order, the partials then added in chunk order, from zero. The
     * chunks depend on the shape alone: the same bits on any number of threads. Returns
     * {Σ first, Σ second} of channel c at [2c], [2c + 1].
     */
    public static double[] chunkedChannelSums(int A, int C, int B, RunSums run) {
        int per = chunkImages(A, C, B), chunks = (A + per - 1) / per;
        double[] part = new double[2 * chunks * C];
        Parallel.forEach(chunks, k -> {
            double[] acc = new double[2];
            for (int a = k * per, end = Math.min(A, a + per); a < end; a++) {
                for (int c = 0; c < C; c++) {
                    acc[0] = 0;
                    acc[1] = 0;
                    run.add(acc, (a * C + c) * B, c);
                    part[2 * (k * C + c)] += acc[0];
                    part[2 * (k * C + c) + 1] += acc[1];
                }
            }
        });
        double[] sums = new double[2 * C];
        for (int k = 0; k < chunks; k++) {
            for (int i = 0; i < 2 * C; i++) sums[i] += part[2 * k * C + i];
        }
        return sums;
    }

    /**
     * Most chunks of a channels-first reduction ({@link #chunkImages}), and most tasks of a
     * channels-last one ({@link #columnChunksPerTask}): their partials stay a few KB per channel.
     */
    static final int MAX_CHUNKS = 32;

    /**
     * Images per chunk of a channels-first reduction over [A, C, B] (batch norm's statistics and
     * backward sums): about {@value #TASK_ELEMENTS} floats, at most {@value #MAX_CHUNKS} chunks.
     * A channel's sum adds its runs in image order within a chunk, then the chunks' partials in
     * order; the chunks are fixed by the shape, so every path that sums a channel
     * ({@link #collectStatsChannels}, {@link #statsThenApplyChannels}, the backward sums, a channel
     * at a time or the whole tensor) gets the same bits on any number of threads.
     */
    public static int chunkImages(int A, int C, int B) {
        long perImage = Math.max(1, (long) C * B);
        int per = (int) Math.max(1, Math.min(Math.max(1, A), TASK_ELEMENTS / perImage));
        return Math.max(per, (A + MAX_CHUNKS - 1) / MAX_CHUNKS);
    }

    /** Runs of channel c the shift of its one-pass sums is taken from: spread over the batch, so images that differ do not put it far from the mean. */
    static final int PILOT_RUNS = 8;

    /**
     * shift[c] for c in [c0, c1), the shift of channel c's one-pass sums: the mean of
     * {@value #PILOT_RUNS} of its runs, images 0, A/8, 2A/8, … (all of them when A is smaller),
     * rounded to float (0 when A = 0). A channel's images can differ more than its values within an
     * image (bright and dark pictures), so a single image's mean could lie more than a deviation
     * from the channel's; eight of them rarely do. The pilot images are read in memory order (the
     * range's runs of an image side by side); each channel's runs add in image order, so a range of
     * one channel gives the same bits as a range of all.
     */
    private static void pilotShifts(Loops l, float[] shift, float[] x, int xOff, int A, int C, int B, int c0, int c1) {
        int runs = Math.min(A, PILOT_RUNS);
        double[] s = new double[c1 - c0];
        for (int k = 0; k < runs; k++) {
            int a = (int) ((long) k * A / runs);
            for (int c = c0; c < c1; c++) s[c - c0] += l.sum(x, xOff + (a * C + c) * B, B);
        }
        for (int c = c0; c < c1; c++) shift[c] = runs == 0 ? 0 : (float) (s[c - c0] / ((double) runs * B));
    }

    /**
     * mean[c], m2[c] from the sums acc = {Σd, Σd²} of d = x − shift over the channel's A·B values
     * ({@link #finishMoments}: again about float(mean) where the shift is over a deviation off, a
     * channel that drifts across the batch or a spread within rounding of its mean).
     */
    private static void finishChannel(Loops l, double[] acc, float shift, double[] mean, double[] m2, float[] x, int xOff,
                                      int A, int C, int B, int c) {
        double n = (double) A * B;
        if (n == 0) {
            mean[c] = 0;
            m2[c] = 0;
            return;
        }
        finishMoments(acc, n, shift, (sums, sh) -> channelSums(l, sums, x, xOff, A, C, B, c, sh));
        mean[c] = acc[0];
        m2[c] = acc[1];
    }

    /** Sums {Σd, Σd²} of d = x − shift over some values, into acc (from zero). */
    @FunctionalInterface
    private interface ShiftedSums {
        void into(double[] acc, float shift);
    }

    /**
     * acc = {Σd, Σd²} of d = x − shift over n values becomes {mean, m2}: mean = shift + Σd/n,
     * m2 = Σd² − (Σd)²/n. The cancellation there amplifies the rounding of Σd² by
     * 1 + (shift − mean)²/var: at most 2 while the shift is within a deviation of the mean; past
     * that the sums are taken again about float(mean), the two-pass algorithm. Batch norm's channels
     * and every row ({@link #rowMoments}) share this test.
     */
    private static void finishMoments(double[] acc, double n, float shift, ShiftedSums sums) {
        double s1 = acc[0], sq = s1 * s1 / n;
        if (sq > acc[1] - sq) {
            shift = (float) (shift + s1 / n);
            sums.into(acc, shift);
            s1 = acc[0];
            sq = s1 * s1 / n;
        }
        acc[0] = shift + s1 / n;
        acc[1] = Math.max(0, acc[1] - sq);
    }

    /**
     * mean[c], m2[c] of channel c (B > 1), as {@link #collectStatsChannels} computes them (the same
     * operations, so the same bits): the pilot shift (into shift[c]), each run's shifted sums in
     * order, the finish.
     */
    private static void channelMoments(Loops l, double[] acc, float[] shift, double[] mean, double[] m2, float[] x, int xOff, int A, int C,
                                       int B, int c) {
        pilotShifts(l, shift, x, xOff, A, C, B, c, c + 1);
        channelSums(l, acc, x, xOff, A, C, B, c, shift[c]);
        finishChannel(l, acc, shift[c], mean, m2, x, xOff, A, C, B, c);
    }

    /**
     * acc = {Σd, Σd²} of d = x − shift over channel c's runs: run by run in image order into each
     * chunk's partial ({@link #chunkImages}), the partials in chunk order (collectStatsChannels' sums).
     */
    private static void channelSums(Loops l, double[] acc, float[] x, int xOff, int A, int C, int B, int c, float shift) {
        acc[0] = 0;
        acc[1] = 0;
        double[] run = new double[2];
        int per = chunkImages(A, C, B);
        for (int a0 = 0; a0 < A; a0 += per) {
            double p0 = 0, p1 = 0;
            for (int a = a0, end = Math.min(A, a0 + per); a < end; a++) {
                run[0] = 0;
                run[1] = 0;
                l.sumShifted(run, x, xOff + (a * C + c) * B, B, shift);
                p0 += run[0];
                p1 += run[1];
            }
            acc[0] += p0;
            acc[1] += p1;
        }
    }

    /** Sets channel c's apply parameters (center[c], scale[c], shift[c]) once its moments are known. */
    @FunctionalInterface
    public interface ChannelParams {
        void set(int c);
    }

    /**
     * Batch norm's training forward over channels-first input [A, C, B] (B > 1), a channel at a
     * time while it is in cache: the channel's moments ({@link #collectStatsChannels}'s, the same
     * bits), then {@code params.set(c)}, then the channel's runs applied as {@link #applyChannels}
     * does (act on each run) and, when {@code p} is not null, each h × w plane 2×2-average-pooled
     * into p (B = h·w) as {@link #applyChannelsPool2x2} does. The whole-tensor order (all moments,
     * then the apply) reads x from memory twice; this reads each channel from memory once, when it
     * fits in cache ({@link #batchChannelPerChannel}: off by default). The channels are the tasks.
     */
    public static void statsThenApplyChannels(double[] mean, double[] m2, float[] y, float[] x, float[] p, int A, int C, int h, int w,
                                              ChannelParams params, float[] center, float[] scale, float[] shift, Activation act) {
        Loops l = loops();
        int B = h * w, P = (h / 2) * (w / 2);
        Parallel.forRange(C, Parallel.grain((long) A * B, TASK_ELEMENTS), (c0, c1) -> {
            double[] acc = new double[2];
            float[] pilot = new float[C];   // the task's channels' shifts
            for (int c = c0; c < c1; c++) {
                channelMoments(l, acc, pilot, mean, m2, x, 0, A, C, B, c);
                params.set(c);
                for (int a = 0; a < A; a++) {
                    int off = (a * C + c) * B;
                    applyRun(l, y, x, off, B, center[c], scale[c], shift[c], act);
                    if (p != null) l.avgPool2x2(p, (a * C + c) * P, y, off, h, w);
                }
            }
        });
    }

    /**
     * Instance and group norm's forward over [A, C, B] with G statistics per item (instance norm:
     * G = C, one channel each; group norm: C/G channels each), a statistic's row (its channels'
     * runs, contiguous) at a time while it is in cache: the row's moments ({@link #collectStatsRows}'s,
     * the same bits) into mean[r], m2[r] (r = a·G + g), then {@code params.set(p)} and the apply of
     * each of its channels' runs (p = a·C + c), as {@link #applyChannels} does with pStride = C.
     * x is read from memory once instead of twice.
     */
    public static void statsThenApplyRows(double[] mean, double[] m2, float[] y, float[] x, int A, int C, int B, int G,
                                          ChannelParams params, float[] center, float[] scale, float[] shift) {
        Loops l = loops();
        int cpg = C / G, len = cpg * B;
        Parallel.forRange(A * G, Parallel.grain(len, TASK_ELEMENTS), (r0, r1) -> {
            double[] acc = new double[2];
            for (int r = r0; r < r1; r++) {
                rowMoments(l, acc, x, r * len, len);
                mean[r] = acc[0];
                m2[r] = acc[1];
                int a = r / G, c0 = (r % G) * cpg;
                for (int c = c0; c < c0 + cpg; c++) {
                    int p = a * C + c, off = p * B;
                    params.set(p);
                    l.affine(y, off, x, off, B, center[p], scale[p], shift[p]);
                }
            }
        });
    }

    /** Whether one channel (or row) of A·B floats stays in a core's cache between the statistics and the apply ({@link #statsThenApplyChannels}, {@link #statsThenApplyRows}). */
    public static boolean channelFitsCache(long A, long B) {
        return A * B * Float.BYTES <= CHANNEL_CACHE_BYTES;
    }

    /**
     * Half of a core's L2 (the channel, its output and the next channel's first reads): 1 MiB on
     * the Intel cores of docs/benchmarks.md (2 MiB L2), where statistics-then-apply per channel
     * measured faster from there down; 512 KiB on AMD's Zen 4 (1 MiB L2), where LeNet's 800 KB
     * channels measured faster in two passes over the tensor.
     */
    static final long CHANNEL_CACHE_BYTES = Long.getLong("norm4j.bn.channelCacheBytes", l2Bytes() / 2);

    /** The largest channel (or row), in bytes, that {@link #channelFitsCache} accepts. */
    public static long channelCacheBytes() {
        return CHANNEL_CACHE_BYTES;
    }

    /** {@link #batchPerChannelBytes()}: {@code -Dnorm4j.bn.perChannelBytes}, else 0. */
    private static volatile long batchPerChannelBytes = perChannelBytesProperty();

    private static long perChannelBytesProperty() {
        String v = System.getProperty("norm4j.bn.perChannelBytes");
        if (v == null || v.isBlank()) return 0;
        try {
            long bytes = Long.parseLong(v.trim());
            if (bytes >= 0) return bytes;
        } catch (NumberFormatException e) {
            // the message below
        }
        throw new IllegalArgumentException("norm4j.bn.perChannelBytes: expected a byte count of at least 0, got '" + v + "'");
    }

    /**
     * The largest batch-norm channel (channels-first, in bytes) that goes one channel at a time
     * ({@link #statsThenApplyChannels}, the backward's channel-by-channel sums and dx): 0 by default,
     * none. Such a pass reads a channel's runs a channel's stride apart; the two passes over the
     * tensor in memory order were faster on AMD's Zen 4 (the twenty-second session,
     * docs/benchmarks.md, {@code org.norm4j.bench.BatchNormPaths}, one thread: LeNet's second block
     * forward 320 against 363 µs, [256, 128, 14, 14] forward 2.7 against 6.9 ms and backward 4.3
     * against 9.2 ms). The per-channel forward had measured faster only on an Intel machine, before
     * the statistics' two passes read in memory order. {@code -Dnorm4j.bn.perChannelBytes} or
     * {@link #setBatchPerChannelBytes} turns it back on (half the L2, {@link #channelCacheBytes()},
     * is what it used until then). A batch norm with a fused activation alone (no pooling) takes its
     * backward channel by channel whatever this says, so that no full-size dy is written. The same
     * bits either way.
     */
    public static long batchPerChannelBytes() {
        return batchPerChannelBytes;
    }

    /** Sets {@link #batchPerChannelBytes()} (0: never; at least 0). */
    public static void setBatchPerChannelBytes(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("Normalization.setBatchPerChannelBytes: at least 0, got " + bytes);
        batchPerChannelBytes = bytes;
    }

    /** Whether a batch-norm channel of A·B floats goes one channel at a time ({@link #batchPerChannelBytes()}). */
    public static boolean batchChannelPerChannel(long A, long B) {
        return A * B * Float.BYTES <= batchPerChannelBytes;
    }

    /** The first core's L2 size as Linux reports it (sysfs), or 2 MiB where it cannot be read. */
    static long l2Bytes() {
        java.nio.file.Path dir = java.nio.file.Path.of("/sys/devices/system/cpu/cpu0/cache");
        for (int i = 0; i < 8; i++) {
            try {
                java.nio.file.Path index = dir.resolve("index" + i);
                if (!java.nio.file.Files.isDirectory(index)) break;
                if (!java.nio.file.Files.readString(index.resolve("level")).trim().equals("2")) continue;
                if (java.nio.file.Files.readString(index.resolve("type")).trim().equals("Instruction")) continue;
                String size = java.nio.file.Files.readString(index.resolve("size")).trim();   // "1024K", "2048K", "2M"
                long unit = size.endsWith("K") ? 1L << 10 : size.endsWith("M") ? 1L << 20 : 1;
                long n = Long.parseLong(Character.isDigit(size.charAt(size.length() - 1)) ? size : size.substring(0, size.length() - 1));
                if (n > 0) return n * unit;
            } catch (java.io.IOException | RuntimeException e) {
                break;   // not Linux, or an unexpected format: the default
            }
        }
        return 2L << 20;
    }

    /**
     * Channels-last reduction: per column over rows, chunk by chunk, chunks merged in order (Chan).
     * Each chunk's moments depend on its rows alone; a task ({@link #columnChunksPerTask}, fixed by
     * the shape) merges its chunks in order into its partial, and the partials are merged in task
     * order, so the result is the same bits on any number of threads. A chunk is read once: the
     * sums of d = x − shift with the shift taken from its first rows; a second pass about the mean
     * only when that shift turns out far from it. The partials and a task's sums are
     * {@link ColumnWork}'s: a call allocates no arrays unless its partials pass
     * {@link ColumnWork#KEEP}.
     */
    private static void collectStatsColumns(Loops l, double[] mean, double[] m2, float[] x, int xOff, int rows, int C) {
        int chunks = columnChunks(rows), per = columnChunksPerTask(rows, C), tasks = (chunks + per - 1) / per;
        ColumnWork call = ColumnWork.forCall(tasks * C);
        double[] taskMean = call.part1, taskM2 = call.part2;
        Parallel.forEach(tasks, t -> {
            ColumnWork w = ColumnWork.forTask(C);
            double[] s1 = w.s1, s2 = w.s2, chunkMean = w.m1, chunkM2 = w.m2;
            float[] f1 = w.f1, f2 = w.f2, shift = w.shift;
            long total = 0;
            for (int k = t * per, end = Math.min(chunks, k + per); k < end; k++) {
                int r0 = k * ROWS_PER_CHUNK, nb = Math.min(ROWS_PER_CHUNK, rows - r0), r1 = r0 + nb;
                // the shift: the mean of the chunk's first FOLD_ROWS rows (about std/√32 from the
                // chunk's mean for rows alike), so one pass over the chunk gives its moments
                int pilotRows = Math.min(nb, FOLD_ROWS);
                l.sumColumns(f1, 0, x, xOff + r0 * C, pilotRows, C);
                for (int c = 0; c < C; c++) {
                    shift[c] = (float) ((double) f1[c] / pilotRows);
                    f1[c] = 0;   // the scratch the sums expect
                }
                shiftedSums(l, s1, s2, f1, f2, x, xOff, r0, r1, C, shift);
                // the cancellation in m2 = Σd² − (Σd)²/n amplifies the rounding of Σd² by
                // 1 + (shift − mean)²/var: at most 2 below one deviation; past it (rows that drift,
                // a spread within rounding) a second pass about the chunk's mean, as the two-pass
                // algorithm. Rows alike put the shift ~0.18 deviation from the mean: one pass.
                boolean far = false;
                for (int c = 0; c < C; c++) far |= s1[c] * s1[c] / nb > s2[c] - s1[c] * s1[c] / nb;
                if (far) {
                    for (int c = 0; c < C; c++) shift[c] = (float) (shift[c] + s1[c] / nb);
                    shiftedSums(l, s1, s2, f1, f2, x, xOff, r0, r1, C, shift);
                }
                for (int c = 0; c < C; c++) {
                    chunkMean[c] = shift[c] + s1[c] / nb;
                    chunkM2[c] = Math.max(0, s2[c] - s1[c] * s1[c] / nb);
                }
                Moments.merge(taskMean, taskM2, t * C, t * C + C, total, nb, chunkMean, chunkM2, 0);
                total += nb;
            }
        });
        // each channel's task partials merged in task order; channels apart (with a partial per
        // chunk, a serial merge of [256·28·28, 64]'s 784 chunks × 64 channels was a tenth of the
        // kernel on two threads)
        int rowsPerTask = per * ROWS_PER_CHUNK;
        Parallel.forRange(C, tasks * (long) C < 4096 ? C : 16, (c0, c1) -> {
            long total = 0;
            for (int t = 0; t < tasks; t++) {
                int nb = (int) (Math.min(rows, (t + 1L) * rowsPerTask) - (long) t * rowsPerTask);
                Moments.merge(mean, m2, c0, c1, total, nb, taskMean, taskM2, t * C + c0);
                total += nb;
            }
        });
    }

    /**
     * Chunks of {@value #ROWS_PER_CHUNK} rows per task of a channels-last reduction over rows of C
     * ({@link #collectStatsChannels}, {@link #backwardSumsChannels} with B = 1): about
     * {@value #TASK_ELEMENTS} floats, and at most {@value #MAX_CHUNKS} tasks, as
     * {@link #chunkImages} bounds the channels-first ones, so their partials stay
     * {@value #MAX_CHUNKS}·C. Fixed by the shape: the same bits on any number of threads.
     */
    static int columnChunksPerTask(int rows, int C) {
        return Math.max(Parallel.grain((long) ROWS_PER_CHUNK * C, TASK_ELEMENTS), (columnChunks(rows) + MAX_CHUNKS - 1) / MAX_CHUNKS);
    }

    /** Chunks of {@value #ROWS_PER_CHUNK} rows in {@code rows} (the last one may be short). */
    static int columnChunks(int rows) {
        return rows == 0 ? 0 : (rows - 1) / ROWS_PER_CHUNK + 1;
    }

    /**
     * The channels-last reductions' work arrays, one set per thread, so that a call allocates none:
     * a call's task partials (its caller's thread, {@link #forCall}) and a task's sums and scratch
     * (the task's thread, {@link #forTask}; a task on the caller's thread uses these, not the
     * partials). Fresh arrays cost a page-zeroing pass each, and on a virtual machine a page the
     * host has not backed yet costs far more (docs/benchmarks.md, twenty-fifth session). Partials
     * past {@link #KEEP} doubles each (tasks × C: BatchNorm1d(8192) over 8192 rows takes 32 × 8192)
     * are allocated for the call and not kept; a thread keeps at most 2 MiB of partials
     * and 44·C bytes of task arrays for the widest C it has reduced, for its life.
     */
    static final class ColumnWork {
        /** The most doubles a thread keeps for a call's partials (1 MiB each). */
        static final int KEEP = 1 << 17;
        private static final ThreadLocal<ColumnWork> LOCAL = ThreadLocal.withInitial(ColumnWork::new);
        private static final double[] NO_DOUBLES = {};
        private static final float[] NO_FLOATS = {};

        double[] part1 = NO_DOUBLES, part2 = NO_DOUBLES;
        double[] s1 = NO_DOUBLES, s2 = NO_DOUBLES, m1 = NO_DOUBLES, m2 = NO_DOUBLES;
        float[] f1 = NO_FLOATS, f2 = NO_FLOATS, shift = NO_FLOATS;

        /** This thread's partials, at least n doubles each (contents garbage). */
        static ColumnWork forCall(int n) {
            ColumnWork w = LOCAL.get();
            if (w.part1.length < n) {
                if (n > KEEP) {
                    ColumnWork fresh = new ColumnWork();
                    fresh.part1 = new double[n];
                    fresh.part2 = new double[n];
                    return fresh;
                }
                w.part1 = new double[n];
                w.part2 = new double[n];
            }
            return w;
        }

        /** This thread's task arrays, at least C long: s1, s2, m1, m2, shift garbage; f1, f2 zero. */
        static ColumnWork forTask(int C) {
            ColumnWork w = LOCAL.get();
            if (w.s1.length < C) {
                w.s1 = new double[C];
                w.s2 = new double[C];
                w.m1 = new double[C];
                w.m2 = new double[C];
                w.f1 = new float[C];
                w.f2 = new float[C];
                w.shift = new float[C];
            } else {
                java.util.Arrays.fill(w.f1, 0, C, 0f);   // left zero by the sums, unless a call failed midway
                java.util.Arrays.fill(w.f2, 0, C, 0f);
            }
            return w;
        }
    }

    /** sum[i] += part[i], part[i] = 0 (both may be null). */
    private static void fold(Loops l, double[] sum, float[] part) {
        if (part != null) l.addWidened(sum, 0, part, part.length);
    }

    /** s1[c] = Σ d, s2[c] = Σ d² over rows [r0, r1), d = x − shift[c]: float over FOLD_ROWS rows, then double (f1, f2: zeroed scratch). */
    private static void shiftedSums(Loops l, double[] s1, double[] s2, float[] f1, float[] f2, float[] x, int xOff,
                                    int r0, int r1, int C, float[] shift) {
        java.util.Arrays.fill(s1, 0, C, 0);
        java.util.Arrays.fill(s2, 0, C, 0);
        for (int g = r0; g < r1; g += FOLD_ROWS) {
            l.sumShiftedColumns(s1, s2, 0, x, xOff + g * C, Math.min(r1 - g, FOLD_ROWS), C, shift, f1, f2);
        }
    }

    /** mean[r], m2[r] of each contiguous row r of {@code len} floats. */
    public static void collectStatsRows(double[] mean, double[] m2, float[] x, int xOff, int rows, int len) {
        Loops l = loops();
        Parallel.forRange(rows, Parallel.grain(len, TASK_ELEMENTS), (r0, r1) -> {
            double[] acc = new double[2];
            for (int r = r0; r < r1; r++) {
                rowMoments(l, acc, x, xOff + r * len, len);
                mean[r] = acc[0];
                m2[r] = acc[1];
            }
        });
    }

    /**
     * Row length from which a row's shift comes from {@value #PILOT_RUNS} blocks of
     * {@value #PILOT_BLOCK} floats spread over it instead of from its head ({@link #HEAD} floats).
     * Either way the row is read from memory once, by the shifted sums, and again only where the
     * shift lies over a deviation from the row's mean. A row's head, one or two lines, is the first
     * thing the stream reaches; the pilot blocks are eight reads of memory apart (a group norm's rows
     * of 8·28·28 floats took 7.2 ms over [256, 64, 28, 28] with them, 5.3 with the head). The cutoff,
     * 32768 floats (128 KB), is a judgement, not a measurement: a head is one channel's first pixels
     * (a group norm's, a layer norm's over [C, H, W]) and can lie far off, and the longer the row the
     * more its second pass costs; layer norm's rows of 50 176 measured 4–7% faster with the head,
     * on data whose heads are never far. (Short rows took their shift from a first pass, the sum,
     * until the twenty-seventh session: a second pass over every row, from cache, that cost instance
     * norm's forward over [256, 64, 28, 28] a fifth of its time; docs/benchmarks.md.)
     */
    static final int PILOT_ROW_LEN = 32768;
    /** Floats in each of a long row's {@value #PILOT_RUNS} pilot blocks ({@link #PILOT_ROW_LEN}). */
    static final int PILOT_BLOCK = 64;
    /** Floats at the head of a short row ({@link #PILOT_ROW_LEN}) whose mean is its shift. */
    static final int HEAD = 16;

    /**
     * acc = {mean, m2} of the len floats at off: the shifted sums about a shift (a short row's
     * {@link #headShift}, a long row's {@link #pilotShift}; {@link #PILOT_ROW_LEN}), read once, and
     * again about float(mean) where that shift lies over a deviation from the mean (the cancellation
     * would cost more than a bit), as batch norm's channels ({@link #finishMoments}). A NaN gives NaN;
     * an infinity past a short row's head gives a mean of that infinity and m2 NaN (before the
     * head shift both were NaN; the output is NaN either way).
     */
    private static void rowMoments(Loops l, double[] acc, float[] x, int off, int len) {
        ShiftedSums sums = (a, sh) -> {
            a[0] = 0;
            a[1] = 0;
            l.sumShifted(a, x, off, len, sh);
        };
        float shift = len < PILOT_ROW_LEN ? headShift(x, off, len) : pilotShift(l, x, off, len);
        sums.into(acc, shift);
        finishMoments(acc, len, shift, sums);
    }

    /** A short row's shift ({@link #PILOT_ROW_LEN}): the mean of its first {@value #HEAD} floats (all of them when fewer), in double, rounded to float. */
    private static float headShift(float[] x, int off, int len) {
        int h = Math.min(len, HEAD);
        double s = 0;
        for (int i = 0; i < h; i++) s += x[off + i];
        return (float) (s / h);
    }

    /** A long row's shift ({@link #PILOT_ROW_LEN}): the mean of its pilot blocks, rounded to float. */
    private static float pilotShift(Loops l, float[] x, int off, int len) {
        double pilot = 0;
        for (int k = 0; k < PILOT_RUNS; k++) pilot += l.sum(x, off + (int) ((long) k * (len - PILOT_BLOCK) / (PILOT_RUNS - 1)), PILOT_BLOCK);
        return (float) (pilot / (PILOT_RUNS * PILOT_BLOCK));
    }

    // ---- apply ---------------------------------------------------------------------------

    /** y[a,c,b] = (x[a,c,b] − center[p])·scale[p] + shift[p], p = a·pStride + c. y may be x. */
    public static void applyChannels(float[] y, int yOff, float[] x, int xOff, int A, int C, int B,
                                     float[] center, float[] scale, float[] shift, int pStride) {
        applyChannels(y, yOff, x, xOff, A, C, B, center, scale, shift, pStride, Activation.IDENTITY);
    }

    /**
     * {@link #applyChannels} followed by {@code act} on each run as soon as it is written (while it
     * is in cache): y = act((x − center)·scale + shift), the same values as the two passes.
     */
    public static void applyChannels(float[] y, int yOff, float[] x, int xOff, int A, int C, int B,
                                     float[] center, float[] scale, float[] shift, int pStride, Activation act) {
        Loops l = loops();
        if (B == 1 && pStride == 0) {   // channels last, one set of parameters: blocks of rows per call, each block's activation after it
            int block = Math.max(1, APPLY_BLOCK / Math.max(1, C));
            Parallel.forRange(A, elementwiseRows(A, C), (a0, a1) -> {
                for (int a = a0; a < a1; a += block) {
                    int rows = Math.min(block, a1 - a);
                    l.affineRows(y, yOff + a * C, x, xOff + a * C, rows, C, center, scale, shift);
                    act.forwardRun(y, yOff + a * C, rows * C);
                }
            });
            return;
        }
        if (B == 1) {
            Parallel.forRange(A, elementwiseRows(A, C), (a0, a1) -> {
                for (int a = a0; a < a1; a++) {
                    l.affineColumns(y, yOff + a * C, x, xOff + a * C, C, center, scale, shift, a * pStride);
                    act.forwardRun(y, yOff + a * C, C);
                }
            });
            return;
        }
        Parallel.forRange(A, Parallel.grain((long) C * B, TASK_ELEMENTS), (a0, a1) -> {
            for (int a = a0; a < a1; a++) {
                for (int c = 0; c < C; c++) {
                    int p = a * pStride + c, off = (a * C + c) * B;
                    if (y == x && yOff == xOff) {   // in place: the run's affine, then its activation
                        l.affine(y, yOff + off, x, xOff + off, B, center[p], scale[p], shift[p]);
                        act.forwardRun(y, yOff + off, B);
                    } else {
                        applyRun(l, y, x, yOff + off, xOff + off, B, center[p], scale[p], shift[p], act);
                    }
                }
            }
        });
    }

    /** One run of y = act((x − center)·scale + shift) at the same offset in y and x (y a separate array). */
    private static void applyRun(Loops l, float[] y, float[] x, int off, int n, float center, float scale, float shift, Activation act) {
        applyRun(l, y, x, off, off, n, center, scale, shift, act);
    }

    /** The same with y's and x's own offsets: the sigmoid in the affine's pass ({@link Loops#affineSigmoid}), another activation after it. */
    private static void applyRun(Loops l, float[] y, float[] x, int yOff, int xOff, int n, float center, float scale, float shift, Activation act) {
        if (act == Activation.SIGMOID) {
            l.affineSigmoid(y, yOff, x, xOff, n, center, scale, shift);
        } else {
            l.affine(y, yOff, x, xOff, n, center, scale, shift);
            act.forwardRun(y, yOff, n);
        }
    }

    /**
     * {@link #applyChannels} with per-channel parameters (batch norm) over [A, C, h·w] planes, each
     * plane then 2×2-average-pooled ({@link Loops#avgPool2x2}) into {@code p} (A·C planes of
     * (h/2)·(w/2)) right after it is written, while it is in cache: the values of the apply
     * followed by AvgPool2d(2), without reading y back from memory. y must not be x (the fused
     * sigmoid's last vector reads x behind its own writes).
     */
    public static void applyChannelsPool2x2(float[] y, float[] x, float[] p, int A, int C, int h, int w,
                                            float[] center, float[] scale, float[] shift, Activation act) {
        Loops l = loops();
        int B = h * w, P = (h / 2) * (w / 2);
        Parallel.forRange(A, Parallel.grain((long) C * B, TASK_ELEMENTS), (a0, a1) -> {
            for (int a = a0; a < a1; a++) {
                for (int c = 0; c < C; c++) {
                    int off = (a * C + c) * B;
                    applyRun(l, y, x, off, B, center[c], scale[c], shift[c], act);
                    l.avgPool2x2(p, (a * C + c) * P, y, off, h, w);
                }
            }
        });
    }

    /**
     * Layer norm (mean non-null) or RMS norm (mean null) forward, each row normalized right after
     * its statistics, while it is in cache: the row is read from memory once. Per row r fills
     * mean[r] (layer norm), invStd[r] = 1/sqrt(var + eps) (RMS: 1/sqrt(Σx²/len + eps)) and the float
     * parameters of {@link Loops#normalizeRow}: center[r] = float(mean), invStdF[r], corr[r] =
     * (center − mean)·invStd (0 for RMS), then y[r,i] = ((x − center)·invStdF + corr)·gamma[i] + beta[i]
     * (gamma/beta may be null). The statistics are {@link #collectStatsRows}'s (RMS: Σx²/len in the
     * reductions' precision).
     */
    public static void normalizeRows(float[] y, int yOff, float[] x, int xOff, int rows, int len, double eps,
                                     double[] mean, double[] invStd, float[] center, float[] invStdF, float[] corr,
                                     float[] gamma, float[] beta) {
        Loops l = loops();
        // long rows with gamma or beta (as long as a row: they fall out of L2 between rows) go in
        // pairs, both rows' statistics and then both rows' outputs, gamma and beta read once a pair;
        // not in a batch of a few rows, where pairs would leave threads without a task (each row's
        // output is the same bits either way)
        int step = len >= PAIR_ROWS_LEN && rows >= 16 && (gamma != null || beta != null) ? 2 : 1;
        Parallel.forRange((rows + step - 1) / step, Parallel.grain((long) step * len, TASK_ELEMENTS), (t0, t1) -> {
            double[] acc = new double[2];
            for (int r = t0 * step, end = Math.min(rows, t1 * step); r < end; r += step) {
                int count = Math.min(step, end - r);
                for (int j = 0; j < count; j++) rowParams(l, acc, x, xOff, r + j, len, eps, mean, invStd, center, invStdF, corr);
                if (count == 2) {
                    l.normalizeRowPair(y, yOff + r * len, x, xOff + r * len, len, center, invStdF, corr, r, gamma, beta);
                } else {
                    l.normalizeRow(y, yOff + r * len, x, xOff + r * len, len, center[r], invStdF[r], corr[r], gamma, beta);
                }
            }
        });
    }

    /** Row r's statistics and {@link #normalizeRows}' parameters of it. */
    private static void rowParams(Loops l, double[] acc, float[] x, int xOff, int r, int len, double eps, double[] mean, double[] invStd,
                                  float[] center, float[] invStdF, float[] corr) {
        int off = xOff + r * len;
        if (mean != null) {
            rowMoments(l, acc, x, off, len);
            rowParams(acc, r, len, eps, mean, invStd, center, invStdF, corr);
            return;
        }
        double inv = 1 / Math.sqrt(l.sumSquares(x, off, len) / len + eps);
        center[r] = 0;
        corr[r] = 0;
        invStd[r] = inv;
        invStdF[r] = (float) inv;
    }

    /** Layer norm's parameters of row r from its moments acc = {mean, m2} ({@link #rowMoments}). */
    private static void rowParams(double[] acc, int r, int len, double eps, double[] mean, double[] invStd, float[] center,
                                  float[] invStdF, float[] corr) {
        double mu = acc[0], inv = 1 / Math.sqrt(acc[1] / len + eps);
        mean[r] = mu;
        center[r] = (float) mu;
        corr[r] = (float) ((center[r] - mu) * inv);
        invStd[r] = inv;
        invStdF[r] = (float) inv;
    }

    // ---- backward ------------------------------------------------------------------------

    /** sumDy[p] += Σ dy; sumDyXc[p] += Σ dy·(x − center[p]), over the runs (a, c) with p = a·pStride + c. */
    public static void backwardSumsChannels(double[] sumDy, double[] sumDyXc, float[] dy, int dyOff, float[] x, int xOff,
                                            int A, int C, int B, float[] center, int pStride) {
        Loops l = loops();
        if (B == 1) {
            backwardSumsColumns(l, sumDy, sumDyXc, dy, dyOff, x, xOff, A, C, center, pStride);
            return;
        }
        if (pStride == 0) {   // batch norm: chunks of whole images in memory order, as collectStatsChannels
            double[] sums = chunkedChannelSums(A, C, B, (acc, off, c) -> l.dotShifted(acc, dy, dyOff + off, x, xOff + off, B, center[c]));
            for (int c = 0; c < C; c++) {
                sumDy[c] += sums[2 * c];
                sumDyXc[c] += sums[2 * c + 1];
            }
            return;
        }
        // parameters per (a, c) (instance and group norm): tasks are groups of whole images, each
        // p's runs its own
        Parallel.forRange(A, Parallel.grain((long) C * B, TASK_ELEMENTS), (a0, a1) -> {
            double[] acc = new double[2];
            for (int a = a0; a < a1; a++) {
                for (int c = 0; c < C; c++) {
                    int p = a * pStride + c, off = (a * C + c) * B;
                    acc[0] = 0;
                    acc[1] = 0;
                    l.dotShifted(acc, dy, dyOff + off, x, xOff + off, B, center[p]);
                    sumDy[p] += acc[0];
                    sumDyXc[p] += acc[1];
                }
            }
        });
    }

    /**
     * The backward sums of channels-last rows. Shared parameters (batch norm): each task's rows
     * ({@link #columnChunksPerTask}) sum into its own partial (float over {@value #FOLD_ROWS} rows,
     * then double), and the partials are added in task order. Own parameters per row: rows are
     * independent. The arrays are {@link ColumnWork}'s.
     */
    private static void backwardSumsColumns(Loops l, double[] sumDy, double[] sumDyXc, float[] dy, int dyOff, float[] x, int xOff,
                                            int A, int C, float[] center, int pStride) {
        if (pStride != 0) {
            Parallel.forRange(A, Parallel.grain(C, TASK_ELEMENTS), (a0, a1) -> {
                ColumnWork w = ColumnWork.forTask(C);
                for (int a = a0; a < a1; a++) {
                    l.dotShiftedColumns(sumDy, sumDyXc, a * pStride, dy, dyOff + a * C, x, xOff + a * C, 1, C, center, w.f1, w.f2);
                }
            });
            return;
        }
        int per = columnChunksPerTask(A, C), tasks = (columnChunks(A) + per - 1) / per, rowsPerTask = per * ROWS_PER_CHUNK;
        ColumnWork call = ColumnWork.forCall(tasks * C);
        double[] p1 = call.part1, p2 = call.part2;
        Parallel.forEach(tasks, t -> {
            ColumnWork w = ColumnWork.forTask(C);
            double[] s1 = w.s1, s2 = w.s2;
            java.util.Arrays.fill(s1, 0, C, 0);
            java.util.Arrays.fill(s2, 0, C, 0);
            int r1 = (int) Math.min(A, (t + 1L) * rowsPerTask);
            for (int g = t * rowsPerTask; g < r1; g += FOLD_ROWS) {
                l.dotShiftedColumns(s1, s2, 0, dy, dyOff + g * C, x, xOff + g * C, Math.min(r1 - g, FOLD_ROWS), C, center, w.f1, w.f2);
            }
            System.arraycopy(s1, 0, p1, t * C, C);
            System.arraycopy(s2, 0, p2, t * C, C);
        });
        for (int t = 0; t < tasks; t++) {
            for (int c = 0; c < C; c++) {
                sumDy[c] += p1[t * C + c];
                sumDyXc[c] += p2[t * C + c];
            }
        }
    }

    /** dx[a,c,b] += coefDy[p]·dy + coefX[p]·(x − center[p]) + coefK[p], p = a·pStride + c. */
    public static void backwardChannels(float[] dx, int dxOff, float[] dy, int dyOff, float[] x, int xOff, int A, int C, int B,
                                        float[] coefDy, float[] coefX, float[] center, float[] coefK, int pStride) {
        backwardChannels(dx, dxOff, dy, dyOff, x, xOff, A, C, B, coefDy, coefX, center, coefK, pStride, false);
    }

    /** The same, or with {@code assign} dx = the update (a fresh gradient buffer: its contents are not read). */
    public static void backwardChannels(float[] dx, int dxOff, float[] dy, int dyOff, float[] x, int xOff, int A, int C, int B,
                                        float[] coefDy, float[] coefX, float[] center, float[] coefK, int pStride, boolean assign) {
        Loops l = loops();
        if (B == 1 && pStride == 0) {   // channels last, one set of coefficients: a task's rows in one call
            Parallel.forRange(A, elementwiseRows(A, C), (a0, a1) -> {
                int off = a0 * C;
                l.affineBackwardRows(dx, dxOff + off, dy, dyOff + off, x, xOff + off, a1 - a0, C, coefDy, coefX, center, coefK, assign);
            });
            return;
        }
        if (B == 1) {
            Parallel.forRange(A, elementwiseRows(A, C), (a0, a1) -> {
                for (int a = a0; a < a1; a++) {
                    int off = a * C;
                    l.affineBackwardColumns(dx, dxOff + off, dy, dyOff + off, x, xOff + off, C, coefDy, coefX, center, coefK, a * pStride, assign);
                }
            });
            return;
        }
        Parallel.forRange(A, Parallel.grain((long) C * B, TASK_ELEMENTS), (a0, a1) -> {
            for (int a = a0; a < a1; a++) {
                for (int c = 0; c < C; c++) {
                    int p = a * pStride + c, off = (a * C + c) * B;
                    l.affineBackward(dx, dxOff + off, dy, dyOff + off, x, xOff + off, B, coefDy[p], coefX[p], center[p], coefK[p], assign);
                }
            }
        });
    }

    /** The dx coefficients of row r from its sums g1 = Σ gamma·dy and g2 = Σ gamma·dy·xhat: out[0] = coefX, out[1] = coefK. */
    @FunctionalInterface
    public interface RowCoefficients {
        void of(int r, double g1, double g2, float[] out);
    }

    /**
     * Layer / RMS norm backward, each row's dx computed right after its sums, while the row is in
     * cache: with xhat = (x − center[r])·invStd[r] + corr[r] and g = gamma[i] (1 if null), the sums
     * g1 = Σ g·dy and g2 = Σ g·dy·xhat, then {@code coefs} gives coefX, coefK and
     * dx[r,i] += invStd[r]·g·dy + coefX·(x − center[r]) + coefK (with {@code assign}, dx = the
     * update: a fresh buffer; dx may be null: sums only); dGamma[i] += Σ_r dy·xhat, dBeta[i] += Σ_r dy
     * (either may be null). dGamma and dBeta sum over rows: each of at most {@value #ROW_GROUPS}
     * fixed groups of rows (at least about {@value #TASK_ELEMENTS} elements each, by the shape alone)
     * sums into its own partial (float over {@value #FOLD_ROWS} rows, then double), the first into
     * the caller's arrays, added in group order; so the result is the same bits on any number of
     * threads. The partials come from the calling thread's {@link Workspace} (long rows make them
     * megabytes: 9.6 MB for rows of 64·28·28).
     */
    public static void backwardRows(float[] dx, int dxOff, boolean assign, double[] dGamma, double[] dBeta, float[] dy,
                                    int dyOff, float[] x, int xOff, int rows, int len, float[] center, float[] invStd,
                                    float[] corr, float[] gamma, RowCoefficients coefs) {
        Loops l = loops();
        long work = ((long) rows * len + TASK_ELEMENTS - 1) / TASK_ELEMENTS;
        int groups = (int) Math.max(Math.min(1, rows), Math.min(Math.min(rows, ROW_GROUPS), work));
        int per = groups == 0 ? 0 : (rows + groups - 1) / groups;
        double[][] pG = new double[groups][], pB = new double[groups][];
        // float partials of dGamma and dBeta, folded into the group's double sums every FOLD_ROWS rows
        float[][] pfG = new float[groups][], pfB = new float[groups][];
        for (int k = 0; k < groups; k++) {   // here, not in the tasks: the workspace is the caller's
            if (dGamma != null) {
                pG[k] = k == 0 ? dGamma : Workspace.zeroedDoubles(len);
                pfG[k] = Workspace.zeroed(len);
            }
            if (dBeta != null) {
                pB[k] = k == 0 ? dBeta : Workspace.zeroedDoubles(len);
                pfB[k] = Workspace.zeroed(len);
            }
        }
        boolean pairs = (dGamma != null || dBeta != null) && len >= PAIR_ROWS_LEN;
        Parallel.forEach(groups, k -> {
            double[] dG = pG[k], dB = pB[k];
            float[] fG = pfG[k], fB = pfB[k];
            double[] acc = new double[4];
            float[] coef = new float[2], coef2 = new float[4];
            int r0 = k * per, r1 = Math.min(rows, (k + 1) * per);
            if (!pairs && dx != null) {
                // short rows: each row's dx pass also takes the next row's sums, so the next row
                // streams in while this one is computed; the same operations in the same order:
                // each row's sums, its fold, its dx
                double[] next = new double[2];
                if (r0 < r1) l.rowBackwardSums(acc, fG, fB, dy, dyOff + r0 * len, x, xOff + r0 * len, len, center[r0], invStd[r0], corr[r0], gamma);
                for (int r = r0; r < r1; r++) {
                    if ((r - r0) % FOLD_ROWS == FOLD_ROWS - 1 || r == r1 - 1) {
                        fold(l, dG, fG);
                        fold(l, dB, fB);
                    }
                    coefs.of(r, acc[0], acc[1], coef);
                    int off = r * len;
                    if (r + 1 < r1) {
                        next[0] = 0;
                        next[1] = 0;
                        l.rowBackwardThenSums(dx, dxOff + off, dy, dyOff + off, x, xOff + off, len, invStd[r], gamma, coef[0], center[r],
                                coef[1], assign, next, fG, fB, dyOff + off + len, xOff + off + len, center[r + 1], invStd[r + 1], corr[r + 1]);
                        acc[0] = next[0];
                        acc[1] = next[1];
                    } else {
                        l.rowBackward(dx, dxOff + off, dy, dyOff + off, x, xOff + off, len, invStd[r], gamma, coef[0], center[r], coef[1], assign);
                    }
                }
                return;
            }
            for (int r = r0; r < r1; ) {
                // partials too long for L1: rows in pairs, the partials read and written once per
                // two rows in the same float operations (FOLD_ROWS is even: no pair straddles a fold)
                int count = pairs && r + 1 < r1 ? 2 : 1, off = r * len;
                java.util.Arrays.fill(acc, 0);
                if (count == 2) {
                    l.rowBackwardSumsPair(acc, fG, fB, dy, dyOff + off, x, xOff + off, len, center, invStd, corr, r, gamma);
                } else {
                    l.rowBackwardSums(acc, fG, fB, dy, dyOff + off, x, xOff + off, len, center[r], invStd[r], corr[r], gamma);
                }
                int last = r + count - 1;
                if ((last - r0) % FOLD_ROWS == FOLD_ROWS - 1 || last == r1 - 1) {
                    fold(l, dG, fG);
                    fold(l, dB, fB);
                }
                if (dx != null && count == 2) {   // gamma read once for both rows' dx too
                    coefs.of(r, acc[0], acc[1], coef);
                    coef2[0] = coef[0];
                    coef2[1] = coef[1];
                    coefs.of(r + 1, acc[2], acc[3], coef);
                    coef2[2] = coef[0];
                    coef2[3] = coef[1];
                    l.rowBackwardPair(dx, dxOff + off, dy, dyOff + off, x, xOff + off, len, invStd, center, r, gamma, coef2, assign);
                } else if (dx != null) {
                    coefs.of(r, acc[0], acc[1], coef);
                    l.rowBackward(dx, dxOff + off, dy, dyOff + off, x, xOff + off, len, invStd[r], gamma, coef[0], center[r], coef[1], assign);
                }
                r += count;
            }
        });
        for (int k = 1; k < groups; k++) {
            if (pG[k] != null) for (int i = 0; i < len; i++) dGamma[i] += pG[k][i];
            if (pB[k] != null) for (int i = 0; i < len; i++) dBeta[i] += pB[k][i];
        }
    }
}
