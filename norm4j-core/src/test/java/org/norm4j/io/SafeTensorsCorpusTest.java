package org.norm4j.io;

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
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Replays the committed corpus of broken files (src/test/resources/io/bad-safetensors, made by
 * tools/make_safetensors_fixture.py): each must be refused with a SafeTensorsFormatException that
 * names the file and says what is wrong (the fragment listed in EXPECTED.txt).
 */
@Timeout(30)
class SafeTensorsCorpusTest {

    static Path corpus() throws URISyntaxException {
        return Path.of(SafeTensorsCorpusTest.class.getResource("/io/bad-safetensors").toURI());
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
    void refused(String name, String fragment) throws URISyntaxException {
        Path f = corpus().resolve(name);
        SafeTensorsFormatException e = assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.read(f));
        assertTrue(e.getMessage().startsWith(f.toString() + ": "), "names the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(fragment), "should say '" + fragment + "': " + e.getMessage());
        assertTrue(e.getMessage().matches("(?s).*\\(at byte \\d+\\)$"), "gives the offset: " + e.getMessage());
        SafeTensorsFormatException h = assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.readHeader(f));
        assertEquals(e.getMessage(), h.getMessage(), "readHeader() refuses it the same way");
    }

    @Test
    void everyFileIsListed() throws IOException, URISyntaxException {
        TreeSet<String> files = new TreeSet<>();
        try (Stream<Path> s = Files.list(corpus())) {
            s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".safetensors")).forEach(files::add);
        }
        assertEquals(files, new TreeSet<>(expected().keySet()));
        assertTrue(files.size() >= 30, "corpus has " + files.size() + " files");
    }
}
