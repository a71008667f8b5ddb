package org.norm4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Replays the committed corpus of malformed IDX files in src/test/resources/data/bad-idx/
 * (regenerate with src/test/resources/data/make_bad_idx.py): each must give an IdxFormatException
 * with the file name, the offset listed in manifest.txt and the listed fragment, and nothing else
 * (no OutOfMemoryError, no IndexOutOfBoundsException).
 */
class IdxCorpusTest {
    private static Path corpus() throws URISyntaxException {
        URL url = IdxCorpusTest.class.getResource("/data/bad-idx/manifest.txt");
        assertNotNull(url, "missing test resource /data/bad-idx/manifest.txt");
        return Path.of(url.toURI()).getParent();
    }

    private static List<String[]> manifest() throws IOException, URISyntaxException {
        List<String[]> rows = new ArrayList<>();
        for (String line : Files.readAllLines(corpus().resolve("manifest.txt"), StandardCharsets.UTF_8)) {
            if (line.isBlank() || line.startsWith("#")) continue;
            rows.add(line.split(" ", 3)); // file, offset, fragment
        }
        return rows;
    }

    @TestFactory
    Stream<DynamicTest> everyBadFileIsRejectedWithItsOffset() throws IOException, URISyntaxException {
        Path dir = corpus();
        return manifest().stream().map(row -> DynamicTest.dynamicTest(row[0], () -> {
            Path f = dir.resolve(row[0]);
            try {
                Idx.read(f);
                fail(row[0] + " was accepted");
            } catch (IdxFormatException e) {
                String m = e.getMessage();
                assertTrue(m.contains(row[0]), "names the file: " + m);
                assertTrue(m.contains(row[2]), "says '" + row[2] + "': " + m);
                if (!row[1].equals("*")) {
                    assertEquals(Long.parseLong(row[1]), e.offset(), m);
                    assertTrue(m.contains("offset " + row[1]) || m.contains("after " + row[1]), m);
                }
            }
        }));
    }

    @Test
    void manifestCoversEveryFile() throws IOException, URISyntaxException {
        List<String> listed = new ArrayList<>();
        for (String[] row : manifest()) listed.add(row[0]);
        try (Stream<Path> files = Files.list(corpus())) {
            files.map(p -> p.getFileName().toString()).filter(n -> !n.equals("manifest.txt"))
                    .forEach(n -> assertTrue(listed.contains(n), n + " is not in manifest.txt"));
        }
        assertTrue(listed.size() >= 15, "corpus has " + listed.size() + " files");
    }
}
