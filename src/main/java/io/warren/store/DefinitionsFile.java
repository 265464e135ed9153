package io.warren.store;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.warren.protocol.FieldValues;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The definitions document ({@code definitions.json} in the data directory) in RabbitMQ's
 * definitions format: vhosts, durable exchanges and queues, and bindings between durable things.
 * Replaced atomically (temp file, fsync, rename, fsync directory) on its own thread; saves asked
 * for while one is waiting are covered by that one.
 */
public final class DefinitionsFile implements AutoCloseable {
    public record Exchange(String name, String vhost, String type, boolean durable, boolean auto_delete,
                           boolean internal, Map<String, Object> arguments) {
    }

    public record Queue(String name, String vhost, boolean durable, boolean auto_delete, Map<String, Object> arguments) {
    }

    public record Binding(String source, String vhost, String destination, String destination_type,
                          String routing_key, Map<String, Object> arguments) {
    }

    public record Vhost(String name) {
    }

    /** A policy or operator policy, as RabbitMQ exports it. */
    public record Policy(String vhost, String name, String pattern,
                         @com.fasterxml.jackson.annotation.JsonProperty("apply-to") String applyTo,
                         Map<String, Object> definition, int priority) {
    }

    /** A user as RabbitMQ exports it: base64 of a 4-byte salt and the hash of salt + password. */
    public record User(String name, String password_hash, String hashing_algorithm, Object tags) {
    }

    /** The whole document. Field names are RabbitMQ's; permissions, parameters and limits are read as they are. */
    public record Definitions(String rabbit_version, List<User> users, List<Vhost> vhosts,
                              List<Map<String, Object>> permissions, List<Map<String, Object>> parameters,
                              List<Map<String, Object>> global_parameters, List<Policy> policies,
                              List<Policy> operator_policies, List<Queue> queues,
                              List<Exchange> exchanges, List<Binding> bindings) {
        public static Definitions empty() {
            return new Definitions("3.10.8", List.of(), List.of(), List.of(), List.of(), List.of(), List.of(),
                    List.of(), List.of(), List.of(), List.of());
        }

        /** The same with every missing section empty. */
        Definitions complete() {
            return new Definitions(rabbit_version, orEmpty(users), orEmpty(vhosts), orEmpty(permissions),
                    orEmpty(parameters), orEmpty(global_parameters), orEmpty(policies), orEmpty(operator_policies),
                    orEmpty(queues), orEmpty(exchanges), orEmpty(bindings));
        }
    }

    private final Path file;
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .configure(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "warren-definitions");
        t.setDaemon(true);
        return t;
    });
    private final Supplier<Definitions> snapshot;
    private final Object lock = new Object();
    private CompletableFuture<Void> pending;

    public DefinitionsFile(Path dataDir, Supplier<Definitions> snapshot) {
        this.file = dataDir.resolve("definitions.json");
        this.snapshot = snapshot;
    }

    public Path path() {
        return file;
    }

    /** The saved definitions, or empty ones when there is no file yet. */
    public Definitions load() {
        if (!Files.exists(file)) {
            return Definitions.empty();
        }
        return read(file);
    }

    /** Reads a definitions document (this broker's own, or a RabbitMQ export). */
    public static Definitions read(Path file) {
        try {
            return JSON.readValue(file.toFile(), Definitions.class).complete();
        } catch (IOException e) {
            // Jackson's own message spans lines and names our classes; its first part and the position say it all.
            String why = e instanceof com.fasterxml.jackson.core.JsonProcessingException j && j.getLocation() != null
                    ? j.getOriginalMessage() + " at line " + j.getLocation().getLineNr() + ", column "
                            + j.getLocation().getColumnNr()
                    : e.getMessage();
            throw new UncheckedIOException("cannot read " + file + ": " + why + " (fix it, or restore it from a "
                    + "backup or a RabbitMQ definitions export; do not delete it: without it the durable queues "
                    + "and their messages are dropped at start)", e);
        }
    }

    private static <T> List<T> orEmpty(List<T> list) {
        return list == null ? List.of() : list;
    }

    /** Asks for a save of the current definitions; completes once they are on disk. */
    public CompletableFuture<Void> save() {
        synchronized (lock) {
            if (pending == null) {
                pending = new CompletableFuture<>();
                writer.execute(this::writeNow);
            }
            return pending;
        }
    }

    private void writeNow() {
        CompletableFuture<Void> done;
        synchronized (lock) {
            done = pending;
            pending = null;
        }
        try {
            write(snapshot.get());
            done.complete(null);
        } catch (IOException | RuntimeException e) {
            done.completeExceptionally(e);
        }
    }

    private void write(Definitions definitions) throws IOException {
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        byte[] bytes = JSON.writeValueAsBytes(definitions);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException e) {
            // Some file systems cannot sync a directory; the rename is still atomic.
        }
    }

    /** Field-table values as plain JSON values (long strings as text, timestamps as seconds). */
    public static Map<String, Object> toJson(Map<String, Object> table) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (table != null) {
            table.forEach((k, v) -> out.put(k, jsonValue(v)));
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Object jsonValue(Object v) {
        if (v instanceof FieldValues.LongString s) {
            return s.toString();
        } else if (v instanceof byte[] b) {
            return new String(b, java.nio.charset.StandardCharsets.UTF_8);
        } else if (v instanceof FieldValues.Timestamp t) {
            return t.epochSeconds();
        } else if (v instanceof FieldValues.UByte b) {
            return b.value();
        } else if (v instanceof FieldValues.UShort s) {
            return s.value();
        } else if (v instanceof FieldValues.UInt i) {
            return i.value();
        } else if (v instanceof java.util.Date d) {
            return d.getTime() / 1000;
        } else if (v instanceof Map<?, ?> m) {
            return toJson((Map<String, Object>) m);
        } else if (v instanceof List<?> list) {
            List<Object> out = new ArrayList<>();
            list.forEach(e -> out.add(jsonValue(e)));
            return out;
        } else if (v instanceof BigDecimal || v instanceof Number || v instanceof Boolean || v instanceof String || v == null) {
            return v;
        }
        return String.valueOf(v);
    }

    @Override
    public void close() {
        writer.shutdown();
        try {
            writer.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
