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
