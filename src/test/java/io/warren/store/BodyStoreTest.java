package io.warren.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shared body store on its own, with 1 MiB files: counts per body, compaction of sparse files,
 * forwarding of moved bodies across restarts and a second compaction, and what a crash during a
 * compaction leaves behind.
 */
class BodyStoreTest {
    private static final long SEGMENT = 1 << 20;
    private static final int BODY = 16 * 1024;

    @TempDir
    Path root;
    private Path dir;
    private Persister persister;
    private BodyStore store;
    private final Random random = new Random(11);
    private final List<byte[]> bodies = new ArrayList<>();

    @BeforeEach
    void start() {
        dir = root.resolve("bodies");
        persister = new Persister(10);
    }

    @AfterEach
    void stop() {
        if (store != null) {
            store.close();
        }
        persister.close();
    }

    private BodyStore open() {
        if (store != null) {
            store.close();
        }
        store = new BodyStore(dir, persister, SEGMENT);
        return store;
    }

    /** Writes {@code n} new random bodies (kept in {@link #bodies}, in order); returns their refs. */
    private List<BodyStore.BodyRef> write(int n, int references) {
        List<BodyStore.BodyRef> refs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] b = new byte[BODY];
            random.nextBytes(b);
            bodies.add(b);
            refs.add(store.write(Unpooled.wrappedBuffer(b), references));
        }
        return refs;
    }

    private byte[] read(BodyStore.BodyRef ref) {
        ByteBuf b = store.read(ref);
        if (b == null) {
            return null;
        }
        try {
            return ByteBufUtil.getBytes(b);
        } finally {
            b.release();
        }
    }

    private List<Path> files() throws IOException {
        try (Stream<Path> list = Files.list(dir)) {
            return list.sorted().toList();
        }
    }

    /** The one file that is not empty: compaction's (the file being written has nothing in it). */
    private Path theFileWithCopies() throws IOException {
        List<Path> written = new ArrayList<>();
        for (Path p : files()) {
            if (sizeOf(p) > 0) {
                written.add(p);
            }
        }
        assertThat(written).as("files holding copies").hasSize(1);
        return written.get(0);
    }

    private long bytes() throws IOException {
        long sum = 0;
        for (Path p : files()) {
            sum += sizeOf(p);
        }
        return sum;
    }

    /** A file's size, 0 when the store's background work deleted it after it was listed. */
    private static long sizeOf(Path p) throws IOException {
        try {
            return Files.size(p);
        } catch (NoSuchFileException gone) {
            return 0;
        }
    }

    /** A restart: the store opened again, told about the references the queue logs still hold. */
    private void reopen(List<BodyStore.BodyRef> live, int references) {
        open();
        for (BodyStore.BodyRef ref : live) {
            for (int i = 0; i < references; i++) {
                store.recovered(ref);
            }
        }
        store.finishRecovery();
    }

    @Test
    void aBodyGoesOnlyWithItsLastReference() throws Exception {
        reopen(List.of(), 0);
        List<BodyStore.BodyRef> refs = write(200, 2);
        long full = bytes();
        for (BodyStore.BodyRef ref : refs) {
            store.release(ref);
        }
        assertThat(bytes()).isEqualTo(full);
        for (BodyStore.BodyRef ref : refs) {
            store.release(ref);
        }
        // Retired files go at once; the one being written goes too (it is over a sixteenth of a file).
        Awaitility.await().atMost(10, TimeUnit.SECONDS).untilAsserted(() -> assertThat(bytes()).isZero());
        assertThat(files()).hasSize(1);
    }

    @Test
    void aSparseFileIsCompactedAndTheMovedBodyIsFoundAgainAfterRestartsAndASecondCompaction() throws Exception {
        reopen(List.of(), 0);
        List<BodyStore.BodyRef> refs = write(200, 2);
        Path first = files().get(0);
        // Keep four bodies of the first file (a sixteenth of it), release everything else.
        for (int i = 4; i < refs.size(); i++) {
            store.release(refs.get(i));
            store.release(refs.get(i));
        }
        Awaitility.await().atMost(10, TimeUnit.SECONDS).untilAsserted(() -> {
            assertThat(first).doesNotExist();
            // The copies (some of bodies released while they were copied) and an empty file to write to.
            assertThat(bytes()).isLessThan(SEGMENT / 4);
        });
        for (int i = 0; i < 4; i++) {
            assertThat(read(refs.get(i))).isEqualTo(bodies.get(i));
        }

        reopen(refs.subList(0, 4), 2);
        for (int i = 0; i < 4; i++) {
            assertThat(read(refs.get(i))).isEqualTo(bodies.get(i));
        }
        // Three of the four go: the compaction file (retired by the restart) is now sparse itself.
        Path copies = theFileWithCopies();
        for (int i = 1; i < 4; i++) {
            store.release(refs.get(i));
            store.release(refs.get(i));
        }
        Awaitility.await().atMost(10, TimeUnit.SECONDS).untilAsserted(() -> assertThat(copies).doesNotExist());
        assertThat(read(refs.get(0))).isEqualTo(bodies.get(0));

        reopen(refs.subList(0, 1), 2);
        assertThat(read(refs.get(0))).isEqualTo(bodies.get(0));
        store.release(refs.get(0));
        assertThat(read(refs.get(0))).isEqualTo(bodies.get(0));
        store.release(refs.get(0));
        reopen(List.of(), 0);
        Awaitility.await().atMost(10, TimeUnit.SECONDS).untilAsserted(() -> assertThat(bytes()).isZero());
    }

    /**
     * A crash after the copies were synced but before the old file was deleted: both exist, the
     * copy wins (shown by damaging the original), and the old file goes at recovery.
     */
    @Test
    void theCopyWinsWhenTheOriginalSurvivedACrash() throws Exception {
        List<BodyStore.BodyRef> refs = compactFirstFileKeeping(2);
        store.close();
        store = null;
        Files.copy(savedOriginal, original);
        damage(original, refs.get(0).offset() + 100);

        reopen(refs, 2);
        assertThat(read(refs.get(0))).isEqualTo(bodies.get(0));
        assertThat(read(refs.get(1))).isEqualTo(bodies.get(1));
        Awaitility.await().atMost(10, TimeUnit.SECONDS).untilAsserted(() -> assertThat(original).doesNotExist());
    }

    /**
     * A crash before the copies were synced: a torn or damaged copy loses to the original, which is
     * still there (and is compacted again).
     */
    @Test
    void aTornCopyLosesToTheOriginal() throws Exception {
        List<BodyStore.BodyRef> refs = compactFirstFileKeeping(2);
        Path copies = theFileWithCopies();
        store.close();
        store = null;
        Files.copy(savedOriginal, original);
        // The compaction file: its last copy cut short, its first (body 0's) damaged.
        try (FileChannel ch = FileChannel.open(copies, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 100);
        }
        damage(copies, 100);

        reopen(refs, 2);
        assertThat(read(refs.get(0))).isEqualTo(bodies.get(0));
        assertThat(read(refs.get(1))).isEqualTo(bodies.get(1));
        Awaitility.await().atMost(10, TimeUnit.SECONDS).untilAsserted(() -> assertThat(original).doesNotExist());
        assertThat(read(refs.get(0))).isEqualTo(bodies.get(0));
        assertThat(read(refs.get(1))).isEqualTo(bodies.get(1));
    }

    private Path original;
    private Path savedOriginal;

    /**
     * Fills more than one file, saves a copy of the first, releases all but its first {@code keep}
     * bodies and waits for it to be compacted; returns the kept bodies' refs.
     */
    private List<BodyStore.BodyRef> compactFirstFileKeeping(int keep) throws Exception {
        reopen(List.of(), 0);
        List<BodyStore.BodyRef> refs = write(100, 2);
        original = files().get(0);
        savedOriginal = root.resolve("saved-" + original.getFileName());
        Files.copy(original, savedOriginal);
        for (int i = keep; i < refs.size(); i++) {
            store.release(refs.get(i));
            store.release(refs.get(i));
        }
        Awaitility.await().atMost(10, TimeUnit.SECONDS).untilAsserted(() -> assertThat(original).doesNotExist());
        return refs.subList(0, keep);
    }

    private static void damage(Path file, long at) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3, 4}), at);
        }
    }

    /** Readers racing compactions (which close the files they read) still get every body. */
    @Test
    void readsDuringCompactionsFindTheMovedBodies() throws Exception {
        reopen(List.of(), 0);
        List<BodyStore.BodyRef> refs = write(1000, 1);
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<String> failure = new AtomicReference<>();
        Thread reader = new Thread(() -> {
            while (!done.get()) {
                for (int i = 0; i < refs.size() && failure.get() == null; i += 64) {
                    if (!java.util.Arrays.equals(read(refs.get(i)), bodies.get(i))) {
                        failure.set("body " + i);
                    }
                }
            }
        });
        reader.start();
        // One in eight stays: every file is compacted; then one in eight of those: compaction files are too.
        for (int i = 0; i < refs.size(); i++) {
            if (i % 8 != 0) {
                store.release(refs.get(i));
            }
        }
        for (int i = 0; i < refs.size(); i += 8) {
            if (i % 64 != 0) {
                store.release(refs.get(i));
            }
        }
        List<BodyStore.BodyRef> live = new ArrayList<>();
        for (int i = 0; i < refs.size(); i += 64) {
            live.add(refs.get(i));
        }
        Awaitility.await().atMost(20, TimeUnit.SECONDS)
                .untilAsserted(() -> assertThat(bytes()).isLessThan(2 * SEGMENT + live.size() * (BODY + 26L)));
        done.set(true);
        reader.join();
        assertThat(failure.get()).isNull();

        reopen(live, 1);
        for (int i = 0; i < refs.size(); i += 64) {
            assertThat(read(refs.get(i))).as("body %d", i).isEqualTo(bodies.get(i));
        }
    }
}
