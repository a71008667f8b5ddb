package org.norm4j.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes a file atomically: the content goes to a temporary file in the same directory (named
 * ".name.random.tmp", created with the default permissions, unlike Files.createTempFile's
 * owner-only ones), is forced to disk, and is renamed over the target; on any failure the
 * temporary file is removed and the target is left as it was. Every file norm4j writes goes
 * through here.
 */
public final class AtomicFile {
    private AtomicFile() {}

    /** Produces the content into a channel opened on the temporary file. */
    @FunctionalInterface
    public interface Content {
        void writeTo(FileChannel channel) throws IOException;
    }

    /** A step run just before the rename; tests use it to simulate a failure after the content is written. */
    @FunctionalInterface
    interface BeforeCommit {
        void run(Path tmp) throws IOException;
    }

    public static void write(Path file, Content content) throws IOException {
        write(file, content, tmp -> {});
    }

    /**
     * Test-only: with {@code -Dnorm4j.test.pauseBeforeCommitMs=N} (and, optionally,
     * {@code -Dnorm4j.test.pauseBeforeCommitFile=NAME} to pause for that target file name only),
     * sleeps N ms after the content is on disk and before the rename, so that a test can kill the
     * process in the middle of a write. Unset, it does nothing.
     */
    private static void testPause(Path tmp) {
        long ms = Long.getLong("norm4j.test.pauseBeforeCommitMs", 0);
        if (ms <= 0) return;
        String only = System.getProperty("norm4j.test.pauseBeforeCommitFile");
        if (only != null && !tmp.getFileName().toString().startsWith("." + only + ".")) return;
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Deletes the temporary files that writes of {@code file} left behind when their process was
     * killed before the rename (".name.hex.tmp" beside it); returns how many. The target itself is
     * never touched. Call it only while no other process writes {@code file}.
     */
    public static int deleteLeftovers(Path file) throws IOException {
        Path target = file.toAbsolutePath();
        String prefix = "." + target.getFileName() + ".";
        int n = 0;
        try (var files = Files.newDirectoryStream(target.getParent(), p -> {
            String f = p.getFileName().toString();
            return f.startsWith(prefix) && f.endsWith(".tmp") && f.substring(prefix.length(), f.length() - 4).matches("[0-9a-f]{1,16}");
        })) {
            for (Path p : files) {
                if (Files.deleteIfExists(p)) n++;
            }
        } catch (java.nio.file.NoSuchFileException absentDirectory) {
            return 0;
        }
        return n;
    }

    /** The content as a stream (closing it is harmless; the channel is forced and closed here). */
    public static void writeStream(Path file, StreamContent content) throws IOException {
        write(file, ch -> {
            OutputStream out = Channels.newOutputStream(ch);
            content.writeTo(out);
            out.flush();
        });
    }

    @FunctionalInterface
    public interface StreamContent {
        void writeTo(OutputStream out) throws IOException;
    }

    public static void writeString(Path file, String text) throws IOException {
        byte[] bytes = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        write(file, ch -> writeFully(ch, java.nio.ByteBuffer.wrap(bytes)));
    }

    static void write(Path file, Content content, BeforeCommit beforeCommit) throws IOException {
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Path tmp = createTemp(dir, target.getFileName().toString());
        boolean committed = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                content.writeTo(ch);
                ch.force(true);
            }
            testPause(tmp);
            beforeCommit.run(tmp);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            committed = true;
        } finally {
            if (!committed) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException | RuntimeException ignored) {
                    // the original failure is the one to report; a leftover ".tmp" is named like the target
                }
            }
        }
        syncDirectory(dir);
    }

    static void writeFully(FileChannel ch, java.nio.ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) ch.write(buf);
    }

    private static Path createTemp(Path dir, String name) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path tmp = dir.resolve("." + name + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
            try {
                Files.newByteChannel(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return tmp;
            } catch (FileAlreadyExistsException e) {
                if (attempt == 16) throw e;
            }
        }
    }

    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | RuntimeException unsupported) {
            // Windows cannot open a directory; the rename has happened either way
        }
    }
}
