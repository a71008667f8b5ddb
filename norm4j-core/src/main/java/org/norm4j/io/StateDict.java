package org.norm4j.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.norm4j.io.SafeTensors.DType;
import org.norm4j.io.SafeTensors.Entry;
import org.norm4j.nn.Module;
import org.norm4j.tensor.Tensor;

/**
 * A module's state as a PyTorch state dict in a safetensors file: the file PyTorch's
 * {@code model.load_state_dict(safetensors.torch.load_file(path), strict=True)} accepts for the
 * equivalent {@code torch.nn} model, and the file norm4j loads back.
 *
 * <p>Keys: the dotted norm4j name with each camelCase segment in snake_case ({@code 1.runningMean}
 * → {@code 1.running_mean}, {@code 1.numBatchesTracked} → {@code 1.num_batches_tracked},
 * {@code runningLog10Std} → {@code running_log10_std}). Parameters and buffers are F32 with the
 * tensor's shape; counters are I64 of shape {@code []} (0-dim, as num_batches_tracked). Order as
 * PyTorch's {@code state_dict()}: each module's parameters, then buffers, then counters, then its
 * children in registration order.
 *
 * <p>This is PyTorch's key naming, not a converter: a norm4j layer whose state differs from its
 * torch.nn counterpart (a Lasagne BN storing inv_std) writes keys PyTorch will not expect.
 */
public final class StateDict {
    private StateDict() {}

    /** One piece of state under its PyTorch key: a float tensor or a long counter. */
    private record Slot(String key, String name, Tensor tensor, long[] counter) {}

    // ---- names ---------------------------------------------------------------------------

    /** PyTorch's key for a dotted norm4j state name: each segment camelCase → snake_case. */
    public static String torchKey(String norm4jName) {
        String[] segments = norm4jName.split("\\.", -1);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < segments.length; i++) sb.append(i == 0 ? "" : ".").append(snakeCase(segments[i]));
        return sb.toString();
    }

    /** "runningMean" → "running_mean", "runningLog10Std" → "running_log10_std", "HTTPServer" → "http_server". */
    static String snakeCase(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 4);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isUpperCase(c)) {
                char prev = i > 0 ? s.charAt(i - 1) : 0;
                boolean afterWord = i > 0 && (Character.isLowerCase(prev) || Character.isDigit(prev));
                boolean endOfAcronym = i > 0 && Character.isUpperCase(prev) && i + 1 < s.length() && Character.isLowerCase(s.charAt(i + 1));
                if (afterWord || endOfAcronym) sb.append('_');
                sb.append(Character.toLowerCase(c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /** The module's state keys, in state_dict order. */
    public static List<String> keys(Module m) {
        List<String> keys = new ArrayList<>();
        for (Slot s : slots(m)) keys.add(s.key());
        return keys;
    }

    private static List<Slot> slots(Module root) {
        List<Slot> out = new ArrayList<>();
        collect(root, "", out);
        Map<String, String> seen = new HashMap<>();
        for (Slot s : out) {
            String before = seen.putIfAbsent(s.key(), s.name());
            if (before != null) {
                throw new IllegalStateException(root.describe() + ": state \"" + before + "\" and \"" + s.name()
                        + "\" both map to the PyTorch key \"" + s.key() + "\"");
            }
        }
        return out;
    }

    /** PyTorch's order: this module's parameters, buffers, counters; then each child, recursively. */
    private static void collect(Module m, String prefix, List<Slot> out) {
        Set<String> children = m.children().keySet();
        m.namedParameters().forEach((n, p) -> {
            if (own(n, children)) out.add(new Slot(torchKey(prefix + n), prefix + n, p, null));
        });
        m.namedBuffers().forEach((n, t) -> {
            if (own(n, children)) out.add(new Slot(torchKey(prefix + n), prefix + n, t, null));
        });
        m.namedCounters().forEach((n, c) -> {
            if (own(n, children)) out.add(new Slot(torchKey(prefix + n), prefix + n, null, c));
        });
        m.children().forEach((n, child) -> collect(child, prefix + n + ".", out));
    }

    /** True when {@code name} (from a named* map) belongs to the module itself, not to a child. */
    private static boolean own(String name, Set<String> children) {
        for (String c : children) if (name.startsWith(c + ".")) return false;
        return true;
    }

    // ---- save ------------------------------------------------------------------------------

    /** The module's state as safetensors entries under PyTorch's keys, in state_dict order (a copy). */
    public static Map<String, Entry> entries(Module m) {
        Map<String, Entry> out = new LinkedHashMap<>();
        for (Slot s : slots(m)) {
            out.put(s.key(), s.tensor() != null ? Entry.f32(s.tensor().toArray(), longs(s.tensor().shape()))
                    : Entry.i64Scalar(s.counter()[0]));
        }
        return out;
    }

    /**
     * Writes the module's state atomically. {@code metadata} (may be null) goes to
     * {@code __metadata__}; {@code "format": "pt"} is added unless given, as Hugging Face's
     * loaders expect it of PyTorch-layout files.
     */
    public static void save(Module m, Path file, Map<String, String> metadata) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        if (metadata != null) meta.putAll(metadata);
        SafeTensors.write(file, entries(m), meta);
    }

    // ---- load ------------------------------------------------------------------------------

    /**
     * Loads a state dict strictly, as {@code load_state_dict(strict=True)}: the file must hold
     * exactly the module's keys, each with the module's shape and dtype (F32 for parameters and
     * buffers, 0-dim I64 ≥ 0 for counters). Everything is checked before anything is copied, so on
     * any error the module is unchanged.
     *
     * @return the file's {@code __metadata__} (empty when it has none), e.g. the epoch to resume from
     * @throws SafeTensorsFormatException  if the file is not valid safetensors
     * @throws StateDictMismatchException  listing every missing, unexpected and mismatched key
     */
    public static Map<String, String> load(Module m, Path file) throws IOException {
        SafeTensors.Contents c = SafeTensors.readContents(file);
        load(m, c.tensors(), file);
        return c.metadata();
    }

    /** {@link #load(Module, Path)} from entries already in memory. */
    public static void load(Module m, Map<String, Entry> state) {
        load(m, state, null);
    }

    private static void load(Module m, Map<String, Entry> state, Path file) {
        List<Slot> slots = slots(m);
        List<String> missing = new ArrayList<>(), unexpected = new ArrayList<>(), mismatched = new ArrayList<>();
        Map<String, Slot> byKey = new HashMap<>();
        for (Slot s : slots) {
            byKey.put(s.key(), s);
            Entry e = state.get(s.key());
            if (e == null) {
                missing.add(s.key());
                continue;
            }
            long[] want = s.tensor() != null ? longs(s.tensor().shape()) : new long[0];
            DType wantType = s.tensor() != null ? DType.F32 : DType.I64;
            if (e.dtype() != wantType) {
                mismatched.add("dtype mismatch for " + s.key() + ": copying a param of dtype " + e.dtype()
                        + " from checkpoint, the dtype in current model is " + wantType + ".");
            } else if (!Arrays.equals(e.shape(), want)) {
                mismatched.add("size mismatch for " + s.key() + ": copying a param with shape " + Arrays.toString(e.shape())
                        + " from checkpoint, the shape in current model is " + Arrays.toString(want) + ".");
            } else if (s.counter() != null && e.longs()[0] < 0) {
                mismatched.add("invalid value for " + s.key() + ": " + e.longs()[0] + " (a counter is ≥ 0).");
            }
        }
        for (String k : state.keySet()) if (!byKey.containsKey(k)) unexpected.add(k);
        if (!missing.isEmpty() || !unexpected.isEmpty() || !mismatched.isEmpty()) {
            throw new StateDictMismatchException(m.describe(), file, missing, unexpected, mismatched);
        }
        // decode everything, then write: nothing below can fail halfway
        List<float[]> floats = new ArrayList<>();
        List<Long> longs = new ArrayList<>();
        for (Slot s : slots) {
            Entry e = state.get(s.key());
            if (s.tensor() != null) floats.add(e.floats());
            else longs.add(e.longs()[0]);
        }
        int fi = 0, li = 0;
        for (Slot s : slots) {
            if (s.tensor() != null) s.tensor().copyFrom(floats.get(fi++));
            else s.counter()[0] = longs.get(li++);
        }
    }

    // ---- inspection ------------------------------------------------------------------------

    /** Names, dtypes, shapes and offsets of a safetensors file's tensors, in header order; reads only the header. */
    public static Map<String, SafeTensors.TensorInfo> describe(Path file) throws IOException {
        return SafeTensors.readHeader(file).tensors();
    }

    private static long[] longs(int[] shape) {
        long[] l = new long[shape.length];
        for (int i = 0; i < shape.length; i++) l[i] = shape[i];
        return l;
    }
}
