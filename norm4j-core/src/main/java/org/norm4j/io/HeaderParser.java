package org.norm4j.io;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.norm4j.io.SafeTensors.DType;
import org.norm4j.io.SafeTensors.Header;
import org.norm4j.io.SafeTensors.TensorInfo;

/**
 * Parses and validates the JSON header of a safetensors file. Not a general JSON parser: it reads
 * exactly the safetensors schema (an object of tensor infos, each {@code dtype}, {@code shape},
 * {@code data_offsets}, plus an optional {@code __metadata__} object of strings) straight into
 * {@link TensorInfo}s, so that memory grows with the number of tensors and nothing recurses.
 * Strict JSON: no comments, no trailing commas, no duplicate keys, strict UTF-8, no unpaired
 * surrogates; whitespace (the writer's space padding) may follow the object.
 *
 * <p>Every error is a {@link SafeTensorsFormatException} with the byte offset in the file.
 */
final class HeaderParser {
    /** Highest rank accepted (numpy 2's limit); the format sets none, this bounds a hostile shape. */
    static final int MAX_RANK = 64;
    private static final long HEADER_START = 8;   // the header follows the 8-byte length field

    private final Path file;
    private final byte[] b;
    private final long dataSize;
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder();
    private int pos;
    private String tensor;   // the tensor whose info is being parsed, for messages

    /**
     * @param header   the N header bytes
     * @param dataSize bytes after the header: file size − 8 − N
     */
    HeaderParser(Path file, byte[] header, long dataSize) {
        this.file = file;
        this.b = header;
        this.dataSize = dataSize;
    }

    Header parse() throws SafeTensorsFormatException {
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, Long> declaredAt = new HashMap<>();   // tensor -> file offset of its data_offsets
        Map<String, String> metadata = null;
        skipWs();
        expect('{', "the header must be a JSON object");
        skipWs();
        if (peek() == '}') {
            pos++;
        } else {
            while (true) {
                skipWs();
                int keyPos = pos;
                String key = string("a tensor name");
                if (tensors.containsKey(key) || (key.equals("__metadata__") && metadata != null)) {
                    throw error(keyPos, "duplicate key \"" + key + "\"");
                }
                skipWs();
                expect(':', "expected ':' after key \"" + key + "\"");
                skipWs();
                if (key.equals("__metadata__")) {
                    metadata = metadata();
                } else {
                    tensor = key;
                    tensors.put(key, tensorInfo(declaredAt));
                    tensor = null;
                }
                skipWs();
                int sep = next("expected ',' or '}' after the value of \"" + key + "\"");
                if (sep == '}') break;
                if (sep != ',') throw error(pos - 1, "expected ',' or '}' after the value of \"" + key + "\", found " + describe(pos - 1));
            }
        }
        skipWs();
        if (pos != b.length) throw error(pos, "unexpected " + describe(pos) + " after the header object");
        checkCoverage(tensors, declaredAt);
        return new Header(tensors, metadata == null ? Map.of() : metadata, HEADER_START + b.length, dataSize);
    }

    /** safetensors requires the tensors to tile the data region exactly: no overlap, no hole, no trailing bytes. */
    private void checkCoverage(Map<String, TensorInfo> tensors, Map<String, Long> declaredAt) throws SafeTensorsFormatException {
        List<Map.Entry<String, TensorInfo>> byOffset = new ArrayList<>(tensors.entrySet());
        byOffset.sort(Comparator.<Map.Entry<String, TensorInfo>>comparingLong(e -> e.getValue().begin())
                .thenComparingLong(e -> e.getValue().end()));
        long dataStart = HEADER_START + b.length;
        long covered = 0;
        String previous = null;
        for (Map.Entry<String, TensorInfo> e : byOffset) {
            TensorInfo t = e.getValue();
            if (t.begin() < covered) {
                TensorInfo p = tensors.get(previous);
                throw new SafeTensorsFormatException(file, e.getKey(), declaredAt.get(e.getKey()), "data_offsets [" + t.begin() + ", "
                        + t.end() + "] overlap tensor \"" + previous + "\" at [" + p.begin() + ", " + p.end() + "]");
            }
            if (t.begin() > covered) {
                throw new SafeTensorsFormatException(file, null, dataStart + covered, "bytes [" + covered + ", " + t.begin()
                        + ") of the data region belong to no tensor (the format allows no holes)");
            }
            covered = t.end();
            previous = e.getKey();
        }
        if (covered != dataSize) {
            throw new SafeTensorsFormatException(file, null, dataStart + covered, "the data region is " + dataSize
                    + " bytes but the tensors end at " + covered + ": bytes [" + covered + ", " + dataSize + ") belong to no tensor");
        }
    }

    private TensorInfo tensorInfo(Map<String, Long> declaredAt) throws SafeTensorsFormatException {
        int objPos = pos;
        expect('{', "the tensor info must be a JSON object");
        DType dtype = null;
        long[] shape = null, offsets = null;
        int shapePos = -1, offsetsPos = -1;
        skipWs();
        if (peek() == '}') {
            pos++;
        } else {
            while (true) {
                skipWs();
                int fieldPos = pos;
                String field = string("a field name");
                skipWs();
                expect(':', "expected ':' after \"" + field + "\"");
                skipWs();
                switch (field) {
                    case "dtype" -> {
                        if (dtype != null) throw error(fieldPos, "duplicate field \"dtype\"");
                        int p = pos;
                        String s = string("the dtype (a JSON string)");
                        dtype = DType.parse(s);
                        if (dtype == null) throw error(p, "unknown dtype \"" + s + "\" (known: " + DType.namesList() + ")");
                    }
                    case "shape" -> {
                        if (shape != null) throw error(fieldPos, "duplicate field \"shape\"");
                        shapePos = pos;
                        shape = integers("shape", MAX_RANK);
                    }
                    case "data_offsets" -> {
                        if (offsets != null) throw error(fieldPos, "duplicate field \"data_offsets\"");
                        offsetsPos = pos;
                        offsets = integers("data_offsets", 2);
                    }
                    default -> throw error(fieldPos, "unknown field \"" + field + "\" (a tensor info has dtype, shape, data_offsets)");
                }
                skipWs();
                int sep = next("expected ',' or '}' in the tensor info");
                if (sep == '}') break;
                if (sep != ',') throw error(pos - 1, "expected ',' or '}' in the tensor info, found " + describe(pos - 1));
            }
        }
        if (dtype == null) throw error(objPos, "missing field \"dtype\"");
        if (shape == null) throw error(objPos, "missing field \"shape\"");
        if (offsets == null) throw error(objPos, "missing field \"data_offsets\"");
        if (offsets.length != 2) throw error(offsetsPos, "data_offsets must be [begin, end], got " + offsets.length + " numbers");
        long begin = offsets[0], end = offsets[1];
        if (begin > end) throw error(offsetsPos, "data_offsets [" + begin + ", " + end + "] end before they begin");
        if (end > dataSize) {
            throw error(offsetsPos, "data_offsets [" + begin + ", " + end + "] reach past the end of the data region ("
                    + dataSize + " bytes)");
        }
        long bytes;
        try {
            long numel = 1;
            for (long d : shape) numel = Math.multiplyExact(numel, d);
            bytes = Math.multiplyExact(numel, dtype.size());
        } catch (ArithmeticException overflow) {
            throw error(shapePos, "shape " + SafeTensors.str(shape) + " of " + dtype + " has more than 2^63 bytes");
        }
        if (end - begin != bytes) {
            throw error(offsetsPos, "data_offsets [" + begin + ", " + end + "] hold " + (end - begin) + " bytes, but " + dtype
                    + " " + SafeTensors.str(shape) + " needs " + bytes);
        }
        declaredAt.put(tensor, HEADER_START + offsetsPos);
        return new TensorInfo(dtype, shape, begin, end);
    }

    private Map<String, String> metadata() throws SafeTensorsFormatException {
        expect('{', "__metadata__ must be a JSON object of strings");
        Map<String, String> m = new LinkedHashMap<>();
        skipWs();
        if (peek() == '}') {
            pos++;
            return m;
        }
        while (true) {
            skipWs();
            int keyPos = pos;
            String key = string("a metadata key");
            if (m.containsKey(key)) throw error(keyPos, "duplicate __metadata__ key \"" + key + "\"");
            skipWs();
            expect(':', "expected ':' after __metadata__ key \"" + key + "\"");
            skipWs();
            m.put(key, string("the value of __metadata__ key \"" + key + "\" (values are JSON strings)"));
            skipWs();
            int sep = next("expected ',' or '}' in __metadata__");
            if (sep == '}') return m;
            if (sep != ',') throw error(pos - 1, "expected ',' or '}' in __metadata__, found " + describe(pos - 1));
        }
    }

    /** A JSON array of at most {@code max} integers in [0, 2^63). */
    private long[] integers(String what, int max) throws SafeTensorsFormatException {
        expect('[', what + " must be a JSON array of integers");
        long[] v = new long[Math.min(max, 4)];
        int n = 0;
        skipWs();
        if (peek() == ']') {
            pos++;
            return new long[0];
        }
        while (true) {
            skipWs();
            if (n == max) throw error(pos, what + " has more than " + max + " entries");
            if (n == v.length) v = Arrays.copyOf(v, Math.min(max, 2 * n));
            v[n++] = nonNegativeInteger(what);
            skipWs();
            int sep = next("expected ',' or ']' in " + what);
            if (sep == ']') return Arrays.copyOf(v, n);
            if (sep != ',') throw error(pos - 1, "expected ',' or ']' in " + what + ", found " + describe(pos - 1));
        }
    }

    private long nonNegativeInteger(String what) throws SafeTensorsFormatException {
        int start = pos;
        while (pos < b.length && isNumberChar(b[pos])) pos++;
        if (pos == start) throw error(start, "expected a number in " + what + ", found " + describe(start));
        String lit = new String(b, start, pos - start, StandardCharsets.US_ASCII);
        if (lit.startsWith("-")) throw error(start, what + " holds " + lit + ", must be ≥ 0");
        if (!lit.matches("0|[1-9][0-9]*")) throw error(start, what + " holds " + lit + ", must be a non-negative integer");
        if (lit.length() > 19) throw error(start, what + " holds " + lit + ", more than 2^63 − 1");
        try {
            return Long.parseLong(lit);
        } catch (NumberFormatException tooLarge) {
            throw error(start, what + " holds " + lit + ", more than 2^63 − 1");
        }
    }

    private static boolean isNumberChar(byte c) {
        return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
    }

    /** A JSON string: escapes resolved, raw bytes strict UTF-8. */
    private String string(String what) throws SafeTensorsFormatException {
        int start = pos;
        if (pos >= b.length || b[pos] != '"') throw error(pos, "expected " + what + ", found " + describe(pos));
        pos++;
        StringBuilder sb = new StringBuilder();
        int run = pos;
        while (true) {
            if (pos >= b.length) throw error(start, "unterminated string");
            int c = b[pos] & 0xFF;
            if (c == '"') {
                decodeRun(run, pos, sb);
                pos++;
                return sb.toString();
            }
            if (c == '\\') {
                decodeRun(run, pos, sb);
                escape(sb);
                run = pos;
            } else if (c < 0x20) {
                throw error(pos, String.format("control character 0x%02X in a string (JSON requires it escaped)", c));
            } else {
                pos++;
            }
        }
    }

    private void escape(StringBuilder sb) throws SafeTensorsFormatException {
        int at = pos;
        pos++;   // the backslash
        if (pos >= b.length) throw error(at, "unterminated escape");
        byte c = b[pos++];
        switch (c) {
            case '"' -> sb.append('"');
            case '\\' -> sb.append('\\');
            case '/' -> sb.append('/');
            case 'b' -> sb.append('\b');
            case 'f' -> sb.append('\f');
            case 'n' -> sb.append('\n');
            case 'r' -> sb.append('\r');
            case 't' -> sb.append('\t');
            case 'u' -> {
                char u = hex4(at);
                if (Character.isHighSurrogate(u)) {
                    int low = pos;
                    if (pos + 1 < b.length && b[pos] == '\\' && b[pos + 1] == 'u') {
                        pos += 2;
                        char l = hex4(low);
                        if (!Character.isLowSurrogate(l)) throw error(low, "\\u escape after a high surrogate is not a low surrogate");
                        sb.append(u).append(l);
                    } else {
                        throw error(at, "unpaired surrogate \\u" + String.format("%04X", (int) u));
                    }
                } else if (Character.isLowSurrogate(u)) {
                    throw error(at, "unpaired surrogate \\u" + String.format("%04X", (int) u));
                } else {
                    sb.append(u);
                }
            }
            default -> throw error(at, "invalid escape \\" + describe(pos - 1));
        }
    }

    private char hex4(int escapeAt) throws SafeTensorsFormatException {
        if (pos + 4 > b.length) throw error(escapeAt, "truncated \\u escape");
        int v = 0;
        for (int i = 0; i < 4; i++) {
            int d = Character.digit(b[pos + i], 16);
            if (d < 0 || b[pos + i] < 0) throw error(pos + i, "invalid hex digit " + describe(pos + i) + " in a \\u escape");
            v = v * 16 + d;
        }
        pos += 4;
        return (char) v;
    }

    private void decodeRun(int from, int to, StringBuilder sb) throws SafeTensorsFormatException {
        if (from == to) return;
        ByteBuffer in = ByteBuffer.wrap(b, from, to - from);
        CharBuffer out = CharBuffer.allocate(to - from);   // UTF-8 never yields more chars than bytes
        utf8.reset();
        CoderResult r = utf8.decode(in, out, true);
        if (!r.isError()) r = utf8.flush(out);
        if (r.isError()) throw error(in.position(), "invalid UTF-8 in a string");
        out.flip();
        sb.append(out);
    }

    private void skipWs() {
        while (pos < b.length && (b[pos] == ' ' || b[pos] == '\t' || b[pos] == '\n' || b[pos] == '\r')) pos++;
    }

    private int peek() {
        return pos < b.length ? b[pos] & 0xFF : -1;
    }

    private int next(String ifEnd) throws SafeTensorsFormatException {
        if (pos >= b.length) throw error(pos, ifEnd + ", found the end of the header");
        return b[pos++] & 0xFF;
    }

    private void expect(char c, String problem) throws SafeTensorsFormatException {
        if (pos >= b.length || b[pos] != c) throw error(pos, problem + ", found " + describe(pos));
        pos++;
    }

    private String describe(int at) {
        if (at >= b.length) return "the end of the header";
        int c = b[at] & 0xFF;
        return c >= 0x20 && c < 0x7F ? "'" + (char) c + "'" : String.format("byte 0x%02X", c);
    }

    private SafeTensorsFormatException error(int at, String problem) {
        return new SafeTensorsFormatException(file, tensor, HEADER_START + at, "invalid header: " + problem);
    }
}
