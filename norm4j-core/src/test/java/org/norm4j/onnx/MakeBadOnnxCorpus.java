package org.norm4j.onnx;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.norm4j.onnx.OnnxProto.Attribute;
import org.norm4j.onnx.OnnxProto.Dim;
import org.norm4j.onnx.OnnxProto.Graph;
import org.norm4j.onnx.OnnxProto.Model;
import org.norm4j.onnx.OnnxProto.Node;
import org.norm4j.onnx.OnnxProto.OpsetId;
import org.norm4j.onnx.OnnxProto.TensorProto;
import org.norm4j.onnx.OnnxProto.ValueInfo;

/**
 * Writes the corpus of broken ONNX files replayed by {@link OnnxCorpusTest}
 * (src/test/resources/onnx/bad-onnx: one file per way of being broken, and EXPECTED.txt with
 * {@code <file>\t<fragment the message must contain>}). Not a test: a deterministic program, run by
 * hand when the corpus must change. From the repository root:
 * <pre>
 *   mvn -q -B -o -pl norm4j-core test-compile
 *   java -cp norm4j-core/target/test-classes:norm4j-core/target/classes org.norm4j.onnx.MakeBadOnnxCorpus           (writes)
 *   java -cp norm4j-core/target/test-classes:norm4j-core/target/classes org.norm4j.onnx.MakeBadOnnxCorpus --check   (compares)
 * </pre>
 * An optional last argument names the directory (default norm4j-core/src/test/resources/onnx/bad-onnx,
 * or src/test/resources/onnx/bad-onnx when run from norm4j-core).
 *
 * <p>Every file derives from one small valid model built with the project's own writer
 * ({@link OnnxProto#encode}): x [N, 1, 4, 4] → Conv "conv0" (W [2, 1, 3, 3], B [2]) → Relu "relu1" →
 * Flatten "flat2" → Gemm "fc3" (W2 [3, 8], transB = 1, B2 [3]) → y [N, 3], about 400 bytes. Wire-level
 * damage is done on its bytes, with the enclosing length prefixes re-encoded where a field inside a
 * sub-message changes size; the expected byte offsets are computed from the model's structure, not
 * copied from the reader's messages. Files named {@code unsupported-*} are well-formed models norm4j
 * cannot represent (UnsupportedOnnxException); all others are OnnxFormatExceptions.
 */
public final class MakeBadOnnxCorpus {
    static final String HEADER = """
            # Bad ONNX files replayed by OnnxCorpusTest; made by norm4j-core/src/test/java/org/norm4j/onnx/MakeBadOnnxCorpus.java. Regenerate from the repository root:
            #   mvn -q -B -o -pl norm4j-core test-compile
            #   java -cp norm4j-core/target/test-classes:norm4j-core/target/classes org.norm4j.onnx.MakeBadOnnxCorpus          (--check to compare instead of writing)
            # <file>\t<fragment the exception message must contain>
            # unsupported-*.onnx must give an UnsupportedOnnxException; every other file an OnnxFormatException ending "(at byte N)".
            """;

    private MakeBadOnnxCorpus() {}

    /** One broken file and the fragment its exception's message must contain. */
    record Bad(String name, byte[] bytes, String fragment) {}

    /** A field in an encoded message: absolute offsets of its tag, its length prefix, its body and its end. */
    record Span(int tag, int len, int body, int end) {
        int bodyLength() {
            return end - body;
        }
    }

    // ---- the valid model everything derives from ------------------------------------------------

    static final String PRODUCER = "norm4j-bad-onnx";

    /** Small fixed weights, no random generator: the same bytes on every run. */
    static float[] values(int n, int seed) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = ((i * 5 + seed) % 9 - 4) / 8f;
        return v;
    }

    static TensorProto conv0Weight() {
        return OnnxProto.floatTensor("W", new long[] {2, 1, 3, 3}, values(18, 1));
    }

    static List<TensorProto> initializers(TensorProto w) {
        return List.of(w, OnnxProto.floatTensor("B", new long[] {2}, values(2, 2)),
                OnnxProto.floatTensor("W2", new long[] {3, 8}, values(24, 3)), OnnxProto.floatTensor("B2", new long[] {3}, values(3, 4)));
    }

    static Node conv0(Attribute... extra) {
        List<Attribute> attrs = new ArrayList<>(List.of(OnnxProto.intsAttr("kernel_shape", 3, 3)));
        attrs.addAll(List.of(extra));
        return OnnxProto.node("conv0", "Conv", List.of("x", "W", "B"), List.of("v0"), attrs.toArray(new Attribute[0]));
    }

    static Node relu1() {
        return OnnxProto.node("relu1", "Relu", List.of("v0"), List.of("v1"));
    }

    static Node flat2(String input) {
        return OnnxProto.node("flat2", "Flatten", List.of(input), List.of("v2"));
    }

    static Node fc3() {
        return OnnxProto.node("fc3", "Gemm", List.of("v2", "W2", "B2"), List.of("y"), OnnxProto.intAttr("transB", 1));
    }

    static List<Node> chain() {
        return List.of(conv0(), relu1(), flat2("v1"), fc3());
    }

    static byte[] model(List<Node> nodes, List<TensorProto> inits) {
        List<Dim> in = List.of(Dim.symbolic("N"), Dim.of(1), Dim.of(4), Dim.of(4));
        Graph g = new Graph("bad-onnx", nodes, inits, List.of(new ValueInfo("x", OnnxProto.FLOAT, in, 0)),
                List.of(new ValueInfo("y", OnnxProto.FLOAT, null, 0)), List.of());
        return OnnxProto.encode(new Model(8, PRODUCER, "1", g, List.of(new OpsetId("", 15))));
    }

    static byte[] base() {
        return model(chain(), initializers(conv0Weight()));
    }

    // ---- the corpus -------------------------------------------------------------------------------

    static List<Bad> corpus() {
        byte[] base = base();
        List<Bad> out = new ArrayList<>();
        Span graph = find(base, 7, 0);
        Span producer = find(base, 2, 0);
        Span opset = find(base, 8, 0);
        Span initW = find(base, graph, 5, 0);
        Span rawW = find(base, initW, 9, 0);
        check(graph.body - graph.len == 2, "the graph's length prefix takes 2 bytes");
        check(base[0] == 0x08 && base[1] == 8, "the file starts with ir_version = 8");
        check(opset.tag == graph.end && opset.end == base.length, "opset_import is the last field, right after the graph");
        check(rawW.end == initW.end && rawW.bodyLength() == 72, "W's raw_data is its tensor's last field, 72 bytes");

        // ---- an empty file and truncations ----
        out.add(new Bad("empty.onnx", new byte[0], "the model has no graph (ModelProto field 7); is this an ONNX file? (at byte 0)"));

        out.add(new Bad("truncated-in-varint.onnx", Arrays.copyOf(base, graph.len + 1),
                "truncated varint: the message ends after 1 of its bytes (at byte " + graph.len + ")"));

        int cut = producer.body + 5;
        out.add(new Bad("truncated-in-string.onnx", Arrays.copyOf(base, cut), "length " + producer.bodyLength()
                + " runs past the end of the enclosing message (5 bytes left) (at byte " + producer.len + ")"));

        cut = rawW.body + 36;
        out.add(new Bad("truncated-in-raw-data.onnx", Arrays.copyOf(base, cut), "length " + graph.bodyLength()
                + " runs past the end of the enclosing message (" + (cut - graph.body) + " bytes left) (at byte " + graph.len + ")"));

        out.add(new Bad("truncated-before-opset.onnx", Arrays.copyOf(base, graph.end),
                "the model imports no opset of the default ONNX domain (ModelProto.opset_import) (at byte 0)"));

        // ---- length prefixes that claim more than there is ----
        byte[] huge = splice(base, graph.len, graph.body, varint(1L << 31));
        out.add(new Bad("graph-length-2pow31.onnx", huge, "length 2147483648 runs past the end of the enclosing message ("
                + (huge.length - graph.len - 5) + " bytes left) (at byte " + graph.len + ")"));

        int rawLenInTensor = rawW.len - initW.body;
        byte[] claim = rewrite(base, new int[] {7, 0, 5, 0}, t -> splice(t, rawLenInTensor, rawLenInTensor + 1, varint(1_000_000)));
        Span claimInit = find(claim, find(claim, 7, 0), 5, 0);
        out.add(new Bad("raw-data-length-past-tensor.onnx", claim, "length 1000000 runs past the end of the enclosing message (72 bytes left) (at byte "
                + (claimInit.body + rawLenInTensor) + ")"));

        // ---- varints and wire types ----
        byte[] eleven = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,
                (byte) 0xff, 0x01};
        out.add(new Bad("varint-11-bytes.onnx", splice(base, 1, 2, eleven), "varint longer than 64 bits (at byte 1)"));

        byte[] wire7 = rewrite(base, new int[] {7, 0, 1, 0}, n -> concat(new byte[] {0x0f}, n));   // field 1, wire type 7
        Span wire7Graph = find(wire7, 7, 0);
        out.add(new Bad("wire-type-7-in-node.onnx", wire7, "field 1 has unknown wire type 7 (at byte "
                + find(wire7, wire7Graph, 1, 0).body + ")"));

        byte[] group = rewrite(base, new int[] {8, 0}, o -> concat(new byte[] {0x13}, o));   // field 2, wire type 3 (start group)
        out.add(new Bad("group-wire-type-in-opset.onnx", group, "field 2 uses the group wire type 3, which ONNX never uses (at byte "
                + find(group, 8, 0).body + ")"));

        byte[] graphVarint = base.clone();
        graphVarint[graph.tag] = (7 << 3) | ProtoReader.VARINT;
        out.add(new Bad("graph-wire-type-varint.onnx", graphVarint, "field ModelProto.graph (7) has wire type 0, expected 2 (at byte "
                + graph.tag + ")"));

        // ---- tensors whose data does not match their dims ----
        TensorProto w = conv0Weight();
        byte[] short68 = model(chain(), initializers(withDims(w, w.dims(), Arrays.copyOf(w.rawData(), 68))));
        out.add(new Bad("raw-data-size-mismatch.onnx", short68, "tensor \"W\": raw_data has 68 bytes, dims [2, 1, 3, 3] need 72 (at byte "
                + initializerAt(short68) + ")"));

        byte[] negative = model(chain(), initializers(withDims(w, new long[] {2, -1, 3, 3}, w.rawData())));
        out.add(new Bad("negative-tensor-dim.onnx", negative, "tensor \"W\" has a negative dimension -1 (at byte " + initializerAt(negative) + ")"));

        byte[] absurd = model(chain(), initializers(withDims(w, new long[] {1L << 40, 1L << 40, 3, 3}, w.rawData())));
        out.add(new Bad("absurd-tensor-dims.onnx", absurd, "tensor \"W\" has more than 2^31 elements (dims [1099511627776, 1099511627776, 3, 3]) (at byte "
                + initializerAt(absurd) + ")"));

        // the graph input's third dimension (dim_value 4) rewritten as dim_value -4 (a ten-byte varint)
        int[] dimPath = {7, 0, 11, 0, 2, 0, 1, 0, 2, 0, 1, 2};
        byte[] negInput = rewrite(base, dimPath, d -> concat(new byte[] {0x08}, varint(-4)));
        out.add(new Bad("negative-input-dim.onnx", negInput, "negative dimension -4 (at byte " + (locate(negInput, dimPath).body + 1) + ")"));

        // ---- graphs that refer to what is not there ----
        byte[] missing = model(chain(), initializers(w).stream().filter(t -> !t.name().equals("B")).toList());
        Span missingGraph = find(missing, 7, 0);
        out.add(new Bad("missing-initializer.onnx", missing, "Conv node \"conv0\" reads \"B\", which no initializer or earlier node provides (at byte "
                + find(missing, missingGraph, 1, 0).tag + ")"));

        // ---- well-formed, but not what norm4j can import ----
        Node lstm = OnnxProto.node("lstm1", "LSTM", List.of("v0", "W", "B"), List.of("v1"), OnnxProto.intAttr("hidden_size", 2));
        out.add(new Bad("unsupported-lstm.onnx", model(List.of(conv0(), lstm, flat2("v1"), fc3()), initializers(w)),
                "operator LSTM (LSTM node \"lstm1\") is not supported"));

        out.add(new Bad("unsupported-conv-auto-pad.onnx",
                model(List.of(conv0(OnnxProto.stringAttr("auto_pad", "SAME_UPPER")), relu1(), flat2("v1"), fc3()), initializers(w)),
                "Conv node \"conv0\": attribute auto_pad = SAME_UPPER is not supported"));

        out.add(new Bad("unsupported-not-a-chain.onnx", model(List.of(conv0(), relu1(), flat2("v0"), fc3()), initializers(w)),
                "the graph is not a chain: Flatten node \"flat2\" reads \"v0\", not the output of the layer before it (\"v1\")"));
        return out;
    }

    static TensorProto withDims(TensorProto t, long[] dims, byte[] raw) {
        return new TensorProto(t.name(), t.dataType(), dims, null, null, raw, false, false, 0);
    }

    /** Offset of the first initializer's tag: where errors about tensor "W" point. */
    static int initializerAt(byte[] file) {
        Span g = find(file, 7, 0);
        return find(file, g, 5, 0).tag;
    }

    // ---- byte surgery -------------------------------------------------------------------------

    /** The occurrence-th length-delimited field {@code field} of the top-level message. */
    static Span find(byte[] file, int field, int occurrence) {
        return find(file, new Span(0, 0, 0, file.length), field, occurrence);
    }

    /** The occurrence-th length-delimited field {@code field} inside {@code in}'s body; offsets absolute. */
    static Span find(byte[] file, Span in, int field, int occurrence) {
        byte[] body = Arrays.copyOfRange(file, in.body, in.end);
        ProtoReader r = new ProtoReader(body, null);
        int seen = 0;
        try {
            while (r.hasMore()) {
                int tagAt = r.position();
                int tag = r.readTag();
                int lenAt = r.position();
                if (ProtoReader.wireType(tag) == ProtoReader.LEN) {   // readMessage, not skip: it gives the body's start
                    ProtoReader sub = r.readMessage();
                    if (ProtoReader.fieldNumber(tag) == field && seen++ == occurrence) {
                        return new Span(in.body + tagAt, in.body + lenAt, in.body + sub.position(), in.body + r.position());
                    }
                } else {
                    r.skip(ProtoReader.wireType(tag));
                }
            }
        } catch (OnnxFormatException e) {
            throw new IllegalStateException("cannot walk the bytes at " + in.body + ": " + e.getMessage(), e);
        }
        throw new IllegalStateException("no field " + field + " #" + occurrence + " in the message at " + in.body);
    }

    /** The field at a path of (field number, occurrence) pairs from the top level. */
    static Span locate(byte[] file, int[] path) {
        Span s = find(file, path[0], path[1]);
        for (int k = 2; k < path.length; k += 2) s = find(file, s, path[k], path[k + 1]);
        return s;
    }

    /**
     * {@code msg} with the body of the field at {@code path} (pairs of field number and occurrence)
     * replaced by {@code f} of it; every enclosing length prefix is re-encoded.
     */
    static byte[] rewrite(byte[] msg, int[] path, UnaryOperator<byte[]> f) {
        return rewrite(msg, path, 0, f);
    }

    private static byte[] rewrite(byte[] msg, int[] path, int depth, UnaryOperator<byte[]> f) {
        Span s = find(msg, path[depth], path[depth + 1]);
        byte[] body = Arrays.copyOfRange(msg, s.body, s.end);
        byte[] changed = depth + 2 == path.length ? f.apply(body) : rewrite(body, path, depth + 2, f);
        return concat(Arrays.copyOfRange(msg, 0, s.len), varint(changed.length), changed, Arrays.copyOfRange(msg, s.end, msg.length));
    }

    /** {@code b} with bytes [from, to) replaced by {@code with}. */
    static byte[] splice(byte[] b, int from, int to, byte[] with) {
        return concat(Arrays.copyOfRange(b, 0, from), with, Arrays.copyOfRange(b, to, b.length));
    }

    static byte[] varint(long v) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while ((v & ~0x7fL) != 0) {
            out.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
        return out.toByteArray();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }

    static void check(boolean ok, String what) {
        if (!ok) throw new IllegalStateException("the base model changed: expected " + what);
    }

    // ---- writing and checking ------------------------------------------------------------------

    static String expectedText(List<Bad> corpus) {
        StringBuilder sb = new StringBuilder(HEADER);
        for (Bad b : corpus) sb.append(b.name()).append('\t').append(b.fragment()).append('\n');
        return sb.toString();
    }

    static Path defaultDir() {
        Path fromRoot = Path.of("norm4j-core/src/test/resources/onnx/bad-onnx");
        return Files.isDirectory(fromRoot.getParent()) ? fromRoot : Path.of("src/test/resources/onnx/bad-onnx");
    }

    public static void main(String[] args) throws IOException {
        boolean checkOnly = args.length > 0 && args[0].equals("--check");
        Path dir = args.length > (checkOnly ? 1 : 0) ? Path.of(args[args.length - 1]) : defaultDir();
        byte[] base = base();
        OnnxImport.Imported ok = OnnxImport.fromBytes(base, Path.of("base.onnx"));   // the starting point must itself be valid
        check(Arrays.equals(ok.inputShape(), new int[] {-1, 1, 4, 4}) && ok.model().size() == 4, "a 4-layer model of input [N, 1, 4, 4]");
        List<Bad> corpus = corpus();
        String expected = expectedText(corpus);
        int problems = 0;
        if (checkOnly) {
            TreeSet<String> present = new TreeSet<>();
            try (Stream<Path> s = Files.list(dir)) {
                s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".onnx")).forEach(present::add);
            }
            TreeSet<String> made = new TreeSet<>();
            for (Bad b : corpus) {
                made.add(b.name());
                Path f = dir.resolve(b.name());
                if (!Files.exists(f) || !Arrays.equals(Files.readAllBytes(f), b.bytes())) {
                    System.out.println("differs: " + b.name());
                    problems++;
                }
            }
            if (!present.equals(made)) {
                System.out.println("files " + present + " but the generator makes " + made);
                problems++;
            }
            Path e = dir.resolve("EXPECTED.txt");
            if (!Files.exists(e) || !Files.readString(e, StandardCharsets.UTF_8).equals(expected)) {
                System.out.println("differs: EXPECTED.txt");
                problems++;
            }
        } else {
            Files.createDirectories(dir);
            for (Bad b : corpus) Files.write(dir.resolve(b.name()), b.bytes());
            Files.writeString(dir.resolve("EXPECTED.txt"), expected, StandardCharsets.UTF_8);
        }
        for (Bad b : corpus) {   // what the reader says about each, as OnnxCorpusTest will check it
            Path f = dir.resolve(b.name());
            try {
                OnnxImport.read(f);
                System.out.println("IMPORTED (should fail): " + b.name());
                problems++;
            } catch (IOException e) {
                boolean type = b.name().startsWith("unsupported-") ? e instanceof UnsupportedOnnxException : e instanceof OnnxFormatException;
                boolean good = type && e.getMessage().startsWith(f + ": ") && e.getMessage().contains(b.fragment());
                if (!good) problems++;
                System.out.printf("%-36s %5d bytes  %s %s: %s%n", b.name(), b.bytes().length, good ? "ok " : "BAD", e.getClass().getSimpleName(),
                        e.getMessage());
            }
        }
        System.out.println((checkOnly ? "checked " : "wrote ") + corpus.size() + " files and EXPECTED.txt under " + dir
                + (problems == 0 ? "" : ": " + problems + " problems"));
        if (problems > 0) System.exit(1);
    }
}
