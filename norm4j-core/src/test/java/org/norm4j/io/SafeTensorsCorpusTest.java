package org.norm4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.norm4j.testing.Corpus;

/**
 * Replays the committed corpus of broken files (src/test/resources/io/bad-safetensors, made by
 * tools/make_safetensors_fixture.py): each must be refused with a SafeTensorsFormatException that
 * names the file and says what is wrong (the fragment listed in EXPECTED.txt).
 */
@Timeout(30)
class SafeTensorsCorpusTest {

    static final Corpus CORPUS = Corpus.of("/io/bad-safetensors", "EXPECTED.txt", "\t", 2);

    static Stream<Arguments> cases() {
        return CORPUS.rows().stream().map(r -> Arguments.of(r[0], r[1]));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void refused(String name, String fragment) {
        Path f = CORPUS.file(name);
        SafeTensorsFormatException e = assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.read(f));
        assertTrue(e.getMessage().startsWith(f.toString() + ": "), "names the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(fragment), "should say '" + fragment + "': " + e.getMessage());
        assertTrue(e.getMessage().matches("(?s).*\\(at byte \\d+\\)$"), "gives the offset: " + e.getMessage());
        SafeTensorsFormatException h = assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.readHeader(f));
        assertEquals(e.getMessage(), h.getMessage(), "readHeader() refuses it the same way");
    }

    @Test
    void everyFileIsListed() {
        CORPUS.assertEveryFileListed(n -> n.endsWith(".safetensors"), 30);
    }
}
