package org.norm4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.norm4j.data.IdxFiles.gzip;
import static org.norm4j.data.IdxFiles.idx;
import static org.norm4j.data.IdxFiles.pattern;
import static org.norm4j.data.IdxFiles.ubyte;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damaged IDX files, raw and gzip, beyond the hand-made cases of IdxTest and the committed corpus
 * of IdxCorpusTest: every truncation, every byte flipped, random bytes anywhere, random headers
 * (type, rank, dimensions) over random amounts of data, random noise. Each read must give an
 * IdxFormatException naming the file and an offset — never another exception, an
 * OutOfMemoryError or a hang (the timeout) — or, where the damage leaves a valid file (a flipped
 * pixel, a gzip header's timestamp), read as one.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class IdxFuzzTest {
    @TempDir
    Path dir;
    byte[] raw;
    byte[] gz;

    @BeforeEach
    void validFiles() {
        raw = ubyte(new int[] {5, 4, 3}, pattern(60));   // 16 header bytes, 60 data bytes
        gz = gzip(raw);
    }

    /** Reads {@code bytes} as a file: null if it is valid, else the format error; anything else fails the test. */
    private IdxFormatException attempt(String label, byte[] bytes) throws IOException {
        Path file = Files.write(dir.resolve("damaged.idx"), bytes);
        try {
            IdxData d = Idx.read(file);
            long values = 1;
            for (int n : d.dims()) values *= n;
            assertEquals(values, d.data().length, label + ": a file that reads has its dimensions' worth of data");
            return null;
        } catch (IdxFormatException e) {
            String m = e.getMessage();
            assertTrue(m.contains("damaged.idx"), label + ": names the file: " + m);
            assertTrue(m.contains("offset") || m.contains("after"), label + ": gives the offset: " + m);
            assertEquals(file, e.file(), label);
            assertTrue(e.offset() >= 0, label + ": offset " + e.offset());
            assertTrue(!m.contains("\n"), label + ": one line: " + m);
            return e;
        } catch (Throwable t) {
            fail(label + ": expected IdxFormatException, got " + t, t);
            return null;
        }
    }

    @Test
    void everyTruncationIsRefused() throws IOException {
        for (byte[] valid : new byte[][] {raw, gz}) {
            String kind = valid == raw ? "raw" : "gzip";
            for (int len = 0; len < valid.length; len++) {
                IdxFormatException e = attempt(kind + " truncated to " + len, Arrays.copyOf(valid, len));
                if (e == null) fail(kind + " truncated to " + len + " bytes was accepted");
            }
            assertEquals(null, attempt(kind + " whole", valid));
        }
    }

    @Test
    void everyByteFlipped() throws IOException {
        int refusedRaw = 0;
        for (int i = 0; i < raw.length; i++) {
            for (int mask : new int[] {0x01, 0x02, 0x10, 0x80, 0xFF}) {
                byte[] b = raw.clone();
                b[i] ^= (byte) mask;
                IdxFormatException e = attempt("raw byte " + i + " ^ 0x" + Integer.toHexString(mask), b);
                if (i < 2) assertTrue(e != null, "magic byte " + i + " flipped: refused");
                if (i >= 16) assertEquals(null, e, "a flipped pixel is still a valid file");
                if (e != null) refusedRaw++;
            }
        }
        assertTrue(refusedRaw >= 16 * 3, "header flips are refused: " + refusedRaw);
        int refusedGz = 0, acceptedGz = 0;
        for (int i = 0; i < gz.length; i++) {
            for (int mask : new int[] {0x01, 0x80, 0xFF}) {
                byte[] b = gz.clone();
                b[i] ^= (byte) mask;
                IdxFormatException e = attempt("gzip byte " + i + " ^ 0x" + Integer.toHexString(mask), b);
                if (e == null) {
                    // the gzip header's flag/mtime/xfl/os bytes and the deflate stream's padding bits are not
                    // checked; everything else is under the CRC, so an accepted file holds the original data
                    acceptedGz++;
                    assertArrayEquals(pattern(60), Idx.read(dir.resolve("damaged.idx")).data(),
                            "gzip byte " + i + " ^ 0x" + Integer.toHexString(mask) + " was accepted with other data");
                } else {
                    refusedGz++;
                }
            }
        }
        assertTrue(refusedGz > 10 * acceptedGz, "gzip flips: " + refusedGz + " refused, " + acceptedGz + " accepted");
    }

    @Test
    void randomBytesAnywhere() throws IOException {
        Random rng = new Random(20250101);
        for (int k = 0; k < 1500; k++) {
            byte[] b = (k % 2 == 0 ? raw : gz).clone();
            int edits = 1 + rng.nextInt(4);
            for (int e = 0; e < edits; e++) b[rng.nextInt(b.length)] = (byte) rng.nextInt(256);
            attempt("random bytes, case " + k + " (seed 20250101)", b);
        }
        for (int k = 0; k < 300; k++) {
            byte[] b = new byte[rng.nextInt(80)];
            rng.nextBytes(b);
            if (k % 3 == 0 && b.length >= 4) {
                b[0] = 0;
                b[1] = 0;   // past the magic check, into the header
            }
            attempt("noise, case " + k + " (seed 20250101)", b);
        }
    }

    /** Random type, rank and dimensions (negative, zero, huge) over 0 to 200 data bytes, raw and gzip. */
    @Test
    void randomHeaders() throws IOException {
        Random rng = new Random(77);
        int[] interesting = {0, 1, 2, 3, -1, -7, Integer.MIN_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE - 8, 1 << 15, 1 << 16, 1 << 30, 255, 256};
        int accepted = 0;
        for (int k = 0; k < 1500; k++) {
            int type = rng.nextInt(4) == 0 ? rng.nextInt(256) : new int[] {0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E}[rng.nextInt(6)];
            int rank = rng.nextInt(8);
            int[] dims = new int[rank];
            for (int d = 0; d < rank; d++) dims[d] = rng.nextBoolean() ? interesting[rng.nextInt(interesting.length)] : 1 + rng.nextInt(6);
            long values = 1;
            for (int d : dims) values *= d;
            boolean honest = rng.nextInt(4) == 0 && values >= 0 && values <= 200;   // some headers tell the truth
            byte[] bytes = idx(type, dims, pattern(honest ? (int) values : rng.nextInt(200)));
            if (rng.nextBoolean()) bytes = gzip(bytes);
            if (attempt("header type 0x" + Integer.toHexString(type) + " dims " + Arrays.toString(dims) + ", case " + k + " (seed 77)", bytes) == null) {
                accepted++;
            }
        }
        assertTrue(accepted > 0, "some random headers are valid unsigned-byte files of rank 1 to 4 and read: " + accepted);
    }
}
