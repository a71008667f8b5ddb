package org.norm4j.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

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

    static Path corpus() throws URISyntaxException {
        return Path.of(OnnxCorpusTest.class.getResource("/onnx/bad-onnx").toURI());
    }

    static Map<String, String> expected() throws IOException, URISyntaxException {
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : Files.readAllLines(corpus().resolve("EXPECTED.txt"), StandardCharsets.UTF_8)) {
            if (line.isBlank() || line.startsWith("#")) continue;
            String[] parts = line.split("\t", 2);
            m.put(parts[0], parts[1]);
        }
        return m;
    }

    static Stream<Arguments> cases() throws IOException, URISyntaxException {
        return expected().entrySet().stream().map(e -> Arguments.of(e.getKey(), e.getValue()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void refused(String name, String fragment) throws Exception {
        Path f = corpus().resolve(name);
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
    void everyFileIsListed() throws IOException, URISyntaxException {
        TreeSet<String> files = new TreeSet<>();
        try (Stream<Path> s = Files.list(corpus())) {
            s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".onnx")).forEach(files::add);
        }
        assertEquals(files, new TreeSet<>(expected().keySet()));
        assertTrue(files.size() >= 12, "corpus has " + files.size() + " files");
        for (String n : files) assertTrue(Files.size(corpus().resolve(n)) < 5 * 1024, n + " is small");
    }
}
