package org.norm4j.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** A PyTorch fixture made by tools/make_fixtures.py (format: src/test/resources/fixtures/README.md). */
public final class Fixture {
    public final String name;
    public final Map<String, String> config = new LinkedHashMap<>();
    private final Map<String, int[]> shapes = new LinkedHashMap<>();
    private final Map<String, float[]> values = new LinkedHashMap<>();

    private Fixture(String name) {
        this.name = name;
    }

    public static Fixture load(String name) {
        String path = "/fixtures/" + name + ".txt";
        try (InputStream in = Fixture.class.getResourceAsStream(path)) {
            if (in == null) throw new IllegalStateException("missing fixture " + path);
            return parse(name, path, in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A fixture in the same format from a file outside the test resources (a local, uncommitted check). */
    public static Fixture load(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return parse(file.getFileName().toString(), file.toString(), in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Fixture parse(String name, String path, InputStream in) throws IOException {
        Fixture f = new Fixture(name);
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        String line;
        while ((line = r.readLine()) != null) {
            if (line.isBlank() || line.startsWith("#")) continue;
            String[] tok = line.trim().split("\\s+");
            if (tok[0].equals("config")) {
                for (int i = 1; i < tok.length; i++) {
                    int eq = tok[i].indexOf('=');
                    f.config.put(tok[i].substring(0, eq), tok[i].substring(eq + 1));
                }
                continue;
            }
            int[] shape = Arrays.stream(tok[1].split(",")).mapToInt(Integer::parseInt).toArray();
            float[] v = new float[tok.length - 2];
            for (int i = 0; i < v.length; i++) v[i] = Float.parseFloat(tok[i + 2]);
            if (v.length != Arrays.stream(shape).reduce(1, (a, b) -> a * b)) {
                throw new IllegalStateException(path + ": " + tok[0] + " has " + v.length + " values for shape " + tok[1]);
            }
            f.shapes.put(tok[0], shape);
            f.values.put(tok[0], v);
        }
        return f;
    }

    public boolean has(String tensor) {
        return values.containsKey(tensor);
    }

    public float[] get(String tensor) {
        float[] v = values.get(tensor);
        if (v == null) throw new IllegalStateException("fixture " + name + " has no tensor " + tensor);
        return v;
    }

    public int[] shape(String tensor) {
        return shapes.get(tensor);
    }

    public String cfg(String key) {
        return config.get(key);
    }

    public int steps() {
        return Integer.parseInt(config.get("steps"));
    }
}
