package io.warren.broker;

import io.netty.util.concurrent.FastThreadLocal;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The topic exchange's bindings compiled into a trie over dot-separated words. Immutable once built,
 * so any publishing thread may match against it without locks.
 *
 * <p>Words are split the way RabbitMQ splits them: on every '.', keeping empty words ("a." is
 * {@code ["a", ""]}, "a..b" is three words), except that the empty key has no words at all. So the
 * empty routing key matches the binding keys "" and "#" (and "#.#"), but not "*".
 *
 * <p>Matching walks the routing key once, word by word, carrying the set of trie nodes reached so far
 * (a state-set simulation of the pattern automaton): a literal edge or '*' consumes one word, a '#'
 * node may consume any number of words, and being at a node means also being at its '#' child (the
 * '#' matched no words). The set never holds a node twice, so the work is at most words x nodes
 * whatever the number of '#' in a binding key; a naive backtracking match is exponential in them.
 * The words are never copied out of the routing key: literal edges are looked up by hashing the
 * region of the key in place. Sets live in per-thread scratch arrays, so a match allocates nothing.
 */
public final class TopicTrie {
    private static final Destination[] NONE = new Destination[0];
    private static final FastThreadLocal<Scratch> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected Scratch initialValue() {
            return new Scratch();
        }
    };

    private final Node root;
    private final int nodeCount;

    private TopicTrie(Node root, int nodeCount) {
        this.root = root;
        this.nodeCount = nodeCount;
    }

    /** Compiles the binding keys of {@code bindings}; a destination bound twice under one key is kept once. */
    public static TopicTrie compile(List<Binding> bindings) {
        Builder rootBuilder = new Builder(false);
        for (Binding b : bindings) {
            Builder at = rootBuilder;
            String key = b.routingKey();
            if (!key.isEmpty()) {
                int start = 0;
                while (true) {
                    int dot = key.indexOf('.', start);
                    int end = dot < 0 ? key.length() : dot;
                    at = at.child(key.substring(start, end));
                    if (dot < 0) {
                        break;
                    }
                    start = dot + 1;
                }
            }
            at.destinations.put(b.destination(), Boolean.TRUE);
        }
        int[] ids = {0};
        return new TopicTrie(rootBuilder.freeze(ids), ids[0]);
    }

    /** Number of trie nodes, root included. */
    int nodeCount() {
        return nodeCount;
    }

    /** Adds to {@code out} every destination whose binding key matches {@code routingKey}. */
    public void route(String routingKey, RouteResult out) {
        Scratch s = SCRATCH.get();
        if (s.busy) {
            // Routing re-entered this thread through an exchange-to-exchange binding while the outer
            // match still holds the thread's scratch: take a private one (rare).
            s = new Scratch();
        }
        s.busy = true;
        try {
            Node[] states = match(routingKey, s);
            int n = s.count;
            for (int i = 0; i < n; i++) {
                for (Destination d : states[i].destinations) {
                    out.add(d);
                }
            }
        } finally {
            s.release();
        }
    }

    /** Runs the words of the key through the automaton; returns the array holding the final {@code s.count} states. */
    private Node[] match(String key, Scratch s) {
        s.ensure(nodeCount);
        Node[] cur = s.a;
        Node[] next = s.b;
        int stamp = s.nextStamp();
        cur[0] = root;
        s.marks[root.id] = stamp;
        int count = closure(cur, 1, s.marks, stamp);
        s.used(count);
        int len = key.length();
        if (len > 0) {
            int start = 0;
            while (count > 0) {
                int end = key.indexOf('.', start);
                if (end < 0) {
                    end = len;
                }
                int hash = regionHash(key, start, end);
                stamp = s.nextStamp();
                int[] marks = s.marks;
                int nextCount = 0;
                for (int i = 0; i < count; i++) {
                    Node node = cur[i];
                    Node lit = node.literal(key, start, end, hash);
                    if (lit != null && marks[lit.id] != stamp) {
                        marks[lit.id] = stamp;
                        next[nextCount++] = lit;
                    }
                    Node star = node.star;
                    if (star != null && marks[star.id] != stamp) {
                        marks[star.id] = stamp;
                        next[nextCount++] = star;
                    }
                    if (node.hash && marks[node.id] != stamp) {
                        marks[node.id] = stamp;
                        next[nextCount++] = node;
                    }
                }
                count = closure(next, nextCount, marks, stamp);
                s.used(count);
                Node[] t = cur;
                cur = next;
                next = t;
                if (end == len) {
                    break;
                }
                start = end + 1;
            }
        }
        s.count = count;
        return cur;
    }

    /** Adds the '#' children of the states (transitively: "#.#"); returns the new count. */
    private static int closure(Node[] states, int count, int[] marks, int stamp) {
        for (int i = 0; i < count; i++) {
            Node h = states[i].hashChild;
            if (h != null && marks[h.id] != stamp) {
                marks[h.id] = stamp;
                states[count++] = h;
            }
        }
        return count;
    }

    /** String.hashCode of key[start, end) without copying it. */
    private static int regionHash(String key, int start, int end) {
        int h = 0;
        for (int i = start; i < end; i++) {
            h = 31 * h + key.charAt(i);
        }
        return h;
    }

    private static int spread(int h) {
        return h ^ (h >>> 16);
    }

    /** One trie node: immutable. {@code hash} marks a node reached by a '#' word, which may absorb words. */
    private static final class Node {
        final int id;
        final boolean hash;
        final Destination[] destinations;
        final Node star;
        final Node hashChild;
        // Literal edges: an open-addressing table keyed by word, probed linearly.
        final String[] words;
        final int[] wordHashes;
        final Node[] children;
        final int mask;

        Node(int id, boolean hash, Destination[] destinations, Node star, Node hashChild, Map<String, Node> literals) {
            this.id = id;
            this.hash = hash;
            this.destinations = destinations;
            this.star = star;
            this.hashChild = hashChild;
            if (literals.isEmpty()) {
                words = null;
                wordHashes = null;
                children = null;
                mask = 0;
                return;
            }
            int size = Integer.highestOneBit(Math.max(1, literals.size() * 2 - 1)) << 1;
            words = new String[size];
            wordHashes = new int[size];
            children = new Node[size];
            mask = size - 1;
            literals.forEach((word, child) -> {
                int h = word.hashCode();
                int i = spread(h) & mask;
                while (words[i] != null) {
                    i = (i + 1) & mask;
                }
                words[i] = word;
                wordHashes[i] = h;
                children[i] = child;
            });
        }

        Node literal(String key, int start, int end, int hash) {
            if (words == null) {
                return null;
            }
            int len = end - start;
            for (int i = spread(hash) & mask; ; i = (i + 1) & mask) {
                String w = words[i];
                if (w == null) {
                    return null;
                }
                if (wordHashes[i] == hash && w.length() == len && w.regionMatches(0, key, start, len)) {
                    return children[i];
                }
            }
        }
    }

    /** A node while bindings are added; frozen bottom-up into {@link Node}. */
    private static final class Builder {
        final boolean hash;
        final Map<String, Builder> literals = new HashMap<>();
        final Map<Destination, Boolean> destinations = new IdentityHashMap<>();
        Builder star;
        Builder hashChild;

        Builder(boolean hash) {
            this.hash = hash;
        }

        Builder child(String word) {
            return switch (word) {
                case "*" -> star == null ? (star = new Builder(false)) : star;
                case "#" -> hashChild == null ? (hashChild = new Builder(true)) : hashChild;
                default -> literals.computeIfAbsent(word, w -> new Builder(false));
            };
        }

        Node freeze(int[] ids) {
            int id = ids[0]++;
            Node starNode = star == null ? null : star.freeze(ids);
            Node hashNode = hashChild == null ? null : hashChild.freeze(ids);
            Map<String, Node> frozen = new HashMap<>();
            literals.forEach((w, b) -> frozen.put(w, b.freeze(ids)));
            Destination[] dests = destinations.isEmpty() ? NONE : destinations.keySet().toArray(NONE);
            return new Node(id, hash, dests, starNode, hashNode, frozen);
        }
    }

    /** One thread's working sets for a match: two state arrays and a mark per node. */
    private static final class Scratch {
        Node[] a = new Node[16];
        Node[] b = new Node[16];
        int[] marks = new int[16];
        int stamp;
        int count;
        int high;
        boolean busy;

        void used(int n) {
            if (n > high) {
                high = n;
            }
        }

        /** Drops the node references so that an old trie (and the queues it names) is not kept reachable. */
        void release() {
            Arrays.fill(a, 0, high, null);
            Arrays.fill(b, 0, high, null);
            high = 0;
            busy = false;
        }

        void ensure(int nodes) {
            if (marks.length < nodes) {
                int size = Math.max(nodes, marks.length * 2);
                a = new Node[size];
                b = new Node[size];
                marks = new int[size];
                stamp = 0;
            }
        }

        int nextStamp() {
            if (stamp == Integer.MAX_VALUE) {
                Arrays.fill(marks, 0);
                stamp = 0;
            }
            return ++stamp;
        }
    }
}
