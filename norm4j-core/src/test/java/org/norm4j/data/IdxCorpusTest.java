package org.norm4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.norm4j.testing.Corpus;

/**
 * Replays the committed corpus of malformed IDX files in src/test/resources/data/bad-idx/
 * (regenerate with src/test/resources/data/make_bad_idx.py): each must give an IdxFormatException
 * with the file name, the offset listed in manifest.txt and the listed fragment, and nothing else
 * (no OutOfMemoryError, no IndexOutOfBoundsException).
 */
class IdxCorpusTest {
    /** Rows: file, offset ('*' = any), message fragment. */
    private static final Corpus CORPUS = Corpus.of("/data/bad-idx", "manifest.txt", " ", 3);

    @TestFactory
    Stream<DynamicTest> everyBadFileIsRejectedWithItsOffset() {
        return CORPUS.rows().stream().map(row -> DynamicTest.dynamicTest(row[0], () -> {
            Path f = CORPUS.file(row[0]);
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
    void manifestCoversEveryFile() {
        CORPUS.assertEveryFileListed(n -> true, 15);
    }
}
