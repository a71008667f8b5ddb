package org.norm4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a write interrupted before its rename leaves (the old file, intact, and a ".name.hex.tmp"
 * beside it), how {@link AtomicFile#deleteLeftovers} clears those, and the test-only pause before
 * the rename that lets the CLI tests kill a real process mid-write.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class AtomicFileInterruptTest {
    @TempDir
    Path dir;

    static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aFailureBeforeTheRenameLeavesTheOldFile() throws IOException {
        Path f = dir.resolve("model.safetensors");
        AtomicFile.writeString(f, "old");
        IOException e = assertThrows(IOException.class, () -> AtomicFile.write(f,
                ch -> AtomicFile.writeFully(ch, ByteBuffer.wrap("new".getBytes(StandardCharsets.UTF_8))),
                tmp -> {
                    assertTrue(Files.size(tmp) == 3, "the content is in the temporary file before the rename");
                    throw new IOException("killed");
                }));
        assertEquals("killed", e.getMessage());
        assertEquals("old", Files.readString(f));
        assertEquals(List.of("model.safetensors"), names(dir), "the temporary file is removed on failure");
    }

    @Test
    void deleteLeftoversRemovesOnlyTheTargetsTemporaryFiles() throws IOException {
        Path f = dir.resolve("model.safetensors");
        Files.writeString(f, "checkpoint");
        for (String n : new String[] {".model.safetensors.1f2e3d4c5b6a7980.tmp", ".model.safetensors.0.tmp",
                ".model.safetensors.notahex.tmp", ".metrics.csv.abc.tmp", "model.safetensors.abc.tmp", ".model.safetensors.abc"}) {
            Files.writeString(dir.resolve(n), "x");
        }
        assertEquals(2, AtomicFile.deleteLeftovers(f));
        assertEquals(List.of(".metrics.csv.abc.tmp", ".model.safetensors.abc", ".model.safetensors.notahex.tmp", "model.safetensors",
                "model.safetensors.abc.tmp"), names(dir));
        assertEquals("checkpoint", Files.readString(f));
        assertEquals(0, AtomicFile.deleteLeftovers(f));
        assertEquals(0, AtomicFile.deleteLeftovers(dir.resolve("absent/model.safetensors")), "no directory, nothing to do");
    }

    /** -Dnorm4j.test.pauseBeforeCommitMs holds a finished temporary file before its rename (here: for one file name only). */
    @Test
    void testPauseHoldsTheFinishedTemporaryFileBeforeTheRename() throws Exception {
        Path paused = dir.resolve("model.safetensors"), other = dir.resolve("metrics.csv");
        System.setProperty("norm4j.test.pauseBeforeCommitMs", "1500");
        System.setProperty("norm4j.test.pauseBeforeCommitFile", "model.safetensors");
        try {
            long t0 = System.nanoTime();
            AtomicFile.writeString(other, "not paused");
            assertTrue(System.nanoTime() - t0 < 1_000_000_000L, "another file's write is not paused");
            CompletableFuture<Void> w = CompletableFuture.runAsync(() -> {
                try {
                    AtomicFile.writeString(paused, "done");
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            Path tmp = null;
            for (int i = 0; i < 100 && tmp == null; i++) {
                try (Stream<Path> s = Files.list(dir)) {
                    tmp = s.filter(p -> p.getFileName().toString().startsWith(".model.safetensors.")).findFirst().orElse(null);
                }
                if (tmp == null || Files.size(tmp) < 4) {
                    tmp = null;
                    Thread.sleep(10);
                }
            }
            assertTrue(tmp != null, "the temporary file appears, complete, while the write is paused");
            assertArrayEquals("done".getBytes(StandardCharsets.UTF_8), Files.readAllBytes(tmp));
            assertFalse(Files.exists(paused), "not renamed yet");
            w.get(10, TimeUnit.SECONDS);
            assertEquals("done", Files.readString(paused));
            assertEquals(List.of("metrics.csv", "model.safetensors"), names(dir));
        } finally {
            System.clearProperty("norm4j.test.pauseBeforeCommitMs");
            System.clearProperty("norm4j.test.pauseBeforeCommitFile");
        }
    }
}
