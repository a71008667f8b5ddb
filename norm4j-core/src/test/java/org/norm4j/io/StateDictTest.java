package org.norm4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.norm4j.io.SafeTensors.DType;
import org.norm4j.io.SafeTensors.Entry;
import org.norm4j.nn.Module;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.nn.norm.Convention;
import org.norm4j.nn.norm.LayerNorm;
import org.norm4j.tensor.Tensor;

/** A module's state under PyTorch's keys: names, order, round trip, and strict loading that changes nothing on error. */
class StateDictTest {
    @TempDir
    Path dir;

    static Tensor random(Random rng, float scale, float shift, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) rng.nextGaussian() * scale + shift;
        return Tensor.of(v, shape);
    }

    /** Sequential(BN(3), BN(4)) after training forwards (non-trivial running stats, num_batches_tracked 2 and 1) and random affine. */
    static Sequential trainedBns(long seed) {
        Random rng = new Random(seed);
        Sequential net = new Sequential(BatchNorm.of(Convention.PYTORCH, 3), BatchNorm.of(Convention.PYTORCH, 4));
        net.get(0).forward(random(rng, 2, 1, 5, 3, 4, 4));
        net.get(0).forward(random(rng, 2, 1, 5, 3, 4, 4));
        net.get(1).forward(random(rng, 3, -1, 6, 4));
        randomizeParameters(net, rng);
        return net;
    }

    static void randomizeParameters(Module m, Random rng) {
        m.namedParameters().values().forEach(p -> {
            for (int i = 0; i < p.size(); i++) p.data()[i] = (float) rng.nextGaussian();
        });
    }

    /** Every value of a module's state, by key (Entry compares by content). */
    static Map<String, Entry> snapshot(Module m) {
        return StateDict.entries(m);
    }

    @Test
    void keysArePyTorchsInStateDictOrder() {
        assertEquals(List.of("0.weight", "0.bias", "0.running_mean", "0.running_var", "0.num_batches_tracked",
                "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked"), StateDict.keys(trainedBns(1)));
        Sequential nested = new Sequential(new LayerNorm(2, 3), new Sequential(BatchNorm.of(Convention.PYTORCH, 2),
                new LayerNorm(new int[] {5}, 1e-5, false)));
        assertEquals(List.of("0.weight", "0.bias", "1.0.weight", "1.0.bias", "1.0.running_mean", "1.0.running_var",
                "1.0.num_batches_tracked"), StateDict.keys(nested));
    }

    @Test
    void dtypesAndShapes() {
        Map<String, Entry> e = StateDict.entries(trainedBns(1));
        assertEquals(DType.F32, e.get("1.running_var").dtype());
        assertArrayEquals(new long[] {4}, e.get("1.running_var").shape());
        assertEquals(DType.I64, e.get("0.num_batches_tracked").dtype());
        assertArrayEquals(new long[0], e.get("0.num_batches_tracked").shape(), "0-dim, as PyTorch");
        assertEquals(2L, e.get("0.num_batches_tracked").longs()[0]);
        assertEquals(1L, e.get("1.num_batches_tracked").longs()[0]);
        assertArrayEquals(new long[] {2, 3}, StateDict.entries(new LayerNorm(2, 3)).get("weight").shape());
    }

    @Test
    void otherStoragesGetSnakeCaseKeys() {
        assertEquals(List.of("weight", "bias", "running_mean", "running_inv_std", "num_batches_tracked"),
                StateDict.keys(BatchNorm.of(Convention.LASAGNE, 3)));
        assertEquals(List.of("weight", "bias", "running_mean", "running_log10_std", "num_batches_tracked"),
                StateDict.keys(BatchNorm.of(Convention.DL4J, 3)));
        assertEquals("1.running_mean", StateDict.torchKey("1.runningMean"));
        assertEquals("layers.10.num_batches_tracked", StateDict.torchKey("layers.10.numBatchesTracked"));
        assertEquals("running_log10_std", StateDict.torchKey("runningLog10Std"));
        assertEquals("http_server.weight", StateDict.torchKey("HTTPServer.weight"));
    }

    @Test
    void roundTripOfBatchNormsAndLayerNorm() throws IOException {
        Sequential saved = new Sequential(trainedBns(1), new LayerNorm(2, 3));
        randomizeParameters(saved.get(1), new Random(5));
        Path f = dir.resolve("model.safetensors");
        StateDict.save(saved, f, Map.of("epoch", "3"));
        assertEquals(Map.of("format", "pt", "epoch", "3"), SafeTensors.metadata(f));

        Sequential loaded = new Sequential(new Sequential(BatchNorm.of(Convention.PYTORCH, 3), BatchNorm.of(Convention.PYTORCH, 4)),
                new LayerNorm(2, 3));
        assertNotEquals(snapshot(saved), snapshot(loaded));
        assertEquals(Map.of("format", "pt", "epoch", "3"), StateDict.load(loaded, f), "load returns the metadata");
        assertEquals(snapshot(saved), snapshot(loaded));
        assertEquals(2, ((BatchNorm) ((Sequential) loaded.get(0)).get(0)).numBatchesTracked());
        assertEquals(List.copyOf(StateDict.keys(saved)), List.copyOf(SafeTensors.read(f).keySet()), "file in state_dict order");

        // the loaded model computes what the saved one does
        Tensor x = random(new Random(9), 1, 0, 2, 3, 2, 2);
        saved.eval();
        loaded.eval();
        assertArrayEquals(((Sequential) saved.get(0)).get(0).forward(x).toArray(), ((Sequential) loaded.get(0)).get(0).forward(x).toArray());
    }

    @Test
    void describeListsNamesDtypesShapes() throws IOException {
        Path f = dir.resolve("model.safetensors");
        StateDict.save(trainedBns(1), f, null);
        Map<String, SafeTensors.TensorInfo> d = StateDict.describe(f);
        assertEquals(StateDict.keys(trainedBns(1)), List.copyOf(d.keySet()));
        assertEquals(DType.I64, d.get("1.num_batches_tracked").dtype());
        assertArrayEquals(new long[] {4}, d.get("1.weight").shape());
    }

    // ---- strict loading ------------------------------------------------------------------

    private StateDictMismatchException refused(Module m, Path f, String... mustMention) {
        Map<String, Entry> before = snapshot(m);
        StateDictMismatchException e = assertThrows(StateDictMismatchException.class, () -> StateDict.load(m, f));
        assertTrue(e.getMessage().contains(f.toString()), "names the file: " + e.getMessage());
        for (String s : mustMention) assertTrue(e.getMessage().contains(s), "should mention '" + s + "': " + e.getMessage());
        assertEquals(before, snapshot(m), "module unchanged after: " + e.getMessage());
        return e;
    }

    private Path saved(Module m, String name) throws IOException {
        Path f = dir.resolve(name);
        StateDict.save(m, f, null);
        return f;
    }

    @Test
    void missingKeys() throws IOException {
        Path f = saved(new Sequential(BatchNorm.of(Convention.PYTORCH, 3)), "one.safetensors");
        StateDictMismatchException e = refused(trainedBns(2), f, "Missing key(s) in state_dict: \"1.weight\", \"1.bias\"");
        assertEquals(List.of("1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked"), e.missing());
        assertTrue(e.unexpected().isEmpty() && e.mismatched().isEmpty());
    }

    @Test
    void unexpectedKeys() throws IOException {
        Path f = saved(trainedBns(1), "two.safetensors");
        Sequential one = new Sequential(BatchNorm.of(Convention.PYTORCH, 3));
        StateDictMismatchException e = refused(one, f, "Unexpected key(s) in state_dict: \"1.weight\"");
        assertEquals(5, e.unexpected().size());
    }

    @Test
    void wrongShape() throws IOException {
        Path f = saved(trainedBns(1), "two.safetensors");
        Sequential other = new Sequential(BatchNorm.of(Convention.PYTORCH, 3), BatchNorm.of(Convention.PYTORCH, 5));
        other.get(1).forward(random(new Random(3), 1, 0, 4, 5));
        StateDictMismatchException e = refused(other, f,
                "size mismatch for 1.weight: copying a param with shape [4] from checkpoint, the shape in current model is [5].");
        assertEquals(4, e.mismatched().size(), "weight, bias, running_mean, running_var");
    }

    @Test
    void everythingWrongAtOnceIsReportedAtOnce() throws IOException {
        Map<String, Entry> state = new LinkedHashMap<>(StateDict.entries(trainedBns(1)));
        state.remove("0.bias");
        state.put("2.weight", Entry.f32(new float[] {1f}, 1));
        state.put("1.num_batches_tracked", Entry.f32(new float[] {1f}));
        state.put("0.running_mean", Entry.f32(new float[3], 3, 1));
        state.put("0.num_batches_tracked", Entry.i64Scalar(-1));
        Path f = dir.resolve("bad.safetensors");
        SafeTensors.write(f, state, null);
        StateDictMismatchException e = refused(trainedBns(2), f, "Missing key(s) in state_dict: \"0.bias\".",
                "Unexpected key(s) in state_dict: \"2.weight\".", "dtype mismatch for 1.num_batches_tracked",
                "size mismatch for 0.running_mean", "invalid value for 0.num_batches_tracked: -1");
        assertEquals(List.of("0.bias"), e.missing());
        assertEquals(List.of("2.weight"), e.unexpected());
        assertEquals(3, e.mismatched().size());
    }

    @Test
    void counterMustBeZeroDim() throws IOException {
        Map<String, Entry> state = new LinkedHashMap<>(StateDict.entries(BatchNorm.of(Convention.PYTORCH, 3)));
        state.put("num_batches_tracked", Entry.i64(new long[] {5}, 1));
        Path f = dir.resolve("bad.safetensors");
        SafeTensors.write(f, state, null);
        refused(BatchNorm.of(Convention.PYTORCH, 3), f, "size mismatch for num_batches_tracked: copying a param with shape [1]");
    }

    @Test
    void corruptFileChangesNothing() throws IOException {
        Path f = saved(trainedBns(1), "model.safetensors");
        byte[] b = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(b, b.length - 1));
        Sequential m = trainedBns(2);
        Map<String, Entry> before = snapshot(m);
        SafeTensorsFormatException e = assertThrows(SafeTensorsFormatException.class, () -> StateDict.load(m, f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        assertEquals(before, snapshot(m));
    }

    @Test
    void saveIsAtomic() throws IOException {
        Path f = saved(trainedBns(1), "model.safetensors");
        byte[] before = Files.readAllBytes(f);
        Files.createDirectory(dir.resolve("blocked"));
        Files.writeString(dir.resolve("blocked").resolve("x"), "x");
        assertThrows(IOException.class, () -> StateDict.save(trainedBns(2), dir.resolve("blocked"), null));
        assertArrayEquals(before, Files.readAllBytes(f));
        assertEquals(List.of("blocked", "model.safetensors"), SafeTensorsTest.listing(dir));
    }
}
