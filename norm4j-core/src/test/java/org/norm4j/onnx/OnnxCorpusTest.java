package org.norm4j.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.norm4j.testing.Corpus;

/**
 * Replays the committed corpus of broken ONNX files (src/test/resources/onnx/bad-onnx, made by
 * {@link MakeBadOnnxCorpus}): each must be refused with an OnnxFormatException that names the file,
 * says what is wrong (the fragment listed in EXPECTED.txt) and where (the byte offset), or, for the
 * files named unsupported-*, with an UnsupportedOnnxException naming the file, the operator and the
 * node. Never another exception, an out-of-memory or a hang.
 */
@Timeout(30)
class OnnxCorpusTest {
    private static final Pattern AT_BYTE = Pattern.compile("(?s).*\\(at byte (\\d+)\\)$");

    static final Corpus CORPUS = Corpus.of("/onnx/bad-onnx", "EXPECTED.txt", "\t", 2);

    static Stream<Arguments> cases() {
        return CORPUS.rows().stream().map(r -> Arguments.of(r[0], r[1]));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void refused(String name, String fragment) throws Exception {
        Path f = CORPUS.file(name);
        boolean unsupported = name.startsWith("unsupported-");
        Class<? extends IOException> type = unsupported ? UnsupportedOnnxException.class : OnnxFormatException.class;
        IOException e = assertThrows(type, () -> OnnxImport.read(f));
        assertTrue(e.getMessage().startsWith(f.toString() + ": "), "names the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(fragment), "should say '" + fragment + "': " + e.getMessage());
        if (e instanceof OnnxFormatException fe) {
            assertEquals(f, fe.file());
            Matcher m = AT_BYTE.matcher(e.getMessage());
            assertTrue(m.matches(), "gives the offset: " + e.getMessage());
            assertEquals(Long.parseLong(m.group(1)), fe.offset(), "offset() is the byte the message gives");
            assertTrue(fe.offset() >= 0 && fe.offset() <= Files.size(f), "the offset lies in the file: " + e.getMessage());
        } else {
            UnsupportedOnnxException ue = (UnsupportedOnnxException) e;
            assertEquals(f, ue.file());
            assertTrue(e.getMessage().contains(ue.opType()) && e.getMessage().contains("\"" + ue.nodeName() + "\""),
                    "names the operator " + ue.opType() + " and the node " + ue.nodeName() + ": " + e.getMessage());
        }
        IOException l = assertThrows(type, () -> OnnxImport.load(f));
        assertEquals(e.getMessage(), l.getMessage(), "load() refuses it the same way");
    }

    @Test
    void everyFileIsListed() throws IOException {
        CORPUS.assertEveryFileListed(n -> n.endsWith(".onnx"), 12);
        for (String n : CORPUS.listed()) assertTrue(Files.size(CORPUS.file(n)) < 5 * 1024, n + " is small");
    }
}
