package org.norm4j.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * A committed corpus of bad files under src/test/resources, with the listing that says what each
 * file must be refused with: one row per file, the file name first, then the columns the test
 * reads (the message fragment, an offset). Blank lines and lines starting with '#' are comments.
 * Shared by the ONNX, safetensors and IDX corpus tests, which differ only in the columns.
 */
public final class Corpus {
    private final Path dir;
    private final String listing;
    private final String separator;
    private final int columns;

    private Corpus(Path dir, String listing, String separator, int columns) {
        this.dir = dir;
        this.listing = listing;
        this.separator = separator;
        this.columns = columns;
    }

    /**
     * The corpus in the test-resource folder {@code resourceDir} (e.g. "/onnx/bad-onnx"), listed
     * in its file {@code listing}, each row split at the first {@code columns − 1} occurrences of
     * the regular expression {@code separator}.
     */
    public static Corpus of(String resourceDir, String listing, String separator, int columns) {
        URL url = Corpus.class.getResource(resourceDir + "/" + listing);
        assertNotNull(url, "missing test resource " + resourceDir + "/" + listing);
        try {
            return new Corpus(Path.of(url.toURI()).getParent(), listing, separator, columns);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(url + " is not a file path", e);
        }
    }

    public Path dir() {
        return dir;
    }

    public Path file(String name) {
        return dir.resolve(name);
    }

    /** The listing's rows, each with exactly {@code columns} fields; a shorter row fails the test, naming the line. */
    public List<String[]> rows() {
        List<String> lines;
        try {
            lines = Files.readAllLines(dir.resolve(listing), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String[]> rows = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank() || line.startsWith("#")) continue;
            String[] row = line.split(separator, columns);
            assertEquals(columns, row.length, listing + " line " + (i + 1) + " should have " + columns + " fields: " + line);
            rows.add(row);
        }
        return rows;
    }

    /** The files the listing names, in its order. */
    public List<String> listed() {
        List<String> names = new ArrayList<>();
        for (String[] row : rows()) names.add(row[0]);
        return names;
    }

    /**
     * Every file of the folder that {@code isCorpusFile} accepts is listed, every listed file
     * exists, and there are at least {@code atLeast} of them.
     */
    public void assertEveryFileListed(Predicate<String> isCorpusFile, int atLeast) {
        TreeSet<String> files = new TreeSet<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.map(p -> p.getFileName().toString()).filter(n -> !n.equals(listing)).filter(isCorpusFile).forEach(files::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertEquals(files, new TreeSet<>(listed()), "the files of " + dir + " and the rows of " + listing);
        assertTrue(files.size() >= atLeast, "corpus has " + files.size() + " files, expected at least " + atLeast);
    }
}
