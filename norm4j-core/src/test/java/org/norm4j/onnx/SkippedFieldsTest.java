package org.norm4j.onnx;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.norm4j.autograd.Autograd;
import org.norm4j.nn.Flatten;
import org.norm4j.nn.Linear;
import org.norm4j.nn.ReLU;
import org.norm4j.nn.Sequential;
import org.norm4j.tensor.Tensor;
import org.norm4j.testing.Check;

/**
 * Fields the reader does not use are skipped, not misread: a ModelProto doc_string (field 6, a
 * length-delimited string) before and after the graph. Regression test: the skip once resumed
 * a byte early (it added the length to the position before the length prefix was consumed).
 */
class SkippedFieldsTest {
    @Test
    void docStringAnywhereIsSkipped(@TempDir Path dir) throws Exception {
        Sequential model = new Sequential(new Flatten(), new Linear(6, 3), new ReLU());
        model.eval();
        Path plain = dir.resolve("plain.onnx");
        OnnxExport.write(model, new int[] {1, 2, 3}, plain);
        byte[] bytes = Files.readAllBytes(plain);
        byte[] doc = docString("a model with a doc string");
        for (boolean before : new boolean[] {true, false}) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            if (before) out.write(doc);
            out.write(bytes);
            if (!before) out.write(doc);
            Path f = dir.resolve("doc-" + before + ".onnx");
            Files.write(f, out.toByteArray());
            Sequential imported = OnnxImport.read(f);
            Tensor x = Tensor.of(new float[] {1, -2, 3, 0.5f, -1, 2, 0, 1, 1, -3, 2, 2}, 2, 2, 3);
            try (var g = Autograd.noGrad()) {
                Check.close("doc_string " + (before ? "before" : "after") + " the graph", imported.forward(x).toArray(),
                        model.forward(x).toArray(), 0, 0);
            }
        }
    }

    /** Field 6, wire type 2 (tag 0x32), then the length and the UTF-8 bytes (under 128 bytes: one-byte length). */
    private static byte[] docString(String s) {
        byte[] text = s.getBytes(StandardCharsets.UTF_8);
        byte[] f = new byte[2 + text.length];
        f[0] = 0x32;
        f[1] = (byte) text.length;
        System.arraycopy(text, 0, f, 2, text.length);
        return f;
    }
}
